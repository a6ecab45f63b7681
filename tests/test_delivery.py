"""Lesson 12's worker and kill helpers, and lesson 13's tasks: their settings, and a kill against a missing worker.

The lessons themselves (nbval) and their exercises (test_exercises.py) run the kills live.
"""
import time

import pytest
from celery.worker.control import Panel
from kombu.transport.redis import Channel

from course_tasks import delivery, faults, limits, settings
from course_tasks.machinery import plumbing


def test_delivery_worker_has_a_short_visibility_timeout_and_unacked_keys_of_its_own():
    options = delivery.app.conf.broker_transport_options
    assert options["visibility_timeout"] == delivery.VISIBILITY_TIMEOUT <= 5
    assert options["unacked_restore_interval"] == options["unacked_restore_throttle"] == 1
    # The sweep of this worker restores only what it finds under its own keys: never the main worker's messages.
    for key in ("unacked_key", "unacked_index_key", "unacked_mutex_key"):
        assert options[key] != getattr(Channel, key), key
        assert key in Channel.from_transport_options


def test_delivery_worker_is_started_with_the_others_and_listens_to_its_own_queue():
    role = settings.worker_roles()["delivery"]
    assert "delivery" in settings.LOCAL_ROLES
    assert role.app == "course_tasks.delivery" and role.queues == (delivery.QUEUE,) and role.concurrency == 1
    assert delivery.app.conf.task_default_queue == delivery.QUEUE
    # The main worker keeps kombu's defaults: lesson 12 contrasts them.
    from course_tasks import app

    assert "visibility_timeout" not in app.conf.broker_transport_options


def test_lesson_tasks_acknowledge_as_their_names_say():
    assert delivery.nap_acked_early.acks_late is False
    assert delivery.nap_acked_late.acks_late is True and not delivery.nap_acked_late.reject_on_worker_lost
    assert delivery.nap_requeued.reject_on_worker_lost is True
    assert delivery.nap_retried.retry_on_worker_lost is True and delivery.nap_retried.max_retries == 1
    assert limits.report_soft_limited.soft_time_limit == 1 and limits.report_hard_limited.time_limit == 1


def test_kill_commands_are_registered_for_the_workers():
    from course_tasks.celery import app

    app.loader.import_default_modules()  # what a worker imports when it starts: its app's include=
    assert {"course_kill_worker", "course_kill_pool_process", "course_check_pool"} <= set(Panel.data)
    assert plumbing.CONTROL in app.conf.include  # the main worker answers them too (lesson 13)
    assert plumbing.CONTROL in delivery.app.conf.include


def test_main_worker_knows_lesson_13s_tasks():
    from course_tasks.celery import app

    assert "course_tasks.limits" in app.conf.include


def test_a_missing_worker_is_reported_within_seconds(monkeypatch):
    """No worker answers (a node name nobody has): a clear message naming the node and the fix, not a hang."""
    role = settings.worker_roles()["delivery"]
    missing = settings.Role("delivery", role.app, "nobody@course-test", role.queues, 1)
    monkeypatch.setattr(settings, "roles", lambda: {"delivery": missing})
    monkeypatch.setattr(faults, "ANSWER_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(faults.FaultError) as error:
        faults.kill_worker("delivery")
    assert time.monotonic() - started < 5
    assert "nobody@course-test" in str(error.value) and "course.py" in str(error.value)
