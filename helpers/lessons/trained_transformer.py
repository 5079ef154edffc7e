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
from ..positions import sinusoidal
from ..transformer import layer_norm

PROMPT = "Tom is going to fish at the river"
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
    ids = np.asarray(token_ids)
    x = m.params["embedding"][ids] + sinusoidal(ids.size, m.d_model)
    for l in range(layer):
        from ..transformer import transformer_block
        p = m.params
        x, _ = transformer_block(x, tuple(p[f"{l}.{w}"] for w in ("W_q", "W_k", "W_v", "W_o")),
                                 tuple(p[f"{l}.{w}"] for w in ("W_1", "b_1", "W_2", "b_2")), m.num_heads,
                                 ln_1=(p[f"{l}.ln_1.gain"], p[f"{l}.ln_1.bias"]),
                                 ln_2=(p[f"{l}.ln_2.gain"], p[f"{l}.ln_2.bias"]),
                                 mask=np.tril(np.ones((ids.size, ids.size), dtype=bool)), activation="relu")
    return x


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

def head_grid_figure(text=SENTENCE, m=None):
    """Every head of every layer on `text`: layers x heads small heatmaps (rows: queries)."""
    m = m or model()
    words = words_of(text)
    weights = m.attention(m.encode(text))
    fig, axes = plots.new_figure(m.layers, m.num_heads, figsize=(7.0, 1.9 * m.layers + 1.1), squeeze=False)
    for l in range(m.layers):
        for h in range(m.num_heads):
            ax = axes[l, h]
            ax.imshow(weights[l, h], cmap=plots.WEIGHTS_CMAP, vmin=0, vmax=1)
            ax.set_title(f"layer {l} · head {h}", fontsize=plots.SMALL_FONT - 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if h == 0:
                ax.set_ylabel("query", fontsize=plots.SMALL_FONT - 1)
            if l == m.layers - 1:
                ax.set_xlabel("key", fontsize=plots.SMALL_FONT - 1)
    fig.suptitle(f"all {m.layers * m.num_heads} heads on: {text}", fontsize=plots.SMALL_FONT)
    fig.tight_layout()
    return fig


def loss_curve_figure(m=None):
    """The training loss by step, with the held-out loss the shipped weights give."""
    m = m or model()
    steps, losses = np.array(m.info["loss_curve"]).T
    fig, ax = plots.new_figure(figsize=(6.4, 3.4))
    ax.plot(steps, losses, color=plots.RIVER_COLOR, label="training batches")
    ax.axhline(m.info["held_out_loss"], color=plots.TOWN_COLOR, linestyle="--",
               label=f"held-out sentences: {m.info['held_out_loss']:.2f}")
    ax.axhline(np.log(len(m.vocabulary)), color=plots.OTHER_COLOR, linestyle=":",
               label=f"guessing: ln {len(m.vocabulary)} = {np.log(len(m.vocabulary)):.2f}")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (nats per word)")
    ax.set_ylim(0, None)
    ax.legend(fontsize=plots.SMALL_FONT - 1)
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
        bars(scene, "p", [p for _, p in top], [w for w, _ in top],
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

    def draw(layer, head, sentence):
        words = texts[sentence]
        w = m.attention(m.encode(SENTENCES[sentence]))[layer, head]
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


def neuron_panel(layer=0, head=0, query="bank", key="river"):
    """One query-key pair of one head, number by number: q, k, q ⊙ k, q · k / √d_k, softmax."""
    m = model()
    words = words_of(SENTENCE)
    ids = m.encode(SENTENCE)
    d_k = m.d_model // m.num_heads
    labels = [str(i) for i in range(d_k)]

    def draw(layer, head, query, key):
        qi, kj = words.index(query), words.index(key)
        if kj > qi:
            raise ValueError(f"'{key}' comes after '{query}': a decoder's word cannot look ahead (masked)")
        q, k = queries_and_keys(ids, layer, head, m)
        scores = q[qi] @ k[: qi + 1].T / np.sqrt(d_k)
        weights = softmax(scores)
        scene = Scene()
        limit = 3.0
        for name, values, colour in (("q", q[qi], plots.BANK_COLOR), ("k", k[kj], plots.RIVER_COLOR),
                                     ("qk", q[qi] * k[kj], plots.OUTPUT_COLOR)):
            title = {"q": f"q of '{query}'", "k": f"k of '{key}'", "qk": "q ⊙ k, number by number"}[name]
            bars(scene, name, np.clip(values, -limit, limit), labels, colours=[colour] * d_k, title=title,
                 ylim=(-limit, limit), ticks=(-3.0, 0.0, 3.0), width=280, height=200, numbers="{:.1f}")
        return scene, (f"q · k = {q[qi] @ k[kj]:.2f};  / √{d_k} = score {scores[kj]:.2f}\n"
                       f"softmax over {query}'s {qi + 1} visible words: weight {weights[kj]:.2f} "
                       f"(the model's attention says {m.attention(ids)[layer, head, qi, kj]:.2f})")

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
