"""Checkers for the exercises at the end of every lesson: ``check("01.2", answer)`` says, in the
notebook's language, whether the answer is right, and what to look at when it is not.

Each checker takes the learner's answer and returns True or False; the hints live next to it.
"""
from celery.result import AsyncResult

from .. import settings
from ..i18n import language, say

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
    try:
        checker, hints = EXERCISES[exercise_id]
    except (KeyError, TypeError):  # not an id of this course (or not even hashable): say which ones are
        return False, say("unknown_exercise", lang, id=exercise_id, ids=", ".join(map(repr, sorted(EXERCISES))))
    values = {"id": exercise_id, "hint": hints[lang]}
    if answer is Ellipsis or (isinstance(answer, tuple) and answer and answer[0] is Ellipsis):
        # a predict-then-run answer is (prediction, what was sent): the prediction is still ...
        return False, VERDICTS["todo"][lang].format(**values)
    try:
        right = bool(checker(answer))
    except Exception as exc:
        # the template ends the error with a period: not a second one ("timed out.."); notes (why) included
        parts = [f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", ())]
        error = ". ".join(part.strip().rstrip(".") for part in parts if part.strip())
        return False, VERDICTS["error"][lang].format(error=error, **values)
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


def is_task_names(answer, count):
    """True if ``answer`` is a list (or tuple) of ``count`` task names: a predicted order."""
    return isinstance(answer, (list, tuple)) and len(answer) == count and all(isinstance(n, str) for n in answer)


def run_while_paused(app, role, send):
    """Predict-then-run checkers (07.1, 08.1): call ``send()`` (it returns AsyncResults) while the worker of
    ``role`` is paused, print the journal of what it then ran, and return the task names in that order."""
    from ..journal import table
    from ..priorities import paused

    worker = settings.worker_roles()[role]
    with paused(app, worker.queues[0], worker.node):
        results = send()
    entries = entries_on(results, role)
    if entries is None:
        raise RuntimeError(f"{worker.node} did not run every task of the check")
    print(table(sorted(entries, key=lambda e: e["started"]), priority=True))
    return started_order(entries)


def _load_lessons():
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__name__}.{module.name}")


_load_lessons()
