#!/usr/bin/env python3
"""The entrypoint of the course's image (docker-compose.yml): run a service as the learner, not as root.

On Linux, what a container writes into the learner's clone (my-notebooks/, notebooks/playground/) belongs to the
user the container runs as. Started as root, this runs the command as the owner of those folders: COURSE_UID and
COURSE_GID if set, else the owner of the one mounted here (a clone has both: my-notebooks/.gitkeep), and files
that an earlier run left there as root are given to that owner. Where the folders belong to root (rootless Docker
and Podman show the learner's own files so) it stays root. A container that mounts neither runs as nobody.

For JupyterLab (``COURSE_JUPYTER_TOKEN_FILE`` set) it also keeps the token: made once, kept in that file (a volume,
so a restarted or re-created container asks for the same one), and printed with the address to open, which
``docker compose logs jupyter`` shows.

For a worker on RabbitMQ it first declares the worker's queue as the worker will. A queue that RabbitMQ already has
with other arguments (PRECONDITION_FAILED, lesson 08) would stop the worker at once and Docker would start it again,
over and over; instead this says once what is wrong and how to fix it, and waits until the queue can be declared.
"""
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEARNER_DIRS = (ROOT / "my-notebooks", ROOT / "notebooks" / "playground")
STATE = ROOT / ".course"  # what the services write for themselves; HOME is its home/ (see the Dockerfile)
NOBODY = 65534
QUEUE_LOOK_SECONDS = 5  # how often a worker whose queue cannot be declared looks again
QUEUE_REMIND_SECONDS = 300  # and how often it says so again in its log

MESSAGES = {
    "open": {
        "en": "JupyterLab: open this address in your browser (the token is kept: the same after a restart)\n\n"
              "    {url}\n",
        "ru": "JupyterLab: откройте в браузере этот адрес (токен сохранён: после перезапуска он тот же)\n\n"
              "    {url}\n",
    },
    "root_owned": {
        "en": "{path}/ is empty and belongs to root (Docker made it): on a Linux host the files made in it will be "
              "root's too. To make them yours: sudo chown -R $(id -u):$(id -g) my-notebooks notebooks/playground, "
              "then docker compose up -d --force-recreate (or set COURSE_UID and COURSE_GID).",
        "ru": "Папка {path}/ пуста и принадлежит root (её создал Docker): на Linux файлы в ней тоже будут "
              "принадлежать root. Чтобы они были вашими: sudo chown -R $(id -u):$(id -g) my-notebooks "
              "notebooks/playground, затем docker compose up -d --force-recreate (или задайте COURSE_UID "
              "и COURSE_GID).",
    },
    "queue_mismatch": {
        "en": "{node} cannot start: RabbitMQ already has the queue {queue}, declared with other arguments than this "
              "worker declares it with (x-max-priority={priority}):\n  {error}\n"
              "Delete the queue (the messages waiting in it go with it):\n"
              "  docker compose exec rabbitmq rabbitmqctl delete_queue {queue}\n"
              "This worker starts by itself once the queue is gone (it looks every {look:g} s).",
        "ru": "{node} не может запуститься: очередь {queue} уже есть в RabbitMQ, но с другими аргументами, "
              "чем те, с которыми её объявляет этот воркер (x-max-priority={priority}):\n  {error}\n"
              "Удалите очередь (сообщения, которые в ней ждут, пропадут вместе с ней):\n"
              "  docker compose exec rabbitmq rabbitmqctl delete_queue {queue}\n"
              "Как только очереди не станет, воркер запустится сам (он проверяет это каждые {look:g} с).",
    },
    "queue_still": {
        "en": "{node}: still waiting for the queue {queue} to be deleted ({minutes:g} min so far).",
        "ru": "{node}: по-прежнему ждём, когда удалят очередь {queue} (ждём уже {minutes:g} мин).",
    },
    "queue_fixed": {
        "en": "{node}: the queue {queue} is now declared as the worker needs it; starting.",
        "ru": "{node}: очередь {queue} теперь объявлена так, как нужно воркеру; запускаемся.",
    },
}


def say(key, **values):
    from course_tasks.i18n import language

    return MESSAGES[key][language()].format(**values)


# -- whose files ---------------------------------------------------------------------------------------------

def mounted():
    """The learner's folders mounted into this container (jupyter: both; play-worker: the playground)."""
    return [path for path in LEARNER_DIRS if os.path.ismount(path)]


def learner():
    """(uid, gid) to run as: COURSE_UID/COURSE_GID; else the owner of a mounted learner's folder (root where they
    are root's); else, with none mounted, nobody (a worker that writes nothing of the learner's)."""
    uid = os.environ.get("COURSE_UID", "").strip()
    if uid:
        return int(uid), int(os.environ.get("COURSE_GID", "").strip() or uid)
    for path in mounted():
        if path.stat().st_uid != 0:
            return path.stat().st_uid, path.stat().st_gid
    return (0, 0) if mounted() else (NOBODY, NOBODY)


def give(path, uid, gid, only_roots):
    """``path`` and everything in it to uid:gid (with ``only_roots``: what root owns, left by an earlier run)."""
    if not path.exists():
        return
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            st = os.lstat(name)
            if (st.st_uid, st.st_gid) != (uid, gid) and (st.st_uid == 0 or not only_roots):
                os.lchown(name, uid, gid)


def become(uid, gid):
    """Run on as uid:gid, with a name (a prompt in JupyterLab's terminal says who) and HOME in .course/."""
    for path in LEARNER_DIRS:
        give(path, uid, gid, only_roots=True)
    give(STATE, uid, gid, only_roots=False)
    import pwd

    try:
        pwd.getpwuid(uid)
    except KeyError:  # a learner's uid the image does not know: name it, as the learner's own user
        with open("/etc/passwd", "a") as passwd:
            passwd.write(f"learner:x:{uid}:{gid}:learner:{os.environ.get('HOME', STATE / 'home')}:/bin/sh\n")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.environ.update(USER=pwd.getpwuid(uid).pw_name, LOGNAME=pwd.getpwuid(uid).pw_name)


# -- JupyterLab's token ----------------------------------------------------------------------------------------

def kept_token(path):
    """The token in ``path``; made (and written there, readable by this user only) the first time."""
    path = Path(path)
    token = path.read_text().strip() if path.exists() else ""
    if not token:
        token = secrets.token_hex(24)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
    return token


def announce_jupyter():
    from course_tasks.i18n import language
    from course_tasks.machinery.copies import first_lesson

    token = os.environ.get("JUPYTER_TOKEN") or kept_token(os.environ["COURSE_JUPYTER_TOKEN_FILE"])
    os.environ["JUPYTER_TOKEN"] = token
    port = os.environ.get("COURSE_JUPYTER_PORT", "8888")
    url = f"http://127.0.0.1:{port}/lab/tree/{first_lesson(language())}?token={token}"
    print(say("open", url=url), flush=True)


# -- a RabbitMQ worker's queue ---------------------------------------------------------------------------------

def queue_problem(app):
    """None once every queue of ``app`` is declared as its worker declares it (or RabbitMQ does not answer yet:
    the worker waits for that itself), else the PRECONDITION_FAILED text."""
    from amqp.exceptions import PreconditionFailed

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            for queue in app.amqp.queues.values():
                queue(conn.default_channel).declare()
    except PreconditionFailed as exc:
        return str(exc)
    except Exception:  # noqa: BLE001  (RabbitMQ not there yet, or any other failure: not this check's business)
        return None
    return None


def wait_for_queue(role):
    """Before ``celery worker`` of ``role`` on RabbitMQ: wait until its queue can be declared, saying why."""
    import importlib

    from course_tasks import settings

    worker = settings.worker_roles()[role]
    app = importlib.import_module(worker.app).app
    if not (app.conf.broker_write_url or "").startswith("amqp"):  # broker_url: CELERY_BROKER_URL comes first
        return
    started, said = time.monotonic(), None
    while (error := queue_problem(app)) is not None:
        if said is None:
            print(say("queue_mismatch", node=worker.node, queue=",".join(worker.queues), error=error,
                      priority=app.conf.task_queue_max_priority, look=QUEUE_LOOK_SECONDS), flush=True)
            said = time.monotonic()
        elif time.monotonic() - said > QUEUE_REMIND_SECONDS:
            print(say("queue_still", node=worker.node, queue=",".join(worker.queues),
                      minutes=round((time.monotonic() - started) / 60)), flush=True)
            said = time.monotonic()
        time.sleep(QUEUE_LOOK_SECONDS)
    if said is not None:
        print(say("queue_fixed", node=worker.node, queue=",".join(worker.queues)), flush=True)


def main(argv):
    if not argv:
        sys.exit("usage: entrypoint.py COMMAND [ARG ...]")
    if os.geteuid() == 0:
        uid, gid = learner()
        if uid != 0:
            become(uid, gid)
        else:
            for path in mounted():
                if not any(path.iterdir()):
                    print(say("root_owned", path=path.relative_to(ROOT)), file=sys.stderr, flush=True)
                    break
    if os.environ.get("COURSE_JUPYTER_TOKEN_FILE") and argv[-1:] == ["jupyter"]:
        announce_jupyter()
    if argv[-2:-1] == ["worker"] and "course_tasks" in argv:
        wait_for_queue(argv[-1])
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
