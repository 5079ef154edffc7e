"""Pictures of the series: heatmaps, bars, arc diagrams, embedding maps, the pipeline.

Every drawing function draws once and returns a small object whose `update`
changes the existing artists (image data, bar heights, text, line widths), so
slider panels redraw in place instead of building a new figure.
Sizes are chosen for a projector: text at 12 pt or more, labels on both axes,
colour-blind-safe colormaps (viridis for weights, PuOr for signed scores).
"""

from __future__ import annotations

import numpy as np
import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, FancyArrowPatch, Arc

from .embeddings import display_word, RIVER_CLUSTER, TOWN_CLUSTER

FONT = 13  # points; readable from the back of a classroom
SMALL_FONT = 12
WEIGHTS_CMAP = "viridis"  # sequential, colour-blind safe, prints in grey
SIGNED_CMAP = "PuOr_r"  # diverging, colour-blind safe
RIVER_COLOR = "#0072B2"  # Okabe-Ito blue
TOWN_COLOR = "#D55E00"  # Okabe-Ito vermillion
BANK_COLOR = "#000000"
OTHER_COLOR = "#8C8C8C"
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
    """plt.subplots without displaying the figure (panels show it themselves).

    With the ipympl backend the canvas is set to a fixed size without
    toolbar or header, so it neither flickers nor jumps while it updates.
    """
    with plt.ioff():
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, **kwargs)
    canvas = fig.canvas
    for attr, value in (("header_visible", False), ("footer_visible", False),
                        ("toolbar_visible", False), ("resizable", False)):
        if hasattr(canvas, attr):
            setattr(canvas, attr, value)
    return fig, axes


def show(fig):
    """Display a static figure as a PNG image (for pictures without sliders), then close it.

    With the ipympl backend a plain figure would become a live canvas; a PNG
    is lighter, shows in static viewers too, and keeps nbval's text stable.
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
    """A labelled heatmap whose values can be replaced in place (`update`)."""

    def __init__(self, ax, matrix, row_labels, col_labels, *, title=None, cmap=WEIGHTS_CMAP,
                 vmin=None, vmax=None, annotate=None, fmt="{:.2f}", xlabel="key", ylabel="query",
                 colorbar=True):
        matrix = np.asarray(matrix, dtype=float)
        self.ax, self.fmt = ax, fmt
        if vmin is None and vmax is None and cmap == SIGNED_CMAP:
            lim = float(np.abs(matrix).max()) or 1.0
            vmin, vmax = -lim, lim
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
        self.update(matrix)

    def update(self, matrix):
        """Show new values (same shape); colour limits stay fixed unless they were automatic."""
        matrix = np.asarray(matrix, dtype=float)
        self.image.set_data(matrix)
        if self.texts:
            norm = self.image.norm
            for text, ((i, j), value) in zip(self.texts, np.ndenumerate(matrix)):
                text.set_text(self.fmt.format(value))
                shade = norm(value) if norm.vmax != norm.vmin else 0.5
                text.set_color("white" if shade < 0.55 else "black")


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

    Arc thickness and opacity are proportional to the attention weight.
    `update(weights_row)` redraws the arcs in place for a new row of weights.
    """

    def __init__(self, ax, tokens, weights_row, query_index, *, color=RIVER_COLOR, max_width=14):
        self.ax, self.query_index, self.max_width = ax, query_index, max_width
        n = len(tokens)
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_ylim(-0.9, n / 2 + 0.3)
        ax.axis("off")
        for i, tok in enumerate(tokens):
            weight = "bold" if i == query_index else "normal"
            ax.text(i, -0.35, display_word(tok), ha="center", va="top", fontsize=FONT,
                    rotation=30 if n > 10 else 0, color=word_color(tok), fontweight=weight)
        self.arcs, self.labels = [], []
        for j in range(n):
            center = (query_index + j) / 2
            width = max(abs(j - query_index), 0.35)
            arc = Arc((center, 0), width, width * 1.2 if j != query_index else 0.9,
                      theta1=0, theta2=180, color=color, linewidth=1)
            ax.add_patch(arc)
            self.arcs.append(arc)
            top = (width * 1.2 if j != query_index else 0.9) / 2
            self.labels.append(ax.text(center, top + 0.05, "", ha="center", va="bottom",
                                       fontsize=SMALL_FONT - 1, color=color))
        self.update(weights_row)

    def update(self, weights_row):
        weights_row = np.asarray(weights_row, dtype=float)
        for arc, label, w in zip(self.arcs, self.labels, weights_row):
            arc.set_linewidth(max(w * self.max_width, 0.3))
            arc.set_alpha(float(np.clip(0.25 + w * 1.5, 0.25, 1.0)))
            label.set_text(f"{w:.2f}" if w >= 0.05 else "")


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
            xy = map2d.coords
            pad = 0.35
            limits = (xy[:, 0].min() - pad, xy[:, 0].max() + pad, xy[:, 1].min() - pad, xy[:, 1].max() + pad)
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
                                fontsize=FONT, color=color, fontweight="bold")
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

PIPELINE_STEPS = (
    ("embed", "Embeddings\nX"),
    ("qkv", "Q = XW_q\nK = XW_k\nV = XW_v"),
    ("matmul", "MatMul\nQ Kᵀ"),
    ("scale", "Scale\n1/√d_k"),
    ("mask", "Mask\n(optional)"),
    ("softmax", "SoftMax"),
    ("weighted", "MatMul\nweights · V"),
    ("heads", "several\nheads"),
    ("concat", "Concat"),
    ("project", "Linear\nW_o"),
)


def pipeline_diagram(highlight=(), *, title=None):
    """The attention block as a row of boxes, with the `highlight`ed steps coloured.

    Step keys: embed, qkv, matmul, scale, mask, softmax, weighted, heads,
    concat, project. Returns the (static) matplotlib figure.
    """
    keys = [k for k, _ in PIPELINE_STEPS]
    unknown = [h for h in highlight if h not in keys]
    if unknown:
        raise ValueError(f"unknown pipeline step(s) {unknown}; choose from {keys}")
    with plt.ioff():
        fig, ax = plt.subplots(figsize=(13, 2.6))
    ax.set_xlim(-0.1, len(PIPELINE_STEPS) * 1.3)
    ax.set_ylim(-0.75, 1.25)
    ax.axis("off")
    for i, (key, text) in enumerate(PIPELINE_STEPS):
        x = i * 1.3
        on = key in highlight
        box = FancyBboxPatch((x, 0), 1.05, 1.0, boxstyle="round,pad=0.04",
                             facecolor="#F0E442" if on else "#F2F2F2",
                             edgecolor="black", linewidth=2.5 if on else 1)
        ax.add_patch(box)
        ax.text(x + 0.525, 0.5, text, ha="center", va="center", fontsize=SMALL_FONT - 1,
                fontweight="bold" if on else "normal")
        if i:
            ax.annotate("", (x - 0.04, 0.5), (x - 0.21, 0.5),
                        arrowprops=dict(arrowstyle="-|>", color="black", linewidth=1.2))
    # brackets: one head = steps qkv..weighted, then the multi-head part
    ax.plot([1.3, 1.3 * 7 - 0.25], [-0.2, -0.2], color=RIVER_COLOR, linewidth=3)
    ax.text(1.3 * 4, -0.45, "one attention head: scaled dot-product attention",
            ha="center", va="center", fontsize=SMALL_FONT, color=RIVER_COLOR)
    ax.plot([1.3 * 7, 1.3 * 10 - 0.25], [-0.2, -0.2], color=TOWN_COLOR, linewidth=3)
    ax.text(1.3 * 8.5, -0.45, "multi-head attention", ha="center", va="center",
            fontsize=SMALL_FONT, color=TOWN_COLOR)
    if highlight:
        ax.text(0, 1.18, "you are here: highlighted", fontsize=SMALL_FONT, va="center",
                color="black", style="italic")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# ==== notebook 01 pictures (only the notebook 01 author edits between these lines) ====
# ==== end notebook 01 ====

# ==== notebook 02 pictures (only the notebook 02 author edits between these lines) ====
# ==== end notebook 02 ====

# ==== notebook 03 pictures (only the notebook 03 author edits between these lines) ====
# ==== end notebook 03 ====

# ==== notebook 04 pictures (only the notebook 04 author edits between these lines) ====
# ==== end notebook 04 ====

# ==== notebook 05 pictures (only the notebook 05 author edits between these lines) ====
# ==== end notebook 05 ====
