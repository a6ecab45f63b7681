"""The benchmark's floor (benchmarks/floor.py): every lesson declares its deliberate waits, and the floor adds up.

Instant: no kernel is started here (the benchmark measures one when it runs).
"""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import deliberate_waits  # noqa: E402
import floor  # noqa: E402


def test_every_lesson_declares_its_deliberate_waits():
    lessons = sorted(path.stem for path in (ROOT / "notebooks" / "en").glob("*.ipynb"))
    missing = [lesson for lesson in lessons if lesson not in deliberate_waits.WAITS]
    assert not missing, f"add these lessons to benchmarks/deliberate_waits.py WAITS: {missing}"
    gone = sorted(set(deliberate_waits.WAITS) - set(lessons))
    assert not gone, f"benchmarks/deliberate_waits.py WAITS names lessons that no longer exist: {gone}"
    for lesson, waits in deliberate_waits.WAITS.items():
        for what, seconds in waits:
            assert isinstance(what, str) and what and seconds > 0, (lesson, what, seconds)


def test_the_floor_is_positive():
    parts = floor.floor([lesson for _, lesson in floor.notebooks(ROOT)], kernel_start=0.5)
    assert parts["notebooks"] == 2 * len(list((ROOT / "notebooks" / "en").glob("*.ipynb")))
    assert parts["floor"] > 0
    assert parts["floor"] == pytest.approx((parts["waits"] + parts["kernels"] + parts["exercises"]) / floor.PROCESSES)
    assert "2 test processes" in floor.report(parts, warm=2 * parts["floor"])


def test_a_lesson_without_an_entry_is_named():
    with pytest.raises(KeyError, match="99_new_lesson"):
        floor.floor(["99_new_lesson"], kernel_start=0.5)


def _constant(module, name):
    """The value assigned to ``name`` at the top of course_tasks/``module``.py, read without importing it."""
    tree = ast.parse((ROOT / "course_tasks" / f"{module}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{name} is no longer in course_tasks/{module}.py")


@pytest.mark.parametrize("module,name,ours", [
    ("tasks", "TP_SECONDS", "TP"),
    ("canvas_tasks", "SQUARE_SECONDS", "SQUARE"),
    ("retrying", "CALL_SECONDS", "CALL"),
    ("retrying", "RETRY_COUNTDOWN", "RETRY"),
    ("delivery", "VISIBILITY_TIMEOUT", "VISIBILITY"),
    ("preflight", "DUPLICATES_SECONDS", "SETUP_CHECK"),
    ("machinery/backend", "ASK_WORKERS_SECONDS", "TIMEOUT_HINT"),
    ("operations", "SPIN_SECONDS", "SPIN"),
    ("operations", "SETTLE", "SETTLE"),
    ("monitoring", "STEP_PAUSE", "STEP_PAUSE"),
])
def test_the_waits_use_the_course_s_durations(module, name, ours):
    assert getattr(deliberate_waits, ours) == _constant(module, name), \
        f"course_tasks/{module}.py {name} changed: update benchmarks/deliberate_waits.py {ours} and its entries"


def test_the_redis_pause_is_the_brpop_timeout_and_the_margin():
    assert deliberate_waits.PAUSE_REDIS == 1.0 + _constant("priorities", "REDIS_MARGIN")


def test_the_lesson_workers_waits_are_their_settings():
    from course_tasks import settings

    options = {role.name: role.options for role in settings.LESSON_WORKERS}
    assert f"worker_soft_shutdown_timeout={deliberate_waits.SOFT_SHUTDOWN}" in options["soft"]
    assert f"result_expires={deliberate_waits.RESULT_EXPIRES}" in options["results"]
