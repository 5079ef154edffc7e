"""Notebook 02 (queries and keys): every claim of its prose, and its two slider panels.

The numbers are recomputed here from the helpers (toy vectors, demo_head, softmax)
with plain numpy, not read from the notebook.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import attention, embeddings, plots, widgets

DIMS = ("town", "water", "person", "place", "action", "topic")


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def head():
    return attention.demo_head()


@pytest.fixture(scope="module")
def river(head):
    """tokens, X, Q, K, scores for SENTENCE."""
    W_q, W_k, _ = head
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    Q, K = X @ W_q, X @ W_k
    return tokens, X, Q, K, Q @ K.T


@pytest.fixture(scope="module")
def money(head):
    W_q, W_k, _ = head
    tokens, X = embeddings.sentence_matrix(embeddings.CONTRAST_SENTENCE)
    Q, K = X @ W_q, X @ W_k
    return tokens, X, Q, K, Q @ K.T


def np_softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ranked(tokens, row):
    return [tokens[j] for j in np.argsort(-row, kind="stable")]


def bank_row(x, head, sentence=embeddings.SENTENCE, word="bank"):
    """bank's query, keys and scores when bank's embedding is `x` (as the panel computes)."""
    W_q, W_k, _ = head
    tokens, X = embeddings.sentence_matrix(sentence)
    X = X.copy()
    X[tokens.index(word)] = x
    q = np.asarray(x, dtype=float) @ W_q
    K = X @ W_k
    return tokens, q, K, K @ q


# ------------------------------------------------------ section 1-2: the head


def test_sentence_matrix_shape_and_bank_is_last(river):
    tokens, X, Q, K, scores = river
    assert X.shape == Q.shape == K.shape == (9, 6)
    assert scores.shape == (9, 9)
    assert tokens.index("bank") == 8
    assert set(embeddings.RIVER_CLUSTER[:2]) <= set(tokens)  # river, fish are in the sentence


def test_bank_sits_between_the_two_meanings():
    """Intro: 'its six numbers sit between the two meanings'."""
    kv = embeddings.toy_vectors()
    river_c = np.mean([kv[w] for w in embeddings.RIVER_CLUSTER], axis=0)
    town_c = np.mean([kv[w] for w in embeddings.TOWN_CLUSTER], axis=0)
    d_river, d_town = (np.linalg.norm(kv["bank"] - c) for c in (river_c, town_c))
    assert max(d_river, d_town) < np.linalg.norm(river_c - town_c)
    assert d_river / d_town == pytest.approx(1, abs=0.2)


def test_demo_head_is_as_described(head):
    """'diagonal 4 everywhere', 'one extra entry, row place, column topic (8)', 'W_k is the identity'."""
    W_q, W_k, _ = head
    P, T = attention.PLACE, attention.TOPIC
    assert np.all(np.diag(W_q) == 4)
    assert W_q[P, T] == 8
    off = W_q - np.diag(np.diag(W_q))
    off[P, T] = 0
    assert not off.any()  # no other entry
    np.testing.assert_array_equal(W_k, np.eye(6))
    assert plots.SHORT_DIMENSIONS == DIMS
    assert embeddings.DIMENSIONS[P] == "place" and embeddings.DIMENSIONS[T] == "topic"


def test_bank_is_mostly_a_place_and_its_query_asks_for_topic(river):
    tokens, X, Q, K, _ = river
    b = tokens.index("bank")
    assert int(np.argmax(X[b])) == attention.PLACE  # "bank is mostly a place"
    assert Q[b, attention.TOPIC] == pytest.approx(4 * X[b, attention.TOPIC] + 8 * X[b, attention.PLACE])
    assert int(np.argmax(Q[b])) == attention.TOPIC  # "largest entry of its query is the topic entry"
    np.testing.assert_array_equal(K[b], X[b])  # "its key is its own vector, unchanged"


# --------------------------------------------------- section 3: the scores


def test_bank_listens_to_river_and_fish(river):
    tokens, _, Q, K, scores = river
    b = tokens.index("bank")
    row = scores[b]
    np.testing.assert_allclose(row, [Q[b] @ K[j] for j in range(9)])
    assert ranked(tokens, row)[:2] == ["river", "fish"]  # the two highest
    assert row[tokens.index("fish")] > row[b]  # "higher even than bank's score with itself"
    others = [j for j, t in enumerate(tokens) if t not in ("river", "fish", "bank")]
    assert row[others].max() < 0.25 * row[tokens.index("river")]  # "less than a quarter"


def test_scores_are_not_symmetric(river):
    tokens, _, _, _, scores = river
    b, r = tokens.index("bank"), tokens.index("river")
    assert not np.allclose(scores, scores.T)
    assert scores[b, r] > scores[r, b]


# --------------------------------------------------- section 4: term by term


def test_bank_river_term_by_term(river):
    tokens, _, Q, K, scores = river
    b, r = tokens.index("bank"), tokens.index("river")
    products = Q[b] * K[r]
    assert products.sum() == pytest.approx(scores[b, r])
    order = np.argsort(-products)
    assert order[0] == attention.TOPIC  # "the topic term is by far the biggest"
    assert products[attention.TOPIC] > 0.5 * scores[b, r]  # "more than half of the score"
    assert products[attention.TOPIC] > 2 * products[order[1]]  # "by far"
    assert order[1] == attention.WATER  # "water adds the second-largest share"


def test_bank_the_term_by_term(river):
    tokens, _, Q, K, scores = river
    b, t, r = tokens.index("bank"), tokens.index("the"), tokens.index("river")
    products = Q[b] * K[t]
    assert np.abs(products).max() < 0.35  # "every product is close to zero"
    assert np.abs(K[t]).max() <= 0.05  # "the has almost no meaning of its own"
    assert scores[b, t] < 0.1 * scores[b, r]  # "less than a tenth of river's"


def test_money_sentence(river, money):
    tokens_m, _, _, _, scores_m = money
    tokens_r, _, _, _, scores_r = river
    bm, br = tokens_m.index("bank"), tokens_r.index("bank")
    others = [t for t in ranked(tokens_m, scores_m[bm]) if t != "bank"]
    assert set(others[:2]) == {"money", "deposit"}
    assert scores_m[bm, bm] == pytest.approx(scores_r[br, br])  # "the same in both sentences"
    assert ranked(tokens_m, scores_m[bm])[0] == "bank"  # "here it stays the largest"


# ---------------------------------------------------- section 5: bank panel


def test_bank_panel_claims(head, river):
    """'town word: river and fish fall below 1, bank scores itself highest';
    'without place: river and fish still lead, scores drop to less than half'."""
    tokens, X, _, _, scores = river
    b = tokens.index("bank")
    x = X[b].copy()
    x[attention.TOWN], x[attention.WATER] = 0.8, -0.4
    _, _, _, s = bank_row(x, head)
    assert s[tokens.index("river")] < 1 and s[tokens.index("fish")] < 1
    assert ranked(tokens, s)[0] == "bank"
    assert not set(embeddings.TOWN_CLUSTER) & set(tokens)  # "no town words in this sentence"
    x = X[b].copy()
    x[attention.PLACE] = 0.0
    _, _, _, s = bank_row(x, head)
    assert set(ranked(tokens, s)[:2]) == {"river", "fish"}
    for w in ("river", "fish"):
        assert s[tokens.index(w)] < 0.5 * scores[b, tokens.index(w)]


@pytest.fixture()
def bank_panel():
    panel = widgets.bank_embedding_panel()
    yield panel
    matplotlib.pyplot.close(panel.fig)


def slider_vector(panel):
    return np.array([panel.controls[n].value for n in widgets.BANK_SLIDER_NAMES])


def assert_bank_panel_shows(panel, head):
    x = slider_vector(panel)
    tokens, q, K, s = bank_row(x, head)
    key = panel.controls["key"].value
    j = tokens.index(key)
    heights = [bar.get_height() for bar in panel.score_bars.bars]
    np.testing.assert_allclose(heights, s, atol=1e-12)
    lo, hi = panel.score_bars.ax.get_ylim()
    assert lo <= s.min() and s.max() <= hi  # every bar fits the chart
    view = panel.term_view
    products = q * K[j]
    steps = view.steps
    np.testing.assert_allclose([bar.get_height() for bar in steps], products, atol=1e-12)
    np.testing.assert_allclose([bar.get_y() for bar in steps],
                               np.concatenate([[0], np.cumsum(products)[:-1]]), atol=1e-12)
    assert view.total.get_height() == pytest.approx(s[j])
    assert [t.get_text() for t in view.cell_texts[2]] == [f"{plots.clean_number(p):.2f}" for p in products]
    assert [t.get_text() for t in view.cell_texts[0]] == [f"{plots.clean_number(v):.2f}" for v in q]
    assert view.row_labels[1].get_text() == f"k {embeddings.display_word(key)}"
    top3 = ", ".join(f"{tokens[i]} {s[i]:.2f}" for i in np.argsort(-s, kind="stable")[:3])
    assert f"top scores: {top3}" in panel.text
    assert panel.text.rstrip().endswith(f"= {s[j]:.2f}")
    return s


def test_bank_panel_starts_at_the_toy_vector(bank_panel, head, river):
    tokens, X, _, _, scores = river
    assert list(bank_panel.controls) == list(widgets.BANK_SLIDER_NAMES) + ["key"]
    np.testing.assert_allclose(slider_vector(bank_panel), X[tokens.index("bank")])
    s = assert_bank_panel_shows(bank_panel, head)
    np.testing.assert_allclose(s, scores[tokens.index("bank")])
    assert "top scores: river 6.06, fish 5.36, bank 3.93" in bank_panel.text
    assert "bank · river: 0.00 + 1.26 + 0.16 + 0.96 + 0.08 + 3.60 = 6.06" in bank_panel.text
    assert "-0.00" not in bank_panel.text


@pytest.mark.parametrize("name", widgets.BANK_SLIDER_NAMES)
def test_each_bank_slider_updates_bars_and_term_view(bank_panel, head, name):
    before = bank_panel.text
    n_artists = (len(bank_panel.fig.axes), [len(ax.texts) for ax in bank_panel.fig.axes],
                 [len(ax.patches) for ax in bank_panel.fig.axes])
    bank_panel.controls[name].value = 0.95
    assert bank_panel.text != before
    assert_bank_panel_shows(bank_panel, head)
    # updated in place: no new axes, texts or patches
    assert n_artists == (len(bank_panel.fig.axes), [len(ax.texts) for ax in bank_panel.fig.axes],
                         [len(ax.patches) for ax in bank_panel.fig.axes])


def test_key_menu_changes_the_term_view(bank_panel, head, river):
    tokens, _, _, _, scores = river
    for key in ("fish", "the", "bank", "tom"):
        bank_panel.controls["key"].value = key
        assert_bank_panel_shows(bank_panel, head)
        assert f"bank · {key}:" in bank_panel.text
        assert bank_panel.term_view.total.get_height() == pytest.approx(scores[8, tokens.index(key)])


def test_bank_panel_set_and_reset(bank_panel, head):
    start = bank_panel.text
    text = bank_panel.set(bank_town=0.8, bank_water=-0.4)
    assert text == bank_panel.text
    assert text.splitlines()[2] == "top scores: bank 6.64, going 1.08, at 1.02"
    assert_bank_panel_shows(bank_panel, head)
    assert bank_panel.reset() == start
    assert_bank_panel_shows(bank_panel, head)
    with pytest.raises(KeyError):
        bank_panel.set(bank_colour=1.0)


@pytest.mark.parametrize("corner", [1.0, -1.0, "mixed", 0.0])
def test_bank_panel_extremes_are_finite(bank_panel, head, corner):
    if corner == "mixed":
        values = {n: (1.0 if i % 2 else -1.0) for i, n in enumerate(widgets.BANK_SLIDER_NAMES)}
    else:
        values = {n: corner for n in widgets.BANK_SLIDER_NAMES}
    for key in ("river", "bank"):
        text = bank_panel.set(key=key, **values)
        assert "nan" not in text.lower() and "inf" not in text.lower()
        s = assert_bank_panel_shows(bank_panel, head)
        assert np.isfinite(s).all()
        lo, hi = bank_panel.term_view.ax_sum.get_ylim()
        assert np.isfinite([lo, hi]).all() and lo < hi
        assert all(t.get_text() for t in bank_panel.score_bars.texts)


def test_bank_panel_has_a_static_picture(bank_panel):
    bundle = bank_panel._repr_mimebundle_()
    assert bundle["image/png"]
    assert bundle["text/plain"].startswith("Panel: Edit bank's embedding")


def test_bank_panel_rejects_words_not_in_the_sentence():
    with pytest.raises(ValueError, match="not a word of the sentence"):
        widgets.bank_embedding_panel(word="money")


# ------------------------------------------------------ section 6: sqrt(d_k)


SPREAD_DIMS = [1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 320, 384, 448, 512]


@pytest.fixture(scope="module")
def spreads():
    """The notebook's measurement: seed 0, 2000 float32 pairs per d_k, in the order of SPREAD_DIMS."""
    rng = np.random.default_rng(0)
    out = []
    for d_k in SPREAD_DIMS:
        q = rng.standard_normal((2000, d_k), dtype=np.float32)
        k = rng.standard_normal((2000, d_k), dtype=np.float32)
        dots = np.einsum("nd,nd->n", q, k)
        out.append((dots.std(), (dots / np.sqrt(d_k)).std()))
    return np.array(out)


def test_spread_grows_like_sqrt_dk(spreads):
    ratio = spreads[:, 0] / np.sqrt(SPREAD_DIMS)
    assert np.all(np.abs(ratio - 1) < 0.05)  # "follows the sqrt(d_k) curve within 5 %"
    # and it really grows: a power law fit gives exponent 1/2
    slope = np.polyfit(np.log(SPREAD_DIMS), np.log(spreads[:, 0]), 1)[0]
    assert slope == pytest.approx(0.5, abs=0.02)


def test_scaled_spread_stays_near_one(spreads):
    assert np.all((spreads[:, 1] > 0.95) & (spreads[:, 1] < 1.05))  # "between 0.95 and 1.05"


def test_each_product_has_variance_one():
    """The argument: q_d k_d has mean 0 and variance 1 when q_d, k_d are standard normal."""
    rng = np.random.default_rng(5)
    p = rng.standard_normal(200_000) * rng.standard_normal(200_000)
    assert p.mean() == pytest.approx(0, abs=0.01)
    assert p.var() == pytest.approx(1, abs=0.02)


def test_a_gap_of_ten_is_a_ratio_above_twenty_thousand():
    w = attention.softmax(np.array([10.0, 0.0]))
    assert w[0] / w[1] > 20_000


SOFTMAX_DIMS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


@pytest.fixture(scope="module")
def saturation():
    """The notebook's experiment: seed 1, 500 float32 trials of one query and 9 keys per d_k."""
    rng = np.random.default_rng(1)
    rows = []
    for d_k in SOFTMAX_DIMS:
        q = rng.standard_normal((500, 1, d_k), dtype=np.float32)
        k = rng.standard_normal((500, 9, d_k), dtype=np.float32)
        s = (q * k).sum(axis=-1)
        rows.append((s, s / np.sqrt(d_k)))
    return rows


def test_unscaled_softmax_saturates_scaled_does_not(saturation):
    largest = np.array([np_softmax(s).max(-1).mean() for s, _ in saturation])
    largest_scaled = np.array([np_softmax(sc).max(-1).mean() for _, sc in saturation])
    assert np.all(np.diff(largest) > 0)  # "climbs toward 1 as d_k grows"
    assert largest[0] == pytest.approx(largest_scaled[0])  # d_k = 1: sqrt(1) = 1
    for d_k, w in zip(SOFTMAX_DIMS, largest):
        assert (w > 0.9) == (d_k >= 128)  # "above 0.9 from d_k = 128 on": nearly one-hot
    assert np.all((largest_scaled > 0.25) & (largest_scaled < 0.4))  # "near a third"
    # the helper's softmax gives the same numbers as the plain formula
    s, sc = saturation[-1]
    np.testing.assert_allclose(attention.softmax(s), np_softmax(s), atol=1e-6)


def test_one_hot_weights_barely_react(saturation):
    """'its weights barely react when the scores change a little': the softmax Jacobian
    diag(w) - w wᵀ is nearly zero for the unscaled scores at d_k = 512, not for the scaled."""
    def jacobian_size(s):
        w = np_softmax(s)
        J = w[:, :, None] * np.eye(w.shape[-1]) - w[:, :, None] * w[:, None, :]
        return np.median(np.linalg.norm(J, axis=(1, 2)))

    s, sc = saturation[-1]
    assert jacobian_size(s) < 0.01
    assert jacobian_size(sc) > 0.3


# -------------------------------------------------------- section 7: d_k panel


def samples(n_pairs=2000, n_keys=9, max_dk=256, seed=0):
    rng = np.random.default_rng(seed)  # the documented order of draws
    qp = rng.standard_normal((n_pairs, max_dk))
    kp = rng.standard_normal((n_pairs, max_dk))
    q = rng.standard_normal(max_dk)
    keys = rng.standard_normal((n_keys, max_dk))
    return qp, kp, q, keys


@pytest.fixture(scope="module")
def draws():
    return samples()


@pytest.fixture()
def dk_panel():
    panel = widgets.scaling_panel()
    yield panel
    matplotlib.pyplot.close(panel.fig)


def assert_dk_panel_shows(panel, draws):
    qp, kp, q, keys = draws
    d_k = panel.controls["d_k"].value
    dots = (qp[:, :d_k] * kp[:, :d_k]).sum(axis=1)
    scaled = dots / np.sqrt(d_k)
    s = keys[:, :d_k] @ q[:d_k]
    edges = widgets.SCALING_EDGES
    for hist, values in ((panel.hist_unscaled, dots), (panel.hist_scaled, scaled)):
        expected, _ = np.histogram(values, bins=edges, density=True)
        heights = np.array([bar.get_height() for bar in hist.bars])
        np.testing.assert_allclose(heights, expected, atol=1e-12)
        assert heights.max() < 0.65  # fits the fixed y-limit
        assert heights.sum() * 1.0 > 0.99  # (almost) every score falls inside the bins
    w_u, w_s = np_softmax(s), np_softmax(s / np.sqrt(d_k))
    np.testing.assert_allclose([b.get_height() for b in panel.weight_bars_unscaled], w_u, atol=1e-12)
    np.testing.assert_allclose([b.get_height() for b in panel.weight_bars_scaled], w_s, atol=1e-12)
    lines = panel.text.splitlines()
    assert lines[0] == f"d_k = {d_k}"
    assert f"{dots.std():.2f}   (√d_k = {np.sqrt(d_k):.2f})" in lines[1]
    assert lines[2].endswith(f"{scaled.std():.2f}")
    assert lines[3].endswith(f"{w_u.max():.2f} without scaling, {w_s.max():.2f} with scaling")
    return dots, scaled, w_u, w_s


def test_dk_panel_starts_at_our_head(dk_panel, draws):
    assert dk_panel.controls["d_k"].value == 6
    assert (dk_panel.controls["d_k"].min, dk_panel.controls["d_k"].max) == (1, 256)
    assert_dk_panel_shows(dk_panel, draws)


@pytest.mark.parametrize("d_k", [1, 2, 16, 64, 100, 255, 256])
def test_dk_slider_updates_histograms_and_weights(dk_panel, draws, d_k):
    before = dk_panel.text
    n_patches = [len(ax.patches) for ax in dk_panel.fig.axes]
    dk_panel.controls["d_k"].value = d_k
    if d_k != 6:
        assert dk_panel.text != before
    dots, scaled, w_u, w_s = assert_dk_panel_shows(dk_panel, draws)
    assert np.isfinite(dots).all() and np.isfinite(w_u).all() and np.isfinite(w_s).all()
    assert n_patches == [len(ax.patches) for ax in dk_panel.fig.axes]


def test_dk_panel_claims(dk_panel, draws):
    """'at d_k = 1 scaling changes nothing'; 'the orange scores spread like sqrt(d_k) and one
    orange weight takes over; the blue ones keep the same spread and stay shared'."""
    dk_panel.set(d_k=1)
    _, _, w_u, w_s = assert_dk_panel_shows(dk_panel, draws)
    np.testing.assert_allclose(w_u, w_s)
    for d_k in (16, 64, 256):
        dk_panel.set(d_k=d_k)
        dots, scaled, w_u, w_s = assert_dk_panel_shows(dk_panel, draws)
        assert dots.std() == pytest.approx(np.sqrt(d_k), rel=0.1)
        assert scaled.std() == pytest.approx(1, abs=0.05)
        assert w_s.max() < 0.5
    assert w_u.max() > 0.99  # d_k = 256: one key takes (almost) all
    assert dk_panel.reset().startswith("d_k = 6\n")


def test_dk_panel_every_value_fits_and_is_finite(dk_panel, draws, monkeypatch):
    # Agg renders on every draw_idle (~0.15 s); skip rendering while sweeping, render once after
    monkeypatch.setattr(dk_panel.fig.canvas, "draw_idle", lambda *args, **kwargs: None)
    for d_k in range(1, 257):
        dk_panel.controls["d_k"].value = d_k
        heights = [bar.get_height() for bar in dk_panel.hist_scaled.bars + dk_panel.hist_unscaled.bars]
        assert np.isfinite(heights).all() and max(heights) < 0.65
        weights = [b.get_height() for b in dk_panel.weight_bars_unscaled]
        assert np.isfinite(weights).all() and sum(weights) == pytest.approx(1)
    assert "nan" not in dk_panel.text
    assert_dk_panel_shows(dk_panel, draws)
    dk_panel.fig.canvas.draw()


# --------------------------------------------- section 8: the scaled scores


def test_scaled_scores_match_the_helper_and_keep_the_order(river, head):
    tokens, X, Q, K, scores = river
    d_k = K.shape[-1]
    assert d_k == 6
    scaled = Q @ K.T / np.sqrt(d_k)
    _, weights = attention.scaled_dot_product_attention(Q, K, X @ head[2])
    np.testing.assert_allclose(np_softmax(scaled), weights, atol=1e-12)
    b = tokens.index("bank")
    assert ranked(tokens, scaled[b]) == ranked(tokens, scores[b])  # "does not change their order"
    assert ranked(tokens, scaled[b])[:2] == ["river", "fish"]


# ------------------------------------------------------- the pictures' helpers


def test_signed_heatmap_texts_are_readable_and_never_minus_zero():
    fig, ax = plots.new_figure()
    M = np.array([[0.0, -0.004, 5.0], [-5.0, 0.3, 1.0]])
    hm = plots.signed_heatmap(ax, M, ["a", "b"], ["x", "y", "z"], fmt="{:.1f}")
    texts = [t.get_text() for t in hm.texts]
    assert texts == ["0.0", "0.0", "5.0", "-5.0", "0.3", "1.0"]
    colors = [t.get_color() for t in hm.texts]
    assert colors[0] == "black" and colors[2] == "white" and colors[3] == "white"
    lo, hi = hm.image.get_clim()
    assert lo == -hi == -5.0
    matplotlib.pyplot.close(fig)


def test_term_by_term_static_view_sums_to_the_score(river):
    tokens, _, Q, K, scores = river
    fig, (a, b) = plots.new_figure(2, 1)
    view = plots.TermByTerm(a, b, Q[8], K[7], "bank", "river")
    assert view.total.get_height() == pytest.approx(scores[8, 7])
    assert view.ax_sum.get_title() == f"q·k = {scores[8, 7]:.2f}"
    assert [t.get_text() for t in view.row_labels] == ["q bank", "k river", "q × k"]
    matplotlib.pyplot.close(fig)


def test_static_figures_build(river, head):
    tokens, _, _, _, scores = river
    for fig in (plots.projection_matrices_figure(head[0], head[1], embeddings.DIMENSIONS),
                plots.score_rows_figure([(tokens, scores[8], "river sentence")])):
        assert fig.axes
        matplotlib.pyplot.close(fig)
    fig, ax = plots.new_figure()
    plots.listening_question(ax, tokens, 8, question="?")
    assert sum(t.get_text() == "?" for t in ax.texts) == 8  # one arc per other word
    matplotlib.pyplot.close(fig)
    fig, (a, b) = plots.new_figure(1, 2)
    plots.spread_vs_dk(a, [1, 4], [1.0, 2.0], [1.0, 1.0])
    plots.saturation_vs_dk(b, [1, 4], [0.3, 0.5], [0.3, 0.3], 9)
    assert len(a.lines) == 4 and len(b.lines) == 4  # curves + reference lines
    matplotlib.pyplot.close(fig)
