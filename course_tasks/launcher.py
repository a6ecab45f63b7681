"""``python3 course.py up``: a broker, the workers and JupyterLab for a learner, all stopped on Ctrl-C.

One setup per machine and broker (:class:`~course_tasks.setup_lock.SetupLock`): a second ``up`` for the
same broker says what already runs and where, and starts nothing. While it runs, the Stack's supervisor
starts again whatever stops (a killed worker, the embedded Redis, Flower) and says so here.
"""
import os
import signal
import sys
import time
from pathlib import Path

from . import run_state, settings
from .i18n import say
from .services import LOOPBACK, ROOT, LaunchError, Stack, amqp_answers, describe
from .setup_lock import SetupLock

ATTACH_WAIT = 60.0  # how long a second `up` waits for a first one that is still starting
JUPYTER_URL_WAIT = 30.0  # how long JupyterLab may take to write its address before the setup counts as running


def up(flower=False, jupyter=True):
    lock = SetupLock(os.environ.get("CELERY_BROKER_URL") or settings.DEFAULT_REDIS_URL)
    while not lock.acquire():
        if _attached(lock, flower):
            return 0
    try:
        return _run(lock, flower, jupyter)
    finally:
        lock.release()


def _run(lock, flower, jupyter):
    stack, code = Stack(ROOT / ".course" / "logs"), 0
    try:
        service = _start(stack, lock, flower, jupyter)
        started = time.monotonic()
        while service is None or service.alive():
            if service is not None and lock.info.get("state") != "running":
                url = _jupyter_url(service)
                if url or time.monotonic() - started > JUPYTER_URL_WAIT:
                    lock.publish(state="running", jupyter=url)
            time.sleep(0.2)
    except KeyboardInterrupt:  # Ctrl-C, while starting or while running: stop what was started
        pass
    except (LaunchError, RuntimeError) as error:
        print(error, file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        _stop(stack, quiet=code != 0 and not stack.services)
    return code


def _stop(stack, quiet):
    """Stop the stack and say, in one short block, what was stopped (nothing at all when ``quiet``)."""
    if not quiet:
        print("\n" + say("up_stopping"))
    began = time.monotonic()
    stopped = stack.stop()
    if stopped:
        names = ", ".join(describe(s) for s in stopped)
        print(say("up_stopped", seconds=time.monotonic() - began, names=names))
    elif not quiet:
        print(say("up_stopped_nothing"))


def _start(stack, lock, flower, jupyter):
    """Start the broker (if none answers), the workers, and Flower or JupyterLab; return what to wait on."""
    broker = stack.ensure_redis()
    stack.use_broker(broker, os.environ.get("CELERY_RESULT_BACKEND") or broker)
    lock.publish(broker=settings.redacted(broker))
    roles = list(settings.LOCAL_ROLES)
    rabbit = settings.rabbitmq_url()
    if amqp_answers(rabbit):
        print(say("up_rabbitmq_found", url=settings.redacted(rabbit)))
        roles.append("rabbitmq")
    else:
        print(say("up_rabbitmq_none", url=settings.redacted(rabbit)))
    stack.start_workers(roles)
    by_role = settings.worker_roles()
    lock.publish(workers=[by_role[role].node for role in roles])
    if flower:
        started = stack.start_flower()
        lock.publish(flower=started and f"http://{LOOPBACK}:{stack.env.get('COURSE_FLOWER_PORT', '5555')}")
    if not jupyter:
        lock.publish(state="running", jupyter=False)
        print(say("up_running"))
        return None
    service = stack.start_jupyter()
    print(say("up_jupyter"))
    return service


def _jupyter_url(service):
    """The address with the token, from the file JupyterLab writes when it listens (jpserver-<pid>.json)."""
    from jupyter_core.paths import jupyter_runtime_dir

    info = run_state.read_json(Path(jupyter_runtime_dir()) / f"jpserver-{service.proc.pid}.json")
    if not info or not info.get("url"):
        return None
    return f"{info['url'].rstrip('/')}/lab?token={info.get('token', '')}"


def _attached(lock, flower) -> bool:
    """Another `up` holds the setup of this broker: say what runs there (once it runs) and return True.
    False if that `up` went away meanwhile (then this one tries to take the lock)."""
    deadline, said = time.monotonic() + ATTACH_WAIT, False
    while True:
        info = lock.holder()
        if not info or not run_state.process_alive(info.get("pid")):
            time.sleep(0.1)
            info = lock.holder()
            if not info or not run_state.process_alive(info.get("pid")):
                return False
        if info.get("state") == "running" or time.monotonic() > deadline:
            print(_what_runs(lock, info, flower))
            return True
        if not said:
            print(say("up_attach_wait", pid=info["pid"], url=info.get("broker") or settings.redacted(lock.url)))
            said = True
        time.sleep(0.2)


def _what_runs(lock, info, flower):
    lines = []
    if info.get("broker"):
        lines.append(say("up_what_broker", url=info["broker"]))
    if info.get("workers"):
        lines.append(say("up_what_workers", nodes=", ".join(info["workers"])))
    if info.get("jupyter"):
        lines.append(say("up_what_jupyter", url=info["jupyter"]))
    elif info.get("jupyter") is False:
        lines.append(say("up_what_no_jupyter"))
    if info.get("flower"):
        lines.append(say("up_what_flower", url=info["flower"]))
    elif flower:
        lines.append(say("up_no_flower"))
    return say("up_attached", url=info.get("broker") or settings.redacted(lock.url), pid=info["pid"],
               ago=round(time.time() - info.get("started_at", time.time())), what="\n".join(lines))
