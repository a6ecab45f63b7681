"""Killing on purpose (lesson 12): a worker's main process, or the pool process that runs a task.

    kill_worker("delivery", during=result)   # SIGKILL delivery@course's main process while it runs result's task
    kill_pool_process(result)                 # SIGKILL only the pool process running result's task

A kill during a task is carried out by the pool process that runs it (``course_tasks/machinery/kill_switch.py``),
``after`` seconds into the run, or at its end if it ends sooner, before its result is stored: a kill that travelled
from the notebook could land after the run had ended on a busy machine. A worker with no task is killed by a
remote-control command it carries out on itself (``course_kill_worker``, ``course_tasks/machinery/control.py``).
Both work the same when the worker runs locally and when it runs in a container. A restarted worker is told from
the killed one by its boot id (``course_worker_info``, answered by every course worker), not by its process id: a
container that Docker starts again often gets the very same pid.
The course's supervisor (``course.py up``, the test harness, Docker's restart policy) starts a killed worker again;
``kill_worker`` waits until it answers.
"""
import time

from . import delivery, settings
from .apps import app_for
from .exclusive import exclusive, held_here
from .i18n import register, say
from .machinery import kill_switch, tracebacks
from .machinery.notice import Notice
from .waiting import wait_until
from .workers import worker_info

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
    "faults.interrupted_kill": {
        "en": "The cell was killing {node} (kill_worker): if it is killed already, it is started again by itself "
              "within seconds (python3 course.py up and docker compose do that). Run the cell again.",
        "ru": "Ячейка убивала {node} (kill_worker): если он уже убит, он запустится снова сам за несколько секунд "
              "(это делают python3 course.py up и docker compose). Выполните ячейку снова.",
    },
    "faults.interrupted_back": {
        "en": "The cell was waiting for {node}, killed, to be started again: it comes back by itself within seconds "
              "(python3 course.py up and docker compose start it). Run the cell again.",
        "ru": "Ячейка ждала, пока убитый {node} запустится снова: он вернётся сам за несколько секунд "
              "(его запускают python3 course.py up и docker compose). Выполните ячейку снова.",
    },
    "faults.ended": {
        "en": "The task {id} had ended before it could be killed, so nothing was killed.",
        "ru": "Задача {id} завершилась раньше, чем её успели убить, поэтому ничего не убито.",
    },
    "faults.not_started": {
        "en": "The task {id} did not start on {node} within {seconds:g} s, so nothing was killed.",
        "ru": "Задача {id} не началась на {node} за {seconds:g} с, поэтому ничего не убито.",
    },
})


class FaultError(RuntimeError):
    """A kill could not be carried out; the message says why and what to do."""


def _node_boot(app, node, timeout=0.5):
    """The boot id of ``node``'s process (new in every process), or None if it does not answer."""
    info = worker_info(node, app, timeout=timeout)
    return info.get("boot") if info else None


def _command(app, node, name, deadline):
    """Send ``name`` to ``node`` until it replies (a busy worker may miss one broadcast); its reply, or None."""
    def done():
        replies = app.control.broadcast(name, destination=[node], reply=True, timeout=1.0, limit=1)
        return next((r[node] for r in replies or [] if node in r), None)

    return wait_until(done, deadline - time.monotonic())


def _order(result, target, after, deadline, node):
    """Have the pool process that runs ``result``'s task kill ``target`` ("worker" or "process") ``after`` seconds
    into the run (``machinery/kill_switch.py``) and wait until it has; FaultError if the task ended first or did not
    run before ``deadline``."""
    client = delivery.app.backend.client
    kill_switch.order(client, result.id, target, after, deadline - time.monotonic())

    def seen():
        if kill_switch.carried_out(client, result.id) is not None:
            return "killed"
        return "ended" if result.ready() else None

    found = wait_until(seen, deadline - time.monotonic())
    if found != "killed":
        kill_switch.cancel(client, result.id)
        raise FaultError(say("faults.ended" if found == "ended" else "faults.not_started", id=result.id,
                             node=node, seconds=COMEBACK_SECONDS))


def _answering(app, node, seconds, role):
    """The boot id of ``node`` once it answers (waiting up to ``seconds``), else FaultError."""
    boot = wait_until(lambda: _node_boot(app, node), seconds, every=0)
    if boot is None:
        raise FaultError(say("faults.no_worker", node=node, seconds=seconds, role=role,
                             url=settings.redacted(app.conf.broker_write_url)))
    return boot


_killed = {}  # role -> the boot id of the process kill_worker killed


def kill_worker(role="delivery", during=None, after=0.5):
    """SIGKILL the main process of the worker of ``role`` (its pool processes die with it); with ``during``
    (an AsyncResult of a lesson 12 task), ``after`` seconds into that task's run (at its end if it ends sooner).
    Returns once the worker is dead; the
    supervisor starts it again, and :func:`wait_for_worker` waits for that.

    The worker is this notebook's meanwhile (``exclusive(role)``): other notebooks wait to send to it.
    Called inside ``with exclusive(role):``, the hold is the block's; called alone, it lasts until the
    worker answers again (quietly: :func:`wait_for_worker` says so), so that another notebook that
    takes the worker next finds it running."""
    node = settings.roles()[role].node
    _answering(app_for(role), node, ANSWER_SECONDS, role)  # a worker that is not there: said at once
    alone = not held_here(node)
    with exclusive(role, idle=False):  # its own task may be running: do not wait for that
        _kill_worker(role, during, after)
        if alone:
            _back(role, quiet=True)


def _kill_worker(role, during, after):
    app, node = app_for(role), settings.roles()[role].node
    old_boot = _answering(app, node, ANSWER_SECONDS, role)
    deadline = time.monotonic() + COMEBACK_SECONDS
    if during is not None:  # its pool process kills it, at that moment of the run
        _order(during, "worker", after, deadline, node)
    else:
        _command(app, node, "course_kill_worker", deadline)
        delivery.record_kill(node, at=time.time() + 0.2)  # the worker dies 0.2 s after its reply
    _killed[role] = old_boot
    wait_until(lambda: not app.control.ping(destination=[node], timeout=0.2), 5)


def wait_for_worker(role="delivery"):
    """Wait until the worker of ``role`` answers again after :func:`kill_worker` (a new process), and say so."""
    _back(role, quiet=False)


def _back(role, quiet):
    """Wait (bounded) until the worker of ``role`` answers with a new process. Unless ``quiet``, say that it is
    back, or that it takes long, and fail with FaultError at the deadline; ``quiet`` says nothing either way."""
    app, node = app_for(role), settings.roles()[role].node

    def new_process():
        boot = _node_boot(app, node)
        return boot is not None and boot != _killed.get(role)

    if wait_until(new_process, NOTICE_SECONDS, every=0.1):
        back = True
    else:
        if not quiet:  # a notice, not the lesson's output: a busy machine takes longer, the lesson reads the same
            Notice().show(say("faults.still_waiting", node=node, seconds=NOTICE_SECONDS))
        back = wait_until(new_process, COMEBACK_SECONDS - NOTICE_SECONDS, every=0.1)
    if quiet:
        return
    if not back:
        raise FaultError(say("faults.not_back", node=node, seconds=COMEBACK_SECONDS, role=role))
    print(say("faults.back", node=node))


def kill_pool_process(result, role="delivery", after=0.5):
    """SIGKILL the pool process running ``result``'s task (a lesson 12 task), ``after`` seconds into its run (at its
    end if it ends sooner); the worker lives on.
    The worker is this notebook's meanwhile (``exclusive(role)``): other notebooks wait to send to it."""
    app, node = app_for(role), settings.roles()[role].node
    _answering(app, node, ANSWER_SECONDS, role)  # a worker that is not there: said at once
    with exclusive(role, idle=False):  # its own task may be running: do not wait for that
        _order(result, "process", after, time.monotonic() + COMEBACK_SECONDS, node)
        app.control.broadcast("course_check_pool", destination=[node])  # replaced now, not at the pool's 5 s look


@tracebacks.on_interrupt(_kill_worker)
def _interrupted_killing(frame):
    return say("faults.interrupted_kill", node=settings.roles()[frame.f_locals["role"]].node)


@tracebacks.on_interrupt(_back)
def _interrupted_coming_back(frame):
    return say("faults.interrupted_back", node=settings.roles()[frame.f_locals["role"]].node)
