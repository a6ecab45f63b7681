"""Workers of a lesson's own (lessons 15, 19 and 20): another pool, other settings, started from the notebook while the
lesson needs them, each on a queue of its own (``settings.LESSON_WORKERS``).

    pools = lesson_workers("threads", "solo")     # starts both, prints one line each
    ...
    pools.stop()                                   # prints "stopped threads@course, solo@course"
    with lesson_workers("recycle") as recycle:     # the same, stopped when the block ends
        ...

Each is started by the course's command (``python -m course_tasks worker threads``: try it in a terminal) and is this
notebook's while it runs: ``exclusive(role)``, so a twin notebook waits for it. It stops at the end of the ``with``
block, at ``.stop()``, and with this notebook's kernel, however that ends (machinery/lesson_procs.py).
"""
import atexit
import contextlib
import signal

from . import settings
from .apps import app_for
from .errors import SetupError
from .exclusive import exclusive
from .i18n import register, say
from .machinery import lesson_procs
from .waiting import wait_until

EXIT_TIMEOUT = 15.0  # a signalled worker has exited within this (a soft shutdown's wait included)
RUNNING_TIMEOUT = 10.0

register({
    "lw_no_exit": {
        "en": "{node} was still running {seconds:g} s after the signal.",
        "ru": "{node} всё ещё работал через {seconds:g} с после сигнала.",
    },
    "lw_not_running": {
        "en": "These tasks did not start within {seconds:g} s: {ids}",
        "ru": "Эти задачи не начались за {seconds:g} с: {ids}",
    },
})


class LessonWorkers:
    """The workers of one :func:`lesson_workers` call: stop them with ``.stop()`` or a ``with`` block."""

    def __init__(self, names, extra=(), env=None, fresh=True):
        self.names = list(names)
        self._holds = contextlib.ExitStack()
        try:
            for name in self.names:  # this notebook's until they stop; their queues are emptied first, so no waiting
                self._holds.enter_context(exclusive(name, idle=False, until="workers"))
            started = lesson_procs.start(self.names, extra=extra, env=env, fresh=fresh)
        except BaseException:
            self._holds.close()
            raise
        self.workers = [worker for worker, _ in started]
        self.owned = [worker for worker, new in started if new]  # a worker this notebook ran already stays
        _open.append(self)
        print("\n".join(worker.started_line() if new else say("lw_running", node=worker.node)
                        for worker, new in started))

    def stop(self):
        """Stop them (an idle worker at once; a busy one after a cold shutdown) and let a twin notebook have them."""
        if self in _open:
            _open.remove(self)
        try:
            stopped = lesson_procs.stop(self.owned)
        finally:
            self._holds.close()
        if stopped:
            print(say("lw_stopped", nodes=", ".join(stopped)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def signal(self, name, signum):
        """Send ``signum`` ("SIGTERM", "SIGQUIT" ...) to the main process of the worker ``name``, as ``kill PID`` or
        ``docker stop`` do (not to its pool processes)."""
        lesson_procs.signal_worker(name, getattr(signal, signum) if isinstance(signum, str) else signum)

    def wait_exit(self, name, timeout=EXIT_TIMEOUT):
        """Wait until the worker ``name`` has exited (after :meth:`signal`); its exit code."""
        code = lesson_procs.wait_exit(name, timeout)
        if code is None:
            raise SetupError(say("lw_no_exit", node=settings.roles()[name].label, seconds=timeout))
        return code

    def wait_running(self, results, timeout=RUNNING_TIMEOUT):
        """Wait until every task of ``results`` runs on one of these workers (``inspect().active()``)."""
        wait_running(results, [settings.roles()[name].node for name in self.names], timeout)


_open = []  # the LessonWorkers of this notebook not stopped yet


@atexit.register
def _stop_open():
    """At the notebook's end: stop what it still runs, quietly, and let its twin have them."""
    for workers in _open:
        try:
            lesson_procs.stop(workers.owned)
        finally:
            workers._holds.close()
    _open.clear()


def lesson_workers(*names, extra=(), env=None, fresh=True):
    """Start the workers of ``names`` ("slow", "fast", "one", "two", "threads", "solo", "prefetch", "recycle",
    "memory", "warm", "cold", "soft", "results", "db", "dbthreads", "dbspawn"), wait until each answers, print what
    runs; a :class:`LessonWorkers`.

    ``extra``: more arguments of their celery command (``("--prefetch-multiplier", "3")``: the last of two same
    options wins); ``env``: more environment variables; ``fresh=False``: keep what waits in their queues."""
    return LessonWorkers(names, extra=extra, env=env, fresh=fresh)


def wait_running(results, nodes, timeout=RUNNING_TIMEOUT):
    """Wait until every task of ``results`` runs on one of ``nodes`` (asked with ``inspect().active()``)."""
    ids = {result.id for result in results}
    app = app_for("main")

    def running():
        active = app.control.inspect(destination=list(nodes), timeout=0.5).active() or {}
        return ids <= {task["id"] for tasks in active.values() for task in tasks}

    if not wait_until(running, timeout, every=0.05):
        raise SetupError(say("lw_not_running", seconds=timeout, ids=", ".join(sorted(ids))))
