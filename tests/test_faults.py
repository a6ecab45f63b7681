"""Faults on the learner's side, each answered within seconds by a message that is true and says what to do.

A port that accepts and never answers, a closed port, an HTTP server instead of Redis; a Redis that goes away
and comes back under a running kernel; a task whose queue no worker consumes; two workers of one name; a
Celery worker of another app on the course's Redis; a result the journal cannot show; an unknown exercise.
Each fault is made here, on ports and Redis databases of this test alone, and stopped at the end.
"""
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeoutError

from course_tasks import add, factorial_x, journal, nap
from course_tasks.errors import SetupError
from course_tasks.exercises import EXERCISES, exercise, verdict
from course_tasks.machinery import run_state
from course_tasks.machinery.backend import ResultBackendDown, missing_consumer
from course_tasks.machinery.journaling import shown
from course_tasks.machinery.plumbing import control_app, course_app
from course_tasks.machinery.probes import free_port
from course_tasks.machinery.services import ROOT, Service, Stack
from course_tasks.preflight import check_setup, check_workers, stranger_lines
from course_tasks.settings import worker_roles

LIMIT = 5.0
STARTUP = 3.0  # a fresh interpreter importing Celery, on a busy machine


# -- fault makers -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def silent_port():
    """A port that accepts connections and never says a word (a stuck Redis, a dead tunnel)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for conn in held:
        conn.close()


@pytest.fixture(scope="module")
def http_port():
    """An HTTP server where Redis was expected."""
    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def fault_ports(silent_port, http_port):
    return {"closed": free_port(), "silent": silent_port, "http": http_port}


@pytest.fixture
def own_redis(tmp_path):
    """A broker of this test alone (the embedded server, see services.redis_server_binary), on a free port."""
    stack = Stack(tmp_path)
    port = free_port()
    yield stack, port, stack.start_redis(port)
    stack.stop()


def own_app(url):
    """The course's configuration with broker and result backend both at ``url``. (Celery takes the backend's
    URL from CELERY_RESULT_BACKEND first, which the test run sets; an app's ``backend_cls`` comes before it.)"""
    app = course_app(f"faults-{uuid.uuid4().hex[:6]}", url, result_backend=url)
    app.backend_cls = url
    return app


def run_course(code_or_args, broker, lang):
    """Run ``python -c CODE`` (or ``-m course_tasks ARGS``) against ``broker``; (seconds, return code, stderr)."""
    env = dict(os.environ, CELERY_BROKER_URL=broker, COURSE_LANG=lang)
    env.pop("CELERY_RESULT_BACKEND", None)
    argv = ["-c", code_or_args] if isinstance(code_or_args, str) else ["-m", "course_tasks", *code_or_args]
    started = time.monotonic()
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    return time.monotonic() - started, done.returncode, done.stderr


# -- 1. no hang: a silent, a closed, a not-Redis port --------------------------------------------------------

CLIENT_CALLS = {
    "check": ["check", "main"],
    "check_setup": "from course_tasks import check_setup; check_setup()",
    "delay": "from course_tasks import add; add.delay(1, 1)",
    "get": "from course_tasks import add, app; from celery.result import AsyncResult; "
           "AsyncResult('no-such-task', app=app).get(timeout=3)",
}


@pytest.mark.parametrize("call", sorted(CLIENT_CALLS))
@pytest.mark.parametrize("fault", ["closed", "silent", "http"])
def test_a_port_that_is_not_a_working_redis_is_told_in_seconds(fault, call, fault_ports):
    lang = "ru" if fault == "http" else "en"  # both languages, without running everything twice
    url = f"redis://127.0.0.1:{fault_ports[fault]}/0"
    seconds, code, stderr = run_course(CLIENT_CALLS[call], url, lang)
    assert seconds < LIMIT + STARTUP, (seconds, stderr)
    assert code != 0 and url in stderr, stderr
    assert "python3 course.py" in stderr, stderr
    assert "must be restarted" not in stderr, stderr
    fixes = ("Запустите", "Проверьте", "запустите курс на другом порту") if lang == "ru" else \
        ("Start", "Check", "run the course on another port")
    assert any(fix in stderr for fix in fixes), stderr
    if fault == "silent":
        assert ("no Redis answer" in stderr) or ("ответа Redis нет" in stderr), stderr


def test_a_silent_broker_and_backend_are_told_in_seconds_in_the_kernel(silent_port, monkeypatch):
    url = f"redis://127.0.0.1:{silent_port}/0"
    app = own_app(url)
    started = time.monotonic()
    with pytest.raises(SetupError) as error:  # the backend's ResultBackendDown, or the broker's SetupError
        app.send_task("course_tasks.tasks.add", args=(1, 1))
    assert time.monotonic() - started < LIMIT
    assert url in str(error.value) and "python3 course.py" in str(error.value)


# -- 2. the result backend goes away and comes back: the same process works on --------------------------------

@pytest.mark.parametrize("lang,fix", [("en", "run this cell again"), ("ru", "выполните ячейку снова")])
def test_a_lost_result_backend_is_not_a_reason_to_restart(own_redis, lang, fix, monkeypatch, caplog):
    monkeypatch.setenv("COURSE_LANG", lang)
    stack, port, url = own_redis
    app = own_app(url)
    waiting = app.send_task("course_tasks.tasks.add", args=(1, 1))  # no worker here: it stays PENDING
    stack.stop()  # the Redis goes away while a result is awaited
    started = time.monotonic()
    with pytest.raises(ResultBackendDown) as error:
        waiting.get(timeout=3)
    assert time.monotonic() - started < LIMIT
    message = str(error.value)
    assert url in message and fix in message and "python3 course.py" in message
    assert "must be restarted" not in message and "must be restarted" not in caplog.text
    stack.start_redis(port)  # back: the same app, in the same process, works again
    again = app.send_task("course_tasks.tasks.add", args=(2, 2))
    assert again.state == "PENDING"
    with pytest.raises(CeleryTimeoutError):
        again.get(timeout=0.5)


# -- 3. a timeout because no worker consumes the queue: said, with the command ---------------------------------

def test_a_timeout_says_when_no_worker_consumes_the_queue():
    queue = f"nobody-{uuid.uuid4().hex[:6]}"
    stuck = add.apply_async((1, 1), queue=queue)
    started = time.monotonic()
    with pytest.raises(CeleryTimeoutError) as error:
        stuck.get(timeout=0.5)
    assert time.monotonic() - started < 0.5 + 1.5  # the timeout, then a short question to the workers (0.5 s)
    assert type(error.value).__name__ == "TimeoutError" and str(error.value) == "The operation timed out."
    notes = "\n".join(getattr(error.value, "__notes__", []))
    assert queue in notes and f"celery -A course_tasks worker --queues {queue}" in notes


def test_a_timeout_with_a_worker_on_the_queue_stays_celerys():
    # A busy machine may keep this process from get() until the nap has ended (with two busy loops beside the suite,
    # nap(1) did five times in a row): a longer nap each time, so a slower machine only makes the test longer.
    for seconds in (1, 3, 10, 30):
        slow = nap.delay(seconds)
        try:
            slow.get(timeout=0.2)
        except CeleryTimeoutError as error:
            assert str(error) == "The operation timed out." and not getattr(error, "__notes__", None)
            assert slow.get(timeout=seconds + 60) == seconds
            return
    pytest.fail("nap(30) ended before get(timeout=0.2) started: this process got no CPU for 30 s")


@pytest.mark.parametrize("lang,start", [("en", "Start one with:"), ("ru", "Запустите воркер:")])
def test_no_consumer_names_the_workers_command(lang, start, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", lang)
    url = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/7"  # database 7: nobody listens there
    note = missing_consumer(control_app(url), ["course"])
    assert "'course'" in note and url in note and start in note and "python3 course.py worker main" in note


@pytest.mark.parametrize("lang,words", [("en", "the course is starting worker@course again"),
                                        ("ru", "курс запускает worker@course снова")])
def test_a_worker_the_supervisor_restarts_is_not_to_be_started_by_hand(own_redis, lang, words, monkeypatch):
    """While the supervisor starts a worker again, "start one with ..." would not be true: both the check and
    a get() timeout say what is happening (the supervisor's status file, as run_state writes it)."""
    monkeypatch.setenv("COURSE_LANG", lang)
    _, _, url = own_redis
    status = run_state.status_path(url)
    run_state.write_json(status, {"pid": os.getpid(), "broker": url, "events": [
        {"name": "worker@course", "kind": "worker", "stopped_at": time.time() - 1, "reason": "signal",
         "detail": "SIGKILL", "state": "restarting"}]})
    try:
        with pytest.raises(SetupError) as error:
            check_workers(control_app(url), ["main"])
        message = str(error.value)
        assert "worker@course" in message and "python3 course.py worker" not in message
        note = missing_consumer(control_app(url), ["course"])
        assert words in note and "python3 course.py worker" not in note
        with pytest.raises(SetupError) as error:  # another worker is missing too: its command is given
            check_workers(control_app(url), ["main", "priority"])
        assert "python3 course.py worker priority" in str(error.value)
    finally:
        status.unlink(missing_ok=True)


# -- 4. check_setup: every missing worker, doubled names, a stranger's worker, a broker restart ---------------

@pytest.mark.parametrize("lang,start", [("en", "Start them with:"), ("ru", "Запустите воркеры:")])
def test_every_missing_worker_gets_its_command(lang, start, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", lang)
    url = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/7"
    started = time.monotonic()
    with pytest.raises(SetupError) as error:
        check_workers(control_app(url), ["main", "priority"])
    assert time.monotonic() - started < LIMIT
    message = str(error.value)
    assert start in message and "worker@course, prio@course" in message
    assert "python3 course.py worker main" in message and "python3 course.py worker priority" in message


def test_the_first_check_after_a_broker_restart_is_a_clean_message(own_redis):
    stack, port, url = own_redis
    app = control_app(url)
    for _ in range(2):  # the second time, on a connection pooled before the restart
        with pytest.raises(SetupError) as error:
            check_workers(app, ["main"])
        assert "worker@course" in str(error.value)
        stack.stop()
        stack.start_redis(port)


class Workers:
    """Workers of this test on a Redis database of its own; all stopped at the end."""

    def __init__(self, url, log_dir):
        self.url, self.log_dir, self.started = url, log_dir, []
        self.env = dict(os.environ, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url,
                        PYTHONPATH=os.pathsep.join([str(ROOT), str(log_dir)]))

    def start(self, role=None, argv=None, node=None, app=None):
        if role:
            w = worker_roles()[role]
            argv, node, app = w.argv(), w.node, control_app(self.url)
            argv[argv.index("--concurrency") + 1] = "1"
        service = Service(node, [sys.executable, "-m", "celery", *argv], self.env,
                          self.log_dir / f"{node}-{len(self.started)}.log", cwd=self.log_dir).start()
        self.started.append(service)
        count = sum(s.name == node for s in self.started)
        deadline = time.monotonic() + 30
        while len(app.control.broadcast("ping", destination=[node], reply=True, timeout=0.3, limit=count)) < count:
            assert service.alive() and time.monotonic() < deadline, service.log_tail()

    def stop(self):
        for service in self.started:
            service.send_stop()
        for service in self.started:
            service.wait_stopped()


STRANGER_APP = "from celery import Celery\napp = Celery('stranger')\n"


@pytest.fixture
def side_broker(tmp_path):
    """Database 8 of the test Redis, with workers of this test alone."""
    url = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/8"
    workers = Workers(url, tmp_path)
    yield workers
    workers.stop()


def test_a_stranger_worker_on_the_course_queue_is_not_ready(side_broker):
    (side_broker.log_dir / "stranger.py").write_text(STRANGER_APP)
    probe = Celery("probe", set_as_current=False)  # kombu's default separator, like the stranger
    probe.conf.update(broker_write_url=side_broker.url, broker_read_url=side_broker.url)
    side_broker.start(argv=["-A", "stranger", "worker", "-Q", "course", "-n", "stranger@box", "-c", "1", "-P", "solo",
                            "--without-mingle", "--without-gossip"], node="stranger@box", app=probe)
    side_broker.start("main")
    app = control_app(side_broker.url)
    started = time.monotonic()
    with pytest.raises(SetupError) as error:
        check_setup(app, roles=["main"])
    assert time.monotonic() - started < LIMIT
    message = str(error.value)
    assert "stranger@box" in message and "'course'" in message and "Ready" not in message
    assert stranger_lines(app, ["priority"]) == [
        (f"note: stranger@box, a Celery worker that is not the course's, listens on {side_broker.url} "
        "(queues: 'course'); it does not consume the course's queues.")]


def test_two_workers_of_one_name_are_said_and_hide_nobody(side_broker):
    side_broker.start("priority")
    side_broker.start("main")
    side_broker.start("main")  # a second worker@course, as from a second  course.py up
    started = time.monotonic()
    with pytest.raises(SetupError) as error:
        check_workers(control_app(side_broker.url), ["main", "priority"])
    assert time.monotonic() - started < LIMIT
    message = str(error.value)
    assert "worker@course" in message and "prio@course" not in message and "2" in message


# -- 5. the journal records what a task returns, whatever it is; the task's outcome stays its own ---------------

def test_a_result_json_cannot_hold_fails_as_celery_says_and_the_journal_says_the_same():
    result = factorial_x.delay(2000)  # 5736 digits: over Python's limit for int-to-str conversion (JSON too)
    with pytest.raises(Exception) as error:
        result.get(timeout=10)
    assert type(error.value).__name__ == "EncodeError" and result.state == "FAILURE"
    assert "journal" not in (result.traceback or "") and "journal" not in repr(error.value)
    entry = next(e for e in journal.entries() if e["id"] == result.id)
    assert entry["state"] == "FAILURE" and entry["result"].startswith("EncodeError(")


def test_an_int_too_long_to_print_is_described_by_its_digits():
    assert shown(10 ** 5735) == "<int of 5736 digits>" and shown(-(10 ** 4400) + 1) == "<int of 4400 digits>"


def test_small_results_are_recorded_as_before():
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    assert next(e for e in journal.entries() if e["id"] == result.id)["result"] == "5"


# -- 6. check() with an id that does not exist ------------------------------------------------------------------

@pytest.mark.parametrize("lang,words", [("en", "There is no exercise"), ("ru", "Упражнения")])
@pytest.mark.parametrize("exercise_id", ["99.9", 4.1, None, ["04.1"]])
def test_an_unknown_exercise_lists_the_ones_there_are(exercise_id, lang, words):
    right, message = verdict(exercise_id, 1, lang)
    assert not right and words in message and "'04.1'" in message and "\n" not in message


def test_a_failed_check_ends_its_error_with_one_period():
    @exercise("99.timeout", en="look", ru="смотрите")
    def _(answer):
        raise CeleryTimeoutError("The operation timed out.")

    try:
        message = verdict("99.timeout", 1, "en")[1]
    finally:
        del EXERCISES["99.timeout"]
    assert "timed out. Hint" in message and ".." not in message
