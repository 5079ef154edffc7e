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
