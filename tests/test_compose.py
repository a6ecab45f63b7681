"""docker-compose.yml for classrooms, checked without an engine: valid Compose, no fixed broker port on the host,
every published port on 127.0.0.1 and configurable, Jupyter with a kept token, services run as the learner, an
image without the learner's answers or the tests, and the very commands the local launcher runs.
tools/verify_compose.py runs it for real (tests/test_compose_live.py).

tests/compose_spec.json is the Compose Specification schema as shipped in the docker-compose 1.29.2 wheel
(compose/config/compose_spec.json, Apache-2.0).
"""
import fnmatch
import importlib.util
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from course_tasks.machinery.services import course_command
from course_tasks.settings import roles

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
BROKERS = yaml.safe_load((ROOT / "docker-compose.brokers.yml").read_text())
SERVICES = COMPOSE["services"]
COURSE = {name: s for name, s in SERVICES.items() if s.get("build")}
WORKERS = {name: s for name, s in COURSE.items() if s["command"][3] == "worker"}
# The host ports, their variables and their defaults, as the READMEs and the files' headers give them.
PORTS = {"COURSE_JUPYTER_PORT": "8888", "COURSE_FLOWER_PORT": "5555", "COURSE_REDIS_PORT": "6379",
         "COURSE_AMQP_PORT": "5672", "COURSE_RABBITMQ_UI_PORT": "15672"}


def _ports(compose):
    return [str(p) for s in compose["services"].values() for p in s.get("ports", [])]


@pytest.mark.parametrize("compose", [COMPOSE, BROKERS], ids=["docker-compose.yml", "docker-compose.brokers.yml"])
def test_valid_against_the_compose_specification(compose):
    schema = json.loads((Path(__file__).parent / "compose_spec.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(compose)


def test_brokers_are_not_published_by_default():
    """A Redis or RabbitMQ of the learner's own on 6379/5672 must not stop `docker compose up`."""
    assert "ports" not in SERVICES["redis"] and "ports" not in SERVICES["rabbitmq"]
    assert set(BROKERS["services"]) == {"redis", "rabbitmq"}


def test_every_host_port_is_loopback_and_a_variable_with_its_documented_default():
    found = {}
    for spec in _ports(COMPOSE) + _ports(BROKERS):
        match = re.fullmatch(r"127\.0\.0\.1:\$\{(COURSE_\w+_PORT):-(\d+)\}:(.+)", spec)
        assert match, spec
        found[match[1]] = match[2]
    assert found == PORTS
    for readme in ("README.md", "README.ru.md"):
        text = (ROOT / readme).read_text()
        for variable, default in PORTS.items():
            assert re.search(rf"{variable}\W+\(?{default}\b", text), (readme, variable)


def test_jupyter_and_flower_listen_inside_on_the_published_port():
    """So that the address Jupyter itself logs is the one to open, whatever port was chosen."""
    for name, variable in (("jupyter", "COURSE_JUPYTER_PORT"), ("flower", "COURSE_FLOWER_PORT")):
        (spec,) = SERVICES[name]["ports"]
        value = f"${{{variable}:-{PORTS[variable]}}}"
        assert spec == f"127.0.0.1:{value}:{value}"
        assert SERVICES[name]["environment"][variable] == value


def test_runs_the_launchers_commands():
    """The launcher starts `python -m course_tasks ...`; Compose runs the same, one service for each role."""
    # a lesson's own workers (lessons 19-20) run in the jupyter container, as children of the lesson's kernel
    expected = {tuple(role.command()) for role in roles().values() if role.lesson is None} | {("jupyter",), ("flower",)}
    ours = {tuple(s["command"][3:]) for s in COURSE.values()}
    assert ours == expected and len(ours) == len(COURSE)
    for s in COURSE.values():
        assert s["command"][:3] == ["python", "-m", "course_tasks"]
        assert s["command"][1:] == course_command(*s["command"][3:])[1:]


def test_everything_is_started_again_when_it_exits():
    """Like the launcher's supervisor: a worker shut down from a notebook (or killed) comes back; so do the brokers."""
    for name, s in SERVICES.items():
        assert s.get("restart") in ("always", "unless-stopped"), name


def test_workers_stop_as_the_launcher_stops_them_and_are_not_pid_1():
    for name, s in COURSE.items():
        assert s.get("init") is True, name  # a SIGKILLed worker dies (lesson 12); its children are reaped
    for name, s in WORKERS.items():
        assert s.get("stop_signal") == "SIGQUIT", name  # a cold shutdown, as services.Stack.start_workers


def test_one_celery_beat_stopped_as_the_launcher_stops_it():
    """The course's celery beat: one service, one replica (two beats send every run twice, lesson 16), stopped with
    SIGTERM as services.Stack stops it (beat saves its schedule and exits)."""
    beats = {name: s for name, s in COURSE.items() if s["command"][3] == "beat"}
    assert list(beats) == ["beat"] and beats["beat"]["command"][3:] == ["beat", "beat"]
    assert beats["beat"].get("stop_signal", "SIGTERM") == "SIGTERM"
    assert "scale" not in beats["beat"] and beats["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_services_and_environment():
    assert {"redis", "rabbitmq", "worker", "priority-worker", "rabbitmq-worker", "jupyter", "flower"} <= set(SERVICES)
    for name, s in COURSE.items():
        env = s["environment"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:"), name
        assert env["COURSE_RABBITMQ_URL"].startswith("amqp://"), name
        assert env["COURSE_UID"] == "${COURSE_UID:-}" and env["COURSE_GID"] == "${COURSE_GID:-}", name
        assert "redis" in s["depends_on"]
    assert "rabbitmq" in SERVICES["rabbitmq-worker"]["depends_on"]
    assert all("healthcheck" in SERVICES[b] for b in ("redis", "rabbitmq"))


def test_jupyter_keeps_its_token_in_a_volume():
    jupyter = SERVICES["jupyter"]
    text = json.dumps(jupyter)
    assert "token=''" not in text and 'token=""' not in text and "JUPYTER_TOKEN" not in jupyter["environment"]
    assert "--ServerApp.token" not in text
    token_file = jupyter["environment"]["COURSE_JUPYTER_TOKEN_FILE"]
    volume, folder = next(v.split(":") for v in jupyter["volumes"] if not v.startswith("."))
    assert volume in COMPOSE["volumes"] and token_file.startswith(folder + "/")


def test_learners_folders_are_in_a_clone_so_that_they_are_the_learners():
    """Docker would make a missing folder as root; a clone has both (docker/entrypoint.py runs as their owner)."""
    tracked = subprocess.run(["git", "ls-files", "my-notebooks", "notebooks/playground"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    assert tracked == ["my-notebooks/.gitkeep", "notebooks/playground/.gitkeep"]
    mounts = {v.split(":")[0] for s in COURSE.values() for v in s.get("volumes", []) if v.startswith(".")}
    assert mounts == {"./my-notebooks", "./notebooks/playground"}


def _in_image(path, patterns):
    """Whether .dockerignore lets ``path`` into the build context (last matching pattern wins; a pattern that
    matches a folder matches what is in it)."""
    parts = path.split("/")
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        if any(fnmatch.fnmatch("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)):
            included = negated
    return included


def test_image_gets_the_course_and_nothing_of_the_learners_or_the_tests():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    inside = ["requirements.txt", "course_tasks/__init__.py", "course_tasks/machinery/lab_settings/overrides.json",
              "notebooks/en/00_broker_worker_backend.ipynb", "notebooks/ru/12_acks_and_delivery.ipynb",
              "docker/entrypoint.py"]
    outside = ["my-notebooks/en/01_delay_and_apply_async.ipynb", "my-notebooks/.gitkeep",
               "notebooks/playground/my_tasks.py", "tests/test_compose.py", "tests/sanitize.cfg", ".course/run/x",
               ".venv/bin/python", ".git/HEAD", "_site/index.html", "benchmarks/floor.py", "tools/verify_compose.py",
               ".pytest_cache/v", "course_tasks/__pycache__/tasks.cpython-311.pyc", "docker-compose.yml",
               "notebooks/en/.ipynb_checkpoints/00-checkpoint.ipynb"]
    assert [p for p in inside if not _in_image(p, patterns)] == []
    assert [p for p in outside if _in_image(p, patterns)] == []


def test_image_installs_the_pinned_requirements_and_runs_the_entrypoint():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim\nFROM \$\{PYTHON_IMAGE\}$", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["python3", "/course/docker/entrypoint.py"]' in dockerfile
    assert COMPOSE["x-course"]["build"]["args"]["PYTHON_IMAGE"] == "${COURSE_PYTHON_IMAGE:-python:3.11-slim}"


def _entrypoint():
    spec = importlib.util.spec_from_file_location("course_entrypoint", ROOT / "docker" / "entrypoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_token_is_made_once_and_kept(tmp_path):
    entrypoint = _entrypoint()
    path = tmp_path / "home" / "jupyter-token"
    token = entrypoint.kept_token(path)
    assert re.fullmatch(r"[0-9a-f]{48}", token)
    assert entrypoint.kept_token(path) == token
    assert path.stat().st_mode & 0o777 == 0o600


def test_runs_as_the_uid_it_is_given(monkeypatch):
    entrypoint = _entrypoint()
    monkeypatch.setenv("COURSE_UID", "1234")
    monkeypatch.setenv("COURSE_GID", "")
    assert entrypoint.learner() == (1234, 1234)
    monkeypatch.setenv("COURSE_GID", "100")
    assert entrypoint.learner() == (1234, 100)
