"""helpers.attention at the size of a real model's layer, against plain numpy.

Runs multi_head_attention on a batch of 8 sentences of 1024 tokens, d_model = 768,
12 heads, float32 (BERT-base's shapes), and the same maths written as plain numpy
with no input checks. Prints the median time of each and their ratio: the checks
should cost a pass over the inputs, not extra passes over the 8 x 12 x 1024 x 1024 scores.

    python benchmarks/attention_at_scale.py [--repeats 5] [--batch 8] [--tokens 1024]
"""

import argparse
import statistics
import time

import numpy as np

from helpers.attention import multi_head_attention


def plain_multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads):
    """The same maths with no checks: (b, n, d) -> (b, n, d), weights (b, h, n, n)."""
    b, n, d = X.shape
    d_k = d // num_heads

    def heads(W):  # (b, n, d) @ (d, d) -> (b, h, n, d_k)
        return (X @ W).reshape(b, n, num_heads, d_k).transpose(0, 2, 1, 3)

    Q, K, V = heads(W_q), heads(W_k), heads(W_v)
    scores = Q @ K.transpose(0, 1, 3, 2)
    scores /= np.float32(np.sqrt(d_k))
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    out = (scores @ V).transpose(0, 2, 1, 3).reshape(b, n, d)
    return out @ W_o, scores


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--d-model", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    d = args.d_model
    X = rng.standard_normal((args.batch, args.tokens, d), dtype=np.float32)
    Ws = [rng.standard_normal((d, d), dtype=np.float32) / np.float32(np.sqrt(d)) for _ in range(4)]

    ours, _ = multi_head_attention(X, *Ws, args.heads)
    plain, _ = plain_multi_head_attention(X, *Ws, args.heads)
    np.testing.assert_allclose(ours, plain, rtol=1e-4, atol=1e-5)  # the same maths

    # interleave the two so that both see the same machine load
    t_ours, t_plain = [], []
    for _ in range(args.repeats):
        t_ours.append(median_seconds(lambda: multi_head_attention(X, *Ws, args.heads), 1))
        t_plain.append(median_seconds(lambda: plain_multi_head_attention(X, *Ws, args.heads), 1))
    ours_s, plain_s = statistics.median(t_ours), statistics.median(t_plain)
    print(f"shape {X.shape} float32, {args.heads} heads, median of {args.repeats}")
    print(f"helpers.attention.multi_head_attention  {ours_s * 1000:8.1f} ms")
    print(f"plain numpy, no checks                  {plain_s * 1000:8.1f} ms")
    print(f"ratio                                   {ours_s / plain_s:8.2f} x")


if __name__ == "__main__":
    main()
