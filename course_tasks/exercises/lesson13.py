"""Exercises of lesson 13: time limits, expiry and revoking."""

from celery.exceptions import SoftTimeLimitExceeded, TaskRevokedError
from celery.result import AsyncResult

from ..celery import app
from ..waiting import wait_until
from . import exercise, journal_entry


def _ended(result, timeout=15):
    """The outcome of ``result``'s task once it has ended (raises if it is not an AsyncResult or never ends)."""
    if not isinstance(result, AsyncResult):
        raise TypeError(f"expected an AsyncResult, got {type(result).__name__}")
    return result.get(timeout=timeout, propagate=False)


@exercise("13.1", en="the task stays the same; apply_async() takes soft_time_limit=... for one call, and the "
                     "arguments as a tuple: nap.apply_async((5,), ...).",
          ru="задача остаётся прежней; apply_async() принимает soft_time_limit=... для одного вызова, а "
             "аргументы — кортежем: nap.apply_async((5,), ...).")
def _(answer):
    outcome = _ended(answer)
    entry = journal_entry(answer.id)
    return (isinstance(outcome, SoftTimeLimitExceeded) and entry is not None and entry["task"] == "nap"
            and entry["args"] == [5] and entry["finished"] - entry["started"] < 2)


@exercise("13.2", en="the prediction is a pair like (\"SUCCESS\", 1): the state, then how many times add ran. "
                     "When does the worker check expires: when the message arrives, or when the task is due to run?",
          ru="предсказание — пара вроде (\"SUCCESS\", 1): состояние и сколько раз выполнилась add. Когда воркер "
             "проверяет expires: когда приходит сообщение или когда задаче пора запускаться?")
def _(answer):
    prediction, result = answer
    outcome = _ended(result)
    runs = 0 if journal_entry(result.id) is None else 1
    truth = (result.state, runs)
    return isinstance(outcome, TaskRevokedError) and tuple(prediction) == truth == ("REVOKED", 0)


@exercise("13.3", en="revoke() alone only stops a task that has not started; revoke(terminate=True) also signals the "
                     "process that runs it. Wait with limits.wait_running(answer) until it runs.",
          ru="один revoke() останавливает только задачу, которая ещё не началась; revoke(terminate=True) "
             "вдобавок посылает сигнал процессу, который её выполняет. Дождитесь её старта: "
             "limits.wait_running(answer).")
def _(answer):
    if not isinstance(_ended(answer, timeout=5), TaskRevokedError):
        return False
    # REVOKED alone is not enough: every worker that hears a plain revoke() marks it so, while the task runs on.
    def gone():
        replies = app.control.inspect(destination=["worker@course"], timeout=1.0).query_task(answer.id) or {}
        return answer.id not in replies.get("worker@course", {})

    return wait_until(gone, 2, every=0.1)
