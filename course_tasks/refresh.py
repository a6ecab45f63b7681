"""Re-execute lessons against live workers with papermill and store their real outputs.

``python3 course.py refresh`` (every notebook) or ``python3 course.py refresh notebooks/en/01_*.ipynb``.
papermill's own metadata is stripped afterwards, so the committed notebooks stay clean.
"""
import sys
import tempfile
from pathlib import Path

from .harness import LiveHarness
from .services import ROOT


def notebooks(paths=()):
    found = [Path(p).resolve() for p in paths] or sorted((ROOT / "notebooks").glob("*/*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def strip_papermill(path: Path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    nbformat.write(nb, path)


def refresh(paths=()):
    import papermill

    targets = notebooks(paths)
    harness = LiveHarness(Path(tempfile.mkdtemp(prefix="course-refresh-")), say=print)
    harness.start()
    failed = []
    try:
        for path in targets:
            if "rabbitmq" in path.name and not harness.rabbitmq:
                print(f"skipped {path.relative_to(ROOT)}: {harness.rabbitmq_missing}")
                continue
            print(f"executing {path.relative_to(ROOT)}", flush=True)
            try:
                papermill.execute_notebook(
                    str(path), str(path), cwd=str(path.parent), kernel_name="python3",
                    progress_bar=False, request_save_on_cell_execute=False,
                )
            except papermill.PapermillExecutionError as exc:
                failed.append(path)
                print(f"FAILED {path.relative_to(ROOT)}: {exc.ename}: {exc.evalue}", file=sys.stderr)
            finally:
                strip_papermill(path)
    finally:
        harness.stop()
    return 1 if failed else 0
