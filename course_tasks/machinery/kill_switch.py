"""A kill carried out by the very process that runs the task (lesson 12's ``kill_worker(during=...)`` and
``kill_pool_process``), so that it lands where it was asked to, however slow the machine.

A kill sent from outside at the right moment (a remote-control command, a signal) can arrive after the task has
ended when the machine is busy: the run then ends well and the lesson's point is lost. Here the notebook leaves an
order in Redis (:func:`order`): the task's id, what to kill and how many seconds into the run. The pool process
that runs the task (:class:`KillableTask`) watches for an order for the task while it runs and carries it out
itself, at that moment, or at the end of the run if the run ends sooner: before the run's end is recorded, its
result stored or its message acknowledged. Either way the run is cut off by the kill, never ended by itself.

- ``"worker"``: the pool process SIGKILLs the worker's main process, then itself (the pool's other processes die
  with the main one: Celery's prefork pool asks the kernel for that, ``PR_SET_PDEATHSIG``);
- ``"process"``: the pool process SIGKILLs itself; the main process replaces it.
"""
import json
import os
import signal
import threading
import time

from celery import Task

ORDER_PREFIX = "course:kill:"
DONE_PREFIX = "course:killed:"
POLL = 0.02  # seconds between two looks for an order while the task runs


def order(client, task_id, target, after, seconds):
    """Ask the process that runs (or will run) ``task_id`` to kill ``target`` ("worker" or "process") ``after``
    seconds into the run; the order lapses after ``seconds`` if no run takes it."""
    with client.pipeline() as pipe:  # a kill carried out for an earlier order is forgotten: carried_out waits anew
        pipe.delete(DONE_PREFIX + task_id)
        pipe.set(ORDER_PREFIX + task_id, json.dumps({"target": target, "after": after}), ex=max(1, round(seconds)))
        pipe.execute()


def cancel(client, task_id):
    """Withdraw an order no run has taken."""
    client.delete(ORDER_PREFIX + task_id)


def carried_out(client, task_id):
    """When the order for ``task_id`` was carried out (a time.time()), or None."""
    at = client.get(DONE_PREFIX + task_id)
    return float(at) if at is not None else None


class KillableTask(Task):
    """A task whose run carries out a kill ordered for it (:func:`order`). ``killing(target, request)`` is called
    just before the kill (the lesson's record of it)."""

    def killing(self, target, request):
        """Called in the pool process just before it carries out a kill, with the run's request (which a thread
        other than the task's cannot read from ``self.request``); nothing by default."""

    def __call__(self, *args, **kwargs):
        if self.request.called_directly:
            return super().__call__(*args, **kwargs)
        switch = _Switch(self, time.time())
        try:
            return super().__call__(*args, **kwargs)
        finally:
            switch.run_ends()


class _Switch:
    """Watches for an order while one run goes on (a thread of the pool process) and carries it out."""

    def __init__(self, task, started):
        self.task, self.started, self.request = task, started, task.request
        self.client, self.task_id = task.backend.client, task.request.id
        self.ended = threading.Event()
        self.lock = threading.Lock()  # the kill and the end of the run exclude each other
        threading.Thread(target=self._watch, daemon=True, name="course-kill-switch").start()

    def _order(self):
        raw = self.client.get(ORDER_PREFIX + self.task_id)
        return json.loads(raw) if raw is not None else None

    def _watch(self):
        found = None
        while found is None and not self.ended.wait(POLL):
            found = self._order()
        if found is None:
            return
        if self.ended.wait(max(0.0, self.started + found["after"] - time.time())):
            return  # the run ended first: run_ends carries the order out
        with self.lock:
            if not self.ended.is_set():
                self._kill(found["target"])

    def run_ends(self):
        """The task's code has returned (or raised): carry out an order that has not come due, else let the run end."""
        with self.lock:
            self.ended.set()
            found = self._order()
            if found is not None:
                self._kill(found["target"])

    def _kill(self, target):
        self.client.delete(ORDER_PREFIX + self.task_id)
        self.task.killing(target, self.request)
        self.client.set(DONE_PREFIX + self.task_id, repr(time.time()), ex=60)
        if target == "worker":
            os.kill(os.getppid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
