"""Behaviour of helpers.attention, checked against independent computations.

The references here are written separately from the helpers: softmax in plain
Python `math` on lists, attention as an explicit triple loop, multi-head
attention as a loop over heads. A test passes only if the helper computes the
same numbers, not merely if it runs.
"""

import math

import numpy as np
import pytest

from helpers.attention import (
    causal_mask,
    merge_heads,
    multi_head_attention,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
    split_heads,
)

NEG_INF = -math.inf


# ---------------------------------------------------------------- references


def py_softmax(row, temperature=1.0):
    """Softmax of a list in plain Python: -inf gets 0, an all -inf list gets zeros."""
    finite = [v for v in row if v != NEG_INF]
    if not finite:
        return [0.0] * len(row)
    m = max(finite)
    exps = [0.0 if v == NEG_INF else math.exp((v - m) / temperature) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def loop_attention(Q, K, V, mask=None, temperature=1.0):
    """Scaled dot-product attention with explicit Python loops over lists."""
    Q, K, V = np.asarray(Q).tolist(), np.asarray(K).tolist(), np.asarray(V).tolist()
    n_q, d_k, n_k, d_v = len(Q), len(Q[0]), len(K), len(V[0])
    weights, out = [], []
    for i in range(n_q):
        scores = []
        for j in range(n_k):
            s = 0.0
            for t in range(d_k):
                s += Q[i][t] * K[j][t]
            s = s / math.sqrt(d_k)
            if mask is not None and not mask[i][j]:
                s = NEG_INF
            scores.append(s)
        w = py_softmax(scores, temperature)
        weights.append(w)
        out.append([sum(w[j] * V[j][c] for j in range(n_k)) for c in range(d_v)])
    return np.array(out), np.array(weights)


def loop_multi_head(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    """Multi-head attention as a loop over heads: slice columns, attend, concatenate, @ W_o."""
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    d_k = X.shape[-1] // num_heads
    outs, weights = [], []
    for h in range(num_heads):
        cols = slice(h * d_k, (h + 1) * d_k)
        o, w = scaled_dot_product_attention(Q[..., cols], K[..., cols], V[..., cols], mask)
        outs.append(o)
        weights.append(w)
    return np.concatenate(outs, axis=-1) @ W_o, np.stack(weights, axis=-3)


def rand(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------ softmax


def test_softmax_known_values():
    # exp(0) : exp(ln 2) : exp(ln 3) = 1 : 2 : 3
    w = softmax([0.0, math.log(2), math.log(3)])
    np.testing.assert_allclose(w, [1 / 6, 2 / 6, 3 / 6], rtol=1e-14)


def test_softmax_equal_scores_are_uniform():
    np.testing.assert_allclose(softmax([5.0, 5.0, 5.0, 5.0]), [0.25] * 4, rtol=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_softmax_matches_python_math(seed):
    rng = np.random.default_rng(seed)
    x = rand(rng, 4, 7) * 3
    expected = [py_softmax(row) for row in x.tolist()]
    np.testing.assert_allclose(softmax(x), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
def test_softmax_any_axis_sums_to_one_and_matches_reference(axis):
    rng = np.random.default_rng(1)
    x = rand(rng, 3, 4, 5)
    w = softmax(x, axis=axis)
    assert w.shape == x.shape
    np.testing.assert_allclose(w.sum(axis=axis), 1.0, rtol=1e-12)
    # Reference: move `axis` last, apply py_softmax to every 1-D slice, move back.
    moved = np.moveaxis(x, axis, -1)
    ref = np.array([py_softmax(r) for r in moved.reshape(-1, moved.shape[-1]).tolist()])
    ref = np.moveaxis(ref.reshape(moved.shape), -1, axis)
    np.testing.assert_allclose(w, ref, rtol=1e-12)


def test_softmax_rows_sum_to_one_and_are_positive():
    rng = np.random.default_rng(2)
    w = softmax(rand(rng, 6, 9) * 10)
    assert (w > 0).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)


def test_softmax_shift_invariant():
    rng = np.random.default_rng(3)
    x = rand(rng, 3, 5)
    np.testing.assert_allclose(softmax(x + 123.0), softmax(x), rtol=1e-10)


def test_softmax_keeps_order():
    x = np.array([0.3, -1.0, 2.0, 0.5])
    w = softmax(x)
    assert list(np.argsort(w)) == list(np.argsort(x))


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_softmax_temperature_matches_reference(temperature):
    x = [1.0, 2.0, 0.5, -1.0]
    np.testing.assert_allclose(
        softmax(x, temperature=temperature), py_softmax(x, temperature), rtol=1e-12
    )


def test_higher_temperature_is_flatter():
    x = np.array([1.0, 2.0, 3.0, 0.0])
    temps = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    ws = [softmax(x, temperature=t) for t in temps]
    max_weights = [w.max() for w in ws]
    entropies = [-(w * np.log(w)).sum() for w in ws]
    assert all(a > b for a, b in zip(max_weights, max_weights[1:]))
    assert all(a < b for a, b in zip(entropies, entropies[1:]))
    # very high temperature: nearly uniform
    np.testing.assert_allclose(softmax(x, temperature=1e6), 0.25, atol=1e-6)


def test_small_temperature_approaches_one_hot():
    x = np.array([1.0, 3.0, 2.0])
    w = softmax(x, temperature=0.01)
    np.testing.assert_allclose(w, [0.0, 1.0, 0.0], atol=1e-40)
    # with a tie for the largest score the weight is shared equally
    np.testing.assert_allclose(softmax([3.0, 1.0, 3.0], temperature=1e-3), [0.5, 0.0, 0.5], atol=1e-300)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    "temperature, expected",
    [(1e-50, [0.0, 0.0, 1.0, 0.0]), (1e-320, [0.0, 0.0, 1.0, 0.0]), (1e300, [1 / 3, 1 / 3, 1 / 3, 0.0])],
    ids=["T=1e-50", "T=1e-320", "T=1e300"],
)
def test_extreme_temperature_gives_the_limit_not_nan(dtype, temperature, expected):
    # Regression: float32 x with T=1e-50 used to round T to 0 and return NaN.
    w = softmax(np.array([1.0, 2.0, 3.0, -np.inf], dtype), temperature=temperature)
    assert w.dtype == dtype
    assert np.isfinite(w).all()
    np.testing.assert_allclose(w.astype(np.float64), expected, rtol=2e-3)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_stable_for_huge_scores(dtype):
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4 + 1.0, -1e4, -1e4]], dtype=dtype)
    w = softmax(x)
    assert w.dtype == dtype
    assert np.isfinite(w).all()
    e = math.e
    expected = [
        [1 / (1 + 1 / e), 0.0, 0.0, (1 / e) / (1 + 1 / e)],
        [1 / (e + 3), e / (e + 3), 1 / (e + 3), 1 / (e + 3)],
    ]
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(w, expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=tol)


def test_neg_inf_entries_get_exactly_zero_weight():
    w = softmax([1.0, -np.inf, 2.0, -np.inf])
    assert w[1] == 0.0 and w[3] == 0.0
    np.testing.assert_allclose(w[[0, 2]], py_softmax([1.0, 2.0]), rtol=1e-14)


@pytest.mark.filterwarnings("error")
def test_all_neg_inf_row_gives_zeros_not_nan():
    w = softmax([[-np.inf, -np.inf, -np.inf], [0.0, 0.0, -np.inf]])
    assert not np.isnan(w).any()
    np.testing.assert_array_equal(w[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(w[1], [0.5, 0.5, 0.0])


def test_softmax_does_not_modify_input():
    x = np.array([1.0, 2.0, 3.0])
    softmax(x, temperature=0.5)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


# --------------------------------------------------------- dtype handling

DTYPES = [
    pytest.param(np.float32, np.float32, id="float32->float32"),
    pytest.param(np.float64, np.float64, id="float64->float64"),
    pytest.param(np.int64, np.float64, id="int64->float64"),
    pytest.param(np.int32, np.float64, id="int32->float64"),
]


def _ints_or_floats(rng, shape, dtype):
    return rng.integers(-3, 4, size=shape).astype(dtype)


@pytest.mark.parametrize("dtype_in, dtype_out", DTYPES)
def test_softmax_dtype(dtype_in, dtype_out):
    x = _ints_or_floats(np.random.default_rng(0), (3, 4), dtype_in)
    assert softmax(x).dtype == dtype_out


@pytest.mark.parametrize("dtype_in, dtype_out", DTYPES)
def test_attention_dtype(dtype_in, dtype_out):
    rng = np.random.default_rng(0)
    Q, K, V = (_ints_or_floats(rng, (2, 4, 3), dtype_in) for _ in range(3))
    out, w = scaled_dot_product_attention(Q, K, V, mask=causal_mask(4))
    assert out.dtype == dtype_out and w.dtype == dtype_out


@pytest.mark.parametrize("dtype_in, dtype_out", DTYPES)
def test_split_and_merge_heads_dtype(dtype_in, dtype_out):
    X = _ints_or_floats(np.random.default_rng(0), (2, 4, 6), dtype_in)
    H = split_heads(X, 3)
    assert H.dtype == dtype_out
    assert merge_heads(H).dtype == dtype_out
    assert merge_heads(_ints_or_floats(np.random.default_rng(1), (3, 4, 2), dtype_in)).dtype == dtype_out


@pytest.mark.parametrize("dtype_in, dtype_out", DTYPES)
def test_multi_head_dtype(dtype_in, dtype_out):
    rng = np.random.default_rng(0)
    X = _ints_or_floats(rng, (2, 4, 6), dtype_in)
    Ws = [_ints_or_floats(rng, (6, 6), dtype_in) for _ in range(4)]
    out, w = multi_head_attention(X, *Ws, num_heads=2, mask=causal_mask(4))
    assert out.dtype == dtype_out and w.dtype == dtype_out


def test_float32_attention_is_close_to_float64():
    rng = np.random.default_rng(4)
    Q, K, V = rand(rng, 5, 4), rand(rng, 5, 4), rand(rng, 5, 3)
    out64, w64 = scaled_dot_product_attention(Q, K, V)
    out32, w32 = scaled_dot_product_attention(*(a.astype(np.float32) for a in (Q, K, V)))
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w32, w64, rtol=1e-5, atol=1e-6)


# ------------------------------------------------ scaled dot-product attention


@pytest.mark.parametrize(
    "n_q, n_k, d_k, d_v",
    [(3, 3, 4, 4), (2, 5, 3, 7), (5, 2, 6, 1), (1, 1, 1, 1), (4, 6, 8, 2)],
    ids=lambda v: str(v),
)
def test_attention_matches_triple_loop(n_q, n_k, d_k, d_v):
    rng = np.random.default_rng(n_q * 100 + n_k * 10 + d_k)
    Q, K, V = rand(rng, n_q, d_k), rand(rng, n_k, d_k), rand(rng, n_k, d_v)
    out, w = scaled_dot_product_attention(Q, K, V)
    ref_out, ref_w = loop_attention(Q, K, V)
    assert out.shape == (n_q, d_v) and w.shape == (n_q, n_k)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("temperature", [0.25, 1.0, 3.0])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_temperature_matches_loop(temperature, masked):
    rng = np.random.default_rng(7)
    Q, K, V = rand(rng, 4, 3), rand(rng, 5, 3), rand(rng, 5, 2)
    mask = rng.random((4, 5)) < 0.6 if masked else None
    out, w = scaled_dot_product_attention(Q, K, V, mask, temperature=temperature)
    ref_out, ref_w = loop_attention(Q, K, V, mask, temperature)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)


def test_attention_temperature_equals_softmax_of_scores_over_t():
    rng = np.random.default_rng(8)
    Q, K, V = rand(rng, 3, 4), rand(rng, 6, 4), rand(rng, 6, 4)
    scores = Q @ K.T / 2.0  # sqrt(d_k) = 2
    _, w = scaled_dot_product_attention(Q, K, V, temperature=0.5)
    np.testing.assert_allclose(w, softmax(scores, temperature=0.5), rtol=1e-13)


@pytest.mark.parametrize("temperature", [0, -1.0, float("nan"), float("inf"), "hot", True])
def test_attention_rejects_bad_temperature(temperature):
    Q = np.ones((2, 3))
    with pytest.raises((TypeError, ValueError), match="temperature"):
        scaled_dot_product_attention(Q, Q, Q, temperature=temperature)


def test_attention_scales_by_sqrt_dk():
    # Two keys: scores q.k are 4 and 0 with d_k = 4, so the scaled scores are 2 and 0.
    Q = np.array([[1.0, 1.0, 1.0, 1.0]])
    K = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    V = np.array([[1.0], [0.0]])
    out, w = scaled_dot_product_attention(Q, K, V)
    e2 = math.exp(2)
    np.testing.assert_allclose(w, [[e2 / (e2 + 1), 1 / (e2 + 1)]], rtol=1e-14)
    np.testing.assert_allclose(out, [[e2 / (e2 + 1)]], rtol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_attention_with_random_mask_matches_loop(seed):
    rng = np.random.default_rng(seed)
    Q, K, V = rand(rng, 4, 3), rand(rng, 6, 3), rand(rng, 6, 2)
    mask = rng.random((4, 6)) < 0.6
    mask[:, 0] = True  # every query may attend to something
    out, w = scaled_dot_product_attention(Q, K, V, mask=mask)
    ref_out, ref_w = loop_attention(Q, K, V, mask.tolist())
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    assert (w[~mask] == 0.0).all()


def test_leading_batch_dims_equal_loop_over_batch():
    rng = np.random.default_rng(5)
    Q, K, V = rand(rng, 2, 3, 4, 5), rand(rng, 2, 3, 6, 5), rand(rng, 2, 3, 6, 3)
    out, w = scaled_dot_product_attention(Q, K, V)
    assert out.shape == (2, 3, 4, 3) and w.shape == (2, 3, 4, 6)
    for a in range(2):
        for b in range(3):
            ref_out, ref_w = loop_attention(Q[a, b], K[a, b], V[a, b])
            np.testing.assert_allclose(out[a, b], ref_out, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(w[a, b], ref_w, rtol=1e-12, atol=1e-15)


def test_batch_dims_broadcast_shared_keys():
    rng = np.random.default_rng(6)
    Q, K, V = rand(rng, 3, 4, 5), rand(rng, 6, 5), rand(rng, 6, 2)  # K, V shared by the batch
    out, w = scaled_dot_product_attention(Q, K, V)
    assert out.shape == (3, 4, 2)
    for b in range(3):
        ref_out, ref_w = loop_attention(Q[b], K, V)
        np.testing.assert_allclose(out[b], ref_out, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(w[b], ref_w, rtol=1e-12, atol=1e-15)


def test_permuting_tokens_permutes_outputs():
    rng = np.random.default_rng(7)
    X = rand(rng, 6, 4)
    W_q, W_k, W_v = rand(rng, 4, 4), rand(rng, 4, 4), rand(rng, 4, 4)
    perm = np.array([3, 0, 5, 1, 4, 2])
    out, w = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
    Xp = X[perm]
    out_p, w_p = scaled_dot_product_attention(Xp @ W_q, Xp @ W_k, Xp @ W_v)
    np.testing.assert_allclose(out_p, out[perm], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w_p, w[perm][:, perm], rtol=1e-12, atol=1e-15)


def test_multi_head_permutation_equivariant():
    rng = np.random.default_rng(8)
    X = rand(rng, 5, 6)
    Ws = [rand(rng, 6, 6) for _ in range(4)]
    perm = np.array([4, 2, 0, 3, 1])
    out, w = multi_head_attention(X, *Ws, num_heads=3)
    out_p, w_p = multi_head_attention(X[perm], *Ws, num_heads=3)
    np.testing.assert_allclose(out_p, out[perm], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w_p, w[:, perm][:, :, perm], rtol=1e-12, atol=1e-15)


# -------------------------------------------------------------------- masks


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_causal_mask_values(n):
    m = causal_mask(n)
    assert m.shape == (n, n) and m.dtype == bool
    for i in range(n):
        for j in range(n):
            assert m[i, j] == (j <= i)


def test_causal_mask_accepts_numpy_int():
    np.testing.assert_array_equal(causal_mask(np.int64(3)), causal_mask(3))


def test_causal_attention_masked_weights_exactly_zero_rows_sum_to_one():
    rng = np.random.default_rng(9)
    n = 5
    Q, K, V = rand(rng, n, 4), rand(rng, n, 4), rand(rng, n, 3)
    out, w = scaled_dot_product_attention(Q, K, V, mask=causal_mask(n))
    upper = np.triu(np.ones((n, n), bool), k=1)
    assert (w[upper] == 0.0).all()
    assert (w[~upper] > 0).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    assert w[0, 0] == 1.0  # the first word can only look at itself
    np.testing.assert_array_equal(out[0], V[0])


def test_causal_output_ignores_future_values():
    rng = np.random.default_rng(10)
    n = 5
    Q, K, V = rand(rng, n, 4), rand(rng, n, 4), rand(rng, n, 3)
    out, _ = scaled_dot_product_attention(Q, K, V, mask=causal_mask(n))
    K2, V2 = K.copy(), V.copy()
    K2[3:] += 100.0
    V2[3:] -= 50.0
    out2, _ = scaled_dot_product_attention(Q, K2, V2, mask=causal_mask(n))
    np.testing.assert_array_equal(out2[:3], out[:3])
    assert not np.allclose(out2[3:], out[3:])


@pytest.mark.filterwarnings("error")
def test_fully_masked_query_gets_zero_weights_and_zero_output():
    rng = np.random.default_rng(11)
    Q, K, V = rand(rng, 3, 4), rand(rng, 4, 4), rand(rng, 4, 2)
    mask = np.array(
        [[True, False, True, True], [False, False, False, False], [True, True, True, False]]
    )
    out, w = scaled_dot_product_attention(Q, K, V, mask=mask)
    assert not np.isnan(out).any() and not np.isnan(w).any()
    np.testing.assert_array_equal(w[1], np.zeros(4))
    np.testing.assert_array_equal(out[1], np.zeros(2))
    np.testing.assert_allclose(w[[0, 2]].sum(axis=-1), 1.0, rtol=1e-12)
    ref_out, ref_w = loop_attention(Q, K, V, mask.tolist())
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)


def test_mask_accepts_python_bool_lists():
    rng = np.random.default_rng(12)
    Q, K, V = rand(rng, 2, 3), rand(rng, 2, 3), rand(rng, 2, 3)
    _, w = scaled_dot_product_attention(Q, K, V, mask=[[True, False], [True, True]])
    assert w[0, 1] == 0.0 and w[0, 0] == 1.0


def test_padding_mask_shape_and_values():
    m = padding_mask([2, 4, 1], 4)
    assert m.shape == (3, 1, 4) and m.dtype == bool
    np.testing.assert_array_equal(
        m[:, 0, :],
        [[True, True, False, False], [True, True, True, True], [True, False, False, False]],
    )


def test_padding_mask_in_batched_attention_equals_unpadded_sentences():
    rng = np.random.default_rng(13)
    lengths, n, d = [3, 5, 1], 5, 4
    Q, K, V = rand(rng, 3, n, d), rand(rng, 3, n, d), rand(rng, 3, n, 2)
    out, w = scaled_dot_product_attention(Q, K, V, mask=padding_mask(lengths, n))
    assert out.shape == (3, n, 2) and w.shape == (3, n, n)
    for b, L in enumerate(lengths):
        assert (w[b, :, L:] == 0.0).all()  # nobody looks at padding
        np.testing.assert_allclose(w[b].sum(axis=-1), 1.0, rtol=1e-12)
        ref_out, ref_w = loop_attention(Q[b, :L], K[b, :L], V[b, :L])
        np.testing.assert_allclose(w[b, :L, :L], ref_w, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out[b, :L], ref_out, rtol=1e-12, atol=1e-14)


def test_padding_and_causal_masks_combine():
    rng = np.random.default_rng(14)
    n = 4
    X = rand(rng, 2, n, 3)
    mask = padding_mask([2, 4], n) & causal_mask(n)  # (2, n, n)
    out, w = scaled_dot_product_attention(X, X, X, mask=mask)
    for b in range(2):
        ref_out, ref_w = loop_attention(X[b], X[b], X[b], mask[b].tolist())
        np.testing.assert_allclose(w[b], ref_w, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out[b], ref_out, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------- heads


@pytest.mark.parametrize("num_heads", [1, 2, 3, 6])
def test_split_merge_round_trip_and_head_columns(num_heads):
    rng = np.random.default_rng(15)
    X = rand(rng, 2, 3, 5, 6)
    d_k = 6 // num_heads
    H = split_heads(X, num_heads)
    assert H.shape == (2, 3, num_heads, 5, d_k)
    for h in range(num_heads):
        np.testing.assert_array_equal(H[..., h, :, :], X[..., h * d_k : (h + 1) * d_k])
    np.testing.assert_array_equal(merge_heads(H), X)


def test_split_heads_small_example_by_hand():
    X = np.arange(12).reshape(2, 6)  # 2 tokens, d_model 6
    H = split_heads(X, 3)
    np.testing.assert_array_equal(H[0], [[0, 1], [6, 7]])
    np.testing.assert_array_equal(H[1], [[2, 3], [8, 9]])
    np.testing.assert_array_equal(H[2], [[4, 5], [10, 11]])


def test_merge_then_split_round_trip():
    rng = np.random.default_rng(16)
    H = rand(rng, 4, 2, 3, 5)  # (batch, heads, n, d_k)
    M = merge_heads(H)
    assert M.shape == (4, 3, 10)
    np.testing.assert_array_equal(M[..., 5:10], H[:, 1])
    np.testing.assert_array_equal(split_heads(M, 2), H)


def test_multi_head_with_one_head_is_single_head_then_w_o():
    rng = np.random.default_rng(17)
    X = rand(rng, 5, 6)
    W_q, W_k, W_v, W_o = (rand(rng, 6, 6) for _ in range(4))
    out, w = multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads=1)
    single_out, single_w = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
    assert w.shape == (1, 5, 5)
    np.testing.assert_allclose(w[0], single_w, rtol=1e-12)
    np.testing.assert_allclose(out, single_out @ W_o, rtol=1e-12, atol=1e-13)
    ref_out, ref_w = loop_attention(X @ W_q, X @ W_k, X @ W_v)
    np.testing.assert_allclose(out, ref_out @ W_o, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("batch", [(), (2,), (2, 3)], ids=["no-batch", "batch-2", "batch-2x3"])
@pytest.mark.parametrize("num_heads", [1, 2, 3, 6])
def test_multi_head_equals_loop_over_heads(num_heads, batch):
    rng = np.random.default_rng(num_heads)
    n, d_model = 4, 6
    X = rand(rng, *batch, n, d_model)
    Ws = [rand(rng, d_model, d_model) for _ in range(4)]
    out, w = multi_head_attention(X, *Ws, num_heads=num_heads)
    ref_out, ref_w = loop_multi_head(X, *Ws, num_heads)
    assert out.shape == (*batch, n, d_model)
    assert w.shape == (*batch, num_heads, n, n)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)


def test_multi_head_per_head_against_triple_loop():
    rng = np.random.default_rng(18)
    X = rand(rng, 4, 6)
    W_q, W_k, W_v, W_o = (rand(rng, 6, 6) for _ in range(4))
    _, w = multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads=3)
    for h in range(3):
        cols = slice(2 * h, 2 * h + 2)
        _, ref_w = loop_attention((X @ W_q)[:, cols], (X @ W_k)[:, cols], (X @ W_v)[:, cols])
        np.testing.assert_allclose(w[h], ref_w, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("num_heads", [1, 2, 3, 6])
def test_multi_head_causal_mask_broadcasts_over_heads_and_batch(num_heads):
    rng = np.random.default_rng(19)
    X = rand(rng, 2, 5, 6)
    Ws = [rand(rng, 6, 6) for _ in range(4)]
    mask = causal_mask(5)
    out, w = multi_head_attention(X, *Ws, num_heads=num_heads, mask=mask)
    ref_out, ref_w = loop_multi_head(X, *Ws, num_heads, mask)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    assert (w[..., ~mask] == 0.0).all()


@pytest.mark.parametrize("num_heads", [1, 2, 3, 6])
def test_multi_head_batched_mask_applies_per_batch_element(num_heads):
    rng = np.random.default_rng(20)
    B, n = 3, 4
    X = rand(rng, B, n, 6)
    Ws = [rand(rng, 6, 6) for _ in range(4)]
    mask = rng.random((B, n, n)) < 0.5
    mask[..., 0] = True
    mask[1] = causal_mask(n)
    out, w = multi_head_attention(X, *Ws, num_heads=num_heads, mask=mask)
    assert w.shape == (B, num_heads, n, n)
    for b in range(B):
        out_b, w_b = multi_head_attention(X[b], *Ws, num_heads=num_heads, mask=mask[b])
        np.testing.assert_allclose(out[b], out_b, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(w[b], w_b, rtol=1e-12, atol=1e-15)
        ref_out, ref_w = loop_multi_head(X[b], *Ws, num_heads, mask[b])
        np.testing.assert_allclose(out[b], ref_out, rtol=1e-12, atol=1e-13)
        for h in range(num_heads):
            assert (w[b, h][~mask[b]] == 0.0).all()


def test_multi_head_padding_mask():
    rng = np.random.default_rng(21)
    X = rand(rng, 2, 4, 6)
    Ws = [rand(rng, 6, 6) for _ in range(4)]
    out, w = multi_head_attention(X, *Ws, num_heads=2, mask=padding_mask([2, 4], 4))
    assert w.shape == (2, 2, 4, 4)
    assert (w[0, :, :, 2:] == 0.0).all()
    out_short, w_short = multi_head_attention(X[0, :2], *Ws, num_heads=2)
    np.testing.assert_allclose(out[0, :2], out_short, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w[0, :, :2, :2], w_short, rtol=1e-12, atol=1e-15)
    out_full, _ = multi_head_attention(X[1], *Ws, num_heads=2)
    np.testing.assert_allclose(out[1], out_full, rtol=1e-12, atol=1e-13)


def test_multi_head_identity_values_and_output_give_weighted_average_of_inputs():
    # With W_v = W_o = I, each head mixes its own columns of X; the result is
    # per-head weighted averages of the input rows.
    rng = np.random.default_rng(22)
    X = rand(rng, 4, 6)
    W_q, W_k = rand(rng, 6, 6), rand(rng, 6, 6)
    I = np.eye(6)
    out, w = multi_head_attention(X, W_q, W_k, I, I, num_heads=2)
    np.testing.assert_allclose(out[:, :3], w[0] @ X[:, :3], rtol=1e-12)
    np.testing.assert_allclose(out[:, 3:], w[1] @ X[:, 3:], rtol=1e-12)


def test_large_inputs_whose_scores_fit_are_accepted():
    # max|Q| * max|K| overflows float64, but each score is 0 (the two never meet): no error.
    Q = np.array([[1e200, 0.0]])
    K = np.array([[0.0, 1e200], [0.0, -1e200]])
    out, w = scaled_dot_product_attention(Q, K, np.eye(2))
    np.testing.assert_allclose(w, [[0.5, 0.5]])
    np.testing.assert_allclose(out, [[0.5, 0.5]])
