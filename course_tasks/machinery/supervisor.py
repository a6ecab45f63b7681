"""The live setup heals itself: a service of a :class:`~.services.Stack` that exits is started again.

A thread looks at every supervised service ten times a second. One that exited (a SIGKILL, a worker told
to shut down, kombu's crash when the Redis goes away with an acks_late task in flight) is started again with
the same command line: a worker, Flower, the embedded Redis on the same port. A worker waits for its broker:
it is started once the broker answers again, retried every half second. When the broker comes back, a worker
that did not reconnect by itself is restarted too. Whatever happens is said (``stack.say``), written to
``supervisor.log`` in the stack's log folder, and kept in the status file that
:func:`course_tasks.machinery.run_state.supervision_note` reads.

A service this thread restarts gets its parent-death signal (PR_SET_PDEATHSIG) from this thread, which lives
until the stack stops: a SIGKILLed launcher still takes every child along.
"""
import os
import threading
import time
from datetime import datetime

from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from .. import settings
from ..i18n import register, say
from . import run_state, unacked
from .probes import broker_answers

POLL = 0.1  # seconds between two looks at the services
BROKER_RETRY = 0.5  # seconds between two tries of a broker that does not answer
MAX_BACKOFF = 5.0  # a service that keeps failing right after its start is tried at most this far apart

register({
    "sup_stopped": {
        "en": "{name} stopped ({reason}); starting it again with the same command ...",
        "ru": "{name} остановился ({reason}); запускаю его снова той же командой…",
    },
    "sup_waiting": {
        "en": "{name} stopped ({reason}); it starts again as soon as its broker {url} answers ...",
        "ru": "{name} остановился ({reason}); он запустится снова, как только брокер {url} ответит…",
    },
    "sup_reconnect": {
        "en": "{name} has not reconnected to its broker, which answers again; restarting it ...",
        "ru": "{name} не переподключился к брокеру, хотя тот снова отвечает; перезапускаю его…",
    },
    "sup_restored": {
        "en": "{name}: the unacknowledged messages of the queue {queues} went back to its head ({count}); their tasks "
              "run again.",
        "ru": "{name}: неподтверждённые сообщения очереди {queues} возвращены в её начало ({count}); их задачи "
              "выполнятся снова.",
    },
    "sup_back": {
        "en": "{name} works again ({seconds:.1f} s after it stopped).",
        "ru": "{name} снова работает (через {seconds:.1f} с после остановки).",
    },
})


class _Watch:
    """The supervisor's view of one service: running, down (to start at ``next_try``) or starting."""

    def __init__(self):
        self.phase, self.next_try, self.failures = "running", 0.0, 0
        self.stopped_at = None  # monotonic time of the stop being handled
        self.lost_offset = None  # for a worker whose broker went away: its log size at that moment
        self.event = None  # the record in the status file
        self.said = False  # whether the stop of this event was said (once: restarting, or waiting for the broker)


class Supervisor(threading.Thread):
    def __init__(self, stack):
        super().__init__(name="course-supervisor", daemon=True)
        self.stack = stack
        self.watches = {}
        self.events = []
        self.down_brokers = set()  # external Redis brokers seen not answering
        self.next_broker_look = 0.0
        self.status_url = None

    def watch(self, service):
        self.watches[service] = _Watch()

    # -- the loop ------------------------------------------------------------------------------------
    def run(self):
        while not self.stack.stopping.wait(POLL):
            with self.stack.lock:
                if self.stack.stopping.is_set():
                    return
                try:
                    self.look()
                except Exception as exc:  # noqa: BLE001 (the supervisor must outlive any surprise; its log keeps it)
                    self._log(f"supervisor error: {exc!r}")

    def look(self):
        now = time.monotonic()
        for service in sorted(self.watches, key=lambda s: s.kind != "redis"):  # the broker first
            watch = self.watches[service]
            if watch.phase in ("running", "starting") and not service.alive():
                self._stopped(service, watch, now)
            if watch.phase == "down" and now >= watch.next_try:
                if not broker_answers(service.broker):
                    watch.next_try = now + BROKER_RETRY
                    if watch.event["state"] != "waiting":
                        self._update(watch, "waiting")
                    if not watch.said:
                        watch.said = True
                        self._say("sup_waiting", service, reason=self._reason(watch),
                                  url=service.broker and settings.redacted(service.broker))
                    continue
                self._restart(service, watch)
            elif watch.phase == "starting" and service.ready and service.ready(service):
                self._back(service, watch, now)
        self._look_at_external_brokers(now)

    # -- what happens to one service ----------------------------------------------------------------
    def _stopped(self, service, watch, now):
        reason, detail = service.exit_reason()
        service.kill()  # what is left of its process group (pool children), and reap it
        if watch.phase == "running":  # a service that worked stopped: start it again at once (said then)
            watch.failures, watch.stopped_at, watch.said = 0, now, False
            watch.event = self._record(service, reason, detail)
        else:  # it stopped again while starting: try later and later
            watch.failures += 1
            self._log(f"{service.label} exited while starting ({reason} {detail}); next try in "
                      f"{min(MAX_BACKOFF, 0.5 * 2 ** (watch.failures - 1)):g} s\n{service.log_tail(5)}")
        watch.phase = "down"
        watch.next_try = now + (0 if watch.failures == 0 else min(MAX_BACKOFF, 0.5 * 2 ** (watch.failures - 1)))
        if service.kind == "redis":
            self._broker_lost(service.label)

    def _restart(self, service, watch):
        if not watch.said:
            watch.said = True
            self._say("sup_stopped", service, reason=self._reason(watch))
        if service.kind == "worker":
            self._give_back(service, watch)
        service.start()
        watch.phase = "starting"
        self._update(watch, "restarting")
        self._log(f"{service.label} started again (pid {service.proc.pid}): {' '.join(service.argv)}")

    def _back(self, service, watch, now):
        watch.phase, watch.failures = "running", 0
        watch.event["back_at"] = time.time()
        self._update(watch, "back")
        self._say("sup_back", service, seconds=now - watch.stopped_at)
        if service.kind == "redis":
            self._broker_back(service.label, fresh=True)

    def _give_back(self, service, watch):
        """Before a worker starts again: its unacknowledged messages go back to its queues (machinery.unacked)."""
        queues = unacked.queues_of(service.label)
        if not queues or not service.broker:
            return
        try:
            count = unacked.restore(service.broker, queues)
        except (RedisError, OperationalError, OSError) as exc:  # a broker gone again: visibility_timeout still applies
            self._log(f"{service.label}: its unacknowledged messages were not given back: {exc!r}")
            return
        self._log(f"{service.label}: unacknowledged messages of {list(queues)} given back: {count}")
        if count:
            watch.event["restored"] = watch.event.get("restored", 0) + count
            watch.event["queues"] = list(queues)
            self._say("sup_restored", service, count=count, queues=", ".join(map(repr, queues)))

    # -- brokers ---------------------------------------------------------------------------------------
    def _workers_on(self, url):
        return [s for s in self.watches if s.kind == "worker" and run_state.same_broker(s.broker, url)]

    def _broker_lost(self, url):
        for worker in self._workers_on(url):
            if self.watches[worker].lost_offset is None:
                self.watches[worker].lost_offset = worker.log_size()

    def _broker_back(self, url, fresh=False):
        """The broker answers again: restart each running worker on it that has not reconnected by itself
        (after a lost connection a Celery worker retries only every 2, 4, 6 ... up to 30 s).

        A ``fresh`` broker (the embedded Redis, started again empty) holds nothing of theirs: they are killed
        at once. Another gets a cold shutdown first, which gives their unacknowledged messages back."""
        stale = []
        for worker in self._workers_on(url):
            watch = self.watches[worker]
            offset, watch.lost_offset = watch.lost_offset, None
            if watch.phase == "running" and offset is not None and "Connected to " not in worker.log_since(offset):
                stale.append(worker)
        now = time.monotonic()
        for worker in stale:
            self._say("sup_reconnect", worker)
            watch = self.watches[worker]
            watch.phase, watch.failures, watch.next_try, watch.stopped_at, watch.said = "down", 0, now, now, True
            watch.event = self._record(worker, "lost_broker", "")
            if not fresh:
                worker.send_stop()
        for worker in stale:
            worker.wait_stopped(0 if fresh else 2)

    def _look_at_external_brokers(self, now):
        """A Redis this stack did not start is pinged twice a second while workers of the stack use it."""
        if now < self.next_broker_look:
            return
        self.next_broker_look = now + BROKER_RETRY
        ours = {s.label for s in self.watches if s.kind == "redis"}
        for url in {s.broker for s in self.watches if s.kind == "worker"}:
            if not url or not url.startswith("redis") or any(run_state.same_broker(url, o) for o in ours):
                continue
            if not broker_answers(url):
                if url not in self.down_brokers:
                    self.down_brokers.add(url)
                    self._broker_lost(url)
            elif url in self.down_brokers:
                self.down_brokers.discard(url)
                self._broker_back(url)

    # -- what is said and kept ---------------------------------------------------------------------------
    def _record(self, service, reason, detail):
        self.events = [e for e in self.events if e["name"] != service.label]
        event = {"name": service.label, "kind": service.kind if service.kind in ("worker", "redis") else "other",
                 "stopped_at": time.time(), "reason": reason, "detail": detail, "state": "restarting"}
        self.events.append(event)
        self._write_status()
        return event

    def _update(self, watch, state):
        watch.event["state"] = state
        self._write_status()

    def _reason(self, watch):
        return say(f"reason_{watch.event['reason']}", detail=watch.event["detail"])

    def _say(self, message, service, **values):
        name = run_state.describe(service.kind, service.label)
        text = say(message, name=name[0].upper() + name[1:], **values)
        self._log(text)
        self.stack.say(text)

    def _log(self, text):
        try:
            with open(self.stack.log_dir / "supervisor.log", "a") as log:
                log.write(f"{datetime.now():%H:%M:%S.%f} {text}\n")
        except OSError:
            pass

    def _write_status(self):
        url = self.stack.env.get("CELERY_BROKER_URL")
        if not url:
            return
        if self.status_url and self.status_url != url:
            self.forget_status()
        self.status_url = url
        run_state.write_json(run_state.status_path(url), {"pid": os.getpid(), "broker": settings.redacted(url),
                                                          "events": self.events})

    def forget_status(self):
        if self.status_url:
            run_state.status_path(self.status_url).unlink(missing_ok=True)
            self.status_url = None

