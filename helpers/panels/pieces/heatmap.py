"""Heatmap tiles: a matrix of coloured cells with word labels, masked cells grey; colour bars."""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import plots
from ..scene import Scene, attrs_markup, element
from . import FONT_PX, TITLE_PX
from .colours import signed_colours, text_colour_on, weight_colours

CHAR_WIDTH = 0.6  # a DejaVu Sans character is about 0.6 em wide: enough room for a label


def text_width(text, font_px=FONT_PX):
    """About how many px `text` takes at `font_px` (for margins, not for exact layout)."""
    return CHAR_WIDTH * font_px * len(str(text))


@functools.lru_cache(maxsize=128)
def heatmap_layout(key, n_rows, n_cols, cell, left, top, font_px):
    """Keys and fixed attribute strings of a heatmap's cells, labels and numbers (once per size)."""
    cells = [(f"{key}.{i}.{j}", attrs_markup(x=left + j * cell, y=top + i * cell, width=cell - 1,
                                             height=cell - 1)) for i in range(n_rows) for j in range(n_cols)]
    numbers = [(f"{key}.n{i}.{j}", attrs_markup(x=left + (j + 0.5) * cell, y=top + (i + 0.5) * cell + font_px * 0.35,
                                                text_anchor="middle", font_size=font_px - 2))
               for i in range(n_rows) for j in range(n_cols)]
    rows = [(f"{key}.r{i}", attrs_markup(x=left - 5, y=top + (i + 0.5) * cell + font_px * 0.35,
                                         text_anchor="end", font_size=font_px)) for i in range(n_rows)]
    cols = []
    for j in range(n_cols):
        cx, cy = left + (j + 0.5) * cell + font_px * 0.3, top + n_rows * cell + 6
        cols.append((f"{key}.c{j}", attrs_markup(x=cx, y=cy, text_anchor="end", font_size=font_px,
                                                 transform=f"rotate(-60 {cx:.1f} {cy:.1f})")))
    return cells, numbers, rows, cols


def heatmap_size(row_labels, col_labels, cell=30, font_px=FONT_PX, title=True):
    """(width, height, left, top) of a heatmap tile for these labels."""
    left = math.ceil(max(text_width(w, font_px) for w in row_labels) + 10)
    bottom = math.ceil(max(text_width(w, font_px) for w in col_labels) * math.sin(math.radians(60)) + 14)
    top = TITLE_PX + 14 if title else 6
    return left + len(col_labels) * cell + 8, top + len(row_labels) * cell + bottom, left, top


def heatmap(scene, key, matrix, row_labels, col_labels, *, title="", cell=30, font_px=FONT_PX,
            signed=None, vmin=0.0, vmax=1.0, hidden=None, numbers=None, row_colours=None,
            col_colours=None, size=None, shown=True):
    """Add a heatmap tile (keyed `key`) of `matrix` (rows, cols) to `scene`.

    Colours: viridis on [vmin, vmax] (weights), or purple-white-gold on ±signed.
    hidden: boolean (rows, cols), True = masked: drawn grey (helpers.plots.HIDDEN_COLOR),
    never the colour of a small weight. numbers: a format such as "{:.2f}" to write each
    value in its cell (hidden cells get none). Labels, title and numbers are keyed, so a
    new sentence of the same length or a new title is a patch. `size` = heatmap_size(...)
    of the largest labels this panel will show, so that the tile keeps its structure.
    """
    matrix = np.asarray(matrix, dtype=float)
    n_rows, n_cols = matrix.shape
    if not np.all(np.isfinite(matrix)):
        raise ValueError("this heatmap cannot be drawn: it has a value that is not a finite number")
    width, height, left, top = size or heatmap_size(row_labels, col_labels, cell, font_px, bool(title))
    t = scene.tile(width, height, key=key, shown=shown)
    cells, number_slots, rows, cols = heatmap_layout(key, n_rows, n_cols, cell, left, top, font_px)
    fills = signed_colours(matrix, signed) if signed else weight_colours(matrix, vmin, vmax)
    if hidden is not None:
        hidden = np.broadcast_to(np.asarray(hidden, dtype=bool), matrix.shape).ravel()
        fills = [plots.HIDDEN_COLOR if h else f for f, h in zip(fills, hidden)]
    scene.add(t, "text", key=f"{key}.t", text=title, static=attrs_markup(
        x=left + n_cols * cell / 2, y=TITLE_PX + 2, text_anchor="middle", font_size=TITLE_PX))
    scene.add_keyed(t, "rect", cells, "fill", fills)
    if numbers:
        texts = ["" if hidden is not None and h else numbers.format(v)
                 for v, h in zip(matrix.ravel(), hidden if hidden is not None else [False] * matrix.size)]
        scene.add_keyed(t, "text", number_slots, "fill", [text_colour_on(f) for f in fills], texts)
    _labels(scene, t, rows, row_labels, row_colours)
    _labels(scene, t, cols, col_labels, col_colours)
    return t


def _labels(scene, tile, slots, labels, colours):
    if colours is None:
        scene.add_keyed(tile, "text", slots, texts=list(labels))
    else:
        scene.add_keyed(tile, "text", slots, "fill", list(colours), list(labels))


@functools.lru_cache(maxsize=32)
def _colourbar_markup(height, top, bottom, ticks, label, signed):
    scene = Scene()
    t = scene.tile(70, height)
    steps, span = 32, height - top - bottom
    lo, hi = (-signed, signed) if signed else (ticks[0], ticks[-1])
    values = [hi - (hi - lo) * (i + 0.5) / steps for i in range(steps)]
    fills = signed_colours(values, signed) if signed else weight_colours(values, lo, hi)
    for i, fill in enumerate(fills):
        scene.add(t, "rect", x=8, y=top + span * i / steps, width=16, height=span / steps + 0.6, fill=fill)
    for v in ticks:
        y = top + span * (hi - v) / (hi - lo)
        scene.add(t, "text", text=f"{v:g}", x=28, y=y + FONT_PX * 0.35, font_size=FONT_PX - 1)
    if label:
        scene.add(t, "text", text=label, x=4, y=top - 14, font_size=FONT_PX - 1)
    return "".join(scene.tiles[0][2])


def colourbar(scene, height, *, top=40, bottom=40, ticks=(0.0, 0.5, 1.0), label="weight", signed=None):
    """Add a colour-bar tile, `height` px tall with the bar between `top` and height − `bottom`
    (line it up with the heatmaps it explains). signed=limit: the purple-white-gold scale."""
    scene.raw(scene.tile(70, height), _colourbar_markup(height, top, bottom, tuple(ticks), label, signed))


def hidden_key_markup(x, y, text="grey = hidden by the mask"):
    """A small legend: a grey square and its meaning (fixed markup)."""
    return (element("rect", attrs_markup(x=x, y=y - 11, width=14, height=14, fill=plots.HIDDEN_COLOR)) +
            element("text", attrs_markup(x=x + 20, y=y, font_size=FONT_PX - 1), text))
