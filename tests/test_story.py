"""The claims the series makes in prose, asserted from the computed numbers.

Single head (notebooks 02-04), with demo_head() and the toy vectors:
  out, w = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
1. In SENTENCE, bank's two largest weights go to river and fish.
2. In SENTENCE, attention moves bank toward the river cluster and away from the town one.
3. In CONTRAST_SENTENCE, it moves bank toward the town cluster instead.
Two heads (notebook 05), with demo_heads():
4. Head 0 ("meaning") sends bank to a river word in SENTENCE, to money/deposit in the contrast.
5. Head 1 ("who does what") sends going to tom.
6. W_v @ W_o = I: both heads' values together map back to the embedding space.
"""

import numpy as np
import pytest

from helpers.attention import (
    demo_head,
    demo_heads,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    split_heads,
)
from helpers.embeddings import (
    CONTRAST_SENTENCE,
    RIVER_CLUSTER,
    SENTENCE,
    TOWN_CLUSTER,
    cosine_similarity,
    sentence_matrix,
    toy_vectors,
)


@pytest.fixture(scope="module")
def kv():
    return toy_vectors()


@pytest.fixture(scope="module")
def centroids(kv):
    river = np.mean([kv[w] for w in RIVER_CLUSTER], axis=0)
    town = np.mean([kv[w] for w in TOWN_CLUSTER], axis=0)
    return river, town


def single_head(text):
    tokens, X = sentence_matrix(text)
    W_q, W_k, W_v = demo_head()
    out, w = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
    return tokens, X, out, w


def two_heads(text):
    tokens, X = sentence_matrix(text)
    W_q, W_k, W_v, W_o, num_heads = demo_heads()
    out, w = multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads)
    return tokens, X, out, w


def top_words(tokens, row, k):
    return [tokens[j] for j in np.argsort(row)[::-1][:k]]


# ------------------------------------------------------------- one head


def test_demo_head_shapes():
    mats = demo_head()
    assert len(mats) == 3
    for W in mats:
        assert W.shape == (6, 6) and W.dtype == np.float64


def test_sentence_bank_attends_most_to_river_and_fish():
    tokens, _, _, w = single_head(SENTENCE)
    bank_row = w[tokens.index("bank")]
    np.testing.assert_allclose(bank_row.sum(), 1.0)
    assert set(top_words(tokens, bank_row, 2)) == {"river", "fish"}
    # and each of them gets more than any other word, including bank itself
    others = [bank_row[j] for j, t in enumerate(tokens) if t not in ("river", "fish")]
    assert min(bank_row[tokens.index("river")], bank_row[tokens.index("fish")]) > max(others)


def test_sentence_bank_output_moves_toward_river_cluster(centroids):
    river, town = centroids
    tokens, X, out, _ = single_head(SENTENCE)
    b = tokens.index("bank")
    before = cosine_similarity(X[b], river)
    after = cosine_similarity(out[b], river)
    assert after > before
    assert after > cosine_similarity(out[b], town)
    # the raw bank is nearer the town centroid; attention reverses that
    assert cosine_similarity(X[b], town) > before


def test_contrast_bank_output_moves_toward_town_cluster(centroids):
    river, town = centroids
    tokens, X, out, _ = single_head(CONTRAST_SENTENCE)
    b = tokens.index("bank")
    before = cosine_similarity(X[b], town)
    after = cosine_similarity(out[b], town)
    assert after > before
    assert after > cosine_similarity(out[b], river)
    # in this sentence bank also moves away from the river cluster
    assert cosine_similarity(out[b], river) < cosine_similarity(X[b], river)


def test_same_word_two_sentences_two_outputs(centroids):
    # The raw bank vector is identical in both sentences; its output is not.
    t1, X1, out1, _ = single_head(SENTENCE)
    t2, X2, out2, _ = single_head(CONTRAST_SENTENCE)
    np.testing.assert_array_equal(X1[t1.index("bank")], X2[t2.index("bank")])
    assert cosine_similarity(out1[t1.index("bank")], out2[t2.index("bank")]) < 0.5


# ------------------------------------------------------------ two heads


def test_demo_heads_shapes_and_num_heads():
    W_q, W_k, W_v, W_o, num_heads = demo_heads()
    assert num_heads == 2
    for W in (W_q, W_k, W_v, W_o):
        assert W.shape == (6, 6) and W.dtype == np.float64


def test_head0_bank_looks_at_a_river_word_in_sentence():
    tokens, _, _, w = two_heads(SENTENCE)
    assert w.shape == (2, 9, 9)
    bank_row = w[0, tokens.index("bank")]
    assert tokens[int(np.argmax(bank_row))] in RIVER_CLUSTER


def test_head0_bank_looks_at_money_or_deposit_in_contrast():
    tokens, _, _, w = two_heads(CONTRAST_SENTENCE)
    bank_row = w[0, tokens.index("bank")]
    assert tokens[int(np.argmax(bank_row))] in ("money", "deposit")


@pytest.mark.parametrize("text", [SENTENCE, CONTRAST_SENTENCE], ids=["sentence", "contrast"])
def test_head1_going_looks_at_tom(text):
    tokens, _, _, w = two_heads(text)
    going_row = w[1, tokens.index("going")]
    assert tokens[int(np.argmax(going_row))] == "tom"


def test_heads_look_at_different_things():
    tokens, _, _, w = two_heads(SENTENCE)
    g = tokens.index("going")
    # head 1 sends going to tom; head 0 (topic) does not
    assert tokens[int(np.argmax(w[0, g]))] != "tom"
    assert np.abs(w[0] - w[1]).max() > 0.3


def test_w_v_times_w_o_is_identity():
    _, _, W_v, W_o, _ = demo_heads()
    np.testing.assert_allclose(W_v @ W_o, np.eye(6), atol=1e-15)


def test_concatenated_full_values_map_back_to_embeddings():
    _, X = sentence_matrix(SENTENCE)
    _, _, W_v, W_o, num_heads = demo_heads()
    V_heads = split_heads(X @ W_v, num_heads)  # (2, n, 3): each head's share of the values
    np.testing.assert_allclose(merge_heads(V_heads) @ W_o, X, atol=1e-15)


def test_two_head_output_with_one_hot_weights_returns_the_word():
    # If every head looked only at the word itself, the output would be the word:
    # the value/concatenate/W_o path is lossless.
    _, X = sentence_matrix(SENTENCE)
    _, _, W_v, W_o, num_heads = demo_heads()
    out, w = multi_head_attention(X, 1e-9 * np.eye(6), np.eye(6), W_v, W_o, num_heads,
                                  mask=np.eye(len(X), dtype=bool))
    np.testing.assert_allclose(w, np.broadcast_to(np.eye(len(X)), w.shape))
    np.testing.assert_allclose(out, X, atol=1e-15)
