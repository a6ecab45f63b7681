"""The workers a lesson starts from its notebook (lessons 19-20, course_tasks/machinery/lesson_procs.py) are gone
within seconds however the notebook ends: its kernel killed, shut down, or the worker's parent gone on a platform
without PR_SET_PDEATHSIG (the watchdog alone). Each test uses the test run's live setup (its broker on a port of its
own), real kernels and real worker processes, and leaves nothing behind."""
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import redis
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel

from course_tasks import settings
from course_tasks.machinery import lesson_procs
from course_tasks.machinery.plumbing import control_app
from course_tasks.waiting import wait_until

GONE_WITHIN = 5.0  # seconds after the kernel's end by which every process of its lesson workers is gone
ROLES = ("threads", "recycle")  # one without pool processes, one with


def group_members(pgids):
    """The live processes (not zombies) of the process groups ``pgids``."""
    found = []
    for process in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(process.pid) in pgids and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return found


def answers(node):
    return bool(control_app(settings.broker_url()).control.ping(destination=[node], timeout=0.5))


def start_in_kernel(kernel, roles=ROLES):
    """Start lesson workers from ``kernel``; their process group ids (each worker leads its own group)."""
    code = ("from course_tasks.lesson_workers import lesson_workers\n"
            f"workers = lesson_workers(*{list(roles)!r})\n"
            "print('PIDS', *[w.pid for w in workers.workers])")
    lines = []

    def collect(msg):
        if msg["msg_type"] == "stream":
            lines.extend(msg["content"]["text"].splitlines())

    reply = kernel.kc.execute_interactive(code, timeout=120, output_hook=collect)
    assert reply["content"]["status"] == "ok", (reply["content"], lines)
    pids = next(line for line in lines if line.startswith("PIDS")).split()[1:]
    pgids = {int(pid) for pid in pids}
    members = group_members(pgids)
    assert len(members) >= len(roles) + 1, members  # recycle@course has a pool process besides its main one
    return pgids


def kernel_pid(kernel):
    return kernel.km.provisioner.process.pid


def test_a_killed_kernel_takes_its_lesson_workers_with_it():
    kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME)
    try:
        pgids = start_in_kernel(kernel)
        os.kill(kernel_pid(kernel), signal.SIGKILL)
        killed = time.monotonic()
        assert wait_until(lambda: not group_members(pgids), GONE_WITHIN, every=0.1), group_members(pgids)
        print(f"all gone {time.monotonic() - killed:.2f} s after the kernel was killed")
    finally:
        kernel.km.shutdown_kernel(now=True)
    for role in ROLES:
        assert not answers(settings.roles()[role].node)


def test_a_stopped_kernel_stops_its_lesson_workers():
    kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME)
    try:
        pgids = start_in_kernel(kernel)
    finally:
        kernel.kc.stop_channels()
        kernel.km.shutdown_kernel(now=False)  # a shutdown request: the kernel's atexit stops its workers
    stopped = time.monotonic()
    assert wait_until(lambda: not group_members(pgids), GONE_WITHIN, every=0.1), group_members(pgids)
    print(f"all gone {time.monotonic() - stopped:.2f} s after the kernel's shutdown")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG exists on Linux only")
def test_the_watchdog_alone_stops_a_worker_whose_notebook_died(tmp_path):
    """As on macOS: no parent-death signal, only the worker's own watchdog (lesson_procs._die_with_the_notebook)."""
    script = tmp_path / "notebook.py"
    script.write_text(
        "import sys, time\n"
        "import course_tasks.machinery.services as services\n"
        "services._die_with_parent = lambda: None  # no PR_SET_PDEATHSIG: the watchdog must do it\n"
        "from course_tasks.lesson_workers import lesson_workers\n"
        "workers = lesson_workers('threads', 'recycle')\n"
        "print('PIDS', *[w.pid for w in workers.workers], flush=True)\n"
        "time.sleep(120)\n", encoding="utf-8")
    notebook = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                                start_new_session=True)
    try:
        line = ""
        while not line.startswith("PIDS"):
            line = notebook.stdout.readline()
            assert line or notebook.poll() is None, "the notebook's process ended before its workers started"
        pgids = {int(pid) for pid in line.split()[1:]}
        assert len(group_members(pgids)) >= 3
        notebook.kill()
        notebook.wait()
        killed = time.monotonic()
        assert wait_until(lambda: not group_members(pgids), GONE_WITHIN, every=0.1), group_members(pgids)
        print(f"all gone {time.monotonic() - killed:.2f} s after the notebook's process was killed (watchdog)")
    finally:
        if notebook.poll() is None:
            notebook.kill()
        notebook.stdout.close()


def test_a_worker_of_the_same_name_is_asked_to_go_and_a_killed_one_s_binding_is_removed():
    """A worker of a lesson role started by hand (python3 course.py worker threads) is shut down before the lesson's
    own starts; a SIGKILLed one leaves kombu's control binding, which the next start removes."""
    node = settings.roles()["threads"].node
    by_hand = subprocess.Popen([sys.executable, "-m", "course_tasks", "worker", "threads"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_until(lambda: answers(node), 60, every=0.2)
        (worker, new), = lesson_procs.start(["threads"])
        assert new and by_hand.wait(10) is not None  # it went when asked
        os.killpg(worker.pid, signal.SIGKILL)  # as a kill would leave it
        worker.service.proc.wait()
        assert stale_bindings(node)
        (again, _), = lesson_procs.start(["threads"])  # the stale binding is removed before the start
        assert len(stale_bindings(node)) == 1  # the new worker's own
        assert lesson_procs.stop([again]) == [node]
        assert not stale_bindings(node) and not answers(node)
    finally:
        if by_hand.poll() is None:
            os.killpg(by_hand.pid, signal.SIGKILL)
            by_hand.wait()
        lesson_procs.stop(list(lesson_procs.RUNNING.values()))


def stale_bindings(node):
    client = redis.Redis.from_url(settings.broker_url())
    return [m for m in client.smembers(lesson_procs.BINDINGS) if m.decode().endswith(f"{node}.celery.pidbox")]


def test_lesson_workers_are_roles_no_setup_starts():
    lesson = {role.name for role in settings.LESSON_WORKERS}
    assert lesson and lesson <= set(settings.worker_roles())
    assert not lesson & set(settings.roles_to_start(rabbitmq=True))
    for role in settings.LESSON_WORKERS:
        assert role.lesson and role.queues and role.node.endswith("@course")
        assert role.command() == ["worker", role.name]  # python3 course.py worker ROLE starts it by hand
