"""Loaded by every IPython kernel of the course's Python (``course.py`` writes ``etc/ipython/ipython_kernel_config.py``
into .venv; the Docker image the same): a NameError in a kernel where no lesson's Setup has run yet (after a kernel
restart, say) gets the course's short traceback and one line more, in the notebook's language: run the cells from
Setup. So does an interrupt (Kernel > Interrupt) before the course is imported, or while its import runs (a Setup
cell interrupted in its first seconds): the short form, and "run this cell again" for the cut-off import. It imports
nothing at the kernel's start, so a kernel starts as fast as without it: only such an error imports the course
(``course_tasks.machinery.tracebacks``), which from then on shows every error itself.
"""
import signal
import threading


def _short_error(shell, etype, value, tb, tb_offset=None):
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None  # Interrupt pressed again meanwhile
    try:
        from course_tasks.machinery import tracebacks  # on an error only: a kernel starts at once
    except Exception:  # noqa: BLE001 (the course cannot be imported here: IPython's own traceback, as without us)
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
        return
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
    tracebacks.install(shell)
    tracebacks.short_traceback(shell, etype, value, tb, tb_offset)


def load_ipython_extension(ipython):
    if not ipython.custom_exceptions:  # the course (or the learner) shows errors already: leave it to them
        ipython.set_custom_exc((NameError, KeyboardInterrupt), _short_error)
