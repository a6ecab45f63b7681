"""The Celery way works too (live): a worker started as the notes and Celery's docs start one,
``celery -A course_tasks worker`` (no -Q), consumes every queue of the course, so the notes' calls run.

It gets a Redis of its own on a free port and a node name of its own, and both are stopped at the end.
"""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from course_tasks import app, settings
from course_tasks.machinery.probes import free_port
from course_tasks.machinery.services import ROOT, Service, Stack

NODE = "notes@test"

CLIENT = textwrap.dedent(f"""
    import time
    from course_tasks import app, t1, tp1

    deadline = time.monotonic() + 45
    while not app.control.ping(destination=[{NODE!r}], timeout=0.5):
        assert time.monotonic() < deadline, "the worker did not answer"
    queues = app.control.inspect(destination=[{NODE!r}], timeout=2).active_queues()[{NODE!r}]
    print(sorted(queue["name"] for queue in queues))
    print(t1.apply_async(args=[5, 15], kwargs={{"message": "The sum is"}}).get(timeout=10))
    print(tp1.delay().get(timeout=10))
""")


def test_the_course_app_declares_both_queues():
    queues = app.amqp.queues
    assert sorted(queues.consume_from) == [settings.DEFAULT_QUEUE, settings.PRIORITY_QUEUE]
    for name in (settings.DEFAULT_QUEUE, settings.PRIORITY_QUEUE):
        assert (queues[name].exchange.name, queues[name].routing_key) == (name, name)
        assert queues[name].queue_arguments == {"x-max-priority": settings.MAX_PRIORITY}


def test_the_rabbitmq_app_keeps_its_own_queue():
    from course_tasks.rabbitmq import app as rabbitmq_app

    assert sorted(rabbitmq_app.amqp.queues.consume_from) == [settings.rabbitmq_queue()]


def test_a_worker_started_as_in_the_notes_runs_the_notes_calls(tmp_path):
    with Stack(tmp_path, say=lambda text: None) as stack:
        broker = stack.start_redis(free_port())
        stack.use_broker(broker)
        env = {k: v for k, v in stack.env.items() if not k.startswith("COURSE_RABBITMQ")}
        celery = str(Path(sys.executable).parent / "celery")
        stack.services.append(Service("notes-worker", [celery, "-A", "course_tasks", "worker", "-n", NODE],
                                      env, tmp_path / "notes-worker.log", stop_signal=signal.SIGQUIT).start())
        client = subprocess.run([sys.executable, "-c", CLIENT], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=90)
        log = (tmp_path / "notes-worker.log").read_text(errors="replace")
        assert client.returncode == 0, f"{client.stderr}\n--- worker log ---\n{log[-3000:]}"
        assert client.stdout.splitlines() == [
            str(sorted([settings.DEFAULT_QUEUE, settings.PRIORITY_QUEUE])), "The sum is: 20", "tp1"]
        assert os.environ["CELERY_BROKER_URL"] != broker  # the test run's own workers never saw these tasks
