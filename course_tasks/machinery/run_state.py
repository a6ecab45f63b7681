"""What the running setup of a broker is doing, in small files under .course/run/ (readable with the broker down).

Everything the course writes for itself goes under ``.course/`` of the clone, which is kept at mode 0700
(:func:`private_dir`): the embedded broker's socket, the logs (a task's arguments, JupyterLab's token), the setup lock
and these files are for their user alone, whoever else uses the machine.

One status file per broker (``<scheme>-<host>-<port>.status.json``), written by the supervisor of the
:class:`~course_tasks.machinery.services.Stack` that serves it and removed when it stops. :func:`supervision_note`
turns it into one sentence for the learner: which service stopped, why, and whether it is back.
"""
import hashlib
import json
import os
import signal
import stat
import time
from pathlib import Path
from urllib.parse import urlsplit

from .. import settings
from ..i18n import register, say
from ..waiting import wait_until

STATE_DIR = Path(__file__).resolve().parent.parent.parent / ".course"
RUN_DIR = STATE_DIR / "run"
NOTE_WINDOW = 60.0  # seconds after a service is back during which a note still mentions it
DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671, "pyamqp": 5672}

register({
    "service_worker": {"en": "worker {name}", "ru": "воркер {name}"},
    "service_redis": {"en": "the embedded broker ({name})", "ru": "встроенный брокер ({name})"},
    "service_other": {"en": "{name}", "ru": "{name}"},
    "reason_lost_broker": {"en": "it lost its broker", "ru": "потерял связь с брокером"},
    "reason_signal": {"en": "killed by {detail}", "ru": "убит сигналом {detail}"},
    "reason_shutdown": {"en": "it was shut down", "ru": "его остановили"},
    "reason_exit": {"en": "exited with code {detail}", "ru": "завершился с кодом {detail}"},
    "note_waiting": {
        "en": "{name} stopped {ago} s ago ({reason}); it is started again as soon as the broker answers, then run "
              "the cell again.",
        "ru": "{name} остановился {ago} с назад ({reason}); он запустится снова, как только брокер ответит; "
              "после этого выполните ячейку ещё раз.",
    },
    "note_restarting": {
        "en": "{name} stopped {ago} s ago ({reason}) and is being restarted; run the cell again in a few seconds.",
        "ru": "{name} остановился {ago} с назад ({reason}) и перезапускается; выполните ячейку ещё раз через "
              "несколько секунд.",
    },
    "note_back": {
        "en": "{name} stopped {ago} s ago ({reason}) and was restarted; it works again: run the cell again.",
        "ru": "{name} остановился {ago} с назад ({reason}) и был перезапущен, он снова работает: выполните ячейку "
              "ещё раз.",
    },
    "note_restored": {
        "en": "The tasks it was running went back to the queue {queues} and run again ({count}).",
        "ru": "Задачи, которые он выполнял, вернулись в очередь {queues} и выполнятся снова ({count}).",
    },
    "note_gave_back": {
        "en": "note: {name} stopped {ago} s ago ({reason}) and was restarted; the tasks it was running went back to "
              "the queue {queues} and run again ({count}).",
        "ru": "к сведению: {name} остановился {ago} с назад ({reason}) и был перезапущен; задачи, которые он "
              "выполнял, вернулись в очередь {queues} и выполнятся снова ({count}).",
    },
})


def private_dir(path: Path) -> Path:
    """Make the folder ``path`` (with its parents) and return it. ``.course/``, and ``path`` itself, get mode 0700
    when this user owns them, so that no other user of the machine reads or opens what is in them."""
    path = Path(path)
    for folder in (STATE_DIR, path) if path == STATE_DIR or STATE_DIR in path.parents else (path,):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(folder)
        if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == getattr(os, "getuid", lambda: -1)():
            os.chmod(folder, 0o700)
    return path


def broker_key(url: str) -> str:
    """``redis-127.0.0.1-6379``: one name per broker host and port (the database or vhost does not matter);
    ``redis-socket-<digest>`` for a broker on a Unix socket, one name per socket."""
    path = settings.socket_path(url)
    if path is not None:
        return f"redis-socket-{hashlib.sha256(os.fsencode(os.path.abspath(path))).hexdigest()[:12]}"
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme or "unknown"
    host = parts.hostname or "localhost"
    host = "127.0.0.1" if host in ("localhost", "::1") else host  # one machine, one name
    return f"{scheme}-{host}-{port or DEFAULT_PORTS.get(scheme, 0)}"


def same_broker(a, b) -> bool:
    return bool(a and b) and broker_key(a) == broker_key(b)


def status_path(broker_url: str) -> Path:
    return RUN_DIR / f"{broker_key(broker_url)}.status.json"


def write_json(path: Path, data: dict):
    """Write ``data`` to ``path`` at once (a reader sees the old file or the new one, never half of one)."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def flower_path(broker_url: str) -> Path:
    """The record of the Flower that lesson 17 starts for the setup of ``broker_url`` (machinery/lesson_flower.py)."""
    return RUN_DIR / f"{broker_key(broker_url)}.flower.json"


def stop_flower(broker_url: str, timeout: float = 5.0, lock: bool = True) -> bool:
    """Stop the Flower recorded for ``broker_url`` (SIGTERM, then SIGKILL after ``timeout``) and remove its record
    and (``lock``) its lock; True if one was running. A pid whose process is gone is only forgotten."""
    path = flower_path(broker_url)
    record = read_json(path) or {}
    path.unlink(missing_ok=True)
    if lock:  # the lock of its start (lesson_flower.ensure), unless its holder calls
        path.with_suffix(".lock").unlink(missing_ok=True)
    pid = record.get("pid")
    if not process_alive(pid):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(int(pid), sig)  # its own session: Flower alone
        except (ProcessLookupError, PermissionError):
            return True
        if wait_until(lambda: _reaped(pid) or not process_alive(pid), timeout):
            return True
    return True


def _reaped(pid) -> bool:
    """Whether ``pid``, a child of this process that has exited (a kernel started it), was reaped now: else it stays
    a zombie that looks alive."""
    try:
        return bool(os.waitpid(int(pid), os.WNOHANG)[0])
    except ChildProcessError:
        return False


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def process_alive(pid) -> bool:
    """Does the process ``pid`` of this machine run? (The course's one liveness check of a process id.)"""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    except (OSError, TypeError, ValueError):
        return False
    return True


def describe(kind: str, label: str, lang: str | None = None) -> str:
    """What a service is, for a learner: ``worker worker@course``, ``the embedded Redis (redis://...)``, ``Flower``."""
    return say(f"service_{kind if kind in ('worker', 'redis') else 'other'}", lang, name=label)


def supervision_note(broker_url: str | None = None, lang: str | None = None, now: float | None = None, nodes=None,
                     only_restored: bool = False):
    """One sentence in the learner's language about a course service that stopped lately on ``broker_url``
    (default: the course's broker) and is being restarted or is back; None when there is nothing to say.

    ``nodes`` limits it to those services; ``only_restored`` to workers whose unfinished tasks the supervisor
    put back in their queue (news for a learner even when everything works again).
    Only what the running supervisor recorded is said: no status file, or a supervisor that is gone, gives None.
    """
    now = time.time() if now is None else now
    sentences = []
    for event in recent_events(broker_url, now):
        if (nodes is not None and event["name"] not in nodes) or (only_restored and not event.get("restored")):
            continue
        name = describe(event["kind"], event["name"], lang)
        values = {"name": name[0].upper() + name[1:], "ago": max(0, round(now - event["stopped_at"])),
                      "reason": say(f"reason_{event['reason']}", lang, detail=event.get("detail", ""))}
        if only_restored:  # all is well again: what is news is that its tasks run a second time
            sentences.append(say("note_gave_back", lang, count=event["restored"],
                                 queues=", ".join(map(repr, event.get("queues", []))), **dict(values, name=name)))
            continue
        sentences.append(say(f"note_{event['state']}", lang, **values))
        if event.get("restored"):
            sentences.append(say("note_restored", lang, count=event["restored"],
                                 queues=", ".join(map(repr, event.get("queues", [])))))
    return " ".join(sentences) or None


def recent_events(broker_url: str | None = None, now: float | None = None) -> list:
    """What the running supervisor of ``broker_url`` recorded: services restarting, waiting, or back within
    NOTE_WINDOW seconds (dicts with name, kind, state, reason, ...); empty when no supervisor runs."""
    status = read_json(status_path(broker_url or settings.broker_url()))
    if not isinstance(status, dict) or not process_alive(status.get("pid")):
        return []
    now = time.time() if now is None else now
    return [event for event in status.get("events", [])
            if not (event["state"] == "back" and now - event["back_at"] > NOTE_WINDOW)]


def restarting_nodes(broker_url) -> set:
    """The nodes the course's supervisor is starting again (or waiting to) on ``broker_url``."""
    return {e["name"] for e in recent_events(broker_url) if e["state"] in ("restarting", "waiting")}
