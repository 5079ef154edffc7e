"""Tests of helpers.checks: each checker passes the right answer, names each typical
mistake with its own hint, is friendly to stubs, and never lets a traceback out.

The wrong implementations below are written the way a student would write them,
independently of the variants inside helpers.checks.
"""

import warnings

import numpy as np
import pytest

from helpers import checks

PASS = "✅ Correct!"
STUB = "is not implemented yet"


def run(capsys, checker, f):
    """Call checker(f) with warnings turned into errors; return (result, printed text)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning escaping would fail the test
        result = checker(f)
    out = capsys.readouterr().out
    assert "Traceback" not in out and " at 0x" not in out
    return result, out


def assert_hint(capsys, checker, f, phrase):
    result, out = run(capsys, checker, f)
    assert result is False
    assert out.count("💡 Hint:") == 1, out
    assert phrase in out, out
    return out


# --------------------------------------------------------- student helpers


def my_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def norm(v):
    return np.linalg.norm(v)


# --------------------------------------------------------- shared behaviour

STUB_CASES = {
    checks.check_cosine_similarity: 2,
    checks.check_scores: 2,
    checks.check_softmax: 1,
    checks.check_causal_mask: 1,
    checks.check_masked_softmax: 2,
    checks.check_apply_mask: 2,
    checks.check_attention: 3,
    checks.check_split_heads: 2,
    checks.check_multi_head: 6,
}


def _ellipsis_body(*args):
    ...


def _returns_ellipsis(*args):
    return ...


def _not_implemented(*args):
    raise NotImplementedError


def _pass_body(*args):
    pass


@pytest.mark.parametrize("checker", list(STUB_CASES), ids=lambda c: c.__name__)
@pytest.mark.parametrize("stub", [_ellipsis_body, _returns_ellipsis, _not_implemented, _pass_body])
def test_stubs_get_the_friendly_message(capsys, checker, stub):
    result, out = run(capsys, checker, stub)
    assert result is False
    assert STUB in out and out.startswith("⏳")
    assert "raised" not in out


@pytest.mark.parametrize("checker", list(STUB_CASES), ids=lambda c: c.__name__)
def test_unrelated_exception_is_reported_without_traceback(capsys, checker):
    def broken(*args):
        return {}["oops"] + 1

    result, out = run(capsys, checker, broken)
    assert result is False
    assert "❌ Your function raised KeyError: 'oops' on input of shape" in out
    assert "💡" not in out


@pytest.mark.parametrize("checker", list(STUB_CASES), ids=lambda c: c.__name__)
def test_type_error_message_names_the_input_shapes(capsys, checker):
    def broken(first, *rest):
        return np.shape(first)[5]

    result, out = run(capsys, checker, broken)
    assert result is False
    assert "❌ Your function raised IndexError: tuple index out of range on input of shape " in out


@pytest.mark.parametrize("checker", list(STUB_CASES), ids=lambda c: c.__name__)
def test_passing_a_result_instead_of_the_function(capsys, checker):
    result, out = run(capsys, checker, np.zeros(3))
    assert result is False
    assert "needs your function itself" in out


def test_function_that_returns_none_sometimes_is_told_to_return(capsys):
    def scores(Q, K):
        if Q.shape[-2] != K.shape[-2]:
            return good_scores(Q, K)

    result, out = run(capsys, checks.check_scores, scores)
    assert result is False
    assert "is None: did you forget to `return` the result?" in out


def test_output_is_deterministic(capsys):
    def wrong(Q, K):
        return Q @ K.T / np.sqrt(Q.shape[-1]) + 0.1

    _, first = run(capsys, checks.check_scores, wrong)
    _, second = run(capsys, checks.check_scores, wrong)
    assert first == second
    assert "at index (0, 0)" in first and "expected = " in first and "yours = " in first


# ------------------------------------------------------- cosine similarity


def test_cosine_accepts_reference(capsys):
    from helpers.embeddings import cosine_similarity

    result, out = run(capsys, checks.check_cosine_similarity, cosine_similarity)
    assert result is True
    assert out == "✅ Correct! Your cosine_similarity passed all 5 hidden cases.\n"


def test_cosine_accepts_a_typical_correct_answer(capsys):
    result, out = run(capsys, checks.check_cosine_similarity, lambda a, b: np.dot(a, b) / (norm(a) * norm(b)))
    assert result is True and PASS in out


COSINE_MISTAKES = [
    (lambda a, b: np.dot(a, b), "forgot to divide by the norms"),
    (lambda a, b: np.dot(a, b) / (np.sum(a**2) * np.sum(b**2)), "divided by the squared norms"),
    (lambda a, b: np.dot(a, b) / (norm(a) + norm(b)), "You added the norms"),
    (lambda a, b: np.dot(a / norm(a), b), "normalised only one vector"),
    (lambda a, b: np.dot(a / norm(a), b / norm(a)), "divided both vectors by ‖a‖"),
    (lambda a, b: a * b / (norm(a) * norm(b)), "a * b multiplies entry by entry"),
    (lambda a, b: __import__("scipy.spatial.distance").spatial.distance.cosine(a, b), "cosine *distance*"),
]


@pytest.mark.parametrize("wrong, phrase", COSINE_MISTAKES, ids=[p for _, p in COSINE_MISTAKES])
def test_cosine_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_cosine_similarity, wrong, phrase)


# ----------------------------------------------------------------- scores


def good_scores(Q, K):
    d_k = Q.shape[-1]
    return Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)


def test_scores_accepts_reference(capsys):
    result, out = run(capsys, checks.check_scores, checks._ref_scores)
    assert result is True
    assert out == "✅ Correct! Your scores passed all 5 hidden cases.\n"


def test_scores_accepts_a_typical_correct_answer(capsys):
    result, out = run(capsys, checks.check_scores, good_scores)
    assert result is True and PASS in out


def test_scores_accepts_float32(capsys):
    result, _ = run(capsys, checks.check_scores, lambda Q, K: good_scores(Q, K).astype(np.float32))
    assert result is True


SCORES_MISTAKES = [
    (lambda Q, K: Q @ np.swapaxes(K, -1, -2), "You forgot to scale"),
    (lambda Q, K: Q @ K.T, "You forgot to scale"),  # 2-D only as well: the first mistake wins
    (lambda Q, K: Q @ np.swapaxes(K, -1, -2) / Q.shape[-1], "You divided by d_k"),
    (lambda Q, K: Q @ K.T / np.sqrt(len(Q)), "square root of the number of words n"),
    (lambda Q, K: Q @ np.swapaxes(K, -1, -2) / np.sqrt(K.shape[-2]), "square root of the number of keys"),
    (lambda Q, K: np.matmul(Q, K) / np.sqrt(Q.shape[-1]), "K is not transposed"),
    (lambda Q, K: np.dot(Q, K) / np.sqrt(Q.shape[-1]), "K is not transposed"),
    (lambda Q, K: K @ Q.T / np.sqrt(Q.shape[-1]), "transpose of the expected one"),
    (lambda Q, K: Q.T @ K / np.sqrt(Q.shape[-1]), "You transposed Q instead of K"),
    (lambda Q, K: Q @ K.T / np.sqrt(Q.shape[-1]), "K.T reverses ALL axes"),
]


@pytest.mark.parametrize("wrong, phrase", SCORES_MISTAKES, ids=[p for _, p in SCORES_MISTAKES])
def test_scores_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_scores, wrong, phrase)


def test_scores_shape_error_shows_the_error_and_the_hint(capsys):
    out = assert_hint(
        capsys, checks.check_scores, lambda Q, K: Q @ K / np.sqrt(Q.shape[-1]), "K is not transposed"
    )
    assert "❌ Your function raised ValueError" in out


def test_scores_unknown_mistake_gets_a_concrete_example(capsys):
    result, out = run(capsys, checks.check_scores, lambda Q, K: good_scores(Q, K) * 1.5)
    assert result is False
    assert '❌ Not quite: for the hidden case "small example" (Q (2, 4), K (3, 4))' in out
    assert "   Q = [[" in out and "   expected = [[" in out and "💡" not in out


# ---------------------------------------------------------------- softmax


def test_softmax_accepts_reference(capsys):
    result, out = run(capsys, checks.check_softmax, checks.softmax)
    assert result is True
    assert out == "✅ Correct! Your softmax passed all 7 hidden cases.\n"


def test_softmax_accepts_a_typical_correct_answer(capsys):
    result, _ = run(capsys, checks.check_softmax, my_softmax)
    assert result is True


def _no_keepdims(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1)


def _global_max(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e, axis=-1, keepdims=True)


def _global_max_and_sum(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


SOFTMAX_MISTAKES = [
    (lambda x: my_softmax(x, axis=0), "normalised over the wrong axis"),
    (lambda x: my_softmax(x, axis=1), "axis=1 is the last axis only for a 2-D matrix"),
    (lambda x: np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True), "np.exp overflows"),
    (lambda x: np.exp(x - np.max(x, axis=-1, keepdims=True)), "You forgot to normalise"),
    (lambda x: np.exp(x), "You forgot to normalise"),
    (lambda x: np.exp(x) / np.max(np.exp(x), axis=-1, keepdims=True), "divided by the row maximum"),
    (lambda x: x / np.sum(x, axis=-1, keepdims=True), "You forgot np.exp"),
    (lambda x: np.exp(x) / np.sum(np.exp(x)), "sum of the whole array"),
    (_global_max_and_sum, "sum of the whole array"),
    (_no_keepdims, "Without keepdims=True"),
    (_global_max, "maximum of the whole array"),
]


@pytest.mark.parametrize("wrong, phrase", SOFTMAX_MISTAKES, ids=[p for _, p in SOFTMAX_MISTAKES])
def test_softmax_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_softmax, wrong, phrase)


# ------------------------------------------------------------ causal mask


def test_causal_mask_accepts_reference(capsys):
    result, out = run(capsys, checks.check_causal_mask, checks.causal_mask)
    assert result is True
    assert out == "✅ Correct! Your causal_mask passed all 4 hidden cases.\n"


def test_causal_mask_accepts_nested_lists_of_booleans(capsys):
    def causal_mask(n):
        return [[j <= i for j in range(n)] for i in range(n)]

    result, _ = run(capsys, checks.check_causal_mask, causal_mask)
    assert result is True


CAUSAL_MISTAKES = [
    (lambda n: np.triu(np.ones((n, n), dtype=bool)), "allowed the future instead of the past"),
    (lambda n: np.tril(np.ones((n, n)), k=-1).astype(bool), "left out the diagonal"),
    (lambda n: ~np.tril(np.ones((n, n), dtype=bool)), "Your mask is inverted"),
    (lambda n: np.tril(np.ones((n, n))), "Right pattern, but 0/1 numbers"),
    (lambda n: np.tril(np.ones((n, n), dtype=int)), "Right pattern, but 0/1 numbers"),
]


@pytest.mark.parametrize("wrong, phrase", CAUSAL_MISTAKES, ids=[p for _, p in CAUSAL_MISTAKES])
def test_causal_mask_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_causal_mask, wrong, phrase)


def test_causal_mask_unknown_mistake_prints_true_false(capsys):
    result, out = run(capsys, checks.check_causal_mask, lambda n: np.tril(np.ones((n, n), dtype=bool), k=1))
    assert result is False
    assert "your output has True at index (0, 1), expected False" in out


# --------------------------------------------------------- masked softmax


def good_masked_softmax(scores, mask):
    return my_softmax(np.where(mask, scores, -np.inf))


def _in_place_inverted(scores, mask):
    scores[mask] = -np.inf
    return my_softmax(scores)


def _after_then_renormalise(scores, mask):
    w = my_softmax(scores) * mask
    return w / w.sum(axis=-1, keepdims=True)


MASKED_MISTAKES = [
    (lambda s, m: my_softmax(s) * m, "applied the mask after the softmax"),
    (lambda s, m: np.where(m, my_softmax(s), 0.0), "applied the mask after the softmax"),
    (lambda s, m: my_softmax(np.where(m, s, 0)), "must be -inf, not 0"),
    (lambda s, m: my_softmax(s * m), "must be -inf, not 0"),
    (lambda s, m: my_softmax(np.where(m, -np.inf, s)), "Your mask is inverted"),
    (_in_place_inverted, "Your mask is inverted"),
    (lambda s, m: checks.softmax(np.where(m, -np.inf, s)), "Your mask is inverted"),
    (_after_then_renormalise, "re-normalising works on paper"),
    (lambda s, m: my_softmax(np.where(m, s, -np.inf), axis=0), "normalised over the wrong axis"),
    (
        lambda s, m: np.exp(np.where(m, s, -np.inf)) / np.exp(np.where(m, s, -np.inf)).sum(-1, keepdims=True),
        "np.exp overflows",
    ),
]


@pytest.mark.parametrize("checker", [checks.check_masked_softmax, checks.check_apply_mask])
def test_masked_softmax_accepts_reference(capsys, checker):
    result, out = run(capsys, checker, checks._ref_masked_softmax)
    assert result is True and PASS in out and "passed all 5 hidden cases" in out


@pytest.mark.parametrize(
    "good",
    [
        good_masked_softmax,
        lambda s, m: my_softmax(np.where(m, s, -1e9)),  # a large negative number works too
        lambda s, m: checks.softmax(s + np.where(m, 0.0, -np.inf)),
    ],
)
def test_masked_softmax_accepts_typical_correct_answers(capsys, good):
    result, _ = run(capsys, checks.check_masked_softmax, good)
    assert result is True


@pytest.mark.parametrize("wrong, phrase", MASKED_MISTAKES, ids=[p for _, p in MASKED_MISTAKES])
def test_masked_softmax_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_masked_softmax, wrong, phrase)


def test_apply_mask_is_the_same_checker_with_its_own_name(capsys):
    result, out = run(capsys, checks.check_apply_mask, lambda s, m: my_softmax(s) * m)
    assert result is False and "your apply_mask gives a wrong answer" in out


# -------------------------------------------------------------- attention


def student_attention(Q, K, V, mask=None, *, scale=True, axis=-1, fill=-np.inf, after=False, stable=True):
    """A student's attention with switches for each typical mistake."""
    scores = Q @ np.swapaxes(K, -1, -2)
    if scale:
        scores = scores / np.sqrt(K.shape[-1])
    if mask is not None and not after:
        scores = np.where(mask, scores, fill)
    if stable:
        weights = my_softmax(scores, axis=axis)
    else:
        weights = np.exp(scores) / np.exp(scores).sum(axis=axis, keepdims=True)
    if mask is not None and after:
        weights = weights * mask
    return weights @ V, weights


def test_attention_accepts_reference(capsys):
    result, out = run(capsys, checks.check_attention, checks.scaled_dot_product_attention)
    assert result is True
    assert out == "✅ Correct! Your attention passed all 6 hidden cases.\n"


def test_attention_accepts_a_typical_correct_answer(capsys):
    result, _ = run(capsys, checks.check_attention, student_attention)
    assert result is True


def _k_not_transposed(Q, K, V, mask=None):
    scores = Q @ K / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = my_softmax(scores)
    return weights @ V, weights


def _k_dot_t(Q, K, V, mask=None):
    scores = Q @ K.T / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = my_softmax(scores)
    return weights @ V, weights


def _transposed_output(Q, K, V, mask=None):
    out, w = student_attention(Q, K, V, mask)
    return out.T, w


def _v_first(Q, K, V, mask=None):
    _, w = student_attention(Q, K, V, mask)
    return V @ w, w


ATTENTION_MISTAKES = [
    (lambda Q, K, V, mask=None: student_attention(Q, K, V, mask, scale=False), "You forgot to scale"),
    (lambda Q, K, V, mask=None: student_attention(Q, K, V, mask, axis=-2), "normalised over the wrong axis"),
    (lambda Q, K, V, mask=None: student_attention(Q, K, V, mask, axis=0), "normalised over the wrong axis"),
    (_k_not_transposed, "K is not transposed"),
    (_k_dot_t, "K.T reverses ALL axes"),
    (_transposed_output, "Your output is transposed"),
    (_v_first, "Multiply weights @ V, not V @ weights"),
    (
        lambda Q, K, V, mask=None: student_attention(Q, K, V, mask, after=True),
        "applied the mask after the softmax",
    ),
    (lambda Q, K, V, mask=None: student_attention(Q, K, V, mask, fill=0.0), "must be -inf, not 0"),
    (lambda Q, K, V, mask=None: student_attention(Q, K, V), "Your function ignores `mask`"),
    (lambda Q, K, V, mask=None: student_attention(Q, K, V, mask)[0], "Return both results"),
    (lambda Q, K, V, mask=None: student_attention(Q, K, V, mask)[::-1], "in the order (output, weights)"),
    (lambda Q, K, V, mask=None: student_attention(Q, K, V, mask, stable=False), "np.exp overflows"),
]


@pytest.mark.parametrize("wrong, phrase", ATTENTION_MISTAKES, ids=[p for _, p in ATTENTION_MISTAKES])
def test_attention_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_attention, wrong, phrase)


def test_attention_without_mask_parameter_is_told_what_failed(capsys):
    def attention(Q, K, V):
        return student_attention(Q, K, V)

    result, out = run(capsys, checks.check_attention, attention)
    assert result is False
    assert "raised TypeError" in out and "mask (4, 4)" in out


# ------------------------------------------------------------ split heads


def good_split_heads(X, num_heads):
    *batch, n, d_model = X.shape
    d_k = d_model // num_heads
    return np.swapaxes(X.reshape(*batch, n, num_heads, d_k), -3, -2)


def test_split_heads_accepts_reference(capsys):
    result, out = run(capsys, checks.check_split_heads, checks.split_heads)
    assert result is True
    assert out == "✅ Correct! Your split_heads passed all 5 hidden cases.\n"


@pytest.mark.parametrize(
    "good",
    [good_split_heads, lambda X, h: np.stack(np.split(X, h, axis=-1), axis=-3)],
    ids=["reshape+swapaxes", "split+stack"],
)
def test_split_heads_accepts_typical_correct_answers(capsys, good):
    result, _ = run(capsys, checks.check_split_heads, good)
    assert result is True


SPLIT_MISTAKES = [
    (lambda X, h: X.reshape(h, X.shape[0], -1), "A plain X.reshape(num_heads, n, d_k)"),
    (lambda X, h: np.array(np.split(X, h, axis=0)), "You split the words (rows)"),
    (lambda X, h: X.reshape(X.shape[0], -1, h).transpose(2, 0, 1), "interleaved"),
    (lambda X, h: X.reshape(X.shape[0], h, -1), "did not move the heads to the front"),
    (lambda X, h: X.reshape(X.shape[0], h, -1).transpose(1, 0, 2), "not with a batch dimension"),
]


@pytest.mark.parametrize("wrong, phrase", SPLIT_MISTAKES, ids=[p for _, p in SPLIT_MISTAKES])
def test_split_heads_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_split_heads, wrong, phrase)


# ------------------------------------------------------------- multi-head


def make_multi_head(split="good", merge="good", use_w_o=True, scale="d_k", heads=True, return_weights=False):
    """A student's multi-head attention with switches for each typical mistake."""

    def multi_head(X, W_q, W_k, W_v, W_o, num_heads):
        n, d_model = X.shape
        d_k = d_model // num_heads
        if not heads:
            num_heads, d_k = 1, d_model

        def split_(M):
            if split == "reshape":
                return M.reshape(num_heads, n, d_k)
            return M.reshape(n, num_heads, d_k).transpose(1, 0, 2)

        Q, K, V = split_(X @ W_q), split_(X @ W_k), split_(X @ W_v)
        d = d_model if scale == "d_model" else d_k
        weights = my_softmax(Q @ K.transpose(0, 2, 1) / np.sqrt(d))
        out = weights @ V  # (h, n, d_k)
        if merge == "reversed":
            concat = np.concatenate(list(out[::-1]), axis=-1)
        elif merge == "reshape":
            concat = out.reshape(n, d_model)
        else:
            concat = np.concatenate(list(out), axis=-1)
        result = concat @ W_o if use_w_o else concat
        return (result, weights) if return_weights else result

    return multi_head


def test_multi_head_accepts_reference(capsys):
    result, out = run(capsys, checks.check_multi_head, checks.multi_head_attention)
    assert result is True
    assert out == "✅ Correct! Your multi_head passed all 4 hidden cases.\n"


@pytest.mark.parametrize("return_weights", [False, True], ids=["output", "(output, weights)"])
def test_multi_head_accepts_typical_correct_answers(capsys, return_weights):
    result, _ = run(capsys, checks.check_multi_head, make_multi_head(return_weights=return_weights))
    assert result is True


MULTI_MISTAKES = [
    (make_multi_head(use_w_o=False), "You forgot the output projection"),
    (make_multi_head(merge="reversed"), "concatenated the heads in reverse order"),
    (make_multi_head(merge="reshape"), "You concatenated the heads wrong"),
    (make_multi_head(split="reshape"), "Your heads are split wrong"),
    (make_multi_head(split="reshape", merge="reshape"), "Your heads are split wrong"),
    (make_multi_head(scale="d_model"), "not by sqrt(d_model)"),
    (make_multi_head(heads=False), "You computed one big head"),
    (make_multi_head(use_w_o=False, return_weights=True), "You forgot the output projection"),
]


@pytest.mark.parametrize("wrong, phrase", MULTI_MISTAKES, ids=[p for _, p in MULTI_MISTAKES])
def test_multi_head_mistakes(capsys, wrong, phrase):
    assert_hint(capsys, checks.check_multi_head, wrong, phrase)
