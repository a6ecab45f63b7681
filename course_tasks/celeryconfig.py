"""The course's Celery configuration: the settings the lessons teach, each with the lesson that shows it.

``celery.py`` reads this module with ``app.config_from_object`` when the app is first used (so a test run can
still choose its broker after importing the course). The names are Celery's (docs: "Configuration and
defaults"). What the course adds for its own sake (timeouts for a broker that does not answer, clearer
errors) is in ``course_tasks/machinery/plumbing.py``.
"""
from celery.schedules import crontab
from kombu import Exchange, Queue

from . import settings

broker_url = settings.broker_url()  # CELERY_BROKER_URL, else the local Redis (lesson 00)
result_backend = settings.result_backend()  # CELERY_RESULT_BACKEND, else the Redis broker itself (lessons 00, 03)
result_expires = 3600  # results are kept an hour, as in Celery's examples/next-steps/proj (lesson 03)

# JSON only, never pickle (lessons 00, 02): Celery's default since 4.0, set here so that you see it.
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]

# A busy pool process holds no second message (lessons 07, 12): one message per process at a time, acknowledged
# once the task has run. The cost: delivery becomes at-least-once (a worker that dies mid-task gets its message
# again, so make such tasks idempotent), and prefetch 1 costs throughput with many short tasks (default: 4).
task_acks_late = True
worker_prefetch_multiplier = 1

# Ten priority levels on both brokers (lessons 07, 08): RabbitMQ declares queues with x-max-priority (9 first);
# Redis keeps one list per level, 0 first, named course.priority, course.priority:1 .. course.priority:9.
task_queue_max_priority = settings.MAX_PRIORITY
broker_transport_options = {
    "priority_steps": list(range(settings.MAX_PRIORITY + 1)),
    "sep": ":",
    "queue_order_strategy": "priority",
}

task_default_queue = settings.DEFAULT_QUEUE  # a task sent to no queue in particular goes here (lesson 00)
# Both queues declared (lesson 09 shows who consumes which): a worker started without -Q, as in Celery's docs
# (celery -A course_tasks worker), consumes both; the course's own workers take one each (-Q).
task_queues = [Queue(q, Exchange(q), routing_key=q) for q in (settings.DEFAULT_QUEUE, settings.PRIORITY_QUEUE)]
# t1, t2 and t3 go to prio@course's queue (lessons 02 and 07); the shop's tasks to db@course's (lesson 20).
task_routes = {
    **{f"course_tasks.tasks.{name}": {"queue": settings.PRIORITY_QUEUE} for name in ("t1", "t2", "t3")},
    "course_tasks.shop.*": {"queue": "course.db"},
}

# Events, so that Flower (python3 course.py up --flower) shows what the workers do.
worker_send_task_events = True
task_send_sent_event = True

# What celery beat sends (lesson 16; the lesson starts that beat itself: python3 course.py beat beat1). Workers ignore
# it; the course's own beat, which every setup runs (python3 course.py beat beat), replaces it with {} (settings.py).
# Every 2 s a stamp to clock@course's queue, once more with expires=1 (a run not started within 1 s is dropped), and
# a nightly one at 4:00 in the app's timezone (UTC: the course sets no `timezone`).
beat_schedule = {
    "every-2-seconds": {"task": "course_tasks.periodic.stamp", "schedule": 2.0, "args": ("every-2-seconds",),
                        "options": {"queue": "course.clock"}},
    "every-2-seconds-expiring": {"task": "course_tasks.periodic.stamp", "schedule": 2.0,
                                 "args": ("every-2-seconds-expiring",),
                                 "options": {"queue": "course.clock", "expires": 1.0}},
    "every-night-at-4": {"task": "course_tasks.periodic.stamp", "schedule": crontab(hour=4, minute=0),
                         "args": ("every-night-at-4",), "options": {"queue": "course.clock"}},
}
