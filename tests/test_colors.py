"""The series' palette (helpers.plots): word colours and signed-value colours never share a hue.

With PuOr, orange meant both "town word" (the vermillion labels) and "positive value" (the
orange cells), side by side in the same heatmaps. The signed colormap is now purple (negative)
to gold (positive); this file checks that no colour of it is close in hue to a word colour,
that both of its ends are dark and its middle pale (so the numbers written on the cells can be
white on the ends, black in the middle), and that those numbers stay readable.
"""
import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402
from helpers.lessons import word_embeddings  # noqa: E402

WORD_COLORS = {"river": plots.RIVER_COLOR, "town": plots.TOWN_COLOR, "output": plots.OUTPUT_COLOR}
MIN_HUE_GAP = 25  # degrees of CIELAB hue: orange vs vermillion (PuOr vs the town words) was 10


def lab(color):
    """CIELAB (D65) of a matplotlib colour: L* from 0 (black) to 100 (white), a*, b*."""
    rgb = np.asarray(mcolors.to_rgb(color))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def hue(color):
    _, a, b = lab(color)
    return np.degrees(np.arctan2(b, a)) % 360, np.hypot(a, b)  # hue angle, chroma


def hue_gap(h1, h2):
    return min(abs(h1 - h2), 360 - abs(h1 - h2))


def signed_samples():
    """The signed colormap at 41 points from -1 to 1 (0 at the middle)."""
    return [plots.SIGNED_CMAP(t) for t in np.linspace(0, 1, 41)]


def contrast(c1, c2):
    """WCAG contrast ratio of two colours (1 to 21)."""
    def luminance(c):
        rgb = np.asarray(mcolors.to_rgb(c))
        return float(np.dot([0.2126, 0.7152, 0.0722],
                            np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)))
    hi, lo = sorted([luminance(c1), luminance(c2)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_no_signed_colour_shares_a_hue_with_a_word_colour():
    for t, color in zip(np.linspace(0, 1, 41), signed_samples()):
        h, chroma = hue(color)
        if chroma < 10:  # the grey-white middle has no hue to share
            continue
        for name, word_color in WORD_COLORS.items():
            gap = hue_gap(h, hue(word_color)[0])
            assert gap >= MIN_HUE_GAP, f"signed colour at {t:.2f} is {gap:.0f}° from the {name} colour"
    for color in (plots.POSITIVE_COLOR, plots.NEGATIVE_COLOR):  # the bars of the term-by-term view
        for word_color in WORD_COLORS.values():
            assert hue_gap(hue(color)[0], hue(word_color)[0]) >= MIN_HUE_GAP


def test_bank_black_and_other_grey_are_not_signed_colours():
    """bank is black and other words grey: the signed colours all have a hue (chroma > 8),
    except the pale middle, which is far lighter than any word colour."""
    for color in signed_samples():
        L, chroma = lab(color)[0], hue(color)[1]
        assert chroma > 8 or L > 85


def test_the_two_halves_mirror_each_other_in_lightness():
    lightness = [lab(c)[0] for c in signed_samples()]
    assert lightness[20] > 95  # 0 is near white
    assert lightness[0] < 35 and lightness[-1] < 35  # both ends dark
    for k in range(20):  # about the same darkness at -v and +v, within 12 L*
        assert abs(lightness[k] - lightness[-1 - k]) < 12, k
        assert lightness[k] < lightness[k + 1] and lightness[-1 - k] < lightness[-2 - k]


def test_positive_and_negative_bars_take_the_colormaps_two_halves():
    pos, neg = hue(plots.POSITIVE_COLOR)[0], hue(plots.NEGATIVE_COLOR)[0]
    assert hue_gap(pos, hue(plots.SIGNED_CMAP(0.9))[0]) < 10
    assert hue_gap(neg, hue(plots.SIGNED_CMAP(0.1))[0]) < 10


@pytest.mark.parametrize("draw", [word_embeddings.vector_table, plots.signed_heatmap])
def test_the_numbers_on_signed_cells_stay_readable(draw):
    values = np.linspace(-1, 1, 41).reshape(41, 1) * np.ones((1, 6))
    fig, ax = plt.subplots()
    if draw is word_embeddings.vector_table:
        hm = draw(ax, [f"w{i}" for i in range(41)], values)
    else:
        hm = draw(ax, values, [f"w{i}" for i in range(41)], list("abcdef"), annotate=True)
    cells = hm.image.to_rgba(hm.image.get_array()).reshape(-1, 4)
    for text, cell in zip(hm.texts, cells):
        # 3:1, WCAG's minimum for large text and graphics (the numbers are 11 pt on a projector)
        assert contrast(text.get_color(), cell[:3]) >= 3.0, (text.get_text(), text.get_color())
    plt.close(fig)
