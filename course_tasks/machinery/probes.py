"""Does it answer? A Redis, a RabbitMQ, a port: each asked one way, within a bound (a silent port never hangs)."""
import socket
import urllib.request
from urllib.parse import urlsplit

import redis
from kombu import Connection
from kombu.exceptions import OperationalError

from .. import settings
from ..errors import no_reply, one_line

LOOPBACK = "127.0.0.1"
LOCAL_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # to 127.0.0.1 whatever http_proxy says
PING_SECONDS = 1.0  # a raw PING to a Redis: a silent port (accepts, never answers) is told in this time


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def redis_client(url: str, timeout: float | None = None) -> redis.Redis:
    """A redis-py client for a broker URL of the course: ``redis://``, ``rediss://`` or kombu's and Celery's
    ``redis+socket:///path`` (redis-py itself calls that one ``unix://``; a database goes in ``?virtual_host=N``)."""
    path = settings.socket_path(url)
    if path is not None:
        query = dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&") if "=" in pair)
        return redis.Redis(unix_socket_path=path, db=int(query.get("virtual_host", 0) or 0),
                           socket_connect_timeout=timeout, socket_timeout=timeout)
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def redis_error(url: str, timeout: float = PING_SECONDS):
    """None if the Redis at ``url`` answers PING within ``timeout`` seconds, else why not, in one line
    (a :class:`~course_tasks.errors.NoReply` when the port accepts and nothing answers)."""
    try:
        redis_client(url, timeout).ping()
    except redis.exceptions.TimeoutError:
        return no_reply(timeout)
    except (redis.exceptions.RedisError, OSError, ValueError) as exc:
        return one_line(exc)
    return None


def redis_answers(url: str, timeout: float = PING_SECONDS) -> bool:
    return redis_error(url, timeout) is None


def broker_answers(url, timeout: float = 0.3) -> bool:
    """Whether the broker of a supervised service answers, as far as the supervisor asks: a Redis is pinged; no URL,
    or a broker of another kind, counts as answering (its worker says itself when it lost it)."""
    return not url or not url.startswith("redis") or redis_answers(url, timeout)


def amqp_answers(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    if not port_in_use(parts.hostname or LOOPBACK, parts.port or 5672):
        return False  # nothing listens: say so at once, without kombu's retry interval
    try:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except (OperationalError, OSError):
        return False
    return True
