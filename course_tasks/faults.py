"""Killing on purpose (lesson 12): a worker's main process, or the pool process that runs a task.

    kill_worker("delivery", during=result)   # SIGKILL delivery@course's main process while it runs result's task
    kill_pool_process(result)                 # SIGKILL only the pool process running result's task

Both are remote-control commands that the worker carries out on itself, so they work the same when
the worker runs locally and when it runs in a container (no process id crosses a container's border).
Every course worker answers them: the main app includes this module, lesson 12's app imports it.
A restarted worker is told from the killed one by its boot id (``course_worker_info``, course_tasks/workers.py),
not by its process id: a container started again by Docker often gets the very same pid.
``course_check_pool`` asks a worker to look for dead pool processes now (lesson 13 counts replaced ones).
The course's supervisor (``course.py up``, the test harness, Docker's restart policy) starts a killed
worker again; ``kill_worker`` waits until it answers.
"""
import os
import signal
import threading
import time

from celery.worker import state as worker_state
from celery.worker.control import control_command

from . import settings
from .exclusive import exclusive, held_here
from .i18n import register, say
from .workers import worker_info  # also makes every worker that imports this module answer course_worker_info

COMEBACK_SECONDS = 20  # a restarted worker answers in 2-4 s; a busy machine may take longer
ANSWER_SECONDS = 5  # a worker that should be running and does not answer within this is reported
NOTICE_SECONDS = 10  # a killed worker not back after this: say that we wait, and for what

register({
    "faults.no_worker": {
        "en": "No worker {node} answered within {seconds:g} s on {url}.\n"
              "Start the course with:  python3 course.py up   (or only this worker:  python3 course.py worker {role})",
        "ru": "Воркер {node} не ответил за {seconds:g} с через брокер {url}.\n"
              "Запустите курс:  python3 course.py up   (или только этот воркер:  python3 course.py worker {role})",
    },
    "faults.not_back": {
        "en": "{node} was killed and did not start again within {seconds:g} s: nothing restarts it here.\n"
              "Start it with:  python3 course.py worker {role}   (python3 course.py up restarts killed workers)",
        "ru": "{node} убит и за {seconds:g} с не запустился снова: здесь его некому перезапустить.\n"
              "Запустите его:  python3 course.py worker {role}   (python3 course.py up перезапускает убитые воркеры)",
    },
    "faults.back": {"en": "{node}: running again, a new process", "ru": "{node}: снова работает, это новый процесс"},
    "faults.still_waiting": {
        "en": "{node} has not answered for {seconds:g} s since it was killed; waiting for it to be started again "
              "(python3 course.py up and docker compose do that) ...",
        "ru": "{node} не отвечает уже {seconds:g} с после убийства; ждём, пока его запустят снова "
              "(это делают python3 course.py up и docker compose)…",
    },
    "faults.not_started": {
        "en": "The task {id} did not start on {node} within {seconds:g} s, so nothing was killed.",
        "ru": "Задача {id} не началась на {node} за {seconds:g} с, поэтому ничего не убито.",
    },
})


class FaultError(RuntimeError):
    """A kill could not be carried out; the message says why and what to do."""


# -- the commands, run by the worker on itself ------------------------------------------------------

def _running(task_id):
    """The request of ``task_id`` if a pool process has taken it (and an early ack has been sent), else None."""
    for request in worker_state.active_requests:
        if request.id == task_id and request.time_start and request.worker_pid:
            if request.task.acks_late or request.acknowledged:
                return request
    return None


def _die(pid):
    if pid == 1:  # PID 1 of a container ignores SIGKILL sent from inside; exit as abruptly instead
        os._exit(137)
    os.kill(pid, signal.SIGKILL)


@control_command(args=[("task_id", str)], signature="[task_id]")
def course_kill_worker(state, task_id=None):
    """SIGKILL this worker's main process (its pool processes die with it), once task_id runs if given."""
    if task_id and _running(task_id) is None:
        return {"waiting": task_id}
    pid = os.getpid()
    threading.Timer(0.2, _die, (pid,)).start()  # after the reply has gone out
    return {"killed": pid}


@control_command(args=[("task_id", str)], signature="<task_id>")
def course_kill_pool_process(state, task_id):
    """SIGKILL the pool process that runs task_id (as the kernel's OOM killer would)."""
    request = _running(task_id)
    if request is None:
        return {"waiting": task_id}
    os.kill(request.worker_pid, signal.SIGKILL)
    _check_pool_soon(state)
    return {"killed": request.worker_pid}


def _check_pool_soon(state):
    """The pool looks for exited processes when one's sentinel pipe closes, but the process may not be
    reapable yet at that instant; then its timer finds it within 5 s (AsynPool.timers). Look now instead."""
    consumer = state.consumer
    for delay in (0.1, 0.3, 1.0):
        consumer.hub.call_later(delay, consumer.pool.maintain_pool)


@control_command()
def course_check_pool(state):
    """Look for exited pool processes now and replace them (what the pool's 5 s timer does anyway)."""
    _check_pool_soon(state)
    return {"ok": "checking"}


# -- the helpers a notebook calls -------------------------------------------------------------------

def _role_app(role):
    import importlib

    return importlib.import_module(settings.worker_roles()[role].app).app


def _node_boot(app, node, timeout=0.5):
    """The boot id of ``node``'s process (new in every process), or None if it does not answer."""
    info = worker_info(node, app, timeout=timeout)
    return info.get("boot") if info else None


def _command(app, node, name, task_id, deadline):
    """Send ``name`` until the worker does it (it answers "waiting" until the task runs); its reply, or None."""
    while True:
        replies = app.control.broadcast(name, arguments={"task_id": task_id}, destination=[node],
                                        reply=True, timeout=1.0, limit=1)
        reply = next((r[node] for r in replies or [] if node in r), None)
        if reply is None or "killed" in reply:
            return reply
        if time.monotonic() > deadline:
            raise FaultError(say("faults.not_started", id=task_id, node=node, seconds=COMEBACK_SECONDS))
        time.sleep(0.05)


def _wait_started(result, seconds, deadline):
    """Wait until ``result``'s task has run for ``seconds`` (its start is recorded by delivery.AttemptTask)."""
    from . import delivery

    while True:
        runs = delivery.attempts(result)
        if runs and runs[-1]["state"] == "RUNNING":
            remaining = runs[-1]["started"] + seconds - time.time()
            if remaining > 0:
                time.sleep(remaining)
            return
        if time.monotonic() > deadline:
            raise FaultError(say("faults.not_started", id=result.id, node="?", seconds=COMEBACK_SECONDS))
        time.sleep(0.05)


def _answering(app, node, seconds, role):
    """The boot id of ``node`` once it answers (waiting up to ``seconds``), else FaultError."""
    deadline = time.monotonic() + seconds
    while True:
        boot = _node_boot(app, node)
        if boot is not None:
            return boot
        if time.monotonic() > deadline:
            raise FaultError(say("faults.no_worker", node=node, seconds=seconds, role=role,
                                 url=settings.redacted(app.conf.broker_write_url)))


class _Killed:
    boots = {}  # role -> the boot id of the process kill_worker killed


def kill_worker(role="delivery", during=None, after=0.5):
    """SIGKILL the main process of the worker of ``role`` (its pool processes die with it); with ``during``
    (an AsyncResult), ``after`` seconds into that task's run. Returns once the worker is dead; the
    supervisor starts it again, and :func:`wait_for_worker` waits for that.

    The worker is this notebook's meanwhile (``exclusive(role)``): other notebooks wait to send to it.
    Called inside ``with exclusive(role):``, the hold is the block's; called alone, it lasts until the
    worker answers again (quietly: :func:`wait_for_worker` says so), so that another notebook that
    takes the worker next finds it running."""
    node = settings.worker_roles()[role].node
    _answering(_role_app(role), node, ANSWER_SECONDS, role)  # a worker that is not there: said at once
    alone = not held_here(node)
    with exclusive(role, idle=False):  # its own task may be running: do not wait for that
        _kill_worker(role, during, after)
        if alone:
            _back(role, quiet=True)


def _kill_worker(role, during, after):
    from . import delivery

    app, node = _role_app(role), settings.worker_roles()[role].node
    old_boot = _answering(app, node, ANSWER_SECONDS, role)
    deadline = time.monotonic() + COMEBACK_SECONDS
    if during is not None:
        _wait_started(during, after, deadline)
    _command(app, node, "course_kill_worker", during.id if during is not None else None, deadline)
    delivery.record_kill(node, at=time.time() + 0.2)  # the worker dies 0.2 s after its reply
    _Killed.boots[role] = old_boot
    deadline = time.monotonic() + 5
    while app.control.ping(destination=[node], timeout=0.2) and time.monotonic() < deadline:
        time.sleep(0.05)


def wait_for_worker(role="delivery"):
    """Wait until the worker of ``role`` answers again after :func:`kill_worker` (a new process), and say so."""
    _back(role, quiet=False)


def _back(role, quiet):
    """Wait (bounded) until the worker of ``role`` answers with a new process. Unless ``quiet``, say that it is
    back, or that it takes long, and fail with FaultError at the deadline; ``quiet`` says nothing either way."""
    app, node = _role_app(role), settings.worker_roles()[role].node
    started = time.monotonic()
    deadline, notice = started + COMEBACK_SECONDS, None if quiet else started + NOTICE_SECONDS
    while True:
        boot = _node_boot(app, node)
        if boot is not None and boot != _Killed.boots.get(role):
            if not quiet:
                print(say("faults.back", node=node))
            return
        if notice and time.monotonic() > notice:
            print(say("faults.still_waiting", node=node, seconds=NOTICE_SECONDS))
            notice = None
        if time.monotonic() > deadline:
            if quiet:
                return
            raise FaultError(say("faults.not_back", node=node, seconds=COMEBACK_SECONDS, role=role))
        time.sleep(0.1)


def kill_pool_process(result, role="delivery", after=0.5):
    """SIGKILL the pool process running ``result``'s task, ``after`` seconds into its run; the worker lives on.
    The worker is this notebook's meanwhile (``exclusive(role)``): other notebooks wait to send to it."""
    from . import delivery

    app, node = _role_app(role), settings.worker_roles()[role].node
    _answering(app, node, ANSWER_SECONDS, role)  # a worker that is not there: said at once
    with exclusive(role, idle=False):  # its own task may be running: do not wait for that
        deadline = time.monotonic() + COMEBACK_SECONDS
        _wait_started(result, after, deadline)
        _command(app, node, "course_kill_pool_process", result.id, deadline)
        delivery.record_kill(node)
