"""The checkers of lessons 15-17 cannot be passed without the idea: the wrong answers a learner is likely to give are
rejected, for the reason the exercise is about (live: real workers, real routes; Celery's own crontab arithmetic)."""
from celery.schedules import crontab

from course_tasks import routing
from course_tasks.exercises import forget_predictions, verdict


def right(exercise_id, answer):
    """True for a right answer; False for a wrong one, which the checker judged (it did not fail on it)."""
    forget_predictions()  # each answer is a prediction made before its own experiment
    is_right, message = verdict(exercise_id, answer, lang="en")
    assert is_right or "not yet. Hint:" in message, message
    return is_right


def test_15_1_a_glob_listed_first_does_not_beat_an_exact_name():
    assert not right("15.1", ("slow@course", "slow@course", "worker@course", "worker@course"))  # order of the keys
    assert not right("15.1", ("fast@course", "slow@course", "fast@course", "worker@course"))  # queue= loses to a route


def _to_course(name, args, kwargs, options, task=None, **kw):
    return {"queue": "course"}  # every task to worker@course: nothing waits, but nothing is where it belongs


def test_15_2_the_buggy_router_and_one_that_sends_everything_elsewhere_are_rejected():
    assert not right("15.2", routing.route_v1)  # quick and tick wait in "fast", which nobody consumes
    assert not right("15.2", _to_course)
    assert routing.queued("fast") == 0  # the check left nothing behind


def test_15_3_reserving_every_message_or_none_is_rejected():
    assert not right("15.3", 0)  # as if a multiplier of 2 reserved every quick task
    assert not right("15.3", 3)  # as if the running report were not one of the prefetched messages


def test_16_1_today_s_run_or_the_time_read_in_utc_is_rejected():
    assert not right("16.1", "2026-12-07 06:30")  # today's 9:30 in Moscow has passed at 08:00 UTC
    assert not right("16.1", "2026-12-07 09:30")  # 9:30 read as UTC
    assert right("16.1", "2026-12-08 06:30")


def test_16_2_once_an_hour_or_every_day_of_the_week_is_rejected():
    assert not right("16.2", crontab(minute=4))  # minute 4 of every hour
    assert not right("16.2", crontab(minute="*/4", hour="9-17"))  # the weekend too
    assert not right("16.2", crontab(minute="*/4", hour="9-16", day_of_week="mon-fri"))  # stops at 16:56
    assert right("16.2", crontab(minute="*/4", hour="9-17", day_of_week="1-5"))


def test_17_1_started_without_track_started_or_progress_as_ready_is_rejected():
    assert not right("17.1", ("STARTED", "PROGRESS", False))
    assert not right("17.1", ("PENDING", "PROGRESS", True))


def _percent_from_info(job):
    return job.info["done"] / job.info["total"] * 100


def _percent_without_success(job):
    return job.info["done"] / job.info["total"] * 100 if job.state == "PROGRESS" else 0


def test_17_2_reading_info_whatever_the_state_or_forgetting_success_is_rejected():
    assert not right("17.2", _percent_from_info)  # fails at PENDING: info is None
    assert not right("17.2", _percent_without_success)


def test_17_3_flower_read_as_the_result_backend_or_hearing_progress_is_rejected():
    assert not right("17.3", ("PENDING", "PENDING", "PROGRESS"))  # as if Flower read the result backend
    assert not right("17.3", ("STARTED", "PENDING", "PROGRESS"))  # as if update_state sent an event
    assert right("17.3", ("STARTED", "PENDING", "STARTED"))
