"""A pytest plugin for nbval runs of the lessons: the course's notices (:mod:`.notice`) are no part of a lesson's
output, so nbval compares a cell's outputs without them, and a busy machine that waits longer (and says so) still
matches the stored outputs. The test run loads it (conftest.py); so does ``tools/verify_compose.py``
(``-p course_tasks.machinery.nbval_notices``), which runs nbval without the test run's conftest."""
from .notice import METADATA


def without_notices(outputs):
    """``outputs`` but the course's notices."""
    return [o for o in outputs if not all(o.get("metadata", {}).get(k) == v for k, v in METADATA.items())]


def pytest_configure(config):
    from nbval.plugin import IPyNbCell

    compare = IPyNbCell.compare_outputs
    if getattr(compare, "course_notices_left_out", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        return compare(self, without_notices(test), without_notices(ref), skip_compare)

    compare_outputs.course_notices_left_out = True
    IPyNbCell.compare_outputs = compare_outputs
