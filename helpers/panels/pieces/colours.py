"""Colours of the live pictures, the same as the static figures' (helpers.plots)."""

from __future__ import annotations

import functools

import numpy as np
from matplotlib import colormaps

from ... import plots


def _lut(cmap, n=256):
    rgb = np.rint(255 * cmap(np.linspace(0.0, 1.0, n))[:, :3]).astype(int)
    return np.array(["#%02x%02x%02x" % tuple(c) for c in rgb])


WEIGHTS_LUT = _lut(colormaps[plots.WEIGHTS_CMAP])
SIGNED_LUT = _lut(plots.SIGNED_CMAP)


def _luminance(hex_colour):
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@functools.lru_cache(maxsize=2048)
def text_colour_on(hex_colour):
    """Black or white, whichever reads better on `hex_colour` (WCAG contrast); cached (a
    heatmap asks for the same few hundred colours on every change)."""
    lum = _luminance(hex_colour)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def weight_colours(values, vmin=0.0, vmax=1.0):
    """viridis colours (hex strings) of an array of weights in [vmin, vmax], flattened."""
    t = (np.asarray(values, dtype=float) - vmin) / (vmax - vmin)
    return WEIGHTS_LUT[np.rint(np.clip(t, 0.0, 1.0) * 255).astype(int)].ravel().tolist()


def signed_colours(values, limit):
    """purple (−limit) · white (0) · gold (+limit) colours of an array, flattened."""
    t = (np.asarray(values, dtype=float) / limit + 1.0) / 2.0
    return SIGNED_LUT[np.rint(np.clip(t, 0.0, 1.0) * 255).astype(int)].ravel().tolist()
