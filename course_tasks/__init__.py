"""The course's Celery app, its tasks and the few helpers a lesson needs.

Every notebook starts with ``from course_tasks import ...``: the worker knows exactly these tasks.
"""
from . import journal
from .celery import app
from .errors import SetupError
from .exclusive import exclusive
from .i18n import say
from .live_view import live
from .machinery import tracebacks
from .preflight import check_setup
from .tasks import (
    add,
    buy_cookes,
    buy_cookies,
    divide,
    factorial_x,
    go_to_shop,
    mul,
    nap,
    number_plus_3,
    number_to_float,
    t1,
    t2,
    t3,
    tp1,
    tp2,
    tp3,
    tp4,
    xsum,
)

tracebacks.install()  # in a notebook: a failing cell shows its own lines, not Celery's

__all__ = [
    "SetupError",
    "add",
    "app",
    "buy_cookes",
    "buy_cookies",
    "check_setup",
    "divide",
    "exclusive",
    "factorial_x",
    "go_to_shop",
    "journal",
    "live",
    "mul",
    "nap",
    "number_plus_3",
    "number_to_float",
    "say",
    "t1",
    "t2",
    "t3",
    "tp1",
    "tp2",
    "tp3",
    "tp4",
    "xsum",
]
