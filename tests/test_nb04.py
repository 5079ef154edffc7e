"""Notebook 04 (values and context): every claim of its prose, and its slider panel.

The numbers are recomputed here from the helpers (toy vectors, demo_head,
scaled_dot_product_attention), not read from the notebook.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import attention, embeddings, plots, widgets

WATER_WORDS = ("river", "lake", "sea")
MONEY_WORDS = ("money", "cash", "deposit")
TOWN_PLACES = ("hospital", "post office", "restaurant")
PLACE_WORDS = WATER_WORDS + TOWN_PLACES
EXPECTED = {**{w: "river" for w in WATER_WORDS}, **{w: "town" for w in MONEY_WORDS + TOWN_PLACES}}
SHARPNESS_GRID = np.arange(0.0, 10.0 + 1e-9, 0.5)  # every position of the panel's slider


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def kv():
    return embeddings.toy_vectors()


@pytest.fixture(scope="module")
def centres(kv):
    return {"river": np.mean([kv[w] for w in embeddings.RIVER_CLUSTER], axis=0),
            "town": np.mean([kv[w] for w in embeddings.TOWN_CLUSTER], axis=0)}


def attend(text, kv, sharpness=4.0):
    """(tokens, X, weights (n, n), output (n, 6)) of the demo head with W_q scaled by sharpness/4."""
    tokens, X = embeddings.sentence_matrix(text, kv)
    W_q, W_k, W_v = attention.demo_head()
    out, w = attention.scaled_dot_product_attention(X @ (W_q * sharpness / 4.0), X @ W_k, X @ W_v)
    return tokens, X, w, out


def cos(a, b):
    return embeddings.cosine_similarity(a, b)


def map_words(kv):
    """The notebook's map words, written as in the notebook."""
    tokens = embeddings.sentence_matrix(embeddings.SENTENCE, kv)[0]
    contrast = embeddings.sentence_matrix(embeddings.CONTRAST_SENTENCE, kv)[0]
    return list(dict.fromkeys(tokens + contrast + list(embeddings.RIVER_CLUSTER)
                              + list(embeddings.TOWN_CLUSTER)))


def template(word):
    return widgets.CONTEXT_TEMPLATE.format(word=word)


# ------------------------------------------------------- the step-by-step part


def test_sentence_tokens_and_bank_position(kv):
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv)
    assert X.shape == (9, 6)
    assert tokens.index("bank") == 8  # "bank is word number 8", "row 8 of weights @ V"
    contrast, Xc = embeddings.sentence_matrix(embeddings.CONTRAST_SENTENCE, kv)
    assert Xc.shape == (9, 6)


def test_recap_matches_step_by_step_and_rows_sum_to_one(kv):
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv)
    W_q, W_k, _ = attention.demo_head()
    scores = (X @ W_q) @ (X @ W_k).T / np.sqrt(6)
    weights = attention.softmax(scores, axis=-1)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert weights.shape == (9, 9)
    np.testing.assert_allclose(weights, attend(embeddings.SENTENCE, kv)[2])


def test_recipe_river_and_fish_more_than_half_small_words_below_005(kv):
    tokens, _, w, _ = attend(embeddings.SENTENCE, kv)
    row = w[tokens.index("bank")]
    order = [tokens[j] for j in np.argsort(-row, kind="stable")]
    assert order[:3] == ["river", "fish", "bank"]
    assert row[tokens.index("river")] + row[tokens.index("fish")] > 0.5
    assert row[tokens.index("bank")] > 0  # bank keeps a share of itself
    small = [row[j] for j, t in enumerate(tokens) if t not in ("river", "fish", "bank")]
    assert len(small) == 6 and max(small) < 0.05


def test_weight_recipe_picture(kv):
    tokens, _, w, _ = attend(embeddings.SENTENCE, kv)
    fig, ax = plots.new_figure(figsize=(11, 2.2))
    parts = plots.weight_recipe(ax, tokens, w[8])
    assert [p[0] for p in parts[:3]] == ["river", "fish", "bank"]
    assert sum(p[1] for p in parts) == pytest.approx(1.0)
    assert len(ax.patches) == 9
    matplotlib.pyplot.close(fig)


def test_values_are_the_meanings(kv):
    _, _, W_v = attention.demo_head()
    np.testing.assert_array_equal(W_v, np.eye(6))
    _, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv)
    V = X @ W_v
    assert V.shape == (9, 6)
    np.testing.assert_array_equal(V, X)


def test_output_is_weighted_sum_of_value_rows(kv):
    tokens, X, w, out = attend(embeddings.SENTENCE, kv)
    V = X  # W_v = I
    assert (w @ V).shape == (9, 6)
    by_hand = sum(w[8, j] * V[j] for j in range(9))
    np.testing.assert_allclose(by_hand, (w @ V)[8])
    np.testing.assert_allclose(out, w @ V)


def test_bank_turns_nature_wetter_less_place(kv):
    tokens, X, _, out = attend(embeddings.SENTENCE, kv)
    before, after = X[8], out[8]
    assert after[attention.TOWN] < 0 <= before[attention.TOWN] + 1e-12  # turns negative
    assert after[attention.WATER] > before[attention.WATER]
    assert after[attention.PLACE] < before[attention.PLACE]
    # "since river (0.4) and fish (−0.1) are less of a place than bank (0.6)"
    place = {t: round(float(X[tokens.index(t), attention.PLACE]), 2) for t in ("river", "fish", "bank")}
    assert place == {"river": 0.4, "fish": -0.1, "bank": 0.6}


def test_map_words_are_the_panels_map_words(kv):
    assert map_words(kv) == widgets.bank_map_words(kv)


def test_river_sentence_on_the_map_moves_left_toward_river(kv, centres):
    m = embeddings.project_2d(kv, map_words(kv))
    _, X, _, out = attend(embeddings.SENTENCE, kv)
    before, after = m(X[8]), m(out[8])
    assert after[0] < before[0]  # the arrow points left
    assert np.linalg.norm(after - m(centres["river"])) < np.linalg.norm(before - m(centres["river"]))
    # the river words sit on the left of the map, the town words on the right
    assert max(m[w][0] for w in embeddings.RIVER_CLUSTER) < min(m[w][0] for w in embeddings.TOWN_CLUSTER)


def test_river_sentence_cosines(kv, centres):
    _, X, _, out = attend(embeddings.SENTENCE, kv)
    r0, t0 = cos(X[8], centres["river"]), cos(X[8], centres["town"])
    r1, t1 = cos(out[8], centres["river"]), cos(out[8], centres["town"])
    assert 0.4 < r0 < 0.6 and 0.4 < t0 < 0.6  # "about 0.5"
    assert t0 > r0  # "a little higher with the town centre"
    assert r1 > 0.9  # "cosine above 0.9"
    assert t1 < 0  # "falls below 0"


def test_contrast_sentence_weights_and_cosines(kv, centres):
    tokens, X, w, out = attend(embeddings.CONTRAST_SENTENCE, kv)
    b = tokens.index("bank")
    order = [tokens[j] for j in np.argsort(-w[b], kind="stable")]
    assert order[:3] == ["bank", "money", "deposit"]
    r0, t0 = cos(X[b], centres["river"]), cos(X[b], centres["town"])
    r1, t1 = cos(out[b], centres["river"]), cos(out[b], centres["town"])
    assert t1 > t0 and t1 == pytest.approx(0.8, abs=0.05)  # "rises (to about 0.8)"
    assert r1 < r0 and abs(r1) < 0.1  # "drops close to 0"


def test_contrast_sentence_on_the_map_moves_right_toward_money_and_deposit(kv, centres):
    m = embeddings.project_2d(kv, map_words(kv))
    tokens, X, _, out = attend(embeddings.CONTRAST_SENTENCE, kv)
    b = tokens.index("bank")
    before, after = m(X[b]), m(out[b])
    assert after[0] > before[0] and after[1] < before[1]  # "down and to the right"
    river_centre = m(centres["river"])
    assert np.linalg.norm(after - river_centre) > np.linalg.norm(before - river_centre)  # "away from the river words"
    for word in ("money", "deposit"):
        assert np.linalg.norm(after - m[word]) < np.linalg.norm(before - m[word])
    assert np.linalg.norm(after - m(centres["town"])) < np.linalg.norm(before - m(centres["town"]))


@pytest.mark.parametrize("sentence", [embeddings.SENTENCE, embeddings.CONTRAST_SENTENCE])
def test_shift_map_draws_star_at_output_and_labels_do_not_overlap(kv, centres, sentence):
    m = embeddings.project_2d(kv, map_words(kv))
    tokens, X, _, out = attend(sentence, kv)
    b = tokens.index("bank")
    fig, ax = plots.new_figure(figsize=(8, 6))
    emap = plots.bank_shift_map(ax, m, X[b], out[b], title=sentence,
                                centres={"river centre": (centres["river"], plots.RIVER_COLOR),
                                         "town centre": (centres["town"], plots.TOWN_COLOR)})
    star, label, arrow = emap.markers["bank_after"]
    np.testing.assert_allclose(np.ravel(star.get_data()), m(out[b]))
    np.testing.assert_allclose(arrow._posA_posB[0], m(X[b]))
    np.testing.assert_allclose(arrow._posA_posB[1], m(out[b]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [lab.get_window_extent(renderer) for _, lab in emap.points.values()]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (list(emap.points)[i], list(emap.points)[j])
    axbox = ax.get_window_extent(renderer)
    for box in boxes:  # every word label inside the axes
        assert axbox.x0 <= box.x0 and box.x1 <= axbox.x1 and axbox.y0 <= box.y0 and box.y1 <= axbox.y1
    matplotlib.pyplot.close(fig)


def test_one_call_equals_step_by_step(kv):
    _, X, _, _ = attend(embeddings.SENTENCE, kv)
    W_q, W_k, W_v = attention.demo_head()
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    weights = attention.softmax(Q @ K.T / np.sqrt(6))
    out, w = attention.scaled_dot_product_attention(Q, K, V)
    assert np.allclose(w, weights) and np.allclose(out, weights @ V)


def test_loop_over_queries_equals_matrix_form(kv):
    _, X, _, _ = attend(embeddings.SENTENCE, kv)
    W_q, W_k, W_v = attention.demo_head()
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    output = attention.softmax(Q @ K.T / np.sqrt(6)) @ V
    out_loop = np.zeros_like(V)
    for i in range(len(X)):
        out_loop[i] = attention.softmax(Q[i] @ K.T / np.sqrt(6)) @ V
    diff = float(np.abs(out_loop - output).max())
    assert diff < 1e-12 and round(diff, 12) == 0.0  # printed as 0.0


def test_pointer_to_05_two_heads():
    *_, num_heads = attention.demo_heads()
    assert num_heads == 2


# ----------------------------------------------------- the panel's claims


def test_panel_words_tokenize_and_match_prose(kv):
    assert set(widgets.CONTEXT_WORDS) == set(EXPECTED)
    for word in widgets.CONTEXT_WORDS:
        tokens, _ = embeddings.sentence_matrix(template(word), kv)  # no UnknownWordError
        assert len(tokens) == 7 and tokens[-1] == "bank"


@pytest.mark.parametrize("word", list(EXPECTED))
def test_each_context_word_moves_bank_to_its_side_at_every_sharpness(kv, centres, word):
    side, other = EXPECTED[word], "town" if EXPECTED[word] == "river" else "river"
    bank = kv["bank"]
    for s in SHARPNESS_GRID:
        tokens, _, _, out = attend(template(word), kv, s)
        after = out[tokens.index("bank")]
        assert cos(after, centres[side]) > cos(bank, centres[side]), (word, s)
        assert cos(after, centres[other]) < cos(bank, centres[other]), (word, s)
        assert cos(after, centres[side]) > cos(after, centres[other]), (word, s)


@pytest.mark.parametrize("word", list(EXPECTED))
def test_who_gets_the_largest_weight(kv, word):
    ctx = embeddings.tokenize(word)[0]
    for s in SHARPNESS_GRID[1:]:  # every sharpness above 0
        tokens, _, w, _ = attend(template(word), kv, s)
        order = [tokens[j] for j in np.argsort(-w[tokens.index("bank")], kind="stable")]
        if word in PLACE_WORDS:
            assert order[0] == ctx, (word, s, order)
        else:
            assert order[:2] == ["bank", ctx], (word, s, order)


def scores_of_bank(word, kv):
    """bank's unscaled scores q_bank · k_j (demo head, sharpness 4) in the panel's sentence."""
    tokens, X = embeddings.sentence_matrix(template(word), kv)
    W_q, W_k, _ = attention.demo_head()
    s = (X @ W_q)[tokens.index("bank")] @ (X @ W_k).T
    return dict(zip(tokens, s))


def test_money_words_score_below_banks_own_key_place_words_above(kv):
    s = scores_of_bank("money", kv)
    assert (f"{s['money']:.2f}", f"{s['bank']:.2f}") == ("3.22", "3.93")  # "money 3.22 against 3.93"
    for word in MONEY_WORDS:
        s = scores_of_bank(word, kv)
        assert s[word] < s["bank"], word
    for word in PLACE_WORDS:
        s = scores_of_bank(word, kv)
        ctx = embeddings.tokenize(word)[0]
        assert s[ctx] > s["bank"], word


@pytest.mark.parametrize("word", list(EXPECTED))
def test_sharpness_zero_is_uniform_and_largest_weight_grows(kv, word):
    tokens, X, w, out = attend(template(word), kv, 0.0)
    np.testing.assert_allclose(w, 1 / 7)
    assert f"{1 / 7:.2f}" == "0.14"
    np.testing.assert_allclose(out[tokens.index("bank")], X.mean(axis=0))  # the plain average
    biggest = [attend(template(word), kv, s)[2][-1].max() for s in SHARPNESS_GRID]
    assert np.all(np.diff(biggest) >= -1e-12)


def test_sharpness_4_is_exactly_the_demo_head(kv):
    tokens, X = embeddings.sentence_matrix(template("river"), kv)
    W_q, W_k, W_v = attention.demo_head()
    out, w = attention.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
    panel = widgets.bank_context_panel(vectors=kv)
    t, row, after = panel.compute("river", 4.0)
    np.testing.assert_array_equal(row, w[-1])
    np.testing.assert_array_equal(after, out[-1])
    matplotlib.pyplot.close(panel.fig)


# ------------------------------------------------------ the panel, driven


@pytest.fixture(scope="module")
def shared_panel(kv):
    p = widgets.bank_context_panel(vectors=kv)
    yield p
    matplotlib.pyplot.close(p.fig)


@pytest.fixture
def panel(shared_panel):
    """One panel for the module (building it draws the figure), reset before each test."""
    shared_panel.reset()
    return shared_panel


def check_panel_shows(panel, kv, centres, word, sharpness):
    """The panel's artists and readout hold the recomputed state for (word, sharpness)."""
    tokens, _, w, out = attend(template(word), kv, sharpness)
    b = tokens.index("bank")
    m = panel.map2d
    star, star_label, arrow = panel.emap.markers["bank_after"]
    expected_xy = m(out[b])
    np.testing.assert_allclose(np.ravel(star.get_data()), expected_xy)  # not clipped either
    np.testing.assert_allclose(star_label.xy, expected_xy)
    np.testing.assert_allclose(arrow._posA_posB[1], expected_xy)
    np.testing.assert_allclose(arrow._posA_posB[0], m(kv["bank"]))
    heights = [bar.get_height() for bar in panel.weight_bars.bars]
    np.testing.assert_allclose(heights, w[b])
    ctx = embeddings.tokenize(word)[0]
    np.testing.assert_allclose(np.ravel(panel.ring.get_data()), m(kv[ctx]))
    panel.fig.canvas.draw()
    ticks = [t.get_text() for t in panel.weight_bars.ax.get_xticklabels()]
    assert ticks == [embeddings.display_word(t) for t in tokens]
    assert panel.ring_label.get_text() == ("" if ctx in m.words else word)
    text = panel.text
    assert text.splitlines()[0].startswith(template(word))
    assert f"(sharpness {sharpness:.1f})" in text
    r1, t1 = cos(out[b], centres["river"]), cos(out[b], centres["town"])
    assert f"river centre: {cos(kv['bank'], centres['river']):.2f} -> {r1:.2f}" in text
    assert f"town centre:  {cos(kv['bank'], centres['town']):.2f} -> {t1:.2f}" in text
    order = np.argsort(-w[b], kind="stable")[:2]
    top = ", ".join(f"{embeddings.display_word(tokens[j])} {w[b, j]:.2f}" for j in order)
    assert f"bank attends most to: {top}" in text
    assert f"closer to the {'river' if r1 > t1 else 'town'} centre" in text


def test_panel_starts_on_river_at_sharpness_4(panel, kv, centres):
    assert panel.values() == {"word": "river", "sharpness": 4.0}
    check_panel_shows(panel, kv, centres, "river", 4.0)
    assert "closer to the river centre" in panel.text


@pytest.mark.parametrize("word", list(EXPECTED))
def test_panel_word_picker_moves_marker_and_readout(panel, kv, centres, word):
    before = panel.text
    panel.controls["word"].value = word  # as the mouse would
    if word != "river":
        assert panel.text != before
    check_panel_shows(panel, kv, centres, word, 4.0)
    assert f"closer to the {EXPECTED[word]} centre" in panel.text


def test_panel_sharpness_slider_driven_by_value(panel, kv, centres):
    panel.controls["word"].value = "hospital"
    text4 = panel.text
    panel.controls["sharpness"].value = 8.0
    assert panel.text != text4
    check_panel_shows(panel, kv, centres, "hospital", 8.0)


@pytest.mark.parametrize("word", list(EXPECTED))
@pytest.mark.parametrize("sharpness", [0.0, 10.0])
def test_panel_extremes_are_finite_and_drawn(panel, kv, centres, word, sharpness):
    panel.controls["sharpness"].value = panel.controls["sharpness"].min if sharpness == 0 else \
        panel.controls["sharpness"].max
    panel.controls["word"].value = word
    assert panel.controls["sharpness"].value == sharpness
    check_panel_shows(panel, kv, centres, word, sharpness)
    star = panel.emap.markers["bank_after"][0]
    assert np.all(np.isfinite(np.ravel(star.get_data())))
    heights = np.array([bar.get_height() for bar in panel.weight_bars.bars])
    assert len(heights) == 7 and np.all(np.isfinite(heights)) and heights.sum() == pytest.approx(1.0)
    assert "nan" not in panel.text.lower()
    # the star stays inside the map's limits (so EmbeddingMap.move never clips it)
    x, y = np.ravel(star.get_data())
    ax = panel.emap.ax
    assert ax.get_xlim()[0] <= x <= ax.get_xlim()[1] and ax.get_ylim()[0] <= y <= ax.get_ylim()[1]


def test_panel_set_cell_and_reset(panel, kv, centres):
    start = panel.text
    text = panel.set(word="hospital")
    assert text == panel.text and "hospital 0.41, bank 0.25" in text
    text = panel.set(word="money", sharpness=10.0)
    assert "bank 0.60, money 0.29" in text and "closer to the town centre" in text
    text = panel.set(word="lake", sharpness=0.0)
    assert "tom 0.14, is 0.14" in text  # all equal: the first two of the sentence
    assert "closer to the river centre" in text
    check_panel_shows(panel, kv, centres, "lake", 0.0)
    assert panel.reset() == start
    assert panel.values() == {"word": "river", "sharpness": 4.0}
    check_panel_shows(panel, kv, centres, "river", 4.0)


def test_panel_has_reset_and_png_fallback(panel):
    bundle = panel._repr_mimebundle_()
    assert "image/png" in bundle and bundle["text/plain"].startswith("Panel: ")
    assert set(panel.controls) == {"word", "sharpness"}
    slider = panel.controls["sharpness"]
    assert (slider.min, slider.max, slider.value) == (0.0, 10.0, 4.0)
