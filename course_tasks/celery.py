"""The Celery app of the course, configured in one place (like Celery's ``examples/next-steps/proj``)."""
from celery import Celery
from kombu import Exchange, Queue

from . import settings


def course_config(broker: str) -> dict:
    """The course's settings for an app talking to ``broker``."""
    return dict(
        # Celery lets CELERY_BROKER_URL override broker_url, even for a second app (lesson 08's
        # RabbitMQ one); the read and write URLs are taken as given.
        broker_url=broker,
        broker_read_url=broker,
        broker_write_url=broker,
        result_backend=settings.result_backend(),
        # JSON only, never pickle: Celery's default since 4.0 (task_serializer, result_serializer,
        # accept_content); set here explicitly, so that you see it.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_expires=3600,
        # Priorities decide only among messages that wait in the broker, so the priority lessons need a
        # worker that reserves nothing while it is busy. Here: one message per process at a time
        # (prefetch multiplier 1) and the ack sent when the task has run (late acks), so a busy process
        # holds no second message. What late acks cost: delivery becomes at-least-once. If the worker
        # dies mid-task, the broker delivers the message again (RabbitMQ when the connection drops,
        # Redis after visibility_timeout, one hour by default), so a task may run twice: make such
        # tasks idempotent. (A pool process that dies alone is recorded as a failure, WorkerLostError,
        # and acked, unless task_reject_on_worker_lost or task_retry_on_worker_lost is set; the latter
        # is in Celery 5.7, celery/app/defaults.py:313.) On Redis, Celery 5.6+ has worker_disable_prefetch
        # for the same end (no new message while every process is busy) with the ack unchanged (before
        # the task runs).
        # Prefetch 1 also costs throughput with many short tasks (Celery's default multiplier is 4).
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        # Ten priority levels on both brokers. Redis: one list per level (0 first), named
        # queue, queue:1 .. queue:9. RabbitMQ: queues declared with x-max-priority (9 first).
        task_queue_max_priority=settings.MAX_PRIORITY,
        broker_transport_options={
            "priority_steps": list(range(settings.MAX_PRIORITY + 1)),
            "sep": ":",
            "queue_order_strategy": "priority",
            # A read on a Redis that accepts but never answers fails after this many seconds (kombu's
            # default is to wait for ever); above the 1 s a worker's BRPOP waits for a message.
            "socket_timeout": 3,
        },
        task_default_queue=settings.DEFAULT_QUEUE,
        # Both queues of the course, declared: a worker started without -Q, as in the notes and Celery's
        # docs (celery -A course_tasks worker), consumes both. The course's own workers take one each (-Q).
        # x-max-priority comes from task_queue_max_priority (RabbitMQ); Redis uses priority_steps above.
        task_queues=[Queue(name, Exchange(name), routing_key=name)
                     for name in (settings.DEFAULT_QUEUE, settings.PRIORITY_QUEUE)],
        task_routes={
            f"course_tasks.tasks.{name}": {"queue": settings.PRIORITY_QUEUE} for name in ("t1", "t2", "t3")
        },
        # When the broker is missing: kombu stops retrying a connection after broker_connection_timeout,
        # the result backend's Redis gives up a connect after redis_socket_connect_timeout (a backend
        # setting, not the broker's: there it is the transport option socket_connect_timeout), and
        # check_setup() uses short timeouts of its own (preflight.py), so it answers within seconds. A
        # worker started before its broker keeps retrying instead of exiting (retry on startup, up to
        # broker_connection_max_retries, 100 by default); from Celery 6 on, this setting alone decides that.
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        redis_socket_connect_timeout=2,
        redis_socket_timeout=1.5,  # the result backend: one read; a silent Redis is told within 5 s
        result_backend_transport_options={"retry_policy": {"max_retries": 1}},
        # Events, so that Flower can show what happens.
        worker_send_task_events=True,
        task_send_sent_event=True,
        worker_hijack_root_logger=True,
    )


def configure(app: Celery, config=lambda: course_config(settings.broker_url())) -> Celery:
    """Give ``app`` the settings ``config()`` returns, read when the app is first used, not at import:
    a test run imports this package first and chooses its own broker after."""
    app.add_defaults(config)
    # A redis:// result backend is the course's (machinery/backend.py): Celery's, with messages a learner can act on.
    app.loader.override_backends = {scheme: "course_tasks.machinery.backend:CourseRedisBackend" for scheme in ("redis", "rediss")}
    # A send to a broker that does not answer says where and what to do (publish.py), not a bare OperationalError.
    app.amqp_cls = "course_tasks.machinery.publish:CourseAMQP"
    return app


app = configure(Celery("course_tasks", include=["course_tasks.tasks", "course_tasks.workers", "course_tasks.retrying",
                                           "course_tasks.canvas_tasks", "course_tasks.limits",
                                           "course_tasks.faults"], task_cls="course_tasks.journal:JournaledTask"))
