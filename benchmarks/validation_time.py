"""Benchmark: wall time of the README's test command on a fresh clone, cold (no .venv yet) and warm.

    python3 benchmarks/validation_time.py [--warm-runs N]

It clones the committed HEAD into a temporary folder, so uncommitted changes are not measured.
Speed targets live here, not in timed tests; record results in benchmarks/RESULTS.md.
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(argv, cwd):
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and "=" in line), "")
    return elapsed, done.returncode, summary.strip("= ")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-runs", type=int, default=1)
    args = parser.parse_args()
    clone = Path(tempfile.mkdtemp(prefix="course-bench-")) / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    try:
        runs = [("cold", *timed([sys.executable, "course.py", "test"], clone))]
        runs += [(f"warm {i + 1}", *timed([sys.executable, "course.py", "test"], clone)) for i in range(args.warm_runs)]
    finally:
        shutil.rmtree(clone.parent, ignore_errors=True)
    for name, elapsed, code, summary in runs:
        print(f"{name:7} {elapsed:6.1f} s  exit {code}  {summary}")
    return max(code for _, _, code, _ in runs)


if __name__ == "__main__":
    sys.exit(main())
