"""The course's helpers print the notebook's language: journal tables and summaries, the priority order,
timeline titles and ticks, setup messages, verdicts. No worker needed; Celery's names stay as they are."""
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import course_tasks
from course_tasks import i18n, priorities, timeline
from course_tasks.exercises import all_exercises
from course_tasks.i18n import number, register, say
from course_tasks.journal import summarize, table


def entry(task, process, started, finished, node="worker@course", state="SUCCESS", priority=None, args=(1,)):
    return {"id": f"{task}-{node}-{started}", "task": task, "args": list(args), "kwargs": {}, "node": node,
            "process": process, "priority": priority, "started": 100 + started, "finished": 100 + finished,
            "state": state, "result": "1" if state == "SUCCESS" else "ZeroDivisionError('division by zero')"}


ENTRIES = [entry("tp1", 0, 0.0, 0.25), entry("tp2", 1, 0.0, 0.25), entry("tp1", 0, 0.25, 0.5),
           entry("divide", 1, 0.3, 0.35, state="FAILURE")]


def test_summary_in_both_languages():
    assert summarize(ENTRIES, lang="en") == (
        "tasks run: 4 (divide x1, tp1 x2, tp2 x1)\n"
        "worker: worker@course; processes used: 2\n"
        "most at the same time: 2\n"
        "failed: 1")
    assert summarize(ENTRIES, lang="ru") == (
        "выполнено задач: 4 (divide ×1, tp1 ×2, tp2 ×1)\n"
        "воркер: worker@course; задействовано процессов: 2\n"
        "одновременно не больше: 2\n"
        "завершились с ошибкой: 1")
    several = ENTRIES[:1] + [entry("t1", 0, 0.0, 0.1, node="prio@course")]
    assert "воркеры: prio@course, worker@course;" in summarize(several, lang="ru")
    assert summarize([], lang="ru") == "(журнал пока пуст)"


def test_table_headers_in_both_languages_and_celery_states_unchanged():
    ru = table(ENTRIES, priority=True, timings=True, lang="ru").splitlines()
    assert ru[0].split() == ["№", "вызов", "воркер", "приоритет", "состояние", "результат", "старт", "длительность"]
    assert ru[1].split() == ["1", "tp1(1)", "worker@course", "None", "SUCCESS", "1", "0,0", "с", "0,2", "с"]
    assert "FAILURE" in ru[-1]
    en = table(ENTRIES, lang="en").splitlines()
    assert en[0].split() == ["#", "call", "worker", "state", "result"]
    assert table(ENTRIES, timings=True, lang="en").splitlines()[1].endswith("0.0 s  0.2 s")
    assert table([], lang="en") == "(nothing recorded yet)"


class FakeJournal:
    def __init__(self, entries):
        self._entries = entries

    def entries(self):
        return self._entries


class Sent:
    def __init__(self, task_id):
        self.id = task_id


def test_show_order_in_both_languages(capsys):
    runs = [entry("t3", 0, 0.0, 0.1, priority=9, args=()), entry("t1", 0, 0.1, 0.2, priority=0, args=())]
    sent = [Sent(runs[1]["id"]), Sent(runs[0]["id"])]
    priorities.show_order(sent, FakeJournal(runs), lang="ru")
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert lines == [["выполнена", "отправлена", "вызов", "приоритет"],
                     ["1", "2", "t3()", "9"], ["2", "1", "t1()", "0"]]


def test_show_order_header_in_english(capsys):
    priorities.show_order([], FakeJournal([]), lang="en")
    assert capsys.readouterr().out.split() == ["ran", "sent", "call", "priority"]


def test_timeline_titles_and_ticks_follow_the_language(monkeypatch):
    group = [entry("nap", p, 0.01 * p, 1.0 + 0.01 * p) for p in range(4)]
    for lang, titles, tick in (("ru", ["группа", "цепочка"], "0,5"), ("en", ["group", "chain"], "0.5")):
        monkeypatch.setenv("COURSE_LANG", lang)
        fig = timeline.compare(group=group, chain=group)
        assert [ax.get_title(loc="left") for ax in fig.axes] == titles
        assert fig.axes[-1].xaxis.get_major_formatter()(0.5, 0) == tick
    assert timeline.compare(titles={"mine": "my run"}, mine=group).axes[0].get_title(loc="left") == "my run"
    assert timeline.draw(group, title="own_words").axes[0].get_title(loc="left") == "own words"
    assert repr(timeline.compare(group=group, chain=group)) == "<Figure size 800x400 with 2 Axes>"


def test_numbers_get_a_decimal_comma_in_russian_only():
    assert number(1.5, "g", "ru") == "1,5" and number(1.5, "g", "en") == "1.5"
    assert number(0.25, ".2f", "ru") == "0,25" and number(4, "d", "ru") == "4"
    assert say("worker_down", "ru", nodes="worker@course", timeout=1.5, url="redis://127.0.0.1:6390/0",
               start="").startswith("Нет ответа за 1,5 с (брокер redis://127.0.0.1:6390/0) от воркеров: worker@course.")


def test_worker_down_is_grammatical_for_one_or_several_workers():
    for nodes in ("worker@course", "worker@course, prio@course"):
        en = say("worker_down", "en", nodes=nodes, timeout=1.5, url="redis://x", start="")
        assert en.startswith(f"No worker answered within 1.5 s (broker redis://x): {nodes}.")
        ru = say("worker_down", "ru", nodes=nodes, timeout=1.5, url="redis://x", start="")
        assert f"от воркеров: {nodes}." in ru and "Воркер worker@course, prio@course" not in ru


def test_register_checks_both_languages_and_duplicates():
    register({"test.label": {"en": "done: {n}", "ru": "готово: {n}"}})
    register({"test.label": {"en": "done: {n}", "ru": "готово: {n}"}})  # the same again: fine (a re-run)
    assert say("test.label", "ru", n=3) == "готово: 3"
    with pytest.raises(ValueError, match="no text in ru"):
        register({"test.english_only": {"en": "x"}})
    with pytest.raises(ValueError, match="already registered"):
        register({"test.label": {"en": "other", "ru": "другое"}})


def test_every_message_and_verdict_exists_in_both_languages():
    """Every module registers the messages it says: all of them imported, every message has both languages."""
    for module in pkgutil.walk_packages(course_tasks.__path__, "course_tasks."):
        if module.name not in ("course_tasks.__main__", "course_tasks.play"):  # a command line; play@course's app
            importlib.import_module(module.name)
    all_exercises()
    assert {"exercise.right", "exercise.04.1", "broker_down", "sup_back", "journal.empty"} <= set(i18n.MESSAGES)
    for key, texts in i18n.MESSAGES.items():
        assert set(texts) >= set(i18n.LANGUAGES), key
        assert all(texts[lang].strip() for lang in i18n.LANGUAGES), key


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_flower_that_is_gone_is_said_as_it_happened(monkeypatch, lang):
    """Lesson 17's Flower cells, when Flower no longer answers: a port nobody listens on refuses at once (not "did
    not answer within 5 s"); one that takes the connection and never answers times out; both say what to do."""
    import socket
    import time

    from course_tasks.errors import SetupError
    from course_tasks.machinery.lesson_flower import Flower
    from course_tasks.machinery.probes import free_port
    from course_tasks.monitoring import FlowerView

    monkeypatch.setenv("COURSE_LANG", lang)
    said = {}
    with socket.socket() as silent:  # listens (the kernel takes the connection) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        for kind, port in (("refused", free_port()), ("timed_out", silent.getsockname()[1])):
            view = FlowerView(Flower({"pid": 0, "port": port, "password": "x", "log": "flower.log"}))
            began = time.monotonic()
            with pytest.raises(SetupError) as caught:
                view.get("/api/workers", timeout=0.5)
            said[kind] = (str(caught.value), time.monotonic() - began)
    refused, took = said["refused"]
    refused_said = {"en": "the connection was refused at once", "ru": "в соединении сразу отказано"}[lang]
    assert took < 0.5 and refused_said in refused, refused  # at once: not after the 0.5 s the request may take
    timed_out, took = said["timed_out"]
    assert took >= 0.5 and {"en": "did not answer at", "ru": "не ответил по адресу"}[lang] in timed_out, timed_out
    for text in (refused, timed_out):
        assert "flower.log" in text and {"en": "Run the Setup cell again", "ru": "«Подготовка»"}[lang] in text, text


@pytest.mark.parametrize("folder, expected", [("ru", "ru"), ("en", "en")])
def test_a_notebook_folder_chooses_the_language(tmp_path, folder, expected):
    """What a kernel started in notebooks/ru prints, without COURSE_LANG."""
    (tmp_path / folder).mkdir()
    env = {k: v for k, v in os.environ.items() if k != "COURSE_LANG"}
    code = "from course_tasks.journal import summarize; print(summarize([]))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / folder, env={
        **env, "PYTHONPATH": str(Path(i18n.__file__).parents[1])}, capture_output=True, text=True,
        timeout=60, check=True).stdout.strip()
    assert out == {"ru": "(журнал пока пуст)", "en": "(nothing recorded yet)"}[expected]
