"""course.py, the entry point a learner runs first, in whatever Python they have: on Windows itself, or where
Python cannot make a venv (Debian's and Ubuntu's without python3-venv), it says what to do, in the learner's
language, and exits: no traceback, no half-made .venv left behind."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("course_entry", ROOT / "course.py")
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)

# course.py's own imports first (subprocess looks at sys.platform when it is imported), then the fake.
RUN = ("import hashlib, importlib.util, os, shutil, subprocess, sys, venv, runpy\n"
       "{before}\n"
       "sys.argv = ['course.py', 'up']\n"
       "runpy.run_path({path!r}, run_name='__main__')\n")


def run_course_py(path, before, **env):
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_LANG", "LANG", "LC_ALL")} | env
    return subprocess.run([sys.executable, "-c", RUN.format(before=before, path=str(path))], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("lang, words", [("en", "not on Windows itself"), ("ru", "не в самой Windows")])
def test_windows_gets_the_two_ways_in_the_learners_language(monkeypatch, lang, words):
    monkeypatch.setenv("COURSE_LANG", lang)
    message = course.unsupported("win32")
    assert words in message
    assert "wsl --install -d Ubuntu-24.04" in message and "sudo apt install -y python3-venv" in message
    assert "python3 course.py up" in message and "docker compose up --build" in message
    assert course.unsupported("linux") is None and course.unsupported("darwin") is None


@pytest.mark.parametrize("env, words", [({"COURSE_LANG": "ru"}, "не в самой Windows"),
                                        ({"LANG": "en_US.UTF-8"}, "not on Windows itself")])
def test_course_py_on_windows_says_so_and_starts_nothing(env, words):
    done = run_course_py(ROOT / "course.py", "sys.platform = 'win32'", **env)
    assert done.returncode == 1
    assert words in done.stderr and "wsl --install" in done.stderr
    assert "Traceback" not in done.stderr and "[course] creating" not in done.stdout


def test_an_old_python_is_told_which_one_is_needed():
    assert "3.11" in course.unsupported("linux", (3, 10, 12)) and "3.10.12" in course.unsupported("linux", (3, 10, 12))


def test_without_ensurepip_it_says_install_python3_venv_and_clears_a_half_made_venv(tmp_path):
    """Debian and Ubuntu ship ensurepip apart (python3-venv): venv then makes a .venv without pip and exits.
    A .venv left so by an earlier run (no pip, never installed) is removed, so the next run makes it anew."""
    shutil.copy(ROOT / "course.py", tmp_path)
    shutil.copy(ROOT / "requirements.txt", tmp_path)
    half_made = tmp_path / ".venv" / "bin" / "python"
    half_made.parent.mkdir(parents=True)
    half_made.write_text("")
    done = run_course_py(tmp_path / "course.py", "sys.modules['ensurepip'] = None", COURSE_LANG="ru")
    assert done.returncode == 1
    assert "sudo apt install python3-venv" in done.stderr and "ensurepip" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".venv").exists()
