"""Notebook 09 (a trained transformer): every claim of the prose, the figures, the live panels.

Numbers the prose quotes are read from the notebook's text (tests/notebook_text.py) and
compared with a computation on the shipped model; nothing is copied from the stored outputs.
Where a test recomputes attention it does so from the raw weights with plain numpy, not with
the helpers the model itself uses.
"""

import ast
import json
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import checks, plots  # noqa: E402
from helpers.lessons import trained_transformer as L  # noqa: E402
from notebook_text import ROOT, load, markdown, outputs, quoted, source  # noqa: E402

TEXT = " ".join(markdown("09").split())
MODEL = L.model()
WORDS = L.words_of(L.SENTENCE)
IDS = MODEL.encode(L.SENTENCE)


def r2(x):
    return round(float(x), 2)


def section(start, stop=None):
    return " ".join(markdown("09", start, stop).split())


def plain_layer_norm(x, gain, bias, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


def plain_head(layer, head, ids=IDS):
    """(q, k, weights) of one head, recomputed from the raw weights with numpy only."""
    p = MODEL.params
    x = MODEL.block_inputs(ids)[layer]
    a = plain_layer_norm(x, p[f"{layer}.ln_1.gain"], p[f"{layer}.ln_1.bias"])
    d_k = MODEL.d_model // MODEL.num_heads
    cols = slice(head * d_k, (head + 1) * d_k)
    q, k = (a @ p[f"{layer}.W_q"])[:, cols], (a @ p[f"{layer}.W_k"])[:, cols]
    scores = q @ k.T / np.sqrt(d_k)
    scores[np.triu_indices(len(ids), 1)] = -np.inf
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return q, k, e / e.sum(-1, keepdims=True)


# ------------------------------------------------------------ 1. the model and its training


def test_the_first_block_input_is_the_embeddings_plus_sinusoidal_positions():
    n, d = len(IDS), MODEL.d_model
    pos = np.arange(n)[:, None] / 10000 ** (np.arange(0, d, 2)[None, :] / d)
    table = np.zeros((n, d))
    table[:, 0::2], table[:, 1::2] = np.sin(pos), np.cos(pos)
    np.testing.assert_allclose(MODEL.block_inputs(IDS)[0], MODEL.params["embedding"][IDS] + table, atol=1e-12)


def test_every_head_of_the_model_is_the_attention_of_notebooks_02_to_05():
    weights = MODEL.attention(IDS)
    for layer in range(MODEL.layers):
        for head in range(MODEL.num_heads):
            np.testing.assert_allclose(weights[layer, head], plain_head(layer, head)[2], atol=1e-12)


def test_the_training_numbers_the_prose_quotes():
    info, o = MODEL.info, MODEL.info["options"]
    s1 = section("## 1.", "## 2.")
    assert "every tenth sentence" in s1 and o["held_out_every"] == 10
    assert quoted(s1, r"takes ([\d,]+) steps of gradient descent") == o["steps"]
    assert quoted(s1, r"shows the model (\d+) windows") == o["batch"]
    assert quoted(s1, r"windows of (\d+) consecutive words") == o["context"]
    assert quoted(s1, r"over (\d+) possible next words") == len(MODEL.vocabulary)
    guess = quoted(s1, r"Guessing evenly scores \$\\ln \d+ = (\d+(?:\.\d+)?)\$")
    assert guess == r2(np.log(len(MODEL.vocabulary)))
    assert quoted(s1, r"sentences the trained model scores (\d+(?:\.\d+)?)") == r2(info["held_out_loss"])
    assert quoted(s1, r"e\^\{[\d.]+\} \\approx (\d+)") == round(np.exp(info["held_out_loss"]))
    assert quoted(s1, r"On its training text it scores (\d+(?:\.\d+)?)") == r2(info["train_loss"])
    assert quoted(s1, r"with only ([\d,]+) words to learn from") == info["training_words"]
    assert info["train_loss"] < info["held_out_loss"] - 1  # "much lower"
    # "ours counts words (6 % of the held-out ones are read as `<unk>`)"
    ids = [i for text in L.held_out_sentences(MODEL) for i in MODEL.encode(text)]
    unknown = MODEL.vocabulary.index(L.UNKNOWN)
    assert quoted(s1, r"\((\d+) % of\s+the held-out ones are read as `<unk>`\)") == round(100 * ids.count(unknown) / len(ids))


def test_the_loss_curve_falls_from_guessing_and_the_held_out_curve_stays_above():
    steps, train, held = np.array(MODEL.info["loss_curve"]).T
    assert held[0] > 5 and held[-1] == pytest.approx(MODEL.info["held_out_loss"], abs=1e-4)
    assert (held[-5:] > train[-5:]).all()
    fig = L.loss_curve_figure(MODEL)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), held)
    assert ax.lines[2].get_ydata()[0] == pytest.approx(np.log(len(MODEL.vocabulary)))
    assert fig.get_size_inches()[0] <= 7.0
    matplotlib.pyplot.close(fig)


# ------------------------------------------------------------ 2. what comes next


def probabilities(text, temperature=1.0):
    """softmax(logits / T) of the next word, written out."""
    z = MODEL.logits(MODEL.encode(text))[-1] / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def top(text, temperature=1.0):
    p = probabilities(text, temperature)
    order = np.argsort(-p)
    return [(MODEL.vocabulary[i], p[i]) for i in order[:5]]


def test_the_next_words_the_prose_quotes():
    s2 = section("## 2.", "## 3.")
    (word, p), = top(L.PROMPT)[:1]
    assert word == "bank" and quoted(s2, r"the model says \*bank\* with probability (\d+(?:\.\d+)?)") == r2(p)
    (w1, p1), (w2, p2) = top("Tom is going to")[:2]
    assert (w1, w2) == ("deposit", "fish")
    assert quoted(s2, r"\*deposit\* (\d+(?:\.\d+)?)") == r2(p1) and quoted(s2, r"\*fish\* (\d+(?:\.\d+)?)") == r2(p2)
    assert [(w, r2(q)) for w, q in MODEL.predict_next("Tom is going to", k=5)] == [(w, r2(q)) for w, q in
                                                                                  top("Tom is going to")]


def test_predict_next_reads_only_the_last_context_words():
    long = "the old man sat by the water and he said that " + L.PROMPT
    assert len(MODEL.encode(long)) > MODEL.context
    cut = " ".join(L.words_of(long)[-MODEL.context:])
    assert MODEL.predict_next(long, k=3) == MODEL.predict_next(cut, k=3)


@pytest.fixture
def prediction():
    panel = L.prediction_panel()
    yield panel
    panel.reset()


def bar_values(panel, key="p"):
    keyed = panel.scene.keyed()
    count = sum(1 for k in keyed if re.fullmatch(rf"{key}\.b\d+", k))
    labels = [keyed[f"{key}.l{i}"][1] for i in range(count)]
    values = [float(keyed[f"{key}.v{i}"][1]) for i in range(count)] if f"{key}.v0" in keyed else None
    return labels, values


def test_the_prediction_panel_shows_softmax_of_the_logits_over_t(prediction):
    for text, t in ((L.PROMPT, 1.0), ("Tom is going to", 0.5), ("Tom is going to", 2.0), ("Anna went to the", 3.0)):
        prediction.controls["text"].value = text
        prediction.controls["temperature"].value = t
        labels, values = bar_values(prediction)
        expected = top(text, t) + []
        p = probabilities(text, t)
        order = np.argsort(-p)[:8]
        assert labels == [MODEL.vocabulary[i] if MODEL.vocabulary[i] != "." else "(full stop)" for i in order]
        assert values == [r2(p[i]) for i in order]
        assert f"(T = {t:.2f})" in prediction.text and expected[0][0] in prediction.text


def test_temperature_sharpens_below_one_and_flattens_above(prediction):
    prediction.controls["text"].value = "Tom is going to"
    tops = {}
    for t in (0.1, 0.5, 1.0, 2.0, 3.0):
        prediction.controls["temperature"].value = t
        tops[t] = bar_values(prediction)[1][0]
    assert tops[0.1] > tops[0.5] > tops[1.0] > tops[2.0] > tops[3.0]
    assert tops[0.1] >= 0.99  # Question 5: "toward 1"
    q5 = " ".join(markdown("09", "### Question 5").split())
    assert "down to 0.1" in q5 and "temperature" in q5


def test_an_unknown_word_is_read_as_unk_and_said(prediction):
    prediction.controls["text"].value = "Tom is going to fish at the lagoon"
    assert "lagoon" not in MODEL.vocabulary
    assert "read as <unk>: lagoon" in prediction.text
    assert MODEL.encode("lagoon") == [MODEL.vocabulary.index("<unk>")]
    assert "(try *lagoon*)" in section("## 2.", "## 3.")


def test_an_empty_prompt_keeps_the_last_picture_and_says_why(prediction):
    before = prediction.scene.keyed()
    prediction.controls["text"].value = "  ,, "
    assert prediction.error == "type at least one word"
    assert prediction.scene.keyed() == before
    prediction.controls["text"].value = "the river"
    assert not prediction.error


# ------------------------------------------------------------ sampling


def test_sampling_is_seeded_and_temperature_decides_how_varied_it_is():
    s = section("**Writing text.**", "## 3.")
    cold = [L.generate("Tom is going to", words=10, temperature=0.2, seed=k) for k in range(3)]
    warm = [L.generate("Tom is going to", words=10, temperature=1.0, seed=k) for k in range(3)]
    assert len(set(cold)) == 1 and "the three samples are the same sentence" in s
    assert len(set(warm)) == 3 and "varies from seed to seed" in s
    assert warm == [L.generate("Tom is going to", words=10, temperature=1.0, seed=k) for k in range(3)]
    # the cold sample is the greedy one: the most likely word at every step
    ids, greedy = MODEL.encode("Tom is going to"), []
    for _ in range(10):
        nxt = int(np.argmax(MODEL.logits(ids[-MODEL.context:])[-1]))
        ids.append(nxt)
        greedy.append(MODEL.vocabulary[nxt])
        if greedy[-1] == ".":
            break
    assert cold[0] == " ".join(greedy) and "the one **greedy** decoding writes" in s
    # "it becomes greedy only as T -> 0. After *bank*, *for* still has only 0.79 at T = 0.2,
    # so other seeds can end the sentence another way"
    after_bank = MODEL.encode("Tom is going to " + " ".join(greedy[:greedy.index("bank") + 1]))
    z = MODEL.logits(after_bank[-MODEL.context:])[-1] / 0.2
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert MODEL.vocabulary[int(np.argmax(p))] == greedy[greedy.index("bank") + 1] == "for"
    assert quoted(s, r"\*for\* still has only ([\d.]+) at") == r2(p[MODEL.vocabulary.index("for")])
    others = [L.generate("Tom is going to", words=10, temperature=0.2, seed=k) for k in range(3, 50)]
    assert any(o != cold[0] for o in others)
    answer = section("### Question 5", "## Summary")
    assert quoted(answer, r"\*for\* after \*bank\* has only ([\d.]+) at") == r2(p[MODEL.vocabulary.index("for")])


def test_generate_stops_after_a_full_stop_and_samples_from_the_right_distribution():
    text = L.generate(L.PROMPT, words=10, temperature=1.0, seed=3)
    assert text.split()[-1] == "." or len(text.split()) == 10
    assert "." not in text.split()[:-1]
    draws = [L.generate(L.PROMPT, words=1, seed=s) for s in range(400)]
    share = draws.count("bank") / len(draws)
    assert abs(share - probabilities(L.PROMPT)[MODEL.vocabulary.index("bank")]) < 0.06


# ------------------------------------------------------------ 3. every head


def test_the_grid_shows_every_head_with_the_future_greyed():
    fig = L.head_grid_figure()
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == MODEL.layers * MODEL.num_heads == quoted(TEXT, r"Each of its (\d+) heads")
    weights = MODEL.attention(IDS)
    for image, w in zip(images, weights.reshape(-1, len(IDS), len(IDS))):
        data = image.get_array()
        assert np.ma.is_masked(data)
        np.testing.assert_array_equal(data.mask, np.triu(np.ones_like(w, bool), 1))
        np.testing.assert_allclose(data.filled(0), np.tril(w))
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [f"layer {l} · head {h}" for l in range(2) for h in range(4)]
    assert fig.get_size_inches()[0] <= 7.0
    fig.canvas.draw()
    sizes = [t.get_fontsize() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels() + [ax.title]
             if t.get_text()]
    assert min(sizes) >= 11
    matplotlib.pyplot.close(fig)


def test_the_model_has_the_sizes_the_prose_says():
    s3 = section("## 3.", "## 4.")
    assert quoted(s3, r"The model has (\d+) layers") == MODEL.layers
    assert quoted(s3, r"layers \(blocks\) of (\d+) heads") == MODEL.num_heads
    d_k = quoted(section("## 4.", "## 5."), r"d_k = 24 / 4 = (\d+)")
    assert d_k == MODEL.d_model // MODEL.num_heads and MODEL.d_model == 24


def test_every_first_row_is_a_single_one():
    weights = MODEL.attention(IDS)
    np.testing.assert_allclose(weights[..., 0, 0], 1.0)
    np.testing.assert_allclose(weights[..., 0, 1:], 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    assert "a single 1.00" in " ".join(markdown("09", "### Question 3").split())


@pytest.fixture
def head():
    panel = L.head_panel()
    yield panel
    panel.reset()


def test_the_head_panel_shows_the_picked_heads_weights(head):
    for layer, h, sentence in ((0, 0, "river"), (1, 0, "river"), (1, 0, "money"), (1, 3, "money")):
        head.set(layer=layer, head=h, sentence=sentence)
        ids = MODEL.encode(L.SENTENCES[sentence])
        w = plain_head(layer, h, ids)[2]
        keyed = head.scene.keyed()
        n = len(ids)
        for i in range(n):
            for j in range(n):
                shown = keyed[f"w.n{i}.{j}"][1]
                assert shown == ("" if j > i else f"{w[i, j]:.2f}")
                assert (keyed[f"w.{i}.{j}"][0]["fill"] == plots.HIDDEN_COLOR) == (j > i)
        assert f"layer {layer}, head {h}:" in head.text


def test_the_sense_head_links_bank_to_fish_and_to_money(head):
    text = section("## 3.", "## 4.")
    head.set(layer=1, head=0)
    fish = plain_head(1, 0)[2][WORDS.index("bank"), WORDS.index("fish")]
    assert f"looks at fish {fish:.2f}" in head.text
    assert quoted(text, r"\*bank\* gives \*fish\* (\d+(?:\.\d+)?) of its weight") == r2(fish)
    head.set(sentence="money")
    money_words = L.words_of(L.CONTRAST_SENTENCE)
    ids = MODEL.encode(L.CONTRAST_SENTENCE)
    money = plain_head(1, 0, ids)[2][money_words.index("bank"), money_words.index("money")]
    assert quoted(text, r"it gives \*money\* (\d+(?:\.\d+)?)") == r2(money)


# ------------------------------------------------------------ 4. a query meets a key


@pytest.fixture
def neuron():
    panel = L.neuron_panel()
    yield panel
    panel.reset()


def test_the_neuron_panel_starts_on_the_sense_head_and_replays_its_numbers(neuron):
    assert (neuron.controls["layer"].value, neuron.controls["head"].value) == L.sense_head()[:2] == (1, 0)
    q, k, w = plain_head(1, 0)
    b, f, r = WORDS.index("bank"), WORDS.index("fish"), WORDS.index("river")
    keyed = neuron.scene.keyed()
    assert [float(keyed[f"q.v{i}"][1]) for i in range(6)] == [round(v, 1) for v in q[b]]
    assert [float(keyed[f"k.v{i}"][1]) for i in range(6)] == [round(v, 1) for v in k[f]]
    assert [float(keyed[f"qk.v{i}"][1]) for i in range(6)] == [round(v, 1) for v in q[b] * k[f]]
    score = q[b] @ k[f] / np.sqrt(6)
    assert f"q · k = {q[b] @ k[f]:.2f};  / √6 = score {score:.2f}" in neuron.text
    assert f"weight {w[b, f]:.2f}" in neuron.text
    text = section("Two of the six numbers", "The same computation by hand")
    terms = q[b] * k[f]
    big = sorted(np.argsort(-terms)[:2])
    assert re.search(rf"in dimensions {big[0]} and {big[1]} both", text)
    assert q[b][big].max() < 0 and k[f][big].max() < 0  # "both ... are negative"
    assert quoted(text, r"large and positive \((\d+(?:\.\d+)?) and") == round(terms[big[0]], 1)
    assert quoted(text, r"large and positive \([\d.]+ and (\d+(?:\.\d+)?)\)") == round(terms[big[1]], 1)
    rest = np.delete(terms, big).sum()
    assert quoted(text, r"the other four terms add up to (−\d+(?:\.\d+)?)") == round(rest, 1)
    assert quoted(text, r"q \\cdot k = (\d+(?:\.\d+)?)") == r2(q[b] @ k[f])
    assert quoted(text, r"that is the score (\d+(?:\.\d+)?)") == r2(score)
    assert quoted(text, r"the score is (−\d+(?:\.\d+)?)") == r2(q[b] @ k[r] / np.sqrt(6))
    assert quoted(text, r"share, (\d+(?:\.\d+)?) for \*fish\*") == r2(w[b, f])
    assert quoted(text, r"against (\d+(?:\.\d+)?) for \*river\*") == r2(w[b, r])


def test_the_softmax_bars_are_the_querys_row_with_the_future_at_zero(neuron):
    for query in ("tom", "fish", "bank", "."):
        neuron.set(query=query)
        i = WORDS.index(query)
        w = plain_head(1, 0)[2][i]
        keyed = neuron.scene.keyed()
        heights = [float(keyed[f"w.b{j}"][0]["height"]) for j in range(len(WORDS))]
        scale = max(heights) / w.max()
        np.testing.assert_allclose(np.array(heights) / scale, w, atol=0.01)
        assert all(h == 0 for h in heights[i + 1:])


def test_a_key_after_the_query_is_masked_not_an_error(neuron):
    neuron.set(query="fish", key="river")
    assert not neuron.error
    assert "the causal mask sets the score to −∞, so the weight is 0" in neuron.text
    keyed = neuron.scene.keyed()
    assert keyed[f"w.b{WORDS.index('river')}"][0]["fill"] == plots.HIDDEN_COLOR


def test_the_bar_scales_hold_every_q_k_and_product_of_the_sentence():
    for layer in range(MODEL.layers):
        for h in range(MODEL.num_heads):
            q, k, _ = plain_head(layer, h)
            assert np.abs(q).max() < 6.5 and np.abs(k).max() < 6.5
            assert np.abs(q[:, None, :] * k[None, :, :]).max() < 15.0


def test_the_by_hand_cell_computes_from_queries_and_keys():
    cells = [source(c) for c in load("09")["cells"] if c["cell_type"] == "code"]
    (cell,) = [c for c in cells if "lesson.queries_and_keys(" in c]
    assert "np.sqrt(d_k)" in cell and "attention.softmax(scores)" in cell
    q, k = L.queries_and_keys(IDS, 1, 0)
    pq, pk, _ = plain_head(1, 0)
    np.testing.assert_allclose(q, pq, atol=1e-12)
    np.testing.assert_allclose(k, pk, atol=1e-12)


# ------------------------------------------------------------ 5. heads with a job


def shares_by_hand(texts):
    total, rows = np.zeros((MODEL.layers, MODEL.num_heads, 3)), 0
    for text in texts:
        ids = MODEL.encode(text)
        w = MODEL.attention(ids)
        for i in range(2, len(ids)):
            total += np.stack([w[..., i, i - 1], w[..., i, i], w[..., i, 0]], -1)
            rows += 1
    return total / rows


def test_the_held_out_sentences_are_the_ones_training_left_out():
    import importlib.util
    spec = importlib.util.spec_from_file_location("train_model", ROOT / "tools" / "train_model.py")
    train_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_model)
    _, held = train_model.split(train_model.corpus_sentences(), MODEL.info["options"]["held_out_every"])
    assert L.held_out_sentences() == held
    assert len(held) == MODEL.info["held_out_sentences"] == quoted(section("## 5.", "## 6."), r"on the (\d+) held-out")


def test_the_heads_with_a_job_are_what_the_numbers_say():
    held = L.held_out_sentences()
    shares = shares_by_hand(held)
    np.testing.assert_allclose(L.head_pattern_shares(held), shares, atol=1e-12)
    text = section("## 5.", "## 6.")
    even = np.mean([1 / (i + 1) for s in held for i in range(2, len(MODEL.encode(s)))])
    assert quoted(text, r"would get (\d+(?:\.\d+)?) on average") == r2(even)
    prev = shares[..., 0]
    assert np.unravel_index(prev.argmax(), prev.shape) == (0, 1) == L.previous_word_head()[:2]
    assert quoted(text, r"\*\*Layer 0, head 1 leans on the previous word\*\*: (\d+(?:\.\d+)?)") == r2(prev[0, 1])
    assert "about twice the even share" in text and 1.7 < prev[0, 1] / even < 2.3
    itself = shares[..., 1]
    assert np.unravel_index(itself.argmax(), itself.shape) == (0, 0)
    assert quoted(text, r"the word itself \((\d+(?:\.\d+)?)\)") == r2(itself[0, 0])
    assert prev.max() < 0.5  # "no head of this small model gives the previous word most of its weight"


def test_the_sense_head_wins_in_both_sentences():
    river = np.array([[L.sense_weight(L.SENTENCE, l, h, "river") for h in range(4)] for l in range(2)])
    money = np.array([[L.sense_weight(L.CONTRAST_SENTENCE, l, h, "money") for h in range(4)] for l in range(2)])
    both = np.minimum(river, money)
    assert np.unravel_index(both.argmax(), both.shape) == (1, 0)
    text = section("In both sentences layer 1", "## 6.")
    assert quoted(text, r"most of \*bank\*'s weight \((\d+(?:\.\d+)?) and") == r2(river[1, 0])
    assert quoted(text, r"weight \([\d.]+ and (\d+(?:\.\d+)?)\)") == r2(money[1, 0])
    assert river[1, 0] > 0.5 and money[1, 0] > 0.5  # "most of"
    # "layer 1, head 2 also looks at *money* (0.80) but much less at the river words (0.37);
    # every other head stays at 0.21 or below"
    assert np.unravel_index(np.argsort(money.ravel())[-2], money.shape) == (1, 2)
    assert quoted(text, r"also looks at \*money\* \((\d+(?:\.\d+)?)\)") == r2(money[1, 2])
    assert quoted(text, r"river words \((\d+(?:\.\d+)?)\)") == r2(river[1, 2])
    rest = np.maximum(river, money)
    rest[1, 0] = rest[1, 2] = 0
    assert r2(rest.max()) <= quoted(text, r"stays at (\d+(?:\.\d+)?) or below") == r2(rest.max())
    # sense_weight adds bank's weights on the sense words, by hand
    w = plain_head(1, 0)[2][WORDS.index("bank")]
    assert river[1, 0] == pytest.approx(sum(w[j] for j, word in enumerate(WORDS) if word in L.SENSE_WORDS["river"]))


# ------------------------------------------------------------ 6. next to GPT-2 small


def test_the_sizes_next_to_gpt2_small():
    sizes = L.sizes(MODEL)
    assert sizes["parameters"] == sum(v.size for v in MODEL.params.values())
    E, d, ff, V, n_l = MODEL.d_model, MODEL.d_model, sizes["d_ff"], len(MODEL.vocabulary), MODEL.layers
    per_block = 4 * d * d + d * ff + ff + ff * d + d + 4 * d  # attention, feed-forward, two layer norms
    assert sizes["parameters"] == V * E + n_l * per_block + 2 * d
    text = section("## 6.", "## Exercises")
    gpt2 = L.GPT2_SMALL
    table = outputs("09")
    assert re.search(r"^heads/layer +4 +12$", table, re.M)  # heads per layer, not in all
    assert quoted(text, r"GPT-2 small has (\d+) layers") == gpt2["layers"] == 12
    assert quoted(text, r"layers of (\d+) heads") == gpt2["heads"] == 12
    assert quoted(text, r"d_\{model\} = (\d+)") == gpt2["d_model"] == 768
    assert quoted(text, r"\(\$d_k = (\d+)\$ per head\)") == 768 // 12
    assert quoted(text, r"reads ([\d,]+) tokens at once") == gpt2["context"]
    assert quoted(text, r"about (\d+) million parameters") * 1_000_000 == gpt2["parameters"]
    ratio = gpt2["parameters"] / sizes["parameters"]
    assert quoted(text, r"about ([\d,]+) times ours") == round(ratio, -2)
    assert quoted(text, r"\(byte-level byte-pair encoding, ([\d,]+) of them\)") == gpt2["vocabulary"]
    assert quoted(text, r"ours on ([\d,]+) words") == MODEL.info["training_words"]
    summary = section("## Summary")
    assert quoted(summary, r"at about 1/([\d,]+) of its size") == round(ratio, -2)
    assert quoted(summary, r"Each of its (\d+) heads") == sizes["layers"] * sizes["heads"]


def test_what_the_prose_says_is_the_same_is_true_of_the_forward_pass():
    """Tied embeddings (logits = LN(x) Eᵀ), a final layer norm, pre-norm blocks, ReLU, the causal mask."""
    p = MODEL.params
    x = MODEL.block_inputs(IDS)[-1]
    l = MODEL.layers - 1
    _, _, w = plain_head(l, 0)  # the last block, by hand, in the pre-norm order
    heads = [plain_head(l, h) for h in range(MODEL.num_heads)]
    a = plain_layer_norm(x, p[f"{l}.ln_1.gain"], p[f"{l}.ln_1.bias"])
    d_k = MODEL.d_model // MODEL.num_heads
    v = a @ p[f"{l}.W_v"]
    mixed = np.concatenate([hw @ v[:, h * d_k:(h + 1) * d_k] for h, (_, _, hw) in enumerate(heads)], -1)
    x = x + mixed @ p[f"{l}.W_o"]
    hidden = np.maximum(0, plain_layer_norm(x, p[f"{l}.ln_2.gain"], p[f"{l}.ln_2.bias"]) @ p[f"{l}.W_1"] + p[f"{l}.b_1"])
    x = x + hidden @ p[f"{l}.W_2"] + p[f"{l}.b_2"]
    logits = plain_layer_norm(x, p["ln_f.gain"], p["ln_f.bias"]) @ p["embedding"].T
    np.testing.assert_allclose(MODEL.logits(IDS), logits, atol=1e-10)
    assert not any(k.startswith(("pos", "position")) for k in p)  # no learned position table: sinusoidal
    assert "GPT-2 ties them too" in section("## 6.", "## Exercises")


# ------------------------------------------------------------ exercises


def test_head_weights_checker_catches_the_usual_mistakes(capsys):
    from helpers.attention import causal_mask, softmax

    def right(X, gain, bias, W_q, W_k, num_heads, head, norm=True, mask=True, scale="d_k"):
        a = plain_layer_norm(X, gain, bias) if norm else X
        d_k = X.shape[-1] // num_heads
        c = slice(head * d_k, (head + 1) * d_k)
        s = (a @ W_q)[:, c] @ (a @ W_k)[:, c].T / {"d_k": np.sqrt(d_k), "d": np.sqrt(X.shape[-1]), None: 1}[scale]
        return softmax(np.where(causal_mask(len(X)), s, -np.inf) if mask else s)

    assert checks.check_head_weights(right) is True
    cases = [(dict(norm=False), "pre-norm"), (dict(mask=False), "causal_mask"), (dict(scale=None), "√d_k"),
             (dict(scale="d"), "not by √d_model")]
    capsys.readouterr()
    for switch, hint in cases:
        assert checks.check_head_weights(lambda *a, s=switch: right(*a, **s)) is False
        out = capsys.readouterr().out
        assert "💡 Hint:" in out and hint in out, out


def test_next_word_probabilities_checker_catches_the_usual_mistakes(capsys):
    def stable(logits, t):
        z = np.asarray(logits, float) / t
        e = np.exp(z - z.max())
        return e / e.sum()

    def naive(logits, t):
        e = np.exp(np.asarray(logits, float) / t)
        return e / e.sum()

    assert checks.check_next_word_probabilities(stable) is True
    capsys.readouterr()
    for wrong, hint in ((lambda z, t: stable(np.asarray(z) * t, 1.0), "Divide the logits by T"),
                        (lambda z, t: stable(z, 1.0) ** (1 / t), "not the probabilities after it"),
                        (naive, "subtract the largest logit")):
        with np.errstate(over="ignore", invalid="ignore"):
            assert checks.check_next_word_probabilities(wrong) is False
        out = capsys.readouterr().out
        assert hint in out, out


def test_the_exercise_cells_run_the_students_function_on_the_models_weights():
    cells = [source(c) for c in load("09")["cells"] if c["cell_type"] == "code"]
    (model_cell,) = [c for c in cells if "my_head_weights(X0," in c]
    assert "model.attention(ids)[0, 1]" in model_cell and "returns nothing yet" in model_cell
    solutions = json.loads((ROOT / "notebooks" / "solutions" / "09_a_trained_transformer_solutions.ipynb")
                           .read_text(encoding="utf-8"))
    printed = "".join("".join(o.get("text", "")) for c in solutions["cells"] for o in c.get("outputs", []))
    assert "matches the model's layer 0, head 1: True" in printed
    bank = MODEL.predict_next("Tom is going to", k=3, temperature=0.5)
    assert "at T = 0.5: " + ", ".join(f"{w} {p:.2f}" for w, p in bank) in printed


def test_question_4_quotes_the_two_losses():
    q4 = " ".join(markdown("09", "### Question 4").split())
    assert quoted(q4, r"scores (\d+(?:\.\d+)?) on its training text") == r2(MODEL.info["train_loss"])
    assert quoted(q4, r"and (\d+(?:\.\d+)?) on the held-out sentences") == r2(MODEL.info["held_out_loss"])
    assert quoted(q4, r"part of its ([\d,]+) training words") == MODEL.info["training_words"]


# ------------------------------------------------------------ the notebook as a whole


def test_the_notebook_draws_one_block_of_the_model():
    calls = [n for c in load("09")["cells"] if c["cell_type"] == "code"
             for n in ast.walk(ast.parse(source(c))) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", None) == "pipeline_diagram"]
    (call,) = calls
    assert {k.arg for k in call.keywords} >= {"steps", "heads"}
    assert L.PIPELINE[-3:] == plots.BLOCK_STEPS
    assert "pre-norm order" in section("Where we are", "## 1.")


def test_readme_and_the_map_list_notebook_09():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `09_a_trained_transformer` |" in readme
    assert any(line.startswith("| **09 a trained transformer** |")
               for line in markdown("00", "## The map of the series").splitlines())
    assert "**Next: 09 · a trained transformer.**" in markdown("08", "## Summary")


def test_the_stored_notebook_ran_its_cells_in_order_without_errors():
    nb = load("09")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    assert not any(o["output_type"] == "error" for c in code for o in c["outputs"])
