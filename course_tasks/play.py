"""The app of play@course (lesson 10): the course's app, plus the learners' modules of the playground."""
from .celery import app
from .machinery import loading

loading.load(app)

__all__ = ["app"]
