"""Short errors in the notebook: a cell that fails shows its own line(s) and ``ExceptionName: message``.

Without this, ``divide.delay(1, 0).get(timeout=10)`` shows some fifty lines through Celery's and kombu's
code, with the paths of this machine, before the one line that matters. Imported inside an IPython
kernel, ``course_tasks`` installs :func:`short_traceback` (``shell.set_custom_exc``): the traceback keeps
only the frames of notebook cells (so an error raised in your own function, defined in another cell,
still shows both cells), then the exception as Python names it. The exception itself is untouched:
its name and message, ``sys.last_value``, and ``%tb``, which prints the whole traceback again.

Two errors get a line more, in the notebook's language:

- an interrupt (Kernel > Interrupt, ``KeyboardInterrupt``) says what it stopped: the waiting, and not the tasks, if
  the cell sent any (Celery's ``after_task_publish`` signal, with IPython's execution count); when a cell waited
  for a result (``AsyncResult.get()``), which task and its state now; and what the course's function it stopped in
  has left behind, as that function's module says (:func:`on_interrupt`: a hold waited for or let go, a
  worker killed and coming back, a Setup or an import to run again). An interrupt is shown short wherever it
  lands: before the course is imported (``course_kernel.py``), in no cell's frame, and while this handler runs
  (Interrupt pressed twice: SIGINT is ignored meanwhile, which is bounded: the one thing it asks is the result
  backend, whose reads have a timeout), so IPython never drops the handler ("Custom TB Handler failed");
- a ``NameError``: a name of an earlier cell is not defined in this kernel (a cell run before those above it, or
  after a kernel restart): run the cells from Setup. Before Setup has run in a fresh kernel, ``course_kernel.py``
  (loaded by every kernel of .venv) says the same.
"""
import signal
import sys
import threading
from types import TracebackType

from celery import signals
from celery.result import AsyncResult

from ..i18n import register, say

register({
    "tracebacks.hidden": {
        "en": "(frames outside this notebook's cells hidden; %tb shows the whole traceback)",
        "ru": "(фреймы вне ячеек ноутбука скрыты; всю трассировку покажет %tb)",
    },
    "tracebacks.interrupted": {"en": "Interrupted: the cell stopped here.",
                               "ru": "Прервано: ячейка остановилась здесь."},
    "tracebacks.interrupted_sent": {
        "en": "An interrupt stops this notebook's waiting, not the tasks this cell sent: they run on in their workers.",
        "ru": "Прерывание останавливает ожидание в ноутбуке, но не задачи, которые отправила эта ячейка: они "
              "продолжают выполняться на воркерах.",
    },
    "tracebacks.interrupted_wait": {
        "en": "The cell was waiting for the task {task}, now {state}. Wait again with .get(timeout=...), or stop it "
              "with .revoke(terminate=True) (lesson 13).",
        "ru": "Ячейка ждала задачу {task}, сейчас её состояние {state}. Дождитесь её снова через .get(timeout=...) "
              "или остановите через .revoke(terminate=True) (урок 13).",
    },
    "tracebacks.pending": {
        "en": "PENDING (no result yet: running or still queued)",
        "ru": "PENDING (результата ещё нет: задача выполняется или ждёт в очереди)",
    },
    "tracebacks.interrupted_import": {
        "en": "The interrupt cut an import short: run this cell again.",
        "ru": "Прерывание оборвало импорт: выполните эту ячейку снова.",
    },
    "tracebacks.name_error": {
        "en": "If the name comes from a cell above: this kernel has not run that cell (since a kernel restart, say). "
              "Run the cells in order, from Setup, then this one again.",
        "ru": "Если это имя из ячейки выше, то это ядро её не выполняло (например, после перезапуска ядра). "
              "Выполните ячейки по порядку, начиная с «Подготовки», а потом эту снова.",
    },
})

CAUGHT = (Exception, KeyboardInterrupt)  # what the short traceback shows (KeyboardInterrupt is no Exception)
_INTERRUPT_NOTES = {}  # a function's code -> note(frame): what an interrupt inside that function leaves behind
_sent_in = {"cell": None}  # the execution count of the last cell of this kernel that sent a task


def _cell():
    """The execution count of the cell the kernel runs now (IPython's ``In [n]``), or None outside IPython."""
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    return getattr(shell, "execution_count", None)


@signals.after_task_publish.connect
def _remember_cell(**_):
    """A task was sent (any app of this process): remember in which cell, for the interrupt's note."""
    _sent_in["cell"] = _cell()


def sent_in_this_cell():
    """Whether the running cell has sent a task (seen since ``course_tasks`` was imported, which sends them)."""
    return _sent_in["cell"] is not None and _sent_in["cell"] == _cell()


def note(error, line):
    """Say ``line`` after the short traceback of ``error``, once: what a ``finally`` or an ``except`` that the error
    went through has done (a hold let go). A ``@contextmanager``'s frame is not in the traceback of an error raised
    in its ``with`` block (contextlib gives the error its traceback back), so a frame's :func:`on_interrupt` note
    cannot say it."""
    lines = error.__dict__.setdefault("_course_notes", [])
    if line not in lines:
        lines.append(line)


def on_interrupt(function):
    """Decorator: ``note(frame)`` says (a line in the notebook's language, or None) what an interrupt that stopped a
    cell inside ``function`` (a generator, a ``@contextmanager`` too) has left behind; ``frame`` is that call's frame,
    for its local variables. The module that defines ``function`` registers its note: the machinery imports no
    learner's helper."""
    code = getattr(function, "__wrapped__", function).__code__

    def register_note(note):
        _INTERRUPT_NOTES[code] = note
        return note
    return register_note


def install(shell=None):
    """Make ``shell`` (default: the running IPython, if any) show short tracebacks; False if there is none."""
    if shell is None:
        if "IPython" not in sys.modules:  # a worker, a script: nothing to do, and no IPython import
            return False
        shell = sys.modules["IPython"].get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    shell.set_custom_exc(CAUGHT, short_traceback)
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

    Falls back to IPython's own traceback when no frame belongs to a cell (a syntax error, say), except for an
    interrupt, which is shown short even so. Another interrupt meanwhile is ignored (see the module's docstring)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        cells = getattr(shell.compile, "_filename_map", {})
        short = cell_frames_only(tb, lambda filename: filename in cells)
        if short is None and not isinstance(value, KeyboardInterrupt):
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
            return
        try:
            stb = _structured(shell, etype, value, tb, short)
        except Exception:  # noqa: BLE001 (IPython's formatter failed: the exception's line, never a handler's error)
            stb = [f"{etype.__name__}: {value}"]
        stb = stb + notes(value, tb, lambda filename: filename in cells)
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb and %debug, as IPython does
        if sys.version_info >= (3, 12):
            sys.last_exc = value
        shell._showtraceback(etype, value, stb)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _structured(shell, etype, value, tb, short):
    """IPython's lines for ``value`` with the traceback ``short`` (the cells' frames; None: the exception alone)."""
    if short is None:
        return [f"{etype.__name__}: {value}".rstrip()]
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
    return stb


def notes(value, tb, is_cell=lambda filename: False):
    """The lines said after the error ``value`` (with its whole traceback ``tb``; ``is_cell``: is a file a notebook
    cell's), in the notebook's language."""
    if isinstance(value, KeyboardInterrupt):
        lines = [say("tracebacks.interrupted")]
        if sent_in_this_cell():
            lines.append(say("tracebacks.interrupted_sent"))
        waited = waited_for(tb)
        if waited is not None:
            task = f"{waited.name}[{waited.id}]" if getattr(waited, "name", None) else waited.id
            lines.append(say("tracebacks.interrupted_wait", task=task, state=_state(waited)))
        for line in left_behind(tb, is_cell) + getattr(value, "_course_notes", []):
            if line not in lines:
                lines.append(line)
        return lines
    if isinstance(value, NameError):
        return [say("tracebacks.name_error")]
    return []


def left_behind(tb, is_cell=lambda filename: False):
    """What the functions an interrupt stopped in say they left behind (:func:`on_interrupt`), the innermost first;
    a cut-off import says so (a module's body that is no cell's: Python leaves importlib's frames out)."""
    lines, importing = [], False
    for frame, _ in reversed(list(_walk(tb))):
        code = frame.f_code
        importing = importing or (code.co_name == "<module>" and not is_cell(code.co_filename))
        note = _INTERRUPT_NOTES.get(frame.f_code)
        if note is None:
            continue
        try:
            line = note(frame)
        except Exception:  # noqa: BLE001 (a note that fails says nothing: the interrupt is still shown)
            line = None
        if line and line not in lines:
            lines.append(line)
    return lines + ([say("tracebacks.interrupted_import")] if importing else [])


def waited_for(tb):
    """The AsyncResult whose ``get()`` the traceback ``tb`` went through (the innermost), or None."""
    found = None
    for frame, _ in _walk(tb):
        candidate = frame.f_locals.get("self") if frame.f_code.co_name in ("get", "wait") else None
        if isinstance(candidate, AsyncResult):
            found = candidate
    return found


def _walk(tb):
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _state(result):
    """The task's state as the result backend has it; PENDING explained (the course records no STARTED)."""
    try:
        state = result.state
    except Exception:  # noqa: BLE001 (the backend gone: the note says so instead of failing in the handler)
        return "?"
    return say("tracebacks.pending") if state == "PENDING" else state
