"""Exercises of lesson 13: time limits, expiry and revoking."""
from celery.exceptions import SoftTimeLimitExceeded, TaskRevokedError
from celery.result import AsyncResult

from .. import limits
from ..celery import app
from ..exclusive import exclusive
from ..i18n import register, say
from ..limits import keep_working
from ..tasks import add
from ..waiting import wait_until
from . import exercise, expected, journal_entry

register({
    "exercise.13.4.not_started": {
        "en": "the check cannot tell that nap(30) was running when you stopped it: a revoke that comes before the "
              "start cancels a waiting task, nothing more. Send it and wait with limits.wait_running(answer), as "
              "the exercise shows, then stop it.",
        "ru": "проверка не видит, что nap(30) выполнялась, когда вы её остановили: revoke до старта просто отменяет "
              "ждущую задачу. Отправьте её и дождитесь старта через limits.wait_running(answer), как показано в "
              "упражнении, а потом останавливайте."},
    "exercise.13.4.still_running": {
        "en": "its state says REVOKED, yet nap(30) still runs on {node}; the check has now stopped it for you "
              "(revoke(terminate=True)), so that the process is free.",
        "ru": "состояние говорит REVOKED, но nap(30) всё ещё выполняется на {node}; проверка остановила её за вас "
              "(revoke(terminate=True)), чтобы процесс освободился."},
})

NODE = "worker@course"


def _ended(result, timeout=15):
    """The outcome of ``result``'s task once it has ended (raises if it is not an AsyncResult or never ends)."""
    if not isinstance(result, AsyncResult):
        raise TypeError(expected("AsyncResult", result))
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


@exercise("13.2", en="the prediction is three things, like (\"SUCCESS\", \"SoftTimeLimitExceeded\", 0): the state, the "
                     "name of the error stored as the result, and how many pool processes were replaced. A soft limit "
                     "is an exception: what happens to the task if it catches it and carries on?",
          ru="прогноз — три значения, например (\"SUCCESS\", \"SoftTimeLimitExceeded\", 0): состояние, имя ошибки, "
             "записанной как результат, и сколько процессов пула заменено. Мягкий лимит — это исключение; что "
             "будет с задачей, если она его перехватит и продолжит работу?",
          prediction=lambda answer: isinstance(answer, (tuple, list)) and len(answer) == 3
          and isinstance(answer[0], str) and isinstance(answer[1], str) and isinstance(answer[2], int))
def _(prediction):
    with exclusive():  # worker@course is this notebook's while the check counts its processes
        before = limits.pool_processes()
        result = keep_working.delay(3)
        outcome = _ended(result)
        replaced = limits.replaced_since(before)
    seen = (result.state, type(outcome).__name__, replaced)
    return tuple(prediction) == seen, repr(seen)


@exercise("13.3", en="the prediction is a pair like (\"SUCCESS\", 1): the state, then how many times add ran. "
                     "When does the worker check expires: when the message arrives, or when the task is due to run?",
          ru="прогноз — пара вроде (\"SUCCESS\", 1): состояние и сколько раз выполнилась add. Когда воркер "
             "проверяет expires: когда приходит сообщение или когда задаче пора запускаться?",
          prediction=lambda answer: isinstance(answer, (tuple, list)) and len(answer) == 2
          and isinstance(answer[0], str) and isinstance(answer[1], int))
def _(prediction):
    result = add.apply_async((1, 1), countdown=2, expires=1)
    outcome = _ended(result)
    seen = (result.state, 0 if journal_entry(result.id) is None else 1)
    return isinstance(outcome, TaskRevokedError) and tuple(prediction) == seen, repr(seen)


@exercise("13.4", en="revoke() alone only stops a task that has not started; revoke(terminate=True) also signals the "
                     "process that runs it.",
          ru="сам по себе revoke() останавливает только задачу, которая ещё не началась; revoke(terminate=True) "
             "вдобавок посылает сигнал процессу, который её выполняет.")
def _(answer):
    if not isinstance(answer, AsyncResult):
        raise TypeError(expected("AsyncResult", answer))
    process = limits.RUNNING_IN.get(answer.id)
    if process is None:
        return False, say("exercise.13.4.not_started")
    if not isinstance(_ended(answer, timeout=5), TaskRevokedError):
        return False

    def running():
        replies = app.control.inspect(destination=[NODE], timeout=1.0).query_task(answer.id) or {}
        return answer.id in replies.get(NODE, {})

    # REVOKED alone is not enough: every worker that hears a plain revoke() marks it so, while the task runs on.
    if not wait_until(lambda: not running(), 2, every=0.1):
        answer.revoke(terminate=True)
        return False, say("exercise.13.4.still_running", node=NODE)
    app.control.broadcast("course_check_pool", destination=[NODE])  # the worker replaces a dead process now
    return wait_until(lambda: process not in limits.pool_processes(NODE), 6, every=0.1)
