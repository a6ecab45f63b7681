"""``python3 course.py up``: a broker, the workers and JupyterLab for a learner, all stopped on Ctrl-C."""
import os
import signal
import time

from . import settings
from .services import ROOT, Stack, amqp_answers


def up(flower=False, jupyter=True):
    with Stack(ROOT / ".course" / "logs") as stack:
        try:
            service = _start(stack, flower, jupyter)
            while service is None or service.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:  # Ctrl-C, while starting or while running: stop what was started
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
            print("\nStopping everything the course started ...")
    return 0


def _start(stack, flower, jupyter):
    """Start the broker (if none answers), the workers, and Flower or JupyterLab; return what to wait on."""
    broker = stack.ensure_redis()
    stack.use_broker(broker, os.environ.get("CELERY_RESULT_BACKEND") or broker)
    roles = ["main", "priority"]
    rabbit = settings.rabbitmq_url()
    if amqp_answers(rabbit):
        print(f"RabbitMQ: found at {settings.redacted(rabbit)}; the RabbitMQ lesson will use it")
        roles.append("rabbitmq")
    else:
        print(f"RabbitMQ: none at {settings.redacted(rabbit)}; the RabbitMQ lesson will say how to start one")
    stack.start_workers(roles)
    if flower:
        stack.start_flower()
    if not jupyter:
        print("Broker and workers are running. Ctrl-C stops everything.")
        return None
    service = stack.start_jupyter()
    print("JupyterLab is starting; open the address with the token it prints below. Ctrl-C stops everything.")
    return service
