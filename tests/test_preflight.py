"""A missing broker or worker is reported within 5 s, with the URL and the command that fixes it, in both languages."""
import os
import subprocess
import sys
import time

import pytest

from course_tasks.errors import SetupError
from course_tasks.machinery.plumbing import control_app, course_app
from course_tasks.machinery.probes import free_port
from course_tasks.machinery.services import ROOT
from course_tasks.preflight import check_broker_at, check_setup

LIMIT = 5.0


@pytest.mark.parametrize("url", ["redis://127.0.0.1:{port}/0", "amqp://guest:guest@127.0.0.1:{port}//"])
@pytest.mark.parametrize("lang,fix", [("en", "Start the course with:  python3 course.py up"),
                                      ("ru", "Запустите курс командой:  python3 course.py up")])
def test_no_broker(url, lang, fix, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", lang)
    url = url.format(port=free_port())
    started = time.monotonic()
    with pytest.raises(SetupError) as error:
        check_broker_at(url)
    assert time.monotonic() - started < LIMIT
    assert url.replace("guest:guest", "guest:**") in str(error.value) and fix in str(error.value)


@pytest.mark.parametrize("lang,fix", [("en", "Start one with:  python3 course.py worker main"),
                                      ("ru", "Запустите воркер:  python3 course.py worker main")])
def test_no_worker(lang, fix, monkeypatch):
    """A broker with nobody listening: database 7 of the test Redis has no worker."""
    monkeypatch.setenv("COURSE_LANG", lang)
    url = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/7"
    started = time.monotonic()
    with pytest.raises(SetupError) as error:
        check_setup(control_app(url), quiet=True)
    assert time.monotonic() - started < LIMIT
    assert "worker@course" in str(error.value) and url in str(error.value) and fix in str(error.value)


def test_all_there():
    check_setup(roles=("main", "priority"), quiet=True)


def test_command_line_check_fails_fast_and_names_the_url():
    env = dict(os.environ, CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0", COURSE_LANG="en")
    env.pop("CELERY_RESULT_BACKEND")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "course_tasks", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert time.monotonic() - started < LIMIT + 3  # the interpreter's start-up on top
    assert done.returncode == 1
    assert env["CELERY_BROKER_URL"] in done.stderr and "python3 course.py up" in done.stderr


def test_command_line_check_passes_with_everything_there():
    done = subprocess.run([sys.executable, "-m", "course_tasks", "check"], cwd=ROOT,
                          env=dict(os.environ, COURSE_LANG="en"), capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "worker@course answers" in done.stdout and "prio@course answers" in done.stdout
    assert "celery beat (beat): runs" in done.stdout  # the course's beat, which every setup runs


@pytest.mark.parametrize("lang,fix", [("en", "Start it with:  python3 course.py beat beat"),
                                      ("ru", "Запустите его:  python3 course.py beat beat")])
def test_no_beat(lang, fix, monkeypatch):
    """A Redis where no celery beat of the course says that it runs: database 7 of the test Redis."""
    monkeypatch.setenv("COURSE_LANG", lang)
    url = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/7"
    monkeypatch.setenv("CELERY_RESULT_BACKEND", url)  # Celery reads it before an app's own result_backend
    with pytest.raises(SetupError) as error:
        check_setup(course_app("no_beat_test", url), roles=["beat"], quiet=True)
    assert "celery beat (beat)" in str(error.value) and fix in str(error.value)


def test_the_beat_of_the_setup_runs(capsys):
    check_setup(roles=("main", "beat"))
    assert "celery beat (beat): runs" in capsys.readouterr().out.splitlines()


@pytest.mark.needs_rabbitmq
def test_command_line_check_finds_each_worker_through_its_own_broker():
    done = subprocess.run([sys.executable, "-m", "course_tasks", "check", "main", "rabbitmq"], cwd=ROOT,
                          env=dict(os.environ, COURSE_LANG="en"), capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "broker: Redis answers" in done.stdout and "broker: RabbitMQ answers" in done.stdout
