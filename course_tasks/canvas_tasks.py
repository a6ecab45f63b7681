"""The tasks of lesson 14 (chord and callbacks), and a bounded wait for callbacks that run after a result."""
import time

from celery import group

from .celery import app
from .waiting import wait_until

SQUARE_SECONDS = 0.25  # long enough to see the header run in parallel, short enough for a fast lesson


@app.task
def square(x):
    """x * x, after a quarter-second of work (lesson 14)."""
    time.sleep(SQUARE_SECONDS)
    return x * x


@app.task
def collect(values):
    """Returns the list it gets: shows what a chord's body receives (lesson 14)."""
    return values


@app.task
def sum_of_squares_blocking(n):
    """The mistake of lesson 14: sends a group, then waits for it inside the task (Celery refuses)."""
    squares = group(square.s(i) for i in range(1, n + 1)).apply_async()
    return sum(squares.get(timeout=10))


def wait_for_entries(journal, count, timeout=10.0):
    """The entries of ``journal`` once it has ``count`` of them, or whatever it has after ``timeout`` s: callbacks
    and errbacks run after the result they follow is stored, so ``.get()`` may return before they end."""
    wait_until(lambda: len(journal.entries()) >= count, timeout)
    return journal.entries()
