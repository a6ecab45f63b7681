"""Reading the lesson notebooks for the tests: pairs, code without comments, exercises and their solutions."""
import io
import json
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LANGS = ("en", "ru")
SOLUTION = re.compile(r"<details><summary>[^<]*</summary>\s*```python\n(.*?)```", re.DOTALL)
CHECK_CALL = re.compile(r"""check\(["'](\d\d\.\d+)["'], answer\)""")


def lesson_names(lang):
    return sorted(p.name for p in (NOTEBOOKS / lang).glob("*.ipynb"))


def cells(lang, name):
    return json.loads((NOTEBOOKS / lang / name).read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


def code_without_comments(text):
    """The code of a cell with comments and trailing blanks dropped (``!shell`` lines kept as they are)."""
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith(("!", "%")):
            lines.append(line.rstrip())
            continue
        lines.append(line)
    python = "\n".join(lines)
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(python + "\n").readline)
                  if t.type != tokenize.COMMENT]
        python = tokenize.untokenize(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return "\n".join(line.rstrip() for line in python.splitlines() if line.strip())


def exercises(lang, name):
    """``[(exercise id, solution code)]`` in the order of the lesson."""
    found, pending = [], None
    for cell in cells(lang, name):
        text = source(cell)
        if cell["cell_type"] == "code":
            match = CHECK_CALL.search(text)
            if match:
                pending = match.group(1)
        elif pending:
            solution = SOLUTION.search(text)
            if solution:
                found.append((pending, solution.group(1)))
                pending = None
    return found


def imports(lang, name):
    """Every import line of the lesson's code: what a solution may rely on."""
    lines = []
    for cell in cells(lang, name):
        if cell["cell_type"] == "code":
            lines += [ln for ln in source(cell).splitlines() if re.match(r"(import|from) \S", ln)]
    return "\n".join(lines)
