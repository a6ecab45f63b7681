"""Lesson 17, progress and monitoring: a task that reports its progress step by step, Celery's events as a receiver
sees them, a queue's length, the line a task logger writes, and the same tasks in Flower, through its HTTP API
(the setup's Flower, started by the first notebook that asks: machinery/lesson_flower.py).

``crunch`` runs one step each time the notebook opens that step's gate, so the notebook reads its progress at exactly
the steps it wants (a real task would report after real work). ``watch@course`` (settings.LESSON_WORKERS) runs it,
with a log of its own (``.course/logs/lesson-watch.log``).
"""
import time
import urllib.error
import uuid

from celery.utils.log import get_task_logger

from .celery import app
from .errors import SetupError
from .exclusive import queued as queued_in
from .i18n import register, say
from .machinery import lesson_flower, lesson_procs
from .machinery.events import EventThread
from .machinery.notice import Notice
from .waiting import wait_until

logger = get_task_logger(__name__)

GATE_TIMEOUT = 30.0  # a step waiting for its gate gives up after this (a notebook that never opened it)
WAIT = 15.0  # the notebook waits this long at most for a state, the events of a chain, a log line
EVENTS_GRACE = 5.0  # once the chain is done, its events are waited for this long (one may never come)
BAR = 20  # characters of the progress bar
STEP_PAUSE = 0.3  # seconds between two steps of progress(): long enough to see each line come, as a real bar would
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
    "flower_listens": {"en": "Flower listens to the events; its web UI: {url}",
                       "ru": "Flower слушает события; его веб-интерфейс: {url}"},
    "flower_worker": {"en": "{node}: {state}", "ru": "{node}: {state}"},
    "flower_online": {"en": "online", "ru": "в сети"},
    "flower_offline": {"en": "offline", "ru": "не в сети"},
    "flower_unknown": {"en": "not seen", "ru": "Flower не видел"},
    "flower_unseen": {
        "en": "Flower has not seen {count} of them within {seconds:g} s: it knows only the events it received since "
              "it started, so a Flower started after them (the Setup cell run again) never hears of them. Run the "
              "cells above that start the worker and send the tasks again, then this one.",
        "ru": "Flower не увидел {count} из них за {seconds:g} с: он знает только события, полученные с его запуска, "
              "и Flower, запущенный после них (ячейка «Подготовка» выполнена снова), о них так и не узнает. "
              "Выполните снова ячейки выше, которые запускают воркер и отправляют задачи, а потом эту.",
    },
})
FLOWER_READY = ("SUCCESS", "FAILURE", "REVOKED")  # a task Flower will hear no more of


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
    """Open the steps of ``result`` (a crunch) one by one, :data:`STEP_PAUSE` apart; after each, print the bar its
    state's meta draws (flushed at once: the learner sees the bar grow line by line, not four lines at the end)."""
    for step in range(1, steps + 1):
        if step > 1:
            time.sleep(STEP_PAUSE)  # the point: progress that one sees happen
        open_step(gate, step)
        wait_state(result, "PROGRESS", done=step)
        print(result.state, bar(result.info), flush=True)
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
    """Print, for each task of the chain that ``send()`` sends, the events the receiver got (and those it missed);
    returns what ``send()`` returned (the AsyncResult of the chain's last task)."""
    sent = []
    for position, (_, kinds) in enumerate(events(lambda: sent.append(send()) or sent[0], count), 1):
        missed = [kind for kind in EVENTS if kind not in kinds]
        note = " " + say("monitoring_missed", kinds=", ".join(missed)) if missed else ""
        print(position, " -> ".join(kinds) + note)
    return sent[0]


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


# -- Flower -------------------------------------------------------------------------------------------------------
class FlowerView:
    """The setup's Flower as this notebook uses it: :meth:`get` asks its HTTP API (``/api/workers``, ``/api/tasks``,
    ``/api/task/info/<id>`` ...) with the course's user and password; ``url`` is its web UI. One that could not start
    says why at its first use."""

    def __init__(self, flower=None, error=None):
        self._flower, self._error = flower, error
        self.url = flower.url if flower else None

    def get(self, path, timeout=lesson_flower.ASK_TIMEOUT):
        """The JSON Flower answers to ``GET path``; None when it answers 404 (``/api/task/info/<id>`` of a task it
        has not seen)."""
        if self._error is not None:
            raise self._error
        try:
            return self._flower.get(path, timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise self._flower.down(exc, timeout) from None
        except (OSError, ValueError) as exc:
            raise self._flower.down(exc, timeout) from None


def flower(quiet=False):
    """The setup's Flower, started if none answers (it must listen before the tasks it is to show are sent): a
    :class:`FlowerView`. Prints where its web UI is; the user and password show as a notice (not a lesson's output).
    If it cannot start, says why (in the learner's language) and the cells that use it say so again; ``quiet``
    (a checker): raises that SetupError and prints nothing."""
    try:
        found = lesson_flower.ensure()
    except SetupError as exc:
        if quiet:
            raise
        print(exc)
        return FlowerView(error=exc)
    if not quiet:
        print(say("flower_listens", url=found.url))
        Notice().show(found.login())
    return FlowerView(found)


def flower_state(view, result, timeout=WAIT):
    """The state Flower reports for the task ``result`` (``/api/task/info/<id>``), once it reports one past RECEIVED
    or ``timeout`` has passed (None: it has not seen the task)."""
    seen = {}

    def past_received():
        seen["task"] = view.get(f"/api/task/info/{result.id}") or {}
        return seen["task"].get("state") not in (None, "PENDING", "RECEIVED")

    wait_until(past_received, timeout, every=0.1)
    return seen["task"].get("state")


def flower_workers(view, nodes, timeout=WAIT):
    """Print what Flower says of each worker of ``nodes`` (``/api/workers?status=true``: alive, from the heartbeats it
    received), once it says each is online or ``timeout`` has passed (a heartbeat comes every 2 s)."""
    status = {}

    def online():
        status.update(view.get("/api/workers?status=true"))
        return all(status.get(node) for node in nodes)

    wait_until(online, timeout, every=0.2)
    for node in nodes:
        state = "flower_unknown" if node not in status else "flower_online" if status[node] else "flower_offline"
        print(say("flower_worker", node=node, state=say(state)))
    _unseen(sum(node not in status for node in nodes), timeout)


def flower_tasks(view, results, timeout=WAIT):
    """The tasks of ``results`` as Flower knows them (``/api/tasks``, from the events it received): ``[{"name",
    "state", "worker", "result", ...}]`` in the order of ``results`` (None for a task it has not seen), once it knows
    each as finished or ``timeout`` has passed (an event comes a moment after the result is stored)."""
    ids = [result.id for result in results]
    tasks = {}

    def finished():
        tasks.clear()
        tasks.update(view.get("/api/tasks"))
        return all(tasks.get(i, {}).get("state") in FLOWER_READY for i in ids)

    wait_until(finished, timeout, every=0.2)
    return [tasks.get(i) for i in ids]


def show_flower_tasks(view, results):
    """Print Flower's row of each task of ``results``: name, state, worker, result (no id, no time)."""
    tasks = flower_tasks(view, results)
    rows = [(task["name"], task["state"], task["worker"], task["result"]) if task else ("?", say("flower_unknown"),
                                                                                          "", "")
            for task in tasks]
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(str(value).ljust(width) for value, width in zip(row, widths)), row[3])
    _unseen(tasks.count(None), WAIT)


def _unseen(count, seconds):
    """Say, as a notice (no part of the lesson's output), what to do when Flower has not seen ``count`` of them."""
    if count:
        Notice().show(say("flower_unseen", count=count, seconds=seconds))
