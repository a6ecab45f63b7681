"""The learner's command, end to end: `python -m course_tasks up` (what `python3 course.py up` runs in .venv)
starts a broker where none answers, the workers and JupyterLab, and stops everything it started on Ctrl-C."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from printed import Printed

from course_tasks.machinery import lesson_flower
from course_tasks.machinery.probes import free_port, port_in_use, redis_answers
from course_tasks.machinery.services import ROOT
from course_tasks.settings import LOCAL_ROLES, worker_roles


def processes_with(marker: str):
    """Pids of the processes whose environment contains ``marker`` (this test's unique broker URL)."""
    if not Path("/proc/self/environ").exists():  # macOS: ps shows the environment of this user's processes (-E)
        listing = subprocess.run(["ps", "-axwwE", "-o", "pid=,command="], capture_output=True, text=True).stdout
        return [int(line.split(None, 1)[0]) for line in listing.splitlines() if marker in line]
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def command_line(pid: int) -> list:
    """The arguments process ``pid`` was started with (on macOS, as ps shows them: split at spaces)."""
    if Path("/proc/self/cmdline").exists():
        return [arg.decode() for arg in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
    listing = subprocess.run(["ps", "-ww", "-o", "command=", "-p", str(pid)], capture_output=True, text=True)
    return listing.stdout.split()


def leaders(broker, node, kind="worker"):
    """The main processes of the workers named ``node`` on ``broker`` (pool children are not leaders); with
    ``kind="beat"``, of the celery beats of the role ``node`` (``python -m course_tasks beat NODE``)."""
    found = []
    for pid in processes_with(broker):
        try:
            cmdline = command_line(pid)
            if kind in cmdline and os.getpgid(pid) == pid and node in cmdline:
                found.append(pid)
        except OSError:
            pass
    return found


WORKERS = [role for role in LOCAL_ROLES if role in worker_roles()]  # every setup's workers; and "beat"


class Launcher:
    def __init__(self, broker, *args, **env):
        self.broker = broker
        env = dict(os.environ, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker, COURSE_LANG="en",
                   COURSE_RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//") | env
        self.proc = subprocess.Popen([sys.executable, "-m", "course_tasks", "up", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.printed = Printed(self.proc, "the launcher")
        self.output, self.wait_for, self.rest = self.printed.output, self.printed.wait_for, self.printed.rest

    def ctrl_c(self, timeout=30):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout)
        self.rest()
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


# -- one `up` (--no-jupyter, --flower on a port another program holds), shared by the tests down to its Ctrl-C ------
# Each test reads what this `up` prints or does one thing to it, in the order of the file (a file is never split
# between test processes); the last one stops it with Ctrl-C and checks that everything it started is gone.

@pytest.fixture(scope="module")
def shared_up():
    with socket.socket() as other:  # another program holds the Flower port
        other.bind(("127.0.0.1", 0))
        other.listen()
        port, flower_port = free_port(), other.getsockname()[1]
        launcher = Launcher(f"redis://127.0.0.1:{port}/0", "--no-jupyter", "--flower",
                            COURSE_FLOWER_PORT=str(flower_port))
        launcher.port, launcher.flower_port = port, flower_port
        try:
            launcher.wait_for(r"Ctrl-C stops everything")
            yield launcher
        finally:
            launcher.kill()


def test_no_broker_anywhere_starts_an_embedded_redis_and_the_workers(shared_up):
    said = "".join(shared_up.output)
    assert re.search(rf"Broker: the embedded (Valkey|Redis) [\d.]+ started at redis://127.0.0.1:{shared_up.port}/0 \(",
                     said), said
    nodes = sorted(worker_roles()[role].node for role in WORKERS)
    assert sorted(re.findall(r"Worker (\S+): started", said)) == nodes
    assert "Celery beat (beat): started (log: " in said, said


def test_flower_on_a_taken_port_is_said_not_announced(shared_up):
    said = "".join(shared_up.output)
    assert f"Flower: not started, because port {shared_up.flower_port} is taken by another program" in said, said
    assert f"http://127.0.0.1:{shared_up.flower_port}" not in said


def test_a_second_up_later_attaches_and_starts_nothing(shared_up):
    broker = shared_up.broker
    second = Launcher(broker, "--no-jupyter", "--flower")  # not launch(): its clean-up kills all of the broker's
    try:
        second.proc.wait(15)
    finally:
        if second.proc.poll() is None:
            second.proc.kill()
    said = second.rest()
    assert second.proc.returncode == 0
    assert f"The course is already running for the broker {broker}: python3 course.py up (pid {shared_up.proc.pid})" \
        in said
    assert "Stop it with Ctrl-C in its terminal." in said and "python3 course.py up --flower" in said
    assert [len(leaders(broker, worker_roles()[role].node)) for role in WORKERS] == [1] * len(WORKERS)
    assert len(leaders(broker, "beat", kind="beat")) == 1
    assert "  also: celery beat (beat)" in said


def test_up_says_what_it_restarts(shared_up):
    [pid] = leaders(shared_up.broker, "worker@course")
    os.kill(pid, signal.SIGKILL)
    shared_up.wait_for(r"Worker worker@course stopped \(killed by SIGKILL\); starting it again", 5)
    shared_up.wait_for(r"Worker worker@course works again", 30)


def test_up_says_that_it_restarts_a_killed_celery_beat(shared_up):
    """The course's celery beat is supervised like the workers: SIGKILLed, it is started again, and `up` says so."""
    [pid] = leaders(shared_up.broker, "beat", kind="beat")
    os.kill(pid, signal.SIGKILL)
    shared_up.wait_for(r"Celery beat \(beat\) stopped \(killed by SIGKILL\); starting it again with the same", 5)
    shared_up.wait_for(r"Celery beat \(beat\) works again \([\d.]+ s after it stopped\)", 30)
    [again] = leaders(shared_up.broker, "beat", kind="beat")
    assert again != pid
    check = subprocess.run([sys.executable, "-m", "course_tasks", "check", "beat"], cwd=ROOT, capture_output=True,
                           text=True, timeout=30, env=dict(os.environ, CELERY_BROKER_URL=shared_up.broker,
                                                           CELERY_RESULT_BACKEND=shared_up.broker, COURSE_LANG="en"))
    assert check.returncode == 0 and "celery beat (beat): runs" in check.stdout, check.stdout + check.stderr


def test_ctrl_c_stops_everything_up_started_and_says_what(shared_up, monkeypatch):
    """Lesson 17's Flower too, which a notebook of this setup started (and which outlives that notebook)."""
    monkeypatch.setenv("CELERY_BROKER_URL", shared_up.broker)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", shared_up.broker)
    flower = lesson_flower.ensure()
    assert shared_up.ctrl_c() == 0
    stopped = re.search(r"Stopped in [\d.]+ s: (.*)\.$", shared_up.rest(), re.MULTILINE).group(1)
    nodes = sorted(worker_roles()[role].node for role in WORKERS)
    assert sorted(stopped.split(", ")) == sorted([f"the embedded broker ({shared_up.broker})", "celery beat (beat)",
                                                  "lesson 17's Flower"] + [f"worker {node}" for node in nodes])
    assert not port_in_use("127.0.0.1", flower.port)
    assert not port_in_use("127.0.0.1", shared_up.port)
    assert processes_with(shared_up.broker) == []


# -- tests that start an `up` of their own --------------------------------------------------------------------------

def test_a_redis_already_running_is_used_and_left_running(launch):
    broker = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/9"  # the test run's Redis, a database of its own
    launcher = launch(broker, "--no-jupyter")
    launcher.wait_for(r"Broker: the Redis already running at " + re.escape(broker))
    launcher.wait_for(r"Ctrl-C stops everything")
    assert launcher.ctrl_c() == 0
    assert redis_answers(broker)
    assert processes_with(broker) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG, which tells a child that its "
                    "parent died, is Linux's: elsewhere a SIGKILLed launcher leaves its children running")
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


def test_jupyterlab_opens_on_lesson_00_with_its_token_and_stops_on_ctrl_c(launch):
    """The terminal shows the course's block only, with one address: lesson 00 of the learner's language in
    their copies (my-notebooks/), with the token; Jupyter's own log goes to .course/logs/jupyter.log."""
    port, jupyter_port = free_port(), free_port()
    launcher = launch(f"redis://127.0.0.1:{port}/0", COURSE_JUPYTER_PORT=str(jupyter_port), COURSE_LANG="ru")
    first = min(p.name for p in (ROOT / "notebooks" / "ru").glob("*.ipynb"))
    token = launcher.wait_for(rf"^    http://127\.0\.0\.1:{jupyter_port}/lab/tree/ru/{re.escape(first)}\?token=(\w+)$").group(1)
    launcher.wait_for(r"Ctrl-C останавливает всё")
    assert (ROOT / "my-notebooks" / "ru" / first).exists()
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
    said = "".join(launcher.output)
    assert said.count("http://") == 1 and said.count("token=") == 1, said  # the one address, once
    for jupyters_own in ("ServerApp", "No web browser", "Control-C", "jupyter_lsp"):
        assert jupyters_own not in said, said
    assert "JupyterLab" in re.search(r"Остановлено за [\d,]+ с: (.*)\.$", said, re.MULTILINE).group(1)
    assert not port_in_use("127.0.0.1", jupyter_port) and not port_in_use("127.0.0.1", port)
    assert processes_with(launcher.broker) == []


@pytest.mark.parametrize("command, variable, url, says", [
    (["up"], "CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//", "this is not a redis:// URL"),
    (["up"], "CELERY_BROKER_URL", "redis://127.0.0.1:notaport/0", "its port 'notaport' is not a number"),
    (["check"], "CELERY_BROKER_URL", "redis://127.0.0.1:notaport/0", "its port 'notaport' is not a number"),
    (["worker", "main"], "CELERY_RESULT_BACKEND", "redis://127.0.0.1:99999/0", "its port '99999' is not a number"),
    (["test"], "COURSE_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:x//", "its port 'x' is not a number"),
    (["refresh"], "COURSE_RABBITMQ_URL", "http://127.0.0.1:5672//", "'http://' is not a broker the course knows"),
    (["check"], "CELERY_BROKER_URL", "127.0.0.1:6379", "it does not start with a scheme (redis://"),
])
def test_an_unusable_url_is_one_line_naming_it_for_every_command(command, variable, url, says):
    env = dict(os.environ, COURSE_LANG="en", **{variable: url})
    run = subprocess.run([sys.executable, "-m", "course_tasks", *command], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(f"{variable}=") and says in run.stderr, run.stderr


def test_a_silent_broker_port_is_refused_within_5_s(launch):
    """Something accepts on the broker's port and never answers: `up` says so, it does not hang."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        launcher = launch(f"redis://127.0.0.1:{port}/0", "--no-jupyter")
        launcher.proc.wait(10)
        assert time.monotonic() - started < 5
    assert launcher.proc.returncode == 1
    assert f"Port {port} of CELERY_BROKER_URL=redis://127.0.0.1:{port}/0 is taken by a program" in launcher.rest()


def test_copies_are_made_once_and_a_lesson_is_started_over(tmp_path, monkeypatch, capsys):
    """Every start copies the lessons that have no copy yet; a learner's copy is never overwritten, except by
    `reset`, which keeps it aside."""
    from course_tasks.machinery import copies

    lessons, mine = tmp_path / "notebooks", tmp_path / "my-notebooks"
    for lang in ("en", "ru"):
        (lessons / lang).mkdir(parents=True)
        (lessons / lang / "00_first.ipynb").write_text("lesson 00")
    monkeypatch.setattr(copies, "ROOT", tmp_path)
    monkeypatch.setattr(copies, "LESSONS", lessons)
    monkeypatch.setattr(copies, "COPIES", mine)
    monkeypatch.setattr(copies, "REPLACED", mine / ".replaced")
    assert sorted(p.relative_to(mine).as_posix() for p in copies.ensure()) == ["en/00_first.ipynb", "ru/00_first.ipynb"]
    (mine / "en" / "00_first.ipynb").write_text("my answers")
    (lessons / "en" / "01_new.ipynb").write_text("lesson 01, from a course update")
    assert [p.relative_to(mine).as_posix() for p in copies.ensure()] == ["en/01_new.ipynb"]
    assert (mine / "en" / "00_first.ipynb").read_text() == "my answers"
    assert copies.first_lesson("en") == "en/00_first.ipynb"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert copies.reset("00", ["en"]) == 0
    assert (mine / "en" / "00_first.ipynb").read_text() == "lesson 00"
    [kept] = (mine / ".replaced" / "en").glob("00_first.*.ipynb")
    assert kept.read_text() == "my answers"
    assert "copied anew from notebooks/en/00_first.ipynb" in capsys.readouterr().out
    assert copies.reset("07", ["en"]) == 1
    assert "No lesson '07' in notebooks/en/" in capsys.readouterr().out


def test_up_while_a_notebooks_kernel_runs_the_setup_starts_only_jupyterlab(launch):
    """A kernel that started the setup itself (course_tasks.machinery.autostart) holds it; `up` says so, uses it and
    starts JupyterLab alone; Ctrl-C stops only that. The kernel's setup goes when the kernel does."""
    from jupyter_client.manager import start_new_kernel

    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "COURSE_"))}
    env.update(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker, PYTHONPATH=str(ROOT), COURSE_LANG="en",
               COURSE_RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//")
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT / "notebooks" / "en"))
    try:
        reply = kc.execute_interactive("from course_tasks import check_setup\ncheck_setup(quiet=True)", timeout=120)
        assert reply["content"]["status"] == "ok" and redis_answers(broker)
        launcher = launch(broker, COURSE_JUPYTER_PORT=str(free_port()))
        launcher.wait_for(rf"already running for the broker {re.escape(broker)}: the kernel of a notebook "
                          rf"\(pid {km.provisioner.pid}\)")
        launcher.wait_for(r"Only JupyterLab is started here")
        launcher.wait_for(r"Ctrl-C stops JupyterLab\.")
        assert launcher.ctrl_c() == 0
        assert re.search(r"Stopped in [\d.]+ s: JupyterLab\.$", launcher.rest(), re.MULTILINE)
        assert redis_answers(broker)  # the kernel's setup is the kernel's
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    deadline = time.monotonic() + 20
    while processes_with(broker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(broker) == [] and not port_in_use("127.0.0.1", port)
