"""Lesson 16, periodic tasks: the task that ``celery beat`` sends (``beat_schedule`` in celeryconfig.py), and what
the lesson reads about its runs.

The lesson starts its beats itself (``lesson_workers("clock")``, ``lesson_workers("beat1")``: roles of
``settings.LESSON_WORKERS`` and ``LESSON_SERVICES``), with this notebook's journal in their environment
(:data:`JOURNAL_ENV`), so every run that they send lands in this notebook's journal; ``clock@course`` runs them. Each
run returns the name of the process that sent it (the message's ``origin``), which tells two beats apart. The course's
own beat (``settings.COURSE_BEAT``, which every setup runs) has an empty schedule: it sends none of these.
"""
import itertools
import json
import math
import shelve
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from celery import Celery

from . import journal, settings
from .celery import app
from .errors import SetupError
from .exclusive import queued as queued_in
from .i18n import register, say
from .lesson_workers import lesson_workers
from .machinery import lesson_procs
from .machinery.journaling import JOURNAL_ENV
from .machinery.notice import while_waiting
from .waiting import wait_until

QUEUE = "course.clock"
EVERY = 2.0  # seconds: the interval of the schedule's "every-2-seconds" entries (celeryconfig.py)
EXPIRES = 1.0  # seconds: the "expires" option of the schedule's "every-2-seconds-expiring" entry
RUNS_TIMEOUT = 30.0
BEAT = "beat1"  # the role of the lesson's beat (settings.LESSON_SERVICES); its second one is "beat2"
BEATS = (BEAT, "beat2")

register({
    "periodic_not_ran": {
        "en": "{count} run(s) did not happen within {seconds:g} s: celery beat sends them, clock@course (started by "
              "this notebook) runs them. beat's log: {log}",
        "ru": "за {seconds:g} с не прошло запусков: {count}. Их отправляет celery beat, а выполняет clock@course "
              "(его запускает этот ноутбук). Лог beat: {log}",
    },
    "periodic_not_queued": {
        "en": "celery beat did not put {count} run(s) of each entry in {queue} within {seconds:g} s. Its log: {log}",
        "ru": "celery beat не положил в {queue} по {count} запуска каждой записи за {seconds:g} с. Его лог: {log}",
    },
    "periodic_not_drained": {
        "en": "{queue} still holds {count} message(s) after {seconds:g} s: clock@course, started by this notebook, "
              "did not take them. Its log: {log}",
        "ru": "в {queue} через {seconds:g} с всё ещё лежит сообщений: {count} — clock@course, запущенный этим "
              "ноутбуком, их не забрал. Его лог: {log}",
    },
    "periodic_runs": {
        "en": "{entry}: {count} runs, sent by {senders} beat process(es); gaps of at least {gap:g} s: {ok}",
        "ru": "{entry}: запусков {count}, их отправили процессов beat: {senders}; промежутки не меньше {gap:g} с: {ok}",
    },
    "periodic_stopped": {
        "en": "beat stopped for {seconds:g} s ({missed} runs were due): runs meanwhile: {during}; "
              "runs right after it started again: {after}",
        "ru": "beat стоял {seconds:g} с (за это время полагалось {missed} запуска): запусков за это время: {during}; "
              "сразу после нового старта: {after}",
    },
    "periodic_senders": {
        "en": "beat processes that sent the last {count} runs: {senders}",
        "ru": "процессов beat, отправивших последние запуски (их {count}): {senders}",
    },
    "periodic_waiting": {
        "en": "waiting in course.clock, nobody taking them, beat stopped: {runs}",
        "ru": "ждут в course.clock (их никто не берёт, beat остановлен): {runs}",
    },
    "periodic_ran": {"en": "{entry}: run once the worker took messages again: {ran}",
                     "ru": "{entry}: выполнено, когда воркер снова стал брать сообщения: {ran}"},
    "periodic_stored": {"en": "{entry}: has run: {ran}", "ru": "{entry}: уже запускалась: {ran}"},
    "periodic_awaiting": {
        "en": "waiting for {count} run(s) of {entry} (one every {every:g} s): about {seconds:g} s …",
        "ru": "ждём запусков {entry}: {count} (по одному раз в {every:g} с), это около {seconds:g} с …",
    },
    "periodic_awaiting_beats": {
        "en": "waiting for {count} run(s) of {entry} ({beats} beats, each sending one every {every:g} s): "
              "about {seconds:g} s …",
        "ru": "ждём запусков {entry}: {count} (работают процессы beat: {beats}, каждый отправляет по одному раз в "
              "{every:g} с), это около {seconds:g} с …",
    },
    "periodic_stopping": {
        "en": "beat stays stopped {seconds:g} s on purpose ({missed} runs fall due meanwhile): {left:g} s left …",
        "ru": "beat намеренно стоит {seconds:g} с (за это время полагается запусков: {missed}): осталось {left:g} с …",
    },
    "periodic_filling": {
        "en": "waiting until {count} runs of each every-2-seconds entry wait in {queue} (beat sends one every "
              "{every:g} s): about {seconds:g} s …",
        "ru": "ждём, пока в {queue} наберётся по {count} запуска каждой записи every-2-seconds (beat отправляет по "
              "одному раз в {every:g} с), это около {seconds:g} с …",
    },
    "periodic_next": {"en": "timezone {zone}: next run {when}", "ru": "часовой пояс {zone}: следующий запуск {when}"},
})


@app.task(bind=True)
def stamp(self, entry):
    """A periodic run: returns who sent it (``gen<pid>@<host>`` for celery beat's process)."""
    return self.request.origin or "?"


def beat_env():
    """The environment of a beat started by this notebook: its runs go to this notebook's journal."""
    return {JOURNAL_ENV: journal.KEY}


def runs(entry, since=0.0):
    """The journal entries of the runs of ``entry`` ("every-2-seconds", ...) that started after ``since``."""
    return [e for e in journal.entries() if e["task"] == "stamp" and e["args"] == [entry] and e["started"] >= since]


def beats_running():
    """How many of the lesson's beats run now (each sends every entry of the schedule)."""
    return sum(role in lesson_procs.RUNNING and lesson_procs.RUNNING[role].service.alive() for role in BEATS)


def wait_runs(entry, count, since=0.0, timeout=RUNS_TIMEOUT):
    """Wait until ``entry`` has run ``count`` times after ``since``; those runs. A notice says meanwhile how many
    runs it waits for and about how long that takes (an every-2-seconds entry, sent by each beat that runs)."""
    def enough():
        got = runs(entry, since)
        return got if len(got) >= count else None

    found = enough()
    if not found:
        left, beats = count - len(runs(entry, since)), max(beats_running(), 1)
        about = {"count": left, "entry": entry, "every": EVERY, "seconds": math.ceil(left * EVERY / beats)}
        text = say("periodic_awaiting", **about) if beats == 1 else say("periodic_awaiting_beats", beats=beats,
                                                                          **about)
        with while_waiting(text):
            found = wait_until(enough, timeout, every=0.05)
            if not found:
                log = lesson_procs.RUNNING[BEAT].service.log_path if BEAT in lesson_procs.RUNNING else "-"
                raise SetupError(say("periodic_not_ran", count=count, seconds=timeout, log=log))
    return found


def senders(found):
    """How many processes sent the runs ``found``."""
    return len({e["result"] for e in found})


def show_runs(entry, found):
    gaps = [b["started"] - a["started"] for a, b in itertools.pairwise(found)]
    print(say("periodic_runs", entry=entry, count=len(found), senders=senders(found), gap=EVERY - 0.5,
              ok=all(gap >= EVERY - 0.5 for gap in gaps)))


def stopped_for(beat, seconds):
    """Stop ``beat`` (a LessonWorkers of the role "beat1": SIGTERM, and it saves its schedule) and keep it stopped
    ``seconds``; when it stopped (``time.time()``)."""
    beat.stop()
    stopped, end = time.time(), time.monotonic() + seconds

    def said(left):
        return say("periodic_stopping", seconds=seconds, missed=int(seconds // EVERY), left=math.ceil(left))

    with while_waiting(said(seconds)) as notice:  # a countdown, second by second
        while (left := end - time.monotonic()) > 0:  # the point of the experiment: no beat while runs fall due
            time.sleep(min(left, 1.0))
            if end - time.monotonic() > 0:
                notice.update(said(end - time.monotonic()))
    return stopped


def show_stopped(entry, stopped, seconds):
    """After beat has started again: wait for two runs since the end of the stop, then print how many ran while beat
    was stopped (``stopped`` to ``stopped + seconds``) and how many came at once after it was back (one, not one per
    missed run: the runs within 3/4 of an interval after the first one)."""
    back = stopped + seconds
    first, _ = wait_runs(entry, 2, since=back)[:2]
    during = len([e for e in runs(entry, stopped) if e["started"] < back])
    after = len([e for e in runs(entry, back) if e["started"] < first["started"] + EVERY * 3 / 4])
    print(say("periodic_stopped", seconds=seconds, missed=int(seconds // EVERY), during=during, after=after))


def show_senders(entry, count):
    """Wait for ``count`` runs of ``entry`` from now on (after one more, which a beat stopped just now may have sent);
    print how many beat processes sent them."""
    found = wait_runs(entry, count + 1, since=time.time())[1:count + 1]
    print(say("periodic_senders", count=count, senders=senders(found)))


def show_schedule():
    """Print the app's ``beat_schedule``: each entry's schedule and options."""
    for name, entry in app.conf.beat_schedule.items():
        print(f"{name}: {entry['schedule']!r} {entry.get('options', {})}")


def show_sent(role=BEAT):
    """Print the distinct "Sending due task" lines of beat's log so far (without their times)."""
    for line in sorted({line.split("] ", 1)[-1] for line in log_lines(role)}):
        print(line)


def fill_while_down(beat, count=2, timeout=RUNS_TIMEOUT):
    """With no worker on :data:`QUEUE`: wait until ``count`` runs of each every-2-seconds entry wait there, stop
    ``beat`` at once, then wait until the last of them is older than :data:`EXPIRES`; the time it is done.

    A ``beat`` that no longer runs (the cell was interrupted after it stopped, and runs again) is started again
    first, with the same schedule file."""
    entries = ("every-2-seconds", "every-2-seconds-expiring")
    if not any(worker.service.alive() for worker in beat.owned):
        beat = lesson_workers(BEAT, env=beat_env(), fresh=False)
    left = count - min(waiting(e) for e in entries)
    with while_waiting(say("periodic_filling", count=count, queue=QUEUE, every=EVERY,
                           seconds=math.ceil(left * EVERY))) if left > 0 else nullcontext():
        if not wait_until(lambda: all(waiting(e) >= count for e in entries), timeout, every=0.05):
            log = lesson_procs.RUNNING[BEAT].service.log_path if BEAT in lesson_procs.RUNNING else "-"
            raise SetupError(say("periodic_not_queued", count=count, queue=QUEUE, seconds=timeout, log=log))
    beat.stop()
    time.sleep(EXPIRES + 0.2)  # the point: the waiting runs get older than their expires
    print(say("periodic_waiting", runs={e: waiting(e) for e in entries}))
    return time.time()


def show_stale(results_since, timeout=RUNS_TIMEOUT):
    """Once the worker is back: wait until :data:`QUEUE` is empty, then print what ran of each entry."""
    if not wait_until(lambda: queued() == 0, timeout, every=0.05):
        log = lesson_procs.RUNNING["clock"].service.log_path if "clock" in lesson_procs.RUNNING else "-"
        raise SetupError(say("periodic_not_drained", queue=QUEUE, count=queued(), seconds=timeout, log=log))
    wait_until(lambda: len(runs("every-2-seconds", results_since)) >= 2, timeout, every=0.05)
    for entry in ("every-2-seconds", "every-2-seconds-expiring"):
        print(say("periodic_ran", entry=entry, ran=len(runs(entry, results_since))))


def show_stored(role=BEAT):
    keys, entries = stored_schedule(role)
    print(keys)
    for name, ran in entries.items():
        print(say("periodic_stored", entry=name, ran=ran))


def show_next_runs(schedule, now, *zones):
    """Print when ``schedule`` (a crontab) runs next after ``now``, in UTC, for an app in each time zone."""
    for zone in zones:
        print(say("periodic_next", zone=zone, when=next_run(schedule, zone, now).strftime("%Y-%m-%d %H:%M UTC")))


def waiting(entry):
    """How many messages of ``entry`` wait in :data:`QUEUE`, read from the Redis list (not taken): each message's
    ``argsrepr`` header names its entry."""
    headers = [json.loads(raw).get("headers", {}) for raw in app.backend.client.lrange(QUEUE, 0, -1)]
    return sum(h.get("task") == stamp.name and repr(entry) in (h.get("argsrepr") or "") for h in headers)


def queued():
    return queued_in(app, [QUEUE])


def schedule_file(role=BEAT):
    """Where the beat of ``role`` keeps its schedule (its ``--schedule`` option)."""
    return lesson_procs.schedule_file(settings.roles()[role])


def stored_schedule(role=BEAT):
    """``(keys of the schedule file, {entry: total_run_count})``, read from beat's shelve file (beat stopped)."""
    with shelve.open(str(schedule_file(role)), flag="r") as store:
        entries = store["entries"]
        return sorted(store.keys()), {name: entries[name].total_run_count > 0 for name in sorted(entries)}


def next_run(schedule, tz_name, now):
    """The next time ``schedule`` (a crontab) runs after ``now`` (an aware datetime) for an app whose ``timezone``
    is ``tz_name``, in UTC: Celery's own computation (``remaining_estimate``)."""
    tz_app = Celery(set_as_current=False)
    tz_app.conf.timezone = tz_name
    fixed = schedule.__class__(minute=schedule._orig_minute, hour=schedule._orig_hour,
                               day_of_week=schedule._orig_day_of_week, day_of_month=schedule._orig_day_of_month,
                               month_of_year=schedule._orig_month_of_year, nowfun=lambda: now, app=tz_app)
    return (now + fixed.remaining_estimate(now)).astimezone(UTC)


def runs_between(schedule, tz_name, start, end):
    """Every time ``schedule`` runs from ``start`` to ``end`` (aware datetimes), in UTC, by :func:`next_run`."""
    found, now = [], start
    while True:
        nxt = next_run(schedule, tz_name, now)
        if nxt > end:
            return found
        found.append(nxt)
        now = nxt + timedelta(seconds=1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def log_lines(role=BEAT):
    """The lines of this run of beat's log that say it sent a task."""
    worker = lesson_procs.RUNNING.get(role)
    return [] if worker is None else [ln for ln in worker.service.log_since().splitlines() if "Sending due task" in ln]

