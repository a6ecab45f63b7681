"""A pytest plugin of exercise 18.3's checker (``run_tests(..., plugins=["course_tasks.exercises.mutants"])``):

- ``COURSE_MUTANT=name`` puts a wrong ``cancel_order`` in ``course_tasks.receipts`` before the tests are collected,
  so that a test file that imports it gets the wrong one: good tests fail on each;
- ``COURSE_NO_SEND=1`` makes any message a test really sends fail: the tests must mock ``refund.delay``.
"""
import os

from celery import signals

from course_tasks import receipts
from course_tasks.i18n import register, say

register({"mutants.sent": {"en": "a test sent a real message: mock refund.delay instead",
                           "ru": "тест отправил настоящее сообщение: замените refund.delay моком"}})


def _refunds_unpaid(orders, order_id):
    orders[order_id]["cancelled"] = True
    receipts.refund.delay(order_id)


def _never_refunds(orders, order_id):
    orders[order_id]["cancelled"] = True


def _refunds_another(orders, order_id):
    order = orders[order_id]
    order["cancelled"] = True
    if order["paid"]:
        receipts.refund.delay(order_id + 1)


MUTANTS = {"refunds_unpaid": _refunds_unpaid, "never_refunds": _never_refunds, "refunds_another": _refunds_another}


def _no_send(**_):
    raise RuntimeError(say("mutants.sent"))


def pytest_configure(config):
    name = os.environ.get("COURSE_MUTANT")
    if name:
        receipts.cancel_order = MUTANTS[name]
    if os.environ.get("COURSE_NO_SEND"):
        signals.before_task_publish.connect(_no_send, weak=False)
