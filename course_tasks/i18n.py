"""The course speaks English and Russian: which one now, and the messages in both.

Printing a label from a code cell
---------------------------------
The code of an English notebook and of its Russian twin is identical (tests/test_parity.py), so a
code cell never holds words of one language. What it prints is either

- identifiers: the names of the variables or the Celery/Python calls it shows, which read the same in
  both languages: ``print(f"{speedup = :.0f}")``, ``print("state:", result.state)``,
  ``print("task_acks_late:", app.conf.task_acks_late)``; or
- a sentence, through a key that the module saying it registers (one mechanism for every message of
  the course: a helper's, the launcher's, an exercise's hint)::

      from .i18n import register, say
      register({"journal.empty": {"en": "(nothing recorded yet)", "ru": "(журнал пока пуст)"}})
      print(say("journal.empty"))

  A notebook imports ``say`` (``from course_tasks import say``). Numbers are formatted by the language:
  a float prints ``1.5`` in English and ``1,5`` in Russian (:func:`number`). A value that
  Python prints itself (``print(seconds)``, ``f"{speedup = :.1f}"``) keeps its point: it is Python's
  notation, not prose.

Either way the output does not change from run to run: round what is measured (nbval compares it).
Comments may differ between the twins; docstrings may not (they are code).
"""
import os
import string
from pathlib import Path

LANGUAGES = ("en", "ru")


def language() -> str:
    """``COURSE_LANG`` if set; else the folder of the running notebook (notebooks/en, notebooks/ru); else the locale."""
    chosen = os.environ.get("COURSE_LANG", "").lower()
    if chosen in LANGUAGES:
        return chosen
    folder = Path.cwd().name
    if folder in LANGUAGES:
        return folder
    return "ru" if os.environ.get("LANG", "").lower().startswith("ru") else "en"


MESSAGES = {}  # key -> {"en": ..., "ru": ...}: every module registers the messages it says (register())


def say(message: str, lang: str | None = None, **values) -> str:
    """The message ``message`` in ``lang`` (default: :func:`language`), with ``values`` filled in
    (numbers as that language writes them: ``1,5`` in Russian)."""
    lang = lang or language()
    return _NumberFormatter(lang).format(MESSAGES[message][lang], **values)


def register(messages: dict) -> None:
    """Add ``{key: {"en": ..., "ru": ...}}`` to the messages :func:`say` knows; a key is registered once."""
    for key, texts in messages.items():
        missing = set(LANGUAGES) - set(texts)
        if missing:
            raise ValueError(f"message {key!r} has no text in {', '.join(sorted(missing))}")
        if key in MESSAGES and MESSAGES[key] != texts:
            raise ValueError(f"message {key!r} is already registered with other texts")
        MESSAGES[key] = texts


def number(value, spec: str = "g", lang: str | None = None) -> str:
    """``value`` formatted with ``spec``, with the decimal separator of ``lang`` (``1,5`` in Russian)."""
    return _NumberFormatter(lang or language()).format_field(value, spec)


class _NumberFormatter(string.Formatter):
    """str.format, but a float (or a number formatted with a decimal point) gets a decimal comma in Russian."""

    def __init__(self, lang):
        super().__init__()
        self.lang = lang

    def format_field(self, value, format_spec):
        text = super().format_field(value, format_spec)
        if self.lang == "ru" and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and "," not in format_spec:
            text = text.replace(".", ",")
        return text
