"""Lesson 18, testing tasks: the code under test, a shop's receipts.

Tasks written with ``@shared_task`` (lesson 10), so that whichever app is current runs them: the course's, on
worker@course, and the app of a test (``celery_app``, with ``celery.contrib.pytest``). ``place_order`` and
``cancel_order`` stand for the views of a web application: they send tasks, the boundary a test mocks.

Each is described by a comment above it, not by a docstring: the lesson prints their code (``inspect.getsource``
starts at the decorator), the same in the English and the Russian notebook. What they return is data, not a sentence.
"""
from dataclasses import dataclass

from celery import shared_task


# What the order costs.
@shared_task
def total(prices):
    return sum(prices)


# The order's distinct prices: a set, which JSON cannot carry.
@shared_task
def unique_prices(prices):
    return set(prices)


# Mail the customer: the mail server refuses twice, then takes it (each retry one second later).
@shared_task(bind=True, max_retries=2, default_retry_delay=1)
def notify(self, order_id):
    if self.request.retries < 2:
        raise self.retry()
    return {"order": order_id, "attempt": self.request.retries + 1}


@dataclass
class Receipt:
    order_id: int
    lines: int


# The order's receipt, as an object (exercise 18.2).
@shared_task
def receipt(order_id):
    return Receipt(order_id, lines=2)


@shared_task
def send_receipt(order_id):
    return {"receipt": order_id}


@shared_task
def refund(order_id):
    return {"refunded": order_id}


# A web view: store the order, then send its receipt in the background.
def place_order(orders, order_id, prices):
    orders[order_id] = {"total": sum(prices), "paid": False}
    send_receipt.delay(order_id)


# A web view: mark the order cancelled, and refund it in the background if it was paid (exercise 18.3).
def cancel_order(orders, order_id):
    order = orders[order_id]
    order["cancelled"] = True
    if order["paid"]:
        refund.delay(order_id)
