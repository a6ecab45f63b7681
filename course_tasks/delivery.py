"""Lesson 12's worker and tasks: what happens to a task when the worker running it dies.

A second app with the course's configuration on the same Redis, for the worker ``delivery@course``
only (queue ``course.delivery``, one process). Its Redis transport gives an unacknowledged message
back to the queue after 3 s (``visibility_timeout``; kombu's default is an hour) and looks for such
messages every second (``unacked_restore_interval`` 1 s, ``unacked_restore_throttle`` 1), with keys of
its own: the sweep of this worker never touches the messages of the course's other workers.

Every run of these tasks records its start (``attempts()``): a run cut off by a kill writes nothing
to the journal, which only records runs that ended.
"""
import json
import time

from celery import Celery

from . import faults, settings  # noqa: F401  (faults: the kill commands this worker answers)
from .celery import configure, course_config
from .i18n import register, say
from .journal import HEADER, KEEP_SECONDS, JournaledTask, _process_index, call_text

QUEUE = settings.DELIVERY_QUEUE
VISIBILITY_TIMEOUT = 3  # seconds; kombu's default is 3600
ATTEMPTS_PREFIX = "course:attempts:"
UNACKED_KEY = "course.delivery.unacked"


def delivery_config():
    config = course_config(settings.broker_url())
    return {
        **config,
        "broker_transport_options": {
            **config["broker_transport_options"],
            "visibility_timeout": VISIBILITY_TIMEOUT,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
            "unacked_key": UNACKED_KEY,
            "unacked_index_key": UNACKED_KEY + "_index",
            "unacked_mutex_key": UNACKED_KEY + "_mutex",
        },
        "task_default_queue": QUEUE,
        "task_routes": {},
    }


class AttemptTask(JournaledTask):
    """A journaled task that also records when each run starts, so that a run cut off by a kill is seen."""

    def __call__(self, *args, **kwargs):
        request = self.request
        journal = getattr(request, HEADER, None)
        if journal and not request.called_directly:
            delivery = request.delivery_info or {}
            _record(self.app, journal, {
                "id": request.id, "task": self.name.rsplit(".", 1)[-1], "args": list(args), "kwargs": kwargs,
                "node": request.hostname, "process": _process_index(), "started": time.time(),
                "redelivered": bool(delivery.get("redelivered")), "retries": request.retries,
            })
        return super().__call__(*args, **kwargs)


app = configure(Celery("course_tasks_delivery", set_as_current=False, task_cls=AttemptTask), delivery_config)


@app.task(acks_late=False)
def nap_acked_early(seconds):
    """Sleeps ``seconds``; its message is acknowledged when the run starts (lesson 12)."""
    time.sleep(seconds)
    return seconds


@app.task(acks_late=True)
def nap_acked_late(seconds):
    """Sleeps ``seconds``; its message is acknowledged when the run ends (lesson 12)."""
    time.sleep(seconds)
    return seconds


@app.task(acks_late=True, reject_on_worker_lost=True)
def nap_requeued(seconds):
    """Sleeps ``seconds``; if its pool process dies, its message goes back to the queue (lesson 12)."""
    time.sleep(seconds)
    return seconds


@app.task(acks_late=True, retry_on_worker_lost=True, max_retries=1, default_retry_delay=1)
def nap_retried(seconds):
    """Sleeps ``seconds``; if its pool process dies, it is retried once, a second later (lesson 12)."""
    time.sleep(seconds)
    return seconds


# -- what the notebook reads -------------------------------------------------------------------------

def _client(app_=None):
    return (app_ or app).backend.client


def _record(app_, journal, event):
    key = ATTEMPTS_PREFIX + journal
    client = _client(app_)
    client.rpush(key, json.dumps(event, default=repr))
    client.expire(key, KEEP_SECONDS)


def record_kill(node, at=None):
    """Note that ``node`` (or a process of it) was killed ``at`` (now by default; faults.kill_* call this)."""
    from .journal import Journal

    _record(None, Journal.key, {"killed": node, "at": at or time.time()})


def _events():
    from .journal import Journal

    return [json.loads(item) for item in _client().lrange(ATTEMPTS_PREFIX + Journal.key, 0, -1)]


def clear():
    """Forget the runs and kills recorded so far (``journal.clear()`` forgets the ended runs)."""
    from .journal import Journal

    _client().delete(ATTEMPTS_PREFIX + Journal.key)


def attempts(result=None):
    """Every run that started, in the shape of journal entries (timeline.draw takes them), oldest first.

    A run that ended is its journal entry; a run cut off by a kill ends at the kill, with the state
    ``KILLED`` (not a Celery state: nothing stored it). With ``result``, only that task's runs.
    """
    events = _events()
    kills = sorted((e["at"], e["killed"]) for e in events if "killed" in e)
    starts = sorted((e for e in events if "started" in e), key=lambda e: e["started"])
    ended = [e for e in _journal_entries() if e["task"] in {s["task"] for s in starts}]
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
    deadline = time.monotonic() + timeout
    while True:
        runs = [run for run in attempts(result) if run["state"] != "RUNNING"]
        if len(runs) >= count or time.monotonic() > deadline:
            return runs
        time.sleep(0.05)


def _journal_entries():
    from . import journal

    return journal.entries()


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
    "delivery.queue": {"en": "in the queue {queue}: waiting for a worker", "ru": "в очереди {queue}: ждёт воркера"},
    "delivery.unacked": {"en": "in {unacked}: delivered, not yet acknowledged",
                         "ru": "в {unacked}: доставлено, но ещё не подтверждено"},
    "delivery.nowhere": {"en": "nowhere: the broker no longer has it", "ru": "нигде: у брокера его больше нет"},
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
    header = say("delivery.header").split("|")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    print("\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows))


def where(result):
    """Where the broker keeps the message of ``result``'s task now: its queue, the unacked hash, or nowhere.

    A task that has ended is acknowledged just after its outcome is stored: for one, wait (1 s at most)
    until the acknowledgement has reached the broker, so that the answer is not a race."""
    place = _place(result.id)
    deadline = time.monotonic() + 1.0
    while place == "unacked" and result.ready() and time.monotonic() < deadline:
        time.sleep(0.02)
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
