"""Two learners on one machine (a JupyterHub, The Littlest JupyterHub, a lab's shared server): two Unix users, each
with a clone and the README's defaults, each running ``python3 course.py up``, get a setup each, and neither reaches
the other's: no broker port at all (the embedded broker listens on a Unix socket in the clone's .course/run/, mode
0700), no file of the other's course readable, no control command or task crossing over, JupyterLab on a port and
a token of each one's own, RabbitMQ's queue and worker named for each user. A second ``up`` of a user attaches to
that user's setup, as it always did.

It makes the users (useradd; runuser runs the course as each), so it runs as root on Linux only and is skipped
elsewhere with the reason. The users' Python is Debian's /usr/bin/python3 (the machine's default one may live where
they cannot read, under /root). To stay cheap, the packages of requirements.txt are put once into a venv
shared by the users of every run, kept in /var/tmp/celery-course-test-users/<digest>/ (delete it freely): linked
from the test run's own .venv when that has the same Python version, then completed by pip for Debian's Python
(about two minutes on a busy machine), else installed from pip's cache (twice that). Each user's .venv is a small
venv that reads it (a .pth file; its scripts, jupyter-lab and celery, copied to run in the user's venv), with the
stamp that tells course.py that its requirements are installed: from there on, `python3 course.py up` does what it
does on any learner's machine. Everything the users started is stopped, and the users are removed with their homes,
their RabbitMQ queues and exchanges with them.
"""
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kombu import Connection
from printed import Printed

from course_tasks import settings
from course_tasks.machinery import run_state
from course_tasks.machinery.probes import amqp_answers, redis_answers, redis_client
from course_tasks.machinery.services import ROOT, LaunchError, Stack, socket_folder
from course_tasks.machinery.url_check import startup_problem, url_problem
from course_tasks.settings import DEFAULT_RABBITMQ_URL, LOCAL_ROLES, PRIORITY_QUEUE, worker_roles

PYTHON = "/usr/bin/python3"  # Debian's: a new user can run it
SHARED = Path("/var/tmp/celery-course-test-users")
COMMENT = "celery-course two-user test"  # how a user of an earlier, interrupted run is recognised and removed
START_WAIT = 180.0  # both setups, JupyterLab included, on a busy 2-core machine


def _why_not():
    if not sys.platform.startswith("linux"):
        return "Linux only (useradd, runuser, /proc)"
    if os.geteuid() != 0:
        return "needs root: it makes two Unix users (useradd) and runs the course as each of them (runuser)"
    missing = [tool for tool in ("useradd", "userdel", "runuser", "ss") if not shutil.which(tool)]
    if missing:
        return f"no {', '.join(missing)} on this machine"
    found = subprocess.run([PYTHON, "-c", "import ensurepip, sys; print(sys.version_info >= (3, 11))"],
                           capture_output=True, text=True) if Path(PYTHON).exists() else None
    if not found or found.stdout.strip() != "True":
        return f"no {PYTHON} of version 3.11 or newer with ensurepip (Debian: apt install python3-venv)"
    return None




# -- the shared packages ----------------------------------------------------------------------------------------------
def _shared_site() -> Path:
    """The site-packages of a venv of Debian's Python with requirements.txt installed, made once and kept."""
    version = subprocess.run([PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes() + version.encode()).hexdigest()[:12]
    venv = SHARED / digest
    site = venv / "lib" / f"python{version}" / "site-packages"
    if not (venv / ".complete").exists():
        for old in SHARED.glob("*"):  # another requirements.txt's, unused for a day (another branch's may be in use)
            stamp = old / ".complete"
            unused = time.time() - (stamp.stat().st_mtime if stamp.exists() else old.stat().st_mtime)
            if unused > (86400 if stamp.exists() else 3600):  # made half-way an hour ago: never finished
                shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(venv, ignore_errors=True)  # made half-way
        SHARED.mkdir(mode=0o755, parents=True, exist_ok=True)
        subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        if not _linked_from_this_venv(venv, site, version):
            shutil.rmtree(venv, ignore_errors=True)  # a link or copy that failed half-way
            subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True, timeout=120)
        # pip with Debian's Python: installs everything (minutes), or, over the linked packages, only what this
        # Python's markers want and the test run's did not (async-timeout, below Python 3.11.3, for redis)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--only-binary=:all:", "-r", str(ROOT / "requirements.txt")], check=True, timeout=1200)
        subprocess.run(["chmod", "-R", "a+rX", str(venv / "bin"), str(site)], check=True)
    (venv / ".complete").touch()  # its last use
    return site


def _linked_from_this_venv(venv, site, version) -> bool:
    """The packages of the venv this test runs in, when it has requirements.txt installed (course.py's stamp) for
    the same Python version: linked (or copied) into the shared venv in seconds, instead of installing them again
    (minutes). Its ``celery-course.pth``, which puts this clone on the path, is left out: each user runs their own.
    The scripts (jupyter-lab, celery ...) come along, to run with the shared venv's Python."""
    ours = Path(sys.prefix)
    stamp = ours / ".requirements.sha256"
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    source = ours / "lib" / f"python{version}" / "site-packages"
    if f"{sys.version_info.major}.{sys.version_info.minor}" != version or not source.is_dir() \
            or not stamp.exists() or stamp.read_text().strip() != wanted:
        return False
    shutil.rmtree(site)
    for mine, theirs in ((source, site), (ours / "share", venv / "share")):  # share/: JupyterLab's extensions
        if not mine.exists():
            continue
        shutil.rmtree(theirs, ignore_errors=True)
        for how in (["cp", "-al"], ["cp", "-a"]):  # hard links on one file system, else a copy
            if subprocess.run([*how, str(mine), str(theirs)], capture_output=True).returncode == 0:
                break
            shutil.rmtree(theirs, ignore_errors=True)
        else:
            return False
    (site / "celery-course.pth").unlink(missing_ok=True)
    for script in (ours / "bin").iterdir():
        head, _, rest = script.read_bytes().partition(b"\n") if script.is_file() else (b"", b"", b"")
        if head.startswith(b"#!") and b"python" in head and not (venv / "bin" / script.name).exists():
            (venv / "bin" / script.name).write_bytes(b"#!" + os.fsencode(venv / "bin" / "python") + b"\n" + rest)
            (venv / "bin" / script.name).chmod(0o755)
    return True


# -- users ------------------------------------------------------------------------------------------------------------
class User:
    """A Unix user made for this test, with a clone of the course in their home and the README's defaults."""

    def __init__(self, letter, site):
        self.name = f"crs{secrets.token_hex(3)}{letter}"
        subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/sh", "--comment", COMMENT,
                        self.name], check=True, capture_output=True, timeout=60)
        entry = pwd.getpwnam(self.name)
        self.uid, self.home = entry.pw_uid, Path(entry.pw_dir)
        self.home.chmod(0o755)  # the worst case: a home that every user can read (Debian's useradd makes it so)
        self.clone = self.home / "celery-course"
        _copy_clone(self.clone)
        venv = self.clone / ".venv"
        subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
        own_site = next(venv.glob("lib/python3*/site-packages"))
        (own_site / "celery-course-shared.pth").write_text(f"{site}\n")
        for script in (site.parent.parent.parent / "bin").iterdir():  # jupyter-lab, celery ...: run by this venv
            head, _, rest = script.read_bytes().partition(b"\n") if script.is_file() else (b"", b"", b"")
            if head.startswith(b"#!") and b"python" in head and not (venv / "bin" / script.name).exists():
                (venv / "bin" / script.name).write_bytes(b"#!" + os.fsencode(venv / "bin" / "python") + b"\n" + rest)
                (venv / "bin" / script.name).chmod(0o755)
        (venv / ".requirements.sha256").write_text(hashlib.sha256((ROOT / "requirements.txt").read_bytes())
                                                   .hexdigest())
        subprocess.run(["chown", "-R", f"{self.name}:{self.name}", str(self.clone)], check=True)

    def argv(self, *command):
        """``command`` run as this user, in a clean environment of their own (nothing of this test's settings)."""
        env = {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "LANG": "C.UTF-8",
               "PATH": "/usr/local/bin:/usr/bin:/bin", "COURSE_LANG": "en"}
        return ["runuser", "-u", self.name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *command]

    def run(self, *command, timeout=60):
        return subprocess.run(self.argv(*command), cwd=self.clone, capture_output=True, text=True, timeout=timeout)

    def python(self, code, timeout=90):
        """Run ``code`` with this user's .venv in their clone (a learner's kernel or terminal); its JSON output."""
        done = self.run(str(self.clone / ".venv" / "bin" / "python"), "-c", code, timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def pids(self):
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if proc.stat().st_uid == self.uid:
                    found.append(int(proc.name))
            except OSError:
                pass
        return found

    def remove(self):
        """Kill what is left of this user's processes (none, when their `up` stopped as it should) and remove them."""
        for _ in range(3):
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if not self.pids():
                break
            time.sleep(0.5)
        subprocess.run(["userdel", "--remove", self.name], capture_output=True, timeout=60)


def _copy_clone(target):
    """The course as it is in this working tree (committed or not): what a clone of it holds."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _remove_leftovers():
    """Users of an earlier run that was interrupted (recognised by their comment)."""
    for entry in pwd.getpwall():
        if entry.pw_gecos == COMMENT:
            user = User.__new__(User)
            user.name, user.uid = entry.pw_name, entry.pw_uid
            user.remove()


class Up:
    """``python3 course.py up`` of a user, read line by line."""

    def __init__(self, user, *args):
        self.user = user
        self.proc = subprocess.Popen(user.argv(PYTHON, "course.py", "up", *args), cwd=user.clone, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.printed = Printed(self.proc, f"{user.name}'s `up`")
        self.output, self.text = self.printed.output, self.printed.text

    def wait_for(self, pattern, timeout=START_WAIT):
        return self.printed.wait_for(pattern, timeout)

    def ctrl_c(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def _uid_of(pid) -> int:
    return Path(f"/proc/{pid}").stat().st_uid


def _tcp_listeners() -> dict:
    """``{pid: [port, ...]}`` of every process listening on TCP (ss)."""
    listing = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, timeout=30).stdout
    found = {}
    for line in listing.splitlines():
        port = line.split()[3].rsplit(":", 1)[-1]
        for pid in re.findall(r"pid=(\d+)", line):
            found.setdefault(int(pid), []).append(int(port))
    return found


def _status(url):
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


# -- the two setups ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two():
    if _why_not():
        pytest.skip(_why_not())
    _remove_leftovers()
    began = time.monotonic()
    site = _shared_site()
    prepared = time.monotonic()
    rabbitmq = amqp_answers(DEFAULT_RABBITMQ_URL)
    users, ups = [], []
    try:
        users = [User(letter, site) for letter in "ab"]
        ups = [Up(user) for user in users]  # both at once, as in a room
        urls = [up.wait_for(r"^\s+(http://127\.0\.0\.1:\d+/lab/tree/\S+\?token=\w+)").group(1) for up in ups]
        setup = {"users": users, "ups": ups, "jupyter": urls, "rabbitmq": rabbitmq,
                 "seconds": (prepared - began, time.monotonic() - prepared)}
        print(f"\nshared packages ready in {setup['seconds'][0]:.1f} s; two users made and both setups running "
              f"in {setup['seconds'][1]:.1f} s")
        yield setup
    finally:
        for up in ups:
            up.ctrl_c()
        for user in users:
            user.remove()
        if rabbitmq:
            _remove_from_rabbitmq([f"{PRIORITY_QUEUE}.{user.name}" for user in users])


def _remove_from_rabbitmq(names):
    """The users' queues on the machine's RabbitMQ, and their exchanges of the same names (Celery declares both)."""
    with Connection(DEFAULT_RABBITMQ_URL, connect_timeout=5) as conn:
        for name in names:
            conn.default_channel.queue_delete(name)
            conn.default_channel.exchange_delete(name)


def _socket_of(up) -> str:
    return re.search(r"Broker: the embedded .* started at redis\+socket://(\S+), a Unix socket", up.text()).group(1)


def test_each_user_starts_a_broker_and_workers_of_their_own(two):
    a, b = two["ups"]
    nodes = [worker_roles()[role].node for role in LOCAL_ROLES if role in worker_roles()]
    for up in (a, b):
        text = up.text()
        assert "already running" not in text, text  # before: B's `up` found A's Redis and A's workers
        assert sorted(re.findall(r"Worker (\S+): started", text)) == sorted(
            nodes + ([f"rabbit@course-{up.user.name}"] if two["rabbitmq"] else [])), text
        assert _socket_of(up) == f"{up.user.clone}/.course/run/redis.sock"
    assert _socket_of(a) != _socket_of(b)


def test_no_broker_or_worker_of_theirs_listens_on_a_port(two):
    """The only port either user's processes listen on is their JupyterLab's (which asks for its token)."""
    listeners = _tcp_listeners()
    for user in two["users"]:
        for pid in set(user.pids()) & set(listeners):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            assert "jupyter" in command, f"{user.name}'s {command} listens on {listeners[pid]}"


def test_b_cannot_open_a_broker_nor_read_a_files(two):
    a, b = two["users"]
    a_socket = _socket_of(two["ups"][0])
    reached = b.python(f"""
import json
from course_tasks.machinery.probes import redis_error
print(json.dumps(redis_error("redis+socket://{a_socket}")))""")
    assert "Permission denied" in reached, reached
    assert b.run("ls", str(a.clone)).returncode == 0  # A's home and clone are readable (the worst case) ...
    for private in (".course", ".course/run", ".course/logs", "my-notebooks", "my-notebooks/en"):
        listed = b.run("ls", str(a.clone / private))  # ... but not what the course keeps for A
        assert listed.returncode != 0 and "Permission denied" in listed.stderr, (private, listed)
    read = b.run("cat", str(a.clone / ".course" / "logs" / "worker-main.log"))
    assert read.returncode != 0 and "Permission denied" in read.stderr


CONTROL = """
import json, os, time
from course_tasks.celery import app
from course_tasks.tasks import nap
from course_tasks.workers import reload_worker
stats = app.control.inspect(timeout=1.0).stats() or {}
before = {node: [s["pid"], *s["pool"]["processes"]] for node, s in stats.items()}
result = nap.delay(2)
running = None
for _ in range(100):
    active = (app.control.inspect(destination=["worker@course"], timeout=1.0).active() or {}).get("worker@course")
    if active:
        running = active[0]["worker_pid"]
        break
    time.sleep(0.05)
result.get(timeout=20)
owners = {pid: os.stat(f"/proc/{pid}").st_uid for pids in before.values() for pid in [*pids, running]}
RELOAD
print(json.dumps({"processes": before, "task_pid": running, "owners": sorted(set(owners.values()))}))
"""


def test_a_task_of_b_runs_in_b_processes_and_b_reloading_a_worker_leaves_a_alone(two):
    a, b = two["users"]
    seen_a = a.python(CONTROL.replace("RELOAD", ""))
    seen_b = b.python(CONTROL.replace("RELOAD", 'reload_worker("main")'))  # lesson 10's command, on worker@course
    after_a = a.python(CONTROL.replace("RELOAD", ""))
    for user, seen in ((a, seen_a), (b, seen_b)):
        assert sorted(seen["processes"]) == sorted(w.node for r, w in worker_roles().items() if r in LOCAL_ROLES)
        assert seen["owners"] == [user.uid]  # every worker process, and the one that ran the task, is the user's
        assert seen["task_pid"] in seen["processes"]["worker@course"]
    assert not set(seen_a["processes"]["worker@course"]) & set(seen_b["processes"]["worker@course"])
    assert after_a["processes"] == seen_a["processes"]  # B's reload restarted B's worker@course, not A's


def test_jupyterlab_of_each_on_a_port_and_a_token_of_their_own(two):
    ports = [int(re.search(r":(\d+)/", url).group(1)) for url in two["jupyter"]]
    tokens = [url.rsplit("token=", 1)[1] for url in two["jupyter"]]
    assert ports[0] != ports[1] and tokens[0] != tokens[1]
    for port, token, other in ((ports[0], tokens[0], tokens[1]), (ports[1], tokens[1], tokens[0])):
        assert _status(f"http://127.0.0.1:{port}/api/status?token={token}") == 200
        assert _status(f"http://127.0.0.1:{port}/api/status?token={other}") == 403


def test_a_second_up_of_a_user_attaches_to_their_own_setup(two):
    a = two["users"][0]
    again = a.run(PYTHON, "course.py", "up", "--no-jupyter", timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"The course is already running for the broker redis+socket://{a.clone}/.course/run/redis.sock" \
           in again.stdout, again.stdout
    assert "Nothing to start here" in again.stdout


def test_on_the_machines_rabbitmq_each_user_has_a_queue_and_a_worker_of_their_own(two):
    if not two["rabbitmq"]:
        pytest.skip(f"no RabbitMQ answers at {DEFAULT_RABBITMQ_URL}")
    for user in two["users"]:
        seen = user.python("""
import json
from course_tasks.rabbitmq import app
from course_tasks.settings import worker_roles
rabbit = worker_roles()["rabbitmq"]
stats = app.control.inspect(destination=[rabbit.node], timeout=1.0).stats() or {}
queues = app.control.inspect(destination=[rabbit.node], timeout=1.0).active_queues() or {}
print(json.dumps({"node": rabbit.node, "pid": stats[rabbit.node]["pid"],
                  "queues": [q["name"] for q in queues[rabbit.node]]}))""")
        assert seen["node"] == f"rabbit@course-{user.name}" and seen["queues"] == [f"{PRIORITY_QUEUE}.{user.name}"]
        assert _uid_of(seen["pid"]) == user.uid


# -- the same defaults, one piece at a time (any machine, any user) --------------------------------------------------
def test_the_default_broker_is_a_unix_socket_in_the_clones_private_folder(monkeypatch):
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    socket = settings.embedded_socket()
    if len(os.fsencode(ROOT / ".course/run/redis.sock")) <= settings.SOCKET_PATH_MAX:
        assert socket == str(ROOT / ".course" / "run" / "redis.sock")
    assert settings.broker_url() == settings.result_backend() == settings.DEFAULT_REDIS_URL == f"redis+socket://{socket}"
    assert startup_problem("up", env={}) is None and startup_problem("check", env={}) is None


def test_a_clone_whose_path_is_too_long_for_a_socket_gets_a_short_one(monkeypatch):
    deep = Path("/home/learner") / ("a-long-folder-name/" * 5) / "celery-course"
    monkeypatch.setattr(settings, "ROOT", deep)
    socket = settings.embedded_socket()
    assert socket.startswith(settings.private_tmp() + "/") and len(os.fsencode(socket)) <= settings.SOCKET_PATH_MAX
    monkeypatch.setattr(settings, "ROOT", deep.with_name("another-clone"))
    assert settings.embedded_socket() != socket  # one per clone


def test_the_short_folder_is_refused_when_it_is_not_the_users_own(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "en")
    folder = tmp_path / "celery-course-1000"
    monkeypatch.setattr(settings, "private_tmp", lambda: str(folder))
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    socket_folder(str(folder / "x.sock"))
    assert folder.stat().st_mode & 0o777 == 0o700  # made private again
    folder.rmdir()
    folder.symlink_to(tmp_path)  # someone else's trap: a link to a folder of theirs
    with pytest.raises(LaunchError, match=r"celery-course-1000, but that folder is not a folder"):
        socket_folder(str(folder / "x.sock"))


def test_a_socket_url_is_known_everywhere_a_url_is_read(tmp_path):
    url = f"redis+socket://{tmp_path}/redis.sock"
    assert url_problem("CELERY_BROKER_URL", url, ("redis", "redis+socket"), "x", "en", up=True) is None
    assert "it names no socket" in url_problem("CELERY_BROKER_URL", "redis+socket://", ("redis+socket",), "x", "en")
    assert settings.redacted(url) == url
    assert run_state.broker_key(url) == run_state.broker_key(url.replace("redis.sock", "./redis.sock"))
    assert run_state.broker_key(url) != run_state.broker_key(f"redis+socket://{tmp_path}/other.sock")
    client = redis_client(url + "?virtual_host=3", timeout=1)
    assert client.connection_pool.connection_kwargs["path"] == f"{tmp_path}/redis.sock"
    assert client.connection_pool.connection_kwargs["db"] == 3


@pytest.fixture
def short_tmp():
    """A folder whose path leaves room for a socket's name (pytest's tmp_path on macOS is too long for one)."""
    folder = Path(tempfile.mkdtemp(prefix="course-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_embedded_broker_on_a_socket_has_no_port_and_mode_0700(short_tmp):
    tmp_path = short_tmp
    socket = str(tmp_path / "run" / "redis.sock")
    with Stack(tmp_path / "logs") as stack:
        url = stack.start_redis(socket=socket)
        assert url == f"redis+socket://{socket}" and redis_answers(url)
        assert os.stat(socket).st_mode & 0o777 == 0o700 and (tmp_path / "logs").stat().st_mode & 0o777 == 0o700
        argv, pid = stack.services[0].argv, stack.services[0].proc.pid
        assert argv[argv.index("--port") + 1] == "0"
        if Path("/proc").exists():  # no TCP socket among its open files
            inodes = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir() if fd.exists()}
            tcp = {f"socket:[{line.split()[9]}]" for name in ("tcp", "tcp6")
                   for line in Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]}
            assert not inodes & tcp
    assert not Path(socket).exists()  # the server removes it when it stops


def test_rabbitmq_names_carry_the_users_name_unless_set(monkeypatch):
    for name in ("COURSE_RABBITMQ_QUEUE", "COURSE_RABBITMQ_NODE"):
        monkeypatch.delenv(name, raising=False)
    tag = settings.user_tag()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", tag)
    assert settings.rabbitmq_queue() == f"course.priority.{tag}"
    assert settings.worker_roles()["rabbitmq"].node == f"rabbit@course-{tag}"
    assert settings.worker_roles()["rabbitmq"].queues == (f"course.priority.{tag}",)
    monkeypatch.setenv("COURSE_RABBITMQ_QUEUE", "course.priority")
    monkeypatch.setenv("COURSE_RABBITMQ_NODE", "rabbit@course")
    assert settings.worker_roles()["rabbitmq"].node == "rabbit@course"
    assert settings.rabbitmq_queue() == "course.priority"


def test_up_starts_the_embedded_broker_on_a_socket_and_stops_it(launch, short_tmp):
    """`up`'s way to the default broker (a socket URL, here a folder of this test's), on any machine."""
    socket = short_tmp / "run" / "redis.sock"
    launcher = launch(f"redis+socket://{socket}", "--no-jupyter")
    url = re.escape(f"redis+socket://{socket}")
    launcher.wait_for(rf"Broker: the embedded (Valkey|Redis) [\d.]+ started at {url}, a Unix socket that only you can")
    launcher.wait_for(r"Ctrl-C stops everything")
    assert launcher.ctrl_c() == 0
    assert f"the embedded broker (redis+socket://{socket})" in launcher.rest()
    assert not socket.exists()
