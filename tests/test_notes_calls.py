"""Every call of the course notes works as written against course_tasks and gives what the notes show (live)."""
import pytest
from celery import chain, group

from course_tasks import (
    add,
    buy_cookes,
    buy_cookies,
    factorial_x,
    go_to_shop,
    mul,
    number_plus_3,
    number_to_float,
    t1,
    t2,
    t3,
    tp1,
    tp2,
    tp3,
    tp4,
    xsum,
)

TIMEOUT = 10


def test_arguments_and_results_notes():
    assert t1.apply_async(args=[5, 10], kwargs={"message": "The sum is"}).get(timeout=TIMEOUT) == "The sum is: 15"
    result = t1.apply_async(args=[5, 15], kwargs={"message": "The sum is"})
    assert result.get(timeout=TIMEOUT) == "The sum is: 20"


def test_delay_many_times_notes():
    results = [task.delay() for _ in range(6) for task in (tp1, tp2, tp3, tp4)]
    assert [r.get(timeout=TIMEOUT) for r in results] == ["tp1", "tp2", "tp3", "tp4"] * 6


def test_group_and_chain_notes():
    assert group(tp1.s(), tp2.s(), tp3.s(), tp4.s()).apply_async().get(timeout=TIMEOUT) == ["tp1", "tp2", "tp3", "tp4"]
    assert chain(tp1.s(), tp2.s(), tp3.s(), tp4.s()).apply_async().get(timeout=TIMEOUT) == "tp4"


def test_priority_calls_notes():
    results = [task.apply_async(priority=p) for _ in range(3) for task, p in ((t2, 5), (t1, 6), (t3, 9))]
    assert [r.get(timeout=TIMEOUT) for r in results] == [None, 0, None] * 3


def test_russian_notes_group_map_chain():
    shopping = group(go_to_shop.s(name="mishana"), buy_cookes.s(name="mishana"))
    assert shopping.apply_async().get(timeout=TIMEOUT) == [None, None]
    assert buy_cookes is buy_cookies
    assert factorial_x.map([2, 3, 4, 5, 3, 13, 45, 13]).apply_async().get(timeout=TIMEOUT) == [
        2, 6, 24, 120, 6, 6227020800, 119622220865480194561963161495657715064383733760000000000, 6227020800]
    assert chain(factorial_x.s(6) | number_plus_3.s() | number_to_float.s()).apply_async().get(timeout=TIMEOUT) == 723.0


def test_celery_docs_tasks():
    assert add.delay(4, 4).get(timeout=TIMEOUT) == 8
    assert mul.delay(4, 4).get(timeout=TIMEOUT) == 16
    assert xsum.delay([1, 2, 3]).get(timeout=TIMEOUT) == 6


def test_wrong_arguments_raise_a_clear_error_in_the_caller():
    """Celery checks the arguments against the task's signature before sending (Task.typing)."""
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'y'"):
        add.delay(1)
