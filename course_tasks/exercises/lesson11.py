"""Exercises of lesson 11: retries."""

from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.utils.time import get_exponential_backoff_interval

from .. import journal
from ..retrying import fetch
from ..waiting import wait_until
from . import exercise


def _attempts(result, timeout=15):
    """``(attempts, final state)`` of the task ``result``, from the journal: every attempt is one entry."""
    try:
        result.get(timeout=timeout, propagate=False)
    except CeleryTimeoutError:
        pass  # not ended yet: the attempts so far
    entries = [e for e in journal.entries() if e["id"] == result.id]
    return len(entries), result.state


@exercise("11.1", en="max_retries=3 counts the retries, not the attempts: the first run plus at most three more. "
                     "Is that enough for a service that fails four times?",
          ru="max_retries=3 считает повторные попытки, а не все запуски: первый запуск и ещё не больше трёх. "
             "Хватит ли этого, если сервис падает четыре раза?")
def _(answer):
    attempts, state = answer
    return (attempts, state) == _attempts(fetch.delay(4))


@exercise("11.2", en="link= runs its signature when the task succeeds; the one for a failure is link_error=. "
                     "The answer is what apply_async() returns.",
          ru="link= запускает свою сигнатуру, когда задача завершилась успешно; для ошибки есть link_error=. "
             "Ответ — то, что возвращает apply_async().")
def _(answer):
    try:
        answer.get(timeout=15)
    except ConnectionError:
        pass
    return wait_until(lambda: any(e["task"] == "report_failure" and e["args"] == [answer.id]
                                  for e in journal.entries()), 10)


@exercise("11.3", en="the countdown of retry n (n = 0, 1, 2 ...) is retry_backoff * 2 ** n seconds, at most "
                     "retry_backoff_max; retry_backoff=True means 1.",
          ru="пауза перед повторной попыткой номер n (n = 0, 1, 2, …) — retry_backoff * 2 ** n секунд, но не "
             "больше retry_backoff_max; retry_backoff=True означает 1.")
def _(answer):
    return list(answer) == [get_exponential_backoff_interval(1, n, 600) for n in range(5)]
