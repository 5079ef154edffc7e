"""Bad input gets a clear message, never a traceback from deep inside numpy.

One table: each row is (callable, args, expected exception type, a regex the
message must match). The regex checks that the message says *what* is wrong:
which argument, which shapes or values.
"""

from functools import partial

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
from helpers.embeddings import (
    UnknownWordError,
    cosine_similarity,
    project_2d,
    sentence_matrix,
    tokenize,
    toy_vectors,
)

KV = toy_vectors()


def train_word2vec_stub():
    """A plain (not toy) KeyedVectors with three words, standing in for trained vectors."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(["river", "bank", "the"], np.eye(3, 2))
    return kv
I6 = np.eye(6)
X36 = np.ones((3, 6))
Q34 = np.ones((3, 4))


def mha(X=X36, W_q=I6, W_k=I6, W_v=I6, W_o=I6, num_heads=2, mask=None):
    return multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=mask)


def sdpa(Q=Q34, K=Q34, V=Q34, mask=None):
    return scaled_dot_product_attention(Q, K, V, mask=mask)


def with_nan(shape, index):
    a = np.ones(shape)
    a[index] = np.nan
    return a


def with_inf(shape, index, sign=1):
    a = np.ones(shape)
    a[index] = sign * np.inf
    return a


CASES = [
    # ---------------------------------------------------------------- softmax
    pytest.param(softmax, ("abc",), TypeError, r"x must be an array of numbers, got a string 'abc'", id="softmax-string"),
    pytest.param(softmax, ([[1, 2], [3]],), ValueError, r"x must be a rectangular array of numbers", id="softmax-ragged"),
    pytest.param(softmax, ([1.0, np.nan],), ValueError, r"x contains NaN or infinity \(first at index \(1,\)\)", id="softmax-nan"),
    pytest.param(softmax, ([np.inf, 1.0],), ValueError, r"x contains NaN or infinity \(first at index \(0,\)\)", id="softmax-plus-inf"),
    pytest.param(softmax, ([True, False],), TypeError, r"x must hold numbers, got booleans", id="softmax-bool"),
    pytest.param(softmax, ([1 + 2j],), TypeError, r"x must hold real numbers, got dtype complex", id="softmax-complex"),
    pytest.param(softmax, (np.array([object()]),), TypeError, r"x must hold real numbers, got dtype object", id="softmax-object"),
    pytest.param(softmax, (3.0,), ValueError, r"x must have at least 1 dimension\(s\), got shape \(\)", id="softmax-scalar"),
    pytest.param(softmax, ([],), ValueError, r"x is empty \(shape \(0,\)\)", id="softmax-empty"),
    pytest.param(softmax, (np.zeros((2, 0)),), ValueError, r"x is empty \(shape \(2, 0\)\)", id="softmax-empty-axis"),
    pytest.param(partial(softmax, temperature=0), ([1, 2],), ValueError, r"temperature must be a positive finite number, got 0", id="softmax-temperature-0"),
    pytest.param(partial(softmax, temperature=-1.5), ([1, 2],), ValueError, r"temperature must be a positive finite number, got -1.5", id="softmax-temperature-negative"),
    pytest.param(partial(softmax, temperature=float("nan")), ([1, 2],), ValueError, r"temperature must be a positive finite number, got nan", id="softmax-temperature-nan"),
    pytest.param(partial(softmax, temperature=float("inf")), ([1, 2],), ValueError, r"temperature must be a positive finite number, got inf", id="softmax-temperature-inf"),
    pytest.param(partial(softmax, temperature="2"), ([1, 2],), TypeError, r"temperature must be a number, got '2'", id="softmax-temperature-string"),
    pytest.param(partial(softmax, temperature=True), ([1, 2],), TypeError, r"temperature must be a number, got True", id="softmax-temperature-bool"),
    pytest.param(partial(softmax, axis=2), ([1, 2],), ValueError, r"axis 2 is out of range for x with shape \(2,\)", id="softmax-axis-out-of-range"),
    pytest.param(partial(softmax, axis=1.0), ([[1, 2]],), TypeError, r"axis must be an integer, got 1.0", id="softmax-axis-float"),
    # ------------------------------------------------------------------ masks
    pytest.param(causal_mask, (0,), ValueError, r"n must be positive, got 0", id="causal-mask-zero"),
    pytest.param(causal_mask, (-3,), ValueError, r"n must be positive, got -3", id="causal-mask-negative"),
    pytest.param(causal_mask, (2.5,), TypeError, r"n must be a whole number, got 2.5 \(float\)", id="causal-mask-float"),
    pytest.param(causal_mask, ("3",), TypeError, r"n must be a whole number, got '3' \(str\)", id="causal-mask-string"),
    pytest.param(causal_mask, (True,), TypeError, r"n must be a whole number, got True \(bool\)", id="causal-mask-bool"),
    pytest.param(padding_mask, ([0, 2], 3), ValueError, r"every length must be between 1 and n=3, got \[0, 2\]", id="padding-mask-length-zero"),
    pytest.param(padding_mask, ([2, 4], 3), ValueError, r"every length must be between 1 and n=3, got \[2, 4\]", id="padding-mask-length-too-long"),
    pytest.param(padding_mask, ([1.5, 2], 3), TypeError, r"lengths must be a 1-D sequence of whole numbers", id="padding-mask-float-lengths"),
    pytest.param(padding_mask, ([[1, 2]], 3), TypeError, r"lengths must be a 1-D sequence of whole numbers", id="padding-mask-2d-lengths"),
    pytest.param(padding_mask, ([1, 2], 0), ValueError, r"n must be positive, got 0", id="padding-mask-n-zero"),
    # -------------------------------------------- scaled dot-product attention
    pytest.param(sdpa, (np.ones(4),), ValueError, r"Q must have at least 2 dimension\(s\), got shape \(4,\)", id="attention-Q-1d"),
    pytest.param(sdpa, (Q34, np.ones(4)), ValueError, r"K must have at least 2 dimension\(s\), got shape \(4,\)", id="attention-K-1d"),
    pytest.param(sdpa, (Q34, np.ones((3, 5))), ValueError, r"Q and K must have the same last dimension d_k: Q has shape \(3, 4\), K has shape \(3, 5\)", id="attention-dk-mismatch"),
    pytest.param(sdpa, (Q34, Q34, np.ones((2, 4))), ValueError, r"K and V must have one row per key \(same n_k\): K has shape \(3, 4\), V has shape \(2, 4\)", id="attention-nk-mismatch"),
    pytest.param(sdpa, (np.ones((2, 3, 4)), np.ones((3, 3, 4)), np.ones((3, 3, 4))), ValueError, r"batch dimensions of Q \(2, 3, 4\), K \(3, 3, 4\) and V \(3, 3, 4\) do not broadcast", id="attention-batch-mismatch"),
    pytest.param(sdpa, (Q34, Q34, Q34, np.ones((3, 2), bool)), ValueError, r"mask with shape \(3, 2\) does not broadcast to the scores' shape \(3, 3\)", id="attention-mask-wrong-shape"),
    pytest.param(sdpa, (Q34, Q34, Q34, np.ones((3, 3), int)), TypeError, r"mask must be a boolean array \(True = may attend\), got dtype int.*astype\(bool\)", id="attention-mask-int"),
    pytest.param(sdpa, (Q34, Q34, Q34, np.ones((3, 3))), TypeError, r"mask must be a boolean array .*got dtype float64", id="attention-mask-float"),
    pytest.param(sdpa, (Q34, Q34, Q34, np.ones(3, bool)), ValueError, r"mask must have at least 2 dimensions \(n_q, n_k\), got shape \(3,\)", id="attention-mask-1d"),
    pytest.param(sdpa, ("river bank",), TypeError, r"Q must be an array of numbers, got a string", id="attention-Q-string"),
    pytest.param(sdpa, (np.array([["a", "b"]]),), TypeError, r"Q must hold real numbers, got dtype <U1", id="attention-Q-string-array"),
    pytest.param(sdpa, (None,), TypeError, r"Q must hold real numbers, got dtype object", id="attention-Q-None"),
    pytest.param(sdpa, ([[1, 2], [3]],), ValueError, r"Q must be a rectangular array of numbers", id="attention-Q-ragged"),
    pytest.param(sdpa, (Q34, Q34, with_nan((3, 4), (1, 2))), ValueError, r"V contains NaN or infinity \(first at index \(1, 2\)\)", id="attention-V-nan"),
    pytest.param(sdpa, (Q34, with_inf((3, 4), (2, 0), -1)), ValueError, r"K contains NaN or infinity \(first at index \(2, 0\)\)", id="attention-K-minus-inf"),
    pytest.param(sdpa, (Q34, np.ones((0, 4)), np.ones((0, 4))), ValueError, r"K is empty \(shape \(0, 4\)\)", id="attention-no-keys"),
    # ------------------------------------------------------------------- heads
    pytest.param(split_heads, (X36, 4), ValueError, r"d_model=6 \(last dimension of X, shape \(3, 6\)\) is not divisible by num_heads=4", id="split-not-divisible"),
    pytest.param(split_heads, (X36, 0), ValueError, r"num_heads must be positive, got 0", id="split-heads-zero"),
    pytest.param(split_heads, (X36, -1), ValueError, r"num_heads must be positive, got -1", id="split-heads-negative"),
    pytest.param(split_heads, (X36, 2.5), TypeError, r"num_heads must be a whole number, got 2.5 \(float\)", id="split-heads-float"),
    pytest.param(split_heads, (X36, True), TypeError, r"num_heads must be a whole number, got True \(bool\)", id="split-heads-bool"),
    pytest.param(split_heads, (np.ones(6), 2), ValueError, r"X must have at least 2 dimension\(s\), got shape \(6,\)", id="split-X-1d"),
    pytest.param(merge_heads, (np.ones((3, 4)),), ValueError, r"H must have at least 3 dimension\(s\), got shape \(3, 4\)", id="merge-H-2d"),
    pytest.param(merge_heads, ("heads",), TypeError, r"H must be an array of numbers, got a string", id="merge-H-string"),
    # --------------------------------------------------------------- multi-head
    pytest.param(partial(mha, num_heads=4), (), ValueError, r"d_model=6 is not divisible by num_heads=4", id="mha-not-divisible"),
    pytest.param(partial(mha, num_heads=0), (), ValueError, r"num_heads must be positive, got 0", id="mha-heads-zero"),
    pytest.param(partial(mha, num_heads=-1), (), ValueError, r"num_heads must be positive, got -1", id="mha-heads-negative"),
    pytest.param(partial(mha, num_heads=2.5), (), TypeError, r"num_heads must be a whole number, got 2.5 \(float\)", id="mha-heads-float"),
    pytest.param(partial(mha, num_heads=True), (), TypeError, r"num_heads must be a whole number, got True \(bool\)", id="mha-heads-bool"),
    pytest.param(partial(mha, num_heads="2"), (), TypeError, r"num_heads must be a whole number, got '2' \(str\)", id="mha-heads-string"),
    pytest.param(partial(mha, W_q=np.ones((6, 4))), (), ValueError, r"W_q must have shape \(d_model, d_model\) = \(6, 6\) to match X with shape \(3, 6\), got \(6, 4\)", id="mha-Wq-wrong-shape"),
    pytest.param(partial(mha, W_o=np.ones((4, 6))), (), ValueError, r"W_o must have shape \(d_model, d_model\) = \(6, 6\) .* got \(4, 6\)", id="mha-Wo-wrong-shape"),
    pytest.param(partial(mha, W_k=np.ones(6)), (), ValueError, r"W_k must have at least 2 dimension\(s\), got shape \(6,\)", id="mha-Wk-1d"),
    pytest.param(partial(mha, W_v="identity"), (), TypeError, r"W_v must be an array of numbers, got a string", id="mha-Wv-string"),
    pytest.param(partial(mha, X=with_nan((3, 6), (0, 5))), (), ValueError, r"X contains NaN or infinity \(first at index \(0, 5\)\)", id="mha-X-nan"),
    pytest.param(partial(mha, X=np.ones(6)), (), ValueError, r"X must have at least 2 dimension\(s\), got shape \(6,\)", id="mha-X-1d"),
    pytest.param(partial(mha, mask=np.ones((3, 4), bool)), (), ValueError, r"mask with shape \(3, 4\) does not broadcast to \(\.\.\., n, n\) = \(3, 3\) for X with shape \(3, 6\)", id="mha-mask-wrong-shape"),
    pytest.param(partial(mha, X=np.ones((2, 3, 6)), mask=np.ones((4, 3, 3), bool)), (), ValueError, r"mask with shape \(4, 3, 3\) does not broadcast to \(\.\.\., n, n\) = \(2, 3, 3\)", id="mha-batched-mask-wrong-batch"),
    pytest.param(partial(mha, mask=np.tril(np.ones((3, 3)))), (), TypeError, r"mask must be a boolean array .*got dtype float64", id="mha-mask-non-bool"),
    # ---------------------------------------------------------------- tokenize
    pytest.param(tokenize, ("",), ValueError, r"text has no words to look up: ''", id="tokenize-empty"),
    pytest.param(tokenize, ("   ",), ValueError, r"text has no words to look up", id="tokenize-blank"),
    pytest.param(tokenize, ("?!... --- ,;",), ValueError, r"text has no words to look up: '\?!\.\.\.", id="tokenize-punctuation-only"),
    pytest.param(tokenize, (None,), TypeError, r"text must be a string, got NoneType: None", id="tokenize-None"),
    pytest.param(tokenize, (42,), TypeError, r"text must be a string, got int: 42", id="tokenize-int"),
    pytest.param(tokenize, (["river", "bank"],), TypeError, r"text must be a string, got list: \['river', 'bank'\]", id="tokenize-list"),
    pytest.param(tokenize, (b"river",), TypeError, r"text must be a string, got bytes", id="tokenize-bytes"),
    # --------------------------------------------------------- sentence_matrix
    pytest.param(sentence_matrix, ("",), ValueError, r"text has no words to look up", id="sentence-empty"),
    pytest.param(sentence_matrix, ("...",), ValueError, r"text has no words to look up", id="sentence-punctuation-only"),
    pytest.param(sentence_matrix, (None,), TypeError, r"text must be a string, got NoneType", id="sentence-None"),
    pytest.param(sentence_matrix, (["river"],), TypeError, r"text must be a string, got list", id="sentence-list"),
    pytest.param(sentence_matrix, ("Tom went to the rivr bank",), UnknownWordError, r"^unknown words: 'went'; 'rivr' \(did you mean river\?\)\. The toy table knows 44 English words", id="sentence-unknown-words-listed"),
    pytest.param(sentence_matrix, ("the rivr bnak xyzzy",), UnknownWordError, r"^unknown words: 'rivr' \(did you mean river\?\); 'bnak' \(did you mean bank\?\); 'xyzzy'\. ", id="sentence-unknown-all-listed-with-hints"),
    pytest.param(sentence_matrix, ("the hospitl",), UnknownWordError, r"'hospitl' \(did you mean hospital", id="sentence-unknown-hospital"),
    pytest.param(sentence_matrix, ("我去银行",), UnknownWordError, r"^unknown word: '我去银行' \(not an English word\)\. The toy table knows 44 English words; use only those\.$", id="sentence-chinese"),
    pytest.param(sentence_matrix, ("Tom went to the 银行",), UnknownWordError, r"^unknown words: 'went'.*; '银行' \(not an English word\)\.", id="sentence-mixed-chinese"),
    # ------------------------------------------------------- cosine_similarity
    pytest.param(cosine_similarity, ([1, 2], [1, 2, 3]), ValueError, r"A and B need the same vector length: shapes \(2,\) and \(3,\)", id="cosine-length-mismatch"),
    pytest.param(cosine_similarity, ([0, 0], [1, 2]), ValueError, r"cosine similarity is undefined for an all-zero vector", id="cosine-zero-vector"),
    pytest.param(cosine_similarity, ("river", [1, 2]), TypeError, r"A must be an array of numbers, got a string 'river'", id="cosine-string"),
    pytest.param(cosine_similarity, (None, [1, 2]), TypeError, r"A must hold real numbers, got dtype object", id="cosine-None"),
    pytest.param(cosine_similarity, ([1, 2], [[1, 2], [3]]), ValueError, r"B must be a rectangular array of numbers", id="cosine-ragged"),
    pytest.param(cosine_similarity, ([np.nan, 1], [1, 2]), ValueError, r"A contains NaN or infinity \(first at index \(0,\)\)", id="cosine-nan"),
    pytest.param(cosine_similarity, (np.ones((2, 3, 4)), np.ones((2, 4))), ValueError, r"A and B must be vectors \(d,\) or matrices \(m, d\): shapes \(2, 3, 4\) and \(2, 4\)", id="cosine-3d"),
    # -------------------------------------------------------------- project_2d
    pytest.param(project_2d, ([[1, 2, 3]],), ValueError, r"project_2d needs at least two vectors .* got shape \(1, 3\)", id="project-one-vector"),
    pytest.param(project_2d, ([1, 2, 3],), ValueError, r"project_2d needs at least two vectors .* got shape \(3,\)", id="project-1d"),
    pytest.param(project_2d, (np.ones((3, 1)),), ValueError, r"length >= 2 .* got shape \(3, 1\)", id="project-d-1"),
    pytest.param(project_2d, (np.ones((3, 4)), ["a", "b"]), ValueError, r"words names 2 rows but vectors has 3 rows \(shape \(3, 4\)\)", id="project-words-length"),
    pytest.param(project_2d, (KV, ["rivr", "bank", "fsh"]), UnknownWordError, r"^unknown words: 'rivr' \(did you mean river\?\); 'fsh' \(did you mean fish", id="project-unknown-words"),
    pytest.param(project_2d, ("abc",), TypeError, r"vectors must be an array of numbers, got a string", id="project-string"),
    pytest.param(project_2d, ([[1, 2], [3]],), ValueError, r"vectors must be a rectangular array of numbers", id="project-ragged"),
    pytest.param(project_2d, (with_nan((3, 4), (2, 1)),), ValueError, r"vectors contains NaN or infinity \(first at index \(2, 1\)\)", id="project-nan"),
    pytest.param(lambda word: project_2d(KV)[word], ("bnak",), UnknownWordError, r"^unknown word: 'bnak' \(did you mean bank\?\)", id="map-unknown-word"),
    # ------------------------------------------ gaps found in the robustness review
    pytest.param(sdpa, (np.full((3, 4), 1e200),) * 3, ValueError, r"^the scores Q·Kᵀ/sqrt\(d_k\) overflowed float64: the largest magnitude in Q is 1e\+200 and in K 1e\+200", id="attention-scores-overflow-float64"),
    pytest.param(sdpa, (np.full((3, 4), 1e20, np.float32),) * 3, ValueError, r"overflowed float32: the largest magnitude in Q is 1e\+20 and in K 1e\+20.*\(or compute in float64\)", id="attention-scores-overflow-float32"),
    pytest.param(partial(mha, X=np.full((3, 6), 1e300), W_q=I6 * 1e10), (), ValueError, r"^X @ W_q overflowed float64: the largest magnitude in X is 1e\+300 and in W_q 1e\+10", id="mha-projection-overflow"),
    pytest.param(sdpa, (np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((3, 3, 3), bool)), ValueError, r"mask with shape \(3, 3, 3\) does not broadcast to the scores' shape \(2, 3, 3\)", id="attention-batched-mask-wrong-batch"),
    pytest.param(sdpa, (Q34, with_inf((3, 4), (0, 0))), ValueError, r"K contains NaN or infinity \(first at index \(0, 0\)\)", id="attention-K-plus-inf"),
    pytest.param(sdpa, (np.ones((3, 4), np.int64), Q34, np.array([[1, 2, 3, 4]] * 3, dtype=object)), TypeError, r"V must hold real numbers, got dtype object", id="attention-V-object"),
    pytest.param(partial(mha, num_heads=None), (), TypeError, r"num_heads must be a whole number, got None \(NoneType\)", id="mha-heads-None"),
    pytest.param(partial(mha, num_heads=12), (), ValueError, r"d_model=6 is not divisible by num_heads=12", id="mha-more-heads-than-dims"),
    pytest.param(partial(mha, num_heads=np.int64(2), W_q=np.ones((6, 6, 1))), (), ValueError, r"W_q must have shape \(d_model, d_model\) = \(6, 6\) .* got \(6, 6, 1\)", id="mha-Wq-3d"),
    pytest.param(partial(softmax, temperature=1e-400), ([1, 2],), ValueError, r"temperature must be a positive finite number, got 0\.0", id="softmax-temperature-underflows-to-0"),
    pytest.param(partial(softmax, temperature=None), ([1, 2],), TypeError, r"temperature must be a number, got None", id="softmax-temperature-None"),
    pytest.param(tokenize, ("\u3002\uff01\u2026",), ValueError, r"text has no words to look up", id="tokenize-chinese-punctuation-only"),
    pytest.param(tokenize, (3.5,), TypeError, r"text must be a string, got float: 3\.5", id="tokenize-float"),
    pytest.param(sentence_matrix, ("Tom is going to fsh at the rivr bnk",), UnknownWordError, r"^unknown words: 'fsh' \(did you mean fish.*\); 'rivr' \(did you mean river\?\); 'bnk' \(did you mean bank", id="sentence-near-spellings-each-suggested"),
    pytest.param(sentence_matrix, ("Том идёт к реке",), UnknownWordError, r"'том' \(not an English word\).*The toy table knows 44 English words", id="sentence-cyrillic"),
    pytest.param(sentence_matrix, ("我去银行。",), UnknownWordError, r"^unknown word: '我去银行' \(not an English word\)\. The toy table knows 44 English words", id="sentence-chinese-with-full-stop"),
    pytest.param(sentence_matrix, ("river 42 bank",), UnknownWordError, r"^unknown word: '42'\. The toy table knows 44 English words", id="sentence-number"),
    pytest.param(sentence_matrix, (b"river bank",), TypeError, r"text must be a string, got bytes", id="sentence-bytes"),
    pytest.param(lambda text: sentence_matrix(text, train_word2vec_stub()), ("the rivr",), UnknownWordError, r"The vectors know 3 English words", id="sentence-other-vectors-named-generically"),
]


@pytest.mark.parametrize("func, args, exc_type, pattern", CASES)
def test_bad_input_raises_clear_error(func, args, exc_type, pattern):
    with pytest.raises(exc_type, match=pattern) as info:
        func(*args)
    # the message is ours, not numpy's: it starts by naming what is wrong
    assert not str(info.value).startswith(("zero-size array", "setting an array element", "could not"))


def test_table_is_big_enough():
    assert len(CASES) >= 25


# ------------------------------------------------------------ UnknownWordError


def _raise_unknown():
    sentence_matrix("Tom is going to fsh at the rivr bank near the rivr")


def test_unknown_word_error_is_a_key_error():
    with pytest.raises(KeyError):
        _raise_unknown()


def test_unknown_word_error_is_a_value_error():
    with pytest.raises(ValueError):
        _raise_unknown()


def test_unknown_word_error_lists_each_word_once_in_order():
    with pytest.raises(UnknownWordError) as info:
        _raise_unknown()
    assert info.value.unknown == ["fsh", "rivr"]
    assert str(info.value).count("'rivr'") == 1


def test_unknown_word_error_message_is_not_wrapped_in_quotes():
    with pytest.raises(UnknownWordError) as info:
        _raise_unknown()
    message = str(info.value)
    assert message.startswith("unknown words: 'fsh'")
    assert message[0] not in "'\"" and message[-1] not in "'\""
    assert message == info.value.message


def test_unknown_multiword_is_shown_with_a_space():
    # post_office is stored with an underscore but shown the way people write it
    with pytest.raises(UnknownWordError, match=r"did you mean post office\?"):
        sentence_matrix("the postoffice")


def test_chinese_text_names_the_characters_it_cannot_find():
    with pytest.raises(UnknownWordError) as info:
        sentence_matrix("我去银行")
    assert info.value.unknown == ["我去银行"]
    assert "我去银行" in str(info.value)
