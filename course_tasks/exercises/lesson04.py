"""Exercises of lesson 04: groups."""
from celery.result import GroupResult

from . import exercise, journal_entry


def _group_values(answer, timeout=20):
    if not isinstance(answer, GroupResult):
        raise TypeError(f"expected a GroupResult, got {type(answer).__name__}")
    return answer.get(timeout=timeout)


@exercise("04.1", en="group() takes signatures, add.s(i, i), one for each i (a generator expression works); "
                     "apply_async() sends the group and returns the GroupResult: that is the answer, not its values.",
          ru="group() принимает сигнатуры add.s(i, i), по одной на каждое i (подойдёт генераторное выражение); "
             "apply_async() отправляет группу и возвращает GroupResult — ответом служит он сам, а не его "
             "значения.")
def _(answer):
    return _group_values(answer) == [i + i for i in range(10)]


@exercise("04.2", en="build the group as in the measurement, with 8 instead of N; time it with time.perf_counter() "
                     "around apply_async().get(timeout=20) and round() the seconds. How many naps can four processes "
                     "run at the same time?",
          ru="соберите группу, как в замере, только с 8 вместо N; засеките время вызова "
             "apply_async().get(timeout=20) с помощью time.perf_counter() и округлите секунды функцией "
             "round(). Сколько задач nap четыре процесса могут выполнять одновременно?")
def _(answer):
    return isinstance(answer, (int, float)) and answer == 2


@exercise("04.3", en="the same group(...) as in the notes, with go_to_shop.s(...) and buy_cookies.s(...), each with "
                     "name=\"sasha\"; the answer is what apply_async() returns.",
          ru="та же группа group(...), что и в конспекте: go_to_shop.s(...) и buy_cookies.s(...), обе с "
             "name=\"sasha\"; ответ — то, что возвращает apply_async().")
def _(answer):
    if _group_values(answer) != [None, None]:
        return False
    entries = [journal_entry(r.id) for r in answer.results]
    if None in entries:
        return False
    names = sorted(e["task"] for e in entries)
    sashas = all(e["args"] + list(e["kwargs"].values()) == ["sasha"] for e in entries)
    return names == ["buy_cookies", "go_to_shop"] and sashas
