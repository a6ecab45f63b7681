"""Exercises of lesson 04: groups (a debug exercise and two predict-then-run exercises)."""
import math

from celery.result import GroupResult

from ..journal import max_parallel
from . import exercise, journal_entry, prediction_and

NAP = 0.5  # the nap of exercise 04.2
NAPS = 6


def _group_values(answer, timeout=20, propagate=True):
    if not isinstance(answer, GroupResult):
        raise TypeError(f"expected a GroupResult, got {type(answer).__name__}")
    return answer.get(timeout=timeout, propagate=propagate)


@exercise("04.1", en="add.delay(i, i) sends the addition at once and returns an AsyncResult, so the ten tasks ran "
                     "before group() ever saw them; a group takes signatures, add.s(i, i), and sends them itself "
                     "when you call apply_async(). The answer is the GroupResult that apply_async() returns.",
          ru="add.delay(i, i) сразу отправляет сложение и возвращает AsyncResult, поэтому десять задач выполнились "
             "ещё до того, как их увидела group(); группа принимает сигнатуры add.s(i, i) и сама отправляет их при "
             "вызове apply_async(). Ответ — GroupResult, который возвращает apply_async().")
def _(answer):
    return _group_values(answer) == [i + i for i in range(10)]


@exercise("04.2", en="four processes run at most four naps at a time, and a nap is never split: four run together, "
                     "then the other two. Write prediction first (in seconds), then answer = (prediction, the "
                     "GroupResult of six nap.s(0.5)).",
          ru="четыре процесса выполняют не больше четырёх nap одновременно, а одну nap на части не делят: сначала "
             "четыре вместе, затем оставшиеся две. Сначала запишите прогноз в prediction (в секундах), затем "
             "answer = (prediction, GroupResult группы из шести nap.s(0.5)).")
def _(answer):
    found = prediction_and(answer)
    if found is None:
        return False
    prediction, naps = found
    if _group_values(naps) != [NAP] * NAPS:
        return False
    entries = [journal_entry(r.id) for r in naps.results]
    if None in entries:
        return False
    # what the worker did, from the journal: how many naps at once, so how many rounds of one nap each
    rounds = math.ceil(NAPS / max_parallel(entries))
    return isinstance(prediction, (int, float)) and abs(prediction - rounds * NAP) < 0.05


@exercise("04.3", en="completed_count() counts only the tasks that succeeded; ready() is true once every task has "
                     "finished, failed or not; successful() only when every task succeeded. Write the prediction "
                     "first, then answer = (prediction, the GroupResult of the three divisions).",
          ru="completed_count() считает только успешно завершившиеся задачи; ready() возвращает True, когда "
             "завершились все задачи, упавшие в том числе; successful() — только когда все завершились успешно. "
             "Сначала запишите прогноз, затем answer = (prediction, GroupResult группы из трёх делений).")
def _(answer):
    found = prediction_and(answer)
    if found is None:
        return False
    prediction, divisions = found
    values = _group_values(divisions, propagate=False)
    if len(values) != 3 or values[0::2] != [2.0, 4.0] or not isinstance(values[1], ZeroDivisionError):
        return False
    seen = {"completed_count": divisions.completed_count(), "ready": divisions.ready(),
            "successful": divisions.successful()}
    return prediction == seen
