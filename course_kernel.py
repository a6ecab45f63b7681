"""Loaded by every IPython kernel of the course's Python (``course.py`` writes ``etc/ipython/ipython_kernel_config.py``
into .venv; the Docker image the same): a NameError in a kernel where no lesson's Setup has run yet (after a kernel
restart, say) gets the course's short traceback and one line more, in the notebook's language: run the cells from
Setup. It imports nothing at the kernel's start, so a kernel starts as fast as without it: only such an error
imports the course (``course_tasks.machinery.tracebacks``), which from then on shows every error itself.
"""


def _name_error(shell, etype, value, tb, tb_offset=None):
    try:
        from course_tasks.machinery import tracebacks  # on an error only: a kernel starts at once
    except Exception:  # noqa: BLE001 (the course cannot be imported here: IPython's own traceback, as without us)
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
        return
    tracebacks.install(shell)
    tracebacks.short_traceback(shell, etype, value, tb, tb_offset)


def load_ipython_extension(ipython):
    if not ipython.custom_exceptions:  # the course (or the learner) shows errors already: leave it to them
        ipython.set_custom_exc((NameError,), _name_error)
