"""The course's remote-control commands, carried out by a worker on itself. Every app lists this module in its
``include=`` (plumbing.CONTROL), so every course worker answers them:

- ``course_kill_worker`` (lesson 12, ``course_tasks.faults``): a SIGKILL of the worker's main process; it works the
  same when the worker runs locally and in a container (no process id crosses a container's border). A kill
  during a task is not a command: the task's own pool process carries it out (``kill_switch``);
- ``course_check_pool``: look for dead pool processes now (lesson 13 counts the replaced ones);
- ``course_idle``: whether the worker has nothing to do and every process of its pool can take a task at once
  (``course_tasks.exclusive`` waits for that before a notebook's block);
- ``course_worker_info``: an id of this worker process's start (a restarted worker answers with another one:
  ``course_tasks.workers.reload_worker``) and what the playground loaded (play@course);
- ``course_shutdown``: Celery's warm ``shutdown``, bounded: a worker whose warm shutdown has not ended after
  ``grace`` seconds (a task that never ends: running tasks finish first) SIGKILLs its pool processes and itself,
  and its supervisor starts it again (``reload_worker``).

Every course worker also imports ``lesson_procs`` from here, for its ``worker_init`` guard: a worker that a lesson
started dies with the notebook that started it.
"""
import os
import signal
import threading
import uuid

from celery.exceptions import WorkerShutdown
from celery.worker import state as worker_state
from celery.worker.control import control_command, inspect_command

from . import lesson_procs, loading

GUARD = lesson_procs  # connected to worker_init when imported: a lesson's worker dies with its notebook

BOOT = uuid.uuid4().hex  # new in every worker process


def _die(pid):
    if pid == 1:  # PID 1 of a container ignores SIGKILL sent from inside; exit as abruptly instead
        os._exit(137)
    os.kill(pid, signal.SIGKILL)


@control_command()
def course_kill_worker(state):
    """SIGKILL this worker's main process (its pool processes die with it)."""
    pid = os.getpid()
    threading.Timer(0.2, _die, (pid,)).start()  # after the reply has gone out
    return {"killed": pid}


def _check_pool_soon(state, delays=(0.1, 0.3, 1.0)):
    """The pool looks for exited processes when one's sentinel pipe closes, but the process may not be
    reapable yet at that instant; then its timer finds it within 5 s (AsynPool.timers). Look now instead."""
    consumer = state.consumer
    for delay in delays:
        consumer.hub.call_later(delay, consumer.pool.maintain_pool)


@control_command()
def course_check_pool(state):
    """Look for exited pool processes now and replace them (what the pool's 5 s timer does anyway)."""
    _check_pool_soon(state)
    return {"ok": "checking"}


@control_command(args=[("grace", float)], signature="[grace]")
def course_shutdown(state, grace=10.0):
    """A warm shutdown (as Celery's ``shutdown``) that ends within ``grace`` seconds: after that, this worker SIGKILLs
    its pool processes (a task that never ends dies with them) and itself."""
    pool = getattr(state.consumer, "pool", None)
    pids = list((pool.info or {}).get("processes", [])) if pool is not None else []

    def cut_short():
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass  # gone already
        _die(os.getpid())

    timer = threading.Timer(grace, cut_short)
    timer.daemon = True  # a warm shutdown that ends in time ends the process, and the timer with it
    timer.start()
    raise WorkerShutdown(0)


@inspect_command()
def course_idle(state, **kwargs):
    """Whether this worker has no task taken (running or reserved) and its pool can start as many at once as it has
    processes. A prefork pool finds a dead process (a time limit's kill, lesson 13) when it looks (every 5 s), and
    the process that replaces it takes jobs once it has said it is up; until then a group of four on four processes
    starts three at once and the fourth seconds later."""
    inner = getattr(state.consumer.pool, "_pool", None)
    if not hasattr(inner, "_waiting_to_start"):  # not prefork (solo, threads): nothing of the pool to wait for
        return {"idle": not worker_state.reserved_requests}
    processes = inner._pool
    whole = (len(processes) == inner._processes and all(process._is_alive() for process in processes)
             and not inner._waiting_to_start and len(inner._all_inqueues) == len(processes))
    if not whole:  # the waiting notebook asks again at its next look: one look now each time
        _check_pool_soon(state, delays=(0,))
    return {"idle": not worker_state.reserved_requests and whole and not inner._cache}


@inspect_command()
def course_worker_info(state, **kwargs):
    """This worker process's start id and, on play@course, what the playground loaded."""
    return {"boot": BOOT, **loading.report(state.app)}
