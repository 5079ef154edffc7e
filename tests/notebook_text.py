r"""Read what a stored notebook says, so that tests compare its prose with the computation.

A number quoted in a notebook's markdown is read from the notebook here, never typed a
second time in a test: if the prose and the maths drift apart, the test fails.

    text = markdown("04")                                   # all markdown of notebook 04
    quoted(text, r"cosine ≈ ([\d.]+) with \*river\*")      # -> 0.99 (exactly one match)
    assert quoted(...) == round(computed, 2)
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MINUS = "\u2212"


def notebook_path(name):
    """The stored notebook whose file name starts with `name` ("04", "04_values", or a solutions path)."""
    path = ROOT / name if name.endswith(".ipynb") else None
    if path is not None and path.exists():
        return path
    (found,) = sorted(NOTEBOOKS.glob(f"{name}*.ipynb"))
    return found


@lru_cache(maxsize=None)
def load(name):
    """The notebook as a dict (nbformat JSON)."""
    return json.loads(notebook_path(name).read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def markdown(name, start=None, stop=None):
    """All markdown cells of notebook `name`, joined; from the heading `start` to `stop` if given."""
    text = "\n\n".join(source(c) for c in load(name)["cells"] if c["cell_type"] == "markdown")
    if start is not None:
        text = text[text.index(start):]
    if stop is not None:
        text = text[:text.index(stop)]
    return text


def outputs(name):
    """All text the notebook's code cells printed (streams joined, as nbval joins them)."""
    parts = []
    for cell in load(name)["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append("".join(out["text"]))
            elif "text/plain" in out.get("data", {}):
                parts.append("".join(out["data"]["text/plain"]) + "\n")
    return "".join(parts)


def number(text):
    """'0.99', '−0.28' (U+2212), '1,050,624', '45 %' -> float."""
    return float(text.replace(MINUS, "-").replace(",", "").replace("%", "").strip())


def quoted_all(text, pattern):
    """Every number the regex `pattern` (one capture group per number) finds in `text`."""
    found = re.findall(pattern, text)
    if not found:
        raise AssertionError(f"the notebook's text no longer says {pattern!r}")
    return [tuple(number(g) for g in m) if isinstance(m, tuple) else number(m) for m in found]


def quoted(text, pattern):
    """The one number (or tuple of numbers) that `pattern` finds in `text`: exactly one match."""
    found = quoted_all(text, pattern)
    if len(found) != 1:
        raise AssertionError(f"{pattern!r} matches {len(found)} times; make it name one place")
    return found[0]
