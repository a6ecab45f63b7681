"""Lesson 15's measurements on a busy machine: a slower run never prints something else (course_tasks/routing.py)."""
from course_tasks import routing


def ticks(sent, starts, node="one@course"):
    return [{"id": str(n), "node": node, "sent": sent, "started": start, "finished": start + 0.01}
            for n, start in enumerate(starts)]


def test_a_first_tick_that_starts_late_does_not_make_a_worker_look_faster_than_its_limit():
    released = [k / routing.RATE for k in range(10)]  # the fastest a worker's rate limit lets ten ticks go
    late_first = [released[0] + 0.4] + released[1:]  # a busy machine started the first one 0.4 s late
    found = ticks(0.0, late_first)
    assert routing.within_rate(found)
    started_only = [{k: v for k, v in entry.items() if k != "sent"} for entry in found]
    assert not routing.within_rate(started_only)  # counted from the first start, it would print False


def test_two_workers_are_compared_with_one_alone_not_with_a_fixed_rate(capsys):
    slow = 2.0  # a machine so busy that every tick starts at half the limit's pace
    alone = {"one@course": ticks(0.0, [slow * k / routing.RATE for k in range(10)])}
    together = {"one@course": ticks(0.0, [slow * k / routing.RATE for k in range(10)]),
                "two@course": ticks(0.0, [slow * k / routing.RATE + 0.01 for k in range(10)], node="two@course")}
    routing.show_rates(alone, together)
    assert capsys.readouterr().out.splitlines()[-1].endswith(": True")


def test_a_worker_that_answers_late_is_still_named_as_a_consumer(monkeypatch):
    monkeypatch.setattr(routing, "ASK_SECONDS", 0.0)  # the broadcast gathers no answer at all: too busy to answer
    assert routing.consumers(main="course") == {"main": ["worker@course"]}
