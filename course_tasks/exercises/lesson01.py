"""Exercises of lesson 01: .delay() and apply_async."""
from .. import settings
from ..journal import call_text
from . import exercise, journal_entry, result_of


@exercise("01.1", en="countdown=0.5 means 'start no earlier than half a second from now', and the worker has free "
                     "processes. Write the calls as the journal prints them: [\"add(1, 1)\", \"add(2, 2)\"] or the "
                     "other way round.",
          ru="countdown=0.5 значит «запустить не раньше чем через полсекунды», а свободные процессы у воркера есть. "
             "Запишите вызовы так, как их печатает журнал: [\"add(1, 1)\", \"add(2, 2)\"] или наоборот.")
def _(answer):
    prediction, results = answer
    for result in results:
        result_of(result)
    entries = [journal_entry(result.id) for result in results]
    if not all(entries):
        return False
    started = [call_text(e) for e in sorted(entries, key=lambda e: e["started"])]
    return list(prediction) == started


@exercise("01.2", en="the error says tp4 got an unexpected keyword argument 'queue': every keyword of .delay() goes to "
                     "the task. Which call takes options next to the task's arguments? The answer is the "
                     "AsyncResult itself, not its value.",
          ru="в сообщении об ошибке сказано, что tp4 получила неожиданный именованный аргумент 'queue': все "
             "именованные аргументы .delay() достаются задаче. Какой вызов принимает параметры отправки рядом "
             "с аргументами задачи? "
             "Ответ — сам AsyncResult, а не его значение.")
def _(answer):
    result_of(answer)
    entry = journal_entry(answer.id)
    return bool(entry) and entry["task"] == "tp4" and entry["node"] == settings.worker_roles()["priority"].node
