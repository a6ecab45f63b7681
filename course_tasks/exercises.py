"""Checkers for the exercises at the end of every lesson: ``check("01.2", answer)`` says, in the
notebook's language, whether the answer is right, and what to look at when it is not.

Each checker takes the learner's answer and returns True or False; the hints live next to it.
"""
from celery.result import AsyncResult

from . import settings
from .i18n import language

EXERCISES = {}

VERDICTS = {
    "todo": {"en": "Exercise {id}: replace ... with your answer, then run the cell again.",
             "ru": "Упражнение {id}: замените ... своим ответом и выполните ячейку снова."},
    "right": {"en": "Exercise {id}: right!", "ru": "Упражнение {id}: верно!"},
    "wrong": {"en": "Exercise {id}: not yet. Hint: {hint}", "ru": "Упражнение {id}: пока нет. Подсказка: {hint}"},
    "error": {"en": "Exercise {id}: checking the answer failed with {error}. Hint: {hint}",
              "ru": "Упражнение {id}: проверка ответа упала с ошибкой {error}. Подсказка: {hint}"},
}


def exercise(exercise_id, en, ru):
    """Register the decorated function as the checker of ``exercise_id``, with a hint in each language."""
    def register(checker):
        EXERCISES[exercise_id] = (checker, {"en": en, "ru": ru})
        return checker
    return register


def verdict(exercise_id, answer, lang=None):
    """``(is_right, message)`` for ``answer`` to exercise ``exercise_id``."""
    lang = lang or language()
    checker, hints = EXERCISES[exercise_id]
    values = {"id": exercise_id, "hint": hints[lang]}
    if answer is Ellipsis:
        return False, VERDICTS["todo"][lang].format(**values)
    try:
        right = bool(checker(answer))
    except Exception as exc:
        return False, VERDICTS["error"][lang].format(error=f"{type(exc).__name__}: {exc}", **values)
    return right, VERDICTS["right" if right else "wrong"][lang].format(**values)


def check(exercise_id, answer):
    """Print whether ``answer`` to exercise ``exercise_id`` is right (in the notebook's language)."""
    print(verdict(exercise_id, answer)[1])


def _result_of(answer, timeout=10):
    if not isinstance(answer, AsyncResult):
        raise TypeError(f"expected an AsyncResult, got {type(answer).__name__}")
    return answer.get(timeout=timeout)


def _journal_entry(task_id):
    from . import journal

    return next((e for e in journal.entries() if e["id"] == task_id), None)


# -- 00 The broker, the worker, the result backend ---------------------------------------------------
@exercise("00.1", en="ping the workers with app.control.ping(timeout=1.0) and copy the name that ends in @course "
                     "and has four processes (check_setup() shows it).",
          ru="опросите воркеры через app.control.ping(timeout=1.0) и скопируйте имя, которое кончается на "
             "@course и у которого четыре процесса (его показывает check_setup()).")
def _(answer):
    return answer == settings.worker_roles()["main"].node


@exercise("00.2", en="mul.delay(6, 7) sends the task; .get(timeout=10) on what it returns waits for the result.",
          ru="mul.delay(6, 7) отправляет задачу; .get(timeout=10) у того, что она вернула, ждёт результата.")
def _(answer):
    return answer == 42


# -- 01 .delay() and apply_async ---------------------------------------------------------------------
@exercise("01.1", en="call tp3.delay() five times (a list comprehension), then .get(timeout=10) on each result.",
          ru="вызовите tp3.delay() пять раз (списковое включение), затем .get(timeout=10) у каждого результата.")
def _(answer):
    return list(answer) == ["tp3"] * 5


@exercise("01.2", en="add.apply_async((20, 22), queue='course.priority') sends it to the queue prio@course listens to; "
                     "answer is the AsyncResult itself, not its result.",
          ru="add.apply_async((20, 22), queue='course.priority') отправит задачу в очередь, которую слушает "
             "prio@course; ответ — сам AsyncResult, а не его результат.")
def _(answer):
    entry = _result_of(answer) == 42 and _journal_entry(answer.id)
    return bool(entry) and entry["node"] == settings.worker_roles()["priority"].node
