"""Sphinx's configuration of the course's website, one build per language (course_tasks/machinery/site.py stages
the source and runs it; the JSON file named by COURSE_SITE_DATA says what was staged).

Beyond what MyST-NB and the Sphinx Book Theme do: every page links its twin in the other language (a button
in the page's header, and ``<link rel="alternate" hreflang>``), and every lesson says, under its introduction,
how to run it: the course's JupyterLab, the notebook in the repository.
"""
import html
import json
import os
from pathlib import Path

from docutils import nodes

DATA = json.loads(Path(os.environ["COURSE_SITE_DATA"]).read_text(encoding="utf-8"))
WORDS = DATA["words"]

project = DATA["title"]
html_title = DATA["title"]
language = DATA["lang"]
author = ""
copyright = ""
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["**.ipynb_checkpoints"]

# The stored outputs, as they are: nothing is executed.
nb_execution_mode = "off"
nb_merge_streams = True  # print() after print() is one block, as in JupyterLab
myst_heading_anchors = 3

templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = ["course.js"]
html_theme = "sphinx_book_theme"
html_copy_source = True
html_sourcelink_suffix = ""  # the download button gives the notebook itself: _sources/04_group.ipynb
html_show_sphinx = False
html_show_copyright = False
html_last_updated_fmt = None
html_theme_options = {
    "article_header_end": ["course-lang-switch.html", "article-header-buttons.html"],
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": bool(DATA["repository"]),
    "repository_url": DATA["repository"] or "",
    "repository_branch": DATA["branch"],
    "path_to_docs": f"notebooks/{DATA['lang']}",
    "show_prev_next": True,
}


def twin_href(pagename: str) -> str:
    """The same page in the other language; its index where the other language has no such page."""
    same = pagename in DATA["twins"] or pagename in ("index", "start", "glossary", "search", "genindex")
    return f"../{DATA['other']}/{pagename if same else 'index'}.html"


def add_switch(app, pagename, templatename, context, doctree):
    other = DATA["other"]
    href = twin_href(pagename)
    context["course_switch"] = {"href": href, "lang": other, "label": DATA["native"][other],
                                "title": DATA["other_words"]["switch_title"]}
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{other}" href="{href}">')


def run_box(docname: str) -> str:
    """How to run the lesson ``docname``: its page's box (left out of the search index)."""
    path = DATA["lessons"][docname]  # en/04_group.ipynb
    lab = f"{DATA['jupyter']}/lab/tree/{path}"
    repo = DATA["repository"]
    links = [f'<a class="course-run-lab" href="{html.escape(lab)}">{WORDS["run_lab"]}</a> ({WORDS["run_lab_when"]})']
    if repo:
        blob = f"{repo}/blob/{DATA['branch']}/notebooks/{path}"
        links.append(f'<a class="course-run-repo" href="{html.escape(blob)}">{WORDS["run_repo"]}</a>')
    clone = (WORDS["run_step_clone"].format(clone=html.escape(repo + ".git")) if repo
             else WORDS["run_step_clone_nourl"])
    steps = "".join(f"<li>{step}</li>" for step in
                    (clone, WORDS["run_step_up"], WORDS["run_step_open"].format(path=html.escape(path))))
    return (f'<p><strong>{WORDS["run"]}:</strong> {" · ".join(links)}</p>'
            f'<details class="course-run-how"><summary>{WORDS["run_how"]}</summary>'
            f'<ol>{steps}</ol><p>{WORDS["run_note"]}</p></details>')


def add_run_box(app, doctree, docname):
    """Put the box under the lesson's introduction: after the title's paragraphs, before its first section."""
    if docname not in DATA["lessons"]:
        return
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    box = nodes.raw("", f'<aside class="course-run">{run_box(docname)}</aside>', format="html", classes=["no-search"])
    first_section = next((i for i, child in enumerate(top.children) if isinstance(child, nodes.section)), len(top))
    top.insert(first_section, box)


def setup(app):
    app.connect("html-page-context", add_switch)
    app.connect("doctree-resolved", add_run_box)
