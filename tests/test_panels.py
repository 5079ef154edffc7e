"""The generic live-panel layer (helpers.panels): scenes, patches, the view, the panel.

Driven as a notebook drives it: controls' values are set, then what the browser
would show (the scene after the patches the view sent) is compared with the scene
drawn from scratch.
"""

import re

import ipywidgets as W
import numpy as np
import pytest

from helpers.panels import LivePanel, Scene, apply_patch, dropdown, int_slider, slider, text_box, toggle
from helpers.panels.pieces import MIN_FONT_PX
from helpers.panels.pieces.bars import bars
from helpers.panels.pieces.heatmap import colourbar, heatmap
from helpers.panels.pieces.wordmap import WordMap
from helpers.panels.scene import number
from helpers import plots

WORDS = ["Tom", "is", "going", "to", "fish", "at", "the", "river", "bank"]


def weights(t):
    w = np.exp(np.random.default_rng(0).normal(size=(9, 9)) * t)
    return w / w.sum(axis=1, keepdims=True)


def draw(t, heads=1):
    scene = Scene()
    for h in range(3):
        heatmap(scene, f"h{h}", weights(t + h), WORDS, WORDS, title=f"head {h}", shown=h < heads)
    colourbar(scene, scene.tiles[0][1])
    bars(scene, "b", weights(t)[8], WORDS, colours=[plots.word_color(w) for w in WORDS], rotate=60,
         numbers="{:.2f}", title=f"bank at {t:.2f}")
    if t > 2.5:
        raise ValueError("t above 2.5 is not allowed")
    return scene, f"t = {t:.2f}"


class FakeFront:
    """What the browser's view does with the messages the SvgView sends (svg_view.js, in Python)."""

    def __init__(self, view):
        self.keyed, self.rev = view.scene.keyed(), view.rev
        view.send = self.receive

    def receive(self, content, buffers=None):
        assert content["rev"] == self.rev
        self.keyed = apply_patch(self.keyed, content)


def make_panel():
    controls = {"t": slider("t", 1.0, 0.0, 3.0, 0.1), "heads": W.IntSlider(value=1, min=1, max=3)}
    return LivePanel(controls, draw, title="test")


def test_a_patch_turns_the_shown_scene_into_the_new_one():
    panel = make_panel()
    front = FakeFront(panel.view)
    for t in (1.1, 1.7, 0.0, 2.3):
        panel.controls["t"].value = t
        assert front.keyed == draw(t)[0].keyed()
        assert panel.text == f"t = {t:.2f}"
    assert all(kind == "patch" and size < 8 * 1024 for kind, size in panel.view.sent)


def test_a_hidden_tile_is_shown_by_a_patch_and_the_static_picture_leaves_it_out():
    panel = make_panel()
    front = FakeFront(panel.view)
    assert len(panel.scene.tile_markups()) == 3  # head 0, colour bar, bars
    panel.controls["heads"].value = 3
    assert front.keyed == panel.scene.keyed()
    assert len(panel.scene.tile_markups()) == 5
    assert panel.static_svg().count("<svg") == 1 + 5


def test_a_new_structure_is_sent_whole_and_bumps_rev():
    scene = Scene()
    t = scene.tile(100, 50)
    scene.add(t, "text", key="a", text="one", x=1.0, y=2.0)
    panel = LivePanel({"n": W.IntSlider(value=1, min=1, max=3)}, lambda n: (_rows(n), str(n)))
    rev = panel.view.rev
    panel.controls["n"].value = 2
    assert panel.view.rev == rev + 1 and panel.view.sent[-1][0] == "whole"
    assert panel.view.markup == _rows(2).live_markup()


def _rows(n):
    scene = Scene()
    t = scene.tile(200, 40 * n)
    for i in range(n):
        scene.add(t, "rect", key=f"r{i}", x=0, y=40 * i, width=10.0 * (i + 1), height=30)
    return scene


def test_a_view_opened_later_gets_the_current_picture_whole():
    panel = make_panel()
    panel.controls["t"].value = 2.0
    rev = panel.view.rev
    panel.view._on_front_message(panel.view, {"want": "whole"}, [])
    assert panel.view.rev == rev + 1
    assert panel.view.markup == draw(2.0)[0].live_markup()


def test_bad_input_shows_a_message_and_keeps_the_last_picture():
    panel = make_panel()
    panel.controls["t"].value = 2.0
    before = panel.scene
    panel.controls["t"].value = 2.8
    assert panel.error == "t above 2.5 is not allowed" and "2.5" in panel.message.value
    assert panel.scene is before and panel.text == "t = 2.00"
    panel.controls["t"].value = 1.0
    assert panel.error == "" and panel.message.value == ""


def test_nan_is_never_drawn():
    with pytest.raises(ValueError, match="not a finite number"):
        heatmap(Scene(), "h", np.full((2, 2), np.nan), ["a", "b"], ["a", "b"])
    with pytest.raises(ValueError, match="not a finite number"):
        bars(Scene(), "b", [0.1, np.inf], ["a", "b"], colours=["#000", "#000"])
    with pytest.raises(ValueError, match="coordinate is nan"):
        number(float("nan"))
    with pytest.raises(ValueError, match="x0 < x1"):
        WordMap((1, 0, 0, 1))


def test_the_static_picture_is_the_live_first_state():
    """Static viewers see exactly the tiles the live view starts from, placed in rows."""
    panel = make_panel()
    live = re.findall(r"<svg.*?</svg>", panel.view.markup)
    shown = [m for m, tile in zip(live, panel.scene.tiles) if tile[4]]
    static = panel._repr_mimebundle_()["image/svg+xml"]
    inner = static[static.index(">") + 1:-len("</svg>")]
    placed = re.sub(r'(<svg xmlns="[^"]+") x="\d+" y="\d+"', r"\1", inner)
    assert placed == "".join(shown)


def test_reset_and_set():
    panel = make_panel()
    panel.set(t=0.5, heads=2)
    assert panel.values() == {"t": 0.5, "heads": 2}
    panel.reset()
    assert panel.values() == {"t": 1.0, "heads": 1}
    with pytest.raises(KeyError, match="no control named"):
        panel.set(temperature=1)


def test_text_is_large_enough_to_read_on_a_projector():
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', make_panel().static_svg())]
    assert sizes and min(sizes) >= MIN_FONT_PX


def test_mime_bundle_for_static_viewers_and_nbval():
    bundle = make_panel()._repr_mimebundle_()
    assert bundle["text/plain"] == "Panel: test (t, heads)"
    assert bundle["image/svg+xml"].startswith("<svg") and "application/vnd.jupyter.widget-view+json" in bundle


def test_keys_must_be_unique():
    scene = Scene()
    t = scene.tile(10, 10)
    scene.add(t, "rect", key="a", x=1.0)
    scene.add(t, "rect", key="a", x=2.0)
    with pytest.raises(ValueError, match="share the key 'a'"):
        scene.keyed()


def _shared_tile_scene(tiles, t, shown):
    """A scene that reuses the one-tile scenes `tiles` (as 05's hidden heatmaps are reused) and
    builds a fresh heatmap with `t`, hidden or shown."""
    scene = Scene()
    for tile in tiles:
        scene.extend(tile)
    heatmap(scene, "fresh", weights(t), WORDS, WORDS, title=f"t {t:.1f}", shown=shown)
    return scene


def test_same_structure_and_patch_agree_with_the_full_comparison():
    tiles = []
    for h in range(2):
        tile = Scene()
        heatmap(tile, f"kept{h}", weights(h), WORDS, WORDS, title=f"kept {h}", shown=False)
        tiles.append(tile)
    old = _shared_tile_scene(tiles, 0.5, shown=True)
    for t, shown in ((0.5, True), (1.5, True), (1.5, False), (0.2, True)):
        new = _shared_tile_scene(tiles, t, shown)
        assert new.same_structure(old) and new.structure() == old.structure()
        assert apply_patch(old.keyed(), new.patch_from(old)) == new.keyed()
        old = new
    other = Scene()
    heatmap(other, "fresh", weights(0.5), WORDS[:8], WORDS[:8], title="t 0.5")
    assert not other.same_structure(old) and other.structure() != old.structure()
    assert not _rows(2).same_structure(_rows(3)) and _rows(2).same_structure(_rows(2))


@pytest.mark.parametrize("make, state", [
    (lambda: slider("s", 0.5), {"value": 0.7}),
    (lambda: int_slider("i", 2, 0, 5), {"value": 3}),
    (lambda: dropdown("d", ["x", "y"], "x"), {"index": 1}),
    (lambda: toggle("t", [1, 2], 1), {"index": 1}),
    (lambda: text_box("x", "hi"), {"value": "ho"}),
])
def test_a_control_takes_the_browsers_value_without_echoing_it(make, state):
    # ipywidgets 8 echoes every browser change back by default (`echo_update`); the panels'
    # controls opt out (trait metadata echo_update=False), one message fewer per change
    control = make()
    sent = []
    send = control.comm.send
    control.comm.send = lambda data=None, **kwargs: (sent.append(data), send(data=data, **kwargs))
    control.set_state(state)
    assert [m.get("method") for m in sent] == []
    assert control.get_state(list(state)) == state


def keyed_axis_scene(ylim, ticks, chart_ticks):
    from helpers.panels.pieces.chart import Chart
    scene = Scene()
    bars(scene, "b", [0.5, -0.2, 3.0], ["a", "b", "c"], colours=["#000000"] * 3, ylim=ylim, ticks=ticks,
         numbers="{:.2f}", tick_slots=5)
    chart = Chart(300, 200, (0, 3), ylim, yticks=chart_ticks, tick_slots=5)
    t = chart.tile(scene, "c", title="chart")
    chart.rects(scene, t, "c.r", [0, 1], [1, 2], [0, 0], [1.0, 3.0], "#000000")
    return scene


def test_keyed_ticks_let_an_axis_move_by_a_patch():
    """tick_slots: another ylim (and other ticks) keeps the structure; the patch moves the grid
    lines and relabels them, unused slots are hidden, and too many ticks is a clear error."""
    old = keyed_axis_scene((-1.0, 4.0), (0.0, 2.0, 4.0), (0.0, 2.0, 4.0))
    new = keyed_axis_scene((-2.0, 8.0), (-2.0, 0.0, 4.0, 8.0), (0.0, 4.0, 8.0))
    assert new.same_structure(old) and new.structure() == old.structure()
    assert apply_patch(old.keyed(), new.patch_from(old)) == new.keyed()
    k = new.keyed()
    assert [k[f"b.y{s}"][1] for s in range(5)] == ["-2", "0", "4", "8", ""]
    assert [k[f"b.g{s}"][0]["visibility"] for s in range(5)] == ["visible"] * 4 + ["hidden"]
    assert [k[f"c.y{s}"][1] for s in range(5)] == ["0", "4", "8", "", ""]
    # the grid line of 0 sits at the foot of the bars (the zero line)
    zero = float(k["b.g1"][0]["y1"])
    assert float(k["b.b0"][0]["y"]) + float(k["b.b0"][0]["height"]) == pytest.approx(zero, abs=0.1)
    with pytest.raises(ValueError, match="tick slots"):
        keyed_axis_scene((0.0, 6.0), tuple(range(7)), (0.0,))
