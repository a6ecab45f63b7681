"""Checkers for the exercises at the end of every lesson: ``check("01.2", answer)`` says, in the
notebook's language, whether the answer is right, and what to look at when it is not.

Each checker takes the learner's answer and returns True or False, or ``(right, note)`` with a note printed after
the verdict; its hint, in both languages, is a message like any other of the course (``exercise.NN.M``, registered
by :func:`exercise`). The checkers of lesson NN live in ``lessonNN.py``, imported when one of them is first asked
for: a lesson's Setup imports only this module, so the notebook's app knows only the tasks the lesson imports
(lesson 00 lists them).

Predict exercises (``@exercise(..., prediction=shape)``): the answer is a prediction, and the experiment is the
checker's. ``check()`` records the prediction with its time, and only then does the checker run the experiment the
exercise shows; the verdict comes first, what happened after it. So a prediction is always made before its
experiment runs, and the checker tells a prediction made after this notebook has already seen the experiment of
the same exercise (:data:`PREDICTED`, :data:`SHOWN`).
"""
import contextlib
import importlib
import os
import pkgutil
import re
import time

from celery.result import AsyncResult

from .. import journal, settings
from ..i18n import language, register, say
from ..priorities import paused

EXERCISES = {}  # "01.2" -> its checker; filled by the lesson modules of this package
PREDICT = {}  # "12.1" -> the test of a prediction's shape, for the predict exercises
PREDICTED = {}  # "12.1" -> [(time, prediction), ...]: this kernel's predictions, in the order they were checked
SHOWN = {}  # "12.1" -> when the experiment of that exercise first showed what happens, in this kernel
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
    "exercise.not_a_prediction": {
        "en": "Exercise {id}: this is not a prediction in the form the exercise asks for, so the experiment did not "
              "run. Hint: {hint}",
        "ru": "Упражнение {id}: прогноз записан не в том виде, о котором просит упражнение, поэтому эксперимент не "
              "запускался. Подсказка: {hint}"},
    "exercise.right_after": {
        "en": "Exercise {id}: this matches what happens, but it is no longer a prediction: this notebook had already "
              "seen the experiment when you wrote it. Your prediction before the experiment was {first!r}.",
        "ru": "Упражнение {id}: это совпадает с тем, что происходит, но прогнозом это уже не назовёшь: ноутбук уже "
              "видел этот эксперимент. До эксперимента вы предсказали {first!r}."},
    "exercise.wrong_after": {
        "en": "Exercise {id}: not yet, and this prediction comes after this notebook had already seen the experiment "
              "(your first prediction was {first!r}). Hint: {hint}",
        "ru": "Упражнение {id}: пока неверно, и этот прогноз сделан уже после того, как ноутбук видел эксперимент "
              "(в первый раз вы предсказали {first!r}). Подсказка: {hint}"},
    "exercise.seen": {"en": "What happened:", "ru": "Что произошло:"},
    "exercise.expected": {"en": "expected {kind}, got {got}", "ru": "ожидался {kind}, а получен {got}"},
    "exercise.not_all_ran": {"en": "{node} did not run every task of the check",
                             "ru": "{node} выполнил не все задачи проверки"},
})


def exercise(exercise_id, en, ru, prediction=None):
    """Register the decorated function as the checker of ``exercise_id``, with a hint in each language.

    ``prediction``: for a predict exercise, a function that says whether an answer has the form of the exercise's
    prediction (a pair like ``("SUCCESS", 1)``, a list of names ...). Its checker takes the prediction, runs the
    experiment and returns ``(right, what happened)``."""
    register({f"exercise.{exercise_id}": {"en": en, "ru": ru}})

    def checker(function):
        EXERCISES[exercise_id] = function
        if prediction is not None:
            PREDICT[exercise_id] = prediction
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
    if _unanswered(answer):
        return False, say("exercise.todo", lang, **values)
    shape = PREDICT.get(exercise_id)
    if shape is not None and not _is_shaped(shape, answer):
        return False, say("exercise.not_a_prediction", lang, **values)
    if shape is not None:
        PREDICTED.setdefault(exercise_id, []).append((time.time(), answer))
    seen_before = exercise_id in SHOWN
    try:
        with _speaking(lang):
            outcome = checker(answer)
    except Exception as exc:  # noqa: BLE001 (a learner's answer may fail in any way; the verdict says how)
        # the template ends the error with a period: not a second one ("timed out.."); notes (why) included
        parts = [f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", ())]
        error = ". ".join(part.strip().rstrip(".") for part in parts if part.strip())
        return False, say("exercise.error", lang, error=error, **values)
    right, note = outcome if isinstance(outcome, tuple) else (outcome, None)
    right = bool(right)
    if shape is None:
        message = say("exercise.right" if right else "exercise.wrong", lang, **values)
        note = note and note[0].upper() + note[1:]  # a sentence of its own, on the line after the verdict
    else:
        SHOWN.setdefault(exercise_id, time.time())
        if seen_before:
            first = PREDICTED[exercise_id][0][1]
            message = say("exercise.right_after" if right else "exercise.wrong_after", lang, first=first, **values)
        else:
            message = say("exercise.right" if right else "exercise.wrong", lang, **values)
        if note:
            note = say("exercise.seen", lang) + ("\n" if "\n" in note else " ") + note
    return right, message + ("\n" + note if note else "")


@contextlib.contextmanager
def _speaking(lang):
    """While a checker runs, everything the course says (its notes, the journal's tables) is in the verdict's
    language: ``say()`` without a language reads ``COURSE_LANG`` first (course_tasks/i18n.py)."""
    before = os.environ.get("COURSE_LANG")
    os.environ["COURSE_LANG"] = lang
    try:
        yield
    finally:
        if before is None:
            del os.environ["COURSE_LANG"]
        else:
            os.environ["COURSE_LANG"] = before


def _unanswered(answer):
    """True while the answer is still ``...``, or a tuple, list or dict with a ``...`` left in it."""
    if answer is Ellipsis:
        return True
    parts = answer.values() if isinstance(answer, dict) else answer if isinstance(answer, (tuple, list)) else ()
    return any(part is Ellipsis for part in parts)


def _is_shaped(shape, answer):
    try:
        return bool(shape(answer))
    except Exception:  # noqa: BLE001 (any odd answer is simply not a prediction of that form)
        return False


def forget_predictions():
    """Forget this kernel's predictions and the experiments it has seen (the tests judge each answer afresh)."""
    PREDICTED.clear()
    SHOWN.clear()


def check(exercise_id, answer):
    """Print whether ``answer`` to exercise ``exercise_id`` is right (in the notebook's language)."""
    print(verdict(exercise_id, answer)[1])


# -- what the checkers share --------------------------------------------------------------------------------------

def result_of(answer, timeout=10):
    """The value of an AsyncResult the learner built (checkers use it); raises if it is not one."""
    if not isinstance(answer, AsyncResult):
        raise TypeError(expected("AsyncResult", answer))
    return answer.get(timeout=timeout)


def expected(kind, answer):
    """The message of the TypeError a checker raises for an answer that is not a ``kind``."""
    return say("exercise.expected", kind=kind, got=type(answer).__name__)


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


def started_order(entries):
    """The task names of ``entries`` in the order they started."""
    return [e["task"] for e in sorted(entries, key=lambda e: e["started"])]


def is_task_names(answer, count):
    """True if ``answer`` is a list (or tuple) of ``count`` task names: a predicted order."""
    return isinstance(answer, (list, tuple)) and len(answer) == count and all(isinstance(n, str) for n in answer)


def is_pair(answer, first=str, second=int):
    """True if ``answer`` is a pair (a tuple or list of two) like ``("SUCCESS", 1)``."""
    return (isinstance(answer, (tuple, list)) and len(answer) == 2 and isinstance(answer[0], first)
            and isinstance(answer[1], second) and not isinstance(answer[1], bool))


def run_while_paused(app, role, send):
    """Predict-then-run checkers (07.1, 08.1): call ``send()`` (it returns AsyncResults) while the worker of
    ``role`` is paused; ``(the task names in the order it then ran them, the journal of that as a table)``."""
    worker = settings.worker_roles()[role]
    with paused(app, worker.queues[0], worker.node):
        results = send()
    entries = entries_on(results, role)
    if entries is None:
        raise RuntimeError(say("exercise.not_all_ran", node=worker.node))
    ordered = sorted(entries, key=lambda e: e["started"])
    return started_order(entries), journal.table(ordered, priority=True)
