"""Exercises of lesson 00: the broker, the worker and the result backend."""
from .. import settings
from . import exercise


@exercise("00.1", en="the keys of the dict stats() returns are node names; keep the one whose "
                     "s['pool']['max-concurrency'] is 4. The answer is the name, a string.",
          ru="ключи словаря, который возвращает stats(), — имена узлов; оставьте тот, у которого "
             "s['pool']['max-concurrency'] равно 4. Ответ — само имя, строка.")
def _(answer):
    return answer == settings.worker_roles()["main"].node


@exercise("00.2", en="mul.delay(6, 7) sends the task; .get(timeout=10) on what it returns waits for the result.",
          ru="mul.delay(6, 7) отправляет задачу, а .get(timeout=10) у возвращённого ею объекта дожидается "
             "результата.")
def _(answer):
    return answer == 42
