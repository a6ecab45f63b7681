#!/usr/bin/env python3
"""The course's one entry point from a fresh clone: ``python3 course.py up`` or ``python3 course.py test``.

It needs nothing but Python 3.11+ (what the pinned packages require): it makes .venv/ (once), installs
requirements.txt into it (again only when that file changes) and runs ``python -m course_tasks COMMAND`` inside it.
"""
import hashlib
import importlib.util
import os
import shutil
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
    if python.exists() and not STAMP.exists() and not any(VENV.glob("lib/python3*/site-packages/pip")):
        shutil.rmtree(VENV)  # made half-way by an earlier run (no pip in it, say): make it again
    if not python.exists():
        if importlib.util.find_spec("ensurepip") is None:  # Debian and Ubuntu ship it apart, in python3-venv
            sys.exit(say("no_ensurepip"))
        print(f"[course] creating {VENV} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except BaseException:
            shutil.rmtree(VENV, ignore_errors=True)  # so that the next run starts clean
            raise
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("[course] installing requirements.txt (the first time takes a minute) ...", flush=True)
        # Wheels only: nothing is compiled on the learner's machine (tools/check_wheels.py checks that every pin
        # has a wheel on Linux and macOS, x86_64 and ARM64).
        installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                    "--only-binary=:all:", "-r", str(REQUIREMENTS)], check=False)
        if installed.returncode != 0:
            sys.exit(say("pip_failed"))
        STAMP.write_text(wanted)
    link_course(python)
    install_kernel_hook(VENV)
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


KERNEL_CONFIG = 'c.InteractiveShellApp.extensions.append("course_kernel")  # course_kernel.py: errors made plain\n'


def install_kernel_hook(prefix) -> None:
    """Every IPython kernel of the Python at ``prefix`` (.venv; the Docker image's) loads ``course_kernel``: a NameError
    before a lesson's Setup has run (after a kernel restart) says to run the cells from Setup. IPython reads
    ``PREFIX/etc/ipython/ipython_kernel_config.py``; a learner's own profile still comes first."""
    config = Path(prefix) / "etc" / "ipython" / "ipython_kernel_config.py"
    if not config.exists() or config.read_text() != KERNEL_CONFIG:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(KERNEL_CONFIG)


MINIMUM_PYTHON = (3, 11)

# What this file says itself, before .venv exists (course_tasks/i18n.py says the rest), in the learner's language.
MESSAGES = {
    "windows": {
        "en": """[course] The course runs on Linux and macOS, not on Windows itself: its broker and workers are Unix
programs.
On Windows, take one of two ways:
  - WSL (Ubuntu inside Windows). In PowerShell:  wsl --install -d Ubuntu-24.04
    then, in the Ubuntu window:  sudo apt update && sudo apt install -y python3-venv git
    clone the course into your Ubuntu home folder (not under /mnt/c) and run, there:  python3 course.py up
  - Docker Desktop. In this folder:  docker compose up --build
    then  docker compose logs jupyter  prints the address to open.
README.md, section "On Windows", says more.""",
        "ru": """[course] Курс работает на Linux и macOS, но не в самой Windows: его брокер и воркеры — программы
для Unix.
В Windows есть два пути:
  - WSL (Ubuntu внутри Windows). В PowerShell:  wsl --install -d Ubuntu-24.04
    затем в окне Ubuntu:  sudo apt update && sudo apt install -y python3-venv git
    клонируйте курс в домашнюю папку Ubuntu (не в /mnt/c) и запустите там:  python3 course.py up
  - Docker Desktop. В этой папке:  docker compose up --build
    затем  docker compose logs jupyter  напечатает адрес, который нужно открыть.
Подробнее — в README.ru.md, раздел «В Windows».""",
    },
    "old_python": {
        "en": "[course] Python {minimum} or newer is needed (the pinned packages require it); this is {this}. "
              "Run it with a newer python3.",
        "ru": "[course] Нужен Python {minimum} или новее (этого требуют закреплённые пакеты), а этот — {this}. "
              "Запустите команду более новым python3.",
    },
    "no_ensurepip": {
        "en": "[course] This Python cannot make the course's .venv: its ensurepip module, which puts pip into a new "
              "environment, is missing.\nOn Debian or Ubuntu (WSL included), install it, then run the command again:\n"
              "    sudo apt install python3-venv",
        "ru": "[course] Этот Python не может создать .venv курса: нет модуля ensurepip, который ставит pip в новое "
              "окружение.\nВ Debian или Ubuntu (и в WSL) установите его и повторите команду:\n"
              "    sudo apt install python3-venv",
    },
    "pip_failed": {
        "en": "[course] pip could not install requirements.txt (its message is above). No internet? Then connect and "
              "run the command again. 'No matching distribution'? Then a package has no wheel for this Python or this "
              "machine: the course needs CPython 3.11 to 3.14 on Linux (x86_64 or ARM64, glibc 2.28 or newer) or macOS "
              "(11 or newer on Apple silicon, 10.15 or newer on Intel).",
        "ru": "[course] pip не смог установить requirements.txt (его сообщение выше). Нет интернета — подключитесь и "
              "повторите команду. «No matching distribution» — значит, для этого Python или этой машины у пакета нет "
              "колеса (wheel): курсу нужен CPython от 3.11 до 3.14 на Linux (x86_64 или ARM64, glibc 2.28 или новее) "
              "или на macOS (11 или новее на Apple silicon, 10.15 или новее на Intel).",
    },
}


def language() -> str:
    """``COURSE_LANG`` if it is en or ru, else the locale (``LANG``; on Windows, the language of its interface)."""
    chosen = os.environ.get("COURSE_LANG", "").lower()
    if chosen in ("en", "ru"):
        return chosen
    if sys.platform == "win32" and not os.environ.get("LANG"):
        import ctypes

        return "ru" if ctypes.windll.kernel32.GetUserDefaultUILanguage() & 0x3FF == 0x19 else "en"  # LANG_RUSSIAN
    return "ru" if os.environ.get("LANG", "").lower().startswith("ru") else "en"


def say(message: str, **values) -> str:
    return MESSAGES[message][language()].format(**values)


def unsupported(platform: str = sys.platform, version=sys.version_info):
    """Why the course cannot start here (in the learner's language), or None: Windows itself, an old Python."""
    if platform in ("win32", "cygwin"):
        return say("windows")
    if version < MINIMUM_PYTHON:
        return say("old_python", minimum=".".join(map(str, MINIMUM_PYTHON)), this=".".join(map(str, version[:3])))
    return None


def main() -> None:
    problem = unsupported()
    if problem:
        sys.exit(problem)
    python = ensure_venv()
    os.chdir(ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.execv(str(python), [str(python), "-m", "course_tasks", *sys.argv[1:]])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C while the venv is made: no traceback
        sys.exit(130)
