"""Fixtures shared by the test modules of tests/ (the test run's hooks are in ../conftest.py)."""
import textwrap
import uuid
from pathlib import Path

import pytest
from test_launcher import Launcher

from course_tasks import settings


@pytest.fixture
def launch():
    started = []

    def start(broker, *args, **env):
        started.append(Launcher(broker, *args, **env))
        return started[-1]

    yield start
    for launcher in started:
        launcher.kill()


@pytest.fixture
def playground_file():
    """Write a test file into the playground (removed afterwards); its name."""
    written = []

    def write(source, name=None):
        # read when called: this file is imported before the run's hooks point the playground at the test setup's
        playground = Path(settings.playground_dir())
        name = name or f"test_probe_{uuid.uuid4().hex[:8]}.py"
        playground.mkdir(parents=True, exist_ok=True)
        (playground / name).write_text(textwrap.dedent(source), encoding="utf-8")
        written.append(playground / name)
        return name

    yield write
    for path in written:
        path.unlink(missing_ok=True)
