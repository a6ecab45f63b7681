"""Lessons side by side: a cell that times or orders a worker holds it for its notebook while it does.

    with exclusive():            # worker@course, the main worker, is this notebook's until the block ends
        ...
    with exclusive("priority"):  # prio@course, the one-process worker of the priority lessons

Two notebooks may run at the same time against one setup (the English and the Russian twin of a lesson,
say). A measurement or an order is only true if nobody else's tasks run on that worker meanwhile, so:

- entering the block waits (saying so in the notebook) while another notebook holds the worker, then
  until the worker has nothing left to do (its queues empty, no task taken) and every process of its pool
  can take a task (one that replaced a dead process has started);
- while the block runs, every other notebook that sends a task to that worker's queues waits
  (saying so) before sending, until the block ends.

The first notice of a wait says at once who holds the worker (the notebook and the cell that took it, or the
process: what the hold records) and what to do (wait for that cell, interrupt it, or shut that notebook's kernel
down when the hold lasts until its kernel stops: lesson 10's %%playground); every wait ends within WAIT_LIMIT,
saying the same. When the wait ends, the notice becomes one line saying how long it waited and for whom.

The hold is redis-py's lock (``redis.lock.Lock``) on the key ``course:hold:<node>`` in the course's Redis. It
lives a few seconds unless this notebook renews it, so a notebook that dies releases it by itself (at once when
its process is gone from this machine). It concerns senders only: tasks that tasks send (the next step of a
chain) are never held back.
"""
import json
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from celery import signals
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from . import settings
from .apps import app_for
from .errors import SetupError
from .i18n import register, say
from .journal import call_text
from .machinery import autostart, journaling, tracebacks
from .machinery.notice import Notice
from .machinery.run_state import process_alive
from .waiting import wait_until

KEY_PREFIX = "course:hold:"
TTL_MS = 5000  # a hold nobody renews (its notebook died) is gone after this
RENEW_EVERY = 1.0
WAIT_LIMIT = 120.0  # seconds a notebook waits for another before it gives up, saying why
POLL = 0.05
BUSY_SILENT = 2.0  # seconds of waiting for an idle worker before the notebook says so
POOL_SETTLE = 10.0  # seconds a pool may take to replace a dead process (it looks every 5 s; asked, at once)

register({
    "hold_waiting": {
        "en": "{node} is held by {holder}; waiting until it lets go (at most {limit:g} s) ...\n{todo}",
        "ru": "{node} занят: его держит {holder}; ждём, пока тот его отпустит (не дольше {limit:g} с)…\n{todo}",
    },
    "hold_waiting_send": {
        "en": "{node} is held by {holder}; this task is sent when it lets go (at most {limit:g} s) ...\n{todo}",
        "ru": "{node} занят: его держит {holder}; задача уйдёт, когда тот его отпустит (не дольше {limit:g} с)…\n"
              "{todo}",
    },
    "hold_holder": {
        "en": "the notebook {notebook}",
        "ru": "ноутбук {notebook}",
    },
    "hold_holder_kernel": {
        "en": "a notebook whose kernel runs in {folder} (process {pid})",
        "ru": "ноутбук, ядро которого работает в папке {folder} (процесс {pid})",
    },
    "hold_holder_process": {
        "en": "the process {pid} ({program}, in {folder})",
        "ru": "процесс {pid} ({program}, в папке {folder})",
    },
    "hold_holder_elsewhere": {
        "en": "a process on {host} (process {pid})",
        "ru": "процесс {pid} на машине {host}",
    },
    "hold_todo_cell": {
        "en": "Its cell [{cell}] holds {node} while it runs: this cell goes on by itself when that one ends. "
              "If that cell is stuck, interrupt it there (Kernel → Interrupt Kernel).",
        "ru": "Его ячейка [{cell}] держит {node}, пока выполняется: эта ячейка сама продолжит работу, когда та "
              "закончится. Если та ячейка зависла, прервите её там (Kernel → Interrupt Kernel).",
    },
    "hold_todo_kernel": {
        "en": "Its %%playground (cell [{cell}]) holds {node} until its kernel stops. If you are done with that "
              "notebook, shut its kernel down (Kernel → Shut Down Kernel, or the Running tab on the left): "
              "this cell then goes on by itself.",
        "ru": "Его %%playground (ячейка [{cell}]) держит {node}, пока работает его ядро. Если вы закончили с тем "
              "ноутбуком, остановите его ядро (Kernel → Shut Down Kernel или вкладка Running слева): "
              "тогда эта ячейка сама продолжит работу.",
    },
    "hold_todo_workers": {
        "en": "Its cell [{cell}] started {node} for its lesson and holds it until that notebook stops it, or its "
              "kernel stops. If you are done with that notebook, shut its kernel down (Kernel → Shut Down Kernel, "
              "or the Running tab on the left): this cell then goes on by itself.",
        "ru": "Его ячейка [{cell}] запустила {node} для своего урока и держит его, пока тот ноутбук его не остановит "
              "или пока не остановится его ядро. Если вы закончили с тем ноутбуком, остановите его ядро "
              "(Kernel → Shut Down Kernel или вкладка Running слева): тогда эта ячейка сама продолжит работу.",
    },
    "hold_todo_process": {
        "en": "This cell goes on by itself as soon as it lets {node} go.",
        "ru": "Эта ячейка сама продолжит работу, как только тот отпустит {node}.",
    },
    "hold_fix_cell": {
        "en": "Let its cell [{cell}] end, or interrupt it there (Kernel → Interrupt Kernel)",
        "ru": "Дайте его ячейке [{cell}] закончиться или прервите её там (Kernel → Interrupt Kernel)",
    },
    "hold_fix_kernel": {
        "en": "Shut that notebook's kernel down (Kernel → Shut Down Kernel, or the Running tab on the left)",
        "ru": "Остановите ядро того ноутбука (Kernel → Shut Down Kernel или вкладка Running слева)",
    },
    "hold_fix_process": {
        "en": "Let that process end, or stop it",
        "ru": "Дождитесь, пока тот процесс завершится, или остановите его",
    },
    "hold_busy": {
        "en": "{node} is still busy with tasks sent before ({tasks}); waiting until it is idle "
              "(at most {limit:g} s) ...\nA task you no longer need stops with app.control.revoke(its id, "
              "terminate=True) (lesson 13).",
        "ru": "{node} ещё занят задачами, отправленными раньше ({tasks}); ждём, пока он освободится "
              "(не дольше {limit:g} с)…\nНенужную задачу останавливает app.control.revoke(её id, terminate=True) "
              "(урок 13).",
    },
    "hold_busy_running": {"en": "running: {calls}", "ru": "выполняет: {calls}"},
    "hold_busy_queued": {"en": "waiting in its queues: {count}", "ru": "ждут в его очередях: {count}"},
    "hold_waited": {
        "en": "(waited {seconds:g} s for {node} to be free{because})",
        "ru": "(ждали, пока освободится {node}: {seconds:g} с{because})",
    },
    "hold_because_held": {"en": "; {holder} held it", "ru": "; его держал {holder}"},
    "hold_because_busy": {"en": "; it was busy ({tasks})", "ru": "; он был занят ({tasks})"},
    "hold_timeout": {
        "en": "{node} stayed held by {holder} for {seconds:g} s. {fix}, then run this cell again.",
        "ru": "{node} уже {seconds:g} с занят: его держит {holder}. {fix}, затем выполните эту ячейку снова.",
    },
    "hold_interrupted_waiting": {
        "en": "The cell was waiting for {node} to be free; this notebook does not hold it. Run the cell again to go on "
              "(it waits again while {node} is held).",
        "ru": "Ячейка ждала, пока освободится {node}; этот ноутбук его не держит. Выполните ячейку снова, чтобы "
              "продолжить (она снова подождёт, если {node} занят).",
    },
    "hold_interrupted_sending": {
        "en": "The cell was waiting to send a task to {node}, which is held: that task was not sent.",
        "ru": "Ячейка ждала, чтобы отправить задачу на занятый {node}: эта задача не отправлена.",
    },
    "hold_interrupted_released": {
        "en": "This notebook has let {node} go (its hold ended with the cell): other notebooks may use it again.",
        "ru": "Этот ноутбук отпустил {node} (удержание закончилось вместе с ячейкой): другие ноутбуки снова могут "
              "им пользоваться.",
    },
    "hold_busy_timeout": {
        "en": "{node} did not become idle within {seconds:g} s: tasks sent earlier are still waiting or running. "
              "See them with app.control.inspect().active(), or purge the queue (lesson 03), then run this cell again.",
        "ru": "{node} не освободился за {seconds:g} с: задачи, отправленные раньше, ещё ждут или выполняются. "
              "Посмотрите на них через app.control.inspect().active() или очистите очередь (урок 03) и выполните "
              "эту ячейку снова.",
    },
})

_in_worker = False  # set in a worker's processes: they never wait for a hold
_held = {}  # node -> (depth, the Lock, its renewing thread's stop event): this process's holds
_held_lock = threading.Lock()


@signals.worker_init.connect
@signals.beat_init.connect  # celery beat sends for a notebook (lesson 16): it never waits for that notebook's holds
def _mark_worker(**_):
    global _in_worker
    _in_worker = True


def _value(until="cell"):
    """Who holds, as the hold's value: ``token|host:pid|{json}``. The token is this kernel's journal key; the JSON
    says what a waiting notebook tells its learner: the notebook (where Jupyter names it), the cell that took the
    hold (the number Jupyter shows at the running cell: IPython stores a cell's input before it runs it), the
    folder and program, and ``until``: "cell" (the hold ends with the cell), "kernel" (lesson 10's %%playground:
    it ends when the kernel stops) or "workers" (a lesson's own workers: it ends when the notebook stops them, or
    its kernel stops)."""
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    history = getattr(getattr(shell, "history_manager", None), "input_hist_parsed", None)
    about = {"notebook": os.environ.get("JPY_SESSION_NAME", ""), "kernel": shell is not None,
             "cell": len(history) - 1 if history else None, "folder": str(Path.cwd()),
             "program": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", "until": until}
    return f"{journaling.KEY}|{socket.gethostname()}:{os.getpid()}|{json.dumps(about)}"


def _holder(value):
    """What a hold's value says of its holder: host, pid and what :func:`_value` recorded (a value of an older
    course, ``token|host:pid|notebook``, gives the notebook alone)."""
    parts = value.split("|", 2)
    host, _, pid = parts[1].rpartition(":") if len(parts) == 3 else ("", "", "")
    about = {}
    if len(parts) == 3:
        try:
            about = json.loads(parts[2])
        except ValueError:
            about = {"notebook": parts[2]}
    return {"host": host, "pid": pid, **(about if isinstance(about, dict) else {})}


def _short(path):
    """A notebook's path as a learner knows it: its language folder and file name (en/10_your_own_task.ipynb)."""
    return "/".join(Path(path).parts[-2:])


def _holder_text(holder):
    """Who holds, in the learner's language: the notebook, else the kernel's folder, else the process."""
    pid, folder = holder.get("pid") or "?", _short(holder.get("folder") or "?")
    if holder.get("notebook"):
        return say("hold_holder", notebook=_short(holder["notebook"]))
    if holder.get("host") and holder["host"] != socket.gethostname():
        return say("hold_holder_elsewhere", host=holder["host"], pid=pid)
    if holder.get("kernel"):
        return say("hold_holder_kernel", folder=folder, pid=pid)
    if holder.get("program"):
        return say("hold_holder_process", pid=pid, program=holder["program"], folder=folder)
    return say("hold_holder_elsewhere", host=holder.get("host") or "?", pid=pid)


def _kind(holder):
    """How the hold ends: with a cell, a kernel (%%playground), a lesson's workers (stopped, or with the kernel),
    or a process that is not a notebook."""
    until = holder.get("until")
    if until in ("kernel", "workers"):
        return until
    return "cell" if holder.get("cell") is not None else "process"


def _todo_text(holder, node):
    """What the learner can do about that hold, said while this cell waits."""
    return say("hold_todo_" + _kind(holder), node=node, cell=holder.get("cell") or "?")


def _fix_text(holder):
    """What the learner can do once this cell has given up waiting."""
    kind = _kind(holder)
    return say("hold_fix_" + ("kernel" if kind == "workers" else kind), cell=holder.get("cell") or "?")


def _holder_gone(value):
    """Is the holder a process of this machine that no longer runs (a kernel killed or stopped)? Its hold
    would expire within TTL_MS anyway; a process of another machine or container is left to that."""
    holder = _holder(value)
    return holder["host"] == socket.gethostname() and holder["pid"].isdigit() and not process_alive(holder["pid"])


def _lock(client, node):
    return Lock(client, KEY_PREFIX + node, timeout=TTL_MS / 1000, thread_local=False)


def held_here(node):
    return node in _held


def _other_holder(client, node):
    """The value of another notebook's hold on ``node``, or None (a dead holder's hold is taken away)."""
    value = client.get(KEY_PREFIX + node)
    if value is None:
        return None
    value = value.decode() if isinstance(value, bytes) else value
    if value.split("|", 1)[0] == journaling.KEY:
        return None
    if _holder_gone(value):
        try:
            _lock(client, node).do_release(value)  # only if it is still that hold
        except LockError:
            pass  # it changed hands meanwhile
        return None
    return value


def _wait_free(client, node, notice, why, take=None, until="cell"):
    """Wait (bounded) until no other notebook holds ``node``, saying so in ``notice``; with ``take`` (a Lock),
    until this notebook holds it. Returns why it waited (who held the worker), or "" if it did not."""
    other = shown = None

    def free():
        nonlocal other, shown
        if take is not None and take.acquire(blocking=False, token=_value(until)):
            return True
        other = _other_holder(client, node)
        if other is None:
            return take is None
        if shown is None:  # the first notice says who holds and what to do: a learner need not wait to know
            holder = _holder(other)
            shown = say("hold_because_held", holder=_holder_text(holder))
            notice.show(say(why, node=node, holder=_holder_text(holder), todo=_todo_text(holder, node),
                            limit=WAIT_LIMIT))
        return False

    if not wait_until(free, WAIT_LIMIT, every=POLL):
        holder = _holder(other or "")
        raise SetupError(say("hold_timeout", node=node, holder=_holder_text(holder), fix=_fix_text(holder),
                             seconds=WAIT_LIMIT))
    return shown or ""


def _renew(lock, stop):
    while not stop.wait(RENEW_EVERY):
        try:
            lock.reacquire()
        except RedisError:
            return  # the broker is gone (the hold with it), or the hold is no longer ours


def queued(app, queues):
    """How many messages wait in ``queues`` (every priority level)."""
    total = 0
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        redis = conn.transport.driver_type == "redis"
        for queue in queues:
            try:
                total += channel.queue_declare(queue, passive=not redis).message_count
            except conn.channel_errors:
                return 0  # no such queue yet: nothing waits in it
    return total


def _active(app, worker):
    """The tasks ``worker`` runs now (``inspect().active()``)."""
    with app.connection_for_write() as conn:  # a new connection: a pooled one may predate a broker restart
        active = app.control.inspect(destination=[worker.node], timeout=1.0, connection=conn).active() or {}
    return active.get(worker.node) or []


def _idle(app, worker):
    """Nothing waits for or runs on ``worker``, and its pool can start at once as many tasks as it has processes
    (``course_idle``, course_tasks/machinery/control.py)."""
    if queued(app, worker.queues):
        return False
    with app.connection_for_write() as conn:  # a new connection: a pooled one may predate a broker restart
        replies = app.control.broadcast("course_idle", destination=[worker.node], reply=True, timeout=1.0,
                                        connection=conn) or []
    return all(reply.get(worker.node, {}).get("idle", True) for reply in replies)  # no answer: nothing runs there


def _busy(app, worker):
    """What keeps ``worker`` busy, said: the calls it runs (with their ids) and how many messages wait for it."""
    running = [call_text({"task": t["name"].rsplit(".", 1)[-1], "args": t.get("args") or [],
                          "kwargs": t.get("kwargs") or {}}) + f" id={t['id']}" for t in _active(app, worker)]
    waiting = queued(app, worker.queues)
    tasks = [say("hold_busy_running", calls=", ".join(running))] if running else []
    return "; ".join(tasks + ([say("hold_busy_queued", count=waiting)] if waiting else []))


def _wait_idle(app, worker, notice):
    """Wait (bounded) until nothing of anybody else waits for or runs on ``worker``; a wait longer than BUSY_SILENT
    is said, with the tasks that keep the worker busy (a task sent by an earlier lesson's cell, say). Returns why it
    waited (those tasks), or "" if it did not say so."""
    if _idle(app, worker) or wait_until(lambda: _idle(app, worker), BUSY_SILENT, every=POLL):
        return ""  # a short wait for this notebook's own tasks: no line
    tasks = _busy(app, worker)
    if not tasks:  # no task of anybody: it has just become idle, or its pool is replacing a process (lesson 13)
        wait_until(lambda: _idle(app, worker), POOL_SETTLE, every=POLL)
        return ""  # a pool still not ready after that does not keep the notebook waiting
    notice.show(say("hold_busy", node=worker.node, tasks=tasks, limit=WAIT_LIMIT))
    if not wait_until(lambda: _idle(app, worker), WAIT_LIMIT - BUSY_SILENT, every=POLL):
        raise SetupError(say("hold_busy_timeout", node=worker.node, seconds=WAIT_LIMIT))
    return say("hold_because_busy", tasks=tasks)


def _said_waited(notice, node, started, because):
    """Say how long this notebook waited for ``node`` and ``because`` of what (only if it said it waits): the line
    stays in the notebook, so that a learner can tell afterwards what kept the cell waiting."""
    if notice.handle:
        notice.update(say("hold_waited", node=node, seconds=round(time.monotonic() - started, 1), because=because))


@contextmanager
def exclusive(role="main", idle=True, until="cell"):
    """Hold the worker of ``role`` ("main", "priority", "play", "delivery", "rabbitmq") for this notebook inside
    the ``with`` block. ``idle=False``: do not wait for the worker to be idle first (a helper that kills the
    worker running this notebook's own task, course_tasks/faults.py). ``until``: how long the block may last, which
    another notebook waiting for the worker is told: "cell" (the cell that entered it), "kernel" (until the kernel
    stops: lesson 10's %%playground), "workers" (a lesson's own workers: until it stops them).

    The first one of a kernel with no setup running starts it (machinery/autostart.py), as check_setup() does."""
    worker = settings.roles()[role]
    node = worker.label  # a worker's node name, celery beat (beat1)'s label
    with _held_lock:
        nested = node in _held
        if nested:  # already ours (paused() inside exclusive(), say)
            depth, lock, stop = _held[node]
            _held[node] = (depth + 1, lock, stop)
    if nested:
        try:
            yield
        finally:
            with _held_lock:
                depth, lock, stop = _held[node]
                _held[node] = (depth - 1, lock, stop)
        return

    autostart.ensure_setup()
    app = app_for(role)
    client = app_for("main").backend.client  # holds live in the course's Redis, whatever the broker
    lock, notice, started = _lock(client, node), Notice(), time.monotonic()
    stop = threading.Event()
    try:
        because = _wait_free(client, node, notice, "hold_waiting", take=lock, until=until)
        threading.Thread(target=_renew, args=(lock, stop), daemon=True).start()
        with _held_lock:
            _held[node] = (1, lock, stop)
    except BaseException as error:  # an interrupt (KeyboardInterrupt) just after the hold was taken: let it go now
        stop.set()
        if _release(lock):
            tracebacks.note(error, say("hold_interrupted_released", node=node))
        raise
    try:
        if idle:
            because += _wait_idle(app, worker, notice)
        _said_waited(notice, node, started, because)
        yield
    except KeyboardInterrupt as interrupt:  # said after the interrupt, once the finally below has let the worker go
        tracebacks.note(interrupt, say("hold_interrupted_released", node=node))
        raise
    finally:
        with _held_lock:
            del _held[node]
        stop.set()
        _release(lock)


def _release(lock):
    """Let the hold ``lock`` go, if this notebook has it; whether it had it."""
    try:
        lock.release()
    except (LockError, RedisError):
        return False  # not taken, the broker is gone, or the hold expired: nothing to release
    return True


@tracebacks.on_interrupt(_wait_free)
def _interrupted_waiting(frame):
    node = frame.f_locals.get("node")
    return say("hold_interrupted_waiting" if frame.f_locals.get("take") is not None else "hold_interrupted_sending",
               node=node)


def _node_of_queue(queue):
    for worker in settings.worker_roles().values():
        if queue in worker.queues:
            return worker.node
    return None


@signals.before_task_publish.connect
def _wait_for_holds(routing_key=None, **_):
    """A notebook sending to a worker that another notebook holds waits until that hold ends."""
    if _in_worker:
        return  # sent by a worker (a chain's next step, a retry): never held back
    node = _node_of_queue(routing_key)
    if node is None or held_here(node):
        return
    notice, started = Notice(), time.monotonic()
    try:
        client = app_for("main").backend.client
        if client.exists(KEY_PREFIX + node):
            because = _wait_free(client, node, notice, "hold_waiting_send")
            _said_waited(notice, node, started, because)
    except RedisError:
        pass  # no Redis: sending fails with its own, clearer error
