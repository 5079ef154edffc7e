"""Notebook 05 (multi-head attention): its claims, and its head-count panel.

Every number the notebook's prose quotes is read from the notebook (tests/notebook_text.py)
and compared with the computation, so prose and maths cannot drift apart.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import attention, embeddings, widgets  # noqa: E402
from helpers.attention import multi_head_attention, scaled_dot_product_attention  # noqa: E402
from notebook_text import markdown, outputs, quoted  # noqa: E402

NB = "05_multi_head_attention"
DIMS = embeddings.DIMENSIONS
SHARPNESS_WORDS = ("sharpness multiplies W_q, so every score is multiplied by it too; "
                   "like 1/T in notebook 03")


def prose(start=None, stop=None):
    """The notebook's markdown from heading `start` to `stop`, line breaks as spaces."""
    return " ".join(markdown(NB, start, stop).split())


def r2(x):
    return round(float(x), 2)


@pytest.fixture(scope="module")
def vectors():
    return embeddings.toy_vectors()


@pytest.fixture(scope="module")
def heads():
    return attention.demo_heads()  # W_q, W_k, W_v, W_o, num_heads


def run(vectors, text=embeddings.SENTENCE, num_heads=None, sharpness=1.0):
    """(tokens, X, output, weights) of the demo heads on `text`."""
    W_q, W_k, W_v, W_o, default_heads = attention.demo_heads()
    tokens, X = embeddings.sentence_matrix(text, vectors)
    out, w = multi_head_attention(X, sharpness * W_q, W_k, W_v, W_o, num_heads or default_heads)
    return tokens, X, out, w


def top(tokens, row, k=1):
    return [tokens[i] for i in np.argsort(row)[::-1][:k]]


def centres(vectors):
    river = np.mean([vectors[w] for w in embeddings.RIVER_CLUSTER], axis=0)
    town = np.mean([vectors[w] for w in embeddings.TOWN_CLUSTER], axis=0)
    return river, town


# ------------------------------------------------------------ why several heads


def test_fish_needs_two_answers_one_head_shares_them_two_heads_split_them(vectors):
    text = prose("## Why more than one head?", "## Our two hand-made heads")
    tokens, _, _, w1 = run(vectors, num_heads=1)
    _, _, _, w2 = run(vectors, num_heads=2)
    fish, river, tom = (tokens.index(t) for t in ("fish", "river", "tom"))
    assert quoted(text, r"\*river\* (\d+\.\d+), \*Tom\* (\d+\.\d+), and what comes back") == (
        r2(w1[0, fish, river]), r2(w1[0, fish, tom]))
    assert quoted(text, r"\*river\* (\d+\.\d+) in the first, \*Tom\* (\d+\.\d+) in the second") == (
        r2(w2[0, fish, river]), r2(w2[1, fish, tom]))
    assert top(tokens, w2[0, fish]) == ["river"] and top(tokens, w2[1, fish]) == ["tom"]
    assert w2[0, fish, river] > w1[0, fish, river] and w2[1, fish, tom] > w1[0, fish, tom]


def test_two_glances_preview_names_fish_and_river_then_tom(vectors):
    """The preview figure labels weights >= 0.1: each head's glance finds different words."""
    tokens, _, _, w = run(vectors)
    labelled = [{tokens[j] for j in np.flatnonzero(row >= 0.1)}
                for row in (w[0, tokens.index("bank")], w[1, tokens.index("going")])]
    assert labelled == [{"fish", "river"}, {"tom"}]


# ------------------------------------------------------------ the four matrices


def nonzero_dims(W, col):
    return [DIMS[i] for i in np.flatnonzero(W[:, col])]


def test_w_q_and_w_k_meet_column_by_column_as_the_text_says(heads):
    W_q, W_k, _, _, h = heads
    text = prose("## Our two hand-made heads", "## Splitting into heads")
    assert h == 2 and "head 0 uses columns 0–2 of each projection and head 1 uses columns 3–5" in text
    # columns 0-2: keys read town vs nature, water, topic, as head 0's queries do
    assert [d for c in range(3) for d in nonzero_dims(W_k, c)] == ["town vs nature", "water", "topic"]
    assert set(d for c in range(3) for d in nonzero_dims(W_q, c)) == {"town vs nature", "water", "topic", "place"}
    assert "place" in nonzero_dims(W_q, 2) and nonzero_dims(W_k, 2) == ["topic"]  # bank's place asks, topic answers
    assert nonzero_dims(W_q, 3) == ["action"] and nonzero_dims(W_k, 3) == ["person"]
    assert nonzero_dims(W_q, 4) == ["person"] and nonzero_dims(W_k, 4) == ["action"]  # "the other way round"
    assert "column 5 is all zeros in both matrices" in text
    assert not W_q[:, 5].any() and not W_k[:, 5].any()


def is_permutation(M):
    return set(np.unique(M)) == {0.0, 1.0} and (M.sum(axis=0) == 1).all() and (M.sum(axis=1) == 1).all()


def test_w_v_reorders_and_w_o_is_the_inverse_permutation_not_the_identity(heads):
    _, _, W_v, W_o, _ = heads
    text = prose("## Our two hand-made heads", "## Splitting into heads")
    assert "Every row and every column of W_v holds a single 1" in text and is_permutation(W_v)
    carried = [DIMS[int(np.argmax(W_v[:, c]))] for c in range(6)]
    assert carried == ["town vs nature", "water", "topic", "person", "place", "action"]
    assert "W_o is not the identity: it is a **permutation matrix**" in text
    assert is_permutation(W_o) and not np.array_equal(W_o, np.eye(6))
    assert "W_o = W_vᵀ, so W_v W_o is the identity" in text
    np.testing.assert_array_equal(W_o, W_v.T)
    np.testing.assert_array_equal(W_v @ W_o, np.eye(6))
    # "the demo_heads docstring" says the same
    assert "not the" in attention.demo_heads.__doc__ and "permutation" in attention.demo_heads.__doc__


def test_the_output_reads_in_the_six_dimensions(vectors):
    """With W_o = W_v.T, each output number is a head's weighted average of that input dimension."""
    tokens, X, out, w = run(vectors)
    head_of = {0: 0, 1: 0, 5: 0, 2: 1, 3: 1, 4: 1}  # town, water, topic: head 0; person, place, action: head 1
    for dim, h in head_of.items():
        np.testing.assert_allclose(out[:, dim], w[h] @ X[:, dim], atol=1e-12)


# ------------------------------------------------------------ what each head looks at


def test_head0_is_meaning_head1_is_who_does_what(vectors):
    tokens, _, _, w = run(vectors)
    bank, going, fish = (tokens.index(t) for t in ("bank", "going", "fish"))
    assert set(top(tokens, w[0, bank], 2)) == {"fish", "river"}  # "bank listens to fish and river"
    assert top(tokens, w[1, going]) == ["tom"]  # "going listens to Tom"
    assert top(tokens, w[1, fish]) == ["tom"]  # "sends the action words to Tom"
    # "neither question could be answered as well by the other head"
    assert w[0, going, tokens.index("tom")] < 0.15
    assert w[1, bank, tokens.index("river")] < 0.15


# ------------------------------------------------------------ where bank ends up


def test_where_bank_ends_up_after_one_head_and_two(vectors):
    text = prose("## What comes out", "## Check: the helper does the same")
    cos = embeddings.cosine_similarity
    river_c, town_c = centres(vectors)
    tokens, X, out2, w2 = run(vectors, num_heads=2)
    _, _, out1, w1 = run(vectors, num_heads=1)
    b = tokens.index("bank")
    fish, river = tokens.index("fish"), tokens.index("river")

    def both(v):
        return r2(cos(v, river_c)), r2(cos(v, town_c))

    assert quoted(text, r"cosine (\d+\.\d+) with the river centre, (\d+\.\d+) with the town centre\)") == both(X[b])
    assert cos(X[b], town_c) > cos(X[b], river_c)  # "a little nearer the town"
    assert quoted(text, r"(\d+\.\d+) with one head, (\d+\.\d+) with two\.") == (
        both(out1[b])[0], both(out2[b])[0])
    assert cos(out2[b], river_c) > cos(out1[b], river_c)
    assert quoted(text, r"gives \*fish\* (\d+\.\d+) and \*river\* (\d+\.\d+);") == (r2(w2[0, b, fish]), r2(w2[0, b, river]))
    assert quoted(text, r"one row \(\*fish\* (\d+\.\d+), \*river\* (\d+\.\d+)\)") == (r2(w1[0, b, fish]), r2(w1[0, b, river]))
    assert quoted(text, r"town centre (−\d+\.\d+) with one head, (−\d+\.\d+) with two") == (
        both(out1[b])[1], both(out2[b])[1])
    assert quoted(text, r"cosine (\d+\.\d+) with the river centre and (\d+\.\d+) with the town centre") == both(X[b] + out2[b])
    m_tokens, _, m_out, _ = run(vectors, embeddings.CONTRAST_SENTENCE)
    money_bank = m_out[m_tokens.index("bank")]
    assert quoted(text, r"\((\d+\.\d+) with the town centre\)") == both(money_bank)[1]
    assert cos(money_bank, town_c) > cos(money_bank, river_c)
    # the printed table shows the same numbers
    printed = outputs(NB)
    for name, v in (("bank before attention", X[b]), ("after 1 head", out1[b]), ("after 2 heads", out2[b]),
                    ("input + output, 2 heads", X[b] + out2[b]), ("money sentence, 2 heads", money_bank)):
        assert f"{name:>23}  {cos(v, river_c):16.2f}  {cos(v, town_c):15.2f}" in printed


def test_going_gets_toms_person_number_from_head_1(vectors):
    text = prose("## What comes out", "## Check: the helper does the same")
    tokens, X, out2, w2 = run(vectors, num_heads=2)
    _, _, out1, _ = run(vectors, num_heads=1)
    going, tom, person = tokens.index("going"), tokens.index("tom"), DIMS.index("person")
    assert quoted(text, r"\(Tom's is (\d+\.\d+)\)") == r2(X[tom, person])
    assert quoted(text, r"is (\d+\.\d+) after one head and (\d+\.\d+) after two") == (
        r2(out1[going, person]), r2(out2[going, person]))
    assert quoted(text, r"head 1 gives \*Tom\* (\d+\.\d+) of \*going\*'s weight") == r2(w2[1, going, tom])
    assert "x + MultiHead(x)" in text


# ------------------------------------------------------------ the code agrees


def test_loop_over_heads_equals_reshape_and_helper(vectors, heads):
    W_q, W_k, W_v, W_o, h = heads
    _, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    n, d_model = X.shape
    d_k = d_model // h
    Q, K, V = X @ W_q, X @ W_k, X @ W_v

    def split(M):
        return M.reshape(n, h, d_k).transpose(1, 0, 2)

    scores = split(Q) @ split(K).transpose(0, 2, 1) / np.sqrt(d_k)
    out_reshape = (attention.softmax(scores) @ split(V)).transpose(1, 0, 2).reshape(n, d_model) @ W_o
    loop = [scaled_dot_product_attention(Q[:, i * d_k:(i + 1) * d_k], K[:, i * d_k:(i + 1) * d_k],
                                         V[:, i * d_k:(i + 1) * d_k])[0] for i in range(h)]
    out_loop = np.concatenate(loop, axis=1) @ W_o
    out_helper, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, h)
    np.testing.assert_allclose(out_reshape, out_helper, atol=1e-12)
    np.testing.assert_allclose(out_loop, out_helper, atol=1e-12)


# ------------------------------------------------------------ the panel's story


def test_one_head_mixes_the_questions_and_six_heads_sharpen_the_action_column(vectors, heads):
    text = prose("## Your turn: change the number of heads", "## What more heads cost")
    W_q, W_k, *_ = heads
    tokens, X, _, w1 = run(vectors, num_heads=1)
    _, _, _, w2 = run(vectors, num_heads=2)
    _, _, _, w6 = run(vectors, num_heads=6)
    going, tom = tokens.index("going"), tokens.index("tom")
    assert top(tokens, w1[0, going]) == ["tom"]
    assert quoted(text, r"still finds \*Tom\* \((\d+\.\d+)\)") == r2(w1[0, going, tom])
    assert quoted(text, r"than head 1 alone \((\d+\.\d+)\)") == r2(w2[1, going, tom])
    assert w1[0, going, tom] < w2[1, going, tom]
    # "its scores are divided by √6 instead of √3 ... divided by √3, they would give Tom 0.63"
    d1, d2 = quoted(text, r"divided by √(\d) instead of √(\d)")
    assert (d1, d2) == (X.shape[1] // 1, X.shape[1] // 2)
    one_head_scores = (X @ W_q)[going] @ (X @ W_k).T
    assert quoted(text, r"the one-head scores would give \*Tom\* (\d+\.\d+)") == r2(
        attention.softmax(one_head_scores / np.sqrt(d2))[tom])
    sharpest = [w6[h].max() for h in range(6)]
    assert int(np.argmax(sharpest)) == quoted(text, r"\(head (\d)\) is the sharpest")
    assert quoted(text, r"\(\*going\* gives \*Tom\* (\d+\.\d+)\)") == r2(w6[3, going, tom])
    # "head 5, whose column of W_q is all zeros, cannot choose at all: every weight is 1/9 ≈ 0.11"
    assert not W_q[:, 5].any()
    np.testing.assert_allclose(w6[5], 1 / len(tokens))
    assert quoted(text, r"every weight is 1/9 ≈ (\d+\.\d+)") == r2(1 / len(tokens))


def test_sharpness_words_are_the_series_convention_and_the_panel_follows_them(panel, vectors, heads):
    """"sharpness multiplies W_q, so every score is multiplied by it too; like 1/T in notebook 03"."""
    assert SHARPNESS_WORDS in prose("## Your turn: change the number of heads", "## What more heads cost")
    W_q, W_k, W_v, W_o, h = heads
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    scores = (attention.split_heads(X @ W_q, h) @ np.swapaxes(attention.split_heads(X @ W_k, h), -1, -2)
              / np.sqrt(X.shape[1] // h))  # (h, n, n) at sharpness 1
    for s in (0.5, 2.0, 3.0):
        panel.set(sharpness=s)
        shown = np.array([ax.images[0].get_array() for ax in visible_axes(panel)])
        np.testing.assert_allclose(shown, multi_head_attention(X, s * W_q, W_k, W_v, W_o, h)[1])  # W_q × s
        np.testing.assert_allclose(shown, attention.softmax(s * scores))  # every score × s
        np.testing.assert_allclose(shown, attention.softmax(scores, temperature=1 / s))  # T = 1/s


# ------------------------------------------------------------ what more heads cost


def test_parameters_are_the_same_for_every_head_count(heads):
    """The projections cut into h heads hold the same numbers: each head's columns, plus W_o."""
    text = prose("## What more heads cost")
    assert "the number of weights is `4 · d_model²` for any number of heads" in text
    W_q, W_k, W_v, W_o, _ = heads
    d_model = W_q.shape[0]
    printed = outputs(NB)
    for h in (1, 2, 3, 6):
        per_head = [attention.split_heads(W, h) for W in (W_q, W_k, W_v)]  # (h, d_model, d_k) each
        total = sum(p.size for p in per_head) + W_o.size
        assert total == 4 * d_model ** 2
        assert f"{h} head(s): {per_head[0][0].size * 3:>3} per head x {h} + {W_o.size} in W_o = {total} weights" in printed


def test_the_bias_count_is_the_printed_one():
    text = prose("## What more heads cost")
    d, rows, cols, bias, with_biases = quoted(
        text, r"at d_model = (\d+) the layer then has 4 × \((\d+) · (\d+) \+ (\d+)\) = ([\d,]+) parameters")
    assert rows == cols == bias == d
    biases = quoted(text, r"parameters, ([\d,]+) of them biases")
    d = int(d)
    weights = 4 * d * d  # W_q, W_k, W_v, W_o
    assert (with_biases, biases) == (weights + 4 * d, 4 * d)
    printed = outputs(NB)
    assert f"= {int(with_biases):,} parameters ({int(biases):,} biases)" in printed
    assert f"d_model = {d}: {weights:,} weights per attention layer" in printed


def test_heads_need_not_divide_d_model(vectors):
    """4 heads of 2 numbers on 6-number words: W_q, W_k, W_v (6, 8), W_o (8, 6)."""
    text = prose("## What more heads cost")
    h = quoted(text, r"Here are (\d) heads of d_k = d_v = \d")
    d_head = quoted(text, r"heads of d_k = d_v = (\d) on our")
    assert quoted(text, r"W_q, W_k and W_v are (\d) × (\d), W_o is \d × \d") == (6, h * d_head)
    assert quoted(text, r"W_o is (\d) × (\d)\.") == (h * d_head, 6)
    _, X = embeddings.sentence_matrix(embeddings.SENTENCE, vectors)
    rng = np.random.default_rng(0)
    W_q, W_k, W_v = (rng.normal(size=(6, int(h * d_head))) for _ in range(3))
    W_o = rng.normal(size=(int(h * d_head), 6))
    heads_out, weights = scaled_dot_product_attention(*(attention.split_heads(X @ W, int(h)) for W in (W_q, W_k, W_v)))
    output = attention.merge_heads(heads_out) @ W_o
    assert weights.shape == (h, 9, 9) and output.shape == X.shape
    assert "4 heads of 2: weights (4, 9, 9) | concat (9, 8) | output (9, 6)" in outputs(NB)
    answer = markdown(NB, "### Question 5")
    assert quoted(" ".join(answer.split()), r"W_v of (\d) × (\d) and a W_o of \d × \d") == (6, h * d_head)


def test_attention_weights_grow_with_the_heads(vectors):
    text = prose("## What more heads cost")
    counts = {h: run(vectors, num_heads=h)[3].size for h in (1, 2, 3, 6)}  # h x n x n weights
    assert counts[6] == 6 * counts[1]
    assert quoted(text, r"six heads make (\d+) weights where one head makes (\d+);") == (counts[6], counts[1])
    words, heads_, grid = quoted(text, r"a text of ([\d,]+) tokens the paper's (\d) heads make ([\d,]+) attention")
    assert grid == heads_ * words ** 2
    assert quoted(text, r"far more than the layer's ([\d,]+) parameters") == 4 * 512 ** 2
    printed = outputs(NB)
    for h, count in counts.items():
        assert f"attention weights with {h} head(s): {h} x 9 x 9 = {count}" in printed
    assert f"{int(grid):,} weights in every attention layer" in printed


def test_the_summary_says_sub_layer_and_names_what_the_block_adds():
    text = prose("## Summary")
    assert "whole block" not in prose()
    assert "**multi-head attention sub-layer**" in text
    for part in ("positions", "residual connection", "layer normalisation", "feed-forward network",
                 "06 (positions)", "07 (the block)"):
        assert part in text, part


# ------------------------------------------------------------ the panel


@pytest.fixture
def panel(vectors):
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    p = widgets.multi_head_panel(vectors, W_q, W_k, W_v, W_o)
    yield p
    matplotlib.pyplot.close(p.fig)


def visible_axes(panel):
    return [ax for ax in panel.fig.axes[:6] if ax.get_visible()]


def test_panel_fits_the_notebook_column_with_readable_labels(panel):
    width, _ = panel.fig.get_size_inches()
    assert width <= 5.8  # 580 px at 100 dpi: the canvas is never cut
    for heads in (1, 2, 3, 6):
        panel.set(num_heads=heads)
        panel.fig.canvas.draw()
        renderer = panel.fig.canvas.get_renderer()
        shown = visible_axes(panel)
        rows = {round(ax.get_position().y0, 3) for ax in shown}
        assert len(rows) == (1 if heads <= 3 else 2)
        boxes = []
        for ax in shown:
            assert 0 <= ax.get_position().x0 and ax.get_position().x1 <= 1
            labels = [t for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_visible() and t.get_text()]
            assert min(t.get_fontsize() for t in labels) >= 10
            boxes += [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
        figure_box = panel.fig.bbox
        assert all(b.x0 >= figure_box.x0 and b.x1 <= figure_box.x1 and b.y0 >= figure_box.y0 for b in boxes)
        if heads >= 3:  # key words turned upright: side by side, they must not overlap
            key_labels = sorted(boxes, key=lambda b: (round(b.y1), b.x0))
            gaps = [b.x0 - a.x1 for a, b in zip(key_labels, key_labels[1:]) if round(a.y1) == round(b.y1)]
            assert min(gaps) >= -1, min(gaps)


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
@pytest.mark.parametrize("sentence", ["river", "money"])
def test_panel_shows_one_heatmap_per_head_with_the_right_weights(panel, vectors, heads, sentence):
    text = embeddings.SENTENCE if sentence == "river" else embeddings.CONTRAST_SENTENCE
    panel.set(num_heads=heads, sentence=sentence)
    tokens, _, _, w = run(vectors, text, heads)
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


def test_panel_at_sharpness_zero_asks_nothing(panel, vectors):
    """"At 0 no head asks anything and every weight is 1/9"."""
    assert "At 0 no head asks anything and every weight is 1/9" in prose("## Your turn")
    tokens, *_ = run(vectors)
    panel.set(sharpness=0.0)
    for ax in visible_axes(panel):
        np.testing.assert_allclose(ax.images[0].get_array(), 1 / len(tokens))
    assert panel.text.count("going -> all about 0.11") == len(visible_axes(panel))


def test_sharper_queries_give_sharper_weights(vectors):
    tokens, *_ = run(vectors)
    going, tom = tokens.index("going"), tokens.index("tom")
    tom_weight = [run(vectors, sharpness=s)[3][1, going, tom] for s in np.linspace(0, 3, 16)]
    assert np.all(np.diff(tom_weight) > 0)


def test_panel_says_when_a_head_picks_no_word(panel, vectors, heads):
    """With 6 heads, heads 0 and 5 give bank and going even weights: the readout says so."""
    text = prose("## Your turn: change the number of heads", "## What more heads cost")
    tokens, X, _, w = run(vectors, num_heads=6)
    lines = panel.set(num_heads=6).splitlines()[1:]
    for h, line in enumerate(lines):
        for word in ("bank", "going"):
            row = w[h, tokens.index(word)]
            flat = row.max() - row.min() < widgets.FLAT_SPREAD
            assert (f"{word} -> all about 0.11" in line) == flat, line
    # "Head 0 reads only the town vs nature number, which is 0 for both bank and going"
    assert "Head 0 reads only the *town vs nature* number, which is 0 for both *bank* and *going*" in text
    W_q = heads[0]
    assert np.flatnonzero(W_q[:, 0]).tolist() == [DIMS.index("town vs nature")]
    assert X[tokens.index("bank"), 0] == 0 == X[tokens.index("going"), 0]
    assert lines[0] == "head 0: bank -> all about 0.11, going -> all about 0.11"
    bank, going = tokens.index("bank"), tokens.index("going")
    assert lines[3] == f"head 3: bank -> tom {w[3, bank].max():.2f}, going -> tom {w[3, going].max():.2f}"


def test_panel_set_and_reset(panel):
    start = panel.text
    changed = panel.set(num_heads=6, sentence="money")
    assert changed != start and "deposit money" in changed
    assert panel.reset() == start
    assert panel.controls["num_heads"].value == 2
    assert panel.controls["sharpness"].value == 1.0
    assert (panel.controls["sharpness"].min, panel.controls["sharpness"].max) == (0.0, 3.0)


def test_panel_rejects_unknown_control(panel):
    with pytest.raises(KeyError, match="num_heads"):
        panel.set(heads=3)
