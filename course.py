#!/usr/bin/env python3
"""The course's one entry point from a fresh clone: ``python3 course.py up`` or ``python3 course.py test``.

It needs nothing but Python 3.11+ (what the pinned packages require): it makes .venv/ (once), installs
requirements.txt into it (again only when that file changes) and runs ``python -m course_tasks COMMAND`` inside it.
"""
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    python = venv_python()
    if not python.exists():
        print(f"[course] creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("[course] installing requirements.txt (the first time takes a minute) ...", flush=True)
        subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "-r", str(REQUIREMENTS)])
        STAMP.write_text(wanted)
    link_course(python)
    return python


def link_course(python: Path) -> None:
    """Put the course's folder on .venv's path (a ``.pth`` file), so that any kernel of .venv (VS Code's,
    a JupyterLab of your own, papermill) can ``import course_tasks``."""
    if any(p.read_text().strip() == str(ROOT) for p in VENV.glob("lib/python3*/site-packages/celery-course.pth")):
        return
    site = subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   text=True).strip()
    pth = Path(site) / "celery-course.pth"
    if not pth.exists() or pth.read_text().strip() != str(ROOT):
        pth.write_text(f"{ROOT}\n")


MINIMUM_PYTHON = (3, 11)


def main() -> None:
    if sys.version_info < MINIMUM_PYTHON:
        sys.exit(f"[course] Python {'.'.join(map(str, MINIMUM_PYTHON))} or newer is needed (the pinned packages "
                 f"require it); this is {sys.version.split()[0]}. Run it with a newer python3.")
    python = ensure_venv()
    os.chdir(ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.execv(str(python), [str(python), "-m", "course_tasks", *sys.argv[1:]])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C while the venv is made: no traceback
        sys.exit(130)
