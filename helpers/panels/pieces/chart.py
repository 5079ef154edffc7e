"""Chart tiles: a fixed frame in data coordinates with keyed rectangles and texts placed by value.

`bars` draws one bar per word from zero; a Chart draws what bars cannot: floating bars
(a waterfall whose steps start where the last one ended), histogram bins on fixed edges,
two series of bars side by side. The frame (axes, grid, tick labels, axis labels,
legend, reference lines) is fixed markup, cached per size and limits; the rectangles'
y and height (and fill), the texts and the title are keyed, so a slider move is a patch;
`columns` (bars on the frame's bottom) keys only their heights, for many bars at once.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..scene import Scene, attrs_markup
from . import FONT_PX, TITLE_PX
from .bars import keyed_yticks
from .heatmap import text_width

GRID = "#e3e3e3"
AXIS = "#999999"


@functools.lru_cache(maxsize=64)
def _frame(chart):
    """The fixed markup of `chart` (a Chart: hashable, so the markup is built once per frame)."""
    scene = Scene()
    t = scene.tile(chart.width, chart.height)
    x0, x1 = chart.left, chart.width - chart.right
    for v in () if chart.tick_slots else chart.yticks:
        y = chart.y(v)
        scene.add(t, "line", x1=x0, x2=x1, y1=y, y2=y, stroke=AXIS if v == 0 else GRID)
        scene.add(t, "text", text=f"{v:g}", x=x0 - 6, y=y + FONT_PX * 0.35, text_anchor="end",
                  font_size=FONT_PX - 1)
    bottom = chart.y(chart.ylim[0])
    scene.add(t, "line", x1=x0, x2=x1, y1=bottom, y2=bottom, stroke=AXIS)
    for x, label in chart.xticks:
        cx, cy = chart.x(x), bottom + 6
        if chart.rotate:
            scene.add(t, "text", text=label, x=cx + FONT_PX * 0.3, y=cy + 4, text_anchor="end",
                      font_size=FONT_PX - 1, transform=f"rotate(-{chart.rotate} {cx + FONT_PX * 0.3:.1f} {cy + 4:.1f})")
        else:
            scene.add(t, "text", text=label, x=cx, y=cy + FONT_PX, text_anchor="middle", font_size=FONT_PX - 1)
    if chart.xlabel:
        scene.add(t, "text", text=chart.xlabel, x=(x0 + x1) / 2, y=chart.height - 6, text_anchor="middle",
                  font_size=FONT_PX - 1)
    if chart.ylabel:
        mid = (chart.top + bottom) / 2
        scene.add(t, "text", text=chart.ylabel, x=14, y=mid, text_anchor="middle", font_size=FONT_PX - 1,
                  transform=f"rotate(-90 14 {mid:.1f})")
    for v, colour, label in chart.hlines:
        y = chart.y(v)
        scene.add(t, "line", x1=x0, x2=x1, y1=y, y2=y, stroke=colour, stroke_dasharray="5 4")
        scene.add(t, "text", text=label, x=x1 + 3, y=y + FONT_PX * 0.35, fill=colour, font_size=FONT_PX - 2)
    y = chart.top + 4
    w = max((text_width(label, FONT_PX - 1) for _, label in chart.legend), default=0)
    for colour, label in chart.legend:
        scene.add(t, "rect", x=x1 - w - 30, y=y, width=16, height=12, fill=colour, fill_opacity=chart.opacity)
        scene.add(t, "text", text=label, x=x1 - w - 8, y=y + 11, font_size=FONT_PX - 1)
        y += FONT_PX + 6
    return "".join(scene.tiles[0][2])


def _floats(values):
    """`values` as a tuple of floats (a cache key); a tuple given is taken as it is."""
    return values if values.__class__ is tuple else tuple(map(float, values))


@functools.lru_cache(maxsize=64)
def _slots(chart, key, lefts, rights, opacity):
    """Keys and fixed attributes (x, width) of a row of rectangles on `chart`."""
    extra = {} if opacity is None else {"fill_opacity": opacity}
    return [(f"{key}{i}", attrs_markup(x=chart.x(a), width=chart.x(b) - chart.x(a), **extra))
            for i, (a, b) in enumerate(zip(lefts, rights))]


@functools.lru_cache(maxsize=64)
def _column_slots(chart, key, lefts, rights, fill, opacity):
    """Keys and fixed attributes of bars standing on the frame's bottom: drawn upside down
    (transform scale(1,-1), y = -bottom), so that only their height changes."""
    extra = {} if opacity is None else {"fill_opacity": opacity}
    base = chart.y(chart.ylim[0])
    return [(f"{key}{i}", attrs_markup(x=chart.x(a), y=-base, width=chart.x(b) - chart.x(a), fill=fill,
                                       transform="scale(1,-1)", **extra))
            for i, (a, b) in enumerate(zip(lefts, rights))]


@functools.lru_cache(maxsize=64)
def _text_slots(chart, key, xs, font_px):
    return [(f"{key}{i}", attrs_markup(x=chart.x(x), text_anchor="middle", font_size=font_px))
            for i, x in enumerate(xs)]


class Chart:
    """A `width` x `height` tile showing data limits xlim x ylim (y up), with its fixed frame.

    yticks: values with a grid line and a label; xticks: (x, label) pairs, rotated by
    `rotate` degrees if long; hlines: (y, colour, label) dashed reference lines labelled
    at the right; legend: (colour, label) swatches at the top right (drawn with `opacity`).
    tick_slots: if > 0, the y ticks are keyed parts of the tile (bars.keyed_yticks) instead of
    fixed markup, so that Charts with other ylim have the same structure: a patch.
    Two Charts with the same arguments are equal, so their markup is built once.
    """

    def __init__(self, width, height, xlim, ylim, *, yticks=(), xticks=(), xlabel="", ylabel="",
                 hlines=(), legend=(), opacity=1.0, rotate=0, left=60, right=34, bottom=None,
                 tick_slots=0):
        self.width, self.height = int(width), int(height)
        self.xlim, self.ylim = tuple(map(float, xlim)), tuple(map(float, ylim))
        if not (self.xlim[1] > self.xlim[0] and self.ylim[1] > self.ylim[0]):
            raise ValueError(f"a chart needs x0 < x1 and y0 < y1, not {xlim}, {ylim}")
        self.yticks, self.xticks = tuple(yticks), tuple((float(x), str(s)) for x, s in xticks)
        self.xlabel, self.ylabel, self.rotate = xlabel, ylabel, rotate
        self.hlines, self.legend, self.opacity = tuple(hlines), tuple(legend), opacity
        self.left, self.right, self.top = left, right, TITLE_PX + 14
        if bottom is None:
            longest = max((text_width(s, FONT_PX - 1) for _, s in self.xticks), default=0)
            ticks = (math.ceil(longest * math.sin(math.radians(rotate)) + 14) if rotate else FONT_PX + 12)
            bottom = ticks + (FONT_PX + 6 if xlabel else 0)
        self.bottom, self.tick_slots = bottom, tick_slots
        self._id = (self.width, self.height, self.xlim, self.ylim, self.yticks, self.xticks, xlabel, ylabel,
                    self.hlines, self.legend, opacity, rotate, left, right, bottom, tick_slots)

    def __eq__(self, other):
        return isinstance(other, Chart) and self._id == other._id

    def __hash__(self):
        return hash(self._id)

    def x(self, value):
        """Pixel x of data x (not clipped)."""
        x0, x1 = self.xlim
        return self.left + (float(value) - x0) / (x1 - x0) * (self.width - self.left - self.right)

    def y(self, value):
        """Pixel y of data y, clipped to the frame (a value beyond ylim is drawn at its edge)."""
        y0, y1 = self.ylim
        v = min(max(float(value), y0), y1)
        return self.top + (y1 - v) / (y1 - y0) * (self.height - self.top - self.bottom)

    def tile(self, scene, key, title=""):
        """Start this chart's tile (fixed frame + keyed title `key`.t); returns its index."""
        t = scene.tile(self.width, self.height)
        scene.raw(t, _frame(self))
        scene.add(t, "text", key=f"{key}.t", text=title, x=self.width / 2, y=TITLE_PX + 2,
                  text_anchor="middle", font_size=TITLE_PX)
        if self.tick_slots:
            keyed_yticks(scene, t, key, self.yticks, self.y, self.left, self.width - self.right, self.tick_slots)
        return t

    def rects(self, scene, t, key, lefts, rights, lows, highs, fills, opacity=None):
        """Keyed rectangles from x lefts[i]..rights[i] and y lows[i]..highs[i] (data units);
        `fills` one colour for all or one per rectangle. Keys `key`0, `key`1, ..."""
        if not (np.all(np.isfinite(lows)) and np.all(np.isfinite(highs))):
            raise ValueError("these bars cannot be drawn: a value is not a finite number")
        slots = _slots(self, key, _floats(lefts), _floats(rights), opacity)
        single = isinstance(fills, str)
        for i, ((k, static), lo, hi) in enumerate(zip(slots, lows, highs)):
            top, base = self.y(max(lo, hi)), self.y(min(lo, hi))
            scene.add(t, "rect", key=k, static=static, y=top, height=base - top,
                      fill=fills if single else fills[i])

    def columns(self, scene, t, key, lefts, rights, heights, fill, opacity=None):
        """Keyed bars standing on the bottom of the frame (ylim[0]) up to heights[i], one colour:
        the fast path for many bars (histogram bins). Only each bar's height changes (the bar
        is drawn in a flipped frame, so its foot stays put), so a patch carries one number a bar."""
        heights = np.asarray(heights, dtype=float)
        if not np.all(np.isfinite(heights)):
            raise ValueError("these bars cannot be drawn: a value is not a finite number")
        slots = _column_slots(self, key, _floats(lefts), _floats(rights), fill, opacity)
        y0, y1 = self.ylim
        px = (np.clip(heights, y0, y1) - y0) * ((self.height - self.top - self.bottom) / (y1 - y0))
        scene.add_keyed(t, "rect", slots, "height", [f"{v:.1f}" for v in px.tolist()])

    def texts(self, scene, t, key, xs, ys, texts, font_px=FONT_PX - 2, lift=4):
        """Keyed texts centred at data x xs[i], their baseline `lift` px above data y ys[i]."""
        for (k, static), y, text in zip(_text_slots(self, key, tuple(map(float, xs)), font_px), ys, texts):
            scene.add(t, "text", key=k, static=static, text=text, y=self.y(y) - lift)
