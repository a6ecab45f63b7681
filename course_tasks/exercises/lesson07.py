"""Exercises of lesson 07: task priorities on Redis."""
from bisect import bisect

from . import entries_on, exercise, started_order


@exercise("07.1", en="send both tasks inside  with paused(app, \"course.priority\", \"prio@course\"):  or the idle "
                     "prio@course takes t2 before t1 even arrives; the answer is the list of the two AsyncResults, "
                     "in the order you sent them.",
          ru="отправляйте обе задачи внутри блока with paused(app, \"course.priority\", \"prio@course\"), иначе "
             "свободный prio@course заберёт t2 раньше, чем придёт t1; ответ — список из двух AsyncResult в "
             "порядке отправки.")
def _(answer):
    if len(answer) != 2:
        return False
    entries = entries_on(answer, "priority")
    if not entries:
        return False
    return [(e["task"], e["priority"]) for e in entries] == [("t2", 5), ("t1", 4)] and started_order(entries) == ["t1", "t2"]


@exercise("07.2", en="kombu rounds a priority DOWN to the nearest of its priority_steps; the lesson printed "
                     "channel.priority(p) for every p of a Connection with no transport options.",
          ru="kombu округляет приоритет ВНИЗ до ближайшего из priority_steps; в уроке напечатано "
             "channel.priority(p) для каждого p у Connection без параметров транспорта.")
def _(answer):
    from kombu.transport.redis import PRIORITY_STEPS

    def level(priority):
        return PRIORITY_STEPS[bisect(PRIORITY_STEPS, priority) - 1]

    return sorted(answer) == [p for p in range(10) if level(p) == level(5)]


@exercise("07.3", en="on Redis the smaller number runs first, so give t3 the smallest priority and t2 the largest "
                     "(RabbitMQ's p is Redis's 9 - p); send while prio@course is paused, nine AsyncResults in "
                     "the notes' order t2, t1, t3, three rounds.",
          ru="в Redis первым идёт меньшее число, так что t3 нужен наименьший приоритет, а t2 — наибольший (p "
             "из RabbitMQ — это 9 - p в Redis); отправляйте, пока prio@course на паузе; ответ — девять "
             "AsyncResult в порядке конспекта: t2, t1, t3, три круга.")
def _(answer):
    if len(answer) != 9:
        return False
    entries = entries_on(answer, "priority")
    if not entries or [e["task"] for e in entries] != ["t2", "t1", "t3"] * 3:
        return False
    return started_order(entries) == ["t3"] * 3 + ["t1"] * 3 + ["t2"] * 3
