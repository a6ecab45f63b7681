"""Lesson 18: run pytest on a test file of the playground, from the notebook, and show what it says.

    run_tests("test_receipts.py")     # the report: one line per test, a failure's first line, the counts

pytest runs in a process of its own, with the course's Python and the course's broker (``CELERY_BROKER_URL``), in the
playground folder, bounded by a timeout. Only the plugins it is given load (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``; the
course's own nbval and xdist would add seconds), and nothing of the course's own test configuration: its root
``conftest.py`` starts a whole live setup, so pytest is pointed at the playground alone (``-c``, ``--rootdir``,
``--confcutdir``). The report is built from pytest's JUnit XML: the same text on every run (no durations, no paths).
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from . import settings
from .apps import app_for
from .exclusive import exclusive
from .i18n import register, say
from .machinery.services import Service
from .playground import PLAYGROUND

TIMEOUT = 120.0  # seconds: a test that waits for a worker without a timeout is stopped, and said so
REPORT_LINES = 15  # the lines of pytest's own output shown when it ran no test

register({
    "tests_header": {"en": "pytest {name} (in the playground):", "ru": "pytest {name} (в песочнице):"},
    "tests_timeout": {
        "en": "pytest {name} did not finish within {seconds:g} s and was stopped. Does a test wait for a result "
              "without a timeout (.get() with no timeout=), or for a worker that never starts?",
        "ru": "pytest {name} не закончился за {seconds:g} с и остановлен. Может быть, тест ждёт результата без "
              "тайм-аута (.get() без timeout=) или воркера, который так и не запустился?",
    },
    "tests_missing": {
        "en": "There is no {name} in the playground ({folder}): write it with %%playground {name} first.",
        "ru": "В песочнице ({folder}) нет {name}: сначала запишите его ячейкой %%playground {name}.",
    },
    "tests_no_run": {
        "en": "pytest ran no test (exit code {code}). Its last lines:\n{output}",
        "ru": "pytest не выполнил ни одного теста (код выхода {code}). Последние строки его вывода:\n{output}",
    },
})

OUTCOMES = ("PASSED", "FAILED", "ERROR", "SKIPPED")
DOTTED = re.compile(r"\b(?:[a-z_]\w*\.)+(?=[A-Z]\w*)")  # kombu.exceptions.EncodeError -> EncodeError


@dataclass
class TestReport:
    """What one run of pytest found: ``rows`` of (outcome, test, message), pytest's exit code and its whole output.
    Shown, it is the report."""

    name: str
    rows: list = field(default_factory=list)
    code: int = 0
    output: str = ""
    timed_out: bool = False

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def outcomes(self):
        """``{"PASSED": 3, "FAILED": 1}``"""
        counts = {}
        for outcome, _, _ in self.rows:
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    def text(self):
        if self.timed_out:
            return say("tests_timeout", name=self.name, seconds=TIMEOUT)
        lines = [say("tests_header", name=self.name)]
        for outcome, test, message in self.rows:
            lines.append(f"  {outcome:<7} {test}")
            if message:
                lines.append(f"          {message}")
        if self.rows:
            lines.append("  " + ", ".join(f"{n} {outcome.lower()}" for outcome, n in self.outcomes().items()))
        else:
            tail = "\n".join(self.output.strip().splitlines()[-REPORT_LINES:])
            lines.append(say("tests_no_run", code=self.code, output=tail.replace(str(PLAYGROUND) + os.sep, "")))
        return "\n".join(lines)

    def __repr__(self):
        return self.text()


def _rows(xml):
    rows = []
    for case in ET.parse(xml).iter("testcase"):
        bad = next((case.find(tag) for tag in ("failure", "error") if case.find(tag) is not None), None)
        skipped = case.find("skipped")
        if bad is not None:
            message = (bad.get("message") or "").strip().splitlines()
            rows.append(("FAILED" if bad.tag == "failure" else "ERROR", case.get("name"),
                         DOTTED.sub("", message[0]) if message else ""))
        elif skipped is not None:
            rows.append(("SKIPPED", case.get("name"), skipped.get("message") or ""))
        else:
            rows.append(("PASSED", case.get("name"), ""))
    return rows


def run_tests(name, timeout=TIMEOUT, plugins=(), env=None):
    """Run pytest on the playground's file ``name``; the :class:`TestReport` (shown as the report).

    The worker a test starts (``celery_worker``) consumes the queue course.test on the course's broker, which is
    emptied first. ``plugins``/``env``: more ``-p`` plugins and environment variables (the exercises' checkers)."""
    path = PLAYGROUND / name
    if not path.is_file():
        raise FileNotFoundError(say("tests_missing", name=name, folder=PLAYGROUND))
    # The playground and the test queue are this notebook's while pytest runs (a notebook's %%playground holds them
    # until its kernel stops): a twin notebook's test worker, of the same name, never shares course.test with this one.
    with exclusive("play"):
        return _run(name, timeout, plugins, env)


def _run(name, timeout, plugins, env):
    app = app_for("main")
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(settings.TEST_QUEUE)  # nothing left by an interrupted run
    with tempfile.TemporaryDirectory(prefix="course-pytest-") as tmp:
        ini, xml, log = Path(tmp) / "pytest.ini", Path(tmp) / "report.xml", Path(tmp) / "output.txt"
        ini.write_text("[pytest]\n", encoding="utf-8")  # none of the course's own configuration
        argv = [sys.executable, "-m", "pytest", name, "-p", "celery.contrib.pytest",
                *[arg for plugin in plugins for arg in ("-p", plugin)], "-p", "no:cacheprovider",
                "-c", str(ini), "--rootdir", str(PLAYGROUND), "--confcutdir", str(PLAYGROUND),
                "-q", "--tb=short", "-o", "junit_family=xunit1", f"--junitxml={xml}"]
        environment = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1",
                           COURSE_AUTOSTART="0", CELERY_BROKER_URL=app.conf.broker_write_url,
                           CELERY_RESULT_BACKEND=app.conf.result_backend, **(env or {}))
        service = Service("pytest", argv, environment, log, cwd=PLAYGROUND).start()
        report = TestReport(name)
        try:
            report.code = service.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            report.timed_out = True
        finally:
            if service.alive():  # a timeout, or the cell interrupted: pytest and what it started stop
                service.kill()
        report.output = service.log_since(0)
        if xml.exists() and not report.timed_out:
            report.rows = _rows(xml)
    return report
