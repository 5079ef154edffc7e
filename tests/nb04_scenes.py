"""Read notebook 04's live pictures as a reader would: positions, bar heights, cell colours.

The tests compare what these functions read from a panel's Scene (the SVG the browser
shows) with the maths computed in the test itself; nothing here knows the panel's code.
"""

from __future__ import annotations

import html
import re

import numpy as np

from helpers.panels import apply_patch
from helpers.panels.pieces import FONT_PX
from helpers.panels.pieces.heatmap import text_width

PATCH_LIMIT = 8 * 1024


class FakeFront:
    """What the browser's view does with the messages of a panel's SvgView (svg_view.js, in Python)."""

    def __init__(self, panel):
        self.view = panel.view
        self.keyed, self.rev = self.view.scene.keyed(), self.view.rev
        self.patches = 0
        self.view.send = self.receive

    def receive(self, content, buffers=None):
        assert content["rev"] == self.rev, "a patch for an older picture"
        self.keyed = apply_patch(self.keyed, content)
        self.patches += 1

    def sync_whole(self):
        """A whole re-send: the browser replaces its picture (rev moves on)."""
        self.keyed, self.rev = self.view.scene.keyed(), self.view.rev


def move(panel, front, name, value):
    """Set one control as the mouse would; returns (kind of message, bytes) or None if nothing was sent.
    Checks that the browser's picture is then the panel's new scene."""
    patches, rev = front.patches, panel.view.rev
    panel.controls[name].value = value
    message = None
    if panel.view.rev != rev:
        front.sync_whole()
        message = panel.view.sent[-1]
        assert message[0] == "whole"
    elif front.patches > patches:
        assert front.patches == patches + 1, "one change, one message"
        message = panel.view.sent[-1]
        assert message[0] == "patch"
    assert front.keyed == panel.scene.keyed(), f"{name}={value!r}: the browser shows another picture"
    return message


def numbers(text):
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]


def attrs(scene, key):
    """Every attribute of the element `key` as the browser has it (its fixed ones and its keyed ones)."""
    index = list(scene.keyed()).index(key)
    tag = re.search(rf'<\w+ ([^<>]*?) data-i="{index}"', scene.live_markup()).group(1)
    return {name: html.unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', tag)}


def map_dots(scene, tile=0):
    """{label: (x, y) px} of the word dots of a word-map tile (a dot, then its label)."""
    markup = scene.tile_markups()[tile]
    found = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="5" fill="[^"]+"/><text ([^>]*)>([^<]+)</text>', markup)
    return {html.unescape(label): (float(x), float(y)) for x, y, _, label in found}


def map_labels(scene, tile=0):
    """{label: px box (x0, y0, x1, y1)} of the word labels of a word-map tile (FONT_PX tall)."""
    markup = scene.tile_markups()[tile]
    found = re.findall(r'r="5" fill="[^"]+"/><text x="([\d.]+)" y="([\d.]+)" font-size="\d+" fill="[^"]+"'
                       r'(?: text-anchor="(\w+)")?>([^<]+)</text>', markup)
    boxes = {}
    for x, y, anchor, label in found:
        label = html.unescape(label)
        w, x, y = text_width(label), float(x), float(y)
        x0 = x - w if anchor == "end" else x
        boxes[label] = (x0, y - 0.75 * FONT_PX, x0 + w, y + 0.2 * FONT_PX)
    return boxes


def overlaps(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def map_frame(scene, tile=0):
    """(x0, y0, x1, y1) px of the map's frame (the light rectangle)."""
    markup = scene.tile_markups()[tile]
    x, y, w, h = map(float, re.search(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" '
                                      r'fill="none"', markup).groups())
    return x, y, x + w, y + h


def fit_affine(points_2d, pixels):
    """The affine map (3, 2) with [x, y, 1] @ A ≈ pixel, fitted by least squares."""
    P = np.column_stack([np.asarray(points_2d, dtype=float), np.ones(len(points_2d))])
    A, *_ = np.linalg.lstsq(P, np.asarray(pixels, dtype=float), rcond=None)
    return A


def to_px(A, xy):
    return np.append(np.asarray(xy, dtype=float), 1.0) @ A


def star_centre(scene, key="star"):
    """The centre (x, y) px of the star path: the mean of its ten corners."""
    corners = np.array(numbers(attrs(scene, key)["d"])).reshape(-1, 2)
    return corners.mean(axis=0)


def arrow_ends(scene, key="arrow"):
    """(start, end) px of the keyed arrow (its first line)."""
    v = numbers(attrs(scene, key)["d"])
    return np.array(v[0:2]), np.array(v[2:4])


def bar_heights(scene, key, n):
    """The px heights of bars key.b0 .. key.b{n-1}, and their common baseline (y + height)."""
    a = [attrs(scene, f"{key}.b{i}") for i in range(n)]
    heights = np.array([float(x["height"]) for x in a])
    bases = np.array([float(x["y"]) + float(x["height"]) for x in a])
    return heights, bases


def hex_rgb(colour):
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def cell_fills(scene, key, n_rows, n_cols):
    """The fill colours of heatmap `key`'s cells, (n_rows, n_cols) of hex strings."""
    return np.array([[attrs(scene, f"{key}.{i}.{j}")["fill"] for j in range(n_cols)] for i in range(n_rows)])
