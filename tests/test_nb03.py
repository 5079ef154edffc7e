"""Notebook 03 (softmax and masking): every claim its prose makes, its pictures and its panels.

The numbers are recomputed here from the helpers' inputs (toy vectors, demo head), with a
softmax written independently in this file, so a test fails if the notebook's story and the
maths drift apart.
"""

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.patches import Arc

from helpers import attention, embeddings, plots
from helpers.lessons import softmax_and_masking as lesson
from helpers.panels import apply_patch
from helpers.panels.pieces import MIN_FONT_PX
from notebook_text import load, markdown, outputs, quoted

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_softmax_and_masking.ipynb"
TEXT = markdown("03")  # all of the notebook's prose: the numbers it quotes are read from here
SHORT = "Tom is at the bank."
GRID = np.geomspace(0.05, 20, 60)  # temperatures for monotonicity checks


def ref_softmax(x, T=1.0):
    """Softmax along the last axis, written here independently of helpers.attention."""
    z = np.asarray(x, dtype=float) / T
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def ref_entropy(w):
    w = np.asarray(w, dtype=float)
    return float(-sum(p * np.log(p) for p in w if p > 0))


@pytest.fixture(scope="module")
def kv():
    return embeddings.toy_vectors()


@pytest.fixture(scope="module")
def story(kv):
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv)
    W_q, W_k, W_v = attention.demo_head()
    Q, K = X @ W_q, X @ W_k
    scores = Q @ K.T / np.sqrt(K.shape[1])
    idx = {t: i for i, t in enumerate(tokens)}
    return dict(tokens=tokens, X=X, W_q=W_q, W_k=W_k, W_v=W_v, Q=Q, K=K, scores=scores, idx=idx,
                weights=ref_softmax(scores))


@pytest.fixture(scope="module")
def batch(kv, story):
    tokens2, X2 = embeddings.sentence_matrix(SHORT, kv)
    n, n2 = len(story["tokens"]), len(tokens2)
    X_batch = np.zeros((2, n, X2.shape[1]))
    X_batch[0], X_batch[1, :n2] = story["X"], X2
    pad = attention.padding_mask([n, n2], n)
    Qb, Kb, Vb = X_batch @ story["W_q"], X_batch @ story["W_k"], X_batch @ story["W_v"]
    _, w_nomask = attention.scaled_dot_product_attention(Qb, Kb, Vb)
    _, w_pad = attention.scaled_dot_product_attention(Qb, Kb, Vb, mask=pad)
    return dict(tokens2=tokens2, n=n, n2=n2, pad=pad, w_nomask=w_nomask, w_pad=w_pad)


# ------------------------------------------------------------ section 1: scores


def test_scores_are_not_yet_weights(story):
    s = story["scores"][story["idx"]["bank"]]
    assert story["scores"].shape == (9, 9)
    assert story["tokens"] == ["tom", "is", "going", "to", "fish", "at", "the", "river", "bank"]
    assert story["idx"]["bank"] == 8  # "8, the last word"
    assert abs(s.sum() - 1) > 1  # "they add up to ..., not to 1"
    # "in general they can be negative": some scores of the sentence are
    assert (story["scores"] < 0).any()


# ------------------------------------------------------------ section 2: softmax steps


def test_softmax_three_steps(story):
    """Section 2's claims about softmax, checked on attention.softmax with bank's scores."""
    s = story["scores"][story["idx"]["bank"]]
    w = attention.softmax(s)
    assert np.allclose(w, ref_softmax(s))  # "agrees with attention.softmax" (and our three lines)
    assert (w > 0).all()  # "every weight is positive"
    assert w.sum() == pytest.approx(1.0)  # "add up to 1"
    # "the order never changes": scores and weights sort the same way
    assert list(np.argsort(s)) == list(np.argsort(w))
    order = [story["tokens"][j] for j in np.argsort(-w)]
    assert order[:2] == ["river", "fish"]  # "river has the largest ..., then fish"
    # "two scores that differ by 1 end up with weights in the ratio e ≈ 2.7"
    for a, b in ((story["idx"]["river"], story["idx"]["tom"]), (story["idx"]["fish"], story["idx"]["bank"])):
        assert w[a] / w[b] == pytest.approx(np.exp(s[a] - s[b]))
    assert quoted(TEXT, r"in the\s+ratio e ≈ (\d+(?:\.\d+)?)") == round(np.e, 1)
    # "river and fish ... together take more than half of bank's attention", printed as 0.61
    pair = w[story["idx"]["river"]] + w[story["idx"]["fish"]]
    assert pair > 0.5 and f"river + fish get {pair:.2f} of bank's attention" in outputs("03")


# ------------------------------------------------------------ section 3: temperature


@pytest.mark.parametrize("row", range(9))
def test_higher_temperature_flattens_every_row(story, row):
    s = story["scores"][row]
    ws = [attention.softmax(s, temperature=T) for T in GRID]
    H = np.array([ref_entropy(w) for w in ws])
    top = np.array([w.max() for w in ws])
    assert (np.diff(H) > 0).all()  # "the higher the temperature, the larger the entropy"
    assert (np.diff(top) < 0).all()  # "... and the smaller the largest weight"
    assert ((H >= 0) & (H <= np.log(9) + 1e-12)).all()
    for T, w in zip(GRID, ws):
        assert np.allclose(w, ref_softmax(s, T))  # "the same as softmax(s / T)"


def test_temperature_extremes_and_entropy_scale(story):
    s = story["scores"][story["idx"]["bank"]]
    river, fish = story["idx"]["river"], story["idx"]["fish"]
    # "it is 0 when one word gets all the weight, and ln 9 ≈ 2.20 when all nine words get 1/9"
    even = attention.softmax(np.zeros(9))
    assert np.allclose(even, 1 / 9)
    assert quoted(TEXT, r"ln 9 ≈ (\d+(?:\.\d+)?) when all nine") == round(ref_entropy(even), 2)
    assert ref_entropy(attention.softmax(np.array([0.0] + [-np.inf] * 8))) == 0
    # section 3: "At T = 0.1 river takes more than 90 % ...; at T = 5 ... differ by less than 0.1"
    w01 = attention.softmax(s, temperature=0.1)
    assert np.argmax(w01) == river and w01[river] > quoted(TEXT, r"takes more than (\d+) %") / 100
    w5 = attention.softmax(s, temperature=5.0)
    assert w5.max() - w5.min() < quoted(TEXT, r"weight differ by less than (\d+(?:\.\d+)?)\)")
    # "a small T: the best word takes almost everything; a large T: closer to 1/9 each"
    assert attention.softmax(s, temperature=1e3) == pytest.approx(np.ones(9) / 9, abs=1e-3)
    # "The √d_k of notebook 02 is exactly such a temperature"
    d_k = story["K"].shape[1]
    assert np.allclose(attention.softmax(story["Q"] @ story["K"].T, temperature=np.sqrt(d_k)),
                       attention.softmax(story["scores"]))


def test_question_4_small_gap_big_difference(story):
    """Question 4's numbers, read from its text, against the scores and attention.softmax at T = 0.1."""
    q4 = markdown("03", "### Question 4", "### Question 5")
    s = story["scores"][story["idx"]["bank"]]
    river, fish = story["idx"]["river"], story["idx"]["fish"]
    w01 = attention.softmax(s, temperature=0.1)
    assert quoted(q4, r"\*river\* takes (\d+(?:\.\d+)?) of") == round(w01[river], 2)
    assert quoted(q4, r"\*fish\* only (\d+(?:\.\d+)?),") == round(w01[fish], 2)
    assert quoted(q4, r"their scores \((\d+(?:\.\d+)?) and (\d+(?:\.\d+)?)\)") == (round(s[river], 2), round(s[fish], 2))
    gap = s[river] - s[fish]
    assert gap < quoted(q4, r"differ by less than (\d+(?:\.\d+)?)\.")
    assert quoted(q4, r"the gap of (\d+(?:\.\d+)?) between") == round(gap, 3)
    assert quoted(q4, r"\((\d+(?:\.\d+)?) from the rounded scores\)") == round(round(s[river], 2) - round(s[fish], 2), 2)
    assert quoted(q4, r"becomes (\d+(?:\.\d+)?), and softmax") == round(gap / 0.1, 2)
    ratio = w01[river] / w01[fish]  # what softmax made of the gap
    assert quoted(q4, r"e\^[\d.]+ ≈ (\d+)") == round(ratio) == quoted(q4, r"about (\d+) times")


# ------------------------------------------------------------ section 4: stable softmax


def naive_softmax(x):
    """Softmax straight from the formula, as the notebook's section 4 writes it (no max subtracted)."""
    e = np.exp(x)
    return e / e.sum()


SECTION_4 = markdown("03", "## 4. Big scores", "## 5. Masks")
THRESHOLDS = [(np.float64, r"holds e\^s up to s ≈ (\d+(?:\.\d+)?)"),
              (np.float16, r"overflows as soon as s passes (\d+(?:\.\d+)?),"),
              (np.float32, r"\*\*float32\*\* above (\d+(?:\.\d+)?)\.")]


@pytest.mark.parametrize("dtype, pattern", THRESHOLDS, ids=["float64", "float16", "float32"])
def test_overflow_thresholds_are_where_the_naive_softmax_breaks(dtype, pattern):
    """The thresholds the prose quotes are ln(np.finfo(dtype).max), and they are where it happens:
    a score just below passes the naive formula, just above it gives nan; attention.softmax never."""
    largest = float(np.finfo(dtype).max)
    threshold = quoted(SECTION_4, pattern)
    assert threshold == round(np.log(largest), 2)
    assert f"{np.dtype(dtype).name}: largest number {largest:.5g}, e^s overflows above s = {threshold:.2f}" in outputs("03")
    for s_top, breaks in ((threshold - 0.02, False), (threshold + 0.02, True)):
        x = np.array([s_top, 0.0], dtype=dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            naive = naive_softmax(x)
        assert np.isnan(naive).any() == breaks
        w = attention.softmax(x)
        assert w.dtype == dtype and np.isfinite(w).all() and w.sum() == pytest.approx(1, abs=1e-3)
        assert np.allclose(w, attention.softmax(np.array([s_top, 0.0])), atol=1e-3)
    assert quoted(SECTION_4, r"float16\*\* \(largest number (\d+)\)") == np.finfo(np.float16).max


def test_scaled_scores_break_the_naive_softmax_not_the_helper(story):
    """Section 4's demonstration: bank's scores × 5 in float16 and × 40 in float32."""
    s = story["scores"][story["idx"]["bank"]]
    river = story["idx"]["river"]
    f16, T = quoted(SECTION_4, r"scores by (\d+) \(the temperature T = (\d+(?:\.\d+)?) of section 3\)")
    assert T == 1 / f16
    cases = [(np.float16, f16, quoted(SECTION_4, r"\*river\*'s, (\d+(?:\.\d+)?);")),
             (np.float32, quoted(SECTION_4, r"Multiplying by (\d+) \(largest"),
              quoted(SECTION_4, r"\(largest (\d+(?:\.\d+)?)\) does the same to float32"))]
    for dtype, factor, largest in cases:
        big = (factor * s).astype(dtype)  # as the notebook builds it
        assert np.argmax(big) == river and round(float(big.max()), 2) == largest
        assert largest > np.log(float(np.finfo(dtype).max))  # past the threshold of its format
        with np.errstate(over="ignore", invalid="ignore"):
            naive = naive_softmax(big)
            assert np.isnan(naive @ story["X"]).all()  # "one nan spreads to everything computed from it"
        # "river's weight is inf / inf ... nan. Every other weight is ... divided by inf, so 0"
        assert np.isnan(naive[river]) and (np.delete(naive, river) == 0).all()
        w = attention.softmax(big)  # the helper subtracts the maximum: finite, in the same format
        assert w.dtype == dtype and np.isfinite(w).all() and float(w.sum()) == pytest.approx(1, abs=1e-3)
        # scaling the scores by `factor` is the temperature 1/factor: the float64 answer
        assert np.allclose(w, attention.softmax(s, temperature=1 / factor), atol=1e-3)
    printed = outputs("03")
    assert "naive softmax in float16: [ 0.  0.  0.  0.  0.  0.  0. nan  0.]" in printed
    assert "float16 = softmax(s, T = 0.2) in float64: True" in printed


@pytest.mark.parametrize("row", range(9))
def test_helper_softmax_on_normal_and_scaled_scores(story, row):
    s = story["scores"][row]
    assert np.allclose(attention.softmax(s), naive_softmax(s))  # "on normal scores naive = stable"
    assert np.allclose(attention.softmax(s), ref_softmax(s))
    assert np.allclose(attention.softmax(s * 1000), ref_softmax(s, 1 / 1000))  # big by scaling too


# ------------------------------------------------------------ section 5: masks


def test_causal_mask_picture_claims():
    causal = attention.causal_mask(9)
    assert causal.shape == (9, 9) and causal.dtype == bool
    assert causal[0].tolist() == [True] + [False] * 8  # "tom may look only at itself"
    assert causal[-1].all()  # "bank, the last word, may look at all nine"
    assert (causal == np.tril(np.ones((9, 9), dtype=bool))).all()  # "on and below the diagonal"


def test_masked_weights_are_exactly_zero_and_rows_sum_to_one(story):
    causal = attention.causal_mask(9)
    masked_scores = np.where(causal, story["scores"], -np.inf)
    w = attention.softmax(masked_scores)
    assert (w[~causal] == 0).all()  # "exactly 0"
    assert np.triu(w, k=1).max() == 0  # "the upper triangle is hidden: all its weights are 0"
    assert np.allclose(w.sum(axis=1), 1)  # "the allowed words share the whole 1"
    assert w[0, 0] == 1.0  # "tom gives all its attention (1.00) to itself"
    _, w_helper = attention.scaled_dot_product_attention(story["Q"], story["K"], story["X"] @ story["W_v"],
                                                         mask=causal)
    assert np.allclose(w, w_helper)
    # the same as masking by hand with the independent softmax, row by row
    for i in range(9):
        assert np.allclose(w[i, : i + 1], ref_softmax(story["scores"][i, : i + 1]))


def test_causal_mask_changes_fish_not_bank(story):
    idx = story["idx"]
    w = attention.softmax(np.where(attention.causal_mask(9), story["scores"], -np.inf))
    fish = idx["fish"]
    # "fish can no longer see river or bank, so it keeps most of its weight for itself"
    assert w[fish, idx["river"]] == 0 and w[fish, idx["bank"]] == 0
    assert np.argmax(w[fish]) == fish and w[fish, fish] > 0.5
    assert np.argmax(story["weights"][fish]) == idx["fish"] and story["weights"][fish, idx["river"]] > 0.3
    # "bank's row does not change at all"
    assert np.allclose(w[idx["bank"]], story["weights"][idx["bank"]])


def test_padding_mask_claims(batch, story):
    n, n2, pad = batch["n"], batch["n2"], batch["pad"]
    assert batch["tokens2"] == ["tom", "is", "at", "the", "bank"]
    assert (n, n2) == (9, 5)  # "9 words", "5 words", "4 padding slots"
    assert pad.shape == (2, 1, 9)  # "its middle axis of size 1"
    assert pad[:, 0].astype(int).tolist() == [[1] * 9, [1] * 5 + [0] * 4]
    w0, w1 = batch["w_nomask"], batch["w_pad"]
    b2 = batch["tokens2"].index("bank")
    # "without the mask, padding takes more than a quarter of bank's attention"
    assert w0[1, b2, n2:].sum() > 0.25
    # "with the mask they get exactly 0, and the real words share all of it"
    assert (w1[1, :, n2:] == 0).all()
    assert np.allclose(w1[1, :n2].sum(axis=1), 1)
    # masking = dropping the padding and sharing the whole 1 among the real words
    assert np.allclose(w1[1, b2, :n2], w0[1, b2, :n2] / w0[1, b2, :n2].sum())
    # "bank in this short sentence attends mostly to itself"
    assert np.argmax(w1[1, b2]) == b2 and np.argmax(w0[1, b2]) == b2
    # "the long sentence has no padding, so its weights are the same as before"
    assert np.allclose(w1[0], story["weights"]) and np.allclose(w0[0], story["weights"])


# ------------------------------------------------------------ sections 6 and 8: the whole matrix


def test_whole_weight_matrix_claims(story):
    w, idx = story["weights"], story["idx"]
    assert np.allclose(w.sum(axis=1), 1)
    assert np.allclose(w, attention.softmax(story["scores"]))
    topic = [idx["river"], idx["fish"]]
    # "river, fish and bank all give most of their attention to these two topic words"
    for word in ("river", "fish", "bank"):
        assert w[idx[word], topic].sum() > 0.5
        assert set(np.argsort(-w[idx[word]])[:2]) <= set(topic) | {idx[word]}
    # "the brightest cells sit in the columns of river and fish" (off the diagonal)
    off = w.copy()
    np.fill_diagonal(off, 0)
    assert set(np.unravel_index(np.argsort(-off, axis=None)[:3], w.shape)[1]) <= set(topic)
    # "small words such as the spread their attention almost evenly"
    assert w[idx["the"]].max() - w[idx["the"]].min() < 0.05


def test_bank_attends_mostly_to_river_and_fish(story):
    w, tokens = story["weights"][story["idx"]["bank"]], story["tokens"]
    order = [tokens[j] for j in np.argsort(-w)]
    assert order[:3] == ["river", "fish", "bank"]  # "river and fish come first, then bank itself"
    others = [w[j] for j, t in enumerate(tokens) if t not in ("river", "fish", "bank")]
    assert max(others) < quoted(TEXT, r"every other word gets less than (\d+(?:\.\d+)?)\.")


def test_questions_5_and_6_numbers(story):
    """Questions 5 and 6 quote the explorer's weights: read them and recompute with the helpers."""
    q5 = markdown("03", "### Question 5", "### Question 6")
    q6 = markdown("03", "### Question 6", "## Summary")
    idx, w = story["idx"], story["weights"]
    fish = idx["fish"]
    causal = attention.softmax(np.where(attention.causal_mask(9), story["scores"], -np.inf))
    visible = w[fish, : fish + 1].sum()
    assert quoted(q5, r"jumps from (\d+\.\d+) to (\d+\.\d+)") == (round(w[fish, fish], 2), round(causal[fish, fish], 2))
    assert quoted(q5, r"had together only (\d+\.\d+)") == round(visible, 2)
    assert quoted(q5, r"\*river\* alone took (\d+\.\d+)") == round(w[fish, idx["river"]], 2)
    assert quoted(q5, r"(\d+\.\d+) / (\d+\.\d+) = (\d+\.\d+)") == (
        round(w[fish, fish], 2), round(visible, 2), round(causal[fish, fish], 2))
    assert quoted(q5, r"a row adding up to (\d+\.\d+)\.\)") == round(visible, 2)
    bank = idx["bank"]
    assert quoted(q6, r"\(river (\d+\.\d+), fish (\d+\.\d+), bank (\d+\.\d+)\)") == tuple(
        round(causal[bank, idx[t]], 2) for t in ("river", "fish", "bank"))
    assert np.allclose(causal[bank], w[bank])


# ------------------------------------------------------------ pictures


def test_softmax_steps_figure_draws_the_three_stages(story):
    s = story["scores"][8]
    e = np.exp(s)
    fig = lesson.softmax_steps_figure(story["tokens"], s, e, e / e.sum(), query="bank")
    axes = fig.axes
    assert len(axes) == 3
    for ax, values in zip(axes, (s, e, e / e.sum())):
        heights = [p.get_height() for p in ax.patches]
        assert np.allclose(heights, values)
        assert [t.get_text() for t in ax.get_xticklabels()] == story["tokens"]
        assert ax.get_ylabel()
    assert axes[2].get_xlabel() == "key word"  # stacked: the words' axis is named once, at the bottom
    assert axes[2].get_title(loc="left").endswith("sum = 1.00")
    assert fig.get_figwidth() <= 7.0
    matplotlib.pyplot.close(fig)


def test_mask_and_padding_pictures_draw_hidden_slots_grey(story, batch):
    grey = matplotlib.colors.to_rgba(plots.HIDDEN_COLOR)
    fig, (ax1, ax2) = plots.new_figure(1, 2)
    h = lesson.mask_heatmap(ax1, attention.causal_mask(9), story["tokens"], story["tokens"])
    assert (h.image.get_array() == np.tril(np.ones((9, 9)))).all()
    assert [t.get_text() for t in h.texts[:9]] == ["1"] + ["0"] * 8
    colours = h.image.to_rgba(h.image.get_array())
    for (i, j), allowed in np.ndenumerate(attention.causal_mask(9)):
        assert np.allclose(colours[i, j], grey) != allowed  # 0 = hidden: grey; 1: not grey
    lesson.padding_picture(ax2, [story["tokens"], batch["tokens2"]], batch["pad"])
    image = ax2.images[0]
    assert (image.get_array() == batch["pad"][:, 0]).all()
    colours = image.to_rgba(image.get_array())
    for (i, j), real in np.ndenumerate(batch["pad"][:, 0]):
        assert np.allclose(colours[i, j], grey) != real  # padding: grey
    texts = [t.get_text() for t in ax2.texts]
    assert texts[:9] == story["tokens"] and texts[9:] == batch["tokens2"] + ["<pad>"] * 4
    matplotlib.pyplot.close(fig)


def stored_pngs():
    """{first line of the cell's code: RGB pixels} of the static figures the notebook stores."""
    import base64
    import io

    from PIL import Image

    out = {}
    for c in load("03")["cells"]:
        for o in c.get("outputs", []):
            if "image/png" in o.get("data", {}) and "application/vnd.jupyter.widget-view+json" not in o["data"]:
                png = Image.open(io.BytesIO(base64.b64decode(o["data"]["image/png"]))).convert("RGB")
                out["".join(c["source"]).splitlines()[0]] = np.asarray(png)
    return out


def test_stored_pictures_show_masked_pairs_grey_and_nothing_else_grey():
    """The mask, the causal weights, the batch and the padded weights are drawn with hidden
    pairs in HIDDEN_COLOR; the pictures without a mask have no such grey cells at all."""
    grey = np.array([int(plots.HIDDEN_COLOR[k:k + 2], 16) for k in (1, 3, 5)])
    share = {line: float((pixels == grey).all(axis=-1).mean()) for line, pixels in stored_pngs().items()}
    masked = [k for k in share if k.startswith(("causal =", "masked_scores =", "short =", "Q_b, K_b, V_b ="))]
    unmasked = [k for k in share if k.startswith(("s = scores[bank]", "weights = attention.softmax"))]
    assert len(masked) == 4 and len(unmasked) == 2
    assert all(share[k] > 0.05 for k in masked), share  # a good part of each picture is hidden pairs
    assert all(share[k] < 0.001 for k in unmasked), share
    # the notebook's weight heatmaps pass the mask: the hidden pairs grey, not dark purple
    code = "\n".join("".join(c["source"]) for c in load("03")["cells"] if c["cell_type"] == "code")
    assert "hidden=~causal" in code and "hidden=~pad[1]" in code


def drawn_arcs(ax):
    """The arcs an arc diagram drew on `ax`, one per key in word order, as matplotlib artists."""
    return [p for p in ax.patches if isinstance(p, Arc)]


def assert_arcs_encode_the_weight(arcs, row, query):
    """Each arc joins the query and its key; its height, line width and opacity never shrink as
    the weight grows; the largest weight's arc is the tallest, thickest, most opaque one."""
    row = np.asarray(row, dtype=float)
    shown = [j for j in range(len(row)) if row[j] > 0]
    for j, arc in enumerate(arcs):
        assert arc.get_center()[0] == pytest.approx((query + j) / 2)
        if j != query:
            assert arc.get_width() == pytest.approx(abs(j - query))  # spans the two words
        assert arc.get_visible() == (row[j] > 0)  # masked (weight 0): no arc
    size = {name: np.array([getattr(arcs[j], f"get_{name}")() for j in shown])
            for name in ("height", "linewidth", "alpha")}
    w = row[shown]
    order = np.argsort(w, kind="stable")
    for name, values in size.items():
        assert (np.diff(values[order]) >= -1e-12).all(), name  # monotone in the weight
        assert values[np.argmax(w)] == pytest.approx(values.max()), name  # the largest is the most visible
    heights = size["height"][order]
    assert (np.diff(heights)[np.diff(w[order]) > 1e-9] > 0).all()  # a larger weight: a taller arc
    if len(w) > 1 and w.max() > np.sort(w)[-2]:
        assert size["height"][np.argmax(w)] > np.sort(size["height"])[-2]


def test_query_arc_diagram_encodes_the_weight_not_the_distance(story):
    fig, ax = plots.new_figure()
    w, idx = story["weights"], story["idx"]
    arcs = plots.QueryArcDiagram(ax, story["tokens"], w[8], 8)
    n_artists = len(ax.patches), len(ax.texts)
    drawn = drawn_arcs(ax)
    assert len(drawn) == 9
    # the issue: river, next to bank and bank's largest weight, had the smallest arc
    heights = [a.get_height() for a in drawn]
    assert int(np.argmax(heights)) == idx["river"] == int(np.argmax(w[8]))
    masked = attention.softmax(np.where(attention.causal_mask(9), story["scores"], -np.inf))
    rows = [(q, w[q]) for q in range(9)] + [(q, masked[q]) for q in range(9)]
    rows += [(8, attention.softmax(story["scores"][8], temperature=T)) for T in (0.1, 0.3, 5.0)]
    for q, row in rows:
        arcs.set_query(q, row)
        assert (len(ax.patches), len(ax.texts)) == n_artists  # nothing new drawn
        assert_arcs_encode_the_weight(drawn_arcs(ax), row, q)
        assert [t.get_fontweight() for t in arcs.token_texts].count("bold") == 1
        assert arcs.token_texts[q].get_fontweight() == "bold"
        # every visible weight is written under its word
        assert [t.get_text() for t in arcs.labels] == [f"{x:.2f}" if x > 0 else "" for x in row]
    arcs.set_query(4, masked[4])
    assert [a.get_visible() for a in drawn] == [True] * 5 + [False] * 4  # masked: no arc
    matplotlib.pyplot.close(fig)


def test_notebook_05_glance_call_still_works(story):
    """Notebook 05 draws its two glances with QueryArcDiagram(ax, tokens, row, query, color=...)."""
    fig, ax = plots.new_figure()
    arcs = plots.QueryArcDiagram(ax, story["tokens"], story["weights"][2], 2, color=plots.OUTPUT_COLOR)
    for label, w in zip(arcs.labels, story["weights"][2]):
        label.set_text(f"{w:.2f}" if w >= 0.1 else "")
    assert_arcs_encode_the_weight(drawn_arcs(ax), story["weights"][2], 2)
    assert all(matplotlib.colors.same_color(a.get_edgecolor()[:3], plots.OUTPUT_COLOR) for a in drawn_arcs(ax))
    matplotlib.pyplot.close(fig)


def png_width(output):
    """The pixel width of a stored PNG output (read from its header)."""
    import base64
    return int.from_bytes(base64.b64decode(output["data"]["image/png"])[16:20], "big")


def test_static_figures_fit_the_column():
    """Every static figure 03 stores is at most 700 px (7.0 in at 100 dpi) wide: shown at ≥ 85 %."""
    cells = [c for c in load("03")["cells"] if c["cell_type"] == "code"]
    widths = [png_width(o) for c in cells for o in c["outputs"]
              if "image/png" in o.get("data", {}) and "application/vnd.jupyter.widget-view+json" not in o["data"]
              and "pipeline_diagram" not in "".join(c["source"])]  # the pipeline diagram is shared by all notebooks
    assert len(widths) == 6  # steps, mask, causal weights, batch, padding, whole picture
    assert max(widths) <= 700, widths


def small_texts(fig):
    """Texts of the figure (visible, not empty) smaller than 11 pt."""
    fig.canvas.draw()
    return [(t.get_text(), t.get_fontsize()) for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < 11]


def test_figures_text_is_at_least_11_pt(story, batch):
    plots.use_classroom_style()
    s = story["scores"][8]
    e = np.exp(s)
    figs = [lesson.softmax_steps_figure(story["tokens"], s, e, e / e.sum(), query="bank")]
    fig, ax = plots.new_figure(figsize=(7, 5.8))
    lesson.mask_heatmap(ax, attention.causal_mask(9), story["tokens"], story["tokens"], title="mask")
    figs.append(fig)
    fig, ax = plots.new_figure(figsize=(7, 2.4))
    lesson.padding_picture(ax, [story["tokens"], batch["tokens2"]], batch["pad"], title="batch")
    figs.append(fig)
    fig, (ax_heat, ax_arc) = plots.new_figure(2, 1, figsize=(7, 9.4))
    plots.heatmap(ax_heat, story["weights"], story["tokens"], story["tokens"], vmin=0, vmax=1)
    plots.QueryArcDiagram(ax_arc, story["tokens"], story["weights"][8], 8)
    figs.append(fig)
    for fig in figs:
        assert small_texts(fig) == []
        matplotlib.pyplot.close(fig)


def test_arc_diagram_prose_matches_the_picture(story):
    text = markdown("03", "## 6. The whole picture", "## 7. Explore")
    assert "the larger the weight, the taller, thicker\nand darker the arc" in text
    fig, ax = plots.new_figure()
    plots.QueryArcDiagram(ax, story["tokens"], story["weights"][8], 8)
    arcs = drawn_arcs(ax)
    river, fish = story["idx"]["river"], story["idx"]["fish"]
    for name in ("height", "linewidth", "alpha"):  # river's arc beats fish's, fish's every other
        size = [getattr(a, f"get_{name}")() for a in arcs]
        assert size[river] >= size[fish] >= max(np.delete(size, [river, fish]))
    matplotlib.pyplot.close(fig)


# ------------------------------------------------------------ panels


class Front:
    """What the browser's view does with the messages an SvgView sends, in Python."""

    def __init__(self, panel):
        self.view = panel.view
        self.keyed, self.patches = self.view.scene.keyed(), []
        self.view.send = self.receive

    def receive(self, content, buffers=None):
        assert content["rev"] == self.view.rev
        self.patches.append(len(json.dumps(content, separators=(",", ":"))))
        self.keyed = apply_patch(self.keyed, content)

    def check(self):
        """The browser now shows the panel's scene, and the change came as one small patch."""
        assert self.view.sent[-1][0] == "patch"  # a control change is a patch, never the whole markup
        assert self.keyed == self.view.scene.keyed()
        assert self.patches and self.patches[-1] < 8 * 1024
        assert self.view.sent[-1][1] == self.patches[-1]


def attr(panel, key, name):
    return panel.scene.keyed()[key][0][name]


def text(panel, key):
    return panel.scene.keyed()[key][1]


def ref_top(tokens, row, k=3):
    order = sorted(range(len(row)), key=lambda j: -row[j])[:k]
    return ", ".join(f"{tokens[j]} {row[j]:.2f}" for j in order if row[j] > 0)


def assert_readable(panel):
    """No NaN drawn or written; tiles fit the column; text never below MIN_FONT_PX."""
    markup = panel.scene.live_markup()
    assert not re.search(r"\b(nan|inf)\b", markup + panel.text, re.IGNORECASE)
    assert all(w <= 580 for w, *_ in panel.scene.tiles)
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', markup)]
    assert sizes and min(sizes) >= MIN_FONT_PX


def bar_heights(panel, n=9):
    return np.array([float(attr(panel, f"w.b{j}", "height")) for j in range(n)])


def test_temperature_panel_follows_the_slider(story):
    s = story["scores"][8]
    panel = lesson.temperature_panel(story["tokens"], s, query="bank")
    front = Front(panel)
    assert list(panel.controls) == ["temperature"]
    slider = panel.controls["temperature"]
    assert slider.value == 1.0 and [v for _, v in slider.options] == list(lesson.TEMPERATURES)
    assert [v for _, v in slider.options][0] == 0.1 and [v for _, v in slider.options][-1] == 5.0
    px_per_weight = bar_heights(panel).max() / ref_softmax(s).max()  # the axis: heights ∝ weights
    assert np.allclose(bar_heights(panel), px_per_weight * ref_softmax(s), atol=0.1)
    assert "river 0.35, fish 0.26, bank 0.15" in panel.text
    # the dashed line of an even split sits at 1/9 on the bars' axis, and says so
    zero = float(attr(panel, "w.b0", "y")) + float(attr(panel, "w.b0", "height"))
    (even_y,) = {float(y) for y in re.findall(r'<line x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="[\d.]+"[^>]*dasharray',
                                                panel.scene.tile_markups()[0]) if float(y) > 100}
    assert even_y == pytest.approx(zero - px_per_weight / 9, abs=0.2)
    assert "1/9 = all 9 words equal" in panel.scene.texts()
    entropies, tops = [], []
    for T in [0.1, 0.2, 0.3, 0.5, 0.7, 1.5, 2.0, 3.0, 5.0]:
        before = panel.text
        slider.value = T  # as the mouse does
        front.check()
        w = ref_softmax(s, T)
        assert np.allclose(bar_heights(panel), px_per_weight * w, atol=0.1)
        assert [text(panel, f"w.v{j}") for j in range(9)] == [f"{x:.2f}" for x in w]
        assert text(panel, "w.t") == f"bank's weights = softmax(scores / T), T = {T:g}"
        assert panel.text.startswith(f"T = {T:g}: top weights {ref_top(story['tokens'], w)}\n")
        assert f"max weight {w.max():.2f}" in panel.text
        assert f"entropy {ref_entropy(w):.2f}" in panel.text
        assert panel.text != before
        assert_readable(panel)
        entropies.append(ref_entropy(w))
        tops.append(w.max())
    assert (np.diff(entropies) > 0).all() and (np.diff(tops) < 0).all()
    assert panel.set(temperature=0.1).startswith("T = 0.1: top weights river 0.95")
    assert panel.reset().startswith("T = 1: top weights river 0.35, fish 0.26, bank 0.15")
    assert slider.value == 1.0
    front.check()


def test_temperature_panel_at_extreme_temperatures(story):
    """Far beyond the slider: all on river (a full bar, the others 0) or all nine level; no NaN."""
    s = story["scores"][8]
    panel = lesson.temperature_panel(story["tokens"], s, temperatures=(1e-6, 1e-3, 1.0, 1e3, 1e6))
    full = bar_heights(panel).max() / ref_softmax(s).max()
    for T in (1e-6, 1e-3):
        panel.set(temperature=T)
        assert np.allclose(bar_heights(panel), full * (np.arange(9) == story["idx"]["river"]), atol=0.1)
        assert "top weights river 1.00" in panel.text and "entropy 0.00 " in panel.text
        assert_readable(panel)
    for T in (1e3, 1e6):
        panel.set(temperature=T)
        assert np.allclose(bar_heights(panel), full / 9, atol=0.2)
        assert f"entropy {np.log(9):.2f}" in panel.text
        assert_readable(panel)


def test_a_bad_temperature_shows_a_message_and_keeps_the_picture(story):
    panel = lesson.temperature_panel(story["tokens"], story["scores"][8], temperatures=(0.0, 1.0))
    before, text_before = panel.scene.keyed(), panel.text
    panel.set(temperature=0.0)
    assert "temperature" in panel.error and panel.scene.keyed() == before and panel.text == text_before
    panel.set(temperature=1.0)
    assert panel.error == ""


def explorer_weights(scores, mask, T):
    """The explorer's weights, computed here: -inf where the causal mask hides, ref_softmax."""
    n = len(scores)
    allowed = np.tril(np.ones((n, n), bool)) if mask == "causal" else np.ones((n, n), bool)
    return ref_softmax(np.where(allowed, scores, -np.inf), T), ~allowed


def viridis_hex(w):
    return [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["viridis"](np.ravel(w))]


def close_colours(a, b, tol=6):
    to_rgb = lambda h: np.array([int(h[k:k + 2], 16) for k in (1, 3, 5)])  # noqa: E731
    return np.abs(to_rgb(a) - to_rgb(b)).max() <= tol


def cell_fills(panel, n=9):
    return np.array([[attr(panel, f"w.{i}.{j}", "fill") for j in range(n)] for i in range(n)])


def row_tops(panel):
    """The y of each heatmap row, read from the cells' markup (cells are 1 px smaller than their pitch)."""
    markup = panel.scene.tile_markups()[0]
    ys = {float(y) for y, h in re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', markup)
          if float(h) == lesson.EXPLORER_CELL - 1}
    return sorted(ys)


def arc_shapes(panel, n=9):
    """(left x, right x, height, width, opacity, visible) of each arc, read from the scene."""
    out = []
    for j in range(n):
        a = panel.scene.keyed()[f"a.a{j}"][0]
        x0, _, rx, ry, _, _, _, x1, _ = re.findall(r"-?[\d.]+", a["d"])
        out.append((float(x0), float(x1), float(ry), float(a["stroke-width"]), float(a["stroke-opacity"]),
                    a["visibility"] == "visible"))
    return out


def assert_arcs_follow_the_weights(panel, row, hidden, q):
    """Hidden keys: no arc; height, width and opacity never shrink as the weight grows, the
    largest weight's arc is the tallest; an arc spans the query and its key."""
    shapes = arc_shapes(panel, len(row))
    assert [s[5] for s in shapes] == list(~hidden)
    shown = [j for j in range(len(row)) if not hidden[j]]
    order = sorted(shown, key=lambda j: row[j])
    for k in (2, 3, 4):
        values = [shapes[j][k] for j in order]
        assert all(b >= a - 0.1 for a, b in zip(values, values[1:]))
        assert shapes[order[-1]][k] == max(values)
        if row[order[-1]] - row[order[0]] > 0.1:  # a clear spread: the largest weight stands out
            assert shapes[order[-1]][k] > shapes[order[0]][k]
    for a, b in zip(order, order[1:]):
        if row[b] - row[a] > 0.01 * row[order[-1]]:
            assert shapes[b][2] > shapes[a][2]  # a clearly larger weight: a taller arc
    spans = [(shapes[j][1] - shapes[j][0]) / abs(j - q) for j in range(len(row)) if j != q]
    assert np.allclose(spans, spans[0], atol=0.2)  # arc j spans |j − q| word steps


def test_explorer_panel_controls_drive_heatmap_and_arcs(story):
    tokens, scores = story["tokens"], story["scores"]
    panel = lesson.attention_explorer_panel(tokens, scores, query="bank")
    front = Front(panel)
    assert list(panel.controls) == ["query", "mask", "temperature"]
    assert list(panel.controls["query"].options) == tokens
    assert list(panel.controls["mask"].options) == ["none", "causal"]
    assert panel.text.startswith("bank (mask: none, T = 1): top weights river 0.35, fish 0.26")
    tops = row_tops(panel)
    cases = [("fish", "causal", 1.0), ("tom", "causal", 0.1), ("tom", "none", 5.0),
             ("river", "none", 0.1), ("bank", "causal", 5.0), ("the", "causal", 0.3), ("going", "causal", 0.3)]
    for query, mask, T in cases:
        for name, value in (("query", query), ("mask", mask), ("temperature", T)):
            if panel.controls[name].value != value:
                panel.controls[name].value = value  # every control, one at a time
                front.check()
        q = tokens.index(query)
        w, hidden = explorer_weights(scores, mask, T)
        fills = cell_fills(panel)
        assert (fills[hidden] == plots.HIDDEN_COLOR).all()  # masked pairs grey
        assert all(close_colours(f, c) for f, c in zip(fills[~hidden], viridis_hex(w[~hidden])))
        assert plots.HIDDEN_COLOR not in fills[~hidden]  # a small weight is viridis, not grey
        frame_y, frame_h = float(attr(panel, "w.frame", "y")), 36 + 3
        assert frame_y <= tops[q] and tops[q] + lesson.EXPLORER_CELL - 1 <= frame_y + frame_h
        assert [text(panel, f"w.q{j}") for j in range(9)] == ["" if h else f"{x:.2f}" for x, h in zip(w[q], hidden[q])]
        assert all(tops[q] < float(attr(panel, f"w.q{j}", "y")) < tops[q] + lesson.EXPLORER_CELL for j in range(9))
        assert_arcs_follow_the_weights(panel, w[q], hidden[q], q)
        assert [text(panel, f"a.n{j}") for j in range(9)] == ["hidden" if h else f"{x:.2f}" for x, h in zip(w[q], hidden[q])]
        assert [attr(panel, f"a.w{j}", "font-weight") for j in range(9)] == ["bold" if j == q else "normal" for j in range(9)]
        assert text(panel, "w.t") == f"all weights (mask: {mask}, T = {T:g})"
        assert text(panel, "a.t") == f"what {query} attends to"
        names = [tokens[j] for j in range(9) if hidden[q, j]]
        assert panel.text == (f"{query} (mask: {mask}, T = {T:g}): top weights {ref_top(tokens, w[q])}\n"
                              f"hidden keys: {', '.join(names) or 'none'}   row sum 1.00   max weight {w[q].max():.2f}")
        assert_readable(panel)


def test_explorer_panel_at_extreme_temperatures(story):
    """Far beyond the slider: each row all on its best visible key, or level over its visible
    keys (equal arcs); hidden pairs stay grey; no NaN."""
    tokens, scores = story["tokens"], story["scores"]
    panel = lesson.attention_explorer_panel(tokens, scores, temperatures=(1e-6, 1.0, 1e6))
    for mask in ("none", "causal"):
        for T in (1e-6, 1e6):
            panel.set(query="fish", mask=mask, temperature=T)
            w, hidden = explorer_weights(scores, mask, T)
            assert (cell_fills(panel)[hidden] == plots.HIDDEN_COLOR).all()
            shapes = arc_shapes(panel)
            visible = [j for j in range(9) if not hidden[4, j]]
            if T > 1:
                assert np.allclose([shapes[j][2] for j in visible], shapes[visible[0]][2], atol=0.1)
                assert f"max weight {1 / len(visible):.2f}" in panel.text
            else:
                best = max(visible, key=lambda j: scores[4, j])
                assert max(visible, key=lambda j: shapes[j][2]) == best and "max weight 1.00" in panel.text
            assert_readable(panel)


def test_explorer_panel_causal_readouts(story):
    panel = lesson.attention_explorer_panel(story["tokens"], story["scores"])
    text_ = panel.set(query="fish", mask="causal")
    # the notebook's example: fish loses river and bank, keeps most weight for itself
    assert text_.startswith("fish (mask: causal, T = 1): top weights fish 0.75")
    assert "hidden keys: at, the, river, bank" in text_
    text_ = panel.set(query="tom")
    assert text_.startswith("tom (mask: causal, T = 1): top weights tom 1.00\n")  # only itself
    assert "hidden keys: is, going, to, fish, at, the, river, bank" in text_
    # "why does bank not change?": the last word hides nothing under the causal mask
    causal_bank = panel.set(query="bank", mask="causal")
    none_bank = panel.set(mask="none")
    assert "hidden keys: none" in causal_bank
    assert causal_bank.replace("causal", "none") == none_bank
    assert panel.reset() == none_bank


def test_panels_are_the_notebooks_and_static_viewers_see_their_first_state():
    built = lesson.panels()
    assert list(built) == ["temperature", "explorer"]
    cells = [c for c in load("03")["cells"] if c["cell_type"] == "code"]
    for name, call in (("temperature", "softmax_and_masking.temperature_panel("),
                       ("explorer", "softmax_and_masking.attention_explorer_panel(")):
        (cell,) = [c for c in cells if call in "".join(c["source"])]
        (shown,) = [o for o in cell["outputs"] if "image/svg+xml" in o.get("data", {})]
        assert "".join(shown["data"]["image/svg+xml"]) == built[name].static_svg()
        assert_readable(built[name])


# ------------------------------------------------------------ the notebook file


def test_notebook_highlights_its_steps_and_shows_the_maths():
    # stored executed, in order, without errors or warnings: tests/test_notebooks_stored.py
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    setup = "".join(code[0]["source"])
    assert 'pipeline_diagram(highlight=["mask", "softmax"])' in setup
    text = "\n".join("".join(c["source"]) for c in nb["cells"])
    for line in ("scores = Q @ K.T / np.sqrt(d_k)", "e = np.exp(s)", "w = e / e.sum()",
                 "np.exp(x - x.max())", "np.where(causal, scores, -np.inf)"):
        assert line in text  # the key maths lines are visible where they are taught
    assert "np.errstate" in text
    # the printed bank weights, largest first: river, fish, bank
    # the cell of section 8 (the Exercises section comes after it)
    ranked = next(c for c in code if "np.argsort(-weights[bank])" in "".join(c["source"]))
    last_code_out = "".join("".join(o.get("text", "")) for o in ranked["outputs"])
    assert [line.split()[0] for line in last_code_out.strip().splitlines()[:3]] == ["river", "fish", "bank"]


def test_hidden_pairs_are_grey_and_say_0():
    """Section 5: "a grey cell is a hidden pair (its weight is exactly 0), and dark purple
    is a weight close to 0"."""
    import matplotlib.colors as mcolors

    fig, ax = plots.new_figure()
    try:
        causal = attention.causal_mask(3)
        weights = attention.softmax(np.where(causal, np.zeros((3, 3)), -np.inf))
        heat = plots.heatmap(ax, weights, list("abc"), list("abc"), vmin=0, vmax=1, hidden=~causal)
        colors = heat.image.to_rgba(heat.image.get_array())
        grey = mcolors.to_rgba(plots.HIDDEN_COLOR)
        for (i, j), hidden in np.ndenumerate(~causal):
            assert np.allclose(colors[i, j], grey) == hidden
            assert (heat.texts[3 * i + j].get_text() == "0") == hidden
        near_zero = heat.image.to_rgba(np.ma.masked_array([[0.01]], mask=[[False]]))[0, 0]
        assert not np.allclose(near_zero, grey)  # a small weight is not grey
    finally:
        matplotlib.pyplot.close(fig)
