"""One module per notebook: that lesson's numbers, static figures and live panels.

The lessons layer sits on top: it uses the maths (helpers.attention, .embeddings,
.positions, .transformer, .training), the static drawing pieces (helpers.plots, matplotlib)
and the live-panel layer (helpers.panels); nothing below imports it.

    start_here             notebook 00: the map of the series, a word and its six numbers
    word_embeddings        notebook 01: word vectors, similarity, the two clusters, bank between
    queries_and_keys       notebook 02: W_q, W_k, scores term by term, why divide by sqrt(d_k)
    softmax_and_masking    notebook 03: softmax, temperature, causal and padding masks
    values_and_context     notebook 04: values, the weighted sum, bank pulled by its context
    multi_head_attention   notebook 05: heads side by side, concatenation, W_o
    word_order             notebook 06: attention is blind to word order, positions fix it
    transformer_block      notebook 07: residuals, layer norm, feed-forward, stacking
    learning_attention     notebook 08: gradient descent learns a head
    trained_transformer    notebook 09: a small trained model, its predictions and its heads

Each module with live panels has `panels()`: that notebook's panels, built as the notebook
builds them, by name (tests, benchmarks and the classroom load script use it).
"""

from __future__ import annotations

import importlib

LESSONS = ("start_here", "word_embeddings", "queries_and_keys", "softmax_and_masking",
           "values_and_context", "multi_head_attention", "word_order", "transformer_block",
           "learning_attention", "trained_transformer")


def all_panels():
    """{"NN name": panel} for every lesson module that exists and has `panels()`, in notebook order."""
    out = {}
    for number, name in enumerate(LESSONS):
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            continue
        for key, panel in getattr(module, "panels", dict)().items():
            out[f"{number:02d} {key}"] = panel
    return out
