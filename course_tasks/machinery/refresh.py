"""Re-execute lessons against live workers with papermill and store their real outputs.

``python3 course.py refresh`` (every notebook) or ``python3 course.py refresh notebooks/en/01_*.ipynb``.
papermill's own metadata is stripped afterwards, so the committed notebooks stay clean.
"""
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill

from .harness import LiveHarness
from .services import ROOT


def notebooks(paths=()):
    found = [Path(p).resolve() for p in paths] or sorted((ROOT / "notebooks").glob("*/*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


ERROR_MARKER_TAG = "papermill-error-cell-tag"  # the cells papermill inserts when a cell raised


def strip_papermill(path: Path):
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.cells = [c for c in nb.cells if ERROR_MARKER_TAG not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":  # the course's notices (a wait on a busy machine) are no part of the lesson
            cell.outputs = [o for o in cell.outputs if o.get("metadata", {}).get("course") != "notice"]
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    nbformat.write(nb, path)


def unexpected_errors(path: Path):
    """The errors of cells not tagged ``raises-exception`` (papermill reports those tagged ones too)."""
    nb = nbformat.read(path, as_version=4)
    return [f"{o.ename}: {o.evalue}" for c in nb.cells if c.cell_type == "code"
            and "raises-exception" not in c.metadata.get("tags", [])
            for o in c.get("outputs", []) if o.output_type == "error"]


def refresh(paths=()):
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
            if "%%playground" in path.read_text(encoding="utf-8"):
                harness.fresh_playground()
            try:
                papermill.execute_notebook(
                    str(path), str(path), cwd=str(path.parent), kernel_name="python3",
                    progress_bar=False, request_save_on_cell_execute=False,
                )
            except papermill.PapermillExecutionError as exc:
                # papermill runs past cells tagged raises-exception, then reports their errors anyway
                strip_papermill(path)
                if exc.ename == "CellExecutionError" or unexpected_errors(path):
                    failed.append(path)
                    print(f"FAILED {path.relative_to(ROOT)}: {exc.ename}: {exc.evalue}", file=sys.stderr)
            finally:
                strip_papermill(path)
    finally:
        harness.stop()
    return 1 if failed else 0
