"""Every lesson exists in English and Russian with the same cells, the same code, the same cell metadata (tags, slide
types) and the same frame: minutes, as many objectives and key points."""
import re

import pytest
from lessons import LANGS, cells, code_without_comments, exercises, lesson_names, source

NAMES = lesson_names("en")
HEADINGS = {
    "en": ["## Setup", "## Summary", "## Exercises"],
    "ru": ["## Подготовка", "## Итоги", "## Упражнения"],
}


def test_both_languages_have_the_same_lessons():
    assert NAMES, "no lessons found"
    assert lesson_names("ru") == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_flat_numbered_snake_case_name(name):
    assert re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", name)


@pytest.mark.parametrize("name", NAMES)
def test_same_cells_same_code_same_tags(name):
    en, ru = cells("en", name), cells("ru", name)
    assert [c["cell_type"] for c in en] == [c["cell_type"] for c in ru], "cells differ in kind or order"
    for i, (a, b) in enumerate(zip(en, ru)):
        assert a.get("metadata", {}).get("tags", []) == b.get("metadata", {}).get("tags", []), f"cell {i}: tags differ"
        assert a.get("metadata", {}) == b.get("metadata", {}), f"cell {i}: metadata differs (slide type, ...)"
        if a["cell_type"] == "code":
            assert code_without_comments(source(a)) == code_without_comments(source(b)), f"cell {i}: code differs"


@pytest.mark.parametrize("name", NAMES)
def test_same_headings_and_exercises(name):
    def heading_levels(lang):
        return [len(m.group(1)) for c in cells(lang, name) if c["cell_type"] == "markdown"
                for m in re.finditer(r"^(#+) ", source(c), re.MULTILINE)]

    assert heading_levels("en") == heading_levels("ru")
    en, ru = exercises("en", name), exercises("ru", name)
    assert en, "a lesson ends with exercises, each with a collapsed solution"
    assert [(i, code_without_comments(s)) for i, s in en] == [(i, code_without_comments(s)) for i, s in ru]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_lesson_skeleton(name, lang):
    texts = [source(c) for c in cells(lang, name) if c["cell_type"] == "markdown"]
    assert texts[0].startswith(f"# {name[:2]}. "), "the first cell is the title, '# NN. ...'"
    assert "*" in texts[0].split("\n", 1)[1], "the title is followed by one line: what this lesson is about"
    first_section = next(m.group(0) for t in texts for m in [re.search(r"^## .*", t, re.MULTILINE)] if m)
    assert first_section == HEADINGS[lang][0], "right after the title comes the Setup"
    positions = [next((i for i, t in enumerate(texts) if h in t), None) for h in HEADINGS[lang]]
    assert None not in positions, f"missing one of {HEADINGS[lang]}"
    assert positions == sorted(positions), f"{HEADINGS[lang]} must come in this order"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_is_clean(name, lang):
    import json

    from lessons import NOTEBOOKS

    nb = json.loads((NOTEBOOKS / lang / name).read_text(encoding="utf-8"))
    assert "papermill" not in nb["metadata"], "papermill's metadata stays out of the committed notebooks"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code), "every code cell holds the output of a real run"
    for c in code:
        assert "papermill" not in c["metadata"] and "execution" not in c["metadata"]
        for call in re.finditer(r"\.(get|join|wait)\(([^()]*)\)", source(c)):
            args = call.group(2)
            if args and not args.startswith(("propagate", "interval")) and "timeout" not in args:
                continue  # a mapping's .get(key)
            assert "timeout" in args, f"{call.group(0)!r} may wait forever"


@pytest.mark.parametrize("name", NAMES)
def test_same_minutes_as_many_objectives_and_key_points(name):
    import json

    from lessons import NOTEBOOKS
    from test_lesson_frame import FRAME, bullets

    def frame(lang):
        nb = json.loads((NOTEBOOKS / lang / name).read_text(encoding="utf-8"))
        course = nb["metadata"].get("course", {})
        objectives = course.get("objectives")
        points = [bullets(source(c), FRAME[lang]["key_points"]) for c in nb["cells"]
                  if c["cell_type"] == "markdown" and source(c).startswith(FRAME[lang]["key_points"])]
        return {"minutes": course.get("minutes"),
                "objectives": len(objectives) if isinstance(objectives, list) else None,
                "key points": [len(p) for p in points]}

    en, ru = frame("en"), frame("ru")
    for part in en:
        assert en[part] == ru[part], f"{part}: en has {en[part]!r}, ru has {ru[part]!r}"
