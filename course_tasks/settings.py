"""Everything the course reads from the environment, in one place (no Celery import here).

The launcher, the tests, the worker and every notebook see the same values, because they all
read them from here.
"""
import os
from dataclasses import dataclass

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"

DEFAULT_QUEUE = "course"
PRIORITY_QUEUE = "course.priority"
MAX_PRIORITY = 9  # ten levels, 0..9, on both brokers
PLAY_QUEUE = "course.play"  # the tasks learners write themselves (lesson 10)
DELIVERY_QUEUE = "course.delivery"  # lesson 12: a worker killed mid-task, with a 3 s visibility_timeout

# The workers (roles of worker_roles()) that `python3 course.py up` and the test setup (LiveHarness) start
# and supervise; "rabbitmq" is added to them when a RabbitMQ answers. A new lesson's worker goes here.
LOCAL_ROLES = ("main", "priority", "play", "delivery")


def broker_url() -> str:
    """The broker every lesson uses: ``CELERY_BROKER_URL``, or a local Redis."""
    return os.environ.get("CELERY_BROKER_URL") or DEFAULT_REDIS_URL


def result_backend() -> str:
    """Where results are stored: ``CELERY_RESULT_BACKEND``, or the Redis broker itself."""
    explicit = os.environ.get("CELERY_RESULT_BACKEND")
    if explicit:
        return explicit
    broker = broker_url()
    return broker if broker.startswith("redis") else DEFAULT_REDIS_URL


def rabbitmq_url() -> str:
    """The RabbitMQ of the RabbitMQ priorities lesson: ``COURSE_RABBITMQ_URL``."""
    return os.environ.get("COURSE_RABBITMQ_URL") or DEFAULT_RABBITMQ_URL


def rabbitmq_queue() -> str:
    """The priority queue on RabbitMQ (the tests give theirs a name of its own)."""
    return os.environ.get("COURSE_RABBITMQ_QUEUE") or PRIORITY_QUEUE


@dataclass(frozen=True)
class WorkerRole:
    """One kind of worker the course runs: which app, which node name, which queues, how many slots."""

    name: str
    app: str
    node: str
    queues: tuple
    concurrency: int

    def argv(self) -> list:
        """The ``celery worker`` arguments; the launcher, the tests and Docker all use these."""
        return [
            "-A", self.app, "worker",
            "--hostname", self.node,
            "--queues", ",".join(self.queues),
            "--concurrency", str(self.concurrency),
            "--pool", "prefork",
            "--loglevel", "INFO",
            "--without-mingle", "--without-gossip",
        ]


def worker_roles() -> dict:
    """The workers of the course, by role name."""
    rabbit_node = os.environ.get("COURSE_RABBITMQ_NODE") or "rabbit@course"
    return {
        "main": WorkerRole("main", "course_tasks", "worker@course", (DEFAULT_QUEUE,), 4),
        "priority": WorkerRole("priority", "course_tasks", "prio@course", (PRIORITY_QUEUE,), 1),
        "rabbitmq": WorkerRole("rabbitmq", "course_tasks.rabbitmq", rabbit_node, (rabbitmq_queue(),), 1),
        "play": WorkerRole("play", "course_tasks.play", "play@course", (PLAY_QUEUE,), 1),
        "delivery": WorkerRole("delivery", "course_tasks.delivery", "delivery@course", (DELIVERY_QUEUE,), 1),
    }


def playground_dir() -> str:
    """Where play@course finds the learners' task modules: ``COURSE_PLAYGROUND``, or notebooks/playground
    (Jupyter's folder, which docker-compose.yml mounts into both containers at the same path)."""
    default = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks", "playground")
    return os.environ.get("COURSE_PLAYGROUND") or default


def redacted(url: str) -> str:
    """A URL fit to print: the password hidden."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":**@", 1)
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
