"""Test-run hooks: start a live broker (the embedded server) and the course's workers once, before any notebook runs,
and stop them.

nbval runs every notebook in a kernel of its own (a separate process), so the workers are started
from pytest hooks, not fixtures; the kernels inherit the environment that points them there.
With pytest-xdist (``-n 2 --dist loadfile``, see pyproject.toml) every test process starts a live
setup of its own: lessons that time the worker never share it with another lesson.
"""
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
    from course_tasks.machinery.harness import (
        REQUIRE_RABBITMQ,
        LiveHarness,
        RabbitMQMissing,
        rabbitmq_required_but_missing,
    )

    _compare_without_notices()
    if _is_xdist_controller(config):
        missing = rabbitmq_required_but_missing()
        if missing:
            raise pytest.UsageError(missing)  # at once, before the test processes start
        return
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


def _without_notices(outputs):
    """``outputs`` but the course's notices (machinery/notice.py): what the course says while it waits is no part of
    the lesson's output, so a busy machine that waits longer still matches the stored outputs."""
    from course_tasks.machinery.notice import METADATA

    return [o for o in outputs if not all(o.get("metadata", {}).get(k) == v for k, v in METADATA.items())]


def _compare_without_notices():
    from nbval.plugin import IPyNbCell

    compare = IPyNbCell.compare_outputs
    if getattr(compare, "course_notices_left_out", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        return compare(self, _without_notices(test), _without_notices(ref), skip_compare)

    compare_outputs.course_notices_left_out = True
    IPyNbCell.compare_outputs = compare_outputs


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
