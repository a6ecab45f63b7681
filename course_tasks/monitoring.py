"""Lesson 17, progress and monitoring: a task that reports its progress step by step, Celery's events as a receiver
sees them, a queue's length, and the line a task logger writes.

``crunch`` runs one step each time the notebook opens that step's gate, so the notebook reads its progress at exactly
the steps it wants (a real task would report after real work). ``watch@course`` (settings.LESSON_WORKERS) runs it,
with a log of its own (``.course/logs/lesson-watch.log``).
"""
import uuid

from celery.utils.log import get_task_logger

from .celery import app
from .errors import SetupError
from .exclusive import queued as queued_in
from .i18n import register, say
from .machinery import lesson_procs
from .machinery.events import EventThread
from .waiting import wait_until

logger = get_task_logger(__name__)

GATE_TIMEOUT = 30.0  # a step waiting for its gate gives up after this (a notebook that never opened it)
WAIT = 15.0  # the notebook waits this long at most for a state, the events of a chain, a log line
EVENTS_GRACE = 5.0  # once the chain is done, its events are waited for this long (one may never come)
BAR = 20  # characters of the progress bar
EVENTS = ("task-sent", "task-received", "task-started", "task-succeeded")

register({
    "monitoring_no_state": {
        "en": "The task did not reach {wanted} within {seconds:g} s (last seen: {state} {info}).",
        "ru": "Задача не дошла до {wanted} за {seconds:g} с (последнее, что видно: {state} {info}).",
    },
    "monitoring_no_events": {
        "en": "Not every event came within {seconds:g} s; seen: {seen}",
        "ru": "Не все события пришли за {seconds:g} с; пришли: {seen}",
    },
    "monitoring_no_log": {
        "en": "No line of task {id} in {log} within {seconds:g} s.",
        "ru": "За {seconds:g} с в {log} не появилось строки задачи {id}.",
    },
    "monitoring_missed": {"en": "(missed: {kinds})", "ru": "(не пришло: {kinds})"},
    "monitoring_gauge": {"en": "{queue}: {bar} {count} waiting", "ru": "{queue}: {bar} ждут {count}"},
})


@app.task(bind=True, track_started=True)
def crunch(self, steps, gate):
    """``steps`` steps, each once the notebook opens its gate (:func:`open_step`); after each, the state PROGRESS
    with ``{"done": n, "total": steps}``; it returns once the gate "end" opens too."""
    return _steps(self, steps, gate)


@app.task(bind=True)
def crunch_untracked(self, steps, gate):
    """:func:`crunch` without ``track_started`` (exercise 17.1)."""
    return _steps(self, steps, gate)


def _steps(self, steps, gate):
    for done in range(1, steps + 1):
        _wait_gate(f"{gate}:{done}")
        meta = {"done": done, "total": steps}
        self.update_state(state="PROGRESS", meta=meta)
        logger.info("PROGRESS %s", meta)
    _wait_gate(f"{gate}:end")  # the notebook reads the last PROGRESS before the task ends
    return {"done": steps, "total": steps}


def _wait_gate(key):
    client = app.backend.client
    if not wait_until(lambda: client.exists(key), GATE_TIMEOUT, every=0.02):
        raise TimeoutError(f"{key} was never opened")


def new_gate():
    return f"course:gate:{uuid.uuid4().hex}"


def open_step(gate, step):
    app.backend.client.set(f"{gate}:{step}", 1, ex=60)


def open_all(gate, steps):
    for step in [*range(1, steps + 1), "end"]:
        open_step(gate, step)


def wait_state(result, state, done=None, timeout=WAIT):
    """Wait until ``result`` is in ``state`` (and, for PROGRESS, has done ``done`` steps)."""
    def there():
        if result.state != state:
            return False
        return done is None or (isinstance(result.info, dict) and result.info.get("done") == done)

    if not wait_until(there, timeout, every=0.02):
        raise SetupError(say("monitoring_no_state", wanted=state, seconds=timeout, state=result.state,
                             info=result.info))


def bar(info):
    """``[########------------]  2/5`` for the meta ``{"done": 2, "total": 5}``."""
    done, total = info["done"], info["total"]
    filled = round(BAR * done / total)
    return f"[{'#' * filled}{'-' * (BAR - filled)}] {done:>2}/{total}"


def progress(result, gate, steps):
    """Open the steps of ``result`` (a crunch) one by one; after each, print the bar its state's meta draws."""
    for step in range(1, steps + 1):
        open_step(gate, step)
        wait_state(result, "PROGRESS", done=step)
        print(result.state, bar(result.info))
    open_step(gate, "end")


def queued(queue):
    return queued_in(app, [queue])


def gauge(queue):
    """Print ``queue``'s length as a bar: one ``#`` per waiting message."""
    count = queued(queue)
    print(say("monitoring_gauge", queue=queue, bar="#" * count or "-", count=count))


class _Seen:
    """Every event of the tasks ``ids`` kept in :attr:`seen` (``{task id: [event types]}``), received on an
    :class:`~course_tasks.machinery.events.EventThread` (the course's one event receiver on a thread)."""

    def __init__(self):
        self.seen, self.ids = {}, set()
        self.listener = EventThread(app, self._on_event, timeout=WAIT)

    def _on_event(self, event):
        if event["type"] in EVENTS and event.get("uuid"):
            self.seen.setdefault(event["uuid"], []).append(event["type"])

    def complete(self):
        return bool(self.ids) and all(set(EVENTS) <= set(self.seen.get(i, ())) for i in self.ids)


def events(send, count, timeout=WAIT):
    """Start a receiver, then call ``send()`` (it returns the AsyncResult of the last task of a chain of ``count``
    tasks); ``[(task id, the event types it had, in Celery's order)]``, first task first, once each has had all four
    or EVENTS_GRACE has passed after the chain's end (events are sent once, unacknowledged: one can be missed)."""
    receiver = _Seen()
    if not receiver.listener.listening(timeout):  # a first event has come: it listens for real (EventThread)
        receiver.listener.stop()
        raise SetupError(say("monitoring_no_events", seconds=timeout, seen=receiver.listener.error or {}))
    try:
        last = send()
        chain, node = [], last
        while node is not None:
            chain.insert(0, node)
            node = node.parent
        chain = chain[-count:]
        receiver.ids.update(result.id for result in chain)
        for result in chain:
            result.get(timeout=timeout)
        wait_until(receiver.complete, EVENTS_GRACE, every=0.05)
    finally:
        receiver.listener.stop()
    return [(result.id, [kind for kind in EVENTS if kind in receiver.seen.get(result.id, ())]) for result in chain]


def show_events(send, count):
    """Print, for each task of the chain that ``send()`` sends, the events the receiver got (and those it missed)."""
    for position, (_, kinds) in enumerate(events(send, count), 1):
        missed = [kind for kind in EVENTS if kind not in kinds]
        note = " " + say("monitoring_missed", kinds=", ".join(missed)) if missed else ""
        print(position, " -> ".join(kinds) + note)


def log_lines(result, role="watch", count=1, timeout=WAIT):
    """The lines of ``role``'s log (this run of it) that the task ``result`` wrote with its task logger, each from its
    level on, the id as ``<id>``: ``INFO/ForkPoolWorker-1] course_tasks.monitoring.crunch[<id>]: PROGRESS {...}``."""
    worker = lesson_procs.RUNNING[role]

    def found():
        lines = [line for line in worker.service.log_since().splitlines() if f"[{result.id}]: " in line]
        return lines if len(lines) >= count else None

    lines = wait_until(found, timeout, every=0.05)
    if not lines:
        raise SetupError(say("monitoring_no_log", id=result.id, log=worker.service.log_path, seconds=timeout))
    return [line.split(": ", 1)[-1].replace(result.id, "<id>") for line in lines]


def show_log(result, role="watch"):
    """Print the task logger's lines of ``result`` (a finished crunch: one line per step)."""
    for line in log_lines(result, role, count=result.get(timeout=WAIT)["total"]):
        print(line)
