"""``python3 course.py site``: the course as a static website in ``_site/``, from the stored outputs (nothing runs).

One Sphinx build per language (MyST-NB reads the notebooks, the Sphinx Book Theme draws the pages), run side by
side: ``_site/en/`` and ``_site/ru/``, each with a search index in its own language (Sphinx's Russian stemmer
finds "воркера" for "воркер"), and ``_site/index.html``, which sends a reader to a language. A build's source is
staged in a temporary folder from what the repository already has, nothing listed by hand:

- every lesson of ``notebooks/<lang>/``, titled by its first heading, with the outputs stored in it;
- ``index.md``: the README's title and introduction, and its lesson section with the lesson table made anew
  from the notebooks;
- ``start.md``: the README's section that starts the course (the one with ``python3 course.py up``);
- ``glossary.md``: GLOSSARY.md.

``site_sphinx/conf.py`` beside this file adds to every lesson page the link to its twin in the other language
and how to run the lesson; :data:`SITE_DATA` (a JSON file) tells it what was staged.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..i18n import LANGUAGES
from .services import ROOT

NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_site"
CONF_DIR = Path(__file__).resolve().parent / "site_sphinx"
SITE_DATA = "COURSE_SITE_DATA"  # the environment variable that gives conf.py the path of the staged data
JUPYTER_URL = "http://127.0.0.1:8888"  # the course's JupyterLab, as `python3 course.py up` starts it by default
README = {"en": "README.md", "ru": "README.ru.md"}
NATIVE = {"en": "English", "ru": "Русский"}

WORDS = {
    "en": {
        "to_start": "To run the lessons yourself, with a live broker and live workers: [{title}](start.md).",
        "run": "Run this lesson",
        "run_lab": "open it in the course's JupyterLab",
        "run_lab_when": "while <code>python3 course.py up</code> runs",
        "run_repo": "the notebook in the repository",
        "run_how": "How to run it",
        "run_step_clone": "Get the course: <code>git clone {clone}</code>. It needs Python 3.11 or newer, "
                          "nothing else.",
        "run_step_clone_nourl": "Get the course: a clone of its repository. It needs Python 3.11 or newer, "
                                "nothing else.",
        "run_step_up": "In its folder, run <code>python3 course.py up</code>. It starts a broker, the course's workers "
                       "and JupyterLab, and prints one address with a token: open it once, and your browser is "
                       "logged in to that JupyterLab.",
        "run_step_open": "Then the link above opens this lesson there: your own copy, <code>my-notebooks/{path}</code> "
                         "(if it shows Jupyter's login page instead, paste the token of that address there). Run "
                         "its cells in order. With another <code>COURSE_JUPYTER_PORT</code>, change the port in the "
                         "link.",
        "run_note": "The outputs on this page are the stored ones: live workers produced them, and every test run "
                    "of the course compares them with a fresh run.",
        "switch_title": "This page in English",
        "choose": "Choose a language",
        "lessons": "Lessons",
    },
    "ru": {
        "to_start": "Чтобы выполнить уроки самим, с живым брокером и живыми воркерами: [{title}](start.md).",
        "run": "Запустить урок",
        "run_lab": "открыть его в JupyterLab курса",
        "run_lab_when": "пока работает <code>python3 course.py up</code>",
        "run_repo": "ноутбук в репозитории",
        "run_how": "Как его запустить",
        "run_step_clone": "Возьмите курс: <code>git clone {clone}</code>. Нужен только Python 3.11 или новее.",
        "run_step_clone_nourl": "Возьмите курс — клон его репозитория. Нужен только Python 3.11 или новее.",
        "run_step_up": "В папке курса выполните <code>python3 course.py up</code>. Команда запустит брокер, воркеры "
                       "курса и JupyterLab и напечатает один адрес с токеном: откройте его один раз, и браузер "
                       "войдёт в этот JupyterLab.",
        "run_step_open": "После этого ссылка выше откроет там этот урок — вашу копию, <code>my-notebooks/{path}</code> "
                         "(если вместо урока появится страница входа Jupyter, вставьте туда токен из того адреса). "
                         "Выполняйте ячейки по порядку. Если вы задали другой <code>COURSE_JUPYTER_PORT</code>, "
                         "поменяйте порт в ссылке.",
        "run_note": "Выводы на этой странице — сохранённые: их выдали живые воркеры, и каждый прогон тестов курса "
                    "сверяет их со свежим запуском.",
        "switch_title": "Эта страница по-русски",
        "choose": "Выберите язык",
        "lessons": "Уроки",
    },
}


@dataclass(frozen=True)
class Lesson:
    lang: str
    path: Path
    title: str  # the notebook's first heading, as written (Markdown: `code` stays)

    @property
    def name(self) -> str:  # the page's name: 04_group -> _site/<lang>/04_group.html
        return self.path.stem

    @property
    def plain_title(self) -> str:
        return self.title.replace("`", "")


def first_heading(notebook: Path) -> str:
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                found = re.match(r"#{1,6}\s+(.+?)\s*#*\s*$", line)
                if found:
                    return found.group(1)
    return notebook.stem


def lessons(lang: str, root: Path = NOTEBOOKS):
    """The lessons of ``notebooks/<lang>/``, in the order of their file names."""
    return [Lesson(lang, path, first_heading(path)) for path in sorted((root / lang).glob("*.ipynb"))]


# -- the README, taken apart ---------------------------------------------------------------------------------

def blocks(markdown: str):
    """``(title, intro, sections)``: the ``# `` title, the text before the first ``## ``, and each ``## `` section
    as ``(heading, body)`` (its ``###`` subsections in the body). Headings inside code fences are code."""
    title, intro, sections, fence = None, [], [], None
    for line in markdown.splitlines():
        marker = re.match(r"\s*(```+|~~~+)", line)
        if marker:
            fence = None if fence and marker.group(1).startswith(fence) else (fence or marker.group(1))
        if fence is None and title is None and line.startswith("# "):
            title = line[2:].strip()
        elif fence is None and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        elif title is not None:
            intro.append(line)
    return title, "\n".join(intro).strip(), [(h, "\n".join(body).strip()) for h, body in sections]


def start_section(sections, readme: str):
    """The section that starts the course: the first whose text runs ``python3 course.py up``."""
    found = next(((h, body) for h, body in sections if "python3 course.py up" in body), None)
    if found is None:
        raise SystemExit(f"[site] {readme} has no section that runs `python3 course.py up`: the website's start "
                         f"page is made from that section")
    return found


def lessons_section(sections, lang: str):
    """The section with the lesson table: the first that links to a notebook (else a heading of our own)."""
    found = next(((h, body) for h, body in sections if re.search(r"\]\(notebooks/\w+/[^)]+\.ipynb\)", body)), None)
    return found or (WORDS[lang]["lessons"], "|")


def demote(markdown: str) -> str:
    """``### x`` -> ``## x``: a README subsection becomes a section of its own page (code fences left alone)."""
    out, fence = [], None
    for line in markdown.splitlines():
        marker = re.match(r"\s*(```+|~~~+)", line)
        if marker:
            fence = None if fence and marker.group(1).startswith(fence) else (fence or marker.group(1))
        out.append(line[1:] if fence is None and re.match(r"###+ ", line) else line)
    return "\n".join(out)


LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s]+)\)")


def relink(markdown: str, lang: str, names: set, repo: str | None = None) -> str:
    """The README's and the glossary's links, pointed at the website's pages: a lesson to its page (in the other
    language: the twin's), a README to the index of its language, GLOSSARY.md to the glossary. Any other file of
    the repository goes to the repository when it is known (``COURSE_SITE_REPOSITORY``, GitHub Actions), else the
    link is left out and its text kept: the site has no broken link."""
    def target(match):
        text, href = match.group(1), match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", href) or href.startswith("#"):
            return match.group(0)
        path, _, fragment = href.partition("#")
        path = path.lstrip("./")
        anchor = f"#{fragment}" if fragment else ""
        readmes = {name: code for code, name in README.items()}
        notebook = re.fullmatch(r"notebooks/(\w+)/([^/]+)\.ipynb", path)
        if path in readmes:
            where, page = readmes[path], "index"
        elif path == "GLOSSARY.md":
            where, page = lang, "glossary"
        elif notebook and notebook.group(2) in names:
            where, page = notebook.groups()
        else:
            return f"[{text}]({repo}/blob/{branch()}/{path}{anchor})" if repo else text
        if where == lang:  # a page of this build: MyST links it by its source file
            return f"[{text}]({page}.{'ipynb' if page in names else 'md'}{anchor})"
        return f'<a href="../{where}/{page}.html{anchor}" hreflang="{where}">{text.replace("`", "")}</a>'
    return LINK.sub(target, markdown)


def lesson_list(items) -> str:
    return "\n".join(f"- [{lesson.title}]({lesson.name}.ipynb)" for lesson in items)


def replace_table(body: str, listing: str) -> str:
    """The README's lesson table (its ``|`` lines) replaced by ``listing``."""
    lines, out, placed = body.splitlines(), [], False
    for line in lines:
        if line.startswith("|"):
            if not placed:
                out.append(listing)
                placed = True
            continue
        out.append(line)
    return "\n".join(out)


# -- the repository, when it is known ------------------------------------------------------------------------

def repository():
    """``https://github.com/owner/name`` of the course: ``COURSE_SITE_REPOSITORY``, else GitHub Actions' own
    variables, else ``origin`` when it is a GitHub remote; None when none is known (a local build, no remote)."""
    url = os.environ.get("COURSE_SITE_REPOSITORY")
    if not url and os.environ.get("GITHUB_REPOSITORY"):
        url = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{os.environ['GITHUB_REPOSITORY']}"
    if not url:
        try:
            remote = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True,
                                    text=True, timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            remote = ""
        found = re.fullmatch(r"(?:https://|git@)github\.com[:/]([^/]+/[^/]+?)(?:\.git)?/?", remote)
        url = f"https://github.com/{found.group(1)}" if found else None
    return url.rstrip("/") if url else None


def branch() -> str:
    return os.environ.get("COURSE_SITE_BRANCH") or os.environ.get("GITHUB_REF_NAME") or "HEAD"


# -- staging and building ------------------------------------------------------------------------------------

def stage(lang: str, folder: Path, all_lessons: dict, repo: str | None = None) -> dict:
    """Write the Sphinx source of ``lang`` into ``folder``; return what conf.py needs to know about it."""
    other = next(code for code in LANGUAGES if code != lang)
    mine = all_lessons[lang]
    names = {lesson.name for lesson in mine}
    words = WORDS[lang]
    folder.mkdir(parents=True)
    for lesson in mine:
        shutil.copy2(lesson.path, folder / lesson.path.name)

    title, intro, sections = blocks((ROOT / README[lang]).read_text(encoding="utf-8"))
    start_title, start_body = start_section(sections, README[lang])
    (folder / "start.md").write_text(f"# {start_title}\n\n{relink(demote(start_body), lang, names, repo)}\n",
                                     encoding="utf-8")
    glossary = (ROOT / "GLOSSARY.md").read_text(encoding="utf-8")
    (folder / "glossary.md").write_text(relink(glossary, lang, names, repo), encoding="utf-8")
    lessons_title, lessons_body = lessons_section(sections, lang)
    toctrees = "\n".join([
        "```{toctree}\n:hidden:\n\nstart\n```",
        f"```{{toctree}}\n:hidden:\n:caption: {lessons_title}\n\n"
        + "\n".join(lesson.name for lesson in mine) + "\n```",
        "```{toctree}\n:hidden:\n\nglossary\n```",
    ])
    index = "\n\n".join([
        f"# {title}",
        relink(intro, lang, names, repo),
        words["to_start"].format(title=start_title),
        f"## {lessons_title}",
        replace_table(relink(lessons_body, lang, names, repo), lesson_list(mine)),
        toctrees,
    ])
    (folder / "index.md").write_text(index + "\n", encoding="utf-8")
    twins = {lesson.name for lesson in all_lessons[other]}
    return {
        "lang": lang,
        "other": other,
        "title": title.split(":")[0].strip(),
        "native": NATIVE,
        "words": words,
        "other_words": WORDS[other],
        "lessons": {lesson.name: f"{lang}/{lesson.path.name}" for lesson in mine},
        "twins": sorted(names & twins),
        "repository": repo,
        "branch": branch(),
        "jupyter": JUPYTER_URL,
    }


def root_page(titles: dict) -> str:
    """``_site/index.html``: both languages, and a script that goes on to the reader's (the last one chosen on this
    site, else the browser's)."""
    links = "\n".join(
        f'    <li><a href="{lang}/index.html" hreflang="{lang}" lang="{lang}" data-lang="{lang}">'
        f'<strong>{NATIVE[lang]}</strong>: {titles[lang]}</a></li>' for lang in LANGUAGES)
    choose = " / ".join(WORDS[lang]["choose"] for lang in LANGUAGES)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{" / ".join(titles[lang].split(":")[0] for lang in LANGUAGES)}</title>
  <script>
    (function () {{
      var known = {json.dumps(list(LANGUAGES))}, chosen = null;
      try {{ chosen = localStorage.getItem("course-lang"); }} catch (e) {{}}
      if (known.indexOf(chosen) < 0) {{
        var wanted = (navigator.languages || [navigator.language || ""])
          .map(function (l) {{ return l.slice(0, 2).toLowerCase(); }});
        chosen = wanted.filter(function (l) {{ return known.indexOf(l) >= 0; }})[0] || known[0];
      }}
      if (location.hash !== "#choose") location.replace(chosen + "/index.html");
    }})();
  </script>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem;
           line-height: 1.5; }}
    li {{ margin: 0.75rem 0; }}
  </style>
</head>
<body>
  <h1>{choose}</h1>
  <ul>
{links}
  </ul>
</body>
</html>
"""


def build(out: Path = OUT, quiet: bool = True) -> float:
    """Build the website into ``out`` (emptied first); return the seconds it took."""
    started = time.perf_counter()
    repo = repository()
    all_lessons = {lang: lessons(lang) for lang in LANGUAGES}
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        tmp = Path(tmp)
        if out.exists():
            if any(out.iterdir()) and not (out / ".nojekyll").exists():  # never empty a folder we did not build
                raise SystemExit(f"[site] {out} is not empty and is no site built here: choose another --out")
            shutil.rmtree(out)
        out.mkdir(parents=True)
        builds = []
        for lang in LANGUAGES:
            data = stage(lang, tmp / lang, all_lessons, repo)
            (tmp / f"{lang}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            # built in tmp/, moved to out/ after: MyST-NB writes beside the output folder (jupyter_execute/)
            argv = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(CONF_DIR),
                    "-d", str(tmp / f"{lang}.doctrees"),
                    *(["-q"] if quiet else []), str(tmp / lang), str(tmp / f"{lang}.build" / "html")]
            env = {**os.environ, SITE_DATA: str(tmp / f"{lang}.json"), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
            builds.append((lang, subprocess.Popen(argv, env=env)))  # both languages at once: one core each
        failed = [lang for lang, process in builds if process.wait() != 0]
        for lang in LANGUAGES:
            if lang not in failed:
                shutil.move(tmp / f"{lang}.build" / "html", out / lang)
                for source in (out / lang / "_static").glob("*macros.html"):
                    source.unlink()  # the themes' Jinja sources, copied with their static files: not pages
    if failed:
        raise SystemExit(f"[site] the Sphinx build of {', '.join(failed)} failed (its messages are above)")
    titles = {}
    for lang in LANGUAGES:
        titles[lang] = blocks((ROOT / README[lang]).read_text(encoding="utf-8"))[0]
    (out / "index.html").write_text(root_page(titles), encoding="utf-8")
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ and _images/ as they are
    return time.perf_counter() - started


def main(out: Path = OUT) -> int:
    seconds = build(out)
    counts = ", ".join(f"{len(lessons(lang))} lessons in {lang}" for lang in LANGUAGES)
    out = out.resolve()
    where = out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out
    print(f"[site] built {where}/ in {seconds:.1f} s ({counts}), from the stored outputs.")
    print(f"[site] open {where}/index.html in a browser, or serve it: "
          f"python3 -m http.server --directory {where} --bind 127.0.0.1 8000")
    return 0
