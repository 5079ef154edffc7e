"""The text box where students type their own sentence (values_and_context.sentence_panel).

Driven as the browser drives it: the text box and the slider get new values, then the
picture the browser would show (the first scene plus the patches the view sent) is
compared with the attention maths computed here. Bad input (typos, another script, empty
text, punctuation, too many words) must show a friendly message and keep the picture and
the readout as they were; the next good sentence clears the message.
"""

import re

import numpy as np
import pytest
from matplotlib import colormaps

from helpers.attention import demo_head, softmax
from helpers.embeddings import SENTENCE, sentence_matrix, toy_vectors
from helpers.lessons import values_and_context as lesson
from helpers.embeddings import SHORT_DIMENSIONS
from helpers.plots import SIGNED_CMAP
from nb04_scenes import PATCH_LIMIT, FakeFront, attrs, cell_fills, hex_rgb, move

KV = toy_vectors()
TWELVE = " ".join(["the river bank near a lake"] * 2)  # 12 words


@pytest.fixture
def panel():
    return lesson.sentence_panel(KV)


def expected(text, temperature=1.0):
    """(tokens, weights, outputs, focus): softmax(Q Kᵀ / sqrt(d_k) / T) and weights @ V, computed here."""
    tokens, X = sentence_matrix(text, KV)
    W_q, W_k, W_v = demo_head()
    weights = softmax((X @ W_q) @ (X @ W_k).T / np.sqrt(6), temperature=temperature)
    focus = tokens.index("bank") if "bank" in tokens else len(tokens) - 1
    return tokens, weights, weights @ (X @ W_v), focus


def colour_of(value, cmap):
    return np.rint(255 * np.array(cmap(value)[:3])).astype(int)


def assert_picture_is(panel, text, temperature=1.0):
    """The scene holds the weights and outputs of `text` at `temperature`, the focus row framed."""
    tokens, w, out, focus = expected(text, temperature)
    n = len(tokens)
    scene = panel.scene
    fills = cell_fills(scene, "w", n, n)
    want = np.array([[colour_of(v, colormaps["viridis"]) for v in row] for row in w])
    got = np.array([[hex_rgb(c) for c in row] for row in fills])
    assert np.abs(got - want).max() <= 3  # the weights' colours, to the colour table's step
    want = np.array([[colour_of((v + 1) / 2, SIGNED_CMAP) for v in row] for row in out])
    got = np.array([[hex_rgb(c) for c in row] for row in cell_fills(scene, "o", n, 6)])
    assert np.abs(got - want).max() <= 6  # the outputs' colours on the -1..1 scale (a steeper scale)
    texts = scene.texts()
    words = [t.replace("_", " ") for t in tokens]
    assert [scene.keyed()[f"w.r{i}"][1] for i in range(n)] == words
    assert [scene.keyed()[f"w.c{j}"][1] for j in range(n)] == words
    assert [scene.keyed()[f"o.c{j}"][1] for j in range(6)] == list(SHORT_DIMENSIONS)
    assert f"weights, T = {temperature:.2f}" in texts
    for key in ("w", "o"):  # the framed row is the focus word's
        frame, cell = attrs(scene, f"{key}.focus"), attrs(scene, f"{key}.{focus}.0")
        assert float(frame["y"]) < float(cell["y"]) < float(frame["y"]) + float(frame["height"])
    assert "nan" not in " ".join(texts).lower()
    order = np.argsort(-w[focus], kind="stable")[:3]
    top = ", ".join(f"{words[j]} {w[focus, j]:.2f}" for j in order)
    assert panel.text == (f"{n} word{'s' if n > 1 else ''}: {' '.join(words)}\n"
                          f"{words[focus]} attends most to: {top}   (T = {temperature:.2f})")


def test_controls(panel):
    box = panel.controls["sentence"]
    assert type(box).__name__ == "Text" and box.continuous_update is True  # every keystroke counts
    assert box.value == SENTENCE
    assert set(panel.controls) == {"sentence", "temperature"}
    assert panel.message.value == "" and panel.error == ""


def test_story_sentence(panel):
    assert_picture_is(panel, SENTENCE)
    assert "bank attends most to: river 0.35, fish 0.26" in panel.text


def test_typing_a_sentence_letter_by_letter(panel):
    """Every keystroke draws or shows a message; the finished sentence is drawn right."""
    front = FakeFront(panel)
    text = "the boat near the river bank"
    for k in range(1, len(text) + 1):
        move(panel, front, "sentence", text[:k])
    assert panel.error == ""
    assert_picture_is(panel, text)


def test_the_same_number_of_words_is_a_patch_another_number_a_whole_picture(panel):
    front = FakeFront(panel)
    kind, size = move(panel, front, "sentence", "Tom is going to deposit money at the bank.")  # 9 words, as before
    assert kind == "patch" and size < PATCH_LIMIT
    assert_picture_is(panel, "Tom is going to deposit money at the bank.")
    kind, _ = move(panel, front, "sentence", "river bank")
    assert kind == "whole"
    assert_picture_is(panel, "river bank")


@pytest.mark.parametrize("temperature", [0.1, 0.35, 2.0, 5.0])
def test_the_temperature_slider_is_a_small_patch(panel, temperature):
    front = FakeFront(panel)
    kind, size = move(panel, front, "temperature", temperature)
    assert kind == "patch" and size < PATCH_LIMIT
    assert_picture_is(panel, SENTENCE, temperature)


def test_good_sentence_without_bank_frames_the_last_word(panel):
    text = "The fisherman is going to the river"
    panel.controls["sentence"].value = text
    assert_picture_is(panel, text)
    assert "river attends most to: river" in panel.text and panel.message.value == ""


@pytest.mark.parametrize("first, then", [(TWELVE, "river bank"), (TWELVE, "bank"), (SENTENCE, "the sea")])
def test_a_shorter_sentence_after_a_longer_one_shows_only_its_words(panel, first, then):
    panel.controls["sentence"].value = first
    panel.controls["sentence"].value = then
    n = len(sentence_matrix(then, KV)[0])
    assert_picture_is(panel, then)
    keys = panel.scene.keyed()
    assert f"w.{n}.0" not in keys and f"w.r{n}" not in keys and f"o.{n}.0" not in keys  # no cells left over
    assert len(panel.static_svg()) < len(lesson.sentence_panel(KV, first).static_svg())


def test_one_word_and_twelve_words(panel):
    panel.controls["sentence"].value = "bank"
    assert_picture_is(panel, "bank")
    assert panel.text.startswith("1 word: bank\n") and "bank 1.00" in panel.text
    panel.controls["sentence"].value = TWELVE
    assert panel.error == ""
    assert_picture_is(panel, TWELVE)


def test_tiles_fit_the_notebook_column(panel):
    for text in ("bank", SENTENCE, TWELVE):
        panel.controls["sentence"].value = text
        assert max(t[0] for t in panel.scene.tiles) <= 580
        assert panel.scene.size()[0] <= 580


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
def test_bad_input_shows_a_message_and_keeps_the_picture(panel, text, patterns):
    front = FakeFront(panel)
    before, readout, sent = panel.scene, panel.text, len(panel.view.sent)
    panel.controls["sentence"].value = text  # must not raise
    for pattern in patterns:
        assert re.search(pattern, panel.error), (pattern, panel.error)
        assert re.search(pattern, panel.message.value.replace("&#x27;", "'")), panel.message.value
    assert panel.scene is before and panel.text == readout and len(panel.view.sent) == sent
    # moving the slider while the text is still bad: the message stays, the picture too
    panel.controls["temperature"].value = 2.0
    assert panel.error and panel.message.value and panel.scene is before
    assert front.keyed == before.keyed()
    # a good sentence clears the message and draws again
    move(panel, front, "sentence", "Tom is going to deposit money at the bank.")
    assert panel.error == "" and panel.message.value == ""
    assert_picture_is(panel, "Tom is going to deposit money at the bank.", 2.0)


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
    t = getattr(panel.controls["temperature"], which)
    for text in (SENTENCE, "bank", TWELVE):
        panel.set(sentence=text, temperature=t)
        assert panel.error == ""
        assert_picture_is(panel, text, t)


def test_reset_restores_the_story(panel):
    front = FakeFront(panel)
    panel.set(sentence="the boat on the lake", temperature=3.0)
    front.sync_whole()
    panel.reset()
    assert panel.controls["sentence"].value == SENTENCE
    assert_picture_is(panel, SENTENCE)


def test_the_static_picture_is_the_first_state(panel):
    bundle = panel._repr_mimebundle_()
    assert bundle["image/svg+xml"] == panel.static_svg()
    assert bundle["text/plain"] == "Panel: Type your own sentence (sentence, temperature)"
