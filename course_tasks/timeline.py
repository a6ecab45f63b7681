"""A picture of what the worker did (lessons 04-06): one bar per task, one row per worker process.

    from course_tasks import journal, timeline
    print(timeline.facts(journal.entries()))      # the same facts as text: tasks, how many at once, how long
    timeline.draw(journal.entries(), title="group")  # last line of a cell: Jupyter shows the figure
    timeline.compare(group=entries_a, chain=entries_b)  # panels one above the other, same time scale
    # a keyword TITLES knows is titled in the notebook's language (group: «группа»); titles={...} names others

x is seconds since the first task started; each row is one pool process (``node #index``); a bar is
labelled with the task call; a failed task is red, an attempt that ends in a retry orange. The figures
are closed in pyplot at once, so a cell shows each exactly once: as its value
(``<Figure size 800x200 with 1 Axes>`` as text).
"""
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from .i18n import language, number, register, say
from .journal import call_text, max_parallel

PANEL_SIZE = (8, 2)  # inches at 100 dpi; fixed, so that a figure's text repr never changes
LABEL_CHARS = 28
COLORS = {"SUCCESS": "tab:blue", "RETRY": "tab:orange"}  # any other state (FAILURE ...): red

register({
    "timeline.x": {"en": "seconds since the first start", "ru": "время от первого старта, с"},
    "timeline.empty": {"en": "(nothing recorded yet)", "ru": "(журнал пока пуст)"},
    "timeline.facts": {
        "en": "{tasks} tasks, at most {parallel} at once, about {span} s from the first start to the last end",
        "ru": "задач: {tasks}, одновременно не больше {parallel}, от первого старта до последнего финиша — "
              "около {span} с",
    },
})

#: Panel titles the lessons use, by the keyword of :func:`compare` (the code is the same in both languages).
TITLES = {
    "group": {"en": "group", "ru": "группа"},
    "chain": {"en": "chain", "ru": "цепочка"},
    "chunks": {"en": "chunks", "ru": "пачки (chunks)"},
    "one_by_one": {"en": "one by one", "ru": "по одной"},
    "loop": {"en": "a loop of delay()", "ru": "цикл из delay()"},
    "one_queue": {"en": "one queue, one worker", "ru": "одна очередь, один воркер"},
    "own_queues": {"en": "slow and quick tasks on workers of their own", "ru": "медленные и быстрые у своих воркеров"},
}


def span(entries):
    """Seconds from the first start to the last end."""
    return max(e["finished"] for e in entries) - min(e["started"] for e in entries)


def facts(entries, lang=None):
    """What the picture shows, in words that do not change from run to run (the span in whole seconds)."""
    if not entries:
        return say("timeline.empty", lang)
    return say("timeline.facts", lang, tasks=len(entries), parallel=max_parallel(entries), span=round(span(entries)))


def title_of(keyword, lang=None, titles=None):
    """The panel title for ``keyword``: from ``titles`` if given, else :data:`TITLES` in ``lang``, else the
    keyword itself (underscores as spaces)."""
    if titles and keyword in titles:
        return titles[keyword]
    known = TITLES.get(keyword)
    return known[lang or language()] if known else keyword.replace("_", " ")


def draw(entries, title=None, titles=None):
    """One panel: the timeline of ``entries`` (``journal.entries()``)."""
    return compare(titles=titles, **{title or "": entries})


def compare(titles=None, **runs):
    """One panel per keyword, one above the other, on the same time scale. A panel's title is the keyword,
    in the notebook's language when :data:`TITLES` knows it; ``titles={"keyword": "title"}`` sets others."""
    lang = language()
    fig, axes = plt.subplots(len(runs), 1, sharex=True, squeeze=False, dpi=100,
                             figsize=(PANEL_SIZE[0], PANEL_SIZE[1] * len(runs)))
    for ax, (keyword, entries) in zip(axes[:, 0], runs.items()):
        _panel(ax, entries, title_of(keyword, lang, titles))
    longest = max((span(entries) for entries in runs.values() if entries), default=1.0)
    axes[0, 0].set_xlim(0, longest * 1.02 or 1.0)
    axes[-1, 0].set_xlabel(say("timeline.x", lang))
    axes[-1, 0].xaxis.set_major_formatter(FuncFormatter(lambda x, _: number(round(x, 6), "g", lang)))
    fig.tight_layout()
    plt.close(fig)  # no second copy from the inline backend: the cell's value shows it
    return fig


def _panel(ax, entries, title):
    ax.set_title(title, loc="left", fontsize=10)
    if not entries:
        ax.set_yticks([])
        return
    origin = min(e["started"] for e in entries)
    rows = sorted({(e["node"], e["process"]) for e in entries})
    for e in entries:
        y = rows.index((e["node"], e["process"]))
        start, width = e["started"] - origin, e["finished"] - e["started"]
        ax.barh(y, width, left=start, height=0.6, color=COLORS.get(e["state"], "tab:red"),
                edgecolor="white")
        label = call_text(e)
        label = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
        ax.text(start + width / 2, y, label, ha="center", va="center", fontsize=8, color="white", clip_on=True)
    ax.set_yticks(range(len(rows)), [f"{node} #{index}" for node, index in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    ax.grid(axis="x", alpha=0.3)
