"""Exercises of lesson 19: operating workers. A prediction is the answer itself: the checker takes it, then starts
the worker and runs the experiment (19.1, 19.2), so it is recorded before anything runs."""
import os
import signal
import time

from .. import lesson_workers, operations, settings
from ..celery import app
from ..i18n import register, say
from ..machinery import unacked
from ..tasks import nap
from ..waiting import wait_until
from . import exercise

GRACE_MAX = 30  # seconds the 19.3 check may wait for a worker to stop
SIGNALS = ("SIGTERM", "SIGQUIT", "SIGINT")

register({
    "exercise.19.1.type": {"en": "the answer is a pair of whole numbers: (running, reserved)",
                           "ru": "ответ — пара целых чисел: (running, reserved)"},
    "exercise.19.2.type": {"en": 'the answer is a string of letters, like "A A A B B"',
                           "ru": 'ответ — строка из букв, например "A A A B B"'},
    "exercise.19.3.type": {
        "en": 'the answer is a dict like {{"signal": "SIGQUIT", "worker_soft_shutdown_timeout": 2, "grace": 10}}, '
              'optionally with "env": {{"REMAP_SIGTERM": "SIGQUIT"}}',
        "ru": 'ответ — словарь вида {{"signal": "SIGQUIT", "worker_soft_shutdown_timeout": 2, "grace": 10}}, '
              'при желании с "env": {{"REMAP_SIGTERM": "SIGQUIT"}}',
    },
    "exercise.19.3.grace": {"en": "; grace from 1 to {most} s", "ru": "; grace — от 1 до {most} с"},
    "exercise.19.3.too_short": {
        "en": "the soft wait must be longer than 1 s, and grace at least 3 s longer than the soft wait",
        "ru": "мягкое ожидание должно быть дольше 1 с, а grace — хотя бы на 3 с дольше мягкого ожидания",
    },
    "exercise.19.3.before": {
        "en": "soft@course stopped before grace ran out: the short report {state}; the long one back in {queue}: "
              "{back}, left in unacked: {lost}",
        "ru": "soft@course остановился до истечения grace: короткий отчёт {state}; длинный вернулся в {queue}: "
              "{back}, остался в unacked: {lost}",
    },
    "exercise.19.3.after": {
        "en": "soft@course was still running when grace ran out: the short report {state}; the long one back in "
              "{queue}: {back}, left in unacked: {lost}",
        "ru": "soft@course ещё работал, когда grace истёк: короткий отчёт {state}; длинный вернулся в {queue}: "
              "{back}, остался в unacked: {lost}",
    },
})


@exercise("19.1", en="the worker asks for concurrency × multiplier messages, and with late acknowledgement the "
                     "messages of the running tasks are among them: reserved = 4 × 3 - 4.",
          ru="воркер просит concurrency × множитель сообщений, и при позднем подтверждении сообщения "
             "выполняющихся задач входят в их число: зарезервировано = 4 × 3 - 4.",
          prediction=lambda answer: isinstance(answer, tuple) and len(answer) == 2
          and all(type(n) is int for n in answer))
def _(answer):
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(type(n) is int for n in answer)):
        raise TypeError(say("exercise.19.1.type"))
    prediction = answer  # taken first: the worker below starts after it
    with lesson_workers.lesson_workers("prefetch", extra=("--prefetch-multiplier", "3")):
        gate = operations.new_gate()
        held = [operations.blocked.apply_async((gate,), queue="course.prefetch") for _ in range(20)]
        try:
            counts = operations.running_and_reserved("prefetch@course")
        finally:
            operations.open_gate(gate)
            for result in held:
                result.get(timeout=30)
    return tuple(prediction) == counts, f"prefetch@course: running={counts[0]}, reserved={counts[1]}"


@exercise("19.2", en="memory is checked after every task, against the PEAK resident size: a fresh process has about "
                     "55 MiB, each leak(96) adds 96 MiB for good. After which task is the peak over 200 MiB? That "
                     "process is replaced then, and the count of 3 tasks starts again with the new one.",
          ru="память проверяется после каждой задачи, и сравнивается ПИКОВЫЙ резидентный размер: у свежего "
             "процесса около 55 МиБ, каждая leak(96) добавляет 96 МиБ навсегда. После какой задачи пик превысит "
             "200 МиБ? Тогда процесс и заменят, а счёт до трёх задач начнётся заново у нового.",
          prediction=lambda answer: isinstance(answer, str) and len(answer.split()) == 5
          and all(len(letter) == 1 and letter.isalpha() for letter in answer.split()))
def _(answer):
    if not isinstance(answer, str):
        raise TypeError(say("exercise.19.2.type"))
    prediction = " ".join(answer.split())  # taken first: the tasks below run after it
    with lesson_workers.lesson_workers("recycle", extra=("--max-memory-per-child", "204800")):
        letters = operations.one_by_one(operations.leak.s(96), 5, "recycle")
    return prediction == letters, f"recycle@course, leak(96) x5: {letters}"


def _design(answer):
    """``(signal, soft, grace, env)`` from the 19.3 answer, or TypeError saying what is expected."""
    expected = say("exercise.19.3.type")
    if not isinstance(answer, dict) or not {"signal", "worker_soft_shutdown_timeout", "grace"} <= set(answer) \
            or not set(answer) <= {"signal", "worker_soft_shutdown_timeout", "grace", "env"}:
        raise TypeError(expected)
    sig, soft, grace, env = (answer["signal"], answer["worker_soft_shutdown_timeout"], answer["grace"],
                             answer.get("env") or {})
    if sig not in SIGNALS or not isinstance(soft, (int, float)) or not isinstance(grace, (int, float)) \
            or not 0 < grace <= GRACE_MAX or soft < 0 or set(env) - {"REMAP_SIGTERM"} \
            or env.get("REMAP_SIGTERM", "SIGQUIT") != "SIGQUIT":
        raise TypeError(expected + say("exercise.19.3.grace", most=GRACE_MAX))
    return sig, soft, grace, env


@exercise("19.3", en="a warm shutdown (SIGTERM) waits for the long report until the kill, which leaves its message in "
                     "unacked; a cold one (SIGQUIT, or SIGTERM with REMAP_SIGTERM=SIGQUIT) cancels it, and late "
                     "acknowledgement gives it back. worker_soft_shutdown_timeout must cover the short reports with "
                     "a margin (more than 1 s), and grace must leave the worker time after it (a few seconds more).",
          ru="тёплая остановка (SIGTERM) ждёт долгий отчёт до самого убийства, и его сообщение остаётся в unacked; "
             "холодная (SIGQUIT или SIGTERM с REMAP_SIGTERM=SIGQUIT) его отменяет, а позднее подтверждение "
             "возвращает его в очередь. worker_soft_shutdown_timeout должен с запасом покрывать короткие отчёты "
             "(больше 1 с), а grace — оставлять воркеру время после него (ещё несколько секунд).")
def _(answer):
    sig, soft, grace, env = _design(answer)
    if soft <= 1 or grace < soft + 3:
        print(say("exercise.19.3.too_short"))
        return False
    queue, broker = "course.soft", settings.broker_url()
    with lesson_workers.lesson_workers("soft", extra=(f"worker_soft_shutdown_timeout={soft}",),
                                       env=env) as worker:
        short, long_ = nap.apply_async((1,), queue=queue), nap.apply_async((60,), queue=queue)
        worker.wait_running([short, long_])
        worker.signal("soft", sig)
        started = time.monotonic()
        process = lesson_workers.lesson_procs.RUNNING["soft"].service.proc
        if not wait_until(lambda: process.poll() is not None, grace, every=0.05):
            os.killpg(process.pid, signal.SIGKILL)  # the platform's kill, grace seconds after the signal
            process.wait()
        stopped_after = time.monotonic() - started
    back, lost = operations.queued(queue), unacked.waiting(broker, [queue])
    short_state = short.state
    app.control.revoke(long_.id)  # the long report is not run by anybody later
    print(say("exercise.19.3.before" if stopped_after < grace else "exercise.19.3.after", state=short_state,
              queue=queue, back=back, lost=lost))
    unacked.forget(broker, [queue])
    return short_state == "SUCCESS" and back == 1 and lost == 0
