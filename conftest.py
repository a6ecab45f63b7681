"""Test-run hooks: start a live Redis and the course's workers once, before any notebook runs, and stop them.

nbval runs every notebook in a kernel of its own (a separate process), so the workers are started
from pytest hooks, not fixtures; the kernels inherit the environment that points them there.
"""
import os
import tempfile
from pathlib import Path

import pytest

_harness = None


def _is_xdist_worker(config):
    return hasattr(config, "workerinput")


def pytest_configure(config):
    global _harness
    if _is_xdist_worker(config) or config.option.collectonly or config.option.help:
        return
    from course_tasks.harness import REQUIRE_RABBITMQ, LiveHarness

    log_dir = Path(tempfile.mkdtemp(prefix="course-test-"))
    _harness = LiveHarness(log_dir).start()
    config.course_harness = _harness
    if _harness.rabbitmq_missing and os.environ.get(REQUIRE_RABBITMQ) == "1":
        _harness.stop()
        raise pytest.UsageError(f"{REQUIRE_RABBITMQ}=1, but {_harness.rabbitmq_missing}")


def pytest_unconfigure(config):
    global _harness
    if _harness is not None:
        _harness.stop()
        _harness = None


def pytest_report_header(config):
    if _harness is None:
        return None
    rabbit = f"RabbitMQ at {_harness.rabbitmq}" if _harness.rabbitmq else f"no RabbitMQ: {_harness.rabbitmq_missing}"
    return f"course: live Redis at {os.environ['CELERY_BROKER_URL']}, workers started; {rabbit}"


def pytest_collection_modifyitems(session, config, items):
    """Without RabbitMQ, the RabbitMQ lesson is left out, and one test says so as a skip with the reason."""
    if _harness is None or _harness.rabbitmq:
        return
    dropped = [item for item in items if "rabbitmq" in Path(str(item.fspath)).name and str(item.fspath).endswith(".ipynb")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
    # The RabbitMQ lesson's exercise solutions run live against its worker too: skipped, with the reason.
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if Path(str(item.fspath)).name == "test_exercises.py" and "rabbitmq" in str(params.get("name", "")):
            item.add_marker(pytest.mark.skip(reason=_harness.rabbitmq_missing))
