"""Behaviour of helpers.embeddings: the toy table, tokenizing, cosine similarity, 2-D maps."""

import math

import numpy as np
import pytest
from gensim.models import KeyedVectors

from helpers.embeddings import (
    CONTRAST_SENTENCE,
    DIMENSIONS,
    RIVER_CLUSTER,
    SENTENCE,
    TOWN_CLUSTER,
    Map2D,
    cosine_similarity,
    display_word,
    project_2d,
    sentence_matrix,
    tokenize,
    toy_vectors,
)


@pytest.fixture(scope="module")
def kv():
    return toy_vectors()


def centroid(kv, words):
    return np.mean([kv[w] for w in words], axis=0)


def py_cosine(a, b):
    a, b = list(map(float, a)), list(map(float, b))
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


# ------------------------------------------------------------ toy vectors


def test_toy_vectors_size_and_dtype(kv):
    assert isinstance(kv, KeyedVectors)
    assert len(kv) == 44
    assert kv.vector_size == 6 == len(DIMENSIONS)
    assert kv.vectors.shape == (44, 6)
    assert kv.vectors.dtype == np.float64
    assert len(set(kv.index_to_key)) == 44


def test_river_vector_is_exactly_the_articles(kv):
    np.testing.assert_array_equal(kv["river"], np.array([-0.9, 0.9, -0.2, 0.4, 0.2, 0.6]))


def test_toy_vectors_are_fresh_each_call(kv):
    other = toy_vectors()
    other.vectors[0] += 1.0  # a notebook changing its copy must not leak into others
    np.testing.assert_array_equal(toy_vectors()["river"], kv["river"])


@pytest.mark.parametrize("text", [SENTENCE, CONTRAST_SENTENCE], ids=["sentence", "contrast"])
def test_every_sentence_token_is_known(kv, text):
    for token in tokenize(text):
        assert token in kv.key_to_index, token


def test_clusters_and_contrast_words_are_in_the_table(kv):
    for word in (*RIVER_CLUSTER, *TOWN_CLUSTER, "bank", "money", "deposit"):
        assert word in kv.key_to_index, word


def test_bank_sits_between_the_clusters_in_cosine(kv):
    to_river = cosine_similarity(kv["bank"], centroid(kv, RIVER_CLUSTER))
    to_town = cosine_similarity(kv["bank"], centroid(kv, TOWN_CLUSTER))
    assert abs(to_river - to_town) < 0.1
    # and it is close to neither cluster the way the cluster words are to each other
    assert to_river < 0.8 and to_town < 0.8


def test_bank_sits_between_the_clusters_on_the_2d_map(kv):
    m = project_2d(kv)
    river_x = np.mean([m[w][0] for w in RIVER_CLUSTER])
    town_x = np.mean([m[w][0] for w in TOWN_CLUSTER])
    bank_x = m["bank"][0]
    assert min(river_x, town_x) < bank_x < max(river_x, town_x)


@pytest.mark.parametrize(
    "cluster, other",
    [(RIVER_CLUSTER, TOWN_CLUSTER), (TOWN_CLUSTER, RIVER_CLUSTER)],
    ids=["river-cluster", "town-cluster"],
)
def test_within_cluster_more_similar_than_across(kv, cluster, other):
    for word in cluster:
        within = [cosine_similarity(kv[word], kv[w]) for w in cluster if w != word]
        across = [cosine_similarity(kv[word], kv[w]) for w in other]
        assert min(within) > max(across), word


# -------------------------------------------------------------- tokenize


@pytest.mark.parametrize(
    "text, expected",
    [
        (SENTENCE, ["tom", "is", "going", "to", "fish", "at", "the", "river", "bank"]),
        (CONTRAST_SENTENCE, ["tom", "is", "going", "to", "deposit", "money", "at", "the", "bank"]),
        ("RIVER Bank", ["river", "bank"]),
        ("  river,bank!!  (fish)?  ", ["river", "bank", "fish"]),
        ("Post Office", ["post_office"]),
        ("the post   office near the river", ["the", "post_office", "near", "the", "river"]),
        ("post-office", ["post_office"]),
        ("post_office", ["post_office"]),
        ("post offices", ["post", "offices"]),
        ("office post", ["office", "post"]),
        ("don't", ["don't"]),
        ("'river' \"bank\"", ["river", "bank"]),
        ("Tom's boat", ["tom's", "boat"]),
        ("Tom\u2019s boat", ["tom's", "boat"]),
        ("我去银行", ["我去银行"]),
    ],
    ids=[
        "sentence",
        "contrast",
        "lowercase",
        "punctuation",
        "post-office-caps",
        "post-office-spaces",
        "post-office-hyphen",
        "post-office-underscore",
        "post-offices-not-joined",
        "office-post-not-joined",
        "apostrophe-kept",
        "quotes-dropped",
        "possessive",
        "curly-apostrophe",
        "chinese-one-run",
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


def test_display_word():
    assert display_word("post_office") == "post office"
    assert display_word("river") == "river"


# ------------------------------------------------------- sentence_matrix


@pytest.mark.parametrize("text", [SENTENCE, CONTRAST_SENTENCE], ids=["sentence", "contrast"])
def test_sentence_matrix_rows_are_the_vectors(kv, text):
    tokens, X = sentence_matrix(text)
    assert tokens == tokenize(text)
    assert X.shape == (len(tokens), 6) == (9, 6)
    assert X.dtype == np.float64
    for i, t in enumerate(tokens):
        np.testing.assert_array_equal(X[i], kv[t])


def test_sentence_matrix_repeated_words_and_multiword(kv):
    tokens, X = sentence_matrix("The river and the post office, the river.")
    assert tokens == ["the", "river", "and", "the", "post_office", "the", "river"]
    np.testing.assert_array_equal(X[1], X[6])
    np.testing.assert_array_equal(X[4], kv["post_office"])


def test_sentence_matrix_uses_given_vectors():
    small = KeyedVectors(vector_size=3)
    small.add_vectors(["a", "b"], np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32))
    tokens, X = sentence_matrix("b a b", vectors=small)
    assert tokens == ["b", "a", "b"]
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X, [[4, 5, 6], [1, 2, 3], [4, 5, 6]])


# ----------------------------------------------------- cosine_similarity


def test_cosine_1d_1d_matches_formula():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    c = cosine_similarity(a, b)
    assert isinstance(c, float)
    assert c == pytest.approx(py_cosine(a, b), rel=1e-12)


def test_cosine_known_values():
    v = np.array([1.0, 2.0, 3.0])
    assert cosine_similarity(v, 2.5 * v) == pytest.approx(1.0)
    assert cosine_similarity(v, -v) == pytest.approx(-1.0)
    assert cosine_similarity([1, 0], [0, 3]) == pytest.approx(0.0)
    assert cosine_similarity([1, 1], [1, 0]) == pytest.approx(1 / math.sqrt(2))


def test_cosine_2d_2d_matches_formula():
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    S = cosine_similarity(A, B)
    assert S.shape == (3, 4)
    expected = [[py_cosine(a, b) for b in B] for a in A]
    np.testing.assert_allclose(S, expected, rtol=1e-12)


def test_cosine_1d_with_2d_and_back():
    rng = np.random.default_rng(2)
    a, B = rng.standard_normal(5), rng.standard_normal((4, 5))
    row = cosine_similarity(a, B)
    col = cosine_similarity(B, a)
    assert row.shape == (4,) and col.shape == (4,)
    expected = [py_cosine(a, b) for b in B]
    np.testing.assert_allclose(row, expected, rtol=1e-12)
    np.testing.assert_allclose(col, expected, rtol=1e-12)


def test_cosine_is_scale_invariant_and_accepts_lists_and_float32():
    a = [1, 2, 2]
    b = np.array([2.0, 0.0, 1.0], dtype=np.float32)
    assert cosine_similarity(a, b) == pytest.approx(py_cosine(a, b), rel=1e-7)
    assert cosine_similarity([10, 20, 20], b) == pytest.approx(cosine_similarity(a, b))


# ------------------------------------------------------------ project_2d


def _sign_rule(axes):
    """Each axis signed so that its largest |loading| is positive."""
    axes = axes.copy()
    for row in axes:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return axes


def test_project_2d_coords_equal_map_of_fitted_vectors(kv):
    m = project_2d(kv)
    assert isinstance(m, Map2D)
    assert m.words == list(kv.index_to_key)
    X = np.stack([kv[w] for w in m.words])
    assert m.coords.shape == (44, 2)
    np.testing.assert_array_equal(m.coords, m(X))
    for i, w in enumerate(m.words):
        np.testing.assert_array_equal(m[w], m.coords[i])
    np.testing.assert_allclose(m(kv["river"]), m["river"], rtol=1e-14, atol=1e-15)


def test_project_2d_new_points_are_consistent(kv):
    m = project_2d(kv)
    X = kv.vectors
    np.testing.assert_allclose(m(X.mean(axis=0)), [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(m.coords.mean(axis=0), [0.0, 0.0], atol=1e-12)
    # the map is affine: the midpoint of two words lands at the midpoint of their dots
    mid = (kv["river"] + kv["hospital"]) / 2
    np.testing.assert_allclose(m(mid), (m["river"] + m["hospital"]) / 2, atol=1e-12)
    # batches of points keep their leading shape
    assert m(np.stack([X[:3], X[3:6]])).shape == (2, 3, 2)


def test_project_2d_axes_orthonormal_and_signed(kv):
    m = project_2d(kv)
    assert m.axes.shape == (2, 6)
    np.testing.assert_allclose(m.axes @ m.axes.T, np.eye(2), atol=1e-12)
    for row in m.axes:
        assert row[np.argmax(np.abs(row))] > 0


def test_project_2d_equals_independent_pca(kv):
    X = np.asarray(kv.vectors, dtype=np.float64)
    mean = X.mean(axis=0)
    evals, evecs = np.linalg.eigh(np.cov(X, rowvar=False))  # ascending eigenvalues
    axes = _sign_rule(evecs[:, ::-1][:, :2].T)
    m = project_2d(kv)
    np.testing.assert_allclose(m.axes, axes, atol=1e-10)
    np.testing.assert_allclose(m.coords, (X - mean) @ axes.T, atol=1e-10)
    # the first axis carries the most variance, and exactly the top eigenvalues
    var = m.coords.var(axis=0, ddof=1)
    np.testing.assert_allclose(var, evals[::-1][:2], rtol=1e-10)
    assert var[0] > var[1]


def test_project_2d_is_deterministic_and_translation_invariant(kv):
    X = kv.vectors
    words = list(kv.index_to_key)
    a, b = project_2d(X, words), project_2d(X.copy(), words)
    np.testing.assert_array_equal(a.coords, b.coords)
    shifted = project_2d(X + 5.0, words)
    np.testing.assert_allclose(shifted.coords, a.coords, atol=1e-12)
    # mirrored data: river is still put at negative x and y, so the picture does not change
    flipped = project_2d(-X, words)
    np.testing.assert_allclose(flipped.axes, -a.axes, atol=1e-12)
    np.testing.assert_allclose(flipped.coords, a.coords, atol=1e-12)
    # without river, the largest loading is positive: mirrored data gives mirrored coordinates
    unnamed = [str(i) for i in range(len(X))]
    plain, plain_flipped = project_2d(X, unnamed), project_2d(-X, unnamed)
    np.testing.assert_allclose(plain_flipped.axes, plain.axes, atol=1e-12)
    np.testing.assert_allclose(plain_flipped.coords, -plain.coords, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_project_2d_puts_river_at_negative_x_and_y_for_any_word_set(kv, seed):
    """One orientation for the series: whatever words a map is fitted to, river sits bottom-left."""
    rng = np.random.default_rng(seed)
    others = [w for w in kv.index_to_key if w != "river"]
    words = ["river"] + list(rng.choice(others, size=int(rng.integers(4, len(others))), replace=False))
    m = project_2d(kv, list(rng.permutation(words)))
    assert np.all(m["river"] < 0)
    np.testing.assert_allclose(m.axes @ m.axes.T, np.eye(2), atol=1e-12)  # still a PCA: only signs chosen


def test_project_2d_array_input_with_words():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 4))
    words = ["a", "b", "c", "d", "e"]
    m = project_2d(X, words)
    assert m.words == words
    np.testing.assert_array_equal(m["c"], m.coords[2])
    np.testing.assert_array_equal(m.coords, m(X))
    default = project_2d(X)
    assert default.words == ["0", "1", "2", "3", "4"]
    np.testing.assert_array_equal(default.coords, m.coords)


def test_project_2d_word_subset_equals_array_of_those_vectors(kv):
    words = list(RIVER_CLUSTER + TOWN_CLUSTER) + ["bank"]
    from_kv = project_2d(kv, words)
    from_array = project_2d(np.stack([kv[w] for w in words]), words)
    assert from_kv.words == words
    np.testing.assert_allclose(from_kv.coords, from_array.coords, atol=1e-12)


def test_top_words_orders_by_value_keeps_ties_in_order_and_can_drop_zeros():
    from helpers.embeddings import top_words
    tokens = ["Tom", "river", "fish", "post_office"]
    assert top_words(tokens, [0.1, 0.4, 0.4, 0.0], k=3) == "river 0.40, fish 0.40, Tom 0.10"
    assert top_words(tokens, [0.0, 0.5, 0.0, 0.0], k=3, positive_only=True) == "river 0.50"
    assert top_words(tokens, [0.0, 0.0, 0.0, 0.9], k=1) == "post office 0.90"
    with pytest.raises(ValueError, match="one value per token"):
        top_words(tokens, [0.1, 0.2])
