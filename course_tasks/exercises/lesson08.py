"""Exercises of lesson 08: task priorities on RabbitMQ."""
from celery import chain

from .. import settings
from ..i18n import register, say
from ..rabbitmq import app, t1, t2, t3
from . import entries_on, exercise, is_task_names, journal_entry, run_while_paused, started_order

register({
    "exercise.08.2.redis_app": {
        "en": "these tasks ran on {node}, the Redis worker: they were sent with the t1, t2 and t3 of the Redis app "
              "(from course_tasks import ...). This lesson's go through RabbitMQ: from course_tasks.rabbitmq import "
              "t1, t2, t3 (the Setup cell imports them).",
        "ru": "эти задачи выполнил {node}, воркер для Redis: они отправлены через t1, t2 и t3 приложения для Redis "
              "(from course_tasks import ...). Задачи этого урока идут через RabbitMQ: from course_tasks.rabbitmq "
              "import t1, t2, t3 (их импортирует ячейка «Подготовка»)."},
})


@exercise("08.1", en="the chain gives priority=9 to its first task only; the worker sends the next step itself, with "
                     "no priority (task_inherit_parent_priority is False), and on RabbitMQ no priority means 0, the "
                     "lowest level. What waits in the queue when the worker is free again after t1?",
          ru="приоритет 9 получает только первая задача цепочки; следующий шаг воркер отправляет сам, без "
             "приоритета (настройка task_inherit_parent_priority равна False), а в RabbitMQ отсутствие "
             "приоритета означает 0 — самый низкий уровень. Что ждёт в очереди, когда воркер освобождается "
             "после t1?",
          prediction=lambda answer: is_task_names(answer, 3))
def _(prediction):
    def send():
        last = chain(t1.si(), t2.si()).apply_async(priority=9)
        return [last.parent, last, t3.apply_async(priority=1)]

    order, table = run_while_paused(app, "rabbitmq", send)
    return list(prediction) == order, table


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
    if entries is None:
        nodes = sorted({entry["node"] for entry in filter(None, (journal_entry(result.id) for result in answer))})
        redis = settings.worker_roles()["priority"].node
        if redis in nodes:  # t1, t2, t3 of course_tasks: the Redis app's, run by the Redis worker
            return False, say("exercise.08.2.redis_app", node=redis)
        return False
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
