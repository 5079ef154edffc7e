"""Notebook 06, word order: the lesson's numbers, figures and live panels.

    numbers   with_positions, head_weights, shift_back, previous_word_weights, rope_score, ...
    figures   order_bars_figure, position_table_figure, previous_word_figure (matplotlib)
    panels    waves_panel, order_panel, previous_word_panel, rope_panel (helpers.panels);
              panels(): the four, built as the notebook builds them

The story: the head of notebooks 02-04 gives *bank* the same output whatever the
order of the words; adding the paper's sinusoidal positions (helpers.positions)
makes the order count; a head that looks at the previous word needs them; rotary
positions make a score depend on the distance between two words only.

The toy uses base 100 for its waves instead of the paper's 10000: with 6 numbers
per word and 9 words, base 10000 makes the two slower waves almost flat over the
sentence (they suit 512 numbers and sentences of thousands of words).
"""

from __future__ import annotations

import math

import numpy as np

from .. import plots
from ..attention import demo_head, scaled_dot_product_attention
from ..embeddings import SENTENCE, display_word, sentence_matrix, tokenize, toy_vectors
from ..panels import LivePanel, Scene, attrs_markup, dropdown, int_slider, slider
from ..panels.pieces.bars import bars
from ..panels.pieces.heatmap import colourbar, heatmap, heatmap_size, text_width
from ..panels.pieces.lines import LineChart
from ..panels.pieces.wordmap import WordMap
from ..panels.scene import element
from ..positions import angles, rotate, sinusoidal

TOY_BASE = 100.0
#: The series' pipeline with this lesson's two steps: positions added to X (absolute), or
#: Q and K turned in every head (rotary; drawn in the projection box, the row of a head is full).
PIPELINE = (plots.PIPELINE_STEPS[0], plots.PipelineStep("positions", "+ positions\nX + P"),
            plots.PipelineStep("rope", "Q, K, V;\nrotary: turn\nQ and K", per_head=True),
            *plots.PIPELINE_STEPS[2:])
#: The same nine words in other orders (for the order panel).
ORDERS = {
    "reversed": "bank river the at fish to going is Tom",
    "shuffled": "the bank Tom fish river is at going to",
    "moved": "at the river bank Tom is going to fish",
}


# ------------------------------------------------------------------ the numbers


def with_positions(text, strength=1.0, base=TOY_BASE, vectors=None):
    """(tokens, X + strength · P): the sentence's word vectors plus its position table, (n, 6)."""
    tokens, X = sentence_matrix(text, toy_vectors() if vectors is None else vectors)
    return tokens, X + strength * sinusoidal(len(tokens), X.shape[1], base)


def head_weights(text, strength=0.0, base=TOY_BASE, vectors=None):
    """(tokens, output (n, 6), weights (n, n)) of the demo head of notebooks 02-04 on the sentence
    with positions mixed in at `strength` (0 = no positions)."""
    W_q, W_k, W_v = demo_head()
    tokens, X = with_positions(text, strength, base, vectors)
    output, weights = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
    return tokens, output, weights


def shift_back(d=6, base=TOY_BASE):
    """(d, d) matrix R with sinusoidal(n, d)[p] @ R == sinusoidal(n, d)[p - 1] for every p.

    Each (sin, cos) pair is turned back by one position's angle: a rotation, the same
    for every p, which is why a fixed W_q can ask for "the word before me".
    """
    R = np.zeros((d, d))
    for i, theta in enumerate(angles([1], d, base)[0]):
        c, s = np.cos(theta), np.sin(theta)
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
    return R


def previous_word_weights(text=SENTENCE, strength=3.0, sharpness=8.0, base=TOY_BASE, vectors=None):
    """(tokens, weights (n, n)) of a head built to look at the previous word:
    W_q = sharpness · shift_back, W_k = W_v = identity, on X + strength · P."""
    tokens, X = with_positions(text, strength, base, vectors)
    _, weights = scaled_dot_product_attention(X @ (sharpness * shift_back(X.shape[1], base)), X, X)
    return tokens, weights


def previous_weights(weights):
    """(n - 1,) the weight each word after the first gives the word just before it."""
    return np.array([weights[i, i - 1] for i in range(1, len(weights))])


def rope_score(q, k, query_position, key_position, base=TOY_BASE):
    """q · k after rotating q to `query_position` and k to `key_position`, over sqrt(d)."""
    q_rot = rotate(np.asarray(q, float)[None], [query_position], base)[0]
    k_rot = rotate(np.asarray(k, float)[None], [key_position], base)[0]
    return float(q_rot @ k_rot / np.sqrt(len(q_rot)))


def bank_query_river_key(vectors=None):
    """(q, k): bank's query and river's key under the demo head, each (6,)."""
    W_q, W_k, _ = demo_head()
    kv = toy_vectors() if vectors is None else vectors
    return np.asarray(kv["bank"]) @ W_q, np.asarray(kv["river"]) @ W_k


# ------------------------------------------------------------------ figures


def order_bars_figure(text_a, text_b, strength=0.0, word="bank", figsize=(7, 5.2)):
    """*word*'s weights in two orders of the same words, one row of bars each."""
    fig, axes = plots.new_figure(2, 1, figsize=figsize)
    for ax, text in zip(axes, (text_a, text_b)):
        tokens, _, weights = head_weights(text, strength)
        plots.Bars(ax, tokens, weights[tokens.index(word)], ylim=(0, 0.6), ylabel="weight",
                   title=f"“{text}”")
    fig.tight_layout()
    return fig


def position_table_figure(n=9, d=6, base=TOY_BASE, tokens=None, figsize=(7, 4.6)):
    """The sinusoidal table (n positions × d numbers) as a signed heatmap with its values."""
    fig, ax = plots.new_figure(figsize=figsize)
    rows = [f"{p}" if tokens is None else f"{p} {display_word(tokens[p])}" for p in range(n)]
    cols = [f"{'sin' if j % 2 == 0 else 'cos'} {j // 2}" for j in range(d)]
    plots.signed_heatmap(ax, sinusoidal(n, d, base), rows, cols, xlabel="column (wave)",
                         ylabel="position", title=f"position table P, base {base:g}")
    fig.tight_layout()
    return fig


def previous_word_figure(strength=3.0, sharpness=8.0, figsize=(7, 3.9)):
    """The previous-word head's weights without positions (left) and with them (right)."""
    fig, axes = plots.new_figure(1, 2, figsize=figsize)
    for ax, s, title in ((axes[0], 0.0, "no positions"), (axes[1], strength, f"positions × {strength:g}")):
        tokens, weights = previous_word_weights(strength=s, sharpness=sharpness)
        plots.heatmap(ax, weights, tokens, tokens, vmin=0, vmax=1, title=title, colorbar=False,
                      annotate=False)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ panels


def wave_of(dimension, n=9, d=6, base=TOY_BASE):
    """(sin or cos, omega): column `dimension` of the table is wave(p · omega), omega in radians
    per position."""
    omega = angles(np.arange(max(n, 2)), d, base)[1, dimension // 2]
    return (np.sin if dimension % 2 == 0 else np.cos), float(omega)


def _table_labels(n, d):
    return [str(p) for p in range(n)], [f"{'sin' if j % 2 == 0 else 'cos'} {j // 2}" for j in range(d)]


def waves_panel(n=9, d=6, base=TOY_BASE):
    """Pick a column (dimension) and a position of the table: see its wave and the value.

    Controls: `dimension` 0..d-1, `position` 0..n-1. Top: the column's wave over
    positions, with a dot per word and the chosen one larger; below: the table (signed
    colours), the chosen cell framed.
    """
    table = sinusoidal(n, d, base)
    x = np.linspace(0, n - 1, 120)
    chart = LineChart((-0.3, n - 0.7), (-1.2, 1.2), xticks=range(n), yticks=(-1, 0, 1), width=560, height=210,
                      xlabel="position", ylabel="value")
    rows, cols = _table_labels(n, d)
    cell = 34
    size = heatmap_size(rows, cols, cell=cell)

    def draw(dimension, position):
        wave, omega = wave_of(dimension, n, d, base)
        period = 2 * np.pi / omega
        scene = Scene()
        t = chart.tile(scene, "wave", f"column {dimension}: {wave.__name__}(p · {omega:.3f}), repeats every {period:.1f}")
        chart.line(scene, t, "wave.curve", x, wave(x * omega), plots.RIVER_COLOR, width=2.5)
        chart.line(scene, t, "wave.dots", np.arange(n), table[:, dimension], plots.OTHER_COLOR, joined=False)
        chart.point(scene, t, "wave.chosen", position, table[position, dimension], plots.BANK_COLOR, r=8)
        t = heatmap(scene, "table", table, rows, cols, cell=cell, signed=1.0, numbers="{:.1f}", size=size,
                    title="P: a row per position")
        _, _, left, top = size
        for key, grow, colour, line in (("table.frame", 1, plots.BANK_COLOR, 3), ("table.frame.in", -2, "#ffffff", 1.5)):
            scene.add(t, "rect", key=key, x=left + dimension * cell - grow, y=top + position * cell - grow,
                      width=cell - 1 + 2 * grow, height=cell - 1 + 2 * grow, fill="none", stroke=colour,
                      stroke_width=line)  # black outside, white inside: seen on dark and pale cells
        colourbar(scene, size[1], top=top, bottom=size[1] - top - n * cell, ticks=(-1, 0, 1), label="value",
                  signed=1.0)
        return scene, (f"P[{position}, {dimension}] = {wave.__name__}({position} × {omega:.3f}) = "
                       f"{table[position, dimension]:.2f}; this wave repeats every {period:.1f} positions")

    controls = {"dimension": int_slider("dimension", 0, 0, d - 1),
                "position": int_slider("position", 0, 0, n - 1)}
    return LivePanel(controls, draw, title="The waves of the position table")


def order_readout(word, strength, toks_a, row_a, toks_b, row_b):
    """How far *word*'s weights in two orders of the same words are apart, in one line."""
    gap = {t: abs(row_b[toks_b.index(t)] - row_a[i]) for i, t in enumerate(toks_a)}
    worst = max(gap, key=gap.get)
    if gap[worst] < 0.005:
        return f"positions × {strength:.1f}: {word}'s weights are the same in both orders"
    return (f"positions × {strength:.1f}: {word}'s weights differ by up to {gap[worst]:.2f} "
            f"({display_word(worst)}: {row_a[toks_a.index(worst)]:.2f} → {row_b[toks_b.index(worst)]:.2f})")


def order_panel(word="bank"):
    """*word*'s weights in the sentence and in another order of its words, with positions
    mixed in at a chosen strength. Controls: `strength` (0-2), `order` (ORDERS)."""
    longest = max(text_width(display_word(t)) for t in tokenize(SENTENCE))
    vectors = toy_vectors()  # read once: a slider move only computes

    def draw(strength, order):
        scene = Scene()
        rows = []
        for key, text in (("a", SENTENCE), ("b", ORDERS[order])):
            tokens, _, weights = head_weights(text, strength, vectors=vectors)
            row = weights[tokens.index(word)]
            rows += [tokens, row]
            bars(scene, key, row, [display_word(t) for t in tokens], colours=[plots.word_color(t) for t in tokens],
                 title=f"“{text}”", ylim=(0.0, 1.12), ticks=(0.0, 0.5, 1.0), ylabel="weight", width=560,
                 height=250, rotate=45, numbers="{:.2f}", longest=longest)
        return scene, order_readout(word, strength, *rows)

    controls = {"strength": slider("positions ×", 0.0, min=0.0, max=2.0, step=0.1, readout_format=".1f"),
                "order": dropdown("other order", list(ORDERS), "reversed")}
    return LivePanel(controls, draw, title="Same words, another order")


def previous_word_panel():
    """The previous-word head's weights; controls: `strength` of the positions, `sharpness` of W_q."""
    vectors = toy_vectors()  # read once: a slider move only computes
    tokens, _ = previous_word_weights(vectors=vectors)
    labels = [display_word(t) for t in tokens]
    cell = 36

    def draw(strength, sharpness):
        _, w = previous_word_weights(strength=strength, sharpness=sharpness, vectors=vectors)
        scene = Scene()
        heatmap(scene, "previous", w, labels, labels, cell=cell,
                title=f"positions × {strength:.2f}, sharpness {sharpness:.0f}")
        width, height, left, top = heatmap_size(labels, labels, cell=cell)
        colourbar(scene, height, top=top, bottom=height - top - len(labels) * cell)
        prev = previous_weights(w)
        i = int(np.argmin(prev))
        return scene, (f"weight on the previous word: smallest {prev[i]:.2f} ({display_word(tokens[i + 1])} → "
                       f"{display_word(tokens[i])}), mean {prev.mean():.2f}")

    controls = {"strength": slider("positions ×", 3.0, min=0.0, max=4.0, step=0.25),
                "sharpness": slider("sharpness", 8.0, min=1.0, max=12.0, step=1.0, readout_format=".0f")}
    return LivePanel(controls, draw, title="A head that looks at the previous word")


def _nice_ticks(lo, hi, count=4):
    """Round tick values inside [lo, hi] (a handful, at 1, 2 or 5 times a power of ten)."""
    raw = (hi - lo) / count
    step = min((m * 10.0 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
    return tuple(v for v in np.arange(math.ceil(lo / step), math.floor(hi / step) + 1) * step)


def rope_panel(n=9, base=TOY_BASE):
    """Rotary positions: bank's query and river's key, turned to their positions.

    Controls: `query_position`, `key_position` (0..n-1). Left: the first pair of
    numbers of q and k as arrows; right: the score against the offset p_q - p_k, which
    is all that the positions change in it.
    """
    q, k = bank_query_river_key()
    offsets = np.arange(-(n - 1), n)
    curve = np.array([rope_score(q, k, max(o, 0), max(-o, 0), base) for o in offsets])
    radius = max(np.hypot(*q[:2]), np.hypot(*k[:2]))
    lim = 1.15 * radius
    arrows = WordMap((-lim, lim, -lim, lim), width=250, height=268, title="first pair: q black, k blue")
    (cx, cy), (rx, _) = arrows.px((0, 0)), arrows.px((radius, 0))
    frame = arrows.frame([], [], []) + element("circle", attrs_markup(cx=cx, cy=cy, r=rx - cx, fill="none",
                                                                        stroke="#dddddd"))
    span = curve.max() - curve.min()
    ylim = (curve.min() - 0.15 * span, curve.max() + 0.15 * span)
    chart = LineChart((offsets[0] - 0.5, offsets[-1] + 0.5), ylim, xticks=range(-(n - 1) // 4 * 4, n, 4),
                      yticks=_nice_ticks(*ylim), width=320, height=268, xlabel="offset (query − key)", ylabel="score")

    def draw(query_position, key_position):
        q_rot = rotate(q[None], [query_position], base)[0]
        k_rot = rotate(k[None], [key_position], base)[0]
        score = rope_score(q, k, query_position, key_position, base)
        scene = Scene()
        t = arrows.tile(scene, frame)
        arrows.arrow(scene, t, "q", (0, 0), q_rot[:2], plots.BANK_COLOR)
        arrows.arrow(scene, t, "k", (0, 0), k_rot[:2], plots.RIVER_COLOR)
        t = chart.tile(scene, "curve", "score against the offset")
        chart.line(scene, t, "curve.line", offsets, curve, plots.OTHER_COLOR, markers=True, marker_r=3)
        chart.point(scene, t, "curve.chosen", query_position - key_position, score, plots.BANK_COLOR, r=7)
        return scene, (f"bank's query at {query_position}, river's key at {key_position}: offset "
                       f"{query_position - key_position}, score {score:.2f}")

    controls = {"query_position": int_slider("query at", n - 1, 0, n - 1),
                "key_position": int_slider("key at", n - 2, 0, n - 1)}
    return LivePanel(controls, draw, title="Rotary positions: only the offset counts")


def panels():
    """The notebook's live panels, by name, built as the notebook builds them."""
    return {"waves": waves_panel(), "order": order_panel(), "previous": previous_word_panel(),
            "rope": rope_panel()}
