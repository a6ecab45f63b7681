"""Exercises of lesson 00: the broker, the worker and the result backend."""
from .. import settings
from . import exercise


@exercise("00.1", en="ping the workers with app.control.ping(timeout=1.0) and copy the name that ends in @course "
                     "and has four processes (check_setup() shows it).",
          ru="опросите воркеры через app.control.ping(timeout=1.0) и скопируйте имя, которое оканчивается на "
             "@course и у которого четыре процесса (это видно в выводе check_setup()).")
def _(answer):
    return answer == settings.worker_roles()["main"].node



@exercise("00.2", en="mul.delay(6, 7) sends the task; .get(timeout=10) on what it returns waits for the result.",
          ru="mul.delay(6, 7) отправляет задачу, а .get(timeout=10) у возвращённого ею объекта дожидается "
             "результата.")
def _(answer):
    return answer == 42
