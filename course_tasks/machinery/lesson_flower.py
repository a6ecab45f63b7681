"""The setup's Flower, for lesson 17: started by the first notebook that asks for it, shared by every notebook of
that setup (the English and the Russian twin at once), stopped with the setup.

- **One per setup**: its record, ``.course/run/<broker>.flower.json`` (run_state.flower_path, in the folder of mode
  0700), says its pid, port and password; a notebook that finds it answering uses it. Two notebooks asking at once
  take turns on an OS file lock beside it, so it is started once.
- **On 127.0.0.1, on a port free at its start** (probes.free_port): the test harness runs several setups at once,
  and two users of a machine each have theirs; the record tells the notebooks of a setup which port is theirs.
- **Its API with a password**: Flower 2.x answers ``/api/...`` only when authentication is configured
  (``--basic_auth``, ``--auth``) or ``FLOWER_UNAUTHENTICATED_API`` is set (flower/api/__init__.py), and that variable
  also opens it to any web page (CORS ``*``, no XSRF check: flower/views/__init__.py). The course gives it a user
  ``course`` and a random password (``FLOWER_BASIC_AUTH``, in its environment, not on its command line).
- **Stopped with the setup**: the Stack that runs the workers stops it when it stops (services.Stack.stop:
  run_state.stop_flower); and Flower itself exits (:func:`watch`) once the process that runs the setup is gone or
  its broker has not answered for :data:`BROKER_GONE` s (a setup killed with SIGKILL). It does not die with the
  notebook that started it: the twin notebook still uses it.

This module never imports a helper (tests/test_imports.py): course_tasks/monitoring.py is the lesson's side.
"""
import base64
import fcntl
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import settings
from ..errors import SetupError, one_line
from ..i18n import register, say
from ..waiting import wait_until
from . import run_state
from .probes import LOCAL_HTTP, LOOPBACK, broker_answers, free_port
from .services import ROOT, course_command
from .setup_lock import SetupLock

USER = "course"
OWNER = "COURSE_FLOWER_OWNER"  # the pid of the process that runs the setup, in Flower's environment ("": unknown)
SETUP_PID = "COURSE_SETUP_PID"  # set by the test harness for its kernels: the process that runs their setup
READY_TIMEOUT = 60.0  # Flower answers in 2-4 s, and sees a worker's heartbeat (every 2 s) soon after
LOCK_TIMEOUT = READY_TIMEOUT + 10  # a twin notebook waits this long at most while the other one starts it
ASK_TIMEOUT = 5.0  # one HTTP request to Flower
WATCH_EVERY = 1.0
BROKER_GONE = 3.0  # seconds without an answer from the broker after which Flower exits

register({
    "flower_down": {
        "en": "{what} Its log: {log}. Run the Setup cell again: it starts Flower anew; then the cells that send the "
              "tasks, since a new Flower knows only what happens after it starts.",
        "ru": "{what} Его лог: {log}. Выполните ячейку «Подготовка» снова: она запустит Flower заново; затем ячейки, "
              "которые отправляют задачи: новый Flower знает только то, что происходит после его запуска.",
    },
    "flower_ask_refused": {
        "en": "Nothing listens at {url} any more: the connection was refused at once, so the Flower this notebook "
              "used has stopped.",
        "ru": "По адресу {url} больше никто не слушает: в соединении сразу отказано, значит, Flower, которым "
              "пользовался этот ноутбук, остановился.",
    },
    "flower_ask_timed_out": {
        "en": "Flower did not answer at {url} within {seconds:g} s ({error}).",
        "ru": "Flower не ответил по адресу {url} за {seconds:g} с ({error}).",
    },
    "flower_ask_failed": {
        "en": "Asking Flower at {url} failed ({error}).",
        "ru": "Запрос к Flower по адресу {url} не удался ({error}).",
    },
    "flower_no_start": {
        "en": "Flower did not start within {seconds:g} s: {error}. The end of its log, {log}:\n{tail}",
        "ru": "Flower не запустился за {seconds:g} с: {error}. Конец его лога, {log}:\n{tail}",
    },
    "flower_busy": {
        "en": "Another notebook has been starting Flower for {seconds:g} s; run this cell again in a moment.",
        "ru": "Другой ноутбук запускает Flower уже {seconds:g} с; выполните эту ячейку ещё раз чуть позже.",
    },
    "flower_login": {
        "en": "Flower's web UI asks for a user and a password: {user} / {password} (kept in {record}).",
        "ru": "Веб-интерфейс Flower спросит имя и пароль: {user} / {password} (они записаны в {record}).",
    },
})


class Flower:
    """A running Flower of this setup: its ``url``, and :meth:`get` for its HTTP API."""

    def __init__(self, record):
        self.pid, self.port, self.password = record["pid"], record["port"], record["password"]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log = record.get("log", "")

    def get(self, path, timeout=ASK_TIMEOUT):
        """``GET path`` (``/api/workers``, ...) with the course's user and password: the JSON it answers."""
        request = urllib.request.Request(self.url + path)
        token = base64.b64encode(f"{USER}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with LOCAL_HTTP.open(request, timeout=timeout) as response:
            return json.loads(response.read().decode())

    def answers(self):
        """Flower answers its API and has seen a worker's heartbeat: its event receiver listens."""
        try:
            return any(self.get("/api/workers?status=true", timeout=1.0).values())
        except (OSError, ValueError):
            return False

    def error(self, timeout=ASK_TIMEOUT):
        """Why :meth:`get` fails now, in one line, or None."""
        try:
            self.get("/api/workers?status=true", timeout=timeout)
        except (OSError, ValueError) as exc:
            return one_line(exc)
        return None

    def down(self, exc, seconds):
        """The SetupError for :meth:`get` failing with ``exc`` (a request of ``seconds`` at most): what happened, as
        it happened (the connection refused at once, no answer in time, an error answered), and what to do."""
        reason = getattr(exc, "reason", None) if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, ConnectionRefusedError):
            what = "flower_ask_refused"
        elif isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
            what = "flower_ask_timed_out"
        else:
            what = "flower_ask_failed"
        what = say(what, url=self.url, seconds=seconds, error=one_line(exc))
        return SetupError(say("flower_down", what=what, log=self.log))

    def login(self):
        return say("flower_login", user=USER, password=self.password,
                   record=run_state.flower_path(settings.broker_url()))


def _owner(url):
    """The process that runs the setup of ``url``: the holder of its setup lock (``up``, or a kernel that started it),
    else the one the test harness names; None if neither is known (then Flower watches the broker only)."""
    info = SetupLock(url).holder() or {}
    for pid in (info.get("pid"), os.environ.get(SETUP_PID)):
        if pid and run_state.process_alive(pid):
            return int(pid)
    return None


def _running(url):
    """The Flower that the record of ``url`` names, if it answers; else None (and a dead one's record removed)."""
    record = run_state.read_json(run_state.flower_path(url))
    if not record or not run_state.process_alive(record.get("pid")):
        return None
    flower = Flower(record)
    if wait_until(flower.answers, 2.0, every=0.1):
        return flower
    run_state.stop_flower(url, lock=False)  # it runs, but does not answer: start a new one
    return None


def _start(url):
    password, port = secrets.token_hex(16), free_port()
    log_dir = Path(os.environ.get("COURSE_LOG_DIR") or ROOT / ".course" / "logs")
    run_state.private_dir(log_dir)
    log = log_dir / "lesson-flower.log"
    owner = _owner(url)
    env = dict(os.environ, COURSE_FLOWER_ADDRESS=LOOPBACK, COURSE_FLOWER_PORT=str(port),
               FLOWER_BASIC_AUTH=f"{USER}:{password}", **{OWNER: str(owner or "")})
    with open(log, "ab") as out:  # not a child that dies with this notebook: the twin notebook uses it too
        proc = subprocess.Popen(course_command("flower"), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    _children.append(proc)  # reaped if it exits while this kernel runs
    record = {"pid": proc.pid, "port": port, "password": password, "log": str(log), "owner": owner}
    run_state.write_json(run_state.flower_path(url), record)
    flower = Flower(record)
    if not wait_until(lambda: proc.poll() is not None or flower.answers(), READY_TIMEOUT, every=0.2) \
            or proc.poll() is not None:
        error = flower.error(timeout=1.0) if proc.poll() is None else f"exit code {proc.returncode}"
        run_state.stop_flower(url, lock=False)
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-12:])
        raise SetupError(say("flower_no_start", seconds=READY_TIMEOUT, error=error, log=log, tail=tail))
    return flower


_children = []


def ensure():
    """The Flower of this setup, started if none answers; a :class:`Flower` (or SetupError, saying why not)."""
    url = settings.broker_url()
    lock_path = run_state.flower_path(url).with_suffix(".lock")
    run_state.private_dir(lock_path.parent)
    with open(lock_path, "a") as handle:
        def locked():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            return True

        if not wait_until(locked, LOCK_TIMEOUT, every=0.1):
            raise SetupError(say("flower_busy", seconds=LOCK_TIMEOUT))
        try:
            return _running(url) or _start(url)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- in Flower's process ------------------------------------------------------------------------------------------
def watch():
    """In a Flower that a lesson started (its environment names :data:`OWNER`): exit once the process that runs the
    setup is gone, or the broker has not answered for :data:`BROKER_GONE` s. Any other Flower: nothing."""
    if OWNER not in os.environ:
        return
    owner, url = os.environ[OWNER], settings.broker_url()

    def run():
        silent_since = None
        while True:
            time.sleep(WATCH_EVERY)
            if owner and not run_state.process_alive(owner):
                os._exit(0)
            if broker_answers(url, timeout=1.0):
                silent_since = None
            elif silent_since is None:
                silent_since = time.monotonic()
            elif time.monotonic() - silent_since >= BROKER_GONE:
                os._exit(0)

    threading.Thread(target=run, name="course-flower-watch", daemon=True).start()
