"""The instructor notes (instructor/en, instructor/ru): one per lesson, in both languages, with the same parts,
and a timing plan whose rows add up to the total the note announces; and the workshop page (workshop.md), in both
languages, with the same parts, naming only commands the course has."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "instructor"
ANNOUNCED = {
    "en": (r"\*\*(\d+) min teaching \+ (\d+) min exercises\.\*\*",
           r"^\| \*\*Total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|"),
    "ru": (r"\*\*(\d+) мин объяснения \+ (\d+) мин упражнений\.\*\*",
           r"^\| \*\*Всего\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|"),
}


WORKSHOP = "workshop.md"  # the page on running a whole workshop: no lesson of its own


def _notes(lang):
    """The notes of lessons (``NN_topic.md``)."""
    return sorted(path.name for path in (NOTES / lang).glob("[0-9][0-9]_*.md"))


def _headings(text, level):
    return [line for line in text.splitlines() if line.startswith("#" * level + " ")]


def _plan_sums(text):
    """Teaching and exercise minutes of the timing plan's rows (the table of the first ``##`` section)."""
    plan = text.split("\n## ", 2)[1]
    teaching = exercises = 0
    for line in plan.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or "**" in line or re.fullmatch(r"-+", cells[0]):
            continue
        if cells[1].isdigit():
            teaching += int(cells[1])
        if re.fullmatch(r"\d+( \+ \d+)*", cells[2]):
            exercises += sum(int(n) for n in cells[2].split("+"))
    return teaching, exercises


def test_every_note_has_a_twin_and_a_lesson():
    assert _notes("en"), "no instructor notes"
    assert _notes("en") == _notes("ru")
    for lang in ("en", "ru"):
        assert {path.name for path in (NOTES / lang).glob("*.md")} == {*_notes(lang), WORKSHOP}
    for name in _notes("en"):
        for lang in ("en", "ru"):
            lesson = ROOT / "notebooks" / lang / name.replace(".md", ".ipynb")
            assert lesson.exists(), f"{lang}/{name}: no such lesson"


@pytest.mark.parametrize("name", _notes("en"))
def test_twins_have_the_same_parts_and_minutes(name):
    texts = {lang: (NOTES / lang / name).read_text(encoding="utf-8") for lang in ("en", "ru")}
    for level in (2, 3):
        counts = [len(_headings(texts[lang], level)) for lang in ("en", "ru")]
        assert counts[0] == counts[1], f"{name}: level-{level} headings"
    minutes = set()
    for lang, text in texts.items():
        announced, total = ANNOUNCED[lang]
        head = tuple(map(int, re.search(announced, text).groups()))
        table = tuple(map(int, re.search(total, text, re.MULTILINE).groups()))
        assert head == table == _plan_sums(text), f"{lang}/{name}: {head} announced, {table} in the table, " \
                                                  f"{_plan_sums(text)} in its rows"
        minutes.add(head)
    assert len(minutes) == 1, f"{name}: the languages give different minutes {minutes}"


def test_the_workshop_page_has_a_twin_with_the_same_parts_and_real_commands():
    from course_tasks import __main__ as commands

    known = set(re.findall(r"^    (\w+)", commands.__doc__, re.MULTILINE))  # the commands python -m course_tasks has
    texts = {lang: (NOTES / lang / WORKSHOP).read_text(encoding="utf-8") for lang in ("en", "ru")}
    for level in (2, 3):
        counts = [len(_headings(texts[lang], level)) for lang in ("en", "ru")]
        assert counts[0] == counts[1], f"{WORKSHOP}: level-{level} headings"
    used = {lang: re.findall(r"python3? (?:course\.py|-m course_tasks) (\w+)", text) for lang, text in texts.items()}
    assert used["en"] and set(used["en"]) <= known, f"commands the course does not have: {set(used['en']) - known}"
    assert sorted(set(used["en"])) == sorted(set(used["ru"]))
    rows = {lang: len(re.findall(r"^\|", text, re.MULTILINE)) for lang, text in texts.items()}
    assert rows["en"] == rows["ru"], f"{WORKSHOP}: table rows {rows}"
