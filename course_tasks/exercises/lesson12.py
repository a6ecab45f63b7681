"""Exercises of lesson 12: acknowledgements, what a killed worker or pool process does to a task, idempotent tasks."""
import contextlib
import io

from .. import delivery, ledger
from ..delivery import nap_acked_early, nap_retried
from ..exclusive import exclusive
from ..faults import kill_pool_process, kill_worker, wait_for_worker
from ..i18n import register, say
from . import exercise, expected, is_pair

register({
    "exercise.12.3.sent": {"en": "e-mails sent: {counts}; each should go out exactly once.",
                           "ru": "отправлено писем: {counts}; каждое должно уйти ровно один раз."},
})

# Exercise 12.3: the calls the check makes, in this order; the first one is cut off by a kill.
EMAILS = [("A-1", "confirmation"), ("A-1", "confirmation"), ("A-1", "shipped"), ("B-2", "confirmation")]


def _outcome(result, task, kills):
    """``(state, runs that ended)`` of ``result``'s task once it has ended, with the table of its runs; None if the
    runs are not the ones the exercise asks for (``task``, cut off ``kills`` times)."""
    result.get(timeout=15, propagate=False)
    runs = delivery.attempts(result)
    if not runs or runs[0]["task"] != task or sum(run["state"] == "KILLED" for run in runs) != kills:
        return None
    ended = sum(run["state"] in ("SUCCESS", "FAILURE") for run in runs)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        delivery.show_attempts(result)
    return (result.state, ended), shown.getvalue().rstrip()


@exercise("12.1", en="the prediction is a pair like (\"SUCCESS\", 1): the state, then how many runs ended. Which "
                     "acknowledgement matters when the worker itself is alive?",
          ru="прогноз — пара вроде (\"SUCCESS\", 1): состояние и сколько запусков завершилось. Важно ли, когда "
             "подтверждено сообщение, если сам воркер жив?",
          prediction=is_pair)
def _(prediction):
    with exclusive("delivery"):
        result = nap_acked_early.delay(1)
        kill_pool_process(result)
        found = _outcome(result, "nap_acked_early", kills=1)
    if found is None:
        return False
    seen, table = found
    return tuple(prediction) == seen, f"{seen!r}\n{table}"


@exercise("12.2", en="the prediction is a pair like (\"SUCCESS\", 1). How many retries does max_retries=1 allow, and "
                     "what does the worker do with the message when a pool process dies and no retry is left?",
          ru="прогноз — пара вроде (\"SUCCESS\", 1). Сколько повторных попыток разрешает max_retries=1 и что воркер "
             "делает с сообщением, когда процесс пула погиб, а повторных попыток не осталось?",
          prediction=is_pair)
def _(prediction):
    with exclusive("delivery"):
        result = nap_retried.delay(1)
        kill_pool_process(result)
        kill_pool_process(result)
        found = _outcome(result, "nap_retried", kills=2)
    if found is None:
        return False
    seen, table = found
    return tuple(prediction) == seen, f"{seen!r}\n{table}"


@exercise("12.3", en="a key tells apart what must happen once: one key per e-mail that should go out. A redelivered "
                     "message carries the same arguments; a second click is a new message with a new task id; and an "
                     "order gets two different e-mails. What names one e-mail, whatever message carries it?",
          ru="ключ отличает то, что должно случиться один раз: по ключу на каждое письмо, которое должно уйти. "
             "Повторно доставленное сообщение несёт те же аргументы; второй щелчок — новое сообщение с новым id "
             "задачи; а писем у заказа два разных. Что называет одно письмо, каким бы сообщением оно ни пришло?")
def _(answer):
    if not callable(answer):
        raise TypeError(expected("function", answer))
    with exclusive("delivery"):
        delivery.clear()
        results = [answer(*EMAILS[0])]
        kill_worker("delivery", during=results[0])
        results += [answer(*email) for email in EMAILS[1:]]
        with contextlib.redirect_stdout(io.StringIO()):
            wait_for_worker("delivery")
        for result in results:
            result.get(timeout=20, propagate=False)
        if [run["task"] for run in delivery.attempts(results[0])][:1] != ["send_email"]:
            return False
    client = delivery.app.backend.client
    counts = {email: ledger.count(client, email[1], email[0]) for email in dict.fromkeys(EMAILS)}
    shown = ", ".join(f"{order} {kind} ×{n}" for (order, kind), n in counts.items())
    return all(n == 1 for n in counts.values()), say("exercise.12.3.sent", counts=shown)
