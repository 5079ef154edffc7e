"""Every committed notebook is stored executed, in order, clean, and starts like the series does."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
LESSONS = sorted((ROOT / "notebooks").glob("0*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_the_series_has_its_lessons_in_order():
    assert [p.name[:2] for p in LESSONS] == ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_executed_in_order_without_errors(path):
    code = code_cells(load(path))
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "Restart & Run All, then save"
    for c in code:
        for out in c["outputs"]:
            assert out["output_type"] != "error", "".join(c["source"])[:80]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), out.get("text")
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert "Warning" not in text, text[:200]
            # no machine paths or memory addresses in what students read
            assert not re.search(r"/(work|tmp|root|home|Users)/[\w.-]+/", text), text[:200]
            assert not re.search(r" at 0x[0-9a-f]{6,}", text), text[:200]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_execution_timestamps_in_cell_metadata(path):
    """Timestamps would change with every run and make every re-execution a diff."""
    stamped = [i for i, c in enumerate(load(path)["cells"]) if "execution" in c.get("metadata", {})]
    assert stamped == [], "re-execute with --ExecutePreprocessor.record_timing=False (see README)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_matplotlib_magic_and_no_ipympl(path):
    """Live panels are helpers.panels' SVG views and static figures PNGs (plots.show), so no
    notebook picks a matplotlib backend, and no stored widget state holds an ipympl canvas."""
    nb = load(path)
    for c in code_cells(nb):
        text = "".join(c["source"])
        assert not re.search(r"^\s*%+matplotlib", text, re.M), text[:80]
        assert not re.search(r"\bipympl\b", text), text[:80]
    state = json.dumps(nb.get("metadata", {}).get("widgets", {}))
    assert "jupyter-matplotlib" not in state, "re-execute the notebook: its widget state has ipympl models"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_show_the_pipeline(path):
    sources = ["".join(c["source"]) for c in code_cells(load(path))]
    assert any("pipeline_diagram(" in s for s in sources)
    markdown = "".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    assert "## Summary" in markdown
