"""A notice in the notebook: a line that tells the learner what the course is doing (waiting for a worker,
starting a setup), shown as an IPython display marked ``{"course": "notice"}`` in its metadata.

It is not part of the lesson's output: whatever compares a run with the stored outputs leaves such displays out
(:mod:`.nbval_notices`: the test run, the side-by-side twins, the compose verification), so a notice never changes
what a lesson shows.
Outside Jupyter it is one line on stderr.
"""
import sys
from contextlib import contextmanager

METADATA = {"course": "notice"}


class Notice:
    """A line in the notebook while we wait, replaced by how it ended (or stderr outside Jupyter)."""

    def __init__(self):
        self.handle = None

    def show(self, text):
        if self.handle is not None:
            return
        from IPython import (
            get_ipython,  # heavy: imported only when a notice is shown (a worker never shows one)
        )
        from IPython.display import display

        if get_ipython() is not None:
            self.handle = display({"text/plain": text}, raw=True, metadata=METADATA, display_id=True)
            return
        print(text, file=sys.stderr)
        self.handle = False

    def update(self, text):
        """Replace the line shown (shown before with :meth:`show`) by ``text``; outside Jupyter, print it."""
        if self.handle:
            self.handle.update({"text/plain": text}, raw=True, metadata=METADATA)
        elif self.handle is False:
            print(text, file=sys.stderr)

    def clear(self):
        """Empty the line shown (in Jupyter; outside it, nothing was left on screen to take away)."""
        if self.handle:
            self.handle.update({"text/plain": ""}, raw=True, metadata=METADATA)


@contextmanager
def while_waiting(text):
    """A :class:`Notice` that says ``text`` while the ``with`` block waits (what for, about how long), taken away
    when the block is done; left in place, above the error, if the block fails or is interrupted. The block may
    :meth:`~Notice.update` it (a countdown)."""
    notice = Notice()
    notice.show(text)
    yield notice
    notice.clear()
