"""Lesson 19, operating workers: tasks that compute, leak, or wait for a signal, and what the lesson measures.

The tasks are the course's (the main app includes this module), so every course worker runs them, the lesson's own
workers included (``course_tasks/lesson_workers.py``). The helpers read what the workers did from the journal (each
entry knows its process id), from ``inspect()`` and from the result backend's keys.
"""
import math
import resource
import sys
import time
import uuid

from . import journal, settings
from .celery import app
from .errors import SetupError
from .exclusive import queued as queued_in
from .i18n import register, say
from .waiting import wait_until

SPIN = 8_000_000  # spin(SPIN): about a quarter of a second of one core here; pure Python, so it holds the GIL
SPIN_SECONDS = 0.25
GATE_TIMEOUT = 30.0  # a task waiting for its gate gives up after this (a notebook that never opened it)
SETTLE = 0.3  # running_and_reserved(): the counts must stay the same this long
MIB = 1024 * 1024

register({
    "ops_not_settled": {
        "en": "{node} did not settle within {seconds:g} s: last seen {running} running, {reserved} reserved.",
        "ru": "{node} не пришёл в устойчивое состояние за {seconds:g} с: последний раз задач выполнялось "
              "{running}, зарезервировано {reserved}.",
    },
    "ops_not_ran": {
        "en": "{missing} of the tasks did not run within {seconds:g} s.",
        "ru": "Не выполнились за {seconds:g} с задач: {missing}.",
    },
    "ops_not_expired": {
        "en": "{left} result keys were still there {seconds:g} s later.",
        "ru": "Через {seconds:g} с ещё оставалось ключей результатов: {left}.",
    },
})

_kept = []  # what leak() keeps: memory that this process never gives back


@app.task
def spin(n):
    """Count to ``n`` in pure Python (CPU work that holds the GIL); the CPU seconds this thread used."""
    started = time.thread_time()
    total = 0
    for i in range(n):
        total += i
    return round(time.thread_time() - started, 3)


def peak_mib():
    """The most resident memory this process has had, in MiB (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (MIB if sys.platform == "darwin" else 1024)


@app.task
def leak(mib):
    """Keep ``mib`` MiB more for ever, as a leak does; the process's peak memory in MiB."""
    _kept.append(bytearray(mib * MIB))  # filled with zeros: the memory is really used
    return peak_mib()


@app.task
def spike(mib):
    """Use ``mib`` MiB for a moment and give it back before returning; the process's peak memory in MiB."""
    block = bytearray(mib * MIB)
    del block
    return peak_mib()


@app.task
def blocked(gate):
    """Wait until the notebook opens ``gate`` (:func:`open_gate`): a task that runs exactly as long as wanted."""
    client = app.backend.client
    if not wait_until(lambda: client.exists(gate), GATE_TIMEOUT, every=0.02):
        raise TimeoutError(f"{gate} was never opened")
    return "done"


def new_gate():
    """A closed gate for :func:`blocked` tasks."""
    return f"course:gate:{uuid.uuid4().hex}"


def open_gate(gate):
    app.backend.client.set(gate, 1, ex=60)


def entries(results):
    """The journal entries of ``results`` (AsyncResults, or a GroupResult), waiting for each to end first."""
    results = list(getattr(results, "results", results))
    for result in results:
        result.get(timeout=60, propagate=False)
    ids = {result.id for result in results}
    return [entry for entry in journal.entries() if entry["id"] in ids]


def at_once(results):
    """The most tasks of ``results`` that ran at the same moment."""
    return journal.max_parallel(entries(results))


def processes(results):
    """How many processes ran ``results``."""
    return len({entry["pid"] for entry in entries(results)})


def cores_busy(results):
    """CPU seconds the tasks of ``results`` (spins) used, divided by the time from the first start to the last end:
    about how many cores were busy at once."""
    found = entries(results)
    span = max(e["finished"] for e in found) - min(e["started"] for e in found)
    return sum(result.get(timeout=60) for result in getattr(results, "results", results)) / span


def one_by_one(signature, count, role):
    """Send ``count`` copies of ``signature`` to the worker of ``role``, each after the one before has ended; the
    processes that ran them as letters: ``"A A A B B B C"`` (a new letter for each new process)."""
    worker = settings.roles()[role]
    letters, names = [], {}
    for _ in range(count):
        result = signature.clone().apply_async(queue=worker.queues[0])
        result.get(timeout=30)
        (entry,) = entries([result])
        letters.append(names.setdefault(entry["pid"], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(names)]))
        # A pool process that exits after its task is replaced at the pool's next check, up to 5 s later: ask now.
        app.control.broadcast("course_check_pool", destination=[worker.node])
    return " ".join(letters)


def running_and_reserved(node, timeout=10.0):
    """``(running, reserved)``: how many tasks ``node`` runs, and how many messages it holds besides, once both
    counts have stayed the same for SETTLE s (``inspect().active()`` and ``.reserved()``)."""
    seen = {"counts": None, "since": 0.0}

    def settled():
        ask = app.control.inspect(destination=[node], timeout=1.0, limit=1)
        running = len((ask.active() or {}).get(node, []))
        reserved = len((ask.reserved() or {}).get(node, []))
        now = time.monotonic()
        if seen["counts"] != (running, reserved):
            seen.update(counts=(running, reserved), since=now)
        return running > 0 and now - seen["since"] >= SETTLE and seen["counts"]

    counts = wait_until(settled, timeout, every=0.05)
    if not counts:
        running, reserved = seen["counts"] or (0, 0)
        raise SetupError(say("ops_not_settled", node=node, seconds=timeout, running=running, reserved=reserved))
    return counts


def queued(queue):
    """How many messages wait in ``queue`` (every priority level)."""
    return queued_in(app, [queue])


def stored(results):
    """How many of ``results`` have a key in the result backend (``celery-task-meta-<id>``)."""
    backend = app.backend
    return sum(backend.client.exists(backend.get_key_for_task(result.id)) for result in results)


def ttl_at_most(results, seconds):
    """Does every key of ``results`` that still exists expire within ``seconds``?"""
    backend = app.backend
    return all(backend.client.ttl(backend.get_key_for_task(result.id)) <= seconds for result in results)


def wait_expired(results, timeout):
    """Wait until no key of ``results`` is left in the result backend."""
    if not wait_until(lambda: stored(results) == 0, timeout, every=0.1):
        raise SetupError(say("ops_not_expired", left=stored(results), seconds=timeout))


def ttl_minutes(result):
    """In how many minutes (rounded up) the key of ``result`` expires."""
    backend = app.backend
    return math.ceil(backend.client.ttl(backend.get_key_for_task(result.id)) / 60)


def wait_ran(results, timeout=30.0):
    """Wait until the journal has an entry for every task of ``results`` (tasks whose results are not stored)."""
    ids = {result.id for result in results}
    if not wait_until(lambda: ids <= {entry["id"] for entry in journal.entries()}, timeout, every=0.05):
        missing = len(ids - {entry["id"] for entry in journal.entries()})
        raise SetupError(say("ops_not_ran", missing=missing, seconds=timeout))
