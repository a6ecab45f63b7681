"""What a process started by a test prints, read line by line in a thread, so that a test can wait for a line
with a bound (`python3 course.py up` of tests/test_launcher.py and of each user in tests/test_two_users.py)."""
import queue
import re
import threading
import time

import pytest


class Printed:
    """The lines ``proc`` prints on its stdout (a text pipe); ``who`` names it when a wait fails."""

    def __init__(self, proc, who):
        self.proc, self.who = proc, who
        self.output = []
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)  # end of output

    def wait_for(self, pattern, timeout=60):
        """The match of ``pattern`` in the next lines printed; fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)
                break
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        pytest.fail(f"no {pattern!r} in {self.who}'s output within {timeout:g} s:\n{self.text()}")

    def rest(self):
        """All it printed until it ended."""
        while (line := self.lines.get(timeout=30)) is not None:
            self.output.append(line)
        self.lines.put(None)
        return self.text()

    def text(self):
        return "".join(self.output)
