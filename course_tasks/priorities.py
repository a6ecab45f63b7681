"""Lessons 07 and 08: hold a worker's queue while tasks are sent, then see the order it ran them in.

Priorities only decide among messages that *wait* in the broker. So the lessons send every task while
the worker is not consuming (:func:`paused`), and the worker meets them all at once when it resumes:
the order it runs them is then the broker's priority order and nothing else, the same on every run.
"""
import time
from contextlib import contextmanager

from . import settings
from .errors import SetupError
from .exclusive import POLL, exclusive, queued
from .i18n import register, say
from .journal import call_text, text_table
from .waiting import wait_until

#: Extra wait on Redis after the worker stopped consuming (see :func:`paused`), in seconds.
REDIS_MARGIN = 0.5


@contextmanager
def paused(app, queue, node, timeout=5.0):
    """Inside the ``with`` block, the worker ``node`` takes nothing from ``queue``; when the block ends,
    even by an error, it consumes again.

    Messages sent inside the block wait in the broker, so the worker meets them all at once.
    Built on ``app.control.cancel_consumer`` and ``app.control.add_consumer``. The worker is held for this
    notebook meanwhile (:func:`course_tasks.exclusive`): another notebook's tasks never mix into the order.
    """
    with exclusive(_role_of(node)):
        with _cancelled(app, queue, node, timeout):
            yield
        # The order is settled once the worker has taken every message sent in the block: hold it till then.
        _wait_drained(app, queue, timeout=30.0)


def _wait_drained(app, queue, timeout):
    wait_until(lambda: not queued(app, [queue]), timeout, every=POLL)


def _role_of(node):
    return next(role for role, worker in settings.worker_roles().items() if worker.node == node)


@contextmanager
def _cancelled(app, queue, node, timeout):
    _control(app, "cancel_consumer", queue, node, timeout)
    try:
        # The worker replies at once but only *schedules* the cancel (Celery's cancel_consumer uses
        # consumer.call_soon): make sure it has really stopped before anything is sent.
        with app.connection_for_write() as conn:
            if conn.transport.driver_type == "redis":
                # A Redis worker may also be blocked in a BRPOP sent before it stopped consuming: Redis
                # would still hand that call the next message, which the worker then pushes back to the
                # END of its list (out of order). That BRPOP ends after brpop_timeout: wait it out.
                time.sleep(conn.transport.brpop_timeout + REDIS_MARGIN)
            else:
                _wait_for_no_consumer(conn, queue, timeout)
        yield
    finally:
        _control(app, "add_consumer", queue, node, timeout)


def _wait_for_no_consumer(conn, queue, timeout):
    """RabbitMQ counts a queue's consumers: wait (bounded) until the cancelled one is gone."""
    if not wait_until(lambda: not conn.default_channel.queue_declare(queue, passive=True).consumer_count, timeout,
                      every=0.01):
        raise SetupError(f"{queue!r} still has a consumer {timeout:g} s after cancel_consumer")


def _control(app, command, queue, node, timeout):
    replies = getattr(app.control, command)(queue, destination=[node], reply=True, timeout=timeout) or []
    answers = [reply[node] for reply in replies if node in reply]
    if not answers or "error" in answers[0]:
        raise SetupError(f"{command}({queue!r}) on {node}: {answers[0]['error'] if answers else 'no reply'} "
                         f"within {timeout:g} s")


def run_order(sent, journal):
    """``[(sent_no, call, priority), ...]`` for the tasks of ``sent`` (AsyncResults, in send order),
    in the order the worker started them, as recorded in ``journal``."""
    number = {result.id: n for n, result in enumerate(sent, 1)}
    return [(number[e["id"]], call_text(e), e["priority"]) for e in journal.entries() if e["id"] in number]


register({"priorities.header": {"en": "ran|sent|call|priority", "ru": "выполнена|отправлена|вызов|приоритет"}})


def show_order(sent, journal, lang=None):
    """Print :func:`run_order` as a table: the order they ran in, the order they were sent in, the call, the
    priority (the header in the notebook's language)."""
    rows = [[str(n), str(sent_no), call, str(priority)] for n, (sent_no, call, priority)
            in enumerate(run_order(sent, journal), 1)]
    print(text_table(say("priorities.header", lang).split("|"), rows))
