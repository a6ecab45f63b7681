"""Lesson 20, tasks and your database: a shop in SQLite (in Python's standard library), its tasks and its views.

Each notebook has a database file of its own (:data:`DB`); the lesson's workers (db@course and its twins with
other pools, ``settings.LESSON_WORKERS``) open the same file, because the notebook starts them with :data:`ENV`.
They run this module (``--include course_tasks.shop``); worker@course does not. Its tasks go to the queue course.db
(``task_routes`` in celeryconfig.py), unless a call names another.

The code the lesson prints (its tasks, ``transaction``, ``place_order_v1``, the connections) is described by comments
above it, not by docstrings or comments inside: ``inspect.getsource`` shows it as it is, the same in the English and
the Russian notebook. What the tasks return is data, not a sentence.
"""
import atexit
import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from celery import signals

from . import settings
from .celery import app
from .i18n import register, say
from .machinery.journaling import KEY
from .waiting import wait_until

DB = os.environ.get("COURSE_SHOP_DB") or str(Path(settings.data_dir()) / f"shop-{KEY[:12]}.db")
ENV = {"COURSE_SHOP_DB": DB}  # a worker started with this environment opens this notebook's database
MEET_TIMEOUT = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (order_id INTEGER NOT NULL UNIQUE, amount INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS payments_checked (order_id INTEGER NOT NULL, amount INTEGER NOT NULL);
"""

register({
    "shop_shared": {
        "en": "{queue}: {runs} probes in {pids} processes, through 1 connection opened at import by the worker's "
              "main process",
        "ru": "{queue}: {runs} пробы в {pids} процессах через 1 соединение, открытое при импорте главным процессом "
              "воркера",
    },
    "shop_own": {
        "en": "{queue}: {runs} probes in {pids} processes, through {openers} connections opened {when}, each by the "
              "process that uses it",
        "ru": "{queue}: {runs} пробы в {pids} процессах через {openers} соединения, открытые {when}, каждое — "
              "тем процессом, который им пользуется",
    },
    "shop_none": {
        "en": "{queue}: {runs} probes in {pids} process, and no connection was opened {when}",
        "ru": "{queue}: {runs} пробы в {pids} процессе, и ни одного соединения, открытого {when}",
    },
    "shop_at_import": {"en": "at import", "ru": "при импорте"},
    "shop_not_met": {"en": "only {met} of {parties} runs met within {timeout:g} s",
                     "ru": "за {timeout:g} с встретились только {met} из {parties} запусков"},
    "shop_in_init": {"en": "in worker_process_init", "ru": "в worker_process_init"},
})


def connect():
    """A new connection to this notebook's shop (a writer waits up to 5 s for another's lock)."""
    Path(DB).parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(DB, timeout=5)


def reset():
    """Empty tables orders, payments and payments_checked (created if missing). The file itself stays: a connection
    opened at import would keep a deleted file open. Databases of notebooks gone for a day are removed."""
    for old in _older_than_a_day():
        old.unlink(missing_ok=True)
    create()
    with connect() as db:
        db.executescript("DELETE FROM orders; DELETE FROM payments; DELETE FROM payments_checked;")
    db.close()


def create():
    """The shop's tables, created if missing (what is in them stays)."""
    with connect() as db:
        db.executescript(SCHEMA)
    db.close()


def count(table, order_id):
    """How many rows of ``table`` are about the order ``order_id``."""
    column = "id" if table == "orders" else "order_id"
    db = connect()
    try:
        return db.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?", (order_id,)).fetchone()[0]
    finally:
        db.close()


# Confirm the order: it must be in the database (status None: the task did not find it).
@app.task
def confirm_order(order_id):
    with connect() as db:
        if db.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone() is None:
            return {"order": order_id, "status": None}
        db.execute("UPDATE orders SET status = 'confirmed' WHERE id = ?", (order_id,))
    return {"order": order_id, "status": "confirmed"}


# ``with transaction(db) as on_commit:`` ... commits at the end (rolls back on an exception);
# ``on_commit(f)`` runs ``f`` after the commit, and never after a rollback.
@contextmanager
def transaction(db):
    callbacks = []
    try:
        yield callbacks.append
        db.commit()
    except BaseException:
        db.rollback()
        raise
    for callback in callbacks:
        callback()


# A web view as many are written: the task is sent before the commit (exercise 20.2).
def place_order_v1(db, order_id):
    db.execute("INSERT INTO orders (id, status) VALUES (?, 'new')", (order_id,))
    confirm_order.delay(order_id)
    db.commit()


# -- one connection for all, or one per process --------------------------------------------------------------------
# SHARED is opened when the module is imported: in a prefork worker, by its main process, before the fork.
# PER_PROCESS holds the connection that worker_process_init opens in each pool process when it starts, and who
# opened it. (The lesson prints the lines from SHARED on.)
SHARED = connect()
SHARED_OPENED_BY = os.getpid()
PER_PROCESS = {}


@signals.worker_process_init.connect
def open_per_process(**_):
    PER_PROCESS.update(db=connect(), opened_by=os.getpid())


def new_gate():
    """A meeting point for tasks that must run at the same time (:func:`meet`)."""
    return f"course:meet:{uuid.uuid4().hex}"


def meet(gate, parties, timeout=MEET_TIMEOUT):
    """Wait until ``parties`` runs have come here (a counter in Redis): they overlap for certain."""
    client = app.backend.client
    client.incr(gate)
    client.expire(gate, 60)
    if not wait_until(lambda: int(client.get(gate) or 0) >= parties, timeout, every=0.01):
        raise TimeoutError(say("shop_not_met", met=int(client.get(gate) or 0), parties=parties, timeout=timeout))


@app.task
def probe(gate, opened):
    """Meet three other probes, then read the shop through the connection ``opened`` ("at import": SHARED; "in
    worker_process_init": PER_PROCESS); who used which connection, or the error it gave."""
    meet(gate, 4)
    db, opener = (SHARED, SHARED_OPENED_BY) if opened == "at import" else (PER_PROCESS.get("db"),
                                                                            PER_PROCESS.get("opened_by"))
    if db is None:
        return {"pid": os.getpid(), "opener": None}
    try:
        db.execute("SELECT count(*) FROM orders").fetchone()
    except sqlite3.ProgrammingError as exc:  # its first sentence: the rest names thread ids, new in every run
        return {"error": f"{type(exc).__name__}: {str(exc).split('. ')[0]}."}
    return {"pid": os.getpid(), "opener": opener}


def probes(queue, opened="at import"):
    """What four :func:`probe` tasks on ``queue``, run at the same time, found: a dict each."""
    gate = new_gate()
    runs = [probe.apply_async((gate, opened), queue=queue) for _ in range(4)]
    return [run.get(timeout=30) for run in runs]


def connections(queue, opened="at import"):
    """Four probes on ``queue`` at the same time: which connection each used, in one line."""
    found = probes(queue, opened)
    errors = sorted({f["error"] for f in found if "error" in f})
    if errors:
        return f"{queue}: {errors[0]}"
    pids, openers = {f["pid"] for f in found}, {f["opener"] for f in found}
    when = say("shop_at_import" if opened == "at import" else "shop_in_init")
    if openers == {None}:
        return say("shop_none", queue=queue, runs=len(found), pids=len(pids), when=when)
    if all(f["pid"] == f["opener"] for f in found):
        return say("shop_own", queue=queue, runs=len(found), pids=len(pids), openers=len(openers), when=when)
    return say("shop_shared", queue=queue, runs=len(found), pids=len(pids))


# -- idempotency: check, then insert; or let the database decide ---------------------------------------------------
# Charge the order once: look for a payment first, insert one if there is none. (``gate``: two deliveries of one
# message meet there, side by side, as a redelivery can run them.)
@app.task
def charge_checked(order_id, gate=None):
    with connect() as db:
        paid = db.execute("SELECT 1 FROM payments_checked WHERE order_id = ?", (order_id,)).fetchone()
    if gate:
        meet(gate, 2)
    if paid:
        return "already_charged"
    with connect() as db:
        db.execute("INSERT INTO payments_checked (order_id, amount) VALUES (?, 100)", (order_id,))
    return "charged"


# Charge the order once: the UNIQUE order_id of payments decides, in one statement.
@app.task
def charge(order_id, gate=None):
    if gate:
        meet(gate, 2)
    with connect() as db:
        inserted = db.execute("INSERT INTO payments (order_id, amount) VALUES (?, 100) "
                              "ON CONFLICT (order_id) DO NOTHING", (order_id,)).rowcount
    return "charged" if inserted else "already_charged"


def _remove_db():
    """At the notebook's exit: its database goes (a worker's process leaves it alone)."""
    if "COURSE_SHOP_DB" not in os.environ:
        for suffix in ("", "-journal"):
            with_suffix = Path(DB + suffix)
            if with_suffix.exists():
                with_suffix.unlink()


def _older_than_a_day():
    """Databases of notebooks gone for a day (a killed kernel never removes its own)."""
    cutoff = time.time() - 24 * 3600
    return [p for p in Path(settings.data_dir()).glob("shop-*.db") if p.stat().st_mtime < cutoff]


atexit.register(_remove_db)
