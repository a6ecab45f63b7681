"""Everything the course reads from the environment, and the processes it runs (no Celery import here).

The launcher, the tests, the worker and every notebook see the same values, because they all
read them from here.
"""
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent  # this clone of the course
SOCKET_SCHEME = "redis+socket"  # kombu's and Celery's name for Redis on a Unix socket: redis+socket:///path
SOCKET_PATH_MAX = 103  # bytes: a Unix socket's path holds 104 on macOS, the final NUL included (Linux: 108)


def embedded_socket() -> str:
    """Where this clone's embedded broker listens when ``CELERY_BROKER_URL`` is unset: a Unix socket, not a port.

    It is ``.course/run/redis.sock`` in the clone, a folder of mode 0700 (machinery/run_state.py): no other user of
    the machine can open it, and two users, each with a clone, each get a broker of their own. Where that path is
    too long for a socket, ``/tmp/celery-course-<uid>/<digest of the clone's path>.sock``, in a folder that this
    user makes with mode 0700 and the course refuses if anyone else owns it (machinery/services.py).
    """
    path = ROOT / ".course" / "run" / "redis.sock"
    if len(os.fsencode(path)) <= SOCKET_PATH_MAX:
        return str(path)
    digest = hashlib.sha256(os.fsencode(ROOT)).hexdigest()[:12]
    return f"{private_tmp()}/{digest}.sock"


def private_tmp() -> str:
    """``/tmp/celery-course-<uid>``: the short folder of :func:`embedded_socket` for a clone with a long path."""
    return f"/tmp/celery-course-{os.getuid() if hasattr(os, 'getuid') else 0}"


def socket_url(path: str) -> str:
    return f"{SOCKET_SCHEME}://{path}"


def socket_path(url: str):
    """The socket's path of a ``redis+socket:///path`` URL, else None."""
    return urlsplit(url).path if url.startswith(SOCKET_SCHEME + "://") else None


def user_tag() -> str:
    """This Unix user's name, fit for a queue's or a node's name (a RabbitMQ is shared by the users of a machine)."""
    try:
        import pwd

        name = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # a container's uid without a name
        name = f"uid{os.getuid() if hasattr(os, 'getuid') else 0}"
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "user"


DEFAULT_REDIS_URL = socket_url(embedded_socket())  # this clone's own broker, reached by this user only
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"

DEFAULT_QUEUE = "course"
PRIORITY_QUEUE = "course.priority"
MAX_PRIORITY = 9  # ten levels, 0..9, on both brokers
PLAY_QUEUE = "course.play"  # the tasks learners write themselves (lesson 10)
DELIVERY_QUEUE = "course.delivery"  # lesson 12: a worker killed mid-task, with a 3 s visibility_timeout
TEST_QUEUE = "course.test"  # lesson 18: the worker a test file starts (celery.contrib.pytest) consumes only this


def broker_url() -> str:
    """The broker every lesson uses: ``CELERY_BROKER_URL``, else this clone's embedded broker on its Unix socket
    (:data:`DEFAULT_REDIS_URL`; a Redis that answers on 127.0.0.1:6379 is used only when named here: on a shared
    machine it is every user's)."""
    return os.environ.get("CELERY_BROKER_URL") or DEFAULT_REDIS_URL


def result_backend() -> str:
    """Where results are stored: ``CELERY_RESULT_BACKEND``, or the Redis broker itself."""
    explicit = os.environ.get("CELERY_RESULT_BACKEND")
    if explicit:
        return explicit
    broker = broker_url()
    return broker if broker.startswith("redis") else DEFAULT_REDIS_URL


def rabbitmq_url() -> str:
    """The RabbitMQ of the RabbitMQ priorities lesson: ``COURSE_RABBITMQ_URL``."""
    return os.environ.get("COURSE_RABBITMQ_URL") or DEFAULT_RABBITMQ_URL


def rabbitmq_queue() -> str:
    """The priority queue on RabbitMQ: ``COURSE_RABBITMQ_QUEUE``, else ``course.priority.<user>``. A RabbitMQ serves
    every user of a machine, so the name is this user's (the tests give theirs a name of their own; Docker Compose,
    whose RabbitMQ is the learner's alone, ``course.priority``)."""
    return os.environ.get("COURSE_RABBITMQ_QUEUE") or f"{PRIORITY_QUEUE}.{user_tag()}"


def rabbitmq_node() -> str:
    """The RabbitMQ worker's node name: ``COURSE_RABBITMQ_NODE``, else ``rabbit@course-<user>``, so that a `up` pings
    and reuses its own user's worker only, never another's on the same RabbitMQ."""
    return os.environ.get("COURSE_RABBITMQ_NODE") or f"rabbit@course-{user_tag()}"


@dataclass(frozen=True)
class Role:
    """One process the course runs: a worker, or another Celery service (``kind``: the celery command, e.g. beat).

    ``python3 course.py up``, a kernel's autostart, the test harness (machinery/services.py, ``Stack.start_roles``) and
    docker-compose.yml (a service running ``python -m course_tasks KIND NAME``) all start it with :meth:`argv`,
    supervise it and restart it when it exits; ``check_setup(roles=[NAME])`` checks it (preflight.py).
    """

    name: str  # python3 course.py KIND NAME
    app: str  # the module whose ``app`` it runs (celery -A)
    node: str = None  # a worker's --hostname: what ping, inspect and check_setup name
    queues: tuple = ()  # a worker's --queues
    concurrency: int = 1
    pool: str = "prefork"
    options: tuple = ()  # more options of its celery command
    kind: str = "worker"  # the celery command
    broker: str = "course"  # "course": CELERY_BROKER_URL; "rabbitmq": COURSE_RABBITMQ_URL, started when one answers
    ready: str = None  # not a worker: the line of its log that says it works (a worker is asked with ping)
    # The lesson whose notebook starts it while a cell needs it (course_tasks/lesson_workers.py), instead of every
    # setup: a worker with another pool or settings, for one lesson's point. None: `up`, autostart, the tests start it.
    lesson: int = None

    @property
    def label(self) -> str:
        """How a learner sees it named, in every message of the course (started, stopped, checked, restarted): a
        worker's node name, else its command and role, ``celery beat (beat)``."""
        return self.node or f"celery {self.kind} ({self.name})"

    def command(self) -> list:
        """``python -m course_tasks`` arguments that run it (``worker main``), here and in docker-compose.yml."""
        return [self.kind, self.name]

    def argv(self) -> list:
        """The ``celery`` arguments; the launcher, the tests and Docker all use these. A worker's ``options`` may hold
        Celery settings as ``name=value`` (Celery reads them from the end of its command line), e.g.
        ``worker_soft_shutdown_timeout=2``, which has no option of its own."""
        if self.kind != "worker":
            return ["-A", self.app, self.kind, "--loglevel", "INFO", *self.options]
        return [
            "-A", self.app, "worker",
            "--hostname", self.node,
            "--queues", ",".join(self.queues),
            "--concurrency", str(self.concurrency),
            "--pool", self.pool,
            "--loglevel", "INFO",
            "--without-mingle", "--without-gossip",
            *self.options,
        ]


BEAT_READY = "beat: Starting..."  # celery beat's log line as it starts (celery/beat.py, Service.start)

# The course's own celery beat, which every setup runs and supervises: a schedule kept in memory
# (celery.beat:Scheduler, no schedule file) and empty (``beat_schedule={}`` on its command line; Celery reads
# settings as name=value from the end of a beat's command line too). An entry here would send its task every time
# it falls due, during every lesson: to a queue no worker consumes it would pile up (Redis keeps a message until a
# worker takes it, ``expires`` only makes the worker drop it then), to a course worker it would add tasks to what
# the lessons count and time, and lesson 16's beats, which send celeryconfig.py's ``beat_schedule``, would see each
# of their runs twice. Lesson 16 starts beats of its own for that schedule.
COURSE_BEAT = Role("beat", "course_tasks", kind="beat", ready=BEAT_READY,
                   options=("--scheduler", "celery.beat:Scheduler", "beat_schedule=(dict){}"))


def roles() -> dict:
    """Every process the course runs, by role name: the one table (a new lesson's worker or service goes here)."""
    return {role.name: role for role in (
        Role("main", "course_tasks", "worker@course", (DEFAULT_QUEUE,), concurrency=4),
        Role("priority", "course_tasks", "prio@course", (PRIORITY_QUEUE,)),
        Role("play", "course_tasks.play", "play@course", (PLAY_QUEUE,)),
        Role("delivery", "course_tasks.delivery", "delivery@course", (DELIVERY_QUEUE,)),
        Role("rabbitmq", "course_tasks.rabbitmq", rabbitmq_node(),
             (rabbitmq_queue(),), broker="rabbitmq"),
        COURSE_BEAT,
        *LESSON_WORKERS,
        *LESSON_SERVICES,
    )}


# The workers a lesson starts from its notebook while it needs them (lessons 15, 19, 20): each on a queue of its own.
LESSON_WORKERS = (
    Role("threads", "course_tasks", "threads@course", ("course.threads",), concurrency=20, pool="threads", lesson=19),
    Role("solo", "course_tasks", "solo@course", ("course.solo",), pool="solo", lesson=19),
    Role("prefetch", "course_tasks", "prefetch@course", ("course.prefetch",), concurrency=4,
         options=("--prefetch-multiplier", "4"), lesson=19),
    Role("recycle", "course_tasks", "recycle@course", ("course.recycle",), options=("--max-tasks-per-child", "3"),
         lesson=19),
    Role("memory", "course_tasks", "memory@course", ("course.memory",), options=("--max-memory-per-child", "163840"),
         lesson=19),  # KiB: 160 MiB
    Role("warm", "course_tasks", "warm@course", ("course.warm",), lesson=19),
    Role("cold", "course_tasks", "cold@course", ("course.cold",), lesson=19),
    Role("soft", "course_tasks", "soft@course", ("course.soft",), concurrency=2,
         options=("worker_soft_shutdown_timeout=2",), lesson=19),
    Role("results", "course_tasks", "results@course", ("course.results",), concurrency=2,
         options=("result_expires=2",), lesson=19),
    Role("db", "course_tasks", "db@course", ("course.db",), concurrency=4, options=("--include", "course_tasks.shop"),
         lesson=20),
    Role("dbthreads", "course_tasks", "dbthreads@course", ("course.dbthreads",), concurrency=4, pool="threads",
         options=("--include", "course_tasks.shop"), lesson=20),
    Role("dbspawn", "course_tasks", "dbspawn@course", ("course.dbspawn",), concurrency=4,
         options=("--include", "course_tasks.shop", "--pool-start-method=spawn"), lesson=20),
    # Lesson 15: a worker for slow tasks, one for fast ones, and two that share one queue.
    Role("slow", "course_tasks", "slow@course", ("course.slow",), lesson=15),
    Role("fast", "course_tasks", "fast@course", ("course.fast",), lesson=15),
    Role("one", "course_tasks", "one@course", ("course.shared",), lesson=15),
    Role("two", "course_tasks", "two@course", ("course.shared",), lesson=15),
    # Lesson 16: the worker of what celery beat sends.
    Role("clock", "course_tasks", "clock@course", ("course.clock",), lesson=16),
    # Lesson 17: a worker with a log of its own, for a task that reports its progress.
    Role("watch", "course_tasks", "watch@course", ("course.watch",), lesson=17),
)

# The other Celery processes a lesson starts from its notebook (lesson 16: two celery beats of celeryconfig.py's
# beat_schedule), each with a schedule file of its own (``--schedule``); ``--max-interval 1``: beat looks at its
# schedule at least every second.
LESSON_SERVICES = (
    Role("beat1", "course_tasks", kind="beat", ready=BEAT_READY,
         options=("--schedule", ".course/beat/beat1-schedule", "--max-interval", "1"), lesson=16),
    Role("beat2", "course_tasks", kind="beat", ready=BEAT_READY,
         options=("--schedule", ".course/beat/beat2-schedule", "--max-interval", "1"), lesson=16),
)


def worker_roles() -> dict:
    """The workers among :func:`roles`."""
    return {name: role for name, role in roles().items() if role.kind == "worker"}


def roles_to_start(rabbitmq: bool) -> list:
    """The roles a setup starts: all on the course's broker, and those on RabbitMQ when ``rabbitmq`` answers (not the
    workers a lesson starts itself)."""
    wanted = ("course", "rabbitmq") if rabbitmq else ("course",)
    return [name for name, role in roles().items() if role.broker in wanted and role.lesson is None]


# The roles on the course's broker: every setup starts them (`up`, a kernel's autostart, the tests' LiveHarness).
LOCAL_ROLES = tuple(roles_to_start(rabbitmq=False))


def playground_dir() -> str:
    """Where play@course finds the learners' task modules: ``COURSE_PLAYGROUND``, or notebooks/playground
    (Jupyter's folder, which docker-compose.yml mounts into both containers at the same path)."""
    default = os.path.join(ROOT, "notebooks", "playground")
    return os.environ.get("COURSE_PLAYGROUND") or default


def beat_home() -> Path:
    """The folder lesson 16's celery beats run in: their ``--schedule`` files are relative to it. ``COURSE_BEAT_HOME``
    (a test setup's own folder: two setups of one clone never share a schedule file), or this clone's folder."""
    return Path(os.environ.get("COURSE_BEAT_HOME") or ROOT)


def data_dir() -> str:
    """Where lessons keep files of their own (lesson 20's SQLite databases): ``COURSE_DATA_DIR``, or .course/data."""
    default = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".course", "data")
    return os.environ.get("COURSE_DATA_DIR") or default


def redacted(url: str) -> str:
    """A URL fit to print: the password hidden."""
    parts = urlsplit(url)
    if not parts.password:
        return url  # as it is (urlunsplit would drop the // of a redis+socket:///path)
    netloc = parts.netloc.replace(":" + parts.password + "@", ":**@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
