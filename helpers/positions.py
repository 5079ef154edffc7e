"""Word order for attention, in numpy only: the paper's sinusoidal positions and rotary (RoPE).

Attention by itself treats a sentence as a bag of words: permute the words and every
output is permuted with them, nothing else changes (notebook 06 shows it). Two ways
to tell it where each word stands:

- absolute positions (Vaswani et al., 2017): add a fixed vector per position to each
  word vector before Q, K and V are computed: `X + sinusoidal(n, d_model)`;
- rotary positions (RoPE, Su et al., 2021): turn each pair of query and key numbers by
  an angle that grows with the position, `rotate(Q, p)`, `rotate(K, p)`; then a score
  depends on how far apart two words are, not on where they stand.

Every function keeps the floating dtype it is given and checks its input as
helpers.attention does.
"""

from __future__ import annotations

import numbers

import numpy as np

from .attention import _check_positive_int as _positive_int
from .attention import as_float_array

__all__ = ["sinusoidal", "rotate", "angles"]


def _base(base):
    if isinstance(base, bool) or not isinstance(base, numbers.Real) or not np.isfinite(base) or base <= 1:
        raise ValueError(f"base must be a finite number above 1, got {base!r}")
    return float(base)


def _positions(positions, n=None):
    """positions as a 1-D int array of whole numbers >= 0 (length n when n is given)."""
    arr = np.asarray(positions)
    if arr.dtype == bool or arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"positions must be whole numbers, got {positions!r:.60}")
    if arr.ndim != 1:
        raise ValueError(f"positions must be 1-D (one per word), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
            raise ValueError(f"positions must be whole numbers, got {arr.tolist()}")
        arr = arr.astype(np.int64)
    if (arr < 0).any():
        raise ValueError(f"positions must be 0 or more, got {arr.tolist()}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"positions has {arr.shape[0]} entries but x has {n} words (rows)")
    return arr


def angles(positions, d, base=10000.0):
    """(n, ceil(d / 2)) angles p / base^(2i/d): row = position p, column = pair (frequency) i.

    Pair 0 turns by 1 radian per position (the fastest wave); the last pair turns slowest.
    """
    p = _positions(positions)
    d = _positive_int(d, "d")
    freqs = _base(base) ** (-np.arange(0, d, 2) / d)  # base^(-2i/d) for 2i = 0, 2, ... < d
    return p[:, None].astype(np.float64) * freqs[None, :]


def sinusoidal(n, d_model, base=10000.0):
    """The paper's position table, (n, d_model) float64.

    Row p is position p. Column 2i is sin(p / base^(2i/d_model)) and column 2i+1 the
    cos of the same angle; each pair of columns is one wave, slower to the right.
    """
    n = _positive_int(n, "n")
    d_model = _positive_int(d_model, "d_model")
    theta = angles(np.arange(n), d_model, base)  # (n, ceil(d_model / 2))
    table = np.empty((n, 2 * theta.shape[1]))
    table[:, 0::2] = np.sin(theta)
    table[:, 1::2] = np.cos(theta)
    return table[:, :d_model]  # an odd d_model ends with a sin column alone


def rotate(x, positions, base=10000.0):
    """Rotary positions (RoPE) on the last axis of x, (..., n, d) -> same shape and dtype.

    Numbers (2i, 2i+1) of row p are one 2-D arrow, turned by the angle
    p · base^(-2i/d): (a, b) -> (a cos θ - b sin θ, a sin θ + b cos θ).
    Lengths are kept; the dot product of two rotated rows depends on their
    positions only through the difference of positions.
    positions: (n,) whole numbers >= 0, one per row; d must be even.
    """
    x = as_float_array(x, "x", min_ndim=2)
    n, d = x.shape[-2:]
    if d % 2:
        raise ValueError(f"rotate needs an even last dimension (pairs of numbers), got d={d} "
                         f"(x has shape {x.shape})")
    theta = angles(_positions(positions, n), d, base)  # (n, d/2)
    cos, sin = np.cos(theta).astype(x.dtype), np.sin(theta).astype(x.dtype)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out
