"""Exercises of lesson 02: arguments and results."""
from . import exercise, journal_entry, result_of


@exercise("02.1", en="apply_async takes the positional arguments as a list in args=... and the keyword arguments "
                     "as a dict in kwargs=...; look at how t1 builds its text from message and the sum.",
          ru="apply_async принимает позиционные аргументы списком в args=..., а именованные — словарём в "
             "kwargs=...; посмотрите, как t1 собирает текст из message и суммы.")
def _(answer):
    if result_of(answer) != "Total: 12":
        return False
    entry = journal_entry(answer.id)
    return (bool(entry) and entry["task"] == "t1" and entry["args"] in ([7, 5], [5, 7])
            and entry["kwargs"] == {"message": "Total"})


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
