"""Notebook 04, values and context: the lesson's numbers, static figures and live panels.

The story: each word hands over a value (the demo head keeps its meaning, W_v = I),
*bank*'s output is the weighted sum of the values, so the same *bank* lands near the
river words in one sentence and toward the town side in the other.

    numbers        CONTEXT_TEMPLATE / CONTEXT_WORDS, centres, bank_map_words, bank_map,
                   context_attention (the context-word panel), sentence_attention (the text box)
    colours        meaning_colour: the series' word colours, with the lesson's money and water words
    static figures weight_recipe, mark_centres, bank_shift_map (matplotlib)
    live panels    bank_context_panel, sentence_panel (helpers.panels); panels() builds both

Both panels compute with helpers.attention.scaled_dot_product_attention. Their knobs
follow the series: sharpness multiplies the lesson's W_q (1 = the head of the notebook),
temperature divides the scores (notebook 03).
"""

from __future__ import annotations

from ..embeddings import SHORT_DIMENSIONS

import math

import numpy as np

from .. import plots
from ..attention import demo_head, scaled_dot_product_attention
from ..embeddings import (CONTRAST_SENTENCE, RIVER_CLUSTER, SENTENCE, TOWN_CLUSTER, UnknownWordError,
                          cosine_similarity, display_word, project_2d, sentence_matrix, tokenize,
                          top_words, toy_vectors)
from ..panels import LivePanel, Scene, attrs_markup, dropdown, slider, text_box
from ..panels.pieces import FONT_PX, TITLE_PX
from ..panels.pieces.bars import bars
from ..panels.pieces.heatmap import colourbar, heatmap, heatmap_size, text_width
from ..panels.pieces.wordmap import WordMap
from ..panels.scene import element

#: The sentence of bank_context_panel; {word} is the context word the picker puts in.
CONTEXT_TEMPLATE = "Tom is going to the {word} bank."
#: The picker's context words: water words first, then money words, then town places.
CONTEXT_WORDS = ("river", "lake", "sea", "money", "cash", "deposit",
                 "hospital", "post office", "restaurant")
WATER_WORDS = ("river", "lake", "sea")
MONEY_WORDS = ("money", "cash", "deposit")
#: The text box shows sentences of at most this many words.
MAX_WORDS = 12


# ------------------------------------------------------------------ the numbers


def centres(vectors=None):
    """{"river": mean vector of the river cluster (6,), "town": of the town cluster}."""
    vectors = toy_vectors() if vectors is None else vectors
    return {"river": np.mean([vectors[w] for w in RIVER_CLUSTER], axis=0),
            "town": np.mean([vectors[w] for w in TOWN_CLUSTER], axis=0)}


def bank_map_words(vectors=None):
    """The words of notebook 04's 2-D map: both sentences' words, then both clusters."""
    vectors = toy_vectors() if vectors is None else vectors
    words = []
    for text in (SENTENCE, CONTRAST_SENTENCE):
        words += sentence_matrix(text, vectors)[0]
    return list(dict.fromkeys(words + list(RIVER_CLUSTER) + list(TOWN_CLUSTER)))


def bank_map(vectors=None):
    """The notebook's 2-D map (embeddings.project_2d fitted to bank_map_words)."""
    vectors = toy_vectors() if vectors is None else vectors
    return project_2d(vectors, bank_map_words(vectors))


def context_attention(word, sharpness=1.0, vectors=None, template=CONTEXT_TEMPLATE):
    """(tokens, bank's weights (n,), bank's output (6,)) in `template` with `word` in the gap.

    The head is demo_head() with W_q = sharpness x its W_q: every score is multiplied
    by `sharpness` (1 = the notebook's head, 0 = every word the same weight).
    """
    vectors = toy_vectors() if vectors is None else vectors
    W_q, W_k, W_v = demo_head()
    tokens, X = sentence_matrix(template.format(word=word), vectors)  # (n, 6)
    output, weights = scaled_dot_product_attention(X @ (sharpness * W_q), X @ W_k, X @ W_v)
    b = tokens.index("bank")
    return tokens, weights[b], output[b]


def sentence_attention(text, temperature=1.0, vectors=None, max_words=MAX_WORDS):
    """(tokens, weights (n, n), outputs (n, 6), focus) of the demo head on the student's `text`.

    weights = softmax(Q Kᵀ / sqrt(d_k) / temperature); focus is the index of *bank*, or
    the last word without it. Unknown words raise UnknownWordError, empty text ValueError,
    more than `max_words` words ValueError: messages a student can act on.
    """
    vectors = toy_vectors() if vectors is None else vectors
    tokens, X = sentence_matrix(text, vectors)
    if len(tokens) > max_words:
        raise ValueError(f"that sentence has {len(tokens)} words; this box shows at most {max_words}. "
                         f"Try a shorter one.")
    W_q, W_k, W_v = demo_head()
    output, weights = scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, temperature=temperature)
    focus = tokens.index("bank") if "bank" in tokens else len(tokens) - 1
    return tokens, weights, output, focus


def meaning_colour(token):
    """The colour of a word in this lesson's pictures.

    The series colours a word by its meaning side: the river cluster blue, the town
    cluster vermillion, *bank* black, words of neither side grey (plots.word_color).
    This lesson sorts its context words into the two sides as well: the water words pull
    *bank* to the river side and the money words to the town side (the notebook says so and
    tests/test_nb04.py checks it at every sharpness), so they take that side's colour here,
    in the maps and in the bars alike. The little words (is, to, the) stay grey.
    """
    if token in WATER_WORDS:
        return plots.RIVER_COLOR
    if token in MONEY_WORDS:
        return plots.TOWN_COLOR
    return plots.word_color(token)


# ------------------------------------------------------------------ static figures


def weight_recipe(ax, tokens, weights_row, *, query="bank", min_label=0.1, title=None):
    """One horizontal bar split into the query's attention weights, biggest first.

    Reads like a recipe: "the new bank = 0.35 river + 0.26 fish + ...". Segments
    of at least `min_label` carry the word and its weight; the small ones are
    summed in the title line. Returns the list of (word, weight) in bar order.
    """
    weights_row = np.asarray(weights_row, dtype=float)
    left, parts = 0.0, []
    for i in np.argsort(-weights_row, kind="stable"):
        w, word = float(weights_row[i]), tokens[i]
        color = meaning_colour(word)
        ax.barh(0, w, left=left, height=0.6, color=color, edgecolor="white", linewidth=1.5,
                alpha=1.0 if color != plots.OTHER_COLOR else 0.55)
        if w >= min_label:
            ax.text(left + w / 2, 0, f"{display_word(word)}\n{w:.2f}", ha="center", va="center",
                    fontsize=plots.FONT, color="white" if color != plots.OTHER_COLOR else "black",
                    fontweight="bold")
        parts.append((word, w))
        left += w
    small = [(word, w) for word, w in parts if w < min_label]
    ax.set_xlim(0, max(left, 1.0))
    ax.set_ylim(-0.5, 0.5)
    ax.set_yticks([0], [f"{display_word(query)}\nafter\nattention"])
    ax.set_xlabel("share of the new vector (the weights add up to 1)")
    ax.spines[["left"]].set_visible(False)
    if small:
        note = (f"the {len(small)} thin grey slices on the right are the other words, "
                f"{sum(w for _, w in small):.2f} together")
        ax.text(1.0, -0.42, note, ha="right", va="center", fontsize=plots.SMALL_FONT,
                transform=ax.get_yaxis_transform())
    if title:
        ax.set_title(title)
    return parts


CENTRE_MARKER_SIZE = 10  # points: a thin hollow X, smaller than a cluster word's dot (11)


def mark_centres(ax, map2d, centres, *, legend=True):
    """Draw each cluster centre {label: (vector (d,), colour)} as a small hollow X; labels go to a legend.

    Thin and hollow, drawn under the words' dots, so a word that sits on a centre
    (fish sits almost on the river centre) stays visible.
    """
    for label, (vector, color) in centres.items():
        x, y = map2d(vector)
        ax.plot([x], [y], "X", markersize=CENTRE_MARKER_SIZE, markerfacecolor="none",
                markeredgecolor=color, markeredgewidth=1.5, zorder=3.5, linestyle="none", label=label)
    if legend:
        ax.legend(loc="lower right", framealpha=0.9, title="X = average of a cluster",
                  title_fontsize=plots.SMALL_FONT, fontsize=plots.SMALL_FONT)


def bank_shift_map(ax, map2d, bank_before, bank_after, *, words=None, centres=None, title=None,
                   limits=None, label="bank after attention"):
    """The 2-D map with *bank* before attention and a star + arrow where it lands after.

    `bank_before`, `bank_after`: vectors (d,); `centres`: {label: (vector, colour)}
    drawn as X marks. Words take their meaning_colour (the money words the town colour).
    Returns the EmbeddingMap; the star is its marker "bank_after".
    """
    if limits is None:
        extra = [map2d(bank_after)] + [map2d(v) for v, _ in (centres or {}).values()]
        limits = plots.map_limits(np.vstack([map2d.coords] + extra), (0.3, 0.8, 0.45, 0.3))
    emap = plots.EmbeddingMap(ax, map2d, words, title=title, limits=limits)
    for word, (dot, text) in emap.points.items():
        if meaning_colour(word) != plots.word_color(word):
            dot.set_color(meaning_colour(word))
            text.set_color(meaning_colour(word))
    if centres:
        mark_centres(ax, map2d, centres)
    emap.add_marker("bank_after", bank_after, label=label, arrow_from=bank_before)
    star_label = emap.markers["bank_after"][1]
    along_arrow = [map2d(bank_before + t * (bank_after - bank_before)) for t in np.linspace(0.15, 1, 12)]
    plots.spread_labels(emap, [map2d(v) for v, _ in (centres or {}).values()] + along_arrow,
                        fixed_texts=[star_label])
    return emap


# ------------------------------------------------------------------ the live word map

#: Label places tried around a dot, in px (dx, dy of the text's start or end and baseline):
#: right then left of the dot, level first, then one, two, three lines up or down.
LABEL_TRIES = tuple((dx, dy) for step in (0, 1, 2, 3) for dy in ((-4,) if step == 0 else
                    (-4 - step * (FONT_PX + 1), -4 + step * (FONT_PX + 1))) for dx in (11, -11))


def label_box(x, y, dx, dy, label):
    """The px box (x0, y0, x1, y1) of a map label placed at (x + dx, y + dy) (end-anchored if dx < 0)."""
    width = text_width(label)
    x0 = x + dx - width if dx < 0 else x + dx
    return (x0, y + dy - 0.78 * FONT_PX, x0 + width, y + dy + 0.22 * FONT_PX)


def _overlap(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def place_labels(points, labels, inside, obstacles=()):
    """{label: (dx, dy)}: for each dot (px) the first place of LABEL_TRIES whose box stays
    inside `inside` (x0, y0, x1, y1) and overlaps no placed label, no dot and no obstacle box.
    Crowded words choose first; a word with no free place takes the least crowded one."""
    dots = [(x - 6, y - 6, x + 6, y + 6) for x, y in points] + list(obstacles)
    crowd = [sum(np.hypot(x - u, y - v) < 60 for u, v in points) for x, y in points]
    placed, offsets = [], {}
    for i in sorted(range(len(points)), key=lambda i: -crowd[i]):
        x, y = points[i]
        best, best_hits = None, None
        for dx, dy in LABEL_TRIES:
            box = label_box(x, y, dx, dy, labels[i])
            if not (inside[0] <= box[0] and box[2] <= inside[2] and inside[1] <= box[1] and box[3] <= inside[3]):
                continue
            hits = sum(_overlap(box, other) for other in placed + dots)
            if best_hits is None or hits < best_hits:
                best, best_hits = ((dx, dy), box), hits
            if hits == 0:
                break
        offsets[labels[i]] = best[0]
        placed.append(best[1])
    return offsets


def star_path(x, y, r=11.0):
    """An SVG path of a five-pointed star centred on (x, y) px."""
    return "M" + "L".join(f"{x + radius * dx:.1f},{y - radius * dy:.1f}"
                          for (dx, dy), radius in zip(_STAR, (r, r * 0.45) * 5)) + "Z"


_STAR = [(math.cos(math.pi / 2 + k * math.pi / 5), math.sin(math.pi / 2 + k * math.pi / 5)) for k in range(10)]


MAP_LEGEND = (("★", "bank after attention", plots.OUTPUT_COLOR), ("○", "the context word", plots.OUTPUT_COLOR),
              ("✕", "river centre", plots.RIVER_COLOR), ("✕", "town centre", plots.TOWN_COLOR))


class ContextMap:
    """The fixed part of the context panel's map: every word of the map and of the picker,
    the two centres, labels placed clear of each other, a legend in two rows."""

    def __init__(self, vectors, words=CONTEXT_WORDS):
        self.vectors, self.map2d, self.centres = vectors, bank_map(vectors), centres(vectors)
        extra = [tokenize(w)[0] for w in words if tokenize(w)[0] not in self.map2d.words]
        self.tokens = list(self.map2d.words) + extra  # lake, sea, cash join the map, not its fit
        coords = np.array([self.map2d(vectors[t]) for t in self.tokens])
        self.wordmap = WordMap(plots.map_limits(coords, (0.12, 0.75, 0.1, 0.1)), width=560, height=460,
                               title="where bank lands", legend_height=44)
        m = self.wordmap
        self.px = {t: m.px(xy) for t, xy in zip(self.tokens, coords)}
        crosses = [m.px(self.map2d(c)) for c in self.centres.values()]
        labels = [display_word(t) for t in self.tokens]
        self.offsets = place_labels([self.px[t] for t in self.tokens], labels,
                                    (m.pad + 2, m.top + 2, m.width - m.pad - 2, m.bottom - 2),
                                    [(x - 8, y - 8, x + 8, y + 8) for x, y in crosses])
        colours = [meaning_colour(t) for t in self.tokens]
        self.markup = (m.frame(coords, colours, labels, label_offsets=self.offsets)
                       + "".join(m.cross(self.map2d(c), colour) for c, colour in
                                 zip(self.centres.values(), (plots.RIVER_COLOR, plots.TOWN_COLOR)))
                       + self._leaders() + self._legend())

    def label_boxes(self):
        """{label: px box} of the word labels as drawn (for tests: none overlap)."""
        return {display_word(t): label_box(*self.px[t], *self.offsets[display_word(t)], display_word(t))
                for t in self.tokens}

    def _leaders(self):
        """Thin lines from a dot to its label when the label had to move up or down."""
        parts = []
        for t in self.tokens:
            label = display_word(t)
            (x, y), (dx, dy) = self.px[t], self.offsets[label]
            if dy != LABEL_TRIES[0][1]:
                box = label_box(x, y, dx, dy, label)
                end_x, end_y = (box[0] - 1 if dx > 0 else box[2] + 1), (box[1] + box[3]) / 2
                parts.append(element("line", attrs_markup(x1=x, y1=y, x2=end_x, y2=end_y,
                                                          stroke=meaning_colour(t), stroke_width=1)))
        return "".join(parts)

    def _legend(self):
        m, parts = self.wordmap, []
        for i, (symbol, text, colour) in enumerate(MAP_LEGEND):
            x, y = m.pad + (i % 2) * 270, m.height - 26 + (i // 2) * 20
            parts.append(element("text", attrs_markup(x=x, y=y, font_size=FONT_PX - 1, fill=colour),
                                 f"{symbol} {text}"))
        return "".join(parts)

    def draw(self, scene, context_token, bank_after):
        """The map tile: the fixed markup, then the keyed arrow, star and ring."""
        m = self.wordmap
        t = m.tile(scene, self.markup)
        m.arrow(scene, t, "arrow", self.map2d(self.vectors["bank"]), self.map2d(bank_after), plots.OUTPUT_COLOR)
        x, y = m.px(self.map2d(bank_after))
        scene.add(t, "path", key="star", d=star_path(x, y), fill=plots.OUTPUT_COLOR, stroke="#000000",
                  stroke_width=1)
        m.point(scene, t, "ring", self.map2d(self.vectors[context_token]), plots.OUTPUT_COLOR, r=9, ring=True)
        return t


# ------------------------------------------------------------------ live panels


def bank_context_panel(word="river", sharpness=1.0, *, words=CONTEXT_WORDS, vectors=None):
    """Pick the context word of CONTEXT_TEMPLATE; watch *bank* after attention move on the map.

    Controls: `word` (the context words) and `sharpness` (0..3, W_q = sharpness x demo_head's W_q).
    Picture: the 2-D map of the notebook with the star (bank after attention), the arrow
    from bank, a ring on the context word; below, bank's weights as bars.
    Readout: the sentence, bank's top two weights, bank's cosine with both centres before ->
    after attention, and which centre it is now closer to.
    """
    vectors = toy_vectors() if vectors is None else vectors
    cmap = ContextMap(vectors, words)
    before = {name: cosine_similarity(vectors["bank"], c) for name, c in cmap.centres.items()}
    longest = max(text_width(display_word(t)) for w in words for t in tokenize(CONTEXT_TEMPLATE.format(word=w)))

    def draw(word, sharpness):
        tokens, w, after = context_attention(word, sharpness, vectors)
        ctx = tokenize(word)[0]
        scene = Scene()
        cmap.draw(scene, ctx, after)
        bars(scene, "w", w, [display_word(t) for t in tokens], colours=[meaning_colour(t) for t in tokens],
             title="bank's attention weights", ylabel="weight", width=560, height=230, numbers="{:.2f}",
             longest=longest)
        now = {name: cosine_similarity(after, c) for name, c in cmap.centres.items()}
        return scene, (f"{CONTEXT_TEMPLATE.format(word=word)}   (sharpness {sharpness:.1f})\n"
                       f"bank attends most to: {top_words(tokens, w, 2)}\n"
                       f"cosine with the river centre: {before['river']:.2f} -> {now['river']:.2f}\n"
                       f"cosine with the town centre:  {before['town']:.2f} -> {now['town']:.2f}\n"
                       f"bank after attention is closer to the {max(now, key=now.get)} centre")

    controls = {"word": dropdown("context word", list(words), word),
                "sharpness": slider("sharpness", sharpness, min=0.0, max=3.0, step=0.1, readout_format=".1f")}
    return LivePanel(controls, draw, title="Change the context word: where does bank go?")


def sentence_scene(tokens, weights, outputs, focus, temperature, longest, cell=26):
    """The text box's picture: the weights heatmap (n, n) and the outputs heatmap (n, 6), each
    with its colour bar; the focus word's row framed. Sized from `longest` (the longest word
    of the table), so that a sentence of the same length keeps the structure (a patch)."""
    n = len(tokens)
    labels = [display_word(t) for t in tokens]
    colours = [meaning_colour(t) for t in tokens]
    scene = Scene()
    for key, matrix, cols, title, signed in (
            ("w", weights, labels, f"weights, T = {temperature:.2f}", None),
            ("o", outputs, list(SHORT_DIMENSIONS), "outputs: weights @ V", 1.0)):
        width, height, left, top = heatmap_size([longest] * n, [longest] * n if key == "w" else cols, cell)
        height = max(height, top + 150)  # room for a colour bar's three ticks
        width = max(width, math.ceil(left + len(cols) * cell / 2 + text_width(title, TITLE_PX) / 2 + 4))
        t = heatmap(scene, key, matrix, labels, cols, title=title, cell=cell, signed=signed,
                    row_colours=colours, col_colours=colours if key == "w" else None,
                    size=(width, height, left, top))
        scene.add(t, "rect", key=f"{key}.focus", x=left - 1.5, y=top + focus * cell - 1.5,
                  width=len(cols) * cell + 2, height=cell + 2, fill="none", stroke="#000000",
                  stroke_width=2.5)
        span = max(n * cell, 110)
        colourbar(scene, height, top=top, bottom=height - top - span,
                  ticks=(0.0, 0.5, 1.0) if signed is None else (-1.0, 0.0, 1.0),
                  label="weight" if signed is None else "value", signed=signed)
    return scene


def sentence_panel(vectors=None, sentence=None, *, temperature=1.0, max_words=MAX_WORDS,
                   temperatures=(0.1, 5.0)):
    """A text box for the student's own sentence, and a temperature slider.

    Picture: the demo head's weights softmax(Q Kᵀ / sqrt(d_k) / T) for every pair of
    words, and every word's output (weights @ V, the 6 numbers of its new vector); the
    row of *bank* (or, without bank, of the last word) is framed. Unknown words, empty
    text or more than `max_words` words show a message and keep the last picture.
    """
    vectors = toy_vectors() if vectors is None else vectors
    longest = max((display_word(w) for w in vectors.key_to_index), key=text_width)  # sizes the tiles

    def draw(sentence, temperature):
        tokens, w, out, focus = sentence_attention(sentence, temperature, vectors, max_words)
        words = [display_word(t) for t in tokens]
        n = len(tokens)
        return (sentence_scene(tokens, w, out, focus, temperature, longest),
                f"{n} word{'s' if n > 1 else ''}: {' '.join(words)}\n"
                f"{words[focus]} attends most to: {top_words(tokens, w[focus], 3)}   (T = {temperature:.2f})")

    controls = {"sentence": text_box("your sentence", SENTENCE if sentence is None else sentence,
                                     placeholder="type a sentence"),
                "temperature": slider("temperature", temperature, min=temperatures[0], max=temperatures[1],
                                      step=0.05)}
    return LivePanel(controls, draw, title="Type your own sentence",
                     catch=(UnknownWordError, ValueError, TypeError))


def panels(vectors=None):
    """Notebook 04's live panels, built as the notebook builds them, by name."""
    vectors = toy_vectors() if vectors is None else vectors
    return {"context": bank_context_panel(vectors=vectors), "sentence": sentence_panel(vectors)}
