"""Exercises of lesson 10: your own task."""
from celery.utils.imports import gen_task_name

from .. import settings
from ..celery import app
from . import exercise, journal_entry, result_of


@exercise("10.1", en="a task without name= is named after its module and function: module course_tasks.tasks, "
                     "function add. The answer is what send_task() returns.",
          ru="задача без name= называется по модулю и функции: модуль course_tasks.tasks, функция add. "
             "Ответ — то, что возвращает send_task().")
def _(answer):
    entry = result_of(answer) == 5 and journal_entry(answer.id)
    return bool(entry) and entry["task"] == "add" and entry["node"] == settings.worker_roles()["main"].node


@exercise("10.2", en="module, then function, joined by a dot. But a notebook's code runs in the module __main__, "
                     "and Celery does not use that name: it puts the app's own name instead, "
                     "the one given to Celery(...) (print app.main).",
          ru="модуль, затем функция, через точку. Но код ноутбука выполняется в модуле __main__, и это имя "
             "Celery не берёт: вместо него он подставляет имя самого приложения, то, что передано в "
             "Celery(...) (выведите app.main).")
def _(answer):
    return isinstance(answer, str) and answer == gen_task_name(app, "triple", "__main__")


@exercise("10.3", en="the task needs bind=True and returns self.request.hostname; append it with "
                     "%%playground -a my_tasks.py, restart with reload_worker(\"play\"), then "
                     "app.send_task(\"play.where\", queue=\"course.play\").",
          ru="задаче нужен bind=True, а вернуть она должна self.request.hostname; допишите её через "
             "%%playground -a my_tasks.py, перезапустите воркер через reload_worker(\"play\") и вызовите "
             "app.send_task(\"play.where\", queue=\"course.play\").")
def _(answer):
    node = settings.worker_roles()["play"].node
    entry = result_of(answer) == node and journal_entry(answer.id)
    return bool(entry) and entry["task"] == "where" and entry["node"] == node
