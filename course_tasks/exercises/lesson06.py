"""Exercises of lesson 06: chains (predict, debug)."""
from .. import journal
from ..tasks import add, divide, mul
from . import exercise, journal_entry, result_of


def _steps(answer):
    """The value of the chain whose last AsyncResult is ``answer``, and the journal entries of its steps,
    first step first (None for a step that did not run)."""
    value = result_of(answer)
    steps, result = [], answer
    while result is not None:
        steps.insert(0, journal_entry(result.id))
        result = result.parent
    return value, steps


def _is_number(answer):
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


@exercise("06.1", en="the result of a step goes in FRONT of the next step's arguments: divide.s(10) after a step "
                     "that returns 5 runs divide(5, 10). The prediction is the chain's value, a number.",
          ru="результат шага встаёт ПЕРЕД аргументами следующего: divide.s(10) после шага, вернувшего 5, "
             "выполняет divide(5, 10). Прогноз — значение цепочки, число.",
          prediction=_is_number)
def _(prediction):
    value, steps = _steps((add.s(2, 3) | divide.s(10) | mul.s(4)).apply_async())
    ran = [e for e in steps if e]
    calls = [(e["task"], e["args"]) for e in ran]
    if calls != [("add", [2, 3]), ("divide", [5, 10]), ("mul", [0.5, 4])]:
        return False
    return prediction == value, journal.table(ran)


@exercise("06.2", en="with add.s(1, 1) the chain puts tp1's result in front: add('tp1', 1, 1), one argument too "
                     "many. The second step must not take tp1's result, so it needs an immutable signature "
                     "(see .si above).",
          ru="с add.s(1, 1) цепочка ставит результат tp1 первым аргументом: add('tp1', 1, 1) — на один аргумент "
             "больше, чем нужно. Второй шаг не должен получать результат tp1, значит, ему нужна неизменяемая "
             "сигнатура (см. .si выше).")
def _(answer):
    value, steps = _steps(answer)
    calls = [(e["task"], e["args"]) for e in steps if e]
    return value == 2 and calls == [("tp1", []), ("add", [1, 1])]


@exercise("06.3", en="the priority given to apply_async() of a chain goes to the first step only "
                     "(task_inherit_parent_priority is False); the next step is sent without one, and on Redis a "
                     "message without a priority is recorded as 0. The prediction is a list of two numbers.",
          ru="приоритет, переданный apply_async() цепочки, достаётся только первому шагу (настройка "
             "task_inherit_parent_priority равна False); следующий шаг уходит без приоритета, а в Redis "
             "сообщение без приоритета записывается как 0. Прогноз — список из двух чисел.",
          prediction=lambda answer: isinstance(answer, (list, tuple)) and len(answer) == 2
          and all(_is_number(p) for p in answer))
def _(prediction):
    value, steps = _steps((add.s(1, 1) | mul.s(10)).apply_async(priority=9))
    if value != 20 or None in steps or [e["task"] for e in steps] != ["add", "mul"]:
        return False
    priorities = [e["priority"] for e in steps]
    return priorities[0] == 9 and list(prediction) == priorities, journal.table(steps, priority=True)
