"""Lesson 12's worker and kill helpers, and lesson 13's tasks: their settings, and a kill against a missing worker.

The lessons themselves (nbval) and their exercises (test_exercises.py) run the kills live; so does the kill loop
here: lesson 12's late-acknowledgement cell, many times over. It kills delivery@course QUICK_KILLS times in every
run; `COURSE_VERIFY_KILLS=1 python3 course.py test tests/test_delivery.py -k kill_loop -n 0 -s` kills it 200 times
(a number instead of 1: that many) and prints what it measured.
"""
import os
import statistics
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


def test_a_restore_lock_left_by_a_killed_worker_expires_before_the_restarted_worker_sweeps():
    """kombu's sweep holds a lock (``Mutex``, ``unacked_mutex_expire``: 300 s by default) for milliseconds; a kill in
    those milliseconds left it behind, and lesson 12's killed task came back only minutes later (1 kill in 68)."""
    with delivery.app.connection_for_write() as conn:
        channel = conn.default_channel
        assert channel.unacked_mutex_key == delivery.UNACKED_KEY + "_mutex"
        assert channel.unacked_mutex_expire == delivery.RESTORE_MUTEX_EXPIRE < delivery.VISIBILITY_TIMEOUT


def test_a_kill_while_the_worker_holds_the_restore_lock_does_not_hold_the_task_back():
    """Live: delivery@course is killed mid-task and leaves the restore lock behind, as a kill during a sweep does
    (redis-py's lock: SET NX PX, with the worker's own expiry); the task still comes back and ends within seconds."""
    import uuid

    result = delivery.nap_acked_late.delay(1)
    faults.kill_worker("delivery", during=result)
    with delivery.app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.client.set(channel.unacked_mutex_key, uuid.uuid1().hex, nx=True,
                           px=int(channel.unacked_mutex_expire * 1000))
    faults.wait_for_worker("delivery")
    assert result.get(timeout=15) == 1
    assert [run["state"] for run in delivery.attempts(result)] == ["KILLED", "SUCCESS"]


QUICK_KILLS = 10
KILLS = {"": QUICK_KILLS, "1": 200}.get(os.environ.get("COURSE_VERIFY_KILLS", ""), None) \
    or int(os.environ["COURSE_VERIFY_KILLS"])
RESULT_SECONDS = 15  # what lesson 12's cell gives result.get() after wait_for_worker()


def test_kill_loop_every_killed_task_comes_back_and_ends_within_the_lessons_bound(capsys):
    """Lesson 12's cell "late acknowledgement", KILLS times in a row: SIGKILL delivery@course while it runs
    nap_acked_late(1), wait for the worker, get the result. Every killed run is delivered again and ends within the
    lesson's 15 s, never a bare TimeoutError. The kills land at moments spread over the run, so over the worker's
    1 s restore sweeps too: a kill during a sweep leaves kombu's restore lock behind (1 kill in 68 in the learner
    review, when that lock lived 300 s)."""
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    from course_tasks.exclusive import exclusive

    with delivery.app.connection_for_write() as conn:
        channel = conn.default_channel
        client, mutex = channel.client, channel.unacked_mutex_key
    delivery.clear()
    seconds, failures, lock_left = [], [], 0
    for n in range(KILLS):
        after = 0.05 + (n * 0.37) % 0.9  # 0.05-0.95 s into the 1 s run, a new moment each time
        with exclusive("delivery"):
            result = delivery.nap_acked_late.delay(1)
            faults.kill_worker("delivery", during=result, after=after)
            killed = time.monotonic()
            lock_left += bool(client.exists(mutex))  # seen a moment after the kill: it may have expired already
            try:
                faults.wait_for_worker("delivery")
                value = result.get(timeout=RESULT_SECONDS)
            except (CeleryTimeoutError, faults.FaultError) as error:
                failures.append(f"kill {n + 1} ({after:.2f} s into the run): {type(error).__name__}: {error}")
                continue
            finally:
                seconds.append(time.monotonic() - killed)
        runs = delivery.attempts(result)
        states = [run["state"] for run in runs]
        if value != 1 or states != ["KILLED", "SUCCESS"] or not runs[1]["redelivered"]:
            failures.append(f"kill {n + 1} ({after:.2f} s into the run): result {value!r}, runs {states}, "
                            f"redelivered {runs[-1]['redelivered']}")
    summary = (f"kill loop: {KILLS} kills, {len(failures)} failures, restore lock seen after {lock_left} kills; "
               f"kill to result: median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s")
    with capsys.disabled():
        print("\n" + summary)
    assert not failures, summary + "\n" + "\n".join(failures[:10])
    assert max(seconds) < RESULT_SECONDS + faults.COMEBACK_SECONDS, summary


def test_a_kill_asked_for_after_the_run_would_end_lands_at_its_end_before_its_result_is_stored():
    """The pool process carries the kill out (machinery/kill_switch.py): a run shorter than ``after`` is cut off at its
    end, never ended by itself; its message comes back and the next run ends well."""
    from course_tasks.exclusive import exclusive

    delivery.clear()
    with exclusive("delivery"):
        result = delivery.nap_requeued.delay(1)
        faults.kill_pool_process(result, after=5)
        assert result.get(timeout=RESULT_SECONDS) == 1
    assert [run["state"] for run in delivery.attempts(result)] == ["KILLED", "SUCCESS"]


def test_a_kill_for_a_task_that_has_ended_says_so_at_once():
    from course_tasks.exclusive import exclusive

    with exclusive("delivery"):
        result = delivery.nap_acked_early.delay(0)
        assert result.get(timeout=RESULT_SECONDS) == 0
        started = time.monotonic()
        with pytest.raises(faults.FaultError, match="ended before it could be killed"):
            faults.kill_pool_process(result)
    assert time.monotonic() - started < 3


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
    assert {"course_kill_worker", "course_check_pool"} <= set(Panel.data)
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


def test_a_slow_comeback_is_a_notice_not_the_lessons_output(monkeypatch, capsys):
    """A killed worker that takes long to come back on a busy machine: the wait is said as a notice (left out of
    the comparison with the stored outputs), and the lesson's output reads the same as on an idle machine."""
    monkeypatch.setenv("COURSE_LANG", "en")
    monkeypatch.setattr(faults, "NOTICE_SECONDS", 0.2)
    back_at = time.monotonic() + 0.5
    monkeypatch.setattr(faults, "_node_boot", lambda app, node: "new" if time.monotonic() > back_at else "old")
    monkeypatch.setitem(faults._killed, "delivery", "old")
    shown = []
    monkeypatch.setattr(faults.Notice, "show", lambda self, text: shown.append(text))
    faults.wait_for_worker("delivery")
    node = settings.worker_roles()["delivery"].node
    assert capsys.readouterr().out == f"{node}: running again, a new process\n"
    assert len(shown) == 1 and "has not answered for 0.2 s since it was killed" in shown[0]
