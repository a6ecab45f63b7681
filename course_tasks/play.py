"""The app of play@course (lesson 10): the course's app, plus the learners' modules of the playground.

A notebook imports this module too, for the app (``app_for("play")``: ``check_setup()``, ``reload_worker()``), and
must never run a learner's code: the playground is imported only when a worker starts on this app (Celery's
``worker_init`` signal, sent in the worker's main process before its pool processes are forked, so they have the
tasks too).
"""
from celery import signals

from .celery import app
from .machinery import loading


@signals.worker_init.connect(weak=False)
def _load_playground(sender=None, **kwargs):
    loading.load(app)


__all__ = ["app"]
