"""The course's Celery app, its tasks and the few helpers a lesson needs.

Every notebook starts with ``from course_tasks import ...``: the worker knows exactly these tasks.
"""
from .celery import app
from .journal import Journal
from .preflight import SetupError, check_setup
from .tasks import (
    add, buy_cookes, buy_cookies, divide, factorial_x, go_to_shop, mul, nap, number_plus_3,
    number_to_float, t1, t2, t3, tp1, tp2, tp3, tp4, xsum,
)

journal = Journal(app)

__all__ = [
    "app", "journal", "Journal", "check_setup", "SetupError",
    "add", "buy_cookes", "buy_cookies", "divide", "factorial_x", "go_to_shop", "mul", "nap",
    "number_plus_3", "number_to_float", "t1", "t2", "t3", "tp1", "tp2", "tp3", "tp4", "xsum",
]
