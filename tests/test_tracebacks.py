"""A cell that fails shows a short error in a real kernel (nbclient): the learner's cell lines and
``ExceptionName: message``, never a path of the machine; the exception itself is unchanged (live)."""
import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_tasks.machinery.services import ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")
MACHINE_PATHS = ("/tmp", "/work", "/root", "/home", "/usr", "site-packages", ".venv", str(ROOT))

CELLS = [
    "from course_tasks import divide",
    "divide.delay(1, 0).get(timeout=10)",                      # raised again in the notebook by Celery
    "import json\njson.loads('{')",                             # raised deep in the standard library
    "%tb",                                                      # the whole traceback, on demand
    "def share(total, people):\n    return total / people",    # the learner's own code ...
    "share(10, 0)",                                             # ... keeps the frames of both cells
    "x = (",                                                    # a syntax error: IPython's own report
    "json.loads('[')",                                          # and short errors still after it
]


def run(cells, lang):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(os.environ["COURSE_TEST_TMP"]) / lang)}})
    client.execute()
    return nb.cells


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    base = tmp_path_factory.mktemp("notebooks")
    os.environ["COURSE_TEST_TMP"] = str(base)
    for lang in ("en", "ru"):
        (base / lang).mkdir()
    return {lang: run(CELLS, lang) for lang in ("en", "ru")}


def error_of(cell):
    (error,) = [output for output in cell.outputs if output.output_type == "error"]
    return error, ANSI.sub("", "\n".join(error.traceback))


def test_an_error_raised_inside_celery_shows_the_cell_line_and_the_exception(cells):
    error, text = error_of(cells["en"][1])
    assert (error.ename, error.evalue) == ("ZeroDivisionError", "division by zero")
    assert "Cell In[2], line 1" in text and "divide.delay(1, 0).get(timeout=10)" in text
    assert text.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "frames outside this notebook's cells hidden; %tb shows the whole traceback" in text
    assert len(text.splitlines()) < 12, text


def test_no_path_of_the_machine_in_a_stored_traceback(cells):
    for lang in ("en", "ru"):
        for n in (1, 2, 5, 7):
            error, text = error_of(cells[lang][n])
            stored = json.dumps(error)  # what papermill writes into the notebook, colour codes and all
            assert not [path for path in MACHINE_PATHS if path in stored or path in text], text


def test_the_learners_own_frames_stay(cells):
    error, text = error_of(cells["en"][5])
    assert (error.ename, error.evalue) == ("ZeroDivisionError", "division by zero")
    assert "Cell In[6], line 1" in text and "Cell In[5], line 2" in text and "return total / people" in text
    assert "hidden" not in text  # nothing of a package was in the way


def test_the_note_speaks_the_notebooks_language(cells):
    _, text = error_of(cells["ru"][2])
    assert "(фреймы вне ячеек ноутбука скрыты; всю трассировку покажет %tb)" in text and text.rstrip().endswith(
        "JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")


def test_the_full_traceback_is_there_on_demand_and_the_kernel_carries_on(cells):
    nb = cells["en"]
    full = ANSI.sub("", "".join(out.get("text", "") + "\n".join(out.get("traceback", [])) for out in nb[3].outputs))
    assert "decoder.py" in full and "JSONDecodeError" in full
    error, _ = error_of(nb[6])
    assert error.ename == "SyntaxError"
    error, text = error_of(nb[7])
    assert error.ename == "JSONDecodeError" and "Cell In[8], line 1" in text and "hidden" in text


def test_a_failing_cell_still_fails_for_nbval_and_papermill(tmp_path):
    """The execute reply says "error", so a cell without the raises-exception tag still fails a test run."""
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import course_tasks\n1 / 0")])
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        NotebookClient(nb, timeout=60, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()


def test_nothing_is_installed_outside_ipython():
    from course_tasks.machinery import tracebacks

    assert tracebacks.install() is False  # pytest is no IPython shell


def _kernel_run(kc, code, interrupt=None):
    """Run ``code`` in the kernel of ``kc``; with ``interrupt`` (a KernelManager), interrupt it once the cell has
    printed its first line. The text of its streams and its error."""
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
            if interrupt is not None:
                time.sleep(0.5)  # into .get()
                interrupt.interrupt_kernel()
                interrupt = None
        elif kind == "error":
            out.append(ANSI.sub("", "\n".join(msg["content"]["traceback"])))
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_interrupt_and_a_name_error_after_a_restart_say_what_to_do(tmp_path, lang):
    """Kernel > Interrupt during .get(): a few lines (the cell's, not Celery's and kombu's 60-100) saying the tasks
    the cell sent go on, which one it waited for and its state; a NameError in a fresh kernel (a restart), before
    Setup has imported the course: run the cells from Setup (course_kernel.py, loaded by every kernel of .venv)."""
    from jupyter_client.manager import start_new_kernel

    (tmp_path / lang).mkdir()
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path / lang))
    try:
        fresh = _kernel_run(kc, "journal.clear()")
        _kernel_run(kc, "from course_tasks import nap")
        interrupted = _kernel_run(kc, "result = nap.delay(30)\nprint('sent', flush=True)\nresult.get(timeout=60)",
                                  interrupt=km)
        task_id = _kernel_run(kc, "print(result.id)").strip()
        _kernel_run(kc, "result.revoke(terminate=True)")  # the worker is free for what follows
    finally:
        km.shutdown_kernel(now=True)
    name_hint = {"en": "Run the cells in order, from Setup", "ru": "начиная с «Подготовки»"}[lang]
    assert "NameError: name 'journal' is not defined" in fresh and name_hint in fresh, fresh
    assert "KeyboardInterrupt" in interrupted and "result.get(timeout=60)" in interrupted
    assert "kombu" not in interrupted and "celery/" not in interrupted
    assert len(interrupted.splitlines()) < 16, interrupted
    said = {"en": f"The cell was waiting for the task {task_id}", "ru": f"Ячейка ждала задачу {task_id}"}[lang]
    assert said in interrupted, interrupted
    sent = {"en": "not the tasks this cell sent", "ru": "но не задачи, которые отправила эта ячейка"}[lang]
    assert sent in interrupted, interrupted  # it sent nap


HOLDER = """import sys
from course_tasks import exclusive
with exclusive("play", idle=False):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says so
"""
# What the kernel has of holds afterwards: this process's holds, the renewing threads, and who holds play@course.
HELD_HERE = """import sys, threading
from course_tasks.apps import app_for
mod = sys.modules["course_tasks.exclusive"]
value = app_for("main").backend.client.get(mod.KEY_PREFIX + "play@course") or b""
print(sorted(mod._held), [t.name for t in threading.enumerate() if "_renew" in t.name],
      value.decode().split("|", 1)[0] == mod.journaling.KEY)
"""


def _interrupted(kc, km, code, when, twice=False, later=0.0):
    """Run ``code``; ``later`` seconds after its output shows ``when``, interrupt the kernel (``twice``: again at
    once, as a learner pressing Interrupt twice does, which lands in the course's traceback handler). Its output and
    error, as text."""
    msg_id = kc.execute(code)
    out, sent = [], False
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind in ("display_data", "update_display_data"):
            out.append(content["data"].get("text/plain", "") + "\n")
        elif kind == "error":
            out.append(ANSI.sub("", "\n".join(content["traceback"])) + "\n")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)
        if not sent and when in "".join(out):
            time.sleep(later)  # into the wait that follows
            km.interrupt_kernel()
            if twice:
                time.sleep(0.005)
                km.interrupt_kernel()
            sent = True


SENT_NOTE = {"en": "An interrupt stops", "ru": "Прерывание останавливает"}  # said only if the cell sent a task


def _error_text(text, after):
    """The error's lines: what the cell printed from ``after`` on (its notices come before)."""
    return text[text.index(after):]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_interrupt_while_setup_waits_for_a_held_worker_is_short_and_leaves_nothing_held(tmp_path, lang):
    """A Setup cell waits for play@course, held by another process (lesson 10's twin, say); Kernel > Interrupt,
    pressed twice: a short traceback (IPython used to drop the course's handler on the second one: 89 lines, and
    every later error long), saying the cell waited for play@course and does not hold it, and nothing of tasks (it
    sent none); nothing of the kernel
    holds it afterwards, and a later error is still short."""
    import subprocess
    import sys

    from jupyter_client.manager import start_new_kernel

    (tmp_path / lang).mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=tmp_path)
    km = None
    try:
        assert holder.stdout.readline().strip() == "held"
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path / lang))
        waiting = {"en": "play@course is held by", "ru": "play@course занят"}[lang]
        text = _interrupted(kc, km, 'from course_tasks import check_setup, exclusive\nwith exclusive("play"):\n'
                                    '    check_setup(roles=("main", "play"))', waiting, twice=True)
        held = _kernel_run(kc, HELD_HERE)
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
        later = _kernel_run(kc, "from course_tasks import divide\ndivide.delay(1, 0).get(timeout=10)")
    finally:
        if km is not None:
            km.shutdown_kernel(now=True)
        holder.kill()
        holder.wait()
    error = _error_text(text, "KeyboardInterrupt")
    said = {"en": "The cell was waiting for play@course to be free; this notebook does not hold it.",
            "ru": "Ячейка ждала, пока освободится play@course; этот ноутбук его не держит."}[lang]
    assert said in error and 'with exclusive("play"):' in error, text
    assert SENT_NOTE[lang] not in error, text  # the cell sent no task: nothing to say of tasks
    assert "Custom TB Handler failed" not in text and "contextlib" not in text and "redis" not in error, text
    assert len(error.splitlines()) < 16, error
    assert held.strip() == "[] [] False", held  # no hold of its own, no renewing thread; play@course not its
    assert "ZeroDivisionError: division by zero" in later and len(later.splitlines()) < 12, later


def test_an_interrupt_inside_a_with_exclusive_block_says_the_worker_is_let_go(tmp_path):
    """Interrupted inside ``with exclusive():`` while ``.get()`` waits: which task, its state, and that the notebook
    has let the worker go (contextlib gives the error its traceback back, so the block says it itself)."""
    from jupyter_client.manager import start_new_kernel

    (tmp_path / "en").mkdir()
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path / "en"))
    try:
        text = _interrupted(kc, km, 'from course_tasks import exclusive, nap\nwith exclusive("main"):\n'
                                    '    result = nap.delay(30)\n    print("sent", flush=True)\n'
                                    '    result.get(timeout=60)', "sent", later=0.5)
        held = _kernel_run(kc, HELD_HERE.replace("play@course", "worker@course"))
        _kernel_run(kc, "result.revoke(terminate=True)")
    finally:
        km.shutdown_kernel(now=True)
    error = _error_text(text, "KeyboardInterrupt")
    assert "The cell was waiting for the task" in error, text
    assert "This notebook has let worker@course go (its hold ended with the cell)" in error, text
    assert len(error.splitlines()) < 18, error
    assert held.strip() == "[] [] False", held


def test_an_interrupt_before_the_course_is_imported_is_short_too(tmp_path):
    """A fresh kernel (no Setup yet) interrupted during an import: course_kernel.py shows the short form, and says
    the import was cut short."""
    from jupyter_client.manager import start_new_kernel

    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "slow_module.py").write_text("import time\nprint('importing', flush=True)\ntime.sleep(60)\n")
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path / "ru"))
    try:
        text = _interrupted(kc, km, "import slow_module", "importing")
    finally:
        km.shutdown_kernel(now=True)
    error = _error_text(text, "KeyboardInterrupt")
    assert "import slow_module" in text and "time.sleep(60)" not in text, text
    assert "Прерывание оборвало импорт: выполните эту ячейку снова." in error, text
    assert SENT_NOTE["ru"] not in error, text
    assert len(error.splitlines()) < 10, error
