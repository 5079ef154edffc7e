"""Notebook 05 (multi-head attention): its claims, and its head-count panel.

Every number the notebook's prose quotes is read from the notebook (tests/notebook_text.py)
and compared with the computation, so prose and maths cannot drift apart.
"""

import json
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import attention, embeddings  # noqa: E402
from helpers.lessons import multi_head_attention as lesson  # noqa: E402
from helpers.panels import apply_patch  # noqa: E402
from helpers.panels.pieces import FONT_PX, MIN_FONT_PX  # noqa: E402
from helpers.panels.pieces.colours import weight_colours  # noqa: E402
from helpers.panels.pieces.heatmap import text_width  # noqa: E402
from helpers.attention import multi_head_attention, scaled_dot_product_attention  # noqa: E402
from notebook_text import load, markdown, outputs, quoted, source  # noqa: E402

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
        shown = np.array([cell_fills(panel, key) for key in shown_heads(panel)])
        np.testing.assert_array_equal(shown, fills(multi_head_attention(X, s * W_q, W_k, W_v, W_o, h)[1]))  # W_q × s
        np.testing.assert_array_equal(shown, fills(attention.softmax(s * scores)))  # every score × s
        np.testing.assert_array_equal(shown, fills(attention.softmax(scores, temperature=1 / s)))  # T = 1/s


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


class Front:
    """What the browser shows: the first scene, then every patch the view sends, applied."""

    def __init__(self, view):
        self.keyed, self.sizes = view.scene.keyed(), []
        view.send = self.receive

    def receive(self, content, buffers=None):
        self.keyed = apply_patch(self.keyed, content)
        self.sizes.append(len(json.dumps(content, separators=(",", ":"))))


@pytest.fixture
def panel(vectors):
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    return lesson.multi_head_panel(vectors, W_q, W_k, W_v, W_o)


def shown_heads(panel):
    """The keys of the heatmap tiles the browser shows, in order (a tile's key has one dot)."""
    return [key for key, (attrs, _) in panel.scene.keyed().items()
            if key.count(".") == 1 and ".h" in key and "display:none" not in attrs["style"]]


def cell_fills(panel, key, n=9):
    keyed = panel.scene.keyed()
    return np.array([[keyed[f"{key}.{i}.{j}"][0]["fill"] for j in range(n)] for i in range(n)])


def fills(weights):
    """The viridis colours of weights (..., n, n), as the heatmap cells must show them."""
    weights = np.asarray(weights)
    return np.array(weight_colours(weights)).reshape(weights.shape)


def placed_tiles(panel):
    """[(x, y, markup)] of the shown tiles in the static picture (rows of 580 px)."""
    svg = panel.static_svg()
    starts = [m.start() for m in re.finditer(r'<svg xmlns="[^"]+" x="', svg)]
    out = []
    for a, b in zip(starts, starts[1:] + [len(svg) - len("</svg>")]):
        x, y = re.match(r'<svg xmlns="[^"]+" x="(\d+)" y="(\d+)"', svg[a:]).groups()
        out.append((int(x), int(y), svg[a:b]))
    return out


def cells_of(markup):
    """(x, y, width) of a heatmap tile's cells (the square rects), in tile px."""
    rects = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', markup)
    return [(float(x), float(y), float(w)) for x, y, w, h in rects if w == h]


def layout(panel):
    """{'heatmaps': [(x, y, markup, cells)], 'strip': (x, y, markup)} of the static picture."""
    tiles = placed_tiles(panel)
    heat = [(x, y, m, cells_of(m)) for x, y, m in tiles if ">head " in m]
    (strip,) = [(x, y, m) for x, y, m in tiles if ">weight<" in m]
    return {"heatmaps": heat, "strip": strip}


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
def test_panel_fits_the_column_one_row_up_to_three_heads_two_rows_for_six(panel, heads):
    panel.set(num_heads=heads, sentence="money")  # the longer words
    width, _ = panel.scene.size()
    assert width <= 580 and all(w <= 580 for w, *_ in panel.scene.tiles)
    heat = layout(panel)["heatmaps"]
    assert len(heat) == heads
    rows = sorted({y for _, y, _, _ in heat})
    assert len(rows) == (1 if heads <= 3 else 2)
    assert rows[0] == 0  # the heatmaps start the picture: no empty band above them
    for _, _, markup, cells in heat:
        title_y = float(re.search(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>head ', markup).group(1))
        assert min(y for _, y, _ in cells) - title_y <= 16  # the cells start just under the title


def test_heatmaps_are_taller_with_fewer_heads_and_centred(panel):
    cell = {}
    for heads in (1, 2, 3, 6):
        panel.set(num_heads=heads)
        heat = layout(panel)["heatmaps"]
        cell[heads] = {w for _, _, _, cells in heat for _, _, w in cells}.pop()
        first_row = [(x, cells) for x, y, _, cells in heat if y == 0]
        left = first_row[0][0] + min(cx for cx, _, _ in first_row[0][1])
        right = first_row[-1][0] + max(cx + w for cx, _, w in first_row[-1][1])
        assert abs((left + right) / 2 - 290) <= 40, (heads, left, right)  # centred in the 580 px
    assert cell[1] > cell[2] > cell[3] == cell[6]


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
def test_the_colour_strip_spans_the_heatmaps(panel, heads):
    panel.set(num_heads=heads)
    found = layout(panel)
    first_row = [(x, cells) for x, y, _, cells in found["heatmaps"] if y == 0]
    left = first_row[0][0] + min(cx for cx, _, _ in first_row[0][1])
    right = first_row[-1][0] + max(cx + w + 1 for cx, _, w in first_row[-1][1])  # cells are 1 px apart
    x, y, markup = found["strip"]
    bar = [(float(a), float(a) + float(w)) for a, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="14', markup)]
    assert abs(x + bar[0][0] - left) <= 1 and abs(x + bar[-1][1] - right) <= 1.5
    assert y > max(ty for _, ty, _, _ in found["heatmaps"])  # under every heatmap
    assert "each row: a query word; each column: a key word" in markup


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
def test_labels_are_readable_and_the_nine_words_fit(panel, heads):
    panel.set(num_heads=heads, sentence="money")
    sizes = [float(v) for v in re.findall(r'font-size="([\d.]+)"', panel.static_svg())]
    assert min(sizes) >= MIN_FONT_PX
    for _, _, markup, cells in layout(panel)["heatmaps"]:
        cell = cells[0][2] + 1
        labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end" font-size="([\d.]+)"'
                            r' transform="rotate\(-60[^"]*"[^>]*>([^<]+)<', markup)
        assert len(labels) == 9
        px = {float(size) for _, size, _ in labels}
        assert px == ({MIN_FONT_PX} if heads >= 3 else {FONT_PX})  # smaller when three share a row
        (size,) = px
        assert cell * np.sin(np.radians(60)) >= size  # turned key words side by side do not overlap
        for x, _, word in labels:  # the first key word leans left under the cells (and its letters'
            # height, turned, too): still in its tile
            lean = text_width(word, size) * np.cos(np.radians(60)) + 0.8 * size * np.sin(np.radians(60))
            assert float(x) - lean >= 0, word
        rows = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end" font-size="[\d.]+" data-i="\d+">([^<]+)<', markup)
        for x, word in rows:  # query words on the left of a row's first heatmap: they fit left of the cells
            assert float(x) - text_width(word, size) >= 0, word


def test_the_sharpness_label_is_shown_whole(panel):
    control = panel.controls["sharpness"]
    assert control.description == "sharpness × W_q"
    widths = {int(c.style.description_width.rstrip("px")) for c in panel.controls.values()}
    assert len(widths) == 1  # the labels line up
    assert widths.pop() >= text_width(control.description, 13) + 12  # ipywidgets' 13 px labels


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
@pytest.mark.parametrize("sentence", ["river", "money"])
def test_panel_shows_one_heatmap_per_head_with_the_right_weights(panel, vectors, heads, sentence):
    text = embeddings.SENTENCE if sentence == "river" else embeddings.CONTRAST_SENTENCE
    panel.set(num_heads=heads, sentence=sentence)
    tokens, X = embeddings.sentence_matrix(text, vectors)
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    d_k = X.shape[1] // heads
    keys = shown_heads(panel)
    assert len(keys) == heads
    keyed = panel.scene.keyed()
    for h, key in enumerate(keys):
        cols = slice(h * d_k, (h + 1) * d_k)  # this head's columns, attended by hand
        w = attention.softmax((X @ W_q)[:, cols] @ (X @ W_k)[:, cols].T / np.sqrt(d_k))
        np.testing.assert_array_equal(cell_fills(panel, key), fills(w))
        assert [keyed[f"{key}.c{j}"][1] for j in range(9)] == tokens
        title = f"head {h} (col {h})" if d_k == 1 else f"head {h} (cols {h * d_k}-{(h + 1) * d_k - 1})"
        assert keyed[f"{key}.t"][1] == title
    lines = panel.text.splitlines()
    assert lines[0] == f"{heads} head(s), d_k = {d_k}, sharpness 1.00, sentence: {text}"
    assert len(lines) == 1 + heads
    _, w = multi_head_attention(X, W_q, W_k, W_v, W_o, heads)
    bank = tokens.index("bank")
    for h in range(heads):
        row = w[h, bank]
        picked = "all about 0.11" if np.ptp(row) < 0.02 else f"{tokens[int(np.argmax(row))]} {row.max():.2f}"
        assert f"head {h}: bank -> {picked}," in lines[1 + h]


def test_every_control_sends_a_small_patch_that_gives_the_new_picture(panel):
    front = Front(panel.view)
    moves = [("sharpness", 1.1), ("sharpness", 2.9), ("num_heads", 6), ("sentence", "money"),
             ("sharpness", 0.0), ("num_heads", 1), ("num_heads", 3), ("num_heads", 6), ("sentence", "river"),
             ("num_heads", 2), ("sharpness", 3.0), ("num_heads", 6), ("num_heads", 2)]
    for name, value in moves:
        before = len(front.sizes)
        panel.controls[name].value = value
        assert len(front.sizes) == before + 1, (name, value)  # a patch, not a whole picture
        assert front.keyed == panel.scene.keyed(), (name, value)
        assert front.sizes[-1] < 8 * 1024, (name, value, front.sizes[-1])
    assert {kind for kind, _ in panel.view.sent} == {"patch"}


def test_panel_at_sharpness_zero_asks_nothing(panel, vectors):
    """"At 0 no head asks anything and every weight is 1/9"."""
    assert "At 0 no head asks anything and every weight is 1/9" in prose("## Your turn")
    tokens, *_ = run(vectors)
    panel.set(sharpness=0.0)
    for key in shown_heads(panel):
        np.testing.assert_array_equal(cell_fills(panel, key), fills(np.full((9, 9), 1 / len(tokens))))
    assert panel.text.count("going -> all about 0.11") == len(shown_heads(panel)) == 2


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
            flat = row.max() - row.min() < lesson.FLAT_SPREAD
            assert (f"{word} -> all about 0.11" in line) == flat, line
    # "Head 0 reads only the town vs nature number, which is 0 for both bank and going":
    # its query for them is 0, so every score is 0 and the weights are exactly 1/9
    assert "Head 0 reads only the *town vs nature* number, which is 0 for both *bank* and *going*" in text
    W_q = heads[0]
    assert np.flatnonzero(W_q[:, 0]).tolist() == [DIMS.index("town vs nature")]
    bank, going = tokens.index("bank"), tokens.index("going")
    assert X[bank, 0] == 0 == X[going, 0]
    assert (X @ W_q)[bank, 0] == 0 == (X @ W_q)[going, 0]
    np.testing.assert_allclose(w[0, [bank, going]], 1 / 9)
    assert not np.allclose(w[0], 1 / 9)  # other words do choose in head 0 (fish, river)
    # head 5: its column of W_q is all zeros, every word's query is 0
    assert not W_q[:, 5].any()
    assert lines[0] == "head 0: bank -> all about 0.11, going -> all about 0.11"
    assert lines[5] == "head 5: bank -> all about 0.11, going -> all about 0.11"
    assert [h for h, line in enumerate(lines) if line.count("all about") == 2] == [0, 5]  # both words
    assert lines[3] == f"head 3: bank -> tom {w[3, bank].max():.2f}, going -> tom {w[3, going].max():.2f}"
    assert "When a row of weights picks no word, the readout says \"all about 0.11\"" in text


def test_panel_set_and_reset(panel):
    start, first = panel.text, panel.static_svg()
    changed = panel.set(num_heads=6, sentence="money", sharpness=2.5)
    assert changed != start and "deposit money" in changed
    assert panel.reset() == start
    assert panel.static_svg() == first  # the same picture (hidden heatmaps keep their last cells)
    assert panel.controls["num_heads"].value == 2
    assert panel.controls["sharpness"].value == 1.0
    assert (panel.controls["sharpness"].min, panel.controls["sharpness"].max) == (0.0, 3.0)


def test_panel_rejects_unknown_control(panel):
    with pytest.raises(KeyError, match="num_heads"):
        panel.set(heads=3)


def test_the_notebook_builds_the_panel_and_the_lesson_lists_it():
    code = "\n".join(source(c) for c in load(NB)["cells"] if c["cell_type"] == "code")
    assert "lesson.multi_head_panel(embeddings.toy_vectors(), W_q, W_k, W_v, W_o)" in code
    assert "lesson.head_shapes_diagram(n, d_model, num_heads)" in code
    (panel,) = lesson.panels().values()
    assert panel.title == "One heatmap per head" and list(panel.controls) == ["num_heads", "sentence", "sharpness"]


def test_head_shapes_diagram_fits_and_names_the_shapes():
    fig = lesson.head_shapes_diagram(9, 6, 2)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert fig.get_size_inches()[0] <= 7.0
    assert "X\n9 × 6" in texts and "concat\n9 × 6" in texts and "head 1: cols 3–5\n9 × 3" in texts
    matplotlib.pyplot.close(fig)
