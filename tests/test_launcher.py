"""The learner's command, end to end: `python -m course_tasks up` (what `python3 course.py up` runs in .venv)
starts a broker where none answers, the workers and JupyterLab, and stops everything it started on Ctrl-C."""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course_tasks.services import ROOT, free_port, port_in_use, redis_answers


def processes_with(marker: str):
    """Pids of the processes whose environment contains ``marker`` (this test's unique broker URL)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


class Launcher:
    def __init__(self, broker, *args, **env):
        self.broker = broker
        env = dict(os.environ, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker, COURSE_LANG="en",
                   COURSE_RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//", **env)
        self.proc = subprocess.Popen([sys.executable, "-m", "course_tasks", "up", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.output = []

    def wait_for(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        pytest.fail(f"no {pattern!r} in the launcher's output:\n{''.join(self.output)}")

    def ctrl_c(self, timeout=30):
        self.proc.send_signal(signal.SIGINT)
        rest, _ = self.proc.communicate(timeout=timeout)
        self.output.append(rest)
        return self.proc.returncode

    def kill(self):
        """After a failed test: ask the launcher to stop what it started, then kill whatever is left."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in processes_with(self.broker):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def launch():
    started = []

    def start(broker, *args, **env):
        started.append(Launcher(broker, *args, **env))
        return started[-1]

    yield start
    for launcher in started:
        launcher.kill()


def test_no_broker_anywhere_starts_an_embedded_redis_and_stops_it(launch):
    port = free_port()
    launcher = launch(f"redis://127.0.0.1:{port}/0", "--no-jupyter")
    launcher.wait_for(rf"Broker: an embedded Redis started at redis://127.0.0.1:{port}/0")
    launcher.wait_for(r"Worker worker@course: started")
    launcher.wait_for(r"Ctrl-C stops everything")
    assert sorted(re.findall(r"Worker (\S+): started", "".join(launcher.output))) == ["prio@course", "worker@course"]
    assert launcher.ctrl_c() == 0
    assert not port_in_use("127.0.0.1", port)
    assert processes_with(launcher.broker) == []


def test_a_redis_already_running_is_used_and_left_running(launch):
    broker = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/9"  # the test run's Redis, a database of its own
    launcher = launch(broker, "--no-jupyter")
    launcher.wait_for(r"Broker: the Redis already running at " + re.escape(broker))
    launcher.wait_for(r"Ctrl-C stops everything")
    assert launcher.ctrl_c() == 0
    assert redis_answers(broker)
    assert processes_with(broker) == []


def test_killing_the_launcher_takes_everything_it_started_along(launch):
    """Even a SIGKILL, which no cleanup code sees: the children are told by the kernel (PR_SET_PDEATHSIG)."""
    port = free_port()
    launcher = launch(f"redis://127.0.0.1:{port}/0", "--no-jupyter")
    launcher.wait_for(r"Ctrl-C stops everything")
    launcher.proc.kill()
    launcher.proc.wait(10)
    deadline = time.monotonic() + 20
    while (port_in_use("127.0.0.1", port) or processes_with(launcher.broker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_in_use("127.0.0.1", port)
    assert processes_with(launcher.broker) == []


def test_jupyterlab_keeps_its_token_and_stops_on_ctrl_c(launch):
    port, jupyter_port = free_port(), free_port()
    launcher = launch(f"redis://127.0.0.1:{port}/0", COURSE_JUPYTER_PORT=str(jupyter_port))
    token = launcher.wait_for(rf"http://127\.0\.0\.1:{jupyter_port}/lab\?token=(\w+)").group(1)
    api = f"http://127.0.0.1:{jupyter_port}/api/contents/en"
    deadline = time.monotonic() + 10  # the address is printed a moment before the socket accepts
    while True:
        try:
            urllib.request.urlopen(api, timeout=10)
            pytest.fail("JupyterLab answered without its token")
        except urllib.error.HTTPError as refused:
            assert refused.code == 403
            break
        except urllib.error.URLError:
            assert time.monotonic() < deadline, "JupyterLab does not accept connections"
            time.sleep(0.1)
    with urllib.request.urlopen(f"{api}?token={token}", timeout=10) as reply:
        assert b"00_broker_worker_backend.ipynb" in reply.read()
    assert launcher.ctrl_c() == 0
    assert not port_in_use("127.0.0.1", jupyter_port) and not port_in_use("127.0.0.1", port)
    assert processes_with(launcher.broker) == []
