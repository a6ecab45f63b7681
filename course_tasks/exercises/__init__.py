"""Checkers for the exercises at the end of every lesson: ``check("01.2", answer)`` says, in the
notebook's language, whether the answer is right, and what to look at when it is not.

Each checker takes the learner's answer and returns True or False; the hints live next to it.
"""
from celery.result import AsyncResult

from .. import settings
from ..i18n import language

EXERCISES = {}  # "01.2" -> (checker, hints); filled by the lesson modules of this package

VERDICTS = {
    "todo": {"en": "Exercise {id}: replace ... with your answer, then run the cell again.",
             "ru": "Упражнение {id}: замените ... своим ответом и выполните ячейку снова."},
    "right": {"en": "Exercise {id}: right!", "ru": "Упражнение {id}: верно!"},
    "wrong": {"en": "Exercise {id}: not yet. Hint: {hint}", "ru": "Упражнение {id}: пока неверно. Подсказка: {hint}"},
    "error": {"en": "Exercise {id}: checking the answer failed with {error}. Hint: {hint}",
              "ru": "Упражнение {id}: при проверке ответа возникла ошибка {error}. Подсказка: {hint}"},
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



def result_of(answer, timeout=10):
    """The value of an AsyncResult the learner built (checkers use it); raises if it is not one."""
    if not isinstance(answer, AsyncResult):
        raise TypeError(f"expected an AsyncResult, got {type(answer).__name__}")
    return answer.get(timeout=timeout)


def journal_entry(task_id):
    """What the journal recorded for the task ``task_id`` (None if it did not run)."""
    from .. import journal

    return next((e for e in journal.entries() if e["id"] == task_id), None)


def entries_on(results, role):
    """The journal entries of ``results`` (waiting for each first), in the same order, or None unless the
    worker of ``role`` ("priority", "rabbitmq") ran every one of them (lessons 07 and 08)."""
    for result in results:
        result_of(result)
    entries = [journal_entry(result.id) for result in results]
    node = settings.worker_roles()[role].node
    if not all(entry and entry["node"] == node for entry in entries):
        return None
    return entries


def started_order(entries):
    """The task names of ``entries`` in the order they started."""
    return [e["task"] for e in sorted(entries, key=lambda e: e["started"])]


def _load_lessons():
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__name__}.{module.name}")


_load_lessons()
