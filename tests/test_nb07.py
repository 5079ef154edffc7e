"""Notebook 07 (the transformer block): every claim of the prose, the panels, the figures.

Numbers the prose quotes are read from the notebook's text (tests/notebook_text.py) and
compared with a computation made here with numpy and the helpers' maths; nothing is copied
from the stored outputs. Panels are driven through their controls, and what the browser
would show (the first scene plus the patches the view sent) is compared with the maths.
"""

import inspect
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import embeddings as E  # noqa: E402
from helpers import plots  # noqa: E402
from helpers.attention import causal_mask, demo_heads, multi_head_attention  # noqa: E402
from helpers.lessons import transformer_block as L  # noqa: E402
from helpers.panels import apply_patch  # noqa: E402
from helpers.transformer import cross_attention, feed_forward, layer_norm, transformer_block  # noqa: E402
from notebook_text import load, markdown, quoted, quoted_all, source  # noqa: E402

TEXT = markdown("07")
KV = E.toy_vectors()


def cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def centres():
    return (np.mean([KV[w] for w in E.RIVER_CLUSTER], axis=0), np.mean([KV[w] for w in E.TOWN_CLUSTER], axis=0))


def bank_states(text):
    """bank as it comes in, after 05's two heads alone, after x + heads: computed here."""
    W_q, W_k, W_v, W_o, h = demo_heads()
    tokens, X = E.sentence_matrix(text, KV)
    out, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, h)
    b = tokens.index("bank")
    return X[b], out[b], X[b] + out[b]


def mean_cos(Z):
    n = len(Z)
    return np.mean([cos(Z[i], Z[j]) for i in range(n) for j in range(i + 1, n)])


# ------------------------------------------------------------ the pipeline, the toy


def test_the_diagram_highlights_the_rest_of_the_block():
    cells = [source(c) for c in load("07")["cells"] if c["cell_type"] == "code"]
    (call,) = [c for c in cells if "pipeline_diagram" in c]
    assert 'highlight=["addnorm_1", "ffn", "addnorm_2"]' in call and "steps=block.PIPELINE" in call
    assert [s.key for s in L.PIPELINE] == [s.key for s in (*plots.PIPELINE_STEPS, *plots.BLOCK_STEPS)]


def test_the_simplifications_are_named():
    assert quoted(TEXT, r"6 numbers per word \(GPT-2 small has (\d+)\)") == 768  # GPT-2 small's d_model
    assert "no dropout" in TEXT and "nothing here is trained" in TEXT and "no biases inside" in TEXT


# ------------------------------------------------------------ 1. the residual


def test_the_outputs_of_attention_look_alike_and_the_residual_helps():
    tokens, X = E.sentence_matrix(E.SENTENCE, KV)
    W_q, W_k, W_v, W_o, h = demo_heads()
    out, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, h)
    assert mean_cos(out) > mean_cos(X + out) > mean_cos(X)
    assert np.isclose(L.mean_pairwise_cosine(out), mean_cos(out))


def test_bank_keeps_its_meaning_and_moves_toward_its_context_in_the_river_sentence():
    river, town = centres()
    raw, alone, res = bank_states(E.SENTENCE)
    text = TEXT[TEXT.index("In the river sentence"):]
    assert quoted(text, r"cosine ([\d.]+) with the river\s+centre\)") == round(cos(alone, river), 2)
    assert quoted(text, r"leaves little of \*bank\* \(([\d.]+) with") == round(cos(alone, raw), 2)
    assert quoted(text, r"keeps\s+its meaning \(([\d.]+) with") == round(cos(res, raw), 2)
    before, after = quoted(text, r"centre rises from ([\d.]+) to ([\d.]+)\. In")
    assert (before, after) == (round(cos(raw, river), 2), round(cos(res, river), 2))
    assert cos(res, raw) > cos(alone, raw) and cos(res, river) > cos(raw, river)


def test_the_same_plus_sign_moves_bank_to_the_town_in_the_money_sentence():
    river, town = centres()
    raw, alone, res = bank_states(E.CONTRAST_SENTENCE)
    text = TEXT[TEXT.index("In the money sentence"):]
    assert quoted(text, r"^In the money sentence.*?\n?([\d.]+) with its raw vector") == round(cos(res, raw), 2)
    before, after = quoted(text, r"and from ([\d.]+) to ([\d.]+) with the town centre")
    assert (before, after) == (round(cos(raw, town), 2), round(cos(res, town), 2))
    assert cos(res, town) > cos(raw, town) and cos(res, river) < cos(raw, river)


def test_bank_cosines_helper_agrees():
    for text in L.SENTENCES.values():
        raw, alone, res = bank_states(text)
        river, town = centres()
        want = [[cos(v, c) for c in (raw, river, town)] for v in (raw, alone, res)]
        np.testing.assert_allclose(list(L.bank_cosines(text).values()), want, rtol=1e-12)


def test_the_depth_examples_are_real_models():
    # GPT-2 small 12 blocks, GPT-2 XL 48, GPT-3 96
    assert quoted(TEXT, r"in a model of (\d+), (\d+) or (\d+) blocks") == (12, 48, 96)
    assert quoted(TEXT, r"GPT-2 small has (\d+) blocks, GPT-3 (\d+)") == (12, 96)


# ------------------------------------------------------------ 2. layer norm


def test_layer_norm_eps_is_pytorchs_and_the_helpers():
    assert "($10^{-5}$ in PyTorch)" in TEXT
    assert inspect.signature(layer_norm).parameters["eps"].default == 1e-5


def test_layer_norm_keeps_the_order_of_the_numbers():
    tokens, X = E.sentence_matrix(E.SENTENCE, KV)
    W_q, W_k, W_v, W_o, h = demo_heads()
    res = X + multi_head_attention(X, W_q, W_k, W_v, W_o, h)[0]
    for x in res:
        y = layer_norm(x)
        assert list(np.argsort(x)) == list(np.argsort(y))  # "the largest number stays the largest"
        assert abs(y.mean()) < 1e-12 and abs(y.std() - 1) < 1e-3  # eps keeps it a hair below 1
        g, b = 1.7, -0.3
        z = layer_norm(x, np.full(6, g), np.full(6, b))
        assert np.isclose(z.mean(), b) and np.isclose(z.std(), g * y.std())  # "mean = bias, spread = gain"


# ------------------------------------------------------------ 3. feed-forward


def test_the_middle_layer_is_four_times_wider():
    d = quoted_all(TEXT, r"(\d+) for the paper's (\d+), (\d+)\s+for GPT-2's (\d+); ours: (\d+) for (\d+)")
    paper_ff, paper, gpt_ff, gpt, ours_ff, ours = d[0]
    assert (paper_ff, gpt_ff, ours_ff) == (4 * paper, 4 * gpt, 4 * ours)
    att, ffn = L.random_block(np.random.default_rng(0))
    assert ffn[0].shape == (6, ours_ff) and ffn[2].shape == (ours_ff, 6)


def test_the_feed_forward_network_works_on_each_word_alone():
    rng = np.random.default_rng(1)
    _, (W_1, b_1, W_2, b_2) = L.random_block(rng)
    _, X = E.sentence_matrix(E.SENTENCE, KV)
    whole = feed_forward(X, W_1, b_1, W_2, b_2)
    for i, x in enumerate(X):
        np.testing.assert_allclose(np.maximum(0, x @ W_1 + b_1) @ W_2 + b_2, whole[i], rtol=1e-12)


def gpt2_block_counts(d=768):
    attention = 4 * (d * d + d)                       # W_q, W_k, W_v, W_o with biases
    ffn = d * 4 * d + 4 * d + 4 * d * d + d
    norms = 2 * (d + d)
    return attention, ffn, norms


def test_parameter_counts():
    attention, ffn, norms = gpt2_block_counts()
    total, in_ffn = quoted(TEXT, r"one block holds ([\d,]+) weights, and ([\d,]+) of them")
    assert (total, in_ffn) == (attention + ffn + norms, ffn)
    assert "about two thirds of every block" in TEXT and abs(ffn / total - 2 / 3) < 0.01
    assert quoted(TEXT, r"one each, ([\d,]+) in all") == 4 * 768
    assert L.parameter_counts(768, biases=True) == {"attention": attention, "feed-forward": ffn,
                                                     "layer norms": norms, "block": attention + ffn + norms}
    assert L.parameter_counts(6) == {"attention": 144, "feed-forward": 6 * 24 + 24 + 24 * 6 + 6,
                                     "layer norms": 24, "block": 144 + 318 + 24}


def test_question_3_numbers():
    q = TEXT[TEXT.index("### Question 3"):TEXT.index("### Question 4")]
    d, d_ff = quoted(q, r"\$d_{model} = (\d+)\$ and \$d_{ff} = (\d+)\$")
    m = re.search(r"\\times (\d+)\^2 = ([\d{},]+)\$ weights", q)
    assert int(m.group(1)) == d and int(m.group(2).replace("{,}", "")) == 4 * d * d
    assert quoted(q, r"1024 × 4096 = ([\d,]+) weights") == d * d_ff
    assert quoted(q, r"biases: ([\d,]+) in\s+all") == 2 * d * d_ff + d_ff + d
    assert L.parameter_counts(1024)["feed-forward"] == 2 * d * d_ff + d_ff + d
    assert abs((2 * d * d_ff + d_ff + d) / (4 * d * d) - 2) < 0.01  # "about twice attention's"


# ------------------------------------------------------------ 4. pre-norm and post-norm


def test_post_norm_ends_normalised_and_pre_norm_does_not():
    rng = np.random.default_rng(1)
    _, ffn = L.random_block(rng)
    W_q, W_k, W_v, W_o, h = demo_heads()
    _, X = E.sentence_matrix(E.SENTENCE, KV)
    post, _ = transformer_block(X, (W_q, W_k, W_v, W_o), ffn, h, norm_first=False)
    pre, _ = transformer_block(X, (W_q, W_k, W_v, W_o), ffn, h, norm_first=True)
    np.testing.assert_allclose(post.std(axis=1), 1, atol=1e-4)
    assert np.abs(pre.std(axis=1) - 1).max() > 0.5
    assert "every word at standard deviation 1" in TEXT


def test_the_pre_norm_stream_grows_over_the_stack():
    """'each block adds to it': the largest number of the pre-norm stream grows with depth."""
    xs = L.stack(True, True)
    assert np.abs(xs[-1]).max() > 2 * np.abs(xs[0]).max()


# ------------------------------------------------------------ 5. stacking


def independent_stack(residual, seed=L.STACK_SEED, layers=12):
    rng = np.random.default_rng(seed)
    _, x = E.sentence_matrix(E.SENTENCE, KV)
    out = []
    for _ in range(layers):
        att = [rng.normal(0, 1 / np.sqrt(6), (6, 6)) for _ in range(4)]
        W_1, W_2 = rng.normal(0, np.sqrt(2 / 6), (6, 24)), rng.normal(0, 1 / np.sqrt(24), (24, 6))
        a, _ = multi_head_attention(layer_norm(x), *att, 2)
        x = (x if residual else 0) + a
        x = (x if residual else 0) + np.maximum(0, layer_norm(x) @ W_1) @ W_2
        out.append(x)
    return out


def test_the_stack_helper_matches_an_independent_computation():
    for residual in (True, False):
        for a, b in zip(L.stack(residual, True), independent_stack(residual)):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_without_residuals_the_words_collapse_with_them_they_do_not():
    text = TEXT[TEXT.index("Without residuals the words **collapse**"):]
    blocks, value = quoted(text, r"after (\d+) blocks the mean cosine is ([\d.]+), and")
    blocks, from_block = int(blocks), int(quoted(text, r"from (\d+) blocks\s+on the matrix has rank 1"))
    without = independent_stack(False)
    assert round(mean_cos(without[blocks - 1]), 2) == value == 1.00
    assert round(mean_cos(without[blocks - 2]), 2) < 1.00
    ranks = [np.linalg.matrix_rank(x, tol=1e-6 * np.linalg.norm(x, 2)) for x in without]
    assert all(r == 1 for r in ranks[from_block - 1:]) and ranks[from_block - 2] > 1
    with_res = independent_stack(True)
    assert quoted(text, r"the rank stays (\d+) through all 12 blocks") == 6
    assert all(np.linalg.matrix_rank(x) == 6 for x in with_res)
    assert round(max(mean_cos(x) for x in with_res), 2) == quoted(text, r"stays at ([\d.]+) or below")
    assert "still drift closer as blocks are added" in text and mean_cos(with_res[-1]) > mean_cos(with_res[0])


@pytest.mark.parametrize("seed", range(10))
def test_the_collapse_is_not_one_lucky_seed(seed):
    cos_with, ranks_with = L.stack_curve(True, True, seed)
    cos_without, ranks_without = L.stack_curve(False, True, seed)
    assert ranks_without[-1] == 1 and cos_without[-1] > 0.9999
    assert min(ranks_with) == 6
    for x in L.stack(True, True, seed):  # six directions, and not by a hair: far above the rank's tolerance
        s = np.linalg.svd(x, compute_uv=False)
        assert s[-1] / s[0] > 1e-3


def test_the_ranks_helper_counts_directions():
    assert L.rank(np.ones((9, 6))) == 1 and L.rank(np.eye(6)) == 6


# ------------------------------------------------------------ 6. GPT, BERT, cross-attention


def test_with_the_causal_mask_tom_sees_only_itself_and_bank_sees_all():
    tokens, full, causal = L.mask_weights()
    W_q, W_k, W_v, W_o, h = demo_heads()
    _, X = E.sentence_matrix(E.SENTENCE, KV)
    _, w = multi_head_attention(X, W_q, W_k, W_v, W_o, h, mask=causal_mask(9))
    np.testing.assert_allclose(causal, w[0])
    assert causal[0, 0] == 1.0 and (causal[-1] > 0).all() and (full > 0).all()
    assert np.all(causal[np.triu_indices(9, 1)] == 0)


def test_a_causal_block_gives_the_shared_first_words_the_same_outputs():
    assert "begin with the same four words" in TEXT
    a_tokens, A = E.sentence_matrix(E.SENTENCE, KV)
    b_tokens, B = E.sentence_matrix(E.CONTRAST_SENTENCE, KV)
    assert a_tokens[:4] == b_tokens[:4] == ["tom", "is", "going", "to"] and a_tokens[4] != b_tokens[4]
    W_q, W_k, W_v, W_o, h = demo_heads()
    _, ffn = L.random_block(np.random.default_rng(1))
    for mask, same in ((None, False), (causal_mask(9), True)):
        a, _ = transformer_block(A, (W_q, W_k, W_v, W_o), ffn, h, mask=mask)
        b, _ = transformer_block(B, (W_q, W_k, W_v, W_o), ffn, h, mask=mask)
        assert np.allclose(a[:4], b[:4]) is same


def test_question_5_changing_the_last_word_changes_only_its_output():
    W_q, W_k, W_v, W_o, h = demo_heads()
    _, ffn = L.random_block(np.random.default_rng(1))
    _, X = E.sentence_matrix(E.SENTENCE, KV)
    Y = X.copy()
    Y[-1] = KV["money"]
    a, _ = transformer_block(X, (W_q, W_k, W_v, W_o), ffn, h, mask=causal_mask(9))
    b, _ = transformer_block(Y, (W_q, W_k, W_v, W_o), ffn, h, mask=causal_mask(9))
    np.testing.assert_array_equal(a[:-1], b[:-1])
    assert not np.allclose(a[-1], b[-1])


def test_cross_attention_finds_the_translations():
    french, english, w = L.translation_weights()
    assert w.shape == (8, 9) and "an $8 \\times 9$ grid" in TEXT
    assert quoted(TEXT, r"\$W_q = (\d+)I\$") == 8
    F = np.array([KV[e] for _, e in L.FRENCH])
    _, X = E.sentence_matrix(E.SENTENCE, KV)
    scores = 8 * F @ X.T / np.sqrt(6)
    mine = np.exp(scores - scores.max(1, keepdims=True))
    mine /= mine.sum(1, keepdims=True)
    np.testing.assert_allclose(w, mine, rtol=1e-12)
    _, check = cross_attention(F, X, 8 * np.eye(6), np.eye(6), np.eye(6), np.eye(6), 1)
    np.testing.assert_allclose(check[0], mine, rtol=1e-12)
    for fr, en in (("rivière", "river"), ("Tom", "tom"), ("pêcher", "fish")):
        i, j = french.index(fr), english.index(en)
        assert w[i].argmax() == j
        assert quoted(TEXT, rf"\*{fr}\* gives\s+\*{en}\* (\d+\.\d+)") == round(w[i, j], 2)
    assert english[w[french.index("bord")].argmax()] == "river"  # "bord ... looks most at river"
    for small in ("de", "la", "au"):  # "the small words spread their weight"
        assert w[french.index(small)].max() < 0.2


# ------------------------------------------------------------ exercises


def test_exercise_stubs_and_solutions_exist():
    assert "solutions/07_transformer_block_solutions.ipynb" in TEXT
    sol = "".join(source(c) for c in load("notebooks/solutions/07_transformer_block_solutions.ipynb")["cells"])
    assert "transformer.transformer_block" not in sol.split("def my_pre_norm_block")[1].split("checks.")[0]


# ------------------------------------------------------------ panels


class Front:
    """What the browser does with the view's messages: starts from the first scene, applies patches."""

    def __init__(self, panel):
        self.keyed = panel.view.scene.keyed()
        self.sizes = []
        panel.view.send = self.receive

    def receive(self, content, buffers=None):
        self.keyed = apply_patch(self.keyed, content)


def drive(panel, name, value):
    """Move one control; return the view's messages since, after checking the patch rebuilds the scene."""
    front = Front(panel)
    start = len(panel.view.sent)
    panel.controls[name].value = value
    sent = panel.view.sent[start:]
    assert front.keyed == panel.scene.keyed(), f"the patch for {name} = {value!r} does not rebuild the scene"
    assert sent and all(kind == "patch" and size < 8 * 1024 for kind, size in sent), sent
    return sent


def value_texts(scene, key, n):
    return [scene.keyed()[f"{key}.v{i}"][1] for i in range(n)]


def test_residual_panel_shows_banks_numbers_and_cosines():
    panel = L.residual_panel()
    river, town = centres()
    for name, value in (("keep", 0.0), ("keep", 0.55), ("sentence", "money"), ("keep", 1.0)):
        drive(panel, name, value)
        keep = panel.controls["keep"].value
        raw, alone, _ = bank_states(L.SENTENCES[panel.controls["sentence"].value])
        new = keep * raw + alone
        assert value_texts(panel.scene, "cos", 3) == [f"{cos(new, c):.2f}" for c in (raw, river, town)]
        assert value_texts(panel.scene, "vec", 6) == [f"{v:.2f}" for v in new]
        assert f"cosine {cos(new, raw):.2f} with raw bank" in panel.text
    panel.reset()
    assert "cosine 0.87 with raw bank, 0.85 with the river centre" in panel.text


def test_layer_norm_panel_follows_word_gain_and_bias():
    panel = L.layer_norm_panel()
    tokens, X = E.sentence_matrix(E.SENTENCE, KV)
    W_q, W_k, W_v, W_o, h = demo_heads()
    res = X + multi_head_attention(X, W_q, W_k, W_v, W_o, h)[0]
    for name, value in (("word", "river"), ("gain", 2.0), ("bias", -0.7), ("word", "the"), ("gain", 0.0)):
        drive(panel, name, value)
        v = panel.values()
        x = res[tokens.index(v["word"])]
        y = (x - x.mean()) / np.sqrt(x.var() + 1e-5) * v["gain"] + v["bias"]
        assert value_texts(panel.scene, "out", 6) == [f"{a:.1f}" for a in y]
        assert value_texts(panel.scene, "in", 6) == [f"{a:.1f}" for a in x]
        assert f"after: mean {v['bias']:.2f}".replace("-0.00", "0.00") in panel.text
        assert "-0.00" not in panel.text


def test_stacking_panel_follows_layers_and_residuals():
    panel = L.stacking_panel()
    tokens = E.tokenize(E.SENTENCE)
    for name, value in (("layers", 4), ("residuals", "off"), ("layers", 12), ("residuals", "on"), ("layers", 2)):
        drive(panel, name, value)
        layers, on = panel.controls["layers"].value, panel.controls["residuals"].value == "on"
        x = independent_stack(on)[layers - 1]
        assert f"mean cosine between the words {mean_cos(x):.2f}" in panel.text
        assert f"rank {np.linalg.matrix_rank(x, tol=1e-6 * np.linalg.norm(x, 2))} of 6" in panel.text
        fills = [panel.scene.keyed()[f"curve.b{k}"][0]["fill"] for k in range(12)]
        colour = plots.RIVER_COLOR if on else plots.TOWN_COLOR
        assert fills == [colour] * layers + [plots.HIDDEN_COLOR] * (12 - layers)
        assert panel.scene.keyed()["pairs.t"][1] == f"cosines after {layers} block{'s' if layers > 1 else ''}"
        shown = [[panel.scene.keyed()[f"pairs.n{i}.{j}"][1] for j in range(9)] for i in range(9)]
        assert shown == [[f"{cos(x[i], x[j]):.1f}" for j in range(9)] for i in range(9)]
    assert len(tokens) == 9


def test_the_panels_are_the_notebooks():
    cells = "".join(source(c) for c in load("07")["cells"] if c["cell_type"] == "code")
    for name in ("residual_panel", "layer_norm_panel", "stacking_panel"):
        assert f"block.{name}()" in cells
    assert set(L.panels()) == {"residual", "layer_norm", "stacking"}
    for panel in L.panels().values():
        for tile in panel.scene.tiles:
            assert tile[0] <= 580
        assert panel.scene.size()[0] <= 580


def test_panel_printouts_are_what_the_panels_say():
    out = "".join("".join(o.get("text", "")) for c in load("07")["cells"] for o in c.get("outputs", []))
    panel = L.stacking_panel()
    assert panel.set(layers=4, residuals="off") in out
    assert panel.set(residuals="on") in out


# ------------------------------------------------------------ figures


@pytest.mark.parametrize("name", ["residual_figure", "layer_norm_figure", "pre_post_figure", "stacking_figure",
                                  "masks_figure", "cross_figure"])
def test_figures_fit_the_column_with_readable_text(name):
    plots.use_classroom_style()
    fig = getattr(L, name)()
    assert fig.get_size_inches()[0] <= 7.0 and fig.dpi == 100
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_text().strip():
            assert text.get_fontsize() >= 11, (name, text.get_text())
    plt.close(fig)


def test_the_residual_figure_draws_the_cosines():
    fig = L.residual_figure()
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    for text in L.SENTENCES.values():
        for values in L.bank_cosines(text).values():
            for v in values:
                assert f"{v:.2f}" in labels
    plt.close(fig)


def test_no_number_in_the_prose_is_left_unread():
    """Every decimal number of the markdown is one a test above reads."""
    checked = {"0.99", "0.58", "0.87", "0.48", "0.85", "0.84", "0.53", "0.82", "1.00", "0.90", "0.76",
               "0.68", "0.52"}
    found = set(re.findall(r"\d+\.\d+", TEXT))
    assert found <= checked, found - checked


@pytest.mark.parametrize("name", ["residual", "layer_norm", "stacking"])
def test_every_control_at_its_extremes_draws_numbers(name):
    panel = L.panels()[name]
    for control_name, control in panel.controls.items():
        values = [control.min, control.max] if hasattr(control, "min") else \
            [o[1] if isinstance(o, tuple) else o for o in control.options]
        for value in values:
            readout = panel.set(**{control_name: value})
            assert not panel.error, (name, control_name, value, panel.error)
            words = " ".join(panel.scene.texts()) + " " + readout
            assert not re.search(r"\bnan\b|\binf\b", words, re.I), (name, control_name, value)
    sliders = {n: c for n, c in panel.controls.items() if hasattr(c, "min")}
    for end in ("min", "max"):
        panel.set(**{n: getattr(c, end) for n, c in sliders.items()})
        assert not panel.error
