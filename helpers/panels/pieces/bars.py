"""Bar tiles: one bar per label on a fixed axis (positive up, negative down), labels below."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..scene import Scene, attrs_markup
from . import FONT_PX, TITLE_PX
from .heatmap import text_width


@functools.lru_cache(maxsize=64)
def _frame(key, n, title, ylabel, width, height, ylim, ticks, label_px, rotate, longest):
    """The fixed markup of a bar tile (axis, ticks, grid) and the slots of its keyed parts."""
    left, right, top = 56, 8, TITLE_PX + 14
    bottom = (math.ceil(longest * math.sin(math.radians(rotate)) + 16) if rotate else label_px + 14)
    plot_h = height - top - bottom
    lo, hi = ylim
    scene = Scene()
    t = scene.tile(width, height)

    def y_of(v):
        return top + plot_h * (hi - v) / (hi - lo)

    for v in ticks:
        scene.add(t, "line", x1=left, x2=width - right, y1=y_of(v), y2=y_of(v),
                  stroke="#999999" if v == 0 else "#e3e3e3")
        scene.add(t, "text", text=f"{v:g}", x=left - 6, y=y_of(v) + FONT_PX * 0.35, text_anchor="end",
                  font_size=FONT_PX - 1)
    if ylabel:
        mid = top + plot_h / 2
        scene.add(t, "text", text=ylabel, x=14, y=mid, text_anchor="middle", font_size=FONT_PX - 1,
                  transform=f"rotate(-90 14 {mid:.1f})")
    step = (width - left - right) / n
    bars, names, values = [], [], []
    for i in range(n):
        bars.append((f"{key}.b{i}", attrs_markup(x=left + i * step + step * 0.12, width=step * 0.76)))
        cx, cy = left + (i + 0.5) * step, top + plot_h + 6
        if rotate:
            names.append((f"{key}.l{i}", attrs_markup(x=cx + label_px * 0.3, y=cy + 4, text_anchor="end",
                                                      font_size=label_px,
                                                      transform=f"rotate(-{rotate} {cx + label_px * 0.3:.1f} {cy + 4:.1f})")))
        else:
            names.append((f"{key}.l{i}", attrs_markup(x=cx, y=cy + label_px, text_anchor="middle",
                                                      font_size=label_px)))
        values.append((f"{key}.v{i}", attrs_markup(x=cx, text_anchor="middle", font_size=FONT_PX - 2)))
    return "".join(scene.tiles[0][2]), bars, names, values, y_of(0.0 if lo <= 0 <= hi else lo), y_of


def keyed_yticks(scene, t, key, ticks, y_of, x0, x1, slots):
    """`slots` keyed grid lines with their labels (`key`.g0, `key`.y0, ...) at the values `ticks`
    (at most `slots` of them; the rest hidden): an axis whose limits move is then a patch of a
    few numbers, not a new picture."""
    if len(ticks) > slots:
        raise ValueError(f"{len(ticks)} ticks do not fit in {slots} tick slots")
    for s in range(slots):
        shown = s < len(ticks)
        v = ticks[s] if shown else 0.0
        y = y_of(v) if shown else 0.0
        visibility = "visible" if shown else "hidden"
        scene.add(t, "line", key=f"{key}.g{s}", static=attrs_markup(x1=x0, x2=x1), y1=y, y2=y,
                  stroke="#999999" if v == 0 else "#e3e3e3", visibility=visibility)
        scene.add(t, "text", key=f"{key}.y{s}", static=attrs_markup(x=x0 - 6, text_anchor="end",
                                                                     font_size=FONT_PX - 1),
                  text=f"{v:g}" if shown else "", y=y + FONT_PX * 0.35, visibility=visibility)


def bars(scene, key, values, labels, *, colours, title="", ylim=(0.0, 1.0), ticks=(0.0, 0.5, 1.0),
         ylabel="", width=560, height=300, label_px=FONT_PX, rotate=0, numbers=None, longest=None,
         guides=(), tick_slots=0):
    """Add a tile of bars (keyed `key`): bar i has height values[i] on the axis `ylim`, colour
    colours[i] and the label labels[i] below it (rotated by `rotate` degrees if they are long).
    numbers: a format such as "{:.2f}" to write each value above (or below) its bar.
    guides: [(value, text)] fixed dashed lines across the axis, explained top left ("1/9 = even").
    tick_slots: if > 0, the ticks are keyed (keyed_yticks), so that another `ylim` is a patch.
    Values outside `ylim` are drawn to its edge. NaN raises ValueError (no NaN is drawn)."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("these bars cannot be drawn: a value is not a finite number")
    longest = longest or max(text_width(w, label_px) for w in labels)
    frame, bar_slots, name_slots, value_slots, zero, y_of = _frame(
        key, len(values), title, ylabel, width, height, tuple(ylim), () if tick_slots else tuple(ticks),
        label_px, rotate, round(longest))
    t = scene.tile(width, height)
    scene.raw(t, frame)
    if tick_slots:
        keyed_yticks(scene, t, key, tuple(ticks), y_of, 56, width - 8, tick_slots)
    for k, (value, text) in enumerate(guides):
        y, y_text = y_of(value), TITLE_PX + 34 + k * (FONT_PX + 4)
        scene.add(t, "line", x1=56, x2=width - 8, y1=y, y2=y, stroke="#8C8C8C", stroke_width=1.5,
                  stroke_dasharray="6 4")
        scene.add(t, "line", x1=64, x2=88, y1=y_text - 5, y2=y_text - 5, stroke="#8C8C8C", stroke_width=1.5,
                  stroke_dasharray="6 4")
        scene.add(t, "text", text=text, x=94, y=y_text, font_size=FONT_PX - 1)
    scene.add(t, "text", key=f"{key}.t", text=title, x=width / 2, y=TITLE_PX + 2, text_anchor="middle",
              font_size=TITLE_PX)
    lo, hi = ylim
    for i, ((k, static), v, colour) in enumerate(zip(bar_slots, values, colours)):
        y = y_of(min(max(v, lo), hi))
        scene.add(t, "rect", key=k, static=static, y=min(y, zero), height=abs(zero - y), fill=colour)
        if numbers:
            above = v >= 0
            scene.add(t, "text", key=value_slots[i][0], static=value_slots[i][1], text=numbers.format(v),
                      y=(min(y, zero) - 4) if above else (max(y, zero) + FONT_PX - 1))
    scene.add_keyed(t, "text", name_slots, texts=list(labels))
    return t
