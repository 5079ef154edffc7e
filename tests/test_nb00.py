"""Notebook 00 (start here): what its prose claims, checked against the helpers.

- "Why attention at all?": the photo analogy (the eye jumps to the boy instead of scanning
  pixel by pixel), and the words it says *bank* takes most from, which must be the words the
  series' head actually gives *bank* the largest weights.
- GPT (decoder blocks, a causal mask: each word sees only itself and the words before it) and BERT
  (encoder blocks, no causal mask: every word sees the whole sentence), checked on the
  helpers' mask and attention, and the notebook it points to really builds that mask.
- 00 stays short, and the diagram it shows comes before the lessons' map.
"""
import re

import numpy as np

from helpers import attention, embeddings
from notebook_text import load, markdown, source

WHY = "## Why attention at all?"


def why_section():
    return markdown("00", WHY, "## The pipeline you will build")


def story_weights(mask=None):
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, W_v = attention.demo_head()
    _, weights = attention.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, mask=mask)
    return tokens, weights


def test_the_photo_analogy_comes_before_the_pipeline():
    text = why_section()
    assert "boy" in text and "pixel by pixel" in text
    assert "jump to the boy" in text


def test_the_words_bank_takes_most_from_are_the_heads_largest_weights():
    words = re.findall(r"\*(\w+)\*", re.search(r"for \*bank\*, (.+?)\.", why_section()).group(1))
    tokens, weights = story_weights()
    row = weights[tokens.index("bank")]
    others = [tokens[j] for j in np.argsort(-row) if tokens[j] != "bank"]
    assert sorted(words) == sorted(others[:len(words)]) == ["fish", "river"]


def test_gpt_decoder_causal_mask_each_word_sees_only_the_words_before_it():
    text = why_section()
    assert re.search(r"\*\*GPT\*\*.*\*decoder\* blocks.*\*\*causal mask\*\*\s+lets each word see only\s+itself and\s+"
                     r"the words before it", text, re.S)
    n = len(embeddings.tokenize(embeddings.SENTENCE))
    _, weights = story_weights(attention.causal_mask(n))
    later = np.triu(np.ones((n, n), bool), k=1)
    assert np.all(weights[later] == 0) and np.all(weights[~later] > 0)
    # "notebook 03 builds that mask": its code calls the helper and its exercise asks for it
    assert "(notebook 03 builds that mask)" in text
    code = "\n".join(source(c) for c in load("03")["cells"] if c["cell_type"] == "code")
    assert "attention.causal_mask(" in code and "checks.check_causal_mask(" in code


def test_bert_encoder_no_causal_mask_every_word_sees_the_whole_sentence():
    text = why_section()
    assert re.search(r"\*\*BERT\*\*.*\*encoder\* blocks: no causal mask, every word sees the whole sentence",
                     " ".join(text.split()))
    _, weights = story_weights()
    assert np.all(weights > 0)  # left and right


def test_start_here_stays_short():
    words = len(re.findall(r"\w+", markdown("00")))
    assert words < 1000, f"notebook 00 has {words} words of prose; keep it under 1000"
