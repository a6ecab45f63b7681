"""The live setup of a test run or a refresh: a Redis of its own, the course's workers, RabbitMQ if there.

Its Stack supervises them as the learner's launcher does: a worker that exits (killed, or shut down by a
lesson) or a Redis that dies is started again, quietly (see supervisor.log in the log folder).

It never touches a Redis or a worker already running on the machine: its Redis is on a free port,
and on a shared RabbitMQ its worker and queue have names of their own (removed at the end).
"""
import os
import uuid

from kombu.exceptions import OperationalError

from .. import settings
from .plumbing import control_app
from .probes import amqp_answers, free_port
from .services import Stack

REQUIRE_RABBITMQ = "COURSE_REQUIRE_RABBITMQ"


class RabbitMQMissing(RuntimeError):
    """RabbitMQ was required (COURSE_REQUIRE_RABBITMQ=1) and none answers."""


def rabbitmq_required_but_missing():
    """The reason to stop at once when COURSE_REQUIRE_RABBITMQ=1 and no RabbitMQ answers, else None."""
    url = settings.rabbitmq_url()
    if os.environ.get(REQUIRE_RABBITMQ) == "1" and not amqp_answers(url):
        return f"{REQUIRE_RABBITMQ}=1, but no RabbitMQ answers at {settings.redacted(url)}"
    return None


class LiveHarness:
    def __init__(self, log_dir, say=lambda text: None):
        self.stack = Stack(log_dir, say=say)
        self.rabbitmq = None  # the RabbitMQ URL when the RabbitMQ lesson can run
        self.rabbitmq_missing = None  # else, why not

    def start(self, require_rabbitmq=False):
        """Start everything; with ``require_rabbitmq``, raise RabbitMQMissing before any worker starts."""
        try:
            broker = self.stack.start_redis(free_port())
            self.stack.use_broker(broker)
            self.stack.env["COURSE_PLAYGROUND"] = str(self.stack.log_dir / "playground")  # lesson 10 writes here
            self.stack.env["COURSE_LOG_DIR"] = str(self.stack.log_dir)  # the logs of the workers lessons start
            self.stack.env["COURSE_DATA_DIR"] = str(self.stack.log_dir / "data")  # lesson 20's databases
            self.stack.env["COURSE_BEAT_HOME"] = str(self.stack.log_dir)  # lesson 16's schedule files: not the clone's
            self.stack.env["COURSE_SETUP_PID"] = str(os.getpid())  # lesson 17's Flower lives as long as this process
            url = settings.rabbitmq_url()
            if amqp_answers(url):
                run = uuid.uuid4().hex[:8]
                self.stack.env["COURSE_RABBITMQ_URL"] = url
                self.stack.env["COURSE_RABBITMQ_QUEUE"] = f"{settings.PRIORITY_QUEUE}.test-{run}"
                self.stack.env["COURSE_RABBITMQ_NODE"] = f"rabbit@course-test-{run}"
                self.rabbitmq = url
            else:
                self.rabbitmq_missing = (
                    f"no RabbitMQ answers at {settings.redacted(url)} "
                    "(start one, or set COURSE_RABBITMQ_URL; CI sets COURSE_REQUIRE_RABBITMQ=1)"
                )
                if require_rabbitmq:
                    raise RabbitMQMissing(f"{REQUIRE_RABBITMQ}=1, but {self.rabbitmq_missing}")
            # Everything started from here on (workers, notebook kernels) sees the same settings.
            os.environ.update({k: v for k, v in self.stack.env.items() if k.startswith(("CELERY_", "COURSE_"))})
            os.environ["PYTHONPATH"] = self.stack.env["PYTHONPATH"]
            os.environ["PATH"] = self.stack.env["PATH"]
            self.stack.start_roles(settings.roles_to_start(bool(self.rabbitmq)), reuse_running=False)
        except BaseException:
            self.stop()
            raise
        return self

    def fresh_playground(self):
        """Empty the playground before a lesson that writes to it runs (lesson 10): its stored outputs list the
        modules play@course loaded, those of a first run; a learner's own playground keeps what they wrote."""
        for module in (self.stack.log_dir / "playground").glob("*.py"):
            module.unlink()

    def stop(self):
        try:
            self.stack.stop()
        finally:
            if self.rabbitmq:
                _delete_queue(self.rabbitmq, os.environ["COURSE_RABBITMQ_QUEUE"])


def _delete_queue(url, queue):
    try:
        with control_app(url).connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
    except (OperationalError, OSError):
        pass  # RabbitMQ went away meanwhile: nothing is left to delete there
