"""Exercises of lesson 07: task priorities on Redis."""
import uuid

from celery import chain
from kombu import Connection

from ..celery import app
from ..tasks import t1, t2, t3
from . import entries_on, exercise, is_task_names, run_while_paused, started_order

# 07.2: the priorities the check sends, in this order, to a queue with kombu's default priority_steps.
DEFAULT_STEPS_SENT = [5, 4, 2, 3, 7]


@exercise("07.1", en="the chain gives priority=9 to its first task only; the worker sends the next step itself, with "
                     "no priority (task_inherit_parent_priority is False), and on Redis no priority means 0, the most "
                     "urgent level. Which lists hold what when prio@course is free again?",
          ru="приоритет 9 получает только первая задача цепочки; следующий шаг воркер отправляет сам, без "
             "приоритета (настройка task_inherit_parent_priority равна False), а в Redis отсутствие приоритета "
             "означает 0 — самый срочный уровень. Что лежит в каких списках, когда prio@course снова свободен?",
          prediction=lambda answer: is_task_names(answer, 3))
def _(prediction):
    def send():
        last = chain(t1.si(), t2.si()).apply_async(priority=9)
        return [last.parent, last, t3.apply_async(priority=9)]

    order, table = run_while_paused(app, "priority", send)
    return list(prediction) == order, table


@exercise("07.2", en="with the default steps [0, 3, 6, 9] kombu rounds every priority DOWN to a step (2 -> 0; 3, 4 and "
                     "5 -> 3; 7 -> 6); the lists are read from step 0 up, and within one list first in, first out.",
          ru="с уровнями по умолчанию [0, 3, 6, 9] kombu округляет каждый приоритет ВНИЗ до ближайшего уровня "
             "(2 → 0; 3, 4 и 5 → 3; 7 → 6); списки читаются начиная с уровня 0, а внутри одного списка — "
             "в порядке поступления.",
          prediction=lambda answer: isinstance(answer, (list, tuple)) and sorted(answer) == sorted(DEFAULT_STEPS_SENT))
def _(prediction):
    with Connection(app.conf.broker_url) as plain:  # kombu's defaults: no transport options
        queue = plain.SimpleQueue(f"course.exercise.{uuid.uuid4().hex[:8]}")
        try:
            for priority in DEFAULT_STEPS_SENT:
                queue.put({"priority": priority}, priority=priority)
            taken = []
            for _ in DEFAULT_STEPS_SENT:
                message = queue.get(timeout=1)
                taken.append(message.payload["priority"])
                message.ack()
        finally:
            queue.queue.delete()
            queue.close()
    return list(prediction) == taken, repr(taken)


@exercise("07.3", en="on Redis the smaller the number, the sooner the task runs: give t3 the smallest priority and t2 "
                     "the largest (RabbitMQ's p is Redis's 9 - p); send while prio@course is paused, nine "
                     "AsyncResults in the notes' order t2, t1, t3, three rounds.",
          ru="в Redis чем меньше число, тем раньше выполняется задача: дайте t3 наименьший приоритет, а t2 — "
             "наибольший (p из RabbitMQ — это 9 - p в Redis); отправляйте, пока prio@course на паузе; ответ — "
             "девять AsyncResult в порядке конспекта: t2, t1, t3, три круга.")
def _(answer):
    if len(answer) != 9:
        return False
    entries = entries_on(answer, "priority")
    if not entries or [e["task"] for e in entries] != ["t2", "t1", "t3"] * 3:
        return False
    return started_order(entries) == ["t3"] * 3 + ["t1"] * 3 + ["t2"] * 3
