"""Exercises of lesson 20: tasks and your database. The prediction of 20.1 is the answer itself: the checker takes it,
then starts the worker and runs the probes, so it is recorded before anything runs."""
import os
import sqlite3
import tempfile
import threading

from celery import signals
from celery.result import AsyncResult

from .. import shop
from ..celery import app
from ..i18n import register, say
from ..lesson_workers import lesson_workers
from . import exercise

# 20.2: the ids of the orders the checker places (far from the lesson's), and every confirm_order sent meanwhile
ORDERS = (9001, 9002)
_sent = []  # (task id, order id) of each confirm_order this process sends

register({
    "exercise.20.1.type": {"en": "the answer is a whole number: how many connections",
                           "ru": "ответ — целое число: сколько соединений"},
    "exercise.20.1.opened": {"en": "course.dbthreads: connections opened in worker_process_init: {opened}",
                             "ru": "course.dbthreads: соединений, открытых в worker_process_init: {opened}"},
    "exercise.20.2.type": {"en": "the answer is your function place_order(db, order_id)",
                           "ru": "ответ — ваша функция place_order(db, order_id)"},
    "exercise.20.2.seen": {
        "en": "a slow commit: the tasks sent found {outcomes}; a failed commit: a task sent: {sent}, the order stored: "
              "{stored}",
        "ru": "медленная фиксация: отправленные задачи нашли {outcomes}; неудачная фиксация: задача отправлена: "
              "{sent}, заказ сохранён: {stored}",
    },
    "exercise.20.3.type": {"en": "the answer is a pair: (the schema as SQL, your function reserve)",
                           "ru": "ответ — пара: (схема на SQL, ваша функция reserve)"},
    "exercise.20.3.seen": {
        "en": "order 7 twice at once: {twice}, rows for A1: {rows}; order 8 for A1: {other}, for A2: {free}",
        "ru": "заказ 7 дважды одновременно: {twice}, строк для A1: {rows}; заказ 8 для A1: {other}, для A2: {free}",
    },
})


@signals.before_task_publish.connect
def _record_sends(sender=None, headers=None, body=None, **_):
    if sender == shop.confirm_order.name and headers and body:
        _sent.append((headers["id"], body[0][0] if body[0] else None))


@exercise("20.1", en="worker_process_init is sent in each pool PROCESS as it starts: by prefork (one per child) and "
                     "solo (the worker's own process). The threads pool starts no process.",
          ru="worker_process_init посылается в каждом ПРОЦЕССЕ пула при его старте: пулом prefork (по разу в каждом "
             "дочернем процессе) и solo (в самом процессе воркера). Пул threads процессов не запускает.",
          prediction=lambda answer: type(answer) is int)
def _(answer):
    if type(answer) is not int:
        raise TypeError(say("exercise.20.1.type"))
    prediction = answer  # taken first: the worker below starts after it
    with lesson_workers("dbthreads", env=shop.ENV):
        found = shop.probes("course.dbthreads", opened="in worker_process_init")
    opened = len({f["opener"] for f in found if f.get("opener") is not None})
    return prediction == opened, say("exercise.20.1.opened", opened=opened)


class _CommitWaits:
    """A connection whose commit() first waits until every confirm_order already sent for ``order_id`` has run:
    a view that sends before it commits then always loses the race, as a slow commit in production does."""

    def __init__(self, order_id):
        self.db, self.order_id = shop.connect(), order_id

    def commit(self):
        for task_id, order_id in _sent:
            if order_id == self.order_id:
                AsyncResult(task_id, app=app).get(timeout=10, propagate=False)
        self.db.commit()

    def __getattr__(self, name):
        return getattr(self.db, name)


class _CommitFails(_CommitWaits):
    """A connection whose commit() fails, as a full disk or a lost database server makes it fail."""

    def commit(self):
        raise sqlite3.OperationalError("disk I/O error (raised by the checker)")


def _place(place_order):
    """Run ``place_order`` with a slow commit, then with a failing one: (the slow one's task outcomes, whether the
    failing one's task was sent, whether its order was stored)."""
    slow, failing = ORDERS
    shop.create()
    with shop.connect() as db:
        db.execute("DELETE FROM orders WHERE id IN (?, ?)", ORDERS)
    db.close()
    _sent.clear()
    place_order(_CommitWaits(slow), slow)
    outcomes = [AsyncResult(t, app=app).get(timeout=10) for t, order in list(_sent) if order == slow]
    connection = _CommitFails(failing)
    try:
        place_order(connection, failing)
    except sqlite3.OperationalError:
        pass  # the view may let the failed commit's error through: that is what a view should do
    finally:
        connection.db.rollback()  # what the failed commit left open, the checker closes
        connection.db.close()
    sent_anyway = any(order == failing for _, order in _sent)
    return outcomes, sent_anyway, shop.count("orders", failing)


@exercise("20.2", en="insert the order, commit, and only then send the task (db.commit() before "
                     "shop.confirm_order.delay(order_id)), or use shop.transaction(db) and its on_commit; a failed "
                     "commit raises, and nothing after it must run.",
          ru="вставьте заказ, зафиксируйте транзакцию и только потом отправьте задачу (db.commit() раньше "
             "shop.confirm_order.delay(order_id)) или воспользуйтесь shop.transaction(db) и его on_commit; "
             "неудачный commit выбрасывает исключение, и ничего после него выполняться не должно.")
def _(answer):
    if not callable(answer):
        raise TypeError(say("exercise.20.2.type"))
    with lesson_workers("db", env=shop.ENV):
        outcomes, sent_anyway, stored = _place(answer)
    slow = ORDERS[0]
    print(say("exercise.20.2.seen", outcomes=outcomes, sent=sent_anyway, stored=bool(stored)))
    return outcomes == [{"order": slow, "status": "confirmed"}] and not sent_anyway and not stored


class _Meeting:
    """A connection for one of two calls run side by side: the first SELECT of a call waits (bounded) until the
    other call has made its first statement, as two deliveries of a message can meet. A write is never held while
    it waits: SQLite keeps its lock until the commit, and the other call would wait for it for ever."""

    def __init__(self, path, barrier):
        self.db = sqlite3.connect(path, timeout=5, check_same_thread=False)
        self.barrier, self.first = barrier, True

    def execute(self, *args):
        cursor = self.db.execute(*args)
        if self.first:
            self.first = False
            if str(args[0]).lstrip().upper().startswith("SELECT"):
                try:
                    self.barrier.wait(timeout=5)
                except threading.BrokenBarrierError:
                    pass  # the other call went first all the way: no overlap this time
        return cursor

    def __getattr__(self, name):
        return getattr(self.db, name)


def _reserve_twice(schema, reserve):
    """The 20.3 check on a fresh database: reserve seat A1 of show 1 for order 7 twice at once, then for order 8,
    then A2 for order 8. Returns (the two outcomes sorted, rows for A1, the third outcome, the fourth)."""
    with tempfile.TemporaryDirectory(prefix="course-seats-") as tmp:
        path = os.path.join(tmp, "seats.db")
        with sqlite3.connect(path) as db:
            db.executescript(schema)
        db.close()
        barrier, outcomes = threading.Barrier(2), [None, None]

        def run(i):
            connection = _Meeting(path, barrier)
            try:
                outcomes[i] = reserve(connection, 1, "A1", 7)
                connection.commit()
            except Exception as exc:  # noqa: BLE001 (the learner's function may raise anything: it is the outcome)
                outcomes[i] = f"{type(exc).__name__}: {exc}"
                connection.rollback()
            finally:
                connection.db.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        db = sqlite3.connect(path, timeout=5)
        try:
            rows = db.execute("SELECT count(*) FROM seats WHERE show_id = 1 AND seat = 'A1'").fetchone()[0]
            other = reserve(db, 1, "A1", 8)
            db.commit()
            free = reserve(db, 1, "A2", 8)
            db.commit()
        finally:
            db.close()
    return sorted(map(str, outcomes)), rows, other, free


@exercise("20.3", en="make (show_id, seat) unique in the schema (PRIMARY KEY or UNIQUE), let one INSERT ... ON "
                     "CONFLICT DO NOTHING decide, and look at the seat's order_id only when the insert changed "
                     "nothing: the same order means \"already yours\", another one \"taken\". A SELECT before the "
                     "INSERT decides nothing: two calls can both find the seat free.",
          ru="сделайте пару (show_id, seat) уникальной в схеме (PRIMARY KEY или UNIQUE), пусть решает один INSERT "
             "... ON CONFLICT DO NOTHING, а на order_id места смотрите, только если вставка ничего не изменила: "
             "тот же заказ — \"already yours\", другой — \"taken\". SELECT перед INSERT ничего не решает: два вызова "
             "могут оба увидеть место свободным.")
def _(answer):
    if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], str) and callable(answer[1])):
        raise TypeError(say("exercise.20.3.type"))
    schema, reserve = answer
    twice, rows, other, free = _reserve_twice(schema, reserve)
    print(say("exercise.20.3.seen", twice=twice, rows=rows, other=repr(other), free=repr(free)))
    return twice == ["already yours", "reserved"] and rows == 1 and other == "taken" and free == "reserved"

