"""The attention maths of the series, in numpy only.

Every function keeps the floating dtype it is given (float32 in, float32 out;
integers become float64), allows leading batch dimensions, and checks its input
so that a mistake gets a message naming the argument and the shapes involved,
not a traceback from deep inside numpy.

Masks are boolean arrays where True means "this query may attend to this key".
A query whose keys are all masked gets all-zero weights (and so an all-zero
output) instead of NaN: there is nothing it may look at, so it takes nothing.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "softmax",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "split_heads",
    "merge_heads",
    "multi_head_attention",
    "demo_head",
    "demo_heads",
]


# ----------------------------------------------------------------- checking


def as_float_array(x, name, min_ndim=1, allow_neg_inf=False):
    """Return `x` as a floating numpy array, or raise a clear TypeError/ValueError.

    Integers become float64; float16/32/64 are kept. Booleans, strings and
    objects are refused, and so are NaN and +-inf (-inf only when
    `allow_neg_inf`, the usual way to write "masked" in a score matrix).
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got a string {x!r:.40}")
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers: {err}") from None
    if arr.dtype == bool:
        raise TypeError(f"{name} must hold numbers, got booleans (dtype bool)")
    if np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64)
    elif np.issubdtype(arr.dtype, np.complexfloating) or not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one number")
    if np.isfinite(arr).all():  # the usual case: one pass over the input, nothing more
        return arr
    bad = np.isnan(arr) | (np.isposinf(arr)) | (np.isneginf(arr) & (not allow_neg_inf))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} contains NaN or infinity (first at index {where})")
    return arr


def _as_bool_mask(mask, name="mask"):
    arr = np.asarray(mask)
    if arr.dtype != bool:
        raise TypeError(
            f"{name} must be a boolean array (True = may attend), got dtype {arr.dtype}; "
            f"if it holds 0/1, pass {name}.astype(bool)"
        )
    if arr.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (n_q, n_k), got shape {arr.shape}")
    return arr


def _largest(arr):
    """The largest magnitude in `arr`, written for a message: '3.2e+200'."""
    return f"{float(np.max(np.abs(arr))):.3g}"


def _or_float64(dtype):
    return "" if np.dtype(dtype) == np.float64 else " (or compute in float64)"


def _project(X, W, x_name, w_name):
    """X @ W, or a clear ValueError naming both when the product overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        P = X @ W
    if not np.isfinite(P).all():
        raise ValueError(
            f"{x_name} @ {w_name} overflowed {P.dtype}: the largest magnitude in {x_name} is "
            f"{_largest(X)} and in {w_name} {_largest(W)}; scale them down{_or_float64(P.dtype)}"
        )
    return P


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return int(value)


# ------------------------------------------------------------------ softmax


def softmax(x, axis=-1, temperature=1.0):
    """Numerically stable softmax of `x` along `axis`, shape unchanged.

    Computes exp((x - max) / temperature) / sum, so large scores never
    overflow. Entries equal to -inf get weight exactly 0; a slice that is
    entirely -inf gets all zeros (nothing to attend to) rather than NaN.
    A higher temperature flattens the weights, a lower one sharpens them.
    """
    arr = as_float_array(x, "x", allow_neg_inf=True)
    temperature = _check_temperature(temperature)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis {axis} is out of range for x with shape {arr.shape}")
    return _softmax_into(arr.copy(), axis, temperature)


def _check_temperature(temperature):
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a number, got {temperature!r}")
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a positive finite number, got {temperature}")
    return float(temperature)


def _softmax_into(e, axis, temperature):
    """softmax of the checked float array `e`, computed in place (e is overwritten and returned).

    Five passes over e (max, subtract, exp, sum, divide) and one more when temperature != 1;
    everything else works on the (..., 1) row maxima and sums.
    """
    row_max = np.max(e, axis=axis, keepdims=True)
    empty = np.isneginf(row_max)  # slices with nothing allowed
    if empty.any():
        row_max[empty] = 0
    np.subtract(e, row_max, out=e)
    if temperature != 1.0:
        info = np.finfo(e.dtype)
        with np.errstate(over="ignore"):  # tiny T: differences overflow to -inf, i.e. weight 0
            # keep T representable in e's dtype (float32 e with T=1e-50 would divide 0 by 0)
            t = np.clip(e.dtype.type(temperature), info.smallest_subnormal, info.max)
            np.divide(e, t, out=e)
    np.exp(e, out=e)
    total = np.sum(e, axis=axis, keepdims=True)
    if empty.any():
        total[empty] = 1  # an all-masked slice stays all zeros
    np.divide(e, total, out=e)
    return e


# -------------------------------------------------------------------- masks


def causal_mask(n):
    """Boolean (n, n) mask, True where query i may attend to key j (j <= i)."""
    n = _check_positive_int(n, "n")
    return np.tril(np.ones((n, n), dtype=bool))


def padding_mask(lengths, n):
    """Boolean (batch, 1, n) mask hiding padding: key j is allowed when j < length.

    `lengths` is a sequence of true sentence lengths (batch,), each 1..n.
    The middle axis of size 1 broadcasts over all queries.
    """
    n = _check_positive_int(n, "n")
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths must be a 1-D sequence of whole numbers, got {lengths!r}")
    if (lengths < 1).any() or (lengths > n).any():
        raise ValueError(f"every length must be between 1 and n={n}, got {lengths.tolist()}")
    return (np.arange(n)[None, :] < lengths[:, None])[:, None, :]


# ---------------------------------------------------------------- attention


def scaled_dot_product_attention(Q, K, V, mask=None, temperature=1.0):
    """softmax(Q Kᵀ / sqrt(d_k) / temperature, masked) @ V.

    Q: (..., n_q, d_k), K: (..., n_k, d_k), V: (..., n_k, d_v);
    mask: boolean, broadcastable to (..., n_q, n_k), True = may attend;
    temperature: a positive number (1 is the paper's attention; above 1 flattens the
    weights, below 1 sharpens them, as in notebook 03).
    Returns (output (..., n_q, d_v), weights (..., n_q, n_k)). Masked weights
    are exactly 0 and each row with any allowed key sums to 1.
    """
    Q = as_float_array(Q, "Q", min_ndim=2)
    K = as_float_array(K, "K", min_ndim=2)
    V = as_float_array(V, "V", min_ndim=2)
    temperature = _check_temperature(temperature)
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"Q and K must have the same last dimension d_k: Q has shape {Q.shape}, K has shape {K.shape}"
        )
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(
            f"K and V must have one row per key (same n_k): K has shape {K.shape}, V has shape {V.shape}"
        )
    try:
        np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    except ValueError:
        raise ValueError(
            f"the batch dimensions of Q {Q.shape}, K {K.shape} and V {V.shape} do not broadcast"
        ) from None
    if mask is not None:
        mask = _as_bool_mask(mask)
        scores_shape = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2]) + (Q.shape[-2], K.shape[-2])
        try:
            np.broadcast_shapes(mask.shape, scores_shape)
        except ValueError:
            raise ValueError(
                f"mask with shape {mask.shape} does not broadcast to the scores' shape "
                f"{scores_shape} (..., n_q, n_k)"
            ) from None

    return _attention(Q, K, V, mask, temperature)


def _attention(Q, K, V, mask, temperature):
    """scaled_dot_product_attention on checked arrays: one matmul, the scale, the mask,
    an in-place softmax and one more matmul over the (..., n_q, n_k) scores."""
    dtype = np.result_type(Q, K, V)
    scores = _scores(Q, K, dtype)  # (..., n_q, n_k), Q·Kᵀ/sqrt(d_k), finite
    if mask is not None:
        scores = np.where(mask, scores, dtype.type(-np.inf))
    weights = _softmax_into(scores, -1, temperature)  # scores becomes the weights, in place
    output = np.matmul(weights, V.astype(dtype, copy=False))  # (..., n_q, d_v): mixes of V's rows
    return output, weights


def _max_abs(x):
    """max |x| without an |x| copy (two passes over x, no temporary array)."""
    return max(float(np.max(x)), -float(np.min(x)))


def _scores(Q, K, dtype):
    """Q Kᵀ / sqrt(d_k) in `dtype`, or a clear ValueError when the products overflow.

    A score is at most d_k · max|Q| · max|K| in size; when that bound fits the dtype
    (always, for the series' numbers) the n_q × n_k scores need no second look.
    """
    d_k = Q.shape[-1]
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below, with a clear message
        bound = _max_abs(Q) * _max_abs(K) * d_k
        scores = np.matmul(Q.astype(dtype, copy=False), np.swapaxes(K, -1, -2).astype(dtype, copy=False))
        scores /= dtype.type(np.sqrt(d_k))
        if bound < np.finfo(dtype).max / 4 or np.isfinite(scores).all():
            return scores
    raise ValueError(
        f"the scores Q·Kᵀ/sqrt(d_k) overflowed {dtype}: the largest magnitude in Q is "
        f"{_largest(Q)} and in K {_largest(K)}, and their products do not fit; "
        f"scale Q and K down{_or_float64(dtype)}"
    )


def split_heads(X, num_heads):
    """(..., n, d_model) -> (..., num_heads, n, d_k), head h = columns h*d_k:(h+1)*d_k."""
    X = as_float_array(X, "X", min_ndim=2)
    num_heads = _check_positive_int(num_heads, "num_heads")
    *batch, n, d_model = X.shape
    if d_model % num_heads:
        raise ValueError(
            f"d_model={d_model} (last dimension of X, shape {X.shape}) is not divisible "
            f"by num_heads={num_heads}"
        )
    d_k = d_model // num_heads
    return np.swapaxes(X.reshape(*batch, n, num_heads, d_k), -3, -2)


def merge_heads(H):
    """(..., num_heads, n, d_k) -> (..., n, num_heads * d_k): heads concatenated in order."""
    H = as_float_array(H, "H", min_ndim=3)
    *batch, h, n, d_k = H.shape
    return np.swapaxes(H, -3, -2).reshape(*batch, n, h * d_k)


def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    """Multi-head self-attention.

    X: (..., n, d_model); W_q, W_k, W_v, W_o: (d_model, d_model), applied as X @ W.
    Head h uses columns h*d_k:(h+1)*d_k of X@W_q, X@W_k, X@W_v (d_k = d_model // num_heads);
    head outputs are concatenated in order and multiplied by W_o.
    mask: boolean, broadcastable to (..., n, n). Returns (output (..., n, d_model),
    weights (..., num_heads, n, n)).
    """
    X = as_float_array(X, "X", min_ndim=2)
    num_heads = _check_positive_int(num_heads, "num_heads")
    d_model = X.shape[-1]
    mats = {}
    for name, W in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v), ("W_o", W_o)):
        W = as_float_array(W, name, min_ndim=2)
        if W.shape != (d_model, d_model):
            raise ValueError(
                f"{name} must have shape (d_model, d_model) = ({d_model}, {d_model}) to match "
                f"X with shape {X.shape}, got {W.shape}"
            )
        mats[name] = W
    if d_model % num_heads:
        raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
    if mask is not None:
        mask = _as_bool_mask(mask)
        nn = X.shape[:-2] + (X.shape[-2], X.shape[-2])  # (..., n, n)
        try:
            np.broadcast_shapes(mask.shape, nn)
        except ValueError:
            raise ValueError(
                f"mask with shape {mask.shape} does not broadcast to (..., n, n) = {nn} "
                f"for X with shape {X.shape}"
            ) from None
        mask = mask[..., None, :, :] if mask.ndim > 2 else mask  # add the heads axis

    # X, the weights and the mask are checked above, and _project checks each product:
    # from here on the maths runs without a second look at its arrays.
    d_k = d_model // num_heads

    def heads_of(name):  # (..., n, d_model) -> (..., h, n, d_k), as split_heads does
        P = _project(X, mats[name], "X", name)
        return np.swapaxes(P.reshape(*P.shape[:-1], num_heads, d_k), -3, -2)

    Q, K, V = heads_of("W_q"), heads_of("W_k"), heads_of("W_v")
    heads, weights = _attention(Q, K, V, mask, 1.0)  # (..., h, n, d_k), (..., h, n, n)
    concat = np.swapaxes(heads, -3, -2).reshape(*heads.shape[:-3], heads.shape[-2], d_model)
    output = _project(concat, mats["W_o"], "the concatenated heads", "W_o")  # (..., n, d_model)
    return output.astype(heads.dtype, copy=False), weights


# ---------------------------------------------------------- demo weights
#
# The toy vectors' six dimensions are (see data/README.md):
#   0 town (+) vs nature (-)   1 water/outdoors   2 person
#   3 place                    4 action           5 topic (how much a word says about the topic)
# The demo weights are written by hand, entry by entry, so that each one can
# be read aloud in class. They are not trained.

TOWN, WATER, PERSON, PLACE, ACTION, TOPIC = range(6)


def demo_head():
    """(W_q, W_k, W_v), each (6, 6) float64: the single head of notebooks 02-04.

    Keys are the embeddings themselves (W_k = identity), so a score is
    "how well does this key match what the query asks for".
    The query keeps the word's own meaning (similar words match) and adds one
    learned question: a *place* word asks "which words around me carry a
    topic?" (PLACE -> TOPIC), which is how *bank* finds *river* and *fish*.
    A sharpness factor of 4 makes the softmax pick clearly.
    W_v = identity: the value of a word is its meaning, so the output lives in
    the embedding space and can be drawn on the same 2-D map.
    """
    W_q = np.eye(6)
    W_q[PLACE, TOPIC] = 2.0
    W_q *= 4.0
    W_k = np.eye(6)
    W_v = np.eye(6)
    return W_q, W_k, W_v


def demo_heads():
    """(W_q, W_k, W_v, W_o, num_heads) for notebook 05: two heads on the 6-d vectors.

    With num_heads=2, head 0 uses columns 0-2 and head 1 columns 3-5.
    Head 0, "meaning": queries and keys read the TOWN, WATER and TOPIC
    dimensions, so a word attends to words of the same topic (bank -> river, fish).
    Head 1, "who does what": an action word (going, fish, deposit) asks for a
    person (Tom); keys read the PERSON dimension. Both heads return the
    word's meaning as value (head 0 the town/water/topic part, head 1 the
    person/place/action part): W_v is a permutation matrix that only reorders
    the six dimensions. W_o is the inverse permutation (W_o = W_v.T, not the
    identity): it puts every number of the concatenated heads back in its
    embedding dimension, so the output reads in the six named dimensions.
    """
    W_q = np.zeros((6, 6))
    W_k = np.zeros((6, 6))
    W_v = np.zeros((6, 6))
    # head 0 (columns 0, 1, 2): topic similarity, with places asking for topic words
    for col, dim in enumerate((TOWN, WATER, TOPIC)):
        W_q[dim, col] = 3.0
        W_k[dim, col] = 1.0
    W_q[PLACE, 2] = 6.0
    # head 1 (columns 3, 4, 5): actions ask for persons
    W_q[ACTION, 3] = 6.0
    W_k[PERSON, 3] = 1.0
    W_q[PERSON, 4] = 2.0
    W_k[ACTION, 4] = 1.0
    # values: head 0 carries TOWN, WATER, TOPIC; head 1 PERSON, PLACE, ACTION
    for col, dim in enumerate((TOWN, WATER, TOPIC, PERSON, PLACE, ACTION)):
        W_v[dim, col] = 1.0
    W_o = np.linalg.inv(W_v)  # maps the concatenated heads back to the embedding dimensions
    return W_q, W_k, W_v, W_o, 2
