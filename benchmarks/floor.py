"""The floor of the test command: what no speed-up of the machinery can go below.

    floor = (deliberate waits of every notebook, both languages
             + one kernel start per notebook
             + deliberate waits of the exercise solutions, run once) / test processes

The waits come from benchmarks/deliberate_waits.py; a kernel start is measured here as nbval does it. Divided by
the test processes that run notebooks (two of the four: conftest.py) because two notebooks run at once. Left out:
the unit tests, the launcher's end-to-end tests, starting each process's live setup, and the time a notebook waits
for its twin to release a worker (exclusive()), so the real suite can only be slower.
"""
import statistics
import subprocess
from pathlib import Path

import deliberate_waits

PROCESSES = 2  # notebooks run in 2 test processes at once (conftest.py: LESSON_PROCESSES)
LANGS = ("en", "ru")

# Run by the project's .venv: start a kernel the way nbval does (--nbval-current-env), run `1`, stop it.
_KERNEL_START = """
import time
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel

started = time.perf_counter()
kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME)
reply = kernel.kc.execute_interactive("1", timeout=60, output_hook=lambda msg: None)  # nothing printed
kernel.stop()
assert reply["content"]["status"] == "ok", reply
print(time.perf_counter() - started)
"""


def measure_kernel_start(python, runs=3):
    """The median, over ``runs``, of seconds to start a python3 kernel with nbval, run ``1`` and shut it down."""
    times = []
    for _ in range(runs):
        done = subprocess.run([str(python), "-c", _KERNEL_START], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"could not start a kernel with {python}:\n{done.stderr.strip()}")
        times.append(float(done.stdout.split()[-1]))
    return statistics.median(times)


def notebooks(root):
    """``[(lang, lesson), ...]`` of every notebook the test command runs under ``root``."""
    return [(lang, path.stem) for lang in LANGS for path in sorted((Path(root) / "notebooks" / lang).glob("*.ipynb"))]


def floor(lessons, kernel_start, processes=PROCESSES):
    """The floor's parts and total, in seconds, for ``lessons`` (one name per notebook run, e.g. from notebooks())."""
    missing = sorted({lesson for lesson in lessons if lesson not in deliberate_waits.WAITS})
    if missing:
        raise KeyError(f"no entry in benchmarks/deliberate_waits.py for: {', '.join(missing)}")
    waits = sum(deliberate_waits.lesson_seconds(lesson) for lesson in lessons)
    kernels = len(lessons) * kernel_start
    exercises = deliberate_waits.exercise_seconds()
    return {"notebooks": len(lessons), "waits": waits, "kernel_start": kernel_start, "kernels": kernels,
            "exercises": exercises, "processes": processes, "floor": (waits + kernels + exercises) / processes}


def report(parts, warm=None):
    """The floor as printed by the benchmark, with the warm run's ratio to it when given."""
    lines = [
        (f"floor   {parts['floor']:6.1f} s  = (waits {parts['waits']:.1f} s in {parts['notebooks']} notebooks"
        f" + {parts['notebooks']} kernel starts x {parts['kernel_start']:.2f} s"
        f" + exercise solutions {parts['exercises']:.1f} s) / {parts['processes']} test processes"),
        "        (two notebooks run at once; leaves out unit and end-to-end tests and the live setups' start)",
    ]
    if warm is not None:
        lines.append(f"warm / floor: {warm / parts['floor']:.2f}")
    return "\n".join(lines)
