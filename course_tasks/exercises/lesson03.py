"""Exercises of lesson 03: AsyncResult, its state, its result and its errors."""
from . import exercise


@exercise("03.1", en="get() raises the task's exception unless one of its parameters (besides timeout) tells it "
                     "to hand the exception back instead.",
          ru="get() поднимает исключение задачи, если один из его параметров (кроме timeout) не велит вместо "
             "этого вернуть исключение.")
def _(answer):
    return isinstance(answer, ZeroDivisionError)


@exercise("03.2", en="wait first with a get() that does not raise; then successful() tells which case it is, "
                     "and result holds the value or the exception (type(...).__name__ gives its name).",
          ru="сначала дождитесь задачи через get(), который ничего не поднимает; затем successful() скажет, "
             "какой это случай, а в result лежит значение или исключение (имя даёт type(...).__name__).")
def _(answer):
    from ..tasks import divide, factorial_x

    return (answer(divide.delay(6, 2)) == ("ok", 3.0)
            and answer(divide.delay(1, 0)) == ("error", "ZeroDivisionError")
            and answer(factorial_x.delay(-1)) == ("error", "ValueError"))


@exercise("03.3", en="wait for the task without raising, then take its traceback: a text whose last line is "
                     "the exception's type and message.",
          ru="дождитесь задачи, ничего не поднимая, затем возьмите её traceback: это текст, последняя строка "
             "которого — тип и сообщение исключения.")
def _(answer):
    return isinstance(answer, str) and answer.strip() == "ValueError: factorial() not defined for negative values"
