"""Exercises of lesson 09: inspecting workers."""

from .. import settings
from ..celery import app
from ..exclusive import exclusive
from ..tasks import nap
from ..waiting import wait_until
from . import exercise, journal_entry

# 09.3: how many nap(1) the check sends to the main worker at once.
NAPS = 6
LET_GO_SECONDS = 10  # a worker lists a task in active() until a moment after its result is stored


def _until_let_go(ids):
    """Wait (bounded) until the main worker no longer lists the tasks ``ids`` in ``active()``: their results are
    stored a moment before the worker acknowledges them and takes them off its list. A check returns only then, so
    that the next cell (or notebook) that asks ``celery inspect active`` does not see a task of this check."""
    node = settings.worker_roles()["main"].node
    inspector = app.control.inspect(destination=[node], timeout=1.0)
    wait_until(lambda: not {task["id"] for task in (inspector.active() or {}).get(node, [])} & set(ids),
               LET_GO_SECONDS, every=0.05)


@exercise("09.1", en="one of the inspect() methods of the section 'The same from Python' answers which queues a worker "
                     "takes messages from; ask prio@course alone (destination=[...]) and keep the \"name\" of each "
                     "queue it lists.",
          ru="один из методов inspect() из раздела «То же из Python» отвечает, из каких очередей воркер берёт "
             "сообщения; спросите только prio@course (destination=[...]) и оставьте от каждой очереди её \"name\".")
def _(answer):
    return list(answer) == list(settings.worker_roles()["priority"].queues)


@exercise("09.2", en="send with nap.delay(1), then call inspect(...).active() in a loop bounded by time "
                     "(time.monotonic()) until an entry with your task's id shows up; that entry is the answer.",
          ru="отправьте nap.delay(1), затем в цикле, ограниченном по времени (time.monotonic()), вызывайте "
             "inspect(...).active(), пока не появится запись с id вашей задачи; эта запись и есть ответ.")
def _(answer):
    if answer["name"] != "course_tasks.tasks.nap":
        return False
    value = app.AsyncResult(answer["id"]).get(timeout=15)
    _until_let_go([answer["id"]])
    entry = journal_entry(answer["id"])
    return bool(entry) and entry["task"] == "nap" and list(answer["args"]) == [value]


@exercise("09.3", en="worker@course has 4 processes and a prefetch count of 4 × worker_prefetch_multiplier (1); with "
                     "task_acks_late a running task's message stays unacknowledged, so how many more may it take from "
                     "the broker while all four run? The rest wait in Redis.",
          ru="у worker@course 4 процесса и предвыборка 4 × worker_prefetch_multiplier (1); при task_acks_late "
             "сообщение выполняющейся задачи остаётся неподтверждённым — сколько ещё сообщений воркер может взять "
             "у брокера, пока выполняются все четыре? Остальные ждут в Redis.",
          prediction=lambda answer: isinstance(answer, dict) and set(answer) == {"active", "reserved"}
          and all(isinstance(n, int) for n in answer.values()))
def _(prediction):
    worker = settings.worker_roles()["main"]
    inspector = app.control.inspect(destination=[worker.node], timeout=1.0)
    with exclusive():
        results = [nap.delay(1) for _ in range(NAPS)]
        def busy():
            active = (inspector.active() or {}).get(worker.node, [])
            return active if len(active) >= worker.concurrency else None

        active = wait_until(busy, 5, every=0) or (inspector.active() or {}).get(worker.node, [])
        reserved = (inspector.reserved() or {}).get(worker.node, [])
        seen = {"active": len(active), "reserved": len(reserved)}
        for result in results:
            result.get(timeout=10)
        _until_let_go([result.id for result in results])
    return prediction == seen, repr(seen)
