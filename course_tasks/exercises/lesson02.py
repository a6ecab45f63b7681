"""Exercises of lesson 02: arguments and results."""
from kombu.exceptions import EncodeError

from ..tasks import add, t1, xsum
from . import exercise, journal_entry, result_of


def _where_it_goes_wrong(task, *args, **kwargs):
    """Where a call goes wrong: "notebook" (sending raises), "worker" (the task fails there) or "ok"."""
    try:
        result = task.delay(*args, **kwargs)
    except (TypeError, EncodeError):  # the arguments' number or names; what JSON cannot hold
        return "notebook"
    result.get(timeout=10, propagate=False)
    entry = journal_entry(result.id)  # what the worker did
    return "ok" if entry and entry["state"] == "SUCCESS" else "worker"


@exercise("02.1", en="before sending, Celery checks only how many arguments there are and their names; JSON refuses "
                     "a set but turns a tuple into a list; nobody looks at the types before the task runs on the "
                     "worker (and \"1\" + \"2\" is fine in Python); every keyword of .delay() goes to the task.",
          ru="до отправки Celery проверяет только число аргументов и их имена; JSON не принимает множество, а "
             "кортеж превращает в список; на типы никто не смотрит, пока задача не выполнится на воркере "
             "(а \"1\" + \"2\" в Python работает); все именованные аргументы .delay() достаются задаче.",
          prediction=lambda answer: isinstance(answer, (list, tuple)) and len(answer) == 6
          and all(place in ("notebook", "worker", "ok") for place in answer))
def _(prediction):
    actual = [
        _where_it_goes_wrong(add, 1, 2, 3),
        _where_it_goes_wrong(add, "1", "2"),
        _where_it_goes_wrong(add, 1, "2"),
        _where_it_goes_wrong(xsum, {1, 2}),
        _where_it_goes_wrong(xsum, (1, 2)),
        _where_it_goes_wrong(t1, 1, 2, priority=3),
    ]
    return list(prediction) == actual, repr(actual)


@exercise("02.2", en="every keyword of .delay() becomes an argument of the task, but the priority (3) is an option of "
                     "the message: which way of sending takes options next to the task's arguments?",
          ru="любой именованный аргумент .delay() становится аргументом задачи, а приоритет (3) — параметр "
             "отправки сообщения: какой вызов принимает такие параметры рядом с аргументами задачи?")
def _(answer):
    if result_of(answer) != 8:
        return False
    entry = journal_entry(answer.id)
    return bool(entry) and entry["task"] == "t1" and entry["priority"] == 3 and not entry["kwargs"]


@exercise("02.3", en="JSON has no sets: turn the set into a type JSON has before it leaves the notebook.",
          ru="в JSON нет множеств: ещё до отправки превратите множество в тип, который в JSON есть.")
def _(answer):
    if result_of(answer) != 6:
        return False
    entry = journal_entry(answer.id)
    if not entry or entry["task"] != "xsum":
        return False
    numbers = entry["args"][0] if entry["args"] else entry["kwargs"].get("numbers")
    return sorted(numbers) == [1, 2, 3]
