"""Notebook 07, the transformer block: the lesson's numbers, static figures and live panels.

The story: the two heads of notebook 05 make every word's output a near copy of its
neighbours'; the residual connection x + MultiHead(x) keeps each word and adds what it
took from its context; layer norm brings every word's six numbers back to mean 0 and
variance 1; a feed-forward network (6 -> 24 -> 6) works on each word alone; blocks are
stacked, and without residuals the words collapse toward one vector. GPT's blocks add a
causal mask, BERT's do not; a translator's decoder adds cross-attention.

The toy simplifies: 6 numbers per word, weights written by hand (05's heads) or drawn at
random with a fixed seed (nothing here is trained), no biases in attention, no dropout.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import plots
from ..attention import causal_mask, demo_heads, multi_head_attention
from ..embeddings import CONTRAST_SENTENCE, DIMENSIONS, RIVER_CLUSTER, SENTENCE, TOWN_CLUSTER, \
    cosine_similarity, display_word, sentence_matrix, toy_vectors
from ..panels import LivePanel, Scene, dropdown, int_slider, slider, toggle
from ..panels.pieces.bars import bars
from ..panels.pieces.heatmap import heatmap, heatmap_size
from ..transformer import cross_attention, layer_norm, transformer_block

#: The series' pipeline with the rest of the block after W_o (Add & Norm, feed-forward, Add & Norm).
PIPELINE = (*plots.PIPELINE_STEPS, *plots.BLOCK_STEPS)
SENTENCES = {"river": SENTENCE, "money": CONTRAST_SENTENCE}
#: The French sentence of the cross-attention picture, each word with the English word whose
#: toy vector it borrows (a trained translator learns its own vectors).
FRENCH = (("Tom", "tom"), ("va", "going"), ("pêcher", "fish"), ("au", "at"), ("bord", "bank"),
          ("de", "to"), ("la", "the"), ("rivière", "river"))
STACK_SEED = 0
MAX_LAYERS = 12


# ------------------------------------------------------------------ the numbers


@functools.lru_cache(maxsize=None)
def centres():
    """(river centre, town centre): the mean vectors of the two clusters, (6,) each."""
    kv = toy_vectors()
    return (np.mean([kv[w] for w in RIVER_CLUSTER], axis=0), np.mean([kv[w] for w in TOWN_CLUSTER], axis=0))


def attention_step(text=SENTENCE, keep=1.0):
    """(tokens, X, MHA(X), keep · X + MHA(X)) with the two heads of notebook 05; each (n, 6)."""
    W_q, W_k, W_v, W_o, heads = demo_heads()
    tokens, X = sentence_matrix(text, toy_vectors())
    attended, _ = multi_head_attention(X, W_q, W_k, W_v, W_o, heads)
    return tokens, X, attended, keep * X + attended


def bank_cosines(text=SENTENCE, keep=1.0):
    """{state: (cos with raw bank, cos with river centre, cos with town centre)} for bank as it
    comes in, after attention alone, and after keep · x + MultiHead(x)."""
    tokens, X, attended, res = attention_step(text, keep)
    b = tokens.index("bank")
    river, town = centres()
    states = {"bank as it comes in": X[b], "attention output alone": attended[b], "x + attention output": res[b]}
    return {k: tuple(float(cosine_similarity(v, c)) for c in (X[b], river, town)) for k, v in states.items()}


def mean_pairwise_cosine(Z):
    """The mean cosine over every pair of different rows of Z (n, d): 1 = all rows point the same way."""
    U = Z / np.linalg.norm(Z, axis=-1, keepdims=True)
    C = U @ U.T
    return float(C[np.triu_indices(len(Z), 1)].mean())


def pairwise_cosines(Z):
    """(n, n) cosine of every pair of rows of Z."""
    U = Z / np.linalg.norm(Z, axis=-1, keepdims=True)
    return U @ U.T


def rank(Z, tol=1e-6):
    """How many directions the rows of Z still span: singular values above tol × the largest."""
    s = np.linalg.svd(Z, compute_uv=False)
    return int((s > tol * s[0]).sum())


def random_block(rng, d=6):
    """((W_q, W_k, W_v, W_o), (W_1, b_1, W_2, b_2)): random weights of one block, d -> 4d -> d,
    with the usual starting sizes (variance 1/d for attention, 2/d and 1/(4d) for the two layers)."""
    att = tuple(rng.normal(0, 1 / np.sqrt(d), (d, d)) for _ in range(4))
    ffn = (rng.normal(0, np.sqrt(2 / d), (d, 4 * d)), np.zeros(4 * d),
           rng.normal(0, 1 / np.sqrt(4 * d), (4 * d, d)), np.zeros(d))
    return att, ffn


@functools.lru_cache(maxsize=64)
def stack(residual=True, norm_first=True, seed=STACK_SEED, layers=MAX_LAYERS, text=SENTENCE):
    """The sentence after each of `layers` random blocks (2 heads each): a tuple of (n, 6) arrays,
    item L - 1 after L layers. Seeded, so the same numbers every time."""
    rng = np.random.default_rng(seed)
    _, x = sentence_matrix(text, toy_vectors())
    out = []
    for _ in range(layers):
        att, ffn = random_block(rng, x.shape[1])
        x, _ = transformer_block(x, att, ffn, 2, norm_first=norm_first, residual=residual)
        out.append(x)
    return tuple(out)


def stack_curve(residual=True, norm_first=True, seed=STACK_SEED):
    """(mean pairwise cosine, rank) after 1 .. 12 layers: two lists of 12."""
    cos, ranks = _stack_curve(residual, norm_first, seed)
    return list(cos), list(ranks)


@functools.lru_cache(maxsize=64)
def _stack_curve(residual, norm_first, seed):
    xs = stack(residual, norm_first, seed)
    return tuple(mean_pairwise_cosine(x) for x in xs), tuple(rank(x) for x in xs)


def parameter_counts(d_model, d_ff=None, biases=False):
    """{part: number of weights} of one block: attention (W_q, W_k, W_v, W_o), feed-forward
    (W_1, b_1, W_2, b_2), the two layer norms (gain and bias each); biases=True adds the four
    attention biases (GPT-2 and BERT have them; helpers.attention does not)."""
    d_ff = 4 * d_model if d_ff is None else d_ff
    counts = {"attention": 4 * d_model * d_model + (4 * d_model if biases else 0),
              "feed-forward": d_model * d_ff + d_ff + d_ff * d_model + d_model,
              "layer norms": 2 * 2 * d_model}
    counts["block"] = sum(counts.values())
    return counts


def mask_weights(text=SENTENCE, head=0):
    """(tokens, weights without a mask (BERT), weights with the causal mask (GPT)), (n, n) each,
    of one head of notebook 05 on the sentence."""
    W_q, W_k, W_v, W_o, heads = demo_heads()
    tokens, X = sentence_matrix(text, toy_vectors())
    _, full = multi_head_attention(X, W_q, W_k, W_v, W_o, heads)
    _, causal = multi_head_attention(X, W_q, W_k, W_v, W_o, heads, mask=causal_mask(len(tokens)))
    return tokens, full[head], causal[head]


def french_matrix():
    """(French words, their (8, 6) borrowed vectors)."""
    kv = toy_vectors()
    return [f for f, _ in FRENCH], np.array([kv[e] for _, e in FRENCH])


def translation_weights(sharpness=8.0):
    """(French words, English tokens, weights (8, 9)): one head of cross-attention, queries from
    the French sentence, keys and values from the English one; W_q = sharpness · I, W_k = W_v = W_o = I."""
    french, F = french_matrix()
    tokens, X = sentence_matrix(SENTENCE, toy_vectors())
    I = np.eye(X.shape[1])
    _, w = cross_attention(F, X, sharpness * I, I, I, I, 1)
    return french, tokens, w[0]


# ------------------------------------------------------------------ figures


def residual_figure(figsize=(7.0, 5.6)):
    """bank's cosines with its raw vector and the two centres, in both sentences: as it comes in,
    after attention alone, after x + attention."""
    fig, axes = plots.new_figure(2, 1, figsize=figsize, sharex=True)
    colours = (plots.OTHER_COLOR, plots.OUTPUT_COLOR, plots.BANK_COLOR)
    groups = ("raw bank", "river centre", "town centre")
    for ax, (name, text) in zip(axes, SENTENCES.items()):
        for k, (state, values) in enumerate(bank_cosines(text).items()):
            xs = np.arange(3) + (k - 1) * 0.27
            ax.bar(xs, values, width=0.25, color=colours[k], label=state)
            for x, v in zip(xs, values):
                ax.text(x, v + (0.03 if v >= 0 else -0.1), f"{v:.2f}", ha="center", fontsize=plots.SMALL_FONT - 1)
        ax.axhline(0, color="#999999", linewidth=1)
        ax.set_ylim(-0.35, 1.45)
        ax.set_ylabel("cosine")
        ax.set_title(f"“{text}”", fontsize=plots.FONT)
    axes[1].set_xticks(range(3), [f"with {g}" for g in groups])
    axes[0].legend(loc="upper center", ncol=3, fontsize=plots.SMALL_FONT - 1, frameon=False,
                   bbox_to_anchor=(0.5, 1.02), columnspacing=1.0, handlelength=1.2)
    fig.tight_layout()
    return fig


def layer_norm_figure(word="bank", figsize=(7.0, 5.4)):
    """One word's six numbers after x + MultiHead(x), then after layer norm (gain 1, bias 0)."""
    tokens, _, _, res = attention_step()
    x = res[tokens.index(word)]
    fig, axes = plots.new_figure(2, 1, figsize=figsize, sharex=True)
    y = layer_norm(x)
    for ax, values, title in ((axes[0], x, f"{word}: x + MultiHead(x), mean {x.mean():.2f}, std {x.std():.2f}"),
                              (axes[1], y, f"after layer norm: mean {abs(y.mean()):.2f}, std {y.std():.2f}")):
        ax.bar(range(6), values, color=_signed(values))
        ax.axhline(0, color="#999999", linewidth=1)
        ax.set_ylim(-2.2, 2.2)
        ax.set_title(title, fontsize=plots.FONT)
    axes[1].set_xticks(range(6), DIMENSIONS, rotation=20, ha="right")
    fig.tight_layout()
    return fig


def _box(ax, x, y, text, colour="#F2F2F2", w=2.3, h=0.62):
    ax.add_patch(plots.mpl.patches.FancyBboxPatch((x - w / 2, y - h / 2), w, h, facecolor=colour,
                                                  edgecolor="black", boxstyle="round,pad=0,rounding_size=0.08"))
    ax.text(x, y, text, ha="center", va="center", fontsize=plots.SMALL_FONT)


def _arrow(ax, start, end, color="black"):
    ax.annotate("", end, start, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3, shrinkA=0, shrinkB=0))


def _column(ax, x, steps):
    """A block drawn upward from y = 0: steps = [(text, colour, residual start?)]; the residual
    lines jump from the marked points to the ⊕ boxes."""
    ys = np.arange(len(steps)) * 0.95 + 0.9
    _arrow(ax, (x, 0.1), (x, ys[0] - 0.31))
    for (text, colour), y0, y1 in zip(steps, ys, list(ys[1:]) + [None]):
        _box(ax, x, y0, text, colour)
        if y1 is not None:
            _arrow(ax, (x, y0 + 0.31), (x, y1 - 0.31))
    _arrow(ax, (x, ys[-1] + 0.31), (x, ys[-1] + 0.75))
    return ys


def pre_post_figure(figsize=(7.0, 5.6)):
    """The two orders of one block, side by side: post-norm (the paper) and pre-norm (GPT-2 and later).
    The grey lines are the residual connections: they carry x around each sub-layer to a ⊕."""
    fig, ax = plots.new_figure(figsize=figsize)
    att, ffn, norm, add = "#DCEBF7", "#E3F4EC", "#FBF3C9", "white"
    columns = {
        1.7: ("post-norm (the paper, BERT)",
              [("multi-head attention", att), ("⊕  add", add), ("layer norm", norm),
               ("feed-forward", ffn), ("⊕  add", add), ("layer norm", norm)], [(0, 1), (3, 4)]),
        5.3: ("pre-norm (GPT-2 and later)",
              [("layer norm", norm), ("multi-head attention", att), ("⊕  add", add),
               ("layer norm", norm), ("feed-forward", ffn), ("⊕  add", add)], [(0, 2), (3, 5)]),
    }
    for x, (title, steps, skips) in columns.items():
        ys = _column(ax, x, steps)
        for start, end in skips:  # the residual: from just below step `start` around it to step `end`
            y0 = ys[start] - 0.45
            ax.plot([x, x - 1.45, x - 1.45], [y0, y0, ys[end]], color="#777777", lw=2.2)
            _arrow(ax, (x - 1.45, ys[end]), (x - 1.15, ys[end]), color="#777777")
        ax.text(x, ys[-1] + 1.0, title, ha="center", fontsize=plots.FONT, fontweight="bold")
        ax.text(x, -0.15, "x in", ha="center", va="top", fontsize=plots.SMALL_FONT)
    ax.text(3.5, -0.75, "grey: the residual connection (x goes around)", fontsize=plots.SMALL_FONT - 1,
            color="#555555", ha="center", va="top")
    ax.set_xlim(0, 7.0)
    ax.set_ylim(-1.2, 7.0)
    ax.axis("off")
    fig.tight_layout()
    return fig


def stacking_figure(seed=STACK_SEED, figsize=(7.0, 4.2)):
    """Mean pairwise cosine of the nine words after 1 .. 12 random blocks, with and without residuals."""
    fig, ax = plots.new_figure(figsize=figsize)
    layers = np.arange(1, MAX_LAYERS + 1)
    for residual, colour, marker in ((True, plots.RIVER_COLOR, "o"), (False, plots.TOWN_COLOR, "s")):
        cos, ranks = stack_curve(residual, True, seed)
        ax.plot(layers, cos, marker=marker, color=colour, linewidth=2,
                label=f"{'with' if residual else 'without'} residuals (rank after 12: {ranks[-1]})")
    _, raw = sentence_matrix(SENTENCE, toy_vectors())
    ax.axhline(mean_pairwise_cosine(raw), color=plots.OTHER_COLOR, linestyle="--",
               label="the word vectors as they come in")
    ax.set_ylim(0, 1.05)
    ax.set_xticks(layers)
    ax.set_xlabel("number of blocks")
    ax.set_ylabel("mean cosine between words")
    ax.legend(loc="lower right", fontsize=plots.SMALL_FONT - 1)
    fig.tight_layout()
    return fig


def masks_figure(figsize=(7.0, 4.0)):
    """Head 0 of notebook 05 in an encoder (BERT: no mask) and in a decoder (GPT: causal mask)."""
    tokens, full, causal = mask_weights()
    fig, axes = plots.new_figure(1, 2, figsize=figsize)
    for ax, w, title, hidden in ((axes[0], full, "encoder (BERT): no mask", None),
                                 (axes[1], causal, "decoder (GPT): causal mask", ~causal_mask(len(tokens)))):
        shown = np.ma.masked_array(w, mask=hidden) if hidden is not None else w
        plots.heatmap(ax, shown, tokens, tokens, vmin=0, vmax=1, title=title, colorbar=False, annotate=False)
        if hidden is not None:
            ax.imshow(np.where(hidden, 1.0, np.nan), cmap=plots.mpl.colors.ListedColormap([plots.HIDDEN_COLOR]),
                      vmin=0, vmax=1)
    fig.tight_layout()
    return fig


def cross_figure(figsize=(6.2, 4.6)):
    """Cross-attention: each French word (query) over the English sentence (keys and values)."""
    french, tokens, w = translation_weights()
    fig, ax = plots.new_figure(figsize=figsize)
    plots.heatmap(ax, w, french, tokens, vmin=0, vmax=1, title="queries: French · keys, values: English",
                  colorbar=False, annotate=False)
    ax.set_xlabel("English word (encoder)")
    ax.set_ylabel("French word (decoder)")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ panels

NUMBER_LIMITS = (-1.0, 1.5)


def _unsigned_zero(v):
    """v, with anything that rounds to 0.00 written as 0.00 (not -0.00)."""
    return 0.0 if abs(v) < 0.005 else float(v)


def _signed(values):
    """Gold for positive numbers, purple for negative ones: the series' signed colours."""
    return [plots.POSITIVE_COLOR if v > 0 else plots.NEGATIVE_COLOR for v in values]


def residual_panel():
    """keep · x + MultiHead(x) for bank: its six numbers and its three cosines.

    Controls: `sentence` (river / money), `keep` (0 = attention output alone, 1 = the residual).
    """
    labels = [d.split()[0] for d in DIMENSIONS]
    # the attention output does not depend on `keep`: computed once per sentence (as attention_step)
    steps = {key: attention_step(text) for key, text in SENTENCES.items()}
    river, town = centres()

    def draw(sentence, keep):
        text = SENTENCES[sentence]
        tokens, X, attended, _ = steps[sentence]
        res = keep * X + attended
        b = tokens.index("bank")
        cos = tuple(float(cosine_similarity(res[b], c)) for c in (X[b], river, town))  # as bank_cosines
        scene = Scene()
        bars(scene, "vec", res[b], labels, colours=_signed(res[b]), ylim=NUMBER_LIMITS, ticks=(-1, 0, 1),
             title=f"bank = {keep:.2f} · x + MultiHead(x)", width=290, height=250, numbers="{:.2f}",
             rotate=45)
        bars(scene, "cos", cos, ["raw bank", "river c.", "town c."],
             colours=[plots.BANK_COLOR, plots.RIVER_COLOR, plots.TOWN_COLOR], ylim=(-0.5, 1.0),
             ticks=(-0.5, 0, 0.5, 1), title="cosine of the new bank with", width=284, height=250,
             numbers="{:.2f}", rotate=45)
        readout = (f"{text}\nbank = {keep:.2f} · x + MultiHead(x): cosine {cos[0]:.2f} with raw bank, "
                   f"{cos[1]:.2f} with the river centre, {cos[2]:.2f} with the town centre")
        return scene, readout

    controls = {"sentence": dropdown("sentence", [("river bank", "river"), ("money bank", "money")], "river"),
                "keep": slider("keep x ×", 1.0, min=0.0, max=1.0, step=0.05)}
    return LivePanel(controls, draw, title="The residual: keep the word, add the context")


def layer_norm_panel():
    """One word's six numbers before and after layer norm, with one gain and one bias for all six.

    Controls: `word` (the nine words), `gain` (0-2), `bias` (-1 to 1).
    """
    tokens, _, _, res = attention_step()
    labels = [d.split()[0] for d in DIMENSIONS]

    def draw(word, gain, bias):
        x = res[tokens.index(word)]
        y = layer_norm(x, np.full(6, gain), np.full(6, bias))
        scene = Scene()
        bars(scene, "in", x, labels, colours=_signed(x), ylim=(-6.5, 6.5), ticks=(-5, 0, 5),
             title=f"{display_word(word)}: x + MultiHead(x)", width=287, height=250, numbers="{:.1f}", rotate=45)
        bars(scene, "out", y, labels, colours=_signed(y), ylim=(-6.5, 6.5), ticks=(-5, 0, 5),
             title=f"layer norm, gain {gain:.1f}, bias {bias:.1f}", width=287, height=250, numbers="{:.1f}",
             rotate=45)
        readout = (f"{display_word(word)} before: mean {x.mean():.2f}, std {x.std():.2f}\n"
                   f"after: mean {_unsigned_zero(y.mean()):.2f}, std {y.std():.2f} "
                   f"(= bias {bias:.2f}, |gain| {abs(gain):.2f})")
        return scene, readout

    controls = {"word": dropdown("word", [(display_word(t), t) for t in tokens], "bank"),
                "gain": slider("gain", 1.0, min=0.0, max=2.0, step=0.1, readout_format=".1f"),
                "bias": slider("bias", 0.0, min=-1.0, max=1.0, step=0.1, readout_format=".1f")}
    return LivePanel(controls, draw, title="Layer norm: mean 0, variance 1, then gain and bias")


def stacking_panel(seed=STACK_SEED):
    """Random blocks stacked 1 .. 12 deep: how far apart the nine words stay.

    Controls: `layers` (1-12), `residuals` (on / off); pre-norm blocks, as in GPT-2. Left: the mean
    pairwise cosine after each number of layers (the chosen ones in colour); right: every pair's cosine.
    """
    tokens, _ = sentence_matrix(SENTENCE, toy_vectors())
    names = [display_word(t) for t in tokens]
    size = heatmap_size(names, names, cell=29)
    ticks = [str(k) for k in range(1, MAX_LAYERS + 1)]

    def draw(layers, residuals):
        on = residuals == "on"
        cos, ranks = stack_curve(on, True, seed)
        x = stack(on, True, seed)[layers - 1]
        colour = plots.RIVER_COLOR if on else plots.TOWN_COLOR
        scene = Scene()
        bars(scene, "curve", cos, ticks, colours=[colour if k < layers else plots.HIDDEN_COLOR for k in range(12)],
             ylim=(0.0, 1.0), ticks=(0, 0.5, 1), title="mean cosine after k blocks", width=244, height=300,
             ylabel="cosine", label_px=13)
        heatmap(scene, "pairs", pairwise_cosines(x), names, names, cell=29, signed=1.0, size=size, numbers="{:.1f}",
                title=f"cosines after {layers} block{'s' if layers > 1 else ''}")
        readout = (f"{layers} block{'s' if layers > 1 else ''}, residuals {residuals}: mean cosine "
                   f"between the words {cos[layers - 1]:.2f}, rank {ranks[layers - 1]} of 6")
        return scene, readout

    controls = {"layers": int_slider("blocks", 1, 1, MAX_LAYERS),
                "residuals": toggle("residuals", ["on", "off"], "on")}
    return LivePanel(controls, draw, title="Stacking blocks: do the words stay apart?")


def panels():
    """This notebook's live panels, by name, built as the notebook builds them."""
    return {"residual": residual_panel(), "layer_norm": layer_norm_panel(), "stacking": stacking_panel()}
