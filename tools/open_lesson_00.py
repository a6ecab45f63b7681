"""The README's learner command, end to end, as a learner runs it: does lesson 00's address answer?

    python3 tools/open_lesson_00.py [--timeout 900]

Runs ``python3 course.py up`` in the course's folder (on a fresh clone it makes .venv/ and installs
requirements.txt first), waits for the address it prints (``http://127.0.0.1:8888/lab/tree/en/00_...?token=...``),
requests that address and lesson 00 itself through JupyterLab's contents API, with the token, then presses
Ctrl-C (SIGINT, as a terminal does) and checks that ``up`` stops everything and exits 0.
It prints ``up``'s output as it comes. Exit status: 0 when all of that holds, 1 otherwise (with the reason).
"""
import argparse
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"(http://127\.0\.0\.1:\d+)/lab/tree/(\S+\.ipynb)\?token=(\S+)")


def fail(reason: str) -> int:
    print(f"FAILED: {reason}", flush=True)
    return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds to wait for the address (a fresh clone installs first; default 900)")
    args = parser.parse_args(argv)

    up = subprocess.Popen([sys.executable, "course.py", "up"], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    lines = queue.Queue()

    def read():
        for line in up.stdout:
            print(f"  | {line}", end="", flush=True)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        found = wait_for(lines, ADDRESS, args.timeout)
        if found is None:
            return fail(f"no address of lesson 00 within {args.timeout:g} s")
        base, notebook, token = found.groups()
        if not notebook.endswith("00_broker_worker_backend.ipynb"):
            return fail(f"the address opens {notebook}, not lesson 00")
        page = fetch(found.group(0))
        if "jupyter" not in page.lower():
            return fail(f"{base}/lab/tree/{notebook} answered, but not with JupyterLab")
        lesson = json.loads(fetch(f"{base}/api/contents/{notebook}?content=0&token={token}"))
        print(f"OK: {urlsplit(base).netloc} answers: JupyterLab, and lesson 00 ({lesson['path']}, {lesson['type']})")

        started = time.monotonic()
        up.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = up.wait(60)
        except subprocess.TimeoutExpired:
            return fail("Ctrl-C did not stop it within 60 s")
        if code != 0:
            return fail(f"it exited with {code} after Ctrl-C")
        rest = "".join(iter_rest(lines))
        if "Stopped in" not in rest:
            return fail("after Ctrl-C it did not say what it stopped")
        print(f"OK: Ctrl-C stopped it in {time.monotonic() - started:.1f} s, exit status 0")
        return 0
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGTERM)
            try:
                up.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)


def wait_for(lines, pattern, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if line is None:
            return None
        match = pattern.search(line)
        if match:
            return match
    return None


def iter_rest(lines):
    while (line := lines.get(timeout=30)) is not None:
        yield line


def fetch(url: str) -> str:
    """The body of ``url`` (a redirect followed); a refusal or an error status raises with the reason."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                return reply.read().decode(errors="replace")
        except urllib.error.URLError as error:
            # the address is printed once Jupyter listens: this wait is a margin only
            if not isinstance(error.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
