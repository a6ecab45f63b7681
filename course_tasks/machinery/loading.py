"""play@course imports the learners' own task modules (lesson 10): every ``*.py`` in the playground folder but
the test files of lesson 18 (``test_*.py``, ``*_test.py``, ``conftest.py``: pytest's, run by ``run_tests()``).

The folder is ``settings.playground_dir()``; a notebook writes a module there (``%%playground``,
``course_tasks/playground.py``) and restarts the worker (``reload_worker()``), which imports it again. A module that
fails to import does not stop the worker: the error is kept and reported to the notebook that asked for the
restart (``course_worker_info``, machinery/control.py).
"""
import importlib
import sys
import traceback
from pathlib import Path

from .. import settings

PLAYGROUND = Path(settings.playground_dir())

_loaded = {}  # module name -> the module
_errors = {}  # module name -> the last line of its import error


def load(app):
    """Import every module of the playground into this process (the play worker, once, at start)."""
    sys.dont_write_bytecode = True  # a module rewritten within the same second is never read from a stale .pyc
    PLAYGROUND.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(PLAYGROUND))
    for path in sorted(PLAYGROUND.glob("*.py")):
        if is_test_file(path.name):
            continue  # lesson 18's test files are pytest's, not task modules (pytest itself imports them)
        try:
            module = importlib.import_module(path.stem)
        except Exception:  # noqa: BLE001 (a learner's module may raise anything; kept and shown to the notebook)
            _errors[path.stem] = traceback.format_exc(limit=0).strip().splitlines()[-1]
            traceback.print_exc()
            continue
        _loaded[path.stem] = module


def is_test_file(name):
    """A file pytest collects (test_*.py, *_test.py, conftest.py): never imported as a task module."""
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def report(app):
    """``{"modules": {name: [task names]}, "errors": {name: error}}``: what :func:`load` found, for the notebook."""
    modules = {name: sorted(t for t, task in app.tasks.items() if getattr(task, "__module__", None) == name)
               for name in _loaded}
    return {"modules": modules, "errors": dict(_errors)}
