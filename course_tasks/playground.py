"""The learners' own task modules (lesson 10): every ``*.py`` in the playground folder, imported by play@course.

The folder is ``settings.playground_dir()``; a notebook writes a module there (``%%writefile``) and
restarts the worker (``reload_worker()``), which imports it again. A module that fails to import does
not stop the worker: the error is kept and reported to the notebook that asked for the restart.
The first ``%%playground`` of a notebook holds play@course for it until its kernel stops (:func:`hold`).
"""
import atexit
import contextlib
import importlib
import sys
import traceback
from pathlib import Path

from . import settings
from .i18n import register, say

PLAYGROUND = Path(settings.playground_dir())

_loaded = {}  # module name -> the names of the tasks it registered
_errors = {}  # module name -> the last line of its import error


def load(app):
    """Import every module of the playground into this process (the play worker, once, at start)."""
    sys.dont_write_bytecode = True  # a module rewritten within the same second is never read from a stale .pyc
    PLAYGROUND.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(PLAYGROUND))
    for path in sorted(PLAYGROUND.glob("*.py")):
        try:
            module = importlib.import_module(path.stem)
        except Exception:
            _errors[path.stem] = traceback.format_exc(limit=0).strip().splitlines()[-1]
            traceback.print_exc()
            continue
        _loaded[path.stem] = module


def report(app):
    """``{"modules": {name: [task names]}, "errors": {name: error}}``: what :func:`load` found, for the notebook."""
    modules = {name: sorted(t for t, task in app.tasks.items() if getattr(task, "__module__", None) == name)
               for name in _loaded}
    return {"modules": modules, "errors": dict(_errors)}


# -- in the notebook: %load_ext course_tasks.playground, then a cell that starts with %%playground my_tasks.py --

register({
    "playground_written": {
        "en": "{name} written to the folder play@course imports from ({lines} lines)",
        "ru": "{name} записан в папку, из которой play@course импортирует модули (строк: {lines})",
    },
    "playground_appended": {
        "en": "{lines} lines appended to {name}",
        "ru": "в конец {name} дописано строк: {lines}",
    },
})


class _Hold:
    stack = None  # this kernel's hold on play@course, from its first %%playground until the kernel stops


def hold():
    """Make play@course and the playground this notebook's until its kernel stops (``exclusive("play")``).

    A lesson's point spans cells: write a module, restart the worker, call; append, call (NotRegistered),
    restart, call. Another notebook writing the same module and restarting the same worker in between
    (lesson 10's twin, say) would change what each of them sees, so the first ``%%playground`` of a
    notebook takes play@course; another notebook waits (saying so) until this kernel stops."""
    if _Hold.stack is None:
        from .exclusive import exclusive

        stack = contextlib.ExitStack()
        stack.enter_context(exclusive("play"))
        _Hold.stack = stack
        atexit.register(release)


def release():
    """Let play@course go (the end of this kernel does it as well, within seconds)."""
    stack, _Hold.stack = _Hold.stack, None
    if stack is not None:
        stack.close()


def playground_magic(line, cell):
    """``%%playground [-a] NAME.py``: write (or, with -a, append) the cell to NAME.py in the playground, as
    ``%%writefile`` does, with a message that reads the same on every machine. The first one of a notebook
    holds play@course for it (:func:`hold`)."""
    args = line.split()
    append = "-a" in args
    name = next(a for a in args if a != "-a")
    hold()
    PLAYGROUND.mkdir(parents=True, exist_ok=True)
    with open(PLAYGROUND / name, "a" if append else "w", encoding="utf-8") as f:
        f.write(cell)
    print(say("playground_appended" if append else "playground_written", name=name, lines=len(cell.splitlines())))


def load_ipython_extension(ipython):
    ipython.register_magic_function(playground_magic, magic_kind="cell", magic_name="playground")
