"""How the test run hands files to its test processes (conftest.py): notebooks only to the first two, never split,
longest first by the recorded durations; a process with nothing left that it may run is told to stop."""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Node:
    def __init__(self, name):
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down, self.sent = False, []

    def send_runtest_some(self, indices):
        self.sent.append(indices)

    def shutdown(self):
        self.shutting_down = True


@pytest.fixture
def hooks(pytestconfig):
    return pytestconfig.pluginmanager.get_plugin(str(ROOT / "conftest.py"))


def scheduler(hooks, tmp_path, monkeypatch, durations, nodes):
    pytest.importorskip("xdist")
    local = tmp_path / "durations.json"
    local.write_text(json.dumps(durations))
    monkeypatch.setattr(hooks, "DURATIONS", local)
    monkeypatch.setattr(hooks, "SEED_DURATIONS", tmp_path / "none.json")
    config = SimpleNamespace(getvalue=lambda name: ["popen"] * len(nodes) if name == "tx" else None,
                             option=SimpleNamespace(loadscopereorder=True), hook=None)
    sched = hooks.pytest_xdist_make_scheduler(SimpleNamespace(getvalue=lambda name: "loadfile"), None)
    sched.__init__(config, None)
    return sched


def test_notebooks_go_to_two_processes_longest_first_and_tests_to_the_others(hooks, tmp_path, monkeypatch):
    collection = ["notebooks/en/01.ipynb::Cell 0", "notebooks/en/01.ipynb::Cell 1", "notebooks/en/12.ipynb::Cell 0",
                  "notebooks/ru/12.ipynb::Cell 0", "tests/test_a.py::test_x", "tests/test_b.py::test_y",
                  "tests/test_b.py::test_z", "tests/test_c.py::test_new"]
    durations = {"notebooks/en/01.ipynb::Cell 0": 1, "notebooks/en/01.ipynb::Cell 1": 1,
                 "notebooks/en/12.ipynb::Cell 0": 20, "notebooks/ru/12.ipynb::Cell 0": 19,
                 "tests/test_a.py::test_x": 2, "tests/test_b.py::test_y": 30, "tests/test_b.py::test_z": 1}
    nodes = [Node(f"gw{n}") for n in range(4)]
    sched = scheduler(hooks, tmp_path, monkeypatch, durations, nodes)
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    given = {node.gateway.id: [collection[i] for batch in node.sent for i in batch] for node in nodes}
    # the two lesson processes: the two long notebooks first, then the short one (two pending items at least)
    assert given["gw0"][0] == "notebooks/en/12.ipynb::Cell 0" and given["gw1"][0] == "notebooks/ru/12.ipynb::Cell 0"
    assert given["gw2"] == ["tests/test_b.py::test_y", "tests/test_b.py::test_z"]  # the longest file, whole
    assert all(nodeid.startswith("tests/") for nodeid in given["gw2"] + given["gw3"])
    notebooks_given = [nodeid for name in ("gw0", "gw1") for nodeid in given[name] if nodeid.endswith(".ipynb")
                       or ".ipynb::" in nodeid]
    assert sorted(notebooks_given) == sorted(nodeid for nodeid in collection if ".ipynb::" in nodeid)
    everything = sorted(nodeid for ids in given.values() for nodeid in ids)
    assert everything == sorted(collection)  # each once


def test_every_lesson_and_test_file_has_a_seed_duration(hooks):
    """A fresh clone has no recorded durations: its first run orders the files by tests/test-durations.json. A file
    missing there costs 1 s per test (UNKNOWN_SECONDS) and goes out among the last, where a long one keeps one process
    busy while the other has nothing left (lessons 15-17 and tests/test_checkers_15_17.py were missing: ~40 s each on
    an idle machine, seeded as 8-10 s)."""
    seeds = json.loads(hooks.SEED_DURATIONS.read_text(encoding="utf-8"))
    files = {path.relative_to(ROOT).as_posix() for path in [*ROOT.glob("notebooks/*/[0-9]*.ipynb"),
                                                            *ROOT.glob("tests/test_*.py")]}
    assert sorted(files - set(seeds)) == [], "files with no seed duration: add their measured seconds"
    assert sorted(set(seeds) - files) == [], "seed durations of files that are gone"
