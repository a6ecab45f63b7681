"""Exercises of lesson 05: map, starmap and chunks (predict, debug, design)."""
from celery.result import GroupResult

from ..i18n import register, say
from ..tasks import mul
from . import exercise, expected, journal_entry, result_of

register({
    "exercise.05.3.not_chunks": {
        "en": "this GroupResult stands for {count} messages, one per task: the worker got {count} messages, not four.",
        "ru": "за этим GroupResult стоят {count} сообщений, по одному на задачу: воркер получил {count} сообщений, "
              "а не четыре."},
    "exercise.05.3.unequal": {
        "en": "the chunks hold {sizes} calls: {count} messages, but not an equal share each: one process works "
              "through a chunk of {largest} calls while another gets only {smallest}.",
        "ru": "размеры пачек — {sizes}: сообщений {count}, но доли не равные: один процесс разбирает пачку из "
              "{largest} вызовов, а у другого в пачке всего {smallest}."},
})


def _one_message_of(answer, builtin):
    """The value of ``answer`` if the worker ran it as one ``builtin`` task (map or starmap), else None."""
    value = result_of(answer)
    entry = journal_entry(answer.id)
    return value if entry and entry["task"] == builtin else None


def _chunk_entries(answer, expected_values):
    """The journal entries of the chunks of ``answer`` (a GroupResult), first chunk first, if its values are
    ``expected_values`` and the worker ran every chunk as one starmap task; else None."""
    if not isinstance(answer, GroupResult):
        raise TypeError(expected("GroupResult", answer))
    chunks = answer.get(timeout=20)
    if not all(isinstance(chunk, list) for chunk in chunks):  # a group of single tasks: a value per message
        return None
    if [v for chunk in chunks for v in chunk] != expected_values:
        return None
    entries = [journal_entry(r.id) for r in answer.results]
    if not all(entry and entry["task"] == "starmap" for entry in entries):
        return None
    return entries


@exercise("05.1", en="chunks(items, n) cuts the items into pieces of n, in order; the last piece holds what is left. "
                     "Each piece is one starmap message. The prediction is a pair: (messages, calls in the last one).",
          ru="chunks(items, n) режет элементы по порядку на пачки по n; в последней пачке — то, что осталось. "
             "Каждая пачка — одно сообщение starmap. Прогноз — пара: (сообщений, вызовов в последнем).",
          prediction=lambda answer: isinstance(answer, (tuple, list)) and len(answer) == 2
          and all(isinstance(n, int) for n in answer))
def _(prediction):
    chunked = mul.chunks(((i, 2) for i in range(36)), 8).apply_async()
    entries = _chunk_entries(chunked, [2 * i for i in range(36)])
    if entries is None:
        return False
    seen = (len(entries), len(entries[-1]["kwargs"]["it"]))
    return tuple(prediction) == seen, repr(seen)


@exercise("05.2", en="map passes each item as one argument, so mul received one pair, mul((1, 1)), and missed y. "
                     "starmap unpacks each item into arguments: mul.starmap(...), then apply_async().",
          ru="map передаёт каждый элемент одним аргументом, поэтому mul получила одну пару, mul((1, 1)), и ей не "
             "хватило y. starmap распаковывает элемент в аргументы: mul.starmap(...), затем apply_async().")
def _(answer):
    return _one_message_of(answer, "starmap") == [i * i for i in range(1, 11)]


@exercise("05.3", en="map or starmap would make one message (one process busy); a group of add.s(i, i), a thousand. "
                     "add.chunks(items, n) makes one message per n items: pick n so that 1000 items make four "
                     "messages of the same size.",
          ru="map или starmap дали бы одно сообщение (занят один процесс), группа из add.s(i, i) — тысячу. "
             "add.chunks(items, n) даёт по сообщению на каждые n элементов: подберите n так, чтобы из 1000 "
             "элементов получилось четыре одинаковых сообщения.")
def _(answer):
    if not isinstance(answer, GroupResult):
        raise TypeError(expected("GroupResult", answer))
    if len(answer.results) > 4 and not any(isinstance(v, list) for v in answer.get(timeout=20)[:1]):
        return False, say("exercise.05.3.not_chunks", count=len(answer.results))
    entries = _chunk_entries(answer, [2 * i for i in range(1000)])
    if entries is None:
        return False
    sizes = [len(entry["kwargs"]["it"]) for entry in entries]
    if len(set(sizes)) > 1:
        return False, say("exercise.05.3.unequal", sizes=", ".join(map(str, sizes)), count=len(sizes),
                          largest=max(sizes), smallest=min(sizes))
    return len(entries) == 4
