"""Notebook 06, word order: the lesson's numbers, figures and live panels.

The story: the head of notebooks 02-04 gives *bank* the same output whatever the
order of the words; adding the paper's sinusoidal positions (helpers.positions)
makes the order count; a head that looks at the previous word needs them; rotary
positions make a score depend on the distance between two words only.

The toy uses base 100 for its waves instead of the paper's 10000: with 6 numbers
per word and 9 words, base 10000 makes the two slower waves almost flat over the
sentence (they suit 512 numbers and sentences of thousands of words).
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from .. import plots
from ..attention import demo_head, scaled_dot_product_attention
from ..embeddings import SENTENCE, display_word, sentence_matrix, toy_vectors
from ..positions import angles, rotate, sinusoidal
from ..widgets import Panel, int_slider, slider

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


def waves_panel(n=9, d=6, base=TOY_BASE, figsize=(5.7, 5.0)):
    """Pick a column (dimension) and a position of the table: see its wave and the value.

    Controls: `dimension` 0..d-1, `position` 0..n-1. Top: the column's wave over
    positions, with a dot per word; bottom: the table, the chosen cell framed.
    """
    table = sinusoidal(n, d, base)
    theta = angles(np.arange(n), d, base)
    fig, (ax_wave, ax_table) = plots.new_figure(2, 1, figsize=figsize, height_ratios=[1, 1.5])
    x = np.linspace(0, n - 1, 200)
    line, = ax_wave.plot(x, np.sin(x), color=plots.RIVER_COLOR, linewidth=2)
    dots, = ax_wave.plot(range(n), table[:, 0], "o", color=plots.OTHER_COLOR)
    chosen, = ax_wave.plot([0], [0], "o", markersize=12, color=plots.BANK_COLOR)
    ax_wave.set_ylim(-1.2, 1.2)
    ax_wave.set_xlabel("position")
    title = ax_wave.set_title(" ")
    plots.signed_heatmap(ax_table, table, [str(p) for p in range(n)],
                         [f"{'sin' if j % 2 == 0 else 'cos'} {j // 2}" for j in range(d)],
                         xlabel="column", ylabel="position", colorbar=False, vmin=-1, vmax=1)
    frame = plots.mpl.patches.Rectangle((-0.5, -0.5), 1, 1, fill=False, linewidth=3,
                                        edgecolor=plots.BANK_COLOR)
    ax_table.add_patch(frame)
    fig.tight_layout()

    def update(dimension, position):
        pair, wave = dimension // 2, (np.sin if dimension % 2 == 0 else np.cos)
        omega = theta[1, pair] if n > 1 else 1.0  # radians per position
        line.set_ydata(wave(x * omega))
        dots.set_ydata(table[:, dimension])
        chosen.set_data([position], [table[position, dimension]])
        frame.set_xy((dimension - 0.5, position - 0.5))
        period = 2 * np.pi / omega
        title.set_text(f"column {dimension}: {wave.__name__}(p · {omega:.3f}), repeats every {period:.1f}")
        return (f"P[{position}, {dimension}] = {wave.__name__}({position} × {omega:.3f}) = "
                f"{table[position, dimension]:.2f}; this wave repeats every {period:.1f} positions")

    controls = {"dimension": int_slider("dimension", 0, 0, d - 1),
                "position": int_slider("position", 0, 0, n - 1)}
    return Panel(controls, fig, update, title="The waves of the position table")


def order_panel(word="bank", figsize=(5.7, 5.0)):
    """*word*'s weights in the sentence and in another order of its words, with positions
    mixed in at a chosen strength. Controls: `strength` (0-2), `order` (ORDERS)."""
    tokens, _, weights = head_weights(SENTENCE, 0.0)
    fig, (ax_a, ax_b) = plots.new_figure(2, 1, figsize=figsize)
    bars_a = plots.Bars(ax_a, tokens, weights[tokens.index(word)], ylim=(0, 1.05), ylabel="weight",
                        title=f"“{SENTENCE}”")
    other = ORDERS["reversed"]
    tokens_b, _, weights_b = head_weights(other, 0.0)
    bars_b = plots.Bars(ax_b, tokens_b, weights_b[tokens_b.index(word)], ylim=(0, 1.05),
                        ylabel="weight", title=f"“{other}”")
    fig.tight_layout()

    def update(strength, order):
        text = ORDERS[order]
        toks_a, _, w_a = head_weights(SENTENCE, strength)
        toks_b, _, w_b = head_weights(text, strength)
        row_a, row_b = w_a[toks_a.index(word)], w_b[toks_b.index(word)]
        bars_a.update(row_a)
        ax_b.set_xticks(range(len(toks_b)), [display_word(t) for t in toks_b], rotation=45, ha="right")
        for bar, t in zip(bars_b.bars, toks_b):
            bar.set_color(plots.word_color(t))
        bars_b.update(row_b)
        ax_b.set_title(f"“{text}”")
        gap = {t: abs(row_b[toks_b.index(t)] - row_a[i]) for i, t in enumerate(toks_a)}
        worst = max(gap, key=gap.get)
        if gap[worst] < 0.005:
            return f"positions × {strength:.1f}: {word}'s weights are the same in both orders"
        return (f"positions × {strength:.1f}: {word}'s weights differ by up to {gap[worst]:.2f} "
                f"({display_word(worst)}: {row_a[toks_a.index(worst)]:.2f} → {row_b[toks_b.index(worst)]:.2f})")

    controls = {"strength": slider("positions ×", 0.0, min=0.0, max=2.0, step=0.1, readout_format=".1f"),
                "order": W.Dropdown(options=list(ORDERS), value="reversed", description="other order",
                                    style={"description_width": "110px"})}
    return Panel(controls, fig, update, title="Same words, another order")


def previous_word_panel(figsize=(5.7, 4.6)):
    """The previous-word head's weights; controls: `strength` of the positions, `sharpness` of W_q."""
    tokens, weights = previous_word_weights()
    fig, ax = plots.new_figure(figsize=figsize)
    heat = plots.heatmap(ax, weights, tokens, tokens, vmin=0, vmax=1, annotate=False)
    title = ax.set_title(" ")
    fig.tight_layout()

    def update(strength, sharpness):
        _, w = previous_word_weights(strength=strength, sharpness=sharpness)
        heat.update(w)
        title.set_text(f"positions × {strength:.2f}, sharpness {sharpness:.0f}")
        prev = previous_weights(w)
        i = int(np.argmin(prev))
        return (f"weight on the previous word: smallest {prev[i]:.2f} ({display_word(tokens[i + 1])} → "
                f"{display_word(tokens[i])}), mean {prev.mean():.2f}")

    controls = {"strength": slider("positions ×", 3.0, min=0.0, max=4.0, step=0.25),
                "sharpness": slider("sharpness", 8.0, min=1.0, max=12.0, step=1.0, readout_format=".0f")}
    return Panel(controls, fig, update, title="A head that looks at the previous word")


def rope_panel(n=9, base=TOY_BASE, figsize=(5.7, 3.2)):
    """Rotary positions: bank's query and river's key, turned to their positions.

    Controls: `query_position`, `key_position` (0..n-1). Left: the first pair of
    numbers of q and k as arrows; right: the score against the offset p_q - p_k, which
    is all that the positions change in it.
    """
    q, k = bank_query_river_key()
    distances = np.arange(-(n - 1), n)
    curve = [rope_score(q, k, max(dist, 0), max(-dist, 0), base) for dist in distances]
    fig, (ax_arrows, ax_curve) = plots.new_figure(1, 2, figsize=figsize, width_ratios=[1, 1.3])
    lim = 1.15 * max(np.hypot(*q[:2]), np.hypot(*k[:2]))
    ax_arrows.add_patch(plots.mpl.patches.Circle((0, 0), lim / 1.15, fill=False, color="#DDDDDD"))
    arrow_q = ax_arrows.annotate("", (q[0], q[1]), (0, 0), arrowprops=dict(arrowstyle="-|>", lw=2.5,
                                 color=plots.BANK_COLOR))
    arrow_k = ax_arrows.annotate("", (k[0], k[1]), (0, 0), arrowprops=dict(arrowstyle="-|>", lw=2.5,
                                 color=plots.RIVER_COLOR))
    ax_arrows.set_xlim(-lim, lim)
    ax_arrows.set_ylim(-lim, lim)
    ax_arrows.set_aspect("equal")
    ax_arrows.axis("off")
    ax_arrows.set_title("first pair: q black, k blue", fontsize=plots.SMALL_FONT)
    ax_curve.plot(distances, curve, "-o", color=plots.OTHER_COLOR, markersize=4)
    point, = ax_curve.plot([0], [curve[n - 1]], "o", markersize=11, color=plots.BANK_COLOR)
    ax_curve.set_xlabel("offset (query − key position)")
    ax_curve.set_ylabel("score")
    fig.tight_layout()

    def update(query_position, key_position):
        q_rot = rotate(q[None], [query_position], base)[0]
        k_rot = rotate(k[None], [key_position], base)[0]
        arrow_q.xy = (q_rot[0], q_rot[1])
        arrow_k.xy = (k_rot[0], k_rot[1])
        score = rope_score(q, k, query_position, key_position, base)
        point.set_data([query_position - key_position], [score])
        return (f"bank's query at {query_position}, river's key at {key_position}: offset "
                f"{query_position - key_position}, score {score:.2f}")

    controls = {"query_position": int_slider("query at", n - 1, 0, n - 1),
                "key_position": int_slider("key at", n - 2, 0, n - 1)}
    return Panel(controls, fig, update, title="Rotary positions: only the offset counts")
