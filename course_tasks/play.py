"""The app of play@course (lesson 10): the course's app, plus the learners' modules of the playground."""
from . import playground
from .celery import app

playground.load(app)

__all__ = ["app"]
