"""The pipeline diagram at the top of every notebook (helpers.plots.pipeline_diagram).

- Each head runs the whole chain (Q/K/V → MatMul → Scale → Mask → SoftMax → MatMul with V),
  drawn as stacked copies of one panel, and only then come Concat and Linear W_o
  (the paper's Figure 2), not "several heads" as a step after the chain.
- Each notebook highlights the steps that 00's map of the series says it teaches: the
  highlight list is read from the notebook's own call, the steps from 00's table.
- It fits a 7.0 in column at 100 dpi, with text of 11 pt or more inside its boxes.
- Later lessons can add steps before and after it by passing a longer list of steps.
"""
import ast
import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import plots  # noqa: E402
from helpers.plots import PIPELINE_STEPS, PipelineStep  # noqa: E402
from notebook_text import load, markdown, source  # noqa: E402

NOTEBOOKS = ("00", "01", "02", "03", "04", "05")
CHAIN = ["qkv", "matmul", "scale", "mask", "softmax", "weighted"]


def highlight_of(name):
    """The `highlight=` list of the notebook's pipeline_diagram(...) call (() when it has none)."""
    calls = []
    for cell in load(name)["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(source(cell))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "pipeline_diagram":
                calls.append(node)
    assert len(calls) == 1, f"notebook {name} draws the pipeline {len(calls)} times"
    (call,) = calls
    kwargs = {k.arg: k.value for k in call.keywords}  # steps= may name a lesson's list: not a literal
    return tuple(ast.literal_eval(kwargs["highlight"])) if "highlight" in kwargs else ()


def map_steps(name):
    """The 'steps' column of 00's map of the series for notebook `name`, as a list of names."""
    table = markdown("00", "## The map of the series")
    (row,) = [line for line in table.splitlines() if line.startswith(f"| **{name} ")]
    return [step.strip() for step in row.strip("|").split("|")[-1].split(",")]


def drawn(fig):
    """{gid: (text artists, box patches)} of a drawn pipeline figure."""
    parts = {}
    ax = fig.axes[0]
    for t in ax.texts:
        parts.setdefault(t.get_gid(), ([], []))[0].append(t)
    for p in ax.patches:
        parts.setdefault(p.get_gid(), ([], []))[1].append(p)
    return parts


def highlighted_texts(fig):
    """The texts drawn in bold: the highlighted steps (boxes and the heads' caption)."""
    return [t.get_text() for t in fig.axes[0].texts
            if t.get_fontweight() == "bold" and t.get_gid() not in (None, "legend")]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ------------------------------------------------------------ the structure


def flow_keys(boxes):
    return [b.key for b in boxes if b.key != plots.HEADS]


def test_the_heads_run_the_whole_chain_in_parallel_then_concat_then_w_o():
    boxes = plots.pipeline_layout()
    assert flow_keys(boxes) == ["embed", *CHAIN, "concat", "project"]
    panels = [b for b in boxes if b.key == plots.HEADS]
    assert sorted(b.copy for b in panels) == [0, 1, 2]  # three copies of one panel
    front = next(b for b in panels if b.copy == 0)
    for back in (b for b in panels if b.copy):  # offset copies behind it, same size
        assert (back.w, back.h) == (front.w, front.h)
        assert back.x > front.x and back.y > front.y
    by_key = {b.key: b for b in boxes if b.key != plots.HEADS}
    for key in CHAIN:  # every step of the chain inside the front copy, on one row
        b = by_key[key]
        assert front.x < b.x and b.x + b.w < front.x + front.w
        assert front.y < b.y and b.y + b.h < front.y + front.h
        assert b.row == by_key["qkv"].row
    for key in ("embed", "concat", "project"):  # once, outside every copy
        b = by_key[key]
        assert b.y > front.y + front.h or b.y + b.h < front.y
    assert by_key["concat"].row == by_key["project"].row > by_key["weighted"].row > by_key["embed"].row


def test_the_figure_draws_the_copies_and_each_step_once():
    fig = plots.pipeline_diagram()
    parts = drawn(fig)
    assert sorted(g for g in parts if g and g.startswith("heads:")) == ["heads:0", "heads:1", "heads:2"]
    for step in PIPELINE_STEPS:
        texts, patches = parts[step.key]
        assert [t.get_text() for t in texts] == [step.text] and len(patches) == 1
    assert not any("several" in t.get_text() for t in fig.axes[0].texts)
    caption = parts["heads"][0][0].get_text()
    assert "heads in parallel" in caption


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_the_number_of_copies_follows_heads(heads):
    fig = plots.pipeline_diagram(heads=heads)
    assert sum(1 for p in fig.axes[0].patches if str(p.get_gid()).startswith("heads:")) == heads


# ------------------------------------------------------------ you are here


@pytest.mark.parametrize("name", NOTEBOOKS[1:])
def test_each_notebook_highlights_the_steps_the_map_gives_it(name):
    """The bold boxes of the notebook's diagram are the steps of its row in 00's map."""
    fig = plots.pipeline_diagram(highlight=highlight_of(name))
    bold = highlighted_texts(fig)
    assert bold
    names = map_steps(name)
    for step in names:  # every step the map names is highlighted ...
        assert any(step in text for text in bold), f"{name}: {step!r} not highlighted in {bold}"
    for text in bold:  # ... and nothing else is
        assert any(step in text for step in names), f"{name}: {text!r} highlighted, the map says {names}"
    assert any(t.get_text() == "you are here: highlighted" for t in fig.axes[0].texts)


def test_start_here_highlights_nothing_and_the_lessons_cover_every_step():
    assert highlight_of("00") == ()
    assert highlighted_texts(plots.pipeline_diagram()) == []
    taught = {key for name in NOTEBOOKS[1:] for key in highlight_of(name)}
    assert taught == {s.key for s in PIPELINE_STEPS} | {plots.HEADS}


def test_highlighted_boxes_are_coloured():
    fig = plots.pipeline_diagram(highlight=["mask", "heads"])
    parts = drawn(fig)
    yellow = matplotlib.colors.to_rgba(plots.HIGHLIGHT_COLOR)
    for step in PIPELINE_STEPS:
        (patch,) = parts[step.key][1]
        assert (patch.get_facecolor() == yellow) == (step.key == "mask"), step.key
    for copy in range(3):  # the whole stack is tinted when "heads" is highlighted
        (panel,) = parts[f"heads:{copy}"][1]
        assert panel.get_facecolor() != matplotlib.colors.to_rgba("white")


def test_an_unknown_step_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown pipeline step\(s\) \['several'\]; choose from"):
        plots.pipeline_diagram(highlight=["several"])


# ------------------------------------------------------------ readable


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_it_fits_a_700_px_column_with_text_of_11_pt_inside_its_boxes(name):
    fig = plots.pipeline_diagram(highlight=highlight_of(name))
    assert fig.get_size_inches()[0] <= 7.0 and fig.dpi == 100
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")  # as plots.show saves it
    assert Image.open(buf).size[0] <= 700
    renderer = fig.canvas.get_renderer()
    parts = drawn(fig)
    for t in fig.axes[0].texts:
        if not t.get_text():  # the arrows (annotations without text)
            continue
        assert t.get_fontsize() >= 11, t.get_text()
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0 and box.y1 <= fig.bbox.height
        patches = parts[t.get_gid()][1]
        if len(patches) == 1:  # a step's text lies inside its box
            frame = patches[0].get_window_extent(renderer)
            assert frame.x0 < box.x0 and box.x1 < frame.x1, t.get_text()
            assert frame.y0 < box.y0 and box.y1 < frame.y1, t.get_text()


# ------------------------------------------------------------ later lessons


def test_later_lessons_can_add_steps_before_and_after_the_heads():
    before = (PipelineStep("words", "Word vectors"), PipelineStep("positions", "+ positions"))
    after = (PipelineStep("addnorm", "Add & Norm"), PipelineStep("ffn", "Feed-forward"))
    steps = (*before, *PIPELINE_STEPS, *after)
    boxes = plots.pipeline_layout(steps, highlight=["positions", "ffn"])
    assert flow_keys(boxes) == [s.key for s in steps]
    rows = {b.key: b.row for b in boxes if b.key != plots.HEADS}
    assert rows["words"] == rows["positions"] < rows["qkv"] < rows["concat"] <= rows["ffn"]
    assert {b.key for b in boxes if b.highlighted} == {"positions", "ffn"}
    fig = plots.pipeline_diagram(highlight=["ffn"], steps=steps)
    assert fig.get_size_inches()[0] <= 7.0
    assert set(highlighted_texts(fig)) == {"Feed-forward"}
    right = max(b.x + b.w for b in boxes)
    assert right <= 7.0 and min(b.x for b in boxes) >= 0
    assert np.isfinite([b.y for b in boxes]).all() and min(b.y for b in boxes) >= 0


# ------------------------------------------------------------ notebook 07: the whole block


def test_the_whole_block_fits_and_07_highlights_what_the_map_gives_it():
    """07 draws the series' steps plus BLOCK_STEPS (Add & Norm, feed-forward, Add & Norm) after W_o;
    its bold boxes are the steps of its row in 00's map, and the diagram still fits 700 px."""
    from helpers.lessons import transformer_block

    steps = transformer_block.PIPELINE
    assert steps[:len(PIPELINE_STEPS)] == PIPELINE_STEPS and steps[len(PIPELINE_STEPS):] == plots.BLOCK_STEPS
    highlight = highlight_of("07")
    assert set(highlight) == {s.key for s in plots.BLOCK_STEPS}
    boxes = plots.pipeline_layout(steps, highlight=highlight)
    assert flow_keys(boxes) == [s.key for s in steps]
    rows = {b.key: b.row for b in boxes if b.key != plots.HEADS}
    assert rows["project"] <= rows["addnorm_1"] <= rows["ffn"] <= rows["addnorm_2"]
    fig = plots.pipeline_diagram(highlight=highlight, steps=steps)
    bold = highlighted_texts(fig)
    names = map_steps("07")
    assert all(any(step in text for text in bold) for step in names), (names, bold)
    assert all(any(step in text for step in names) for text in bold), (names, bold)
    assert fig.get_size_inches()[0] <= 7.0
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    assert Image.open(buf).size[0] <= 700
    assert min(t.get_fontsize() for t in fig.axes[0].texts if t.get_text()) >= 11
