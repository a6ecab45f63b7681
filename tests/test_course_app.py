"""The course's app and helpers: secure defaults, settings from the environment, the journal (live)."""
import os

import pytest
from kombu.exceptions import EncodeError

from course_tasks import add, app, divide, journal, settings


def test_json_only():
    assert app.conf.task_serializer == app.conf.result_serializer == "json"
    assert app.conf.accept_content == app.conf.result_accept_content == ["json"]
    with pytest.raises(EncodeError):
        add.delay({1, 2}, 3)


def test_settings_come_from_the_environment():
    assert app.conf.broker_write_url == os.environ["CELERY_BROKER_URL"]
    assert app.conf.result_backend == os.environ["CELERY_RESULT_BACKEND"]
    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["priority_steps"] == list(range(10))


def test_defaults_without_environment(monkeypatch):
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "COURSE_RABBITMQ_URL"):
        monkeypatch.delenv(name, raising=False)
    # this clone's own broker, on a Unix socket (tests/test_two_users.py: one per user of a machine)
    assert settings.broker_url() == settings.result_backend() == "redis+socket://" + settings.embedded_socket()
    assert settings.rabbitmq_url() == "amqp://guest:guest@127.0.0.1:5672//"
    assert settings.redacted("amqp://guest:secret@host:5672//") == "amqp://guest:**@host:5672//"


def test_the_test_run_has_a_redis_of_its_own():
    """Never the machine's Redis on 6379: the harness started one on a free port."""
    assert not os.environ["CELERY_BROKER_URL"].startswith("redis://127.0.0.1:6379")


def test_worker_roles_share_one_command_line_form():
    main = settings.worker_roles()["main"]
    assert main.argv()[:3] == ["-A", "course_tasks", "worker"]
    assert "--hostname" in main.argv() and main.node in main.argv()


def test_journal_records_what_ran_and_keeps_notebooks_apart():
    journal.clear()
    add.delay(2, 3).get(timeout=10)
    (entry,) = journal.entries()
    assert (entry["task"], entry["args"], entry["node"], entry["state"], entry["result"]) == (
        "add", [2, 3], "worker@course", "SUCCESS", "5")
    assert entry["finished"] >= entry["started"]

    assert journal.entries(key="another-kernel") == []  # another notebook's journal


def test_journal_records_failures():
    journal.clear()
    with pytest.raises(ZeroDivisionError):
        divide.delay(1, 0).get(timeout=10)
    (entry,) = journal.entries()
    assert entry["state"] == "FAILURE" and "ZeroDivisionError" in entry["result"]
    assert "failed: 1" in journal.summary()
