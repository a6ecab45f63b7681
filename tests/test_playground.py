"""Lesson 10's machinery: the playground play@course imports, the %%playground magic, reload_worker (live),
and the journal's RETRY entries of lesson 11."""
import sys
import time

import pytest

from course_tasks import app, playground, settings, workers
from course_tasks.errors import SetupError
from course_tasks.machinery import loading


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty playground of its own; the modules it imported are forgotten afterwards."""
    monkeypatch.setattr(playground, "PLAYGROUND", tmp_path)
    monkeypatch.setattr(loading, "PLAYGROUND", tmp_path)
    monkeypatch.setattr(loading, "_loaded", {})
    monkeypatch.setattr(loading, "_errors", {})
    monkeypatch.setattr(loading, "_duplicates", {})
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    yield tmp_path
    playground.release()  # the magic held play@course for this process; later notebooks of this run need it
    for name in [m for m in sys.modules if m.startswith("pg_test_")]:
        del sys.modules[name]


def test_load_imports_every_module_and_reports_the_broken_one(folder):
    (folder / "pg_test_good.py").write_text(
        "from course_tasks import app\n\n@app.task(name='test.playground.good')\ndef good():\n    return 1\n")
    (folder / "pg_test_broken.py").write_text("def oops(:\n")
    loading.load(app)
    report = loading.report(app)
    assert report["modules"] == {"pg_test_good": ["test.playground.good"]}
    assert report["errors"] == {"pg_test_broken": {"kind": "error", "error": "SyntaxError: invalid syntax", "line": 1}}
    assert not (folder / "__pycache__").exists(), "a rewritten module must never be read from a stale .pyc"


def test_a_module_that_exits_raises_or_hangs_is_skipped_and_the_others_load(folder, monkeypatch, capsys):
    """os._exit(), sys.exit(), an exception or an endless loop at a module's top level: play@course lives on, skips
    that module with the line, and loads the others; reload_worker says it in the notebook's language."""
    monkeypatch.setattr(loading, "IMPORT_SECONDS", 0.5)
    (folder / "pg_test_a_exit.py").write_text("import os\n\nos._exit(3)\n")
    (folder / "pg_test_b_sysexit.py").write_text("import sys\nsys.exit(2)\n")
    (folder / "pg_test_c_hang.py").write_text("import time\nwhile True:\n    time.sleep(0.1)\n")
    (folder / "pg_test_d_raise.py").write_text("x = 1\nraise ValueError('nope')\n")
    (folder / "pg_test_e_good.py").write_text(
        "from course_tasks import app\n\n@app.task(name='test.playground.after')\ndef after():\n    return 1\n")
    started = time.monotonic()
    loading.load(app)
    assert time.monotonic() - started < 5
    report = loading.report(app)
    assert report["modules"] == {"pg_test_e_good": ["test.playground.after"]}
    errors = report["errors"]
    assert errors["pg_test_a_exit"] == {"kind": "exit", "error": "os._exit(3)", "code": 3, "line": 3}
    assert errors["pg_test_b_sysexit"] == {"kind": "exit", "error": "sys.exit(2)", "code": 2, "line": 2}
    assert errors["pg_test_c_hang"]["kind"] == "hang" and errors["pg_test_c_hang"]["line"] in (2, 3)
    assert errors["pg_test_d_raise"] == {"kind": "error", "error": "ValueError: nope", "line": 2}
    assert "pg_test_a_exit" not in sys.modules
    monkeypatch.setenv("COURSE_LANG", "en")
    lines = {module: workers._error_line(module, error) for module, error in errors.items()}
    assert lines["pg_test_a_exit"].startswith("  pg_test_a_exit.py was NOT loaded (line 3): it ends the process "
                                              "(os._exit(3)) when imported; play@course skipped it")
    assert "did not end within 0.5 s" in lines["pg_test_c_hang"]
    assert lines["pg_test_d_raise"] == "  pg_test_d_raise.py was NOT loaded (line 2): ValueError: nope"
    monkeypatch.setenv("COURSE_LANG", "ru")
    assert workers._error_line("pg_test_a_exit", errors["pg_test_a_exit"]).startswith(
        "  pg_test_a_exit.py НЕ загружен (строка 3): при импорте он завершает процесс (os._exit(3))")


def test_a_task_name_defined_twice_in_a_module_is_reported_with_its_line(folder, monkeypatch):
    """Celery keeps the first task registered under a name (exercise 10.2's trap): reload_worker says so."""
    (folder / "pg_test_twice.py").write_text(
        "from course_tasks import app\n\n\n@app.task(name='test.playground.twice')\ndef area(w, h):\n"
        "    return w + h\n\n\n@app.task(name='test.playground.twice')\ndef area(w, h):\n    return w * h\n")
    with pytest.warns(Warning, match="test.playground.twice"):  # the worker's log still shows Celery's warning
        loading.load(app)
    report = loading.report(app)
    assert report["duplicates"] == {"pg_test_twice": [{"name": "test.playground.twice", "line": 9}]}
    assert app.tasks["test.playground.twice"](3, 4) == 7  # the first definition, as the worker runs it
    monkeypatch.setenv("COURSE_LANG", "en")
    line = workers.say("reload_duplicate", module="pg_test_twice", line=9, task="test.playground.twice")
    assert "Celery keeps the FIRST task registered under a name" in line and "without -a" in line
    monkeypatch.setenv("COURSE_LANG", "ru")
    assert "ПЕРВУЮ" in workers.say("reload_duplicate", module="pg_test_twice", line=9, task="test.playground.twice")


def test_only_the_play_worker_imports_the_playground(tmp_path):
    """A notebook, check_setup() and reload_worker() import course_tasks.play for its app: a module of the
    playground that ends the process at import must not end theirs (it ran in every client before)."""
    import os
    import subprocess
    from pathlib import Path

    (tmp_path / "pg_exit.py").write_text("import os\nos._exit(3)\n")
    code = ("from course_tasks.apps import app_for; import course_tasks.play, sys; app_for('play').tasks; "
            "assert 'pg_exit' not in sys.modules; print('alive')")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COURSE_PLAYGROUND": str(tmp_path)})
    assert (done.returncode, done.stdout.strip()) == (0, "alive"), done.stderr


def test_the_magic_writes_and_appends_with_a_message_that_reads_the_same_everywhere(folder, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_LANG", "en")
    playground.playground_magic("pg_test_magic.py", "x = 1\n")
    playground.playground_magic("-a pg_test_magic.py", "\ny = 2\n")
    assert (folder / "pg_test_magic.py").read_text() == "x = 1\n\ny = 2\n"
    assert capsys.readouterr().out.splitlines() == [
        "pg_test_magic.py written to the folder play@course imports from (1 lines)",
        "2 lines appended to pg_test_magic.py",
    ]
    monkeypatch.setenv("COURSE_LANG", "ru")
    playground.playground_magic("pg_test_magic.py", "x = 1\n")
    assert "(строк: 1)" in capsys.readouterr().out


def test_reload_of_a_worker_that_is_not_there_says_so_within_seconds(monkeypatch):
    ghost = settings.Role("ghost", "course_tasks", "ghost@course", ("course.ghost",), 1)
    monkeypatch.setattr(workers.settings, "roles", lambda: {"ghost": ghost})
    monkeypatch.setenv("COURSE_LANG", "en")
    started = time.monotonic()
    with pytest.raises(SetupError) as error:
        workers.reload_worker("ghost")
    assert time.monotonic() - started < 5
    assert "ghost@course does not answer" in str(error.value)
    assert settings.redacted(app.conf.broker_write_url) in str(error.value)


def test_reload_worker_gives_a_new_worker_process(capsys, monkeypatch):
    """The worker is asked to shut down; the supervisor of the live setup starts it again."""
    monkeypatch.setenv("COURSE_LANG", "en")
    node = settings.worker_roles()["play"].node
    before = workers.worker_info(node)
    assert before is not None, f"{node} is not running"
    workers.reload_worker("play")
    after = workers.worker_info(node)
    assert after is not None and after["boot"] != before["boot"]
    assert capsys.readouterr().out.startswith(f"{node} restarted")


def test_reload_worker_stops_a_task_that_does_not_end_and_says_so(capsys, monkeypatch):
    """A warm shutdown waits for the running task: one that never ends must not keep reload_worker (bound 30 s)
    waiting. It is stopped after WARM_SECONDS (revoke with terminate), and play@course answers again."""
    from course_tasks.tasks import nap

    monkeypatch.setenv("COURSE_LANG", "en")
    node = settings.worker_roles()["play"].node
    endless = nap.apply_async((3600,), queue=settings.PLAY_QUEUE)
    assert workers.wait_until(lambda: workers._running(app, node), 20), "the task did not start"
    started = time.monotonic()
    workers.reload_worker("play")
    assert time.monotonic() - started < workers.RELOAD_TIMEOUT
    out = capsys.readouterr().out
    assert f"{node} is running course_tasks.tasks.nap[{endless.id}]" in out
    assert f"course_tasks.tasks.nap[{endless.id}] did not finish within" in out
    assert f"{node} restarted" in out
    assert endless.state == "REVOKED"
    assert nap.apply_async((0,), queue=settings.PLAY_QUEUE).get(timeout=10) == 0  # it answers again, at once


def test_the_journal_records_a_retried_attempt_as_retry_with_its_cause():
    from course_tasks import journal
    from course_tasks.retrying import fetch

    journal.clear()
    result = fetch.delay(1)
    assert result.get(timeout=10) == {"calls": 2, "retries": 1}
    entries = [e for e in journal.entries() if e["id"] == result.id]
    assert [e["state"] for e in entries] == ["RETRY", "SUCCESS"]
    assert entries[0]["result"] == "ConnectionError('flaky_service #1')"


def test_the_playground_is_one_notebooks_until_its_kernel_is_killed():
    """%%playground holds play@course for its notebook (lesson 10's twins must not rewrite and restart it under
    each other): another process waits meanwhile; once the holder is killed, as nbval and Jupyter stop a
    kernel, the next one takes play@course at once, not only when the hold's key expires."""
    import subprocess
    from pathlib import Path

    from course_tasks import exclusive
    from course_tasks.exclusive import KEY_PREFIX, TTL_MS

    code = ("from course_tasks import playground; playground.hold(); print('held', flush=True); "
            "import time; time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[1],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        node = settings.worker_roles()["play"].node
        assert app.backend.client.exists(KEY_PREFIX + node)
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()
    started = time.monotonic()
    with exclusive("play"):
        pass
    assert time.monotonic() - started < TTL_MS / 1000 / 2


def test_exercise_10_3_says_when_the_module_defines_the_task_twice(tmp_path, monkeypatch):
    """A wrong play.where, then a fixed one appended below it: the worker keeps running the first, and the checker
    says why instead of a plain "not yet" (the learner review's trap)."""
    from course_tasks.exercises import lesson10

    monkeypatch.setattr(lesson10, "PLAYGROUND", tmp_path)
    (tmp_path / "where.py").write_text(
        "from course_tasks import app\n\n@app.task(name='play.where', bind=True)\ndef where(self):\n"
        "    return 'somewhere'\n\n@app.task(name=\"play.where\", bind=True)\ndef where(self):\n"
        "    return self.request.hostname\n")
    (tmp_path / "other.py").write_text("@app.task(name='play.where_else')\ndef f():\n    pass\n")
    assert lesson10._defined_twice("play.where") == ("where.py", 2)
    assert lesson10._defined_twice("play.area") is None
    monkeypatch.setenv("COURSE_LANG", "en")
    note = lesson10.say("exercise.10.twice", module="where.py", task="play.where", count=2)
    assert "Celery keeps the FIRST task registered under a name" in note and "without -a" in note
    monkeypatch.setenv("COURSE_LANG", "ru")
    assert "без -a" in lesson10.say("exercise.10.twice", module="where.py", task="play.where", count=2)
