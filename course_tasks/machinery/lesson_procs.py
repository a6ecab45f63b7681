"""The workers a lesson starts from its notebook (``settings.LESSON_WORKERS``: lessons 15-17, 19 and 20), and only
those, and the other Celery processes it starts (``settings.LESSON_SERVICES``: lesson 16's celery beats, ready once
their log has the role's ``ready`` line, "beat: Starting...", stopped with SIGTERM so that they save their schedule
file, which a fresh start removes): every one goes through here, from its start to its end.

- **Started** by the course's own command, ``python -m course_tasks worker ROLE [ARGS]`` (what ``up`` and
  docker-compose.yml run for the course's other workers), with the notebook's environment (its broker), in a process
  group of its own, its log in ``COURSE_LOG_DIR`` (else ``.course/logs``) as ``lesson-ROLE.log``. ``ARGS`` are more
  arguments of its celery command (an exercise's ``--prefetch-multiplier 3``); the last of two same ones wins.
- **Before it starts**: a worker of that name that still answers (started by hand, or by a notebook of another
  container) is asked to shut down, a control binding that a killed one left is removed, and, unless asked to keep
  them, the messages an interrupted run left in its queue (and in kombu's ``unacked`` hash) are dropped.
- **Ready** when it answers a ping, within :data:`READY_TIMEOUT`; a worker whose process exits first is a
  SetupError with the last lines of its log.
- **Stopped** when the notebook says so (the end of a ``with`` block, ``.stop()``) or its process exits (``atexit``):
  an idle worker is SIGKILLed with its pool (0.01-0.1 s, against 1-3 s for a graceful stop) and the control binding
  a kill leaves is removed; a busy one gets a cold shutdown first (``SIGQUIT``: its late-acknowledged messages go
  back to the queue), bounded by :data:`STOP_TIMEOUT`.
- **Gone with its notebook**, whatever ends it (the kernel killed, interrupted, crashed): on Linux the kernel
  sends the worker SIGTERM when the process that started it dies (``PR_SET_PDEATHSIG``, set by
  ``services.Service``; it follows the *thread* that started the child, so children are started from a thread that
  lives as long as the process, :class:`_Spawner`); and on every platform a watchdog thread in the worker
  (:func:`_die_with_the_notebook`, connected to ``worker_init`` in every course worker through ``plumbing``) SIGKILLs
  the worker's whole process group within :data:`WATCH_EVERY` s once its parent is no longer the notebook's process.

Holding a lesson worker against a twin notebook is the helper's part (``course_tasks/lesson_workers.py``, with
``exclusive()``); this module never imports a helper (tests/test_imports.py).
"""
import atexit
import os
import queue
import signal
import threading
import time
from pathlib import Path

import redis
from celery import signals

from .. import settings
from ..errors import SetupError, one_line
from ..i18n import register, say
from ..waiting import wait_until
from .plumbing import control_app
from .probes import redis_client
from .services import ROOT, Service, course_command
from .unacked import forget

PARENT = "COURSE_LESSON_PARENT"  # the pid of the process that started a lesson worker (its notebook's kernel)
WATCH_EVERY = 0.5  # seconds between two looks of a lesson worker at its parent
READY_TIMEOUT = 60.0  # a worker answers in 1-2 s, three at once in 2-8 s on a busy 2-core machine
LEFTOVER_TIMEOUT = 10.0  # a worker of the same name, asked to shut down, is gone within this
STOP_TIMEOUT = 10.0  # a busy worker's cold shutdown; then it is killed
BINDINGS = "_kombu.binding.celery.pidbox"  # kombu's Redis set of the workers listening for control messages
SEPARATORS = (":", "\x06\x16")  # the course's separator of that set's members, and kombu's default

register({
    "lw_started": {
        "en": "started {node} (--pool={pool} --concurrency={concurrency} -Q {queues}{options})",
        "ru": "запущен {node} (--pool={pool} --concurrency={concurrency} -Q {queues}{options})",
    },
    "lw_running": {
        "en": "{node}: running (started by this notebook)",
        "ru": "{node}: уже работает (его запустил этот ноутбук)",
    },
    "lw_stopped": {"en": "stopped {nodes}", "ru": "остановлено: {nodes}"},
    "lw_started_service": {"en": "started {name}: {options}", "ru": "запущен {name}: {options}"},
    "lw_exited": {
        "en": "{node} did not start: its process exited ({reason}). The end of its log, {log}:\n{tail}",
        "ru": "{node} не запустился: его процесс завершился ({reason}). Конец его лога, {log}:\n{tail}",
    },
    "lw_silent": {
        "en": "{node} did not answer within {seconds:g} s of its start (broker {url}; log: {log}). On a very busy "
              "machine run the cell again.",
        "ru": "{node} не ответил за {seconds:g} с после запуска (брокер {url}; лог: {log}). Если машина очень "
              "загружена, выполните ячейку снова.",
    },
    "lw_stranger": {
        "en": "A worker named {node} already answers on {url} (not started by this notebook) and did not shut down "
              "when asked within {seconds:g} s. Stop it (Ctrl-C in its terminal), then run the cell again.",
        "ru": "Воркер с именем {node} уже отвечает через брокер {url} (его запустил не этот ноутбук) и не "
              "остановился по просьбе за {seconds:g} с. Остановите его (Ctrl-C в его терминале) и выполните ячейку "
              "снова.",
    },
    "lw_not_ours": {
        "en": "{role} is not a worker a lesson starts; these are: {roles}",
        "ru": "{role} — не воркер, который запускает урок; такие воркеры: {roles}",
    },
})


# -- in the worker ------------------------------------------------------------------------------------------------
@signals.worker_init.connect
def _die_with_the_notebook(**_):
    """In a lesson worker (its environment names its parent): SIGKILL the worker's process group (it and its pool
    processes) as soon as its parent is no longer the notebook's process that started it. Other workers: nothing."""
    parent = os.environ.get(PARENT, "")
    if not parent.isdigit():
        return

    def watch():
        while True:
            if os.getppid() != int(parent):  # the notebook died: this process now belongs to init (or a subreaper)
                os.killpg(os.getpgid(0), signal.SIGKILL)
            time.sleep(WATCH_EVERY)

    threading.Thread(target=watch, name="course-lesson-watchdog", daemon=True).start()


# -- in the notebook ----------------------------------------------------------------------------------------------
class _Spawner:
    """A thread that lives as long as this process and starts the lesson workers: a child's PR_SET_PDEATHSIG fires
    when the thread that started it ends, and a cell may run in a thread that ends before the kernel does."""

    def __init__(self):
        self.requests = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="course-lesson-workers", daemon=True).start()

    def _serve(self):
        while True:
            call, done, box = self.requests.get()
            try:
                box.append(("value", call()))
            except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread, which raises it)
                box.append(("error", exc))
            done.set()

    def run(self, call):
        done, box = threading.Event(), []
        self.requests.put((call, done, box))
        done.wait()
        kind, value = box[0]
        if kind == "error":
            raise value
        return value


_spawner = None
_lock = threading.Lock()
RUNNING = {}  # role name -> the LessonWorker this process runs for it


class LessonWorker:
    """One lesson worker this process started: its role, the extra arguments it got, its process."""

    def __init__(self, name, extra=(), env=None):
        self.role = settings.roles()[name]
        self.extra, self.env_extra = tuple(extra), dict(env or {})
        log_dir = Path(os.environ.get("COURSE_LOG_DIR") or ROOT / ".course" / "logs")
        log_dir.mkdir(parents=True, exist_ok=True)
        environment = dict(os.environ, **self.env_extra, **{PARENT: str(os.getpid())})
        self.service = Service(f"lesson-{name}", course_command(*self.role.command(), *self.extra), environment,
                               log_dir / f"lesson-{name}.log", kind=self.role.kind, label=self.role.label,
                               cwd=settings.beat_home() if schedule_file(self.role) else ROOT)

    @property
    def node(self):
        return self.role.label

    @property
    def pid(self):
        return self.service.proc.pid if self.service.proc else None

    def same(self, extra, env):
        return self.extra == tuple(extra) and self.env_extra == dict(env or {}) and self.service.alive()

    def started_line(self):
        options = [*self.role.options, *self.extra]
        if self.role.kind != "worker":
            return say("lw_started_service", name=self.node, options=" ".join(options))
        return say("lw_started", node=self.node, pool=self.role.pool, concurrency=self.role.concurrency,
                   queues=",".join(self.role.queues), options=" " + " ".join(options) if options else "")


def app():
    """The app that pings and inspects the lesson workers: the course's broker, as the notebook's app sees it."""
    return control_app(settings.broker_url())


def start(names, extra=(), env=None, fresh=True):
    """Start the lesson workers of ``names`` (roles of ``settings.LESSON_WORKERS``) and wait until each answers;
    returns ``[(LessonWorker, started: bool)]`` (False: this process already runs it with the same arguments).
    ``extra``/``env``: more arguments of their celery command, more environment variables; ``fresh``: drop what
    waits in their queues first."""
    global _spawner
    lesson_roles = [role.name for role in (*settings.LESSON_WORKERS, *settings.LESSON_SERVICES)]
    for name in names:
        if name not in lesson_roles:
            raise SetupError(say("lw_not_ours", role=name, roles=", ".join(lesson_roles)))
    control = app()
    with _lock:
        if _spawner is None:
            _spawner = _Spawner()
            atexit.register(stop_all)
    chosen, fresh_ones = [], []
    for name in names:
        running = RUNNING.get(name)
        if running is not None and running.same(extra, env):
            chosen.append((running, False))
            continue
        if running is not None:
            stop([running])
        role = settings.roles()[name]
        if role.kind == "worker":
            _clear_leftovers(control, role, fresh)
        elif fresh:
            _forget_schedule(role)
        worker = LessonWorker(name, extra, env)
        _spawner.run(worker.service.start)
        RUNNING[name] = worker
        chosen.append((worker, True))
        fresh_ones.append(worker)
    try:
        _wait_ready(control, fresh_ones)
    except BaseException:
        stop(fresh_ones)
        raise
    return chosen


def _wait_ready(control, workers):
    pending = list(workers)

    def answered():
        for worker in list(pending):
            if not worker.service.alive():
                reason, detail = worker.service.exit_reason()
                tail = "\n".join(worker.service.log_since().strip().splitlines()[-12:])
                raise SetupError(say("lw_exited", node=worker.node, reason=f"{reason} {detail}".strip(),
                                     log=worker.service.log_path, tail=tail))
            if worker.role.kind != "worker":
                if worker.role.ready in worker.service.log_since():  # celery beat answers no ping: its log says it runs
                    pending.remove(worker)
            elif control.control.ping(destination=[worker.node], timeout=0.2):
                pending.remove(worker)
        return not pending

    if not wait_until(answered, READY_TIMEOUT, every=0.05):
        worker = pending[0]
        raise SetupError(say("lw_silent", node=worker.node, seconds=READY_TIMEOUT, log=worker.service.log_path,
                             url=settings.redacted(settings.broker_url())))


def _clear_leftovers(control, role, fresh):
    """Before ``role`` starts: no other worker of its name, no stale control binding, and (``fresh``) nothing left
    waiting in its queues by an earlier run."""
    if control.control.ping(destination=[role.node], timeout=0.3):
        control.control.shutdown(destination=[role.node])
        if not wait_until(lambda: not control.control.ping(destination=[role.node], timeout=0.3), LEFTOVER_TIMEOUT):
            raise SetupError(say("lw_stranger", node=role.node, url=settings.redacted(settings.broker_url()),
                                 seconds=LEFTOVER_TIMEOUT))
    _unbind(role.node)
    if fresh:
        with control.connection_for_write() as conn:
            for name in role.queues:
                conn.default_channel.queue_purge(name)  # every priority list of it
        forget(settings.broker_url(), role.queues)


def schedule_file(role):
    """The schedule file of a celery beat ``role`` (its ``--schedule`` option), or None."""
    options = list(role.options)
    return settings.beat_home() / options[options.index("--schedule") + 1] if "--schedule" in options else None


def _forget_schedule(role):
    """Remove a beat's schedule file (shelve may have made it ``name``, ``name.db`` or ``name.dat/.dir/.bak``)."""
    path = schedule_file(role)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    for found in path.parent.glob(path.name + "*"):
        found.unlink(missing_ok=True)


def _unbind(node):
    """Remove ``node``'s control binding (and its list), which a killed worker leaves in kombu's Redis set."""
    client = redis_client(settings.broker_url(), timeout=2)  # redis+socket:// too (the embedded broker of `up`)
    queue_name = f"{node}.celery.pidbox"
    stale = [m for m in client.smembers(BINDINGS)
             if any(m.decode(errors="replace").endswith(sep + queue_name) for sep in SEPARATORS)]
    if stale:
        client.srem(BINDINGS, *stale)
    client.delete(queue_name)


def _busy(control, node):
    """Does ``node`` run or hold a task? (None: it does not answer.)"""
    replies = {}
    for method in ("active", "reserved"):
        answer = control.control.broadcast(method, destination=[node], reply=True, timeout=1.0, limit=1) or []
        replies[method] = next((r[node] for r in answer if node in r), None)
    if all(value is None for value in replies.values()):
        return None
    return any(replies.values())


def stop(workers):
    """Stop ``workers`` (LessonWorkers of this process); returns the nodes that were still running. An idle one is
    killed with its pool; a busy one gets a cold shutdown first, bounded; the control binding a kill leaves is
    removed. One that had already exited (a lesson stopped it with a signal) is only reaped."""
    control, stopped = None, []
    for worker in workers:
        if RUNNING.get(worker.role.name) is worker:
            del RUNNING[worker.role.name]
        service = worker.service
        if service.proc is None:
            continue
        if service.alive() and worker.role.kind != "worker":  # celery beat: SIGTERM, and it saves its schedule
            stopped.append(worker.node)
            service.send_stop()
            service.wait_stopped(STOP_TIMEOUT)
            continue
        if service.alive():
            stopped.append(worker.node)
            control = control or app()
            try:
                busy = _busy(control, worker.node)
            except Exception:  # noqa: BLE001 (no broker: nothing to ask, the kill below still happens)
                busy = False
            if busy:
                service.send_stop()  # SIGQUIT: a cold shutdown gives late-acknowledged messages back
                service.wait_stopped(STOP_TIMEOUT)
        service.kill()  # the whole group (pool processes left behind included), and reaped
        try:
            _unbind(worker.node)
        except (redis.RedisError, OSError):
            pass  # the broker is gone, and the binding with it
    return stopped


def stop_all():
    """Stop every lesson worker of this process (at its exit)."""
    try:
        stop(list(RUNNING.values()))
    except Exception as exc:  # noqa: BLE001 (at exit: the group is killed anyway, by the watchdog)
        print(f"lesson workers: {one_line(exc)}")


def signal_worker(name, signum):
    """Send ``signum`` to the main process of the lesson worker ``name`` only, as ``kill`` or ``docker stop`` do."""
    os.kill(RUNNING[name].pid, signum)


def wait_exit(name, timeout):
    """The exit code of the lesson worker ``name`` once its process has ended, or None after ``timeout`` s."""
    proc = RUNNING[name].service.proc
    return proc.returncode if wait_until(lambda: proc.poll() is not None, timeout, every=0.05) else None
