"""Notebook 08, learning the head: the lesson's numbers, static figures and live panel.

The story: every weight of notebooks 02-06 was written by hand. Here one head (W_q, W_k,
W_v) and a read-out learn, by gradient descent on the sentences of data/bank_senses.tsv,
to tell which *bank* a sentence means; its attention moves from nearly even weights to the
words that give the sense away. The maths is helpers.training; this module runs it with
the lesson's settings, draws the static figures (matplotlib) and builds the live panel
(helpers.panels): a Train button that trains in the kernel while the picture follows, and
a step slider that replays the stored checkpoints.
"""

from __future__ import annotations

import functools
import time

import ipywidgets as W
import numpy as np

from .. import plots
from ..attention import demo_head
from ..embeddings import CONTRAST_SENTENCE, DIMENSIONS, SENTENCE, display_word, top_words, toy_vectors
from ..panels import LivePanel, Scene, int_slider, toggle
from ..panels.panel import readout_markup
from ..panels.pieces.curve import curve
from ..panels.pieces.heatmap import heatmap
from ..training import accuracy, cross_entropy, head_forward, make_batch, read_senses, train_head

STEPS = 200
LEARNING_RATE = 1.0
LEARNING_RATES = (0.1, 0.3, 1.0, 3.0)
EVERY = 5  # a checkpoint every 5 steps
SEED = 0
#: Words of the toy table that give one sense away (the others say nothing about it).
RIVER_WORDS = ("river", "fish", "fisherman", "water", "boat", "lake", "sea", "swim")
MONEY_WORDS = ("money", "deposit", "cash", "loan", "account")
SENSE_WORDS = RIVER_WORDS + MONEY_WORDS
EXAMPLES = {"river sentence": SENTENCE, "money sentence": CONTRAST_SENTENCE}
LOSS_LIMIT = 0.8


def sense_colour(word):
    """Blue for a river word, vermillion for a money word, black for bank, grey for the rest."""
    if word in RIVER_WORDS:
        return plots.RIVER_COLOR
    if word in MONEY_WORDS:
        return plots.TOWN_COLOR
    return plots.BANK_COLOR if word == "bank" else plots.OTHER_COLOR


# ------------------------------------------------------------------ the numbers


@functools.cache
def data():
    """(training Batch, held-out Batch) of data/bank_senses.tsv, on the toy vectors."""
    kv = toy_vectors()
    rows = read_senses()
    parts = []
    for split in ("train", "held-out"):
        chosen = [(sense, text) for sense, s, text in rows if s == split]
        parts.append(make_batch([t for _, t in chosen], [s for s, _ in chosen], kv))
    return tuple(parts)


@functools.cache
def run(lr=LEARNING_RATE, steps=STEPS, seed=SEED):
    """The checkpoints of the lesson's training run (helpers.training.train_head), cached."""
    return tuple(train_head(data()[0], steps=steps, lr=lr, seed=seed, every=EVERY))


def example_batch(text):
    """A Batch of one sentence (its label does not matter for the weights)."""
    return make_batch([text], ["river"], toy_vectors())


@functools.lru_cache(maxsize=16)
def _read_only_batch(text):
    """example_batch(text), built once per sentence (the panel asks for it on every change);
    its arrays are read-only, so that no caller can change the cached copy."""
    batch = example_batch(text)
    for array in (batch.X, batch.lengths, batch.query, batch.y):
        array.setflags(write=False)
    return batch


def bank_row(params, text):
    """(tokens, bank's weights (n,), p(river)) of the head `params` on one sentence."""
    batch = _read_only_batch(text)
    cache = head_forward(params, batch)
    return batch.tokens[0], cache["weights"][0, 0], float(cache["p"][0])


def held_out(params):
    """(Batch, p (B,), accuracy, loss) of the head on the held-out sentences."""
    batch = data()[1]
    p = head_forward(params, batch)["p"]
    return batch, p, accuracy(p, batch.y), cross_entropy(p, batch.y)


def mistakes(params):
    """[(sentence, words kept, p(river), true sense)] of the held-out sentences the head gets wrong."""
    batch, p, _, _ = held_out(params)
    wrong = np.flatnonzero((p > 0.5) != (batch.y > 0.5))
    return [(batch.texts[i], batch.tokens[i], float(p[i]), "river" if batch.y[i] else "money") for i in wrong]


def top_is_sense_word(params):
    """(hits, total): held-out sentences with a sense word whose largest weight of bank is one."""
    batch = data()[1]
    weights = head_forward(params, batch)["weights"][:, 0]
    hits = total = 0
    for toks, row in zip(batch.tokens, weights):
        if set(toks) & set(SENSE_WORDS):
            total += 1
            hits += toks[int(np.argmax(row[:len(toks)]))] in SENSE_WORDS
    return hits, total


def asks_for(params):
    """(6,) bank's query read in the word-vector dimensions: x_bank W_q W_kᵀ / √d_k, so that
    bank's score for word j is this · x_j."""
    x = np.asarray(toy_vectors()["bank"])
    return x @ params["W_q"] @ params["W_k"].T / np.sqrt(params["W_q"].shape[1])


def demo_asks_for():
    """(6,) the same for the hand-made head of notebook 02 (d_k = 6)."""
    W_q, W_k, _ = demo_head()
    return np.asarray(toy_vectors()["bank"]) @ W_q @ W_k.T / np.sqrt(W_q.shape[1])


def score_matrix(params):
    """(6, 6) W_q W_kᵀ / √d_k: score = x_query · this · x_key, whatever d_k is."""
    return params["W_q"] @ params["W_k"].T / np.sqrt(params["W_q"].shape[1])


# ------------------------------------------------------------------ figures


def loss_figure(checkpoints=None, figsize=(7, 3.6)):
    """The loss on the training sentences and on the held-out ones, step by step."""
    checkpoints = checkpoints or run()
    steps = [c.step for c in checkpoints]
    fig, ax = plots.new_figure(figsize=figsize)
    ax.plot(steps, [c.loss for c in checkpoints], color=plots.RIVER_COLOR, linewidth=2.5, label="training")
    ax.plot(steps, [held_out(c.params)[3] for c in checkpoints], color=plots.TOWN_COLOR, linewidth=2,
            linestyle="--", label="held out")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_ylim(0, LOSS_LIMIT)
    ax.legend()
    fig.tight_layout()
    return fig


def rows_figure(checkpoints=None, figsize=(7, 6.2)):
    """bank's weights in the two example sentences: at step 0 (grey) and after training (coloured)."""
    checkpoints = checkpoints or run()
    fig, axes = plots.new_figure(2, 1, figsize=figsize)
    for ax, (name, text) in zip(axes, EXAMPLES.items()):
        tokens, before, _ = bank_row(checkpoints[0].params, text)
        _, after, _ = bank_row(checkpoints[-1].params, text)
        x = np.arange(len(tokens))
        ax.bar(x - 0.2, before, 0.4, color="#D0D0D0")
        colours = [sense_colour(t) for t in tokens]
        bars = ax.bar(x + 0.2, after, 0.4, color=colours)
        for bar, v in zip(bars, after):
            ax.text(bar.get_x() + bar.get_width() / 2, v + 0.01, f"{v:.2f}", ha="center", va="bottom",
                    fontsize=plots.SMALL_FONT - 1)
        ax.set_xticks(x, [display_word(t) for t in tokens])
        ax.set_ylim(0, 0.45)
        ax.set_ylabel("weight")
        ax.set_title(f"bank's weights in the {name}")
        sense = plots.RIVER_COLOR if name.startswith("river") else plots.TOWN_COLOR
        ax.legend(handles=[plots.mpl.patches.Patch(color="#D0D0D0", label=f"step {checkpoints[0].step}"),
                           plots.mpl.patches.Patch(color=sense, label=f"step {checkpoints[-1].step}")],
                  loc="upper left")
    fig.tight_layout()
    return fig


def heads_figure(params=None, figsize=(7, 3.9)):
    """W_q W_kᵀ / √d_k of the learned head beside the hand-made head of notebook 02."""
    params = params or run()[-1].params
    W_q, W_k, _ = demo_head()
    fig, axes = plots.new_figure(1, 2, figsize=figsize)
    short = [d.split()[0] for d in DIMENSIONS]
    for ax, matrix, title in ((axes[0], score_matrix(params), "learned"),
                              (axes[1], W_q @ W_k.T / np.sqrt(6), "hand-made (02)")):
        plots.signed_heatmap(ax, matrix, short, short, title=title, colorbar=False, vmin=-3, vmax=3,
                             xlabel="key dimension", ylabel="query dimension" if ax is axes[0] else "")
    fig.tight_layout()
    return fig


def asks_figure(params=None, figsize=(7, 3.6)):
    """What bank's query asks for, dimension by dimension: learned and hand-made."""
    params = params or run()[-1].params
    fig, ax = plots.new_figure(figsize=figsize)
    x = np.arange(len(DIMENSIONS))
    ax.bar(x - 0.2, asks_for(params), 0.4, color=plots.RIVER_COLOR, label="learned")
    ax.bar(x + 0.2, demo_asks_for(), 0.4, color=plots.OTHER_COLOR, label="hand-made (02)")
    ax.axhline(0, color="#999999", linewidth=1)
    ax.set_xticks(x, DIMENSIONS, rotation=20, ha="right")
    ax.set_ylabel("score per unit")
    ax.set_title("what bank's query asks for")
    ax.legend()
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ the live panel


@functools.cache
def _example(text):
    tokens = example_batch(text).tokens[0]
    return tokens, [display_word(t) for t in tokens]


def training_scene(checkpoints, index, total_steps=STEPS):
    """(Scene, readout) of checkpoint `index` of a run: the loss curve so far and bank's
    weights in the two example sentences."""
    cp = checkpoints[index]
    scene = Scene()
    curve(scene, "loss", [c.step for c in checkpoints], [c.loss for c in checkpoints], upto=index,
          xlim=(0, total_steps), ylim=(0, LOSS_LIMIT), xticks=range(0, total_steps + 1, 50),
          yticks=(0, 0.2, 0.4, 0.6, 0.8), title=f"training loss {cp.loss:.3f} at step {cp.step}",
          xlabel="step", ylabel="loss", height=230)
    lines = [f"step {cp.step}: loss {cp.loss:.3f}, training accuracy {cp.accuracy:.0%}"]
    for name, text in EXAMPLES.items():
        tokens, labels = _example(text)
        _, row, p = bank_row(cp.params, text)
        heatmap(scene, name.split()[0], row[None, :], ["bank"], labels, title=f"{name}: p(river) {p:.2f}",
                cell=50, numbers="{:.2f}", vmax=0.5, col_colours=[sense_colour(t) for t in tokens])
        lines.append(f"{name}: bank looks at {top_words(tokens, row, 2)}; p(river) {p:.2f}")
    return scene, "\n".join(lines)


class TrainingPanel(LivePanel):
    """The step slider and learning rate of a LivePanel, plus a Train button and a progress bar.

    `train()` (what the button does) runs gradient descent in the kernel from the same
    seeded start and redraws the picture every `draw_every` checkpoints as it goes; then the
    slider replays the new run. `pause` seconds after each drawing let a class watch.
    """

    def __init__(self, steps=STEPS, pause=0.03, draw_every=1):
        self.steps, self.pause, self.draw_every = steps, pause, draw_every
        self.runs = {}
        controls = {"step": int_slider("step", steps, 0, steps, step=EVERY),
                    "rate": toggle("learning rate", [(f"{r:g}", r) for r in LEARNING_RATES], LEARNING_RATE)}
        super().__init__(controls, self._draw_step, title="Gradient descent learns the head")
        self.train_button = W.Button(description="Train", icon="play", button_style="success",
                                     layout=W.Layout(width="110px"))
        self.train_button.on_click(lambda _: self.train())
        self.progress = W.IntProgress(value=steps, min=0, max=steps, description="steps",
                                      style={"description_width": "50px"}, layout=W.Layout(width="300px"))

    def checkpoints(self, rate):
        """The run with learning rate `rate`: trained here by the button, else the cached one."""
        return self.runs.get(rate) or run(rate, self.steps)

    def _draw_step(self, step, rate):
        return training_scene(self.checkpoints(rate), step // EVERY, self.steps)

    def train(self):
        """Train from step 0 with the chosen learning rate, drawing as it goes; returns the readout."""
        rate = self.controls["rate"].value
        made = []
        self.train_button.disabled = True
        for control in self.controls.values():
            control.disabled = True

        def show(checkpoint):
            made.append(checkpoint)
            self.progress.value = checkpoint.step
            if len(made) % self.draw_every == 0 or checkpoint.step == self.steps:
                scene, self.text = training_scene(made, len(made) - 1, self.steps)
                self.view.show(scene)
                self.readout.value = readout_markup(self.text)
                if self.pause:
                    time.sleep(self.pause)

        try:
            self.runs[rate] = tuple(train_head(data()[0], steps=self.steps, lr=rate, seed=SEED, every=EVERY,
                                               on_checkpoint=show))
        finally:
            self.train_button.disabled = False
            for control in self.controls.values():
                control.disabled = False
        self.controls["step"].value = self.steps  # (no redraw if it was already there)
        return self.refresh()

    def widget(self):
        if self._box is None:
            box = super().widget()
            row = W.HBox([self.train_button, self.progress], layout=W.Layout(flex_flow="row wrap",
                                                                              max_width="100%"))
            box.children = (box.children[:-3] + (row,) + box.children[-3:])
        return self._box


def training_panel(pause=0.03):
    """The lesson's panel: Train, a progress bar, the step slider, the learning rate."""
    return TrainingPanel(pause=pause)


def panels():
    """Notebook 08's live panels, by name, built as the notebook builds them."""
    return {"training": training_panel(pause=0.0)}
