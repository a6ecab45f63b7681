"""The course's website, checked as a reader would meet it.

``python3 course.py site`` runs once for this file (into a temporary folder; it executes nothing). Then every
``href`` and ``src`` of every page is followed on disk, and every lesson is opened in a real browser in both
languages: its stored outputs and pictures are on the page, its solutions collapsed, its neighbours linked, and
its language switch lands on its twin. Search is tried in both languages.

The browser is the machine's Chromium (Debian's ``chromium``; Google Chrome does too), driven by Playwright,
which never downloads a browser of its own. Where none is installed, the browser tests skip and say why;
``COURSE_REQUIRE_BROWSER=1`` (set by .ci/run) makes that a failure.
"""
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from course_tasks.machinery import copies
from course_tasks.machinery.site import LANGUAGES, lessons

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_BROWSER = "COURSE_REQUIRE_BROWSER"
BROWSERS = ("chromium", "google-chrome", "google-chrome-stable", "chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LESSONS = {lang: lessons(lang) for lang in LANGUAGES}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The website, built once by the course's own command; its build time is printed with the results."""
    out = tmp_path_factory.mktemp("site") / "_site"
    done = subprocess.run([sys.executable, "-m", "course_tasks", "site", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout.strip())
    return out


# -- what the site is made of (no build) ---------------------------------------------------------------------

def test_a_new_lesson_is_found_and_titled_by_its_first_heading(tmp_path):
    """Nothing lists the lessons by hand: a notebook in notebooks/<lang>/ is a page, titled by its first heading."""
    for lang, heading in (("en", "# 15. Beat: tasks on a schedule"), ("ru", "# 15. Beat: задачи по расписанию")):
        (tmp_path / lang).mkdir()
        notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": [heading + "\n", "\n", "text"]}],
                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (tmp_path / lang / "15_beat.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    found = {lang: lessons(lang, root=tmp_path) for lang in LANGUAGES}
    assert [(lesson.name, lesson.title) for lesson in found["en"]] == [("15_beat", "15. Beat: tasks on a schedule")]
    assert [(lesson.name, lesson.title) for lesson in found["ru"]] == [("15_beat", "15. Beat: задачи по расписанию")]


def test_the_readme_gives_the_index_and_the_start_page():
    """The index and the start page are the README's own sections, found by what they contain."""
    from course_tasks.machinery.site import README, blocks, lessons_section, start_section

    for lang in LANGUAGES:
        title, intro, sections = blocks((ROOT / README[lang]).read_text(encoding="utf-8"))
        assert title and intro
        start_title, start_body = start_section(sections, README[lang])
        assert "```bash\npython3 course.py up\n```" in start_body, start_title
        lessons_title, lessons_body = lessons_section(sections, lang)
        assert f"notebooks/{lang}/" in lessons_body, lessons_title


# -- on disk -------------------------------------------------------------------------------------------------

class Links(html.parser.HTMLParser):
    """The ``href``/``src`` of a page, and the ids its fragments may point at."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            elif name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def parsed(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def test_every_lesson_has_its_page_in_both_languages(site):
    for lang in LANGUAGES:
        assert LESSONS[lang], f"no lesson found in notebooks/{lang}/"
        for lesson in LESSONS[lang]:
            page = site / lang / f"{lesson.name}.html"
            assert page.exists(), f"{lesson.path.relative_to(ROOT)} has no page"
            title = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.DOTALL).group(1)
            assert html.unescape(title).startswith(lesson.plain_title), (page, title)
        for page in ("index", "start", "glossary", "search"):
            assert (site / lang / f"{page}.html").exists(), page
    assert (site / "index.html").exists()


def test_no_internal_link_is_broken(site):
    """Every href and src of every page: the file it names exists in the site, and so does its #fragment."""
    broken, pages = [], sorted(site.rglob("*.html"))
    assert len(pages) > 2 * len(LESSONS["en"])
    for page in pages:
        for link in parsed(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(site)}: {link}"
            if not target.is_relative_to(site.resolve()) and not target.is_relative_to(site):
                broken.append(f"{where} (leaves the site)")
            elif not target.exists():
                broken.append(where)
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parsed(target).ids:
                broken.append(f"{where} (no such anchor)")
    assert not broken, f"{len(broken)} broken links, e.g.:\n" + "\n".join(broken[:20])


def test_a_lesson_opens_in_the_course_jupyterlab(site):
    """The run link of a lesson goes where `python3 course.py up` serves the learner's copy of it."""
    for lang in LANGUAGES:
        first = LESSONS[lang][0]
        lab = [link for link in parsed(site / lang / f"{first.name}.html").links if "/lab/tree/" in link]
        assert lab == [f"http://127.0.0.1:8888/lab/tree/{copies.first_lesson(lang)}"], lab


# -- in the browser ------------------------------------------------------------------------------------------

def find_browser():
    """The path of a Chromium to drive, and why there is none."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, ("Python's playwright is not installed (python3 course.py installs it from requirements.txt, "
                      "except on Intel Macs, where its greenlet has no wheel)")
    chosen = os.environ.get("COURSE_CHROMIUM")
    found = shutil.which(chosen) if chosen else next(filter(None, map(shutil.which, BROWSERS)), None)
    if found:
        return found, None
    return None, ("no Chromium on this machine (looked for " + (chosen or ", ".join(BROWSERS)) + "): the website's "
                  "browser tests need one: on Debian or Ubuntu, sudo apt-get install chromium; elsewhere, set "
                  "COURSE_CHROMIUM to a Chromium or Google Chrome executable")


@pytest.fixture(scope="module")
def server(site):
    """The site over HTTP on 127.0.0.1 (a free port), as GitHub Pages serves it."""
    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    path, missing = find_browser()
    if missing:
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(f"{missing} ({REQUIRE_BROWSER}=1)")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every failed request and script error."""
    context = browser.new_context(locale="en-US")
    tab = context.new_page()
    tab.problems = []
    tab.on("requestfailed", lambda request: tab.problems.append(f"failed: {request.url}"))
    tab.on("response", lambda response: response.status >= 400 and tab.problems.append(
        f"{response.status}: {response.url}"))
    tab.on("pageerror", lambda error: tab.problems.append(f"script error: {error}"))
    yield tab
    context.close()


def expected(lesson):
    """What a reader must see of the notebook: a line of each stored output, its pictures, its solutions."""
    cells = json.loads(lesson.path.read_text(encoding="utf-8"))["cells"]
    lines, pictures, solutions = [], 0, 0
    for cell in cells:
        if cell["cell_type"] == "markdown":
            solutions += "".join(cell["source"]).count("<details")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            pictures += "image/png" in data
            text = output.get("text") or data.get("text/plain") or ""
            text = "".join(text) if isinstance(text, list) else text
            first = next((line.strip() for line in text.splitlines() if line.strip()), None)
            if output["output_type"] == "error":
                lines.append(output["ename"])
            elif first and "image/png" not in data:
                lines.append(first)
    return lines, pictures, solutions


def check_lesson(tab, lesson, position):
    mine = LESSONS[lesson.lang]
    assert tab.title().startswith(lesson.plain_title), (tab.url, tab.title())
    article = tab.locator("article.bd-article")
    text = re.sub(r"\s+", " ", article.inner_text())
    lines, pictures, solutions = expected(lesson)
    missing = [line for line in lines if re.sub(r"\s+", " ", line) not in text]
    assert not missing, f"{tab.url}: stored outputs not on the page: {missing[:5]}"
    shown = tab.evaluate("""() => [...document.querySelectorAll('article.bd-article .cell_output img')]
                                  .map(img => img.complete && img.naturalWidth > 0)""")
    assert shown == [True] * pictures, f"{tab.url}: {pictures} pictures stored, shown: {shown}"
    closed = tab.evaluate("""() => [...document.querySelectorAll('article.bd-article details')]
                                   .filter(d => !d.closest('.course-run')).map(d => !d.open)""")
    assert closed == [True] * solutions, f"{tab.url}: {solutions} solutions collapsed in the notebook, here: {closed}"
    previous = tab.locator("a.left-prev").get_attribute("href")
    following = tab.locator("a.right-next").get_attribute("href")
    assert previous == ("start.html" if position == 0 else f"{mine[position - 1].name}.html"), previous
    assert following == ("glossary.html" if position == len(mine) - 1 else f"{mine[position + 1].name}.html"), following
    assert not tab.problems, f"{tab.url}: {tab.problems}"


def test_every_lesson_renders_in_both_languages_and_switches_to_its_twin(page, server):
    """Each lesson as a reader sees it, in the first language; its language switch must land on the twin, which
    is seen the same way; the twin's switch must lead back. (Every page is loaded once: the test's cost is small.)"""
    first, other = LANGUAGES
    twins = {lesson.name: lesson for lesson in LESSONS[other]}
    for position, lesson in enumerate(LESSONS[first]):
        page.goto(f"{server}/{first}/{lesson.name}.html")
        check_lesson(page, lesson, position)
        with page.expect_navigation():
            page.click("#course-lang-switch")
        assert page.url == f"{server}/{other}/{lesson.name}.html", f"the switch of {lesson.name} led to {page.url}"
        twin = twins[lesson.name]
        check_lesson(page, twin, LESSONS[other].index(twin))
        assert page.locator("#course-lang-switch").get_attribute("href") == f"../{first}/{lesson.name}.html"


@pytest.mark.parametrize("lang, query, page_name", [
    ("en", "acknowledgement", "12_acks_and_delivery"),
    ("ru", "воркерами", "09_inspecting_workers"),       # Russian stems: "воркерами" finds "воркер", "воркера"
    ("ru", "подтверждений", "12_acks_and_delivery"),
    ("ru", "очередь", "glossary"),
])
def test_search_finds_words_in_each_language(page, server, lang, query, page_name):
    page.goto(f"{server}/{lang}/search.html?q={query}")
    page.wait_for_function("""() => {  // Sphinx shows the results one by one, then drops the title's pulsing dots
        const title = document.querySelector('#search-results h2');
        return title && !title.querySelector('span'); }""", timeout=20_000)
    found = [Path(urlsplit(href).path).stem for href in
             page.evaluate("() => [...document.querySelectorAll('#search-results ul.search li a')].map(a => a.href)")]
    assert page_name in found, (query, found)
    assert not page.problems, page.problems


@pytest.mark.parametrize("locale, lang", [("ru-RU", "ru"), ("en-GB", "en"), ("de-DE", "en")])
def test_the_root_sends_a_reader_to_a_language(browser, server, locale, lang):
    context = browser.new_context(locale=locale)
    try:
        tab = context.new_page()
        tab.goto(f"{server}/", wait_until="commit")
        tab.wait_for_url(f"{server}/{lang}/index.html")
        tab.click("#course-lang-switch")  # a reader's choice is where the root sends them next time
        tab.goto(f"{server}/", wait_until="commit")
        other = next(code for code in LANGUAGES if code != lang)
        tab.wait_for_url(f"{server}/{other}/index.html")
    finally:
        context.close()


def test_the_workflow_publishes_what_the_command_builds():
    """.github/workflows/site.yml builds with the README's command and publishes that folder to GitHub Pages."""
    import yaml

    from course_tasks.machinery.site import OUT

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text())
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert any(step.get("run") == "python3 course.py site" for step in build["steps"])
    upload = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == OUT.name == "_site"
    assert f"{OUT.name}/" in (ROOT / ".gitignore").read_text().splitlines()
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][-1]["uses"].startswith("actions/deploy-pages")
