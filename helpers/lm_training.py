"""Training the series' small language model, in numpy, with every gradient written out.

The model (helpers.model) is a decoder-only transformer over words: token embeddings
plus the paper's sinusoidal positions, `layers` pre-norm blocks (causal multi-head
attention, then a ReLU feed-forward network, each in a residual connection), a final
layer norm, and logits = LN(x) @ Eᵀ with the embedding matrix E reused (tied, as in
GPT-2). This module runs that forward pass keeping what the backward pass needs,
then the backward pass layer by layer (attention through helpers.training), and Adam.
tests/test_lm_training.py checks the forward against helpers.model (which uses
helpers.transformer) and every gradient against finite differences.
"""

from __future__ import annotations

import numpy as np

from .attention import causal_mask, split_heads, merge_heads, scaled_dot_product_attention
from .positions import sinusoidal
from .training import attention_backward

EPS = 1e-5


def init_parameters(vocab_size, d_model=32, layers=2, d_ff=128, seed=0):
    """{name: array} of a fresh model: normal(0, 0.02)-like weights scaled by fan-in, LN gain 1."""
    rng = np.random.default_rng(seed)
    p = {"embedding": rng.normal(0.0, 0.3, (vocab_size, d_model))}
    for l in range(layers):
        for name in ("W_q", "W_k", "W_v"):
            p[f"{l}.{name}"] = rng.normal(0.0, d_model ** -0.5, (d_model, d_model))
        p[f"{l}.W_o"] = rng.normal(0.0, d_model ** -0.5 / np.sqrt(2 * layers), (d_model, d_model))
        p[f"{l}.W_1"] = rng.normal(0.0, d_model ** -0.5, (d_model, d_ff))
        p[f"{l}.b_1"] = np.zeros(d_ff)
        p[f"{l}.W_2"] = rng.normal(0.0, d_ff ** -0.5 / np.sqrt(2 * layers), (d_ff, d_model))
        p[f"{l}.b_2"] = np.zeros(d_model)
        for ln in ("ln_1", "ln_2"):
            p[f"{l}.{ln}.gain"], p[f"{l}.{ln}.bias"] = np.ones(d_model), np.zeros(d_model)
    p["ln_f.gain"], p["ln_f.bias"] = np.ones(d_model), np.zeros(d_model)
    return p


def count_layers(params):
    return sum(1 for name in params if name.endswith(".W_q"))


# ------------------------------------------------------------------ pieces, forward and backward

def _ln_forward(x, gain, bias):
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    inv_std = 1.0 / np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + EPS)
    normed = centred * inv_std
    return normed * gain + bias, (normed, inv_std, gain)


def _ln_backward(d_out, cache):
    """Gradients of layer norm: (dx, d_gain, d_bias)."""
    normed, inv_std, gain = cache
    flat = (-1, normed.shape[-1])
    d_gain = (d_out * normed).reshape(flat).sum(axis=0)
    d_bias = d_out.reshape(flat).sum(axis=0)
    g = d_out * gain
    dx = inv_std * (g - g.mean(axis=-1, keepdims=True) - normed * (g * normed).mean(axis=-1, keepdims=True))
    return dx, d_gain, d_bias


def _flat_grad(a, d):
    """Σ over all rows of aᵀ d: the gradient of a weight applied as a @ W."""
    return a.reshape(-1, a.shape[-1]).T @ d.reshape(-1, d.shape[-1])


def forward(params, tokens, num_heads):
    """tokens (batch, n) ints -> (logits (batch, n, vocab), cache for `backward`)."""
    E = params["embedding"]
    n = tokens.shape[-1]
    x = E[tokens] + sinusoidal(n, E.shape[1])
    mask = causal_mask(n)
    caches = []
    for l in range(count_layers(params)):
        P = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(f"{l}.")}
        a, ln1 = _ln_forward(x, P["ln_1.gain"], P["ln_1.bias"])
        Q, K, V = (split_heads(a @ P[w], num_heads) for w in ("W_q", "W_k", "W_v"))
        heads, weights = scaled_dot_product_attention(Q, K, V, mask)
        concat = merge_heads(heads)
        x1 = x + concat @ P["W_o"]
        b, ln2 = _ln_forward(x1, P["ln_2.gain"], P["ln_2.bias"])
        pre = b @ P["W_1"] + P["b_1"]
        hidden = np.maximum(pre, 0.0)
        x2 = x1 + hidden @ P["W_2"] + P["b_2"]
        caches.append((P, a, ln1, Q, K, V, concat, b, ln2, pre, hidden))
        x = x2
    z, lnf = _ln_forward(x, params["ln_f.gain"], params["ln_f.bias"])
    logits = z @ E.T
    return logits, (tokens, mask, caches, z, lnf)


def cross_entropy(logits, targets):
    """Mean −log p(target) over all positions, and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    flat = log_p.reshape(-1, log_p.shape[-1])
    rows = np.arange(flat.shape[0])
    loss = -flat[rows, targets.ravel()].mean()
    d = np.exp(flat)
    d[rows, targets.ravel()] -= 1.0
    return float(loss), (d / flat.shape[0]).reshape(logits.shape)


def backward(params, d_logits, cache, num_heads):
    """{name: gradient} for every parameter, from ∂L/∂logits and forward's cache."""
    tokens, mask, caches, z, lnf = cache
    E = params["embedding"]
    grads = {"embedding": _flat_grad(d_logits, z)}  # logits = z Eᵀ: dE = d_logitsᵀ z
    dx, grads["ln_f.gain"], grads["ln_f.bias"] = _ln_backward(d_logits @ E, lnf)
    for l in reversed(range(len(caches))):
        P, a, ln1, Q, K, V, concat, b, ln2, pre, hidden = caches[l]
        d_hidden = dx @ P["W_2"].T
        grads[f"{l}.W_2"], grads[f"{l}.b_2"] = _flat_grad(hidden, dx), dx.reshape(-1, dx.shape[-1]).sum(0)
        d_pre = d_hidden * (pre > 0)
        grads[f"{l}.W_1"], grads[f"{l}.b_1"] = _flat_grad(b, d_pre), d_pre.reshape(-1, d_pre.shape[-1]).sum(0)
        d_b = d_pre @ P["W_1"].T
        d_x1, grads[f"{l}.ln_2.gain"], grads[f"{l}.ln_2.bias"] = _ln_backward(d_b, ln2)
        d_x1 = d_x1 + dx
        grads[f"{l}.W_o"] = _flat_grad(concat, d_x1)
        d_heads = split_heads(d_x1 @ P["W_o"].T, num_heads)
        dQ, dK, dV = attention_backward(Q, K, V, d_heads, mask)
        d_a = sum(merge_heads(dH) @ P[w].T for dH, w in ((dQ, "W_q"), (dK, "W_k"), (dV, "W_v")))
        for dH, w in ((dQ, "W_q"), (dK, "W_k"), (dV, "W_v")):
            grads[f"{l}.{w}"] = _flat_grad(a, merge_heads(dH))
        d_x, grads[f"{l}.ln_1.gain"], grads[f"{l}.ln_1.bias"] = _ln_backward(d_a, ln1)
        dx = d_x + d_x1
    np.add.at(grads["embedding"], tokens.ravel(), dx.reshape(-1, dx.shape[-1]))
    return grads


def loss_and_grads(params, tokens, targets, num_heads):
    """(mean cross-entropy of predicting `targets` (batch, n) from `tokens`, {name: gradient})."""
    logits, cache = forward(params, tokens, num_heads)
    loss, d_logits = cross_entropy(logits, targets)
    return loss, backward(params, d_logits, cache, num_heads)


class Adam:
    """Adam (Kingma & Ba) with bias correction: the optimiser most transformers are trained with."""

    def __init__(self, params, lr=3e-3, betas=(0.9, 0.98), eps=1e-9):
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params, grads, lr=None, weight_decay=0.0):
        """Change `params` in place one step against `grads`; weight_decay shrinks every matrix
        a little each step (AdamW's decoupled decay; vectors such as biases and gains are left alone)."""
        self.t += 1
        b1, b2 = self.betas
        lr = self.lr if lr is None else lr
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            m_hat = self.m[k] / (1 - b1 ** self.t)
            v_hat = self.v[k] / (1 - b2 ** self.t)
            if weight_decay and params[k].ndim > 1:
                params[k] *= 1.0 - lr * weight_decay
            params[k] -= lr * m_hat / (np.sqrt(v_hat) + self.eps)
