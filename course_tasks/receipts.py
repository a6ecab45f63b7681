"""Lesson 18, testing tasks: the code under test, a shop's receipts.

Tasks written with ``@shared_task`` (lesson 10), so that whichever app is current runs them: the course's, on
worker@course, and the app of a test (``celery_app``, with ``celery.contrib.pytest``). ``place_order`` and
``cancel_order`` stand for the views of a web application: they send tasks, the boundary a test mocks.
"""
from dataclasses import dataclass

from celery import shared_task


@shared_task
def total(prices):
    """What the order costs."""
    return sum(prices)


@shared_task
def unique_prices(prices):
    """The order's distinct prices: a set, which JSON cannot carry."""
    return set(prices)


@shared_task(bind=True, max_retries=2, default_retry_delay=1)
def notify(self, order_id):
    """Mail the customer: the mail server refuses twice, then takes it (each retry one second later)."""
    if self.request.retries < 2:
        raise self.retry()
    return f"order {order_id}: mailed on attempt {self.request.retries + 1}"


@dataclass
class Receipt:
    order_id: int
    lines: int


@shared_task
def receipt(order_id):
    """The order's receipt, as an object (exercise 18.2)."""
    return Receipt(order_id, lines=2)


@shared_task
def send_receipt(order_id):
    return f"receipt for order {order_id} sent"


@shared_task
def refund(order_id):
    return f"order {order_id} refunded"


def place_order(orders, order_id, prices):
    """A web view: store the order, then send its receipt in the background."""
    orders[order_id] = {"total": sum(prices), "paid": False}
    send_receipt.delay(order_id)


def cancel_order(orders, order_id):
    """A web view: mark the order cancelled, and refund it in the background if it was paid (exercise 18.3)."""
    order = orders[order_id]
    order["cancelled"] = True
    if order["paid"]:
        refund.delay(order_id)
