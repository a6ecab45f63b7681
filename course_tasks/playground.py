"""The learners' own task modules (lesson 10), on the notebook's side: the ``%%playground`` cell magic writes one
to the playground folder that play@course imports (``course_tasks/machinery/loading.py``), and a notebook's first
``%%playground`` holds play@course for it until its kernel stops (:func:`hold`).

    %load_ext course_tasks.playground
"""
import atexit
import contextlib
from pathlib import Path

from . import settings
from .exclusive import exclusive
from .i18n import register, say
from .machinery import loading, tracebacks

PLAYGROUND = Path(settings.playground_dir())

register({
    "playground_interrupted": {
        "en": "%%playground wrote nothing: it stopped before writing the file. Run the cell again.",
        "ru": "%%playground ничего не записал: он остановился до записи файла. Выполните ячейку снова.",
    },
    "playground_written": {
        "en": "{name} written to the folder play@course imports from ({lines} lines)",
        "ru": "{name} записан в папку, из которой play@course импортирует модули (строк: {lines})",
    },
    "playground_test_written": {
        "en": "{name} written to the playground ({lines} lines); play@course does not import test files",
        "ru": "{name} записан в песочницу (строк: {lines}); файлы с тестами play@course не импортирует",
    },
    "playground_appended": {
        "en": "{lines} lines appended to {name}",
        "ru": "в конец {name} дописано строк: {lines}",
    },
})


_hold = None  # this kernel's hold on play@course (an ExitStack), from its first %%playground until it stops


def hold():
    """Make play@course and the playground this notebook's until its kernel stops (``exclusive("play")``).

    A lesson's point spans cells: write a module, restart the worker, call; append, call (NotRegistered),
    restart, call. Another notebook writing the same module and restarting the same worker in between
    (lesson 10's twin, say) would change what each of them sees, so the first ``%%playground`` of a
    notebook takes play@course; another notebook waits (saying so) until this kernel stops."""
    global _hold
    if _hold is None:
        stack = contextlib.ExitStack()
        stack.enter_context(exclusive("play", until="kernel"))
        _hold = stack
        atexit.register(release)


def release():
    """Let play@course go (the end of this kernel does it as well, within seconds)."""
    global _hold
    stack, _hold = _hold, None
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
    PLAYGROUND.mkdir(mode=0o700, parents=True, exist_ok=True)  # the learner's code: theirs alone
    with open(PLAYGROUND / name, "a" if append else "w", encoding="utf-8") as f:
        f.write(cell)
    written = "playground_test_written" if loading.is_test_file(name) else "playground_written"
    print(say("playground_appended" if append else written, name=name, lines=len(cell.splitlines())))


def load_ipython_extension(ipython):
    ipython.register_magic_function(playground_magic, magic_kind="cell", magic_name="playground")


@tracebacks.on_interrupt(hold)
def _interrupted_holding(frame):
    return say("playground_interrupted")
