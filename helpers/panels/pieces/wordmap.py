"""Word-map tiles: words as dots on a 2-D map (a projection of their vectors), with
points, arrows and rings that a slider moves."""

from __future__ import annotations

from ..scene import attrs_markup, element
from . import FONT_PX, TITLE_PX


class WordMap:
    """A map of fixed size: data limits (x0, x1, y0, y1) -> a `width` x `height` px tile.

    `frame(words, coords, colours, labels)` is the fixed markup (title, frame, dots,
    labels): make it once per panel. `tile(scene, frame)` starts a tile with it;
    `point`, `arrow` and `cross` add keyed parts that may move.
    """

    def __init__(self, limits, width=560, height=380, title="", legend_height=0):
        self.x0, self.x1, self.y0, self.y1 = (float(v) for v in limits)
        if not (self.x1 > self.x0 and self.y1 > self.y0):
            raise ValueError(f"a map needs x0 < x1 and y0 < y1, not {limits}")
        self.width, self.height, self.title = width, height, title
        self.top, self.pad = TITLE_PX + 14, 12
        self.bottom = self.height - 12 - legend_height

    def px(self, xy):
        """Map coordinates (x, y) -> pixel (x, y); y grows downwards on screen."""
        x, y = float(xy[0]), float(xy[1])
        return (self.pad + (x - self.x0) / (self.x1 - self.x0) * (self.width - 2 * self.pad),
                self.top + (self.y1 - y) / (self.y1 - self.y0) * (self.bottom - self.top))

    def frame(self, coords, colours, labels, *, label_offsets=None, legend=()):
        """Fixed markup: title, a light frame, one dot + label per word, and a legend row
        [(symbol, text, colour)]. label_offsets: {label: (dx, dy)} px to move a label clear."""
        parts = [element("text", attrs_markup(x=self.width / 2, y=TITLE_PX + 2, text_anchor="middle",
                                              font_size=TITLE_PX), self.title),
                 element("rect", attrs_markup(x=self.pad, y=self.top, width=self.width - 2 * self.pad,
                                              height=self.bottom - self.top, fill="none", stroke="#d0d0d0"))]
        offsets = label_offsets or {}
        for xy, colour, label in zip(coords, colours, labels):
            x, y = self.px(xy)
            dx, dy = offsets.get(label, (7, -6))
            parts.append(element("circle", attrs_markup(cx=x, cy=y, r=5, fill=colour)))
            parts.append(element("text", attrs_markup(x=x + dx, y=y + dy, font_size=FONT_PX, fill=colour,
                                                      text_anchor="end" if dx < 0 else "start"), label))
        x = self.pad
        for symbol, text, colour in legend:
            parts.append(element("text", attrs_markup(x=x, y=self.height - 6, font_size=FONT_PX - 1,
                                                      fill=colour), f"{symbol} {text}"))
            x += 24 + 0.6 * (FONT_PX - 1) * len(text)
        return "".join(parts)

    def tile(self, scene, frame):
        t = scene.tile(self.width, self.height)
        scene.raw(t, frame)
        return t

    def point(self, scene, t, key, xy, colour, *, r=7, label=None, label_offset=(10, 16), ring=False):
        """A keyed dot (or an open ring) at map point `xy`, with an optional keyed label."""
        x, y = self.px(xy)
        if ring:
            scene.add(t, "circle", key=key, cx=x, cy=y, r=r, fill="none", stroke=colour, stroke_width=2.5)
        else:
            scene.add(t, "circle", key=key, cx=x, cy=y, r=r, fill=colour)
        if label is not None:
            scene.add(t, "text", key=f"{key}.l", text=label, x=x + label_offset[0], y=y + label_offset[1],
                      font_size=FONT_PX, fill=colour, font_weight="bold")

    def arrow(self, scene, t, key, start, end, colour, width=2.5):
        """A keyed line from map point `start` to `end` with an arrow head drawn as a path."""
        (x0, y0), (x1, y1) = self.px(start), self.px(end)
        dx, dy = x1 - x0, y1 - y0
        length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        ux, uy = dx / length, dy / length
        head = min(10.0, length)
        bx, by = x1 - ux * head, y1 - uy * head
        d = (f"M{x0:.1f},{y0:.1f}L{x1:.1f},{y1:.1f}M{bx - uy * head * 0.5:.1f},{by + ux * head * 0.5:.1f}"
             f"L{x1:.1f},{y1:.1f}L{bx + uy * head * 0.5:.1f},{by - ux * head * 0.5:.1f}")
        scene.add(t, "path", key=key, d=d, stroke=colour, stroke_width=width, fill="none")

    def cross(self, xy, colour, size=6):
        """Fixed markup of a thin X (a cluster centre) at map point `xy`."""
        x, y = self.px(xy)
        return element("path", attrs_markup(
            d=f"M{x - size:.1f},{y - size:.1f}L{x + size:.1f},{y + size:.1f}M{x - size:.1f},{y + size:.1f}"
              f"L{x + size:.1f},{y - size:.1f}", stroke=colour, stroke_width=2.5))
