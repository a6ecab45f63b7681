"""Exercises of lesson 06: chains."""
from . import exercise, journal_entry, result_of


def _links(answer):
    """The journal entries of the links of the chain whose last AsyncResult is ``answer``, first link first."""
    value = result_of(answer)
    links, result = [], answer
    while result is not None:
        links.insert(0, journal_entry(result.id))
        result = result.parent
    return value, links


@exercise("06.1", en="add.s(2, 3) computes 2 + 3; join it with | to a mul signature that has only the 10: the sum "
                     "comes in front of it. The answer is what apply_async() returns.",
          ru="add.s(2, 3) вычисляет 2 + 3; соедините её через | с сигнатурой mul, в которой указано только 10: "
             "сумма встанет первым аргументом, перед 10. Ответ — то, что возвращает apply_async().")
def _(answer):
    value, links = _links(answer)
    calls = [(e["task"], e["args"]) for e in links if e]
    return value == 50 and calls == [("add", [2, 3]), ("mul", [5, 10])]


@exercise("06.2", en="tp1.s() | ... : the second link must not take tp1's result, so it needs an immutable "
                     "signature (see .si above).",
          ru="tp1.s() | ... : второе звено не должно получать результат tp1, значит, ему нужна неизменяемая "
             "сигнатура (см. .si выше).")
def _(answer):
    value, links = _links(answer)
    calls = [(e["task"], e["args"]) for e in links if e]
    return value == 2 and calls == [("tp1", []), ("add", [1, 1])]


@exercise("06.3", en="journal.clear() first; build the chain with add.s(1, 1), divide.s(0) and mul.s(5); wait for it "
                     "with .get(timeout=10) inside try/except ZeroDivisionError; then read e[\"task\"] of every "
                     "journal entry.",
          ru="перед запуском очистите журнал (journal.clear()); соберите цепочку из add.s(1, 1), divide.s(0) и "
             "mul.s(5); .get(timeout=10) у неё выбросит ZeroDivisionError — перехватите его в try/except; "
             "затем возьмите e[\"task\"] у каждой записи журнала.")
def _(answer):
    return list(answer) == ["add", "divide"]
