"""The GitHub Actions workflow that maintainers can copy runs exactly what .ci/run runs, with Redis and RabbitMQ."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "course.yml").read_text())


def test_runs_the_ci_script_with_both_brokers_as_services():
    (job,) = WORKFLOW["jobs"].values()
    assert {"redis", "rabbitmq"} <= set(job["services"])
    assert all(p.startswith("127.0.0.1:") for s in job["services"].values() for p in s["ports"])
    assert job["steps"][-1]["run"] == "bash .ci/run"
    assert "COURSE_REQUIRE_RABBITMQ=1" in (ROOT / ".ci" / "run").read_text()
    python = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] >= "3.11"
