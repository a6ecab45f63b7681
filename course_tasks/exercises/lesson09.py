"""Exercises of lesson 09: inspecting workers."""
from .. import settings
from . import exercise, journal_entry


@exercise("09.1", en="app.control.inspect(destination=[\"prio@course\"], timeout=1.0).active_queues() gives "
                     "node -> list of queue dicts; keep each one's \"name\".",
          ru="app.control.inspect(destination=[\"prio@course\"], timeout=1.0).active_queues() возвращает словарь "
             "«узел -> список словарей с описанием очередей»; возьмите из каждого \"name\".")
def _(answer):
    return list(answer) == list(settings.worker_roles()["priority"].queues)


@exercise("09.2", en="send with nap.delay(2), then ask inspect(...).active() in a loop bounded by time "
                     "(time.monotonic()) until an entry with your task's id shows up; that entry is the answer.",
          ru="отправьте nap.delay(2), затем в цикле, ограниченном по времени (time.monotonic()), спрашивайте "
             "inspect(...).active(), пока не появится запись с id вашей задачи; эта запись и есть ответ.")
def _(answer):
    from ..celery import app

    if answer["name"] != "course_tasks.tasks.nap":
        return False
    value = app.AsyncResult(answer["id"]).get(timeout=15)
    entry = journal_entry(answer["id"])
    return bool(entry) and entry["task"] == "nap" and list(answer["args"]) == [value]


@exercise("09.3", en="app.control.inspect(timeout=1.0).stats() gives node -> statistics; the number of processes is "
                     "[\"pool\"][\"max-concurrency\"]; add them over all nodes.",
          ru="app.control.inspect(timeout=1.0).stats() возвращает словарь «узел -> статистика»; число "
             "процессов — [\"pool\"][\"max-concurrency\"]; сложите их по всем узлам.")
def _(answer):
    from ..celery import app

    stats = app.control.inspect(timeout=1.0).stats() or {}
    return type(answer) is int and answer == sum(s["pool"]["max-concurrency"] for s in stats.values())
