"""The live view (course_tasks/live_view.py) against the test run's live setup: its summary is the same on every run,
its threads have ended when the block ends, and an interrupt inside the block leaves nothing of it running."""
import threading

import pytest
from celery import group, signals

from course_tasks import exclusive, live, nap, t1
from course_tasks.live_view import LiveView

VIEW_THREADS = ("course-live-events", "course-live-view")


def view_threads():
    return [thread.name for thread in threading.enumerate() if thread.name in VIEW_THREADS and thread.is_alive()]


def test_the_summary_is_the_same_on_every_run_and_the_threads_end(capsys):
    summaries = []
    for _ in range(2):
        with exclusive(), live() as view:  # lesson 04's cell: a group on the four slots, then naps one by one
            assert isinstance(view, LiveView) and view_threads()
            group(nap.s(1) for _ in range(4)).apply_async().get(timeout=20)
            for _ in range(2):
                nap.delay(0.2).get(timeout=20)
        assert view.stopped() and not view_threads()
        summaries.append(view.summary_text)
    assert summaries[0] == summaries[1] == ("tasks sent: 6 (to course)\n"
                                           "worker@course (slots: 4): nap(0.2) x2, nap(1) x4; at most 4 at once"), \
        summaries
    assert capsys.readouterr().out.count(summaries[0]) == 2  # printed when each block ended


def test_a_one_slot_worker_lists_its_tasks_in_the_order_it_ran_them():
    with exclusive("priority"), live() as view:
        sent = [nap.apply_async((0.5,), queue="course.priority"), t1.apply_async((9,)), t1.apply_async((0,))]
        for result in sent:
            result.get(timeout=20)
    assert view.summary_text == "tasks sent: 3 (to course.priority)\nprio@course (slots: 1): nap(0.5) → t1(9) → t1(0)"


def test_the_picture_shows_slots_and_queues_while_the_block_runs():
    with exclusive(), live() as view:
        results = group(nap.s(1) for _ in range(5)).apply_async()
        seen = []

        def busy():
            seen.append(view.picture())
            return "nap(1) [" in seen[-1] and "  1  nap(1)" in seen[-1]

        from course_tasks.waiting import wait_until
        assert wait_until(busy, 10, every=0.05), seen[-1:]
        results.get(timeout=20)
    picture = seen[-1]
    assert "worker@course: " in picture and "queue" in picture and "course " in picture


def test_an_interrupt_inside_the_block_leaves_nothing_running():
    before = len(signals.after_task_publish.receivers)
    with pytest.raises(KeyboardInterrupt), live() as view:
        nap.delay(0)
        raise KeyboardInterrupt
    assert view.stopped() and not view_threads()
    assert view.summary_text is None  # nothing printed: the interrupt is what the cell shows
    assert len(signals.after_task_publish.receivers) == before


def test_live_around_a_function_returns_its_value(capsys):
    assert live(lambda: nap.delay(0).get(timeout=20)) == 0
    assert not view_threads()
    assert "worker@course (slots: 4): nap(0) x1; at most 1 at once" in capsys.readouterr().out
