"""The course's processes are one table (settings.roles()): every setup starts the same roles, each by the same
command, and check_setup() checks a worker by a ping and another kind of service (celery beat, say) by its presence
in the course's Redis (course_tasks/machinery/presence.py)."""
import pytest

from course_tasks import app, check_setup, preflight, settings
from course_tasks.errors import SetupError
from course_tasks.machinery import presence
from course_tasks.waiting import wait_until

BEAT = settings.Role("beat-test", "course_tasks", kind="beat", ready="beat: Starting...")


def test_every_role_runs_by_one_command_line_form():
    for role in settings.roles().values():
        assert role.argv()[:3] == ["-A", role.app, role.kind]
        assert role.label == (role.node or f"celery {role.kind} ({role.name})")  # in every message alike
    assert BEAT.argv() == ["-A", "course_tasks", "beat", "--loglevel", "INFO"]
    assert BEAT.command() == ["beat", "beat-test"]


def test_the_course_beat_runs_in_every_setup_with_an_empty_schedule():
    """An always-running beat sends nothing: its runs would pile up in a queue nobody consumes during other lessons,
    or add tasks to a course worker's, and lesson 16's beats would see every run twice."""
    beat = settings.roles()["beat"]
    assert beat is settings.COURSE_BEAT and beat.kind == "beat" and beat.lesson is None
    assert "beat" in settings.LOCAL_ROLES and beat.ready == settings.BEAT_READY
    assert beat.argv()[-3:] == ["--scheduler", "celery.beat:Scheduler", "beat_schedule=(dict){}"]
    assert {role.name for role in settings.LESSON_SERVICES} == {"beat1", "beat2"}  # lesson 16's, by its notebook


def test_a_setup_starts_the_roles_of_its_brokers():
    assert settings.roles_to_start(rabbitmq=False) == list(settings.LOCAL_ROLES)
    lesson = {role.name for role in (*settings.LESSON_WORKERS, *settings.LESSON_SERVICES)}  # a lesson starts them
    assert set(settings.roles_to_start(rabbitmq=True)) == set(settings.roles()) - lesson


def test_a_service_that_is_not_a_worker_is_checked_by_its_presence(monkeypatch, capsys):
    monkeypatch.setattr(settings, "roles", lambda: {"beat-test": BEAT})
    monkeypatch.setenv("COURSE_LANG", "en")
    with pytest.raises(SetupError) as error:
        check_setup(roles=["beat-test"])
    assert "celery beat (beat-test) does not run" in str(error.value)
    assert "python3 course.py beat beat-test" in str(error.value)
    stop = presence.keep_alive(app.backend.client, BEAT.name)
    try:
        assert wait_until(lambda: presence.alive(app.backend.client, BEAT.name), 2)
        check_setup(roles=["beat-test"])
        assert capsys.readouterr().out.splitlines()[-2:] == ["celery beat (beat-test): runs", "Ready."]
    finally:
        stop.set()
        app.backend.client.delete(presence.KEY_PREFIX + BEAT.name)


@pytest.mark.parametrize("lang,says", [
    ("en", "celery beat (beat-test) does not run (nothing said so in the course's Redis"),
    ("ru", "celery beat (beat-test) не работает (в Redis курса"),
])
def test_a_service_the_supervisor_is_starting_again_is_said_so_not_to_be_started(monkeypatch, lang, says):
    monkeypatch.setattr(settings, "roles", lambda: {"beat-test": BEAT})
    monkeypatch.setattr(preflight, "restarting_nodes", lambda url: {BEAT.label})
    monkeypatch.setenv("COURSE_LANG", lang)
    with pytest.raises(SetupError) as error:
        check_setup(roles=["beat-test"])
    assert says in str(error.value), str(error.value)
    assert ("the course is starting it again" if lang == "en" else "курс запускает его снова") in str(error.value)
    assert "python3 course.py beat" not in str(error.value)
