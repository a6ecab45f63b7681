"""``python3 course.py slides 04 --lang ru``: a lesson as reveal.js slides, with its stored outputs, nothing executed.

The slides follow each cell's ``metadata.slideshow.slide_type`` (the same cells RISE presents in JupyterLab) and
work offline: reveal.js, its theme and its speaker-notes plugin are written into the page from the copy of reveal.js
that the pinned ``sphinx-revealjs`` package carries; nothing is fetched from the Internet when the page opens. The
files go to ``_slides/<lang>/NN_topic.slides.html`` (ignored by git); a browser opens them from the disk.
"""
import re
from pathlib import Path

from ..i18n import LANGUAGES, register, say

ROOT = Path(__file__).resolve().parent.parent.parent
LESSONS = ROOT / "notebooks"
OUTPUT = ROOT / "_slides"
TEMPLATES = Path(__file__).resolve().parent / "slides_template"

register({
    "slides_written": {"en": "Slides: {path}", "ru": "Слайды: {path}"},
    "slides_unknown": {
        "en": "No lesson {lesson!r} in notebooks/{folder}/. The lessons: {names}.",
        "ru": "Урока {lesson!r} в notebooks/{folder}/ нет. Уроки: {names}.",
    },
    "slides_open": {
        "en": "Open a file in a browser; arrows move, S opens the speaker view, Esc the overview.",
        "ru": "Откройте файл в браузере: стрелки листают, S открывает окно докладчика, Esc — обзор слайдов.",
    },
})

# A projector shows 1280x720 (the page scales it to the screen); text and code large enough to read from the back.
COURSE_CSS = """
:root { --jp-content-font-size1: 22px; --jp-code-font-size: 19px; --jp-content-line-height: 1.45;
        --jp-code-line-height: 1.3; --jp-ui-font-size1: 19px; }
.reveal { font-family: "Source Sans Pro", "Segoe UI", "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
.reveal .slides { text-align: left; }
.reveal .slides section { height: 100%; overflow-y: auto; padding: 0 6px; box-sizing: border-box; }
.reveal .slides section > section { height: 100%; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }
.reveal h1 { font-size: 1.9em; } .reveal h2 { font-size: 1.45em; margin-bottom: 0.4em; }
.reveal h3 { font-size: 1.15em; }
.reveal p, .reveal li { line-height: var(--jp-content-line-height); }
.reveal pre, .reveal code { font-family: var(--jp-code-font-family); }
.reveal .jp-RenderedMarkdown pre { font-size: 0.8em; box-shadow: none; width: 100%; }
.reveal .jp-OutputArea-output pre { font-size: var(--jp-code-font-size); line-height: var(--jp-code-line-height); }
.reveal .jp-Cell { padding: 2px 0; }
.reveal .jp-InputArea-editor { padding: 2px 6px; }
.reveal .jp-OutputArea-output img { max-height: 470px; width: auto; max-width: 100%; }
.reveal details > summary { cursor: pointer; color: #555; }
"""


def lesson_paths(lesson: str, lang: str):
    """The lessons ``lesson`` names in ``lang``: "04", "04_group", a file name, or "all"."""
    found = sorted((LESSONS / lang).glob("*.ipynb"))
    if lesson == "all":
        return found
    return [p for p in found if p.name.startswith(lesson) or p.stem == lesson]


def offline_reveal():
    """reveal.js 5 as the pinned sphinx-revealjs package carries it: CSS, the white theme without its web font
    (an ``@import`` of a file beside it; the system's sans-serif has Cyrillic too), the script and the notes plugin."""
    import sphinx_revealjs

    base = Path(sphinx_revealjs.__file__).resolve().parent / "_static" / "revealjs"
    theme = (base / "dist/theme/white.css").read_text(encoding="utf-8")
    return {
        "reveal_css": (base / "dist/reveal.css").read_text(encoding="utf-8"),
        "theme_css": re.sub(r"@import url\([^)]*\);", "", theme),
        "reveal_js": (base / "dist/reveal.js").read_text(encoding="utf-8").replace("</script", "<\\/script"),
        "notes_js": (base / "plugin/notes/notes.js").read_text(encoding="utf-8").replace("</script", "<\\/script"),
        "course_css": COURSE_CSS,
    }


def export(path: Path, lang: str, out_dir: Path = OUTPUT, reveal=None) -> Path:
    """Write ``path`` (a lesson, outputs as stored) as ``out_dir/<lang>/<name>.slides.html``; return that file."""
    import nbformat
    from nbconvert import SlidesExporter

    nb = nbformat.read(path, as_version=4)
    exporter = SlidesExporter(template_name="course_reveal", extra_template_basedirs=[str(TEMPLATES)],
                              exclude_input_prompt=True, exclude_output_prompt=True, anchor_link_text="",
                              language_code=lang)
    title = next((line[2:].strip() for line in "".join(nb.cells[0].source).splitlines() if line.startswith("# ")),
                 path.stem)
    resources = {"metadata": {"name": path.stem},
                 "offline": dict(reveal or offline_reveal(), title=title)}
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    target = out_dir / lang / f"{path.stem}.slides.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


def slides(lessons, langs=LANGUAGES, out_dir: Path = OUTPUT) -> int:
    """Export ``lessons`` (numbers, names or "all") in ``langs``; print each file's path. 0, or 1 if one is unknown."""
    reveal = offline_reveal()
    for lang in langs:
        for lesson in lessons:
            paths = lesson_paths(lesson, lang)
            if not paths:
                names = ", ".join(p.stem for p in sorted((LESSONS / lang).glob("*.ipynb")))
                print(say("slides_unknown", lesson=lesson, folder=lang, names=names))
                return 1
            for path in paths:
                target = export(path, lang, out_dir, reveal)
                print(say("slides_written", path=_shown(target)))
    print(say("slides_open"))
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
