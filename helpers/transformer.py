"""The transformer block around attention, in numpy only: layer norm, feed-forward, residuals.

Same conventions as helpers.attention: vectors are rows, weights are applied as X @ W,
masks are boolean with True = may attend, leading batch dimensions are allowed, and the
floating dtype is kept. No dropout (it only matters while training a large model).

    post-norm (the paper):      x = LN_1(x + MHA(x));   x = LN_2(x + FFN(x))
    pre-norm (GPT-2 and later): x = x + MHA(LN_1(x));   x = x + FFN(LN_2(x))
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .attention import (as_float_array, merge_heads, multi_head_attention, scaled_dot_product_attention,
                        split_heads)

__all__ = ["cross_attention", "layer_norm", "feed_forward", "gelu", "relu", "transformer_block"]


def _vector(v, name, d):
    v = as_float_array(v, name)
    if v.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},) to match the last dimension of x, got {v.shape}")
    return v


def layer_norm(x, gain=None, bias=None, eps=1e-5):
    """(..., d) -> (..., d): each row to mean 0 and variance 1, then * gain + bias.

    The variance is the population variance (divide by d), as in the paper and in
    PyTorch's LayerNorm; eps keeps a constant row finite. gain, bias: (d,) or None
    (gain 1, bias 0).
    """
    x = as_float_array(x, "x")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"eps must be a number >= 0, got {eps!r}")
    d = x.shape[-1]
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out = (x - mean) / np.sqrt(var + x.dtype.type(eps))
    if gain is not None:
        out = out * _vector(gain, "gain", d).astype(x.dtype, copy=False)
    if bias is not None:
        out = out + _vector(bias, "bias", d).astype(x.dtype, copy=False)
    return out


def relu(x):
    """max(x, 0), elementwise."""
    return np.maximum(x, 0)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    """The exact GELU, x · Φ(x) = x · (1 + erf(x / √2)) / 2, elementwise (dtype kept)."""
    x = np.asarray(x)
    return (x * (1.0 + _erf(x / math.sqrt(2.0))) / 2.0).astype(x.dtype, copy=False)


ACTIVATIONS = {"relu": relu, "gelu": gelu}


def _matrix(W, name, rows):
    W = as_float_array(W, name, min_ndim=2)
    if W.ndim != 2 or W.shape[0] != rows:
        raise ValueError(f"{name} must have shape ({rows}, ...) to follow the previous step, got {W.shape}")
    return W


def feed_forward(x, W_1, b_1, W_2, b_2, activation="relu"):
    """act(x @ W_1 + b_1) @ W_2 + b_2, the same two layers for every word.

    x: (..., d_model); W_1: (d_model, d_ff); b_1: (d_ff,); W_2: (d_ff, d_model);
    b_2: (d_model,); activation "relu" or "gelu". Returns (..., d_model).
    """
    x = as_float_array(x, "x")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    d_model = x.shape[-1]
    W_1 = _matrix(W_1, "W_1", d_model)
    b_1 = _vector(b_1, "b_1", W_1.shape[1])
    W_2 = _matrix(W_2, "W_2", W_1.shape[1])
    b_2 = _vector(b_2, "b_2", W_2.shape[1])
    hidden = ACTIVATIONS[activation](x @ W_1 + b_1)  # (..., d_ff)
    return (hidden @ W_2 + b_2).astype(np.result_type(x, W_1, W_2), copy=False)


def _norm(x, params, name, eps):
    if params is None:
        return layer_norm(x, eps=eps)
    try:
        gain, bias = params
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (gain, bias) or None, got {params!r:.60}") from None
    return layer_norm(x, gain, bias, eps)


def _unpack(weights, name, count, names):
    try:
        parts = tuple(weights)
    except TypeError:
        parts = ()
    if len(parts) != count:
        raise TypeError(f"{name} must be a tuple ({', '.join(names)}), got {type(weights).__name__}"
                        f" of length {len(parts) if parts else '?'}")
    return parts


def transformer_block(X, attention_weights, ffn_weights, num_heads, ln_1=None, ln_2=None,
                      mask=None, norm_first=True, activation="relu", eps=1e-5, residual=True):
    """One transformer block: multi-head self-attention and a feed-forward network,
    each inside a residual connection with layer normalisation.

    X: (..., n, d_model). attention_weights = (W_q, W_k, W_v, W_o), each (d_model, d_model);
    ffn_weights = (W_1, b_1, W_2, b_2) as in feed_forward; ln_1, ln_2 = (gain, bias) or None
    (gain 1, bias 0). norm_first=True is pre-norm (GPT-2):  x = x + MHA(LN_1(x)),
    x = x + FFN(LN_2(x)); False is post-norm (the paper): x = LN_1(x + MHA(x)),
    x = LN_2(x + FFN(x)). mask as in multi_head_attention (causal for a decoder).
    residual=False drops the two "x +" (an experiment: real blocks always keep them).
    Returns (output (..., n, d_model), attention weights (..., num_heads, n, n)).
    """
    X = as_float_array(X, "X", min_ndim=2)
    keep = 1.0 if residual else 0.0  # x + sublayer(x), or the sublayer's output alone
    W_q, W_k, W_v, W_o = _unpack(attention_weights, "attention_weights", 4, ("W_q", "W_k", "W_v", "W_o"))
    ffn = _unpack(ffn_weights, "ffn_weights", 4, ("W_1", "b_1", "W_2", "b_2"))

    def attend(x):
        return multi_head_attention(x, W_q, W_k, W_v, W_o, num_heads, mask)

    if norm_first:
        attended, weights = attend(_norm(X, ln_1, "ln_1", eps))
        x = keep * X + attended
        x = keep * x + feed_forward(_norm(x, ln_2, "ln_2", eps), *ffn, activation=activation)
    else:
        attended, weights = attend(X)
        x = _norm(keep * X + attended, ln_1, "ln_1", eps)
        x = _norm(keep * x + feed_forward(x, *ffn, activation=activation), ln_2, "ln_2", eps)
    return x.astype(X.dtype, copy=False), weights


def cross_attention(X, memory, W_q, W_k, W_v, W_o, num_heads, mask=None):
    """Multi-head cross-attention: queries from X, keys and values from `memory`.

    X: (..., n_q, d_model), the sentence being written (a decoder's words);
    memory: (..., n_k, d_model), the other sentence (the encoder's output);
    W_q, W_k, W_v, W_o: (d_model, d_model). Head h uses columns h*d_k:(h+1)*d_k, as in
    multi_head_attention. mask: boolean, broadcastable to (..., n_q, n_k).
    Returns (output (..., n_q, d_model), weights (..., num_heads, n_q, n_k)).
    """
    X = as_float_array(X, "X", min_ndim=2)
    memory = as_float_array(memory, "memory", min_ndim=2)
    d_model = X.shape[-1]
    if memory.shape[-1] != d_model:
        raise ValueError(f"memory must have d_model = {d_model} numbers per word like X, got shape {memory.shape}")
    mats = []
    for name, W in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v), ("W_o", W_o)):
        W = as_float_array(W, name, min_ndim=2)
        if W.shape != (d_model, d_model):
            raise ValueError(f"{name} must have shape ({d_model}, {d_model}), got {W.shape}")
        mats.append(W)
    W_q, W_k, W_v, W_o = mats
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        mask = mask[..., None, :, :] if mask.ndim > 2 else mask  # the heads axis
    Q, K, V = (split_heads(A @ W, num_heads) for A, W in ((X, W_q), (memory, W_k), (memory, W_v)))
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)  # (..., h, n_q, d_k), (..., h, n_q, n_k)
    return merge_heads(heads) @ W_o, weights
