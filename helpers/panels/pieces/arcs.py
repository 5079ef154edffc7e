"""Arc tiles: words in a row, one arc from a query word to every word it attends to.

The weight decides how visible an arc is: its height, line width and opacity all grow
with the weight, so the word the query listens to most gets the tallest, thickest,
darkest arc wherever it stands (the span only says which two words the arc joins).
The height is relative to the row's largest weight (that arc reaches the top); the
width and the opacity follow the weight itself, so a flat row shows equally tall but
thin, pale arcs. A key hidden by a mask gets no arc, and "hidden" in grey under it.
"""

from __future__ import annotations

import functools

import numpy as np

from ..scene import attrs_markup
from . import FONT_PX, MIN_FONT_PX, TITLE_PX
from .heatmap import text_width

FLOOR = 0.08  # an arc of weight ~0 still rises this share of the full height: it reads as an arc
SELF_SPAN = 0.6  # the loop from the query word to itself, in word steps
MIN_STROKE = 1.0  # px: the thinnest arc
HIDDEN_TEXT_COLOUR = "#8C8C8C"  # the "hidden" under a masked key (grey, as the heatmap's cells)


@functools.lru_cache(maxsize=32)
def arc_layout(key, n, width, height, font_px, max_width):
    """Word x positions, the baseline, the tallest arc's height and the keyed slots (once per size)."""
    pad, top = 10, TITLE_PX + 14 + max_width / 2
    step = (width - 2 * pad) / n
    xs = tuple(pad + (i + 0.5) * step for i in range(n))
    baseline = height - (font_px + (font_px - 2) + 22)
    words = [(f"{key}.w{i}", attrs_markup(x=x, y=baseline + font_px + 4, text_anchor="middle",
                                          font_size=font_px)) for i, x in enumerate(xs)]
    numbers = [(f"{key}.n{i}", attrs_markup(x=x, y=baseline + 2 * font_px + 8, text_anchor="middle",
                                            font_size=font_px - 2)) for i, x in enumerate(xs)]
    return xs, step, baseline, baseline - top, words, numbers


def arc_heights(weights, visible, full):
    """(n,) px height of each arc's top: FLOOR..1 of `full`, relative to the largest visible weight."""
    w = np.where(visible, np.clip(weights, 0.0, None), 0.0)
    biggest = w.max() if w.size else 0.0
    relative = w / biggest if biggest > 0 else w
    return full * (FLOOR + (1 - FLOOR) * relative)


def arcs(scene, key, weights, labels, query, *, hidden=None, colour="#0072B2", label_colours=None,
         title="", width=560, height=250, max_width=14.0, numbers="{:.2f}", font_px=FONT_PX):
    """Add an arc tile (keyed `key`): `labels` (n) in a row, an arc from word `query` to each word j.

    weights: (n,) the query's row of weights. hidden: boolean (n,), True = masked: no arc, and
    "hidden" written under the word. Arc j's height grows with weights[j] / max (FLOOR of the
    full height at 0), its line width is weights[j] × max_width px (at least MIN_STROKE) and
    its opacity 0.25 + 1.5 × weights[j] (0.25..1). The query word is bold; each weight is
    written under its word (`numbers`). NaN raises ValueError (no NaN is drawn).
    """
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    if len(labels) != n:
        raise ValueError(f"an arc diagram needs one label per weight: {len(labels)} labels, {n} weights")
    if not np.all(np.isfinite(weights)):
        raise ValueError("these arcs cannot be drawn: a weight is not a finite number")
    hidden = np.zeros(n, bool) if hidden is None else np.asarray(hidden, dtype=bool).reshape(n)
    fits = max(text_width(w, font_px) for w in labels) <= (width - 20) / n * 0.95
    font_px = font_px if fits else MIN_FONT_PX
    xs, step, baseline, full, word_slots, number_slots = arc_layout(key, n, width, height, font_px,
                                                                    float(max_width))
    t = scene.tile(width, height)
    scene.add(t, "text", key=f"{key}.t", text=title, static=attrs_markup(
        x=width / 2, y=TITLE_PX + 2, text_anchor="middle", font_size=TITLE_PX))
    q = int(query)
    tops = arc_heights(weights, ~hidden, full)
    for j, (w, top) in enumerate(zip(weights, tops)):
        left, right = (xs[q] - SELF_SPAN * step / 2, xs[q] + SELF_SPAN * step / 2) if j == q else sorted((xs[q], xs[j]))
        d = f"M{left:.1f},{baseline:.1f}A{(right - left) / 2:.1f},{top:.1f} 0 0 1 {right:.1f},{baseline:.1f}"
        scene.add(t, "path", key=f"{key}.a{j}", static=' fill="none" stroke-linecap="round"', d=d,
                  stroke=colour, stroke_width=max(w * max_width, MIN_STROKE),
                  stroke_opacity=float(np.clip(0.25 + 1.5 * w, 0.25, 1.0)),
                  visibility="hidden" if hidden[j] else "visible")
    colours = label_colours or ["#000000"] * n
    for j, ((k, static), label) in enumerate(zip(word_slots, labels)):
        scene.add(t, "text", key=k, static=static, text=label, fill=colours[j],
                  font_weight="bold" if j == q else "normal")
    texts = ["hidden" if h else numbers.format(w) for w, h in zip(weights, hidden)]
    fills = [HIDDEN_TEXT_COLOUR if h else colour for h in hidden]
    scene.add_keyed(t, "text", number_slots, "fill", fills, texts)
    return t
