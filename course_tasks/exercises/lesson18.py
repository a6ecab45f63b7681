"""Exercises of lesson 18: testing tasks. Each prediction is the answer itself: the checker takes it before it runs
the experiment (18.1), so it is recorded before anything is run."""
import ast

from kombu.exceptions import EncodeError

from ..celery import app
from ..i18n import register, say
from ..playground import PLAYGROUND
from ..receipts import total, unique_prices
from ..run_tests import TestReport, run_tests
from . import exercise
from .mutants import MUTANTS

# 18.1: the five calls, made with task_always_eager on
CALLS = {
    "a": ("total.delay(range(3))", lambda: total.delay(range(3)).get()),
    "b": ("unique_prices.delay([2, 2, 1])", lambda: unique_prices.delay([2, 2, 1]).get()),
    "c": ("total.apply((range(3),))", lambda: total.apply((range(3),)).get()),
    "d": ("unique_prices.apply(([2, 2, 1],))", lambda: unique_prices.apply(([2, 2, 1],)).get()),
    "e": ("total.delay((1, 2))", lambda: total.delay((1, 2)).get()),
}
SHOWN_FILES = ("test_receipts.py", "test_receipts_eager.py")  # the lesson's own files are not an answer

register({
    "exercise.18.1.type": {"en": 'the answer is a set of letters from a to e, like {{"b", "e"}}',
                           "ru": 'ответ — множество букв от a до e, например {{"b", "e"}}'},
    "exercise.18.2.type": {"en": "expected what run_tests() returns, got {got}",
                           "ru": "ожидался результат run_tests(), а получен {got}"},
    "exercise.18.3.type": {"en": 'the answer is the name of your test file in the playground, like "test_cancel.py"',
                           "ru": 'ответ — имя вашего файла с тестами в песочнице, например "test_cancel.py"'},
    "exercise.18.3.caught": {"en": "mutant {name}: caught", "ru": "мутант {name}: пойман"},
    "exercise.18.3.missed": {"en": "mutant {name}: not caught", "ru": "мутант {name}: не пойман"},
})


@exercise("18.1", en="eager .delay() runs the arguments through the serializer (JSON) before .apply(); what has no "
                     "JSON form? .apply() serializes nothing, and in eager mode no result is ever serialized. A tuple "
                     "becomes a list.",
          ru="eager-вызов .delay() пропускает аргументы через сериализатор (JSON) до вызова .apply(); у чего нет "
             "представления в JSON? .apply() не сериализует ничего, а результат в eager-режиме не сериализуется "
             "никогда. Кортеж превращается в список.",
          prediction=lambda answer: isinstance(answer, (set, frozenset)) and answer <= set(CALLS))
def _(answer):
    if not isinstance(answer, (set, frozenset)) or not answer <= set(CALLS):
        raise TypeError(say("exercise.18.1.type"))
    prediction, raised, seen = frozenset(answer), set(), []  # taken first: the calls below run after it
    app.conf.task_always_eager = True
    try:
        for letter, (call, run) in CALLS.items():
            try:
                seen.append(f"({letter}) {call} -> {run()!r}")
            except EncodeError:
                seen.append(f"({letter}) {call} -> EncodeError")
                raised.add(letter)
    finally:
        app.conf.task_always_eager = False
    return prediction == raised, "\n".join(seen)


def _uses_the_worker(source):
    """Does a test function of ``source`` take the celery_worker fixture?"""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test") \
                and "celery_worker" in [a.arg for a in node.args.args]:
            return True
    return False


@exercise("18.2", en="copy the two fixtures of test_receipts.py (celery_config with task_default_queue, "
                     "celery_worker_parameters) into test_receipt.py; the test takes celery_worker and calls "
                     "receipt.delay(5).get(timeout=10). It must FAIL with EncodeError: an ERROR means the worker never "
                     "started.",
          ru="перенесите в test_receipt.py обе фикстуры из test_receipts.py (celery_config с task_default_queue и "
             "celery_worker_parameters); тест принимает celery_worker и вызывает receipt.delay(5).get(timeout=10). "
             "Он должен упасть (FAILED) с EncodeError; ERROR значит, что воркер так и не запустился.")
def _(answer):
    if not isinstance(answer, TestReport):
        raise TypeError(say("exercise.18.2.type", got=type(answer).__name__))
    if answer.name in SHOWN_FILES:
        return False
    print(answer)
    source = (PLAYGROUND / answer.name).read_text(encoding="utf-8")
    outcomes = answer.outcomes()
    failed = [message for outcome, _, message in answer.rows if outcome == "FAILED"]
    return (_uses_the_worker(source) and "receipt" in source and not outcomes.get("ERROR")
            and any("EncodeError" in message and "Receipt" in message for message in failed))


@exercise("18.3", en="one test per promise, each with mock.patch.object(receipts.refund, \"delay\"): a paid order is "
                     "cancelled and refunded with its own id (assert_called_once_with), an unpaid one is cancelled "
                     "and not refunded (assert_not_called).",
          ru="по тесту на каждое обещание, в каждом mock.patch.object(receipts.refund, \"delay\"): оплаченный заказ "
             "отменён, и деньги возвращены именно за него (assert_called_once_with), неоплаченный отменён, а "
             "деньги не возвращались (assert_not_called).")
def _(answer):
    if not isinstance(answer, str) or not (PLAYGROUND / answer).is_file():
        raise TypeError(say("exercise.18.3.type"))
    plugin = ("course_tasks.exercises.mutants",)
    real = run_tests(answer, plugins=plugin, env={"COURSE_NO_SEND": "1"})
    right = bool(real.rows) and set(real.outcomes()) == {"PASSED"}
    print(f"cancel_order: {', '.join(f'{n} {o.lower()}' for o, n in real.outcomes().items()) or real.code}")
    if not right:  # the tests must pass on the right cancel_order first: say why they do not
        print(real)
        return False
    for name in MUTANTS:
        report = run_tests(answer, plugins=plugin, env={"COURSE_NO_SEND": "1", "COURSE_MUTANT": name})
        caught = report.outcomes().get("FAILED", 0) > 0
        right = right and caught
        print(say("exercise.18.3.caught" if caught else "exercise.18.3.missed", name=name))
    return right
