"""course_tasks.exclusive, live: a notebook that waits for a worker another one holds is told at once who holds it
(the notebook and its cell, or the process) and what to do, in its language; the wait stays bounded.

The holder is another process, as another notebook's kernel is: an IPython shell that runs the cell that takes the
hold, with the notebook's name where Jupyter gives it (JPY_SESSION_NAME).
"""
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_tasks import settings
from course_tasks.errors import SetupError
from course_tasks.exclusive import exclusive
from course_tasks.machinery.notice import Notice

exclusive_module = importlib.import_module("course_tasks.exclusive")  # course_tasks.exclusive is the function
ROOT = Path(__file__).resolve().parents[1]
SHELL = ("import sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
         "shell = InteractiveShell.instance()\nshell.run_cell('x = 1', store_history=True)\n"
         "shell.run_cell(sys.argv[1], store_history=True)\n")  # the second cell of a kernel: In [2]
CELL_HOLD = ("from course_tasks import exclusive\nwith exclusive('main'):\n"
             "    print('held', flush=True)\n    import time; time.sleep(60)\n")
PLAYGROUND_HOLD = ("from course_tasks import playground\nplayground.hold()\nprint('held', flush=True)\n"
                   "import time; time.sleep(60)\n")
PROCESS_HOLD = ("from course_tasks import exclusive\nwith exclusive('main'):\n"
                "    print('held', flush=True)\n    import time; time.sleep(60)\n")


def start_holder(code, notebook=None, shell=True):
    env = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
    if notebook:
        env["JPY_SESSION_NAME"] = notebook
    args = [sys.executable, "-c", SHELL, code] if shell else [sys.executable, "-c", code]
    holder = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def stop(holder):
    holder.kill()
    holder.wait(timeout=10)
    holder.stdout.close()


class Shown(list):
    on_first = None
    updates = None
    began = None


# "At once" against the 120 s of the learner review: the first notice comes at the wait's first look. The bound
# leaves room for a busy machine (a slower run takes longer, never fails).
AT_ONCE = 10.0


@pytest.fixture
def notices(monkeypatch):
    """The notices shown in this process, each with the seconds since ``began`` (set it when the wait starts: the
    holder's start before it is no part of what is timed); ``on_first`` runs once, at
    the first (the holder's notebook lets the worker go: its cell ends, its kernel stops); ``updates``: the lines that
    replaced them when the wait ended."""
    shown = Shown()
    shown.updates, shown.began = [], time.monotonic()

    def show(self, text):
        self.handle = True  # shown: a later update replaces it
        shown.append((round(time.monotonic() - shown.began, 1), text))
        if len(shown) == 1 and shown.on_first:
            shown.on_first()

    monkeypatch.setattr(Notice, "show", show)
    monkeypatch.setattr(Notice, "update", lambda self, text: shown.updates.append(text))
    return shown


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_lesson_10s_twin_is_told_at_once_to_shut_the_other_kernel_down(lang, notices, monkeypatch):
    """The learner review: lesson 10's Russian twin waited 120 s for play@course, which the English one's
    %%playground holds until its kernel stops, before it said what to do. Now the first notice says it, and the
    wait ends as soon as that kernel stops."""
    monkeypatch.setenv("COURSE_LANG", lang)
    other = "/home/learner/course/my-notebooks/en/10_your_own_task.ipynb"
    holder = start_holder(PLAYGROUND_HOLD, notebook=other)
    notices.on_first = lambda: stop(holder)
    try:
        started = notices.began = time.monotonic()
        with exclusive("play"):
            waited = time.monotonic() - started
    finally:
        if holder.poll() is None:
            stop(holder)
    node = settings.worker_roles()["play"].node
    (at, text), = notices
    # the holder was killed at the first notice: its hold is gone once nobody renews it (TTL), not after 120 s
    assert at < AT_ONCE and waited < AT_ONCE + exclusive_module.TTL_MS / 1000, notices
    assert "en/10_your_own_task.ipynb" in text and node in text and "[2]" in text and "%%playground" in text
    if lang == "en":
        assert "Shut Down Kernel" in text and "at most 120 s" in text and "until its kernel stops" in text
        assert notices.updates[0].endswith("; the notebook en/10_your_own_task.ipynb held it)"), notices.updates
    else:
        assert "остановите его ядро" in text and "не дольше 120 с" in text and "Shut Down Kernel" in text
        assert notices.updates[0].endswith("; его держал ноутбук en/10_your_own_task.ipynb)"), notices.updates


def test_a_cell_that_holds_a_worker_is_named_with_its_notebook_and_cell(notices, monkeypatch):
    """Another notebook's cell holds worker@course (lesson 04's timing, say): the notice names that notebook and its
    cell [2], says the wait ends with that cell and how to stop a stuck one; sending to that worker says the same."""
    from course_tasks.tasks import add

    monkeypatch.setenv("COURSE_LANG", "en")
    holder = start_holder(CELL_HOLD, notebook="/x/my-notebooks/ru/04_group.ipynb")
    notices.on_first = lambda: stop(holder)
    try:
        notices.began = time.monotonic()
        assert add.delay(1, 2).get(timeout=30) == 3
    finally:
        if holder.poll() is None:
            stop(holder)
    node = settings.worker_roles()["main"].node
    (at, text), *_ = notices
    assert at < AT_ONCE, notices
    assert text.startswith(f"{node} is held by the notebook ru/04_group.ipynb; this task is sent when it lets go")
    assert "Its cell [2] holds" in text and "Interrupt Kernel" in text


def test_a_process_that_holds_a_worker_is_named_with_its_pid_and_the_wait_is_bounded(notices, monkeypatch):
    """Not a notebook (a script, a test): its pid, program and folder; in Russian; and after the bound, a SetupError
    that says the same and to run the cell again."""
    monkeypatch.setenv("COURSE_LANG", "ru")
    monkeypatch.setattr(exclusive_module, "WAIT_LIMIT", 1.0)
    holder = start_holder(PROCESS_HOLD, shell=False)
    try:
        with pytest.raises(SetupError) as error, exclusive("main"):
            pass
    finally:
        stop(holder)
    (_, text), = notices
    assert f"процесс {holder.pid} (-c, в папке " in text and "не дольше 1 с" in text, text
    assert f"процесс {holder.pid}" in str(error.value) and "выполните эту ячейку снова" in str(error.value)


LONGER = exclusive_module.BUSY_SILENT + 4.0  # the nap still runs when the notice comes, on a busy machine too


def test_a_worker_busy_with_tasks_sent_before_is_said_with_those_tasks(notices, monkeypatch):
    """A task left running by an earlier cell (exercise 13.3's nap(30), in the learner review, delayed lesson 14):
    the notice names it, its id, and how to stop it."""
    from course_tasks.tasks import nap

    monkeypatch.setenv("COURSE_LANG", "en")
    result = nap.delay(LONGER)
    with exclusive("main"):
        pass
    assert result.ready()
    text = notices[0][1]
    assert f"running: nap({LONGER!r}) id={result.id}" in text, text
    assert "app.control.revoke(its id, terminate=True)" in text
    assert f"it was busy (running: nap({LONGER!r})" in notices.updates[0]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("until", ["cell", "kernel", "workers", None])
def test_every_kind_of_hold_is_said_with_what_to_do_now_and_after_the_bound(until, lang, monkeypatch):
    """How a hold ends decides what the learner is told: a cell ends by itself (or is interrupted), a kernel with
    lesson 10's %%playground or a lesson's own workers must be shut down, a process is let end."""
    monkeypatch.setenv("COURSE_LANG", lang)
    holder = {"host": "h", "pid": "7", "notebook": "/n/ru/15_routing.ipynb", "kernel": True, "cell": 4,
              "until": until}
    if until is None:  # a script, not a kernel
        holder.update(notebook="", kernel=False, cell=None, until="cell", program="course.py", folder="/a/course")
    todo, fix = exclusive_module._todo_text(holder, "solo@course"), exclusive_module._fix_text(holder)
    if until is None:
        assert "solo@course" in todo and "[" not in todo + fix
    elif until == "cell":
        assert "[4]" in todo and "[4]" in fix and "Interrupt Kernel" in todo + fix and "Shut Down" not in todo + fix
    else:  # the menu's names are JupyterLab's, in English in both languages
        assert "[4]" in todo and "Shut Down Kernel" in todo and "Shut Down Kernel" in fix, (todo, fix)


def _dead(pid):
    """Whether process ``pid`` has died (a zombie its parent has not reaped yet counts), as Linux's /proc says."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_a_hold_begins_once_a_dead_pool_process_has_been_replaced():
    """A pool process killed just before (lesson 13's hard time limit kills one): the pool finds it when it looks,
    every 5 s, and until its replacement is up a group of four on worker@course's four processes started three at
    once and the fourth seconds later (7 of 20 tries). The hold waits for the pool first (``course_idle``)."""
    import signal

    from celery import group

    from course_tasks import journal, nap
    from course_tasks.limits import pool_processes
    from course_tasks.waiting import wait_until

    for victim in range(4):
        with exclusive("main"):
            pid = pool_processes()[victim]
            os.kill(pid, signal.SIGKILL)  # delivered when the kernel next runs it: on a busy machine, not at once
            assert wait_until(lambda pid=pid: _dead(pid), 5)  # dead, as after a time limit's kill
        with exclusive("main"):
            sent = group(nap.s(1) for _ in range(4)).apply_async()
            sent.get(timeout=30)
        ran = [entry for entry in journal.entries() if entry["id"] in {result.id for result in sent.results}]
        assert journal.max_parallel(ran) == 4, [(entry["started"], entry["finished"], entry["pid"]) for entry in ran]
