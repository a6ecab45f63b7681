"""Lesson 18 runs pytest from a notebook (course_tasks/run_tests.py): a report that reads the same on every run, a
bounded run, none of the course's own test configuration; and the course's test command never collects a learner's
test files (pyproject.toml's --ignore=notebooks/playground)."""
import subprocess
import sys
import time
import uuid
from pathlib import Path

from course_tasks import run_tests as runner
from course_tasks.playground import PLAYGROUND

ROOT = Path(__file__).resolve().parent.parent


def test_the_report_names_each_outcome_and_reads_the_same_twice(playground_file):
    name = playground_file("""
        import pytest

        def test_passes():
            assert 1 + 1 == 2

        def test_fails():
            assert {1} == {2}, "sets differ"

        @pytest.fixture
        def broken():
            raise RuntimeError("no worker")

        def test_errors(broken):
            pass

        @pytest.mark.skip(reason="not today")
        def test_skipped():
            pass
    """)
    first, second = runner.run_tests(name), runner.run_tests(name)
    assert [row[:2] for row in first.rows] == [("PASSED", "test_passes"), ("FAILED", "test_fails"),
                                               ("ERROR", "test_errors"), ("SKIPPED", "test_skipped")]
    assert first.rows[1][2].startswith("AssertionError: sets differ")
    assert first.rows[2][2] == "failed on setup with \"RuntimeError: no worker\""
    assert repr(first) == repr(second) and first.code == 1
    assert repr(first).splitlines()[-1] == "  1 passed, 1 failed, 1 error, 1 skipped"


def test_an_exception_s_module_path_is_left_out(playground_file):
    name = playground_file("""
        from kombu.exceptions import EncodeError

        def test_encode():
            raise EncodeError(TypeError("Object of type set is not JSON serializable"))
    """)
    (row,) = runner.run_tests(name).rows
    assert row == ("FAILED", "test_encode", "EncodeError: Object of type set is not JSON serializable")


def test_a_file_that_does_not_import_is_an_error_of_its_collection(playground_file):
    name = playground_file("import no_such_module_here\n")
    report = runner.run_tests(name)
    assert report.rows == [("ERROR", name.removesuffix(".py"), "collection failure")]
    assert "no_such_module_here" in report.output
    assert str(PLAYGROUND) not in repr(report)  # paths shown relative to the playground


def test_none_of_the_course_s_own_test_configuration_is_loaded(playground_file):
    """The course's root conftest.py starts a whole live setup (course_tasks.machinery.harness), and its pyproject
    asks for nbval and xdist: neither may reach a learner's run."""
    name = playground_file("""
        import sys

        def test_alone():
            assert "course_tasks.machinery.harness" not in sys.modules
            assert "nbval" not in sys.modules and "xdist" not in sys.modules
    """)
    assert runner.run_tests(name).rows == [("PASSED", "test_alone", "")]


def test_a_run_that_hangs_is_stopped_at_the_timeout(playground_file):
    name = playground_file("""
        import os, time

        def test_hangs():
            print(os.getpid(), flush=True)
            time.sleep(600)
    """)
    started = time.monotonic()
    report = runner.run_tests(name, timeout=3)
    assert report.timed_out and time.monotonic() - started < 15
    assert "did not finish within" in repr(report) or "не закончился" in repr(report)


def test_the_course_s_test_command_never_collects_a_learner_s_test_file():
    """With the course's own options (pyproject.toml), in one process (-n 0), over the folder of the lessons."""
    probe = ROOT / "notebooks" / "playground" / f"test_never_collected_{uuid.uuid4().hex[:8]}.py"
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text("def test_probe():\n    pass\n", encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "notebooks"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert "18_testing_tasks.ipynb" in done.stdout, done.stdout[-2000:]  # the lessons were collected
        assert probe.name not in done.stdout + done.stderr
    finally:
        probe.unlink(missing_ok=True)


def test_play_course_imports_no_test_file():
    """The playground holds lesson 10's task modules and lesson 18's test files; play@course imports only the first."""
    from course_tasks.machinery import loading

    assert [name for name in ("my_tasks.py", "test_receipts.py", "receipts_test.py", "conftest.py", "testing.py")
            if not loading.is_test_file(name)] == ["my_tasks.py", "testing.py"]
