"""Gradients through attention, written out in numpy (no autograd), for lesson 08.

For output = softmax(Q Kᵀ / √d_k, masked) V and a gradient d_output = ∂L/∂output:

    dV = Wᵀ d_output                      (the weighted sum, backwards)
    dW = d_output Vᵀ
    dS = W ⊙ (dW − Σ_j W dW)              (the softmax, backwards: softmax_backward)
    dQ = dS K / √d_k,   dK = dSᵀ Q / √d_k  (the scaled scores, backwards)

A masked pair has weight 0, so it gets no gradient. Leading batch dimensions are
allowed; an input shared across a batch (broadcast) gets the sum of its gradients.
"""

from __future__ import annotations

import numpy as np

from .attention import as_float_array, scaled_dot_product_attention

__all__ = ["softmax_backward", "attention_backward"]


def softmax_backward(weights, d_weights, axis=-1):
    """The gradient with respect to the softmax input, w ⊙ (g − Σ w g) along `axis`.

    weights: the softmax output w (any shape); d_weights: g = ∂L/∂w, the same shape.
    This is the softmax Jacobian (diag(w) − w wᵀ) applied to g, without building it.
    """
    w = as_float_array(weights, "weights")
    g = as_float_array(d_weights, "d_weights")
    if w.shape != g.shape:
        raise ValueError(f"weights and d_weights must have the same shape, got {w.shape} and {g.shape}")
    return w * (g - np.sum(w * g, axis=axis, keepdims=True))


def _unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`."""
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def attention_backward(Q, K, V, d_output, mask=None):
    """(dQ, dK, dV): the gradients of sum(output · d_output) for
    output = scaled_dot_product_attention(Q, K, V, mask)[0].

    Q: (..., n_q, d_k), K: (..., n_k, d_k), V: (..., n_k, d_v), d_output: (..., n_q, d_v);
    mask as in scaled_dot_product_attention. Each gradient has its input's shape.
    """
    output, W = scaled_dot_product_attention(Q, K, V, mask)  # checks Q, K, V and the mask
    Q, K, V = (as_float_array(a, n, min_ndim=2) for a, n in ((Q, "Q"), (K, "K"), (V, "V")))
    G = as_float_array(d_output, "d_output", min_ndim=2)
    if G.shape != output.shape:
        raise ValueError(f"d_output must have the output's shape {output.shape} (..., n_q, d_v), got {G.shape}")
    scale = 1.0 / np.sqrt(Q.shape[-1])
    dV = np.swapaxes(W, -1, -2) @ G  # (..., n_k, d_v)
    dW = G @ np.swapaxes(V, -1, -2)  # (..., n_q, n_k)
    dS = softmax_backward(W, dW) * scale  # masked pairs: W = 0, so dS = 0
    dQ = dS @ K  # (..., n_q, d_k)
    dK = np.swapaxes(dS, -1, -2) @ Q  # (..., n_k, d_k)
    dtype = output.dtype
    return tuple(_unbroadcast(g, a.shape).astype(dtype, copy=False)
                 for g, a in ((dQ, Q), (dK, K), (dV, V)))
