"""A killed worker's unacknowledged messages go back to their queue when the supervisor restarts it.

On Redis, kombu emulates acknowledgements: a message a worker has taken waits in the ``unacked`` hash until
its ack, and comes back only after ``visibility_timeout`` (an hour by kombu's default). A worker killed
mid-task (SIGKILL, the out-of-memory killer) leaves its message there, so a learner's ``.get()`` would time
out and the task run an hour later. RabbitMQ requeues a consumer's unacknowledged messages when its
connection closes; the supervisor does the same for the course's workers: before it starts a worker again,
it gives back the unacknowledged messages of that worker's queues (no other worker consumes them).

Only workers whose app keeps kombu's default keys are served. ``delivery@course`` has keys of its own and is
left to kombu: lesson 12 shows what ``visibility_timeout`` does.
"""
import json

from kombu.utils.encoding import bytes_to_str

from .. import settings
from .plumbing import control_app

DEFAULT_KEYS_APPS = ("course_tasks", "course_tasks.play")  # their messages wait in kombu's default `unacked` hash


def restorable(role) -> bool:
    """Whether the supervisor gives back the messages of ``role``'s worker (a settings.Role)."""
    return role.app in DEFAULT_KEYS_APPS


def _entries(channel, queues):
    """``[tag, ...]`` of the unacknowledged messages of ``queues`` in kombu's ``unacked`` hash."""
    found = []
    for tag, payload in channel.client.hgetall(channel.qos.unacked_key).items():
        try:
            _message, exchange, routing_key = json.loads(bytes_to_str(payload))
        except ValueError:
            continue
        if set(channel._lookup(exchange, routing_key)) & set(queues):
            found.append(bytes_to_str(tag))
    return found


def waiting(broker: str, queues) -> int:
    """How many unacknowledged messages of ``queues`` wait in kombu's ``unacked`` hash on ``broker``."""
    if not broker.startswith("redis"):
        return 0
    app = control_app(broker)
    try:
        with app.connection_for_write() as conn:
            return len(_entries(conn.default_channel, queues))
    finally:
        app.close()


def forget(broker: str, queues) -> int:
    """Drop the unacknowledged messages of ``queues`` on ``broker`` (a lesson worker's queue before it starts afresh:
    machinery/lesson_procs.py); how many. Call it only while no worker consumes ``queues``."""
    if not broker.startswith("redis"):
        return 0
    app = control_app(broker)
    try:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            tags = _entries(channel, queues)
            if tags:
                channel.client.pipeline().hdel(channel.qos.unacked_key, *tags).zrem(
                    channel.qos.unacked_index_key, *tags).execute()
            return len(tags)
    finally:
        app.close()


def restore(broker: str, queues) -> int:
    """Put the unacknowledged messages of ``queues`` on ``broker`` back at the head of their queues, flagged
    ``redelivered`` as kombu does; the number of messages given back. Call it only while no worker consumes
    ``queues``."""
    if not broker.startswith("redis"):
        return 0
    app = control_app(broker)
    try:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            tags = _entries(channel, queues)
            for tag in tags:
                channel.qos.restore_by_tag(tag, channel.client)
            return len(tags)
    finally:
        app.close()


def queues_of(node: str):
    """The queues of the course's worker ``node`` whose messages :func:`restore` gives back; empty if none."""
    for role in settings.worker_roles().values():
        if role.node == node and restorable(role):
            return role.queues
    return ()
