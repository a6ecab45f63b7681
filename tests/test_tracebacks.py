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
    """Kernel > Interrupt during .get(): a few lines (the cell's, not Celery's and kombu's 60-100) saying the task
    goes on, which one and its state; a NameError in a fresh kernel (a restart), before Setup has imported the
    course: run the cells from Setup (course_kernel.py, loaded by every kernel of .venv)."""
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
