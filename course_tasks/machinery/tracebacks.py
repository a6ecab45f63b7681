"""Short errors in the notebook: a cell that fails shows its own line(s) and ``ExceptionName: message``.

Without this, ``divide.delay(1, 0).get(timeout=10)`` shows some fifty lines through Celery's and kombu's
code, with the paths of this machine, before the one line that matters. Imported inside an IPython
kernel, ``course_tasks`` installs :func:`short_traceback` (``shell.set_custom_exc``): the traceback keeps
only the frames of notebook cells (so an error raised in your own function, defined in another cell,
still shows both cells), then the exception as Python names it. The exception itself is untouched:
its name and message, ``sys.last_value``, and ``%tb``, which prints the whole traceback again.
"""
import sys
from types import TracebackType

from ..i18n import register, say

register({
    "tracebacks.hidden": {
        "en": "(frames outside this notebook's cells hidden; %tb shows the whole traceback)",
        "ru": "(фреймы вне ячеек ноутбука скрыты; всю трассировку покажет %tb)",
    },
})


def install(shell=None):
    """Make ``shell`` (default: the running IPython, if any) show short tracebacks; False if there is none."""
    if shell is None:
        if "IPython" not in sys.modules:  # a worker, a script: nothing to do, and no IPython import
            return False
        shell = sys.modules["IPython"].get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    shell.set_custom_exc((Exception,), short_traceback)
    return True


def cell_frames_only(tb, is_cell):
    """A new traceback of the frames of ``tb`` whose file ``is_cell``, in order (None if there is none)."""
    kept = []
    while tb is not None:
        if is_cell(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    short = None
    for frame_tb in reversed(kept):
        short = TracebackType(short, frame_tb.tb_frame, frame_tb.tb_lasti, frame_tb.tb_lineno)
    return short


def _frame_count(tb):
    count = 0
    while tb is not None:
        count, tb = count + 1, tb.tb_next
    return count


def short_traceback(shell, etype, value, tb, tb_offset=None):
    """The custom exception handler: show ``value`` with only the frames of notebook cells.

    Falls back to IPython's own traceback when no frame belongs to a cell (a syntax error, say)."""
    cells = getattr(shell.compile, "_filename_map", {})
    short = cell_frames_only(tb, lambda filename: filename in cells)
    if short is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
        return
    # Hidden: the frames of the packages (the first frame of all is IPython's own run_code).
    hidden = _frame_count(tb) - 1 > _frame_count(short)
    saved = value.__cause__, value.__context__, value.__suppress_context__
    try:
        # Chained exceptions raised inside the packages would bring their frames back: leave them out here.
        value.__cause__, value.__suppress_context__ = None, True
        stb = shell.InteractiveTB.structured_traceback(etype, value, short, tb_offset=0)
    finally:
        value.__cause__, value.__context__, value.__suppress_context__ = saved
    if hidden:
        stb = stb[:-1] + [say("tracebacks.hidden")] + stb[-1:]
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb and %debug, as IPython does
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    shell._showtraceback(etype, value, stb)
    return
