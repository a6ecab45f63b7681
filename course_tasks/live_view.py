"""A live view of the workers while a cell runs: each worker's pool slots (idle, or the task in it), each queue's
waiting, reserved and active messages. When the cell ends, the view goes and a short summary of what the cell's tasks
did stays: the same on every run.

    from course_tasks import live
    with live():                                   # the view shows, updated in place, while the block runs
        group(nap.s(1) for _ in range(6)).apply_async().get(timeout=10)
    # the summary: how many tasks the block sent, and what each worker ran

    value = live(lambda: nap.delay(1).get(timeout=10))   # the same around one call; returns what it returns

Where the view's facts come from:

- Celery's events (lesson 17), received on a thread of their own (``machinery/events.py``) and fed to Celery's own
  ``app.events.State``, as the "Real-time processing" recipe of Celery's monitoring guide does: ``task-received``
  (a worker holds the message: *reserved*), ``task-started`` (a pool process runs it: *active*), ``task-succeeded``
  and the other ends; ``worker-online``, ``worker-heartbeat``, ``worker-offline`` (which workers run).
- the broker, asked every EVERY s how many messages wait in each queue.

A *slot* is one of a worker's ``--concurrency`` places in its pool (a prefork pool's child process, a thread of a
threads pool). An event does not say which child process runs a task (its ``pid`` is the worker's main process), so a
task that starts takes the first free slot and keeps it until it ends.

The view is a line of the course's notices (machinery/notice.py): no part of the lesson's stored output, emptied when
the block ends. Outside Jupyter each new picture goes to stderr. The summary is printed: it is built from the journal
(course_tasks/journal.py: every task the block sent, once it has run), not from the events (sent once and never
acknowledged, one can be missed), and says nothing that timing decides: a worker with one slot lists its tasks in the
order it ran them; a worker with more lists them by call, with how many ran at most at once. It is the same on every
run when the block waits for the results of what it sends (a summary of tasks still waiting would change). A
``journal.clear()`` inside the block forgets what ran before it: clear the journal before the block, as lessons do.
"""
import ast
import contextvars
import threading

from celery import signals

from . import journal, settings
from .celery import app
from .exclusive import queued
from .i18n import register, say
from .machinery.events import EventThread
from .machinery.notice import Notice
from .waiting import wait_until

EVERY = 0.25  # seconds between two pictures
LISTEN_TIMEOUT = 5.0  # entering the block waits this long at most for the events to come in
SETTLE = 5.0  # when the block ends, the journal entries of tasks a worker has taken are waited for this long at most
STOP_TIMEOUT = 2.0  # each thread of the view has ended within this once asked to
LONGEST_ARG = 12  # an argument whose repr is longer is shown as … (a gate's random name, a long list)
ID_CHARS = 4  # a task's id is shown by its first characters

register({
    "live_no_events": {
        "en": "live(): no event came within {seconds:g} s ({error}); the view shows the queues only. Are the workers "
              "running? check_setup() says.",
        "ru": "live(): за {seconds:g} с не пришло ни одного события ({error}); видны только очереди. Работают ли "
              "воркеры? Это скажет check_setup().",
    },
    "live_title": {
        "en": "live: the workers' pool slots and the queues (Celery's events; queue lengths from the broker)",
        "ru": "live: слоты пулов воркеров и очереди (события Celery; длины очередей — от брокера)",
    },
    "live_first_task": {"en": "(waiting for the block's first task)", "ru": "(ждём первую задачу блока)"},
    "live_worker": {"en": "{node}: {reserved} reserved", "ru": "{node}: зарезервировано {reserved}"},
    "live_stopped": {"en": "{node}: stopped", "ru": "{node}: остановлен"},
    "live_idle": {"en": "idle", "ru": "свободен"},
    "live_queues": {"en": "queue|waiting|reserved|active", "ru": "очередь|ждут|зарезервировано|выполняются"},
    "live_error": {"en": "(the view could not be drawn: {error})", "ru": "(не удалось нарисовать вид: {error})"},
    "live_sent": {"en": "tasks sent: {count} (to {queues})", "ru": "отправлено задач: {count} (в {queues})"},
    "live_in_order": {"en": "{node} (slots: {slots}): {calls}", "ru": "{node} (слотов: {slots}): {calls}"},
    "live_by_call": {
        "en": "{node} (slots: {slots}): {calls}; at most {parallel} at once",
        "ru": "{node} (слотов: {slots}): {calls}; одновременно не больше {parallel}",
    },
    "live_nothing": {"en": "{node} (slots: {slots}): no task", "ru": "{node} (слотов: {slots}): ни одной задачи"},
    "live_not_run": {
        "en": "not run by the end of the block: {count}",
        "ru": "не выполнено к концу блока: {count}",
    },
})


def live(run=None):
    """The live view: ``with live(): ...`` around the code of a cell, or ``live(function)`` to run ``function()``
    inside it (returning what it returns)."""
    view = LiveView()
    if run is None:
        return view
    with view:
        return run()


def _roles_by_node():
    return {role.node: role for role in settings.worker_roles().values()}


def _call(name, args, kwargs):
    """``nap(1)`` from a task's name and its arguments as an event carries them (their reprs: ``"(1,)"``, ``"{}"``)."""
    short = (name or "?").rsplit(".", 1)[-1]
    try:
        values, named = ast.literal_eval(args or "()"), ast.literal_eval(kwargs or "{}")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return f"{short}(…)"  # a repr Python cannot read back (an object's, or one Celery cut short)
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    return journal.call_text({"task": short, "args": values, "kwargs": named if isinstance(named, dict) else {}},
                             longest=LONGEST_ARG)


class LiveView:
    """What :func:`live` returns: a context manager (see the module's docstring). After the block,
    :attr:`summary_text` holds the summary it printed."""

    def __init__(self):
        self.listener = self.drawer = None
        self.summary_text = None

    # -- the block ---------------------------------------------------------------------------------------------------
    def __enter__(self):
        self.sent = {}  # task id -> the queue this process sent it to, in send order
        self.seen = set()  # the workers that said anything while the block ran
        self.offline = set()  # those whose last word was worker-offline
        self.slots = {}  # node -> [task id or None, ...]
        self.lock = threading.Lock()
        self.state = app.events.State()
        self.notice = Notice()
        self._stop = threading.Event()
        signals.after_task_publish.connect(self._on_publish, weak=False)
        try:
            self.listener = EventThread(app, self._on_event, name="course-live-events")
            if not self.listener.listening(LISTEN_TIMEOUT):
                Notice().show(say("live_no_events", seconds=LISTEN_TIMEOUT,
                                  error=self.listener.error or "-"))
            # the cell's context (Jupyter's parent message): the picture lands in this cell, updated in place
            self.drawer = threading.Thread(target=contextvars.copy_context().run, args=(self._draw,),
                                           name="course-live-view", daemon=True)
            self.drawer.start()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, kind, error, traceback):
        try:
            if kind is None:
                self.summary_text = self.summary()
        finally:
            self._close()
        if self.summary_text is not None:
            print(self.summary_text)
        return False

    def _close(self):
        """Stop both threads (bounded), stop listening to this process's sends, empty the view's line."""
        signals.after_task_publish.disconnect(self._on_publish)
        self._stop.set()
        if self.drawer is not None:
            self.drawer.join(STOP_TIMEOUT)
        if self.listener is not None:
            self.listener.stop(STOP_TIMEOUT)
        self.notice.clear()

    def stopped(self):
        """Have the view's threads ended?"""
        return all(thread is None or not thread.is_alive()
                   for thread in (self.drawer, self.listener and self.listener.thread))

    # -- what comes in -----------------------------------------------------------------------------------------------
    def _on_publish(self, headers=None, routing_key=None, **_):
        task_id = (headers or {}).get("id")
        if task_id:
            with self.lock:
                self.sent[task_id] = routing_key

    def _on_event(self, event):
        with self.lock:
            self.state.event(event)
            kind, node = event.get("type", ""), event.get("hostname")
            if kind.startswith("worker-") and node:
                self.seen.add(node)
                (self.offline.add if kind == "worker-offline" else self.offline.discard)(node)

    # -- the picture -------------------------------------------------------------------------------------------------
    def _draw(self):
        shown = None
        while True:
            try:
                text = self.picture()
            except Exception as exc:  # noqa: BLE001 (a broker that does not answer: said in the view, tried again)
                text = say("live_error", error=f"{type(exc).__name__}: {exc}")
            if text != shown:
                if shown is None:
                    self.notice.show(text)
                else:
                    self.notice.update(text)
                shown = text
            if self._stop.wait(EVERY):
                return

    def _queue_of(self, task, roles):
        queue = self.sent.get(task.uuid) or task.routing_key
        if not queue and task.worker is not None and task.worker.hostname in roles:
            queues = roles[task.worker.hostname].queues
            queue = queues[0] if len(queues) == 1 else None
        return queue

    def _nodes(self, roles, queues, taken):
        """The workers to show: those that took a task of the block, and the running ones that consume its queues."""
        nodes = set(taken)
        for node, role in roles.items():
            worker = self.state.workers.get(node)
            if set(role.queues) & set(queues) and (node in self.seen or (worker is not None and worker.heartbeats)):
                nodes.add(node)
        return sorted(nodes)

    def picture(self):
        """The view as text: one block per worker (its slots), then a table of the queues."""
        roles = _roles_by_node()
        with self.lock:  # each task's state as it is now: the event thread may change it while the text is drawn
            tasks = [(task, task.state) for _, task in self.state.tasks.items()
                     if task.state in ("RECEIVED", "STARTED") and task.worker is not None]
            mine = {task_id: queue for task_id, queue in self.sent.items()}
            block_queues = list(dict.fromkeys(queue for queue in mine.values() if queue))
            taken = {task.worker.hostname for task, _ in tasks if task.uuid in mine}
            nodes = self._nodes(roles, block_queues, taken)
            stopped = {node for node in nodes if node in self.offline}
            by_queue = [(state, self._queue_of(task, roles)) for task, state in tasks]
        lines = [say("live_title")]
        if not mine:
            return "\n".join(lines + [say("live_first_task")])
        queues = list(dict.fromkeys(block_queues + [q for node in nodes if node in roles for q in roles[node].queues]))
        for node in nodes:
            if node in stopped:
                lines.append(say("live_stopped", node=node))
                continue
            here = [(task, state) for task, state in tasks if task.worker.hostname == node]
            lines.append(say("live_worker", node=node, reserved=sum(state == "RECEIVED" for _, state in here)))
            running = sorted((task for task, state in here if state == "STARTED"), key=lambda task: task.started or 0)
            for number, task in enumerate(self._fill(node, running, roles), 1):
                label = say("live_idle") if task is None else f"{_call(task.name, task.args, task.kwargs)} " \
                                                              f"[{task.uuid[:ID_CHARS]}]"
                lines.append(f"  {number}  {label}")
        rows = [[queue, str(queued(app, [queue])),
                 str(sum(state == "RECEIVED" and q == queue for state, q in by_queue)),
                 str(sum(state == "STARTED" and q == queue for state, q in by_queue))] for queue in queues]
        lines += ["", journal.text_table(say("live_queues").split("|"), rows)]
        return "\n".join(lines)

    def _fill(self, node, running, roles):
        """The slots of ``node``: a running task keeps the slot it took; a new one takes the first free slot."""
        size = roles[node].concurrency if node in roles else 0
        slots = self.slots.setdefault(node, [None] * size)
        ids = {task.uuid: task for task in running}
        slots[:] = [task_id if task_id in ids else None for task_id in slots]
        for task in running:
            if task.uuid not in slots:
                if None in slots:
                    slots[slots.index(None)] = task.uuid
                else:
                    slots.append(task.uuid)
        return [ids.get(task_id) for task_id in slots]

    # -- the summary -------------------------------------------------------------------------------------------------
    def _records(self):
        """``{task id: journal entry}`` of the block's tasks that have run; waits (bounded) for those a worker took."""
        with self.lock:
            sent = set(self.sent)
            taken = {task_id for task_id in sent
                     if task_id in self.state.tasks and self.state.tasks[task_id].worker is not None}

        def found():
            got = {entry["id"]: entry for entry in journal.entries() if entry["id"] in sent}
            return got if taken <= set(got) else None

        return wait_until(found, SETTLE, every=0.05) or {entry["id"]: entry for entry in journal.entries()
                                                         if entry["id"] in sent}

    def summary(self):
        """What the block's tasks did, in words that do not depend on timing (see the module's docstring)."""
        records = self._records()
        roles = _roles_by_node()
        with self.lock:
            sent = dict(self.sent)
            queues = list(dict.fromkeys(queue for queue in sent.values() if queue))
            nodes = self._nodes(roles, queues, {entry["node"] for entry in records.values()})
        lines = [say("live_sent", count=len(sent), queues=", ".join(queues) or "-")]
        for node in nodes:
            ran = sorted((entry for entry in records.values() if entry["node"] == node), key=lambda e: e["started"])
            slots = roles[node].concurrency if node in roles else "?"
            if not ran:
                lines.append(say("live_nothing", node=node, slots=slots))
            elif slots == 1:
                lines.append(say("live_in_order", node=node, slots=slots,
                                 calls=" → ".join(_shown(entry) for entry in ran)))
            else:
                counts = {}
                for entry in ran:
                    counts[_shown(entry)] = counts.get(_shown(entry), 0) + 1
                calls = ", ".join(say("journal.times", name=call, count=n) for call, n in sorted(counts.items()))
                lines.append(say("live_by_call", node=node, slots=slots, calls=calls,
                                 parallel=journal.max_parallel(ran)))
        if len(records) < len(sent):
            lines.append(say("live_not_run", count=len(sent) - len(records)))
        return "\n".join(lines)


def _shown(entry):
    """A journal entry's call, long arguments as …; a run that did not succeed says its state."""
    call = journal.call_text(entry, longest=LONGEST_ARG)
    return call if entry["state"] == "SUCCESS" else f"{call} {entry['state']}"
