"""Exercises of lesson 10: your own task."""
import re
import types

from celery.exceptions import NotRegistered

from .. import settings
from ..celery import app
from ..exclusive import exclusive
from ..i18n import register, say
from ..playground import PLAYGROUND
from . import exercise, journal_entry, result_of

register({
    "exercise.10.returned": {"en": "the worker's {task} returned {value!r}.",
                             "ru": "задача {task} на воркере вернула {value!r}."},
    "exercise.10.twice": {
        "en": "{module} defines {task} {count} times, and Celery keeps the FIRST task registered under a name: the "
              "worker runs the first definition, whatever follows it. Write the module anew with %%playground "
              "{module} (without -a), then reload_worker(\"play\").",
        "ru": "в {module} задача {task} определена несколько раз (всего {count}), а Celery оставляет ПЕРВУЮ задачу, "
              "зарегистрированную под именем: воркер выполняет первое определение, что бы ни шло за ним. Запишите "
              "модуль заново через %%playground {module} (без -a) и перезапустите воркер: reload_worker(\"play\")."},
})


def _defined_twice(task):
    """``(file name, count)`` of a playground module that names the task ``task`` more than once, else None."""
    pattern = re.compile(r"name\s*=\s*[\"']" + re.escape(task) + r"[\"']")
    for path in sorted(PLAYGROUND.glob("*.py")):
        try:
            count = len(pattern.findall(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
        if count > 1:
            return path.name, count
    return None


@exercise("10.1", en="module, then function, joined by a dot. But a notebook's code runs in the module __main__, "
                     "and Celery does not use that name: it puts the app's own name instead, "
                     "the one given to Celery(...) (print app.main). The prediction is a string.",
          ru="модуль, затем функция, через точку. Но код ноутбука выполняется в модуле __main__, и это имя "
             "Celery не берёт: вместо него он подставляет имя самого приложения, то, что передано в "
             "Celery(...) (выведите app.main). Прогноз — строка.",
          prediction=lambda answer: isinstance(answer, str))
def _(prediction):
    # The experiment of the exercise: a task defined in the notebook (module __main__), with no name=, sent to
    # play@course, which does not know it and says which name it looked up.
    function = types.FunctionType((lambda x: 3 * x).__code__, {}, "triple")
    function.__module__, function.__qualname__ = "__main__", "triple"
    known = set(app.tasks)
    triple = app.task(function)
    try:
        with exclusive("play"):
            result = triple.apply_async((7,), queue=settings.PLAY_QUEUE)
            result.get(timeout=10, propagate=False)
    finally:
        if triple.name not in known:  # the notebook's own app keeps no trace of the check's task
            app.tasks.pop(triple.name, None)
    error = result.result
    if not isinstance(error, NotRegistered):
        return False
    return prediction == error.args[0], f"NotRegistered: {error.args[0]!r}"


def _ran_on_play(answer, task, value):
    """``(right, note)``: did play@course run ``answer`` as the task ``task`` (its short name) and return ``value``?"""
    node = settings.worker_roles()["play"].node
    returned = result_of(answer)
    entry = journal_entry(answer.id)
    if not (entry and entry["task"] == task and entry["node"] == node):
        return False
    if returned != value:
        note = say("exercise.10.returned", task=f"play.{task}", value=returned)
        twice = _defined_twice(f"play.{task}")
        if twice:
            note += " " + say("exercise.10.twice", module=twice[0], task=f"play.{task}", count=twice[1])
        return False, note
    return True


@exercise("10.2", en="Celery keeps the FIRST task registered under a name: a second @app.task(name=\"play.area\") "
                     "further down the same module is ignored (the worker's log warns, nothing else does). A fix must "
                     "replace the old definition, not follow it: write area.py anew with %%playground area.py (no -a), "
                     "then reload_worker(\"play\").",
          ru="Celery оставляет ПЕРВУЮ задачу, зарегистрированную под именем: второй @app.task(name=\"play.area\") "
             "ниже в том же модуле не действует (об этом пишет только лог воркера). Исправление должно заменить "
             "старое определение, а не идти за ним: запишите area.py заново через %%playground area.py (без -a) и "
             "перезапустите воркер через reload_worker(\"play\").")
def _(answer):
    return _ran_on_play(answer, "area", 12)


@exercise("10.3", en="the task needs bind=True and returns self.request.hostname; write it into a module of its own "
                     "with %%playground where.py, restart with reload_worker(\"play\"), then "
                     "app.send_task(\"play.where\", queue=\"course.play\"). To fix it, write where.py anew (no -a): "
                     "a second definition appended below the first changes nothing, since Celery keeps the FIRST "
                     "task registered under a name.",
          ru="задаче нужен bind=True, а вернуть она должна self.request.hostname; запишите её в отдельный модуль "
             "через %%playground where.py, перезапустите воркер через reload_worker(\"play\") и вызовите "
             "app.send_task(\"play.where\", queue=\"course.play\"). Исправляя, записывайте where.py заново (без "
             "-a): второе определение, дописанное ниже первого, ничего не меняет, ведь Celery оставляет ПЕРВУЮ "
             "задачу, зарегистрированную под именем.")
def _(answer):
    return _ran_on_play(answer, "where", settings.worker_roles()["play"].node)
