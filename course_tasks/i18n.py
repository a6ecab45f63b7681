"""The course speaks English and Russian: which one now, and the messages in both."""
import os
from pathlib import Path

LANGUAGES = ("en", "ru")


def language() -> str:
    """``COURSE_LANG`` if set; else the folder of the running notebook (notebooks/en, notebooks/ru); else the locale."""
    chosen = os.environ.get("COURSE_LANG", "").lower()
    if chosen in LANGUAGES:
        return chosen
    folder = Path.cwd().name
    if folder in LANGUAGES:
        return folder
    return "ru" if os.environ.get("LANG", "").lower().startswith("ru") else "en"


MESSAGES = {
    "broker_ok": {
        "en": "broker: {kind} answers",
        "ru": "брокер: {kind} отвечает",
    },
    "broker_down": {
        "en": "No broker answers at {url} ({error}).\nStart the course with:  python3 course.py up\n"
              "or point CELERY_BROKER_URL at a running broker.",
        "ru": "Брокер по адресу {url} не отвечает ({error}).\nЗапустите курс командой:  python3 course.py up\n"
              "или укажите работающий брокер в CELERY_BROKER_URL.",
    },
    "backend_ok": {
        "en": "result backend: {kind} answers",
        "ru": "хранилище результатов: {kind} отвечает",
    },
    "backend_down": {
        "en": "No result backend answers at {url} ({error}).\nStart the course with:  python3 course.py up\n"
              "or point CELERY_RESULT_BACKEND at a running Redis.",
        "ru": "Хранилище результатов по адресу {url} не отвечает ({error}).\n"
              "Запустите курс командой:  python3 course.py up\n"
              "или укажите работающий Redis в CELERY_RESULT_BACKEND.",
    },
    "worker_ok": {
        "en": "worker: {node} answers ({slots} process{plural}, queues: {queues})",
        "ru": "воркер: {node} отвечает (процессов: {slots}, очереди: {queues})",
    },
    "worker_down": {
        "en": "No worker {nodes} answered within {timeout:g} s on {url}.\n"
              "Start one with:  python3 course.py worker {role}\n(or everything at once:  python3 course.py up)",
        "ru": "Воркер {nodes} не ответил за {timeout:g} с через брокер {url}.\n"
              "Запустите его:  python3 course.py worker {role}\n(или всё сразу:  python3 course.py up)",
    },
    "all_ok": {
        "en": "Ready.",
        "ru": "Всё готово.",
    },
}


def say(message: str, lang: str = None, **values) -> str:
    """The message ``message`` in ``lang`` (default: :func:`language`), with ``values`` filled in."""
    return MESSAGES[message][lang or language()].format(**values)
