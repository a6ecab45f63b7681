"""Lesson 15, routing and dedicated workers: a report that runs as long as the notebook wants, a quick task, a
rate-limited one, and what the lesson reads about them.

The tasks are the course's (the main app includes this module), so every course worker runs them, the lesson's own
workers included (``settings.LESSON_WORKERS``: slow@course, fast@course, and one@course and two@course, which share
the queue ``course.shared``). Where a task went is read from the journal (each entry names its worker).
"""
import time
import uuid

from celery import signals

from . import journal, settings
from .celery import app
from .errors import SetupError
from .exclusive import queued as queued_in
from .i18n import register, say
from .machinery import lesson_procs
from .operations import running_and_reserved
from .waiting import wait_until

GATE_TIMEOUT = 30.0  # a report waiting for its gate gives up after this (a notebook that never opened it)
RATE = 5  # tick's rate_limit, per second
RATE_MARGIN = 1.1  # a measured rate is "at most RATE" within this factor (a send and a start: timed by two processes)
ASK_SECONDS = 1.0  # consumers(): how long every worker is given to say what it consumes
ANSWER_TIMEOUT = 15.0  # consumers(): how long a worker that surely runs (a busy machine answers late) is waited for

register({
    "routing_not_ran": {
        "en": "{missing} of the tasks did not run within {seconds:g} s.",
        "ru": "Не выполнились за {seconds:g} с задач: {missing}.",
    },
    "routing_holding": {
        "en": "{node}: {running} running, {reserved} reserved | waiting in {queue}: {waiting}",
        "ru": "{node}: выполняется {running}, зарезервировано {reserved} | ждут в очереди {queue}: {waiting}",
    },
    "routing_after": {
        "en": "quick results, once the reports had run: {results}",
        "ru": "результаты quick — после того как отработали отчёты: {results}",
    },
    "routing_while": {
        "en": "quick results, while the reports run: {results}; reports done so far: {done}",
        "ru": "результаты quick, пока отчёты ещё идут: {results}; отчётов готово: {done}",
    },
    "routing_ran_on": {"en": "{call} ran on {node}", "ru": "{call} выполнена на {node}"},
    "routing_lost": {
        "en": "state: {state} | messages waiting in that queue: {waiting}",
        "ru": "состояние: {state} | сообщений ждёт в этой очереди: {waiting}",
    },
    "routing_consumers": {"en": "{label}: consumed by {nodes}", "ru": "{label}: её слушает {nodes}"},
    "routing_nobody": {"en": "{label}: no worker consumes it", "ru": "{label}: её не слушает ни один воркер"},
    "routing_purged": {"en": "purged: {count} message(s)", "ru": "удалено сообщений: {count}"},
    "routing_rate": {
        "en": "{label}: {node} started at most {rate} ticks a second: {ok}",
        "ru": "{label}: {node} запускал не больше {rate} tick в секунду: {ok}",
    },
    "routing_together": {
        "en": "both workers together started more ticks a second than one alone: {ok}",
        "ru": "оба воркера вместе запускали больше tick в секунду, чем один: {ok}",
    },
    "routing_alone": {"en": "one worker", "ru": "один воркер"},
    "routing_two": {"en": "two workers", "ru": "два воркера"},
})


@app.task
def report(gate):
    """A slow task: it runs until the notebook opens ``gate`` (:func:`open_gate`), exactly as long as wanted."""
    client = app.backend.client
    if not wait_until(lambda: client.exists(gate), GATE_TIMEOUT, every=0.02):
        raise TimeoutError(f"{gate} was never opened")
    return "report"


@app.task
def quick(n):
    """A fast task: returns ``n`` at once."""
    return n


@app.task(rate_limit=f"{RATE}/s")
def tick(n):
    """A fast task that a worker starts at most RATE times a second (``rate_limit``)."""
    return n


_sent_at = {}  # tick's task id -> when this process sent it (see rate())


@signals.after_task_publish.connect
def _note_tick(headers=None, **_):
    if headers and headers.get("task") == tick.name:
        _sent_at[headers["id"]] = time.time()


def new_gate():
    """A closed gate for :func:`report` tasks."""
    return f"course:gate:{uuid.uuid4().hex}"


def open_gate(gate):
    app.backend.client.set(gate, 1, ex=60)


def unconsumed_queue():
    """A queue name of this notebook's own that no worker consumes (a twin notebook gets another one)."""
    return f"course.nobody.{journal.KEY[:8]}"


def queued(queue):
    """How many messages wait in ``queue`` (every priority level)."""
    return queued_in(app, [queue])


def purge(queue):
    """Drop what waits in ``queue``; how many messages that was."""
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_purge(queue) or 0


def consumers(**queues):
    """``{label: [the workers that consume that queue]}`` for ``label=queue``, by ``inspect().active_queues()``: every
    worker is given ASK_SECONDS to answer; the course's workers of those queues that surely run (this notebook's lesson
    workers, the setup's own) and have not answered yet are then asked by name, up to ANSWER_TIMEOUT (a busy machine
    answers late, never differently)."""
    answers = app.control.inspect(timeout=ASK_SECONDS).active_queues() or {}
    wanted = set(queues.values())
    missing = sorted(role.node for name, role in settings.worker_roles().items()
                     if set(role.queues) & wanted and role.node not in answers
                     and (name in lesson_procs.RUNNING or (role.lesson is None and role.broker == "course")))

    def all_answered():
        # ``limit`` ends a request after that many replies drained, a late reply to the broadcast above included: so
        # ask again (each request bounded by ASK_SECONDS) until every one of them has answered, or the time is up
        left = [node for node in missing if node not in answers]
        if left:
            ask = app.control.inspect(destination=left, timeout=ASK_SECONDS, limit=len(left))
            answers.update(ask.active_queues() or {})
        return all(node in answers for node in missing)

    if missing:
        wait_until(all_answered, ANSWER_TIMEOUT, every=0)
    return {label: sorted(node for node, consumed in answers.items() if any(q["name"] == queue for q in consumed))
            for label, queue in queues.items()}


def show_consumers(**queues):
    """Print who consumes each queue of ``label=queue`` (:func:`consumers`)."""
    for label, found in consumers(**queues).items():
        print(say("routing_consumers", label=label, nodes=", ".join(found)) if found
              else say("routing_nobody", label=label))


def entries(results, timeout=30.0):
    """The journal entries of ``results``, once every one of them is there (in start order)."""
    ids = {result.id for result in results}

    def found():
        got = [entry for entry in journal.entries() if entry["id"] in ids]
        return got if len(got) == len(ids) else None

    got = wait_until(found, timeout, every=0.05)
    if not got:
        missing = len(ids - {entry["id"] for entry in journal.entries()})
        raise SetupError(say("routing_not_ran", missing=missing, seconds=timeout))
    return got


def nodes(results):
    """``{task name: [the workers that ran it]}`` for ``results``, each worker once."""
    found = {}
    for entry in entries(results):
        ran = found.setdefault(entry["task"], [])
        if entry["node"] not in ran:
            ran.append(entry["node"])
    return {task: sorted(ran) for task, ran in sorted(found.items())}


def node_of(result):
    """The worker that ran ``result``."""
    (entry,) = entries([result])
    return entry["node"]


def rate(found):
    """Ticks started per second in the journal entries ``found``: (count - 1) / (last start - first send).

    From the first *send*, not the first start: a worker's rate limit lets its first tick go at once and each next one
    1/RATE s later at the earliest, and a busy machine can only start a tick later than that, never earlier. Counted
    from the first start, a first tick that started late would make the others look too fast; counted from the first
    send, a busy machine can only make the rate lower. (``sent``: added by :func:`per_worker`; else the start.)"""
    if len(found) < 2:
        return 0.0
    first = min(entry.get("sent", entry["started"]) for entry in found)
    return (len(found) - 1) / (max(entry["started"] for entry in found) - first)


def per_worker(results):
    """``{node: its entries}`` for ``results``, each entry with ``sent``: when this notebook sent it (ticks)."""
    by_node = {}
    for entry in entries(results):
        if entry["id"] in _sent_at:
            entry["sent"] = _sent_at.pop(entry["id"])
        by_node.setdefault(entry["node"], []).append(entry)
    return dict(sorted(by_node.items()))


def within_rate(found, limit=RATE):
    """Did the tasks of ``found`` start no faster than ``limit`` a second (within RATE_MARGIN)?"""
    return rate(found) <= limit * RATE_MARGIN


def seconds(found):
    """Whole seconds from the first start to the last end of ``found``, rounded down."""
    return int(max(entry["finished"] for entry in found) - min(entry["started"] for entry in found))


def wait_done(results, timeout=30.0):
    """Wait until every one of ``results`` has a result."""
    if not wait_until(lambda: all(result.ready() for result in results), timeout, every=0.05):
        missing = sum(not result.ready() for result in results)
        raise SetupError(say("routing_not_ran", missing=missing, seconds=timeout))


def show_holding(node, queue):
    """Print how many tasks ``node`` runs and holds, once that has settled, and how many wait in ``queue``."""
    running, reserved = running_and_reserved(node)
    print(say("routing_holding", node=node, running=running, reserved=reserved, queue=queue, waiting=queued(queue)))


def show_after(results):
    print(say("routing_after", results=[result.get(timeout=30) for result in results]))


def show_while(quick_results, reports):
    """Print the quick results (waiting for them) and how many of ``reports`` are done meanwhile."""
    got = [result.get(timeout=30) for result in quick_results]
    print(say("routing_while", results=got, done=sum(result.ready() for result in reports)))


def show_ran_on(**results):
    """Print the worker that ran each of ``call=result``."""
    for call, result in results.items():
        print(say("routing_ran_on", call=call, node=node_of(result)))


def show_lost(result, queue):
    print(say("routing_lost", state=result.state, waiting=queued(queue)))


def show_purged(queue):
    print(say("routing_purged", count=purge(queue)))


def show_rates(alone, together):
    """Print, for each worker, that it kept to the rate limit, alone and with a second worker; and that the two
    together went faster than one alone (``alone``, ``together``: :func:`per_worker` of the ticks). Measured in the
    same cell, so a busy machine slows both runs: with the limit as the brake, two workers start about twice as
    many a second as one."""
    for label, found in ((say("routing_alone"), alone), (say("routing_two"), together)):
        for node, started in found.items():
            print(say("routing_rate", label=label, node=node, rate=RATE, ok=within_rate(started)))
    one = [entry for started in alone.values() for entry in started]
    everything = [entry for started in together.values() for entry in started]
    print(say("routing_together", ok=rate(everything) > rate(one)))


def route_v1(name, args, kwargs, options, task=None, **kw):
    if name == "course_tasks.routing.report":
        return {"queue": "course.slow"}
    if name.startswith("course_tasks.routing."):
        return {"queue": "fast"}
    return None
