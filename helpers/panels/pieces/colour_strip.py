"""A horizontal colour bar: a strip under a row of heatmaps, as wide as their cells.

`heatmap.colourbar` stands beside one row of heatmaps; when the heatmaps wrap onto two
rows (six heads) a bar beside them cannot span them, so this one lies under them and
spans their cells from the left edge of the first to the right edge of the last.
The tile is fixed markup (cached), keyed so that a panel can hide it and show another
one for another arrangement of its heatmaps.
"""

from __future__ import annotations

import functools

from ..scene import Scene
from . import FONT_PX
from .colours import signed_colours, weight_colours

BAR_TOP, BAR_HEIGHT = 6, 14


@functools.lru_cache(maxsize=32)
def _strip_markup(width, x0, x1, ticks, label, note, signed):
    scene = Scene()
    t = scene.tile(width, strip_height(note))
    steps = 48
    lo, hi = (-signed, signed) if signed else (ticks[0], ticks[-1])
    values = [lo + (hi - lo) * (i + 0.5) / steps for i in range(steps)]
    fills = signed_colours(values, signed) if signed else weight_colours(values, lo, hi)
    step = (x1 - x0) / steps
    for i, fill in enumerate(fills):
        scene.add(t, "rect", x=x0 + i * step, y=BAR_TOP, width=step + 0.6, height=BAR_HEIGHT, fill=fill)
    for v in ticks:
        x = x0 + (x1 - x0) * (v - lo) / (hi - lo)
        scene.add(t, "line", x1=x, x2=x, y1=BAR_TOP + BAR_HEIGHT, y2=BAR_TOP + BAR_HEIGHT + 4, stroke="#555555")
        scene.add(t, "text", text=f"{v:g}", x=x, y=BAR_TOP + BAR_HEIGHT + 4 + FONT_PX, text_anchor="middle",
                  font_size=FONT_PX - 1)
    if label:
        scene.add(t, "text", text=label, x=x0 - 8, y=BAR_TOP + BAR_HEIGHT - 2, text_anchor="end",
                  font_size=FONT_PX - 1)
    if note:
        scene.add(t, "text", text=note, x=(x0 + x1) / 2, y=BAR_TOP + BAR_HEIGHT + 8 + 2 * FONT_PX,
                  text_anchor="middle", font_size=FONT_PX - 1)
    return "".join(scene.tiles[0][2])


def strip_height(note=""):
    """The strip tile's height in px: the bar, its tick labels, and a line of note if any."""
    return BAR_TOP + BAR_HEIGHT + 10 + FONT_PX + (2 * FONT_PX - 4 if note else 0)


def colour_strip(scene, key, *, width, x0, x1, ticks=(0.0, 0.5, 1.0), label="weight", note="",
                 signed=None, shown=True):
    """Add a strip tile `width` px wide (keyed `key`, hideable) with the colour bar from x0 to x1.

    The weights scale (viridis on ticks[0]..ticks[-1]), or signed=limit: purple-white-gold.
    `label` stands left of the bar (keep x0 wide enough for it); `note`, a line below.
    """
    if not 0 <= x0 < x1 <= width:
        raise ValueError(f"a colour strip needs 0 <= x0 < x1 <= width, not {x0}, {x1}, {width}")
    t = scene.tile(width, strip_height(note), key=key, shown=shown)
    scene.raw(t, _strip_markup(width, float(x0), float(x1), tuple(ticks), label, note, signed))
    return t
