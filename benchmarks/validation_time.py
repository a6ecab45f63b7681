"""Benchmark: wall time of the README's test command on a fresh clone, cold (no .venv yet) and warm, and its floor.

    python3 benchmarks/validation_time.py [--warm-runs N]
    python3 benchmarks/validation_time.py --floor-only     # the floor alone, in seconds, without running the suite

It clones the committed HEAD into a temporary folder, so uncommitted changes are not measured.
The floor (benchmarks/floor.py) is what the suite cannot go below: the lessons' deliberate waits
(benchmarks/deliberate_waits.py, both languages), one kernel start per notebook (measured here, as nbval
starts one) and the waits of the exercise solutions, divided by the 2 test processes that run notebooks
at once. The warm run's ratio to it says how much of the rest is machinery.
Speed targets live here, not in timed tests; record results in benchmarks/RESULTS.md.
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import floor

ROOT = Path(__file__).resolve().parent.parent


def timed(argv, cwd):
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    lines = done.stdout.splitlines()
    summary = next((line for line in reversed(lines) if " in " in line and "=" in line), "")
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return elapsed, done.returncode, summary.strip("= "), failed


def measured_floor(root):
    """The floor's parts for the notebooks under ``root``, a kernel start measured with ``root``'s .venv."""
    python = root / ".venv" / "bin" / "python"
    if not python.exists():
        sys.exit(f"{python} is missing: run  python3 course.py test  (or  python3 course.py up) once to create .venv")
    return floor.floor([lesson for _, lesson in floor.notebooks(root)], floor.measure_kernel_start(python))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-runs", type=int, default=1)
    parser.add_argument("--floor-only", action="store_true",
                        help="print the floor of this working tree (kernel start measured with its .venv) and exit")
    args = parser.parse_args()
    if args.floor_only:
        print(floor.report(measured_floor(ROOT)))
        return 0
    clone = Path(tempfile.mkdtemp(prefix="course-bench-")) / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    try:
        runs = [("cold", *timed([sys.executable, "course.py", "test"], clone))]
        runs += [(f"warm {i + 1}", *timed([sys.executable, "course.py", "test"], clone)) for i in range(args.warm_runs)]
        parts = measured_floor(clone)  # the clone's .venv, after the runs: the kernels the suite started
    finally:
        shutil.rmtree(clone.parent, ignore_errors=True)
    for name, elapsed, code, summary, failed in runs:
        print(f"{name:7} {elapsed:6.1f} s  exit {code}  {summary}")
        for line in failed[:10]:  # the first few, so a failing run says where to look
            print(f"        {line[:160]}")
    print(floor.report(parts, warm=min(run[1] for run in runs if run[0] != "cold")))
    return max(run[2] for run in runs)


if __name__ == "__main__":
    sys.exit(main())
