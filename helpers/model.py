"""The series' small trained language model: load it, read its attention, predict the next word.

A decoder-only transformer over words, trained on data/corpus.txt by tools/train_model.py
with the numpy code of helpers.lm_training, shipped in data/model/ (weights.npz and
training.json, which records how it was trained). Its forward pass is the series' own
maths and nothing else: word embeddings + helpers.positions.sinusoidal, then
helpers.transformer.transformer_block (pre-norm, causal mask, ReLU feed-forward) per
layer, helpers.transformer.layer_norm, and logits = LN(x) @ Eᵀ (the embedding reused).

    model = load_model()
    model.predict_next("Tom is going to fish at the river")   # [(word, probability), ...]
    model.attention(model.encode("..."))                       # (layers, heads, n, n)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .attention import causal_mask, softmax
from .positions import sinusoidal
from .transformer import layer_norm, transformer_block

MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "model"
UNKNOWN = "<unk>"
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\.")


def words_of(text):
    """'Tom is going, to the bank.' -> ['tom', 'is', 'going', 'to', 'the', 'bank', '.']:
    lower case, words and full stops (other punctuation dropped)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    return WORD.findall(text.lower())


class Model:
    """A trained word-level transformer. vocabulary: list of words (index = token id)."""

    def __init__(self, params, vocabulary, num_heads, info=None):
        self.params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
        self.vocabulary = list(vocabulary)
        self.index = {w: i for i, w in enumerate(self.vocabulary)}
        self.num_heads = int(num_heads)
        self.layers = sum(1 for k in self.params if k.endswith(".W_q"))
        self.d_model = self.params["embedding"].shape[1]
        self.info = dict(info or {})
        self.context = int(self.info.get("options", {}).get("context", 16))

    def encode(self, text):
        """Token ids of `text`; a word the model never saw becomes <unk>."""
        return [self.index.get(w, self.index[UNKNOWN]) for w in words_of(text)]

    def unknown_words(self, text):
        """The words of `text` that are not in the vocabulary, in order, once each."""
        return list(dict.fromkeys(w for w in words_of(text) if w not in self.index))

    def _run(self, token_ids):
        ids = np.asarray(token_ids, dtype=int)
        if ids.ndim != 1 or ids.size == 0:
            raise ValueError("token_ids must be a non-empty list of token ids")
        if ids.min() < 0 or ids.max() >= len(self.vocabulary):
            raise ValueError(f"token ids must lie in 0..{len(self.vocabulary) - 1}")
        p, n = self.params, ids.size
        x = p["embedding"][ids] + sinusoidal(n, self.d_model)
        mask, weights, inputs = causal_mask(n), [], []
        for l in range(self.layers):
            inputs.append(x)
            x, w = transformer_block(
                x, tuple(p[f"{l}.{w}"] for w in ("W_q", "W_k", "W_v", "W_o")),
                tuple(p[f"{l}.{w}"] for w in ("W_1", "b_1", "W_2", "b_2")), self.num_heads,
                ln_1=(p[f"{l}.ln_1.gain"], p[f"{l}.ln_1.bias"]), ln_2=(p[f"{l}.ln_2.gain"], p[f"{l}.ln_2.bias"]),
                mask=mask, norm_first=True, activation="relu")
            weights.append(w)
        z = layer_norm(x, p["ln_f.gain"], p["ln_f.bias"])
        return z @ p["embedding"].T, np.stack(weights), np.stack(inputs)

    def logits(self, token_ids):
        """(n, vocab): the scores of every next word after each position."""
        return self._run(token_ids)[0]

    def attention(self, token_ids):
        """(layers, heads, n, n): every head's attention weights (rows: queries)."""
        return self._run(token_ids)[1]

    def block_inputs(self, token_ids):
        """(layers, n, d_model): the vectors entering each block (block 0: embeddings + positions)."""
        return self._run(token_ids)[2]

    def predict_next(self, text, k=5, temperature=1.0):
        """The k most likely next words after `text`: [(word, probability), ...]. Only the last
        `context` words are read (16: the longest window the model was trained on)."""
        ids = self.encode(text)
        if not ids:
            raise ValueError("type at least one word")
        probs = softmax(self.logits(ids[-self.context:])[-1], temperature=temperature)
        order = np.argsort(-probs, kind="stable")[:k]
        return [(self.vocabulary[i], float(probs[i])) for i in order]


def save_model(folder, params, vocabulary, num_heads, info):
    """Write weights.npz (float32) and training.json (vocabulary, sizes, how it was trained)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "weights.npz", **{k: v.astype(np.float32) for k, v in params.items()})
    meta = {"num_heads": num_heads, "vocabulary": list(vocabulary), **info}
    (folder / "training.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load_model(folder=MODEL_DIR):
    """The shipped model (offline, well under a second)."""
    folder = Path(folder)
    meta = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    with np.load(folder / "weights.npz") as data:
        params = {k: data[k] for k in data.files}
    vocabulary = meta.pop("vocabulary")
    return Model(params, vocabulary, meta.pop("num_heads"), meta)
