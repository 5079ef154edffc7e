"""Slides mode: every notebook (00-05 and the solutions) carries RISE slideshow metadata, so
jupyterlab-rise presents it as a talk, with an offline theme; jupyterlab-rise is a student
requirement, and jupyterlab-widgets is pinned to a version whose widgets load in the talk."""
import json
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def test_every_lesson_after_00_has_its_solutions():
    lessons = sorted(p.stem for p in NOTEBOOKS if not p.name.endswith("_solutions.ipynb"))
    solutions = sorted(p.stem.removesuffix("_solutions") for p in NOTEBOOKS if p.name.endswith("_solutions.ipynb"))
    assert lessons[0].startswith("00_") and len(lessons) >= 7
    assert solutions == lessons[1:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_valid_slide_type(path):
    for i, cell in enumerate(cells(path)):
        assert slide_type(cell) in SLIDE_TYPES, f"{path.name} cell {i}: {slide_type(cell)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_talk_starts_with_a_slide_holding_the_title(path):
    first = cells(path)[0]
    assert slide_type(first) == "slide"
    assert first["cell_type"] == "markdown" and "".join(first["source"]).startswith("# ")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_section_heading_starts_a_slide(path):
    """A '## ' heading opens its cell (a slide cannot start in the middle of a cell) and that
    cell is a slide or a subslide; '### ' headings may be anything."""
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        lines = "".join(cell["source"]).splitlines()
        for k, line in enumerate(lines):
            if line.startswith("## "):
                assert not any(l.strip() for l in lines[:k]), \
                    f"{path.name} cell {i}: {line!r} is not at the start of its cell"
                assert slide_type(cell) in {"slide", "subslide"}, f"{path.name} cell {i}: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_not_hidden_except_machine_details(path):
    """Skipped cells do not appear in the talk: only the version list of notebook 00 is skipped."""
    for i, cell in enumerate(cells(path)):
        if slide_type(cell) == "skip":
            assert "NBVAL_IGNORE_OUTPUT" in "".join(cell["source"]), f"{path.name} cell {i}"


def requirements():
    names = {}
    for raw in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            names[canonicalize_name(req.name)] = req.specifier
    return names


def test_jupyterlab_rise_is_a_student_requirement():
    names = requirements()
    assert "jupyterlab-rise" in names, "add jupyterlab-rise to requirements.txt (slides mode)"
    assert names["jupyterlab-rise"].contains("0.43.1"), names["jupyterlab-rise"]


def test_widgets_can_load_in_the_slideshow():
    """jupyterlab-widgets >= 3.0.11 needs @jupyterlab/console, which RISE's slideshow page
    does not share: no slider panel would render in slides (jupyterlab-contrib/rise#119).
    tests/browser/test_slides_in_browser.py drives the real thing."""
    spec = requirements().get("jupyterlab-widgets")
    assert spec is not None, "pin jupyterlab-widgets in requirements.txt (slides mode)"
    assert spec.contains("3.0.10") and not spec.contains("3.0.11"), spec


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_slides_use_an_offline_theme(path):
    """RISE's default reveal.js theme "simple" imports Google Fonts; "white" ships its fonts."""
    meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert meta.get("rise", {}).get("theme") == "white", f"{path.name}: metadata.rise.theme"
