"""Exercises of lesson 05: map, starmap and chunks (predict-then-run, debug, design)."""
from celery.result import GroupResult

from . import exercise, journal_entry, result_of


def _one_message_of(answer, builtin):
    """The value of ``answer`` if the worker ran it as one ``builtin`` task (map or starmap), else None."""
    value = result_of(answer)
    entry = journal_entry(answer.id)
    return value if entry and entry["task"] == builtin else None


def _chunk_entries(answer, expected):
    """The journal entries of the chunks of ``answer`` (a GroupResult), first chunk first, if its values are
    ``expected`` and the worker ran every chunk as one starmap task; else None."""
    if not isinstance(answer, GroupResult):
        raise TypeError(f"expected a GroupResult, got {type(answer).__name__}")
    if [v for chunk in answer.get(timeout=20) for v in chunk] != expected:
        return None
    entries = [journal_entry(r.id) for r in answer.results]
    if not all(entry and entry["task"] == "starmap" for entry in entries):
        return None
    return entries


@exercise("05.1", en="chunks(items, n) cuts the items into pieces of n, in order; the last piece holds what is left. "
                     "Each piece is one starmap message. Write prediction = (messages, calls in the last one) first, "
                     "then answer = (prediction, the GroupResult that apply_async() returns).",
          ru="chunks(items, n) режет элементы по порядку на пачки по n; в последней пачке — то, что осталось. "
             "Каждая пачка — одно сообщение starmap. Сначала запишите prediction = (сообщений, вызовов в "
             "последнем), затем answer = (prediction, GroupResult, который возвращает apply_async()).")
def _(answer):
    if not isinstance(answer, tuple) or len(answer) != 2:
        return False
    prediction, chunked = answer
    entries = _chunk_entries(chunked, [2 * i for i in range(36)])
    if entries is None or len(entries[0]["kwargs"]["it"]) != 8:  # the chunks of the exercise: 8 calls each
        return False
    seen = (len(entries), len(entries[-1]["kwargs"]["it"]))
    return isinstance(prediction, (tuple, list)) and tuple(prediction) == seen


@exercise("05.2", en="map passes each item as one argument, so mul received one pair, mul((1, 1)), and missed y. "
                     "starmap unpacks each item into arguments: mul.starmap(...), then apply_async().",
          ru="map передаёт каждый элемент одним аргументом, поэтому mul получила одну пару, mul((1, 1)), и ей не "
             "хватило y. starmap распаковывает элемент в аргументы: mul.starmap(...), затем apply_async().")
def _(answer):
    return _one_message_of(answer, "starmap") == [i * i for i in range(1, 11)]


@exercise("05.3", en="map or starmap would make one message (one process busy); a group of add.s(i, i), a thousand. "
                     "add.chunks(items, n) makes one message per n items: pick n so that 1000 items give four.",
          ru="map или starmap дали бы одно сообщение (занят один процесс), группа из add.s(i, i) — тысячу. "
             "add.chunks(items, n) даёт по сообщению на каждые n элементов: подберите n так, чтобы из 1000 "
             "элементов получилось четыре сообщения.")
def _(answer):
    entries = _chunk_entries(answer, [2 * i for i in range(1000)])
    return entries is not None and len(entries) == 4
