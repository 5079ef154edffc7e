"""Notebook 03, softmax and masking: the lesson's numbers, static figures and live panels.

The story: softmax turns *bank*'s row of scores into weights (exp, then divide by the
sum); a temperature makes them sharper or flatter; a mask sets hidden scores to −∞
before softmax, so hidden words get exactly 0. Every weight here comes from
helpers.attention (`softmax(..., temperature=)`, `causal_mask`); this module only
draws them. In every picture a grey cell is a pair hidden by a mask, never the dark
colour of a small weight.

    numbers   sentence_scores, masked_weights, entropy, TEMPERATURES
    figures   softmax_steps_figure, mask_heatmap, padding_picture, MASK_CMAP (matplotlib)
    panels    temperature_panel, attention_explorer_panel, panels() (helpers.panels, drawn in the browser)
"""

from __future__ import annotations

import functools

import ipywidgets as W
import matplotlib as mpl
import numpy as np

from .. import plots
from ..attention import causal_mask, demo_head, softmax
from ..embeddings import SENTENCE, display_word, sentence_matrix, toy_vectors, top_words
from ..panels import LivePanel, Scene, attrs_markup, dropdown, toggle
from ..panels.controls import DESCRIPTION_WIDTH
from ..panels.pieces import FONT_PX
from ..panels.pieces.arcs import arcs
from ..panels.pieces.bars import bars
from ..panels.pieces.colours import text_colour_on, weight_colours
from ..panels.pieces.heatmap import colourbar, heatmap, heatmap_size, hidden_key_markup
from ..panels.scene import element

#: Temperatures offered by the sliders: roughly even steps on a log scale.
TEMPERATURES = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)
#: The explorer's masks.
MASKS = ("none", "causal")
#: Mask pictures: hidden (grey, as hidden pairs in the weight heatmaps), allowed (yellow).
MASK_CMAP = mpl.colors.ListedColormap([plots.HIDDEN_COLOR, "#FDE725"])


# ------------------------------------------------------------------ the numbers


def sentence_scores(vectors=None):
    """(tokens, scores (n, n)) of the running sentence, as section 1 builds them:
    the demo head's Q K^T / sqrt(d_k)."""
    W_q, W_k, _ = demo_head()
    tokens, X = sentence_matrix(SENTENCE, toy_vectors() if vectors is None else vectors)
    Q, K = X @ W_q, X @ W_k
    return tokens, Q @ K.T / np.sqrt(K.shape[1])


def masked_weights(scores, mask=None, temperature=1.0):
    """softmax of `scores` with the pairs where `mask` is False set to −∞, at `temperature`."""
    scores = np.asarray(scores, dtype=float)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores, temperature=temperature)


def entropy(w):
    """-sum(w ln w) of a row of weights, with 0 ln 0 = 0 (nats; never -0.0)."""
    w = np.asarray(w, dtype=float)
    terms = np.zeros_like(w)
    positive = w > 0
    terms[positive] = w[positive] * np.log(w[positive])
    return max(0.0, float(-terms.sum()))


# ------------------------------------------------------------------ static figures


def softmax_steps_figure(tokens, scores, exps, weights, *, query=None):
    """Softmax step by step for one query: three bar charts stacked, read from top to bottom.

    `scores` (n,), `exps` = exp(scores) (n,) and `weights` = exps / exps.sum() (n,)
    are computed by the caller (the notebook shows that code); this only draws them.
    7 inches wide (a notebook column); returns the figure (show it with plots.show).
    """
    steps = [np.asarray(v, dtype=float) for v in (scores, exps, weights)]
    fig, axes = plots.new_figure(3, 1, figsize=(7, 7.6))
    titles = ("1. scores s",
              f"2. exp(s), sum = {steps[1].sum():.1f}",
              f"3. exp(s) / sum, sum = {steps[2].sum():.2f}")
    ylabels = ("score", "exp(score)", "weight")
    for ax, values, title, ylabel in zip(axes, steps, titles, ylabels):
        top = max(float(values.max()), 0.0) * 1.25 or 1.0
        bottom = min(float(values.min()), 0.0) * 1.25
        plots.Bars(ax, tokens, values, ylim=(bottom, top), ylabel=ylabel,
                   fmt="{:.1f}" if values.max() >= 10 else "{:.2f}")
        ax.set_title(title, loc="left")
        ax.set_xticks(range(len(tokens)), [display_word(t) for t in tokens], rotation=0, ha="center")
        ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(3))
    axes[-1].set_xlabel("key word")
    if query is not None:
        fig.suptitle(f"softmax of {display_word(query)}'s row, step by step", fontsize=plots.FONT + 1)
    fig.tight_layout()
    return fig


def mask_heatmap(ax, mask, row_labels, col_labels, *, title=None, xlabel="key", ylabel="query"):
    """A boolean mask as a two-colour grid with 1 (may attend, yellow) / 0 (hidden, grey) in the cells."""
    mask = np.asarray(mask)
    return plots.Heatmap(ax, mask.astype(float), row_labels, col_labels, title=title, cmap=MASK_CMAP,
                         vmin=0, vmax=1, annotate=True, fmt="{:.0f}", xlabel=xlabel, ylabel=ylabel,
                         colorbar=False)


def padding_picture(ax, token_rows, mask, *, title=None, pad_token="<pad>"):
    """A padded batch: one row per sentence, one cell per position, the word written in the cell.

    `token_rows`: list of token lists (each at most n long); `mask`: boolean (batch, n)
    or (batch, 1, n), True for real words (e.g. helpers.attention.padding_mask).
    Real words sit on yellow, padding on grey (hidden, as in the weight heatmaps).
    """
    mask = np.asarray(mask).reshape(len(token_rows), -1)
    n = mask.shape[1]
    ax.imshow(mask.astype(float), cmap=MASK_CMAP, vmin=0, vmax=1, aspect="auto")
    for i, row in enumerate(token_rows):
        padded = list(row) + [pad_token] * (n - len(row))
        for j, tok in enumerate(padded):
            ax.text(j, i, display_word(tok), ha="center", va="center", color="black",
                    fontsize=plots.SMALL_FONT - 1 if tok == pad_token else plots.SMALL_FONT)
    ax.set_xticks(range(n), [str(j + 1) for j in range(n)])
    ax.set_yticks(range(len(token_rows)), [str(i + 1) for i in range(len(token_rows))])
    ax.set_ylabel("sentence")
    ax.set_xlabel("position in the batch (yellow = real word, grey = padding)")
    ax.spines[:].set_visible(False)
    if title:
        ax.set_title(title)


# ------------------------------------------------------------------ live panels


def temperature_slider(value=1.0, temperatures=TEMPERATURES, description="temperature T"):
    """A slider over fixed temperatures (log-ish steps); its value is the temperature (a float)."""
    return W.SelectionSlider(options=[(f"{t:g}", float(t)) for t in temperatures], value=float(value),
                             description=description, continuous_update=True,
                             style={"description_width": DESCRIPTION_WIDTH},
                             layout=W.Layout(width="420px", max_width="100%"))


def unique_names(tokens):
    """Display names, one per position: a word that occurs twice gets its position added."""
    labels = [display_word(t) for t in tokens]
    return [lab if labels.count(lab) == 1 else f"{lab} ({i + 1})" for i, lab in enumerate(labels)]


def temperature_panel(tokens, scores_row, query="bank", temperatures=TEMPERATURES):
    """One query's attention weights softmax(scores_row / T) as bars, with a temperature slider.

    tokens: the n words; scores_row: (n,) scaled scores of the query word.
    Readout: the three largest weights, the largest weight and the entropy.
    """
    scores_row = np.asarray(scores_row, dtype=float)
    labels = [display_word(t) for t in tokens]
    colours = [plots.word_color(t) for t in tokens]
    n, name = len(tokens), display_word(query)

    def draw(temperature):
        w = softmax(scores_row, temperature=temperature)  # (n,)
        scene = Scene()
        bars(scene, "w", w, labels, colours=colours, ylim=(0.0, 1.08), ticks=(0.0, 0.5, 1.0),
             ylabel="attention weight", width=560, height=330, numbers="{:.2f}",
             title=f"{name}'s weights = softmax(scores / T), T = {temperature:g}",
             guides=[(1 / n, f"1/{n} = all {n} words equal")])
        return scene, (f"T = {temperature:g}: top weights {top_words(tokens, w, positive_only=True)}\n"
                       f"max weight {w.max():.2f}   entropy {entropy(w):.2f} "
                       f"(0 = all on one word, {np.log(n):.2f} = spread evenly over {n})")

    controls = {"temperature": temperature_slider(1.0, temperatures)}
    return LivePanel(controls, draw, title=f"Temperature: how sharply does {name} choose?",
                     catch=(ValueError, TypeError))


EXPLORER_CELL = 36  # px: a 9 × 9 heatmap 324 px wide, its chosen row's numbers readable


@functools.lru_cache(maxsize=16)
def _explorer_layout(labels):
    """(size of the heatmap tile, the fixed legend markup) for these word labels."""
    width, height, left, top = heatmap_size(labels, labels, EXPLORER_CELL)
    legend = (element("text", attrs_markup(x=4, y=height + 8, font_size=FONT_PX - 1),
                      "row = query word, column = key word") + hidden_key_markup(4, height + 30))
    return (width, height + 40, left, top), legend


def _chosen_row(scene, tile, size, q, row, fills):
    """The chosen row of the heatmap: a frame around it and its weights in its cells (keyed)."""
    _, _, left, top = size
    n, cell = len(row), EXPLORER_CELL
    scene.add(tile, "rect", key="w.frame", static=attrs_markup(x=left - 2, width=n * cell + 3, height=cell + 3,
                                                                 fill="none", stroke=plots.TOWN_COLOR,
                                                                 stroke_width=3),
              y=top + q * cell - 2)
    for j, (value, fill) in enumerate(zip(row, fills)):
        scene.add(tile, "text", key=f"w.q{j}", text="" if fill == plots.HIDDEN_COLOR else f"{value:.2f}",
                  static=attrs_markup(x=left + (j + 0.5) * cell, text_anchor="middle", font_size=FONT_PX - 2),
                  y=top + (q + 0.5) * cell + FONT_PX * 0.35, fill=text_colour_on(fill))


def explorer_scene(tokens, q, weights, hidden, title, arc_title):
    """The explorer's picture: every row of `weights` (row q framed, its weights written,
    hidden pairs grey), a colour bar, and row q as arcs."""
    labels = tuple(display_word(t) for t in tokens)
    size, legend = _explorer_layout(labels)
    scene = Scene()
    t = heatmap(scene, "w", weights, labels, labels, title=title, cell=EXPLORER_CELL, hidden=hidden,
                size=size)
    scene.raw(t, legend)
    fills = [plots.HIDDEN_COLOR if h else c for c, h in zip(weight_colours(weights[q]), hidden[q])]
    _chosen_row(scene, t, size, q, weights[q], fills)  # (the colours of the row's cells)
    top = size[3]
    colourbar(scene, size[1], top=top, bottom=size[1] - top - len(labels) * EXPLORER_CELL)
    arcs(scene, "a", weights[q], labels, q, hidden=hidden[q], title=arc_title, width=560, height=250,
         label_colours=[plots.word_color(w) for w in tokens])
    return scene


def attention_explorer_panel(tokens, scores, query="bank", temperatures=TEMPERATURES):
    """Weight heatmap + arc diagram for a chosen query word, with a mask and a temperature.

    tokens: the n words; scores: (n, n) scaled scores Q Kᵀ / sqrt(d_k).
    Controls: query (the words), mask ("none" / "causal"), temperature. The heatmap
    shows softmax(masked scores / T) for every query (the chosen row framed, its
    weights written in its cells, hidden pairs grey); the arcs show the chosen row.
    """
    scores = np.asarray(scores, dtype=float)
    n = len(tokens)
    names = unique_names(tokens)
    index = {name: i for i, name in enumerate(names)}
    masks = {"none": np.ones((n, n), dtype=bool), "causal": causal_mask(n)}
    start = names[index[query] if query in index else index[display_word(query)]]

    def draw(query, mask, temperature):
        q, allowed = index[query], masks[mask]
        w = masked_weights(scores, allowed, temperature)  # (n, n)
        scene = explorer_scene(tokens, q, w, ~allowed, f"all weights (mask: {mask}, T = {temperature:g})",
                               f"what {query} attends to")
        hidden = [names[j] for j in range(n) if not allowed[q, j]]
        return scene, (f"{query} (mask: {mask}, T = {temperature:g}): top weights "
                       f"{top_words(tokens, w[q], positive_only=True)}\n"
                       f"hidden keys: {', '.join(hidden) if hidden else 'none'}   "
                       f"row sum {w[q].sum():.2f}   max weight {w[q].max():.2f}")

    controls = {"query": dropdown("query word", names, start, width="300px"),
                "mask": toggle("mask", list(MASKS), "none", button_width="80px"),
                "temperature": temperature_slider(1.0, temperatures)}
    return LivePanel(controls, draw, title="Who attends to whom: pick a word, a mask, a temperature",
                     catch=(ValueError, TypeError))


def panels():
    """This notebook's live panels, built as the notebook builds them, by name."""
    tokens, scores = sentence_scores()
    return {"temperature": temperature_panel(tokens, scores[tokens.index("bank")], query="bank"),
            "explorer": attention_explorer_panel(tokens, scores, query="bank")}
