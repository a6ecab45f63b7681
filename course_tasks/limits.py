"""Lesson 13's tasks, on the course's main worker: work that keeps a scratch key in Redis while it runs,
stopped by a soft or a hard time limit; and what the notebook asks the worker about them.

A task here is described by a comment above its decorator, not by a docstring: the lesson prints a task's code
(``inspect.getsource`` starts at the decorator), the same in the English and the Russian notebook.
"""
import time

from celery.exceptions import SoftTimeLimitExceeded

from . import journal
from .celery import app
from .i18n import register, say
from .waiting import wait_until

SCRATCH_PREFIX = "course:scratch:"

register({
    "limits.not_running": {"en": "The task {id} did not start on {node} within {seconds:g} s. Is {node} busy with "
                                 "other work, or down?  python3 course.py check  tells.",
                           "ru": "Задача {id} не началась на {node} за {seconds:g} с. Может быть, {node} занят "
                                 "другими задачами или не запущен?  python3 course.py check  покажет."},
    "limits.replaced": {"en": "pool processes replaced: {replaced} of {total}",
                        "ru": "заменено процессов пула: {replaced} из {total}"},
})


# Sleeps `seconds` with a scratch key of this run in Redis, deleted when the work is done.
def work_with_scratch(task, seconds):
    client = task.app.backend.client
    scratch = SCRATCH_PREFIX + task.request.id
    client.set(scratch, "partial", ex=3600)
    time.sleep(seconds)
    client.delete(scratch)
    return seconds


# After 1 s SoftTimeLimitExceeded interrupts the work; the task deletes its scratch key and fails (lesson 13).
@app.task(bind=True, soft_time_limit=1)
def report_soft_limited(self, seconds):
    try:
        return work_with_scratch(self, seconds)
    except SoftTimeLimitExceeded:
        self.app.backend.client.delete(SCRATCH_PREFIX + self.request.id)
        raise


# After 1 s the worker kills its pool process: nothing cleans up (lesson 13).
@app.task(bind=True, time_limit=1)
def report_hard_limited(self, seconds):
    return work_with_scratch(self, seconds)


# Exercise 13.2: a task that catches the soft limit and carries on working, with a hard limit behind it.
@app.task(soft_time_limit=1, time_limit=2)
def keep_working(seconds):
    try:
        time.sleep(seconds)
    except SoftTimeLimitExceeded:
        time.sleep(seconds)
    return seconds


def scratch_left(result):
    """Did the run of ``result``'s task leave its scratch key behind?"""
    return bool(app.backend.client.exists(SCRATCH_PREFIX + result.id))


def ran_for(result, timeout=10):
    """Seconds the run of ``result``'s task took in the worker, from its start to its end, as the journal recorded
    them: a busy machine delays the message and the reply, not this."""
    run = wait_until(lambda: next((e for e in journal.entries() if e["id"] == result.id), None), timeout)
    return run["finished"] - run["started"] if run else None


def pool_processes(node="worker@course"):
    """The process ids of ``node``'s pool, sorted."""
    stats = app.control.inspect(destination=[node], timeout=2.0).stats() or {}
    return sorted(stats.get(node, {}).get("pool", {}).get("processes", []))


def replaced_since(before, node="worker@course", timeout=6):
    """How many of the pool processes ``before`` (``pool_processes()``) have been replaced by new ones.

    The worker notices a dead pool process at once, or at its pool check every 5 s; the course's
    ``course_check_pool`` command (course_tasks/machinery/control.py) asks for that check now."""
    app.control.broadcast("course_check_pool", destination=[node])
    def replaced():
        now = pool_processes(node)
        return now if now != before and len(now) == len(before) else None

    now = wait_until(replaced, timeout, every=0.1) or pool_processes(node)
    return len(set(before) - set(now))


def show_replaced(before, node="worker@course"):
    """Print how many of the pool processes ``before`` have been replaced since (:func:`replaced_since`)."""
    print(say("limits.replaced", replaced=replaced_since(before, node), total=len(before)))


RUNNING_IN = {}  # task id -> the pool process that ran it, as wait_running() saw it (exercise 13.4 reads it)


def wait_running(result, node="worker@course", timeout=10):
    """Wait until a pool process of ``node`` runs ``result``'s task (``inspect().query_task``)."""
    def active():
        replies = app.control.inspect(destination=[node], timeout=1.0).query_task(result.id) or {}
        state, request = replies.get(node, {}).get(result.id, [None, None])
        return request if state == "active" else None

    request = wait_until(active, timeout)
    if not request:
        raise TimeoutError(say("limits.not_running", id=result.id, node=node, seconds=timeout))
    RUNNING_IN[result.id] = request.get("worker_pid")
