"""Notebook 05 (multi-head attention): its claims, and its head-count panel."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import attention, embeddings, widgets
from helpers.attention import multi_head_attention, scaled_dot_product_attention


@pytest.fixture(scope="module")
def vectors():
    return embeddings.toy_vectors()


def weights_for(vectors, text, num_heads=None):
    W_q, W_k, W_v, W_o, default_heads = attention.demo_heads()
    tokens, X = embeddings.sentence_matrix(text, vectors)
    _, w = multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads or default_heads)
    return tokens, w


def top(tokens, row, k=1):
    return [tokens[i] for i in np.argsort(row)[::-1][:k]]


def test_head0_is_meaning_head1_is_who_does_what(vectors):
    tokens, w = weights_for(vectors, embeddings.SENTENCE)
    bank, going, fish = (tokens.index(t) for t in ("bank", "going", "fish"))
    assert set(top(tokens, w[0, bank], 2)) == {"fish", "river"}  # "bank listens to fish and river"
    assert top(tokens, w[1, going]) == ["tom"]  # "going listens to Tom"
    assert top(tokens, w[1, fish]) == ["tom"]  # "sends the action words to Tom"
    assert w[1, going, tokens.index("tom")] == pytest.approx(0.62, abs=0.005)
    # "neither question could be answered as well by the other head"
    assert w[0, going, tokens.index("tom")] < 0.15
    assert w[1, bank, tokens.index("river")] < 0.15


def test_two_glances_preview_names_fish_and_river_then_tom(vectors):
    """The preview figure labels weights >= 0.1: each head's glance finds different words."""
    tokens, w = weights_for(vectors, embeddings.SENTENCE)
    labelled = [{tokens[j] for j in np.flatnonzero(row >= 0.1)}
                for row in (w[0, tokens.index("bank")], w[1, tokens.index("going")])]
    assert labelled == [{"fish", "river"}, {"tom"}]


def test_fish_needs_two_answers_one_head_shares_them_two_heads_split_them(vectors):
    """Cell "Why more than one head?": fish's one row shares river 0.28 and Tom 0.17; with two
    heads, head 0 gives river 0.45 and head 1 gives Tom 0.39."""
    tokens, w1 = weights_for(vectors, embeddings.SENTENCE, num_heads=1)
    fish, river, tom = (tokens.index(t) for t in ("fish", "river", "tom"))
    assert w1[0, fish, river] == pytest.approx(0.28, abs=0.005)
    assert w1[0, fish, tom] == pytest.approx(0.17, abs=0.005)
    _, w2 = weights_for(vectors, embeddings.SENTENCE, num_heads=2)
    assert top(tokens, w2[0, fish]) == ["river"] and w2[0, fish, river] == pytest.approx(0.45, abs=0.005)
    assert top(tokens, w2[1, fish]) == ["tom"] and w2[1, fish, tom] == pytest.approx(0.39, abs=0.005)
    assert w2[0, fish, river] > w1[0, fish, river] and w2[1, fish, tom] > w1[0, fish, tom]


def test_one_head_mixes_the_questions_and_six_heads_sharpen_the_action_column(vectors):
    tokens, w1 = weights_for(vectors, embeddings.SENTENCE, num_heads=1)
    going, tom = tokens.index("going"), tokens.index("tom")
    assert top(tokens, w1[0, going]) == ["tom"]
    assert w1[0, going, tom] == pytest.approx(0.45, abs=0.005)
    _, w2 = weights_for(vectors, embeddings.SENTENCE, num_heads=2)
    assert w1[0, going, tom] < w2[1, going, tom]
    # "the reason is the scaling: divided by sqrt(3), the one-head scores would give Tom 0.63"
    W_q, W_k, *_ = attention.demo_heads()
    tokens_, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    one_head_scores = (X @ W_q)[going] @ (X @ W_k).T
    assert attention.softmax(one_head_scores / np.sqrt(3))[tom] == pytest.approx(0.63, abs=0.005)
    _, w6 = weights_for(vectors, embeddings.SENTENCE, num_heads=6)
    sharpest = [w6[h].max() for h in range(6)]
    assert int(np.argmax(sharpest)) == 3 and w6[3, going, tom] == pytest.approx(0.91, abs=0.005)
    # "head 5, whose column of W_q is all zeros, cannot choose: every weight is 1/9"
    W_q = attention.demo_heads()[0]
    assert not W_q[:, 5].any()
    np.testing.assert_allclose(w6[5], 1 / 9)


def test_loop_over_heads_equals_reshape_and_helper(vectors):
    W_q, W_k, W_v, W_o, h = attention.demo_heads()
    _, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    n, d_model = X.shape
    d_k = d_model // h
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    split = lambda M: M.reshape(n, h, d_k).transpose(1, 0, 2)
    scores = split(Q) @ split(K).transpose(0, 2, 1) / np.sqrt(d_k)
    heads = attention.softmax(scores) @ split(V)
    out_reshape = heads.transpose(1, 0, 2).reshape(n, d_model) @ W_o
    loop = [scaled_dot_product_attention(Q[:, i * d_k:(i + 1) * d_k], K[:, i * d_k:(i + 1) * d_k],
                                         V[:, i * d_k:(i + 1) * d_k])[0] for i in range(h)]
    out_loop = np.concatenate(loop, axis=1) @ W_o
    out_helper, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, h)
    np.testing.assert_allclose(out_reshape, out_helper, atol=1e-12)
    np.testing.assert_allclose(out_loop, out_helper, atol=1e-12)


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
def test_parameter_count_does_not_depend_on_heads(heads):
    d_model = 6
    per_head = 3 * d_model * (d_model // heads)
    assert heads * per_head + d_model * d_model == 4 * d_model ** 2 == 144


@pytest.fixture
def panel(vectors):
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    return widgets.multi_head_panel(vectors, W_q, W_k, W_v, W_o)


def visible_axes(panel):
    return [ax for ax in panel.fig.axes[:6] if ax.get_visible()]


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
@pytest.mark.parametrize("sentence", ["river", "money"])
def test_panel_shows_one_heatmap_per_head_with_the_right_weights(panel, vectors, heads, sentence):
    text = embeddings.SENTENCE if sentence == "river" else embeddings.CONTRAST_SENTENCE
    panel.controls["num_heads"].value = heads
    panel.controls["sentence"].value = sentence
    tokens, w = weights_for(vectors, text, heads)
    assert len(visible_axes(panel)) == heads
    for h, ax in enumerate(visible_axes(panel)):
        image = ax.images[0].get_array()
        np.testing.assert_allclose(image, w[h])
        assert [t.get_text() for t in ax.get_xticklabels()] == tokens
        assert np.isfinite(image).all()
    lines = panel.text.splitlines()
    assert lines[0].startswith(f"{heads} head(s), d_k = {6 // heads}, sharpness 1.00")
    assert len(lines) == 1 + heads
    bank = tokens.index("bank")
    for h in range(heads):
        row = w[h, bank]
        picked = "all about 0.11" if np.ptp(row) < 0.02 else f"{tokens[int(np.argmax(row))]} {row.max():.2f}"
        assert f"head {h}: bank -> {picked}," in lines[1 + h]


@pytest.mark.parametrize("sharpness", [0.0, 0.5, 2.0])
def test_panel_sharpness_scales_w_q(panel, vectors, sharpness):
    W_q, W_k, W_v, W_o, h = attention.demo_heads()
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    panel.controls["sharpness"].value = sharpness
    _, w = multi_head_attention(X, sharpness * W_q, W_k, W_v, W_o, h)
    for head, ax in enumerate(visible_axes(panel)):
        np.testing.assert_allclose(ax.images[0].get_array(), w[head])
    if sharpness == 0.0:  # no question asked: every word gets the same weight
        np.testing.assert_allclose(w, 1 / len(tokens))
    going = tokens.index("going")
    if sharpness == 0.0:
        assert panel.text.count("going -> all about 0.11") == h
    else:
        assert f"going -> {tokens[int(np.argmax(w[1, going]))]}" in panel.text


def test_sharper_queries_give_sharper_weights(vectors):
    W_q, W_k, W_v, W_o, h = attention.demo_heads()
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    going, tom = tokens.index("going"), tokens.index("tom")
    tom_weight = [multi_head_attention(X, s * W_q, W_k, W_v, W_o, h)[1][1, going, tom]
                  for s in np.linspace(0, 2, 11)]
    assert np.all(np.diff(tom_weight) > 0)


def test_panel_says_when_a_head_picks_no_word(panel, vectors):
    """With 6 heads, heads 0 and 5 give bank and going even weights: the readout says so."""
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    _, w = multi_head_attention(X, W_q, W_k, W_v, W_o, 6)
    lines = panel.set(num_heads=6).splitlines()[1:]
    for h, line in enumerate(lines):
        for word in ("bank", "going"):
            row = w[h, tokens.index(word)]
            flat = row.max() - row.min() < widgets.FLAT_SPREAD
            assert (f"{word} -> all about 0.11" in line) == flat, line
    # "Head 0 reads only the town vs nature number, which is 0 for both bank and going"
    W_q = attention.demo_heads()[0]
    assert np.flatnonzero(W_q[:, 0]).tolist() == [attention.TOWN]
    assert X[tokens.index("bank"), attention.TOWN] == 0 == X[tokens.index("going"), attention.TOWN]
    assert lines[0] == "head 0: bank -> all about 0.11, going -> all about 0.11"
    assert lines[3] == "head 3: bank -> tom 0.18, going -> tom 0.91"


def test_panel_set_and_reset(panel):
    start = panel.text
    changed = panel.set(num_heads=6, sentence="money")
    assert changed != start and "deposit money" in changed
    assert panel.reset() == start
    assert panel.controls["num_heads"].value == 2


def test_panel_rejects_unknown_control(panel):
    with pytest.raises(KeyError, match="num_heads"):
        panel.set(heads=3)
