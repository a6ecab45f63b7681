"""Restart a worker of the course from a notebook (lesson 10): ``reload_worker("play")``.

A worker imports its tasks once, when it starts; a changed module is read only by a new worker
process. ``reload_worker`` asks the worker to shut down (``app.control.shutdown``, a warm shutdown:
running tasks finish first); the supervisor of ``python3 course.py up`` (or Docker's restart policy)
starts it again, and ``reload_worker`` waits, bounded, until the new process answers. Meanwhile the worker
is this notebook's (``exclusive``): another notebook waits to send to it, or to restart it. A worker tells
its start by ``course_worker_info`` (course_tasks/machinery/control.py): an id made when its process started,
and what the playground loaded (play@course only).

A task that does not end (``while True: ...``) would keep a warm shutdown waiting for ever: ``reload_worker`` names
the tasks the worker is running, gives them :data:`WARM_SECONDS` to finish, then stops them
(``revoke(terminate=True, signal="SIGKILL")``: their pool process is killed, their result is REVOKED, their message
acknowledged) and says so. The shutdown itself is bounded too (``course_shutdown``, machinery/control.py): a worker
still not gone :data:`SHUTDOWN_SECONDS` after it kills itself, and is started again.
"""
import time

from . import settings
from .apps import app_for
from .errors import SetupError
from .exclusive import exclusive
from .i18n import register, say
from .machinery import tracebacks
from .waiting import wait_until

RELOAD_TIMEOUT = 30.0
WARM_SECONDS = 5.0  # how long a running task may take to finish before a reload stops it
SHUTDOWN_SECONDS = 10.0  # a warm shutdown not over after this (a task that started meanwhile): the worker kills itself

register({
    "reload_interrupted": {
        "en": "The cell was restarting {node} (reload_worker): it may be stopping or starting now, and comes back by "
              "itself within seconds. Run the cell again to restart it and see what it loaded.",
        "ru": "Ячейка перезапускала {node} (reload_worker): сейчас он, возможно, останавливается или запускается и "
              "вернётся сам за несколько секунд. Выполните ячейку снова, чтобы перезапустить его и увидеть, что он "
              "загрузил.",
    },
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
        "en": "  {module}.py was NOT loaded{where}: {error}",
        "ru": "  {module}.py НЕ загружен{where}: {error}",
    },
    "reload_line": {"en": " (line {line})", "ru": " (строка {line})"},
    "reload_exit": {
        "en": "  {module}.py was NOT loaded{where}: it ends the process ({error}) when imported; play@course skipped "
              "it and runs without it. Remove that call from the module's top level.",
        "ru": "  {module}.py НЕ загружен{where}: при импорте он завершает процесс ({error}); play@course пропустил его "
              "и работает без него. Уберите этот вызов с верхнего уровня модуля.",
    },
    "reload_hang": {
        "en": "  {module}.py was NOT loaded{where}: its import did not end within {seconds:g} s (an endless loop or a "
              "long wait at the module's top level?); play@course stopped it and runs without it.",
        "ru": "  {module}.py НЕ загружен{where}: его импорт не закончился за {seconds:g} с (бесконечный цикл или "
              "долгое ожидание на верхнем уровне модуля?); play@course прервал его и работает без него.",
    },
    "reload_duplicate": {
        "en": "  {module}.py, line {line}: the task name {task} is taken already (above in this module, or by another "
              "one). Celery keeps the FIRST task registered under a name and ignores this definition (the worker's "
              "log warns: DuplicateTaskNameWarning). To fix a task, replace its definition: write the module anew "
              "(%%playground {module}.py, without -a), not a second definition below.",
        "ru": "  {module}.py, строка {line}: имя задачи {task} уже занято (выше в этом модуле или другим модулем). "
              "Celery оставляет ПЕРВУЮ задачу, зарегистрированную под именем, а это определение пропускает (в логе "
              "воркера об этом предупреждение DuplicateTaskNameWarning). Чтобы исправить задачу, замените её "
              "определение: запишите модуль заново (%%playground {module}.py, без -a), а не добавляйте второе ниже.",
    },
    "reload_running": {
        "en": "{node} is running {tasks}; a warm shutdown lets it finish first (up to {seconds:g} s) ...",
        "ru": "{node} выполняет {tasks}; при мягкой остановке задача сначала доработает (не больше {seconds:g} с)…",
    },
    "reload_stopped": {
        "en": "{tasks} did not finish within {seconds:g} s: stopped it (revoke(terminate=True, signal=\"SIGKILL\"): "
              "its pool process was killed, its state is REVOKED)",
        "ru": "задача {tasks} не закончилась за {seconds:g} с: остановили её "
              "(revoke(terminate=True, signal=\"SIGKILL\"): её процесс пула убит, её состояние REVOKED)",
    },
})


def _running(app, node):
    """``[(task name, id), ...]`` that ``node`` is running now (empty if none, or if it does not answer)."""
    replies = app.control.inspect(destination=[node], timeout=1.0).active() or {}
    return [(task["name"], task["id"]) for task in replies.get(node) or []]


def _task_list(running):
    return ", ".join(f"{name}[{task_id}]" for name, task_id in running)


def _stop_running(app, node, deadline):
    """Let the tasks ``node`` runs finish for WARM_SECONDS, then stop them (saying so); until none runs, bounded."""
    running = _running(app, node)
    if not running:
        return
    print(say("reload_running", node=node, tasks=_task_list(running), seconds=WARM_SECONDS), flush=True)
    while running and time.monotonic() < deadline:
        if wait_until(lambda: not _running(app, node), WARM_SECONDS, every=0.2):
            return
        running = _running(app, node)
        for _name, task_id in running:
            app.control.revoke(task_id, terminate=True, signal="SIGKILL", destination=[node])
        if running:
            print(say("reload_stopped", tasks=_task_list(running), seconds=WARM_SECONDS), flush=True)
        wait_until(lambda: not _running(app, node), 2.0, every=0.1)
        running = _running(app, node)  # a task queued after it may have started meanwhile


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
    started = time.monotonic()
    # No other notebook's task is cut off or sent meanwhile (reentrant); not waiting for the worker to be idle:
    # a task that never ends would keep it busy for ever, and stopping it is this function's job.
    with exclusive(role, idle=False):
        before = worker_info(worker.node, app)
        if before is None:
            raise SetupError(say("reload_down", node=worker.node, url=url))
        _stop_running(app, worker.node, started + timeout / 2)
        app.control.broadcast("course_shutdown", arguments={"grace": SHUTDOWN_SECONDS}, destination=[worker.node])

        def restarted():
            info = worker_info(worker.node, app, timeout=0.5)
            return info if info is not None and info["boot"] != before["boot"] else None

        info = wait_until(restarted, max(timeout - (time.monotonic() - started), SHUTDOWN_SECONDS * 1.5), every=0)
        if info is None:
            raise SetupError(say("reload_timeout", node=worker.node, seconds=timeout, role=role))
    lines = [say("reload_ok", node=worker.node)]
    for module, tasks in sorted(info.get("modules", {}).items()):
        lines.append(say("reload_module", module=module, tasks=", ".join(tasks) or say("reload_no_tasks")))
    for module, error in sorted(info.get("errors", {}).items()):
        lines.append(_error_line(module, error))
    for module, duplicates in sorted(info.get("duplicates", {}).items()):
        lines.extend(say("reload_duplicate", module=module, line=d["line"], task=d["name"]) for d in duplicates)
    print("\n".join(lines))



def _error_line(module, error):
    """One line, in the notebook's language, for a module play@course could not import (machinery/loading.py)."""
    if isinstance(error, str):  # a worker of an older course
        return say("reload_error", module=module, where="", error=error)
    where = say("reload_line", line=error["line"]) if error.get("line") else ""
    if error["kind"] == "exit":
        return say("reload_exit", module=module, where=where, error=error["error"])
    if error["kind"] == "hang":
        return say("reload_hang", module=module, where=where, seconds=error["seconds"])
    return say("reload_error", module=module, where=where, error=error["error"])


@tracebacks.on_interrupt(reload_worker)
def _interrupted_reloading(frame):
    return say("reload_interrupted", node=frame.f_locals["worker"].node) if "worker" in frame.f_locals else None
