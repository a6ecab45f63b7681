"""``python3 course.py up``: a broker, the workers and JupyterLab for a learner, all stopped on Ctrl-C."""
import os
import time

from . import settings
from .services import ROOT, Stack, amqp_answers


def up(flower=False, jupyter=True):
    with Stack(ROOT / ".course" / "logs") as stack:
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
        if jupyter:
            service = stack.start_jupyter()
            print("JupyterLab is starting; open the address with the token it prints below. Ctrl-C stops everything.")
        else:
            service = None
            print("Broker and workers are running. Ctrl-C stops everything.")
        try:
            while service is None or service.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        print("\nStopping everything the course started ...")
    return 0
