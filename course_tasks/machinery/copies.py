"""The learner's own copies of the lessons: ``my-notebooks/en/NN_*.ipynb`` and ``my-notebooks/ru/NN_*.ipynb``.

JupyterLab opens on these copies (git-ignored), so a learner's answers and outputs never touch the committed
lessons in ``notebooks/``, and a ``git pull`` of a course update never conflicts with them. Every start copies
the lessons that have no copy yet (a new lesson of an update, or one whose copy was deleted) and leaves every
existing copy alone. ``python3 course.py reset 04`` starts lesson 04 over: its copy is put aside (in
``my-notebooks/.replaced/``, hidden in JupyterLab) and copied anew. The folders keep the names en/ and ru/,
from which a notebook's language is told (course_tasks.i18n.language).
"""
import shutil
import time
from pathlib import Path

from ..i18n import LANGUAGES, register, say
from .run_state import private_dir

ROOT = Path(__file__).resolve().parent.parent.parent
LESSONS = ROOT / "notebooks"
COPIES = ROOT / "my-notebooks"
REPLACED = COPIES / ".replaced"

register({
    "copies_made": {
        "en": "Your lessons: {folder}/ ({count} copied now from notebooks/; yours to change, "
              "the course's own stay as committed)",
        "ru": "Ваши уроки: {folder}/ (сейчас скопировано из notebooks/: {count}; их можно менять, "
              "уроки курса остаются как в репозитории)",
    },
    "copies_there": {
        "en": "Your lessons: {folder}/ (your copies; the course's own in notebooks/ stay as committed)",
        "ru": "Ваши уроки: {folder}/ (ваши копии; уроки курса в notebooks/ остаются как в репозитории)",
    },
    "reset_done": {
        "en": "{copy}: copied anew from {lesson}; your previous copy is kept as {kept}",
        "ru": "{copy}: скопирован заново из {lesson}; ваша прежняя копия сохранена как {kept}",
    },
    "reset_fresh": {
        "en": "{copy}: copied from {lesson}",
        "ru": "{copy}: скопирован из {lesson}",
    },
    "reset_unknown": {
        "en": "No lesson {lesson!r} in notebooks/{folder}/. The lessons: {names}.",
        "ru": "Урока {lesson!r} в notebooks/{folder}/ нет. Уроки: {names}.",
    },
})


def lessons(lang: str):
    """The committed lessons of ``lang``, in order."""
    return sorted((LESSONS / lang).glob("*.ipynb"))


def first_lesson(lang: str) -> str:
    """``en/00_broker_worker_backend.ipynb``: where a learner of ``lang`` starts, relative to :data:`COPIES`."""
    return f"{lang}/{lessons(lang)[0].name}"


def ensure() -> list:
    """Copy every lesson that has no copy yet into my-notebooks/<lang>/; return the copies made now. The folder is
    kept at mode 0700: a learner's answers are theirs, whoever else uses the machine."""
    made = []
    private_dir(COPIES)
    for lang in LANGUAGES:
        (COPIES / lang).mkdir(parents=True, exist_ok=True)
        for lesson in lessons(lang):
            copy = COPIES / lang / lesson.name
            if not copy.exists():
                shutil.copyfile(lesson, copy)
                made.append(copy)
    return made


def summary(made) -> str:
    """One line for the launcher's terminal: where the learner's lessons are."""
    folder = COPIES.relative_to(ROOT)
    return say("copies_made", folder=folder, count=len(made)) if made else say("copies_there", folder=folder)


def reset(lesson: str, langs=LANGUAGES) -> int:
    """Start ``lesson`` ("04", "04_group" or a file name) over in ``langs``: its copy is put aside and the
    committed lesson copied in its place. Prints what was done; returns 0, or 1 if there is no such lesson."""
    for lang in langs:
        found = [p for p in lessons(lang) if p.name.startswith(lesson) or p.stem == lesson]
        if len(found) != 1:
            names = ", ".join(p.stem for p in lessons(lang))
            print(say("reset_unknown", lesson=lesson, folder=lang, names=names))
            return 1
        source = found[0]
        copy = COPIES / lang / source.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if copy.exists():
            kept = REPLACED / lang / f"{source.stem}.{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
            kept.parent.mkdir(parents=True, exist_ok=True)
            copy.replace(kept)
            shutil.copyfile(source, copy)
            print(say("reset_done", copy=copy.relative_to(ROOT), lesson=source.relative_to(ROOT),
                      kept=kept.relative_to(ROOT)))
        else:
            shutil.copyfile(source, copy)
            print(say("reset_fresh", copy=copy.relative_to(ROOT), lesson=source.relative_to(ROOT)))
    return 0
