"""Exercises of lesson 08: task priorities on RabbitMQ."""
from .. import settings
from . import entries_on, exercise, started_order


@exercise("08.1", en="send both tasks inside  with paused(app, queue, node):  or the idle worker takes t1 at once; "
                     "give a priority to t2 only; the answer is the list of the two AsyncResults, in the order you "
                     "sent them.",
          ru="отправляйте обе задачи внутри блока with paused(app, queue, node), иначе свободный воркер сразу "
             "заберёт t1; приоритет указывайте только у t2; ответ — список из двух AsyncResult в порядке "
             "отправки.")
def _(answer):
    if len(answer) != 2:
        return False
    entries = entries_on(answer, "rabbitmq")
    if not entries:
        return False
    no_priority, one = entries
    return ((no_priority["task"], one["task"], one["priority"]) == ("t1", "t2", 1)
            and no_priority["priority"] in (0, None) and started_order(entries) == ["t2", "t1"])


@exercise("08.2", en="on RabbitMQ the larger number runs first, so t2 needs the largest priority and t3 the smallest "
                     "(Redis's p is RabbitMQ's 9 - p); send while the RabbitMQ worker is paused, nine AsyncResults "
                     "in the notes' order t2, t1, t3, three rounds.",
          ru="в RabbitMQ первым идёт большее число, так что t2 нужен наибольший приоритет, а t3 — наименьший "
             "(p из Redis — это 9 - p в RabbitMQ); отправляйте, пока воркер для RabbitMQ на паузе; ответ — "
             "девять AsyncResult в порядке конспекта: t2, t1, t3, три круга.")
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
    from ..rabbitmq import app

    declared = app.amqp.queues[settings.rabbitmq_queue()].queue_arguments["x-max-priority"]
    return type(answer) is int and answer == declared
