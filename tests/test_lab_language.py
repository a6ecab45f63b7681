"""The course's JupyterLab speaks the course's language (its menus in Russian when COURSE_LANG=ru or the locale is
Russian), has RISE, and leaves the learner's own JupyterLab settings alone: a real JupyterLab, asked over HTTP."""
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from course_tasks.__main__ import jupyter_argv
from course_tasks.machinery.services import free_port

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "course_tasks" / "machinery" / "lab_settings"
LOCALES = {"en": "en", "ru": "ru_RU"}


def app_settings_dir(argv):
    return Path(next(a.split("=", 1)[1] for a in argv if a.startswith("--LabApp.app_settings_dir=")))


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_the_language_picks_the_settings(lang):
    overrides = app_settings_dir(jupyter_argv(lang)) / "overrides.json"
    assert overrides.parent == SETTINGS / lang
    locale = json.loads(overrides.read_text())["@jupyterlab/translation-extension:plugin"]["locale"]
    assert locale == LOCALES[lang]


def test_both_languages_have_the_same_settings_but_the_locale():
    en, ru = (json.loads((SETTINGS / lang / "overrides.json").read_text()) for lang in ("en", "ru"))
    for settings in (en, ru):
        settings.pop("@jupyterlab/translation-extension:plugin")
    assert en == ru


def test_a_russian_locale_means_russian_menus(monkeypatch):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    monkeypatch.chdir(ROOT)
    assert app_settings_dir(jupyter_argv()) == SETTINGS / "ru"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert app_settings_dir(jupyter_argv()) == SETTINGS / "en"


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def lab_ru(tmp_path_factory):
    """The course's JupyterLab (``python -m course_tasks jupyter``'s command line) with COURSE_LANG=ru, on a port of its
    own, on one lesson; the learner's user settings in a folder of their own, to see they stay untouched."""
    tmp = tmp_path_factory.mktemp("lab")
    (tmp / "root" / "en").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "en" / "00_broker_worker_backend.ipynb", tmp / "root" / "en")
    user_settings = tmp / "user-settings"
    user_settings.mkdir()
    port, token = free_port(), "course-lab-language-test"
    env = dict(os.environ, COURSE_LANG="ru", JUPYTER_TOKEN=token,
               JUPYTERLAB_SETTINGS_DIR=str(user_settings), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    own = {"--ServerApp.root_dir": tmp / "root", "--LabApp.workspaces_dir": tmp / "workspaces",  # not the clone's
           "--ServerApp.port": port}
    argv = [f"{a.split('=')[0]}={own[a.split('=')[0]]}" if a.split("=")[0] in own else a for a in jupyter_argv("ru")]
    with open(tmp / "jupyter.log", "wb") as log:  # JupyterLab writes to its own copy of the file
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer: {(tmp / 'jupyter.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield base, token, user_settings
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_russian_is_the_default_language_and_its_pack_is_served(lab_ru):
    base, token, _ = lab_ru
    plugin = json.loads(_get(f"{base}/lab/api/settings/@jupyterlab/translation-extension:plugin?token={token}"))
    assert plugin["schema"]["properties"]["locale"]["default"] == "ru_RU"
    packs = json.loads(_get(f"{base}/lab/api/translations/?token={token}"))["data"]
    assert "ru_RU" in packs, "jupyterlab-language-pack-ru-RU is installed"
    strings = json.loads(_get(f"{base}/lab/api/translations/ru_RU?token={token}"))["data"]
    assert strings["jupyterlab"], "JupyterLab's own strings in Russian"


def test_rise_is_there(lab_ru):
    base, token, _ = lab_ru
    page = _get(f"{base}/lab/tree/en/00_broker_worker_backend.ipynb?token={token}")
    config = json.loads(page.split('id="jupyter-config-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    assert "jupyterlab-rise" in [e["name"] for e in config["federated_extensions"]]
    rise = json.loads(_get(f"{base}/lab/api/settings/jupyterlab-rise:plugin?token={token}"))
    assert rise["schema"]["properties"]["scroll"]["default"] is True
    slideshow = _get(f"{base}/rise/en/00_broker_worker_backend.ipynb?token={token}")
    assert "/static/rise/bundle.js" in slideshow


def test_the_learners_own_settings_are_untouched(lab_ru):
    _, _, user_settings = lab_ru
    assert not any(user_settings.rglob("*")), "the course writes nothing into the learner's JupyterLab settings"
