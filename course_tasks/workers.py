"""Restart a worker of the course from a notebook (lesson 10): ``reload_worker("play")``.

A worker imports its tasks once, when it starts; a changed module is read only by a new worker
process. ``reload_worker`` asks the worker to shut down (``app.control.shutdown``, a warm shutdown:
running tasks finish first); the supervisor of ``python3 course.py up`` (or Docker's restart policy)
starts it again, and ``reload_worker`` waits, bounded, until the new process answers. Meanwhile the worker
is this notebook's (``exclusive``): another notebook waits to send to it, or to restart it. A worker tells
its start by ``course_worker_info`` (course_tasks/machinery/control.py): an id made when its process started,
and what the playground loaded (play@course only).
"""
from . import settings
from .apps import app_for
from .errors import SetupError
from .exclusive import exclusive
from .i18n import register, say
from .waiting import wait_until

RELOAD_TIMEOUT = 30.0

register({
    "reload_down": {
        "en": "{node} does not answer (broker {url}). Start the course with:  python3 course.py up",
        "ru": "{node} не отвечает (брокер {url}). Запустите курс командой:  python3 course.py up",
    },
    "reload_timeout": {
        "en": "{node} was asked to shut down, but no new {node} answered within {seconds:g} s. Is the course running "
              "with python3 course.py up (or docker compose), which starts a stopped worker again? "
              "Start it by hand with:  python3 course.py worker {role}",
        "ru": "{node} получил команду остановиться, но новый {node} не ответил за {seconds:g} с. Запущен ли курс "
              "командой python3 course.py up (или через docker compose)? Именно они запускают остановившийся "
              "воркер заново. Запустить его вручную:  python3 course.py worker {role}",
    },
    "reload_ok": {
        "en": "{node} restarted",
        "ru": "{node} перезапущен",
    },
    "reload_module": {
        "en": "  {module}.py: {tasks}",
        "ru": "  {module}.py: {tasks}",
    },
    "reload_no_tasks": {
        "en": "no tasks",
        "ru": "задач нет",
    },
    "reload_error": {
        "en": "  {module}.py was NOT loaded: {error}",
        "ru": "  {module}.py НЕ загружен: {error}",
    },
})


def worker_info(node, app=None, timeout=1.0):
    """What ``node`` answers to ``course_worker_info``, or None if it does not answer within ``timeout``."""
    app = app or app_for("main")
    replies = app.control.broadcast("course_worker_info", destination=[node], reply=True, timeout=timeout) or []
    return next((reply[node] for reply in replies if node in reply), None)


def reload_worker(role="play", timeout=RELOAD_TIMEOUT, app=None):
    """Restart the worker of ``role`` so that it imports its modules again; print what it loaded."""
    app = app or app_for(role)
    worker = settings.roles()[role]
    url = settings.redacted(app.conf.broker_write_url)
    if worker_info(worker.node, app) is None:
        raise SetupError(say("reload_down", node=worker.node, url=url))
    with exclusive(role):  # no other notebook's task is cut off or sent meanwhile; reentrant
        before = worker_info(worker.node, app)
        if before is None:
            raise SetupError(say("reload_down", node=worker.node, url=url))
        app.control.shutdown(destination=[worker.node])

        def restarted():
            info = worker_info(worker.node, app, timeout=0.5)
            return info if info is not None and info["boot"] != before["boot"] else None

        info = wait_until(restarted, timeout, every=0)
        if info is None:
            raise SetupError(say("reload_timeout", node=worker.node, seconds=timeout, role=role))
    lines = [say("reload_ok", node=worker.node)]
    for module, tasks in sorted(info.get("modules", {}).items()):
        lines.append(say("reload_module", module=module, tasks=", ".join(tasks) or say("reload_no_tasks")))
    for module, error in sorted(info.get("errors", {}).items()):
        lines.append(say("reload_error", module=module, error=error))
    print("\n".join(lines))

