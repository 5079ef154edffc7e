"""Train the series' small language model from scratch and write data/model/.

    python tools/train_model.py                 # the shipped model (a few minutes at most)
    python tools/train_model.py --steps 200 --out /tmp/model   # a quick try

Deterministic: the same corpus and options give the same weights on the same numpy.
The corpus is data/corpus.txt; every 10th sentence is held out (never trained on) to
measure how well the model predicts text it has not seen. Words seen only once in the
training sentences become <unk>, so the model learns what to do with a word it does
not know. Everything is numpy: helpers.lm_training has the forward pass, the
gradients written out, and Adam.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections import Counter
from pathlib import Path

# One BLAS thread: the matrices are small, and on a shared machine OpenBLAS's threads spin
# against each other (measured here: 45 times slower gradients at a load average of 20).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import lm_training  # noqa: E402
from helpers.model import MODEL_DIR, UNKNOWN, save_model, words_of  # noqa: E402

CORPUS = ROOT / "data" / "corpus.txt"
DEFAULTS = dict(d_model=32, layers=2, num_heads=4, d_ff=128, context=16, batch=32, steps=3000,
                lr=3e-3, warmup=100, weight_decay=0.0, seed=0, held_out_every=10, min_count=2)


def corpus_sentences(path=CORPUS):
    """The corpus' sentences (comment and blank lines left out), in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def split(sentences, every):
    """(training sentences, held-out sentences): every `every`-th sentence is held out."""
    held = [s for i, s in enumerate(sentences) if i % every == every - 1]
    train = [s for i, s in enumerate(sentences) if i % every != every - 1]
    return train, held


def build_vocabulary(train, min_count):
    counts = Counter(w for s in train for w in words_of(s))
    return [UNKNOWN] + sorted(w for w, c in counts.items() if c >= min_count)


def stream(sentences, index):
    """All sentences' token ids, one after the other (each ends with its full stop)."""
    unk = index[UNKNOWN]
    return np.array([index.get(w, unk) for s in sentences for w in words_of(s)], dtype=np.int64)


def windows(ids, context):
    """Consecutive windows (inputs, targets) of `context` tokens covering `ids` once."""
    count = (len(ids) - 1) // context
    x = ids[:count * context].reshape(count, context)
    y = ids[1:count * context + 1].reshape(count, context)
    return x, y


def evaluate(params, ids, context, num_heads):
    """Mean cross-entropy (nats per word) of predicting each next word of `ids`."""
    x, y = windows(ids, context)
    loss, _ = lm_training.cross_entropy(lm_training.forward(params, x, num_heads)[0], y)
    return loss


def progress(step, steps, loss, started, width=30):
    done = int(width * step / steps)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] step {step}/{steps}  loss {loss:.3f}  "
                     f"{time.perf_counter() - started:.0f} s")
    sys.stderr.flush()


def train(options, log_every=50, quiet=False):
    """Train with `options` (DEFAULTS' keys); returns (params, vocabulary, info)."""
    o = {**DEFAULTS, **options}
    text = CORPUS.read_bytes()
    train_s, held_s = split(corpus_sentences(), o["held_out_every"])
    vocabulary = build_vocabulary(train_s, o["min_count"])
    index = {w: i for i, w in enumerate(vocabulary)}
    train_ids, held_ids = stream(train_s, index), stream(held_s, index)
    rng = np.random.default_rng(o["seed"])
    params = lm_training.init_parameters(len(vocabulary), o["d_model"], o["layers"], o["d_ff"], o["seed"])
    adam = lm_training.Adam(params, lr=o["lr"])
    offsets = np.arange(o["context"])
    started, curve = time.perf_counter(), []
    for step in range(1, o["steps"] + 1):
        starts = rng.integers(0, len(train_ids) - o["context"] - 1, o["batch"])
        x, y = train_ids[starts[:, None] + offsets], train_ids[starts[:, None] + offsets + 1]
        loss, grads = lm_training.loss_and_grads(params, x, y, o["num_heads"])
        lr = o["lr"] * min(1.0, step / o["warmup"]) * 0.5 * (1 + np.cos(np.pi * step / o["steps"]))  # warm-up, cosine
        adam.step(params, grads, lr=lr, weight_decay=o["weight_decay"])
        if step % log_every == 0 or step == o["steps"]:
            held_loss = evaluate(params, held_ids, o["context"], o["num_heads"])
            curve.append([step, round(loss, 4), round(held_loss, 4)])
            if not quiet:
                progress(step, o["steps"], loss, started)
    seconds = time.perf_counter() - started
    if not quiet:
        sys.stderr.write("\n")
    info = {"options": o, "corpus_sha256": hashlib.sha256(text).hexdigest(),
            "training_sentences": len(train_s), "held_out_sentences": len(held_s),
            "training_words": int(len(train_ids)), "held_out_words": int(len(held_ids)),
            "train_loss": round(evaluate(params, train_ids, o["context"], o["num_heads"]), 4),
            "held_out_loss": round(evaluate(params, held_ids, o["context"], o["num_heads"]), 4),
            "loss_curve": curve, "training_seconds_on_the_machine_that_trained_it": round(seconds)}
    return params, vocabulary, info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for key, value in DEFAULTS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--log-every", type=int, default=50, help="steps between two points of the loss curve")
    args = vars(parser.parse_args(argv))
    out, log_every = args.pop("out"), args.pop("log_every")
    params, vocabulary, info = train(args, log_every=log_every)
    save_model(out, params, vocabulary, args["num_heads"], info)
    print(f"vocabulary {len(vocabulary)} words, {sum(v.size for v in params.values())} parameters")
    print(f"train loss {info['train_loss']:.3f}, held-out loss {info['held_out_loss']:.3f} nats per word")
    print(f"{info['training_seconds_on_the_machine_that_trained_it']} s; written to {out}")


if __name__ == "__main__":
    main()
