"""A Celery service that answers no ping (celery beat, say) tells that it runs by a key in the course's Redis.

``python -m course_tasks KIND NAME`` (the one command that ``up``, a kernel's autostart, the test harness and
docker-compose.yml run) keeps ``course:alive:NAME`` alive while a role of another kind than worker runs:
:func:`keep_alive`, from a thread of that process. ``check_setup(roles=[NAME])`` asks :func:`alive`.
"""
import threading

from redis.exceptions import RedisError

KEY_PREFIX = "course:alive:"
EVERY = 1.0  # seconds between two renewals
TTL = 3  # seconds a key lives unless renewed: a service that died is gone within this


def keep_alive(client, name):
    """Keep ``course:alive:<name>`` in the Redis ``client`` while this process runs (a daemon thread); returns the
    event that stops it."""
    def renew():
        while not stop.is_set():
            try:
                client.set(KEY_PREFIX + name, "1", ex=TTL)
            except (RedisError, OSError):
                pass  # the Redis is away for now: the key expires, and comes back with it
            stop.wait(EVERY)

    stop = threading.Event()
    threading.Thread(target=renew, name=f"course-alive-{name}", daemon=True).start()
    return stop


def alive(client, name) -> bool:
    return bool(client.exists(KEY_PREFIX + name))
