"""play@course imports the learners' own task modules (lesson 10): every ``*.py`` in the playground folder but
the test files of lesson 18 (``test_*.py``, ``*_test.py``, ``conftest.py``: pytest's, run by ``run_tests()``).

The folder is ``settings.playground_dir()``; a notebook writes a module there (``%%playground``,
``course_tasks/playground.py``) and restarts the worker (``reload_worker()``), which imports it again.

Only the worker process of play@course imports them (``course_tasks/play.py`` calls :func:`load` from Celery's
``worker_init`` signal): a notebook, ``check_setup()`` or ``reload_worker()`` that imports ``course_tasks.play`` for
its app never runs a learner's code. A module that fails to import does not stop the worker, nor the other modules:
one that raises, calls ``sys.exit()`` or ``os._exit()``, or whose import does not end within
:data:`IMPORT_SECONDS`, is skipped, and what went wrong (with the line of the module) is kept and reported to the
notebook that asked for the restart (``course_worker_info``, machinery/control.py), which says it in its own
language (``course_tasks/workers.py``). So is a task name defined twice in a module: Celery keeps the first
definition and warns in the worker's log (``DuplicateTaskNameWarning``).
"""
import contextlib
import importlib
import os
import signal
import sys
import threading
import traceback
import warnings
from pathlib import Path

from celery.exceptions import DuplicateTaskNameWarning

from .. import settings

PLAYGROUND = Path(settings.playground_dir())
IMPORT_SECONDS = 5.0  # a module whose import runs longer is stopped and skipped (an endless loop at its top level)

_loaded = {}  # module name -> the module
_errors = {}  # module name -> {"kind": "error" | "exit" | "hang", "error": "Name: message", "line": n, ...}
_duplicates = {}  # module name -> [{"name": task name, "line": n}]


class _Exit(BaseException):
    """``os._exit(code)`` called by a module while it is imported: raised instead, so that the worker lives on."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class _Hang(BaseException):
    """A module's import ran longer than IMPORT_SECONDS."""


def load(app):
    """Import every module of the playground into this process (the play worker, once, at start)."""
    sys.dont_write_bytecode = True  # a module rewritten within the same second is never read from a stale .pyc
    PLAYGROUND.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(PLAYGROUND))
    for path in sorted(PLAYGROUND.glob("*.py")):
        if is_test_file(path.name):
            continue  # lesson 18's test files are pytest's, not task modules (pytest itself imports them)
        _load_one(path)


def _load_one(path):
    name = path.stem
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DuplicateTaskNameWarning)
        try:
            with _guarded(IMPORT_SECONDS):
                module = importlib.import_module(name)
        except _Exit as exc:
            _errors[name] = {"kind": "exit", "error": f"os._exit({exc.code})", "code": exc.code,
                             "line": _line_in(exc.__traceback__, path)}
        except SystemExit as exc:
            _errors[name] = {"kind": "exit", "error": f"sys.exit({exc.code!r})", "code": exc.code,
                             "line": _line_in(exc.__traceback__, path)}
        except _Hang as exc:
            _errors[name] = {"kind": "hang", "error": "", "seconds": IMPORT_SECONDS,
                             "line": _line_in(exc.__traceback__, path)}
        except BaseException as exc:  # noqa: BLE001 (a learner's module may raise anything; kept and shown)
            line = exc.lineno if isinstance(exc, SyntaxError) else _line_in(exc.__traceback__, path)
            _errors[name] = {"kind": "error", "error": traceback.format_exception_only(exc)[-1].strip(),
                             "line": line}
            traceback.print_exc()
        else:
            _loaded[name] = module
        finally:
            if name in _errors:
                sys.modules.pop(name, None)  # half-imported: not kept
    for warning in caught:
        if issubclass(warning.category, DuplicateTaskNameWarning) and _same_file(warning.filename, path):
            task = str(warning.message).split("'")[1] if "'" in str(warning.message) else "?"
            _duplicates.setdefault(name, []).append({"name": task, "line": warning.lineno})
        # the worker's log still shows every warning, as it would without the course
        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


def _same_file(filename, path):
    try:
        return Path(filename).resolve() == path.resolve()
    except OSError:
        return False


def _line_in(tb, path):
    """The line of ``path`` where ``tb`` last passed (the module's own line that failed), or None."""
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if _same_file(frame.f_code.co_filename, path):
            line = lineno
    return line


@contextlib.contextmanager
def _guarded(seconds):
    """While a learner's module is imported: ``os._exit()`` raises :class:`_Exit` instead of ending the worker, and
    an import that runs longer than ``seconds`` is stopped with :class:`_Hang` (SIGALRM, in the main thread only:
    where Celery's ``worker_init`` runs)."""
    real_exit = os._exit

    def exit_instead(code=0):
        raise _Exit(code)

    def too_long(signum, frame):
        raise _Hang()

    alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, too_long) if alarm else None
    os._exit = exit_instead
    try:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        os._exit = real_exit


def is_test_file(name):
    """A file pytest collects (test_*.py, *_test.py, conftest.py): never imported as a task module."""
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def report(app):
    """What :func:`load` found, for the notebook: ``{"modules": {name: [task names]}, "errors": {name: {...}},
    "duplicates": {name: [{"name": task, "line": n}]}}``."""
    modules = {name: sorted(t for t, task in app.tasks.items() if getattr(task, "__module__", None) == name)
               for name in _loaded}
    return {"modules": modules, "errors": dict(_errors), "duplicates": dict(_duplicates)}
