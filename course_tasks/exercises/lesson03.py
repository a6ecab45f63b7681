"""Exercises of lesson 03: AsyncResult, its state, its result and its errors."""
from celery.result import AsyncResult

from ..tasks import divide, factorial_x
from . import exercise


@exercise("03.1", en="result is what the backend stored for the current state: the return value on SUCCESS (what "
                     "does / give in Python?), the exception on FAILURE, and None when nothing is stored. "
                     "The answer is a list of three strings.",
          ru="result — то, что хранилище результатов записало для текущего состояния: возвращённое значение при "
             "SUCCESS (что даёт / в Python?), исключение при FAILURE и None, если записи нет. Ответ — список "
             "из трёх строк.",
          prediction=lambda answer: isinstance(answer, (list, tuple)) and len(answer) == 3
          and all(isinstance(name, str) for name in answer))
def _(prediction):
    receipts = [divide.delay(6, 3), divide.delay(1, 0)]
    for r in receipts:
        r.get(timeout=10, propagate=False)
    receipts.append(AsyncResult("no-such-id", app=divide.app))
    seen = [type(r.result).__name__ for r in receipts]
    return list(prediction) == seen, repr(seen)


@exercise("03.2", en="wait first with a get() that does not raise; then successful() tells which case it is, "
                     "and result holds the value or the exception (type(...).__name__ gives its name).",
          ru="сначала дождитесь задачи вызовом get(), который не выбрасывает исключение; затем successful() "
             "подскажет, какой это случай, а в result лежит значение или исключение (имя исключения даёт "
             "type(...).__name__).")
def _(answer):
    return (answer(divide.delay(6, 2)) == ("ok", 3.0)
            and answer(divide.delay(1, 0)) == ("error", "ZeroDivisionError")
            and answer(factorial_x.delay(-1)) == ("error", "ValueError"))
