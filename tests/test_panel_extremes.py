"""Every control of every panel in the series, at its extremes: no NaN, nothing empty.

Issue 6 ("sliders at their extremes never draw NaN or empty plots"). Each
panel is built as its notebook builds it. Every slider is set to its minimum
and its maximum, every dropdown and toggle to each option, then all sliders
to their minima and to their maxima at once; after each setting the figure
is drawn and every artist checked: finite line, bar, image and scatter data,
no "nan" or "inf" in any text or in the readout, and every axes that shows
data still has some.
"""

import re

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import Collection
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from helpers import attention, embeddings, widgets

matplotlib.use("Agg")

NOT_A_NUMBER = re.compile(r"\b(nan|inf)\b", re.IGNORECASE)


def story_scores():
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, _ = attention.demo_head()
    Q, K = X @ W_q, X @ W_k
    return tokens, Q @ K.T / np.sqrt(K.shape[-1])


def build(name):
    """The panel `name`, built with the arguments its notebook uses."""
    vectors = embeddings.toy_vectors()
    if name == "00 word vector":
        return widgets.word_vector_panel(vectors)
    if name == "01 bank vector":
        return widgets.bank_vector_panel(vectors)
    if name == "02 bank embedding":
        return widgets.bank_embedding_panel()
    if name == "02 scaling":
        return widgets.scaling_panel()
    if name == "03 temperature":
        tokens, scores = story_scores()
        return widgets.temperature_panel(tokens, scores[tokens.index("bank")], query="bank")
    if name == "03 explorer":
        tokens, scores = story_scores()
        return widgets.attention_explorer_panel(tokens, scores, query="bank")
    if name == "04 bank context":
        return widgets.bank_context_panel(vectors=vectors)
    if name == "04 own sentence":
        return widgets.sentence_panel(vectors)
    if name == "05 multi-head":
        W_q, W_k, W_v, W_o, _ = attention.demo_heads()
        return widgets.multi_head_panel(vectors, W_q, W_k, W_v, W_o)
    if name.startswith("06 "):
        from helpers.lessons import word_order
        return getattr(word_order, f"{name[3:]}_panel")()
    raise ValueError(name)


PANELS = ["00 word vector", "01 bank vector", "02 bank embedding", "02 scaling", "03 temperature",
          "03 explorer", "04 bank context", "04 own sentence", "05 multi-head",
          "06 waves", "06 order", "06 previous_word", "06 rope"]


def is_slider(control):
    return hasattr(control, "min") and hasattr(control, "max")


def ends(control):
    """The values to try for one control: a slider's ends, or every option."""
    if is_slider(control):
        return [control.min, control.max]
    options = getattr(control, "options", None)
    if options is None:
        return []  # a text box: tests/test_sentence_panel.py types into it
    return [value for _, value in _labels_and_values(options)]


def _labels_and_values(options):
    for option in options:
        yield option if isinstance(option, tuple) else (option, option)


def settings(panel):
    """(description, values for panel.set) for every extreme of every control."""
    for name, control in panel.controls.items():
        for value in ends(control):
            yield f"{name}={value!r}", {name: value}
    sliders = {n: c for n, c in panel.controls.items() if is_slider(c)}
    if len(sliders) > 1:
        yield "all sliders at min", {n: c.min for n, c in sliders.items()}
        yield "all sliders at max", {n: c.max for n, c in sliders.items()}


def problems(fig):
    """What is wrong in the drawn figure: non-finite data, nan/inf texts, empty axes."""
    found = []
    for ax in fig.axes:
        shows_data = False
        for artist in ax.get_children():
            if not artist.get_visible():
                continue
            if isinstance(artist, Line2D):
                data = np.asarray(artist.get_xydata(), float)
            elif isinstance(artist, AxesImage):
                data = np.ma.filled(np.ma.asarray(artist.get_array(), float), 0.0)
            elif isinstance(artist, Rectangle) and artist is not ax.patch:
                data = np.array([artist.get_x(), artist.get_y(), artist.get_width(), artist.get_height()])
            elif isinstance(artist, Collection):
                data = np.asarray(artist.get_offsets(), float)
            else:
                continue
            if data.size:
                shows_data = True
                if not np.all(np.isfinite(data)):
                    found.append(f"{type(artist).__name__} in '{ax.get_title()}' has non-finite data")
        if ax.get_visible() and ax.axison and not shows_data and not ax.texts:
            found.append(f"axes '{ax.get_title()}' is empty")
    for text in fig.findobj(Text):
        if text.get_visible() and NOT_A_NUMBER.search(text.get_text()):
            found.append(f"text {text.get_text()!r}")
    return found


@pytest.mark.parametrize("name", PANELS)
def test_every_control_at_its_extremes(name):
    panel = build(name)
    tried = 0
    for description, values in settings(panel):
        readout = panel.set(**values)
        panel.fig.canvas.draw()
        assert not panel.error, f"{name}, {description}: {panel.error}"
        assert not NOT_A_NUMBER.search(readout), f"{name}, {description}: readout {readout!r}"
        assert problems(panel.fig) == [], f"{name}, {description}"
        tried += 1
    assert tried >= 2, f"{name}: no control was moved"
    matplotlib.pyplot.close(panel.fig)
