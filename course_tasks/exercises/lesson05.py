"""Exercises of lesson 05: map, starmap and chunks."""
from celery.result import GroupResult

from . import exercise, journal_entry, result_of


def _one_message_of(answer, builtin):
    """The value of ``answer`` if the worker ran it as one ``builtin`` task (map or starmap), else None."""
    value = result_of(answer)
    entry = journal_entry(answer.id)
    return value if entry and entry["task"] == builtin else None


@exercise("05.1", en="factorial_x.map(...) takes the arguments (a list or a range); apply_async() sends it as one "
                     "message and returns the AsyncResult: that is the answer.",
          ru="factorial_x.map(...) принимает аргументы (список или range); apply_async() отправляет всё одним "
             "сообщением и возвращает AsyncResult — он и есть ответ.")
def _(answer):
    return _one_message_of(answer, "map") == [1, 1, 2, 6, 24, 120]


@exercise("05.2", en="starmap unpacks each item into arguments, so each item is a pair (i, i); mul.starmap(...) "
                     "then apply_async(). map would pass each pair as one argument.",
          ru="starmap распаковывает каждый элемент в аргументы, значит, каждый элемент — пара (i, i): "
             "mul.starmap(...), затем apply_async(). А map передал бы пару одним аргументом.")
def _(answer):
    return _one_message_of(answer, "starmap") == [i * i for i in range(1, 11)]


@exercise("05.3", en="mul.chunks(items, n): the items are the pairs (i, 2), n is the size of a chunk; apply_async() "
                     "returns a GroupResult with one result per chunk.",
          ru="mul.chunks(items, n): элементы — пары (i, 2), n — размер пачки; apply_async() возвращает "
             "GroupResult, в котором по одному результату на пачку.")
def _(answer):
    if not isinstance(answer, GroupResult):
        raise TypeError(f"expected a GroupResult, got {type(answer).__name__}")
    expected = [[2 * i for i in range(start, start + 8)] for start in range(0, 40, 8)]
    return len(answer.results) == 5 and answer.get(timeout=20) == expected
