"""Exercise checkers with targeted hints: `check_<name>(your_function)`.

Each checker calls the student's function on a few hidden inputs (seeded
random matrices, a small readable example, batch dimensions, n_q != n_k,
masks, large scores of 1e3..1e4), compares with the reference in
helpers.attention / helpers.embeddings, prints one short verdict, and
returns True when every case passed.

The verdict is one of
- "✅ Correct! ..." when every hidden case matches;
- "⏳ ... not implemented yet" for a stub (`...`, `pass`, `raise NotImplementedError`);
- "❌ ..." plus ONE "💡 Hint:" naming the typical mistake the output matches;
- "❌ Not quite ..." with a small concrete example when no known mistake matches;
- "❌ Your function raised TypeError: ..." when it raised (never a traceback).

How mistakes are found: each checker lists known-wrong implementations with
the hint for each, `(wrong_variant, hint)`. They run on the same hidden
inputs, and the hint shown is that of the first variant that behaves like the
student's function on every case (same values, or the same exception type).
Failing that, a case may carry its own hint (e.g. "only the batch case fails"),
and then a variant matching just the first failing case is accepted. All
printed text is deterministic: fixed seeds, rounded numbers, no addresses.

Choice on masks: check_causal_mask refuses 0/1 integers (or floats) with a
hint to return booleans, because the rest of the series (helpers.attention)
requires boolean masks, and `~` on an integer mask gives -1/-2, not its
opposite.
"""

from __future__ import annotations

import copy
import re
import warnings
from dataclasses import dataclass

import numpy as np

from helpers.attention import (
    causal_mask,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    softmax,
    split_heads,
)
from helpers.positions import rotate, sinusoidal
from helpers.transformer import feed_forward, layer_norm, transformer_block

__all__ = [
    "check_cosine_similarity",
    "check_scores",
    "check_softmax",
    "check_causal_mask",
    "check_masked_softmax",
    "check_apply_mask",
    "check_attention",
    "check_split_heads",
    "check_multi_head",
    "check_sinusoidal",
    "check_rotate",
    "check_layer_norm",
    "check_pre_norm_block",


    "check_softmax_backward",
    "check_gradient_step",
]

RTOL, ATOL = 1e-5, 1e-8  # float32 answers pass too

# ------------------------------------------------------------- the runner


@dataclass
class Case:
    """One hidden input: a label, the positional arguments by name, an optional hint.

    `hint` is shown when the student's function fails only on cases that carry
    this same hint (e.g. only on the batch cases).
    """

    label: str
    args: dict
    hint: str | None = None
    show: bool = False  # small enough to print as a concrete example

    def shapes(self):
        """'Q (2, 4), K (3, 4)' or 'n=3': what the input looks like, in one line."""
        parts = []
        for name, value in self.args.items():
            if isinstance(value, np.ndarray):
                parts.append(f"{name} {value.shape}")
            elif isinstance(value, tuple) and value and all(isinstance(v, np.ndarray) for v in value):
                parts.append(f"{name} of shapes {', '.join(str(v.shape) for v in value)}")
            else:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)


def _rand(seed, shape, scale=1.0):
    """Seeded normal numbers rounded to one decimal, so examples print tidily."""
    return np.round(np.random.default_rng(seed).normal(size=shape) * scale, 1) + 0.0  # no -0.0


@dataclass
class _Outcome:
    value: object = None
    error: BaseException | None = None


def _call(f, case):
    """Run f on a fresh copy of the case's arguments; never raises, never warns."""
    args = copy.deepcopy(list(case.args.values()))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return _Outcome(value=f(*args))
        except Exception as err:  # noqa: BLE001 - whatever the student's code raises
            return _Outcome(error=err)


def _close(got, want):
    """Same shape and values (NaN equals NaN); pairs are compared item by item."""
    if isinstance(want, tuple):
        return (
            isinstance(got, (tuple, list))
            and len(got) == len(want)
            and all(_close(g, w) for g, w in zip(got, want))
        )
    try:
        g = np.asarray(got, dtype=np.float64)
        w = np.asarray(want, dtype=np.float64)
        if w.shape == () and g.size == 1:
            g = g.reshape(())
        return g.shape == w.shape and bool(np.allclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True))
    except Exception:  # noqa: BLE001 - anything not array-like is simply "not the same"
        return False


def _same_mask(got, want):
    """Same shape and pattern, and booleans exactly where the expected answer has them."""
    try:
        g, w = np.asarray(got), np.asarray(want)
        return (
            g.shape == w.shape
            and (g.dtype == bool) == (w.dtype == bool)
            and bool(np.all(g.astype(np.float64) == w.astype(np.float64)))
        )
    except Exception:  # noqa: BLE001
        return False


def _behaves_like(a, b, same):
    if a.error is not None or b.error is not None:
        return a.error is not None and b.error is not None and type(a.error) is type(b.error)
    return same(a.value, b.value)


def _is_stub(outcomes):
    if any(isinstance(o.error, NotImplementedError) or o.value is Ellipsis for o in outcomes):
        return True
    return all(o.error is None and o.value is None for o in outcomes)


def _error_text(err):
    lines = str(err).strip().splitlines()
    msg = re.sub(r" at 0x[0-9a-fA-F]+", "", lines[0] if lines else "")
    return f"{type(err).__name__}: {msg[:200]}" if msg else type(err).__name__


def _show(label, x):
    """Print `   label = value`, arrays with 3 decimals; a pair is shown item by item."""
    if isinstance(x, tuple):
        for i, item in enumerate(x):
            _show(f"{label}[{i}]", item)
        return
    prefix = f"   {label} = "
    try:
        arr = np.asarray(x)
        if arr.dtype == bool or np.issubdtype(arr.dtype, np.number):
            text = np.array2string(arr, precision=3, suppress_small=True, separator=", ", prefix=prefix)
            print(prefix + text)
            return
    except Exception:  # noqa: BLE001
        pass
    print(prefix + _kind(x))


def _difference(got, want, where="your output"):
    """One sentence saying how `got` differs from `want`."""
    if got is None:
        return f"{where} is None: did you forget to `return` the result?"
    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"expected a pair of {len(want)} results, but {where} is {_kind(got)}"
        for i, (g, w) in enumerate(zip(got, want)):
            if not _close(g, w):
                return _difference(g, w, where=f"item {i} of your result")
    expected = "a single number" if np.ndim(want) == 0 else f"an array of shape {np.shape(want)}"
    try:
        g = np.asarray(got, dtype=np.float64)
    except Exception:  # noqa: BLE001
        return f"expected {expected}, but {where} is {_kind(got)}"
    w = np.asarray(want, dtype=np.float64)
    if w.shape == () and g.size == 1:
        g = g.reshape(())
    if g.shape != w.shape:
        return f"expected {expected}, but {where} has shape {g.shape}"
    if np.asarray(want).dtype == bool:
        if np.asarray(got).dtype != bool:
            return f"expected booleans (True/False), but {where} has dtype {np.asarray(got).dtype}"
        g, w = g.astype(bool), w.astype(bool)
    bad = ~np.isclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True)
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else ()
    at = f" at index {index}" if index else ""
    number = (lambda v: str(bool(v))) if g.dtype == bool else (lambda v: f"{v:.4g}")
    return f"{where} has {number(g[index])}{at}, expected {number(w[index])}"


def _kind(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a {type(x).__name__}"


def _check(name, student, reference, cases, mistakes, same=_close):
    """Run `student` on every case, compare with `reference`, print one verdict, return passed."""
    if not callable(student):
        print(
            f"❌ check_{name} needs your function itself: write check_{name}({name}), "
            f"without parentheses after {name}."
        )
        return False
    got = [_call(student, case) for case in cases]
    if _is_stub(got):
        print(
            f"⏳ {name} is not implemented yet: replace the `...` (or `raise NotImplementedError`) "
            f"with your code, `return` the result, then run this cell again."
        )
        return False
    want = [_call(reference, case) for case in cases]
    failing = [i for i, (g, w) in enumerate(zip(got, want)) if not _behaves_like(g, w, same)]
    if not failing:
        print(f"✅ Correct! Your {name} passed all {len(cases)} hidden cases.")
        return True

    first, case = failing[0], cases[failing[0]]
    hint = None
    for variant, text in mistakes:  # 1. a known mistake that explains every case
        theirs = [_call(variant, c) for c in cases]
        if all(_behaves_like(g, t, same) for g, t in zip(got, theirs)):
            hint = text
            break
    if hint is None and len({cases[i].hint for i in failing}) == 1:  # 2. only special cases fail
        hint = case.hint
    if hint is None and got[first].error is None:  # 3. a known mistake on the first failure
        for variant, text in mistakes:
            if _behaves_like(got[first], _call(variant, case), same):
                hint = text
                break

    where = f'hidden case "{case.label}" ({case.shapes()})'
    error = got[first].error
    if error is not None:
        print(
            f"❌ Your function raised {_error_text(error)} on input of shape {case.shapes()} "
            f'(hidden case "{case.label}").'
        )
    elif hint is not None:
        print(f"❌ Not quite: your {name} gives a wrong answer on the {where}.")
    else:
        print(f"❌ Not quite: for the {where}, {_difference(got[first].value, want[first].value)}.")
        if case.show:  # a small concrete example
            for arg, value in case.args.items():
                _show(arg, value)
            _show("expected", want[first].value)
            _show("yours", got[first].value)
    if hint is not None:
        print(f"💡 Hint: {hint}")
    return False


def _naive_softmax(x, axis=-1):
    """The softmax most students write: stable, but NaN for an all -inf row."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _T(A):
    """Swap the last two axes (the transpose that respects batch dimensions)."""
    return np.swapaxes(A, -1, -2)


BATCH_HINT = (
    "Your function works for one sentence but not with a batch dimension in front. "
    "Count axes from the end: shape[-2] / shape[-1], and np.swapaxes with negative axes "
    "(e.g. np.swapaxes(K, -1, -2)) instead of .T or transpose(1, 0, ...), so that leading "
    "batch axes are left alone."
)
LARGE_HINT = (
    "Your function works on ordinary scores but not on large ones (1e3..1e4): np.exp overflows. "
    "Subtract each row's maximum (np.max(x, axis=-1, keepdims=True)) before np.exp; "
    "the result is the same and nothing overflows."
)

# ------------------------------------------------------ cosine similarity

_RIVER = np.array([-0.9, 0.9, -0.2, 0.4, 0.2, 0.6])
_FISH = np.array([-0.7, 0.8, -0.1, -0.1, 0.5, 0.7])
_HOSPITAL = np.array([0.8, -0.3, 0.0, 0.8, 0.0, 0.6])

_COSINE_CASES = [
    Case("river vs fish", {"a": _RIVER, "b": _FISH}, show=True),
    Case("river vs hospital", {"a": _RIVER, "b": _HOSPITAL}),
    Case("random 5-d vectors", {"a": _rand(11, 5, 3.0), "b": _rand(12, 5, 0.5)}),
    Case("same direction, different lengths", {"a": _rand(13, 4), "b": 2.5 * _rand(13, 4)}),
    Case("long vectors (entries ~1e3)", {"a": _rand(14, 8, 1e3), "b": _rand(15, 8, 1e3)}),
]


def _ref_cosine(a, b):
    from helpers.embeddings import cosine_similarity  # imported here: it loads gensim

    return cosine_similarity(a, b)


def _norm(v):
    return np.linalg.norm(v)


_COSINE_MISTAKES = [
    (lambda a, b: a @ b, "You forgot to divide by the norms: cos = a·b / (‖a‖ ‖b‖)."),
    (
        lambda a, b: a @ b / ((a @ a) * (b @ b)),
        "You divided by the squared norms: a·a is ‖a‖², not ‖a‖. "
        "Use np.linalg.norm(a) (or np.sqrt(a @ a)).",
    ),
    (
        lambda a, b: a @ b / (_norm(a) + _norm(b)),
        "You added the norms: divide by their product ‖a‖ · ‖b‖ instead.",
    ),
    (
        lambda a, b: (a / _norm(a)) @ b,
        "You normalised only one vector: divide a by ‖a‖ AND b by ‖b‖ before the dot product.",
    ),
    (
        lambda a, b: (a / _norm(a)) @ (b / _norm(a)),
        "You divided both vectors by ‖a‖: b must be divided by its own norm ‖b‖.",
    ),
    (
        lambda a, b: a * b / (_norm(a) * _norm(b)),
        "You returned one number per dimension: a * b multiplies entry by entry; "
        "add them up (np.sum, or use a @ b) to get the dot product.",
    ),
    (
        lambda a, b: 1 - a @ b / (_norm(a) * _norm(b)),
        "You returned the cosine *distance* 1 - cos (what scipy's `cosine` gives): "
        "return the similarity itself.",
    ),
]


def check_cosine_similarity(cosine_similarity):
    """Check `cosine_similarity(a, b) -> float` for two 1-D vectors: a·b / (‖a‖ ‖b‖)."""
    return _check("cosine_similarity", cosine_similarity, _ref_cosine, _COSINE_CASES, _COSINE_MISTAKES)


# ----------------------------------------------------------------- scores

_SCORES_CASES = [
    Case("small example", {"Q": _rand(21, (2, 4)), "K": _rand(22, (3, 4))}, show=True),
    Case("more keys than queries", {"Q": _rand(23, (5, 8)), "K": _rand(24, (7, 8))}),
    Case("square, n = d_k", {"Q": _rand(25, (3, 3)), "K": _rand(26, (3, 3))}),
    Case("batch of 2 sentences", {"Q": _rand(27, (2, 3, 6)), "K": _rand(28, (2, 5, 6))}, BATCH_HINT),
    Case("large vectors", {"Q": _rand(29, (3, 4), 30.0), "K": _rand(30, (4, 4), 30.0)}),
]


_K_DOT_T_HINT = (
    "K.T reverses ALL axes, so with a batch dimension it mixes batches and words: "
    "use np.swapaxes(K, -1, -2) to swap only the last two."
)


def _ref_scores(Q, K):
    return Q @ _T(K) / np.sqrt(Q.shape[-1])


_SCORES_MISTAKES = [
    (lambda Q, K: Q @ _T(K), "You forgot to scale: divide Q Kᵀ by np.sqrt(d_k), with d_k = Q.shape[-1]."),
    (
        lambda Q, K: Q @ _T(K) / Q.shape[-1],
        "You divided by d_k: divide by its square root, np.sqrt(d_k).",
    ),
    (
        lambda Q, K: Q @ _T(K) / np.sqrt(Q.shape[-2]),
        "You divided by the square root of the number of words n: "
        "d_k is the length of each query/key vector, Q.shape[-1].",
    ),
    (
        lambda Q, K: Q @ _T(K) / np.sqrt(K.shape[-2]),
        "You divided by the square root of the number of keys: "
        "d_k is the length of each query/key vector, Q.shape[-1].",
    ),
    (
        lambda Q, K: Q @ K / np.sqrt(Q.shape[-1]),
        "K is not transposed: Q (n_q, d_k) @ K (n_k, d_k) does not line up; "
        "use Q @ K.T (or np.swapaxes(K, -1, -2)) so the result is (n_q, n_k).",
    ),
    (
        lambda Q, K: K @ _T(Q) / np.sqrt(Q.shape[-1]),
        "Your result is the transpose of the expected one (n_k, n_q): "
        "put the queries first, Q @ K.T, so that row i holds query i's scores.",
    ),
    (
        lambda Q, K: _T(Q) @ K / np.sqrt(Q.shape[-1]),
        "You transposed Q instead of K: the scores are Q @ K.T, shape (n_q, n_k).",
    ),
    (lambda Q, K: Q @ K.T / np.sqrt(Q.shape[-1]), _K_DOT_T_HINT),
]


def check_scores(scores):
    """Check `scores(Q, K) -> Q Kᵀ / sqrt(d_k)`, shape (..., n_q, n_k), batch dims allowed."""
    return _check("scores", scores, _ref_scores, _SCORES_CASES, _SCORES_MISTAKES)


# ---------------------------------------------------------------- softmax

_SOFTMAX_CASES = [
    Case("small example", {"x": np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 2.0]])}, show=True),
    Case("one vector of scores", {"x": np.array([2.0, 1.0, 0.1, -1.0])}),
    Case("random 4 x 5", {"x": _rand(31, (4, 5), 2.0)}),
    Case("square 3 x 3", {"x": _rand(32, (3, 3), 2.0)}),
    Case("batch of 2", {"x": _rand(33, (2, 3, 4), 2.0)}, BATCH_HINT),
    Case(
        "large scores (1e3..1e4)",
        {"x": np.array([[1000.0, 1001.0, 1002.0], [10000.0, 9999.0, 9990.0]])},
        LARGE_HINT,
    ),
    Case("masked scores (-inf)", {"x": np.array([[0.5, -np.inf, 1.5], [-np.inf, 2.0, 2.0]])}),
]

_WRONG_AXIS_HINT = (
    "You normalised over the wrong axis: your columns sum to 1, but each ROW "
    "(one query's weights) should. Use axis=-1 with keepdims=True."
)


_NO_NORMALISE_HINT = "You forgot to normalise: divide exp(x) by its row sum."


def _softmax_no_max(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _ref_softmax(x):
    return softmax(x, axis=-1)


_SOFTMAX_MISTAKES = [
    (lambda x: _naive_softmax(x, axis=0), _WRONG_AXIS_HINT),
    (lambda x: _naive_softmax(x, axis=-2), _WRONG_AXIS_HINT),
    (
        lambda x: _naive_softmax(x, axis=1),
        "axis=1 is the last axis only for a 2-D matrix: use axis=-1 so it works for a "
        "single vector and with batch dimensions too.",
    ),
    (_softmax_no_max, LARGE_HINT),
    (
        lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum(axis=-1, keepdims=True),
        "You subtracted the maximum of the whole array: subtract each row's own maximum "
        "(np.max(x, axis=-1, keepdims=True)), otherwise a row of small scores underflows to 0/0.",
    ),
    (
        lambda x: np.exp(x) / np.exp(x).sum(),
        "You divided by the sum of the whole array: each row must be divided by its own sum, "
        "np.sum(e, axis=-1, keepdims=True).",
    ),
    (
        lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(-1),
        "Without keepdims=True the row sums have shape (n,) and divide the columns instead "
        "of the rows: use np.sum(e, axis=-1, keepdims=True).",
    ),
    (lambda x: np.exp(x - x.max(-1, keepdims=True)), _NO_NORMALISE_HINT),
    (lambda x: np.exp(x), _NO_NORMALISE_HINT),
    (
        lambda x: np.exp(x) / np.exp(x).max(-1, keepdims=True),
        "You divided by the row maximum: divide by the row SUM so the weights add up to 1.",
    ),
    (
        lambda x: x / x.sum(-1, keepdims=True),
        "You forgot np.exp: softmax is exp(x) / sum(exp(x)); dividing x by its sum "
        "breaks with negative scores.",
    ),
]


def check_softmax(softmax):
    """Check `softmax(x)`: exp(x) / sum(exp(x)) along the LAST axis, stable for large x."""
    return _check("softmax", softmax, _ref_softmax, _SOFTMAX_CASES, _SOFTMAX_MISTAKES)


# ------------------------------------------------------------ causal mask

_MASK_CASES = [Case(f"n = {n}", {"n": n}, show=n == 4) for n in (4, 1, 2, 7)]


def _ref_causal_mask(n):
    return causal_mask(n)


_MASK_MISTAKES = [
    (
        lambda n: np.triu(np.ones((n, n), dtype=bool)),
        "You allowed the future instead of the past: row i (query i) may see keys j <= i, "
        "the LOWER triangle: np.tril.",
    ),
    (
        lambda n: np.tril(np.ones((n, n), dtype=bool), k=-1),
        "You left out the diagonal: a word may attend to itself (j <= i), so use np.tril "
        "without k=-1.",
    ),
    (
        lambda n: np.triu(np.ones((n, n), dtype=bool), k=1),
        "Your mask is inverted: it is True where attention is blocked. In this series True "
        "means 'may attend': use np.tril(np.ones((n, n), dtype=bool)), or ~ your mask.",
    ),
    (
        lambda n: np.tril(np.ones((n, n), dtype=int)),
        "Right pattern, but 0/1 numbers: return booleans, e.g. np.tril(np.ones((n, n), dtype=bool)) "
        "or .astype(bool). With numbers, ~mask gives -1 and -2 instead of the opposite mask.",
    ),
]


def check_causal_mask(causal_mask):
    """Check `causal_mask(n)`: boolean (n, n), True where query i may attend to key j <= i.

    0/1 integers or floats with the right pattern fail, with a hint to return booleans.
    """
    return _check("causal_mask", causal_mask, _ref_causal_mask, _MASK_CASES, _MASK_MISTAKES, same=_same_mask)


# --------------------------------------------------------- masked softmax

_CAUSAL3, _CAUSAL4 = causal_mask(3), causal_mask(4)
_PAD = np.broadcast_to(np.arange(5) < 3, (3, 5)).copy()  # 3 queries, keys 3 and 4 are padding
_BATCH_MASK = np.stack([np.tril(np.ones((3, 4), dtype=bool), k=1), np.broadcast_to(np.arange(4) < 2, (3, 4))])


_MASKED_CASES = [
    Case("small causal example", {"scores": _rand(41, (3, 3)), "mask": _CAUSAL3}, show=True),
    Case("random 4 x 4, causal", {"scores": _rand(42, (4, 4), 2.0), "mask": _CAUSAL4}),
    Case("3 queries, 5 keys, 2 padding keys", {"scores": _rand(43, (3, 5), 2.0), "mask": _PAD}),
    Case("batch of 2", {"scores": _rand(44, (2, 3, 4), 2.0), "mask": _BATCH_MASK}, BATCH_HINT),
    Case(
        "large scores (1e3..1e4), causal",
        {"scores": _rand(45, (4, 4), 4000.0), "mask": _CAUSAL4},
        LARGE_HINT,
    ),
]


def _ref_masked_softmax(scores, mask):
    return softmax(np.where(mask, scores, -np.inf), axis=-1)


_MASK_AFTER_HINT = (
    "You applied the mask after the softmax, so the rows no longer sum to 1. "
    "Mask the SCORES first (np.where(mask, scores, -np.inf)), then take the softmax."
)
_ZERO_FILL_HINT = (
    "Masked scores must be -inf, not 0: exp(0) = 1, so the masked words still get weight. "
    "Use np.where(mask, scores, -np.inf); exp(-inf) = 0."
)
_INVERTED_HINT = (
    "Your mask is inverted: True means 'may attend', so keep the scores where mask is True "
    "and put -inf where it is False: np.where(mask, scores, -np.inf)."
)


def _mask_after_renormalised(scores, mask):
    w = _naive_softmax(scores) * mask
    return w / w.sum(axis=-1, keepdims=True)


_MASKED_MISTAKES = [
    (lambda s, m: _naive_softmax(s) * m, _MASK_AFTER_HINT),
    (lambda s, m: _naive_softmax(np.where(m, s, 0.0)), _ZERO_FILL_HINT),
    (lambda s, m: _naive_softmax(np.where(m, -np.inf, s)), _INVERTED_HINT),
    (lambda s, m: softmax(np.where(m, -np.inf, s)), _INVERTED_HINT),
    (
        _mask_after_renormalised,
        "Masking after the softmax and re-normalising works on paper, but when the allowed "
        "scores are much smaller than the masked ones their weights underflow to 0 and you "
        "divide 0 by 0. Mask the scores first (-inf), then take the softmax.",
    ),
    (lambda s, m: _naive_softmax(np.where(m, s, -np.inf), axis=0), _WRONG_AXIS_HINT),
    (lambda s, m: _softmax_no_max(np.where(m, s, -np.inf)), LARGE_HINT),
]


def check_masked_softmax(masked_softmax):
    """Check `masked_softmax(scores, mask) -> weights`: -inf where mask is False, then softmax.

    mask is boolean, True = may attend; masked weights must be 0 and rows sum to 1.
    """
    return _check("masked_softmax", masked_softmax, _ref_masked_softmax, _MASKED_CASES, _MASKED_MISTAKES)


def check_apply_mask(apply_mask):
    """Same as check_masked_softmax, for notebooks that call the function `apply_mask(scores, mask)`."""
    return _check("apply_mask", apply_mask, _ref_masked_softmax, _MASKED_CASES, _MASKED_MISTAKES)


# -------------------------------------------------------------- attention

_ATTENTION_CASES = [
    Case(
        "small example",
        {"Q": _rand(51, (2, 4)), "K": _rand(52, (3, 4)), "V": _rand(53, (3, 2))},
        show=True,
    ),
    Case("4 queries, 6 keys", {"Q": _rand(54, (4, 8)), "K": _rand(55, (6, 8)), "V": _rand(56, (6, 5))}),
    Case(
        "self-attention with a causal mask",
        {"Q": _rand(57, (4, 4)), "K": _rand(58, (4, 4)), "V": _rand(59, (4, 4)), "mask": _CAUSAL4},
    ),
    Case(
        "3 queries, 5 keys, 2 padding keys",
        {"Q": _rand(60, (3, 4)), "K": _rand(61, (5, 4)), "V": _rand(62, (5, 2)), "mask": _PAD},
    ),
    Case(
        "batch of 2",
        {"Q": _rand(63, (2, 3, 4)), "K": _rand(64, (2, 5, 4)), "V": _rand(65, (2, 5, 3))},
        BATCH_HINT,
    ),
    Case(
        "large scores (1e3..1e4)",
        {"Q": _rand(66, (3, 4), 40.0), "K": _rand(67, (5, 4), 40.0), "V": _rand(68, (5, 2))},
        LARGE_HINT,
    ),
]


def _ref_attention(Q, K, V, mask=None):
    return scaled_dot_product_attention(Q, K, V, mask)


def _attend(Q, K, V, mask=None, scale=True, axis=-1, fill=-np.inf, mask_after=False, stable=True, t=_T):
    """Attention with one knob turned the wrong way (all knobs at default = correct)."""
    scores = Q @ t(K)
    if scale:
        scores = scores / np.sqrt(Q.shape[-1])
    if mask is not None and not mask_after:
        scores = np.where(mask, scores, fill)
    weights = _naive_softmax(scores, axis) if stable else _softmax_no_max(scores)
    if mask is not None and mask_after:
        weights = weights * mask
    return weights @ V, weights


def _output_only(Q, K, V, mask=None):
    return _ref_attention(Q, K, V, mask)[0]


def _swapped_pair(Q, K, V, mask=None):
    output, weights = _ref_attention(Q, K, V, mask)
    return weights, output


def _output_transposed(Q, K, V, mask=None):
    output, weights = _ref_attention(Q, K, V, mask)
    return _T(output), weights


def _v_first(Q, K, V, mask=None):
    _, weights = _ref_attention(Q, K, V, mask)
    return V @ weights, weights


_ATTENTION_MISTAKES = [
    (
        lambda Q, K, V, mask=None: _attend(Q, K, V, mask, scale=False),
        "You forgot to scale the scores by 1 / np.sqrt(d_k).",
    ),
    (lambda Q, K, V, mask=None: _attend(Q, K, V, mask, axis=-2), _WRONG_AXIS_HINT),
    (lambda Q, K, V, mask=None: _attend(Q, K, V, mask, axis=0), _WRONG_AXIS_HINT),
    (
        lambda Q, K, V, mask=None: _attend(Q, K, V, mask, t=lambda K: K),
        "K is not transposed: the scores are Q @ K.T (n_q, n_k), not Q @ K.",
    ),
    (lambda Q, K, V, mask=None: _attend(Q, K, V, mask, t=np.transpose), _K_DOT_T_HINT),
    (
        _output_transposed,
        "Your output is transposed: compute weights @ V, (n_q, n_k) @ (n_k, d_v) -> (n_q, d_v).",
    ),
    (
        _v_first,
        "Multiply weights @ V, not V @ weights: each output row is a weighted average of the rows of V.",
    ),
    (lambda Q, K, V, mask=None: _attend(Q, K, V, mask, mask_after=True), _MASK_AFTER_HINT),
    (lambda Q, K, V, mask=None: _attend(Q, K, V, mask, fill=0.0), _ZERO_FILL_HINT),
    (
        lambda Q, K, V, mask=None: _attend(Q, K, V),
        "Your function ignores `mask`: when it is given, put -inf where it is False "
        "(np.where(mask, scores, -np.inf)) before the softmax.",
    ),
    (_output_only, "Return both results, as a pair: `return output, weights`."),
    (_swapped_pair, "Return the pair in the order (output, weights)."),
    (lambda Q, K, V, mask=None: _attend(Q, K, V, mask, stable=False), LARGE_HINT),
]


def check_attention(attention):
    """Check `attention(Q, K, V, mask=None) -> (output, weights)`.

    output = softmax(Q Kᵀ / sqrt(d_k), masked) @ V of shape (..., n_q, d_v);
    weights (..., n_q, n_k). Cases with a mask pass it as the 4th argument.
    """
    return _check("attention", attention, _ref_attention, _ATTENTION_CASES, _ATTENTION_MISTAKES)


# ------------------------------------------------------------ split heads

_SPLIT_CASES = [
    Case("small example", {"X": np.arange(16.0).reshape(4, 4), "num_heads": 2}, show=True),
    Case("4 words, d_model = 6, 2 heads", {"X": _rand(71, (4, 6)), "num_heads": 2}),
    Case("6 words, d_model = 6, 3 heads", {"X": _rand(72, (6, 6)), "num_heads": 3}),
    Case("one head", {"X": _rand(73, (3, 4)), "num_heads": 1}),
    Case("batch of 2, 3 heads", {"X": _rand(74, (2, 3, 6)), "num_heads": 3}, BATCH_HINT),
]


def _split_rows(X, h):
    return np.stack(np.split(X, h, axis=-2), axis=-3)


def _split_interleaved(X, h):
    return np.moveaxis(X.reshape(*X.shape[:-1], X.shape[-1] // h, h), -1, -3)


def _split_plain_reshape(X, h):
    return X.reshape(*X.shape[:-2], h, X.shape[-2], X.shape[-1] // h)


def _split_no_transpose(X, h):
    return X.reshape(*X.shape[:-1], h, X.shape[-1] // h)


def _ref_split_heads(X, num_heads):
    return split_heads(X, num_heads)


_SPLIT_MISTAKES = [
    (
        _split_plain_reshape,
        "A plain X.reshape(num_heads, n, d_k) mixes words and heads: reshape to "
        "(n, num_heads, d_k) first, then swap the first two axes "
        "(np.swapaxes(..., -3, -2)).",
    ),
    (
        _split_rows,
        "You split the words (rows) between the heads: every head sees ALL words, "
        "and gets its own slice of COLUMNS, head h = X[:, h*d_k:(h+1)*d_k].",
    ),
    (
        _split_interleaved,
        "Your heads take every num_heads-th column (interleaved): head h should get the "
        "consecutive columns h*d_k:(h+1)*d_k, i.e. reshape to (n, num_heads, d_k), not (n, d_k, num_heads).",
    ),
    (
        _split_no_transpose,
        "You reshaped to (n, num_heads, d_k) but did not move the heads to the front: "
        "swap the first two axes to get (num_heads, n, d_k).",
    ),
]


def check_split_heads(split_heads):
    """Check `split_heads(X, num_heads)`: (..., n, d_model) -> (..., num_heads, n, d_k).

    Head h gets the consecutive columns h*d_k:(h+1)*d_k, d_k = d_model // num_heads.
    """
    return _check("split_heads", split_heads, _ref_split_heads, _SPLIT_CASES, _SPLIT_MISTAKES)


# ------------------------------------------------------------- multi-head


def _weights(seed, d):
    return [_rand(seed + i, (d, d), 0.5) for i in range(1, 5)]


def _mh_case(label, seed, n, d, h, scale=1.0):
    W_q, W_k, W_v, W_o = _weights(seed, d)
    args = {"X": _rand(seed, (n, d), scale), "W_q": W_q, "W_k": W_k, "W_v": W_v, "W_o": W_o, "num_heads": h}
    return Case(label, args, LARGE_HINT if scale > 1 else None)


_MULTI_CASES = [
    _mh_case("3 words, d_model = 4, 2 heads", 81, 3, 4, 2),
    _mh_case("5 words, d_model = 6, 3 heads", 86, 5, 6, 3),
    _mh_case("4 words, d_model = 8, 2 heads", 91, 4, 8, 2),
    _mh_case("large scores", 96, 4, 6, 2, scale=30.0),
]


def _ref_multi_head(X, W_q, W_k, W_v, W_o, num_heads):
    return multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads)[0]


def _multi_head_variant(split=split_heads, merge=merge_heads, use_w_o=True, scale_by_d_model=False):
    """Multi-head attention with one step done the wrong way."""

    def f(X, W_q, W_k, W_v, W_o, num_heads):
        Q, K, V = (split(X @ W, num_heads) for W in (W_q, W_k, W_v))
        if scale_by_d_model:
            Q = Q * np.sqrt(Q.shape[-1] / X.shape[-1])  # scores / sqrt(d_model) instead of sqrt(d_k)
        heads, _ = _attend(Q, K, V)
        merged = merge(heads)
        return merged @ W_o if use_w_o else merged

    return f


def _merge_plain_reshape(H):
    return H.reshape(*H.shape[:-3], H.shape[-2], H.shape[-3] * H.shape[-1])


_SPLIT_HINT = (
    "Your heads are split wrong: head h must get the consecutive columns h*d_k:(h+1)*d_k "
    "of X @ W_q (and the same for K and V). Test your split_heads with check_split_heads."
)


_MULTI_MISTAKES = [
    (
        _multi_head_variant(use_w_o=False),
        "You forgot the output projection: multiply the concatenated heads by W_o.",
    ),
    (
        _multi_head_variant(merge=lambda H: merge_heads(H[..., ::-1, :, :])),
        "You concatenated the heads in reverse order: head 0 comes first (columns 0..d_k-1).",
    ),
    (
        _multi_head_variant(merge=_merge_plain_reshape),
        "You concatenated the heads wrong: (num_heads, n, d_k) -> (n, num_heads * d_k) needs the "
        "heads axis moved next to d_k first, e.g. np.concatenate(list(heads), axis=-1).",
    ),
    (_multi_head_variant(split=_split_plain_reshape), _SPLIT_HINT),
    (_multi_head_variant(split=_split_plain_reshape, merge=_merge_plain_reshape), _SPLIT_HINT),
    (_multi_head_variant(split=_split_interleaved), _SPLIT_HINT),
    (
        _multi_head_variant(scale_by_d_model=True),
        "Scale by sqrt(d_k), the size of ONE head (d_k = d_model // num_heads), not by sqrt(d_model).",
    ),
    (
        lambda X, W_q, W_k, W_v, W_o, num_heads: _attend(X @ W_q, X @ W_k, X @ W_v)[0] @ W_o,
        "You computed one big head: split Q, K and V into num_heads heads of d_k columns each, "
        "attend in every head, then concatenate.",
    ),
]


def _first_if_pair(result):
    return result[0] if isinstance(result, (tuple, list)) and len(result) == 2 else result


def check_multi_head(multi_head):
    """Check `multi_head(X, W_q, W_k, W_v, W_o, num_heads)` -> output (n, d_model).

    Returning (output, weights) is fine too: only the output is compared.
    """

    def output_only(*args):
        return _first_if_pair(multi_head(*args))

    student = output_only if callable(multi_head) else multi_head
    return _check("multi_head", student, _ref_multi_head, _MULTI_CASES, _MULTI_MISTAKES)


# ------------------------------------------------------------- positions (notebook 06)


def _ref_sinusoidal(n, d, base=100.0):
    return sinusoidal(n, d, base)


def _sin_cos_swapped(n, d, base=100.0):
    table = sinusoidal(n, d + d % 2, base)
    table[:, 0::2], table[:, 1::2] = table[:, 1::2].copy(), table[:, 0::2].copy()
    return table[:, :d]


def _exponent_i_over_d(n, d, base=100.0):  # base^(i/d) with i the pair number, not 2i
    return _waves(n, d, lambda j: base ** (-(j // 2) / d))


def _exponent_column_over_d(n, d, base=100.0):  # base^(j/d) with j the column number
    return _waves(n, d, lambda j: base ** (-j / d))


def _positions_from_one(n, d, base=100.0):
    return sinusoidal(n + 1, d, base)[1:]


def _waves(n, d, freq_of_column):
    """sin on even columns, cos on odd ones, column j at frequency freq_of_column(j)."""
    p = np.arange(n)[:, None]
    j = np.arange(d)[None, :]
    angle = p * freq_of_column(j)
    return np.where(j % 2 == 0, np.sin(angle), np.cos(angle))


_SINUSOIDAL_CASES = [
    Case("the toy table: 9 positions, 6 numbers", {"n": 9, "d": 6}, show=False),
    Case("2 positions, 4 numbers", {"n": 2, "d": 4}, show=True),
    Case("20 positions, 16 numbers", {"n": 20, "d": 16}),
    Case("the paper's base 10000", {"n": 5, "d": 8, "base": 10000.0}),
]

_SINUSOIDAL_MISTAKES = [
    (_sin_cos_swapped, "Even columns (0, 2, 4, ...) hold the sin and odd columns the cos: "
                       "you swapped them. Row 0 must be [0, 1, 0, 1, ...]."),
    (_positions_from_one, "Positions start at 0 (the first word), so row 0 is [0, 1, 0, 1, ...]: "
                          "use np.arange(n), not np.arange(1, n + 1)."),
    (_exponent_i_over_d, "The exponent is 2i/d where i counts the PAIRS: columns 2i and 2i+1 share "
                         "the angle p / base^(2i/d). Yours uses i/d."),
    (_exponent_column_over_d, "Columns 2i and 2i+1 share ONE angle, p / base^(2i/d): the cos column "
                              "uses the same frequency as the sin column just before it."),
]


def check_sinusoidal(sinusoidal):
    """Check `sinusoidal(n, d, base=100.0)` -> (n, d): column 2i = sin(p / base^(2i/d)),
    column 2i+1 = cos of the same angle, positions p = 0 .. n-1."""
    return _check("sinusoidal", sinusoidal, _ref_sinusoidal, _SINUSOIDAL_CASES, _SINUSOIDAL_MISTAKES)


def _ref_rotate(x, positions, base=100.0):
    return rotate(x, positions, base)


def _rotate_backwards(x, positions, base=100.0):
    return _turn(x, positions, base, sign=-1)


def _rotate_halves(x, positions, base=100.0):  # pairs (i, i + d/2): the other common layout
    d = x.shape[-1]
    order = np.arange(d).reshape(2, d // 2).T.reshape(-1)  # 0, d/2, 1, d/2+1, ...
    out = np.empty_like(x)
    out[..., order] = rotate(x[..., order], positions, base)
    return out


def _rotate_one_frequency(x, positions, base=100.0):
    return _turn(x, positions, base, same_angle=True)


def _turn(x, positions, base, sign=1, same_angle=False):
    d = x.shape[-1]
    freqs = np.ones(d // 2) if same_angle else base ** (-np.arange(0, d, 2) / d)
    theta = sign * np.asarray(positions, float)[:, None] * freqs[None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * np.cos(theta) - b * np.sin(theta)
    out[..., 1::2] = a * np.sin(theta) + b * np.cos(theta)
    return out


_ROTATE_CASES = [
    Case("one row at position 1", {"x": np.array([[1.0, 0.0, 1.0, 0.0]]), "positions": np.array([1])},
         show=True),
    Case("4 words, 6 numbers", {"x": _rand(61, (4, 6)), "positions": np.arange(4)}),
    Case("positions out of order", {"x": _rand(62, (3, 8)), "positions": np.array([5, 0, 2])}),
    Case("a batch (2, 3, 4)", {"x": _rand(63, (2, 3, 4)), "positions": np.arange(3)},
         hint="Only the batch case fails: take the pairs with x[..., 0::2] and x[..., 1::2], "
              "so that any leading dimensions come along."),
]

_ROTATE_MISTAKES = [
    (_rotate_backwards, "Your arrows turn the wrong way: (a, b) becomes "
                        "(a cos θ − b sin θ, a sin θ + b cos θ), a turn by +θ."),
    (_rotate_halves, "You paired number i with number i + d/2 (the 'rotate half' layout some "
                     "libraries use). Here a pair is two neighbours: (0, 1), (2, 3), ..."),
    (_rotate_one_frequency, "Every pair turns at its own speed: pair i by p / base^(2i/d), "
                            "not all by p radians."),
]


def check_rotate(rotate):
    """Check `rotate(x, positions, base=100.0)`: RoPE on the last axis, pairs (2i, 2i+1)
    turned by positions[row] / base^(2i/d)."""
    return _check("rotate", rotate, _ref_rotate, _ROTATE_CASES, _ROTATE_MISTAKES)


# ------------------------------------------------------------- notebook 07: the block


def _ref_layer_norm(x, gain, bias, eps=1e-5):
    return layer_norm(x, gain, bias, eps)


def _ln(x, gain, bias, eps=1e-5, ddof=0, axis=-1, use_eps=True, affine=True):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    out = (x - mean) / np.sqrt(var + (eps if use_eps else 0.0))
    return out * gain + bias if affine else out


_LAYER_NORM_CASES = [
    Case("one word, 4 numbers", {"x": np.array([[1.0, 2.0, 3.0, 6.0]]), "gain": np.ones(4),
                                 "bias": np.zeros(4)}, show=True),
    Case("3 words, 6 numbers, gain and bias", {"x": _rand(71, (3, 6)), "gain": _rand(72, 6),
                                               "bias": _rand(73, 6)}),
    Case("a constant word", {"x": np.full((2, 5), 3.0), "gain": np.ones(5), "bias": np.full(5, 0.5)},
         hint="Only the constant word fails: its variance is 0, so divide by sqrt(variance + eps), "
              "not by the standard deviation alone."),
    Case("a batch (2, 3, 4)", {"x": _rand(74, (2, 3, 4)), "gain": _rand(75, 4), "bias": _rand(76, 4)},
         hint="Only the batch case fails: take the mean and variance over the last axis "
              "(axis=-1, keepdims=True)."),
]

_LAYER_NORM_MISTAKES = [
    (lambda x, gain, bias, eps=1e-5: _ln(x, gain, bias, eps, ddof=1),
     "Use the population variance (divide by d, np.var's default), not d − 1: that is what the "
     "paper and PyTorch's LayerNorm do."),
    (lambda x, gain, bias, eps=1e-5: _ln(x, gain, bias, eps, axis=0),
     "You normalised each column (over the words). Layer norm works on each word alone: "
     "the mean and variance of its own d numbers, axis=-1."),
    (lambda x, gain, bias, eps=1e-5: _ln(x, gain, bias, eps, affine=False),
     "The numbers are normalised, but the gain and bias are missing: multiply by gain, then add bias."),
    (lambda x, gain, bias, eps=1e-5: _ln(x, gain, bias, eps, use_eps=False),
     "Add eps to the variance before the square root, so that a constant word gives 0, not NaN."),
]


def check_layer_norm(layer_norm_function):
    """Check `layer_norm(x, gain, bias, eps=1e-5)`: each row to mean 0, variance 1, then * gain + bias."""
    return _check("layer_norm", layer_norm_function, _ref_layer_norm, _LAYER_NORM_CASES, _LAYER_NORM_MISTAKES)


def _block_weights(seed, d, scale=0.5):
    rng = np.random.default_rng(seed)
    att = tuple(np.round(rng.normal(size=(d, d)) * scale, 2) for _ in range(4))
    ffn = (np.round(rng.normal(size=(d, 4 * d)) * scale, 2), np.round(rng.normal(size=4 * d) * 0.1, 2),
           np.round(rng.normal(size=(4 * d, d)) * scale, 2), np.round(rng.normal(size=d) * 0.1, 2))
    return att, ffn


def _ref_pre_norm_block(X, attention_weights, ffn_weights, num_heads):
    return transformer_block(X, attention_weights, ffn_weights, num_heads)[0]


def _post_norm_block(X, attention_weights, ffn_weights, num_heads):
    return transformer_block(X, attention_weights, ffn_weights, num_heads, norm_first=False)[0]


def _no_residual_block(X, attention_weights, ffn_weights, num_heads):
    return transformer_block(X, attention_weights, ffn_weights, num_heads, residual=False)[0]


def _normed_residual_block(X, attention_weights, ffn_weights, num_heads):
    x = layer_norm(X)
    x = x + multi_head_attention(x, *attention_weights, num_heads)[0]
    y = layer_norm(x)
    return y + feed_forward(y, *ffn_weights)


def _attention_only_block(X, attention_weights, ffn_weights, num_heads):
    return X + multi_head_attention(layer_norm(X), *attention_weights, num_heads)[0]


_BLOCK_CASES = [
    Case("3 words, d_model 4, 1 head", {"X": _rand(81, (3, 4)), "attention_weights": _block_weights(82, 4)[0],
                                        "ffn_weights": _block_weights(82, 4)[1], "num_heads": 1}),
    Case("5 words, d_model 6, 2 heads", {"X": _rand(83, (5, 6)), "attention_weights": _block_weights(84, 6)[0],
                                         "ffn_weights": _block_weights(84, 6)[1], "num_heads": 2}),
    Case("a batch (2, 4, 6), 3 heads", {"X": _rand(85, (2, 4, 6)), "attention_weights": _block_weights(86, 6)[0],
                                        "ffn_weights": _block_weights(86, 6)[1], "num_heads": 3},
         hint="Only the batch case fails: use functions that work on the last axes "
              "(attention.multi_head_attention, transformer.layer_norm, transformer.feed_forward)."),
]

_BLOCK_MISTAKES = [
    (_post_norm_block, "This is the post-norm block of the paper (normalise after adding). Pre-norm "
                       "normalises the input of each sub-layer: x = x + MHA(LN(x)), then x = x + FFN(LN(x))."),
    (_no_residual_block, "The residual connections are missing: add the sub-layer's output to x "
                         "(x + MHA(LN(x))), do not replace x with it."),
    (_normed_residual_block, "You added the sub-layer's output to the normalised x. The residual adds "
                             "to x itself: x + MHA(LN(x)), so the word's own vector goes around untouched."),
    (_attention_only_block, "The attention half is right; the feed-forward half is missing: "
                            "x = x + FFN(LN(x)) after it."),
]


def check_pre_norm_block(block):
    """Check `block(X, attention_weights, ffn_weights, num_heads)`: one pre-norm transformer block
    (gain 1, bias 0 in both layer norms), returning only the output."""
    return _check("pre_norm_block", block, _ref_pre_norm_block, _BLOCK_CASES, _BLOCK_MISTAKES)


# ------------------------------------------------------------------ notebook 09: a trained transformer


def _head(X, gain, bias, W_q, W_k, num_heads, head, norm=True, mask=True, scale="d_k"):
    """One head's weights in a pre-norm block; the keywords switch off a step (the usual mistakes)."""
    from helpers.transformer import layer_norm
    a = layer_norm(X, gain, bias) if norm else X
    d_k = X.shape[-1] // num_heads
    cols = slice(head * d_k, (head + 1) * d_k)
    scores = (a @ W_q[:, cols]) @ (a @ W_k[:, cols]).T
    scores = scores / {"d_k": np.sqrt(d_k), "d_model": np.sqrt(X.shape[-1]), None: 1.0}[scale]
    if mask:
        scores = np.where(causal_mask(len(X)), scores, -np.inf)
    return softmax(scores)


def _ref_head_weights(X, gain, bias, W_q, W_k, num_heads, head):
    return _head(X, gain, bias, W_q, W_k, num_heads, head)


def _mistake(**switch):
    return lambda X, gain, bias, W_q, W_k, num_heads, head: _head(X, gain, bias, W_q, W_k, num_heads, head,
                                                                 **switch)


def _head_case(seed, n, d, heads, head, label, **extra):
    rng = np.random.default_rng(seed)
    return Case(label, {"X": _rand(seed, (n, d)), "gain": np.round(1 + 0.3 * rng.normal(size=d), 1),
                        "bias": np.round(0.2 * rng.normal(size=d), 1), "W_q": _rand(seed + 1, (d, d), 0.5),
                        "W_k": _rand(seed + 2, (d, d), 0.5), "num_heads": heads, "head": head}, **extra)


_HEAD_CASES = [
    _head_case(91, 3, 4, 2, 0, "3 words, d_model 4, head 0 of 2", show=True),
    _head_case(92, 6, 8, 4, 2, "6 words, d_model 8, head 2 of 4"),
    _head_case(93, 10, 24, 4, 3, "10 words, d_model 24, head 3 of 4 (the model's sizes)"),
]

_HEAD_MISTAKES = [
    (_mistake(norm=False), "The block normalises first: a = layer_norm(X, gain, bias), then Q = a @ W_q "
                            "(pre-norm, as in GPT-2)."),
    (_mistake(mask=False), "A decoder word may not look ahead: mask the scores above the diagonal "
                            "(helpers.attention.causal_mask) before the softmax."),
    (_mistake(scale=None), "Divide the scores by √d_k, where d_k = d_model / num_heads (notebook 02)."),
    (_mistake(scale="d_model"), "Divide by √d_k of ONE head (d_model / num_heads), not by √d_model."),
]


def check_head_weights(head_weights):
    """Check `head_weights(X, gain, bias, W_q, W_k, num_heads, head)`: one head's causal
    attention weights (n, n) in a pre-norm block whose input is X (n, d_model)."""
    return _check("head_weights", head_weights, _ref_head_weights, _HEAD_CASES, _HEAD_MISTAKES)


def _ref_next_word_probabilities(logits, temperature):
    return softmax(np.asarray(logits, dtype=float), temperature=temperature)


def _probabilities_times_t(logits, temperature):
    return softmax(np.asarray(logits, dtype=float) * temperature)


def _probabilities_powered(logits, temperature):
    return softmax(np.asarray(logits, dtype=float)) ** (1.0 / temperature)


_TEMPERATURE_CASES = [
    Case("4 words at T = 1", {"logits": np.array([2.0, 1.0, 0.0, -1.0]), "temperature": 1.0}, show=True),
    Case("4 words at T = 0.5", {"logits": np.array([2.0, 1.0, 0.0, -1.0]), "temperature": 0.5}),
    Case("a whole vocabulary at T = 2", {"logits": _rand(95, (300,), 3.0), "temperature": 2.0}),
    Case("huge logits", {"logits": np.array([1000.0, 999.0, 0.0]), "temperature": 1.0},
         hint="Only the huge logits fail: subtract the largest logit before exp (notebook 03), "
              "or call helpers.attention.softmax."),
]

_TEMPERATURE_MISTAKES = [
    (_probabilities_times_t, "Divide the logits by T: a small T makes the differences bigger (sharper)."),
    (_probabilities_powered, "Scale the logits before the softmax, not the probabilities after it: "
                             "softmax(logits / T) sums to 1 for every T."),
]


def check_next_word_probabilities(next_word_probabilities):
    """Check `next_word_probabilities(logits, temperature)`: softmax(logits / T) over a vocabulary."""
    return _check("next_word_probabilities", next_word_probabilities, _ref_next_word_probabilities,
                  _TEMPERATURE_CASES, _TEMPERATURE_MISTAKES)


# ------------------------------------------------------ softmax backward (lesson 08)


def _ref_softmax_backward(weights, d_weights, axis=-1):
    from helpers.training import softmax_backward

    return softmax_backward(weights, d_weights, axis=axis)


def _backward_no_sum(weights, d_weights, axis=-1):  # the diagonal of the Jacobian only
    return weights * d_weights


def _backward_diagonal(weights, d_weights, axis=-1):  # w (1 − w) g: the diagonal, no cross terms
    return weights * (1 - weights) * d_weights


def _backward_axis_ignored(weights, d_weights, axis=-1):  # always sums along the last axis
    return weights * (d_weights - np.sum(weights * d_weights, axis=-1, keepdims=True))


def _backward_sum_over_all(weights, d_weights, axis=-1):  # one sum over the whole array
    return weights * (d_weights - np.sum(weights * d_weights))


def _backward_plain_sum(weights, d_weights, axis=-1):  # Σ g instead of Σ w g
    return weights * (d_weights - np.sum(d_weights, axis=axis, keepdims=True))


def _backward_no_w_factor(weights, d_weights, axis=-1):  # forgot the w ⊙ in front
    return d_weights - np.sum(weights * d_weights, axis=axis, keepdims=True)


def _backward_no_keepdims(weights, d_weights, axis=-1):  # the sum loses its axis
    return weights * (d_weights - np.sum(weights * d_weights, axis=axis))


def _soft(seed, shape, axis=-1):
    return softmax(_rand(seed, shape, 2.0), axis=axis)


_SOFTMAX_BACKWARD_CASES = [
    Case("one row of 3 weights", {"weights": softmax(np.array([1.0, 2.0, 0.0])),
                                  "d_weights": np.array([1.0, 0.0, -1.0])}, show=True),
    Case("bank's row: 9 weights", {"weights": _soft(81, 9), "d_weights": _rand(82, 9)}),
    Case("4 rows of 5, axis=-1", {"weights": _soft(83, (4, 5)), "d_weights": _rand(84, (4, 5))}),
    Case("columns: 3 x 4, axis=0", {"weights": _soft(85, (3, 4), axis=0), "d_weights": _rand(86, (3, 4)),
                                    "axis": 0},
         hint="Only the axis=0 case fails: sum along the `axis` you are given "
              "(np.sum(..., axis=axis, keepdims=True)), not always along the last one."),
    Case("a batch (2, 3, 4)", {"weights": _soft(87, (2, 3, 4)), "d_weights": _rand(88, (2, 3, 4))}),
]

_SOFTMAX_BACKWARD_MISTAKES = [
    (_backward_no_sum, "You return w ⊙ g: the sum term is missing. Every weight depends on every "
                       "score (they share one total), so subtract Σ_j w_j g_j: w ⊙ (g − Σ w g)."),
    (_backward_diagonal, "w (1 − w) g is only the diagonal of the softmax Jacobian: a score also moves "
                         "the other weights of its row. Use w ⊙ (g − Σ_j w_j g_j)."),
    (_backward_plain_sum, "The sum is weighted: Σ_j w_j g_j (np.sum(w * g, ...)), not Σ_j g_j."),
    (_backward_no_w_factor, "Multiply by w in front: the gradient is w ⊙ (g − Σ w g), so a weight "
                            "near 0 passes almost nothing back."),
    (_backward_axis_ignored, "Sum along the `axis` you are given, np.sum(w * g, axis=axis, keepdims=True): "
                             "with axis=0 each column is one softmax, not each row."),
    (_backward_no_keepdims, "Keep the summed axis, np.sum(w * g, axis=axis, keepdims=True), so that the "
                            "sum of each row lines up with that row when you subtract it."),
    (_backward_sum_over_all, "Sum along one axis with keepdims=True, np.sum(w * g, axis=axis, keepdims=True): "
                             "each row (or column) is its own softmax, not the whole array."),
]


def check_softmax_backward(softmax_backward):
    """Check `softmax_backward(weights, d_weights, axis=-1)`: the gradient with respect to the
    softmax input, w ⊙ (g − Σ w g) along `axis`, given w = softmax(s) and g = ∂L/∂w."""
    return _check("softmax_backward", softmax_backward, _ref_softmax_backward, _SOFTMAX_BACKWARD_CASES,
                  _SOFTMAX_BACKWARD_MISTAKES)


# ------------------------------------------------------ one gradient-descent step (lesson 08)


def _params(seed):
    return {"W_q": _rand(seed, (6, 3)), "W_k": _rand(seed + 1, (6, 3)), "W_v": _rand(seed + 2, (6, 3)),
            "u": _rand(seed + 3, 3), "c": 0.5}


def _ref_gradient_step(params, grads, lr):
    return {name: params[name] - lr * grads[name] for name in params}


def _step_uphill(params, grads, lr):
    return {name: params[name] + lr * grads[name] for name in params}


def _step_no_rate(params, grads, lr):
    return {name: params[name] - grads[name] for name in params}


def _step_divided(params, grads, lr):
    return {name: params[name] - grads[name] / lr for name in params}


def _step_gradient_only(params, grads, lr):
    return {name: -lr * grads[name] for name in params}


def _same_params(got, want):
    """The same parameter names, each with the same values."""
    if isinstance(want, dict):
        return isinstance(got, dict) and set(got) == set(want) and all(_close(got[k], want[k]) for k in want)
    return _close(got, want)


_STEP_CASES = [
    Case("a tiny model: one weight", {"params": {"w": np.array([1.0])}, "grads": {"w": np.array([2.0])},
                                      "lr": 0.1}, show=True),
    Case("the head of lesson 08, lr 1", {"params": _params(91), "grads": _params(96), "lr": 1.0}),
    Case("the head of lesson 08, lr 0.3", {"params": _params(101), "grads": _params(106), "lr": 0.3}),
]

_STEP_MISTAKES = [
    (_step_uphill, "You add the gradient: that climbs the loss. Gradient descent goes DOWN: "
                   "new = old − lr × gradient."),
    (_step_no_rate, "The learning rate is missing: new = old − lr × gradient."),
    (_step_divided, "Multiply the gradient by the learning rate, do not divide: new = old − lr × gradient."),
    (_step_gradient_only, "Start from the old weights: new = old − lr × gradient, not − lr × gradient alone."),
]


def check_gradient_step(gradient_step):
    """Check `gradient_step(params, grads, lr)` -> a new dict: every parameter minus lr × its gradient."""
    return _check("gradient_step", gradient_step, _ref_gradient_step, _STEP_CASES, _STEP_MISTAKES,
                  same=_same_params)
