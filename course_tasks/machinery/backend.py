"""The course's result backend: Celery's Redis backend, with messages a learner can act on.

Two of Celery's messages do not fit a learner's situation, so this subclass changes them (and nothing else):

- When the result backend stops answering, Celery raises ``RuntimeError: Retry limit exceeded while trying to
  reconnect to the Celery result store backend. The Celery application must be restarted.`` In a notebook that
  is not true: the same kernel works again once the Redis answers. Here it is :class:`ResultBackendDown`
  (a RuntimeError too), which names the URL and the fix.
- ``get(timeout=...)`` raises Celery's ``TimeoutError: The operation timed out.`` also when no worker consumes
  the queue the task was sent to. After such a timeout, the workers are asked (once, for a moment) which
  queues they consume; if none consumes the task's queue, a note on the exception says so, with the command
  that starts one. The exception itself, its class and its message stay Celery's.
"""
import sys
from collections import OrderedDict
from contextlib import contextmanager

import redis
from celery import signals
from celery.backends.redis import RedisBackend, ResultConsumer
from celery.exceptions import TimeoutError as CeleryTimeoutError
from kombu.exceptions import OperationalError

from .. import settings
from ..errors import SetupError, no_reply, one_line, setup_error
from ..i18n import register, say
from .run_state import restarting_nodes, supervision_note

ASK_WORKERS_SECONDS = 0.5  # how long the workers are asked, after a timeout, which queues they consume
_REMEMBERED = 1000  # queues of the last tasks sent from this process

_queue_of = OrderedDict()  # task id -> the queue (routing key) it was sent to
_exiting = sys.is_finalizing  # bound now: at exit, a module's globals may already be gone

register({
    "backend_lost": {
        "en": "The result backend at {url} does not answer ({error}).\nCheck the course:  python3 course.py check  "
              "(start it with:  python3 course.py up), then run this cell again; the kernel need not be restarted.",
        "ru": "Хранилище результатов по адресу {url} не отвечает ({error}).\nПроверьте курс:  python3 course.py check  "
              "(запуск:  python3 course.py up) и выполните ячейку снова; перезапускать ядро не нужно.",
    },
    "no_consumer": {
        "en": "No worker consumes the queue {queues} on {url} (the workers were asked for {timeout:g} s after the "
              "timeout), so the task is still waiting there. Start one with:\n{commands}",
        "ru": "Ни один воркер не читает очередь {queues} через брокер {url} (после таймаута воркеры опрашивались "
              "ещё {timeout:g} с), так что задача всё ещё ждёт в очереди. Запустите воркер:\n{commands}",
    },
    "no_consumer_restarting": {
        "en": "No worker consumes the queue {queues} on {url} at the moment: the course is starting {nodes} again, "
              "and the task waits there for it.",
        "ru": "Сейчас ни один воркер не читает очередь {queues} через брокер {url}: курс запускает {nodes} снова, "
              "и задача ждёт его в очереди.",
    },
    "no_worker_at_all": {
        "en": "No worker answered on {url} within {timeout:g} s after the timeout. "
              "Check with:  python3 course.py check",
        "ru": "Ни один воркер не ответил через брокер {url} за {timeout:g} с после таймаута. "
              "Проверьте:  python3 course.py check",
    },
})


class ResultBackendDown(SetupError):
    """The result backend did not answer, even after a reconnect; the message says where and what to do."""


class CourseResultConsumer(ResultConsumer):
    """Celery's consumer of results (Redis pub/sub); when a reconnect fails, it raises ResultBackendDown."""

    @contextmanager
    def reconnect_on_error(self):
        # Celery's own (celery/backends/asynchronous.py), but without its log line and RuntimeError that say
        # "The Celery application must be restarted": here the next cell works once the Redis answers again.
        try:
            yield
        except TimeoutError:  # the builtin TimeoutError: drain_events(timeout=...) polled, nothing came
            raise
        except self._connection_errors:
            try:
                self._reconnect()
            except self._connection_errors as exc:
                raise self.backend.down(exc) from None

    def cancel_for(self, task_id):
        # Runs from AsyncResult.__del__ too; on a connection that is gone there is nothing to unsubscribe
        # (the key is already out of subscribed_to, so a reconnect does not subscribe it again).
        if _exiting():
            # An AsyncResult collected while the interpreter exits (a script's last line): the pub/sub
            # connection ends with the process, and opening one now fails with "ImportError: sys.meta_path
            # is None, Python is likely shutting down" (redis-py imports on connect), printed as ignored.
            return
        try:
            super().cancel_for(task_id)
        except ResultBackendDown:
            pass

    def _reconnect(self):
        # One new connection, at once: a Redis that is back answers it; one that is not is said in seconds
        # (the failed call, then this one: two reads of redis_socket_timeout on a silent port).
        self._ensure(self._reconnect_pubsub, (), max_retries=0)


class CourseRedisBackend(RedisBackend):
    """Celery's Redis result backend; every redis:// result backend of the course's apps is this one
    (``course_tasks.machinery.plumbing.install``)."""

    ResultConsumer = CourseResultConsumer

    def down(self, exc):
        """The :class:`ResultBackendDown` to raise for the connection error ``exc``."""
        error = no_reply(self.connparams.get("socket_timeout")) \
            if isinstance(exc, redis.exceptions.TimeoutError) else one_line(exc)
        return setup_error("backend_lost", supervision_note(self.url or ""), cls=ResultBackendDown,
                           url=settings.redacted(self.url or ""), error=error)

    @contextmanager
    def _answering(self):
        try:
            yield
        except self.connection_errors as exc:
            raise self.down(exc) from None

    def get(self, key):
        with self._answering():
            return super().get(key)

    def mget(self, keys):
        with self._answering():
            return super().mget(keys)

    def wait_for_pending(self, result, timeout=None, **kwargs):
        try:
            return super().wait_for_pending(result, timeout=timeout, **kwargs)
        except CeleryTimeoutError as exc:
            _note_missing_consumer(exc, self.app, [result.id])
            raise

    def iter_native(self, result, timeout=None, **kwargs):
        try:
            yield from super().iter_native(result, timeout=timeout, **kwargs)
        except CeleryTimeoutError as exc:
            _note_missing_consumer(exc, self.app, [child.id for child in result.results])
            raise


def _note_missing_consumer(exc, app, task_ids):
    """Add a note to ``exc`` when no worker consumes the queue of any of ``task_ids``; never fails."""
    try:
        queues = sorted({_queue_of[i] for i in task_ids if i in _queue_of})
        note = missing_consumer(app, queues) or supervision_note(app.conf.broker_write_url, only_restored=True)
    except (OperationalError, OSError, redis.exceptions.RedisError):
        return  # a hint must never replace the timeout it explains
    if note and note not in getattr(exc, "__notes__", ()):
        exc.add_note(note)


def missing_consumer(app, queues):
    """What to tell when no worker consumes ``queues`` (or, if they are unknown, when no worker answers); else None."""
    url = settings.redacted(app.conf.broker_write_url)
    replies = app.control.inspect(timeout=ASK_WORKERS_SECONDS).active_queues() or {}
    consumed = {q["name"] for queues_of_node in replies.values() for q in queues_of_node}
    if not queues:
        return None if replies else say("no_worker_at_all", url=url, timeout=ASK_WORKERS_SECONDS)
    missing = [q for q in queues if q not in consumed]
    if not missing:
        return None
    raw = app.conf.broker_write_url
    roles = [_role_of(q) for q in missing]
    nodes = [role.node for role in roles if role]
    if len(nodes) == len(missing) and set(nodes) <= restarting_nodes(raw):  # "start one" would not be true
        note = supervision_note(raw, nodes=set(nodes))
        return say("no_consumer_restarting", queues=", ".join(repr(q) for q in missing), url=url,
                   nodes=", ".join(nodes)) + (f"\n{note}" if note else "")
    commands = "\n".join(f"  {_start_command(q)}" for q in missing)
    return say("no_consumer", queues=", ".join(repr(q) for q in missing), url=url,
               timeout=ASK_WORKERS_SECONDS, commands=commands)


def _role_of(queue):
    return next((role for role in settings.worker_roles().values() if queue in role.queues), None)


def _start_command(queue):
    role = _role_of(queue)
    if role is None:
        return f"celery -A course_tasks worker --queues {queue}"
    return f"python3 course.py {' '.join(role.command())}"


@signals.before_task_publish.connect
def _remember_queue(headers=None, routing_key=None, **_):
    """Remember where each task of this process went (the routing key is the queue's name for direct queues)."""
    task_id = (headers or {}).get("id")
    if task_id and routing_key:
        _queue_of[task_id] = routing_key
        while len(_queue_of) > _REMEMBERED:
            _queue_of.popitem(last=False)
