"""helpers.transformer: layer norm, feed-forward and the block, against explicit loops."""

import math

import numpy as np
import pytest

from helpers.attention import causal_mask, multi_head_attention
from helpers.transformer import feed_forward, gelu, layer_norm, transformer_block


def rand(rng, *shape):
    return rng.standard_normal(shape)


def layer_norm_by_hand(row, gain, bias, eps):
    mean = sum(row) / len(row)
    var = sum((v - mean) ** 2 for v in row) / len(row)
    return [(v - mean) / math.sqrt(var + eps) * g + b for v, g, b in zip(row, gain, bias)]


def test_layer_norm_matches_a_loop_with_population_variance():
    rng = np.random.default_rng(0)
    x, gain, bias = rand(rng, 4, 6), rand(rng, 6), rand(rng, 6)
    expected = [layer_norm_by_hand(r, gain, bias, 1e-5) for r in x.tolist()]
    np.testing.assert_allclose(layer_norm(x, gain, bias), expected, rtol=1e-12)


def test_layer_norm_rows_have_mean_0_and_variance_1():
    rng = np.random.default_rng(1)
    y = layer_norm(rand(rng, 3, 5, 16) * 50 + 7, eps=0.0)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1, rtol=1e-12)


def test_layer_norm_of_a_constant_row_is_zero_not_nan():
    np.testing.assert_array_equal(layer_norm(np.full((2, 4), 3.0)), 0)


def test_layer_norm_keeps_float32():
    assert layer_norm(np.ones((2, 4), np.float32) * np.arange(4, dtype=np.float32)).dtype == np.float32


def test_gelu_exact_values():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    expected = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    np.testing.assert_allclose(gelu(x), expected, rtol=1e-15)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_feed_forward_matches_a_loop(activation):
    rng = np.random.default_rng(2)
    x, W_1, b_1, W_2, b_2 = rand(rng, 3, 4), rand(rng, 4, 16), rand(rng, 16), rand(rng, 16, 4), rand(rng, 4)
    act = (lambda v: max(v, 0.0)) if activation == "relu" else \
        (lambda v: v * 0.5 * (1 + math.erf(v / math.sqrt(2))))
    expected = []
    for row in x:
        hidden = [act(sum(row[i] * W_1[i, j] for i in range(4)) + b_1[j]) for j in range(16)]
        expected.append([sum(hidden[j] * W_2[j, c] for j in range(16)) + b_2[c] for c in range(4)])
    np.testing.assert_allclose(feed_forward(x, W_1, b_1, W_2, b_2, activation), expected, rtol=1e-12)


def test_feed_forward_treats_every_word_alone():
    rng = np.random.default_rng(3)
    x, params = rand(rng, 5, 4), (rand(rng, 4, 8), rand(rng, 8), rand(rng, 8, 4), rand(rng, 4))
    whole = feed_forward(x, *params)
    for i in range(5):
        np.testing.assert_allclose(whole[i], feed_forward(x[i:i + 1], *params)[0], rtol=1e-12)


def block_params(rng, d=8, d_ff=32):
    attn = tuple(rand(rng, d, d) / math.sqrt(d) for _ in range(4))
    ffn = (rand(rng, d, d_ff) / math.sqrt(d), rand(rng, d_ff), rand(rng, d_ff, d) / math.sqrt(d_ff), rand(rng, d))
    ln = [(1 + 0.1 * rand(rng, d), 0.1 * rand(rng, d)) for _ in range(2)]
    return attn, ffn, ln


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_block_follows_the_pre_and_post_norm_formulas(norm_first, masked):
    rng = np.random.default_rng(4)
    X = rand(rng, 2, 5, 8)
    attn, ffn, (ln_1, ln_2) = block_params(rng)
    mask = causal_mask(5) if masked else None
    out, weights = transformer_block(X, attn, ffn, 2, ln_1, ln_2, mask=mask, norm_first=norm_first)

    def mha(x):
        return multi_head_attention(x, *attn, 2, mask)[0]

    if norm_first:
        x = X + mha(layer_norm(X, *ln_1))
        expected = x + feed_forward(layer_norm(x, *ln_2), *ffn)
    else:
        x = layer_norm(X + mha(X), *ln_1)
        expected = layer_norm(x + feed_forward(x, *ffn), *ln_2)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert weights.shape == (2, 2, 5, 5)
    if masked:
        assert (weights[..., ~causal_mask(5)] == 0).all()


def test_block_with_zero_weights_is_the_identity_in_pre_norm():
    X = np.random.default_rng(5).standard_normal((4, 6))
    zeros = tuple(np.zeros((6, 6)) for _ in range(4))
    ffn = (np.zeros((6, 12)), np.zeros(12), np.zeros((12, 6)), np.zeros(6))
    out, _ = transformer_block(X, zeros, ffn, 3)
    np.testing.assert_array_equal(out, X)  # both residual branches add 0


@pytest.mark.parametrize("call, error, message", [
    (lambda: layer_norm(np.ones((2, 4)), gain=np.ones(3)), ValueError, r"gain must have shape \(4,\)"),
    (lambda: feed_forward(np.ones((2, 4)), np.ones((3, 8)), np.ones(8), np.ones((8, 4)), np.ones(4)),
     ValueError, r"W_1 must have shape \(4, ...\)"),
    (lambda: feed_forward(np.ones((2, 4)), np.ones((4, 8)), np.ones(8), np.ones((8, 4)), np.ones(4), "tanh"),
     ValueError, "activation must be one of"),
    (lambda: transformer_block(np.ones((2, 4)), (np.eye(4),) * 3, (np.ones((4, 8)), np.ones(8), np.ones((8, 4)), np.ones(4)), 2),
     TypeError, r"attention_weights must be a tuple \(W_q, W_k, W_v, W_o\)"),
    (lambda: transformer_block(np.ones((2, 4)), (np.eye(4),) * 4, (np.ones((4, 8)), np.ones(8), np.ones((8, 4)), np.ones(4)), 2,
                               ln_1=np.ones(4)), TypeError, r"ln_1 must be a pair \(gain, bias\)"),
])
def test_bad_input_gets_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------ residual=False and cross-attention (notebook 07)


def test_without_residuals_the_block_is_its_sublayers_one_after_the_other():
    rng = np.random.default_rng(11)
    X = rand(rng, 5, 6)
    att = tuple(rand(rng, 6, 6) * 0.4 for _ in range(4))
    ffn = (rand(rng, 6, 24) * 0.4, rand(rng, 24) * 0.1, rand(rng, 24, 6) * 0.2, rand(rng, 6) * 0.1)
    pre, _ = transformer_block(X, att, ffn, 2, residual=False)
    a, _ = multi_head_attention(layer_norm(X), *att, 2)
    np.testing.assert_allclose(pre, feed_forward(layer_norm(a), *ffn), rtol=1e-12)
    post, _ = transformer_block(X, att, ffn, 2, norm_first=False, residual=False)
    a, _ = multi_head_attention(X, *att, 2)
    x = layer_norm(a)
    np.testing.assert_allclose(post, layer_norm(feed_forward(x, *ffn)), rtol=1e-12)
    with_res, _ = transformer_block(X, att, ffn, 2)
    assert not np.allclose(with_res, pre)


def cross_by_hand(X, M, W_q, W_k, W_v, W_o, h, mask=None):
    """Every head, every query word, every key word, one at a time."""
    d = X.shape[1]
    d_k = d // h
    concat = np.zeros((len(X), d))
    weights = np.zeros((h, len(X), len(M)))
    for head in range(h):
        cols = slice(head * d_k, (head + 1) * d_k)
        for i in range(len(X)):
            q = (X[i] @ W_q)[cols]
            scores = []
            for j in range(len(M)):
                k = (M[j] @ W_k)[cols]
                ok = True if mask is None else mask[i, j]
                scores.append(sum(q[c] * k[c] for c in range(d_k)) / math.sqrt(d_k) if ok else -math.inf)
            top = max(scores)
            e = [math.exp(s - top) for s in scores]
            for j in range(len(M)):
                weights[head, i, j] = e[j] / sum(e)
                concat[i, cols] += weights[head, i, j] * (M[j] @ W_v)[cols]
    return concat @ W_o, weights


@pytest.mark.parametrize("heads", [1, 2, 3])
def test_cross_attention_matches_a_loop(heads):
    from helpers.transformer import cross_attention

    rng = np.random.default_rng(12)
    X, M = rand(rng, 4, 6), rand(rng, 7, 6)
    W = [rand(rng, 6, 6) for _ in range(4)]
    out, weights = cross_attention(X, M, *W, heads)
    want_out, want_w = cross_by_hand(X, M, *W, heads)
    assert out.shape == (4, 6) and weights.shape == (heads, 4, 7)
    np.testing.assert_allclose(out, want_out, rtol=1e-10)
    np.testing.assert_allclose(weights, want_w, rtol=1e-10)
    mask = rng.random((4, 7)) < 0.6
    mask[:, 0] = True
    out, weights = cross_attention(X, M, *W, heads, mask=mask)
    want_out, want_w = cross_by_hand(X, M, *W, heads, mask)
    np.testing.assert_allclose(out, want_out, rtol=1e-10)
    np.testing.assert_allclose(weights, want_w, rtol=1e-10, atol=1e-15)


def test_cross_attention_of_a_sentence_with_itself_is_self_attention():
    from helpers.transformer import cross_attention

    rng = np.random.default_rng(13)
    X = rand(rng, 5, 6)
    W = [rand(rng, 6, 6) for _ in range(4)]
    for a, b in zip(cross_attention(X, X, *W, 2), multi_head_attention(X, *W, 2)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_cross_attention_shape_errors_are_clear():
    from helpers.transformer import cross_attention

    W = [np.eye(6)] * 4
    with pytest.raises(ValueError, match=r"memory must have d_model = 6"):
        cross_attention(np.ones((2, 6)), np.ones((3, 4)), *W, 2)
    with pytest.raises(ValueError, match=r"W_k must have shape \(6, 6\)"):
        cross_attention(np.ones((2, 6)), np.ones((3, 6)), W[0], np.eye(4), W[2], W[3], 2)
    with pytest.raises(ValueError, match="divisible"):
        cross_attention(np.ones((2, 6)), np.ones((3, 6)), *W, 4)
