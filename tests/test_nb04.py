"""Notebook 04 (values and context): every claim of its prose, and its slider panel.

The numbers are recomputed here from the helpers (toy vectors, demo_head,
scaled_dot_product_attention); every number the prose quotes is read from the
notebook's markdown (tests/notebook_text.py) and compared with the computation.
"""

import matplotlib

matplotlib.use("Agg")

import re

import numpy as np
import pytest

from helpers import attention, embeddings, plots
from helpers.lessons import values_and_context as lesson
from nb04_scenes import (PATCH_LIMIT, FakeFront, arrow_ends, attrs, bar_heights, fit_affine, map_dots,
                         map_frame, map_labels, move, overlaps, star_centre, to_px)
from notebook_text import markdown, outputs, quoted, quoted_all

WATER_WORDS = ("river", "lake", "sea")
MONEY_WORDS = ("money", "cash", "deposit")
TOWN_PLACES = ("hospital", "post office", "restaurant")
PLACE_WORDS = WATER_WORDS + TOWN_PLACES
EXPECTED = {**{w: "river" for w in WATER_WORDS}, **{w: "town" for w in MONEY_WORDS + TOWN_PLACES}}
SHARPNESS_GRID = np.round(np.arange(0.0, 3.0 + 1e-9, 0.1), 1)  # every position of the panel's slider


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def kv():
    return embeddings.toy_vectors()


@pytest.fixture(scope="module")
def centres(kv):
    return {"river": np.mean([kv[w] for w in embeddings.RIVER_CLUSTER], axis=0),
            "town": np.mean([kv[w] for w in embeddings.TOWN_CLUSTER], axis=0)}


def attend(text, kv, sharpness=1.0):
    """(tokens, X, weights (n, n), output (n, 6)) of the demo head with W_q = sharpness x demo W_q."""
    tokens, X = embeddings.sentence_matrix(text, kv)
    W_q, W_k, W_v = attention.demo_head()
    out, w = attention.scaled_dot_product_attention(X @ (sharpness * W_q), X @ W_k, X @ W_v)
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
    return lesson.CONTEXT_TEMPLATE.format(word=word)


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
    fig, ax = plots.new_figure(figsize=(7.0, 2.4))
    parts = lesson.weight_recipe(ax, tokens, w[8])
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
    # "since river (0.4) and fish (−0.1) are less of a place than bank (0.6)", read from the prose
    quoted_place = quoted(markdown("04"), r"since \*river\* \(([−\d.]+)\) and \*fish\* \(([−\d.]+)\) are less "
                                          r"of a place\s+than \*bank\* \(([−\d.]+)\)")
    place = tuple(round(float(X[tokens.index(t), attention.PLACE]), 2) for t in ("river", "fish", "bank"))
    assert place == quoted_place


def test_map_words_are_the_panels_map_words(kv):
    assert map_words(kv) == lesson.bank_map_words(kv)


def test_river_sentence_on_the_map_moves_left_toward_river(kv, centres):
    m = embeddings.project_2d(kv, map_words(kv))
    _, X, _, out = attend(embeddings.SENTENCE, kv)
    before, after = m(X[8]), m(out[8])
    assert after[0] < before[0]  # the arrow points left
    assert np.linalg.norm(after - m(centres["river"])) < np.linalg.norm(before - m(centres["river"]))
    # the river words sit on the left of the map, the town words on the right
    assert max(m[w][0] for w in embeddings.RIVER_CLUSTER) < min(m[w][0] for w in embeddings.TOWN_CLUSTER)


def test_river_sentence_cosines(kv, centres):
    text = markdown("04", "## Step 3", "## The contrast sentence")
    _, X, _, out = attend(embeddings.SENTENCE, kv)
    r0, t0 = cos(X[8], centres["river"]), cos(X[8], centres["town"])
    r1, t1 = cos(out[8], centres["river"]), cos(out[8], centres["town"])
    about = quoted(text, r"its cosine with both centres is\s+about ([\d.]+)")
    assert round(r0, 1) == about and round(t0, 1) == about  # "about 0.5"
    assert t0 > r0 and "a little higher with the town centre" in text
    assert r1 > quoted(text, r"\(cosine above ([\d.]+)\)")
    assert t1 < quoted(text, r"town centre falls below (\d+)")


def test_contrast_sentence_weights_and_cosines(kv, centres):
    tokens, X, w, out = attend(embeddings.CONTRAST_SENTENCE, kv)
    b = tokens.index("bank")
    order = [tokens[j] for j in np.argsort(-w[b], kind="stable")]
    assert order[:3] == ["bank", "money", "deposit"]
    r0, t0 = cos(X[b], centres["river"]), cos(X[b], centres["town"])
    r1, t1 = cos(out[b], centres["river"]), cos(out[b], centres["town"])
    text = markdown("04", "## The contrast sentence", "## Every word gets an output")
    assert t1 > t0 and round(t1, 1) == quoted(text, r"rises \(to about ([\d.]+)\)")
    assert r1 < r0 and round(r1, 1) == quoted(text, r"drops close to (\d+)")


def drawn_map(kv, centres, sentence):
    """The notebook's figure for `sentence`: (fig, EmbeddingMap, star's drawn (x, y))."""
    m = embeddings.project_2d(kv, map_words(kv))
    tokens, X, _, out = attend(sentence, kv)
    b = tokens.index("bank")
    fig, ax = plots.new_figure(figsize=(6.8, 5.4))
    emap = lesson.bank_shift_map(ax, m, X[b], out[b], title=sentence,
                                centres={"river centre": (centres["river"], plots.RIVER_COLOR),
                                         "town centre": (centres["town"], plots.TOWN_COLOR)})
    return fig, emap, np.ravel(emap.markers["bank_after"][0].get_data())


def nearest_drawn_words(emap, xy, k):
    """The k words whose drawn dots are closest to the point xy on the map."""
    dots = {w: np.array([dot.get_xdata()[0], dot.get_ydata()[0]]) for w, (dot, _) in emap.points.items()}
    return sorted(dots, key=lambda w: np.linalg.norm(dots[w] - xy))[:k]


def test_contrast_sentence_on_the_map_the_words_say_what_the_figure_draws(kv, centres):
    """'the arrow now points to the right ... the star stops ... next to *the*, *to* and *at*'."""
    text = markdown("04", "## The contrast sentence", "## Every word gets an output")
    named = re.findall(r"\*(\w+)\*", text.split("next to ", 1)[1].split(",\nnot among")[0].split(", not")[0])
    assert named == ["the", "to", "at"]
    assert "the arrow now points to the right" in text and "not among the town\nwords" in text
    fig, emap, star = drawn_map(kv, centres, embeddings.CONTRAST_SENTENCE)
    start = emap.markers["bank_after"][2]._posA_posB[0]
    assert star[0] > start[0]  # to the right
    assert set(nearest_drawn_words(emap, star, 3)) == set(named)
    town = [emap.map[w] for w in embeddings.TOWN_CLUSTER]
    assert min(np.linalg.norm(star - t) for t in town) > max(np.linalg.norm(star - emap.map[w]) for w in named)
    # away from the river words; and in 6-d it points toward the town centre (the cosines say so)
    river_xy = emap.map(centres["river"])
    assert np.linalg.norm(star - river_xy) > np.linalg.norm(start - river_xy)
    matplotlib.pyplot.close(fig)


def test_river_sentence_arrow_points_left_as_the_prose_says(kv, centres):
    text = markdown("04", "## Step 3", "## The contrast sentence")
    assert "The arrow points left, to the river side of the map." in text
    fig, emap, star = drawn_map(kv, centres, embeddings.SENTENCE)
    start = emap.markers["bank_after"][2]._posA_posB[0]
    assert star[0] < start[0] and all(emap.map[w][0] < 0 for w in embeddings.RIVER_CLUSTER)
    matplotlib.pyplot.close(fig)


def test_map_has_the_orientation_of_notebook_01(kv):
    """One orientation for the series: river words on the left and low, town words on the right."""
    text = markdown("04", "## Step 3", "## The contrast sentence")
    assert "*river* lies at negative x and negative y" in text
    m01, m04 = embeddings.project_2d(kv), embeddings.project_2d(kv, map_words(kv))
    for m in (m01, m04):
        assert np.all(m["river"] < 0)
    for word in embeddings.RIVER_CLUSTER + embeddings.TOWN_CLUSTER + ("bank",):
        assert np.sign(m01[word][0]) == np.sign(m04[word][0]), word  # same side left / right
    for m in (m01, m04):  # the river centre on the left; the town words on the right and low, like river
        assert np.mean([m[w][0] for w in embeddings.RIVER_CLUSTER]) < 0
        assert all(m[w][0] > 0 and m[w][1] < 0 for w in embeddings.TOWN_CLUSTER)


def test_centre_markers_are_small_and_hollow_and_hide_no_word(kv, centres):
    fig, emap, _ = drawn_map(kv, centres, embeddings.SENTENCE)
    ax = emap.ax
    word_dots = {line for line, _ in emap.points.values()}
    centre_marks = [line for line in ax.lines if line.get_marker() == "X"]
    assert len(centre_marks) == 2
    for mark in centre_marks:
        assert mark.get_markerfacecolor() == "none"
        assert mark.get_markersize() < min(d.get_markersize() for d in word_dots if d.get_markersize() > 6)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    for word, (dot, label) in emap.points.items():  # the legend covers no word and no label
        assert not legend.overlaps(dot.get_window_extent(renderer)), word
        assert not legend.overlaps(label.get_window_extent(renderer)), word
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("sentence", [embeddings.SENTENCE, embeddings.CONTRAST_SENTENCE])
def test_shift_map_draws_star_at_output_and_labels_do_not_overlap(kv, centres, sentence):
    m = embeddings.project_2d(kv, map_words(kv))
    tokens, X, _, out = attend(sentence, kv)
    b = tokens.index("bank")
    fig, ax = plots.new_figure(figsize=(6.8, 5.4))
    emap = lesson.bank_shift_map(ax, m, X[b], out[b], title=sentence,
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


def test_money_words_take_the_town_colour_in_the_money_sentence_map(kv, centres):
    """The money words pull bank to the town side, so they are drawn like the town words, not grey."""
    fig, emap, _ = drawn_map(kv, centres, embeddings.CONTRAST_SENTENCE)
    town = matplotlib.colors.to_rgb(plots.TOWN_COLOR)
    for word in ("money", "deposit"):
        dot, label = emap.points[word]
        assert matplotlib.colors.to_rgb(dot.get_color()) == town, word
        assert matplotlib.colors.to_rgb(label.get_color()) == town, word
    for word in ("the", "at"):  # the little words belong to neither side
        assert matplotlib.colors.to_rgb(emap.points[word][0].get_color()) == matplotlib.colors.to_rgb(plots.OTHER_COLOR)
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
    assert diff < 1e-12
    assert f"max |loop - matrix form| = {round(diff, 12)}" in outputs("04")  # the notebook prints 0.0


def test_pointer_to_05_two_heads():
    *_, num_heads = attention.demo_heads()
    assert num_heads == 2


# ----------------------------------------------------- the panel's claims


def test_panel_words_tokenize_and_match_prose(kv):
    assert set(lesson.CONTEXT_WORDS) == set(EXPECTED)
    for word in lesson.CONTEXT_WORDS:
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
    quoted_scores = quoted(markdown("04"), r"\*money\* ([\d.]+) against ([\d.]+)")  # "money 3.22 against 3.93"
    assert (round(s["money"], 2), round(s["bank"], 2)) == quoted_scores
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
    # "the same weight, 1/7 ≈ 0.14": the fraction and its rounding, read from the prose
    for n, shown in quoted_all(markdown("04"), r"1/(\d+) (?:\\approx|≈) ([\d.]+)"):
        assert n == len(tokens) and shown == round(float(w[0, 0]), 2)
    np.testing.assert_allclose(out[tokens.index("bank")], X.mean(axis=0))  # the plain average
    biggest = [attend(template(word), kv, s)[2][-1].max() for s in SHARPNESS_GRID]
    assert np.all(np.diff(biggest) >= -1e-12)


@pytest.mark.parametrize("sharpness", [0.0, 0.5, 1.0, 2.5, 3.0])
def test_panel_w_q_is_sharpness_times_the_lessons_w_q(kv, sharpness):
    """The series' convention: W_q = sharpness x demo_head's W_q (1 = exactly the lesson's head)."""
    tokens, X = embeddings.sentence_matrix(template("hospital"), kv)
    W_q, W_k, W_v = attention.demo_head()
    out, w = attention.scaled_dot_product_attention(X @ (sharpness * W_q), X @ W_k, X @ W_v)
    t, row, after = lesson.context_attention("hospital", sharpness, kv)
    np.testing.assert_allclose(row, w[-1], rtol=1e-12)
    np.testing.assert_allclose(after, out[-1], rtol=1e-12)
    # so every score is multiplied by sharpness: the weights equal softmax(sharpness x scores)
    scores = (X @ W_q)[-1] @ (X @ W_k).T / np.sqrt(6)
    np.testing.assert_allclose(row, attention.softmax(sharpness * scores), rtol=1e-12)


def test_prose_says_sharpness_multiplies_w_q_and_1_is_the_head():
    text = markdown("04", "## Your turn: change the context word", "## Your turn: your own sentence")
    assert "**sharpness** multiplies $W_q$, so every score is multiplied by it too; like 1/T in notebook 03" in text
    start = quoted(text, r"\(([\d.]+) is exactly the head above\)")
    panel = lesson.bank_context_panel()
    assert panel.controls["sharpness"].value == start
    assert quoted(text, r"back to \*river\*, sharpness ([\d.]+)\)") == start


# ------------------------------------------------------ the panel, driven


@pytest.fixture(scope="module")
def shared_panel(kv):
    return lesson.bank_context_panel(vectors=kv)


@pytest.fixture
def panel(shared_panel):
    """One panel for the module, reset before each test."""
    shared_panel.reset()
    return shared_panel


def map_to_px(panel, kv):
    """The affine map from the notebook's 2-D map to the panel's pixels, fitted to the drawn word dots."""
    m = embeddings.project_2d(kv, map_words(kv))
    dots = map_dots(panel.scene)
    words = [w for w in m.words]
    assert set(embeddings.display_word(w) for w in words) <= set(dots)  # every word of the notebook's map
    A = fit_affine([m[w] for w in words], [dots[embeddings.display_word(w)] for w in words])
    residual = max(np.abs(to_px(A, m[w]) - dots[embeddings.display_word(w)]).max() for w in words)
    assert residual < 0.2  # the dots are the notebook's map, only scaled and moved (to 0.1 px)
    return m, A


def check_panel_shows(panel, kv, centres, word, sharpness):
    """The panel's scene and readout hold the state recomputed here for (word, sharpness)."""
    tokens, _, w, out = attend(template(word), kv, sharpness)
    b = tokens.index("bank")
    m, A = map_to_px(panel, kv)
    scene = panel.scene
    np.testing.assert_allclose(star_centre(scene), to_px(A, m(out[b])), atol=0.2)  # the star is bank's output
    start, end = arrow_ends(scene)
    np.testing.assert_allclose(start, to_px(A, m(kv["bank"])), atol=0.2)
    np.testing.assert_allclose(end, to_px(A, m(out[b])), atol=0.2)
    ctx = embeddings.tokenize(word)[0]
    ring = attrs(scene, "ring")
    np.testing.assert_allclose([float(ring["cx"]), float(ring["cy"])], to_px(A, m(kv[ctx])), atol=0.2)
    x0, y0, x1, y1 = map_frame(scene)
    assert x0 <= star_centre(scene)[0] <= x1 and y0 <= star_centre(scene)[1] <= y1  # never off the map
    heights, bases = bar_heights(scene, "w", len(tokens))
    assert np.ptp(bases) < 0.15  # one baseline
    np.testing.assert_allclose(heights / heights.sum(), w[b], atol=0.15 / heights.sum() + 1e-3)
    assert [scene.keyed()[f"w.l{i}"][1] for i in range(len(tokens))] == [embeddings.display_word(t)
                                                                         for t in tokens]
    assert [scene.keyed()[f"w.v{i}"][1] for i in range(len(tokens))] == [f"{v:.2f}" for v in w[b]]
    text = panel.text
    assert text.splitlines()[0] == f"{template(word)}   (sharpness {sharpness:.1f})"
    r1, t1 = cos(out[b], centres["river"]), cos(out[b], centres["town"])
    assert f"river centre: {cos(kv['bank'], centres['river']):.2f} -> {r1:.2f}" in text
    assert f"town centre:  {cos(kv['bank'], centres['town']):.2f} -> {t1:.2f}" in text
    order = np.argsort(-w[b], kind="stable")[:2]
    top = ", ".join(f"{embeddings.display_word(tokens[j])} {w[b, j]:.2f}" for j in order)
    assert f"bank attends most to: {top}" in text
    assert f"closer to the {'river' if r1 > t1 else 'town'} centre" in text
    return heights.sum()


def test_panel_starts_on_river_at_sharpness_1(panel, kv, centres):
    assert panel.values() == {"word": "river", "sharpness": 1.0}
    check_panel_shows(panel, kv, centres, "river", 1.0)
    assert "closer to the river centre" in panel.text


@pytest.mark.parametrize("word", list(EXPECTED))
def test_panel_word_picker_moves_star_ring_bars_and_readout_by_patches(panel, kv, centres, word):
    front = FakeFront(panel)
    sent = move(panel, front, "word", word)  # as the mouse would
    if word != "river":
        kind, size = sent
        assert kind == "patch" and size < PATCH_LIMIT
    check_panel_shows(panel, kv, centres, word, 1.0)
    assert f"closer to the {EXPECTED[word]} centre" in panel.text


def test_panel_sharpness_slider_is_a_small_patch_at_every_position(panel, kv, centres):
    front = FakeFront(panel)
    move(panel, front, "word", "hospital")
    axis = set()
    for s in SHARPNESS_GRID[::-1]:
        kind, size = move(panel, front, "sharpness", float(s))
        assert kind == "patch" and size < PATCH_LIMIT, (s, kind, size)
        if s in (0.0, 1.0, 2.0, 3.0):
            axis.add(round(check_panel_shows(panel, kv, centres, "hospital", s), 0))
    assert len(axis) == 1  # the bars keep their axis: heights in px are weights on one scale


@pytest.mark.parametrize("word", list(EXPECTED))
@pytest.mark.parametrize("sharpness", [0.0, 3.0])
def test_panel_extremes_are_finite_and_drawn(panel, kv, centres, word, sharpness):
    panel.controls["sharpness"].value = panel.controls["sharpness"].min if sharpness == 0 else \
        panel.controls["sharpness"].max
    panel.controls["word"].value = word
    assert panel.controls["sharpness"].value == sharpness
    check_panel_shows(panel, kv, centres, word, sharpness)
    assert "nan" not in panel.text.lower() and "nan" not in panel.scene.live_markup().lower()


def test_the_map_labels_do_not_overlap_and_stay_inside(panel):
    """Every word of the map and of the picker has a label; no two overlap, none covers a dot."""
    scene = panel.scene
    boxes, dots = map_labels(scene), map_dots(scene)
    picked = {embeddings.display_word(embeddings.tokenize(w)[0]) for w in lesson.CONTEXT_WORDS}
    assert set(boxes) == set(dots) and picked <= set(dots)
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not overlaps(boxes[a], boxes[b]), (a, b)
        for other, (x, y) in dots.items():
            if other != a:
                assert not overlaps(boxes[a], (x - 5, y - 5, x + 5, y + 5)), (a, "covers the dot of", other)
    x0, y0, x1, y1 = map_frame(scene)
    for label, (a0, b0, a1, b1) in boxes.items():
        assert x0 <= a0 and a1 <= x1 and y0 <= b0 and b1 <= y1, label


def test_the_map_colours_words_by_meaning(panel):
    """Water words blue like the river words, money words vermillion like the town words."""
    markup = panel.scene.tile_markups()[0]
    colour = {label: fill for fill, label in re.findall(r'r="5" fill="([^"]+)"/><text [^>]*>([^<]+)</text>', markup)}
    for word in ("river", "lake", "sea", "fish"):
        assert colour[word] == plots.RIVER_COLOR, word
    for word in ("money", "cash", "deposit", "hospital", "post office"):
        assert colour[word] == plots.TOWN_COLOR, word
    assert colour["the"] == plots.OTHER_COLOR and colour["bank"] == plots.BANK_COLOR


def weights_shown(text):
    """{word: weight} of the readout line 'bank attends most to: a 0.41, b 0.25'."""
    line = next(l for l in text.splitlines() if l.startswith("bank attends most to:"))
    pairs = [p.rsplit(" ", 1) for p in line.split(": ", 1)[1].split(", ")]
    return {w: float(v) for w, v in pairs}


def test_panel_set_cell_and_reset_agree_with_the_questions(panel, kv, centres):
    text = markdown("04")
    start = panel.text
    q4_sharpness, q4_hospital = quoted(text, r"At the starting sharpness \(([\d.]+)\), \*hospital\* gets "
                                             r"\*bank\*'s largest weight \(([\d.]+)\)")
    assert q4_sharpness == panel.values()["sharpness"]
    shown = panel.set(word="hospital")
    assert shown == panel.text and weights_shown(shown)["hospital"] == q4_hospital
    q3 = quoted(text, r"drag `sharpness` to ([\d.]+): \*bank\* gives ([\d.]+) of its attention to itself "
                      r"and only ([\d.]+) to \*money\*, yet its cosine with the town centre rises from ([\d.]+) "
                      r"to (\d\.\d+)")
    shown = panel.set(word="money", sharpness=q3[0])
    assert (weights_shown(shown)["bank"], weights_shown(shown)["money"]) == q3[1:3]
    assert f"town centre:  {q3[3]:.2f} -> {q3[4]:.2f}" in shown and "closer to the town centre" in shown
    q2 = quoted(text, r"pick \*lake\* and drag `sharpness` to (\d+)\. Every one of the 7 words gets the same "
                      r"weight, 1/7 ≈ ([\d.]+), yet \*bank\*'s cosine with the river centre still rises from "
                      r"([\d.]+) to (\d\.\d+)")
    shown = panel.set(word="lake", sharpness=q2[0])
    assert weights_shown(shown) == {"tom": q2[1], "is": q2[1]}  # all equal: the first two of the sentence
    assert f"river centre: {q2[2]:.2f} -> {q2[3]:.2f}" in shown and "closer to the river centre" in shown
    check_panel_shows(panel, kv, centres, "lake", 0.0)
    assert panel.reset() == start
    assert panel.values() == {"word": "river", "sharpness": 1.0}
    check_panel_shows(panel, kv, centres, "river", 1.0)


def test_panel_has_reset_and_a_static_first_state(kv):
    panel = lesson.bank_context_panel(vectors=kv)
    bundle = panel._repr_mimebundle_()
    assert bundle["image/svg+xml"] == panel.static_svg()
    assert bundle["text/plain"] == "Panel: Change the context word: where does bank go? (word, sharpness)"
    assert set(panel.controls) == {"word", "sharpness"}
    slider = panel.controls["sharpness"]
    assert (slider.min, slider.max, slider.value, slider.step) == (0.0, 3.0, 1.0, 0.1)
    assert list(panel.controls["word"].options) == list(lesson.CONTEXT_WORDS)


def test_panels_fit_the_notebook_column(panel, kv):
    """Every tile of both live panels at most 580 px wide, so that nothing is cut."""
    own = lesson.sentence_panel(kv)
    for p in (panel, own):
        assert max(tile[0] for tile in p.scene.tiles) <= 580 and p.scene.size()[0] <= 580


def test_panels_are_the_notebooks(kv):
    """lesson.panels() builds the two panels as the notebook does (the same first pictures)."""
    from notebook_text import load, source

    code = "\n".join(source(c) for c in load("04")["cells"] if c["cell_type"] == "code")
    assert "values_and_context.bank_context_panel(vectors=vectors)" in code
    assert "values_and_context.sentence_panel(vectors)" in code
    built = lesson.panels()
    assert built["context"].static_svg() == lesson.bank_context_panel(vectors=kv).static_svg()
    assert built["sentence"].static_svg() == lesson.sentence_panel(kv).static_svg()


# ------------------------------------------- every word's output, the residual step


def output_cosines(kv):
    tokens, _, _, out = attend(embeddings.SENTENCE, kv)
    unit = out / np.linalg.norm(out, axis=1, keepdims=True)
    return tokens, unit @ unit.T


def test_every_output_is_a_near_copy_as_the_prose_says(kv):
    text = markdown("04", "## Every word gets an output", "## Your turn: change the context word")
    tokens, C = output_cosines(kv)
    _, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv)
    i = tokens.index
    river, fish = quoted(text, r"\*bank\*'s output has\s+cosine ([\d.]+) with \*river\*'s output and ([\d.]+) "
                               r"with \*fish\*'s")
    assert (round(C[i("bank"), i("river")], 2), round(C[i("bank"), i("fish")], 2)) == (river, fish)
    raw = quoted(text, r"their raw vectors had only ([\d.]+) and ([\d.]+)")
    assert (round(cos(X[i("bank")], X[i("river")]), 2), round(cos(X[i("bank")], X[i("fish")]), 2)) == raw
    small = [i(w) for w in ("is", "going", "to", "the")]
    least = quoted(text, r"cosines of at least ([\d.]+) with each\s+other")
    assert round(min(C[a, c] for a in small for c in small), 2) >= least
    raw_small = min(cos(X[a], X[c]) for a in small for c in small)
    assert raw_small < 0.5  # "although their raw vectors were very different"
    assert "Almost every square is dark" in text and C.min() > 0.6  # dark on the -1..1 scale
    # why: the small words spread their weight almost evenly, fish / river / bank mostly take river and fish
    _, _, w, _ = attend(embeddings.SENTENCE, kv)
    evenly = quoted(text, r"no word gets more than ([\d.]+) of theirs")
    assert round(max(w[i(t)].max() for t in ("is", "to", "the")), 2) == evenly
    for t in ("fish", "river", "bank"):
        assert w[i(t), i("river")] + w[i(t), i("fish")] > 0.5, t
    # and the notebook prints the same cosines
    assert f"bank's output and river's output: cosine {river:.2f}" in outputs("04")


def test_residual_step_numbers_as_the_prose_says(kv, centres):
    text = markdown("04", "## Every word gets an output", "## Your turn: change the context word")
    assert "$x + \\text{Attention}(x)$" in text and "lesson 07" in text
    tokens, X, _, out = attend(embeddings.SENTENCE, kv)
    b = tokens.index("bank")
    residual = X[b] + out[b]
    raw, alone = quoted(text, r"cosine ([\d.]+) with its raw vector,\s+against ([\d.]+) for the output alone")
    assert (round(cos(residual, X[b]), 2), round(cos(out[b], X[b]), 2)) == (raw, alone)
    river, before, town = quoted(text, r"cosine ([\d.]+) with\s+the river centre, up from ([\d.]+), and ([\d.]+) "
                                       r"with the town centre")
    assert round(cos(residual, centres["river"]), 2) == river
    assert round(cos(X[b], centres["river"]), 2) == before
    assert round(cos(residual, centres["town"]), 2) == town
    assert cos(residual, centres["river"]) > cos(residual, centres["town"])  # "clearly moved to the river side"


def test_soft_lookup_quotes_banks_weights(kv):
    text = markdown("04", "### Attention is a soft lookup", "## Step 1")
    tokens, _, w, _ = attend(embeddings.SENTENCE, kv)
    b = tokens.index("bank")
    shares = quoted(text, r"the answer is ([\d.]+) of \*river\*'s value, ([\d.]+) of\s+\*fish\*'s, ([\d.]+) of its own")
    assert shares == tuple(round(float(w[b, tokens.index(t)]), 2) for t in ("river", "fish", "bank"))
    assert np.all(w[b] > 0)  # "every key contributes"


# ---------------------------------------------------------------- word order


def attention_of(X):
    W_q, W_k, W_v = attention.demo_head()
    return attention.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)[0]


def test_scrambled_sentence_gives_bank_the_same_output(kv):
    text = markdown("04", "## Attention alone does not see word order", "## Exercises")
    scrambled = re.search(r'Scramble the sentence into \*"([^"]+)"\*', text).group(1)
    tokens, _, _, out = attend(embeddings.SENTENCE, kv)
    tokens_s, X_s = embeddings.sentence_matrix(scrambled, kv)
    assert sorted(tokens_s) == sorted(tokens) and tokens_s != tokens
    out_s = attention_of(X_s)
    np.testing.assert_allclose(out_s[tokens_s.index("bank")], out[tokens.index("bank")], atol=1e-12)
    assert "Lesson 06 adds positions." in text


@pytest.mark.parametrize("seed", range(5))
def test_attention_alone_is_permutation_equivariant(kv, seed):
    """Property: permuting the words permutes every output the same way (any sentence, any order)."""
    rng = np.random.default_rng(seed)
    words = list(kv.index_to_key)
    X = np.stack([kv[w] for w in rng.choice(words, size=rng.integers(2, 12), replace=False)])
    perm = rng.permutation(len(X))
    np.testing.assert_allclose(attention_of(X[perm]), attention_of(X)[perm], atol=1e-12)


# ------------------------------------------------------------------ figures


def test_static_figures_fit_the_column():
    """Every static figure of 04 at most 7.0 in wide at the series' 100 dpi (700 px)."""
    import base64
    import struct

    from notebook_text import load, source

    widths = {}
    for k, cell in enumerate(load("04")["cells"]):
        if "pipeline_diagram" in source(cell):
            continue  # the series' pipeline diagram, drawn by plots.pipeline_diagram for every notebook
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png and "application/vnd.jupyter.widget-view+json" not in out["data"]:
                widths[k] = struct.unpack(">I", base64.b64decode(png)[16:20])[0]
    assert len(widths) >= 4 and max(widths.values()) <= 700, widths
