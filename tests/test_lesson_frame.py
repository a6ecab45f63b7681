"""The lesson frame (README, "Authoring a lesson"): every lesson opens with what the learner will be able to do and
the minutes it takes, and ends its Summary with the key points; the notebook's metadata carries the same objectives
and minutes (``metadata.course``). Each failure names exactly what the lesson lacks."""
import json
import re

import pytest
from lessons import LANGS, NOTEBOOKS, lesson_names, source

FRAME = {
    "en": {"objectives": "**You will be able to:**", "key_points": "### Key points", "exercises": "## Exercises",
           "time": re.compile(r"^\*\*Time:\*\* (\d+) min teaching \+ (\d+) min exercises$", re.MULTILINE)},
    "ru": {"objectives": "**Вы научитесь:**", "key_points": "### Главное", "exercises": "## Упражнения",
           "time": re.compile(r"^\*\*Время:\*\* (\d+) мин на объяснение \+ (\d+) мин на упражнения$", re.MULTILINE)},
}
TIME_LINE = {"en": "**Time:** {teaching} min teaching + {exercises} min exercises",
             "ru": "**Время:** {teaching} мин на объяснение + {exercises} мин на упражнения"}


def notebook(lang, name):
    return json.loads((NOTEBOOKS / lang / name).read_text(encoding="utf-8"))


def bullets(text, after):
    """The ``- item`` lines right after the line ``after`` (blank lines between them allowed)."""
    lines = text.split("\n")
    if after not in lines:
        return None
    found = []
    for line in lines[lines.index(after) + 1:]:
        if line.startswith("- "):
            found.append(line[2:].strip())
        elif line.strip() or found:
            break
    return found


def problems(nb, lang):
    """What the lesson ``nb`` (a notebook in ``lang``) lacks, one sentence each; empty when its frame is complete."""
    words, lacks = FRAME[lang], []
    course = nb["metadata"].get("course", {})
    objectives, minutes = course.get("objectives"), course.get("minutes")
    if not (isinstance(objectives, list) and 2 <= len(objectives) <= 5
            and all(isinstance(o, str) and o.strip() for o in objectives)):
        lacks.append(f"metadata.course.objectives: a list of 2 to 5 sentences in {lang} (what the learner will be "
                     f"able to do), found {objectives!r}")
    if not (isinstance(minutes, dict) and set(minutes) == {"teaching", "exercises"}
            and all(type(v) is int and v > 0 for v in minutes.values())):
        lacks.append(f'metadata.course.minutes: {{"teaching": N, "exercises": M}}, whole minutes, found {minutes!r}')
    first = source(nb["cells"][0])
    listed = bullets(first, words["objectives"])
    if listed is None:
        lacks.append(f"the first cell: a line {words['objectives']!r} followed by one '- ' line per objective")
    elif isinstance(objectives, list) and listed != objectives:
        lacks.append(f"the first cell lists {listed!r} under {words['objectives']!r}; "
                     f"metadata.course.objectives has {objectives!r}: the same sentences, in the same order")
    time = words["time"].search(first)
    if time is None:
        lacks.append("the first cell: a line " + TIME_LINE[lang].format(teaching="N", exercises="M"))
    elif isinstance(minutes, dict) and [int(t) for t in time.groups()] != [minutes.get("teaching"),
                                                                            minutes.get("exercises")]:
        lacks.append(f"the first cell says {time.group(0)!r}, metadata.course.minutes says {minutes!r}")
    markdown = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    exercises = next((i for i, t in enumerate(markdown) if t.startswith(words["exercises"])), None)
    before = markdown[exercises - 1] if exercises else ""
    points = bullets(before, words["key_points"]) if before.startswith(words["key_points"]) else None
    if not points or len(points) < 2:
        lacks.append(f"the cell before {words['exercises']!r}: a cell of its own that starts with "
                     f"{words['key_points']!r} and lists two or more key points ('- ' lines)")
    return lacks


def lessons():
    for name in lesson_names("en"):
        for lang in LANGS:
            yield pytest.param(lang, name, id=f"{lang}-{name}")


@pytest.mark.parametrize("lang, name", list(lessons()))
def test_lesson_has_its_frame(lang, name):
    lacks = problems(notebook(lang, name), lang)
    assert not lacks, f"{lang}/{name} lacks:\n- " + "\n- ".join(lacks)


def test_a_complete_frame_passes_and_each_missing_part_is_named():
    """The checker itself, on a lesson written to the format of the README."""
    first = ("# 04. Groups\n\n*In this lesson:* groups.\n\n**You will be able to:**\n\n- send a group;\n"
             "- read a GroupResult.\n\n**Time:** 25 min teaching + 15 min exercises")
    nb = {"metadata": {"course": {"objectives": ["send a group;", "read a GroupResult."],
                                  "minutes": {"teaching": 25, "exercises": 15}}},
          "cells": [{"cell_type": "markdown", "source": first},
                    {"cell_type": "markdown", "source": "## Summary\n\n- a"},
                    {"cell_type": "markdown", "source": "### Key points\n\n- one\n- two"},
                    {"cell_type": "markdown", "source": "## Exercises\n\n**1.**"}]}
    assert problems(nb, "en") == []
    nb["metadata"]["course"]["minutes"]["teaching"] = 20
    assert any("metadata.course.minutes says" in p for p in problems(nb, "en"))
    nb["metadata"] = {}
    nb["cells"][2]["source"] = "### Summary again\n\n- one"
    found = " | ".join(problems(nb, "en"))
    for part in ("metadata.course.objectives", "metadata.course.minutes", "### Key points"):
        assert part in found


def test_the_russian_frame_reads_the_same_way():
    first = ("# 04. Группы\n\n*В этом уроке:* группы.\n\n**Вы научитесь:**\n\n- отправлять группу;\n"
             "- читать GroupResult.\n\n**Время:** 25 мин на объяснение + 15 мин на упражнения")
    nb = {"metadata": {"course": {"objectives": ["отправлять группу;", "читать GroupResult."],
                                  "minutes": {"teaching": 25, "exercises": 15}}},
          "cells": [{"cell_type": "markdown", "source": first},
                    {"cell_type": "markdown", "source": "### Главное\n\n- одно\n- другое"},
                    {"cell_type": "markdown", "source": "## Упражнения\n\n**1.**"}]}
    assert problems(nb, "ru") == []
    nb["cells"][0]["source"] = first.replace("- читать GroupResult.\n", "")
    assert any("the first cell lists" in p for p in problems(nb, "ru"))
