"""Celery's events on a thread of their own: ``app.events.Receiver`` (an event receiver, as Celery's monitoring guide
shows it) in a daemon thread that a notebook can start, wait for and stop, every wait bounded.

    listener = EventThread(app, handler)     # handler(event) for every event, on the listener's thread
    listener.listening(timeout)              # True once events come in (see below); False if not within timeout
    ...
    listener.stop()                          # ends the thread (within about POLL s); True if it has ended

Used by lesson 17 (course_tasks/monitoring.py: which events a chain's tasks had) and by the live view
(course_tasks/live_view.py: what every worker's pool is doing while a cell runs).
"""
import threading
import time

POLL = 0.1  # the thread looks whether it should stop at least this often (kombu's drain_events timeout)
NUDGE = 0.1  # listening(): the workers are asked for a heartbeat again after this long without an event
STOP_TIMEOUT = 2.0  # stop() waits this long at most for the thread to end


class EventThread:
    """Receive ``app``'s events on a daemon thread, calling ``handler(event)`` for each.

    :attr:`ready` is set once the receiver's queue is bound, :attr:`live` once a first event has come (see
    :meth:`listening`), :attr:`error` holds what ended the thread if it failed. ``timeout``: the thread ends
    (with :attr:`error` a timeout) after that many seconds without any event; None: only :meth:`stop` ends it.
    """

    def __init__(self, app, handler, timeout=None, name="course-events"):
        self.app, self.handler, self.timeout = app, handler, timeout
        self.ready, self.live, self._stop = threading.Event(), threading.Event(), threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self):
        outer = self
        try:
            with self.app.connection_for_read() as conn:
                class Receiver(self.app.events.Receiver):
                    @property
                    def should_stop(self):  # kombu's ConsumerMixin looks at it before every wait
                        return outer._stop.is_set()

                    @should_stop.setter
                    def should_stop(self, value):
                        if value:
                            outer._stop.set()

                    def on_consume_ready(self, *args, **kwargs):
                        outer.ready.set()
                        return super().on_consume_ready(*args, **kwargs)

                receiver = Receiver(conn, handlers={"*": self._on_event}, app=self.app)
                # wakeup=True: every worker is asked for a heartbeat at once, so a first event comes quickly
                for _ in receiver.consume(limit=None, timeout=self.timeout, safety_interval=POLL, wakeup=True):
                    if self._stop.is_set():
                        break
        except Exception as exc:  # noqa: BLE001 (told in the notebook's thread by the helper that started it)
            self.error = exc
        finally:
            self.ready.set()

    def _on_event(self, event):
        self.live.set()
        self.handler(event)

    def listening(self, timeout):
        """Wait (at most ``timeout`` s for each step) until events come in: on Redis the receiver subscribes while
        it first waits for events, after it says it is ready, so events published before that are lost. Once a
        first event has come (a worker's heartbeat), it listens for real. The heartbeat that ``wakeup`` asks every
        worker for may come before the subscription: every NUDGE s without an event, the workers are asked again
        (Celery's ``heartbeat`` control command), instead of waiting for their next one (every 2 s)."""
        if not self.ready.wait(timeout):
            return False
        deadline = time.monotonic() + timeout
        while not self.live.wait(max(0.0, min(NUDGE, deadline - time.monotonic()))):
            if self.error is not None or time.monotonic() >= deadline:
                return False
            self.app.control.broadcast("heartbeat")
        return self.error is None

    def stop(self, timeout=STOP_TIMEOUT):
        """Ask the thread to end and wait (bounded) until it has; True if it has ended."""
        self._stop.set()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)
        return not self.thread.is_alive()
