"""A malformed or unusable URL in the environment: one clear line (the URL and the fix) before any command starts."""
import os
from urllib.parse import urlsplit

from .. import settings
from ..i18n import register, say

BROKER_SCHEMES = ("redis", "rediss", settings.SOCKET_SCHEME, "amqp", "amqps", "pyamqp")
REDIS_SCHEMES = ("redis", "rediss", settings.SOCKET_SCHEME)  # redis+socket:///path: a Redis on a Unix socket
RABBITMQ_SCHEMES = ("amqp", "amqps", "pyamqp")

register({
    "bad_url": {
        "en": "{var}={url} cannot be used: {why}. Fix it, or unset it (the course then uses {default}).",
        "ru": "{var}={url} не подходит: {why}. Исправьте адрес или удалите переменную (тогда курс возьмёт {default}).",
    },
    "why_port": {
        "en": "its port '{port}' is not a number from 1 to 65535",
        "ru": "порт «{port}» — не число от 1 до 65535",
    },
    "why_scheme": {
        "en": "'{scheme}://' is not a broker the course knows ({schemes})",
        "ru": "«{scheme}://» — незнакомый курсу брокер (подходят: {schemes})",
    },
    "why_no_host": {"en": "it names no host", "ru": "в нём нет адреса хоста"},
    "why_no_socket": {
        "en": "it names no socket (redis+socket:///path/to/redis.sock)",
        "ru": "в нём нет пути к сокету (redis+socket:///путь/к/redis.sock)",
    },
    "why_no_scheme": {
        "en": "it does not start with a scheme ({schemes})",
        "ru": "он не начинается со схемы ({schemes})",
    },
    "why_up_redis": {
        "en": "python3 course.py up runs the lessons on a Redis broker, and this is not a redis:// URL "
              "(a RabbitMQ goes in COURSE_RABBITMQ_URL, for lesson 08)",
        "ru": "python3 course.py up ведёт уроки на брокере Redis, а это не адрес redis:// "
              "(RabbitMQ указывается в COURSE_RABBITMQ_URL, для урока 08)",
    },
})


def url_problem(var: str, url: str, schemes, default: str, lang: str | None = None, up: bool = False):
    """Why ``url`` (the value of ``var``) cannot be used, as one sentence with the fix; None if it can."""
    parts = urlsplit(url)
    why = None
    if up and parts.scheme in BROKER_SCHEMES and parts.scheme not in REDIS_SCHEMES:
        why = say("why_up_redis", lang)
    elif not parts.scheme or "://" not in url:
        why = say("why_no_scheme", lang, schemes=", ".join(f"{s}://" for s in schemes))
    elif parts.scheme not in schemes:
        why = say("why_scheme", lang, scheme=parts.scheme, schemes=", ".join(f"{s}://" for s in schemes))
    elif parts.scheme == settings.SOCKET_SCHEME:
        if not parts.path.strip("/"):
            why = say("why_no_socket", lang)
    else:
        try:
            _ = parts.port  # raises ValueError for a port that is not a number
        except ValueError:
            why = say("why_port", lang, port=parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[-1])
        else:
            if not parts.hostname:
                why = say("why_no_host", lang)
    if why is None:
        return None
    return say("bad_url", lang, var=var, url=settings.redacted(url) if parts.password else url,
               why=why, default=default)


def startup_problem(command: str, env=None, lang: str | None = None):
    """The first unusable URL among those ``command`` reads, as one sentence; None if all are fine.

    ``test`` and ``refresh`` start a Redis of their own, so only the RabbitMQ URL matters to them.
    """
    env = os.environ if env is None else env
    broker = env.get("CELERY_BROKER_URL") or settings.DEFAULT_REDIS_URL
    checks = [("COURSE_RABBITMQ_URL", RABBITMQ_SCHEMES, settings.DEFAULT_RABBITMQ_URL)]
    if command not in ("test", "refresh"):
        checks = [
            ("CELERY_BROKER_URL", BROKER_SCHEMES, settings.DEFAULT_REDIS_URL),
            ("CELERY_RESULT_BACKEND", REDIS_SCHEMES,
             broker if broker.startswith("redis") else settings.DEFAULT_REDIS_URL),
            *checks,
        ]
    for var, schemes, default in checks:
        value = env.get(var)
        if value:
            problem = url_problem(var, value, schemes, default, lang, up=command == "up" and var == "CELERY_BROKER_URL")
            if problem:
                return problem
    return None
