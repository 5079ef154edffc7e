"""Notebook 09, a trained transformer: the lesson's numbers, figures and live panels.

The model is the series' own (helpers.model.load_model): a small decoder-only
transformer trained by tools/train_model.py on data/corpus.txt. The lesson predicts
next words, samples with a temperature (notebook 03's softmax), looks at every head
on the series' sentence, replays one query-key pair of one head number by number
(notebooks 02 and 03), names heads by what they measurably do, and sets the model's
sizes next to GPT-2 small's.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import plots
from ..attention import softmax, split_heads
from ..embeddings import CONTRAST_SENTENCE, SENTENCE
from ..model import UNKNOWN, load_model, words_of
from ..panels import LivePanel, Scene, dropdown, slider, text_box, toggle
from ..panels.pieces.bars import bars
from ..panels.pieces.heatmap import colourbar, heatmap, heatmap_size
from ..transformer import layer_norm

PROMPT = "Tom is going to fish at the river"
#: One block of the model, as notebook 07 draws it (the model stacks two).
PIPELINE = (*plots.PIPELINE_STEPS, *plots.BLOCK_STEPS)
SENTENCES = {"river": SENTENCE, "money": CONTRAST_SENTENCE}
#: GPT-2 small (Radford et al., 2019): the sizes the lesson compares with.
GPT2_SMALL = {"layers": 12, "heads": 12, "d_model": 768, "d_ff": 3072, "vocabulary": 50257,
              "context": 1024, "parameters": 124_000_000}
SENSE_WORDS = {"river": ("river", "fish", "fisherman", "water", "boat", "lake"),
               "money": ("money", "deposit", "cash", "loan", "account")}


@functools.lru_cache(maxsize=1)
def model():
    """The shipped model, loaded once per kernel."""
    return load_model()


# ------------------------------------------------------------------ the numbers

def sizes(m=None):
    """{name: number}: the model's sizes, counted from its weights."""
    m = m or model()
    return {"layers": m.layers, "heads": m.num_heads, "d_model": m.d_model, "d_k": m.d_model // m.num_heads,
            "d_ff": m.params["0.W_1"].shape[1], "vocabulary": len(m.vocabulary),
            "context": m.info["options"]["context"], "parameters": int(sum(v.size for v in m.params.values()))}


def generate(text, words=8, temperature=1.0, seed=0, m=None):
    """`text` continued by `words` sampled words (softmax(logits / T), seeded); stops after '.'."""
    m = m or model()
    rng = np.random.default_rng(seed)
    ids = m.encode(text)
    out = []
    for _ in range(words):
        context = ids[-m.info["options"]["context"]:]
        probs = softmax(m.logits(context)[-1], temperature=temperature)
        nxt = int(rng.choice(len(probs), p=probs / probs.sum()))
        ids.append(nxt)
        out.append(m.vocabulary[nxt])
        if out[-1] == ".":
            break
    return " ".join(out)


def layer_input(token_ids, layer, m=None):
    """The vectors (n, d_model) that enter block `layer` (0 = embeddings + positions)."""
    m = m or model()
    return m.block_inputs(token_ids)[layer]


def queries_and_keys(token_ids, layer, head, m=None):
    """(q, k): (n, d_k) each, head `head` of block `layer`: LN_1(x) @ W_q (then W_k), its columns."""
    m = m or model()
    p = m.params
    a = layer_norm(layer_input(token_ids, layer, m), p[f"{layer}.ln_1.gain"], p[f"{layer}.ln_1.bias"])
    q = split_heads(a @ p[f"{layer}.W_q"], m.num_heads)[head]
    k = split_heads(a @ p[f"{layer}.W_k"], m.num_heads)[head]
    return q, k


def head_pattern_shares(texts, m=None):
    """(layers, heads, 3): over the words of `texts` after the first, the mean weight a head puts
    on the previous word, on the word itself and on the first word."""
    m = m or model()
    total, count = np.zeros((m.layers, m.num_heads, 3)), 0
    for text in texts:
        ids = m.encode(text)
        n = len(ids)
        if n < 3:
            continue
        w = m.attention(ids)  # (layers, heads, n, n)
        rows = np.arange(2, n)  # (from the third word: for the second, previous = first)
        total[..., 0] += w[..., rows, rows - 1].sum(-1)
        total[..., 1] += w[..., rows, rows].sum(-1)
        total[..., 2] += w[..., rows, 0].sum(-1)
        count += rows.size
    return total / count


def sense_weight(text, layer, head, sense, m=None):
    """The weight bank puts on the sense words of `sense` ('river' or 'money') in `text`."""
    m = m or model()
    words = words_of(text)
    ids = m.encode(text)
    b = len(words) - 1 - words[::-1].index("bank")
    w = m.attention(ids)[layer, head, b]
    return float(sum(w[j] for j, word in enumerate(words) if word in SENSE_WORDS[sense]))


# ------------------------------------------------------------------ static figures

def head_grid_figure(text=SENTENCE, m=None, marked=("tom", "fish", "bank")):
    """Every head of every layer on `text`: layers x heads small heatmaps (rows: queries).
    Masked (future) cells are grey; only the `marked` words are labelled, so that the labels
    stay 11 pt in cells this small."""
    m = m or model()
    words = words_of(text)
    weights = m.attention(m.encode(text))
    hidden = ~np.tril(np.ones(weights.shape[-2:], dtype=bool))
    ticks = [i for i, w in enumerate(words) if w in marked]
    names = [words[i] for i in ticks]
    cmap = plots.plt.get_cmap(plots.WEIGHTS_CMAP).with_extremes(bad=plots.HIDDEN_COLOR)
    fig, axes = plots.new_figure(m.layers, m.num_heads, figsize=(7.0, 1.75 * m.layers + 1.0), squeeze=False,
                                 layout="constrained")
    for l in range(m.layers):
        for h in range(m.num_heads):
            ax = axes[l, h]
            image = ax.imshow(np.ma.masked_array(weights[l, h], mask=hidden), cmap=cmap, vmin=0, vmax=1)
            ax.set_title(f"layer {l} · head {h}", fontsize=plots.SMALL_FONT - 1)
            ax.set_yticks(ticks, names if h == 0 else [""] * len(ticks), fontsize=plots.SMALL_FONT - 1)
            ax.set_xticks(ticks, names if l == m.layers - 1 else [""] * len(ticks),
                          fontsize=plots.SMALL_FONT - 1, rotation=90)
            ax.spines[:].set_visible(False)
    bar = fig.colorbar(image, ax=axes, shrink=0.7)
    bar.set_label("weight", fontsize=plots.SMALL_FONT - 1)
    bar.ax.tick_params(labelsize=plots.SMALL_FONT - 1)
    fig.suptitle(f"all {m.layers * m.num_heads} heads on: {text}   (rows: queries, columns: keys)",
                 fontsize=plots.SMALL_FONT - 1)
    return fig


def loss_curve_figure(m=None):
    """The loss by training step: on the training batches and on the held-out sentences."""
    m = m or model()
    steps, train, held = np.array(m.info["loss_curve"]).T
    fig, ax = plots.new_figure(figsize=(6.4, 3.6))
    ax.plot(steps, train, color=plots.RIVER_COLOR, label="training batches")
    ax.plot(steps, held, color=plots.TOWN_COLOR, label="held-out sentences (never trained on)")
    guess = np.log(len(m.vocabulary))
    ax.axhline(guess, color=plots.OTHER_COLOR, linestyle=":", label=f"guessing: ln {len(m.vocabulary)} = {guess:.2f}")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (nats per word)")
    ax.set_ylim(0, guess + 0.6)
    ax.legend(fontsize=plots.SMALL_FONT - 1, loc="upper right")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ live panels

def prediction_panel(text=PROMPT, k=8):
    """Type a prompt; bars of the k most likely next words; a temperature slider (notebook 03)."""
    m = model()

    def draw(text, temperature):
        if not words_of(text):
            raise ValueError("type at least one word")
        top = m.predict_next(text, k=k, temperature=temperature)
        scene = Scene()
        bars(scene, "p", [p for _, p in top], [w if w != "." else "(full stop)" for w, _ in top],
             colours=[plots.word_color(w) for w, _ in top], title="the next word, by probability",
             ylim=(0.0, 1.0), ticks=(0.0, 0.5, 1.0), ylabel="probability", width=560, height=300,
             rotate=45, numbers="{:.2f}", longest=100)
        unknown = m.unknown_words(text)
        lines = [f"after '{text.strip()}' (T = {temperature:.2f}):",
                 ", ".join(f"{w} {p:.2f}" for w, p in top[:5])]
        if unknown:
            lines.append(f"not in the model's {len(m.vocabulary)} words, read as {UNKNOWN}: {', '.join(unknown)}")
        return scene, "\n".join(lines)

    controls = {"text": text_box("prompt", text),
                "temperature": slider("temperature T", 1.0, min=0.1, max=3.0, step=0.1)}
    return LivePanel(controls, draw, title="What comes next?", catch=(ValueError,))


def head_panel(sentence="river"):
    """Pick a layer and a head: its attention weights on the series' sentence (or the contrast)."""
    m = model()
    texts = {key: words_of(s) for key, s in SENTENCES.items()}
    size = heatmap_size(max(texts.values(), key=len), max(texts.values(), key=len), cell=36)
    weights = {key: m.attention(m.encode(s)) for key, s in SENTENCES.items()}  # once per panel

    def draw(layer, head, sentence):
        words = texts[sentence]
        w = weights[sentence][layer, head]
        scene = Scene()
        heatmap(scene, "w", w, words, words, title=f"layer {layer} · head {head}", cell=36,
                numbers="{:.2f}", hidden=~np.tril(np.ones(w.shape, dtype=bool)), size=size)
        colourbar(scene, size[1], top=size[3], bottom=size[1] - size[3] - 36 * len(words))
        b = len(words) - 1 - words[::-1].index("bank")
        order = np.argsort(-w[b], kind="stable")[:3]
        n = len(words)
        prev = np.mean([w[i, i - 1] for i in range(2, n)])
        return scene, (f"layer {layer}, head {head}: bank looks at "
                       + ", ".join(f"{words[j]} {w[b, j]:.2f}" for j in order)
                       + f"\nmean weight on the previous word: {prev:.2f}")

    controls = {"layer": toggle("layer", list(range(m.layers)), 0),
                "head": toggle("head", list(range(m.num_heads)), 0),
                "sentence": dropdown("sentence", [(s, k) for k, s in SENTENCES.items()], sentence, width="480px")}
    return LivePanel(controls, draw, title="One head, enlarged")


def neuron_panel(layer=None, head=None, query="bank", key="fish"):
    """One query-key pair of one head, number by number: q, k, q ⊙ k, q · k / √d_k, softmax."""
    m = model()
    if layer is None or head is None:  # start on the head that links bank to its sense words
        layer, head = sense_head(m)[:2]
    words = words_of(SENTENCE)
    ids = m.encode(SENTENCE)
    d_k = m.d_model // m.num_heads
    labels = [str(i) for i in range(d_k)]
    # the sentence is fixed: every head's q and k, and the model's weights, computed once
    qk = {(l, h): queries_and_keys(ids, l, h, m) for l in range(m.layers) for h in range(m.num_heads)}
    attention = m.attention(ids)

    def draw(layer, head, query, key):
        qi, kj = words.index(query), words.index(key)
        q, k = qk[layer, head]
        scores = q[qi] @ k[: qi + 1].T / np.sqrt(d_k)
        weights = softmax(scores)
        scene = Scene()
        # fixed scales that hold every q, k (|x| < 5.3) and q ⊙ k (< 12.7) of this sentence, so
        # that bars can be compared while the controls move
        for name, values, colour, limit, ticks in (
                ("q", q[qi], plots.BANK_COLOR, 6.5, (-5.0, 0.0, 5.0)),
                ("k", k[kj], plots.RIVER_COLOR, 6.5, (-5.0, 0.0, 5.0)),
                ("qk", q[qi] * k[kj], plots.OUTPUT_COLOR, 15.0, (-10.0, 0.0, 10.0))):
            title = {"q": f"q of '{query}'", "k": f"k of '{key}'", "qk": "q ⊙ k, number by number"}[name]
            bars(scene, name, values, labels, colours=[colour] * d_k, title=title, ylim=(-limit, limit),
                 ticks=ticks, width=280, height=220, numbers="{:.1f}")
        # the softmax over the words the query can see; the masked ones stay at 0 (grey)
        shown = np.zeros(len(words))
        shown[: qi + 1] = weights
        colours = [plots.HIDDEN_COLOR if j > qi else plots.OUTPUT_COLOR if j == kj else plots.OTHER_COLOR
                   for j in range(len(words))]
        bars(scene, "w", shown, words, colours=colours, title=f"softmax: {query}'s weights", width=280,
             height=220, rotate=60)
        dot = q[qi] @ k[kj]
        if kj > qi:  # a key after the query: the causal mask hides it
            return scene, (f"q · k = {dot:.2f};  / √{d_k} = {dot / np.sqrt(d_k):.2f}, but '{key}' comes after "
                           f"'{query}':\nthe causal mask sets the score to −∞, so the weight is 0")
        return scene, (f"q · k = {dot:.2f};  / √{d_k} = score {scores[kj]:.2f}\n"
                       f"softmax over {query}'s {qi + 1} visible words: weight {weights[kj]:.2f} "
                       f"(the model's attention says {attention[layer, head, qi, kj]:.2f})")

    controls = {"layer": toggle("layer", list(range(m.layers)), layer),
                "head": toggle("head", list(range(m.num_heads)), head),
                "query": dropdown("query word", words, query), "key": dropdown("key word", words, key)}
    return LivePanel(controls, draw, title="Inside one head: a query meets a key", columns=2)


def panels():
    """This notebook's live panels, as the notebook builds them."""
    return {"prediction": prediction_panel(), "head": head_panel(), "neuron": neuron_panel()}


# ------------------------------------------------------------------ heads with a job

def held_out_sentences(m=None):
    """The corpus sentences the model never trained on (every 10th, as tools/train_model.py splits)."""
    from pathlib import Path
    m = m or model()
    every = m.info["options"]["held_out_every"]
    lines = (Path(__file__).resolve().parents[2] / "data" / "corpus.txt").read_text(encoding="utf-8").splitlines()
    sentences = [s.strip() for s in lines if s.strip() and not s.startswith("#")]
    return [s for i, s in enumerate(sentences) if i % every == every - 1]


def previous_word_head(m=None):
    """(layer, head, share): the head that puts the most weight on the previous word, on average
    over the held-out sentences (from each sentence's third word on)."""
    shares = head_pattern_shares(held_out_sentences(m), m)[..., 0]
    l, h = np.unravel_index(np.argmax(shares), shares.shape)
    return int(l), int(h), float(shares[l, h])


def sense_head(m=None):
    """(layer, head, weight on river words in the river sentence, on money words in the money
    sentence): the head whose *bank* looks most at the words that tell its sense, in both sentences."""
    m = m or model()
    best = None
    for l in range(m.layers):
        for h in range(m.num_heads):
            river = sense_weight(SENTENCE, l, h, "river", m)
            money = sense_weight(CONTRAST_SENTENCE, l, h, "money", m)
            if best is None or min(river, money) > min(best[2], best[3]):
                best = (l, h, river, money)
    return best
