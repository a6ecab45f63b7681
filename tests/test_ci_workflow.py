"""The GitHub Actions workflows: each one valid against GitHub's workflow schema, and course.yml runs what the
README says it runs: .ci/run with RabbitMQ on Linux (on the embedded server and on a real Redis), the test command
on macOS, the learner's command on Linux and macOS, x86_64 and ARM, and the wheel check.

tests/github_workflow.json is SchemaStore's github-workflow.json (https://json.schemastore.org/github-workflow.json,
Apache-2.0), as vendored in the check-jsonschema 0.39.0 wheel (check_jsonschema/builtin_schemas/vendor/
github-workflows.json, sha256 d10c9f46...c4f3).
"""
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))


class GitHubYaml(yaml.SafeLoader):
    """YAML as GitHub reads it (1.2): only true and false are booleans, so the key ``on`` stays "on"."""


GitHubYaml.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
GitHubYaml.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def load(path):
    return yaml.load(path.read_text(), Loader=GitHubYaml)


COURSE = load(ROOT / ".github" / "workflows" / "course.yml")
JOBS = COURSE["jobs"]


def runs(job):
    return [step["run"] for step in job["steps"] if "run" in step]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_valid_against_githubs_workflow_schema(path):
    schema = json.loads((Path(__file__).parent / "github_workflow.json").read_text())
    jsonschema.Draft7Validator(schema).validate(load(path))


def test_the_schema_catches_a_mistake():
    schema = json.loads((Path(__file__).parent / "github_workflow.json").read_text())
    broken = dict(COURSE, jobs={"lessons": dict(JOBS["lessons"], runs_on="ubuntu-latest")})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_lessons_on_linux_run_the_ci_script_with_rabbitmq_on_valkey_and_on_redis():
    job = JOBS["lessons"]
    assert "rabbitmq" in job["services"] and "redis" not in job["services"]  # the test run starts its own broker
    assert all(p.startswith("127.0.0.1:") for s in job["services"].values() for p in s["ports"])
    assert runs(job)[-1] == "bash .ci/run"
    assert "COURSE_REQUIRE_RABBITMQ=1" in (ROOT / ".ci" / "run").read_text()
    assert job["strategy"]["matrix"]["server"] == ["valkey", "redis"]
    assert any("COURSE_REDIS_SERVER=/usr/bin/redis-server" in run for run in runs(job))


def test_lessons_on_macos_run_the_readmes_test_command():
    job = JOBS["lessons-macos"]
    assert job["runs-on"].startswith("macos") and "services" not in job
    assert runs(job) == ["python3 course.py test"]


def test_the_learners_command_runs_on_linux_and_macos_x86_64_and_arm():
    job = JOBS["learner-command"]
    assert set(job["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "ubuntu-24.04-arm", "macos-latest",
                                                    "macos-15-intel"}
    assert runs(job) == ["python3 tools/open_lesson_00.py"]


def test_the_wheel_check_runs_for_every_python_the_course_supports():
    job = JOBS["wheels"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13", "3.14"]
    assert runs(job) == ["python3 tools/check_wheels.py --python-version ${{ matrix.python }}"]


@pytest.mark.parametrize("name", list(JOBS))
def test_every_job_has_a_time_limit_and_python_311(name):
    job = JOBS[name]
    assert 0 < job["timeout-minutes"] <= 40
    python = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
