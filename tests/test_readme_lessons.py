"""Both READMEs list every lesson, in both languages, under the title its notebook's first heading gives.

A new lesson, a renamed notebook or a changed title fails here until the lesson tables of README.md and
README.ru.md follow.
"""
import re

import pytest
from lessons import LANGS, ROOT, cells, lesson_names, source

READMES = ("README.md", "README.ru.md")
LINK = re.compile(r"\[([^\]]+)\]\((notebooks/(en|ru)/((\d\d)_[^)/]+\.ipynb))\)")
ROW = re.compile(r"^\| (\d\d) \|(.*)\|\s*$", re.MULTILINE)


def title(lang, name):
    """The title of a lesson: its first heading, ``# NN. Title``, without the number."""
    first = next(source(c) for c in cells(lang, name) if c["cell_type"] == "markdown")
    match = re.match(r"# (\d\d)\. (.+)", first.splitlines()[0])
    assert match and match.group(1) == name[:2], f"{lang}/{name}: the first line is not '# {name[:2]}. Title'"
    return match.group(2).strip()


def expected():
    """``{"notebooks/<lang>/<name>": title}`` for every lesson notebook."""
    return {f"notebooks/{lang}/{name}": title(lang, name) for lang in LANGS for name in lesson_names(lang)}


def links(readme):
    """``{path: link text}`` for every link to a lesson notebook in ``readme``; a path linked twice fails."""
    found = {}
    for text, path, _lang, _name, _number in LINK.findall((ROOT / readme).read_text(encoding="utf-8")):
        assert path not in found, f"{readme} links {path} twice"
        found[path] = text
    return found


def test_there_are_lessons():
    assert len(expected()) >= 2 * 15


@pytest.mark.parametrize("readme", READMES)
def test_every_lesson_is_linked_under_its_title(readme):
    found = links(readme)
    missing = sorted(set(expected()) - set(found))
    assert not missing, f"{readme} does not link: {missing}"
    unknown = sorted(set(found) - set(expected()))
    assert not unknown, f"{readme} links notebooks that do not exist: {unknown}"
    wrong = {path: (text, expected()[path]) for path, text in found.items() if text != expected()[path]}
    assert not wrong, f"{readme}: link text differs from the notebook's title (link, title): {wrong}"


@pytest.mark.parametrize("readme", READMES)
def test_one_row_per_lesson_in_order_with_both_languages(readme):
    rows = ROW.findall((ROOT / readme).read_text(encoding="utf-8"))
    numbers = sorted({name[:2] for lang in LANGS for name in lesson_names(lang)})
    assert [number for number, _ in rows] == numbers, f"{readme}: the lesson table's rows are not {numbers}"
    for number, cells_text in rows:
        langs = sorted(lang for _text, _path, lang, _name, n in LINK.findall(cells_text) if n == number)
        assert langs == sorted(LANGS), f"{readme}, row {number}: links {langs}, expected one per language"
