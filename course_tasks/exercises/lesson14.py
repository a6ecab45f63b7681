"""Exercises of lesson 14: chord and callbacks."""

from celery import chord

from .. import journal, settings
from ..canvas_tasks import collect
from ..tasks import nap
from ..waiting import wait_until
from . import exercise, journal_entry, result_of


@exercise("14.1", en="a chord: its header is a group of square.s(i) for i from 1 to 20 (range(1, 21)), its body "
                     "xsum.s(); chord(header)(body) sends it and returns the body's AsyncResult.",
          ru="нужен chord: заголовок — группа из square.s(i) для i от 1 до 20 (range(1, 21)), тело — xsum.s(); "
             "chord(header)(body) отправляет его и возвращает AsyncResult тела.")
def _(answer):
    if result_of(answer, timeout=20) != sum(i * i for i in range(1, 21)):
        return False
    body = journal_entry(answer.id)
    squared = {e["args"][0] for e in journal.entries() if e["task"] == "square" and e["args"]}
    return bool(body) and body["task"] == "xsum" and body["node"] == settings.worker_roles()["main"].node \
        and set(range(1, 21)) <= squared


@exercise("14.2", en="a callback gets the task's result as its first argument; .si() makes a signature that "
                     "takes nothing more (lesson 06), so mul gets only the 10.",
          ru="обратный вызов получает результат задачи первым аргументом; .si() делает сигнатуру, которая "
             "ничего больше не принимает (урок 06), поэтому mul получает только 10.")
def _(answer):
    if result_of(answer) != 7:
        return False
    return wait_until(lambda: any(e["task"] == "mul" and e["args"] == [7, 10] and e["state"] == "SUCCESS"
                                  for e in journal.entries()), 10)


@exercise("14.3", en="a chord's body gets the header's results in the order of the header, whichever task "
                     "finishes first.",
          ru="тело chord получает результаты заголовка в порядке заголовка, какая бы задача ни завершилась первой.")
def _(answer):
    result = chord([nap.s(0.6), nap.s(0.2), nap.s(0.4)])(collect.s())
    value = result_of(result)
    body = journal_entry(result.id)
    return list(answer) == value and bool(body) and body["args"] == [value]
