"""Spike: notebook 05's heatmaps per head and notebook 04's context word as SVG scenes.

The numbers come from helpers (multi_head_attention, scaled_dot_product_attention,
project_2d, cosine_similarity), as in helpers.widgets; only the drawing is new.
`view="patch"` is design (a) (anywidget + keyed patches), `view="html"` design (b).
"""

from __future__ import annotations

import functools

import ipywidgets as W
import numpy as np
from matplotlib import colormaps

from helpers import plots
from helpers.attention import demo_head, multi_head_attention, scaled_dot_product_attention
from helpers.embeddings import (CONTRAST_SENTENCE, RIVER_CLUSTER, SENTENCE, TOWN_CLUSTER,
                                cosine_similarity, display_word, project_2d, sentence_matrix,
                                tokenize, toy_vectors)
from helpers.lessons.multi_head_attention import FLAT_SPREAD
from helpers.widgets import CONTEXT_TEMPLATE, CONTEXT_WORDS, bank_map_words, slider

from .livepanel import LivePanel, Scene, attrs_markup

_VIRIDIS = ["#%02x%02x%02x" % tuple(int(round(255 * c)) for c in colormaps["viridis"](i / 255)[:3])
            for i in range(256)]


_LUT = np.array(_VIRIDIS)


def weight_colour(w):
    """viridis for a weight in 0..1 (NaN never reaches here: the maths rejects it)."""
    return _VIRIDIS[int(round(min(max(float(w), 0.0), 1.0) * 255))]


def weight_colours(matrix):
    """weight_colour of every entry, as a flat list (one numpy lookup)."""
    return _LUT[np.rint(np.clip(matrix, 0.0, 1.0) * 255).astype(int)].ravel().tolist()


def _cached(fn):
    return functools.lru_cache(maxsize=64)(fn)


# ------------------------------------------------------------------ drawing pieces

@_cached
def _heatmap_layout(key, n, cell, left, top):
    """Keys and fixed attribute strings of a heatmap's cells and labels (computed once per size)."""
    cells = [(f"{key}.{i}.{j}", attrs_markup(x=left + j * cell, y=top + i * cell, width=cell, height=cell))
             for i in range(n) for j in range(n)]
    rows = [(f"{key}.r{i}", attrs_markup(x=left - 4, y=top + i * cell + cell * 0.7, text_anchor="end",
                                         font_size=12)) for i in range(n)]
    cols = []
    for i in range(n):
        cx, cy = left + i * cell + cell * 0.65, top + n * cell + 5
        cols.append((f"{key}.c{i}", attrs_markup(x=cx, y=cy, text_anchor="end", font_size=12,
                                                 transform=f"rotate(-60 {cx:.1f} {cy:.1f})")))
    title = attrs_markup(x=left + n * cell / 2, y=15, text_anchor="middle", font_size=13)
    return cells, rows, cols, title


def heatmap_tile(scene, key, matrix, labels, title, cell=22, shown=True):
    """One heatmap tile (keyed `key`, hideable): n x n cells keyed f"{key}.{i}.{j}" (fill),
    word labels keyed on both sides, a keyed title."""
    n = len(labels)
    left, top = 78, 24
    if not shown:  # a hidden head: the same parts every time (shared, never changed)
        scene.tiles.append([left + n * cell + 6, top + n * cell + 74, _hidden_parts(key, tuple(labels), cell),
                            key, False])
        return
    t = scene.tile(left + n * cell + 6, top + n * cell + 74, key=key, shown=shown)
    cells, rows, cols, title_attrs = _heatmap_layout(key, n, cell, left, top)
    scene.add(t, "text", key=f"{key}.t", text=title, static=title_attrs)
    scene.add_keyed(t, "rect", cells, "fill", weight_colours(matrix))
    scene.add_keyed(t, "text", rows, texts=labels)
    scene.add_keyed(t, "text", cols, texts=labels)


@_cached
def _hidden_parts(key, labels, cell):
    s = Scene()
    heatmap_tile(s, key, np.zeros((len(labels), len(labels))), list(labels), "", cell)
    return s.parts(0)


@_cached
def _colourbar_markup(height, top):
    s = Scene()
    t = s.tile(62, height)
    steps, span = 20, height - top - 74
    for i in range(steps):
        s.add(t, "rect", x=6, y=top + span * i / steps, width=14, height=span / steps + 0.5,
              fill=weight_colour(1 - (i + 0.5) / steps))
    for v in (0.0, 0.5, 1.0):
        s.add(t, "text", text=f"{v:g}", x=24, y=top + span * (1 - v) + 4, font_size=12)
    s.add(t, "text", text="weight", x=4, y=top + span + 18, font_size=12)
    return "".join(s.parts(0))


def colourbar_tile(scene, height, top=24):
    scene.raw(scene.tile(62, height), _colourbar_markup(height, top))


@_cached
def _bars_frame(key, n, title, ylabel, width, height):
    left, right, top, bottom = 46, 8, 24, 86
    s = Scene()
    t = s.tile(width, height)
    plot_h = height - top - bottom
    s.add(t, "text", text=title, x=left + (width - left - right) / 2, y=15, text_anchor="middle", font_size=13)
    for v in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - v)
        s.add(t, "line", x1=left, x2=width - right, y1=y, y2=y, stroke="#dddddd")
        s.add(t, "text", text=f"{v:g}", x=left - 5, y=y + 4, text_anchor="end", font_size=12)
    s.add(t, "text", text=ylabel, x=12, y=top + plot_h / 2, text_anchor="middle", font_size=12,
          transform=f"rotate(-90 12 {top + plot_h / 2:.1f})")
    step = (width - left - right) / n
    bars, names = [], []
    for i in range(n):
        bars.append((f"{key}.b{i}", attrs_markup(x=left + i * step + 2, width=step - 4)))
        cx, cy = left + (i + 0.5) * step + 4, top + plot_h + 8
        names.append((f"{key}.l{i}", attrs_markup(x=cx, y=cy, text_anchor="end", font_size=12,
                                                  transform=f"rotate(-60 {cx:.1f} {cy:.1f})")))
    return "".join(s.parts(0)), bars, names, top, plot_h


def bars_tile(scene, key, values, labels, colours, title, ylabel, width=290, height=330):
    """Bars keyed f"{key}.b{i}" (y, height, fill) and f"{key}.l{i}" (their word)."""
    frame, bars, names, top, plot_h = _bars_frame(key, len(values), title, ylabel, width, height)
    t = scene.tile(width, height)
    scene.raw(t, frame)
    for (k, static), v, colour in zip(bars, values, colours):
        h = plot_h * min(max(float(v), 0.0), 1.0)
        scene.add(t, "rect", key=k, static=static, y=top + plot_h - h, height=h, fill=colour)
    for (k, static), word in zip(names, labels):
        scene.add(t, "text", key=k, text=word, static=static)


# ------------------------------------------------------------------ notebook 05

def multi_head_panel(vectors, W_q, W_k, W_v, W_o, head_counts=(1, 2, 3, 6), view="patch"):
    """Like helpers.widgets.multi_head_panel: one heatmap per head, the same controls and readout."""
    sentences = {"river": SENTENCE, "money": CONTRAST_SENTENCE}
    matrices = {key: sentence_matrix(text, vectors) for key, text in sentences.items()}
    max_heads = max(head_counts)
    n = len(matrices["river"][0])
    blank = np.zeros((n, n))

    def choice(row, tokens):
        if row.max() - row.min() < FLAT_SPREAD:
            return f"all about {row.mean():.2f}"
        return f"{display_word(tokens[row.argmax()])} {row.max():.2f}"

    def draw(num_heads, sentence, sharpness):
        tokens, X = matrices[sentence]
        _, weights = multi_head_attention(X, sharpness * W_q, W_k, W_v, W_o, num_heads)  # (h, n, n)
        d_k = X.shape[1] // num_heads
        labels = [display_word(t) for t in tokens]
        scene = Scene()
        lines = [f"{num_heads} head(s), d_k = {d_k}, sharpness {sharpness:.2f}, sentence: {sentences[sentence]}"]
        bank, going = tokens.index("bank"), tokens.index("going")
        for h in range(max_heads):  # all of them, unused ones hidden: a head count is a patch
            if h >= num_heads:
                heatmap_tile(scene, f"h{h}", blank, labels, "", shown=False)
                continue
            cols = f"col {h * d_k}" if d_k == 1 else f"cols {h * d_k}-{(h + 1) * d_k - 1}"
            heatmap_tile(scene, f"h{h}", weights[h], labels, f"head {h} ({cols})")
            lines.append(f"head {h}: bank -> {choice(weights[h, bank], tokens)}, "
                         f"going -> {choice(weights[h, going], tokens)}")
        colourbar_tile(scene, scene.tiles[0][1])
        return scene, "\n".join(lines)

    controls = {
        "num_heads": W.ToggleButtons(options=list(head_counts), value=2, description="heads",
                                     style={"button_width": "48px", "description_width": "110px"}),
        "sentence": W.Dropdown(options=[(text, key) for key, text in sentences.items()], value="river",
                               description="sentence", style={"description_width": "110px"},
                               layout=W.Layout(width="480px", max_width="100%")),
        "sharpness": slider("sharpness × W_q", 1.0, min=0.0, max=2.0, step=0.1),
    }
    return LivePanel(controls, draw, view=view, title="One heatmap per head")


# ------------------------------------------------------------------ notebook 04

def bank_context_panel(word="river", sharpness=4.0, *, template=CONTEXT_TEMPLATE, words=CONTEXT_WORDS,
                       vectors=None, view="patch"):
    """Like helpers.widgets.bank_context_panel: the 2-D map with bank's move, and bank's weights."""
    vectors = toy_vectors() if vectors is None else vectors
    W_q0, W_k, W_v = demo_head()
    centres = {"river": np.mean([vectors[w] for w in RIVER_CLUSTER], axis=0),
               "town": np.mean([vectors[w] for w in TOWN_CLUSTER], axis=0)}
    bank = np.asarray(vectors["bank"], dtype=float)
    before = {name: cosine_similarity(bank, c) for name, c in centres.items()}
    map2d = project_2d(vectors, bank_map_words(vectors))
    context_tokens = {w: tokenize(w)[0] for w in words}
    extra = [map2d(vectors[t]) for t in context_tokens.values()] + [map2d(c) for c in centres.values()]
    x0, x1, y0, y1 = plots.shift_map_limits(np.vstack([map2d.coords] + extra), bottom_pad=0.3)
    W_map, H_map, pad = 400, 330, 28

    def to_px(p):
        return (pad + (p[0] - x0) / (x1 - x0) * (W_map - 2 * pad),
                24 + (y1 - p[1]) / (y1 - y0) * (H_map - 24 - 60))

    def compute(word, sharpness):
        tokens, X = sentence_matrix(template.format(word=word), vectors)
        out, weights = scaled_dot_product_attention(X @ (W_q0 * (sharpness / 4.0)), X @ W_k, X @ W_v)
        b = tokens.index("bank")
        return tokens, weights[b], out[b]

    def closeness_colour(token):
        v = vectors[token]
        return (plots.RIVER_COLOR if cosine_similarity(v, centres["river"]) > cosine_similarity(v, centres["town"])
                else plots.TOWN_COLOR)

    def map_frame():
        s = Scene()
        t = s.tile(W_map, H_map)
        s.add(t, "text", text="where bank lands", x=W_map / 2, y=15, text_anchor="middle", font_size=13)
        s.add(t, "rect", x=pad, y=24, width=W_map - 2 * pad, height=H_map - 84, fill="none", stroke="#bbbbbb")
        for w, p in zip(map2d.words, map2d.coords):
            x, y = to_px(p)
            s.add(t, "circle", cx=x, cy=y, r=4, fill=plots.word_color(w))
            s.add(t, "text", text=display_word(w), x=x + 6, y=y - 5, font_size=12, fill=plots.word_color(w))
        for name, colour in (("river", plots.RIVER_COLOR), ("town", plots.TOWN_COLOR)):
            x, y = to_px(map2d(centres[name]))
            s.add(t, "path", d=f"M{x - 6:.1f},{y - 6:.1f}L{x + 6:.1f},{y + 6:.1f}M{x - 6:.1f},{y + 6:.1f}"
                               f"L{x + 6:.1f},{y - 6:.1f}", stroke=colour, stroke_width=3)
        legend = (("river centre", plots.RIVER_COLOR), ("town centre", plots.TOWN_COLOR),
                  ("context word", plots.OUTPUT_COLOR))
        for i, (label, colour) in enumerate(legend):
            s.add(t, "text", text=f"✕ {label}" if i < 2 else f"○ {label}", x=pad + i * 120, y=H_map - 14,
                  font_size=12, fill=colour)
        return "".join(s.parts(0))

    frame = map_frame()

    def map_tile(scene, after, ctx):
        t = scene.tile(W_map, H_map)
        scene.raw(t, frame)
        bx, by = to_px(map2d(bank))
        ax_, ay = to_px(map2d(after))
        scene.add(t, "line", key="arrow", x1=bx, y1=by, x2=ax_, y2=ay, stroke=plots.OUTPUT_COLOR, stroke_width=2)
        scene.add(t, "circle", key="star", cx=ax_, cy=ay, r=7, fill=plots.OUTPUT_COLOR)
        scene.add(t, "text", key="star.l", text="bank after attention", x=ax_ + 9, y=ay + 14, font_size=12,
                  fill=plots.OUTPUT_COLOR, font_weight="bold")
        rx, ry = to_px(map2d(vectors[ctx]))
        scene.add(t, "circle", key="ring", cx=rx, cy=ry, r=11, fill="none", stroke=plots.OUTPUT_COLOR,
                  stroke_width=2.5)
        scene.add(t, "text", key="ring.l", text="" if ctx in map2d.words else display_word(ctx), x=rx, y=ry + 24,
                  text_anchor="middle", font_size=12, fill=plots.OUTPUT_COLOR, font_weight="bold")

    def draw(word, sharpness):
        tokens, w, after = compute(word, sharpness)
        ctx = context_tokens.get(word) or tokenize(word)[0]
        scene = Scene()
        map_tile(scene, after, ctx)
        colours = [closeness_colour(t) if t == ctx else plots.word_color(t) for t in tokens]
        bars_tile(scene, "w", w, [display_word(t) for t in tokens], colours, "bank's attention weights",
                  "weight")
        order = np.argsort(-w, kind="stable")[:2]
        top = ", ".join(f"{display_word(tokens[j])} {w[j]:.2f}" for j in order)
        now = {name: cosine_similarity(after, c) for name, c in centres.items()}
        lean = max(now, key=now.get)
        return scene, (f"{template.format(word=word)}   (sharpness {sharpness:.1f})\n"
                       f"bank attends most to: {top}\n"
                       f"cosine with the river centre: {before['river']:.2f} -> {now['river']:.2f}\n"
                       f"cosine with the town centre:  {before['town']:.2f} -> {now['town']:.2f}\n"
                       f"bank after attention is closer to the {lean} centre")

    style = {"description_width": "110px"}
    controls = {
        "word": W.Dropdown(options=list(words), value=word, description="context word", style=style,
                           layout=W.Layout(width="340px")),
        "sharpness": slider("sharpness", sharpness, min=0.0, max=10.0, step=0.5, readout_format=".1f"),
    }
    return LivePanel(controls, draw, view=view, title="Change the context word: where does bank go?")
