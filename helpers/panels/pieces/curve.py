"""Curve tiles: a line over a fixed axis (a loss curve), drawn up to a point, with a marker there."""

from __future__ import annotations

import functools

import numpy as np

from ..scene import Scene, attrs_markup
from . import FONT_PX, TITLE_PX

LEFT, RIGHT, TOP, BOTTOM = 56, 14, TITLE_PX + 14, 44


@functools.lru_cache(maxsize=32)
def _frame(width, height, xlim, ylim, xticks, yticks, xlabel, ylabel):
    """The fixed markup of a curve tile: grid lines, tick labels, axis labels."""
    scene = Scene()
    t = scene.tile(width, height)
    x_of, y_of = _mapping(width, height, xlim, ylim)
    for v in yticks:
        scene.add(t, "line", x1=LEFT, x2=width - RIGHT, y1=y_of(v), y2=y_of(v), stroke="#e3e3e3")
        scene.add(t, "text", text=f"{v:g}", x=LEFT - 6, y=y_of(v) + FONT_PX * 0.35, text_anchor="end",
                  font_size=FONT_PX - 1)
    for v in xticks:
        scene.add(t, "text", text=f"{v:g}", x=x_of(v), y=height - BOTTOM + FONT_PX + 4,
                  text_anchor="middle", font_size=FONT_PX - 1)
    scene.add(t, "line", x1=LEFT, x2=width - RIGHT, y1=y_of(ylim[0]), y2=y_of(ylim[0]), stroke="#999999")
    if xlabel:
        scene.add(t, "text", text=xlabel, x=(LEFT + width - RIGHT) / 2, y=height - 6, text_anchor="middle",
                  font_size=FONT_PX - 1)
    if ylabel:
        mid = (TOP + height - BOTTOM) / 2
        scene.add(t, "text", text=ylabel, x=14, y=mid, text_anchor="middle", font_size=FONT_PX - 1,
                  transform=f"rotate(-90 14 {mid:.1f})")
    return "".join(scene.tiles[0][2])


def _mapping(width, height, xlim, ylim):
    (x0, x1), (y0, y1) = xlim, ylim

    def x_of(v):
        return LEFT + (width - LEFT - RIGHT) * (v - x0) / (x1 - x0)

    def y_of(v):
        return TOP + (height - TOP - BOTTOM) * (y1 - v) / (y1 - y0)

    return x_of, y_of


def _points(x_of, y_of, xs, ys, ylim):
    return " ".join(f"{x_of(x):.1f},{y_of(min(max(y, ylim[0]), ylim[1])):.1f}" for x, y in zip(xs, ys))


def curve(scene, key, x, y, *, upto, xlim, ylim, xticks, yticks, title="", xlabel="", ylabel="",
          colour="#2166AC", faint="#c8c8c8", width=560, height=250):
    """Add a curve tile (keyed `key`): the whole line x, y in `faint`, the part up to index
    `upto` in `colour` with a dot at `upto`. Values outside `ylim` are drawn at its edge.
    The line, the dot and the title are keyed: a new `upto` or a new line is a patch.
    NaN or infinity raises ValueError (nothing is drawn)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or not len(x):
        raise ValueError(f"a curve needs as many x as y values, got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("this curve cannot be drawn: a value is not a finite number")
    if not 0 <= upto < len(x):
        raise ValueError(f"upto must be an index of the curve (0 to {len(x) - 1}), got {upto}")
    xlim, ylim = tuple(map(float, xlim)), tuple(map(float, ylim))
    x_of, y_of = _mapping(width, height, xlim, ylim)
    t = scene.tile(width, height)
    scene.raw(t, _frame(width, height, xlim, ylim, tuple(xticks), tuple(yticks), xlabel, ylabel))
    scene.add(t, "text", key=f"{key}.t", text=title, x=width / 2, y=TITLE_PX + 2, text_anchor="middle",
              font_size=TITLE_PX)
    scene.add(t, "polyline", key=f"{key}.all", static=attrs_markup(fill="none", stroke=faint, stroke_width=2),
              points=_points(x_of, y_of, x, y, ylim))
    scene.add(t, "polyline", key=f"{key}.done", static=attrs_markup(fill="none", stroke=colour, stroke_width=3),
              points=_points(x_of, y_of, x[:upto + 1], y[:upto + 1], ylim))
    scene.add(t, "circle", key=f"{key}.dot", static=attrs_markup(r=6, fill=colour),
              cx=x_of(x[upto]), cy=y_of(min(max(y[upto], ylim[0]), ylim[1])))
    return t
