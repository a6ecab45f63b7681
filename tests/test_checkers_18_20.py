"""The checkers of lessons 18-20 cannot be passed without the idea: the wrong answers a learner is likely to give are
rejected, for the reason the exercise is about (live: real pytest runs, real workers, real SQLite)."""
import sqlite3

from course_tasks import shop
from course_tasks.exercises import forget_predictions, verdict


def right(exercise_id, answer):
    """True for a right answer; False for a wrong one, which the checker judged (it did not fail on it). Each answer
    is judged as a first prediction (a later one would be told it comes after the experiment)."""
    forget_predictions()
    is_right, message = verdict(exercise_id, answer, lang="en")
    assert is_right or "not yet. Hint:" in message, message
    return is_right


def test_18_1_a_prediction_that_results_are_serialized_is_wrong():
    assert not right("18.1", {"a", "b"})
    assert not right("18.1", {"a", "c"})  # .apply() serializes nothing
    assert not right("18.1", set())  # eager .delay() serializes its arguments in Celery 5.7
    assert right("18.1", {"a"})


def test_18_3_tests_that_only_check_a_call_or_send_for_real_are_rejected(playground_file):
    weak = playground_file("""
        from unittest import mock

        from course_tasks import receipts


        def test_refunds():
            orders = {8: {"total": 4, "paid": True}}
            with mock.patch.object(receipts.refund, "delay") as delay:
                receipts.cancel_order(orders, 8)
            assert delay.called
    """, "test_cancel_weak.py")
    assert not right("18.3", weak)  # refunds_unpaid and refunds_another pass it
    sends = playground_file("""
        from course_tasks import receipts


        def test_refunds():
            orders = {8: {"total": 4, "paid": True}}
            receipts.cancel_order(orders, 8)
            assert orders[8]["cancelled"]
    """, "test_cancel_sends.py")
    assert not right("18.3", sends)  # it sends a real message


def test_19_3_a_warm_shutdown_or_too_short_a_soft_wait_is_rejected():
    assert not right("19.3", {"signal": "SIGTERM", "worker_soft_shutdown_timeout": 2, "grace": 6})  # live: killed
    assert not right("19.3", {"signal": "SIGQUIT", "worker_soft_shutdown_timeout": 0.5, "grace": 10})  # said at once
    assert not right("19.3", {"signal": "SIGQUIT", "worker_soft_shutdown_timeout": 5, "grace": 6})  # said at once


def _send_then_commit(db, order_id):
    db.execute("INSERT INTO orders (id, status) VALUES (?, 'new')", (order_id,))
    shop.confirm_order.delay(order_id)
    db.commit()


def _send_in_finally(db, order_id):
    try:
        db.execute("INSERT INTO orders (id, status) VALUES (?, 'new')", (order_id,))
        db.commit()
    finally:
        shop.confirm_order.delay(order_id)


def _with_on_commit(db, order_id):
    with shop.transaction(db) as on_commit:
        db.execute("INSERT INTO orders (id, status) VALUES (?, 'new')", (order_id,))
        on_commit(lambda: shop.confirm_order.delay(order_id))


def test_20_2_sending_before_the_commit_or_after_a_failed_one_is_rejected():
    assert not right("20.2", _send_then_commit)
    assert not right("20.2", shop.place_order_v1)
    assert not right("20.2", _send_in_finally)
    assert right("20.2", _with_on_commit)


CHECKED = "CREATE TABLE seats (show_id INTEGER, seat TEXT, order_id INTEGER);"
UNIQUE = "CREATE TABLE seats (show_id INTEGER, seat TEXT, order_id INTEGER, PRIMARY KEY (show_id, seat));"


def _check_then_insert(db, show_id, seat, order_id):
    row = db.execute("SELECT order_id FROM seats WHERE show_id = ? AND seat = ?", (show_id, seat)).fetchone()
    if row:
        return "already yours" if row[0] == order_id else "taken"
    db.execute("INSERT INTO seats VALUES (?, ?, ?)", (show_id, seat, order_id))
    return "reserved"


def _check_then_insert_catching_the_constraint(db, show_id, seat, order_id):
    try:
        return _check_then_insert(db, show_id, seat, order_id)
    except sqlite3.IntegrityError:
        db.rollback()
        owner = db.execute("SELECT order_id FROM seats WHERE show_id = ? AND seat = ?", (show_id, seat)).fetchone()[0]
        return "already yours" if owner == order_id else "taken"


def test_20_3_looking_first_without_a_constraint_is_rejected():
    for _ in range(3):  # the two calls meet on every run: never right by luck
        assert not right("20.3", (CHECKED, _check_then_insert))
    assert right("20.3", (UNIQUE, _check_then_insert_catching_the_constraint))  # the constraint decides
