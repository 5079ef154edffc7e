"""Notebook 06 (word order): every claim of the prose, the panels, the figures.

Numbers the prose quotes are read from the notebook's text (tests/notebook_text.py)
and compared with the computation; nothing is copied from the stored outputs.
"""

import ast
import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import embeddings as E  # noqa: E402
from helpers import plots  # noqa: E402
from helpers.attention import demo_head, scaled_dot_product_attention  # noqa: E402
from helpers.lessons import word_order as L  # noqa: E402
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


@pytest.fixture()
def panels():
    made = {"waves": L.waves_panel(), "order": L.order_panel(), "previous": L.previous_word_panel(),
            "rope": L.rope_panel()}
    yield made
    for p in made.values():
        matplotlib.pyplot.close(p.fig)


def test_waves_panel_follows_the_sliders(panels):
    panel = panels["waves"]
    panel.controls["dimension"].value = 3
    panel.controls["position"].value = 6
    P = sinusoidal(9, 6, L.TOY_BASE)
    assert f"= {P[6, 3]:.2f}" in panel.text
    assert "cos(6 × 0.215)" in panel.text
    dots = panel.fig.axes[0].lines[1]
    np.testing.assert_allclose(dots.get_ydata(), P[:, 3])


def test_order_panel_bars_are_the_computed_weights(panels):
    panel = panels["order"]
    panel.controls["strength"].value = 1.0
    panel.controls["order"].value = "moved"
    tokens_b, _, w_b = L.head_weights(L.ORDERS["moved"], 1.0)
    heights = [b.get_height() for b in panel.fig.axes[1].patches]
    np.testing.assert_allclose(heights, w_b[tokens_b.index("bank")])
    labels = [t.get_text() for t in panel.fig.axes[1].get_xticklabels()]
    assert labels == [E.display_word(t) for t in tokens_b]
    assert "differ by up to" in panel.text
    panel.controls["strength"].value = 0.0
    assert panel.text == "positions × 0.0: bank's weights are the same in both orders"


def test_previous_word_panel_heatmap_and_readout(panels):
    panel = panels["previous"]
    panel.controls["strength"].value = 0.0
    _, w = L.previous_word_weights(strength=0.0)
    np.testing.assert_allclose(panel.fig.axes[0].images[0].get_array(), w)
    prev = L.previous_weights(w)
    assert f"mean {prev.mean():.2f}" in panel.text
    panel.reset()
    assert "smallest 0.72" in panel.text and "mean 0.95" in panel.text


def test_rope_panel_moving_both_keeps_the_score(panels):
    panel = panels["rope"]
    panel.set(query_position=8, key_position=7)
    first = panel.text.split("score ")[1]
    panel.set(query_position=5, key_position=4)
    assert panel.text.split("score ")[1] == first
    panel.set(query_position=2, key_position=6)
    assert "offset -4" in panel.text
    q, k = L.bank_query_river_key()
    point = panel.fig.axes[1].lines[1]
    assert point.get_xdata()[0] == -4
    assert point.get_ydata()[0] == pytest.approx(L.rope_score(q, k, 2, 6))


# ------------------------------------------------------------ the pipeline


def test_pipeline_highlights_positions_and_rotary_as_00s_map_says():
    calls = [n for c in load("06")["cells"] if c["cell_type"] == "code"
             for n in ast.walk(ast.parse(source(c).replace("%matplotlib widget", "")))
             if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "pipeline_diagram"]
    (call,) = calls
    highlight = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "highlight"))
    fig = plots.pipeline_diagram(highlight=highlight, steps=L.PIPELINE)
    bold = [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]
    assert len(bold) == 2 and "X + P" in bold[0] and "rotary" in bold[1]
    (row,) = [ln for ln in markdown("00", "## The map of the series").splitlines() if ln.startswith("| **06 ")]
    assert row.rstrip(" |").endswith("positions, rotary")
    assert fig.get_size_inches()[0] <= 7.0

