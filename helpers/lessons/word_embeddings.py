"""Notebook 01, word embeddings: the lesson's static figures and its live panel.

The story: each word of the toy table is six numbers; similar words point the same
way (cosine similarity), so the table falls into a river group and a town group on
a 2-D map (PCA, helpers.embeddings.project_2d), and *bank* sits between them. One
row per word cannot tell the two meanings of *bank* apart: the sentence has to.

    figures   vector_table (words x dimensions), cluster_map (the map with shaded groups),
              same_word_figure (bank's row in two sentences)
    panel     bank_vector_panel: six sliders edit bank's numbers, a star moves on the fixed map,
              bars give the cosine with each group's centre

The word-by-word similarity heatmap is shared with notebook 04 (helpers.plots.similarity_heatmap).
"""

from __future__ import annotations

import functools
import re

import numpy as np

from .. import plots
from ..embeddings import (DIMENSIONS, RIVER_CLUSTER, TOWN_CLUSTER, cosine_similarity, display_word,
                          project_2d, top_words, toy_vectors)
from ..panels import LivePanel, Scene, attrs_markup, slider
from ..panels.pieces.bars import bars
from ..panels.pieces.wordmap import WordMap
from ..panels.scene import element

CLUSTER_NAMES = ("river words", "town words")
#: The words of the panel's map: the two groups and bank.
MAP_WORDS = (*RIVER_CLUSTER, *TOWN_CLUSTER, "bank")


# ------------------------------------------------------------------ static figures


def vector_table(ax, words, vectors, *, title=None, colorbar=True, ylabel="word"):
    """Words x the six named dimensions as an annotated heatmap (signed colours, -1..1)."""
    vectors = np.asarray(vectors, dtype=float)
    hm = plots.heatmap(ax, vectors, words, DIMENSIONS, title=title, cmap=plots.SIGNED_CMAP, vmin=-1, vmax=1,
                       annotate=True, xlabel="dimension", ylabel=ylabel, colorbar=colorbar)
    ax.set_xticks(range(len(DIMENSIONS)), list(DIMENSIONS), rotation=30, ha="right")
    plots.color_tick_labels(ax, words)
    return plots.readable_signed_text(hm)


def convex_hull(points):
    """Corners of the convex hull of points (n, 2), counter-clockwise (monotone chain)."""
    pts = sorted(map(tuple, np.asarray(points, dtype=float)))
    if len(pts) < 3:
        return np.array(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def rounded_area(points, pad):
    """The hull of `points` (n, 2) widened by `pad` all round: corners (m, 2), counter-clockwise."""
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return convex_hull((np.asarray(points, dtype=float)[:, None, :] + pad * circle[None]).reshape(-1, 2))


def shade_clusters(ax, map2d, *, pad=0.06):
    """Light rounded areas around the river and the town group on a 2-D map, named below.

    Each area is the group's convex hull widened by `pad` (a fraction of the axes), so
    it looks the same whatever the axis ranges. Returns (areas, name texts).
    """
    from matplotlib.patches import Polygon

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    origin, scale = np.array([x0, y0]), np.array([x1 - x0, y1 - y0])
    areas, names = [], []
    for cluster, color, name in ((RIVER_CLUSTER, plots.RIVER_COLOR, CLUSTER_NAMES[0]),
                                 (TOWN_CLUSTER, plots.TOWN_COLOR, CLUSTER_NAMES[1])):
        frac = (np.array([map2d[w] for w in cluster]) - origin) / scale  # axes fraction
        corners = rounded_area(frac, pad) * scale + origin
        areas.append(Polygon(corners, closed=True, facecolor=color, alpha=0.13, edgecolor=color,
                             linestyle="--", linewidth=1.2, zorder=1))
        ax.add_patch(areas[-1])
        # the name goes under the area's lowest point, running toward the middle of the map
        bottom = corners[np.argmin(corners[:, 1])]
        inward = "left" if frac[:, 0].mean() < 0.5 else "right"
        names.append(ax.text(bottom[0], bottom[1], name, ha=inward, va="top", color=color,
                             fontsize=plots.SMALL_FONT, style="italic", zorder=2))
    return areas, names


def declutter_labels(emap, min_gap=0.09, distance=9):
    """Push the labels of crowded map words away from their neighbours (in place).

    Each label moves `distance` points in the direction pointing away from the
    points within `min_gap` (axes fraction); words with no close neighbour keep
    the default label place (up and to the right).
    """
    ax = emap.ax
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    items = list(emap.points.items())
    xy = np.array([[dot.get_xdata()[0], dot.get_ydata()[0]] for _, (dot, _) in items], dtype=float)
    frac = (xy - [x0, y0]) / [x1 - x0, y1 - y0]
    for i, (word, (dot, label)) in enumerate(items):
        diff = frac[i] - frac
        dist = np.hypot(diff[:, 0], diff[:, 1])
        near = (dist > 0) & (dist < min_gap)
        if not near.any():
            continue
        away = (diff[near] / dist[near, None]).sum(axis=0)
        if np.hypot(*away) < 1e-9:
            away = np.array([1.0, 0.0])
        away = away / np.hypot(*away)
        label.xyann = (float(away[0] * distance), float(away[1] * distance))
        label.set_ha("left" if away[0] > 0.3 else "right" if away[0] < -0.3 else "center")
        label.set_va("bottom" if away[1] > 0.3 else "top" if away[1] < -0.3 else "center")
    # then nudge labels whose boxes still overlap apart vertically (in points)
    renderer = ax.figure.canvas.get_renderer()
    labels = [label for _, label in emap.points.values()]
    to_points = 72.0 / ax.figure.dpi
    for _ in range(30):
        boxes = [label.get_window_extent(renderer).expanded(1.0, 1.15) for label in labels]
        moved = False
        for i in range(len(labels)):
            for j in range(i + 1, len(labels)):
                a, b = boxes[i], boxes[j]
                if min(a.x1, b.x1) <= max(a.x0, b.x0) or min(a.y1, b.y1) <= max(a.y0, b.y0):
                    continue
                shift = (min(a.y1, b.y1) - max(a.y0, b.y0)) / 2 * to_points + 1.0
                low, high = (labels[i], labels[j]) if a.y0 <= b.y0 else (labels[j], labels[i])
                low.xyann = (low.xyann[0], low.xyann[1] - shift)
                high.xyann = (high.xyann[0], high.xyann[1] + shift)
                moved = True
        if not moved:
            break


def cluster_map(ax, map2d, words=None, *, title=None, limits=None):
    """The 2-D map with shaded groups and decluttered labels; returns the EmbeddingMap.

    (plots.spread_labels, the series' other label spreader, stacks the three town labels to
    the right of their dots here, *post office* past the map's edge: declutter_labels keeps
    each label beside its own dot.)
    """
    limits = plots.map_limits(map2d.coords, (0.45, 0.45, 0.35, 0.35)) if limits is None else limits
    emap = plots.embedding_map(ax, map2d, words, title=title, limits=limits)
    shade_clusters(ax, map2d)
    declutter_labels(emap)
    return emap


def same_word_figure(tokens_a, X_a, tokens_b, X_b, *, word="bank", titles=None, figsize=(6.6, 9.2)):
    """Two sentences' matrices (n, d) stacked, one above the other, the rows of `word` framed.

    Stacked rather than side by side, so that the figure fits a 700 px notebook column;
    the columns line up, so the two framed rows can be compared number by number.
    """
    from matplotlib.patches import Rectangle

    fig, axes = plots.new_figure(2, 1, figsize=figsize)
    for k, (ax, tokens, X) in enumerate(zip(axes, (tokens_a, tokens_b), (X_a, X_b))):
        vector_table(ax, tokens, X, title=titles[k] if titles else None, ylabel="token")
        if k == 0:  # the lower table names the dimensions for both
            ax.tick_params(labelbottom=False)
            ax.set_xlabel("")
        for i, tok in enumerate(tokens):
            if tok == word:
                ax.add_patch(Rectangle((-0.5, i - 0.5), X.shape[1], 1, fill=False, edgecolor="black",
                                       linewidth=3, zorder=4))
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ the panel's numbers


def dimension_key(name):
    """'town vs nature' -> 'town_vs_nature': the control name of a dimension's slider."""
    return name.replace(" ", "_")


def cluster_centres(vectors):
    """(6 group words, their vectors (6, d), the two groups' centres (2, d)): river first."""
    words = list(RIVER_CLUSTER) + list(TOWN_CLUSTER)
    C = np.stack([np.asarray(vectors[w], dtype=np.float64) for w in words])
    return words, C, np.stack([C[:3].mean(axis=0), C[3:].mean(axis=0)])


def compare_with_groups(v, words, C, centres):
    """(nearest 3 group words [(word, cosine)], {group name: cosine with its centre});
    ([], {}) for the zero vector, which has no direction."""
    if np.linalg.norm(v) < 1e-12:
        return [], {}
    sims = cosine_similarity(v, C)
    order = np.argsort(-sims, kind="stable")[:3]
    return ([(words[i], float(sims[i])) for i in order],
            dict(zip(CLUSTER_NAMES, map(float, cosine_similarity(v, centres)))))


# ------------------------------------------------------------------ the panel's picture

MAP_SIZE = (560, 400)
#: px from a word's dot to its label, for the words that the default (up and right) would crowd:
#: the three town words sit within 25 px of each other.
LABEL_OFFSETS = {"bank": (12, -8), "restaurant": (-9, -9), "hospital": (10, -9), "post office": (0, 26)}
AREA_PAD_PX = 17
STAR_RADII = (12.0, 5.0)  # px, outer and inner corners


@functools.lru_cache(maxsize=1)
def star_markup():
    """The fixed attributes of the edited vector's star (five points, around 0, 0)."""
    outer, inner = STAR_RADII
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, outer, inner)
    points = " ".join(f"{r * np.cos(a):.1f},{-r * np.sin(a):.1f}" for r, a in zip(radii, angles))
    return attrs_markup(points=points, fill=plots.OUTPUT_COLOR, stroke="#000000", stroke_width=1.2)


def map_frame(wmap, map2d, words):
    """Fixed markup of the panel's map as (under, over): under = the frame, the two shaded groups and
    the words' dots; over = the title, the words' labels (with a white halo) and the legend, drawn
    above the moving arrow and star so that these never hide a word."""
    areas = []
    for cluster, colour in ((RIVER_CLUSTER, plots.RIVER_COLOR), (TOWN_CLUSTER, plots.TOWN_COLOR)):
        corners = rounded_area([wmap.px(map2d[w]) for w in cluster], AREA_PAD_PX)
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
        areas.append(element("polygon", attrs_markup(points=points, fill=colour, fill_opacity=0.13, stroke=colour,
                                                     stroke_dasharray="5 3", stroke_opacity=0.6)))
    legend = [("■", CLUSTER_NAMES[0], plots.RIVER_COLOR), ("■", CLUSTER_NAMES[1], plots.TOWN_COLOR),
              ("★", "bank (edited)", plots.OUTPUT_COLOR)]
    markup = wmap.frame([map2d[w] for w in words], [plots.word_color(w) for w in words],
                        [display_word(w) for w in words], label_offsets=LABEL_OFFSETS, legend=legend)
    texts = re.findall(r"<text[^>]*>[^<]*</text>", markup)
    shapes = re.sub(r"<text[^>]*>[^<]*</text>", "", markup)
    box_end = shapes.index("<circle")
    halo = '<text stroke="#ffffff" stroke-width="4" stroke-opacity="0.85" paint-order="stroke" '
    return (shapes[:box_end] + "".join(areas) + shapes[box_end:],
            "".join(t.replace("<text ", halo, 1) for t in texts))


def bank_vector_scene(wmap, frame, start_xy, xy, cosines, word="bank"):
    """The map (an arrow from the table's `word` to the star at `xy`, clipped to the map; `frame` =
    map_frame(...)) and the bars of the cosines with the two group centres."""
    scene = Scene()
    under, over = frame
    t = wmap.tile(scene, under)
    wmap.arrow(scene, t, "edited.arrow", start_xy, xy, plots.OUTPUT_COLOR)
    x, y = wmap.px(xy)
    scene.add(t, "polygon", key="edited", static=star_markup(), transform=f"translate({x:.1f} {y:.1f})")
    scene.raw(t, over)
    bars(scene, "centres", cosines, list(CLUSTER_NAMES), colours=[plots.RIVER_COLOR, plots.TOWN_COLOR],
         title=f"edited {word} vs the group centres", ylim=(-1.1, 1.1), ticks=(-1.0, 0.0, 1.0),
         ylabel="cosine", width=MAP_SIZE[0], height=200, numbers="{:.2f}")
    return scene


def clip_to_map(wmap, xy):
    """(x, y) clipped to the map's limits, and whether it was inside them."""
    x, y = float(xy[0]), float(xy[1])
    inside = wmap.x0 <= x <= wmap.x1 and wmap.y0 <= y <= wmap.y1
    return (min(max(x, wmap.x0), wmap.x1), min(max(y, wmap.y0), wmap.y1)), inside


def bank_readout(word, v, xy, inside, neighbours, centre_cosines):
    """The panel's text: the vector, the nearest group words, the cosines with the centres, the map position."""
    head = f"{word} = [{', '.join(f'{a:.2f}' for a in v)}]"
    where = f"map position ({xy[0]:.2f}, {xy[1]:.2f})" + ("" if inside else ": beyond the edge, drawn at the edge")
    if not neighbours:
        return (f"{head}\nall six numbers are 0: a vector with no direction has no cosine "
                f"similarity. Move any slider.\n{where}")
    near = top_words([w for w, _ in neighbours], [c for _, c in neighbours], k=3)
    cos_text = ", ".join(f"{name} {c:.2f}" for name, c in centre_cosines.items())
    return f"{head}\nnearest 3 of the 6 cluster words: {near}\ncosine with the centres: {cos_text}\n{where}"


def bank_vector_panel(vectors=None, *, word="bank", map_words=MAP_WORDS):
    """Notebook 01: six sliders edit *bank*'s vector; a star shows it on the fixed map.

    vectors: KeyedVectors (default: the toy table). One slider per dimension, named
    dimension_key(DIMENSIONS[i]) and labelled with the dimension's name. The map is the
    PCA of the *unedited* table (helpers.embeddings.project_2d) and never changes; an
    arrow runs from where the table puts the word to the star of the edited vector.
    The readout lists the 3 nearest of the six group words (cosine) and the cosine with
    each group's centre (the bars). The panel also carries `state` (vector, neighbours
    [(word, cosine)], centre_cosines {group: cosine}, position (x, y) before clipping,
    on_map) and `map2d`, `keys`.
    """
    kv = toy_vectors() if vectors is None else vectors
    start = np.array(kv[word], dtype=np.float64)  # (d,), a copy: never a view into kv
    keys = [dimension_key(d) for d in DIMENSIONS]
    group_words, C, centres = cluster_centres(kv)
    map2d = project_2d(kv)  # fixed: the PCA of the unedited table
    wmap = WordMap(plots.map_limits(map2d.coords, (0.45, 0.45, 0.35, 0.35)), *MAP_SIZE, title=f"{word} on the map of the table",
                   legend_height=22)
    frame, start_xy = map_frame(wmap, map2d, list(map_words)), map2d(start)
    state = {}

    def draw(**values):
        v = np.array([float(values[k]) for k in keys])
        position = tuple(float(a) for a in map2d(v))
        shown_xy, inside = clip_to_map(wmap, position)
        neighbours, centre_cosines = compare_with_groups(v, group_words, C, centres)
        cosines = [centre_cosines.get(name, 0.0) for name in CLUSTER_NAMES]
        state.update(vector=v, position=position, on_map=inside, neighbours=neighbours,
                     centre_cosines=centre_cosines)
        return (bank_vector_scene(wmap, frame, start_xy, shown_xy, cosines, word),
                bank_readout(word, v, position, inside, neighbours, centre_cosines))

    controls = {k: slider(d, round(float(a), 2)) for k, d, a in zip(keys, DIMENSIONS, start)}
    panel = LivePanel(controls, draw, title=f"Edit {word}'s six numbers", columns=2)
    panel.state, panel.map2d, panel.keys = state, map2d, keys
    return panel


def panels():
    """Notebook 01's live panels, built as the notebook builds them."""
    return {"bank_vector": bank_vector_panel(toy_vectors())}
