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

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .attention import as_float_array, padding_mask, scaled_dot_product_attention
from .embeddings import tokenize

__all__ = ["softmax_backward", "attention_backward", "read_senses", "Batch", "make_batch", "sigmoid",
           "cross_entropy", "cross_entropy_backward", "init_head", "head_forward", "head_backward",
           "gradient_step", "accuracy", "Checkpoint", "train_head"]


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


# ---------------------------------------------------------------- learning a head (lesson 08)
#
# The model of lesson 08: the toy word vectors X (fixed), one head (W_q, W_k, W_v learned),
# bank's output o = softmax(q_bank Kᵀ / √d_k) V, a linear read-out z = o · u + c, and
# p = σ(z), the probability that the sentence means the river bank. Cross-entropy loss.

SENSES = ("money", "river")  # label 0, label 1: the read-out gives the probability of "river"
SENSES_FILE = Path(__file__).resolve().parent.parent / "data" / "bank_senses.tsv"
PARAMETERS = ("W_q", "W_k", "W_v", "u", "c")


def read_senses(path=SENSES_FILE):
    """[(sense, split, sentence)] from data/bank_senses.tsv (comments and the header skipped)."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip() or line.startswith("sense\t"):
            continue
        sense, split, sentence = line.split("\t")
        rows.append((sense, split, sentence))
    return rows


@dataclass
class Batch:
    """Sentences as one padded array: X (B, n, d) word vectors, zero rows after each sentence's
    `lengths`; `query` (B,) the position of *bank*; `y` (B,) 1 for the river sense, 0 for money;
    `tokens` the words kept (those the vector table knows), `texts` the sentences."""

    X: np.ndarray
    lengths: np.ndarray
    query: np.ndarray
    y: np.ndarray
    tokens: list
    texts: list

    def mask(self):
        """(B, 1, n): True where a key is a word of the sentence, False on padding."""
        return padding_mask(self.lengths, self.X.shape[1])


def make_batch(texts, senses, vectors, word="bank"):
    """A Batch of `texts` with their senses ("river"/"money"); words the table lacks are left out."""
    tokens = [[t for t in tokenize(text) if t in vectors.key_to_index] for text in texts]
    n, d = max(map(len, tokens)), vectors.vector_size
    X = np.zeros((len(texts), n, d))
    for b, toks in enumerate(tokens):
        X[b, :len(toks)] = [vectors[t] for t in toks]
    query = np.array([toks.index(word) for toks in tokens])
    y = np.array([float(SENSES.index(s)) for s in senses])
    return Batch(X, np.array([len(t) for t in tokens]), query, y, tokens, list(texts))


def sigmoid(z):
    """1 / (1 + e^−z), without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def cross_entropy(p, y, eps=1e-12):
    """The mean of −[y log p + (1 − y) log(1 − p)]: small when p is near the label y."""
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    y = np.asarray(y, dtype=float)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def cross_entropy_backward(p, y):
    """∂L/∂z for p = σ(z) and L = cross_entropy(p, y): (p − y) / B, the famous short form."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return (p - y) / p.size


def init_head(d_model=6, d_k=3, d_v=3, seed=0, scale=0.5):
    """Random starting weights {W_q (d_model, d_k), W_k, W_v (d_model, d_v), u (d_v,), c}, seeded."""
    rng = np.random.default_rng(seed)
    return {"W_q": rng.normal(0, scale, (d_model, d_k)), "W_k": rng.normal(0, scale, (d_model, d_k)),
            "W_v": rng.normal(0, scale, (d_model, d_v)), "u": rng.normal(0, scale, d_v), "c": 0.0}


def head_forward(params, batch):
    """Everything the forward pass computes, by name: Q (B, 1, d_k) bank's query, K (B, n, d_k),
    V (B, n, d_v), weights (B, 1, n) bank's attention row, o (B, d_v) bank's output,
    z (B,) the read-out, p (B,) the probability of the river sense, loss."""
    X = batch.X
    x_bank = X[np.arange(len(X)), batch.query][:, None, :]  # (B, 1, d): bank's own vector
    Q, K, V = x_bank @ params["W_q"], X @ params["W_k"], X @ params["W_v"]
    out, weights = scaled_dot_product_attention(Q, K, V, batch.mask())
    o = out[:, 0]  # (B, d_v)
    z = o @ params["u"] + params["c"]
    p = sigmoid(z)
    return {"x_bank": x_bank, "Q": Q, "K": K, "V": V, "weights": weights, "o": o, "z": z, "p": p,
            "loss": cross_entropy(p, batch.y)}


def head_backward(params, batch, cache):
    """The gradient of the loss with respect to every parameter, by name (same shapes)."""
    dz = cross_entropy_backward(cache["p"], batch.y)  # (B,)
    grads = {"u": cache["o"].T @ dz, "c": float(dz.sum())}
    d_out = (dz[:, None] * params["u"][None, :])[:, None, :]  # (B, 1, d_v): ∂L/∂o
    dQ, dK, dV = attention_backward(cache["Q"], cache["K"], cache["V"], d_out, batch.mask())
    X = batch.X  # padding rows are zero and masked, so they add nothing below
    grads["W_q"] = np.einsum("bqd,bqk->dk", cache["x_bank"], dQ)
    grads["W_k"] = np.einsum("bnd,bnk->dk", X, dK)
    grads["W_v"] = np.einsum("bnd,bnk->dk", X, dV)
    return grads


def gradient_step(params, grads, lr):
    """One step of gradient descent: every parameter moves by −lr × its gradient (a new dict)."""
    return {name: params[name] - lr * grads[name] for name in params}


def accuracy(p, y):
    """The share of sentences whose sense is on the right side of p = 0.5."""
    return float(np.mean((np.asarray(p) > 0.5) == (np.asarray(y) > 0.5)))


@dataclass
class Checkpoint:
    """The head after `step` steps: its weights, its loss and accuracy on the training sentences."""

    step: int
    params: dict
    loss: float
    accuracy: float


def train_head(batch, steps=300, lr=1.0, seed=0, every=10, d_k=3, d_v=3, on_checkpoint=None):
    """Full-batch gradient descent from init_head(seed): a Checkpoint every `every` steps
    (step 0 first, the last step last). on_checkpoint(checkpoint) is called as each is made
    (the Train button draws with it). Deterministic: the seed fixes the start, nothing else is random."""
    params = init_head(batch.X.shape[-1], d_k, d_v, seed)
    checkpoints = []
    for step in range(steps + 1):
        cache = head_forward(params, batch)
        if step % every == 0 or step == steps:
            checkpoints.append(Checkpoint(step, {k: np.copy(v) for k, v in params.items()},
                                          cache["loss"], accuracy(cache["p"], batch.y)))
            if on_checkpoint is not None:
                on_checkpoint(checkpoints[-1])
        if step < steps:
            params = gradient_step(params, head_backward(params, batch, cache), lr)
    return checkpoints
