"""Notebook 06 (word order): every claim of the prose, the panels, the figures.

Numbers the prose quotes are read from the notebook's text (tests/notebook_text.py)
and compared with the computation; nothing is copied from the stored outputs.
"""

import ast
import itertools
import json
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import embeddings as E  # noqa: E402
from helpers import plots  # noqa: E402
from helpers.attention import demo_head, scaled_dot_product_attention  # noqa: E402
from helpers.lessons import word_order as L  # noqa: E402
from helpers.panels import apply_patch  # noqa: E402
from helpers.panels.pieces import MIN_FONT_PX  # noqa: E402
from helpers.panels.pieces.colours import signed_colours, weight_colours  # noqa: E402
from helpers.positions import angles, sinusoidal  # noqa: E402
from notebook_text import load, markdown, quoted, source  # noqa: E402

TEXT = markdown("06")


def gap(strength, text):
    """The largest difference between bank's weight on a word in the sentence and in `text`."""
    ta, _, wa = L.head_weights(E.SENTENCE, strength)
    tb, _, wb = L.head_weights(text, strength)
    ra, rb = wa[ta.index("bank")], wb[tb.index("bank")]
    return max(abs(ra[i] - rb[tb.index(t)]) for i, t in enumerate(ta))


# ------------------------------------------------------------ 1. shuffle the words


def test_the_orders_are_the_same_nine_words():
    words = sorted(E.tokenize(E.SENTENCE))
    for text in L.ORDERS.values():
        assert sorted(E.tokenize(text)) == words
    assert E.tokenize(L.ORDERS["reversed"]) == E.tokenize(E.SENTENCE)[::-1]
    assert '"bank river the at fish to going is Tom"' in TEXT.replace("“", '"').replace("”", '"') \
        or "bank river the at fish to going is Tom" in TEXT


@pytest.mark.parametrize("order", list(L.ORDERS))
def test_without_positions_every_output_is_only_moved(order):
    tokens, out, weights = L.head_weights(E.SENTENCE, 0.0)
    tokens_o, out_o, weights_o = L.head_weights(L.ORDERS[order], 0.0)
    moved = [tokens_o.index(t) for t in tokens]
    np.testing.assert_allclose(out_o[moved], out, atol=1e-12)
    np.testing.assert_allclose(weights_o[np.ix_(moved, moved)], weights, atol=1e-12)


def test_permutation_property_for_random_orders():
    rng = np.random.default_rng(0)
    W_q, W_k, W_v = demo_head()
    _, X = E.sentence_matrix(E.SENTENCE, E.toy_vectors())
    out, _ = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
    for _ in range(5):
        perm = rng.permutation(len(X))
        Xp = X[perm]
        out_p, _ = scaled_dot_product_attention(Xp @ W_q, Xp @ W_k, Xp @ W_v)
        np.testing.assert_allclose(out_p, out[perm], atol=1e-12)


# ------------------------------------------------------------ 2. the waves


def test_toy_base_is_the_one_the_prose_names():
    assert quoted(TEXT, r"uses\s+\$b = (\d+)\$: with 10000") == L.TOY_BASE
    assert quoted(TEXT, r"The first pair of columns turns by (\d+) radian") == angles([1], 6, L.TOY_BASE)[0, 0]


def test_with_base_10000_the_slow_waves_get_through_a_sixteenth_of_a_cycle():
    def cycles(base):  # how much of each wave's cycle positions 0..8 cover
        return 8 * angles([1], 6, base)[0] / (2 * np.pi)

    assert "less than a sixteenth of a cycle" in TEXT and "gets through a quarter of one" in TEXT
    assert (cycles(10000.0)[1:] < 1 / 16).all()
    assert 0.25 <= cycles(L.TOY_BASE)[1] < 0.3


def test_the_fast_wave_comes_back_every_2_pi_positions():
    assert quoted(TEXT, r"fast wave comes back every ([\d.]+) positions") == round(2 * np.pi / angles([1], 6, L.TOY_BASE)[0, 0], 1)


def test_row_0_every_row_different_neighbours_alike():
    P = sinusoidal(9, 6, L.TOY_BASE)
    np.testing.assert_array_equal(P[0], [0, 1, 0, 1, 0, 1])
    assert len({tuple(np.round(r, 6)) for r in P}) == 9
    dots = P @ P.T
    for p, q in itertools.product(range(9), repeat=2):  # depends on the distance only
        assert dots[p, q] == pytest.approx(dots[abs(p - q), 0], abs=1e-12)
        assert dots[p, q] <= dots[p, p] + 1e-12  # the same position scores highest


def test_with_positions_the_order_counts():
    tokens, _, _ = L.head_weights(E.SENTENCE, 1.0)
    tokens_r, _, _ = L.head_weights(L.ORDERS["reversed"], 1.0)
    assert gap(1.0, L.ORDERS["reversed"]) > 0.1
    assert tokens_r == tokens[::-1]


@pytest.mark.parametrize("order", list(L.ORDERS))
def test_same_heights_at_zero_different_as_soon_as_positions_are_mixed_in(order):
    assert gap(0.0, L.ORDERS[order]) < 1e-12
    for strength in np.arange(0.1, 2.01, 0.1):
        assert gap(strength, L.ORDERS[order]) > 0.02


# ------------------------------------------------------------ 3. previous word


def test_shift_back_turns_every_position_back_by_one():
    for base in (L.TOY_BASE, 10000.0):
        P = sinusoidal(30, 6, base)
        np.testing.assert_allclose(P[1:] @ L.shift_back(6, base), P[:-1], atol=1e-12)


def test_previous_word_claims():
    strength = quoted(TEXT, r"With positions × (\d+) the weights form a diagonal")
    words_after = quoted(TEXT, r"each of the (\d+) words after\s+the first")
    without = quoted(TEXT, r"Without positions only (\d+) of the \d+\s+do")
    for s, expected in ((strength, words_after), (0.0, without)):
        tokens, w = L.previous_word_weights(strength=s)
        hits = sum(int(np.argmax(w[i])) == i - 1 for i in range(1, len(tokens)))
        assert hits == expected
    assert words_after == len(E.tokenize(E.SENTENCE)) - 1


# ------------------------------------------------------------ 4. rotary


def test_rope_score_depends_only_on_the_distance():
    q, k = L.bank_query_river_key()
    for dist in range(-8, 9):
        scores = [L.rope_score(q, k, p + dist, p) for p in range(max(0, -dist), 9 - max(dist, 0))]
        np.testing.assert_allclose(scores, scores[0], rtol=1e-10)


def test_rope_at_equal_positions_is_the_plain_score():
    q, k = L.bank_query_river_key()
    assert L.rope_score(q, k, 4, 4) == pytest.approx(q @ k / np.sqrt(6))


def test_models_table_names_the_right_kinds():
    assert "| the original transformer (2017) | sinusoidal" in TEXT
    assert "| BERT (2018), GPT-2 (2019) | learned absolute" in TEXT
    assert "rotary (RoPE)" in TEXT


# ------------------------------------------------------------ panels


class Front:
    """What the browser shows: the first scene, then every patch the view sends, applied."""

    def __init__(self, view):
        self.keyed, self.sizes = view.scene.keyed(), []
        view.send = self.receive

    def receive(self, content, buffers=None):
        self.keyed = apply_patch(self.keyed, content)
        self.sizes.append(len(json.dumps(content, separators=(",", ":"))))


@pytest.fixture()
def panels():
    return L.panels()


def keyed(panel, key):
    return panel.scene.keyed()[key]


def numbers(text):
    return [float(v) for v in re.findall(r"-?\d+\.?\d*", text)]


def centre_y(panel, key):
    return float(keyed(panel, key)[0]["cy"])


def test_the_notebook_builds_its_four_panels():
    code = "\n".join(source(c) for c in load("06")["cells"] if c["cell_type"] == "code")
    for made in ("word_order.waves_panel()", "word_order.order_panel()", "word_order.previous_word_panel()",
                 "word_order.rope_panel()"):
        assert made in code
    assert sorted(L.panels()) == ["order", "previous", "rope", "waves"]


@pytest.mark.parametrize("name", ["waves", "order", "previous", "rope"])
def test_every_control_sends_a_small_patch_that_gives_the_new_picture(panels, name):
    panel = panels[name]
    front = Front(panel.view)
    for control_name, control in panel.controls.items():
        values = ([control.min, (control.min + control.max) / 2, control.max] if hasattr(control, "min")
                  else list(control.options))
        for value in values:
            if isinstance(control.value, int) and not isinstance(control.value, bool) and hasattr(control, "min"):
                value = int(value)
            if value == control.value:
                continue
            before = len(front.sizes)
            control.value = value
            assert len(front.sizes) == before + 1, (control_name, value)  # a patch, not a whole picture
            assert front.keyed == panel.scene.keyed(), (control_name, value)
            assert front.sizes[-1] < 8 * 1024
    assert {kind for kind, _ in panel.view.sent} == {"patch"}
    width, _ = panel.scene.size()
    assert width <= 580
    sizes = [float(v) for v in re.findall(r'font-size="([\d.]+)"', panel.static_svg())]
    assert min(sizes) >= MIN_FONT_PX


@pytest.mark.parametrize("dimension, position", [(0, 0), (3, 6), (4, 8), (5, 2)])
def test_waves_panel_follows_the_sliders(panels, dimension, position):
    panel = panels["waves"]
    panel.set(dimension=dimension, position=position)
    P = sinusoidal(9, 6, L.TOY_BASE)
    omega = 1 / L.TOY_BASE ** (2 * (dimension // 2) / 6)  # radians per position of this pair
    wave = "sin" if dimension % 2 == 0 else "cos"
    period = 2 * np.pi / omega
    assert panel.text == (f"P[{position}, {dimension}] = {wave}({position} × {omega:.3f}) = {P[position, dimension]:.2f}; "
                          f"this wave repeats every {period:.1f} positions")
    assert keyed(panel, "wave.t")[1] == f"column {dimension}: {wave}(p · {omega:.3f}), repeats every {period:.1f}"
    # the dots are the column of the table, the big one the chosen value; all on the wave's axis

    def y_of(v):  # the axis runs from -1.2 (bottom of the frame) to 1.2 (top)
        return top + (1.2 - v) / 2.4 * (bottom - top)

    markup = panel.scene.tile_markups()[0]
    top, bottom = (float(v) for v in re.search(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="none"',
                                               markup).groups())
    bottom += top
    dots = [float(v) for v in re.findall(r"M[\d.]+,([\d.]+)a", keyed(panel, "wave.dots.m")[0]["d"])]
    np.testing.assert_allclose(dots, [y_of(v) for v in P[:, dimension]], atol=0.06)
    assert centre_y(panel, "wave.chosen") == pytest.approx(y_of(P[position, dimension]), abs=0.06)
    curve = np.array([[float(a) for a in pt.split(",")] for pt in keyed(panel, "wave.curve")[0]["points"].split()])
    x_of = (curve[:, 0] - curve[0, 0]) / (curve[-1, 0] - curve[0, 0]) * 8  # positions 0..8
    expected = np.sin(x_of * omega) if wave == "sin" else np.cos(x_of * omega)
    np.testing.assert_allclose(curve[:, 1], y_of(expected), atol=0.15)  # x and y rounded to 0.1 px
    # the table: signed colours of P, the chosen cell framed
    cells = [keyed(panel, f"table.{i}.{j}")[0]["fill"] for i in range(9) for j in range(6)]
    assert cells == signed_colours(P, 1.0)
    assert keyed(panel, f"table.n{position}.{dimension}")[1] == f"{P[position, dimension]:.1f}"
    frame = keyed(panel, "table.frame")[0]
    fx, fy = float(frame["x"]), float(frame["y"])
    cells_xy = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" fill="#[0-9a-f]{6}" data-i',
                          panel.scene.tile_markups()[1])
    cx, cy, w = (float(v) for v in cells_xy[position * 6 + dimension])
    assert (fx, fy) == (cx - 1, cy - 1) and float(frame["width"]) == w + 2


@pytest.mark.parametrize("order", list(L.ORDERS))
@pytest.mark.parametrize("strength", [0.0, 1.0, 2.0])
def test_order_panel_bars_are_the_computed_weights(panels, order, strength):
    panel = panels["order"]
    panel.set(strength=strength, order=order)
    for key, text in (("a", E.SENTENCE), ("b", L.ORDERS[order])):
        # bank's row of the demo head on X + strength · P, computed here
        tokens, X = E.sentence_matrix(text, E.toy_vectors())
        X = X + strength * sinusoidal(len(tokens), 6, L.TOY_BASE)
        W_q, W_k, W_v = demo_head()
        _, w = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
        row = w[tokens.index("bank")]
        heights = [float(keyed(panel, f"{key}.b{i}")[0]["height"]) for i in range(9)]
        zero = max(float(keyed(panel, f"{key}.b{i}")[0]["y"]) + h for i, h in enumerate(heights))
        top = min(float(keyed(panel, f"{key}.b{i}")[0]["y"]) for i in range(9))
        full = heights[int(np.argmax(row))] / row.max()  # px per unit weight
        np.testing.assert_allclose(heights, row * full, atol=0.11)
        assert zero - top <= full + 0.1  # no bar above a weight of 1
        assert [keyed(panel, f"{key}.l{i}")[1] for i in range(9)] == [E.display_word(t) for t in tokens]
        assert [keyed(panel, f"{key}.b{i}")[0]["fill"] for i in range(9)] == [plots.word_color(t) for t in tokens]
        assert [keyed(panel, f"{key}.v{i}")[1] for i in range(9)] == [f"{v:.2f}" for v in row]
        assert keyed(panel, f"{key}.t")[1] == f"“{text}”"
    if strength == 0.0:
        assert panel.text == "positions × 0.0: bank's weights are the same in both orders"
    else:
        assert "differ by up to" in panel.text
        assert numbers(panel.text.split("up to ")[1])[0] == round(gap(strength, L.ORDERS[order]), 2)


@pytest.mark.parametrize("strength, sharpness", [(3.0, 8.0), (0.0, 8.0), (4.0, 1.0), (1.5, 12.0)])
def test_previous_word_panel_heatmap_and_readout(panels, strength, sharpness):
    panel = panels["previous"]
    panel.set(strength=strength, sharpness=sharpness)
    tokens, X = E.sentence_matrix(E.SENTENCE, E.toy_vectors())
    X = X + strength * sinusoidal(9, 6, L.TOY_BASE)
    _, w = scaled_dot_product_attention(X @ (sharpness * L.shift_back()), X, X)
    cells = [keyed(panel, f"previous.{i}.{j}")[0]["fill"] for i in range(9) for j in range(9)]
    assert cells == weight_colours(w)
    assert keyed(panel, "previous.t")[1] == f"positions × {strength:.2f}, sharpness {sharpness:.0f}"
    prev = np.array([w[i, i - 1] for i in range(1, 9)])
    i = int(np.argmin(prev))
    assert panel.text == (f"weight on the previous word: smallest {prev[i]:.2f} ({tokens[i + 1]} → {tokens[i]}), "
                          f"mean {prev.mean():.2f}")
    panel.reset()
    assert "smallest 0.72" in panel.text and "mean 0.95" in panel.text


def test_rope_panel_moving_both_keeps_the_score(panels):
    panel = panels["rope"]
    panel.set(query_position=8, key_position=7)
    first = panel.text.split("score ")[1]
    chosen = keyed(panel, "curve.chosen")[0]
    panel.set(query_position=5, key_position=4)
    assert panel.text.split("score ")[1] == first
    assert keyed(panel, "curve.chosen")[0] == chosen  # the same point of the curve
    panel.set(query_position=2, key_position=6)
    assert "offset -4" in panel.text


@pytest.mark.parametrize("qp, kp", [(8, 7), (2, 6), (0, 0), (0, 8), (8, 0)])
def test_rope_panel_arrows_and_point_are_the_turned_vectors(panels, qp, kp):
    panel = panels["rope"]
    panel.set(query_position=qp, key_position=kp)
    q, k = L.bank_query_river_key()
    theta_q, theta_k = qp * 1.0, kp * 1.0  # the first pair turns by 1 radian per position (base^0)
    turned = {"q": (q[0] * np.cos(theta_q) - q[1] * np.sin(theta_q), q[0] * np.sin(theta_q) + q[1] * np.cos(theta_q)),
              "k": (k[0] * np.cos(theta_k) - k[1] * np.sin(theta_k), k[0] * np.sin(theta_k) + k[1] * np.cos(theta_k))}
    ends = {}
    for name in ("q", "k"):
        d = keyed(panel, name)[0]["d"]
        (x0, y0), (x1, y1) = [tuple(float(v) for v in pair.split(",")) for pair in re.findall(r"[ML]([\d.-]+,[\d.-]+)", d)[:2]]
        ends[name] = (x1 - x0, y0 - y1)  # px, y up
    scale = np.hypot(*ends["q"]) / np.hypot(*turned["q"])
    for name in ("q", "k"):
        np.testing.assert_allclose(ends[name], np.array(turned[name]) * scale, atol=0.15)
    # the score is q · k after the turns, over sqrt(6): it depends on the offset only
    from helpers.positions import rotate
    score = rotate(q[None], [qp], L.TOY_BASE)[0] @ rotate(k[None], [kp], L.TOY_BASE)[0] / np.sqrt(6)
    assert panel.text == (f"bank's query at {qp}, river's key at {kp}: offset {qp - kp}, score {score:.2f}")
    offset_score = rotate(q[None], [max(qp - kp, 0)], L.TOY_BASE)[0] @ rotate(k[None], [max(kp - qp, 0)], L.TOY_BASE)[0]
    assert offset_score / np.sqrt(6) == pytest.approx(score)


def test_line_chart_piece_keys_its_points_clips_to_its_frame_and_refuses_nan():
    from helpers.panels import Scene
    from helpers.panels.pieces.lines import LineChart
    chart = LineChart((0, 2), (-1, 1), xticks=(0, 1, 2), yticks=(-1, 0, 1), width=300, height=200)
    scene = Scene()
    t = chart.tile(scene, "c", "a title")
    chart.line(scene, t, "c.l", [0, 1, 2], [0, 5, -1], "#000000", markers=True)
    x0, x1, y0, y1 = chart.box
    points = [tuple(float(v) for v in p.split(",")) for p in scene.keyed()["c.l"][0]["points"].split()]
    assert points == [(x0, (y0 + y1) / 2), ((x0 + x1) / 2, y0), (x1, y1)]  # 5 is drawn at the top edge
    assert scene.keyed()["c.l.m"][0]["d"].count("M") == 3 and scene.keyed()["c.t"][1] == "a title"
    with pytest.raises(ValueError, match="not finite"):
        chart.line(scene, t, "c.bad", [0, 1], [0, np.nan], "#000000")
    with pytest.raises(ValueError, match="increasing limits"):
        LineChart((1, 0), (0, 1), xticks=(), yticks=())


# ------------------------------------------------------------ the pipeline


def test_pipeline_highlights_positions_and_rotary_as_00s_map_says():
    calls = [n for c in load("06")["cells"] if c["cell_type"] == "code"
             for n in ast.walk(ast.parse(source(c)))
             if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "pipeline_diagram"]
    (call,) = calls
    highlight = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "highlight"))
    fig = plots.pipeline_diagram(highlight=highlight, steps=L.PIPELINE)
    bold = [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]
    assert len(bold) == 2 and "X + P" in bold[0] and "rotary" in bold[1]
    (row,) = [ln for ln in markdown("00", "## The map of the series").splitlines() if ln.startswith("| **06 ")]
    assert row.rstrip(" |").endswith("positions, rotary")
    assert fig.get_size_inches()[0] <= 7.0

