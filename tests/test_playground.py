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
    assert report["errors"] == {"pg_test_broken": "SyntaxError: invalid syntax"}
    assert not (folder / "__pycache__").exists(), "a rewritten module must never be read from a stale .pyc"


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
