"""The text box where students type their own sentence (helpers.widgets.sentence_panel).

Driven as the browser would drive it: by setting the controls' `.value`.
Bad input (typos, another script, empty text, punctuation, too many words) must
put a friendly message into panel.message and leave the figure and readout as
they were; the next good sentence clears the message.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import widgets
from helpers.attention import demo_head, softmax
from helpers.embeddings import SENTENCE, sentence_matrix, toy_vectors

KV = toy_vectors()


@pytest.fixture(autouse=True, scope="module")
def close_other_figures():
    matplotlib.pyplot.close("all")  # figures other test modules left open
    yield


@pytest.fixture
def panel():
    p = widgets.sentence_panel(KV)
    yield p
    matplotlib.pyplot.close(p.fig)


def expected_weights(text, temperature=1.0):
    """softmax(Q Kᵀ / sqrt(d_k) / T) with the demo head, computed here independently."""
    tokens, X = sentence_matrix(text, KV)
    W_q, W_k, _ = demo_head()
    scores = (X @ W_q) @ (X @ W_k).T / np.sqrt(6)
    return tokens, softmax(scores, temperature=temperature)


def image_data(p):
    """The heatmap's data as (values with masked cells = -1, mask), copied."""
    a = p.image.get_array()
    return np.ma.filled(a.astype(float), -1.0).copy(), np.ma.getmaskarray(a).copy()


def bar_heights(p):
    return np.array([b.get_height() for b in p.bars.bars])


def tick_names(ax, axis="x"):
    axis = ax.xaxis if axis == "x" else ax.yaxis
    return list(axis.major.formatter.format_ticks(axis.get_majorticklocs()))


def snapshot(p):
    values, mask = image_data(p)
    return values, mask, bar_heights(p), p.text, tick_names(p.image.axes), p.readout.value


def assert_unchanged(p, before):
    after = snapshot(p)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_array_equal(after[2], before[2])
    assert after[3:] == before[3:]


def test_controls(panel):
    box = panel.controls["sentence"]
    assert type(box).__name__ == "Text" and box.continuous_update is False
    assert box.value == SENTENCE
    assert set(panel.controls) == {"sentence", "temperature"}
    assert panel.message.value == "" and panel.error == ""


def test_story_sentence(panel):
    tokens, w = expected_weights(SENTENCE)
    n, m = len(tokens), panel.max_tokens
    values, mask = image_data(panel)
    np.testing.assert_allclose(values[:n, :n], w)
    assert not mask[:n, :n].any() and mask[n:, :].all() and mask[:, n:].all()
    assert np.isfinite(panel.image.get_array().compressed()).all()
    names = tick_names(panel.image.axes)
    assert names[:n] == tokens and names[n:] == [""] * (m - n)
    assert tick_names(panel.image.axes, "y") == names
    # bank is in the sentence: the bars show bank's row
    b = tokens.index("bank")
    np.testing.assert_allclose(bar_heights(panel)[:n], w[b])
    assert [bar.get_visible() for bar in panel.bars.bars] == [True] * n + [False] * (m - n)
    assert panel.text.startswith("9 words: tom is going to fish at the river bank\n")
    assert "bank attends most to: river 0.35, fish 0.26" in panel.text


def test_good_sentence_without_bank_uses_the_last_word(panel):
    text = "The fisherman is going to the river"
    panel.controls["sentence"].value = text
    tokens, w = expected_weights(text)
    n = len(tokens)
    values, mask = image_data(panel)
    np.testing.assert_allclose(values[:n, :n], w)
    assert mask[n:].all()
    np.testing.assert_allclose(bar_heights(panel)[:n], w[-1])
    np.testing.assert_array_equal(bar_heights(panel)[n:], 0.0)
    assert "river attends most to: river" in panel.text
    assert panel.state["focus"] == n - 1
    assert panel.message.value == ""


def test_short_sentence_after_a_long_one_blanks_the_rest(panel):
    panel.controls["sentence"].value = "river bank"
    values, mask = image_data(panel)
    assert not mask[:2, :2].any() and mask.sum() == panel.max_tokens ** 2 - 4
    assert tick_names(panel.image.axes)[:3] == ["river", "bank", ""]
    assert panel.text.startswith("2 words: river bank")


@pytest.mark.parametrize("text", ["river bank", SENTENCE, " ".join(["the river bank near a lake"] * 2)])
def test_the_axes_show_the_sentence_words_only(panel, text):
    """No blank rows, columns or bar slots: the grid and the bars fill their axes for n words."""
    panel.controls["sentence"].value = text
    n = len(sentence_matrix(text, KV)[0])
    ax_h, ax_b = panel.image.axes, panel.bars.ax
    assert ax_h.get_xlim() == (-0.5, n - 0.5) and ax_h.get_ylim() == (n - 0.5, -0.5)
    lo, hi = ax_b.get_xlim()
    shown = [j for j, bar in enumerate(panel.bars.bars) if lo < bar.get_x() + bar.get_width() / 2 < hi]
    assert shown == list(range(n))
    panel.fig.canvas.draw()
    labels = [t.get_text() for t in ax_h.get_xticklabels() if t.get_visible() and t.get_text()]
    assert labels == sentence_matrix(text, KV)[0]


def test_one_word_sentence(panel):
    panel.controls["sentence"].value = "bank"
    values, _ = image_data(panel)
    assert values[0, 0] == pytest.approx(1.0)
    assert panel.text.startswith("1 word: bank\n")


BAD_INPUT = [
    pytest.param("Tom went to the rivr bnak",
                 [r"unknown words: 'went'", r"'rivr' \(did you mean river\?\)",
                  r"'bnak' \(did you mean bank\?\)", r"44 English words"], id="typos"),
    pytest.param("我去银行", [r"'我去银行' \(not an English word\)", r"The toy table knows 44 English words"],
                 id="chinese"),
    pytest.param("", [r"text has no words to look up"], id="empty"),
    pytest.param("?!... ,;", [r"text has no words to look up"], id="punctuation-only"),
    pytest.param(" ".join(["the river"] * 10), [r"that sentence has 20 words; this box shows at most 12"],
                 id="20-words"),
]


@pytest.mark.parametrize("text, patterns", BAD_INPUT)
def test_bad_input_shows_a_message_and_keeps_the_figure(panel, text, patterns):
    import re

    before = snapshot(panel)
    panel.controls["sentence"].value = text  # must not raise
    for pattern in patterns:
        assert re.search(pattern, panel.error), (pattern, panel.error)
        assert re.search(pattern, panel.message.value.replace("&#x27;", "'")), panel.message.value
    assert_unchanged(panel, before)
    # moving the slider while the text is still bad: the message stays, the figure too
    panel.controls["temperature"].value = 2.0
    assert panel.error and panel.message.value
    assert_unchanged(panel, before)
    # a good sentence clears the message and draws again
    panel.controls["sentence"].value = "Tom is going to deposit money at the bank."
    assert panel.error == "" and panel.message.value == ""
    tokens, w = expected_weights("Tom is going to deposit money at the bank.", 2.0)
    np.testing.assert_allclose(image_data(panel)[0][:len(tokens), :len(tokens)], w)


def test_message_is_html_escaped(panel):
    panel.controls["sentence"].value = "<b>rivr</b>"
    assert panel.error.startswith("unknown words: 'b'")  # the tags' letters are words too
    assert "<b>" not in panel.message.value.replace("<div", "")


def test_set_returns_the_last_good_readout_on_bad_input(panel):
    good = panel.text
    assert panel.set(sentence="xyzzy") == good
    assert "unknown word: 'xyzzy'" in panel.error


@pytest.mark.parametrize("which", ["min", "max"])
def test_temperature_extremes_are_finite(panel, which):
    slider = panel.controls["temperature"]
    t = getattr(slider, which)
    for text in (SENTENCE, "bank", " ".join(["the river bank near a lake"] * 2)):
        panel.set(sentence=text, temperature=t)
        assert panel.error == ""
        tokens, w = expected_weights(text, t)
        n = len(tokens)
        values, mask = image_data(panel)
        shown = panel.image.get_array()[:n, :n]
        assert np.isfinite(np.ma.filled(shown, np.nan)).all()
        np.testing.assert_allclose(values[:n, :n], w, atol=1e-12)
        heights = bar_heights(panel)
        assert np.isfinite(heights).all() and heights[:n].sum() == pytest.approx(1.0)
        assert any(bar.get_visible() and bar.get_height() > 0 for bar in panel.bars.bars)
        assert f"T = {t:.2f}" in panel.text


def test_twelve_words_fit(panel):
    text = " ".join(["the river bank near a lake"] * 2)  # 12 words
    panel.controls["sentence"].value = text
    assert panel.error == ""
    assert not image_data(panel)[1].any()  # every cell used
    assert tick_names(panel.image.axes) == sentence_matrix(text, KV)[0]


def test_reset_restores_the_story(panel):
    panel.set(sentence="the boat on the lake", temperature=3.0)
    panel.reset()
    assert panel.controls["sentence"].value == SENTENCE
    tokens, w = expected_weights(SENTENCE)
    np.testing.assert_allclose(image_data(panel)[0][:9, :9], w)


def test_figure_renders_after_bad_and_good_input(panel):
    panel.controls["sentence"].value = "bnak"
    panel.fig.canvas.draw()
    panel.controls["sentence"].value = "the sea"
    panel.fig.canvas.draw()
    assert panel.image.get_array().shape == (panel.max_tokens, panel.max_tokens)


def test_panel_without_catch_still_raises():
    """Panels that do not opt in keep raising (the hook is opt-in)."""
    import ipywidgets as W

    fig, _ = matplotlib.pyplot.subplots()

    def update(x):
        if x > 0.5:
            raise ValueError("too big")
        return f"x = {x}"

    p = widgets.Panel({"x": widgets.slider("x", 0.0)}, fig, update)
    with pytest.raises(ValueError, match="too big"):
        p.set(x=0.9)
    q = widgets.Panel({"x": widgets.slider("x", 0.0)}, fig, update, catch=(ValueError,))
    assert q.set(x=0.9) == "x = 0.0" and q.error == "too big"
    assert q.set(x=0.2) == "x = 0.2" and q.error == "" and q.message.value == ""
    matplotlib.pyplot.close(fig)
    assert isinstance(q.message, W.HTML)
