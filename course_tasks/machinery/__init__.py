"""The course's machinery, kept out of a learner's way: what starts, supervises and checks the live setup.

- ``services``: :class:`Stack` starts and stops the embedded Redis, the workers, JupyterLab and Flower
  (``supervisor`` starts again whatever dies; ``run_state`` keeps what it saw; ``setup_lock``: one setup
  per broker);
- ``launcher``: ``python3 course.py up``; ``autostart``: the same from a notebook's kernel; ``copies``:
  the learner's copies of the lessons;
- ``harness`` and ``refresh``: the live setup of a test run, and re-executing lessons to store outputs;
- ``backend`` and ``publish``: Celery's Redis result backend and publisher, with messages a learner can act on;
- ``notice`` and ``tracebacks``: what the course shows in a notebook besides the lesson's output;
- ``url_check``: a broker URL that cannot work, said in one line.
"""
