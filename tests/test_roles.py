"""The course's processes are one table (settings.roles()): every setup starts the same roles, each by the same
command, and check_setup() checks a worker by a ping and another kind of service (celery beat, say) by its presence
in the course's Redis (course_tasks/machinery/presence.py)."""
import pytest

from course_tasks import app, check_setup, settings
from course_tasks.errors import SetupError
from course_tasks.machinery import presence
from course_tasks.waiting import wait_until

BEAT = settings.Role("beat-test", "course_tasks", kind="beat", ready="beat: Starting...")


def test_every_role_runs_by_one_command_line_form():
    for role in settings.roles().values():
        assert role.argv()[:3] == ["-A", role.app, role.kind]
        assert role.label == (role.node or role.name)
    assert BEAT.argv() == ["-A", "course_tasks", "beat", "--loglevel", "INFO"]
    assert BEAT.command() == ["beat", "beat-test"]


def test_a_setup_starts_the_roles_of_its_brokers():
    assert settings.roles_to_start(rabbitmq=False) == list(settings.LOCAL_ROLES)
    lesson = {role.name for role in (*settings.LESSON_WORKERS, *settings.LESSON_SERVICES)}  # a lesson starts them
    assert set(settings.roles_to_start(rabbitmq=True)) == set(settings.roles()) - lesson


def test_a_service_that_is_not_a_worker_is_checked_by_its_presence(monkeypatch, capsys):
    monkeypatch.setattr(settings, "roles", lambda: {"beat-test": BEAT})
    monkeypatch.setenv("COURSE_LANG", "en")
    with pytest.raises(SetupError) as error:
        check_setup(roles=["beat-test"])
    assert "beat-test does not run" in str(error.value) and "python3 course.py beat beat-test" in str(error.value)
    stop = presence.keep_alive(app.backend.client, BEAT.name)
    try:
        assert wait_until(lambda: presence.alive(app.backend.client, BEAT.name), 2)
        check_setup(roles=["beat-test"])
        assert capsys.readouterr().out.splitlines()[-2:] == ["beat-test: runs", "Ready."]
    finally:
        stop.set()
        app.backend.client.delete(presence.KEY_PREFIX + BEAT.name)
