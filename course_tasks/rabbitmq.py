"""The same course tasks on RabbitMQ (lesson 08): ``from course_tasks.rabbitmq import app, t1, t2, t3, nap``.

A second app with the course's configuration, talking to ``COURSE_RABBITMQ_URL``; it stores
results in the same Redis as the main app. Its queue is declared with ``x-max-priority``
(``task_queue_max_priority``), always with the same value: RabbitMQ refuses to re-declare a
queue with another one (PRECONDITION_FAILED).

Publisher confirms are on: ``apply_async()`` returns once RabbitMQ has put the message in its queue.
Without them a send is fire-and-forget, and a worker resumed right after the sends (lesson 08's
``paused()``) could start before the last messages had arrived, and run them in the wrong order.
"""
from . import celeryconfig, settings, tasks
from .machinery.plumbing import course_app

app = course_app(
    "course_tasks_rabbitmq", settings.rabbitmq_url(),
    broker_transport_options={**celeryconfig.broker_transport_options, "confirm_publish": True},
    task_default_queue=settings.rabbitmq_queue(),
    task_queues=None,  # its own queue only: task_default_queue
    task_routes={},
)

# The very functions of course_tasks.tasks, under the very same task names.
t1, t2, t3, add, nap = (
    app.task(name=task.name)(task.run) for task in (tasks.t1, tasks.t2, tasks.t3, tasks.add, tasks.nap)
)
