"""The recording side of the journal (``course_tasks/journal.py`` is the side a notebook reads).

A task's ``print`` lands in the worker's log, which a learner in Jupyter never sees. So every task of the course
(:class:`JournaledTask`, the apps' task class: ``plumbing.install``) writes one entry to a Redis list when it ends,
before its result is stored, so an entry is there as soon as ``.get()`` returns. Each notebook kernel has a
journal of its own (:data:`KEY`): the client stamps a ``journal`` header on every message it sends, and a task that
sends more (the next link of a chain) passes its header on.
"""
import json
import math
import numbers
import os
import threading
import time
import uuid

from billiard.process import current_process
from celery import Task, current_task, signals
from celery.exceptions import Retry
from celery.utils.log import get_task_logger
from kombu.exceptions import EncodeError
from redis.exceptions import RedisError

HEADER = "journal"
KEY_PREFIX = "course:journal:"
KEEP_SECONDS = 24 * 3600
JOURNAL_ENV = "COURSE_JOURNAL"  # a process a notebook starts to send for it (celery beat, lesson 16) gets its journal
KEY = os.environ.get(JOURNAL_ENV) or uuid.uuid4().hex  # this process's journal (a notebook kernel's)
SHOWN_CHARS = 2000  # the longest repr a journal entry keeps

logger = get_task_logger(__name__)


def entry(task, args, kwargs, **more):
    """What the journal records of a run of ``task`` (the one shape of an entry; ``more``: started, state ...)."""
    request = task.request
    return {"id": request.id, "task": task.name.rsplit(".", 1)[-1], "args": list(args), "kwargs": kwargs,
            "node": request.hostname, "process": process_index(), "pid": os.getpid(), **more}


def record(client, key, event):
    """Append ``event`` to the Redis list ``key`` (kept a day). Never raises: what a task returns or raises is what
    the learner sees; a journal that cannot be written (its Redis gone) is said in the worker's log.

    Values JSON cannot hold are recorded as their :func:`shown` form."""
    try:
        text = json.dumps(event, default=shown)
    except ValueError:  # e.g. an int over Python's 4300-digit limit for int-to-str conversion
        text = json.dumps({k: [shown(a) for a in v] if k == "args" else
                           {n: shown(a) for n, a in v.items()} if k == "kwargs" else v for k, v in event.items()})
    try:
        client.rpush(key, text)
        client.expire(key, KEEP_SECONDS)
    except (RedisError, OSError) as exc:
        logger.warning("journal: %s not recorded (%s: %s)", event.get("id"), type(exc).__name__, exc)


class JournaledTask(Task):
    """The base of every course task: runs the task, then records what happened in the sender's journal."""

    def __call__(self, *args, **kwargs):
        request = self.request
        journal = getattr(request, HEADER, None)
        if request.called_directly or not journal:
            return super().__call__(*args, **kwargs)
        started, state, outcome, retry = time.time(), "SUCCESS", None, {}
        try:
            outcome = super().__call__(*args, **kwargs)
            return outcome
        except Retry as exc:  # self.retry() or autoretry_for: this attempt ends, a later one follows (lesson 11)
            state, outcome = "RETRY", exc.exc if exc.exc is not None else exc  # as Celery stores it: the cause
            if isinstance(exc.when, numbers.Number):  # the countdown the retry was sent with (Celery's, exact)
                retry = {"countdown": exc.when}
            raise
        except BaseException as exc:
            state, outcome = "FAILURE", exc
            raise
        finally:
            if state == "SUCCESS":
                state, outcome = self._as_stored(outcome)
            record(self.app.backend.client, KEY_PREFIX + journal, entry(
                self, args, kwargs, priority=(request.delivery_info or {}).get("priority"), started=started,
                finished=time.time(), state=state, result=shown(outcome), **retry))

    def _as_stored(self, outcome):
        """``("SUCCESS", outcome)``, or ``("FAILURE", error)`` when the result backend cannot store ``outcome``
        (a set, an int over 4300 digits: JSON has no place for them): Celery then records the task as failed
        with that error, and the journal says the same."""
        if self.request.ignore_result or self.ignore_result:
            return "SUCCESS", outcome
        try:
            self.backend.encode(outcome)
        except EncodeError as exc:
            return "FAILURE", exc
        return "SUCCESS", outcome


def shown(value):
    """``repr(value)`` as the journal keeps it: at most SHOWN_CHARS characters, and never an error.

    An int too long for Python's int-to-str limit (4300 digits) is described by its number of digits.
    """
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 (the repr of any object may fail in any way; the journal says how)
        if isinstance(value, int) and isinstance(exc, ValueError):
            text = f"<int of {_digits(value)} digits>"
        else:
            text = f"<{type(value).__name__}: repr() failed with {type(exc).__name__}>"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def _digits(n):
    """The number of decimal digits of the int ``n``, without converting it to str."""
    n = abs(n)
    exponent = math.log10(n)
    power = round(exponent)
    if abs(exponent - power) < 1e-9:  # next to a power of ten, where a float cannot tell: compare exactly
        return power + (1 if n >= 10 ** power else 0)
    return math.floor(exponent) + 1


def process_index():
    """0, 1, 2 ... for the pool's child processes, or for the threads of a threads pool (lesson 19); 0 for solo."""
    index = getattr(current_process(), "index", None)
    if index is not None:
        return index
    name = threading.current_thread().name  # the threads pool's ThreadPoolExecutor-0_3, ...
    suffix = name.rpartition("_")[2]
    return int(suffix) if name.startswith("ThreadPoolExecutor") and suffix.isdigit() else 0


@signals.before_task_publish.connect
def _stamp_journal(headers=None, **_):
    """Stamp outgoing messages with this process's journal, or with the journal of the task sending them."""
    if headers is None or HEADER in headers:
        return
    task = current_task
    inherited = getattr(task.request, HEADER, None) if task and not task.request.called_directly else None
    headers[HEADER] = inherited or KEY
