"""A lesson's Setup cell starts what is missing, in any Jupyter front end (VS Code, a JupyterLab of one's own,
papermill): when no broker answers at the course's Redis URL, and that URL is on this machine, the kernel
starts the course's setup itself, exactly as ``python3 course.py up --no-jupyter`` would: the embedded broker
(``services.redis_server_binary``; by default on this clone's Unix socket, settings.embedded_socket()) and the
workers and celery beat of ``settings.LOCAL_ROLES`` (plus the RabbitMQ worker when a RabbitMQ answers), supervised by a
:class:`~course_tasks.machinery.services.Stack`.

- One setup per broker (:class:`~course_tasks.machinery.setup_lock.SetupLock`): when ``up`` or another kernel already
  runs it (or is starting it), this kernel uses that one and starts nothing.
- It says so in the notebook as a notice (course_tasks.machinery.notice), which is not part of the lesson's output.
- It lives as long as this kernel: the thread that starts the services never ends before the kernel does
  (a child gets SIGTERM when the *thread* that started it ends: PR_SET_PDEATHSIG), and the kernel's exit stops
  them. Other lessons use it meanwhile; after that, the next Setup cell starts a new one.
- RabbitMQ is never started from a lesson (lesson 08 says how to get one).

It happens when a Setup cell calls ``check_setup()`` (or ``exclusive()``), the first course call of a lesson:
:func:`ensure_setup`, once per kernel. ``COURSE_AUTOSTART=0`` turns it off (the Setup cell then only reports what
is missing).
"""
import atexit
import os
import sys
import threading
import time
from urllib.parse import urlsplit

from .. import settings
from ..errors import SetupError, one_line
from ..i18n import register, say
from ..waiting import wait_until
from . import run_state
from .notice import Notice
from .probes import amqp_answers, redis_answers
from .services import ROOT, Stack
from .setup_lock import SetupLock

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
WAIT_FOR_OTHER = 60.0  # how long a kernel waits for the setup that `up` or another kernel is starting
START_TIMEOUT = 90.0  # the embedded broker and every worker answer well within this, even on a busy machine

register({
    "auto_starting": {
        "en": "No broker answers at {url}, and no course setup runs for it: starting one from this notebook "
              "(the embedded broker, the course's workers and its celery beat) ...",
        "ru": "По адресу {url} брокер не отвечает, и курс для него не запущен: запускаю его из этого ноутбука "
              "(встроенный брокер, воркеры курса и его celery beat)…",
    },
    "auto_started": {
        "en": "Started from this notebook in {seconds:.1f} s: the embedded broker at {url}, the workers {nodes} "
              "and {services} (logs: {logs}). Other lessons can use them too. They stop when this notebook's kernel "
              "stops; then the Setup cell of the next lesson starts them again.",
        "ru": "Запущено из этого ноутбука за {seconds:.1f} с: встроенный брокер по адресу {url}, воркеры {nodes} "
              "и {services} (логи: {logs}). Другие уроки тоже могут ими пользоваться. Они остановятся вместе с "
              "ядром этого ноутбука; после этого их снова запустит ячейка «Подготовка» следующего урока.",
    },
    "auto_no_rabbitmq": {
        "en": "RabbitMQ: none at {url} (a lesson never starts one; lesson 08 says how to get one).",
        "ru": "RabbitMQ: по адресу {url} его нет (урок его не запускает; как его получить, сказано в уроке 08).",
    },
    "auto_waiting": {
        "en": "The course's setup for {url} is being started by {who}; waiting for it ...",
        "ru": "Курс для {url} сейчас запускает {who}; ждём…",
    },
    "auto_waited": {
        "en": "Using the course's setup for {url} started by {who}.",
        "ru": "Курс для {url} запущен ({who}), этот ноутбук пользуется им.",
    },
    "auto_who_up": {"en": "python3 course.py up (pid {pid})", "ru": "python3 course.py up (pid {pid})"},
    "auto_who_kernel": {
        "en": "the kernel of a notebook (pid {pid}{name})",
        "ru": "процесс ядра ноутбука (pid {pid}{name})",
    },
    "auto_failed": {
        "en": "No broker answers at {url}, and the course could not start one from this notebook: {error}",
        "ru": "По адресу {url} брокер не отвечает, и курс не смог запустить его из этого ноутбука: {error}",
    },
})


def in_kernel() -> bool:
    """True inside a Jupyter kernel (not in plain Python, pytest, a worker or ``python3 course.py check``)."""
    if "IPython" not in sys.modules:  # a kernel has imported it long before; nothing else needs to
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def local_redis(url: str) -> bool:
    """A ``redis://`` URL on this machine, or a Unix socket (the default): the only broker a lesson may start."""
    parts = urlsplit(url)
    return settings.socket_path(url) is not None or (parts.scheme == "redis" and parts.hostname in LOCAL_HOSTS)


_tried = []  # ensure_setup() looks once per process


def ensure_setup():
    """In a notebook's kernel, the first time it is called (by the Setup cell's check_setup(), before anything
    touches the broker), when no broker answers at the course's Redis URL on this machine: start the course's setup
    here, or wait for the one that ``up`` or another kernel is starting.

    A failure to start is a notice that says why, not an exception: the check that follows says what does not
    answer, and later cells still know the course's names (no NameError)."""
    if _tried or os.environ.get("COURSE_AUTOSTART", "1") == "0" or not in_kernel():
        return
    _tried.append(True)
    url = settings.broker_url()
    if not local_redis(url) or KernelSetup.current is not None or redis_answers(url, timeout=0.5):
        return  # a broker elsewhere is not ours to start; ours is supervised; a running one is used as it is
    lock = SetupLock(url)
    if not lock.acquire():
        _wait_for_holder(lock, url)
        return
    try:
        status = run_state.read_json(run_state.status_path(url))
        if (status and run_state.process_alive(status.get("pid"))) or redis_answers(url, timeout=0.5):
            lock.release()  # a supervised setup without a lock (a test run) is restarting its broker, or it is back
            return
    except BaseException:
        lock.release()
        raise
    try:
        KernelSetup(lock, url).start()
    except SetupError:
        pass  # said in the notice; the Setup cell's check says what does not answer


class KernelSetup:
    """The setup this kernel started: its Stack, kept by a thread that lives as long as the kernel."""

    current = None

    def __init__(self, lock, url):
        self.lock, self.url = lock, url
        lock.publish(kernel=os.environ.get("JPY_SESSION_NAME", ""))  # who holds it, for `up` and other kernels
        self.stack = Stack(ROOT / ".course" / "logs", say=lambda text: None)
        self.stack.env["CELERY_BROKER_URL"] = url  # the kernel's app talks to this URL: never another port
        self.ready, self.finished = threading.Event(), threading.Event()
        self.error, self.nodes, self.services, self.rabbitmq = None, [], [], False

    def start(self):
        notice = Notice()
        notice.show(say("auto_starting", url=settings.redacted(self.url)))
        began = time.monotonic()
        if threading.current_thread() is threading.main_thread():  # a kernel runs cells here: it lives as long
            self._start_services()
        else:  # a subshell's thread may end before the kernel: start them from one that does not
            threading.Thread(target=self._keep, name="course-setup", daemon=True).start()
        if not self.ready.wait(START_TIMEOUT):
            self.error = RuntimeError(f"nothing answered within {START_TIMEOUT:g} s")
        if self.error is not None:
            self.stop()
            failure = SetupError(say("auto_failed", url=settings.redacted(self.url), error=one_line(self.error)))
            notice.update(str(failure))
            raise failure from None
        KernelSetup.current = self
        atexit.register(self.stop)
        text = say("auto_started", seconds=time.monotonic() - began, url=settings.redacted(self.url),
                   nodes=", ".join(self.nodes), services=", ".join(self.services), logs=self.stack.log_dir)
        if not self.rabbitmq:
            text += "\n" + say("auto_no_rabbitmq", url=settings.redacted(settings.rabbitmq_url()))
        notice.update(text)

    def _keep(self):
        """Start the services from this thread, then stay until the kernel exits (their PR_SET_PDEATHSIG is tied
        to the thread that started them)."""
        self._start_services()
        self.finished.wait()

    def _start_services(self):
        try:
            broker = self.stack.ensure_redis()
            self.stack.use_broker(broker, os.environ.get("CELERY_RESULT_BACKEND") or broker)
            self.rabbitmq = amqp_answers(settings.rabbitmq_url())
            roles = settings.roles_to_start(self.rabbitmq)
            started = [settings.roles()[role] for role in roles]
            self.nodes = [role.label for role in started if role.kind == "worker"]
            self.services = [role.label for role in started if role.kind != "worker"]
            self.lock.publish(broker=settings.redacted(broker), workers=self.nodes, services=self.services,
                              jupyter=None)
            self.stack.start_roles(roles, reuse_running=False)  # a broker just started has no worker yet
            self.lock.publish(state="running")
        except BaseException as error:  # noqa: BLE001 (said in the notebook by start(), from the kernel's thread)
            self.error = error
        finally:
            self.ready.set()

    def stop(self):
        """Stop what this kernel started (at the kernel's exit, or after a failed start) and free the setup lock."""
        try:
            self.stack.stop()
        finally:
            self.lock.release()
            self.finished.set()
            if KernelSetup.current is self:
                KernelSetup.current = None


def holder_name(info) -> str:
    """Who runs the setup described by a lock file's ``info``: `python3 course.py up` or a kernel, in words."""
    if info.get("kernel") is not None:
        name = os.path.basename(info["kernel"]) if info["kernel"] else ""
        return say("auto_who_kernel", name=f", {name}" if name else "", pid=info.get("pid"))
    return say("auto_who_up", pid=info.get("pid"))


def _wait_for_holder(lock, url):
    """Another process holds the setup of ``url``: wait (bounded) while it is starting, saying so."""
    notice, began = Notice(), time.monotonic()

    def settled():
        info = lock.holder()
        if (info and not run_state.process_alive(info.get("pid"))) or (not info and time.monotonic() > began + 2):
            return "gone"  # it went away (or its file with it): the check that follows says what is missing
        if info and info.get("state") == "running":
            if notice.handle is not None:
                notice.update(say("auto_waited", url=settings.redacted(url), who=holder_name(info)))
            return "running"
        if info:
            notice.show(say("auto_waiting", url=settings.redacted(url), who=holder_name(info)))
        return None

    wait_until(settled, WAIT_FOR_OTHER, every=0.2)
    # still starting after WAIT_FOR_OTHER: the check that follows says what does not answer yet
