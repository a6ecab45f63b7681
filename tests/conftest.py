"""Fixtures shared by the test modules of tests/ (the test run's hooks are in ../conftest.py)."""
import pytest
from test_launcher import Launcher


@pytest.fixture
def launch():
    started = []

    def start(broker, *args, **env):
        started.append(Launcher(broker, *args, **env))
        return started[-1]

    yield start
    for launcher in started:
        launcher.kill()
