"""Notebook 00 (start here): what its prose claims, checked against the helpers.

- "Why attention at all?": the photo analogy (the eye jumps to the boy instead of scanning
  pixel by pixel), and the words it says *bank* takes most from, which must be the words the
  series' head actually gives *bank* the largest weights.
- GPT (decoder blocks, a causal mask: each word sees only itself and the words before it) and BERT
  (encoder blocks, no causal mask: every word sees the whole sentence), checked on the
  helpers' mask and attention, and the notebook it points to really builds that mask.
- 00 stays short, and the diagram it shows comes before the lessons' map.
- "Is your computer ready?": the check asks for exactly the packages the helpers depend on
  (pyproject.toml), each at its lowest tested version, and the versions cell prints those.
- "Your first slider": the panel's bars are the chosen word's six numbers times the scale, in
  the word's colour; every control change is a small patch; the stored notebook shows its first
  picture to static viewers and prints what the panel reads out.
"""
import ast
import re
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from helpers import attention, embeddings, plots
from helpers.lessons import start_here
from helpers.panels import apply_patch
from notebook_text import load, markdown, outputs, source

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

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


# ---------------------------------------------------------------- your first slider


class Front:
    """What the browser shows: the first scene, then every patch the view sends applied to it."""

    def __init__(self, panel):
        self.view, self.keyed = panel.view, panel.scene.keyed()
        panel.view.send = self.receive

    def receive(self, content, buffers=None):
        assert content["rev"] == self.view.rev
        self.keyed = apply_patch(self.keyed, content)


@pytest.fixture()
def panel():
    return start_here.panels()["word_vector"]


def drawn_bars(scene):
    """[(signed height in px, fill)] of the six bars: up is positive, measured from the zero line."""
    keyed = scene.keyed()
    rects = [keyed[f"vector.b{i}"][0] for i in range(len(embeddings.DIMENSIONS))]
    edges = [(round(float(a["y"]), 1), round(float(a["y"]) + float(a["height"]), 1)) for a in rects]
    (zero,) = set.intersection(*(set(e) for e in edges))  # every bar starts or ends on the zero line
    return [(bottom - top if bottom == zero else top - bottom, a["fill"]) for (top, bottom), a in zip(edges, rects)]


def px_per_unit(scene):
    """Pixels between the axis' ticks 0 and 1, read from the picture's tick labels."""
    markup = "".join(scene.tile_markups())
    y = {t: float(v) for v, t in re.findall(r'<text[^>]* y="([-\d.]+)"[^>]*>(-?[\d.]+)</text>', markup)
         if t in ("0", "1")}
    return y["0"] - y["1"]


@pytest.mark.parametrize("word, scale", [("river", 1.0), ("fish", 0.5), ("post_office", 1.5),
                                          ("bank", 0.3), ("tom", 0.0)])
def test_the_bars_are_the_words_numbers_times_the_scale(panel, word, scale):
    front = Front(panel)
    panel.controls["word"].value = word
    panel.controls["scale"].value = scale
    expected = scale * np.asarray(embeddings.toy_vectors()[word], dtype=float)
    heights, fills = zip(*drawn_bars(panel.scene))
    assert np.allclose(np.array(heights) / px_per_unit(panel.scene), expected, atol=0.01)
    assert set(fills) == {plots.word_color(word)}
    assert front.keyed == panel.scene.keyed()  # the browser shows what the kernel drew
    shown = [t for t in panel.scene.texts() if re.fullmatch(r"-?\d\.\d\d", t)]
    assert shown == [f"{v:.2f}" for v in expected]
    title = f"{scale:.2f} × vector of '{embeddings.display_word(word)}'"
    assert title in panel.scene.texts()
    numbers = [float(x) for x in re.search(r"= \[(.*)\]", panel.text).group(1).split(",")]
    assert panel.text.startswith(f"{embeddings.display_word(word)} × {scale:.2f} = ")
    assert np.allclose(numbers, np.round(expected, 2))


def test_the_colours_are_the_words_colours(panel):
    colours = {}
    for word in ("fish", "hospital", "bank", "money"):
        panel.controls["word"].value = word
        colours[word] = {fill for _, fill in drawn_bars(panel.scene)}
    assert colours == {"fish": {plots.RIVER_COLOR}, "hospital": {plots.TOWN_COLOR},
                       "bank": {plots.BANK_COLOR}, "money": {plots.OTHER_COLOR}}


def test_every_control_change_is_a_small_patch(panel):
    front = Front(panel)
    rng = np.random.default_rng(0)
    words = [v for _, v in panel.controls["word"].options]
    for _ in range(12):
        for name, value in (("scale", round(float(rng.uniform(0, 1.5)), 1)), ("word", rng.choice(words))):
            before = len(panel.view.sent)
            panel.controls[name].value = value
            assert front.keyed == panel.scene.keyed()
            for kind, size in panel.view.sent[before:]:
                assert kind == "patch" and size < 8 * 1024, (name, kind, size)


def test_the_controls_and_readout_as_the_notebook_says(panel):
    assert [c.description for c in panel.controls.values()] == ["word", "scale"]
    assert len(panel.controls["word"].options) == len(embeddings.toy_vectors())
    assert (panel.controls["scale"].min, panel.controls["scale"].max) == (0.0, 1.5)
    printed = outputs("00")
    for word, scale in (("fish", 0.5), ("post_office", 1.0)):
        assert panel.set(word=word, scale=scale) in printed


def test_static_viewers_see_the_panels_first_picture(panel):
    (cell,) = [c for c in load("00")["cells"] if "word_vector_panel(" in source(c)]
    (out,) = cell["outputs"]
    assert "".join(out["data"]["image/svg+xml"]) == panel.static_svg()
    width, _ = panel.scene.size()
    assert width <= 580


# ---------------------------------------------------------------- is your computer ready?


def lowest_tested_versions():
    """{package: its lowest version} for every dependency of the helpers in pyproject.toml."""
    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8"))
    floors = {}
    for line in project["project"]["dependencies"]:
        req = Requirement(line)
        (floors[req.name],) = [s.version for s in req.specifier if s.operator == ">="]
    return floors


def test_the_environment_check_asks_for_each_dependency_at_its_lowest_tested_version():
    (cell,) = [c for c in load("00")["cells"] if "needed = {" in source(c)]
    (needed,) = [ast.literal_eval(node.value) for node in ast.walk(ast.parse(source(cell)))
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "needed"]
    assert needed == lowest_tested_versions()
    printed = "".join("".join(o["text"]) for o in cell["outputs"]).splitlines()
    assert [line.split()[0] for line in printed[:len(needed)]] == list(needed)
    assert all(line.split()[-1] == "ok" for line in printed[:len(needed)])


def test_the_versions_cell_prints_python_and_the_same_packages():
    (cell,) = [c for c in load("00")["cells"]
               if "NBVAL_IGNORE_OUTPUT" in source(c) and "__version__" in source(c)]
    printed = [line.split()[0] for line in "".join("".join(o["text"]) for o in cell["outputs"]).splitlines()]
    assert printed == ["python", *lowest_tested_versions()]
