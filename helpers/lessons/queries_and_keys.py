"""Notebook 02, queries and keys: the lesson's numbers, static figures and live panels.

The story: *bank* asks a question (its query q = x W_q), every word offers a key
(k = x W_k), and the score q·k says how well they match; the score is a sum of one
term per dimension, so a term-by-term view shows which dimensions make *bank* listen
to *river*. Long vectors make scores spread like sqrt(d_k), which is why attention
divides them by sqrt(d_k) before the softmax.

    numbers   BANK_SLIDER_NAMES, bank_row, signed_sum, scaling_samples, score_row_limits, snap_up
    figures   listening_question, outline_row, projection_matrices_figure, TermByTerm,
              term_by_term_figure, score_rows_figure, spread_vs_dk, saturation_vs_dk (matplotlib)
    panels    bank_embedding_panel (six sliders edit bank's embedding), scaling_panel (a d_k
              slider); panels() builds both as the notebook does
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc

from ..attention import demo_head, softmax
from ..embeddings import SENTENCE, SHORT_DIMENSIONS, display_word, sentence_matrix, top_words
from ..panels import LivePanel, Scene, dropdown, int_slider, slider
from ..panels.pieces.bars import bars
from ..panels.pieces.chart import Chart
from ..panels.pieces.heatmap import colourbar, heatmap, heatmap_size
from ..plots import (BANK_COLOR, FONT, NEGATIVE_COLOR, OTHER_COLOR, POSITIVE_COLOR, RIVER_COLOR, SIGNED_CMAP,
                     SIGNED_COLORS, SMALL_FONT, TOWN_COLOR, Bars, new_figure, signed_heatmap, word_color)

UNSCALED_COLOR = TOWN_COLOR
SCALED_COLOR = RIVER_COLOR
#: Names of the six sliders of bank_embedding_panel, one per toy dimension.
BANK_SLIDER_NAMES = tuple(f"bank_{d}" for d in SHORT_DIMENSIONS)


# ------------------------------------------------------------------ the numbers


def clean_number(value, digits=2):
    """`value` rounded to `digits`, with -0.0 turned into 0.0 (so it never prints as -0.00)."""
    return round(float(value), digits) + 0.0


def signed_sum(terms):
    """[1.26, -0.8, 0] -> '1.26 - 0.80 + 0.00' (rounded, no -0.00)."""
    vals = [clean_number(t) for t in terms]
    text = f"{vals[0]:.2f}"
    for v in vals[1:]:
        text += f" - {-v:.2f}" if v < 0 else f" + {v:.2f}"
    return text


def bank_row(X, i, x, W_q, W_k):
    """(q, K, scores) when row i of X (the word's embedding) is replaced by `x`: the word's
    query q = x W_q (d_k,), every word's key K = X W_k (n, d_k) with its own key x W_k among
    them, and its row of scores K q = q·k_j (n,)."""
    X = np.array(X, dtype=float)
    X[i] = x
    q = X[i] @ W_q
    K = X @ W_k
    return q, K, K @ q


def snap_up(x):
    """The smallest power of two >= x (x > 0): limits rounded out to it change seldom."""
    return float(2.0 ** np.ceil(np.log2(x)))


def score_row_limits(values, floor=(-1.0, 8.0), snap=False):
    """Fixed y-limits for a row of scores: `floor` unless the values need more room.

    snap=True rounds them out to powers of two (snap_up), e.g. for a slider panel.
    """
    values = np.asarray(values, dtype=float)
    lo = min(floor[0], float(np.floor(values.min() * 1.2)))
    hi = max(floor[1], float(np.ceil(values.max() * 1.2)))
    if snap:
        lo, hi = -snap_up(-lo), snap_up(hi)
    return lo, hi


#: The longest vectors notebook 02's section 6 measures (its table of spreads).
TABLE_MAX_DK = 512


def scaling_samples(n_pairs=2000, n_keys=9, max_dk=256, seed=0):
    """The random numbers behind scaling_panel, drawn in this order from default_rng(seed):
    q_pairs and k_pairs (n_pairs, max(max_dk, 512)) in float32, then q (max_dk,) and keys
    (n_keys, max_dk), all i.i.d. standard normal. The pairs are the ones notebook 02's
    table of spreads draws first (seed 0), so the panel's spread at a d_k is the table's.
    Returns the pairs cut to max_dk columns; a panel with d_k uses the first d_k of each."""
    rng = np.random.default_rng(seed)
    width = max(max_dk, TABLE_MAX_DK)
    q_pairs = rng.standard_normal((n_pairs, width), dtype=np.float32)[:, :max_dk]
    k_pairs = rng.standard_normal((n_pairs, width), dtype=np.float32)[:, :max_dk]
    q = rng.standard_normal(max_dk)
    keys = rng.standard_normal((n_keys, max_dk))
    return q_pairs, k_pairs, q, keys


SCALING_EDGES = np.arange(-50.5, 51.0, 1.0)  # histogram bins of width 1 centred on -50..50
#: The d_k the scaling panel starts at: one head of the paper's base model (d_model 512, 8 heads).
#: At our head's d_k = 6 both histograms would be narrow spikes in the middle of axes wide
#: enough for d_k = 256; at 64 the first picture already shows the point: a wide orange
#: spread (std about 8) next to a narrow blue one (std about 1).
SCALING_START_DK = 64


#: axis_ticks gives at most 9 ticks (-4 to 4 steps when lo = -hi): the panels key that many
#: tick slots, so that an axis that widens is a patch of a few numbers, not a new picture.
AXIS_TICK_SLOTS = 9


def axis_ticks(lo, hi):
    """About five round tick values from lo to hi (limits made by score_row_limits(snap=True))."""
    step = max(hi, -lo) / 4
    return tuple(float(k * step) for k in range(int(np.ceil(lo / step)), int(np.floor(hi / step)) + 1))


# ------------------------------------------------------------------ static figures


def listening_question(ax, tokens, query_index, *, question=None):
    """The question attention answers, as a picture: dashed arcs with a '?' from the
    query word to every other word of the sentence. Static; returns `ax`."""
    n = len(tokens)
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylim(-0.9, n / 2 + 1.2)  # room for the top '?' under the title
    ax.axis("off")
    for i, tok in enumerate(tokens):
        ax.text(i, -0.35, display_word(tok), ha="center", va="top", fontsize=FONT + 2,
                color=word_color(tok), fontweight="bold" if i == query_index else "normal")
    for j in range(n):
        if j == query_index:
            continue
        center, width = (query_index + j) / 2, abs(j - query_index)
        ax.add_patch(Arc((center, 0), width, width * 1.2, theta1=0, theta2=180,
                         color=OTHER_COLOR, linewidth=1.5, linestyle="--"))
        ax.text(center, width * 0.6 + 0.05, "?", ha="center", va="bottom", fontsize=FONT + 1,
                color=BANK_COLOR, fontweight="bold")
    if question:
        ax.set_title(question, fontsize=FONT + 2)
    return ax


def outline_row(ax, row, ncols, color=BANK_COLOR):
    """Draw a thick frame around row `row` of a heatmap drawn on `ax`."""
    from matplotlib.patches import Rectangle
    ax.add_patch(Rectangle((-0.5, row - 0.5), ncols, 1, fill=False, edgecolor=color,
                           linewidth=3, clip_on=False))


class TermByTerm:
    """The dot product q·k written out term by term (a "neuron view").

    Top axes: three rows of six coloured cells, q (the query), k (one key) and
    their elementwise product q×k, one column per dimension, with the value
    written in each cell. All three rows share ONE symmetric colour scale, from
    -vmax to vmax (gold positive, purple negative), shown by a colour bar next
    to the cells: a pale cell is a small number whichever row it is in.
    vmax=None takes snap_up(largest absolute value of the first q, k and q×k), at least 1;
    a slider panel passes the largest value its sliders can reach, so the scale never moves.
    Bottom axes: a waterfall: each product is a bar that starts where the
    previous one ended, and the last bar, '= score', is their sum q·k.
    `update(q, k, query_word, key_word)` changes the existing artists only.
    snap=True rounds the waterfall's limits out to powers of two (see snap_up), so that
    a slider panel rescales it seldom.
    """

    def __init__(self, ax_cells, ax_sum, q, k, query_word="bank", key_word="river", *,
                 dimensions=SHORT_DIMENSIONS, cmap=SIGNED_CMAP, snap=False, vmax=None):
        from matplotlib.patches import Rectangle
        self.ax_cells, self.ax_sum = ax_cells, ax_sum
        self.snap = snap
        self.cmap = plt.get_cmap(cmap)
        if vmax is None:
            first = np.abs(np.concatenate([np.ravel(q), np.ravel(k), np.ravel(np.multiply(q, k))]))
            vmax = snap_up(max(float(first.max()), 1.0))
        self.norm = mpl.colors.Normalize(-float(vmax), float(vmax))
        self.mappable = mpl.cm.ScalarMappable(norm=self.norm, cmap=self.cmap)
        d = len(dimensions)
        ax_cells.set_xlim(-0.5, d - 0.5)
        ax_cells.set_ylim(2.5, -0.5)
        ax_cells.set_xticks(range(d), dimensions)
        ax_cells.xaxis.tick_top()
        ax_cells.set_yticks([])
        ax_cells.spines[:].set_visible(False)
        self.colorbar = ax_cells.figure.colorbar(self.mappable, ax=ax_cells, fraction=0.05, pad=0.02,
                                                 ticks=[-vmax, 0, vmax], aspect=6)
        self.colorbar.ax.tick_params(labelsize=SMALL_FONT - 1)
        self.colorbar.ax.set_yticklabels([f"{-vmax:g}", "0", f"{vmax:g}"])
        self.colorbar.set_label("value", fontsize=SMALL_FONT - 1, labelpad=-4)
        self.cells, self.cell_texts, self.row_labels = [], [], []
        for r in range(3):
            row_cells, row_texts = [], []
            for c in range(d):
                rect = Rectangle((c - 0.48, r - 0.45), 0.96, 0.9, edgecolor="white")
                ax_cells.add_patch(rect)
                row_cells.append(rect)
                row_texts.append(ax_cells.text(c, r, "", ha="center", va="center", fontsize=SMALL_FONT))
            self.cells.append(row_cells)
            self.cell_texts.append(row_texts)
            self.row_labels.append(ax_cells.text(-0.62, r, "", ha="right", va="center", fontsize=FONT))
        # waterfall: one bar per dimension, then the total
        self.steps = ax_sum.bar(range(d), np.zeros(d), width=0.7)
        self.total = ax_sum.bar([d], [0.0], width=0.7, color=BANK_COLOR)[0]
        self.step_texts = [ax_sum.text(c, 0, "", ha="center", fontsize=SMALL_FONT - 1) for c in range(d + 1)]
        ax_sum.axhline(0, color="black", linewidth=0.8)
        ax_sum.set_xticks(range(d + 1), list(dimensions) + ["= score"], rotation=30, ha="right")
        ax_sum.set_xlim(-0.6, d + 0.6)
        ax_sum.set_ylabel("running sum")
        self.update(q, k, query_word, key_word)

    def update(self, q, k, query_word="bank", key_word="river"):
        q = np.asarray(q, dtype=float)
        k = np.asarray(k, dtype=float)
        prod = q * k
        score = float(prod.sum())
        for r, (name, values) in enumerate(((f"q {display_word(query_word)}", q),
                                            (f"k {display_word(key_word)}", k),
                                            ("q × k", prod))):
            self.row_labels[r].set_text(name)
            for rect, text, v in zip(self.cells[r], self.cell_texts[r], values):
                shade = float(np.clip(self.norm(v), 0.0, 1.0))  # one scale for all rows; 0.5 = zero
                rect.set_facecolor(self.cmap(shade))
                text.set_text(f"{clean_number(v):.2f}")
                text.set_color("white" if abs(shade - 0.5) > 0.3 else "black")
        start = np.concatenate([[0.0], np.cumsum(prod)[:-1]])
        for bar, s, p in zip(self.steps, start, prod):
            bar.set_y(s)
            bar.set_height(p)
            bar.set_color(POSITIVE_COLOR if p >= 0 else NEGATIVE_COLOR)
        self.total.set_height(score)
        lows = np.concatenate([np.minimum(start, start + prod), [min(score, 0.0)]])
        highs = np.concatenate([np.maximum(start, start + prod), [max(score, 0.0)]])
        lo = min(0.0, float(lows.min()))
        hi = max(1.0, float(highs.max()))
        pad = 0.18 * (hi - lo)
        lo, hi = lo - (pad if lo < 0 else 0), hi + pad
        if self.snap:
            lo, hi = (-snap_up(-lo) if lo < 0 else 0.0), snap_up(hi)
        self.ax_sum.set_ylim(lo, hi)
        values = list(prod) + [score]
        for c, (text, v, top) in enumerate(zip(self.step_texts, values, highs)):
            text.set_position((c, top))
            text.set_va("bottom")
            v = clean_number(v)
            text.set_text(f"{v:+.2f}" if c < len(prod) else f"{v:.2f}")
        self.ax_sum.set_title(f"q·k = {score:.2f}", fontsize=FONT)
        return score


def projection_matrices_figure(W_q, W_k, dimensions, *, ask=(3, 5), figsize=(6.6, 9.4)):
    """W_q (d_model, d_k) above W_k (d_model, d_k) as annotated heatmaps on ONE colour scale
    (symmetric, ±the largest absolute entry of both) with one shared colour bar, so equal
    numbers get equal colours in both. Embedding dimensions down the rows, query/key
    dimensions along the columns; the entry `ask` (row, col) of W_q is framed."""
    from matplotlib.patches import Rectangle
    fig, (ax_q, ax_k) = new_figure(2, 1, figsize=figsize, layout="constrained")
    fig.get_layout_engine().set(hspace=0.06)  # room between W_q's axis label and W_k's title
    lim = float(max(np.abs(W_q).max(), np.abs(W_k).max())) or 1.0
    common = dict(fmt="{:g}", ylabel="embedding dimension (row)", vmin=-lim, vmax=lim, colorbar=False)
    hm_q = signed_heatmap(ax_q, W_q, dimensions, dimensions, xlabel="query dimension (column)",
                          title="W_q: diagonal keeps the meaning,\nframed entry: place asks for topic",
                          **common)
    signed_heatmap(ax_k, W_k, dimensions, dimensions, xlabel="key dimension (column)",
                   title="W_k = identity: the key is the word itself", **common)
    r, c = ask
    ax_q.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=BANK_COLOR, linewidth=3))
    bar = fig.colorbar(hm_q.image, ax=[ax_q, ax_k], shrink=0.6, aspect=30)
    bar.set_label("entry (one scale for both matrices)")
    return fig


def term_by_term_figure(q, keys, *, query_word="bank", figsize=(6.8, 9.4)):
    """One TermByTerm per (key vector (d,), key word) in `keys`, stacked, all on one colour
    scale and one waterfall scale, so that the pairs compare. Returns the figure;
    fig.term_views holds the TermByTerm objects."""
    n = len(keys)
    fig, axes = new_figure(2 * n, 1, figsize=figsize, layout="constrained",
                           height_ratios=[1, 1.7] * n)
    q = np.asarray(q, dtype=float)
    biggest = max(float(np.abs(np.concatenate([q, np.asarray(k, float), q * np.asarray(k, float)])).max())
                  for k, _ in keys)
    vmax = snap_up(max(biggest, 1.0))
    views = [TermByTerm(axes[2 * i], axes[2 * i + 1], q, k, query_word, word, vmax=vmax)
             for i, (k, word) in enumerate(keys)]
    lo = min(v.ax_sum.get_ylim()[0] for v in views)
    hi = max(v.ax_sum.get_ylim()[1] for v in views)
    for v in views:
        v.ax_sum.set_ylim(lo, hi)  # same scale for every pair, to compare
    fig.term_views = views
    return fig


def score_rows_figure(rows, *, word="bank", figsize=(6.8, 7.6)):
    """One bar chart per (tokens, scores (n,), title) in `rows`, stacked, same y-limits."""
    fig, axes = new_figure(len(rows), 1, figsize=figsize, squeeze=False, layout="constrained")
    lo = min(score_row_limits(s)[0] for _, s, _ in rows)
    hi = max(score_row_limits(s)[1] for _, s, _ in rows)
    for ax, (tokens, scores, title) in zip(axes[:, 0], rows):
        ax.set_ylim(lo, hi)
        Bars(ax, tokens, scores, title=title, ylabel=f"score q_{word} · k_j")
        ax.set_xlabel("key word j")
    return fig


def spread_vs_dk(ax, dims, stds, stds_scaled):
    """Measured std of q·k (dots), the curve sqrt(d_k), and the std after dividing by sqrt(d_k)."""
    dims = np.asarray(dims, dtype=float)
    grid = np.linspace(0, dims.max(), 400)
    ax.plot(grid, np.sqrt(grid), color=OTHER_COLOR, linewidth=2, label="√d_k")
    ax.plot(dims, stds, "o", color=UNSCALED_COLOR, markersize=8, label="measured std of q·k")
    ax.plot(dims, stds_scaled, "s", color=SCALED_COLOR, markersize=7,
            label="measured std of q·k / √d_k")
    ax.axhline(1.0, color=SCALED_COLOR, linewidth=1, linestyle=":")
    ax.set_xlabel("d_k (length of q and k)")
    ax.set_ylabel("standard deviation")
    ax.set_xlim(0, dims.max() * 1.03)
    ax.set_ylim(0, np.sqrt(dims.max()) * 1.12)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return ax


def saturation_vs_dk(ax, dims, max_unscaled, max_scaled, n_keys):
    """Average largest softmax weight over n_keys random scores, without and with scaling."""
    ax.plot(dims, max_unscaled, "o-", color=UNSCALED_COLOR, linewidth=2, markersize=8,
            label="softmax(q·k)")
    ax.plot(dims, max_scaled, "s-", color=SCALED_COLOR, linewidth=2, markersize=7,
            label="softmax(q·k / √d_k)")
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--")
    ax.text(dims[0], 0.985, "one-hot: all weight on one key", va="top", fontsize=SMALL_FONT)
    ax.axhline(1 / n_keys, color=OTHER_COLOR, linewidth=1, linestyle="--")
    ax.text(dims[0], 1 / n_keys + 0.015, f"uniform: 1/{n_keys}", va="bottom", fontsize=SMALL_FONT,
            color=OTHER_COLOR)
    ax.set_xscale("log", base=2)
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.minorticks_off()
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("d_k (length of q and k)")
    ax.set_ylabel(f"largest of {n_keys} weights\n(average over trials)")
    ax.grid(alpha=0.3)
    ax.legend(loc="center right")
    return ax


# ------------------------------------------------------------------ live panels

STRIP_CELL = 56  # px: room for "-12.00" in a cell of the term-by-term strip
ROW_SIZE = (560, 270)  # the score row and the waterfall: one row of the notebook column each


def term_colour_limit(W_q, W_k, X):
    """The largest |q|, |k| or |q×k| any setting of the sliders (each in [-1, 1]) can give:
    the fixed limit of the term-by-term strip's colour scale (12 for the demo head)."""
    q_max = float(np.abs(W_q).sum(axis=0).max())
    k_max = max(float(np.abs(W_k).sum(axis=0).max()), float(np.abs(X @ W_k).max()))
    return max(q_max, k_max, q_max * k_max)


class WideningLimits:
    """Axis limits for a slider panel: powers of two (score_row_limits(snap=True)) that only
    widen while the controls move, so the axes change a few times a session (keyed ticks:
    each change is a patch); `start=True` (the controls at their start) gives the first limits again."""

    def __init__(self, values):
        self.first = self.shown = score_row_limits(values, snap=True)

    def __call__(self, values, start=False):
        lo, hi = score_row_limits(values, snap=True)
        self.shown = self.first if start else (min(lo, self.shown[0]), max(hi, self.shown[1]))
        return self.shown


def score_row_tile(scene, tokens, scores, word, limits):
    """The word's scores against every word of the sentence, as bars coloured like the words,
    on the y-limits `limits` (lo, hi)."""
    lo, hi = limits
    bars(scene, "row", np.round(scores, 2) + 0.0, [display_word(t) for t in tokens],
         colours=[word_color(t) for t in tokens], title=f"{display_word(word)}'s row of scores",
         ylabel=f"q_{word} · k_j", ylim=(lo, hi), ticks=axis_ticks(lo, hi), width=ROW_SIZE[0],
         height=ROW_SIZE[1], rotate=45, numbers="{:.2f}", tick_slots=AXIS_TICK_SLOTS)


def term_strip_tiles(scene, q, k, word, key, limit, size):
    """q, k and q×k as three rows of cells on ONE signed colour scale (±limit), and its colour bar."""
    values = np.round(np.array([q, k, q * k], dtype=float), 2) + 0.0
    heatmap(scene, "terms", values, [f"q {display_word(word)}", f"k {display_word(key)}", "q × k"],
            SHORT_DIMENSIONS, title="q, k and q × k: one colour scale", cell=STRIP_CELL, signed=limit,
            numbers="{:.2f}", size=size)
    height, top = size[1], size[3]
    colourbar(scene, height, top=top, bottom=height - top - 3 * STRIP_CELL,
              ticks=(-limit, 0.0, limit), label="value", signed=limit)


def running_sum(products):
    """(lows, highs) of the waterfall's bars: term d spans the running sum before and after
    it; the last bar, the score, spans 0..score."""
    score = float(np.sum(products))
    start = np.concatenate([[0.0], np.cumsum(products)[:-1]])
    end = start + products
    return (np.concatenate([np.minimum(start, end), [min(score, 0.0)]]),
            np.concatenate([np.maximum(start, end), [max(score, 0.0)]]))


def waterfall_tile(scene, products, limits):
    """The score as a running sum: each term a bar that starts where the last one ended
    (gold adds, purple takes away), then the total '= score' from zero (black)."""
    d = len(products)
    score = float(np.sum(products))
    start = np.concatenate([[0.0], np.cumsum(products)[:-1]])
    end = start + products
    highs = running_sum(products)[1]
    lo, hi = limits
    chart = Chart(*ROW_SIZE, (-0.6, d + 0.6), (lo, hi), yticks=axis_ticks(lo, hi), rotate=30,
                  xticks=list(enumerate(SHORT_DIMENSIONS + ("= score",))), ylabel="running sum",
                  tick_slots=AXIS_TICK_SLOTS)
    t = chart.tile(scene, "sum", title=f"q·k = {score:.2f}")
    x = np.arange(d + 1, dtype=float)
    fills = [POSITIVE_COLOR if p >= 0 else NEGATIVE_COLOR for p in products] + [BANK_COLOR]
    chart.rects(scene, t, "sum.b", x - 0.35, x + 0.35, np.append(start, 0.0), np.append(end, score), fills)
    texts = [f"{clean_number(p):+.2f}" for p in products] + [f"{clean_number(score):.2f}"]
    chart.texts(scene, t, "sum.v", x, highs, texts)
    return score


def bank_embedding_panel(sentence=SENTENCE, word="bank", key="river"):
    """Six sliders edit `word`'s embedding; its row of scores q·k_j and one score term by term.

    Controls: `bank_town` ... `bank_topic` (the embedding of `word`, one slider per
    dimension, starting at the toy vector) and `key` (which key word the term-by-term
    view shows). The head is demo_head(); the edited embedding is the word's row of X,
    so it changes both its query (x W_q) and its own key (x W_k).
    Picture: the word's scores against every word (bars); q, k and q×k as cells on one
    fixed colour scale (the colour bar: the largest value any slider setting can give);
    the waterfall summing q×k to the score. Readout: the vector, the query, the top
    three scores and the chosen sum. The bars' and the waterfall's axes are powers of
    two that only widen while the controls move (their ticks are keyed, so a wider axis is
    a patch too) and are the first ones again when the controls are back at the start.
    """
    tokens, X = sentence_matrix(sentence)  # (n, 6)
    if word not in tokens:
        raise ValueError(f"{word!r} is not a word of the sentence {sentence!r}; its words are {tokens}")
    if key not in tokens:
        raise ValueError(f"key {key!r} is not a word of the sentence; choose from {tokens}")
    W_q, W_k, _ = demo_head()
    i = tokens.index(word)
    words = list(dict.fromkeys(tokens))
    key0 = key
    limit = term_colour_limit(W_q, W_k, X)
    longest_key = max((f"k {display_word(w)}" for w in words), key=len)
    size = heatmap_size([f"q {display_word(word)}", longest_key, "q × k"], SHORT_DIMENSIONS, cell=STRIP_CELL)

    q, K, s = bank_row(X, i, X[i], W_q, W_k)
    row_limits = WideningLimits(s)
    sum_limits = WideningLimits(np.concatenate(running_sum(q * K[tokens.index(key)])))

    def draw(key, **dims):
        x = np.array([dims[name] for name in BANK_SLIDER_NAMES], dtype=float)
        q, K, s = bank_row(X, i, x, W_q, W_k)
        j = tokens.index(key)
        at_start = key == key0 and np.allclose(x, X[i])
        scene = Scene()
        score_row_tile(scene, tokens, s, word, row_limits(s, at_start))
        term_strip_tiles(scene, q, K[j], word, key, limit, size)
        score = waterfall_tile(scene, q * K[j], sum_limits(np.concatenate(running_sum(q * K[j])), at_start))
        # (lines of at most about 60 characters: the readout fits a 600 px notebook column)
        vec = ", ".join(f"{clean_number(v):.2f}" for v in x)
        return scene, (f"x_{word} = [{vec}]\n"
                       f"q_{word} = x_{word} W_q = [{', '.join(f'{clean_number(v):.2f}' for v in q)}]\n"
                       f"top scores: {top_words(tokens, s)}\n"
                       f"{word} · {display_word(key)}: {signed_sum(q * K[j])} = {score:.2f}")

    controls = {name: slider(f"{word}: {dim}", float(X[i, d]), min=-1.0, max=1.0, step=0.05)
                for d, (name, dim) in enumerate(zip(BANK_SLIDER_NAMES, SHORT_DIMENSIONS))}
    controls["key"] = dropdown("key word", words, key)
    return LivePanel(controls, draw, title=f"Edit {word}'s embedding: who does it listen to?")


def scaling_charts(n_pairs, n_keys):
    """The two fixed frames of scaling_panel: the histograms of q·k, the softmax weights."""
    hist = Chart(560, 300, (SCALING_EDGES[0], SCALING_EDGES[-1]), (0.0, 0.65),
                 yticks=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), xticks=[(v, f"{v:g}") for v in (-40, -20, 0, 20, 40)],
                 xlabel=f"score (one per random pair, {n_pairs} pairs)", ylabel="share of pairs per unit",
                 legend=((UNSCALED_COLOR, "q·k"), (SCALED_COLOR, "q·k / √d_k")), opacity=0.6)
    weights = Chart(560, 280, (0.4, n_keys + 0.6), (0.0, 1.05), yticks=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                    xticks=[(j, str(j)) for j in range(1, n_keys + 1)],
                    xlabel=f"key (one query, {n_keys} random keys)", ylabel="softmax weight",
                    hlines=((1 / n_keys, OTHER_COLOR, f"1/{n_keys}"),))
    return hist, weights


def scaling_panel(d_k=SCALING_START_DK, n_pairs=2000, n_keys=9, max_dk=256, seed=0):
    """A d_k slider (1..max_dk, starting at d_k): the spread of q·k and the softmax weights,
    with and without dividing by sqrt(d_k).

    Top: histograms of q·k over n_pairs random pairs (unscaled and divided by sqrt(d_k)),
    on fixed bins and fixed axes (so a wider spread looks wider). Bottom: softmax
    weights of one random query over n_keys random keys, unscaled and scaled.
    The numbers come from scaling_samples(n_pairs, n_keys, max_dk, seed); moving the
    slider uses more or fewer of the same coordinates, so the picture changes smoothly.
    """
    q_pairs, k_pairs, q, keys = scaling_samples(n_pairs, n_keys, max_dk, seed)
    pair_dots = np.cumsum(q_pairs * k_pairs, axis=1, dtype=float).T.copy()  # (max_dk, n_pairs): row d-1 = q·k, d_k=d
    key_dots = np.cumsum(q[None, :] * keys, axis=1)  # (n_keys, max_dk)
    hist, weights = scaling_charts(n_pairs, n_keys)
    left, right = tuple(SCALING_EDGES[:-1].tolist()), tuple(SCALING_EDGES[1:].tolist())
    x = np.arange(1, n_keys + 1, dtype=float)
    x_u, x_s, x_r = tuple((x - 0.4).tolist()), tuple(x.tolist()), tuple((x + 0.4).tolist())

    def draw(d_k):
        d_k = int(d_k)
        dots = pair_dots[d_k - 1]
        scaled = dots / np.sqrt(d_k)
        s = key_dots[:, d_k - 1]
        w_u, w_s = softmax(s), softmax(s / np.sqrt(d_k))
        scene = Scene()
        t = hist.tile(scene, "hist", title=f"d_k = {d_k}: std {dots.std():.2f}, scaled {scaled.std():.2f}")
        for name, values, colour in (("u", dots, UNSCALED_COLOR), ("s", scaled, SCALED_COLOR)):
            heights = np.histogram(values, bins=SCALING_EDGES, density=True)[0]
            hist.columns(scene, t, f"hist.{name}", left, right, heights, colour, opacity=0.6)
        t = weights.tile(scene, "w", title=f"softmax weights; largest {w_u.max():.2f}, scaled {w_s.max():.2f}")
        weights.columns(scene, t, "w.u", x_u, x_s, w_u, UNSCALED_COLOR)
        weights.columns(scene, t, "w.s", x_s, x_r, w_s, SCALED_COLOR)
        return scene, (f"d_k = {d_k}\n"
                       f"spread (std) of q·k over {n_pairs} pairs: {dots.std():.2f}   (√d_k = {np.sqrt(d_k):.2f})\n"
                       f"after dividing by √d_k:              {scaled.std():.2f}\n"
                       f"largest weight: {w_u.max():.2f} without scaling, {w_s.max():.2f} with scaling")

    return LivePanel({"d_k": int_slider("d_k", d_k, 1, max_dk)}, draw, title="How long vectors blow up the scores")


def panels():
    """Notebook 02's live panels, built as the notebook builds them, by name."""
    return {"bank": bank_embedding_panel(), "d_k": scaling_panel()}
