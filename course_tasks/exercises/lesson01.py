"""Exercises of lesson 01: .delay() and apply_async."""
from .. import settings
from . import exercise, journal_entry, result_of


@exercise("01.1", en="call tp3.delay() five times (a list comprehension), then .get(timeout=10) on each result.",
          ru="вызовите tp3.delay() пять раз (подойдёт списковое включение), затем .get(timeout=10) у каждого "
             "результата.")
def _(answer):
    return list(answer) == ["tp3"] * 5



@exercise("01.2", en="apply_async takes queue=...; lesson 00 says which queue prio@course listens to. "
                     "The answer is the AsyncResult itself, not its value.",
          ru="apply_async принимает queue=...; какую очередь слушает prio@course, сказано в уроке 00. "
             "Ответ — сам AsyncResult, а не его значение.")
def _(answer):
    result_of(answer)
    entry = journal_entry(answer.id)
    return bool(entry) and entry["task"] == "tp4" and entry["node"] == settings.worker_roles()["priority"].node
