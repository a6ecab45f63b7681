"""Presenter mode: every cell has the slide type of the rule (tests/slide_rule.py), and a lesson exports to slides
that work offline and show the stored outputs."""
import html
import re

import pytest
from lessons import LANGS, NOTEBOOKS, cells, lesson_names, source
from slide_rule import slide_types, stored_type

NAMES = lesson_names("en")
TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


@pytest.mark.parametrize("name", NAMES)
def test_every_cell_has_the_slide_type_of_the_rule(name):
    twins = {lang: cells(lang, name) for lang in LANGS}
    expected = slide_types(*twins.values())
    wrong = []
    for lang, lesson in twins.items():
        for i, (cell, want) in enumerate(zip(lesson, expected)):
            got = stored_type(cell)
            if got != want:
                start = source(cell).strip().splitlines()[0][:50] if source(cell).strip() else ""
                wrong.append(f"{lang}/{name} cell {i} ({cell['cell_type']}, {start!r}): "
                             f"metadata.slideshow.slide_type is {got!r}, the rule says {want!r}")
    assert not wrong, "slide types that do not follow tests/slide_rule.py:\n" + "\n".join(wrong)


def test_the_rule_uses_only_the_types_rise_knows():
    for name in NAMES:
        assert set(slide_types(cells("en", name), cells("ru", name))) <= TYPES


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from course_tasks.machinery import slides

    out = tmp_path_factory.mktemp("slides")
    return slides.export(NOTEBOOKS / "en" / "04_group.ipynb", "en", out)


def test_export_loads_nothing_from_the_internet(exported):
    page = exported.read_text(encoding="utf-8")
    remote = re.findall(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//[^"'\s>]+""", page)
    remote += re.findall(r"""@import\s+url\(["']?(?:https?:)?//[^)]+\)""", page)
    remote += re.findall(r"""\bimport\s[^;]*?from\s+["'](?:https?:)?//""", page)
    remote += re.findall(r"""url\(["']?(?:https?:)?//[^)]+\)""", page)
    assert not remote, f"the slides fetch from the Internet: {remote[:5]}"
    assert "<script src=" not in page, "every script is written into the page"
    assert "Reveal.initialize(" in page and "reveal.js" in page.lower() and "RevealNotes" in page


def test_export_has_a_slide_for_each_slide_and_subslide(exported):
    page = exported.read_text(encoding="utf-8")
    lesson = cells("en", "04_group.ipynb")
    starts = sum(stored_type(c) in ("slide", "subslide") for c in lesson)
    sections = re.findall(r"<section\b[^>]*>(.*?)(?=<section\b|</section>)", page, re.DOTALL)
    leaves = [s for s in sections if s.strip()]  # a vertical stack is a section around its slides
    assert len(leaves) == starts


def test_export_shows_the_stored_outputs(exported):
    page = html.unescape(exported.read_text(encoding="utf-8"))
    outputs = [o for c in cells("en", "04_group.ipynb") if c["cell_type"] == "code" for o in c.get("outputs", [])]
    texts = ["".join(o["text"]).strip().splitlines()[0] for o in outputs if o["output_type"] == "stream"]
    assert texts, "lesson 04 has stored outputs"
    missing = [t for t in texts if t not in page]
    assert not missing, f"outputs not in the slides: {missing[:3]}"
    pictures = sum("image/png" in o.get("data", {}) for o in outputs)
    assert pictures and page.count('src="data:image/png;base64,') == pictures


def test_solutions_stay_collapsed(exported):
    page = exported.read_text(encoding="utf-8")
    assert "<details>" in page and "<details open" not in page


def test_the_slides_command_prints_each_file(tmp_path, capsys):
    from course_tasks.machinery import slides

    assert slides.slides(["04", "12"], ["ru"], out_dir=tmp_path) == 0
    printed = capsys.readouterr().out
    for name in ("04_group", "12_acks_and_delivery"):
        target = tmp_path / "ru" / f"{name}.slides.html"
        assert target.exists() and str(target) in printed
    assert '<html lang="ru">' in (tmp_path / "ru" / "04_group.slides.html").read_text(encoding="utf-8")
    assert slides.slides(["99"], ["en"], out_dir=tmp_path) == 1
    assert "No lesson '99'" in capsys.readouterr().out


def test_slides_are_ignored_by_git():
    ignored = (NOTEBOOKS.parent / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "_slides/" in ignored

