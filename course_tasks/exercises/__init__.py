"""Checkers for the exercises at the end of every lesson: ``check("01.2", answer)`` says, in the
notebook's language, whether the answer is right, and what to look at when it is not.

Each checker takes the learner's answer and returns True or False; its hint, in both languages, is a message
like any other of the course (``exercise.NN.M``, registered by :func:`exercise`). The checkers of lesson NN live
in ``lessonNN.py``, imported when one of them is first asked for: a lesson's Setup imports only this module, so
the notebook's app knows only the tasks the lesson imports (lesson 00 lists them).
"""
import importlib
import pkgutil
import re

from celery.result import AsyncResult

from .. import journal, settings
from ..i18n import language, register, say
from ..priorities import paused

EXERCISES = {}  # "01.2" -> its checker; filled by the lesson modules of this package
EXERCISE_ID = re.compile(r"(\d\d)\.\d+")

register({
    "unknown_exercise": {
        "en": "There is no exercise {id!r}. The exercises are: {ids}.",
        "ru": "Упражнения {id!r} нет. Есть такие: {ids}.",
    },
    "exercise.todo": {"en": "Exercise {id}: replace ... with your answer, then run the cell again.",
                      "ru": "Упражнение {id}: замените ... своим ответом и выполните ячейку снова."},
    "exercise.right": {"en": "Exercise {id}: right!", "ru": "Упражнение {id}: верно!"},
    "exercise.wrong": {"en": "Exercise {id}: not yet. Hint: {hint}",
                       "ru": "Упражнение {id}: пока неверно. Подсказка: {hint}"},
    "exercise.error": {"en": "Exercise {id}: checking the answer failed with {error}. Hint: {hint}",
                       "ru": "Упражнение {id}: при проверке ответа возникла ошибка {error}. Подсказка: {hint}"},
})


def exercise(exercise_id, en, ru):
    """Register the decorated function as the checker of ``exercise_id``, with a hint in each language."""
    register({f"exercise.{exercise_id}": {"en": en, "ru": ru}})

    def checker(function):
        EXERCISES[exercise_id] = function
        return function
    return checker


def all_exercises():
    """Every exercise of the course (every lesson's module imported): ``{id: checker}``."""
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__name__}.{module.name}")
    return EXERCISES


def _checker(exercise_id):
    """The checker of ``exercise_id`` (its lesson's module imported now), or None if there is no such exercise."""
    if not isinstance(exercise_id, str):
        return None
    match = EXERCISE_ID.fullmatch(exercise_id)
    if match and exercise_id not in EXERCISES:
        try:
            importlib.import_module(f"{__name__}.lesson{match.group(1)}")
        except ModuleNotFoundError:
            return None
    return EXERCISES.get(exercise_id)


def verdict(exercise_id, answer, lang=None):
    """``(is_right, message)`` for ``answer`` to exercise ``exercise_id``."""
    lang = lang or language()
    checker = _checker(exercise_id)
    if checker is None:  # not an id of this course: say which ones are
        return False, say("unknown_exercise", lang, id=exercise_id, ids=", ".join(map(repr, sorted(all_exercises()))))
    values = {"id": exercise_id, "hint": say(f"exercise.{exercise_id}", lang)}
    if answer is Ellipsis or (isinstance(answer, tuple) and answer and answer[0] is Ellipsis):
        # a predict-then-run answer is (prediction, what was sent): the prediction is still ...
        return False, say("exercise.todo", lang, **values)
    try:
        right = bool(checker(answer))
    except Exception as exc:  # noqa: BLE001 (a learner's answer may fail in any way; the verdict says how)
        # the template ends the error with a period: not a second one ("timed out.."); notes (why) included
        parts = [f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", ())]
        error = ". ".join(part.strip().rstrip(".") for part in parts if part.strip())
        return False, say("exercise.error", lang, error=error, **values)
    return right, say("exercise.right" if right else "exercise.wrong", lang, **values)


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


def prediction_and(answer, kind=object):
    """``(prediction, what was sent)`` from a predict-then-run answer; None while it is not one yet (not a pair, a
    part still ``...``, or what was sent not a ``kind``)."""
    if not isinstance(answer, tuple) or len(answer) != 2 or any(part is Ellipsis for part in answer) \
            or not isinstance(answer[1], kind):
        return None
    return answer


def started_order(entries):
    """The task names of ``entries`` in the order they started."""
    return [e["task"] for e in sorted(entries, key=lambda e: e["started"])]


def is_task_names(answer, count):
    """True if ``answer`` is a list (or tuple) of ``count`` task names: a predicted order."""
    return isinstance(answer, (list, tuple)) and len(answer) == count and all(isinstance(n, str) for n in answer)


def run_while_paused(app, role, send):
    """Predict-then-run checkers (07.1, 08.1): call ``send()`` (it returns AsyncResults) while the worker of
    ``role`` is paused, print the journal of what it then ran, and return the task names in that order."""
    worker = settings.worker_roles()[role]
    with paused(app, worker.queues[0], worker.node):
        results = send()
    entries = entries_on(results, role)
    if entries is None:
        raise RuntimeError(f"{worker.node} did not run every task of the check")
    print(journal.table(sorted(entries, key=lambda e: e["started"]), priority=True))
    return started_order(entries)
