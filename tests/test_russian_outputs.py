"""A Russian lesson shows no English of the course's own in its stored outputs.

What a Russian notebook prints may hold English only where it is not the course speaking: code (names of variables,
tasks, Celery's API, keys of dicts, a task's code printed with ``inspect.getsource`` but not its comments and
docstrings), Celery's, kombu's and Python's own names and messages (exception texts, the ``celery`` command's output:
:data:`FOREIGN`), and the course notes' calls as written (:data:`NOTES`). Everything else the course prints goes
through ``say()`` (course_tasks/i18n.py) or is written as an identifier. This test names each line that breaks that.
"""
import builtins
import io
import json
import keyword
import re
import sqlite3
import tokenize

import amqp.exceptions
import billiard.exceptions
import celery
import celery.exceptions
import celery.result
import celery.states
import kombu.exceptions
import pytest
from lessons import NOTEBOOKS, lesson_names, source

from course_tasks import settings

# A word: letters, not glued to a name, a path, a dotted name or a call ("worker@course", "course.play", "add(").
WORD = re.compile(r"(?<![\w.@/\\'=-])[A-Za-z][A-Za-z']*[A-Za-z](?![\w@(/\\=-]|\.\w)")
QUOTED = re.compile(r"'[A-Za-z_]\w*'")  # a one-word string in a repr: a key, a name ('calls', 'json', 'nap')
COMMAND = re.compile(r"python3 course\.py [\w -]+|celery -A \S+[\w -]*")  # a command line the course names
PRODUCTS = {"Redis", "Valkey", "RabbitMQ", "Celery", "Python", "JSON", "AMQP", "Flower"}
PRODUCT_NAMES = {name.lower() for name in PRODUCTS}  # in any case: shout("celery") prints CELERY!
VALUES = {"json", "redis", "amqp", settings.DEFAULT_QUEUE,  # a serializer, a transport, the course's default queue
          "prefork", "threads", "solo", "concurrency"}  # Celery's pools and its --concurrency (a lesson worker's line)
# What Celery, kombu, redis-py, IPython and Python print themselves: exception texts, the celery command's output.
FOREIGN = [
    re.compile(r"tasks \{.*\} flagged as revoked"), "Never call result.get() within a task!", "See https://docs.celeryq.dev/en/latest/userguide/tasks.html#",
    "avoid-launching-synchronous-subtasks", "Dependency", "raised", "division by zero", "The operation timed out",
    "expired", "revoked", "missing 1 required positional argument",
    "can only concatenate str (not \"int\") to str", "got an unexpected keyword argument", "is not JSON serializable",
    "Object of type", "positional arguments but", "were given", "takes", "Error 111 connecting to",
    "Connection refused", "inequivalent arg", "for queue", "in vhost", "received", "but current is", "Queue.declare",
    "Error: No nodes replied within time constraint", "node online", "nodes online", "- empty -", ": OK", "pong",
    "env:", "TaskPool", "Scheduler: Sending due task",
    "SQLite objects created in a thread can only be used in that same thread",  # Python's sqlite3 (lesson 20)
    re.compile(r"https?://\S+"),  # an address (lesson 17's Flower), after the texts that hold one
]
# pytest's own words for a test's outcome (run_tests() reports them as pytest does: PASSED, "3 passed, 1 failed")
PYTEST = {"PASSED", "FAILED", "ERROR", "SKIPPED", "passed", "failed", "error", "skipped"}
# An SQL statement in a Python string is code, not English: its words are keywords and names (lesson 20).
SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ON CONFLICT)\b")
NOTES = ["The sum is"]  # the course notes' own calls, run as written (lesson 02; tests/test_notes_calls.py)
ALLOWED = (set(keyword.kwlist) | set(dir(builtins)) | PRODUCTS | VALUES | set(dir(celery)) | set(dir(celery.exceptions))
           | set(dir(celery.result)) | set(celery.states.ALL_STATES) | set(dir(kombu.exceptions))
           | set(dir(billiard.exceptions)) | set(dir(amqp.exceptions)) | set(dir(sqlite3)) | PYTEST)


def code_words(text):
    """``(names, words, prose)`` of Python ``text``: its names, the words of its one- or two-word strings (a queue,
    a kind of e-mail: data, unless it ends with a colon, as a print label does), and its comments and longer strings."""
    names, words, prose = set(), set(), []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text + "\n").readline):
            if token.type == tokenize.NAME:
                names.add(token.string)
            elif token.type == tokenize.STRING:
                body = token.string.lstrip("rbfuRBFU").strip("'\"")
                if SQL.match(body):
                    names |= set(re.findall(r"[A-Za-z_]+", body))
                elif len(body.split()) > 2:
                    prose.append(body)
                elif not body.rstrip().endswith(":"):
                    words |= set(re.findall(r"[A-Za-z]+", body))
            elif token.type == tokenize.COMMENT:
                prose.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return names, words, prose


def english(line, allowed):
    """The words of ``line`` that are English of the course's own."""
    line = COMMAND.sub(" ", QUOTED.sub(" ", line))
    for text in FOREIGN + NOTES:
        line = text.sub(" ", line) if isinstance(text, re.Pattern) else line.replace(text, " ")
    return [word for word in WORD.findall(line)
            if word.strip("'") not in allowed and word.strip("'").lower() not in PRODUCT_NAMES]


def outputs(cell):
    """The text a code cell shows: streams, plain-text results and errors (pictures aside)."""
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            yield "".join(output["text"])
        elif output["output_type"] == "error":
            yield f"{output['ename']}: {output['evalue']}"
        elif "image/png" not in output.get("data", {}):
            yield "".join(output.get("data", {}).get("text/plain", ""))


def english_lines(cells):
    """``[(cell id, line, its English words)]`` of a Russian notebook's ``cells``."""
    allowed = set(ALLOWED)
    for cell in cells:
        if cell["cell_type"] == "code":
            code = "\n".join(line for line in source(cell).splitlines() if not line.lstrip().startswith(("%", "!")))
            names, words, _ = code_words(code)
            allowed |= names | words
    found = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for text in outputs(cell):
            if "inspect.getsource" in source(cell):  # printed code: its names are code, its comments and docstrings not
                names, words, prose = code_words(text)
                found += [(cell["id"], part, english(part, allowed | names | words)) for part in prose
                          if english(part, allowed | names | words)]
                continue
            found += [(cell["id"], line, english(line, allowed)) for line in text.splitlines()
                      if english(line, allowed)]
    return found


@pytest.mark.parametrize("name", lesson_names("ru"))
def test_a_russian_lesson_prints_no_english_of_the_course(name):
    cells = json.loads((NOTEBOOKS / "ru" / name).read_text(encoding="utf-8"))["cells"]
    found = english_lines(cells)
    assert not found, "English of the course's own in the stored outputs (say() it, or print an identifier):\n" + \
        "\n".join(f"  cell {cell}: {words} in {line.strip()[:100]!r}" for cell, line, words in found)


def test_the_check_sees_a_label_a_docstring_and_a_message_but_not_code_or_celery():
    def cell(code, *texts):
        return {"cell_type": "code", "id": "x", "source": code,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": text} for text in texts]}

    assert not english_lines([cell('print("state:", result.state)', "state: SUCCESS\n")])
    assert not english_lines([cell("r.get()", "ZeroDivisionError: division by zero\n")])
    assert not english_lines([cell("print(info)", "{'calls': 3, 'retries': 2}\n")])
    assert english_lines([cell('print("message:", where)', "message: нигде\n")])
    assert english_lines([cell("print(f())", "ConnectionError: service unavailable (call 1)\n")])
    printed = '@app.task\ndef nap(seconds):\n    """Sleeps a while (lesson 12)."""\n    time.sleep(seconds)\n'
    assert [line for _, line, _ in english_lines([cell("print(inspect.getsource(nap.run))", printed)])] == \
        ["Sleeps a while (lesson 12)."]
    assert not english_lines([cell("print(inspect.getsource(nap.run))", printed.replace(
        '    """Sleeps a while (lesson 12)."""\n', ""))])
