"""What the worker did, shown in the notebook: which task, which arguments, which worker and process, when.

    from course_tasks import journal
    journal.clear()      # a fresh page for this notebook
    ...                  # send tasks, wait for their results
    journal.show()       # a table of what ran; journal.entries(): the same as dicts; journal.summary(): in words

Every course task records what it did when it ends (course_tasks/machinery/journaling.py), in the journal of the
notebook that sent it: two notebooks never see each other's tasks.
"""
import json

from .celery import app
from .i18n import register, say
from .machinery.journaling import KEY, KEY_PREFIX


def clear(key=KEY):
    """Forget everything recorded so far; start a fresh page (``key``: this notebook's journal)."""
    app.backend.client.delete(KEY_PREFIX + key)


def entries(key=KEY):
    """The entries so far, as dicts, ordered by start time."""
    raw = app.backend.client.lrange(KEY_PREFIX + key, 0, -1)
    return sorted((json.loads(item) for item in raw), key=lambda e: e["started"])


def summary():
    """One deterministic paragraph: what ran, how many times, where, how many at once."""
    return summarize(entries())


def show(order="time", priority=False, timings=False):
    """Print the journal as a table: ``order="time"`` (start order) or ``"task"`` (name, arguments);
    ``priority=True`` adds the priority each message carried, ``timings=True`` when each ran."""
    print(table(entries(), order=order, priority=priority, timings=timings))


def call_text(entry, longest=None):
    """``add(2, 3)`` or ``t1(5, 15, message='The sum is')``: the call as a learner would write it. With ``longest``,
    an argument whose repr is longer than that is shown as ``…`` (``report(…)``: a gate's random name left out)."""
    def shown(value):
        text = repr(value)
        return "…" if longest is not None and len(text) > longest else text

    parts = [shown(a) for a in entry["args"]] + [f"{k}={shown(v)}" for k, v in entry["kwargs"].items()]
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
    def fmt(r):
        return "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(header)] + [fmt(r) for r in rows])
