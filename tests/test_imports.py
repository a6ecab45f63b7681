"""The imports of course_tasks run one way: no module imports, directly or through others, one that imports it.

Read statically (no import runs): every ``import`` and ``from ... import`` (at the top or inside a function),
every ``importlib.import_module``/``__import__`` of a literal name, and the two imports by a name known only when
they run, each declared below with what it can load. Plus the rules of the layers: machinery never imports a
learner's helper, and importing the course starts nothing.
"""
import ast
from pathlib import Path

from course_tasks import settings

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_tasks"

# The imports by a name known only when they run, and every module they can load.
DYNAMIC = {
    "course_tasks.apps": {role.app for role in settings.roles().values()},  # app_for(role): the role's app module
    "course_tasks.exercises": {f"course_tasks.exercises.{p.stem}" for p in (PACKAGE / "exercises").glob("lesson*.py")},
    "course_tasks.machinery.loading": set(),  # the learners' own modules of the playground, outside the package
}
# What the machinery may import from the package above it: the bottom layers and the app's configuration.
MACHINERY_MAY_IMPORT = {"course_tasks.settings", "course_tasks.i18n", "course_tasks.errors", "course_tasks.waiting",
                        "course_tasks.celeryconfig"}


def modules():
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name, path, known):
    """The modules of ``known`` that ``name`` imports, and the calls that import a name given at run time."""
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found, dynamic = set(), []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__"):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                level = len(arg.value) - len(arg.value.lstrip("."))
                names = [".".join(here[: len(here) - level + 1] + [arg.value.lstrip(".")]) if level else arg.value]
            else:
                dynamic.append(node.lineno)
        for target in names:
            while target and target not in known:
                target = target.rpartition(".")[0]
            # a module's own package (its __init__) is imported before it: not an edge of its own
            if target and target != name and not (name.startswith(target + ".")
                                                  and known[target].name == "__init__.py"):
                found.add(target)
    return found, dynamic


def graph():
    known = modules()
    edges, undeclared = {}, []
    for name, path in known.items():
        edges[name], dynamic = imports(name, path, known)
        if dynamic and name not in DYNAMIC:
            undeclared.append(f"{name}, line {dynamic[0]}")
        edges[name] |= {t for t in DYNAMIC.get(name, ()) if t in known and t != name
                        and not (name.startswith(t + ".") and known[t].name == "__init__.py")}
    return edges, undeclared


def cycles(edges):
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_module_of_the_course_imports_in_a_circle():
    edges, undeclared = graph()
    assert not undeclared, f"an import by a name known only at run time; declare what it loads in DYNAMIC: {undeclared}"
    assert cycles(edges) == []


def test_the_machinery_imports_no_learner_helper():
    edges, _ = graph()
    upward = sorted(f"{m} -> {t}" for m, targets in edges.items() if m.startswith("course_tasks.machinery")
                    for t in targets if not t.startswith("course_tasks.machinery") and t not in MACHINERY_MAY_IMPORT)
    assert upward == []


def test_importing_the_course_starts_nothing():
    """A module's top level calls nothing for its effect but registrations and the app's own set-up: starting the
    setup is check_setup()'s first step (machinery/autostart.py), never an import's side effect."""
    # messages; the app's plumbing. Not the playground's modules: only play@course's worker imports them (worker_init)
    allowed = {"register", "install", "config_from_object"}
    calls = []
    for name, path in modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                func = node.value.func
                if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) not in allowed:
                    calls.append(f"{name}: {ast.unparse(node.value)[:80]}")
    assert calls == []
