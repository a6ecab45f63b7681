"""Exercises of lesson 08: task priorities on RabbitMQ."""
from celery import chain

from .. import settings
from ..rabbitmq import app, t1, t2, t3
from . import entries_on, exercise, is_task_names, run_while_paused, started_order


@exercise("08.1", en="the chain gives priority=9 to its first task only; the worker sends the next step itself, with "
                     "no priority (task_inherit_parent_priority is False), and on RabbitMQ no priority means 0, the "
                     "lowest level. What waits in the queue when the worker is free again after t1?",
          ru="приоритет 9 получает только первая задача цепочки; следующий шаг воркер отправляет сам, без "
             "приоритета (настройка task_inherit_parent_priority равна False), а в RabbitMQ отсутствие "
             "приоритета означает 0 — самый низкий уровень. Что ждёт в очереди, когда воркер освобождается "
             "после t1?")
def _(answer):
    if not is_task_names(answer, 3):
        return False

    def send():
        last = chain(t1.si(), t2.si()).apply_async(priority=9)
        return [last.parent, last, t3.apply_async(priority=1)]

    return list(answer) == run_while_paused(app, "rabbitmq", send)


@exercise("08.2", en="on RabbitMQ the larger the number, the sooner the task runs: t2 needs the largest priority and "
                     "t3 the smallest (Redis's p is RabbitMQ's 9 - p); send while the RabbitMQ worker is paused, nine "
                     "AsyncResults in the notes' order t2, t1, t3, three rounds.",
          ru="в RabbitMQ чем больше число, тем раньше выполняется задача: t2 нужен наибольший приоритет, а t3 — "
             "наименьший (p из Redis — это 9 - p в RabbitMQ); отправляйте, пока воркер для RabbitMQ на паузе; "
             "ответ — девять AsyncResult в порядке конспекта: t2, t1, t3, три круга.")
def _(answer):
    if len(answer) != 9:
        return False
    entries = entries_on(answer, "rabbitmq")
    if not entries or [e["task"] for e in entries] != ["t2", "t1", "t3"] * 3:
        return False
    return started_order(entries) == ["t2"] * 3 + ["t1"] * 3 + ["t3"] * 3


@exercise("08.3", en="app.amqp.queues maps a queue name to the kombu Queue the app declares; look at its "
                     "queue_arguments.",
          ru="app.amqp.queues сопоставляет имени очереди объект Queue из kombu, который объявляет приложение; "
             "загляните в его queue_arguments.")
def _(answer):
    declared = app.amqp.queues[settings.rabbitmq_queue()].queue_arguments["x-max-priority"]
    return type(answer) is int and answer == declared
