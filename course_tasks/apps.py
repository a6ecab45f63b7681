"""The Celery app of each of the course's roles (``settings.roles()``): ``app_for("delivery")`` is lesson 12's.

A role names the module of its app (``celery -A``); this is the one place that imports it by that name.
"""
import importlib

from . import settings


def app_for(role):
    """The Celery app that the worker of ``role`` ("main", "priority", "play", "delivery", "rabbitmq") runs."""
    return importlib.import_module(settings.roles()[role].app).app
