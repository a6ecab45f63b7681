"""docker-compose.yml for classrooms: valid Compose, loopback-only ports, Jupyter with a token, and the
very commands the local launcher runs (no Docker engine runs here, so it is checked, not started).

tests/compose_spec.json is the Compose Specification schema as shipped in the docker-compose 1.29.2 wheel
(compose/config/compose_spec.json, Apache-2.0).
"""
import json
from pathlib import Path

import jsonschema
import yaml

from course_tasks.machinery.services import course_command
from course_tasks.settings import roles

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_valid_against_the_compose_specification():
    schema = json.loads((Path(__file__).parent / "compose_spec.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(COMPOSE)


def test_every_port_is_bound_to_loopback():
    ports = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert ports
    assert all(str(p).startswith("127.0.0.1:") for p in ports), ports


def test_runs_the_launchers_commands():
    """The launcher starts `python -m course_tasks ...`; Compose runs the same, service for service."""
    expected = {tuple(role.command()) for role in roles().values()} | {("jupyter",), ("flower",)}
    ours = {tuple(s["command"][3:]) for s in SERVICES.values() if s.get("build")}
    assert ours == expected
    for s in SERVICES.values():
        if s.get("build"):
            assert s["command"][:3] == ["python", "-m", "course_tasks"]
            assert s["command"][1:] == course_command(*s["command"][3:])[1:]


def test_course_services_are_restarted_when_they_exit():
    """Like the launcher's supervisor: a worker shut down from a notebook (or killed) comes back."""
    for name, s in SERVICES.items():
        if s.get("build"):
            assert s.get("restart") in ("always", "unless-stopped"), name


def test_services_and_environment():
    assert {"redis", "rabbitmq", "worker", "priority-worker", "rabbitmq-worker", "jupyter", "flower"} <= set(SERVICES)
    for name, s in SERVICES.items():
        if s.get("build"):
            env = s["environment"]
            assert env["CELERY_BROKER_URL"].startswith("redis://redis:"), name
            assert env["COURSE_RABBITMQ_URL"].startswith("amqp://"), name
            assert "redis" in s["depends_on"]
    assert "rabbitmq" in SERVICES["rabbitmq-worker"]["depends_on"]
    assert all("healthcheck" in SERVICES[b] for b in ("redis", "rabbitmq"))


def test_jupyter_keeps_its_token():
    jupyter = SERVICES["jupyter"]
    text = json.dumps(jupyter)
    assert "token=''" not in text and 'token=""' not in text and "JUPYTER_TOKEN" not in jupyter["environment"]
    assert "--ServerApp.token" not in text


def test_image_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith(("#", "FROM"))
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
