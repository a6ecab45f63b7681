"""Exercises of lesson 15: routing and dedicated workers. A prediction is the answer itself: the checker takes it,
then starts the workers and sends the tasks (15.1, 15.3), so it is recorded before anything runs."""
import contextlib

from .. import lesson_workers, routing
from ..celery import app
from ..errors import SetupError
from ..i18n import register, say
from ..tasks import add
from ..waiting import wait_until
from . import exercise

NODES = ("slow@course", "fast@course", "worker@course", "one@course", "two@course")
ROUTES_15_1 = {
    "course_tasks.routing.*": {"queue": "course.slow"},
    "course_tasks.routing.quick": {"queue": "course.fast"},
}
WAIT = 5.0  # seconds a task of a check may take to run on an idle worker before it counts as stuck

register({
    "exercise.15.2.type": {
        "en": "the answer is a router function: def answer(name, args, kwargs, options, task=None, **kw)",
        "ru": "ответ — функция-маршрутизатор: def answer(name, args, kwargs, options, task=None, **kw)",
    },
    "exercise15_stuck": {
        "en": "{name} -> {queue}: still PENDING, {waiting} message(s) waiting in that queue",
        "ru": "{name} -> {queue}: всё ещё PENDING, сообщений в этой очереди: {waiting}",
    },
    "exercise15_on_two": {"en": "two@course ran {count} of the 3 quick tasks",
                          "ru": "two@course выполнил быстрых задач: {count} из 3"},
})


@contextlib.contextmanager
def routes(task_routes):
    """This notebook's app routes with ``task_routes`` inside the block, and with what it had before after it."""
    before = app.conf.task_routes
    app.conf.update(task_routes=task_routes)
    try:
        yield
    finally:
        app.conf.update(task_routes=before)


def is_four_nodes(answer):
    return isinstance(answer, tuple) and len(answer) == 4 and all(node in NODES for node in answer)


@exercise("15.1", en="an exact task name in task_routes is looked up before any glob, whatever their order in the "
                     "dict; a task no route names goes to task_default_queue; and queue= given to apply_async wins "
                     "over every route.",
          ru="точное имя задачи в task_routes проверяется раньше любого шаблона, в каком бы порядке они ни стояли в "
             "словаре; задача, которую не называет ни один маршрут, уходит в task_default_queue; а queue=, "
             "переданный в apply_async, важнее любого маршрута.",
          prediction=is_four_nodes)
def _(prediction):
    with lesson_workers.lesson_workers("slow", "fast"), routes(ROUTES_15_1):
        sent = [routing.quick.delay(1), routing.tick.delay(2), routing.quick.apply_async((3,), queue="course"),
                add.delay(1, 2)]
        seen = tuple(routing.node_of(result) for result in sent)
    return tuple(prediction) == seen, repr(seen)


@exercise("15.2", en="a route names a queue, and any name is accepted (task_create_missing_queues): a name no worker "
                     "consumes is not an error, the task just waits there, PENDING. Compare the queue each route "
                     "returns with the --queues of slow@course and fast@course.",
          ru="маршрут называет очередь, и годится любое имя (task_create_missing_queues): имя, которое не слушает ни "
             "один воркер, — не ошибка, задача просто ждёт там в состоянии PENDING. Сравните очередь, которую "
             "возвращает каждый маршрут, с --queues у slow@course и fast@course.")
def _(answer):
    if not callable(answer):
        raise TypeError(say("exercise.15.2.type"))
    gate = routing.new_gate()
    routing.open_gate(gate)  # the report returns at once
    wanted = {"report": "slow@course", "quick": "fast@course", "tick": "fast@course"}
    with lesson_workers.lesson_workers("slow", "fast"), routes((answer,)):
        sent = {"report": routing.report.delay(gate), "quick": routing.quick.delay(1), "tick": routing.tick.delay(2)}
        queues = {name: app.amqp.router.route({}, result_name)["queue"].name
                  for name, result_name in (("report", routing.report.name), ("quick", routing.quick.name),
                                            ("tick", routing.tick.name))}
        seen, stuck = {}, []
        for name, result in sent.items():
            try:
                result.get(timeout=WAIT)
                seen[name] = routing.node_of(result)
            except Exception:  # noqa: BLE001 (a task that never ran, or one the route broke: the note says where)
                stuck.append(name)
        waiting = {queues[name]: routing.queued(queues[name]) for name in stuck}
        for queue in waiting:
            routing.purge(queue)  # nothing left behind for a later run
    ran = [f"{name} -> {queues[name]} -> {node}" for name, node in seen.items()]
    lost = [say("exercise15_stuck", name=name, queue=queues[name], waiting=waiting[queues[name]]) for name in stuck]
    return seen == wanted, "; ".join(ran + lost)


def is_count(answer):
    return type(answer) is int and 0 <= answer <= 3


@exercise("15.3", en="one@course asks for concurrency x multiplier = 1 x 2 messages; the report it runs is one of "
                     "them (late acknowledgement), so it reserves one quick task. The others stay in the queue, "
                     "where two@course finds them.",
          ru="one@course просит concurrency × множитель = 1 × 2 сообщения; выполняемый отчёт — одно из них (позднее "
             "подтверждение), так что он резервирует одну быструю задачу. Остальные остаются в очереди, и там их "
             "находит two@course.",
          prediction=is_count)
def _(prediction):
    with lesson_workers.lesson_workers("one", extra=("--prefetch-multiplier", "2")) as first:
        gate = routing.new_gate()
        try:
            long_report = routing.report.apply_async((gate,), queue="course.shared")
            first.wait_running([long_report])
            quicks = [routing.quick.apply_async((n,), queue="course.shared") for n in range(3)]
            _, reserved = routing.running_and_reserved("one@course")
            with lesson_workers.lesson_workers("two", fresh=False):
                # what one@course did not reserve, two@course runs while the report still holds one@course
                left = len(quicks) - reserved
                if not wait_until(lambda: sum(result.ready() for result in quicks) >= left, 30, every=0.05):
                    raise SetupError(say("routing_not_ran", missing=left, seconds=30))
        finally:
            routing.open_gate(gate)
        routing.wait_done(quicks + [long_report])
        seen = sum(routing.node_of(result) == "two@course" for result in quicks)
    return prediction == seen, say("exercise15_on_two", count=seen)
