"""The course's machinery, kept out of a learner's way: what the course adds to a Celery app, and what starts,
supervises and checks the live setup. It imports the bottom of the package (settings, i18n, errors, waiting, the
configuration) and never a learner's helper (tests/test_imports.py).

- ``plumbing``: one line of ``celery.py`` adds the course's timeouts, ``backend``/``publish`` (Celery's result
  backend and publisher with messages a learner can act on), ``journaling`` (every task records what it did) and
  ``control`` (the course's remote-control commands); ``loading``: play@course imports the learners' modules;
- ``services``: :class:`Stack` starts and stops the embedded Redis, the roles of ``settings.roles()``, JupyterLab
  and Flower (``supervisor`` starts again whatever dies, ``unacked`` gives a killed worker's tasks back,
  ``run_state`` keeps what the supervisor saw, ``setup_lock``: one setup per broker, ``presence``: a service that
  answers no ping says it runs, ``probes``: does a Redis, a RabbitMQ, a port answer?);
- ``launcher``: ``python3 course.py up``; ``autostart``: the same from a notebook's kernel; ``copies``: the
  learner's copies of the lessons;
- ``harness`` and ``refresh``: the live setup of a test run, and re-executing lessons to store outputs;
- ``notice`` and ``tracebacks``: what the course shows in a notebook besides the lesson's output;
- ``url_check``: a broker URL that cannot work, said in one line.
"""
