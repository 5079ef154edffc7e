"""helpers.training: softmax and attention gradients against finite differences and loops."""

import numpy as np
import pytest

from helpers.attention import causal_mask, scaled_dot_product_attention, softmax
from helpers.training import attention_backward, softmax_backward


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f at x, entry by entry."""
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_backward_matches_finite_differences(axis):
    rng = np.random.default_rng(0)
    s, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    expected = numeric_grad(lambda: float(np.sum(softmax(s, axis=axis) * g)), s)
    np.testing.assert_allclose(softmax_backward(softmax(s, axis=axis), g, axis=axis), expected, atol=1e-8)


def test_softmax_backward_equals_the_jacobian_times_g():
    rng = np.random.default_rng(1)
    w, g = softmax(rng.standard_normal(5)), rng.standard_normal(5)
    jacobian = np.diag(w) - np.outer(w, w)
    np.testing.assert_allclose(softmax_backward(w, g), jacobian @ g, rtol=1e-12)


@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_matches_finite_differences(masked):
    rng = np.random.default_rng(2)
    Q, K, V = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    G = rng.standard_normal((4, 2))
    mask = causal_mask(4) if masked else None

    def loss():
        return float(np.sum(scaled_dot_product_attention(Q, K, V, mask)[0] * G))

    dQ, dK, dV = attention_backward(Q, K, V, G, mask)
    for grad, x in ((dQ, Q), (dK, K), (dV, V)):
        np.testing.assert_allclose(grad, numeric_grad(loss, x), atol=1e-7)


def test_attention_backward_batched_equals_loop_and_sums_shared_keys():
    rng = np.random.default_rng(3)
    Q = rng.standard_normal((2, 3, 4, 3))
    K, V = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))  # shared by the whole batch
    G = rng.standard_normal((2, 3, 4, 2))
    dQ, dK, dV = attention_backward(Q, K, V, G)
    assert dQ.shape == Q.shape and dK.shape == K.shape and dV.shape == V.shape
    parts = [attention_backward(Q[a, b], K, V, G[a, b]) for a in range(2) for b in range(3)]
    np.testing.assert_allclose(dQ.reshape(6, 4, 3), np.stack([p[0] for p in parts]), rtol=1e-12)
    np.testing.assert_allclose(dK, sum(p[1] for p in parts), rtol=1e-12)
    np.testing.assert_allclose(dV, sum(p[2] for p in parts), rtol=1e-12)


def test_masked_pairs_get_no_gradient():
    rng = np.random.default_rng(4)
    Q, K, V = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    G = np.zeros((3, 2))
    G[0] = 1.0  # only query 0's output matters; it may see key 0 alone
    _, dK, dV = attention_backward(Q, K, V, G, causal_mask(3))
    np.testing.assert_array_equal(dK[1:], 0)
    np.testing.assert_array_equal(dV[1:], 0)


@pytest.mark.parametrize("call, message", [
    (lambda: softmax_backward(np.ones((2, 3)), np.ones((3, 2))), "same shape"),
    (lambda: attention_backward(np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 4))),
     r"d_output must have the output's shape \(3, 2\)"),
])
def test_bad_input_gets_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------ learning a head (lesson 08)

from helpers import embeddings  # noqa: E402
from helpers.training import (  # noqa: E402
    SENSES, cross_entropy, cross_entropy_backward, gradient_step, head_backward, head_forward, init_head,
    make_batch, read_senses, sigmoid, train_head)

KV = embeddings.toy_vectors()


def small_batch():
    texts = ["Tom is going to fish at the river bank.", "Tom is going to deposit money at the bank.",
             "The bank is near the lake.", "A loan from the bank."]
    return make_batch(texts, ["river", "money", "river", "money"], KV)


def test_make_batch_pads_keeps_known_words_and_finds_bank():
    batch = small_batch()
    assert batch.tokens[3] == ["a", "loan", "the", "bank"]  # "from" is not in the toy table
    assert batch.X.shape == (4, 9, 6) and list(batch.lengths) == [9, 9, 6, 4]
    assert [toks[q] for toks, q in zip(batch.tokens, batch.query)] == ["bank"] * 4
    np.testing.assert_array_equal(batch.X[3, 4:], 0)
    np.testing.assert_array_equal(batch.X[0, 7], KV["river"])
    assert list(batch.y) == [1, 0, 1, 0] and SENSES[1] == "river"


def test_sigmoid_and_cross_entropy():
    z = np.array([-800.0, -2.0, 0.0, 3.0, 800.0])
    np.testing.assert_allclose(sigmoid(z), [0.0, 1 / (1 + np.exp(2)), 0.5, 1 / (1 + np.exp(-3)), 1.0])
    p, y = np.array([0.9, 0.2]), np.array([1.0, 0.0])
    assert cross_entropy(p, y) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)
    assert np.isfinite(cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])))


def test_cross_entropy_backward_is_p_minus_y_over_b():
    rng = np.random.default_rng(5)
    z, y = rng.standard_normal(6), (rng.random(6) > 0.5).astype(float)
    expected = numeric_grad(lambda: cross_entropy(sigmoid(z), y), z)
    np.testing.assert_allclose(cross_entropy_backward(sigmoid(z), y), expected, atol=1e-8)


def test_head_backward_matches_finite_differences_for_every_parameter():
    batch = small_batch()
    params = init_head(seed=3)
    params = {k: np.array(v, dtype=float) for k, v in params.items()}  # c as a 0-d array, so it can be nudged
    grads = head_backward(params, batch, head_forward(params, batch))
    for name in params:
        expected = numeric_grad(lambda: head_forward(params, batch)["loss"], params[name])
        np.testing.assert_allclose(grads[name], expected, atol=1e-7, err_msg=name)


def test_head_backward_of_a_batch_is_the_mean_of_single_sentences():
    batch = small_batch()
    params = init_head(seed=4)
    total = head_backward(params, batch, head_forward(params, batch))
    singles = []
    for b in range(4):
        one = make_batch([batch.texts[b]], [SENSES[int(batch.y[b])]], KV)
        singles.append(head_backward(params, one, head_forward(params, one)))
    for name in params:
        np.testing.assert_allclose(total[name], np.mean([s[name] for s in singles], axis=0), atol=1e-12)


def test_gradient_step_moves_against_the_gradient_and_keeps_the_old_weights():
    params = init_head(seed=1)
    grads = {k: np.ones_like(v) for k, v in params.items()}
    new = gradient_step(params, grads, 0.1)
    for k in params:
        np.testing.assert_allclose(new[k], params[k] - 0.1)
    assert new["W_q"] is not params["W_q"]
    np.testing.assert_array_equal(params["W_q"], init_head(seed=1)["W_q"])


def test_a_small_step_lowers_the_loss():
    batch = small_batch()
    params = init_head(seed=2)
    cache = head_forward(params, batch)
    after = gradient_step(params, head_backward(params, batch, cache), 0.05)
    assert head_forward(after, batch)["loss"] < cache["loss"]


def test_train_head_is_deterministic_and_its_loss_falls():
    rows = [r for r in read_senses() if r[1] == "train"]
    batch = make_batch([r[2] for r in rows], [r[0] for r in rows], KV)
    seen = []
    a = train_head(batch, steps=40, lr=1.0, every=10, on_checkpoint=seen.append)
    b = train_head(batch, steps=40, lr=1.0, every=10)
    assert [c.step for c in a] == [0, 10, 20, 30, 40] and seen == a
    assert [c.loss for c in a] == [c.loss for c in b]
    np.testing.assert_array_equal(a[-1].params["W_q"], b[-1].params["W_q"])
    assert all(x.loss > y.loss for x, y in zip(a, a[1:]))
    assert train_head(batch, steps=0)[0].loss == a[0].loss


def test_read_senses_every_fourth_is_held_out_and_each_has_bank_once():
    rows = read_senses()
    assert {r[0] for r in rows} == set(SENSES)
    assert [r[1] for r in rows] == ["held-out" if i % 4 == 3 else "train" for i in range(len(rows))]
    corpus = {tuple(sentence) for sentence in embeddings.read_corpus()}
    for _, _, text in rows:
        assert embeddings.tokenize(text).count("bank") == 1, text
        assert tuple(embeddings.tokenize(text)) in corpus, text  # a sentence of data/corpus.txt
