"""Pictures of the series: heatmaps, bars, arc diagrams, embedding maps, the pipeline.

These are the static figures (matplotlib, shown once as PNG by `show`); live panels
are drawn by helpers.panels as SVG. A drawing function returns a small object that
keeps its artists (image data, bar heights, text, line widths).
Sizes are chosen for a projector: text at 12 pt or more, labels on both axes,
colour-blind-safe colormaps (viridis for weights, purple-gold for signed scores).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, FancyArrowPatch, Arc

from .embeddings import display_word, RIVER_CLUSTER, TOWN_CLUSTER

FONT = 13  # points; readable from the back of a classroom
SMALL_FONT = 12
WEIGHTS_CMAP = "viridis"  # sequential, colour-blind safe, prints in grey
# Signed values (negative purple, 0 white, positive gold) share no hue with the word colours
# below: with PuOr, orange meant both "town word" and "positive value". The purple half is
# PuOr's; the gold half mirrors its lightness (CIELAB L* 87, 71, 52, 28, 13 at hue 90°, 35°
# away from the vermillion of the town words), so both ends are dark and the middle pale.
SIGNED_COLORS = ("#2D004B", "#542788", "#8073AC", "#B2ABD2", "#D8DAEB", "#F7F7F7",
                 "#EFD8A1", "#CAAB45", "#937A19", "#504103", "#292103")
SIGNED_CMAP = mpl.colors.LinearSegmentedColormap.from_list("purple_gold", SIGNED_COLORS)
POSITIVE_COLOR = SIGNED_COLORS[-3]  # gold, from the positive half of SIGNED_CMAP: a term that raises the score
NEGATIVE_COLOR = SIGNED_COLORS[1]  # purple, from the negative half: a term that lowers it
RIVER_COLOR = "#0072B2"  # Okabe-Ito blue
TOWN_COLOR = "#D55E00"  # Okabe-Ito vermillion
BANK_COLOR = "#000000"
OTHER_COLOR = "#8C8C8C"
HIDDEN_COLOR = "#D9D9D9"  # heatmap cells hidden by a mask: light grey, unlike any viridis colour
OUTPUT_COLOR = "#009E73"  # Okabe-Ito green: "after attention"

CLASSROOM_RC = {
    "font.size": FONT,
    "axes.titlesize": FONT + 1,
    "axes.labelsize": FONT,
    "xtick.labelsize": SMALL_FONT,
    "ytick.labelsize": SMALL_FONT,
    "legend.fontsize": SMALL_FONT,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "image.cmap": WEIGHTS_CMAP,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def use_classroom_style():
    """Set matplotlib defaults for projectors: 13 pt text, viridis, clean axes."""
    mpl.rcParams.update(CLASSROOM_RC)


def new_figure(nrows=1, ncols=1, figsize=(7, 4.5), **kwargs):
    """plt.subplots without displaying the figure: `show` displays it once, as a PNG."""
    with plt.ioff():
        return plt.subplots(nrows, ncols, figsize=figsize, **kwargs)


def show(fig):
    """Display a static figure once as a PNG image, then close it (pyplot keeps nothing).

    A PNG shows in static viewers too and keeps nbval's text stable; live pictures
    are helpers.panels' SVG views, not matplotlib figures.
    """
    import io
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))


def word_color(word):
    """The colour a word gets in every picture: river cluster, town cluster, bank, other."""
    if word in RIVER_CLUSTER:
        return RIVER_COLOR
    if word in TOWN_CLUSTER:
        return TOWN_COLOR
    if word == "bank":
        return BANK_COLOR
    return OTHER_COLOR


def _labels(words):
    return [display_word(w) for w in words]


# ------------------------------------------------------------------ heatmap


class Heatmap:
    """A labelled heatmap whose values can be replaced in place (`update`).

    hidden: optional boolean array of the matrix's shape, True where a mask hides the
    pair; those cells are drawn light grey (HIDDEN_COLOR) and, when annotated, say "0".
    """

    def __init__(self, ax, matrix, row_labels, col_labels, *, title=None, cmap=WEIGHTS_CMAP,
                 vmin=None, vmax=None, annotate=None, fmt="{:.2f}", xlabel="key", ylabel="query",
                 colorbar=True, hidden=None):
        matrix = np.asarray(matrix, dtype=float)
        self.ax, self.fmt = ax, fmt
        if vmin is None and vmax is None and cmap == SIGNED_CMAP:
            lim = float(np.abs(matrix).max()) or 1.0
            vmin, vmax = -lim, lim
        cmap = plt.get_cmap(cmap).with_extremes(bad=HIDDEN_COLOR)  # masked cells: grey
        self.image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(matrix.shape[1]), _labels(col_labels), rotation=45, ha="right")
        ax.set_yticks(range(matrix.shape[0]), _labels(row_labels))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.spines[:].set_visible(False)
        if title:
            ax.set_title(title)
        if colorbar:
            ax.figure.colorbar(self.image, ax=ax, fraction=0.046, pad=0.04)
        small = matrix.size <= 100
        self.texts = []
        if annotate if annotate is not None else small:
            for (i, j), _ in np.ndenumerate(matrix):
                self.texts.append(ax.text(j, i, "", ha="center", va="center", fontsize=SMALL_FONT - 1))
        self.update(matrix, hidden)

    def update(self, matrix, hidden=None):
        """Show new values (same shape) and hidden cells; colour limits stay fixed unless automatic."""
        matrix = np.asarray(matrix, dtype=float)
        hidden = np.zeros(matrix.shape, bool) if hidden is None else np.broadcast_to(hidden, matrix.shape)
        shown = np.ma.masked_array(matrix, mask=hidden)
        self.image.set_data(shown)
        if self.texts:
            rgba = self.image.to_rgba(shown)  # the colour of each cell (grey where hidden)
            luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
            for text, ((i, j), value) in zip(self.texts, np.ndenumerate(matrix)):
                text.set_text("0" if hidden[i, j] else self.fmt.format(0.0 if abs(value) < 0.005 else value))
                text.set_color("white" if luminance[i, j] < 0.5 else "black")


def heatmap(ax, matrix, row_labels, col_labels, **kwargs):
    """Draw `matrix` (n_rows, n_cols) with token labels on both axes; returns a Heatmap."""
    return Heatmap(ax, matrix, row_labels, col_labels, **kwargs)


# --------------------------------------------------------------------- bars


class Bars:
    """Labelled vertical bars with their values written on top; `update` in place."""

    def __init__(self, ax, labels, values, *, ylim=None, color=None, fmt="{:.2f}", ylabel=None,
                 title=None):
        values = np.asarray(values, dtype=float)
        self.fmt = fmt
        colors = color if color is not None else [word_color(w) for w in labels]
        self.bars = ax.bar(range(len(values)), values, color=colors)
        ax.set_xticks(range(len(values)), _labels(labels), rotation=45, ha="right")
        ax.axhline(0, color="black", linewidth=0.8)
        if ylim is not None:
            ax.set_ylim(*ylim)
        if ylabel:
            ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        self.ax = ax
        self.texts = [ax.text(i, 0, "", ha="center", va="bottom", fontsize=SMALL_FONT - 1)
                      for i in range(len(values))]
        self.update(values)

    def update(self, values):
        values = np.asarray(values, dtype=float)
        lo, hi = self.ax.get_ylim()
        for bar, text, v in zip(self.bars, self.texts, values):
            bar.set_height(v)
            y = min(max(v, lo), hi)
            text.set_position((bar.get_x() + bar.get_width() / 2, y))
            text.set_va("bottom" if v >= 0 else "top")
            text.set_text(self.fmt.format(v))


# -------------------------------------------------------------- arc diagram


class ArcDiagram:
    """Tokens in a row; an arc from the query word to every word it attends to.

    The weight decides how visible an arc is: its height, line width and opacity all grow
    with the weight, so the word the query listens to most gets the tallest, thickest, darkest
    arc wherever it stands (an arc's span only says which two words it joins). The height is
    relative to the row's largest weight (that arc reaches `TOP`); line width
    (weight × max_width points) and opacity follow the weight itself, so a flat row shows
    equally tall but thin, pale arcs. Each weight is written under its word.
    `update(weights_row)` redraws the arcs in place for a new row of weights (n,).
    """

    FLOOR = 0.08  # an arc of weight ~0 still rises this fraction of TOP, so it reads as an arc
    SELF_SPAN = 0.6  # the loop from the query word to itself

    def __init__(self, ax, tokens, weights_row, query_index, *, color=RIVER_COLOR, max_width=14):
        self.ax, self.query_index, self.max_width = ax, int(query_index), max_width
        n = len(tokens)
        self.top = 0.45 * n  # data units: the height of the largest weight's arc
        ax.set_xlim(-0.6, n - 0.4)
        ax.set_ylim(-0.9, self.top + 0.3)
        ax.axis("off")
        self.token_texts, self.labels, self.arcs = [], [], []
        for i, tok in enumerate(tokens):
            weight = "bold" if i == self.query_index else "normal"
            self.token_texts.append(ax.annotate(
                display_word(tok), (i, 0), xytext=(0, -6), textcoords="offset points", ha="center",
                va="top", fontsize=SMALL_FONT, rotation=30 if n > 10 else 0, color=word_color(tok),
                fontweight=weight))
            self.labels.append(ax.annotate(
                "", (i, 0), xytext=(0, -26), textcoords="offset points", ha="center", va="top",
                fontsize=SMALL_FONT - 1, color=color))
            arc = Arc((i, 0), 1, 1, theta1=0, theta2=180, color=color, linewidth=1)
            ax.add_patch(arc)
            self.arcs.append(arc)
        lo, hi = ax.get_ylim()  # room under the words for the labels (about 44 points)
        ax.set_ylim(min(lo, -44 * self._data_per_point()), hi)
        self.update(weights_row)

    def _data_per_point(self):
        """Data units of y per typographic point, for the axes' current size."""
        lo, hi = self.ax.get_ylim()
        height_pt = self.ax.get_position().height * self.ax.figure.get_figheight() * 72
        return (hi - lo) / height_pt

    def arc_height(self, weights_row):
        """(n,) the height of each arc's top: FLOOR..1 of TOP, growing with the weight."""
        w = np.clip(np.asarray(weights_row, dtype=float), 0, None)
        relative = w / w.max() if w.max() > 0 else w
        return self.top * (self.FLOOR + (1 - self.FLOOR) * relative)

    def update(self, weights_row):
        """Show a new row of weights (n,): arc heights, widths, opacities and labels."""
        self.weights_row = np.asarray(weights_row, dtype=float)
        q = self.query_index
        for j, (arc, label, w, top) in enumerate(zip(self.arcs, self.labels, self.weights_row,
                                                     self.arc_height(self.weights_row))):
            arc.set_center(((q + j) / 2, 0))
            arc.set_width(abs(j - q) if j != q else self.SELF_SPAN)
            arc.set_height(2 * top)  # an Arc's height is its full (vertical) diameter
            arc.set_linewidth(max(w * self.max_width, 0.3))
            arc.set_alpha(float(np.clip(0.25 + w * 1.5, 0.25, 1.0)))
            label.set_text(f"{w:.2f}")


# ---------------------------------------------------------- embedding map


class EmbeddingMap:
    """Words on a fixed 2-D PCA map, coloured by cluster, with movable markers.

    `add_marker(name, vector, ...)` places an extra labelled point (e.g. bank
    after attention); `move(name, vector)` moves it (or a word) in place.
    """

    def __init__(self, ax, map2d, words=None, *, title=None, limits=None):
        self.ax, self.map = ax, map2d
        words = map2d.words if words is None else list(words)
        self.points, self.markers = {}, {}
        for w in words:
            x, y = map2d[w]
            big = w in RIVER_CLUSTER or w in TOWN_CLUSTER or w == "bank"
            dot, = ax.plot([x], [y], "o", color=word_color(w), markersize=11 if big else 6,
                           alpha=1.0 if big else 0.6, zorder=3)
            label = ax.annotate(display_word(w), (x, y), xytext=(6, 5), textcoords="offset points",
                                fontsize=FONT if big else SMALL_FONT - 1,
                                color=word_color(w), fontweight="bold" if big else "normal")
            self.points[w] = (dot, label)
        if limits is None:
            limits = map_limits(map2d.coords)
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
        ax.set_xlabel("map axis 1 (PCA)")
        ax.set_ylabel("map axis 2 (PCA)")
        ax.grid(alpha=0.25)
        if title:
            ax.set_title(title)

    def move(self, name, vector):
        """Move a word or marker to the map position of `vector` (d,)."""
        x, y = self.map(vector)
        x = float(np.clip(x, *self.ax.get_xlim()))
        y = float(np.clip(y, *self.ax.get_ylim()))
        dot, label = self.points.get(name) or self.markers[name][:2]
        dot.set_data([x], [y])
        label.xy = (x, y)
        label.stale = True  # a plain attribute: tell matplotlib (and blitting panels) it moved
        if name in self.markers:
            arrow = self.markers[name][2]
            if arrow is not None:
                arrow.set_positions(arrow._posA_posB[0], (x, y))

    def add_marker(self, name, vector, *, label=None, color=OUTPUT_COLOR, marker="*",
                   arrow_from=None):
        """Add a labelled marker at `vector`; with `arrow_from` (a vector) draw an arrow to it."""
        x, y = self.map(vector)
        dot, = self.ax.plot([x], [y], marker, color=color, markersize=20, zorder=5,
                            markeredgecolor="black")
        text = self.ax.annotate(label or name, (x, y), xytext=(8, -16), textcoords="offset points",
                                fontsize=FONT, color=color, fontweight="bold",
                                zorder=5)  # above the fixed words: only the marker is redrawn
        arrow = None
        if arrow_from is not None:
            start = tuple(self.map(arrow_from))
            arrow = FancyArrowPatch(start, (x, y), arrowstyle="-|>", mutation_scale=20,
                                    color=color, linewidth=2, zorder=4)
            self.ax.add_patch(arrow)
        self.markers[name] = (dot, text, arrow)
        return dot


def embedding_map(ax, map2d, words=None, **kwargs):
    """Draw the words of `map2d` (a helpers.embeddings.Map2D); returns an EmbeddingMap."""
    return EmbeddingMap(ax, map2d, words, **kwargs)


# --------------------------------------------------------- pipeline diagram
#
# The diagram is drawn from a list of step specs, so that later lessons can add steps
# before the heads (word vectors, positions) or after them (Add & Norm, feed-forward)
# by passing a longer list: steps=(*before, *PIPELINE_STEPS, *after).


class PipelineStep(NamedTuple):
    """One box of the pipeline. per_head=True: every head runs it (drawn inside the stack)."""
    key: str
    text: str
    per_head: bool = False


class PipelineBox(NamedTuple):
    """A placed box, in inches from the figure's bottom-left corner.

    key is the step's key, or "heads" for the panels of the stack of heads; copy is
    0 for the front copy (the one whose steps are drawn) and 1, 2, ... for the copies
    behind it; highlighted says whether "you are here" colours it; row counts the rows
    from the top (the data flows left to right in a row, then down to the next row).
    """
    key: str
    text: str
    x: float
    y: float
    w: float
    h: float
    copy: int
    highlighted: bool
    row: int


PIPELINE_STEPS = (
    PipelineStep("embed", "Embeddings X"),
    PipelineStep("qkv", "Q = XW_q\nK = XW_k\nV = XW_v", per_head=True),
    PipelineStep("matmul", "MatMul\nQ Kᵀ", per_head=True),
    PipelineStep("scale", "Scale\n1/√d_k", per_head=True),
    PipelineStep("mask", "Mask\n(optional)", per_head=True),
    PipelineStep("softmax", "SoftMax", per_head=True),
    PipelineStep("weighted", "MatMul\nweights · V", per_head=True),
    PipelineStep("concat", "Concat"),
    PipelineStep("project", "Linear W_o"),
)
#: The rest of a transformer block after W_o (notebook 07): the residual and layer norm around
#: attention, the feed-forward network, its own residual and layer norm (the paper's post-norm order).
BLOCK_STEPS = (
    PipelineStep("addnorm_1", "Add & Norm\nLN(x + MHA(x))"),
    PipelineStep("ffn", "Feed-forward\nd → 4d → d"),
    PipelineStep("addnorm_2", "Add & Norm\nLN(x + FFN(x))"),
)
HEADS = "heads"  # the highlight key of the stack of heads as a whole
HIGHLIGHT_COLOR = "#F0E442"  # Okabe-Ito yellow: "you are here"
PIPELINE_FONT = SMALL_FONT - 1  # 11 pt: the smallest text the series uses

_WIDTH, _MARGIN, _GAP = 6.8, 0.08, 0.17  # inches: figure width (saved with 0.1 in padding: 700 px), edge margin, gap
_BOX_H, _HEAD_BOX_H = 0.42, 0.66  # box heights outside and inside the heads (3 lines)
_PAD, _OFFSET, _ROW_GAP = 0.09, 0.1, 0.36  # panel padding, offset between copies, gap between rows
_CAPTION_H, _TOP_H = 0.32, 0.28  # the heads' caption, the "you are here" line


def _pipeline_rows(steps):
    """Split the steps into runs: [(per_head, [step, ...]), ...] in order."""
    rows = []
    for step in steps:
        if rows and rows[-1][0] == step.per_head:
            rows[-1][1].append(step)
        else:
            rows.append((step.per_head, [step]))
    return rows


def _text_width(text):
    """Width in inches of the longest line of `text`, in bold at PIPELINE_FONT."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    bold = FontProperties(weight="bold")
    return max(TextPath((0, 0), line, size=PIPELINE_FONT, prop=bold).get_extents().width
               for line in text.split("\n")) / 72


def pipeline_layout(steps=PIPELINE_STEPS, highlight=(), *, heads=3):
    """Where each box of the pipeline goes: a list of PipelineBox, in drawing order.

    Steps before the heads form a row on top (left-aligned with the heads), the per-head
    steps a row inside `heads` stacked copies of a panel (copy 0 in front, the others
    offset behind it), the steps after them a row below (right-aligned with the heads).
    Every row is as wide as the figure allows (6.8 in, 700 px once saved with its padding);
    rows too long for it wrap.
    """
    keys = [s.key for s in steps] + [HEADS]
    unknown = [h for h in highlight if h not in keys]
    if unknown:
        raise ValueError(f"unknown pipeline step(s) {unknown}; choose from {keys}")
    if heads < 1:
        raise ValueError(f"heads must be at least 1, not {heads}")
    inner = _WIDTH - 2 * _MARGIN - (heads - 1) * _OFFSET  # the front panel's width
    per_row = max(1, int((inner + _GAP) // (1.2 + _GAP)))
    rows = []  # (per_head, steps); runs outside the heads that are too long wrap to more rows
    for per_head, run in _pipeline_rows(steps):
        size = len(run) if per_head else per_row
        rows += [(per_head, run[i:i + size]) for i in range(0, len(run), size)]

    boxes, y = [], -_TOP_H  # y: top of the next row, measured downward from 0
    after_heads = False
    for k, (per_head, run) in enumerate(rows):
        if per_head:
            after_heads = True
            y -= _CAPTION_H + (heads - 1) * _OFFSET
            panel_h = _HEAD_BOX_H + 2 * _PAD
            top = y
            for c in reversed(range(heads)):  # back copies first, so the front one is drawn last
                boxes.append(PipelineBox(HEADS, "", _MARGIN + c * _OFFSET, top - panel_h + c * _OFFSET,
                                         inner, panel_h, c, HEADS in highlight, k))
            needed = [_text_width(s.text) + 0.1 for s in run]  # bold text and a margin
            spare = (inner - 2 * _PAD - (len(run) - 1) * _GAP - sum(needed)) / len(run)
            if spare < 0:
                raise ValueError(f"{len(run)} steps per head do not fit in {_WIDTH} in; shorten their texts")
            x = _MARGIN + _PAD
            for s, w in zip(run, needed):  # each box as wide as its text, plus an equal share
                boxes.append(PipelineBox(s.key, s.text, x, top - _PAD - _HEAD_BOX_H, w + spare,
                                         _HEAD_BOX_H, 0, s.key in highlight, k))
                x += w + spare + _GAP
            y = top - panel_h - _ROW_GAP
        else:
            share = min(1.5, (inner - (len(run) - 1) * _GAP) / len(run))
            widths = [max(share, _text_width(s.text) + 0.1) for s in run]
            span = sum(widths) + (len(run) - 1) * _GAP
            x = _MARGIN + inner - span if after_heads else _MARGIN  # after the heads: right-aligned
            for s, w in zip(run, widths):
                boxes.append(PipelineBox(s.key, s.text, x, y - _BOX_H, w, _BOX_H, 0, s.key in highlight, k))
                x += w + _GAP
            y -= _BOX_H + _ROW_GAP
    height = -(y + _ROW_GAP) + _MARGIN
    return [b._replace(y=b.y + height) for b in boxes]


def pipeline_diagram(highlight=(), *, title=None, steps=PIPELINE_STEPS, heads=3):
    """The attention layer as boxes, with the `highlight`ed steps coloured ("you are here").

    Like the paper's Figure 2: every head runs the whole chain (Q/K/V projections, MatMul,
    Scale, Mask, SoftMax, MatMul with V), drawn as `heads` stacked copies; then Concat and
    Linear W_o. Keys: the steps' keys (embed, qkv, matmul, scale, mask, softmax, weighted,
    concat, project) and "heads" for the stack as a whole. At most 700 px wide, text of 11 pt or
    more. Every patch and text carries its step's key as gid (panels: "heads:<copy>").
    Returns the (static) matplotlib figure.
    """
    boxes = pipeline_layout(steps, highlight, heads=heads)
    height = max(b.y + b.h for b in boxes) + _TOP_H
    with plt.ioff():
        fig = plt.figure(figsize=(_WIDTH, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, _WIDTH)
    ax.set_ylim(0, height)
    ax.axis("off")
    for b in boxes:
        on = b.highlighted
        if b.key == HEADS:
            ax.add_patch(FancyBboxPatch((b.x, b.y), b.w, b.h, boxstyle="round,pad=0,rounding_size=0.06",
                                        facecolor="#FBF6C8" if on else "white", edgecolor="black",
                                        linewidth=2.2 if on else 1, gid=f"{HEADS}:{b.copy}"))
            continue
        ax.add_patch(FancyBboxPatch((b.x, b.y), b.w, b.h, boxstyle="round,pad=0,rounding_size=0.05",
                                    facecolor=HIGHLIGHT_COLOR if on else "#F2F2F2", edgecolor="black",
                                    linewidth=2.2 if on else 1, gid=b.key))
        ax.text(b.x + b.w / 2, b.y + b.h / 2, b.text, ha="center", va="center", fontsize=PIPELINE_FONT,
                fontweight="bold" if on else "normal", linespacing=1.1, gid=b.key)
    arrow = dict(arrowstyle="-|>", color="black", linewidth=1.2, shrinkA=0, shrinkB=0)
    flow = [b for b in boxes if b.key != HEADS]  # the steps the data runs through, in order
    for a, b in zip(flow, flow[1:]):
        if a.row == b.row:  # left to right
            ax.annotate("", (b.x, b.y + b.h / 2), (a.x + a.w, a.y + a.h / 2), arrowprops=arrow)
            continue
        # the next row: down from a's row, along the gap below it, down into b
        bottom = min(p.y for p in boxes if p.row == a.row)
        xb = b.x + b.w / 2
        if a.x <= xb <= a.x + a.w:  # b lies under a: straight down
            ax.annotate("", (xb, b.y + b.h), (xb, a.y), arrowprops=arrow)
            continue
        xa, mid = a.x + a.w / 2, bottom - _ROW_GAP / 2
        ax.plot([xa, xa, xb], [a.y, mid, mid], color="black", linewidth=1.2)
        ax.annotate("", (xb, b.y + b.h), (xb, mid), arrowprops=arrow)
    panels = [b for b in boxes if b.key == HEADS]
    if panels:
        front = panels[-1]
        on = HEADS in highlight
        ax.text(front.x + 1.0, front.y + front.h + (heads - 1) * _OFFSET + _CAPTION_H / 2,
                "h heads in parallel, each with its own W_q, W_k, W_v",
                ha="left", va="center", fontsize=PIPELINE_FONT, color=RIVER_COLOR,
                fontweight="bold" if on else "normal", gid=HEADS)
    if highlight:
        ax.text(_MARGIN, height - _TOP_H / 2, "you are here: highlighted", fontsize=PIPELINE_FONT,
                va="center", style="italic", gid="legend")
    if title:
        ax.set_title(title)
    return fig



# ---------------------------------------------------------- word heatmaps (notebooks 01 and 04)

def color_tick_labels(ax, words, axis="y"):
    """Colour an axis' tick labels like the words (river blue, town vermillion, bank black)."""
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    for label, word in zip(labels, words):
        label.set_color(word_color(word))
        if word in RIVER_CLUSTER or word in TOWN_CLUSTER or word == "bank":
            label.set_fontweight("bold")


def readable_signed_text(hm):
    """Make the numbers of a Heatmap drawn with SIGNED_CMAP readable: black or white,
    whichever contrasts more with its cell (WCAG), so black on the pale middle of the
    colour map and white on its dark ends, and no "-0.0". Call after `heatmap(...)`/`update`
    (Heatmap.update picks white for the lower half of the scale, which suits viridis
    but puts white numbers on the white middle of a signed map). Returns `hm`."""
    cells = hm.image.to_rgba(np.asarray(hm.image.get_array(), dtype=float)).reshape(-1, 4)
    for text, cell in zip(hm.texts, cells):
        lin = np.where(cell[:3] <= 0.04045, cell[:3] / 12.92, ((cell[:3] + 0.055) / 1.055) ** 2.4)
        lum = float(lin @ [0.2126, 0.7152, 0.0722])
        text.set_color("black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white")
        label = text.get_text()
        if label.startswith("-") and label.lstrip("-0.") == "":  # "-0.0" -> "0.0"
            text.set_text(label[1:])
    return hm


def similarity_heatmap(ax, words, sims, *, title=None):
    """A word x word cosine-similarity matrix, annotated, on a fixed -1..1 signed scale."""
    hm = heatmap(ax, sims, words, words, title=title, cmap=SIGNED_CMAP, vmin=-1, vmax=1,
                 annotate=True, xlabel="word", ylabel="word")
    color_tick_labels(ax, words, "x")
    color_tick_labels(ax, words, "y")
    return readable_signed_text(hm)


def map_limits(points, pad=0.35):
    """Axis limits (x0, x1, y0, y1) around 2-D points (n, 2), widened by `pad`: one number for
    every side, or (left, right, bottom, top) to leave room for labels or a legend on one side.
    The one map-limit function of the series (the maps of notebooks 01 and 04, static and live)."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    left, right, bottom, top = (pad,) * 4 if np.ndim(pad) == 0 else pad
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return (x0 - left, x1 + right, y0 - bottom, y1 + top)


# ---------------------------------------------------------- signed heatmaps (02, 06)


def signed_heatmap(ax, matrix, row_labels, col_labels, **kwargs):
    """heatmap(...) with cmap=SIGNED_CMAP, symmetric limits and readable numbers."""
    hm = heatmap(ax, matrix, row_labels, col_labels, cmap=SIGNED_CMAP, **kwargs)
    return readable_signed_text(hm)


# ---------------------------------------- one query's arcs (notebooks 03 and 05)
class QueryArcDiagram(ArcDiagram):
    """An ArcDiagram whose query word can change in place: `set_query(index, weights_row)`.

    Moves the existing arcs (no new artists), so a panel can switch the query word as
    cheaply as it changes the weights; keys with weight exactly 0 (masked) get no arc
    and no label.
    """

    def set_query(self, query_index, weights_row=None):
        """Make word `query_index` the query (arcs start there); optionally show a new row (n,)."""
        q = self.query_index = int(query_index)
        for j, text in enumerate(self.token_texts):
            text.set_fontweight("bold" if j == q else "normal")
        self.update(self.weights_row if weights_row is None else weights_row)

    def update(self, weights_row):
        """Show a new row of weights (n,); a weight of exactly 0 hides its arc and label."""
        super().update(weights_row)
        for arc, label, w in zip(self.arcs, self.labels, self.weights_row):
            arc.set_visible(bool(w > 0))
            if w <= 0:
                label.set_text("")


def _label_obstacles(emap, renderer, obstacles, fixed_texts):
    """Pixel boxes (x0, y0, x1, y1) the labels must keep clear of: every dot of `emap` (its
    marker size around its centre), the `obstacles` (big markers) and the `fixed_texts`."""
    ax = emap.ax
    to_points = 72.0 / ax.figure.dpi
    dots = [(np.asarray(dot.get_xydata())[0], dot.get_markersize()) for dot, _ in emap.points.values()]
    dots += [(np.asarray(xy, dtype=float), 15.0) for xy in np.reshape(obstacles, (-1, 2))]
    boxes = []
    for xy, size in dots:
        cx, cy = ax.transData.transform(xy)
        r = size / 2 / to_points
        boxes.append((cx - r, cy - r, cx + r, cy + r))
    for text in fixed_texts:
        e = text.get_window_extent(renderer)
        boxes.append((e.x0, e.y0, e.x1, e.y1))
    return boxes


def _overlap(a, box):
    """(dx, dy): how far the extent `a` and the box (x0, y0, x1, y1) overlap (<= 0: they don't)."""
    x0, y0, x1, y1 = box
    return min(a.x1, x1) - max(a.x0, x0), min(a.y1, y1) - max(a.y0, y0)


def _nudge_labels(labels, renderer, dot_boxes, to_points, pad):
    """One round: push apart every pair of overlapping labels (up and down) and push a label off
    a dot it covers. Returns whether anything moved."""
    boxes = [label.get_window_extent(renderer) for label in labels]
    moved = False
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(labels)):
            b = boxes[j]
            dx, dy = _overlap(a, (b.x0, b.y0, b.x1, b.y1))
            if dx <= 0 or dy <= 0:
                continue
            shift = (dy / 2) * to_points + pad
            low, high = (labels[i], labels[j]) if a.y0 <= b.y0 else (labels[j], labels[i])
            low.xyann = (low.xyann[0], low.xyann[1] - shift)
            high.xyann = (high.xyann[0], high.xyann[1] + shift)
            moved = True
        for box in dot_boxes:
            dx, dy = _overlap(a, box)
            if dx <= 0 or dy <= 0:
                continue
            label = labels[i]
            down = (a.y0 + a.y1) / 2 < (box[1] + box[3]) / 2
            shift = dy * to_points + pad
            label.xyann = (label.xyann[0], label.xyann[1] + (-shift if down else shift))
            moved = True
    return moved


def spread_labels(emap, obstacles=(), fixed_texts=(), pad=1.0, max_rounds=60):
    """Move the word labels of an EmbeddingMap until they overlap no other label and no dot.

    First a label that covers another word's dot tries the left side of its own
    dot; then overlapping labels are nudged up or down (in points), so close
    words such as hospital / post office / restaurant stay readable. `obstacles`:
    extra 2-D data points (n, 2) drawn as big markers (e.g. cluster centres);
    `fixed_texts`: other text artists (e.g. a marker's label) to keep clear of.
    Needs a canvas that can measure text (any Agg-based one).
    """
    fig = emap.ax.figure
    renderer = fig.canvas.get_renderer()
    labels = [label for _, label in emap.points.values()]
    for label in labels:  # clear the word's own dot (11 pt wide) horizontally
        label.xyann = (max(label.xyann[0], 9), label.xyann[1])
    to_points = 72.0 / fig.dpi
    dot_boxes = _label_obstacles(emap, renderer, obstacles, fixed_texts)

    def hits_dot(i):
        a = labels[i].get_window_extent(renderer)
        return any(min(dx, dy) > 0 for k, box in enumerate(dot_boxes) if k != i
                   for dx, dy in [_overlap(a, box)])

    for i, label in enumerate(labels):  # try the left side first
        if hits_dot(i):
            old = (label.xyann, label.get_ha())
            label.xyann = (-label.xyann[0], label.xyann[1])
            label.set_ha("right")
            if hits_dot(i):
                label.xyann, _ = old
                label.set_ha(old[1])
    for _ in range(max_rounds):
        if not _nudge_labels(labels, renderer, dot_boxes, to_points, pad):
            break


