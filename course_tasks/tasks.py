"""The tasks of the course: the ones of the course notes, under their names, and those of Celery's docs."""
import math
import time

from .celery import app

TP_SECONDS = 0.25


def _tp(name):
    time.sleep(TP_SECONDS)
    return name


@app.task
def tp1(previous=None):
    """A quarter-second of work (lessons 01 and 04); ``previous`` lets it sit in a chain."""
    return _tp("tp1")


@app.task
def tp2(previous=None):
    """A quarter-second of work (lessons 01 and 04)."""
    return _tp("tp2")


@app.task
def tp3(previous=None):
    """A quarter-second of work (lessons 01 and 04)."""
    return _tp("tp3")


@app.task
def tp4(previous=None):
    """A quarter-second of work (lessons 01 and 04)."""
    return _tp("tp4")


# The sum of two numbers, with an optional message (lessons 02 and 07): 'The sum is: 20'.
# No docstring: lesson 02 prints this function's source, in English and in Russian.
@app.task
def t1(a=0, b=0, message=None):
    total = a + b
    return f"{message}: {total}" if message else total


@app.task
def t2():
    """A task with no arguments, sent with priorities (lesson 07)."""


@app.task
def t3():
    """A task with no arguments, sent with priorities (lesson 07)."""


@app.task
def go_to_shop(name="misha"):
    """Prints to the worker's log and returns nothing (lesson 04)."""
    print(f"идём в магазин {name}!")


@app.task
def buy_cookies(name="misha"):
    """Prints to the worker's log and returns nothing (lesson 04)."""
    print(f"покупаем печенья {name}!")


buy_cookes = buy_cookies  # the course notes' spelling keeps working


@app.task
def factorial_x(x):
    """x! (lessons 05 and 06)."""
    return math.factorial(x)


@app.task
def number_plus_3(x):
    """x + 3 (lesson 06)."""
    return x + 3


@app.task
def number_to_float(x):
    """float(x) (lesson 06)."""
    return float(x)


@app.task
def add(x, y):
    """x + y, as in Celery's docs (lessons 02, 05 and 06)."""
    return x + y


@app.task
def mul(x, y):
    """x * y, as in Celery's docs (lesson 06)."""
    return x * y


@app.task
def xsum(numbers):
    """sum(numbers), as in Celery's docs (lesson 05)."""
    return sum(numbers)


@app.task
def divide(x, y):
    """x / y: fails with ZeroDivisionError when y is 0 (lessons 03 and 06)."""
    return x / y


@app.task
def nap(seconds):
    """Sleeps ``seconds`` and returns them: work of a known length (lessons 04 and 09)."""
    time.sleep(seconds)
    return seconds
