"""A lesson opened anywhere (VS Code, a JupyterLab of one's own, papermill/nbconvert) with no setup running:
importing the course in the Setup cell starts the embedded Redis and the workers from the kernel, the lesson
gives its stored outputs (the notice that says so is not part of them), and nothing is left when the kernel stops.

Each run has a broker URL of its own on a free loopback port, which nothing answers at first.
"""
import os
import subprocess
import sys
import time

import nbformat
import pytest

from course_tasks.machinery.services import ROOT, free_port, port_in_use
from lessons import NOTEBOOKS
from test_launcher import processes_with
from test_side_by_side import assert_same_outputs


def kernel_env(broker):
    """The environment of a learner's shell: none of the test run's CELERY_/COURSE_ settings, this broker URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "COURSE_"))}
    env.update(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker, PYTHONPATH=str(ROOT),
               COURSE_RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//")  # no RabbitMQ there
    return env


@pytest.mark.parametrize("lang, lesson", [("en", "01_delay_and_apply_async.ipynb"),
                                          ("ru", "05_map_starmap_chunks.ipynb")])
def test_a_lesson_with_no_setup_running_starts_one_and_leaves_nothing(lang, lesson, tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    path = NOTEBOOKS / lang / lesson
    run = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=120", "--ExecutePreprocessor.kernel_name=python3",
         "--output-dir", str(tmp_path), "--output", lesson, str(path)],
        env=kernel_env(broker), cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    try:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        stored = nbformat.read(path, as_version=4)
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
