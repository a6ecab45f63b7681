"""The Celery app of the course, configured in one place (like Celery's ``examples/next-steps/proj``)."""
from celery import Celery

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
        # Secure by default: JSON only, never pickle.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_expires=3600,
        # One task at a time per slot, acknowledged when done: what priorities need.
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        # Ten priority levels on both brokers. Redis: one list per level (0 first), named
        # queue, queue:1 .. queue:9. RabbitMQ: queues declared with x-max-priority (9 first).
        task_queue_max_priority=settings.MAX_PRIORITY,
        broker_transport_options={
            "priority_steps": list(range(settings.MAX_PRIORITY + 1)),
            "sep": ":",
            "queue_order_strategy": "priority",
        },
        task_default_queue=settings.DEFAULT_QUEUE,
        task_routes={
            f"course_tasks.tasks.{name}": {"queue": settings.PRIORITY_QUEUE} for name in ("t1", "t2", "t3")
        },
        # Fail fast instead of hanging when the broker is not there.
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        redis_socket_connect_timeout=2,
        redis_socket_timeout=10,
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
    return app


app = configure(Celery("course_tasks", include=["course_tasks.tasks"], task_cls="course_tasks.journal:JournaledTask"))
