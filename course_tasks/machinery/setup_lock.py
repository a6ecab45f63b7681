"""One setup of the course per broker: an OS file lock (fcntl.flock) keyed by the broker's host and port, or socket.

The lock files are in .course/run/ of the clone (mode 0700): each user of a machine, with a clone of their own, has
locks of their own, as they have a broker of their own (settings.embedded_socket()).

The ``python3 course.py up`` that holds the lock owns the setup and writes into the lock file what runs
(its pid, the broker, the workers, the JupyterLab and Flower addresses). A second ``up`` for the same
broker, started later or at the very same moment, cannot take the lock: it reads that file instead and
says what runs. The kernel releases the lock when its holder exits, even by SIGKILL.
"""
import fcntl
import json
import os
import time

from . import run_state


class SetupLock:
    def __init__(self, broker_url: str):
        self.url = broker_url
        self.path = run_state.RUN_DIR / f"{run_state.broker_key(broker_url)}.lock"
        self.file = None
        self.info = {}

    def acquire(self) -> bool:
        """Take the lock if nobody holds it (never waits); True if this process holds it now."""
        run_state.private_dir(self.path.parent)
        while True:
            handle = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), "r+")  # it may hold a Jupyter token
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            try:
                if os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino:
                    break
            except FileNotFoundError:
                pass
            handle.close()  # its holder removed this file on release: lock the new one
        self.file = handle
        self.info = {"pid": os.getpid(), "started_at": time.time()}
        self.publish(state="starting")
        return True

    def publish(self, **info):
        """Add ``info`` to what the lock file says about this setup (only its holder writes)."""
        self.info.update(info)
        self.file.seek(0)
        self.file.truncate()
        self.file.write(json.dumps(self.info))
        self.file.flush()

    def holder(self):
        """What the holder wrote: ``{"pid", "started_at", "state", "broker", "workers", "services", "jupyter",
        "flower"}``, or None while it has written nothing whole yet."""
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def release(self):
        """Remove the lock file (while still holding it, so nobody locks a removed file unseen) and unlock."""
        if self.file is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None
