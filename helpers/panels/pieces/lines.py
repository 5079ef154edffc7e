"""Line-chart tiles: curves over fixed axes, with optional dots at their points.

`LineChart(xlim, ylim, ...)` fixes the axes (frame, grid, tick labels, axis labels):
their markup is built once per size and cached. `tile(scene, key, title)` starts a tile
with them; `line` adds a keyed polyline (its points are what a slider changes) with
optional keyed dots at its points, all in one path; `point` a keyed dot (a chosen value).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..scene import Scene
from . import FONT_PX, TITLE_PX

LEFT, RIGHT = 56, 12  # px: room for the y tick labels and the y label; a margin on the right


@functools.lru_cache(maxsize=32)
def _axes_markup(width, height, box, xlim, ylim, xticks, yticks, xlabel, ylabel):
    """The fixed markup of a chart: frame, grid lines at the ticks, tick labels, axis labels."""
    x0, x1, y0, y1 = box
    chart = LineChart(xlim, ylim, xticks=xticks, yticks=yticks, width=width, height=height,
                      xlabel=xlabel, ylabel=ylabel)
    scene = Scene()
    t = scene.tile(width, height)
    for v in yticks:
        y = chart.px(xlim[0], v)[1]
        scene.add(t, "line", x1=x0, x2=x1, y1=y, y2=y, stroke="#999999" if v == 0 else "#e3e3e3")
        scene.add(t, "text", text=f"{v:g}", x=x0 - 6, y=y + FONT_PX * 0.35, text_anchor="end",
                  font_size=FONT_PX - 1)
    for v in xticks:
        x = chart.px(v, ylim[0])[0]
        scene.add(t, "line", x1=x, x2=x, y1=y1, y2=y1 + 4, stroke="#555555")
        scene.add(t, "text", text=f"{v:g}", x=x, y=y1 + 6 + FONT_PX, text_anchor="middle", font_size=FONT_PX - 1)
    scene.add(t, "rect", x=x0, y=y0, width=x1 - x0, height=y1 - y0, fill="none", stroke="#bbbbbb")
    if xlabel:
        scene.add(t, "text", text=xlabel, x=(x0 + x1) / 2, y=height - 6, text_anchor="middle", font_size=FONT_PX - 1)
    if ylabel:
        mid = (y0 + y1) / 2
        scene.add(t, "text", text=ylabel, x=14, y=mid, text_anchor="middle", font_size=FONT_PX - 1,
                  transform=f"rotate(-90 14 {mid:.1f})")
    return "".join(scene.tiles[0][2])


class LineChart:
    """Axes of fixed size: data limits xlim, ylim -> a `width` x `height` px tile.

    Ticks (xticks, yticks) are drawn with grid lines; values outside the limits are
    drawn at the edge (a curve never leaves its frame). NaN or infinity raises ValueError.
    """

    def __init__(self, xlim, ylim, *, xticks, yticks, width=560, height=240, xlabel="", ylabel=""):
        self.xlim, self.ylim = tuple(float(v) for v in xlim), tuple(float(v) for v in ylim)
        if not (self.xlim[1] > self.xlim[0] and self.ylim[1] > self.ylim[0]):
            raise ValueError(f"a line chart needs increasing limits, not {xlim}, {ylim}")
        self.xticks, self.yticks = tuple(float(v) for v in xticks), tuple(float(v) for v in yticks)
        self.width, self.height, self.xlabel, self.ylabel = width, height, xlabel, ylabel
        bottom = 8 + FONT_PX + (FONT_PX + 8 if xlabel else 4)
        self.box = (LEFT, width - RIGHT, TITLE_PX + 14, height - bottom)  # x0, x1, y0, y1 of the frame

    def px(self, x, y):
        """Data (x, y) -> pixel (x, y), clipped to the frame; y grows downwards on screen."""
        (a, b), (c, d), (x0, x1, y0, y1) = self.xlim, self.ylim, self.box
        fx = min(max((float(x) - a) / (b - a), 0.0), 1.0)
        fy = min(max((float(y) - c) / (d - c), 0.0), 1.0)
        return x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)

    def _pixels(self, x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("this line cannot be drawn: its points are not finite numbers of one shape")
        (a, b), (c, d), (x0, x1, y0, y1) = self.xlim, self.ylim, self.box
        px = x0 + np.clip((x - a) / (b - a), 0.0, 1.0) * (x1 - x0)
        py = y1 - np.clip((y - c) / (d - c), 0.0, 1.0) * (y1 - y0)
        return px, py

    def tile(self, scene, key, title="", shown=True):
        """Start a tile (keyed `key`) with the cached axes and a keyed title; returns its index."""
        t = scene.tile(self.width, self.height, key=key, shown=shown)
        scene.raw(t, _axes_markup(self.width, self.height, self.box, self.xlim, self.ylim, self.xticks,
                                  self.yticks, self.xlabel, self.ylabel))
        scene.add(t, "text", key=f"{key}.t", text=title, x=self.width / 2, y=TITLE_PX + 2,
                  text_anchor="middle", font_size=TITLE_PX)
        return t

    def line(self, scene, t, key, x, y, colour, *, width=2.0, markers=False, marker_r=4.0, joined=True):
        """A keyed polyline through the points (x[i], y[i]); markers: a dot at every point,
        keyed f"{key}.m" (one path of circles); joined=False: the dots only."""
        px, py = self._pixels(x, y)
        if joined:
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py))
            scene.add(t, "polyline", key=key, points=points, fill="none", stroke=colour, stroke_width=width,
                      stroke_linejoin="round")
        if markers or not joined:
            r = marker_r
            d = "".join(f"M{a - r:.1f},{b:.1f}a{r:g},{r:g} 0 1,0 {2 * r:g},0a{r:g},{r:g} 0 1,0 {-2 * r:g},0"
                        for a, b in zip(px, py))
            scene.add(t, "path", key=f"{key}.m", d=d, fill=colour)

    def point(self, scene, t, key, x, y, colour, r=7.0):
        """A keyed dot at data (x, y) (the chosen value of a slider)."""
        if not (math.isfinite(float(x)) and math.isfinite(float(y))):
            raise ValueError("this point cannot be drawn: it is not a finite number")
        cx, cy = self.px(x, y)
        scene.add(t, "circle", key=key, cx=cx, cy=cy, r=r, fill=colour)
