"""The tasks of lesson 11 (retries): a flaky service that fails a known number of times, and tasks that call it.

``flaky_service(key, failures)`` stands for a remote service that is down for a while: the first
``failures`` calls with the same ``key`` raise ConnectionError, later ones answer. It counts the calls in
Redis, keyed per task call (the task id stays the same through every retry), so runs never interfere.

A task here is described by a comment above its decorator, not by a docstring: the lesson prints a task's code
(``inspect.getsource`` starts at the decorator), the same in the English and the Russian notebook.
"""
import itertools
import time

from .celery import app

CALLS_PREFIX = "course:flaky:"
RETRY_COUNTDOWN = 0.5  # seconds between two attempts of fetch (short, so that the lesson stays fast)
CALL_SECONDS = 0.2  # a call over the network takes a moment (and a bar of the timeline gets a visible width)


def flaky_service(key, failures):
    """The number of this call (1, 2, ...) for ``key``; the first ``failures`` calls raise ConnectionError."""
    time.sleep(CALL_SECONDS)
    client = app.backend.client
    calls = client.incr(CALLS_PREFIX + key)
    client.expire(CALLS_PREFIX + key, 3600)
    if calls <= failures:
        raise ConnectionError(f"flaky_service #{calls}")  # the same in both languages: a notebook prints it
    return calls


def calls_made(key):
    """How many times the flaky service was called for ``key`` (a task id)."""
    return int(app.backend.client.get(CALLS_PREFIX + key) or 0)


def countdowns(entries):
    """The countdown that each attempt ending in RETRY sent its retry with, in order: what Celery was asked for,
    recorded by the journal from Celery's ``Retry`` (``Retry.when``), the same on a busy machine as on an idle one."""
    return [e["countdown"] for e in sorted(entries, key=lambda e: e["started"]) if e["state"] == "RETRY"]


def waits(entries):
    """Seconds from the start of each attempt (journal entry) to the start of the next. Never shorter than the
    countdown of the retry in between: that countdown runs from the ``self.retry()`` call, made during the attempt,
    and a worker never starts a task before its ETA. A busy machine can only make a wait longer."""
    entries = sorted(entries, key=lambda e: e["started"])
    return [later["started"] - earlier["started"] for earlier, later in itertools.pairwise(entries)]


# Calls the flaky service; on ConnectionError retries by hand with self.retry (lesson 11).
@app.task(bind=True, max_retries=3)
def fetch(self, failures):
    try:
        calls = flaky_service(self.request.id, failures)
    except ConnectionError as exc:
        raise self.retry(exc=exc, countdown=RETRY_COUNTDOWN)
    return {"calls": calls, "retries": self.request.retries}


# As fetch, but calls self.retry() without exc=: what is raised when the retries run out (lesson 11).
@app.task(bind=True, max_retries=3)
def fetch_without_exc(self, failures):
    try:
        calls = flaky_service(self.request.id, failures)
    except ConnectionError:
        raise self.retry(countdown=RETRY_COUNTDOWN)
    return {"calls": calls, "retries": self.request.retries}


# The same call, retried by Celery: autoretry_for with exponential backoff, no jitter (lesson 11).
@app.task(bind=True, autoretry_for=(ConnectionError,), retry_backoff=True, retry_backoff_max=2,
          retry_jitter=False, max_retries=3)
def fetch_auto(self, failures):
    calls = flaky_service(self.request.id, failures)
    return {"calls": calls, "retries": self.request.retries}


# An errback (link_error): gets the id of the task that failed and reads its error (lessons 11 and 14).
@app.task
def report_failure(task_id):
    return repr(app.AsyncResult(task_id).result)
