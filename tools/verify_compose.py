#!/usr/bin/env python3
"""Run the course under Docker Compose for real: build, bring it up, run lessons with strict nbval in its
jupyter container, check what a learner relies on, and take it all down again.

    python3 tools/verify_compose.py                  # every lesson, in English and in Russian
    python3 tools/verify_compose.py --quick          # en/00 01 07 08 10 12 13 and ru/12
    python3 tools/verify_compose.py en/12 ru/12      # just these
    python3 tools/verify_compose.py --ports 63510    # publish on 63510.. (else free ports the system picks)

It needs nothing but Python 3.8+ and a Docker command line; it is not part of `python3 course.py test` (it takes
minutes and a container engine). In order:

1. The engine: a running Docker if ``docker info`` answers. Else, on Linux as root with ``dockerd`` installed
   (Debian: ``apt-get install docker.io docker-compose``), a daemon of its own: ``dockerd --iptables=false
   --bridge=none`` with its own data root, exec root, socket and pidfile (below, :data:`OWN`); it is stopped,
   by its pid, at the end. Its images stay in its data root for the next run.
2. Compose: ``docker compose`` (v2) if there is one, else ``docker-compose`` (v1).
3. The images docker-compose.yml names (python:3.11-slim, redis:7-alpine, rabbitmq:3.13-management-alpine): used
   if the engine has them, pulled if it can; where no registry answers, stand-ins are made once and reused: a
   Debian base from ``debootstrap`` + ``docker import``, Debian's Redis and RabbitMQ on it (tools/standins/).
4. A copy of this working tree (git's files, no learner's answers) in a scratch folder, owned by a uid that is not
   root (when run as root), so that the ownership of what the containers write is checked for real.
5. ``docker build`` of the course's image (host networking when the daemon is ours: it has no default bridge),
   then ``compose up -d`` on free loopback ports, docker-compose.brokers.yml included.
6. Checks: every worker answers and the course's celery beat runs; JupyterLab wants its token (403 without, 200
   with the one the log shows) and keeps it over a restart and a re-created container; Flower, Redis, AMQP and the
   management UI answer on their ports.
7. The lessons, with strict nbval, inside the jupyter container, as the learner, on the learner's copies
   (my-notebooks/), against the compose workers.
8. After the lessons: everything in my-notebooks/ and notebooks/playground/ belongs to the learner; delivery@course
   killed 5 times (twice during a task, by the task's own pool process: cut off, run again) is recognised each
   time by its new boot id; a queue declared with other arguments
   (PRECONDITION_FAILED) makes rabbit@course wait with a message instead of restarting, and it starts once the
   queue is deleted.
9. ``compose down -v``: no container, network or volume of the run is left; our own daemon is stopped.

Exit code: 0 all passed; 1 something failed (said above the summary); 77 no engine could be had here (the reason
is printed; tests/test_compose_live.py skips with it).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = 77  # "could not be tried here", as automake's test drivers read it
OWN = {  # the daemon this script starts where none runs: every path its own, nothing of the machine's Docker
    "data_root": "/var/lib/celery-course-docker",
    "exec_root": "/run/celery-course-docker",
    "socket": "/run/celery-course-docker.sock",
    "pidfile": "/run/celery-course-docker.pid",
}
IMAGES = {  # what docker-compose.yml names -> the compose variable that replaces it, and the stand-in's name
    "python": ("python:3.11-slim", "COURSE_PYTHON_IMAGE", "celery-course-standin/python:3.11-bookworm"),
    "redis": ("redis:7-alpine", "COURSE_REDIS_IMAGE", "celery-course-standin/redis:7"),
    "rabbitmq": ("rabbitmq:3.13-management-alpine", "COURSE_RABBITMQ_IMAGE", "celery-course-standin/rabbitmq:3"),
}
COURSE_IMAGE = "celery-course:local"
LEARNER_UID = 4321  # the owner of the scratch copy when run as root: not root, and not a user of this machine
QUICK = ["en/00", "en/01", "en/07", "en/08", "en/10", "en/12", "en/13", "ru/12"]
ROLES = ["main", "priority", "play", "delivery", "rabbitmq", "beat"]  # beat: no ping; its presence key (check_setup)
KILLS = 5


class Skip(Exception):
    """No engine (or no way to make the images) here: the run cannot be tried."""


class Failed(Exception):
    """A step failed; the message says which and why."""


# -- small tools --------------------------------------------------------------------------------------------------

class Log:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.file = open(self.folder / "verify.log", "a", encoding="utf-8")  # noqa: SIM115  (open for the whole run)
        self.started = time.monotonic()
        self.times = []  # (step, seconds)

    def say(self, text):
        line = f"[{time.monotonic() - self.started:6.1f}s] {text}"
        print(line, flush=True)
        self.file.write(line + "\n")
        self.file.flush()

    def raw(self, text):
        self.file.write(text)
        self.file.flush()

    def step(self, name):
        return _Step(self, name)


class _Step:
    def __init__(self, log, name):
        self.log, self.name = log, name

    def __enter__(self):
        self.began = time.monotonic()
        self.log.say(f"== {self.name}")
        return self

    def __exit__(self, kind, exc, tb):
        seconds = time.monotonic() - self.began
        self.log.times.append((self.name, seconds, exc is None))
        self.log.say(f"   {self.name}: {'done' if exc is None else 'FAILED'} in {seconds:.1f} s")
        return False


def run(log, argv, env=None, timeout=600, check=True, input=None, quiet=False):
    """Run ``argv``; its output goes to the log (and is returned). ``check``: a non-zero exit is Failed."""
    shown = " ".join("'<script>'" if "\n" in str(a) else str(a) for a in argv)
    log.raw(f"$ {shown}\n")
    if not quiet:
        log.say(f"$ {shown}")
    try:
        done = subprocess.run([str(a) for a in argv], env=env, input=input, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        log.raw(f"{exc.stdout or ''}{exc.stderr or ''}\n(timed out after {timeout} s)\n")
        raise Failed(f"{shown}: no end within {timeout} s") from None
    log.raw(done.stdout + done.stderr + f"(exit {done.returncode})\n")
    if check and done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise Failed(f"{shown} exited {done.returncode}:\n{tail}")
    return done


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def http_status(url, auth=None, timeout=5):
    request = urllib.request.Request(url)
    if auth:
        import base64

        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_until(what, check, seconds, log, every=1.0):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise Failed(f"{what}: not within {seconds:g} s")
        time.sleep(every)


# -- the engine ---------------------------------------------------------------------------------------------------

class Engine:
    """The Docker engine of this run: a running one, or a daemon of our own (stopped by :meth:`stop`)."""

    def __init__(self, log):
        self.log = log
        self.env = dict(os.environ)
        self.proc = None  # our dockerd
        self.own = False  # whether the daemon has no default bridge (ours): builds need host networking

    def docker(self, *args, **kw):
        return run(self.log, ["docker", *args], env=self.env, **kw)

    def answers(self):
        return self.docker("info", "--format", "{{.ServerVersion}}", check=False, quiet=True,
                           timeout=20).returncode == 0

    def start(self):
        if shutil.which("docker") is None:
            raise Skip("no docker command here (Debian: apt-get install docker.io docker-compose; "
                       "elsewhere Docker Desktop or Docker Engine)")
        if self.answers():
            version = self.docker("info", "--format", "{{.ServerVersion}}", quiet=True).stdout.strip()
            self.log.say(f"Docker {version} answers (DOCKER_HOST={self.env.get('DOCKER_HOST', 'default')}): using it")
            return
        reason = self._why_not_own()
        if reason:
            raise Skip(f"no Docker engine answers (docker info failed) and none can be started here: {reason}")
        self.env["DOCKER_HOST"] = f"unix://{OWN['socket']}"
        self.own = True
        if self.answers():  # an earlier run's daemon that was not stopped: use it, and leave it as found
            self.log.say(f"a daemon of an earlier run answers on {OWN['socket']}: using it (it is left running)")
            return
        log_path = self.log.folder / "dockerd.log"
        argv = [shutil.which("dockerd"), "--iptables=false", "--bridge=none", "--data-root", OWN["data_root"],
                "--exec-root", OWN["exec_root"], "-H", self.env["DOCKER_HOST"], "--pidfile", OWN["pidfile"]]
        self.log.say("$ " + " ".join(argv) + f"   (log: {log_path})")
        with open(log_path, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
                self.stop()
                raise Skip("dockerd did not start: " + " | ".join(tail))
            time.sleep(0.5)
        self.log.say(f"dockerd started, pid {self.proc.pid}, socket {OWN['socket']}")

    @staticmethod
    def _why_not_own():
        if not sys.platform.startswith("linux"):
            return "this is not Linux (start Docker Desktop)"
        if os.geteuid() != 0:
            return "not root (start the Docker service, or run this as root)"
        if shutil.which("dockerd") is None:
            return "dockerd is not installed (Debian: apt-get install docker.io docker-compose)"
        return None

    def stop(self):
        """Stop our dockerd (by its pid) and wait for it and its containerd; nothing if the engine is not ours."""
        if self.proc is None:
            return
        pid = self.proc.pid
        self.log.say(f"stopping dockerd (pid {pid})")
        try:
            os.kill(pid, signal.SIGTERM)
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.log.say(f"dockerd (pid {pid}) did not stop within 60 s: SIGKILL to its process group")
            os.killpg(pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        for _ in range(50):  # its containerd (same session) goes with it
            if not _session_alive(pid):
                break
            time.sleep(0.2)
        else:
            self.log.say(f"processes of dockerd's session {pid} still ran: SIGKILL to them")
            os.killpg(pid, signal.SIGKILL)
        self.proc = None
        self.log.say("dockerd stopped")

    def compose_command(self):
        if self.docker("compose", "version", check=False, quiet=True).returncode == 0:
            return ["docker", "compose"]
        if shutil.which("docker-compose") and run(self.log, ["docker-compose", "version"], env=self.env,
                                                  check=False, quiet=True).returncode == 0:
            return ["docker-compose"]
        raise Skip("no Compose: neither `docker compose` (v2) nor `docker-compose` (v1; Debian: "
                   "apt-get install docker-compose)")


def _session_alive(sid):
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:  # field 6 of /proc/PID/stat: the session id
                return True
    return False


# -- the images ---------------------------------------------------------------------------------------------------

def ensure_images(engine, log, work):
    """{compose variable: image} for every image docker-compose.yml names: present, pulled or stand-ins."""
    chosen = {}
    missing = []
    for key, (name, variable, _standin) in IMAGES.items():
        present = engine.docker("image", "inspect", name, check=False, quiet=True).returncode == 0
        if present or engine.docker("pull", name, check=False, timeout=600).returncode == 0:
            chosen[variable] = name
        else:
            missing.append(key)
    if not missing:
        return chosen
    log.say(f"no registry gave {', '.join(IMAGES[k][0] for k in missing)}: stand-ins (made once, then reused)")
    base = chosen.get("COURSE_PYTHON_IMAGE")
    if base is None:
        base = IMAGES["python"][2]
        if engine.docker("image", "inspect", base, check=False, quiet=True).returncode != 0:
            make_base(engine, log, work, base)
        chosen["COURSE_PYTHON_IMAGE"] = base
    for key in ("redis", "rabbitmq"):
        if key in missing:
            standin = IMAGES[key][2]
            if engine.docker("image", "inspect", standin, check=False, quiet=True).returncode != 0:
                network = ["--network", "host"] if engine.own else []
                engine.docker("build", *network, "--build-arg", f"BASE={base}", "-t", standin,
                              ROOT / "tools" / "standins" / key, timeout=900)
            chosen[IMAGES[key][1]] = standin
    return chosen


def debian_mirror():
    """The Debian mirror apt uses here (sources.list or debian.sources), else deb.debian.org."""
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"^(?:deb\s+(?:\[[^\]]*\]\s+)?(\S+)|URIs:\s*(\S+))", text, re.MULTILINE):
            url = match.group(1) or match.group(2)
            if url.rstrip("/").endswith("/debian"):
                return url
    return "http://deb.debian.org/debian"


def make_base(engine, log, work, name):
    """A Debian bookworm (Python 3.11) base image from debootstrap, as python:3.11-slim would be."""
    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        raise Skip("no registry answers, and a base image cannot be made here: debootstrap needs root and "
                   "the debootstrap package (apt-get install debootstrap)")
    rootfs = Path(work) / "rootfs"
    run(log, ["debootstrap", "--variant=minbase", "--include=python3,python3-pip,python-is-python3,ca-certificates",
              "bookworm", rootfs, debian_mirror()], timeout=1200)
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")  # this machine's CAs: pip in a build reaches what it does
    if bundle.exists():
        shutil.copy(bundle, rootfs / "etc/ssl/certs/ca-certificates.crt")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    changes = ["ENV PIP_BREAK_SYSTEM_PACKAGES=1", "ENV LANG=C.UTF-8",
               "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["python3"]']
    argv = ["docker", "import", *[arg for change in changes for arg in ("--change", change)], "-", name]
    log.say("$ tar -C rootfs -c . | " + " ".join(argv))
    done = subprocess.run(argv, stdin=tar.stdout, env=engine.env, capture_output=True, text=True, timeout=600,
                          check=False)
    tar.stdout.close()
    tar.wait()
    log.raw(done.stdout + done.stderr)
    if done.returncode != 0:
        raise Failed(f"docker import failed: {done.stderr.strip()}")
    shutil.rmtree(rootfs)


# -- the course under compose -------------------------------------------------------------------------------------

def scratch_copy(work, uid, gid):
    """The working tree as a fresh clone has it (git's files and new ones not ignored), owned by uid:gid."""
    clone = Path(work) / "course"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if os.geteuid() == 0:
        for folder, dirs, files in os.walk(clone):
            for entry in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.lchown(entry, uid, gid)
    return clone


class Course:
    def __init__(self, engine, log, compose, clone, ports, images):
        self.engine, self.log, self.clone = engine, log, clone
        self.project = f"coursecheck{os.getpid()}"
        self.compose = [*compose, "-p", self.project, "-f", clone / "docker-compose.yml",
                        "-f", clone / "docker-compose.brokers.yml"]
        self.ports = ports
        self.env = {k: v for k, v in engine.env.items() if not k.startswith(("COURSE_", "CELERY_", "COMPOSE_"))}
        self.env.update(images)
        self.env.update({f"COURSE_{k.upper()}_PORT": str(v) for k, v in ports.items()})

    def run(self, *args, **kw):
        return run(self.log, [*self.compose, *args], env=self.env, **kw)

    def exec(self, service, *argv, **kw):
        """``argv`` in ``service``'s container, as its services run (docker/entrypoint.py: as the learner)."""
        return self.run("exec", "-T", service, "python3", "/course/docker/entrypoint.py", *argv, **kw)

    def container(self, service):
        return self.run("ps", "-q", service, quiet=True).stdout.strip()

    def token(self):
        logs = self.run("logs", "--no-color", "jupyter", quiet=True).stdout
        tokens = re.findall(r"\?token=([0-9a-f]{32,})", logs)
        return tokens[-1] if tokens else None

    def jupyter(self, path, token=None):
        url = f"http://127.0.0.1:{self.ports['jupyter']}{path}" + (f"?token={token}" if token else "")
        return http_status(url)


def check_ports(course, log):
    """JupyterLab wants its token; Flower, Redis, AMQP and the management UI answer where they are published."""
    token = wait_until("the token in `logs jupyter`", course.token, 120, log)
    wait_until("JupyterLab answering", lambda: course.jupyter("/api/status", token) == 200, 120, log)
    without = course.jupyter("/api/status")
    if without != 403:
        raise Failed(f"JupyterLab answered {without} without the token (403 expected)")
    log.say(f"JupyterLab on 127.0.0.1:{course.ports['jupyter']}: 403 without the token, 200 with the logged one")
    flower = f"http://127.0.0.1:{course.ports['flower']}/"
    wait_until("Flower answering", lambda: http_status(flower) == 200, 60, log)
    with socket.create_connection(("127.0.0.1", course.ports["redis"]), timeout=5) as s:
        s.sendall(b"PING\r\n")
        pong = s.recv(16)
    with socket.create_connection(("127.0.0.1", course.ports["amqp"]), timeout=5) as s:
        s.sendall(b"AMQP\x00\x00\x09\x01")
        start = s.recv(8)
    ui = http_status(f"http://127.0.0.1:{course.ports['rabbitmq_ui']}/api/overview", auth="guest:guest")
    if not pong.startswith(b"+PONG") or start[:1] != b"\x01" or ui != 200:
        raise Failed(f"brokers on their ports: redis {pong!r}, amqp {start!r}, management UI {ui}")
    log.say(f"Flower 200; Redis PONG on {course.ports['redis']}, AMQP on {course.ports['amqp']}, "
            f"management UI 200 on {course.ports['rabbitmq_ui']}")
    return token


def check_token_kept(course, log, token):
    """The same token after `restart jupyter` and after the container is made anew."""
    for how in (["restart", "jupyter"], ["up", "-d", "--no-deps", "--force-recreate", "jupyter"]):
        course.run(*how, timeout=180)
        wait_until("JupyterLab with the kept token",
                   lambda: course.jupyter("/api/status", token) == 200, 120, log)
        logged = wait_until("the token in the new log", course.token, 60, log)
        if logged != token:
            raise Failed(f"after `{' '.join(how)}` the log shows another token")
        log.say(f"after `{' '.join(how)}`: the same token, 200 with it")


def run_lessons(course, log, lessons):
    """Strict nbval of ``lessons`` (["en/00", ...]) in the jupyter container, on the learner's copies."""
    jupyter = course.container("jupyter")
    course.engine.docker("cp", course.clone / "tests" / "sanitize.cfg", f"{jupyter}:/tmp/course-sanitize.cfg")
    files = []
    for lesson in lessons:
        lang, number = lesson.split("/")
        found = sorted((course.clone / "notebooks" / lang).glob(f"{number}_*.ipynb"))
        if not found:
            raise Failed(f"no lesson {lesson}")
        files.append(f"/course/my-notebooks/{lang}/{found[0].name}")
    argv = ["python", "-m", "pytest", "-c", "/dev/null", "--rootdir", "/course/my-notebooks", "--noconftest",
            "-p", "no:cacheprovider", "-p", "course_tasks.machinery.nbval_notices",  # as the test run compares
            "--nbval", "--nbval-current-env", "--nbval-sanitize-with", "/tmp/course-sanitize.cfg",
            "--nbval-cell-timeout=120", "-v", *files]
    done = course.exec("jupyter", *argv, check=False, timeout=3600)
    (course.log.folder / "lessons.log").write_text(done.stdout + done.stderr)
    results = {}
    # nbval 0.11 names a cell "my-notebooks/en/00_x::ipynb::Cell 0" (elsewhere: "en/00_x.ipynb::Cell 0")
    for path, outcome in re.findall(r"^(\S+?)(?:\.|::)ipynb::Cell \d+ (PASSED|FAILED|ERROR|SKIPPED)", done.stdout,
                                    re.MULTILINE):
        name = "/".join(Path(path).parts[-2:]) + ".ipynb"
        results.setdefault(name, []).append(outcome)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    log.say(f"pytest: {summary}")
    return results, done.returncode


def check_owners(clone, uid, gid, log):
    """Every file in the learner's folders is the learner's."""
    wrong, count = [], 0
    for folder in ("my-notebooks", "notebooks/playground"):
        for dirpath, dirs, files in os.walk(clone / folder):
            for entry in [dirpath, *(os.path.join(dirpath, n) for n in dirs + files)]:
                count += 1
                st = os.lstat(entry)
                if (st.st_uid, st.st_gid) != (uid, gid):
                    wrong.append(f"{Path(entry).relative_to(clone)} {st.st_uid}:{st.st_gid}")
    playground = [p.name for p in (clone / "notebooks" / "playground").glob("*.py")]
    if wrong:
        raise Failed(f"not the learner's ({uid}:{gid}): " + ", ".join(wrong[:10]))
    log.say(f"all {count} entries of my-notebooks/ and notebooks/playground/ belong to {uid}:{gid} "
            f"(the playground has {', '.join(playground) or 'no modules'})")


KILL_LOOP = """
import time
from course_tasks import delivery, faults
node = "delivery@course"
for i in range({kills}):
    pid = delivery.app.control.inspect(destination=[node], timeout=2).stats()[node]["pid"]
    began = time.monotonic()
    task = delivery.nap_acked_late.delay(1) if i % 2 else None  # every other kill: by the task's own pool process
    faults.kill_worker("delivery", during=task)
    faults.wait_for_worker("delivery")
    new = delivery.app.control.inspect(destination=[node], timeout=2).stats()[node]["pid"]
    runs = ""
    if task is not None:  # its message comes back, and the worker runs it again to the end
        task.get(timeout=20)
        runs = ", runs " + "/".join(run["state"] for run in delivery.attempts(task))
    print(f"kill {{i + 1}}: pid {{pid}} -> {{new}}, back in {{time.monotonic() - began:.1f}} s{{runs}}", flush=True)
"""


def check_kills(course, log):
    """delivery@course killed KILLS times: each time kill_worker/wait_for_worker see the new process."""
    before = course.engine.docker("inspect", "-f", "{{.RestartCount}}", course.container("delivery-worker"),
                                  quiet=True).stdout.strip()
    done = course.exec("jupyter", "python", "-c", KILL_LOOP.format(kills=KILLS), check=False, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("kill ")]
    for line in lines:
        log.say("   " + line)
    after = course.engine.docker("inspect", "-f", "{{.RestartCount}}", course.container("delivery-worker"),
                                 quiet=True).stdout.strip()
    cut = [line for line in lines if "runs" in line]
    if done.returncode != 0 or len(lines) != KILLS or any(not line.endswith("runs KILLED/SUCCESS") for line in cut):
        raise Failed("the kill loop failed:\n" + "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:]))
    same = sum(1 for line in lines if re.search(r"pid (\d+) -> \1,", line))
    log.say(f"{KILLS} kills ({len(cut)} of them during a task, each cut off and run again), each recognised by its "
            f"boot id ({same} of them with the same pid again); "
            f"Docker restarted the container {int(after) - int(before)} times")
    return same


WRONG_QUEUE = """
from kombu import Connection
from course_tasks import settings
with Connection(settings.rabbitmq_url()) as conn:
    conn.default_channel.queue_declare(settings.rabbitmq_queue(), durable=True, auto_delete=False)
print("declared without x-max-priority")
"""


def check_queue_mismatch(course, log):
    """A course.priority declared without x-max-priority: rabbit@course waits and says so (no restart loop), and
    starts once the queue is deleted."""
    course.run("stop", "rabbitmq-worker", timeout=120)
    course.run("exec", "-T", "rabbitmq", "rabbitmqctl", "delete_queue", "course.priority", timeout=120)
    course.exec("jupyter", "python", "-c", WRONG_QUEUE, timeout=120)
    container = course.container("rabbitmq-worker")
    before = course.engine.docker("inspect", "-f", "{{.RestartCount}}", container, quiet=True).stdout.strip()
    course.run("start", "rabbitmq-worker", timeout=120)
    said = wait_until("rabbit@course's message", lambda: "PRECONDITION_FAILED" in course.run(
        "logs", "--no-color", "rabbitmq-worker", quiet=True).stdout, 60, log)
    time.sleep(20)  # a worker that stops would have been started again by now (Docker's first delays: 0.1, 0.2 s ...)
    state = course.engine.docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", container,
                                 quiet=True).stdout.split()
    logs = course.run("logs", "--no-color", "rabbitmq-worker", quiet=True).stdout
    message = [line for line in logs.splitlines() if "cannot start" in line or "не может" in line]
    if state != ["running", before] or logs.count("PRECONDITION_FAILED") != 1 or not said:
        raise Failed(f"rabbitmq-worker with a wrong queue: state {state} (restarts before: {before}), "
                     f"{logs.count('PRECONDITION_FAILED')} PRECONDITION_FAILED lines")
    log.say(f"wrong queue: rabbitmq-worker running, not restarted, said once: {message[-1].split('|')[-1].strip()}")
    course.run("exec", "-T", "rabbitmq", "rabbitmqctl", "delete_queue", "course.priority", timeout=120)
    wait_until("rabbit@course after the queue was deleted",
               lambda: course.exec("jupyter", "python", "-m", "course_tasks", "check", "rabbitmq", check=False,
                                   quiet=True).returncode == 0, 90, log, every=2)
    log.say("queue deleted: rabbit@course declared it anew and answers")


# -- the whole run --------------------------------------------------------------------------------------------------

def choose_ports(base):
    names = ["jupyter", "flower", "redis", "amqp", "rabbitmq_ui"]
    if base:
        ports = {name: base + i for i, name in enumerate(names)}
        taken = [p for p in ports.values() if not port_free(p)]
        if taken:
            raise Failed(f"ports in use on 127.0.0.1: {taken}")
        return ports
    return {name: free_port() for name in names}


def lessons_of(selection, quick):
    if quick:
        return QUICK
    chosen = []
    for item in selection or ["en", "ru"]:
        lang, _, number = item.partition("/")
        if lang not in ("en", "ru"):
            raise SystemExit(f"not a lesson: {item} (en, ru, en/12, ru/08 ...)")
        numbers = [number] if number else sorted(p.name[:2] for p in (ROOT / "notebooks" / lang).glob("[0-9]*.ipynb"))
        chosen += [f"{lang}/{n}" for n in numbers]
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="en, ru, en/12 ... (default: every lesson in both languages)")
    parser.add_argument("--quick", action="store_true", help="en/00 01 07 08 10 12 13 and ru/12")
    parser.add_argument("--ports", type=int, metavar="BASE",
                        help="publish on BASE..BASE+4 (Jupyter, Flower, Redis, AMQP, management UI)")
    parser.add_argument("--work", help="the scratch folder (default: a new one in the system's temp folder)")
    args = parser.parse_args(argv)
    lessons = lessons_of(args.lessons, args.quick)

    work = Path(args.work or tempfile.mkdtemp(prefix="course-compose-"))
    work.mkdir(parents=True, exist_ok=True)
    log = Log(work)
    log.say(f"scratch folder and logs: {work}")
    engine, course, code, results = Engine(log), None, 0, {}
    uid, gid = (LEARNER_UID, LEARNER_UID) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    try:
        with log.step("engine"):
            engine.start()
            compose = engine.compose_command()
            log.say(f"compose: {' '.join(compose)} "
                    f"({run(log, [*compose, 'version', '--short'], env=engine.env, quiet=True).stdout.strip()})")
        with log.step("images"):
            images = ensure_images(engine, log, work)
        with log.step("scratch copy"):
            clone = scratch_copy(work, uid, gid)
            log.say(f"{clone}, owned by {uid}:{gid}")
        course = Course(engine, log, compose, clone, choose_ports(args.ports), images)
        with log.step("build"):
            network = ["--network", "host"] if engine.own else []
            engine.docker("build", *network, "--build-arg", f"PYTHON_IMAGE={images['COURSE_PYTHON_IMAGE']}",
                          "-t", COURSE_IMAGE, clone, timeout=1800)
            size = engine.docker("image", "inspect", "-f", "{{.Size}}", COURSE_IMAGE, quiet=True).stdout.strip()
            log.say(f"{COURSE_IMAGE}: {int(size) / 1e6:.0f} MB")
        with log.step("up"):
            course.run("up", "-d", "--no-build", timeout=600)
            roles = ["python", "-m", "course_tasks", "check", *ROLES]
            wait_until("every worker answering and celery beat running",
                       lambda: course.exec("jupyter", *roles, check=False, quiet=True).returncode == 0, 180, log,
                       every=2)
            log.say("every worker answers, celery beat runs: " + ", ".join(ROLES))
        with log.step("ports and token"):
            token = check_ports(course, log)
            check_token_kept(course, log, token)
        with log.step(f"lessons ({len(lessons)})"):
            results, pytest_code = run_lessons(course, log, lessons)
            failed = [name for name, outcomes in results.items() if set(outcomes) - {"PASSED", "SKIPPED"}]
            missing = [lesson for lesson in lessons if not any(name.startswith(lesson) for name in results)]
            if failed or missing or pytest_code != 0:
                raise Failed(f"lessons failed: {failed or '-'}; not run: {missing or '-'} (see {work}/lessons.log)")
        with log.step("owners"):
            check_owners(clone, uid, gid, log)
        with log.step(f"{KILLS} kills"):
            check_kills(course, log)
        with log.step("a queue declared otherwise"):
            check_queue_mismatch(course, log)
    except Skip as skip:
        log.say(f"SKIPPED: {skip}")
        code = SKIP
    except Failed as failure:
        log.say(f"FAILED: {failure}")
        code = 1
    except KeyboardInterrupt:
        log.say("interrupted")
        code = 130
    finally:
        if course is not None:
            code = teardown(course, log, work, code)
        try:
            engine.stop()
        except Exception as exc:  # noqa: BLE001 - say it, the run's result stands
            log.say(f"stopping dockerd: {exc!r}")
            code = code or 1
        if course is not None and code in (0, 1):
            shutil.rmtree(course.clone, ignore_errors=True)
    report(log, results, code, work)
    return code


def teardown(course, log, work, code):
    with log.step("down"):
        try:
            if code not in (0, SKIP):
                logs = course.run("logs", "--no-color", "--tail", "200", check=False, quiet=True)
                (work / "compose.log").write_text(logs.stdout + logs.stderr)
                log.say(f"the services' last log lines: {work}/compose.log")
            course.run("down", "-v", "--remove-orphans", "--timeout", "10", timeout=300)
            left = course.engine.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={course.project}",
                                        quiet=True).stdout.split()
            volumes = course.engine.docker("volume", "ls", "-q", "--filter",
                                           f"label=com.docker.compose.project={course.project}",
                                           quiet=True).stdout.split()
            networks = course.engine.docker("network", "ls", "-q", "--filter",
                                            f"label=com.docker.compose.project={course.project}",
                                            quiet=True).stdout.split()
            if left or volumes or networks:
                raise Failed(f"left after down: containers {left}, volumes {volumes}, networks {networks}")
            log.say(f"nothing of project {course.project} is left (containers, network, volume)")
        except Failed as failure:
            log.say(f"FAILED: {failure}")
            return code or 1
    return code


def report(log, results, code, work):
    lines = ["", "step times:"]
    lines += [f"  {name:<28} {seconds:7.1f} s  {'ok' if ok else 'FAILED'}" for name, seconds, ok in log.times]
    if results:
        lines.append("lessons (strict nbval in the jupyter container):")
        for name, outcomes in results.items():
            passed = outcomes.count("PASSED")
            lines.append(f"  {name:<45} {passed}/{len(outcomes)} cells passed")
    verdict = {0: "PASSED", SKIP: "SKIPPED", 130: "INTERRUPTED"}.get(code, "FAILED")
    lines.append(f"verify_compose: {verdict} (exit {code}); logs in {work}")
    for line in lines:
        log.say(line)
    (Path(work) / "summary.json").write_text(json.dumps(
        {"code": code, "steps": log.times, "lessons": results}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
