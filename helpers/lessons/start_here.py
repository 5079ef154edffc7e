"""Notebook 00, start here: the first slider of the series, a word and its six numbers.

The panel `word_vector_panel` shows one word's six numbers of the toy table as bars,
multiplied by a scale: the warm-up that tells a student the live panels work. Its
only static picture is the series' pipeline diagram, shared with every lesson
(helpers.plots.pipeline_diagram).
"""

from __future__ import annotations

import numpy as np

from .. import plots
from ..embeddings import DIMENSIONS, display_word, toy_vectors
from ..panels import LivePanel, Scene, dropdown, slider
from ..panels.pieces.bars import bars

#: The bars' axis: the toy numbers lie in [-1, 1], so 1.5 x fits with room to spare.
VALUE_LIMITS = (-1.6, 1.6)
VALUE_TICKS = (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5)
SCALES = dict(min=0.0, max=1.5, step=0.1)


def scaled_vector(vectors, word, scale):
    """scale × the word's row of the table, (d,) float64 (a copy, never a view into it)."""
    return float(scale) * np.asarray(vectors[word], dtype=np.float64)


def word_vector_scene(vector, word, scale):
    """The bar tile: one bar per dimension, in the word's colour, its value written on it."""
    scene = Scene()
    bars(scene, "vector", vector, DIMENSIONS, colours=[plots.word_color(word)] * len(vector),
         title=f"{scale:.2f} × vector of '{display_word(word)}'", ylim=VALUE_LIMITS, ticks=VALUE_TICKS,
         ylabel="value", width=560, height=320, rotate=45, numbers="{:.2f}")
    return scene


def word_vector_panel(vectors=None, words=None):
    """Notebook 00's warm-up: pick a word, scale it, see its six numbers as bars.

    vectors: KeyedVectors (default: the toy table); words: the drop-down's words (default:
    all of the table's). Controls: `word` (drop-down), `scale` (0 to 1.5). The readout
    prints the scaled vector rounded to 2 decimals.
    """
    kv = toy_vectors() if vectors is None else vectors
    words = list(kv.key_to_index) if words is None else list(words)
    table = {w: np.array(kv[w], dtype=np.float64) for w in words}  # copies: later edits of kv change nothing

    def draw(word, scale):
        vector = scaled_vector(table, word, scale)
        text = f"{display_word(word)} × {scale:.2f} = {np.round(vector, 2).tolist()}"
        return word_vector_scene(vector, word, scale), text

    controls = {"word": dropdown("word", [(display_word(w), w) for w in words], words[0]),
                "scale": slider("scale", 1.0, **SCALES)}
    return LivePanel(controls, draw, title="A word and its six numbers")


def panels():
    """Notebook 00's live panels, built as the notebook builds them."""
    return {"word_vector": word_vector_panel(toy_vectors())}
