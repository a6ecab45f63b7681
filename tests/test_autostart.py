"""A lesson opened anywhere (VS Code, a JupyterLab of one's own, papermill/nbconvert) with no setup running:
the Setup cell's check_setup() starts the embedded Redis and the workers from the kernel, the lesson
gives its stored outputs (the notice that says so is not part of them), and nothing is left when the kernel stops.
Lesson 01 runs whole (its holds included); lesson 05 up to the cell that times 500 tasks (work, not a point about
the setup: nbval runs it, against the test run's workers).

Each run has a broker URL of its own on a free loopback port, which nothing answers at first.
"""
import os
import subprocess
import sys
import time

import nbformat
import pytest
from lessons import NOTEBOOKS
from test_launcher import processes_with
from test_side_by_side import assert_same_outputs

from course_tasks.machinery.probes import free_port, port_in_use
from course_tasks.machinery.services import ROOT


def kernel_env(broker):
    """The environment of a learner's shell: none of the test run's CELERY_/COURSE_ settings, this broker URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "COURSE_"))}
    env.update(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker, PYTHONPATH=str(ROOT),
               COURSE_RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//")  # no RabbitMQ there
    return env


def up_to(notebook, marker):
    """``notebook`` without the code cell whose source contains ``marker`` and every cell after it."""
    if marker:
        [stop] = [n for n, cell in enumerate(notebook.cells) if cell.cell_type == "code" and marker in cell.source][:1]
        notebook.cells = notebook.cells[:stop]
    return notebook


@pytest.mark.parametrize("lang, lesson, stop_at", [("en", "01_delay_and_apply_async.ipynb", None),
                                                   ("ru", "05_map_starmap_chunks.ipynb", "N, SIZE = 500")])
def test_a_lesson_with_no_setup_running_starts_one_and_leaves_nothing(lang, lesson, stop_at, tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    path = NOTEBOOKS / lang / lesson
    stored = up_to(nbformat.read(path, as_version=4), stop_at)
    (tmp_path / lang).mkdir()  # the kernel runs in the notebook's folder: a folder named ru speaks Russian
    nbformat.write(stored, tmp_path / lang / lesson)
    run = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=120", "--ExecutePreprocessor.kernel_name=python3",
         "--output-dir", str(tmp_path), "--output", lesson, str(tmp_path / lang / lesson)],
        env=kernel_env(broker), cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    try:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        fresh = nbformat.read(tmp_path / lesson, as_version=4)
        notices = [out["data"]["text/plain"] for cell in fresh.cells if cell.cell_type == "code"
                   for out in cell.outputs if out.get("metadata", {}).get("course") == "notice"]
        assert any(broker in text for text in notices), notices  # the kernel said it started the setup
        assert_same_outputs(stored, fresh, f"{lang}/{lesson}")
        deadline = time.monotonic() + 20  # the kernel has exited; what it started stops with it
        while (processes_with(broker) or port_in_use("127.0.0.1", port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_with(broker) == [] and not port_in_use("127.0.0.1", port)
    finally:
        for pid in processes_with(broker):
            os.kill(pid, 9)


def test_a_silent_port_at_the_course_url_is_told_and_the_names_still_import(tmp_path):
    """A port on this machine that accepts and never answers: the kernel cannot start a setup there. The Setup
    cell's check says why in a notice and names the URL within seconds; a later cell that
    sends a task gets the same kind of message, not a NameError."""
    import socket

    from jupyter_client.manager import start_new_kernel

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    broker = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    env = dict(kernel_env(broker), COURSE_LANG="en")
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    try:
        def run(code):
            outputs, started = [], time.monotonic()
            client.execute_interactive(code, timeout=60, output_hook=outputs.append)
            shown = ("stream", "display_data", "update_display_data", "error")
            return [o["content"] for o in outputs if o["msg_type"] in shown], time.monotonic() - started

        setup, seconds = run("from course_tasks import add, check_setup\ncheck_setup()")
        texts = [c.get("text") or c.get("data", {}).get("text/plain") or c.get("evalue", "") for c in setup]
        assert any("could not start one from this notebook" in t and broker in t for t in texts), texts
        assert setup[-1].get("ename") == "SetupError" and broker in setup[-1]["evalue"], setup
        assert "course.py up" not in setup[-1]["evalue"].splitlines()[1]  # `up` cannot use that port either
        assert "another port" in setup[-1]["evalue"]
        assert seconds < 15, seconds  # the failed start and the check, each in a few seconds
        later, seconds = run("add.delay(1, 2)")
        assert later[-1].get("ename") in ("SetupError", "ResultBackendDown") and broker in later[-1]["evalue"]
        assert seconds < 5, seconds
    finally:
        manager.shutdown_kernel(now=True)
        server.close()
        assert processes_with(broker) == []
