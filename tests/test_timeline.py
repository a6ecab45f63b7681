"""course_tasks.timeline: the words are stable, the figure's text never changes, failures are red (no worker needed)."""
import matplotlib

from course_tasks import timeline


def entry(task, process, started, finished, state="SUCCESS"):
    return {"id": f"{task}-{started}", "task": task, "args": [1], "kwargs": {}, "node": "worker@course",
            "process": process, "priority": None, "started": 100 + started, "finished": 100 + finished,
            "state": state, "result": "1"}


GROUP = [entry("nap", p, 0.01 * p, 1.0 + 0.01 * p) for p in range(4)]
CHAIN = [entry("nap", p % 2, float(i), i + 1.0) for i, p in enumerate([3, 3, 1, 3])]


def test_facts_in_both_languages():
    assert timeline.facts(GROUP, lang="en") == \
        "4 tasks, at most 4 at once, about 1 s from the first start to the last end"
    assert timeline.facts(CHAIN, lang="en").startswith("4 tasks, at most 1 at once, about 4 s")
    assert timeline.facts(CHAIN, lang="ru").startswith("задач: 4, одновременно не больше 1")
    assert timeline.facts([], lang="en") == "(nothing recorded yet)"


def test_figure_text_depends_only_on_the_panels():
    assert repr(timeline.draw(GROUP, title="group")) == "<Figure size 800x200 with 1 Axes>"
    assert repr(timeline.compare(group=GROUP, chain=CHAIN)) == "<Figure size 800x400 with 2 Axes>"
    assert repr(timeline.compare(group=GROUP, chain=CHAIN[:1])) == "<Figure size 800x400 with 2 Axes>"


def test_one_row_per_process_and_a_red_failure():
    failed = GROUP[:3] + [entry("divide", 3, 0.0, 0.1, state="FAILURE")]
    ax = timeline.draw(failed).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"worker@course #{p}" for p in range(4)]
    colors = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert colors.count(matplotlib.colors.to_hex("tab:red")) == 1
    assert ax.get_xlim()[0] == 0
