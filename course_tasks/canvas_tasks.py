"""The tasks of lesson 14 (chord and callbacks), and a bounded wait for callbacks that run after a result.

A task here is described by a comment above its decorator, not by a docstring: the lesson prints a task's code
(``inspect.getsource`` starts at the decorator), the same in the English and the Russian notebook.
"""
import time

from celery import group

from .celery import app
from .waiting import wait_until

SQUARE_SECONDS = 0.25  # long enough to see the header run in parallel, short enough for a fast lesson


# x * x, after a quarter-second of work (lesson 14).
@app.task
def square(x):
    time.sleep(SQUARE_SECONDS)
    return x * x


# Returns the list it gets: shows what a chord's body receives (lesson 14).
@app.task
def collect(values):
    return values


# The mistake of lesson 14: sends a group, then waits for it inside the task (Celery refuses).
@app.task
def sum_of_squares_blocking(n):
    squares = group(square.s(i) for i in range(1, n + 1)).apply_async()
    return sum(squares.get(timeout=10))


def wait_for_entries(journal, count, timeout=10.0):
    """The entries of ``journal`` once it has ``count`` of them, or whatever it has after ``timeout`` s.

    ``.get()`` may return before a callback or an errback has ended: a ``link=`` callback is sent as soon as its
    task returns, before the task's result is stored, and runs after that; a ``link_error=`` errback is sent after
    the failure is stored."""
    wait_until(lambda: len(journal.entries()) >= count, timeout)
    return journal.entries()
