"""Fixtures shared by the test modules of tests/ (the test run's hooks are in ../conftest.py)."""
import textwrap
import uuid

import pytest
from test_launcher import Launcher

from course_tasks.playground import PLAYGROUND


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
        name = name or f"test_probe_{uuid.uuid4().hex[:8]}.py"
        PLAYGROUND.mkdir(parents=True, exist_ok=True)
        (PLAYGROUND / name).write_text(textwrap.dedent(source), encoding="utf-8")
        written.append(PLAYGROUND / name)
        return name

    yield write
    for path in written:
        path.unlink(missing_ok=True)
