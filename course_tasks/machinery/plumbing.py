"""What the course adds to a Celery app for its own sake, applied by one line: ``plumbing.install(app)``.

None of it is a lesson's subject (``course_tasks/celeryconfig.py`` holds what the lessons teach):

- timeouts, so that a broker or result backend that does not answer is told within seconds (kombu's default for
  a Redis that accepts and never answers is to wait for ever), and a worker started before its broker waits;
- the course's result backend and publisher (``backend.py``, ``publish.py``): Celery's, with messages a learner
  can act on;
- the journal (``journaling.py``): every task records what it did, for the notebook that sent it;
- ``CONTROL``, the course's remote-control commands, which every app lists in ``include=``.

:func:`course_app` makes another app of the course's configuration: lesson 08's on RabbitMQ, lesson 12's
delivery worker, the apps the launcher and the tests use to ping workers on a broker of their own.
"""
from celery import Celery

from .. import settings
from .backend import CourseRedisBackend
from .journaling import JournaledTask
from .publish import CourseAMQP

CONFIG = "course_tasks.celeryconfig"
CONTROL = "course_tasks.machinery.control"  # the course's remote-control commands (kill, worker info)
CELERY_TASK = "celery.app.task:Task"  # an app's task_cls unless it was given another
# A read on a Redis broker that accepts but never answers fails after this many seconds (kombu: never); above the
# 1 s a worker's BRPOP waits for a message.
TRANSPORT_TIMEOUTS = {"socket_timeout": 3}


def _robust(broker):
    return {
        # Celery lets CELERY_BROKER_URL override broker_url, even for a second app (lesson 08's RabbitMQ one);
        # the read and write URLs are taken as given.
        "broker_read_url": broker,
        "broker_write_url": broker,
        # A worker started before its broker keeps retrying instead of exiting (up to
        # broker_connection_max_retries, 100 by default); from Celery 6 on, this setting alone decides that.
        "broker_connection_retry_on_startup": True,
        # kombu stops retrying a connection after broker_connection_timeout; the result backend's Redis gives up a
        # connect after redis_socket_connect_timeout and a read after redis_socket_timeout, and reconnects once:
        # a silent Redis is told within 5 s. check_setup() uses short timeouts of its own (preflight.py).
        "broker_connection_timeout": 2,
        "redis_socket_connect_timeout": 2,
        "redis_socket_timeout": 1.5,
        "result_backend_transport_options": {"retry_policy": {"max_retries": 1}},
    }


def _with_transport_timeouts(sender, source, **_):
    """Once the app's configuration is read: its broker_transport_options, with the course's timeouts added."""
    source.broker_transport_options = {**source.broker_transport_options, **TRANSPORT_TIMEOUTS}


def install(app, broker=None):
    """Add the course's plumbing to ``app``, talking to ``broker`` (default: the course's, read when the app is
    first used, not at import: a test run imports the course first and chooses its own broker after)."""
    app.add_defaults(lambda: _robust(broker or settings.broker_url()))
    app.on_after_configure.connect(_with_transport_timeouts, sender=app, weak=False)
    backend = f"{CourseRedisBackend.__module__}:{CourseRedisBackend.__qualname__}"  # Celery takes it by name only
    app.loader.override_backends = {"redis": backend, "rediss": backend}
    app.amqp_cls = CourseAMQP
    if app.task_cls == CELERY_TASK:
        app.task_cls = JournaledTask
    return app


def course_app(name, broker=None, task_cls=CELERY_TASK, **conf):
    """A Celery app ``name`` of the course's configuration and plumbing, on ``broker`` (default: the course's),
    with ``conf`` over the configuration. It is not the current app: only ``course_tasks.celery.app`` is."""
    app = Celery(name, set_as_current=False, include=[CONTROL], task_cls=task_cls)
    app.config_from_object(CONFIG)
    app.conf.update(conf, **({"broker_url": broker} if broker else {}))
    return install(app, broker)


def control_app(broker):
    """An app of the course on ``broker``, for pings and control commands (the launcher, the checks, the tests)."""
    return course_app("course_control", broker)
