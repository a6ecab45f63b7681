"""Exercises of lesson 14: chord and callbacks."""
from celery import chord, signals
from celery.result import AsyncResult, GroupResult

from .. import journal, settings
from ..canvas_tasks import collect
from ..i18n import register, say
from ..journal import max_parallel
from ..tasks import add, nap
from ..waiting import wait_until
from . import exercise, expected, journal_entry, result_of

register({
    "exercise.14.1.one_at_a_time": {
        "en": "the squares ran one at a time (at most {parallel} at once on {node}): each waited for the one before.",
        "ru": "квадраты считались по одному (одновременно не больше {parallel} на {node}): каждый ждал "
              "предыдущего."},
    "exercise.14.1.through_notebook": {
        "en": "the squares' results went through the notebook, which waited for them: in a chord the worker hands "
              "them to xsum itself.",
        "ru": "результаты квадратов прошли через ноутбук, который их ждал: в chord воркер сам передаёт их xsum."},
    "exercise.14.2.fixed_sum": {
        "en": "the callback is {link}: the sum is written into the call, not passed on by add.",
        "ru": "обратный вызов — {link}: сумма вписана в вызов, а не передана задачей add."},
    "exercise.14.4.alerts": {
        "en": "runs of report_failure: {count} ({alerts}); the task that failed is {failed}.",
        "ru": "запусков report_failure: {count} ({alerts}); упала задача {failed}."},
    "exercise.14.4.body": {"en": "the body {id}", "ru": "тело {id}"},
    "exercise.14.4.header": {"en": "the header task {id}", "ru": "задача заголовка {id}"},
})

SQUARES = range(1, 21)  # 14.1
HEADER = [("square", [2]), ("divide", [1, 0]), ("square", [3])]  # 14.4, in this order
ALERT_GRACE = 1.0  # 14.4: after the first alert, how long the check waits for a second one
_links = {}  # 14.2: the id of each add this process sends -> the callbacks (link=) its message carries


@signals.before_task_publish.connect
def _record_links(sender=None, headers=None, body=None, **_):
    if sender == add.name and headers and isinstance(body, (list, tuple)) and len(body) > 2:
        _links[headers["id"]] = list((body[2] or {}).get("callbacks") or [])


def _ancestors(result):
    """``result`` and its parents, nearest first (a chord's body has its header's GroupResult as parent)."""
    found = []
    while result is not None:
        found.append(result)
        result = result.parent
    return found


@exercise("14.1", en="a chord runs its header in parallel and hands the list of their results to its body, and the "
                     "body can be any signature, a chain too. Nothing waits for anything, not even the notebook, "
                     "until the end.",
          ru="chord выполняет заголовок параллельно и передаёт список результатов телу, а тело может быть любой "
             "сигнатурой, в том числе цепочкой. Никто ничего не ждёт, даже ноутбук, до самого конца.")
def _(answer):
    if result_of(answer, timeout=20) != 10 * sum(i * i for i in SQUARES):
        return False
    node = settings.worker_roles()["main"].node
    entries = journal.entries()
    squares = [e for e in entries if e["task"] == "square" and e["args"] and e["args"][0] in SQUARES
               and e["state"] == "SUCCESS"]
    latest = {}
    for entry in squares:  # the latest run of each square (an earlier try may be in the journal too)
        latest[entry["args"][0]] = entry
    if set(latest) != set(SQUARES):
        return False
    summed = [e for e in entries if e["task"] == "xsum" and e["args"] == [[i * i for i in SQUARES]]]
    multiplied = journal_entry(answer.id)
    if not summed or not multiplied or multiplied["task"] != "mul" or multiplied["node"] != node:
        return False
    parallel = max_parallel(list(latest.values()))
    if parallel < 2:
        return False, say("exercise.14.1.one_at_a_time", parallel=parallel, node=node)
    if not any(isinstance(r, GroupResult) for r in _ancestors(answer)):
        return False, say("exercise.14.1.through_notebook")
    return True


@exercise("14.2", en="a callback gets the task's result as its first argument; .si() makes a signature that "
                     "takes nothing more (lesson 06), so mul would get only the 10. Celery checks a task's "
                     "arguments when it is sent, and the worker sends the callback right after add returns: the "
                     "TypeError is raised there, so add is stored as FAILURE and mul is never sent.",
          ru="обратный вызов получает результат задачи первым аргументом; .si() делает сигнатуру, которая "
             "ничего больше не принимает (урок 06), так что mul получила бы только 10. Celery проверяет "
             "аргументы задачи при отправке, а воркер отправляет обратный вызов сразу после того, как add "
             "вернула результат: TypeError возникает именно там, поэтому add сохраняется как FAILURE, а mul "
             "так и не отправляется.")
def _(answer):
    if result_of(answer) != 7:
        return False
    fixed = [link for link in _links.get(answer.id, [])
             if link.get("immutable") or list(link.get("args") or ()) != [10]]
    if fixed:
        link = fixed[0]
        shown = f"{link['task'].rsplit('.', 1)[-1]}.{'si' if link.get('immutable') else 's'}(" \
                f"{', '.join(map(repr, link.get('args') or []))})"
        return False, say("exercise.14.2.fixed_sum", link=shown)
    return wait_until(lambda: any(e["task"] == "mul" and e["args"] == [7, 10] and e["state"] == "SUCCESS"
                                  for e in journal.entries()), 10)


@exercise("14.3", en="a chord's body gets the header's results in the order of the header, whichever task "
                     "finishes first. The prediction is a list of three numbers.",
          ru="тело chord получает результаты заголовка в порядке заголовка, какая бы задача ни завершилась первой. "
             "Прогноз — список из трёх чисел.",
          prediction=lambda answer: isinstance(answer, (list, tuple)) and len(answer) == 3
          and all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in answer))
def _(prediction):
    result = chord([nap.s(0.6), nap.s(0.2), nap.s(0.4)])(collect.s())
    value = result_of(result)
    body = journal_entry(result.id)
    return list(prediction) == value and bool(body) and body["args"] == [value], repr(value)


@exercise("14.4", en="an errback attached to the body is called with the body's id, not the failed task's (and may "
                     "still find it PENDING); an errback attached to a task is called with that task's own id, and "
                     "only if that task fails (sig.on_error(errback) attaches one to a signature).",
          ru="обработчик ошибки, прикреплённый к телу, получает id тела, а не упавшей задачи (и может застать его ещё "
             "в PENDING); обработчик, прикреплённый к задаче, получает id этой самой задачи, и только если она упала "
             "(sig.on_error(errback) прикрепляет его к сигнатуре).")
def _(answer):
    if not isinstance(answer, AsyncResult):
        raise TypeError(expected("AsyncResult", answer))
    header = answer.parent
    if not isinstance(header, GroupResult) or len(header.results) != len(HEADER):
        return False
    ids = [r.id for r in header.results]
    wait_until(answer.ready, 15)
    runs = [journal_entry(task_id) for task_id in ids]
    if [(e["task"], e["args"]) if e else None for e in runs] != HEADER:
        return False
    failed = ids[1]

    def alerts():
        return [e["args"][0] for e in journal.entries() if e["task"] == "report_failure" and e["args"]
                and e["args"][0] in (*ids, answer.id)]

    if wait_until(alerts, 10):
        wait_until(lambda: len(alerts()) > 1, ALERT_GRACE)  # a second alert, if one comes, comes together
    found = alerts()
    if found == [failed]:
        return True
    named = [say("exercise.14.4.body" if a == answer.id else "exercise.14.4.header", id=a) for a in found]
    return False, say("exercise.14.4.alerts", count=len(found), alerts=", ".join(named) or "-", failed=failed)
