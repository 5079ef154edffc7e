"""Notebook 08 (learning the head): every claim of the prose, the figures, the live panel.

Numbers the prose quotes are read from the notebook's text (tests/notebook_text.py) and
compared with the computation (helpers.training through the lesson module); nothing is
copied from the stored outputs.
"""

import ast
import json
import re
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import checks, embeddings, plots, training  # noqa: E402
from helpers.attention import demo_head  # noqa: E402
from helpers.lessons import learning_attention as L  # noqa: E402
from helpers.panels import apply_patch  # noqa: E402
from notebook_text import ROOT, load, markdown, quoted, source  # noqa: E402

TEXT = markdown("08")
RUN = L.run()
FINAL = RUN[-1].params


def r2(x):
    return round(float(x), 2)


# ------------------------------------------------------------ 1. the task and the data


def test_the_labelled_sentences_are_the_corpus_sentences_with_bank():
    rows = training.read_senses()
    with_bank = [s for s in embeddings.read_corpus() if "bank" in s]
    assert quoted(TEXT, r"has (\d+) sentences with \*bank\*") == len(with_bank)
    assert "left out the four that use the word twice" in TEXT
    assert len(with_bank) - len(rows) == 4
    twice = [s for s in with_bank if s.count("bank") > 1]
    assert len(twice) == 3  # the fourth is the sentence about the word itself
    assert "every fourth sentence\nis **held out**" in TEXT or "every fourth sentence is **held out**" in \
        " ".join(TEXT.split())


def test_the_data_readme_says_how_the_labels_were_made():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert "`bank_senses.tsv`" in readme
    rows = training.read_senses()
    n_river = sum(r[0] == "river" for r in rows)
    assert f"{len(rows)} sentences" in readme and f"{n_river} river" in readme
    assert f"{len(rows) - n_river} money" in readme


def test_the_counts_the_notebook_prints_and_the_questions_quote():
    rows = training.read_senses()
    train, held = L.data()
    assert len(train.y) + len(held.y) == len(rows) == 182
    q4 = markdown("08", "### Question 4")
    money, total = quoted(q4, r"(\d+) of the (\d+) sentences mean the money bank")
    assert (money, total) == (sum(r[0] == "money" for r in rows), len(rows))


def test_d_k_is_the_one_the_prose_names():
    assert quoted(TEXT, r"\$d_k = d_v = (\d)\$") == FINAL["W_q"].shape[1] == FINAL["W_v"].shape[1]


# ------------------------------------------------------------ 2-3. forward and backward


def test_at_the_start_bank_spreads_its_attention_almost_evenly():
    assert quoted(TEXT, r"one\s+ninth is ([\d.]+)\)") == r2(1 / 9)
    low, high = quoted(markdown("08", "## 5."), r"about equally \(([\d.]+) to ([\d.]+)\)")
    rows = [L.bank_row(RUN[0].params, text)[1] for text in L.EXAMPLES.values()]
    assert (low, high) == (r2(min(r.min() for r in rows)), r2(max(r.max() for r in rows)))
    q3 = markdown("08", "### Question 3")
    assert quoted(q3, r"all between ([\d.]+) and [\d.]+\.") == low
    assert quoted(q3, r"all between [\d.]+ and ([\d.]+)\.") == high
    assert quoted(q3, r"spread of ([\d.]+)\)") == 0.5
    p0 = L.bank_row(RUN[0].params, embeddings.SENTENCE)[2]
    assert abs(p0 - 0.5) < 0.05  # "p is close to one half"


def test_the_backward_table_is_the_code_the_notebook_runs():
    """Each numpy line of the table appears in the notebook's code and gives head_backward's gradient."""
    table = markdown("08", "## 3.", "Two lines deserve")
    code = "\n".join(source(c) for c in load("08")["cells"] if c["cell_type"] == "code")
    for snippet in re.findall(r"`([^`]+)` \|$", table, re.M):
        for part in snippet.split("; "):
            assert part in code, part


def test_cross_entropy_gradient_is_prediction_minus_label():
    assert "what is left is simply \"prediction minus label\"" in TEXT
    z, y = np.array([0.3, -1.2]), np.array([1.0, 0.0])
    np.testing.assert_allclose(training.cross_entropy_backward(training.sigmoid(z), y),
                               (training.sigmoid(z) - y) / 2)


# ------------------------------------------------------------ 4. gradient descent


def test_the_loss_falls_as_the_prose_says():
    first, last = quoted(TEXT, r"The loss falls from ([\d.]+) to ([\d.]+),")
    assert (first, last) == (round(RUN[0].loss, 3), round(RUN[-1].loss, 3))
    assert RUN[-1].accuracy == 1.0  # "every training sentence ends up on the right side"
    losses = [c.loss for c in RUN]
    assert all(a > b for a, b in zip(losses, losses[1:]))
    a, b = quoted(TEXT, r"between steps (\d+) and (\d+), once")
    by_step = {c.step: c.loss for c in RUN}
    assert by_step[a] - by_step[b] > (losses[0] - losses[-1]) / 2  # "most of the fall"


def test_one_step_lowers_the_loss():
    train = L.data()[0]
    params = training.init_head(seed=L.SEED)
    cache = training.head_forward(params, train)
    after = training.gradient_step(params, training.head_backward(params, train, cache), 1.0)
    assert training.head_forward(after, train)["loss"] < cache["loss"]


def test_the_held_out_loss_stops_then_creeps_up():
    held = [L.held_out(c.params)[3] for c in RUN]
    best = int(np.argmin(held))
    assert quoted(TEXT, r"then\s+stops at step (\d+) and creeps up") == RUN[best].step
    assert held[-1] > held[best] and held[best] < held[0]


def test_training_is_deterministic_and_fast():
    start = time.perf_counter()
    again = training.train_head(L.data()[0], steps=L.STEPS, lr=L.LEARNING_RATE, seed=L.SEED, every=L.EVERY)
    assert time.perf_counter() - start < 10
    assert [c.loss for c in again] == [c.loss for c in RUN]
    np.testing.assert_array_equal(again[-1].params["W_k"], FINAL["W_k"])
    assert "200 steps" in TEXT and L.STEPS == 200


# ------------------------------------------------------------ 5. the panel, and what it shows


def test_after_training_bank_looks_at_the_sense_words():
    text = markdown("08", "## 5.", "## 6.")
    said = quoted(text, r"\*fish\* ([\d.]+) and \*river\* ([\d.]+) in the river sentence, \*deposit\* ([\d.]+) "
                        r"and \*money\* ([\d.]+) in the money")
    river_tokens, river_row, _ = L.bank_row(FINAL, embeddings.SENTENCE)
    money_tokens, money_row, _ = L.bank_row(FINAL, embeddings.CONTRAST_SENTENCE)
    computed = (river_row[river_tokens.index("fish")], river_row[river_tokens.index("river")],
                money_row[money_tokens.index("deposit")], money_row[money_tokens.index("money")])
    assert said == tuple(r2(v) for v in computed)
    for tokens, row, words in ((river_tokens, river_row, {"fish", "river"}),
                               (money_tokens, money_row, {"deposit", "money"})):
        assert {tokens[j] for j in np.argsort(-row)[:2]} == words  # the two largest weights


def test_at_step_50_the_money_sentence_is_right_before_its_attention_sharpens():
    text = " ".join(markdown("08", "## 5.", "## 6.").split())
    assert quoted(text, r"at step (\d+) the money sentence is already answered") == 50
    cp = RUN[50 // L.EVERY]
    _, row, p = L.bank_row(cp.params, embeddings.CONTRAST_SENTENCE)
    assert quoted(text, r"right, p\(river\) ([\d.]+), while") == r2(p) and p < 0.5
    assert quoted(text, r"\(none above ([\d.]+)\)") == r2(row.max())
    _, final_row, final_p = L.bank_row(FINAL, embeddings.CONTRAST_SENTENCE)
    assert final_row.max() > 2 * row.max() and final_p < p  # sharper, and surer


@pytest.fixture()
def panel():
    return L.training_panel(pause=0.0)


class Browser:
    """Applies every patch the view sends, as svg_view.js does, to the picture it was sent first."""

    def __init__(self, view):
        self.keyed, self.rev, self.patches = view.scene.keyed(), view.rev, 0
        view.send = self.receive

    def receive(self, content, buffers=None):
        assert content["rev"] == self.rev
        self.keyed = apply_patch(self.keyed, content)
        self.patches += 1


def test_the_step_slider_replays_the_checkpoints(panel):
    assert panel.controls["step"].max == L.STEPS and panel.controls["step"].step == L.EVERY
    browser = Browser(panel.view)
    for step in (0, 50, 125):
        panel.controls["step"].value = step
        cp = RUN[step // L.EVERY]
        assert panel.text.startswith(f"step {step}: loss {cp.loss:.3f}")
        tokens, row, p = L.bank_row(cp.params, embeddings.SENTENCE)
        keyed = panel.scene.keyed()
        assert keyed["river.t"][1] == f"river sentence: p(river) {p:.2f}"
        assert [keyed[f"river.n0.{j}"][1] for j in range(len(tokens))] == [f"{v:.2f}" for v in row]
        kind, size = panel.view.sent[-1]
        assert kind == "patch" and size < 8192
        assert browser.keyed == keyed  # the patches turned the first picture into this one


def test_the_loss_curve_is_drawn_up_to_the_step(panel):
    panel.set(step=100)
    keyed = panel.scene.keyed()
    done = keyed["loss.done"][0]["points"].split()
    assert len(done) == 100 // L.EVERY + 1
    assert len(keyed["loss.all"][0]["points"].split()) == len(RUN)
    assert keyed["loss.t"][1] == f"training loss {RUN[20].loss:.3f} at step 100"


def test_the_learning_rate_changes_the_run(panel):
    browser = Browser(panel.view)
    panel.set(rate=0.1)
    assert browser.keyed == panel.scene.keyed()
    slow = L.run(0.1)
    assert panel.text.startswith(f"step {L.STEPS}: loss {slow[-1].loss:.3f}")
    said = quoted(" ".join(TEXT.split()), r"at 0.1 the loss is still above ([\d.]+) after 200 steps")
    assert slow[-1].loss > said
    assert L.run(3.0)[10].loss < RUN[10].loss  # "at 3 it falls faster still"
    kind, size = panel.view.sent[-1]
    assert kind == "patch" and size < 8192
    panel.reset()


def test_the_train_button_trains_in_the_kernel_and_draws_as_it_goes(panel):
    panel.set(step=0)
    browser = Browser(panel.view)
    before = len(panel.view.sent)
    progress = []
    panel.progress.observe(lambda change: progress.append(change["new"]), names="value")
    panel.train_button.click()
    drawn = panel.view.sent[before:]  # (the view keeps the last 20)
    assert browser.patches >= L.STEPS // L.EVERY  # one drawing per checkpoint
    assert all(kind == "patch" and size < 8192 for kind, size in drawn)
    assert progress[-1] == L.STEPS and progress == sorted(progress)
    assert panel.controls["step"].value == L.STEPS and not panel.train_button.disabled
    assert [c.loss for c in panel.runs[L.LEARNING_RATE]] == [c.loss for c in RUN]
    assert panel.text.startswith(f"step {L.STEPS}: loss {RUN[-1].loss:.3f}")
    assert browser.keyed == panel.scene.keyed()


def test_the_panel_fits_the_column_and_the_train_button_is_in_its_widget(panel):
    width, _ = panel.scene.size()
    assert width <= 580
    box = panel.widget()
    flat = []

    def walk(w):
        flat.append(w)
        for child in getattr(w, "children", ()):
            walk(child)

    walk(box)
    assert panel.train_button in flat and panel.progress in flat and panel.view in flat


def test_the_notebook_shows_the_panel_as_a_picture_for_static_viewers():
    cells = [c for c in load("08")["cells"] if c["cell_type"] == "code" and "training_panel()" in source(c)]
    (cell,) = cells
    data = cell["outputs"][0]["data"]
    assert "image/svg+xml" in data and "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"] == ["Panel: Gradient descent learns the head (step, rate)"] or \
        "".join(data["text/plain"]) == "Panel: Gradient descent learns the head (step, rate)"


# ------------------------------------------------------------ 6. what it learned


def test_held_out_accuracy_as_quoted():
    batch, p, acc, _ = L.held_out(FINAL)
    right, total, percent = quoted(TEXT, r"gets (\d+) of the (\d+) held-out sentences right \((\d+) %\)")
    assert (right, total) == (round(acc * len(batch.y)), len(batch.y))
    assert percent == round(100 * acc)
    assert quoted(TEXT, r"against (\d+) % for always answering") == round(100 * (1 - batch.y.mean()))
    assert quoted(markdown("08", "## Summary"), r"gets (\d+) of \d+ unseen") == right


def test_bank_looks_at_sense_words_in_every_held_out_sentence_that_has_one():
    hits, total = L.top_is_sense_word(FINAL)
    assert quoted(TEXT, r"In every one of the (\d+) held-out sentences") == total == hits
    # without training it does not: the random head's largest weight is rarely a sense word
    start_hits, _ = L.top_is_sense_word(RUN[0].params)
    assert start_hits < total / 2


def test_the_learned_and_hand_made_heads_share_their_largest_entry():
    learned = L.score_matrix(FINAL)
    W_q, W_k, _ = demo_head()
    hand = W_q @ W_k.T / np.sqrt(6)
    place, topic = embeddings.DIMENSIONS.index("place"), embeddings.DIMENSIONS.index("topic")
    for m in (learned, hand):
        assert np.unravel_index(np.argmax(np.abs(m)), m.shape) == (place, topic)
    said = quoted(TEXT, r"\*\*place → topic\*\* \(([\d.]+) learned, ([\d.]+) by\s+hand\)")
    assert said == (r2(learned[place, topic]), r2(hand[place, topic]))
    action = embeddings.DIMENSIONS.index("action")
    asks = L.asks_for(FINAL)
    assert quoted(TEXT, r"\(([\d.]+) on the action dimension\)") == r2(asks[action])
    assert np.argsort(-asks)[:2].tolist() == [topic, action]
    text = " ".join(TEXT.split())
    assert quoted(text, r"\(([\d.]+) all along its diagonal\)") == r2(hand[0, 0])
    assert np.allclose(np.diag(hand), hand[0, 0])
    bound = quoted(text, r"\(below ([\d.]+) for town, water, person and place\)")
    assert np.abs(np.diag(learned)[:4]).max() < bound
    kv = embeddings.toy_vectors()
    assert quoted(text, r"\(([\d.]+) and [\d.]+ on\s*action\)") == kv["fish"][action]
    assert quoted(text, r"\([\d.]+ and ([\d.]+) on\s*action\)") == kv["deposit"][action]
    np.testing.assert_allclose(L.asks_for(FINAL), np.asarray(embeddings.toy_vectors()["bank"]) @ learned)


def test_rotating_w_q_and_w_k_together_keeps_the_scores():
    theta = 0.7
    R = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    turned = {**FINAL, "W_q": FINAL["W_q"] @ R, "W_k": FINAL["W_k"] @ R}
    np.testing.assert_allclose(L.score_matrix(turned), L.score_matrix(FINAL), atol=1e-12)


def test_what_the_read_out_pushes():
    push = FINAL["W_v"] @ FINAL["u"]
    town, water = embeddings.DIMENSIONS.index("town vs nature"), embeddings.DIMENSIONS.index("water")
    assert push[town] < 0 < push[water]
    assert set(np.argsort(-np.abs(push))[:2]) == {town, water}
    assert FINAL["c"] < 0
    q4 = markdown("08", "### Question 4")
    assert quoted(q4, r"\$c = ([−-][\d.]+)\$") == r2(FINAL["c"])


def test_the_sentence_it_gets_wrong_and_why():
    (wrong,) = L.mistakes(FINAL)
    sentence, kept, p, sense = wrong
    assert f'"{sentence}" means the money' in TEXT.replace("“", '"').replace("”", '"')
    assert sense == "money" and p > 0.5
    assert f"*{' '.join(kept)}*" in TEXT
    assert quoted(TEXT, r"answers\s+river with p = ([\d.]+)\.") == r2(p)
    kv = embeddings.toy_vectors()
    assert "savings" not in kv.key_to_index and "fishing" not in kv.key_to_index and "boat" in L.RIVER_WORDS
    assert "A young woman took her savings out of the bank" in sentence
    held_texts = L.data()[1].texts
    assert sentence in held_texts  # it is a held-out sentence


def test_the_clue_free_sentence_of_question_4():
    q4 = markdown("08", "### Question 4")
    sentence = re.search(r'"([^"]+)" is held out', q4).group(1)
    assert sentence in L.data()[1].texts
    tokens, _, p = L.bank_row(FINAL, sentence)
    assert f"*{' '.join(tokens)}*" in q4
    assert quoted(q4, r"p\(river\) = ([\d.]+)\.") == r2(p) and p < 0.5
    assert not set(tokens) & set(L.SENSE_WORDS)


# ------------------------------------------------------------ figures and the pipeline


@pytest.mark.parametrize("name", ["loss_figure", "rows_figure", "heads_figure", "asks_figure"])
def test_figures_fit_the_column_with_readable_text(name):
    plots.use_classroom_style()
    fig = getattr(L, name)()
    assert fig.get_size_inches()[0] <= 7.0
    texts = [t for ax in fig.axes for t in ax.texts + [ax.title, ax.xaxis.label, ax.yaxis.label] if t.get_text()]
    assert min(t.get_fontsize() for t in texts) >= 11
    matplotlib.pyplot.close(fig)


def test_the_rows_figure_draws_the_computed_weights():
    fig = L.rows_figure()
    ax = fig.axes[0]
    tokens, after, _ = L.bank_row(FINAL, embeddings.SENTENCE)
    heights = [p.get_height() for p in ax.patches][len(tokens):2 * len(tokens)]
    np.testing.assert_allclose(heights, after)
    matplotlib.pyplot.close(fig)


def test_pipeline_highlights_the_projections_as_00s_map_says():
    calls = [n for c in load("08")["cells"] if c["cell_type"] == "code"
             for n in ast.walk(ast.parse(source(c))) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", None) == "pipeline_diagram"]
    (call,) = calls
    highlight = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "highlight"))
    assert highlight == ["qkv"]
    (row,) = [ln for ln in markdown("00", "## The map of the series").splitlines() if ln.startswith("| **08 ")]
    steps = [s.strip() for s in row.strip().strip("|").split("|")[-1].split(",")]
    fig = plots.pipeline_diagram(highlight=highlight)
    (bold,) = [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold" and t.get_gid() == "qkv"]
    assert all(step in bold for step in steps)
    matplotlib.pyplot.close(fig)


def test_readme_lists_notebook_08():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `08_learning_attention` |" in readme


# ------------------------------------------------------------ the checkers catch the usual mistakes


def test_softmax_backward_checker_catches_the_usual_mistakes(capsys):
    assert checks.check_softmax_backward(training.softmax_backward) is True
    cases = [(lambda w, g, axis=-1: w * g, "the sum term is missing"),
             (lambda w, g, axis=-1: w * (g - np.sum(w * g, axis=-1, keepdims=True)), "Sum along the `axis`"),
             (lambda w, g, axis=-1: w * (1 - w) * g, "only the diagonal"),
             (lambda w, g, axis=-1: w * (g - np.sum(w * g, axis=axis)), "keepdims=True")]
    capsys.readouterr()
    for wrong, hint in cases:
        assert checks.check_softmax_backward(wrong) is False
        out = capsys.readouterr().out
        assert "💡 Hint:" in out and hint in out, out


def test_gradient_step_checker_catches_the_usual_mistakes(capsys):
    assert checks.check_gradient_step(training.gradient_step) is True
    cases = [(lambda p, g, lr: {k: p[k] + lr * g[k] for k in p}, "climbs the loss"),
             (lambda p, g, lr: {k: p[k] - g[k] for k in p}, "learning rate is missing")]
    capsys.readouterr()
    for wrong, hint in cases:
        assert checks.check_gradient_step(wrong) is False
        out = capsys.readouterr().out
        assert hint in out, out


def test_the_stored_notebook_ran_its_cells_in_order_without_errors():
    nb = json.loads((ROOT / "notebooks" / "08_learning_attention.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    assert not any(o["output_type"] == "error" for c in code for o in c["outputs"])
