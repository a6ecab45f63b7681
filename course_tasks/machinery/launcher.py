"""``python3 course.py up``: a broker, the workers, celery beat and JupyterLab for a learner, all stopped on Ctrl-C.

One setup per broker (:class:`~course_tasks.machinery.setup_lock.SetupLock`; by default each clone, so each user
of a machine, has a broker of its own: settings.embedded_socket()): a second ``up`` for the
same broker says what already runs and where, and starts nothing (but JupyterLab, when the setup was started
by a notebook's kernel, which runs none). While it runs, the Stack's supervisor starts again whatever stops
(a killed worker, celery beat, the embedded Redis, Flower) and says so here.

The terminal shows only the course's block: the broker, the workers, where the learner's lessons are and the one
address to open (lesson 00 in the learner's language, with a token made here); JupyterLab's own log goes to
.course/logs/jupyter.log.
"""
import os
import secrets
import signal
import sys
import time
import urllib.request
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

from .. import settings
from ..i18n import language, register, say
from ..waiting import wait_until
from . import copies, run_state
from .autostart import holder_name
from .probes import LOCAL_HTTP, LOOPBACK, amqp_answers
from .services import ROOT, LaunchError, Stack
from .setup_lock import SetupLock

ATTACH_WAIT = 60.0  # how long a second `up` waits for a first one that is still starting
JUPYTER_STARTS = 3  # starts of JupyterLab when the port it chose was taken before it bound it
JUPYTER_URL_WAIT = 60.0  # how long JupyterLab may take to listen (its first start on a busy machine is slow)

register({
    "up_rabbitmq_found": {
        "en": "RabbitMQ: found at {url}; the RabbitMQ lesson will use it",
        "ru": "RabbitMQ: найден по адресу {url}; урок про RabbitMQ будет работать с ним",
    },
    "up_rabbitmq_none": {
        "en": "RabbitMQ: none at {url}; the RabbitMQ lesson will say how to start one",
        "ru": "RabbitMQ: по адресу {url} его нет; урок про RabbitMQ подскажет, как его запустить",
    },
    "up_running": {
        "en": "Broker, workers and celery beat are running. Ctrl-C stops everything.",
        "ru": "Брокер, воркеры и celery beat работают. Ctrl-C останавливает всё.",
    },
    "up_stopping": {
        "en": "Stopping everything the course started ...",
        "ru": "Останавливаю всё, что запустил курс…",
    },
    "up_stopped": {
        "en": "Stopped in {seconds:.1f} s: {names}.",
        "ru": "Остановлено за {seconds:.1f} с: {names}.",
    },
    "up_lesson_flower": {"en": "lesson 17's Flower", "ru": "Flower урока 17"},
    "up_stopped_nothing": {
        "en": "Nothing had been started yet.",
        "ru": "Ещё ничего не было запущено.",
    },
    "up_what_broker": {"en": "  broker: {url}", "ru": "  брокер: {url}"},
    "up_what_workers": {"en": "  workers: {nodes}", "ru": "  воркеры: {nodes}"},
    "up_what_services": {"en": "  also: {names}", "ru": "  а также: {names}"},
    "up_what_jupyter": {"en": "  JupyterLab: {url}", "ru": "  JupyterLab: {url}"},
    "up_what_no_jupyter": {"en": "  JupyterLab: not started (--no-jupyter)",
                           "ru": "  JupyterLab: не запущен (--no-jupyter)"},
    "up_what_flower": {"en": "  Flower: {url}", "ru": "  Flower: {url}"},
    "up_no_flower": {
        "en": "  Flower is not part of it; for Flower, stop it and start:  python3 course.py up --flower",
        "ru": "  Flower в этом запуске нет; чтобы запустить курс с Flower, остановите этот запуск и выполните:  "
              "python3 course.py up --flower",
    },
    "up_open": {
        "en": "JupyterLab is running (its log: {log}). Open this address in your browser:\n\n    {url}\n\n{stop}",
        "ru": "JupyterLab работает (его лог: {log}). Откройте в браузере этот адрес:\n\n    {url}\n\n{stop}",
    },
    "up_stop_all": {"en": "Ctrl-C stops everything.", "ru": "Ctrl-C останавливает всё."},
    "up_stop_jupyter": {"en": "Ctrl-C stops JupyterLab.", "ru": "Ctrl-C останавливает JupyterLab."},
    "up_jupyter_failed": {
        "en": "JupyterLab did not start: {error} (its log: {log})",
        "ru": "JupyterLab не запустился: {error} (его лог: {log})",
    },
    "up_attached_by": {
        "en": "The course is already running for the broker {url}: {who} started it {ago} s ago.\n{what}\n{how}",
        "ru": "Курс уже запущен для брокера {url}: его запустил {who} {ago} с назад.\n{what}\n{how}",
    },
    "up_attached_up": {
        "en": "Nothing to start here; use that setup. Stop it with Ctrl-C in its terminal.",
        "ru": "Здесь запускать нечего, пользуйтесь этим запуском. Остановить его: Ctrl-C в его терминале.",
    },
    "up_attached_kernel": {
        "en": "It stops when that kernel stops. Only JupyterLab is started here.",
        "ru": "Он остановится вместе с этим ядром. Здесь запускается только JupyterLab.",
    },
    "up_attached_kernel_nothing": {
        "en": "It stops when that kernel stops. Nothing to start here.",
        "ru": "Он остановится вместе с этим ядром. Здесь запускать нечего.",
    },
})


def up(flower=False, jupyter=True):
    lock = SetupLock(os.environ.get("CELERY_BROKER_URL") or settings.DEFAULT_REDIS_URL)
    while not lock.acquire():
        attached = _attached(lock, flower, jupyter)
        if attached == "kernel" and jupyter:  # a notebook's kernel runs broker and workers, but no JupyterLab
            return _run(None, flower=False, jupyter=True)
        if attached:
            return 0
    try:
        return _run(lock, flower, jupyter)
    finally:
        lock.release()


def _run(lock, flower, jupyter):
    """Start the setup (with ``lock``; without one, JupyterLab only) and wait for Ctrl-C."""
    stack, code = Stack(ROOT / ".course" / "logs"), 0
    try:
        service = _start(stack, lock, flower, jupyter) if lock else _start_jupyter(stack, None)
        while service is None or service.alive():
            time.sleep(0.2)
    except KeyboardInterrupt:  # Ctrl-C, while starting or while running: stop what was started
        pass
    except (LaunchError, RuntimeError) as error:
        print(error, file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        _stop(stack, quiet=code != 0 and not stack.services)
    return code


def _stop(stack, quiet):
    """Stop the stack and say, in one short block, what was stopped (nothing at all when ``quiet``)."""
    if not quiet:
        print("\n" + say("up_stopping"))
    began = time.monotonic()
    stopped = stack.stop()
    if stopped:
        names = ", ".join([run_state.describe(s.kind, s.label) for s in stopped]
                          + [say("up_lesson_flower")] * stack.stopped_lesson_flower)
        print(say("up_stopped", seconds=time.monotonic() - began, names=names))
    elif not quiet:
        print(say("up_stopped_nothing"))


def _start(stack, lock, flower, jupyter):
    """Start the broker (if none answers), the workers, and Flower or JupyterLab; return what to wait on."""
    broker = stack.ensure_redis()
    stack.use_broker(broker, os.environ.get("CELERY_RESULT_BACKEND") or broker)
    lock.publish(broker=settings.redacted(broker))
    rabbit = settings.rabbitmq_url()
    rabbitmq = amqp_answers(rabbit)
    print(say("up_rabbitmq_found" if rabbitmq else "up_rabbitmq_none", url=settings.redacted(rabbit)))
    roles = settings.roles_to_start(rabbitmq)
    stack.start_roles(roles)
    started = [settings.roles()[role] for role in roles]
    lock.publish(workers=[role.label for role in started if role.kind == "worker"],
                 services=[role.label for role in started if role.kind != "worker"])
    if flower:
        started = stack.start_flower()
        lock.publish(flower=started and f"http://{LOOPBACK}:{stack.env.get('COURSE_FLOWER_PORT', '5555')}")
    if not jupyter:
        lock.publish(state="running", jupyter=False)
        print(say("up_running"))
        return None
    return _start_jupyter(stack, lock)


def _start_jupyter(stack, lock):
    """JupyterLab with a token made here; once it listens, the course's last lines: where the learner's lessons
    are and the one address to open. Returns its Service."""
    made = copies.ensure()
    token = secrets.token_hex(24)
    for _ in range(JUPYTER_STARTS):
        service = stack.start_jupyter(token)
        url = wait_until(lambda s=service: _jupyter_url(s, token) or not s.alive(), JUPYTER_URL_WAIT, every=0.1)
        if isinstance(url, str) or "already in use" not in service.log_since():
            break
        # jupyter_server picks a free port, then binds it a moment later: another JupyterLab started at the same
        # time (another learner's, in a room) took it meanwhile. A new start picks another one.
        stack.forget(service)
    if not isinstance(url, str):
        lines = service.log_since().strip().splitlines()
        error = lines[-1] if lines else f"no answer within {JUPYTER_URL_WAIT:g} s"
        raise LaunchError(say("up_jupyter_failed", error=error, log=service.log_path))
    if lock is not None:
        lock.publish(state="running", jupyter=url)
    print(copies.summary(made))
    print(say("up_open", log=service.log_path.relative_to(ROOT), url=url,
              stop=say("up_stop_all" if lock is not None else "up_stop_jupyter")))
    return service


def _jupyter_url(service, token):
    """The address of lesson 00 in the learner's language, with the token, once this JupyterLab answers with this
    token. It writes jpserver-<pid>.json with its port just before it binds that port: until then, the port may be
    another JupyterLab's (which refuses this token)."""
    info = run_state.read_json(Path(jupyter_runtime_dir()) / f"jpserver-{service.proc.pid}.json")
    if not info or not info.get("url"):
        return None
    base = info["url"].rstrip("/")
    request = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
    try:
        with LOCAL_HTTP.open(request, timeout=2) as reply:
            if reply.status != 200:
                return None
    except (OSError, ValueError):  # not listening yet, or another server's answer (403)
        return None
    return f"{base}/lab/tree/{copies.first_lesson(language())}?token={token}"


def _attached(lock, flower, jupyter=True):
    """Another `up` or a notebook's kernel holds the setup of this broker: say what runs there (once it runs) and
    return "up" or "kernel". None if that holder went away meanwhile (then this one tries to take the lock)."""
    info, said = None, []

    def settled():
        nonlocal info
        info = lock.holder()
        if not info or not run_state.process_alive(info.get("pid")):
            time.sleep(0.1)  # a holder that is writing its file, or one that just went away
            info = lock.holder()
            if not info or not run_state.process_alive(info.get("pid")):
                return "gone"
        if info.get("state") == "running":
            return "running"
        if not said:
            print(say("auto_waiting", who=holder_name(info), url=info.get("broker") or settings.redacted(lock.url)))
            said.append(True)
        return None

    if wait_until(settled, ATTACH_WAIT, every=0.2) == "gone":
        return None
    print(_what_runs(lock, info, flower, jupyter))  # running, or still starting after ATTACH_WAIT
    return "kernel" if "kernel" in info else "up"


def _what_runs(lock, info, flower, jupyter=True):
    lines = []
    if info.get("broker"):
        lines.append(say("up_what_broker", url=info["broker"]))
    if info.get("workers"):
        lines.append(say("up_what_workers", nodes=", ".join(info["workers"])))
    if info.get("services"):
        lines.append(say("up_what_services", names=", ".join(info["services"])))
    if info.get("jupyter"):
        lines.append(say("up_what_jupyter", url=info["jupyter"]))
    elif info.get("jupyter") is False and "kernel" not in info:
        lines.append(say("up_what_no_jupyter"))
    if info.get("flower"):
        lines.append(say("up_what_flower", url=info["flower"]))
    elif flower:
        lines.append(say("up_no_flower"))
    how = ("up_attached_up" if "kernel" not in info else
           "up_attached_kernel" if jupyter else "up_attached_kernel_nothing")
    return say("up_attached_by", url=info.get("broker") or settings.redacted(lock.url), who=holder_name(info),
               ago=round(time.time() - info.get("started_at", time.time())), what="\n".join(lines), how=say(how))
