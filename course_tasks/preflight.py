"""Is everything a lesson needs there? Broker, result backend, workers: answered in seconds, never a hang."""
from . import settings
from .i18n import language, say

PING_SECONDS = 1.0  # a raw PING to a Redis: a silent port (accepts, never answers) is told in this time
DUPLICATES_SECONDS = 0.3  # after the last reply, how long more replies (a second worker of one name) are awaited
STRANGERS_SECONDS = 0.5  # how long a worker of another app is given to answer
PIDBOX_BINDINGS = "_kombu.binding.celery.pidbox"  # kombu's Redis set: one member per worker listening for control
KOMBU_SEP = "\x06\x16"  # kombu's default separator in that set; the course's is ":"


class SetupError(RuntimeError):
    """Something a lesson needs is missing; the message says what and how to fix it."""


def _kind(url):
    return "RabbitMQ" if url.startswith("amqp") else "Redis" if url.startswith("redis") else url.split(":", 1)[0]


def _is_redis(url):
    return url.startswith(("redis://", "rediss://", "unix://"))


def supervision_note(broker_url, lang=None, **only):
    """What the course's supervisor saw lately on ``broker_url`` (a service restarting, ...), or None;
    ``only``: see run_state.supervision_note (nodes=..., only_restored=True)."""
    try:
        from .machinery.run_state import supervision_note as note

        return note(broker_url, lang or language(), **only)
    except Exception:  # a note is extra information; its failure must not replace the message it adds to
        return None


def restarting_nodes(broker_url):
    """The nodes the course's supervisor is starting again (or waiting to) on ``broker_url``."""
    try:
        from .machinery.run_state import recent_events

        return {e["name"] for e in recent_events(broker_url) if e["state"] in ("restarting", "waiting")}
    except Exception:
        return set()


class NoReply(str):
    """Why a Redis check failed, when the port accepted the connection and nothing answered."""


def no_reply(timeout):
    return NoReply(say("no_reply", timeout=timeout))


def setup_error(message, raw_url, cls=SetupError, **values):
    """A ``cls`` (SetupError) saying ``message``, with the supervisor's note about ``raw_url`` when there is one.

    A message with a ``{fix}`` gets the fix that fits: another port when the port is held by something that
    does not answer (``error`` is a :class:`NoReply`), else starting the course."""
    if message in ("broker_down", "backend_down"):
        values["fix"] = say("fix_silent_port" if isinstance(values.get("error"), NoReply) else f"fix_{message}")
    note = supervision_note(raw_url)
    return cls(say(message, **values) + (f"\n{note}" if note else ""))


def redis_ping_error(url, timeout=PING_SECONDS):
    """None if the Redis at ``url`` answers PING within ``timeout`` seconds, else why not, in one line."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
    except redis.exceptions.TimeoutError:
        return no_reply(timeout)
    except Exception as exc:
        return one_line(exc)
    return None


def check_broker(app, timeout=2.0):
    raw = app.conf.broker_write_url
    url = settings.redacted(raw)
    error = redis_ping_error(raw) if _is_redis(raw) else None  # kombu alone would wait for ever on a silent port
    if error is None:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        except Exception as exc:  # any failure to connect is reported the same way
            error = one_line(exc)
    if error is not None:
        raise setup_error("broker_down", raw, url=url, error=error) from None
    return say("broker_ok", kind=_kind(url))


def check_broker_at(url, timeout=2.0):
    """Check a broker by URL alone (lesson 00 shows what a missing one looks like)."""
    from .machinery.services import control_app

    return check_broker(control_app(url), timeout=timeout)


def check_backend(app):
    raw = app.conf.result_backend
    url = settings.redacted(raw)
    if _is_redis(raw):
        error = redis_ping_error(raw)
    else:
        try:
            app.backend.client.ping()
            error = None
        except Exception as exc:
            error = one_line(exc)
    if error is not None:
        raise setup_error("backend_down", raw, url=url, error=error)
    return say("backend_ok", kind=_kind(url))


def check_workers(app, roles=("main",), timeout=1.5):
    """Ping the course's workers of ``roles``; name each that answered, with its processes and queues.

    Raises SetupError when one does not answer, or when two workers answer under one name (two course
    setups on one broker: tasks go to either, and lessons that time or order them show wrong results).
    """
    by_role = settings.worker_roles()
    wanted = [by_role[r] for r in roles]
    raw = app.conf.broker_write_url
    url = settings.redacted(raw)
    replies = _stats(app, [w.node for w in wanted], timeout)
    stats = {}
    for reply in replies:
        for node, answer in reply.items():
            stats.setdefault(node, []).append(answer)
    missing = [w for w in wanted if w.node not in stats]
    if missing and {w.node for w in missing} <= restarting_nodes(raw):  # not "start one": the course is doing it
        raise setup_error("worker_restarting", raw, nodes=", ".join(w.node for w in missing), timeout=timeout,
                          url=url)
    if missing:
        commands = [f"python3 course.py worker {w.name}" for w in missing]
        start = (say("worker_start_one", command=commands[0]) if len(commands) == 1 else
                 say("worker_start_many", commands="\n".join(f"  {c}" for c in commands)))
        raise setup_error("worker_down", raw, nodes=", ".join(w.node for w in missing), timeout=timeout, url=url,
                    start=start)
    doubled = [w.node for w in wanted if len(stats[w.node]) > 1]
    if doubled:
        raise setup_error("worker_twice", raw, nodes=", ".join(doubled), count=max(len(stats[n]) for n in doubled), url=url)
    lines = []
    for w in wanted:
        slots = stats[w.node][0]["pool"].get("max-concurrency")
        lines.append(say("worker_ok", node=w.node, slots=slots, plural="" if slots == 1 else "es",
                         queues=", ".join(w.queues)))
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
            raise setup_error("broker_down", raw, url=settings.redacted(raw), error=one_line(exc)) from None
    return replies


def _short_polls(url):
    """Transport options for a connection that waits for replies a short while and is then closed.

    kombu's Redis transport waits for a reply with BRPOP, 1 s at a time, and closing the connection waits
    for the BRPOP in flight; a Redis from 6.0 on takes a fraction of a second instead (older ones: whole seconds).
    Valkey, the embedded broker, reports the Redis it is compatible with in ``redis_version`` (7.2.4).
    """
    if not _is_redis(url):
        return {}
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=PING_SECONDS, socket_timeout=PING_SECONDS)
        major = int(str(client.info("server")["redis_version"]).split(".")[0])
    except Exception:  # the broadcast that follows says what is wrong with the broker, if anything
        return {}
    return {"polling_interval": 0.1} if major >= 6 else {}


def foreign_workers(app, timeout=STRANGERS_SECONDS):
    """``{node: [queue, ...]}`` of the Celery workers of other apps that answer on this Redis broker.

    A worker listens for control commands on a pidbox queue, and kombu's Redis transport records its
    binding in a set. The course's members use the course's separator (``sep``); a worker of an app
    with kombu's default one is not reachable by the course's ping, so it is asked by an app of its kind.
    """
    import redis
    from celery import Celery

    raw = app.conf.broker_write_url
    if not _is_redis(raw):
        return {}
    own = app.conf.broker_transport_options.get("sep", KOMBU_SEP) * 2
    client = redis.Redis.from_url(raw, socket_connect_timeout=PING_SECONDS, socket_timeout=PING_SECONDS)
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
    except Exception:  # a note must never break the check it adds to
        return []
    by_role = settings.worker_roles()
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

    Without ``app``, each worker is looked for through its own app (the RabbitMQ worker through RabbitMQ).
    A Celery worker of another app on the same Redis that consumes a course's queue is a SetupError (it takes
    the course's tasks); one on other queues is a line of its own. A worker the supervisor restarted lately
    after it was killed mid-task gets a line too: its tasks went back to the queue and run again.
    """
    by_role, lines = settings.worker_roles(), []
    for role_app, group in _apps_of(roles) if app is None else [(app, list(roles))]:
        lines += [check_broker(role_app), check_backend(role_app), *check_workers(role_app, group),
                  *stranger_lines(role_app, group)]
        note = supervision_note(role_app.conf.broker_write_url, nodes={by_role[r].node for r in group},
                                only_restored=True)
        if note:
            lines.append(note)
    lines.append(say("all_ok"))
    if not quiet:
        print("\n".join(lines))


def _apps_of(roles):
    """``[(app, [role, ...]), ...]``: the roles grouped by the app their worker runs (settings.WorkerRole.app)."""
    import importlib

    by_role, groups = settings.worker_roles(), {}
    for role in roles:
        groups.setdefault(by_role[role].app, []).append(role)
    return [(importlib.import_module(module).app, group) for module, group in groups.items()]


def one_line(exc):
    """The first line of what ``exc`` says (at most 160 characters), or its class name if it says nothing."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


__import__(f"{__package__}.machinery.autostart", fromlist=["_"]).ensure_setup()  # in a kernel, no broker: start the setup
