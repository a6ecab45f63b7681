"""Exercises of lesson 01: .delay() and apply_async."""
from .. import journal, settings
from ..exclusive import exclusive
from ..journal import call_text
from ..tasks import add
from . import exercise, journal_entry, result_of


def _two_calls(answer):
    return isinstance(answer, (list, tuple)) and sorted(answer) == ["add(1, 1)", "add(2, 2)"]


@exercise("01.1", en="countdown=0.5 means 'start no earlier than half a second from now', and the worker has free "
                     "processes. Write the calls as the journal prints them: [\"add(1, 1)\", \"add(2, 2)\"] or the "
                     "other way round.",
          ru="countdown=0.5 значит «запустить не раньше чем через полсекунды», а свободные процессы у воркера есть. "
             "Запишите вызовы так, как их печатает журнал: [\"add(1, 1)\", \"add(2, 2)\"] или наоборот.",
          prediction=_two_calls)
def _(prediction):
    with exclusive():  # worker@course is this notebook's while the check times it
        results = [add.apply_async((1, 1), countdown=0.5), add.delay(2, 2)]
        for result in results:
            result_of(result)
    entries = sorted(filter(None, (journal_entry(result.id) for result in results)), key=lambda e: e["started"])
    started = [call_text(e) for e in entries]
    return len(entries) == 2 and list(prediction) == started, journal.table(entries)


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
