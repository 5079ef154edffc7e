"""Numerical robustness: huge scores stay finite, fully masked queries take nothing.

helpers/attention.py's module docstring promises: "A query whose keys are all
masked gets all-zero weights (and so an all-zero output) instead of NaN".
These tests hold it to that, in float64 and float32, for softmax,
scaled_dot_product_attention and multi_head_attention with a batched padding mask.
"""

import warnings

import numpy as np
import pytest

import helpers.attention as attention
from helpers.attention import (
    causal_mask,
    demo_heads,
    multi_head_attention,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
)
from helpers.embeddings import CONTRAST_SENTENCE, SENTENCE, sentence_matrix, toy_vectors

DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def no_numpy_warnings():
    """Every test here must run without a RuntimeWarning (overflow, invalid value)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def test_module_docstring_documents_fully_masked_rows():
    doc = " ".join(attention.__doc__.split())
    assert "all masked gets all-zero weights" in doc
    assert "all-zero output" in doc and "instead of NaN" in doc


# ------------------------------------------------------------------ softmax


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_softmax_of_huge_scores_is_finite(dtype, scale):
    x = (np.array([[1.0, 0.5, -1.0], [0.0, 0.0, 0.0], [3.0, -2.0, 1.0]]) * scale).astype(dtype)
    w = softmax(x)
    assert w.dtype == dtype
    assert np.isfinite(w).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-6)
    # the largest score takes (almost) all the weight; equal scores share it
    np.testing.assert_array_equal(w[0].argmax(), x[0].argmax())
    np.testing.assert_allclose(w[1], 1 / 3, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_of_plus_and_minus_1e4_in_one_row(dtype):
    w = softmax(np.array([1e4, -1e4, 1e4], dtype=dtype))
    np.testing.assert_allclose(w, [0.5, 0.0, 0.5], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("temperature", [1e-6, 1e-3, 1.0, 1e3, 1e6])
def test_softmax_at_extreme_temperatures_is_finite(dtype, temperature):
    x = (np.array([1e4, 0.0, -1e4, 5.0])).astype(dtype)
    w = softmax(x, temperature=temperature)
    assert np.isfinite(w).all() and w.dtype == dtype
    assert w.sum() == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_row_of_all_minus_inf_is_zeros_not_nan(dtype):
    x = np.array([[1.0, -np.inf, 2.0], [-np.inf, -np.inf, -np.inf]], dtype=dtype)
    w = softmax(x)
    assert not np.isnan(w).any()
    np.testing.assert_array_equal(w[1], 0.0)
    assert w[0, 1] == 0.0 and w[0].sum() == pytest.approx(1.0)


# --------------------------------------------------------------- attention


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_attention_with_scores_of_1e4_is_finite(dtype, scale):
    rng = np.random.default_rng(0)
    # Q·Kᵀ/sqrt(d_k) reaches about ±1e4: Q = scale * unit rows, K = sqrt(d_k) * unit rows
    d_k = 4
    Q = (np.sign(scale) * np.abs(scale) * np.eye(3, d_k)).astype(dtype)
    K = (np.sqrt(d_k) * np.eye(5, d_k)).astype(dtype)
    V = rng.normal(size=(5, 2)).astype(dtype)
    out, w = scaled_dot_product_attention(Q, K, V)
    assert np.abs(Q @ K.T / np.sqrt(d_k)).max() == pytest.approx(1e4)
    assert out.dtype == dtype and w.dtype == dtype
    assert np.isfinite(out).all() and np.isfinite(w).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fully_masked_query_gets_zero_weights_and_zero_output(dtype):
    rng = np.random.default_rng(1)
    Q, K, V = (rng.normal(size=(4, 3)).astype(dtype) for _ in range(3))
    mask = causal_mask(4)
    mask[2] = False  # query 2 may look at nothing
    out, w = scaled_dot_product_attention(Q, K, V, mask=mask)
    assert not np.isnan(out).any() and not np.isnan(w).any()
    np.testing.assert_array_equal(w[2], 0.0)
    np.testing.assert_array_equal(out[2], 0.0)
    # the other rows are untouched by row 2's mask
    _, w_causal = scaled_dot_product_attention(Q, K, V, mask=causal_mask(4))
    np.testing.assert_allclose(np.delete(w, 2, axis=0), np.delete(w_causal, 2, axis=0), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fully_masked_query_with_huge_scores(dtype):
    Q = np.full((2, 2), 1e2, dtype=dtype)
    K = np.full((3, 2), -1e2, dtype=dtype)  # scores about -1.4e4
    V = np.ones((3, 2), dtype=dtype)
    mask = np.array([[True, False, True], [False, False, False]])
    out, w = scaled_dot_product_attention(Q, K, V, mask=mask)
    assert np.isfinite(out).all() and np.isfinite(w).all()
    np.testing.assert_allclose(w[0], [0.5, 0.0, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(w[1], 0.0)
    np.testing.assert_array_equal(out[1], 0.0)


# -------------------------------------------------------------- multi-head


def _batch(dtype):
    """The story's two sentences as a padded batch (2, 10, 6) with their true lengths."""
    kv = toy_vectors()
    rows = [sentence_matrix(text, kv)[1] for text in (SENTENCE, CONTRAST_SENTENCE)]
    n = max(len(r) for r in rows) + 1  # one extra padding position for every sentence
    X = np.zeros((len(rows), n, 6))
    for b, r in enumerate(rows):
        X[b, : len(r)] = r
    return X.astype(dtype), [len(r) for r in rows]


@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_head_with_batched_padding_mask(dtype):
    X, lengths = _batch(dtype)
    W_q, W_k, W_v, W_o, h = demo_heads()
    mask = padding_mask(lengths, X.shape[1])  # (2, 1, n)
    out, w = multi_head_attention(X, W_q, W_k, W_v, W_o, h, mask=mask)
    assert out.shape == X.shape and w.shape == (2, h, X.shape[1], X.shape[1])
    assert np.isfinite(out).all() and np.isfinite(w).all()
    for b, length in enumerate(lengths):
        # padding keys get exactly zero weight; real rows sum to 1
        np.testing.assert_array_equal(w[b, :, :, length:], 0.0)
        np.testing.assert_allclose(w[b].sum(axis=-1), 1.0, rtol=1e-5)
        # each sentence alone, without padding, gives the same numbers
        out1, w1 = multi_head_attention(X[b, :length], W_q, W_k, W_v, W_o, h)
        np.testing.assert_allclose(w[b, :, :length, :length], w1, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out[b, :length], out1, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_head_with_padding_queries_fully_masked(dtype):
    # mask both keys and queries of the padding: padding rows see nothing -> zeros, no NaN
    X, lengths = _batch(dtype)
    n = X.shape[1]
    W_q, W_k, W_v, W_o, h = demo_heads()
    keys = padding_mask(lengths, n)  # (2, 1, n)
    mask = keys & np.swapaxes(keys, -1, -2)  # (2, n, n): query and key both real
    out, w = multi_head_attention(X, W_q, W_k, W_v, W_o, h, mask=mask)
    assert not np.isnan(out).any() and not np.isnan(w).any()
    for b, length in enumerate(lengths):
        np.testing.assert_array_equal(w[b, :, length:, :], 0.0)
        np.testing.assert_array_equal(out[b, length:], 0.0)
        np.testing.assert_allclose(w[b, :, :length].sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_head_with_huge_weights_is_finite(dtype):
    # scores of order 1e4 inside every head
    X, lengths = _batch(dtype)
    W_q, W_k, W_v, W_o, h = demo_heads()
    out, w = multi_head_attention(X, W_q * 1e3, W_k, W_v, W_o, h,
                                  mask=padding_mask(lengths, X.shape[1]))
    assert np.isfinite(out).all() and np.isfinite(w).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)


def test_overflowing_scores_name_q_and_k():
    Q = np.full((2, 3), 1e200)
    with pytest.raises(ValueError, match=r"scores Q·Kᵀ/sqrt\(d_k\) overflowed float64.*Q is 1e\+200 and in K 1e\+200"):
        scaled_dot_product_attention(Q, Q, Q)
