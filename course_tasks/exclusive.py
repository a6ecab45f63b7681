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

The hold is a key in the course's Redis (``course:hold:<node>``) that lives a few seconds unless this
notebook renews it, so a notebook that dies releases it by itself. It concerns senders only: tasks that
tasks send (the next step of a chain) are never held back.
"""
import importlib
import os
import socket
import threading
import time
from contextlib import contextmanager

from celery import signals

from . import settings
from .i18n import say
from .machinery.notice import Notice as _Notice  # the waiting line, left out of compared outputs
from .preflight import SetupError

KEY_PREFIX = "course:hold:"
TTL_MS = 5000  # a hold nobody renews (its notebook died) is gone after this
RENEW_EVERY = 1.0
WAIT_LIMIT = 120.0  # seconds a notebook waits for another before it gives up, saying why
POLL = 0.05
BUSY_SILENT = 2.0  # seconds of waiting for an idle worker before the notebook says so

_in_worker = False  # set in a worker's processes: they never wait for a hold


@signals.worker_init.connect
def _mark_worker(**_):
    global _in_worker
    _in_worker = True

_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"""


def _token():
    """Who holds: this kernel (its journal key), and the notebook's name where Jupyter tells it."""
    from .journal import Journal

    return Journal.key


def _holder_name(value):
    """The notebook named in a hold's value, for messages (``token|host:pid|name``)."""
    name = value.split("|")[-1] if "|" in value else ""
    return f" ({name})" if name else ""


def _value():
    return f"{_token()}|{socket.gethostname()}:{os.getpid()}|{os.environ.get('JPY_SESSION_NAME', '')}"


def _holder_gone(value):
    """Is the holder a process of this machine that no longer runs (a kernel killed or stopped)? Its hold
    would expire within TTL_MS anyway; a process of another machine or container is left to that."""
    parts = value.split("|")
    host, _, pid = parts[1].rpartition(":") if len(parts) == 3 else ("", "", "")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        pass
    return False


def _app_of(role):
    return importlib.import_module(settings.worker_roles()[role].app).app


class _Hold:
    """This process's holds: node -> (depth, renewing thread's stop event)."""

    lock = threading.Lock()
    held = {}


def held_here(node):
    return node in _Hold.held


def _other_holder(client, node):
    """The value of another notebook's hold on ``node``, or None."""
    value = client.get(KEY_PREFIX + node)
    if value is None:
        return None
    value = value.decode() if isinstance(value, bytes) else value
    if value.split("|", 1)[0] == _token():
        return None
    if _holder_gone(value):
        client.eval(_RELEASE, 1, KEY_PREFIX + node, value)  # only if it is still that hold
        return None
    return value


def _wait_free(client, node, notice, why):
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        other = _other_holder(client, node)
        if other is None:
            return
        notice.show(say(why, node=node, notebook=_holder_name(other)))
        if time.monotonic() > deadline:
            raise SetupError(say("hold_timeout", node=node, notebook=_holder_name(other), seconds=WAIT_LIMIT))
        time.sleep(POLL)


def _renew(client, key, value, stop):
    while not stop.wait(RENEW_EVERY):
        try:
            client.set(key, value, px=TTL_MS, xx=True)
        except Exception:
            pass  # the broker is gone: the hold goes with it


def _queued(app, queues):
    """How many messages wait in ``queues`` (every priority level)."""
    total = 0
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        redis = conn.transport.driver_type == "redis"
        for queue in queues:
            try:
                total += channel.queue_declare(queue, passive=not redis).message_count
            except Exception:
                return 0  # no such queue yet: nothing waits in it
    return total


def _wait_idle(app, worker, notice):
    """Wait (bounded) until nothing of anybody else waits for or runs on ``worker``."""
    started = time.monotonic()
    while True:
        if not _queued(app, worker.queues):
            with app.connection_for_write() as conn:  # a new connection: a pooled one may predate a broker restart
                active = app.control.inspect(destination=[worker.node], timeout=1.0, connection=conn).active() or {}
            if not active.get(worker.node):
                return
        waited = time.monotonic() - started
        if waited > BUSY_SILENT:  # a short wait for this notebook's own last tasks is not worth a line
            notice.show(say("hold_busy", node=worker.node))
        if waited > WAIT_LIMIT:
            raise SetupError(say("hold_busy_timeout", node=worker.node, seconds=WAIT_LIMIT))
        time.sleep(POLL)


@contextmanager
def exclusive(role="main", idle=True):
    """Hold the worker of ``role`` ("main", "priority", "play", "delivery", "rabbitmq") for this notebook inside
    the ``with`` block. ``idle=False``: do not wait for the worker to be idle first (a helper that kills the
    worker running this notebook's own task, course_tasks/faults.py)."""
    worker = settings.worker_roles()[role]
    node = worker.node
    with _Hold.lock:
        if node in _Hold.held:  # already ours (paused() inside exclusive(), say)
            depth, stop = _Hold.held[node]
            _Hold.held[node] = (depth + 1, stop)
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _Hold.lock:
                depth, stop = _Hold.held[node]
                _Hold.held[node] = (depth - 1, stop)
        return

    app = _app_of(role)
    client = _app_of("main").backend.client  # holds live in the course's Redis, whatever the broker
    key, value = KEY_PREFIX + node, _value()
    notice = _Notice()
    deadline = time.monotonic() + WAIT_LIMIT
    while not client.set(key, value, px=TTL_MS, nx=True):
        _wait_free(client, node, notice, "hold_waiting")
        if time.monotonic() > deadline:
            raise SetupError(say("hold_timeout", node=node, notebook="", seconds=WAIT_LIMIT))
    stop = threading.Event()
    threading.Thread(target=_renew, args=(client, key, value, stop), daemon=True).start()
    with _Hold.lock:
        _Hold.held[node] = (1, stop)
    try:
        if idle:
            _wait_idle(app, worker, notice)
        notice.done(node)
        yield
    finally:
        with _Hold.lock:
            del _Hold.held[node]
        stop.set()
        try:
            client.eval(_RELEASE, 1, key, value)
        except Exception:
            pass  # it expires by itself


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
    from .celery import app

    try:
        client = app.backend.client
        if client.exists(KEY_PREFIX + node):
            notice = _Notice()
            _wait_free(client, node, notice, "hold_waiting_send")
            notice.done(node)
    except SetupError:
        raise
    except Exception:
        pass  # no Redis: sending fails with its own, clearer error
