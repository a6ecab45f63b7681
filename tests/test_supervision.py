"""The live setup heals itself: a course service that stops is started again, and said; one setup per broker.

The Stack tests are what LiveHarness (tests, refresh) gets; the launcher tests are what a learner sees in the
terminal of `python3 course.py up`. Every test has a Redis of its own on a free port.
"""
import os
import re
import signal
import time

import pytest
from test_launcher import WORKERS, leaders, processes_with

from course_tasks import app as course_app
from course_tasks import check_setup
from course_tasks.machinery import run_state
from course_tasks.machinery.plumbing import course_app as new_course_app
from course_tasks.machinery.probes import free_port
from course_tasks.machinery.run_state import supervision_note
from course_tasks.machinery.services import LaunchError, Stack
from course_tasks.machinery.setup_lock import SetupLock
from course_tasks.settings import roles

RESTART_WITHIN = 1.5  # seconds: the contract is "started again within about 1 s"


def app_on(broker):
    """A client of the course on ``broker`` (results there too), as a notebook has."""
    return new_course_app("supervision_test", broker, result_backend=broker)


def eventually(condition, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


@pytest.fixture
def stack(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "en")  # what the supervisor says, checked below
    said = []
    stack = Stack(tmp_path, say=said.append)
    stack.said = said
    try:
        stack.broker = stack.start_redis(free_port())
        stack.use_broker(stack.broker)
        stack.start_roles(["main"], reuse_running=False)
        # Celery reads these before its settings: the client apps of the test must use this stack's Redis,
        # while the course's app of this test process keeps the test run's (configured here, before the change).
        _ = course_app.conf.broker_write_url
        _ = course_app.backend  # made once per process: before the change too (exclusive's send hook uses it)
        monkeypatch.setenv("CELERY_BROKER_URL", stack.broker)
        monkeypatch.setenv("CELERY_RESULT_BACKEND", stack.broker)
        yield stack
    finally:
        stack.stop()
        assert processes_with(stack.broker) == []
        assert not run_state.status_path(stack.broker).exists()


def worker(stack):
    return next(s for s in stack.services if s.label == "worker@course")


def restarted(stack, old, said):
    """Once its process ``old`` has exited, the worker runs again under a new pid within the contract's time,
    and the supervisor says why (``said``) and, later, that it works again."""
    service = worker(stack)
    assert eventually(lambda: old.returncode is not None or service.proc is not old, 20, step=0.01)
    assert eventually(lambda: service.proc is not old and service.alive(), RESTART_WITHIN)
    assert eventually(lambda: any("works again" in line for line in stack.said), 30)
    assert f"Worker worker@course stopped ({said}); starting it again with the same command ..." in stack.said


def test_a_sigkilled_worker_is_started_again_with_the_same_command(stack):
    service = worker(stack)
    argv, old = list(service.argv), service.proc
    os.kill(old.pid, signal.SIGKILL)
    restarted(stack, old, "killed by SIGKILL")
    assert service.argv == argv
    note = supervision_note(stack.broker, "en")
    assert re.fullmatch(r"Worker worker@course stopped \d+ s ago \(killed by SIGKILL\) and was restarted; "
                        r"it works again: run the cell again\.", note), note
    assert "воркер" in supervision_note(stack.broker, "ru").lower()
    assert app_on(stack.broker).send_task("course_tasks.tasks.add", args=(2, 3)).get(timeout=10) == 5


def test_a_task_of_a_sigkilled_worker_goes_back_to_its_queue_and_runs_again(stack):
    """As on RabbitMQ, not an hour later (kombu's visibility_timeout): the supervisor gives the message back."""
    app = app_on(stack.broker)
    result = app.send_task("course_tasks.tasks.nap", args=(1,))
    service = worker(stack)
    assert eventually(lambda: f"{result.id}] received" in service.log_since(), 10)  # in kombu's unacked hash now
    old = service.proc
    os.kill(old.pid, signal.SIGKILL)
    restarted(stack, old, "killed by SIGKILL")
    assert result.get(timeout=15) == 1
    assert "Worker worker@course: the unacknowledged messages of the queue 'course' went back to its head (1); " \
           "their tasks run again." in stack.said
    note = supervision_note(stack.broker, "en", only_restored=True)
    assert re.fullmatch(r"note: worker worker@course stopped \d+ s ago \(killed by SIGKILL\) and was restarted; the "
                        r"tasks it was running went back to the queue 'course' and run again \(1\)\.", note), note
    assert supervision_note(stack.broker, "en").endswith(
        "The tasks it was running went back to the queue 'course' and run again (1).")


def test_a_worker_shut_down_by_control_is_started_again(stack):
    """Part II lessons shut a worker down from a notebook to reload it: it comes back by itself."""
    old = worker(stack).proc
    app_on(stack.broker).control.shutdown(destination=["worker@course"])
    restarted(stack, old, "it was shut down")


def test_a_killed_embedded_redis_comes_back_on_its_port_and_so_do_the_workers(stack):
    """With an acks_late task in flight, kombu 5.7 kills the worker when the Redis goes (restore_unacked)."""
    app = app_on(stack.broker)
    nap = app.send_task("course_tasks.tasks.nap", args=(3,))
    assert eventually(lambda: f"{nap.id}] received" in worker(stack).log_since(), 10)
    redis = next(s for s in stack.services if s.kind == "redis")
    os.kill(redis.proc.pid, signal.SIGKILL)
    assert eventually(lambda: any(line.startswith("The embedded broker") and "works again" in line
                                  for line in stack.said), 5), stack.said
    assert eventually(lambda: any(line.startswith("Worker worker@course") and "works again" in line
                                  for line in stack.said), 30), stack.said
    # A new client, as a cell after the restart has: the first one's result subscription predates it.
    assert app_on(stack.broker).send_task("course_tasks.tasks.add", args=(2, 3)).get(timeout=10) == 5
    assert "lost its broker" in supervision_note(stack.broker, "en")


def test_a_sigkilled_celery_beat_is_started_again_and_check_setup_sees_it(tmp_path, monkeypatch):
    """The course's celery beat (settings.COURSE_BEAT) is a supervised service like the workers; check_setup() finds
    it by its presence in the course's Redis, before and after."""
    monkeypatch.setenv("COURSE_LANG", "en")
    said = []
    stack = Stack(tmp_path, say=said.append)
    try:
        broker = stack.start_redis(free_port())
        stack.use_broker(broker)
        stack.start_roles(["beat"], reuse_running=False)
        beat = next(s for s in stack.services if s.kind == "beat")
        assert beat.stop_signal == signal.SIGTERM  # beat saves its schedule and exits (a worker: SIGQUIT)
        check_setup(app_on(broker), roles=["beat"], quiet=True)
        old, argv = beat.proc, list(beat.argv)
        os.kill(old.pid, signal.SIGKILL)
        assert eventually(lambda: "Celery beat (beat) stopped (killed by SIGKILL); starting it again with the same "
                                  "command ..." in said, 5), said
        assert eventually(lambda: beat.proc is not old and beat.alive(), RESTART_WITHIN)
        assert eventually(lambda: any(line.startswith("Celery beat (beat) works again (") for line in said), 30), said
        assert beat.argv == argv
        assert "Sending due task" not in beat.log_since(0)  # its schedule is empty: it sends nothing
        assert re.fullmatch(r"Celery beat \(beat\) stopped \d+ s ago \(killed by SIGKILL\) and was restarted; it works "
                            r"again: run the cell again\.", supervision_note(broker, "en"))
        assert eventually(lambda: _checks(app_on(broker)), 5)
    finally:
        stack.stop()
    assert processes_with(broker) == []


def _checks(app):
    try:
        check_setup(app, roles=["beat"], quiet=True)
    except Exception:  # noqa: BLE001 (the presence key of the new beat may not be written yet)
        return False
    return True


def test_nothing_is_restarted_while_the_stack_stops(tmp_path):
    stack = Stack(tmp_path, say=lambda text: None)
    broker = stack.start_redis(free_port())
    stack.use_broker(broker)
    stack.start_roles(["main"], reuse_running=False)
    stack.stop()
    time.sleep(0.3)  # two supervisor rounds
    assert stack.services == [] and processes_with(broker) == []


# -- the learner's terminal --------------------------------------------------------------------------------

def test_two_ups_at_the_same_moment_make_one_setup(launch):
    broker = f"redis://127.0.0.1:{free_port()}/0"
    ups = [launch(broker, "--no-jupyter"), launch(broker, "--no-jupyter")]
    attached = None
    deadline = time.monotonic() + 60
    while attached is None and time.monotonic() < deadline:
        attached = next((u for u in ups if u.proc.poll() is not None), None)
        time.sleep(0.1)
    assert attached is not None and attached.proc.returncode == 0
    [owner] = [u for u in ups if u is not attached]
    assert "The course is already running" in attached.rest()
    owner.wait_for(r"Ctrl-C stops everything")
    assert [len(leaders(broker, roles()[role].node)) for role in WORKERS] == [1] * len(WORKERS)
    assert len(leaders(broker, "beat", kind="beat")) == 1
    assert owner.ctrl_c() == 0


def test_one_setup_lock_per_broker_host_and_port():
    url = f"redis://127.0.0.1:{free_port()}/0"
    first, second = SetupLock(url), SetupLock(url.replace("127.0.0.1", "localhost").replace("/0", "/3"))
    assert first.acquire()
    try:
        assert not second.acquire()
        first.publish(state="running", workers=["worker@course"])
        assert second.holder() == {**first.info, "pid": os.getpid(), "state": "running"}
    finally:
        first.release()
    assert not first.path.exists() and second.holder() is None
    assert second.acquire()
    second.release()


def test_a_port_only_root_may_bind_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("COURSE_LANG", "en")
    stack = Stack(tmp_path, env=dict(os.environ, CELERY_BROKER_URL="redis://127.0.0.1:1/0"))
    with pytest.raises(LaunchError, match=r"^CELERY_BROKER_URL=redis://127.0.0.1:1/0: no Redis answers there, and only "
                                          r"root may listen on port 1 \(below 1024\)"):
        stack.ensure_redis()
    assert stack.services == []
