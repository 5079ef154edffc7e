"""helpers.panels.pieces.chart: a fixed frame in data units with keyed bars and texts."""

import numpy as np
import pytest

from helpers.panels import Scene
from helpers.panels.pieces.chart import Chart


def chart():
    return Chart(300, 200, (0, 4), (-2, 8), yticks=(-2, 0, 4, 8), xticks=[(1, "a"), (2, "b")],
                 xlabel="x", ylabel="y", hlines=((1.0, "#888888", "one"),), legend=(("#ff0000", "red"),))


def test_bars_are_placed_by_value_and_clipped_to_the_frame():
    c = chart()
    scene = Scene()
    t = c.tile(scene, "c", title="hello")
    c.rects(scene, t, "r", [0.5, 1.5], [1.0, 2.0], [0.0, -1.0], [4.0, 20.0], "#00ff00")
    c.columns(scene, t, "k", [2.5], [3.0], [4.0], "#0000ff")
    keyed = scene.keyed()
    per_unit = (c.y(0) - c.y(4)) / 4
    assert float(keyed["r0"][0]["height"]) == pytest.approx(4 * per_unit, abs=0.1)
    assert float(keyed["r1"][0]["y"]) == pytest.approx(c.y(8), abs=0.1)  # 20 is drawn at the top edge
    assert float(keyed["k0"][0]["height"]) == pytest.approx(c.y(-2) - c.y(4), abs=0.1)  # from the bottom
    assert keyed["c.t"][1] == "hello"
    assert {"-2", "0", "4", "8", "a", "b", "x", "y", "one", "red", "hello"} <= set(scene.texts())


def test_equal_charts_share_their_markup_and_nan_is_refused():
    assert chart() == chart() and hash(chart()) == hash(chart())
    scene = Scene()
    c = chart()
    t = c.tile(scene, "c")
    with pytest.raises(ValueError):
        c.columns(scene, t, "k", [0], [1], [np.nan], "#000000")
    with pytest.raises(ValueError):
        c.rects(scene, t, "r", [0], [1], [0.0], [np.inf], "#000000")
    with pytest.raises(ValueError):
        Chart(100, 100, (1, 1), (0, 1))
