"""Word vectors for the series: the 6-d toy table, a small gensim Word2Vec, and 2-D maps.

The toy table lives in data/toy_vectors.txt (word2vec text format); data/README.md
says what each dimension means and where every number came from.
"""

from __future__ import annotations

import difflib
import re
import zlib
from pathlib import Path

import numpy as np

from ._deferred_scipy import unused_scipy_deferred
from .attention import as_float_array

with unused_scipy_deferred():  # saves ~45 MiB per kernel; see helpers/_deferred_scipy.py
    from gensim.models import KeyedVectors, Word2Vec

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TOY_VECTORS_FILE = DATA_DIR / "toy_vectors.txt"
CORPUS_FILE = DATA_DIR / "corpus.txt"

SENTENCE = "Tom is going to fish at the river bank."
CONTRAST_SENTENCE = "Tom is going to deposit money at the bank."

#: What each of the six toy dimensions means (data/README.md explains the numbers).
DIMENSIONS = ("town vs nature", "water", "person", "place", "action", "topic")
#: Short names of the six dimensions, for axes with little room (notebooks 02 and 04).
SHORT_DIMENSIONS = ("town", "water", "person", "place", "action", "topic")

RIVER_CLUSTER = ("river", "fish", "fisherman")
TOWN_CLUSTER = ("hospital", "post_office", "restaurant")

# Words made of two written words are stored with an underscore.
MULTIWORD = {"post office": "post_office"}

__all__ = [
    "SENTENCE",
    "CONTRAST_SENTENCE",
    "DIMENSIONS",
    "RIVER_CLUSTER",
    "TOWN_CLUSTER",
    "UnknownWordError",
    "toy_vectors",
    "tokenize",
    "sentence_matrix",
    "display_word",
    "cosine_similarity",
    "train_word2vec",
    "Map2D",
    "project_2d",
]


class UnknownWordError(KeyError, ValueError):
    """Raised when a sentence has words the vectors do not know; lists them all."""

    def __init__(self, unknown, vocabulary, table="the vectors"):
        self.unknown = list(unknown)
        vocabulary = list(vocabulary)
        parts = []
        for word in self.unknown:
            near = difflib.get_close_matches(word, vocabulary, n=3, cutoff=0.75)  # 0.6 offered "we" for "went"
            if near:
                hint = f" (did you mean {', '.join(display_word(w) for w in near)}?)"
            elif not word.isascii():  # another script, e.g. Chinese: say why nothing is near
                hint = " (not an English word)"
            else:
                hint = ""
            parts.append(f"'{display_word(word)}'{hint}")
        self.message = (
            f"unknown word{'s' if len(parts) > 1 else ''}: {'; '.join(parts)}. "
            f"{table[:1].upper()}{table[1:]} {'knows' if table != 'the vectors' else 'know'} "
            f"{len(vocabulary)} English words; use only those."
        )
        super().__init__(self.message)

    def __str__(self):  # KeyError would otherwise print the message in quotes
        return self.message


class ToyVectors(KeyedVectors):
    """KeyedVectors whose lookups hand out copies.

    gensim 4.4's `similarity` normalises the vectors it is given in place (a BLAS
    scal on a view), which would quietly rescale a float64 table to unit length.
    Returning copies keeps the table's numbers exactly as written in data/.
    """

    def get_vector(self, key, norm=False):
        return np.array(super().get_vector(key, norm=norm))


def _table_name(vectors):
    """How an UnknownWordError names `vectors`: 'the toy table' or 'the vectors'."""
    return "the toy table" if isinstance(vectors, ToyVectors) else "the vectors"


def toy_vectors():
    """The 6-d toy word vectors as gensim KeyedVectors (float64, 44 words).

    Holds every word of SENTENCE and CONTRAST_SENTENCE, the river and town
    clusters, and *bank* between them. *river* is [-0.9, 0.9, -0.2, 0.4, 0.2, 0.6].
    """
    return ToyVectors.load_word2vec_format(str(TOY_VECTORS_FILE), binary=False, datatype=np.float64)


def display_word(word):
    """'post_office' -> 'post office': how a stored word is written for people."""
    return word.replace("_", " ")


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+")


def tokenize(text):
    """Lowercase `text`, drop punctuation, join 'post office'; returns a list of words.

    >>> tokenize("Tom is going to fish at the river bank.")
    ['tom', 'is', 'going', 'to', 'fish', 'at', 'the', 'river', 'bank']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}: {text!r:.60}")
    words = _WORD.findall(text.lower().replace("\u2019", "'"))  # typographic ’ as in "Tom’s"
    if not words:
        raise ValueError(f"text has no words to look up: {text!r:.60}")
    joined = " ".join(words)
    for phrase, word in MULTIWORD.items():
        joined = re.sub(rf"\b{phrase}\b", word, joined)
    return joined.split(" ")


def sentence_matrix(text, vectors=None):
    """Tokenize `text` and stack its word vectors: returns (tokens, X) with X (n, d).

    `vectors` defaults to the toy table. Unknown words raise UnknownWordError,
    which lists every unknown word and suggests near spellings.
    """
    vectors = toy_vectors() if vectors is None else vectors
    tokens = tokenize(text)
    unknown = [t for t in dict.fromkeys(tokens) if t not in vectors.key_to_index]
    if unknown:
        raise UnknownWordError(unknown, list(vectors.key_to_index), _table_name(vectors))
    X = np.stack([np.asarray(vectors[t], dtype=np.float64) for t in tokens])  # (n, d)
    return tokens, X


def cosine_similarity(A, B):
    """Cosine similarity of every row of A (m, d) with every row of B (k, d): (m, k).

    1-D inputs are treated as single rows and the result squeezed accordingly.
    """
    A2 = np.atleast_2d(as_float_array(A, "A").astype(np.float64))
    B2 = np.atleast_2d(as_float_array(B, "B").astype(np.float64))
    if A2.ndim != 2 or B2.ndim != 2:
        raise ValueError(f"A and B must be vectors (d,) or matrices (m, d): shapes {np.shape(A)} and {np.shape(B)}")
    if A2.shape[-1] != B2.shape[-1]:
        raise ValueError(f"A and B need the same vector length: shapes {np.shape(A)} and {np.shape(B)}")
    norms = np.linalg.norm(A2, axis=1)[:, None] * np.linalg.norm(B2, axis=1)[None, :]
    if (norms == 0).any():
        raise ValueError("cosine similarity is undefined for an all-zero vector")
    sims = (A2 @ B2.T) / norms
    if np.ndim(A) == 1 and np.ndim(B) == 1:
        return float(sims[0, 0])
    if np.ndim(A) == 1:
        return sims[0]
    if np.ndim(B) == 1:
        return sims[:, 0]
    return sims


# ------------------------------------------------------------ word2vec


def _stable_hash(text):
    # gensim seeds each word's starting vector with hashfxn(word + seed); Python's
    # own hash() changes between runs, so use a fixed one to be reproducible.
    return zlib.crc32(text.encode("utf-8"))


def read_corpus(path=CORPUS_FILE):
    """The training corpus as a list of tokenized sentences (one per line).

    Blank lines and comment lines (starting with #) are skipped.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [tokenize(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def train_word2vec(sentences=None, vector_size=20, window=8, epochs=300, seed=1):
    """Train gensim Word2Vec (skip-gram) on the project's small corpus; returns KeyedVectors.

    Deterministic: a fixed seed, one worker thread and a fixed hash function,
    so the same corpus gives the same vectors on every run (tests/test_word2vec.py
    checks this across processes). `sentences` defaults to read_corpus(): a list
    of token lists. The defaults were tuned on data/corpus.txt (about 1 s on two
    cores): a window of 8 covers most of a short sentence, so words that share a
    topic (river, fish, fisherman) end up close together.
    """
    sentences = read_corpus() if sentences is None else sentences
    model = Word2Vec(
        sentences=sentences,
        vector_size=vector_size,
        window=window,
        min_count=1,
        sg=1,
        negative=5,
        epochs=epochs,
        seed=seed,
        workers=1,
        hashfxn=_stable_hash,
    )
    return model.wv


# ------------------------------------------------------------- 2-D maps


class Map2D:
    """A fixed 2-D PCA map of a set of word vectors.

    `words` and `coords` (n, 2) are the fitted words' positions; calling the
    map on new vectors (..., d) places them on the same axes, so a moved
    *bank* can be drawn beside the words it moved toward.
    """

    def __init__(self, words, mean, axes):
        self.mean = mean  # (d,)
        self.axes = axes  # (2, d), rows are the principal directions
        self.words = list(words)
        self._index = {w: i for i, w in enumerate(self.words)}
        self.coords = None

    def __call__(self, points):
        """Project points (..., d) onto the map: (..., 2)."""
        points = np.asarray(points, dtype=np.float64)
        if points.shape[-1] != self.mean.shape[0]:
            raise ValueError(
                f"points must have {self.mean.shape[0]} numbers in the last axis, got shape {points.shape}"
            )
        return (points - self.mean) @ self.axes.T

    def __getitem__(self, word):
        """The (2,) position of a fitted word."""
        if word not in self._index:
            raise UnknownWordError([word], self.words, "this map")
        return self.coords[self._index[word]]


ANCHOR_WORD = "river"  # project_2d puts this word at negative x and negative y


def _oriented(axes, centred, words):
    """Sign the rows of `axes` (2, d): ANCHOR_WORD at negative coordinates, else largest loading > 0.

    `centred` (n, d) are the fitted vectors minus their mean, `words` their names.
    """
    anchor = centred[list(words).index(ANCHOR_WORD)] @ axes.T if ANCHOR_WORD in words else None
    for k, row in enumerate(axes):
        if anchor is not None and abs(anchor[k]) > 1e-9:
            flip = anchor[k] > 0
        else:
            flip = row[np.argmax(np.abs(row))] < 0
        if flip:
            row *= -1
    return axes


def project_2d(vectors, words=None):
    """Fit a 2-D PCA map (numpy SVD) to `vectors`; returns a Map2D.

    `vectors` is KeyedVectors (optionally restricted to `words`) or an array
    (n, d) with `words` naming its rows.

    Orientation (the same for every map of the series): PCA fixes each axis
    only up to its sign, so the sign is chosen here. When *river* is one of
    the words, each axis is signed so that *river* has a negative coordinate:
    the river words sit on the left and low, the town words on the right, on
    every map (01's map of the whole table, 04's map of its sentences, a
    word2vec map). Without *river*, each axis is signed so that its largest
    loading is positive. Either way the picture is the same on every run.
    """
    if isinstance(vectors, KeyedVectors):
        words = list(vectors.key_to_index) if words is None else list(words)
        unknown = [w for w in dict.fromkeys(words) if w not in vectors.key_to_index]
        if unknown:
            raise UnknownWordError(unknown, list(vectors.key_to_index), _table_name(vectors))
        X = np.stack([np.asarray(vectors[w], dtype=np.float64) for w in words])
    else:
        X = as_float_array(vectors, "vectors").astype(np.float64)
        words = [str(i) for i in range(len(X))] if words is None else list(words)
    if X.ndim != 2 or len(X) < 2 or X.shape[1] < 2:
        raise ValueError(
            f"project_2d needs at least two vectors of length >= 2 as an (n, d) array, got shape {X.shape}"
        )
    if len(words) != len(X):
        raise ValueError(f"words names {len(words)} rows but vectors has {len(X)} rows (shape {X.shape})")
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    axes = _oriented(vt[:2].copy(), X - mean, words)
    m = Map2D(words, mean, axes)
    m.coords = m(X)
    return m


def top_words(tokens, values, k=3, *, positive_only=False):
    """'river 0.35, fish 0.26, bank 0.15': the k largest of `values` (n,) with their tokens (n).

    Ties keep sentence order. positive_only: leave out values <= 0 (a masked word's weight 0).
    The one "top words" readout of every panel (scores, weights, similarities).
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (len(tokens),):
        raise ValueError(f"top_words needs one value per token: {len(tokens)} tokens, values of shape {values.shape}")
    order = [j for j in np.argsort(-values, kind="stable")[:k] if not positive_only or values[j] > 0]
    return ", ".join(f"{display_word(tokens[j])} {values[j]:.2f}" for j in order)
