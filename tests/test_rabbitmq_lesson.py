"""Lesson 08 needs RabbitMQ. Without one its notebooks are left out (conftest.py), and this test says why
as a skip; with one, it checks that the lesson's queue really is a priority queue."""
import pytest


def test_rabbitmq_queue_has_x_max_priority(pytestconfig):
    harness = getattr(pytestconfig, "course_harness", None)
    if harness is None:
        pytest.skip("no live harness in this process (collect-only, or an xdist worker)")
    if harness.rabbitmq_missing:
        pytest.skip(harness.rabbitmq_missing)

    from amqp.exceptions import PreconditionFailed

    from course_tasks import settings
    from course_tasks.rabbitmq import app

    queue = settings.worker_roles()["rabbitmq"].queues[0]
    with app.connection_for_write() as conn:
        # RabbitMQ accepts a declaration of an existing queue only when it is equivalent: this one is ...
        conn.channel().queue_declare(queue, durable=True, auto_delete=False,
                                     arguments={"x-max-priority": settings.MAX_PRIORITY})
        # ... and the same without x-max-priority is refused, naming it: the queue has exactly that value.
        with pytest.raises(PreconditionFailed, match="inequivalent arg 'x-max-priority'"):
            conn.channel().queue_declare(queue, durable=True, auto_delete=False)
