"""Sending a task when the broker does not answer: the course's SetupError, naming the URL and the fix.

Without this, ``add.delay(1, 1)`` on a broker that is gone raises kombu's bare ``OperationalError`` (for
example ``Timeout reading from socket``), which names neither the broker nor what to do.
"""
import redis
from celery.app.amqp import AMQP
from kombu.exceptions import OperationalError

from .. import settings
from ..errors import no_reply, one_line, setup_error
from .run_state import supervision_note


class CourseAMQP(AMQP):
    """Celery's AMQP helper of the app (``app.amqp``); its task sender says when the broker does not answer."""

    def _create_task_sender(self):
        send = super()._create_task_sender()

        def send_task_message(producer, name, message, **options):
            try:
                return send(producer, name, message, **options)
            except OperationalError as exc:
                raise broker_down(producer.connection, exc) from None

        return send_task_message


def broker_down(connection, exc):
    """The SetupError to raise when ``connection`` (kombu's) failed with ``exc``."""
    raw = connection.as_uri(include_password=True)
    timeout = (connection.transport_options or {}).get("socket_timeout")
    error = no_reply(timeout) if isinstance(exc.__cause__, redis.exceptions.TimeoutError) and timeout \
        else one_line(exc)
    return setup_error("broker_down", supervision_note(raw), url=settings.redacted(raw), error=error)
