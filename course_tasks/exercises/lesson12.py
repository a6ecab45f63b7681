"""Exercises of lesson 12: acknowledgements, and what a killed worker or pool process does to a task."""
from celery.result import AsyncResult

from .. import delivery, settings
from . import exercise


def _settled(result, timeout=15):
    """``result``'s task once it has ended (raises if it is not an AsyncResult or never ends)."""
    if not isinstance(result, AsyncResult):
        raise TypeError(f"expected an AsyncResult, got {type(result).__name__}")
    result.get(timeout=timeout, propagate=False)
    return result


def _prediction_and_outcome(answer, task, kills):
    """(the learner's prediction, what happened: (state, runs that ended)), or None if the runs were not the
    ones the exercise asks for (``task``, cut off ``kills`` times)."""
    prediction, result = answer
    _settled(result)
    runs = delivery.attempts(result)
    if not runs or runs[0]["task"] != task or sum(run["state"] == "KILLED" for run in runs) != kills:
        return None
    ended = sum(run["state"] in ("SUCCESS", "FAILURE") for run in runs)
    return tuple(prediction), (result.state, ended)


@exercise("12.1", en="the prediction is a pair like (\"SUCCESS\", 1): the state, then how many runs ended. Send "
                     "nap_acked_early, kill its pool process with kill_pool_process(result), and answer "
                     "(prediction, result). Which acknowledgement matters when the worker itself is alive?",
          ru="предсказание — пара вроде (\"SUCCESS\", 1): состояние и сколько запусков завершилось. Отправьте "
             "nap_acked_early, убейте её процесс пула вызовом kill_pool_process(result) и запишите "
             "в answer пару (prediction, result). Важно ли, когда подтверждено сообщение, если сам воркер жив?")
def _(answer):
    found = _prediction_and_outcome(answer, "nap_acked_early", kills=1)
    return found is not None and found[0] == found[1] == ("FAILURE", 0)


@exercise("12.2", en="the one thing to change is the task: which of the lesson's naps keeps its message until it "
                     "has ended? Kill the worker during it as before, wait_for_worker(\"delivery\"), answer the "
                     "AsyncResult.",
          ru="менять нужно задачу: какая из задач урока держит сообщение неподтверждённым, пока не завершится? "
             "Убейте воркер во время её запуска, как раньше, вызовите wait_for_worker(\"delivery\"), а в "
             "answer запишите AsyncResult.")
def _(answer):
    if _settled(answer).get(timeout=1, propagate=False) != 1:
        return False
    runs = delivery.attempts(answer)
    return ([run["state"] for run in runs] == ["KILLED", "SUCCESS"] and runs[1]["redelivered"]
            and runs[0]["node"] == settings.worker_roles()["delivery"].node)


@exercise("12.3", en="the prediction is a pair like (\"SUCCESS\", 1). Call kill_pool_process(result) twice: the second "
                     "call waits for the retry to start. How many retries does max_retries=1 allow?",
          ru="предсказание — пара вроде (\"SUCCESS\", 1). Вызовите kill_pool_process(result) дважды: второй вызов "
             "дождётся начала повторной попытки. Сколько повторных попыток разрешает max_retries=1?")
def _(answer):
    found = _prediction_and_outcome(answer, "nap_retried", kills=2)
    return found is not None and found[0] == found[1] == ("FAILURE", 0)
