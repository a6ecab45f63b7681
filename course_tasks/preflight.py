"""Is everything a lesson needs there? Broker, result backend, workers: answered in seconds, never a hang."""
import redis
from celery import Celery
from kombu.exceptions import OperationalError

from . import settings
from .apps import app_for
from .errors import SetupError, one_line, setup_error
from .i18n import register, say
from .machinery import autostart, presence, tracebacks
from .machinery.plumbing import control_app
from .machinery.probes import PING_SECONDS, redis_client, redis_error
from .machinery.run_state import restarting_nodes, supervision_note

DUPLICATES_SECONDS = 0.3  # after the last reply, how long more replies (a second worker of one name) are awaited
STRANGERS_SECONDS = 0.5  # how long a worker of another app is given to answer
PIDBOX_BINDINGS = "_kombu.binding.celery.pidbox"  # kombu's Redis set: one member per worker listening for control
KOMBU_SEP = "\x06\x16"  # kombu's default separator in that set; the course's is ":"

register({
    "setup_interrupted": {
        "en": "The setup check was cut short: run the Setup cell again.",
        "ru": "Проверка подготовки прервана: выполните ячейку «Подготовка» снова.",
    },
    "broker_ok": {
        "en": "broker: {kind} answers",
        "ru": "брокер: {kind} отвечает",
    },
    "backend_ok": {
        "en": "result backend: {kind} answers",
        "ru": "хранилище результатов: {kind} отвечает",
    },
    "worker_ok": {
        "en": "worker: {node} answers ({slots} process{plural}, queues: {queues})",
        "ru": "воркер: {node} отвечает (процессов: {slots}, очереди: {queues})",
    },
    "worker_down": {
        "en": "No worker answered within {timeout:g} s (broker {url}): {nodes}.\n"
              "{start}\n(or everything at once:  python3 course.py up)",
        "ru": "Нет ответа за {timeout:g} с (брокер {url}) от воркеров: {nodes}.\n"
              "{start}\n(или всё сразу:  python3 course.py up)",
    },
    "all_ok": {
        "en": "Ready.",
        "ru": "Всё готово.",
    },
    "worker_start_one": {
        "en": "Start one with:  {command}",
        "ru": "Запустите воркер:  {command}",
    },
    "worker_start_many": {
        "en": "Start them with:\n{commands}",
        "ru": "Запустите воркеры:\n{commands}",
    },
    "worker_twice": {
        "en": "{count} workers answer as {nodes} on {url}, so tasks go to either, and lessons that time or order "
              "tasks show wrong results.\nUsually two  python3 course.py up  share this broker: stop all but one "
              "(Ctrl-C in its terminal), then run  python3 course.py check.",
        "ru": "Под именем {nodes} отвечают сразу несколько воркеров ({count}) через брокер {url}. Задачи достаются "
              "то одному, то другому, и уроки, где задачи замеряются или упорядочиваются, покажут неверный "
              "результат.\nОбычно так бывает, когда этим брокером пользуются два  python3 course.py up: оставьте "
              "один (Ctrl-C в терминале лишнего) и выполните  python3 course.py check.",
    },
    "stranger_takes": {
        "en": "A Celery worker that is not the course's, {node}, consumes the queue {queues} on {url}: it "
              "takes the course's tasks, which then fail (NotRegistered) or never finish.\nStop it, or give the "
              "course a Redis database of its own (CELERY_BROKER_URL=redis://host:port/1).",
        "ru": "Воркер Celery не из курса, {node}, берёт задачи из очереди {queues} через брокер {url}. "
              "Задачи курса, которые достанутся ему, упадут (NotRegistered) или не завершатся никогда.\n"
              "Остановите его или отдайте курсу отдельную базу Redis (CELERY_BROKER_URL=redis://хост:порт/1).",
    },
    "stranger_there": {
        "en": "note: {node}, a Celery worker that is not the course's, listens on {url} (queues: {queues}); "
              "it does not consume the course's queues.",
        "ru": "к сведению: {node}, воркер Celery не из курса, слушает брокер {url} (очереди: {queues}); "
              "очереди курса он не читает.",
    },
    "worker_restarting": {
        "en": "No answer within {timeout:g} s (broker {url}) from {nodes}: the course is starting it again.",
        "ru": "Нет ответа за {timeout:g} с (брокер {url}) от {nodes}: курс запускает его снова.",
    },
})

register({
    "service_ok": {"en": "{name}: runs", "ru": "{name}: работает"},
    "service_down": {
        "en": "{name} does not run (nothing said so in the course's Redis {url} for {seconds:g} s).\n"
              "Start it with:  python3 course.py {command}   (or everything at once:  python3 course.py up)",
        "ru": "{name} не работает (в Redis курса {url} от него нет вестей уже {seconds:g} с).\n"
              "Запустите его:  python3 course.py {command}   (или всё сразу:  python3 course.py up)",
    },
    "service_restarting": {
        "en": "{name} does not run (nothing said so in the course's Redis {url} for {seconds:g} s): the course is "
              "starting it again.",
        "ru": "{name} не работает (в Redis курса {url} от него нет вестей уже {seconds:g} с): курс запускает его "
              "снова.",
    },
})


def _kind(url):
    return "RabbitMQ" if url.startswith("amqp") else "Redis" if url.startswith("redis") else url.split(":", 1)[0]


def _is_redis(url):
    return url.startswith(("redis://", "rediss://", "unix://", "redis+socket://"))


def _error(message, raw_url, **values):
    """The SetupError saying ``message``, with what the course's supervisor saw lately on ``raw_url``."""
    return setup_error(message, supervision_note(raw_url), url=settings.redacted(raw_url), **values)


def check_broker(app, timeout=2.0):
    raw = app.conf.broker_write_url
    error = redis_error(raw) if _is_redis(raw) else None  # kombu alone would wait for ever on a silent port
    if error is None:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        except (OperationalError, OSError) as exc:  # any failure to connect is reported the same way
            error = one_line(exc)
    if error is not None:
        raise _error("broker_down", raw, error=error) from None
    return say("broker_ok", kind=_kind(raw))


def check_broker_at(url, timeout=2.0):
    """Check a broker by URL alone (lesson 00 shows what a missing one looks like)."""
    return check_broker(control_app(url), timeout=timeout)


def check_backend(app):
    """The course's result backend is a Redis (machinery/url_check.py refuses any other): does it answer?"""
    raw = app.conf.result_backend
    error = redis_error(raw)
    if error is not None:
        raise _error("backend_down", raw, error=error)
    return say("backend_ok", kind=_kind(raw))


def check_workers(app, roles=("main",), timeout=1.5):
    """Ping the course's workers of ``roles``; name each that answered, with its processes and queues.

    Raises SetupError when one does not answer, or when two workers answer under one name (two course
    setups on one broker: tasks go to either, and lessons that time or order them show wrong results).
    """
    by_role = settings.roles()
    wanted = [by_role[r] for r in roles]
    raw = app.conf.broker_write_url
    replies = _stats(app, [w.node for w in wanted], timeout)
    stats = {}
    for reply in replies:
        for node, answer in reply.items():
            stats.setdefault(node, []).append(answer)
    missing = [w for w in wanted if w.node not in stats]
    if missing and {w.node for w in missing} <= restarting_nodes(raw):  # not "start one": the course is doing it
        raise _error("worker_restarting", raw, nodes=", ".join(w.node for w in missing), timeout=timeout)
    if missing:
        commands = [f"python3 course.py {' '.join(w.command())}" for w in missing]
        start = (say("worker_start_one", command=commands[0]) if len(commands) == 1 else
                 say("worker_start_many", commands="\n".join(f"  {c}" for c in commands)))
        raise _error("worker_down", raw, nodes=", ".join(w.node for w in missing), timeout=timeout, start=start)
    doubled = [w.node for w in wanted if len(stats[w.node]) > 1]
    if doubled:
        raise _error("worker_twice", raw, nodes=", ".join(doubled), count=max(len(stats[n]) for n in doubled))
    lines = []
    for w in wanted:
        slots = stats[w.node][0]["pool"].get("max-concurrency")
        lines.append(say("worker_ok", node=w.node, slots=slots, plural="" if slots == 1 else "es",
                         queues=", ".join(w.queues)))
    return lines


def check_services(app, roles):
    """The roles of ``roles`` that are not workers (celery beat, say) answer no ping: each says that it runs by a key
    in the course's Redis (machinery/presence.py). A line each, or SetupError naming the command that starts it."""
    client, lines = app.backend.client, []
    for role in (settings.roles()[name] for name in roles):
        if not presence.alive(client, role.name):
            restarting = role.label in restarting_nodes(app.conf.broker_write_url)  # not "start it": the course does
            raise _error("service_restarting" if restarting else "service_down", app.conf.result_backend,
                         name=role.label, seconds=presence.TTL, command=" ".join(role.command()))
        lines.append(say("service_ok", name=role.label))
    return lines


def _stats(app, nodes, timeout):
    """Every ``stats`` reply of ``nodes``, as a list: two workers of one name give two.

    Celery's inspect() stops at one reply per name, so a second worker of that name could take the
    place of another's reply. Here replies are collected until none came for DUPLICATES_SECONDS; a
    node that had not answered by then is asked again, with the whole ``timeout``. A new connection is
    used, not the app's pool: a pooled one may be from before a broker restart, and fail once.
    """
    raw = app.conf.broker_write_url
    with app.connection_for_write(transport_options=_short_polls(raw)) as conn:
        errors = tuple(conn.connection_errors) + tuple(conn.channel_errors)

        def ask(destination, wait):
            return app.control.broadcast("stats", destination=destination, reply=True, timeout=wait,
                                         limit=4 * len(destination), connection=conn) or []

        try:
            replies = ask(nodes, DUPLICATES_SECONDS)
            answered = {node for reply in replies for node in reply}
            late = [node for node in nodes if node not in answered]
            if late:
                replies += ask(late, timeout)
        except errors as exc:  # the broker went away since check_broker
            raise _error("broker_down", raw, error=one_line(exc)) from None
    return replies


def _short_polls(url):
    """Transport options for a connection that waits for replies a short while and is then closed.

    kombu's Redis transport waits for a reply with BRPOP, 1 s at a time, and closing the connection waits
    for the BRPOP in flight; a Redis from 6.0 on takes a fraction of a second instead (older ones: whole seconds).
    Valkey, the embedded broker, reports the Redis it is compatible with in ``redis_version`` (7.2.4).
    """
    if not _is_redis(url):
        return {}
    try:
        client = redis_client(url, PING_SECONDS)
        major = int(str(client.info("server")["redis_version"]).split(".")[0])
    except (redis.exceptions.RedisError, OSError, ValueError):  # the broadcast that follows says what is wrong
        return {}
    return {"polling_interval": 0.1} if major >= 6 else {}


def foreign_workers(app, timeout=STRANGERS_SECONDS):
    """``{node: [queue, ...]}`` of the Celery workers of other apps that answer on this Redis broker.

    A worker listens for control commands on a pidbox queue, and kombu's Redis transport records its
    binding in a set. The course's members use the course's separator (``sep``); a worker of an app
    with kombu's default one is not reachable by the course's ping, so it is asked by an app of its kind.
    """
    raw = app.conf.broker_write_url
    if not _is_redis(raw):
        return {}
    own = app.conf.broker_transport_options.get("sep", KOMBU_SEP) * 2
    client = redis_client(raw, PING_SECONDS)
    members = [m.decode(errors="replace") for m in client.smembers(PIDBOX_BINDINGS)]
    nodes = sorted({m.rsplit(KOMBU_SEP, 1)[-1].removesuffix(".celery.pidbox")
                    for m in members if not m.startswith(own) and KOMBU_SEP in m})
    if not nodes:
        return {}
    probe = Celery("course_probe", set_as_current=False)  # kombu's default separator, like those workers
    probe.conf.update(broker_url=raw, broker_read_url=raw, broker_write_url=raw, accept_content=["json"],
                      broker_connection_timeout=PING_SECONDS, broker_transport_options={"socket_timeout": PING_SECONDS})
    try:
        replies = probe.control.inspect(destination=nodes, timeout=timeout).active_queues() or {}
    finally:
        probe.close()
    return {node: sorted(q["name"] for q in queues) for node, queues in sorted(replies.items())}


def stranger_lines(app, roles):
    """A warning line for every worker of another app on this broker; it may take tasks of the course's queues."""
    try:
        strangers = foreign_workers(app)
    except (redis.exceptions.RedisError, OperationalError, OSError):  # a note must never break the check it adds to
        return []
    by_role = settings.roles()
    ours = {q for r in roles for q in by_role[r].queues}
    url = settings.redacted(app.conf.broker_write_url)
    lines = []
    for node, queues in strangers.items():
        taken = sorted(ours.intersection(queues))
        if taken:  # not ready: some of the course's tasks would fail or never finish
            raise SetupError(say("stranger_takes", node=node, url=url, queues=", ".join(map(repr, taken))))
        else:
            lines.append(say("stranger_there", node=node, url=url, queues=", ".join(map(repr, queues))))
    return lines


def check_setup(app=None, roles=("main",), quiet=False):
    """Check the broker, the result backend and the workers; print one line each, raise SetupError if one is missing.

    In a notebook's kernel with no setup running, it first starts one (machinery/autostart.py: the embedded Redis
    and the course's workers, which stop with the kernel); ``COURSE_AUTOSTART=0`` turns that off.
    Without ``app``, each worker is looked for through its own app (the RabbitMQ worker through RabbitMQ).
    A Celery worker of another app on the same Redis that consumes a course's queue is a SetupError (it takes
    the course's tasks); one on other queues is a line of its own. A worker the supervisor restarted lately
    after it was killed mid-task gets a line too: its tasks went back to the queue and run again.
    """
    autostart.ensure_setup()
    by_role, lines = settings.roles(), []
    for role_app, group in _apps_of(roles) if app is None else [(app, list(roles))]:
        workers = [role for role in group if by_role[role].kind == "worker"]
        others = [role for role in group if role not in workers]
        lines += [check_broker(role_app), check_backend(role_app)]
        lines += [*(check_workers(role_app, workers) if workers else []), *check_services(role_app, others),
                  *stranger_lines(role_app, workers)]
        note = supervision_note(role_app.conf.broker_write_url, nodes={by_role[r].label for r in group},
                                only_restored=True)
        if note:
            lines.append(note)
    lines.append(say("all_ok"))
    if not quiet:
        print("\n".join(lines))


def _apps_of(roles):
    """``[(app, [role, ...]), ...]``: the roles grouped by the app their worker runs."""
    groups = {}
    for role in roles:
        groups.setdefault(settings.roles()[role].app, []).append(role)
    return [(app_for(group[0]), group) for group in groups.values()]


@tracebacks.on_interrupt(check_setup)
def _interrupted_checking(frame):
    return say("setup_interrupted")
