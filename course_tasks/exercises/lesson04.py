"""Exercises of lesson 04: groups (a debug exercise and two predict exercises)."""
import math

from celery import group
from celery.result import GroupResult

from ..exclusive import exclusive
from ..i18n import number, register, say
from ..journal import max_parallel
from ..tasks import divide, nap
from . import exercise, expected, journal_entry

NAP = 0.5  # the nap of exercise 04.2
NAPS = 6

register({
    "exercise.04.2.seen": {"en": "{naps} naps, at most {parallel} at once: {rounds} rounds × {nap} s = {seconds} s",
                           "ru": "nap: {naps}, одновременно не больше {parallel}: {rounds} × {nap} с = {seconds} с"},
})


def _group_values(answer, timeout=20, propagate=True):
    if not isinstance(answer, GroupResult):
        raise TypeError(expected("GroupResult", answer))
    return answer.get(timeout=timeout, propagate=propagate)


def _is_number(answer):
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


@exercise("04.1", en="add.delay(i, i) sends the addition at once and returns an AsyncResult, so the ten tasks ran "
                     "before group() ever saw them; a group takes signatures, add.s(i, i), and sends them itself "
                     "when you call apply_async(). The answer is the GroupResult that apply_async() returns.",
          ru="add.delay(i, i) сразу отправляет сложение и возвращает AsyncResult, поэтому десять задач выполнились "
             "ещё до того, как их увидела group(); группа принимает сигнатуры add.s(i, i) и сама отправляет их при "
             "вызове apply_async(). Ответ — GroupResult, который возвращает apply_async().")
def _(answer):
    return _group_values(answer) == [i + i for i in range(10)]


@exercise("04.2", en="a group does not make the worker faster than its processes: how many naps can run at the same "
                     "moment on worker@course, and so how many rounds do six of them need? The prediction is a "
                     "number of seconds.",
          ru="группа не делает воркер быстрее, чем позволяют его процессы: сколько nap могут идти на worker@course "
             "одновременно и сколько же кругов понадобится шести? Прогноз — число секунд.",
          prediction=_is_number)
def _(prediction):
    with exclusive():  # worker@course is this notebook's while the check times it
        naps = group(nap.s(NAP) for _ in range(NAPS)).apply_async()
        values = _group_values(naps)
    entries = [journal_entry(r.id) for r in naps.results]
    if values != [NAP] * NAPS or None in entries:
        return False
    # what the worker did, from the journal: how many naps at once, so how many rounds of one nap each
    parallel = max_parallel(entries)
    rounds = math.ceil(NAPS / parallel)
    seen = say("exercise.04.2.seen", naps=NAPS, parallel=parallel, rounds=rounds, nap=number(NAP),
               seconds=number(rounds * NAP))
    return abs(prediction - rounds * NAP) < 0.05, seen


@exercise("04.3", en="completed_count() counts only the tasks that succeeded; ready() is true once every task has "
                     "finished, failed or not; successful() only when every task succeeded. The prediction is a dict "
                     "with these three keys.",
          ru="completed_count() считает только успешно завершившиеся задачи; ready() возвращает True, когда "
             "завершились все задачи, упавшие в том числе; successful() — только когда все завершились успешно. "
             "Прогноз — словарь с этими тремя ключами.",
          prediction=lambda answer: isinstance(answer, dict)
          and set(answer) == {"completed_count", "ready", "successful"} and Ellipsis not in answer.values())
def _(prediction):
    divisions = group(divide.s(6, 3), divide.s(1, 0), divide.s(8, 2)).apply_async()
    values = _group_values(divisions, propagate=False)
    if len(values) != 3 or values[0::2] != [2.0, 4.0] or not isinstance(values[1], ZeroDivisionError):
        return False
    seen = {"completed_count": divisions.completed_count(), "ready": divisions.ready(),
            "successful": divisions.successful()}
    return prediction == seen, repr(seen)
