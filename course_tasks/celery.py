"""The Celery app of the course, shaped like Celery's ``examples/next-steps/proj/celery.py``."""
from celery import Celery

from .machinery import plumbing

app = Celery("course_tasks", include=["course_tasks.tasks", "course_tasks.retrying", "course_tasks.canvas_tasks",
                                      "course_tasks.limits", "course_tasks.receipts", "course_tasks.operations",
                                      "course_tasks.routing", "course_tasks.periodic", "course_tasks.monitoring",
                                      plumbing.CONTROL])
app.config_from_object("course_tasks.celeryconfig")
plumbing.install(app)  # the course's own: timeouts, clearer errors, the journal (course_tasks/machinery/)

if __name__ == "__main__":
    app.start()
