"""What the course raises when something a lesson needs is missing, and the messages every part of it shares.

A failure names the URL and the fix, in the learner's language, within seconds: :class:`SetupError` and
:func:`setup_error`. ``one_line`` keeps an error's first line, for a message that says what went wrong.
"""
from .i18n import register, say

register({
    "broker_down": {
        "en": "No broker answers at {url} ({error}).\n{fix}",
        "ru": "Брокер по адресу {url} не отвечает ({error}).\n{fix}",
    },
    "backend_down": {
        "en": "No result backend answers at {url} ({error}).\n{fix}",
        "ru": "Хранилище результатов по адресу {url} не отвечает ({error}).\n{fix}",
    },
    "fix_broker_down": {
        "en": "Start the course with:  python3 course.py up\nor point CELERY_BROKER_URL at a running broker.",
        "ru": "Запустите курс командой:  python3 course.py up\nили укажите работающий брокер в CELERY_BROKER_URL.",
    },
    "fix_backend_down": {
        "en": "Start the course with:  python3 course.py up\nor point CELERY_RESULT_BACKEND at a running Redis.",
        "ru": "Запустите курс командой:  python3 course.py up\nили укажите работающий Redis в CELERY_RESULT_BACKEND.",
    },
    "fix_silent_port": {
        "en": "What holds that port is not a working Redis: stop it, or run the course on another port:\n"
              "  CELERY_BROKER_URL=redis://127.0.0.1:6380/0 python3 course.py up",
        "ru": "Этот порт занят чем-то, что не работает как Redis: остановите это или запустите курс на другом "
              "порту:\n  CELERY_BROKER_URL=redis://127.0.0.1:6380/0 python3 course.py up",
    },
    "no_reply": {
        "en": "it accepts connections but gives no Redis answer within {timeout:g} s: a stuck Redis, or not a Redis",
        "ru": "соединение принимается, но ответа Redis нет за {timeout:g} с: Redis завис или это вообще не Redis",
    },
})


class SetupError(RuntimeError):
    """Something a lesson needs is missing; the message says what and how to fix it."""


class NoReply(str):
    """Why a Redis check failed, when the port accepted the connection and nothing answered."""


def no_reply(timeout):
    return NoReply(say("no_reply", timeout=timeout))


def one_line(exc):
    """The first line of what ``exc`` says (at most 160 characters), or its class name if it says nothing."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def setup_error(message, note=None, cls=SetupError, **values):
    """A ``cls`` (SetupError) saying ``message`` with ``values``, and ``note`` (what the course's supervisor saw,
    machinery.run_state.supervision_note) on a line of its own when there is one.

    A message with a ``{fix}`` gets the fix that fits: another port when the port is held by something that
    does not answer (``error`` is a :class:`NoReply`), else starting the course."""
    if message in ("broker_down", "backend_down"):
        values["fix"] = say("fix_silent_port" if isinstance(values.get("error"), NoReply) else f"fix_{message}")
    return cls(say(message, **values) + (f"\n{note}" if note else ""))
