"""Is everything a lesson needs there? Broker, result backend, workers: answered in seconds, never a hang."""
from . import settings
from .i18n import say


class SetupError(RuntimeError):
    """Something a lesson needs is missing; the message says what and how to fix it."""


def _kind(url):
    return "RabbitMQ" if url.startswith("amqp") else "Redis" if url.startswith("redis") else url.split(":", 1)[0]


def check_broker(app, timeout=2.0):
    url = settings.redacted(app.conf.broker_write_url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except Exception as exc:  # any failure to connect is reported the same way
        raise SetupError(say("broker_down", url=url, error=_short(exc))) from None
    return say("broker_ok", kind=_kind(url))


def check_broker_at(url, timeout=2.0):
    """Check a broker by URL alone (lesson 00 shows what a missing one looks like)."""
    from .services import control_app

    return check_broker(control_app(url), timeout=timeout)


def check_backend(app):
    url = settings.redacted(app.conf.result_backend)
    try:
        app.backend.client.ping()
    except Exception as exc:
        raise SetupError(say("backend_down", url=url, error=_short(exc))) from None
    return say("backend_ok", kind=_kind(url))


def check_workers(app, roles=("main",), timeout=1.5):
    """Ping the course's workers of ``roles``; name each that answered, with its processes and queues."""
    by_role = settings.worker_roles()
    wanted = [by_role[r] for r in roles]
    nodes = [w.node for w in wanted]
    inspector = app.control.inspect(destination=nodes, timeout=timeout)
    stats = inspector.stats() or {}
    missing = [w for w in wanted if w.node not in stats]
    if missing:
        raise SetupError(say(
            "worker_down", nodes=", ".join(w.node for w in missing), timeout=timeout,
            url=settings.redacted(app.conf.broker_write_url), role=missing[0].name,
        ))
    lines = []
    for w in wanted:
        slots = stats[w.node]["pool"].get("max-concurrency")
        lines.append(say("worker_ok", node=w.node, slots=slots, plural="" if slots == 1 else "es",
                         queues=", ".join(w.queues)))
    return lines


def check_setup(app=None, roles=("main",), quiet=False):
    """Check the broker, the result backend and the workers; print one line each, raise SetupError if one is missing.

    Without ``app``, each worker is looked for through its own app (the RabbitMQ worker through RabbitMQ).
    """
    lines = []
    for role_app, group in _apps_of(roles) if app is None else [(app, list(roles))]:
        lines += [check_broker(role_app), check_backend(role_app), *check_workers(role_app, group)]
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


def _short(exc):
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
