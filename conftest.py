"""Test-run hooks: start a live broker (the embedded server) and the course's workers once, before any notebook runs,
and stop them; hand the tests to the test processes, longest first.

nbval runs every notebook in a kernel of its own (a separate process), so the workers are started
from pytest hooks, not fixtures; the kernels inherit the environment that points them there.
With pytest-xdist (``-n 2 --dist loadfile``, see pyproject.toml) every test process starts a live
setup of its own: lessons that time the worker never share it with another lesson.

With ``-n 4`` (a machine with more cores), two of the test processes run the notebooks (never more than two
lessons at once, as the floor in benchmarks/floor.py counts) and the other two the tests of tests/, at a lower
CPU priority (nice 5), so that a lesson's timing cells are not starved by them; a lesson process takes tests once
no lesson is left. A file is never split across processes (loadfile); the files go out longest first, by the
durations of the last runs (.course/test-durations.json, written at the end of every run;
tests/test-durations.json, per file, for a fresh clone). A run of a few files starts no more processes than it
can use.
"""
import json
import os
import tempfile
from pathlib import Path

import pytest

_harness = None


def _is_xdist_controller(config):
    """The process that only hands tests to the xdist workers (which run them)."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config):
    global _harness
    if config.option.collectonly or config.option.help:
        return
    if _is_xdist_controller(config):
        wanted = min(len(config.option.tx), _processes_needed(config))
        config.option.numprocesses, config.option.tx = wanted, config.option.tx[:wanted]
    from course_tasks.machinery import nbval_notices
    from course_tasks.machinery.harness import (
        REQUIRE_RABBITMQ,
        LiveHarness,
        RabbitMQMissing,
        rabbitmq_required_but_missing,
    )

    nbval_notices.pytest_configure(config)  # nbval compares a lesson's outputs without the course's notices
    if _is_xdist_controller(config):
        missing = rabbitmq_required_but_missing()
        if missing:
            raise pytest.UsageError(missing)  # at once, before the test processes start
        return
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    if worker and _worker_number(worker) >= LESSON_PROCESSES and hasattr(os, "nice"):
        os.nice(TESTS_NICENESS)  # a lesson's timing cells get the CPU first; its live setup and kernels inherit this
    log_dir = Path(tempfile.mkdtemp(prefix="course-test-"))
    try:
        _harness = LiveHarness(log_dir).start(require_rabbitmq=os.environ.get(REQUIRE_RABBITMQ) == "1")
    except RabbitMQMissing as missing:
        raise pytest.UsageError(str(missing)) from None
    config.course_harness = _harness


def pytest_unconfigure(config):
    global _harness
    if _harness is not None:
        _harness.stop()
        _harness = None


def pytest_report_header(config):
    if _is_xdist_controller(config):
        return "course: every test process starts the embedded broker and the course's workers of its own"
    if _harness is None:
        return None
    rabbit = f"RabbitMQ at {_harness.rabbitmq}" if _harness.rabbitmq else f"no RabbitMQ: {_harness.rabbitmq_missing}"
    from course_tasks.machinery.services import server_version

    broker = os.environ["CELERY_BROKER_URL"]
    return f"course: live {server_version(broker)} at {broker}, workers started; {rabbit}"


def pytest_runtest_setup(item):
    """A lesson that writes to the playground (lesson 10) starts from an empty one, as its stored outputs did."""
    path = Path(str(item.fspath))
    if _harness is not None and path.suffix == ".ipynb" and item.name == "Cell 0" \
            and "%%playground" in path.read_text(encoding="utf-8"):
        _harness.fresh_playground()


def pytest_collection_modifyitems(session, config, items):
    """Without RabbitMQ, everything that needs it (lesson 08's cells, its exercise solutions) is left out,
    and tests/test_rabbitmq_lesson.py reports that as one skip, with the reason."""
    if _harness is None or _harness.rabbitmq:
        return
    dropped = [item for item in items if _needs_rabbitmq(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def _needs_rabbitmq(item):
    if item.get_closest_marker("needs_rabbitmq"):
        return True
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        return "rabbitmq" in path.name
    params = getattr(getattr(item, "callspec", None), "params", {})
    return path.name == "test_exercises.py" and "rabbitmq" in str(params.get("name", ""))


# -- scheduling: which test process runs what, in which order ------------------------------------------------------
ROOT = Path(__file__).resolve().parent
DURATIONS = ROOT / ".course" / "test-durations.json"  # {nodeid: seconds} of the last runs on this machine
SEED_DURATIONS = ROOT / "tests" / "test-durations.json"  # {file: seconds}: the order of a fresh clone's first run
LESSON_PROCESSES = 2  # notebooks run in at most this many processes at once (benchmarks/floor.py's PROCESSES)
UNKNOWN_SECONDS = 1.0  # a test not timed yet
TESTS_NICENESS = 5  # the processes that never run a notebook yield the CPU to the two that do


def _worker_number(worker_id):
    """0 for xdist's gw0, the first test process."""
    return int(worker_id.removeprefix("gw"))


def _is_notebook(nodeid_or_path):
    return str(nodeid_or_path).split("::", 1)[0].endswith(".ipynb")


def _processes_needed(config):
    """Up to LESSON_PROCESSES for notebooks and as many for the other test files, fewer when fewer files are
    asked for (each process starts a live setup: one that gets nothing to run is wasted)."""
    notebooks = files = 0
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::", 1)[0])
        found = [path] if path.is_file() else [p for p in path.rglob("*") if p.suffix in (".ipynb", ".py")
                                                and "playground" not in p.parts and ".ipynb_checkpoints" not in p.parts
                                                and (p.suffix == ".ipynb" or p.name.startswith("test_"))]
        notebooks += sum(_is_notebook(p) for p in found)
        files += sum(not _is_notebook(p) for p in found)
    return max(1, min(notebooks, LESSON_PROCESSES) + min(files, LESSON_PROCESSES))


def _read_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class _LongestFirst:
    """xdist's loadfile scheduling, with the files handed out longest first and the notebooks kept to the first
    LESSON_PROCESSES test processes (made a subclass of LoadFileScheduling in pytest_xdist_make_scheduler)."""

    def _cost(self, scope, unit):
        timed = [self._durations[nodeid] for nodeid in unit if nodeid in self._durations]
        if timed:
            return sum(timed) + UNKNOWN_SECONDS * (len(unit) - len(timed))
        return self._seed.get(scope, UNKNOWN_SECONDS * len(unit))

    def _runs_lessons(self, node):
        return node.gateway.id in self._lesson_nodes

    def schedule(self):
        assert self.collection_is_completed
        if self.collection is None:
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            self.collection = list(next(iter(self.registered_collections.values())))
            units = {}
            for nodeid in self.collection:
                units.setdefault(self._split_scope(nodeid), {})[nodeid] = False
            self._durations, self._seed = _read_json(DURATIONS), _read_json(SEED_DURATIONS)
            self._lesson_nodes = sorted((node.gateway.id for node in self.nodes), key=_worker_number)[:LESSON_PROCESSES]
            for scope, unit in sorted(units.items(), key=lambda item: -self._cost(*item)):
                self.workqueue[scope] = unit
            for node in self.nodes:  # one file each first: the longest ones go to different processes
                self._assign_next(node)
        for node in self.nodes:
            self._reschedule(node)

    def _assign_next(self, node):
        """Send ``node`` the longest file left that it may run; False when there is none."""
        scopes = [scope for scope in self.workqueue if not _is_notebook(scope)]
        if self._runs_lessons(node):
            scopes = [scope for scope in self.workqueue if _is_notebook(scope)] or scopes
        if not scopes:
            return False
        unit = self.workqueue.pop(scopes[0])
        self.assigned_work[node][scopes[0]] = unit
        collection = self.registered_collections[node]
        node.send_runtest_some([collection.index(nodeid) for nodeid, done in unit.items() if not done])
        return True

    def _reschedule(self, node):
        if node.shutting_down:
            return
        # two pending items at least: a test process runs an item once it knows the next one (or that none comes)
        while self._pending_of(self.assigned_work[node]) < 2:
            if not self._assign_next(node):
                node.shutdown()  # nothing left that this process may run: it ends after what it has
                return


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    return type("LongestFirstScheduling", (_LongestFirst, LoadFileScheduling), {})(config, log)


_timed = {}


def pytest_runtest_logreport(report):
    """Add up setup, call and teardown of every test (in the process that reports: xdist's controller, or the
    only one)."""
    _timed[report.nodeid] = _timed.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput") or not _timed:
        return
    durations = _read_json(DURATIONS) | {nodeid: round(seconds, 3) for nodeid, seconds in _timed.items()}
    try:
        DURATIONS.parent.mkdir(mode=0o700, exist_ok=True)
        DURATIONS.write_text(json.dumps(durations, indent=0, sort_keys=True), encoding="utf-8")
    except OSError:
        pass  # a read-only clone: the next run keeps the order it had
