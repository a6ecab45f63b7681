"""Exercises of lesson 03: AsyncResult, its state, its result and its errors."""
from . import exercise


@exercise("03.1", en="get() raises the task's exception unless one of its parameters (besides timeout) tells it "
                     "to hand the exception back instead.",
          ru="get() выбрасывает исключение задачи, если только один из его параметров (кроме timeout) не велит "
             "вернуть исключение как значение.")
def _(answer):
    return isinstance(answer, ZeroDivisionError)


@exercise("03.2", en="wait first with a get() that does not raise; then successful() tells which case it is, "
                     "and result holds the value or the exception (type(...).__name__ gives its name).",
          ru="сначала дождитесь задачи вызовом get(), который не выбрасывает исключение; затем successful() "
             "подскажет, какой это случай, а в result лежит значение или исключение (имя исключения даёт "
             "type(...).__name__).")
def _(answer):
    from ..tasks import divide, factorial_x

    return (answer(divide.delay(6, 2)) == ("ok", 3.0)
            and answer(divide.delay(1, 0)) == ("error", "ZeroDivisionError")
            and answer(factorial_x.delay(-1)) == ("error", "ValueError"))


@exercise("03.3", en="wait for the task without raising, then take its traceback: a text whose last line is "
                     "the exception's type and message.",
          ru="дождитесь задачи, не выбрасывая исключения, затем возьмите её traceback — это текст, в последней "
             "строке которого тип и сообщение исключения.")
def _(answer):
    return isinstance(answer, str) and answer.strip() == "ValueError: factorial() not defined for negative values"
