"""Exercises of lesson 11: retries."""
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.utils.time import get_exponential_backoff_interval

from .. import journal
from ..exclusive import exclusive
from ..retrying import fetch, report_failure
from ..waiting import wait_until
from . import exercise, is_pair


def _attempts(result, timeout=15):
    """``(attempts, final state)`` of the task ``result``, from the journal: every attempt is one entry."""
    try:
        result.get(timeout=timeout, propagate=False)
    except CeleryTimeoutError:
        pass  # not ended yet: the attempts so far
    entries = [e for e in journal.entries() if e["id"] == result.id]
    return len(entries), result.state


def _errbacks_for(result):
    return sum(e["task"] == "report_failure" and e["args"] == [result.id] for e in journal.entries())


@exercise("11.1", en="max_retries=3 counts the retries, not the attempts: the first run plus at most three more. "
                     "Is that enough for a service that fails four times? The prediction is a pair like "
                     "(2, \"SUCCESS\").",
          ru="max_retries=3 считает повторные попытки, а не все запуски: первый запуск и ещё не больше трёх. "
             "Хватит ли этого, если сервис падает четыре раза? Прогноз — пара вроде (2, \"SUCCESS\").",
          prediction=lambda answer: is_pair(answer, int, str))
def _(prediction):
    result = fetch.delay(4)
    seen = _attempts(result)
    table = journal.table([e for e in journal.entries() if e["id"] == result.id])
    return tuple(prediction) == seen, f"{seen!r}\n{table}"


@exercise("11.2", en="link_error= runs its errback when the task has failed for good. Is a retry a failure? And how "
                     "many times does a task fail for good? The prediction is a pair of numbers.",
          ru="link_error= запускает обработчик ошибки, когда задача упала окончательно. Считается ли повторная "
             "попытка падением? И сколько раз задача падает окончательно? Прогноз — пара чисел.",
          prediction=lambda answer: is_pair(answer, int, int))
def _(prediction):
    with exclusive():  # the journal of this check: no other notebook's tasks in between
        recovers = fetch.apply_async((2,), link_error=report_failure.s())
        gives_up = fetch.apply_async((10,), link_error=report_failure.s())
        recovers.get(timeout=15)
        gives_up.get(timeout=15, propagate=False)
        wait_until(lambda: _errbacks_for(gives_up), 10)  # the errback is sent once the failure is stored
    seen = (_errbacks_for(recovers), _errbacks_for(gives_up))
    return tuple(prediction) == seen, repr(seen)


@exercise("11.3", en="the countdown of retry n (n = 0, 1, 2 ...) is factor * 2 ** n seconds, at most "
                     "retry_backoff_max; the factor is retry_backoff made a whole number of seconds, at least 1 "
                     "(int(max(1.0, retry_backoff)) in celery/app/autoretry.py).",
          ru="пауза перед повторной попыткой номер n (n = 0, 1, 2, …) — factor * 2 ** n секунд, но не больше "
             "retry_backoff_max; factor — это retry_backoff, приведённый к целому числу секунд, не меньше 1 "
             "(int(max(1.0, retry_backoff)) в celery/app/autoretry.py).")
def _(answer):
    return list(answer) == [get_exponential_backoff_interval(int(max(1.0, 2.5)), n, 20) for n in range(5)]
