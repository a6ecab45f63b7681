"""docker-compose.yml run for real, by tools/verify_compose.py: a few minutes and a container engine, so not part of
every run. `COURSE_VERIFY_COMPOSE=1 python3 course.py test tests/test_compose_live.py` runs it (every lesson in
both languages; COURSE_VERIFY_COMPOSE=quick: eight of them); where no engine can start, it skips with the reason
the script gives."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "verify_compose.py"
WANTED = os.environ.get("COURSE_VERIFY_COMPOSE", "")


def _verify(*args, env=None, timeout=3600):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.mark.skipif(WANTED not in ("1", "quick"), reason="the compose run takes minutes and an engine: "
                    "COURSE_VERIFY_COMPOSE=1 (or quick) runs it")
def test_the_course_runs_under_compose(tmp_path):
    done = _verify(*(["--quick"] if WANTED == "quick" else []), "--work", str(tmp_path))
    last = (done.stdout.strip().splitlines() or [""])
    if done.returncode == 77:
        pytest.skip(next((line for line in last if "SKIPPED:" in line), last[-1]).split("SKIPPED: ", 1)[-1])
    assert done.returncode == 0, "\n".join(last[-40:])


def test_without_an_engine_it_says_why_and_exits_77(tmp_path):
    """No docker command at all: exit 77 and the reason, at once (nothing started, nothing left)."""
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    done = _verify("--work", str(tmp_path / "work"), env=env, timeout=60)
    assert done.returncode == 77, done.stdout + done.stderr
    assert "SKIPPED: no docker command here" in done.stdout
