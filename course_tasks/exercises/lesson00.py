"""Exercises of lesson 00: the broker, the worker and the result backend."""
from .. import journal
from ..tasks import mul
from . import exercise, journal_entry, result_of


@exercise("00.1", en="a message that names no queue goes to the default queue (the cell 'What the app knows' prints "
                     "its name); which worker listens to that queue ('Who is listening')? The prediction is the "
                     "worker's name, a string.",
          ru="сообщение без указанной очереди попадает в очередь по умолчанию (её имя печатает ячейка в разделе "
             "«Что знает приложение»); какой воркер слушает эту очередь (раздел «Кто слушает»)? Прогноз — имя "
             "воркера, строка.",
          prediction=lambda answer: isinstance(answer, str))
def _(prediction):
    result = mul.delay(6, 7)
    result_of(result)
    entry = journal_entry(result.id)
    return bool(entry) and prediction == entry["node"], journal.table([entry] if entry else [])


@exercise("00.2", en="the worker knows only the tasks of course_tasks (the sorted list in the lesson); one of them "
                     "multiplies two numbers. The answer is the AsyncResult itself, not its value.",
          ru="воркер знает только задачи из course_tasks (их список есть в уроке); одна из них перемножает два "
             "числа. Ответ — сам AsyncResult, а не его значение.")
def _(answer):
    if result_of(answer) != 42:
        return False
    return bool(journal_entry(answer.id))  # an entry: a worker ran it
