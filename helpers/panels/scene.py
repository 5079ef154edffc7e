"""A picture as SVG built in Python: tiles of elements, some keyed so that a change can be patched.

A `Scene` is a list of tiles (one small `<svg>` each, with a viewBox). The live view
lays the tiles out in a wrapping row, so a panel reflows in a narrow notebook column;
each tile scales down with `max-width:100%` and stays sharp at any pixel ratio (it is
vector graphics). An element that an update may change carries a key; the next scene
of the same structure is sent as a patch of the keyed attributes and texts that
differ (`patch_from`), the rest never travels again.

This module knows nothing of attention or of the story: drawing pieces
(helpers.panels.pieces) and lessons (helpers.lessons) build scenes with it.
"""

from __future__ import annotations

import html
import math

FONT_FAMILY = "DejaVu Sans,Arial,sans-serif"
TILE_GAP = 6  # px between tiles, in the live view and in the static picture
#: The static picture places tiles in rows of this width: the notebook column of a
#: 1024 x 768 laptop with the file browser open is about 590 CSS px.
STATIC_WIDTH = 580

_NAMES = {}  # python keyword -> SVG attribute name ("text_anchor" -> "text-anchor", "class_" -> "class")


def attribute_name(keyword):
    """'text_anchor' -> 'text-anchor' (a trailing _ lets Python keywords through: 'class_')."""
    name = _NAMES.get(keyword)
    if name is None:
        name = _NAMES[keyword] = keyword.rstrip("_").replace("_", "-")
    return name


def number(value):
    """An attribute value as text: floats to 0.1 px (sharp at pixel ratio 2), the rest as str.

    NaN and infinities raise ValueError, so that a panel shows a message and keeps
    its last picture instead of drawing nonsense.
    """
    if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"this picture cannot be drawn: a coordinate is {value}")
        text = f"{value:.1f}"
        return "0.0" if text == "-0.0" else text
    return str(value)


def attrs_markup(**attrs):
    """' x="1.0" text-anchor="end"': attributes as markup, for the parts that do not change."""
    return "".join(f' {attribute_name(k)}="{html.escape(number(v))}"' for k, v in attrs.items())


def element(tag, attrs_text="", text=None):
    """One element's markup: `<tag attrs/>` or `<tag attrs>text</tag>` (text escaped)."""
    if text is None:
        return f"<{tag}{attrs_text}/>"
    return f"<{tag}{attrs_text}>{html.escape(str(text))}</{tag}>"


class Scene:
    """Tiles of SVG elements; what a live view shows and what a static viewer sees.

    `tile(width, height, key=None, shown=True)` starts a tile and returns its index;
    `add(tile, tag, key=None, text=None, static="", **attrs)` appends an element.
    An element without a key is fixed markup: it must not change while the scene keeps
    its structure. A keyed element's attributes and text may change from one scene to
    the next (a patch carries them); `static` is a ready attribute string
    (`attrs_markup`) of its attributes that never change, which drawing pieces cache.
    A keyed tile can be hidden (`shown=False`) by a patch, like an element.
    """

    def __init__(self):
        # [[width, height, parts, key, shown]]; a part is markup (str) or [tag, key, static, attrs, text]
        self.tiles = []
        self._counts = []  # how many keyed parts each tile has (patch_from skips shared tiles)
        self._keyed = None

    def tile(self, width, height, key=None, shown=True):
        self.tiles.append([width, height, [], key, shown])
        self._counts.append(0)
        self._keyed = None
        return len(self.tiles) - 1

    def add(self, tile, tag, key=None, text=None, static="", **attrs):
        """Append one element to `tile`; keyed (`key=`) if an update may change it."""
        attrs = {attribute_name(k): (v if v.__class__ is str else number(v)) for k, v in attrs.items()}
        if key is None:
            body = static + "".join(f' {k}="{html.escape(v)}"' for k, v in attrs.items())
            self.tiles[tile][2].append(element(tag, body, text))
        else:
            self.tiles[tile][2].append([tag, key, static, attrs, None if text is None else str(text)])
            self._counts[tile] += 1
        self._keyed = None

    def add_keyed(self, tile, tag, keyed_statics, attr=None, values=None, texts=None):
        """Many keyed elements at once: `keyed_statics` = [(key, static markup)], one changing
        attribute `attr` with its `values` (strings) and/or changing `texts`. The fast path
        for heatmap cells and word labels."""
        parts = self.tiles[tile][2]
        n = len(keyed_statics)
        values = values if attr is not None else [None] * n
        texts = texts if texts is not None else [None] * n
        for (key, static), value, text in zip(keyed_statics, values, texts):
            parts.append([tag, key, static, {} if attr is None else {attr: value},
                          None if text is None else str(text)])
        self._counts[tile] += n
        self._keyed = None

    def raw(self, tile, markup):
        """Fixed markup (a cached frame, axis, legend) appended to `tile`."""
        self.tiles[tile][2].append(markup)

    def extend(self, other):
        """Append the tiles of another scene (keys must not clash)."""
        self.tiles.extend(other.tiles)
        self._counts.extend(other._counts)
        self._keyed = None

    # -- markup
    @staticmethod
    def tile_style(shown):
        return "max-width:100%;height:auto" + ("" if shown else ";display:none")

    def _tile_markup(self, i, counter, position=""):
        width, height, parts, key, shown = self.tiles[i]
        body = []
        for p in parts:
            if p.__class__ is str:
                body.append(p)
            else:
                tag, _, static, attrs, text = p
                a = static + "".join(f' {k}="{html.escape(v)}"' for k, v in attrs.items())
                body.append(element(tag, f'{a} data-i="{next(counter)}"', text))
        index = f' data-i="{next(counter)}"' if key is not None else ""
        return (f'<svg xmlns="http://www.w3.org/2000/svg"{position} viewBox="0 0 {width} {height}" '
                f'width="{width}" height="{height}" font-family="{FONT_FAMILY}" '
                f'style="{self.tile_style(shown)}"{index}>{"".join(body)}</svg>')

    def live_markup(self):
        """The live view's markup: the tiles in a wrapping flex row; keyed parts numbered in order."""
        counter = iter(range(1 << 30))
        tiles = "".join(self._tile_markup(i, counter) for i in range(len(self.tiles)))
        return (f'<div style="display:flex;flex-wrap:wrap;gap:{TILE_GAP}px;align-items:flex-start">'
                f'{tiles}</div>')

    def tile_markups(self):
        """The markup of each shown tile, numbered as in `live_markup` (for tests and the static picture)."""
        counter = iter(range(1 << 30))
        out = [self._tile_markup(i, counter) for i in range(len(self.tiles))]
        return [m for m, t in zip(out, self.tiles) if t[4]]

    def static_svg(self, width=STATIC_WIDTH):
        """One SVG of the shown tiles, in rows of `width` px as the live view wraps them there."""
        counter = iter(range(1 << 30))
        x = y = row_height = right = 0
        parts = []
        for i, (w, h, _, _, shown) in enumerate(self.tiles):
            if not shown:
                self._tile_markup(i, counter)  # (keeps the numbering of the live view)
                continue
            if x and x + w > width:
                x, y, row_height = 0, y + row_height + TILE_GAP, 0
            parts.append(self._tile_markup(i, counter, f' x="{x}" y="{y}"'))
            right = max(right, x + w)
            x, row_height = x + w + TILE_GAP, max(row_height, h)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {right} {y + row_height}" '
                f'width="{right}" height="{y + row_height}">{"".join(parts)}</svg>')

    def size(self, width=STATIC_WIDTH):
        """(width, height) in px of the static picture (the live view in a column of `width` px)."""
        head = self.static_svg(width).split(">", 1)[0]
        return tuple(int(float(head.split(f'{k}="')[1].split('"')[0])) for k in ("width", "height"))

    # -- changes
    def structure(self):
        """What must match for a patch to apply: tile sizes, fixed parts, keyed elements."""
        return tuple((w, h, key, tuple(p if p.__class__ is str else (p[0], p[1], p[2]) for p in parts))
                     for w, h, parts, key, _ in self.tiles)

    def same_structure(self, old):
        """structure() == old.structure(), without building either: tiles and parts shared by
        both scenes (a hidden tile reused as is) are equal without a look inside."""
        if len(self.tiles) != len(old.tiles):
            return False
        for (w, h, parts, key, _), (ow, oh, old_parts, old_key, _) in zip(self.tiles, old.tiles):
            if w != ow or h != oh or key != old_key or len(parts) != len(old_parts):
                return False
            if parts is old_parts:
                continue
            for p, q in zip(parts, old_parts):
                if p is q:
                    continue
                if p.__class__ is str or q.__class__ is str:
                    if p != q:
                        return False
                elif p[0] != q[0] or p[1] != q[1] or p[2] != q[2]:
                    return False
        return True

    def keyed(self):
        """{key: (attrs, text)} of the keyed parts, in the live markup's numbering order."""
        if self._keyed is None:
            keyed = {}
            for _, _, parts, key, shown in self.tiles:
                for p in parts:
                    if p.__class__ is not str:
                        if p[1] in keyed:
                            raise ValueError(f"two elements of a scene share the key {p[1]!r}")
                        keyed[p[1]] = (p[3], p[4])
                if key is not None:
                    keyed[key] = ({"style": self.tile_style(shown)}, None)
            self._keyed = keyed
        return self._keyed

    def texts(self):
        """Every text of the scene, fixed or keyed, in order (for tests: what a reader sees)."""
        import re
        return [html.unescape(t) for t in re.findall(r">([^<>]+)</text>", "".join(self.tile_markups()))]

    def patch_from(self, old):
        """The patch that turns `old` (a scene of the same structure) into this one:
        {"a": {attribute: [i, value, ...]}, "t": [i, text, ...]}, i = the part's number
        in the live markup; {} when nothing changed. Parts (and tiles' part lists) shared
        by both scenes are skipped without a look inside."""
        attrs_out, texts, i = {}, [], 0
        for (_, _, parts, key, shown), (_, _, old_parts, _, old_shown), count in zip(
                self.tiles, old.tiles, self._counts):
            if parts is old_parts:
                i += count
            else:
                for p, q in zip(parts, old_parts):
                    if p.__class__ is str:
                        continue
                    if p is not q:
                        attrs, old_attrs = p[3], q[3]
                        if attrs != old_attrs:
                            for name, value in attrs.items():
                                if old_attrs.get(name) != value:
                                    attrs_out.setdefault(name, []).extend((i, value))
                        if p[4] != q[4]:
                            texts.extend((i, p[4]))
                    i += 1
            if key is not None:
                if shown != old_shown:
                    attrs_out.setdefault("style", []).extend((i, self.tile_style(shown)))
                i += 1
        patch = {}
        if attrs_out:
            patch["a"] = attrs_out
        if texts:
            patch["t"] = texts
        return patch


def apply_patch(keyed, patch):
    """What the browser's view does with a patch, in Python: `keyed` (Scene.keyed() of the
    picture the browser shows) after `patch`. Tests compare it with the new scene's keyed()."""
    keys = list(keyed)
    out = {k: (dict(a), t) for k, (a, t) in keyed.items()}
    for name, flat in patch.get("a", {}).items():
        for i, value in zip(flat[::2], flat[1::2]):
            out[keys[i]][0][name] = value
    flat = patch.get("t", [])
    for i, text in zip(flat[::2], flat[1::2]):
        out[keys[i]] = (out[keys[i]][0], text)
    return out
