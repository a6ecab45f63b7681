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
        except BaseException as exc:
            state, outcome = "FAILURE", exc
            raise
        finally:
            entry = {
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
                "result": repr(outcome),
            }
            client = self.app.backend.client
            key = KEY_PREFIX + journal
            client.rpush(key, json.dumps(entry, default=repr))
            client.expire(key, KEEP_SECONDS)


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


def summarize(entries):
    if not entries:
        return "(nothing recorded yet)"
    counts = {}
    for e in entries:
        counts[e["task"]] = counts.get(e["task"], 0) + 1
    nodes = sorted({e["node"] for e in entries})
    processes = {(e["node"], e["process"]) for e in entries}
    failed = sum(e["state"] != "SUCCESS" for e in entries)
    lines = [
        f"tasks run: {len(entries)} ({', '.join(f'{name} x{n}' for name, n in sorted(counts.items()))})",
        f"workers: {', '.join(nodes)}; processes used: {len(processes)}",
        f"most at the same time: {max_parallel(entries)}",
    ]
    if failed:
        lines.append(f"failed: {failed}")
    return "\n".join(lines)


def table(entries, order="time", priority=False, timings=False):
    if not entries:
        return "(nothing recorded yet)"
    if order == "task":
        entries = sorted(entries, key=lambda e: (e["task"], json.dumps(e["args"]), json.dumps(e["kwargs"])))
    origin = min(e["started"] for e in entries)
    header = ["#", "call", "worker"] + (["priority"] if priority else []) + ["state", "result"]
    if timings:
        header += ["start", "took"]
    rows = []
    for n, e in enumerate(entries, 1):
        row = [str(n), call_text(e), e["node"]] + ([str(e["priority"])] if priority else []) + [e["state"], e["result"]]
        if timings:
            row += [f"{e['started'] - origin:.1f} s", f"{e['finished'] - e['started']:.1f} s"]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(header)] + [fmt(r) for r in rows])
