"""The slide type of every cell of a lesson (``metadata.slideshow.slide_type``), as RISE and ``course.py slides``
use it.

The rule, for a pair of lessons (English and Russian twins get the same types):

- ``slide``: the title cell, and every Markdown cell that opens a section (``## ...``): Setup, each topic, Summary,
  Exercises. Left and right on the projector are the sections of the lesson.
- ``subslide``: every other Markdown cell (a step of the story: prose, the next exercise with the previous one's
  collapsed solution, the key points). Up and down are the steps of a section.
- ``-`` (on the slide above): a code cell, when it fits on that slide together with what is already there;
  else ``subslide``: the code and its output get a slide of their own. "Fits" is :func:`height` of the cells
  added up (the taller of the two languages), at most :data:`BUDGET`: the 720-pixel-high slide of
  ``course.py slides`` (1280x720, 22 px text, 19 px code), less a margin. A collapsed ``<details>`` solution counts
  as its one summary line: a solution stays collapsed until clicked.
- ``skip``: an empty cell. No lesson cell is ``notes`` or ``fragment``: what the instructor says is in the
  instructor notes, and a step appears whole.

A cell taller than a slide by itself (a long paragraph, a tall picture) still gets its type by the rule; the slide
scrolls (``course.py slides``; RISE with the course's settings).
"""
import base64
import math
import re
import struct

BUDGET = 650  # pixels of the 720 of a slide
PROSE_CHARS, PROSE_LINE = 90, 32  # a prose line wraps at about 90 characters, 32 px each
CODE_CHARS, CODE_LINE = 100, 26  # code and output lines
IMAGE_MAX = 470  # the tallest a picture is shown (it is scaled down to fit)


def text(cell):
    return "".join(cell["source"])


def _png_size(data):
    width, height = struct.unpack(">II", base64.b64decode(data[:100])[16:24])
    return width, height


def _lines(text_, chars):
    return sum(math.ceil(max(1, len(line)) / chars) for line in text_.rstrip("\n").split("\n"))


def height(cell):
    """About how many pixels ``cell`` takes on a slide (within some 25 px for most cells, measured in Chromium)."""
    source = text(cell)
    if cell["cell_type"] == "markdown":
        source = re.sub(r"<details><summary>(.*?)</summary>.*?</details>", r"\1", source, flags=re.DOTALL)
        pixels, fenced = 10, False
        for line in source.split("\n"):
            if line.startswith("```"):
                fenced, pixels = not fenced, pixels + 8
            elif fenced:
                pixels += 21
            elif not line.strip():
                pixels += 10
            elif line.startswith("# "):
                pixels += 70 * math.ceil(len(line) / 45)
            elif line.startswith("## "):
                pixels += 55 * math.ceil(len(line) / 60)
            elif line.startswith("### "):
                pixels += 45
            else:
                pixels += PROSE_LINE * math.ceil(len(line) / PROSE_CHARS)
        return pixels
    pixels = 20 + CODE_LINE * _lines(source, CODE_CHARS)
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            width, tall = _png_size(data["image/png"])
            pixels += 10 + min(IMAGE_MAX, tall * min(1, 1240 / width))
            continue
        if output["output_type"] == "stream":
            shown = "".join(output["text"])
        elif output["output_type"] == "error":
            shown = "\n".join(output["traceback"])
        else:
            shown = "".join(data.get("text/plain", ""))
        pixels += 10 + CODE_LINE * _lines(shown, CODE_CHARS)
    return pixels


def slide_types(*twins):
    """The slide type of each cell of a lesson, given its cells in each language (the same cells in each)."""
    types, used = [], 0
    for i, cells in enumerate(zip(*twins)):
        first = cells[0]
        tall = max(height(c) for c in cells)
        if not text(first).strip():
            types.append("skip")
            continue
        if first["cell_type"] == "markdown":
            types.append("slide" if i == 0 or text(first).startswith("## ") else "subslide")
            used = tall
        elif used and used + tall <= BUDGET:
            types.append("-")
            used += tall
        else:
            types.append("subslide")
            used = tall
    return types


def stored_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
