"""Exercises of lesson 17: progress and monitoring. The checkers run the task on watch@course, which they start, and
open its steps one by one, so what the answer sees at each step is always the same."""
from .. import lesson_workers, monitoring
from ..i18n import register, say
from ..waiting import wait_until
from . import exercise

register({
    "exercise.17.2.type": {"en": "the answer is a function: percent(result) -> a number from 0 to 100",
                           "ru": "ответ — функция: percent(result) -> число от 0 до 100"},
})

STATES = ("PENDING", "STARTED", "PROGRESS", "SUCCESS", "RECEIVED")


def is_prediction(answer):
    return (isinstance(answer, tuple) and len(answer) == 3 and answer[0] in STATES and answer[1] in STATES
            and isinstance(answer[2], bool))


@exercise("17.1", en="without track_started nobody stores STARTED: a running task stays PENDING until it stores a "
                     "state itself. PROGRESS is a state of your own, not one of READY_STATES, so ready() says False.",
          ru="без track_started состояние STARTED никто не записывает: выполняющаяся задача остаётся PENDING, пока "
             "сама не запишет состояние. PROGRESS — ваше собственное состояние, его нет в READY_STATES, так что "
             "ready() говорит False.",
          prediction=is_prediction)
def _(prediction):
    with lesson_workers.lesson_workers("watch"):
        gate = monitoring.new_gate()
        job = monitoring.crunch_untracked.apply_async((2, gate), queue="course.watch")
        try:
            lesson_workers.wait_running([job], ["watch@course"])
            running = job.state
            monitoring.open_step(gate, 1)
            monitoring.wait_state(job, "PROGRESS", done=1)
            seen = (running, job.state, job.ready())
        finally:
            monitoring.open_all(gate, 2)
        job.get(timeout=monitoring.WAIT)
    return tuple(prediction) == seen, repr(seen)


def _call(answer, job):
    """What ``answer(job)`` returns, or the name of the exception it raises (a verdict, not a failure)."""
    try:
        return answer(job)
    except Exception as exc:  # noqa: BLE001 (a learner's function may fail in any way; the note says how)
        return f"{type(exc).__name__}: {exc}"


@exercise("17.2", en="AsyncResult.info is the meta of the state the task is in: None while PENDING, "
                     "{{'pid': ..., 'hostname': ...}} while STARTED, your dict while PROGRESS, the return value at "
                     "SUCCESS. Look at result.state first, then read info the way that state fills it.",
          ru="AsyncResult.info — это meta того состояния, в котором задача сейчас: None при PENDING, "
             "{{'pid': ..., 'hostname': ...}} при STARTED, ваш словарь при PROGRESS, возвращённое значение при "
             "SUCCESS. Сначала посмотрите на result.state, потом читайте info так, как его заполняет это состояние.")
def _(answer):
    if not callable(answer):
        raise TypeError(say("exercise.17.2.type"))
    seen, wanted = [], [0, 0, 25, 50, 75, 100, 100]
    with lesson_workers.lesson_workers("watch") as watch:
        blocker_gate, gate = monitoring.new_gate(), monitoring.new_gate()
        blocker = monitoring.crunch.apply_async((1, blocker_gate), queue="course.watch")  # holds the one process
        job = monitoring.crunch.apply_async((4, gate), queue="course.watch")
        try:
            watch.wait_running([blocker])
            seen.append(_call(answer, job))  # PENDING: waiting in the queue
            monitoring.open_all(blocker_gate, 1)
            monitoring.wait_state(job, "STARTED")
            seen.append(_call(answer, job))
            for step in range(1, 5):
                monitoring.open_step(gate, step)
                monitoring.wait_state(job, "PROGRESS", done=step)
                seen.append(_call(answer, job))
            monitoring.open_step(gate, "end")
            wait_until(job.ready, monitoring.WAIT, every=0.02)
            seen.append(_call(answer, job))
        finally:
            monitoring.open_all(blocker_gate, 1)
            monitoring.open_all(gate, 4)
    return [round(value) if isinstance(value, (int, float)) else value for value in seen] == wanted, repr(seen)


def is_flower_prediction(answer):
    return isinstance(answer, tuple) and len(answer) == 3 and all(state in STATES for state in answer)


@exercise("17.3", en="Flower knows a task from its events only. The worker sends task-started as the task begins "
                     "whenever it sends events (-E), track_started or not: that setting only writes STARTED to the "
                     "result backend. update_state writes PROGRESS to the result backend and sends no event, so "
                     "Flower never hears of it.",
          ru="Flower знает о задаче только по её событиям. Если воркер вообще шлёт события (-E), то в начале задачи "
             "он отправляет task-started — с track_started или без: эта настройка лишь записывает STARTED в "
             "хранилище результатов. update_state записывает PROGRESS в хранилище результатов и никакого события не "
             "отправляет, так что Flower о нём не узнаёт.",
          prediction=is_flower_prediction)
def _(prediction):
    flower = monitoring.flower(quiet=True)
    with lesson_workers.lesson_workers("watch"):
        gate = monitoring.new_gate()
        job = monitoring.crunch_untracked.apply_async((2, gate), queue="course.watch")
        try:
            lesson_workers.wait_running([job], ["watch@course"])
            running = monitoring.flower_state(flower, job), job.state
            monitoring.open_step(gate, 1)
            monitoring.wait_state(job, "PROGRESS", done=1)
            seen = (*running, monitoring.flower_state(flower, job))
        finally:
            monitoring.open_all(gate, 2)
        job.get(timeout=monitoring.WAIT)
    return tuple(prediction) == seen, repr(seen)
