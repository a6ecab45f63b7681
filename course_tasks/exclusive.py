"""Lessons side by side: a cell that times or orders a worker holds it for its notebook while it does.

    with exclusive():            # worker@course, the main worker, is this notebook's until the block ends
        ...
    with exclusive("priority"):  # prio@course, the one-process worker of the priority lessons

Two notebooks may run at the same time against one setup (the English and the Russian twin of a lesson,
say). A measurement or an order is only true if nobody else's tasks run on that worker meanwhile, so:

- entering the block waits (saying so in the notebook) while another notebook holds the worker, then
  until the worker has nothing left to do (its queues empty, no task running);
- while the block runs, every other notebook that sends a task to that worker's queues waits
  (saying so) before sending, until the block ends.

The hold is redis-py's lock (``redis.lock.Lock``) on the key ``course:hold:<node>`` in the course's Redis. It
lives a few seconds unless this notebook renews it, so a notebook that dies releases it by itself (at once when
its process is gone from this machine). It concerns senders only: tasks that tasks send (the next step of a
chain) are never held back.
"""
import os
import socket
import threading
import time
from contextlib import contextmanager

from celery import signals
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from . import settings
from .apps import app_for
from .errors import SetupError
from .i18n import register, say
from .machinery import autostart, journaling
from .machinery.notice import Notice
from .machinery.run_state import process_alive
from .waiting import wait_until

KEY_PREFIX = "course:hold:"
TTL_MS = 5000  # a hold nobody renews (its notebook died) is gone after this
RENEW_EVERY = 1.0
WAIT_LIMIT = 120.0  # seconds a notebook waits for another before it gives up, saying why
POLL = 0.05
BUSY_SILENT = 2.0  # seconds of waiting for an idle worker before the notebook says so

register({
    "hold_waiting": {
        "en": "{node} is held by another notebook{notebook}; waiting until it lets go ...",
        "ru": "{node} занят другим ноутбуком{notebook}; ждём, пока тот его отпустит…",
    },
    "hold_waiting_send": {
        "en": "{node} is held by another notebook{notebook}; this task is sent when it lets go ...",
        "ru": "{node} занят другим ноутбуком{notebook}; задача уйдёт, когда тот его отпустит…",
    },
    "hold_busy": {
        "en": "{node} is still running or has queued tasks sent before; waiting until it is idle ...",
        "ru": "у {node} ещё есть задачи, отправленные раньше; ждём, пока он освободится…",
    },
    "hold_waited": {
        "en": "(waited {seconds:g} s for {node} to be free)",
        "ru": "(ждали, пока освободится {node}: {seconds:g} с)",
    },
    "hold_timeout": {
        "en": "{node} stayed held by another notebook{notebook} for {seconds:g} s. Let that notebook finish "
              "its cell (or stop its kernel: lesson 10's %%playground holds play@course until then), "
              "then run this cell again.",
        "ru": "{node} уже {seconds:g} с занят другим ноутбуком{notebook}. Дайте тому ноутбуку закончить ячейку "
              "(или остановите его ядро: %%playground из урока 10 держит play@course до тех пор) "
              "и выполните эту ячейку снова.",
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


def _value():
    """Who holds: this kernel (its journal key), its host and pid, and the notebook's name where Jupyter tells it."""
    return f"{journaling.KEY}|{socket.gethostname()}:{os.getpid()}|{os.environ.get('JPY_SESSION_NAME', '')}"


def _holder_name(value):
    """The notebook named in a hold's value, for messages (``token|host:pid|name``)."""
    name = value.split("|")[-1] if "|" in value else ""
    return f" ({name})" if name else ""


def _holder_gone(value):
    """Is the holder a process of this machine that no longer runs (a kernel killed or stopped)? Its hold
    would expire within TTL_MS anyway; a process of another machine or container is left to that."""
    parts = value.split("|")
    host, _, pid = parts[1].rpartition(":") if len(parts) == 3 else ("", "", "")
    return host == socket.gethostname() and pid.isdigit() and not process_alive(pid)


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


def _wait_free(client, node, notice, why, take=None):
    """Wait (bounded) until no other notebook holds ``node``, saying so in ``notice``; with ``take`` (a Lock),
    until this notebook holds it."""
    other = None

    def free():
        nonlocal other
        if take is not None and take.acquire(blocking=False, token=_value()):
            return True
        other = _other_holder(client, node)
        if other is None:
            return take is None
        notice.show(say(why, node=node, notebook=_holder_name(other)))
        return False

    if not wait_until(free, WAIT_LIMIT, every=POLL):
        raise SetupError(say("hold_timeout", node=node, notebook=_holder_name(other or ""), seconds=WAIT_LIMIT))


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


def _idle(app, worker):
    """Nothing waits for or runs on ``worker``."""
    if queued(app, worker.queues):
        return False
    with app.connection_for_write() as conn:  # a new connection: a pooled one may predate a broker restart
        active = app.control.inspect(destination=[worker.node], timeout=1.0, connection=conn).active() or {}
    return not active.get(worker.node)


def _wait_idle(app, worker, notice):
    """Wait (bounded) until nothing of anybody else waits for or runs on ``worker``."""
    if _idle(app, worker):
        return
    if not wait_until(lambda: _idle(app, worker), BUSY_SILENT, every=POLL):
        notice.show(say("hold_busy", node=worker.node))  # a short wait for this notebook's own tasks: no line
        if not wait_until(lambda: _idle(app, worker), WAIT_LIMIT - BUSY_SILENT, every=POLL):
            raise SetupError(say("hold_busy_timeout", node=worker.node, seconds=WAIT_LIMIT))


def _said_waited(notice, node, started):
    """Say how long this notebook waited for ``node`` (only if it waited)."""
    if notice.handle:
        notice.update(say("hold_waited", node=node, seconds=round(time.monotonic() - started, 1)))


@contextmanager
def exclusive(role="main", idle=True):
    """Hold the worker of ``role`` ("main", "priority", "play", "delivery", "rabbitmq") for this notebook inside
    the ``with`` block. ``idle=False``: do not wait for the worker to be idle first (a helper that kills the
    worker running this notebook's own task, course_tasks/faults.py).

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
    _wait_free(client, node, notice, "hold_waiting", take=lock)
    stop = threading.Event()
    threading.Thread(target=_renew, args=(lock, stop), daemon=True).start()
    with _held_lock:
        _held[node] = (1, lock, stop)
    try:
        if idle:
            _wait_idle(app, worker, notice)
        _said_waited(notice, node, started)
        yield
    finally:
        with _held_lock:
            del _held[node]
        stop.set()
        try:
            lock.release()
        except RedisError:
            pass  # the broker is gone, or the hold expired: nothing to release


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
            _wait_free(client, node, notice, "hold_waiting_send")
            _said_waited(notice, node, started)
    except RedisError:
        pass  # no Redis: sending fails with its own, clearer error
