"""Lesson 12's worker and tasks: what happens to a task when the worker running it dies.

A second app with the course's configuration on the same Redis, for the worker ``delivery@course``
only (queue ``course.delivery``, one process). Its Redis transport gives an unacknowledged message
back to the queue after 3 s (``visibility_timeout``; kombu's default is an hour) and looks for such
messages every second (``unacked_restore_interval`` 1 s, ``unacked_restore_throttle`` 1), with keys of
its own: the sweep of this worker never touches the messages of the course's other workers.

The sweep takes a lock first (kombu's ``Mutex`` on ``unacked_mutex_key``, a redis-py lock that expires after
``unacked_mutex_expire``, 300 s by default), so that two workers never give back the same messages at once. A worker
killed while it holds that lock (the lesson kills this one many times) leaves it behind: for 300 s no sweep would run,
and a killed task would not come back for minutes. Here the lock expires after 1 s, long before the restarted worker
sweeps: a sweep takes milliseconds, and one that outlives its lock only lets a second sweep run alongside it, which
is harmless (``restore_by_tag`` moves a message in a transaction that watches the ``unacked`` hash).

Every run of these tasks records its start (``attempts()``): a run cut off by a kill writes nothing
to the journal, which only records runs that ended. What ``charge`` and ``send_email`` do to the world is a row of
the notebook's ledger (``course_tasks/ledger.py``): a kill after it and before the acknowledgement shows twice.

A task here is described by a comment above its decorator, not by a docstring: the lesson prints a task's code
(``inspect.getsource`` starts at the decorator), the same in the English and the Russian notebook.
"""
import json
import time

from . import celeryconfig, ledger, settings
from .i18n import register, say
from .journal import call_text, entries, text_table
from .machinery import journaling
from .machinery.kill_switch import KillableTask
from .machinery.plumbing import course_app
from .waiting import wait_until

QUEUE = settings.DELIVERY_QUEUE
VISIBILITY_TIMEOUT = 3  # seconds; kombu's default is 3600
RESTORE_MUTEX_EXPIRE = 1  # seconds; kombu's default is 300 (see above)
ATTEMPTS_PREFIX = "course:attempts:"
UNACKED_KEY = "course.delivery.unacked"


class AttemptTask(journaling.JournaledTask, KillableTask):
    """A journaled task that also records when each run starts, so that a run cut off by a kill is seen, and
    carries out a kill ordered for it (``faults.kill_worker(during=...)``, ``faults.kill_pool_process``)."""

    def killing(self, target, request):
        if target == "worker" and not self.acks_late:  # the main process sends an early ack as the run starts:
            wait_until(lambda: _place(request.id) != "unacked", 5, every=0.01)  # the kill comes after it, always
        journal = getattr(request, journaling.HEADER, None)
        if journal:  # the notebook's, as the start of the run
            record_kill(request.hostname, journal=journal)

    def __call__(self, *args, **kwargs):
        request = self.request
        journal = getattr(request, journaling.HEADER, None)
        if journal and not request.called_directly:
            delivery = request.delivery_info or {}
            journaling.record(self.app.backend.client, ATTEMPTS_PREFIX + journal, journaling.entry(
                self, args, kwargs, started=time.time(), redelivered=bool(delivery.get("redelivered")),
                retries=request.retries))
        return super().__call__(*args, **kwargs)


app = course_app(
    "course_tasks_delivery", task_cls=AttemptTask, task_default_queue=QUEUE, task_routes={},
    broker_transport_options={
        **celeryconfig.broker_transport_options,
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        "unacked_key": UNACKED_KEY,
        "unacked_index_key": UNACKED_KEY + "_index",
        "unacked_mutex_key": UNACKED_KEY + "_mutex",
        "unacked_mutex_expire": RESTORE_MUTEX_EXPIRE,
    },
)


# Sleeps `seconds`; its message is acknowledged when the run starts (lesson 12).
@app.task(acks_late=False)
def nap_acked_early(seconds):
    time.sleep(seconds)
    return seconds


# Sleeps `seconds`; its message is acknowledged when the run ends (lesson 12).
@app.task(acks_late=True)
def nap_acked_late(seconds):
    time.sleep(seconds)
    return seconds


# Sleeps `seconds`; if its pool process dies, its message goes back to the queue (lesson 12).
@app.task(acks_late=True, reject_on_worker_lost=True)
def nap_requeued(seconds):
    time.sleep(seconds)
    return seconds


# Sleeps `seconds`; if its pool process dies, it is retried once, a second later (lesson 12).
@app.task(acks_late=True, retry_on_worker_lost=True, max_retries=1, default_retry_delay=1)
def nap_retried(seconds):
    time.sleep(seconds)
    return seconds


# Charges an order (a row in the notebook's ledger), then works a second more: a kill then cuts it off after the
# charge and before the acknowledgement (lesson 12).
@app.task(bind=True, acks_late=True)
def charge(self, order_id):
    ledger.add(self, "charge", order_id)
    time.sleep(1)


# The same, idempotent: the charge is keyed by the order, so a second run for that order charges nothing (lesson 12).
@app.task(bind=True, acks_late=True)
def charge_once(self, order_id):
    if not ledger.add(self, "charge", order_id, key=f"charge:{order_id}"):
        return
    time.sleep(1)


# Exercise 12.3: sends the e-mail `kind` for an order unless one with the same `key` was sent (lesson 12).
@app.task(bind=True, acks_late=True)
def send_email(self, order_id, kind, key):
    if not ledger.add(self, kind, order_id, key=key):
        return
    time.sleep(1)


# -- what the notebook reads -------------------------------------------------------------------------

def _client():
    return app.backend.client


def record_kill(node, at=None, journal=journaling.KEY):
    """Note in ``journal`` (this process's by default) that ``node`` (or a process of it) was killed ``at`` (now by
    default): faults.kill_worker and the pool process that carries out a kill (AttemptTask.killing) call this."""
    journaling.record(_client(), ATTEMPTS_PREFIX + journal, {"killed": node, "at": at or time.time()})


def _events():
    return [json.loads(item) for item in _client().lrange(ATTEMPTS_PREFIX + journaling.KEY, 0, -1)]


def clear():
    """Forget the runs, kills and ledger rows recorded so far (``journal.clear()`` forgets the ended runs)."""
    _client().delete(ATTEMPTS_PREFIX + journaling.KEY)
    ledger.clear(_client())


def show_ledger():
    """Print this notebook's ledger: every charge and e-mail the tasks of this lesson made, in order."""
    print(ledger.table(_client()))


def attempts(result=None):
    """Every run that started, in the shape of journal entries (timeline.draw takes them), oldest first.

    A run that ended is its journal entry; a run cut off by a kill ends at the kill, with the state
    ``KILLED`` (not a Celery state: nothing stored it). With ``result``, only that task's runs.
    """
    events = _events()
    kills = sorted((e["at"], e["killed"]) for e in events if "killed" in e)
    starts = sorted((e for e in events if "started" in e), key=lambda e: e["started"])
    ended = [e for e in entries() if e["task"] in {s["task"] for s in starts}]
    runs = []
    for start in starts:
        if result is not None and start["id"] != result.id:
            continue
        same = [e for e in ended if e["id"] == start["id"] and e["node"] == start["node"]
                and 0 <= e["started"] - start["started"] < 0.5]
        entry = min(same, key=lambda e: e["started"] - start["started"], default=None)
        if entry is None:
            cut = next((at for at, node in kills if node == start["node"] and at >= start["started"]), None)
            entry = {**start, "priority": None, "finished": cut if cut is not None else time.time(),
                     "state": "KILLED" if cut is not None else "RUNNING", "result": "-"}
        runs.append({**entry, "redelivered": start["redelivered"], "retries": start["retries"]})
    return runs


def wait_for_runs(result, count, timeout=10):
    """Wait until ``count`` runs of ``result``'s task have ended (a countdown's second run comes later)."""
    def ended():
        return [run for run in attempts(result) if run["state"] != "RUNNING"]

    wait_until(lambda: len(ended()) >= count, timeout)
    return ended()


register({
    "delivery.KILLED": {"en": "cut off: killed", "ru": "оборван: процесс убит"},
    "delivery.RUNNING": {"en": "still running", "ru": "ещё идёт"},
    "delivery.SUCCESS": {"en": "SUCCESS, returned {result}", "ru": "SUCCESS, вернул {result}"},
    "delivery.FAILURE": {"en": "FAILURE: {result}", "ru": "FAILURE: {result}"},
    "delivery.header": {"en": "run|call|delivered|outcome", "ru": "запуск|вызов|доставка|чем кончился"},
    "delivery.first": {"en": "first time", "ru": "впервые"},
    "delivery.again": {"en": "again (redelivered)", "ru": "повторно (redelivered)"},
    "delivery.retry": {"en": "as retry {n}", "ru": "повторная попытка {n}"},
    "delivery.none": {"en": "(no run started)", "ru": "(ни один запуск не начался)"},
    "delivery.queue": {"en": "the message: in the queue {queue} (waiting for a worker)",
                       "ru": "сообщение: в очереди {queue} (ждёт воркера)"},
    "delivery.unacked": {"en": "the message: in {unacked} (delivered, not yet acknowledged)",
                         "ru": "сообщение: в {unacked} (доставлено, но ещё не подтверждено)"},
    "delivery.nowhere": {"en": "the message: nowhere (the broker no longer has it)",
                         "ru": "сообщение: нигде (у брокера его больше нет)"},
})


def show_attempts(result=None):
    """Print every run of the tasks sent since ``clear()`` (or of ``result``'s task): how it was delivered,
    how it ended. No times: they differ from run to run; ``timeline.draw(attempts())`` shows them."""
    runs = attempts(result)
    if not runs:
        print(say("delivery.none"))
        return
    rows = []
    for n, run in enumerate(runs, 1):
        if run["retries"]:
            delivered = say("delivery.retry", n=run["retries"])
        else:
            delivered = say("delivery.again" if run["redelivered"] else "delivery.first")
        rows.append([str(n), call_text(run), delivered, say("delivery." + run["state"], result=run["result"])])
    print(text_table(say("delivery.header").split("|"), rows))


def where(result):
    """Where the broker keeps the message of ``result``'s task now: its queue, the unacked hash, or nowhere.

    A task that has ended is acknowledged just after its outcome is stored: for one, wait (1 s at most)
    until the acknowledgement has reached the broker, so that the answer is not a race."""
    if _place(result.id) == "unacked" and result.ready():
        wait_until(lambda: _place(result.id) != "unacked", 1.0, every=0.02)
    place = _place(result.id)
    return say("delivery." + (place or "nowhere"), queue=QUEUE, unacked=UNACKED_KEY)


def _place(task_id):
    sep = app.conf.broker_transport_options.get("sep", ":")
    lists = [QUEUE] + [f"{QUEUE}{sep}{p}" for p in range(1, settings.MAX_PRIORITY + 1)]
    with app.connection_for_write() as conn:
        client = conn.default_channel.client  # the broker's Redis (the results may live in another one)
        if any(task_id in _ids(client.lrange(name, 0, -1)) for name in lists):
            return "queue"
        if task_id in _ids(json.loads(raw)[0] for raw in client.hvals(UNACKED_KEY)):
            return "unacked"
    return None


def _ids(messages):
    for message in messages:
        if isinstance(message, (bytes, str)):
            message = json.loads(message)
        yield message.get("headers", {}).get("id")
