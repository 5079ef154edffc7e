"""Notebook 05, multi-head attention: the lesson's static figure and its live panel.

    head_shapes_diagram   the shapes through multi-head attention, from X to the output
    multi_head_panel      the same projections cut into 1, 2, 3 or 6 heads: one heatmap per head
    panels()              the notebook's live panel, built as the notebook builds it

Every weight the panel draws comes from helpers.attention.multi_head_attention; the
panel only cuts the picture: one heatmap per head, a colour strip under them.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from matplotlib.patches import FancyBboxPatch

from .. import plots
from ..attention import demo_heads, multi_head_attention
from ..embeddings import (CONTRAST_SENTENCE, SENTENCE, display_word, sentence_matrix, tokenize, top_words,
                          toy_vectors)
from ..panels import LivePanel, Scene, dropdown, slider, toggle
from ..panels.pieces import FONT_PX, MIN_FONT_PX, TITLE_PX
from ..panels.pieces.colour_strip import colour_strip
from ..panels.pieces.heatmap import heatmap, text_width
from ..panels.scene import STATIC_WIDTH, TILE_GAP

#: A row of weights whose largest and smallest weight differ by less than this picks no word.
FLAT_SPREAD = 0.02
HEAD_COUNTS = (1, 2, 3, 6)
SENTENCES = {"river": SENTENCE, "money": CONTRAST_SENTENCE}
#: How the heatmaps are arranged for each head count: (name, heatmaps, per row, largest cell px,
#: label px). 3 and 6 heads share one arrangement (three in a row), so going from one to the
#: other only shows or hides the second row.
ARRANGEMENTS = {1: ("one", 1, 1, 32, FONT_PX), 2: ("two", 2, 2, 32, FONT_PX),
                3: ("grid", 6, 3, 32, MIN_FONT_PX), 6: ("grid", 6, 3, 32, MIN_FONT_PX)}
STRIP_NOTE = "each row: a query word; each column: a key word"
#: The description of the sharpness slider, and the label width that shows it whole.
SHARPNESS_LABEL = "sharpness × W_q"
LABEL_WIDTH = "140px"


# ------------------------------------------------------------------ the static figure


def head_shapes_diagram(n, d_model, num_heads):
    """Static figure, 7 in wide once shown (6.8 in + the 0.1 in margins of plots.show): the shapes through multi-head attention, top to bottom.

    X (n × d_model) -> Q, K, V -> split into num_heads pieces (n × d_k) side by side ->
    attention in each head -> concat (n × d_model) -> @ W_o -> output (n × d_model).
    """
    d_k = d_model // num_heads
    width, height = 6.8, 4.0  # inches; the axes' data units are inches too
    with plots.plt.ioff():
        fig = plots.plt.figure(figsize=(width, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    colors = plots.plt.get_cmap("tab10")

    def box(x, y, w, h, text, color="#F2F2F2"):
        """A rounded box with its lower left corner at (x, y); returns its centre."""
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.03",
                                    facecolor=color, edgecolor="black"))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=plots.SMALL_FONT)
        return x + w / 2, y + h / 2

    def arrow(x0, y0, x1, y1):
        ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", linewidth=1.2))

    box_h, row = 0.6, [2.9, 1.95, 1.0, 0.07]  # the lower edge of each row of boxes
    x_box = box(0.5, row[0], 1.5, box_h, f"X\n{n} × {d_model}")
    qkv = box(2.7, row[0], 3.6, box_h, f"Q = X W_q, K = X W_k, V = X W_v\neach {n} × {d_model}")
    arrow(2.05, x_box[1], 2.65, qkv[1])
    gap, concat_x = 0.12, 1.2 + 2.1 / 2  # concat_x: the middle of the concat box
    head_w = (6.6 - gap * (num_heads - 1)) / num_heads
    for h in range(num_heads):
        tint = plots.mpl.colors.to_hex(0.75 + 0.25 * np.array(plots.mpl.colors.to_rgb(colors(h % 10))) - 0.75 * 0.25)
        x = 0.1 + h * (head_w + gap)
        cols = f"col {h * d_k}" if d_k == 1 else f"cols {h * d_k}–{(h + 1) * d_k - 1}"
        split = box(x, row[1], head_w, box_h, f"head {h}: {cols}\n{n} × {d_k}" if num_heads <= 3
                    else f"head {h}\n{cols}", color=tint)
        attend = box(x, row[2], head_w, box_h, f"attention\n{n} × {d_k}", color=tint)
        arrow(qkv[0], row[0] - 0.04, split[0], row[1] + box_h + 0.04)
        arrow(split[0], row[1] - 0.04, attend[0], row[2] + box_h + 0.04)
        arrow(attend[0], row[2] - 0.04, concat_x, row[3] + box_h + 0.04)
    concat = box(1.2, row[3], 2.1, box_h, f"concat\n{n} × {num_heads * d_k}")
    project = box(4.0, row[3], 2.3, box_h, f"@ W_o = output\n{n} × {d_model}", color="#F0E442")
    arrow(3.35, concat[1], 3.95, project[1])
    ax.text(width / 2, height - 0.12, f"d_model = {d_model}, num_heads = {num_heads}, "
            f"d_k = d_model / num_heads = {d_k}", ha="center", va="top", fontsize=plots.FONT)
    return fig


# ------------------------------------------------------------------ the panel's numbers


def choice(row, tokens):
    """The word a row of weights picks ('tom 0.62'), or 'all about 0.11' when it picks none
    (largest minus smallest weight below FLAT_SPREAD)."""
    row = np.asarray(row, dtype=float)
    if row.max() - row.min() < FLAT_SPREAD:
        return f"all about {row.mean():.2f}"
    return top_words(tokens, row, 1)


def columns_of(h, d_k):
    """'cols 0-2' (or 'col 5' when a head has one column): the columns head h reads."""
    return f"col {h * d_k}" if d_k == 1 else f"cols {h * d_k}-{(h + 1) * d_k - 1}"


def readout(tokens, weights, d_k, sentence, sharpness):
    """The panel's text: the head count and, per head, the word bank and going attend to most."""
    num_heads = len(weights)
    lines = [f"{num_heads} head(s), d_k = {d_k}, sharpness {sharpness:.2f}, sentence: {sentence}"]
    bank, going = tokens.index("bank"), tokens.index("going")
    for h in range(num_heads):
        lines.append(f"head {h}: bank -> {choice(weights[h, bank], tokens)}, "
                     f"going -> {choice(weights[h, going], tokens)}")
    return "\n".join(lines)


# ------------------------------------------------------------------ the panel's picture


class Arrangement(NamedTuple):
    name: str     # "one", "two" or "grid"
    tiles: list   # [(tile key, size = (width, height, left, top) for heatmap(size=), labelled)]
    x0: float     # the colour strip spans the cells of the first row: from x0 to x1
    x1: float
    cell: int     # px
    font: int     # px, the word labels


@functools.lru_cache(maxsize=16)
def arrangement(num_heads, longest, n, first_word=None):
    """Where the heatmaps of `num_heads` heads go (an Arrangement), for n words of at most
    `longest` characters, the first word of at most `first_word` (default: `longest`).

    The heatmaps of a row share one row of word labels (on the left of the first), fill
    the 580 px column together with the largest cells that fit (at most the arrangement's
    largest), and are centred in it; size = (width, height, left, top) for heatmap(size=).
    """
    name, count, per_row, largest, font = ARRANGEMENTS[num_heads]
    label = text_width("x" * longest, font)
    labelled_left, right, cell = math.ceil(label + 10), 4, largest

    lean = text_width("x" * (first_word or longest), font) * math.cos(math.radians(60)) + 0.8 * font * math.sin(
        math.radians(60))  # how far the first key word, turned by 60 degrees, reaches left of its anchor

    def plain_left(cell):  # room for it left of the cells
        return max(4, math.ceil(lean + 2 - cell / 2 - 0.3 * font))

    def margins(cell):
        return labelled_left + (per_row - 1) * (plain_left(cell) + TILE_GAP) + per_row * right

    while cell > 1 and margins(cell) + per_row * n * cell > STATIC_WIDTH:
        cell -= 1
    spare = STATIC_WIDTH - margins(cell) - per_row * n * cell
    top = TITLE_PX + 14
    height = top + n * cell + math.ceil(label * math.sin(math.radians(60)) + 14)
    tiles = []
    for h in range(count):
        first, last = h % per_row == 0, h % per_row == per_row - 1
        left = labelled_left + spare // 2 if first else plain_left(cell)  # the row centred
        width = left + n * cell + right + (spare - spare // 2 if last else 0)
        tiles.append((f"{name}.h{h}", (width, height, left, top), first))
    widths = [w for _, (w, *_), _ in tiles[:per_row]]
    x1 = sum(widths[:-1]) + TILE_GAP * (per_row - 1) + tiles[per_row - 1][1][2] + n * cell
    x0 = tiles[0][1][2]
    return Arrangement(name, tiles, x0, x1, cell, font)


@functools.cache
def panel_arrangement(num_heads, n):
    """The Arrangement of the panel's heatmaps for its two sentences' words."""
    words = [[display_word(w) for w in tokenize(text)] for text in SENTENCES.values()]
    return arrangement(num_heads, max(len(w) for ws in words for w in ws), n, max(len(ws[0]) for ws in words))


def remember(memory, weights, d_model):
    """Store what the heatmaps of len(weights) heads show: {tile key: (weights, title)}."""
    num_heads, n = len(weights), weights.shape[-1]
    d_k = d_model // num_heads
    for h, (key, _, _) in enumerate(panel_arrangement(num_heads, n).tiles[:num_heads]):
        memory[key] = (weights[h], f"head {h} ({columns_of(h, d_k)})")


def draw_heads(scene, tokens, weights, memory, hidden):
    """Every arrangement's heatmaps: those of len(weights) heads shown with `weights` (already
    in `memory`), the others hidden with what they showed last (`memory`, by tile key), so
    that showing them again sends only the cells that changed. `hidden` keeps the tiles of
    the hidden heatmaps ({key: (what they show, one-tile Scene)}): they are built once."""
    labels = [display_word(t) for t in tokens]
    num_heads, n = len(weights), len(tokens)
    shown_name = ARRANGEMENTS[num_heads][0]
    layouts = [panel_arrangement(count, n) for count in (1, 2, 6)]
    for layout in layouts:
        for h, (key, size, labelled) in enumerate(layout.tiles):
            shown = layout.name == shown_name and h < num_heads
            what = (memory[key], tuple(labels))
            if not shown and key in hidden and hidden[key][0][0] is what[0] and hidden[key][0][1] == what[1]:
                scene.extend(hidden[key][1])
                continue
            tile = Scene()
            (matrix, title), row_labels = memory[key], labels if labelled else [""] * n
            heatmap(tile, key, matrix, row_labels, labels, title=title, cell=layout.cell,
                    font_px=layout.font, size=size, shown=shown)
            if not shown:
                hidden[key] = (what, tile)
            scene.extend(tile)
    for layout in layouts:
        colour_strip(scene, f"{layout.name}.strip", width=STATIC_WIDTH, x0=layout.x0, x1=layout.x1,
                     note=STRIP_NOTE, shown=layout.name == shown_name)


def multi_head_panel(vectors, W_q, W_k, W_v, W_o, head_counts=HEAD_COUNTS):
    """Notebook 05: the same projections cut into 1, 2, 3 or 6 heads; one heatmap per head.

    head_counts: some of 1, 2, 3 and 6 (the arrangements of ARRANGEMENTS).

    Controls: `num_heads` (toggle over head_counts), `sentence` (the story's two sentences),
    `sharpness` (0 to 3; the panel uses sharpness × W_q, so 1 = the given W_q). One heatmap
    per head (query words in rows, key words in columns), up to three in a row, six in two
    rows of three, the colour strip under them. The readout names, for each head, the word
    *bank* attends to most and the word *going* attends to most, or "all about 0.11" when
    that row picks no word (see `choice`).
    """
    matrices = {key: sentence_matrix(text, vectors) for key, text in SENTENCES.items()}
    memory, hidden = {}, {}

    def draw(num_heads, sentence, sharpness):
        tokens, X = matrices[sentence]
        if not memory:  # the first picture: every hidden heatmap starts with its own head count
            for count in (1, 2, 6):
                remember(memory, multi_head_attention(X, sharpness * W_q, W_k, W_v, W_o, count)[1], X.shape[1])
        _, weights = multi_head_attention(X, sharpness * W_q, W_k, W_v, W_o, num_heads)  # (h, n, n)
        remember(memory, weights, X.shape[1])
        scene = Scene()
        draw_heads(scene, tokens, weights, memory, hidden)
        return scene, readout(tokens, weights, X.shape[1] // num_heads, SENTENCES[sentence], sharpness)

    controls = {
        "num_heads": toggle("heads", list(head_counts), 2),
        "sentence": dropdown("sentence", [(text, key) for key, text in SENTENCES.items()], "river",
                             width="500px"),
        "sharpness": slider(SHARPNESS_LABEL, 1.0, min=0.0, max=3.0, step=0.1, width="370px"),
    }
    for control in controls.values():  # one label width, wide enough for "sharpness × W_q"
        control.style.description_width = LABEL_WIDTH
    return LivePanel(controls, draw, title="One heatmap per head")


def panels():
    """The notebook's live panel, by name, built with the notebook's arguments."""
    W_q, W_k, W_v, W_o, _ = demo_heads()
    return {"heads": multi_head_panel(toy_vectors(), W_q, W_k, W_v, W_o)}
