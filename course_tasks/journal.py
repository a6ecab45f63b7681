"""What the worker did, shown in the notebook: which task, which arguments, which worker and process, when.

A task's ``print`` lands in the worker's log, which a learner in Jupyter never sees. So every task
of the course writes one entry to a Redis list when it ends (before its result is stored, so an
entry is there as soon as ``.get()`` returns). Each notebook kernel has a journal of its own: the
client stamps a ``journal`` header on every message it sends, and a task that sends more (the
next link of a chain) passes its header on.
"""
import json
import time
import uuid

from celery import Task, current_task, signals
from celery.exceptions import Retry

from .i18n import register, say

HEADER = "journal"
KEY_PREFIX = "course:journal:"
KEEP_SECONDS = 24 * 3600


class JournaledTask(Task):
    """The base of every course task: runs the task, then records what happened in the sender's journal."""

    def __call__(self, *args, **kwargs):
        request = self.request
        journal = getattr(request, HEADER, None)
        if request.called_directly or not journal:
            return super().__call__(*args, **kwargs)
        started, state, outcome = time.time(), "SUCCESS", None
        try:
            outcome = super().__call__(*args, **kwargs)
            return outcome
        except Retry as exc:  # self.retry() or autoretry_for: this attempt ends, a later one follows (lesson 11)
            state, outcome = "RETRY", exc.exc if exc.exc is not None else exc  # as Celery stores it: the cause
            raise
        except BaseException as exc:
            state, outcome = "FAILURE", exc
            raise
        finally:
            if state == "SUCCESS":
                state, outcome = self._as_stored(outcome)
            self._record(journal, {
                "id": request.id,
                "task": self.name.rsplit(".", 1)[-1],
                "args": list(args),
                "kwargs": kwargs,
                "node": request.hostname,
                "process": _process_index(),
                "priority": (request.delivery_info or {}).get("priority"),
                "started": started,
                "finished": time.time(),
                "state": state,
                "result": shown(outcome),
            })

    def _as_stored(self, outcome):
        """``("SUCCESS", outcome)``, or ``("FAILURE", error)`` when the result backend cannot store ``outcome``
        (a set, an int over 4300 digits: JSON has no place for them): Celery then records the task as failed
        with that error, and the journal says the same."""
        if self.request.ignore_result or self.ignore_result:
            return "SUCCESS", outcome
        try:
            self.backend.encode(outcome)
        except Exception as exc:
            return "FAILURE", exc
        return "SUCCESS", outcome

    def _record(self, journal, entry):
        """Add ``entry`` to ``journal``. Never raises: the task's own result or error is what the learner sees.

        Arguments that JSON cannot hold are recorded as their ``repr``; a journal that cannot be written
        (its Redis gone) is said in the worker's log.
        """
        try:
            try:
                text = json.dumps(entry, default=shown)
            except ValueError:  # e.g. an int over Python's 4300-digit limit for int-to-str conversion
                text = json.dumps({**entry, "args": [shown(a) for a in entry["args"]],
                                   "kwargs": {k: shown(v) for k, v in entry["kwargs"].items()}})
            client = self.app.backend.client
            key = KEY_PREFIX + journal
            client.rpush(key, text)
            client.expire(key, KEEP_SECONDS)
        except Exception as exc:
            from celery.utils.log import get_task_logger

            get_task_logger(__name__).warning("journal: task %s not recorded (%s: %s)", entry["id"],
                                              type(exc).__name__, exc)


SHOWN_CHARS = 2000  # the longest repr a journal entry keeps


def shown(value):
    """``repr(value)`` as the journal keeps it: at most SHOWN_CHARS characters, and never an error.

    An int too long for Python's int-to-str limit (4300 digits) is described by its number of digits.
    """
    try:
        text = repr(value)
    except Exception as exc:
        if isinstance(value, int) and isinstance(exc, ValueError):
            text = f"<int of {_digits(value)} digits>"
        else:
            text = f"<{type(value).__name__}: repr() failed with {type(exc).__name__}>"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def _digits(n):
    """The number of decimal digits of the int ``n``, without converting it to str."""
    import math

    n = abs(n)
    exponent = math.log10(n)
    power = round(exponent)
    if abs(exponent - power) < 1e-9:  # next to a power of ten, where a float cannot tell: compare exactly
        return power + (1 if n >= 10 ** power else 0)
    return math.floor(exponent) + 1


def _process_index():
    """0, 1, 2 ... for the pool's child processes; 0 for a one-process pool."""
    from billiard.process import current_process

    return getattr(current_process(), "index", 0)


@signals.before_task_publish.connect
def _stamp_journal(headers=None, **_):
    """Stamp outgoing messages with this process's journal, or with the journal of the task sending them."""
    if headers is None or HEADER in headers:
        return
    task = current_task
    inherited = getattr(task.request, HEADER, None) if task and not task.request.called_directly else None
    headers[HEADER] = inherited or Journal.key


class Journal:
    """The journal of this notebook: every task it sent (directly or through a canvas), in the order they started."""

    key = uuid.uuid4().hex  # one per process: a notebook kernel

    def __init__(self, app=None):
        if app is None:
            from .celery import app
        self.app = app

    @property
    def _redis_key(self):
        return KEY_PREFIX + self.key

    def clear(self):
        """Forget everything recorded so far; start a fresh page."""
        self.app.backend.client.delete(self._redis_key)

    def entries(self):
        """The entries so far, as dicts, ordered by start time."""
        raw = self.app.backend.client.lrange(self._redis_key, 0, -1)
        return sorted((json.loads(item) for item in raw), key=lambda e: e["started"])

    def summary(self):
        """One deterministic paragraph: what ran, how many times, where, how many at once."""
        return summarize(self.entries())

    def show(self, order="time", priority=False, timings=False):
        """Print the journal as a table: ``order="time"`` (start order) or ``"task"`` (name, arguments);
        ``priority=True`` adds the priority each message carried, ``timings=True`` when each ran."""
        print(table(self.entries(), order=order, priority=priority, timings=timings))


def call_text(entry):
    """``add(2, 3)`` or ``t1(5, 15, message='The sum is')``: the call as a learner would write it."""
    parts = [repr(a) for a in entry["args"]] + [f"{k}={v!r}" for k, v in entry["kwargs"].items()]
    return f"{entry['task']}({', '.join(parts)})"


def max_parallel(entries):
    """The most tasks that were running at the same moment."""
    events = sorted([(e["started"], 1) for e in entries] + [(e["finished"], -1) for e in entries])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


register({
    "journal.empty": {"en": "(nothing recorded yet)", "ru": "(журнал пока пуст)"},
    "journal.tasks": {"en": "tasks run: {count} ({names})", "ru": "выполнено задач: {count} ({names})"},
    "journal.times": {"en": "{name} x{count}", "ru": "{name} ×{count}"},
    "journal.workers": {"en": "workers: {nodes}; processes used: {processes}",
                        "ru": "воркеры: {nodes}; задействовано процессов: {processes}"},
    "journal.worker": {"en": "worker: {nodes}; processes used: {processes}",
                       "ru": "воркер: {nodes}; задействовано процессов: {processes}"},
    "journal.parallel": {"en": "most at the same time: {parallel}", "ru": "одновременно не больше: {parallel}"},
    "journal.failed": {"en": "failed: {failed}", "ru": "завершились с ошибкой: {failed}"},
    "journal.header": {"en": "#|call|worker|priority|state|result|start|took",
                       "ru": "№|вызов|воркер|приоритет|состояние|результат|старт|длительность"},
    "journal.seconds": {"en": "{seconds:.1f} s", "ru": "{seconds:.1f} с"},
})


def summarize(entries, lang=None):
    """What ran, how many times, where, how many at once: a few lines in the notebook's language."""
    if not entries:
        return say("journal.empty", lang)
    counts = {}
    for e in entries:
        counts[e["task"]] = counts.get(e["task"], 0) + 1
    nodes = sorted({e["node"] for e in entries})
    processes = {(e["node"], e["process"]) for e in entries}
    failed = sum(e["state"] != "SUCCESS" for e in entries)
    names = ", ".join(say("journal.times", lang, name=name, count=n) for name, n in sorted(counts.items()))
    lines = [
        say("journal.tasks", lang, count=len(entries), names=names),
        say("journal.workers" if len(nodes) > 1 else "journal.worker", lang, nodes=", ".join(nodes),
            processes=len(processes)),
        say("journal.parallel", lang, parallel=max_parallel(entries)),
    ]
    if failed:
        lines.append(say("journal.failed", lang, failed=failed))
    return "\n".join(lines)


def table(entries, order="time", priority=False, timings=False, lang=None):
    """The entries as a text table, its header in the notebook's language (Celery's states as they are)."""
    if not entries:
        return say("journal.empty", lang)
    if order == "task":
        entries = sorted(entries, key=lambda e: (e["task"], json.dumps(e["args"]), json.dumps(e["kwargs"])))
    origin = min(e["started"] for e in entries)
    number, call, worker, priority_, state, result, start, took = say("journal.header", lang).split("|")
    header = [number, call, worker] + ([priority_] if priority else []) + [state, result]
    if timings:
        header += [start, took]
    rows = []
    for n, e in enumerate(entries, 1):
        row = [str(n), call_text(e), e["node"]] + ([str(e["priority"])] if priority else []) + [e["state"], e["result"]]
        if timings:
            row += [say("journal.seconds", lang, seconds=e["started"] - origin),
                    say("journal.seconds", lang, seconds=e["finished"] - e["started"])]
        rows.append(row)
    return text_table(header, rows)


def text_table(header, rows):
    """``header`` and ``rows`` (lists of strings) as aligned columns, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(header)] + [fmt(r) for r in rows])
