"""Notebook 01 (word embeddings): every claim of the prose, the bank panel, the pictures.

Each test names the notebook section whose prose it backs. A number or a word the prose
quotes is read from the notebook's markdown (tests/notebook_text.py) and compared with
the computation, so the prose and the maths cannot drift apart; nothing is typed twice.
"""

import base64
import inspect
import io
import itertools
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from helpers import embeddings as E  # noqa: E402
from helpers import plots  # noqa: E402
from helpers.lessons import word_embeddings  # noqa: E402
from helpers.panels import apply_patch  # noqa: E402
from helpers.panels.pieces import MIN_FONT_PX  # noqa: E402
from notebook_text import load, markdown, quoted, source  # noqa: E402

KEY = list(E.RIVER_CLUSTER) + ["bank"] + list(E.TOWN_CLUSTER)
RIVER, TOWN = list(E.RIVER_CLUSTER), list(E.TOWN_CLUSTER)
HEAT_WORDS = KEY + ["money", "water"]  # the words of section 4's heatmap
DIM = {name: j for j, name in enumerate(E.DIMENSIONS)}
MAX_STATIC_PX = 700  # a static figure at most 7.0 in wide at 100 dpi
MIN_FONT_PT = 11


@pytest.fixture(scope="module", autouse=True)
def classroom_style():
    plots.use_classroom_style()  # as the notebook does in its first cell


@pytest.fixture()
def kv():
    """A fresh toy table for every test (gensim's similarity can rescale a float64 table)."""
    return E.toy_vectors()


@pytest.fixture(scope="module")
def wv():
    return E.train_word2vec()


@pytest.fixture(scope="module")
def panel():
    return word_embeddings.panels()["bank_vector"]


def prose(start=None, stop=None):
    """Notebook 01's markdown with every run of whitespace (line breaks too) made one space."""
    return " ".join(markdown("01", start, stop).split())


def words_of(text):
    """'*river*, *fish*, *lake*' -> ['river', 'fish', 'lake'] (display names made table keys)."""
    return [w.replace(" ", "_").lower() for w in re.findall(r"\*([^*]+)\*", text)]


def plt_cmap(cmap):
    """A colormap given by name or as a Colormap object."""
    return matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap


def cos(a, b):
    return float(E.cosine_similarity(np.asarray(a, float), np.asarray(b, float)))


def code_cells():
    return [source(c) for c in load("01")["cells"] if c["cell_type"] == "code"]


# ------------------------------------------------------------ 1. words to vectors


def test_sentence_becomes_a_9_by_6_matrix(kv):
    tokens = E.tokenize(E.SENTENCE)
    assert tokens == ["tom", "is", "going", "to", "fish", "at", "the", "river", "bank"]
    X = np.stack([kv[t] for t in tokens])
    tokens_h, X_h = E.sentence_matrix(E.SENTENCE, kv)
    assert tokens_h == tokens and np.array_equal(X_h, X)
    rows, cols = quoted(prose("## Summary"), r"`\((\d+), (\d+)\)` here")
    assert X.shape == (rows, cols)
    assert np.allclose(X[tokens.index("river")], [-0.9, 0.9, -0.2, 0.4, 0.2, 0.6])  # the story's vector


# ------------------------------------------------------------------ 2. the table


def test_table_size_and_scale_as_described(kv):
    text = prose("## 2. The toy table", "## 3.")
    assert quoted(text, r"Our (\d+) vectors") == len(kv)
    assert quoted(text, r"\*\*(\d+) numbers per word\*\*") == kv.vector_size
    lo, hi = quoted(text, r"from about (−?\d+) to (\d+)")
    V = kv[kv.index_to_key]
    assert lo <= V.min() and V.max() <= hi


def dimension_rows():
    """The rows of section 2's table: (dimension, low-end words, high-end words)."""
    rows = re.findall(r"^\| \*\*([a-z ]+)\*\* \| (.*?) \| (.*?) \|$", markdown("01"), re.MULTILINE)
    assert [name for name, _, _ in rows] == list(E.DIMENSIONS)
    return [(name, words_of(low), words_of(high)) for name, low, high in rows]


@pytest.mark.parametrize("row", range(len(E.DIMENSIONS)))
def test_dimension_table_examples(kv, row):
    dim, low, high = dimension_rows()[row]
    j = DIM[dim]
    col = kv[kv.index_to_key][:, j]
    assert low or high
    for w in low:
        assert kv[w][j] <= np.quantile(col, 0.25) and kv[w][j] < 0.1, (dim, w)
    for w in high:
        assert kv[w][j] >= 0.3 and kv[w][j] >= np.quantile(col, 0.6), (dim, w)


def test_seven_words_read_column_by_column(kv):
    text = prose("The seven words of the story")
    t, water, place = DIM["town vs nature"], DIM["water"], DIM["place"]
    assert "The groups disagree in sign on *town vs nature* and *water*" in text
    for j in (t, water):
        assert all(np.sign(kv[r][j]) == -np.sign(kv[w][j]) != 0 for r in RIVER for w in TOWN)
    bank = kv["bank"]
    assert quoted(text, r"\*bank\* has exactly (\d+) on \*town vs nature\*") == bank[t]
    assert 0 < bank[water] < 0.5  # "a little water"
    assert np.argmax(bank) == place  # "a high place"


# ----------------------------------------------------------------------- 3. the map


def test_map_axis_weights_as_quoted(kv):
    text = prose("## 3. A map of the table", "## 4.")
    a1, a2 = E.project_2d(kv).axes
    town, water = quoted(text, r"mostly \*town vs nature\* \(weight (−?\d+(?:\.\d+)?)\) and \*water\* \(weight (−?\d+(?:\.\d+)?)\)")
    assert (town, water) == (round(a1[DIM["town vs nature"]], 2), round(a1[DIM["water"]], 2))
    assert sorted(np.argsort(-np.abs(a1))[:2]) == [DIM["town vs nature"], DIM["water"]]
    assert "Axis 2 is mostly *person*" in text and np.argmax(np.abs(a2)) == DIM["person"]


def test_map_directions_as_described(kv):
    """'river words on the left, town words on the right': read from the text, checked on project_2d."""
    text = prose("## 3. A map of the table", "## 4.")
    m = E.project_2d(kv)
    river_side, town_side = re.search(
        r"\*\*river words\*\* group on the (left|right) and the \*\*town words\*\* on the (left|right)", text).groups()
    assert river_side != town_side
    x = {w: m[w][0] for w in KEY}
    left, right = (RIVER, TOWN) if river_side == "left" else (TOWN, RIVER)
    assert max(x[w] for w in left) < x["bank"] < min(x[w] for w in right)  # "bank lies between"
    # "it puts Tom, doctor and fisherman highest" among the words the notebook's map shows
    highest = words_of(re.search(r"it puts ((?:\*\w+\*,? (?:and )?)+)highest", text).group(1))
    shown = KEY + ["money", "deposit", "tom", "doctor"]
    assert 'key_words + ["money", "deposit", "tom", "doctor"]' in "".join(code_cells())
    by_height = sorted(shown, key=lambda w: -m[w][1])
    assert set(by_height[:len(highest)]) == set(highest)


def test_map_is_fitted_to_the_whole_table(kv):
    m = E.project_2d(kv)
    assert m.words == kv.index_to_key and m.coords.shape == (44, 2)


# ------------------------------------------------------------------- 4. cosine


def test_cosine_values_quoted(kv):
    text = prose("## 4. How alike", "## 5.")
    river_fish, river_hospital = quoted(
        text, r"\*river\* and \*fish\* point almost the same way \((−?\d+(?:\.\d+)?)\), \*river\* and \*hospital\* slightly apart \((−?\d+(?:\.\d+)?)\)")
    assert river_fish == round(cos(kv["river"], kv["fish"]), 2)
    assert river_hospital == round(cos(kv["river"], kv["hospital"]), 2) and river_hospital < 0


def test_cosine_of_unit_rows_is_a_matrix_product(kv):
    W = kv[HEAT_WORDS]
    W_unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    assert np.allclose(W_unit @ W_unit.T, E.cosine_similarity(W, W))


def test_cosine_range_same_direction_and_opposite():
    a = np.array([1.0, 2.0, 0.5])
    assert np.isclose(cos(a, 3 * a), 1.0)  # only the direction counts
    assert np.isclose(cos(a, -a), -1.0)
    assert np.isclose(cos([1, 0], [0, 1]), 0.0)


def drawn_heatmap(kv):
    """Section 4's heatmap, built as the notebook builds it; returns (drawn values, luminance)."""
    assert 'heat_words = key_words + ["money", "water"]' in "".join(code_cells())
    fig, ax = plots.new_figure()
    hm = plots.similarity_heatmap(ax, HEAT_WORDS, E.cosine_similarity(kv[HEAT_WORDS], kv[HEAT_WORDS]))
    values = np.asarray(hm.image.get_array(), dtype=float)
    rgba = hm.image.to_rgba(values)
    matplotlib.pyplot.close(fig)
    return values, rgba[..., :3] @ np.array([0.299, 0.587, 0.114])


def test_heatmap_dark_squares_and_pale_cells_as_described(kv):
    """'Two dark 3 × 3 squares ... at least 0.67 ... none below −0.35: pale cells', on the drawn colours."""
    text = prose("Two dark 3")
    S, luminance = drawn_heatmap(kv)
    r, t = [HEAT_WORDS.index(w) for w in RIVER], [HEAT_WORDS.index(w) for w in TOWN]
    squares = [(i, j) for g in (r, t) for i in g for j in g]
    between = [(i, j) for i in r for j in t] + [(j, i) for i in r for j in t]
    assert quoted(text, r"every cosine is at least (\d+(?:\.\d+)?)") == round(min(S[p] for p in squares), 2)
    assert quoted(text, r"almost identical, (\d+(?:\.\d+)?)\)") == round(min(S[i, j] for i in t for j in t), 2)
    assert all(S[p] < 0 for p in between)  # "every cosine is negative"
    assert quoted(text, r"none below (−?\d+(?:\.\d+)?)") == round(min(S[p] for p in between), 2)
    # the picture: every square cell is darker than every cell between the groups, and darker
    # than the scale's middle (true for any diverging map with dark ends and a light middle)
    middle = float(np.array(plt_cmap(plots.SIGNED_CMAP)(0.5))[:3] @ [0.299, 0.587, 0.114])
    assert max(luminance[p] for p in squares) < min(luminance[p] for p in between)
    assert max(luminance[p] for p in squares) < middle


def test_heatmap_bank_row_as_described(kv):
    text = prose("Two dark 3")
    bank = {w: cos(kv["bank"], kv[w]) for w in RIVER + TOWN}
    assert "*bank*'s row is positive with all six group words" in text and all(v > 0 for v in bank.values())
    assert max(bank, key=bank.get) == "river"
    assert quoted(text, r"highest with \*river\* \((\d+(?:\.\d+)?)\)") == round(bank["river"], 2)
    assert quoted(text, r"only (\d+(?:\.\d+)?) with \*fisherman\*") == round(bank["fisherman"], 2)
    about = quoted(text, r"about (\d+(?:\.\d+)?) with each town word")
    assert all(round(bank[w], 1) == about for w in TOWN)
    S = {(a, b): cos(kv[a], kv[b]) for a in HEAT_WORDS for b in HEAT_WORDS}
    # "(water sides with the river words, money with the town words.)"
    assert all(S["water", w] > 0.6 for w in RIVER) and all(S["water", w] < 0 for w in TOWN)
    assert all(S["money", w] > 0.6 for w in TOWN) and all(S["money", w] < 0 for w in RIVER)


# ---------------------------------------------------------------- 5. the panel


class Front:
    """What the browser shows: the first scene, then every patch the view sends applied to it."""

    def __init__(self, p):
        self.view, self.keyed = p.view, p.scene.keyed()
        p.view.send = self.receive

    def receive(self, content, buffers=None):
        assert content["rev"] == self.view.rev
        self.keyed = apply_patch(self.keyed, content)


def fixed_markup(p):
    return "".join(p.scene.tile_markups())


def dots(p):
    """{label: (cx, cy, fill)} of the words' dots on the panel's map, read from its markup."""
    found = re.findall(r'<circle cx="([-\d.]+)" cy="([-\d.]+)" r="5" fill="(#\w+)"/>', fixed_markup(p))
    return {E.display_word(w): (float(x), float(y), fill) for w, (x, y, fill) in zip(word_embeddings.MAP_WORDS, found)}


def map_to_px(p):
    """The picture's map -> px transform, fitted (least squares) to where its dots are drawn."""
    shown = dots(p)
    xy = np.array([panel_map(p)[w] for w in word_embeddings.MAP_WORDS])
    px = np.array([shown[E.display_word(w)][:2] for w in word_embeddings.MAP_WORDS])
    fx, fy = np.polyfit(xy[:, 0], px[:, 0], 1), np.polyfit(xy[:, 1], px[:, 1], 1)
    return lambda m: np.array([np.polyval(fx, m[0]), np.polyval(fy, m[1])])


def panel_map(p):
    return E.project_2d(E.toy_vectors())  # the PCA of the unedited table, fitted here again


def map_box(p):
    """(x0, y0, x1, y1) px of the map's frame."""
    x, y, w, h = (float(v) for v in re.search(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"', fixed_markup(p)).groups())
    return x, y, x + w, y + h


def star_px(p):
    x, y = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", p.scene.keyed()["edited"][0]["transform"]).groups()
    return np.array([float(x), float(y)])


def arrow_ends(p):
    d = p.scene.keyed()["edited.arrow"][0]["d"]
    (x0, y0, x1, y1) = map(float, re.match(r"M([-\d.]+),([-\d.]+)L([-\d.]+),([-\d.]+)", d).groups())
    return np.array([x0, y0]), np.array([x1, y1])


def bar_values(p):
    """The two bars' values, read from their drawn heights and the axis' tick labels 0 and 1."""
    keyed = p.scene.keyed()
    rects = [keyed[f"centres.b{i}"][0] for i in range(2)]
    edges = [(round(float(a["y"]), 1), round(float(a["y"]) + float(a["height"]), 1)) for a in rects]
    (zero,) = set.intersection(*(set(e) for e in edges))
    ticks = dict((t, float(y)) for y, t in re.findall(r'<text[^>]* y="([-\d.]+)"[^>]*>(-?1|0)</text>',
                                                      p.scene.tile_markups()[1]))
    unit = ticks["0"] - ticks["1"]
    return [(b - t) / unit if b == zero else (t - b) / unit for t, b in edges]


def expected_readout(kv_vectors, v):
    C = np.stack([kv_vectors[w] for w in RIVER + TOWN])
    sims = E.cosine_similarity(v, C)
    order = np.argsort(-sims, kind="stable")[:3]
    centres = np.stack([C[:3].mean(0), C[3:].mean(0)])
    return [(RIVER + TOWN)[i] for i in order], sims[order], E.cosine_similarity(v, centres)


def expected_star(p, v):
    """Where the star must be drawn for vector v: its map position, clipped to the map's frame."""
    x, y = map_to_px(p)(panel_map(p)(v))
    x0, y0, x1, y1 = map_box(p)
    return np.array([np.clip(x, x0, x1), np.clip(y, y0, y1)])


def test_panel_has_one_slider_per_dimension(panel, kv):
    assert list(panel.controls) == ["town_vs_nature", "water", "person", "place", "action", "topic"]
    assert [w.description for w in panel.controls.values()] == list(E.DIMENSIONS)
    assert np.allclose([w.value for w in panel.controls.values()], kv["bank"])
    assert all(w.min == -1 and w.max == 1 for w in panel.controls.values())


def test_panel_map_is_the_pca_of_the_unedited_table(panel, kv):
    to_px, shown = map_to_px(panel), dots(panel)
    for w in KEY:  # every dot where the table's PCA puts it
        assert np.allclose(to_px(panel_map(panel)[w]), shown[E.display_word(w)][:2], atol=0.15)


def test_panel_star_and_dot_as_described(panel):
    text = prose("## 5. Your turn", "The next cell")
    assert "move the star" in text
    star = re.search(r'<polygon points="([^"]+)"[^>]* transform="translate', fixed_markup(panel)).group(1)
    assert len(star.split()) == 10  # five points, five inner corners
    assert "★ bank (edited)" in panel.scene.texts()
    colour = re.search(r"the (\w+) dot is the table's \*bank\*", text).group(1)
    assert dots(panel)["bank"][2] == to_hex(colour)


def test_panel_starts_mixed(panel, kv):
    panel.reset()
    text = prose("One slider settles")
    words, sims, centres = expected_readout(kv, kv["bank"])
    assert words[0] == "river" and set(words[1:]) <= set(TOWN)  # "nearest to river, then two town words"
    town_c, river_c = quoted(text, r"closer to the town centre \((\d+(?:\.\d+)?)\) than to the river centre \((\d+(?:\.\d+)?)\)")
    assert (river_c, town_c) == tuple(np.round(centres, 2)) and town_c > river_c
    assert panel.state["centre_cosines"] == pytest.approx(dict(zip(word_embeddings.CLUSTER_NAMES, centres)))
    assert np.allclose(star_px(panel), dots(panel)["bank"][:2], atol=0.15)


def test_driving_each_slider_moves_the_star_to_the_map_of_the_vector(panel, kv):
    panel.reset()
    front = Front(panel)
    rng = np.random.default_rng(0)
    for name in panel.keys:
        for _ in range(3):
            before, sent = panel.text, len(panel.view.sent)
            value = float(np.round(rng.uniform(-1, 1), 2))
            if np.isclose(value, panel.controls[name].value):
                value = -value if value else 0.5
            panel.controls[name].value = value  # like a mouse drag
            assert panel.text != before
            v = np.array([panel.controls[k].value for k in panel.keys])
            assert np.allclose(star_px(panel), expected_star(panel, v), atol=0.15)
            start, end = arrow_ends(panel)
            assert np.allclose(start, dots(panel)["bank"][:2], atol=0.15) and np.allclose(end, star_px(panel))
            words, sims, centres = expected_readout(kv, v)
            assert [w for w, _ in panel.state["neighbours"]] == words
            assert np.allclose(bar_values(panel), centres, atol=0.01)
            assert f"{E.display_word(words[0])} {sims[0]:.2f}" in panel.text
            assert f"river words {centres[0]:.2f}, town words {centres[1]:.2f}" in panel.text
            # the browser got a small patch that turns its picture into the new one
            assert front.keyed == panel.scene.keyed()
            assert [k for k, _ in panel.view.sent[sent:]] == ["patch"]
            assert all(size < 8 * 1024 for _, size in panel.view.sent[sent:])
    panel.reset()


def test_panel_water_as_question_2_says(panel):
    """Question 2: 'drag water from 0.35 to 0.90. ... river 0.76, fish 0.60, fisherman 0.33 ... 0.61 against 0.24'."""
    text = prose("### Question 2", "### Question 3")
    start, end = quoted(text, r"drag `water` from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)")
    panel.reset()
    assert panel.controls["water"].value == start
    panel.set(water=end)
    quoted_near = quoted(text, r"\*river\* (\d+(?:\.\d+)?), \*fish\* (\d+(?:\.\d+)?) and \*fisherman\* (\d+(?:\.\d+)?)")
    assert [w for w, _ in panel.state["neighbours"]] == RIVER  # "the three river words are nearest"
    assert quoted_near == tuple(round(c, 2) for _, c in panel.state["neighbours"])
    c = panel.state["centre_cosines"]
    assert quoted(text, r"river centre wins, (\d+(?:\.\d+)?) against (\d+(?:\.\d+)?)") == (
        round(c["river words"], 2), round(c["town words"], 2))
    assert c["river words"] > c["town words"]
    river_x = np.mean([dots(panel)[w][0] for w in RIVER])
    bank_x = dots(panel)["bank"][0]
    assert np.sign(star_px(panel)[0] - bank_x) == np.sign(river_x - bank_x)  # toward the river words
    panel.reset()


def test_panel_town_slider_gives_town_words(panel):
    """'more town and the town words take over'."""
    panel.reset()
    panel.set(town_vs_nature=0.8)
    assert sorted(w for w, _ in panel.state["neighbours"]) == sorted(TOWN)
    c = panel.state["centre_cosines"]
    assert c["town words"] > c["river words"]
    panel.reset()


def test_panel_reset_restores_the_table(panel, kv):
    start = panel.reset()
    panel.set(water=-1.0, place=1.0)
    assert panel.reset() == start
    assert np.allclose(panel.state["vector"], kv["bank"])
    assert np.allclose(star_px(panel), dots(panel)["bank"][:2], atol=0.15)


@pytest.mark.parametrize("setting", [
    *[{k: v} for k in ["town_vs_nature", "water", "person", "place", "action", "topic"] for v in (-1.0, 1.0)],
    {k: -1.0 for k in ["town_vs_nature", "water", "person", "place", "action", "topic"]},
    {k: 1.0 for k in ["town_vs_nature", "water", "person", "place", "action", "topic"]},
    {"town_vs_nature": -1.0, "water": 1.0, "place": -1.0},  # beyond the map's left edge
])
def test_panel_extremes_are_finite_and_on_the_map(panel, setting):
    panel.reset()
    text = panel.set(**setting)
    assert text and "nan" not in text.lower() and panel.error == ""
    x0, y0, x1, y1 = map_box(panel)
    x, y = star_px(panel)
    assert x0 <= x <= x1 and y0 <= y <= y1
    v = np.array([panel.controls[k].value for k in panel.keys])
    inside = np.allclose(expected_star(panel, v), map_to_px(panel)(panel_map(panel)(v)))
    assert ("beyond the edge" in text) == (not inside)
    assert np.all(np.isfinite(bar_values(panel))) and len(panel.state["neighbours"]) == 3
    panel.reset()


def test_panel_all_zero_vector_is_explained_not_an_error(panel):
    text = panel.set(**{k: 0.0 for k in panel.keys})
    assert "no direction" in text and "nan" not in text.lower()
    assert bar_values(panel) == [0.0, 0.0]
    panel.reset()
    assert "nearest 3" in panel.text


def test_panel_shows_its_first_picture_to_static_viewers(panel):
    panel.reset()
    bundle = panel._repr_mimebundle_()
    assert bundle["text/plain"] == ("Panel: Edit bank's six numbers "
                                    "(town_vs_nature, water, person, place, action, topic)")
    (cell,) = [c for c in load("01")["cells"] if "bank_vector_panel(" in source(c)]
    (out,) = cell["outputs"]
    assert "".join(out["data"]["image/svg+xml"]) == bundle["image/svg+xml"]


def test_panel_does_not_hold_a_view_into_the_table():
    kv = E.toy_vectors()
    p = word_embeddings.bank_vector_panel(kv)
    start = arrow_ends(p)[0]
    kv.vectors[kv.key_to_index["bank"]] *= 2  # changing the table afterwards ...
    p.set(water=0.9)
    p.reset()
    assert np.allclose(arrow_ends(p)[0], start) and np.allclose(star_px(p), start, atol=0.15)  # ... moves nothing


def text_boxes(markup):
    """(text, x0, y0, x1, y1) of every unrotated text: about 0.6 em a character, cap height to descender."""
    boxes = []
    for attrs, text in re.findall(r"<text([^>]*)>([^<]+)</text>", markup):
        if "rotate" in attrs:
            continue
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        x, y, size = float(a["x"]), float(a["y"]), float(a.get("font-size", 15))
        width = 0.6 * size * len(text)
        x0 = {"end": x - width, "middle": x - width / 2}.get(a.get("text-anchor"), x)
        boxes.append((text, x0, y - 0.75 * size, x0 + width, y + 0.2 * size))
    return boxes


def overlap(a, b):
    return min(a[3], b[3]) > max(a[1], b[1]) and min(a[4], b[4]) > max(a[2], b[2])


def test_nothing_on_the_map_overlaps(panel):
    """No two texts of the map touch (the words' labels, the title, the legend) and no label covers
    a dot: the edited bank is named in the legend, not beside its moving star."""
    markup = panel.scene.tile_markups()[0]
    boxes = text_boxes(markup)
    assert len(boxes) == 1 + len(KEY) + 3
    for a, b in itertools.combinations(boxes, 2):
        assert not overlap(a, b), (a, b)
    for label, (x, y, _) in dots(panel).items():
        for box in boxes:
            assert not overlap(box, (label, x - 5, y - 5, x + 5, y + 5)), (box, label)
    x0, y0, x1, y1 = 0, 0, *panel.scene.tiles[0][:2]
    assert all(x0 <= b[1] and b[3] <= x1 for b in boxes)


def test_panel_fits_the_column_and_its_text_is_large(panel):
    width, _ = panel.scene.size()
    assert width <= 580
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', fixed_markup(panel))]
    assert min(sizes) >= MIN_FONT_PX


# ---------------------------------------------------------- 6. word2vec, learned from text


def test_corpus_as_described():
    text = prose("## 6. Learning vectors", "## 7.")
    sentences = E.read_corpus()
    with_bank = [s for s in sentences if "bank" in s]
    assert quoted(text, r"\*the\* stands in (\d+) of the (\d+) sentences with \*bank\*") == (
        sum("the" in s for s in with_bank), len(with_bank))
    assert quoted(prose("### Question 4"), r"instead of (\d+)") == len(sentences)
    river_side, money_side = {"river", "fish", "fisherman", "boat"}, {"money", "deposit", "cash", "loan"}
    assert any(river_side & set(s) and not money_side & set(s) for s in with_bank)  # "bank appears in both"
    assert any(money_side & set(s) and not river_side & set(s) for s in with_bank)


def test_word2vec_window_as_described():
    window = quoted(prose("## 6. Learning vectors", "## 7."), r"up to (\d+) on each side")
    assert inspect.signature(E.train_word2vec).parameters["window"].default == window


def test_word2vec_is_seeded():
    a, b = E.train_word2vec(), E.train_word2vec()
    assert a.index_to_key == b.index_to_key and np.array_equal(a.vectors, b.vectors)


def content_words(wv):
    """The toy table's content words (topic at least 0.3, as the notebook says) that word2vec knows."""
    kv = E.toy_vectors()
    threshold = quoted(prose("## 6. Learning vectors", "## 7."), r"\*topic\* at least (\d+(?:\.\d+)?)")
    return {w for w in kv.index_to_key if kv[w][DIM["topic"]] >= threshold and w in wv.key_to_index}


def nearest_content_words(wv, word, k=4):
    words = content_words(wv)
    return [w for w, _ in wv.most_similar(word, topn=len(wv)) if w in words][:k]


def test_raw_neighbours_of_bank_are_stop_words(wv):
    """'For bank it answers the and a first': what the tiny corpus really learns."""
    text = prose("## 6. Learning vectors", "## 7.")
    first = words_of(re.search(r"For \*bank\* it answers (\*\w+\* and \*\w+\*) first", text).group(1))
    assert [w for w, _ in wv.most_similar("bank", topn=len(first))] == first
    assert not set(first) & content_words(wv)  # stop words, left out by the filter
    assert {"the", "a"} >= set(first)


def test_content_word_filter_keeps_the_story_words(wv):
    words = content_words(wv)
    assert set(KEY) <= words and {"money", "loan", "water"} <= words
    assert not words & {"the", "a", "at", "in", "on", "by", "of", "to", "and", "is"}


def test_word2vec_neighbours_as_described(wv):
    text = prose("Nobody told word2vec")
    river = words_of(re.search(r"\*river\*'s nearest content words are (\*\w+\* and \*\w+\*)", text).group(1))
    hospital = words_of(re.search(r"\*hospital\*'s are (\*[\w ]+\* and \*[\w ]+\*)", text).group(1))
    bank = words_of(re.search(r"meanings: (\*\w+\* and \*\w+\*, then \*\w+\* and \*\w+\*)", text).group(1))
    assert nearest_content_words(wv, "river", len(river)) == river
    assert nearest_content_words(wv, "hospital", len(hospital)) == hospital
    assert nearest_content_words(wv, "bank", len(bank)) == bank
    assert set(bank[:2]) <= {"river", "fish", "fisherman", "water", "boat", "lake"}  # one meaning ...
    assert set(bank[2:]) <= {"money", "deposit", "cash", "loan", "account"}  # ... then the other


def w2v_means(wv):
    S = E.cosine_similarity(np.stack([wv[w] for w in KEY]), np.stack([wv[w] for w in KEY]))
    r, t, b = [0, 1, 2], [4, 5, 6], 3

    def mean(rows, cols):
        block = S[np.ix_(rows, cols)]
        return block[~np.eye(len(rows), dtype=bool)].mean() if rows == cols else block.mean()

    return dict(rr=mean(r, r), tt=mean(t, t), rt=mean(r, t), br=mean([b], r), bt=mean([b], t))


def test_word2vec_group_averages_as_quoted(wv):
    text = prose("The average cosine")
    m = {k: round(float(v), 2) for k, v in w2v_means(wv).items()}
    assert quoted(text, r"The average cosine is (\d+(?:\.\d+)?) inside the river words and (\d+(?:\.\d+)?) inside the "
                        r"town words, but (\d+(?:\.\d+)?) across the groups") == (m["rr"], m["tt"], m["rt"])
    br, bt, rt = quoted(text, r"\*bank\*'s averages, (\d+(?:\.\d+)?) with the river words and (\d+(?:\.\d+)?) with the "
                              r"town words, are both well above (\d+(?:\.\d+)?)")
    assert (br, bt, rt) == (m["br"], m["bt"], m["rt"])
    assert min(br, bt) - rt > 0.1  # "well above"
    assert wv.similarity("river", "fish") > m["rt"] + 0.3  # "words used in similar surroundings"


def test_word2vec_bank_blends_both_meanings(wv):
    text = prose("*bank* is close to")
    sense = ["river", "fish", "water", "money", "deposit", "cash"]
    assert 'sense_words = ["river", "fish", "water", "money", "deposit", "cash"]' in "".join(code_cells())
    floor = quoted(text, r"all six cosines are at least (\d+(?:\.\d+)?)")
    assert round(min(float(wv.similarity("bank", w)) for w in sense), 2) >= floor


# ------------------------------------------------------------- 7. the problem


def test_bank_has_the_same_vector_in_both_sentences(kv, wv):
    ta, Xa = E.sentence_matrix(E.SENTENCE, kv)
    tb, Xb = E.sentence_matrix(E.CONTRAST_SENTENCE, kv)
    assert {"river", "fish"} <= set(ta) and {"deposit", "money"} <= set(tb)
    assert not {"river", "fish"} & set(tb)
    assert np.array_equal(Xa[ta.index("bank")], Xb[tb.index("bank")])
    assert np.array_equal(Xa[ta.index("bank")], E.toy_vectors()["bank"])
    shape = re.search(r"`wv\[\"bank\"\]` has shape `(\(\d+,\))`", prose("### Question 4")).group(1)
    assert str(wv["bank"].shape) == shape and sum(k == "bank" for k in wv.index_to_key) == 1


def test_section_references_exist():
    """'section 5', "section 4's cosine", ... name sections the notebook has."""
    text = prose()
    headings = set(re.findall(r"## (\d+)\. ", text))
    referenced = set(re.findall(r"section (\d+)", text))
    assert referenced and referenced <= headings
    assert any(s.startswith("def cosine(") for s in code_cells())  # section 4's `cosine`


# ------------------------------------------------------------ pictures


def test_vector_table_shows_the_numbers(kv):
    fig, ax = plots.new_figure()
    hm = word_embeddings.vector_table(ax, KEY, kv[KEY])
    assert np.allclose(hm.image.get_array(), kv[KEY])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(E.DIMENSIONS)
    assert [t.get_text() for t in ax.get_yticklabels()] == [E.display_word(w) for w in KEY]
    assert hm.texts[0].get_text() == "-0.90"
    # numbers near zero are dark on the light middle of the signed colormap
    zero = KEY.index("bank") * 6 + DIM["town vs nature"]
    assert hm.texts[zero].get_color() == "black"
    matplotlib.pyplot.close(fig)


def test_cluster_map_and_same_word_figure(kv):
    m = E.project_2d(kv)
    fig, ax = plots.new_figure()
    emap = word_embeddings.cluster_map(ax, m, KEY)
    assert set(emap.points) == set(KEY)
    labels = [t.get_text() for t in ax.texts]
    assert "river words" in labels and "town words" in labels
    assert len(ax.patches) == 2
    matplotlib.pyplot.close(fig)
    ta, Xa = E.sentence_matrix(E.SENTENCE, kv)
    tb, Xb = E.sentence_matrix(E.CONTRAST_SENTENCE, kv)
    fig = word_embeddings.same_word_figure(ta, Xa, tb, Xb)
    tables = [ax for ax in fig.axes if ax.images]
    frames = [p for ax in tables for p in ax.patches]
    assert len(frames) == 2
    assert [f.get_y() + 0.5 for f in frames] == [ta.index("bank"), tb.index("bank")]
    (top, bottom) = tables  # stacked: one above the other, the same width, columns aligned
    assert top.get_position().y0 > bottom.get_position().y1
    assert np.isclose(top.get_position().width, bottom.get_position().width)
    matplotlib.pyplot.close(fig)


def stored_pngs():
    """(code cell index, width px, height px) of every PNG the stored notebook 01 shows."""
    from PIL import Image

    found = []
    for i, cell in enumerate(load("01")["cells"]):
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                png = Image.open(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
                found.append((i, source(cell), *png.size))
    return found


def test_static_figures_fit_the_column():
    """Every static figure of 01 at most 700 px wide (7.0 in at 100 dpi); the pipeline diagram
    at the top is the series' shared picture (tested with the pipeline)."""
    shown = [(i, w) for i, src, w, _ in stored_pngs()
             if "pipeline_diagram" not in src and "bank_vector_panel" not in src]
    assert len(shown) >= 6
    assert all(w <= MAX_STATIC_PX for _, w in shown), shown


def figure_texts(fig):
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_text_is_at_least_11_pt(kv):
    ta, Xa = E.sentence_matrix(E.SENTENCE, kv)
    tb, Xb = E.sentence_matrix(E.CONTRAST_SENTENCE, kv)
    figures = [word_embeddings.same_word_figure(ta, Xa, tb, Xb, titles=[E.SENTENCE, E.CONTRAST_SENTENCE])]
    for draw in (lambda ax: word_embeddings.vector_table(ax, KEY, kv[KEY]),
                 lambda ax: plots.similarity_heatmap(ax, HEAT_WORDS, E.cosine_similarity(kv[HEAT_WORDS], kv[HEAT_WORDS])),
                 lambda ax: word_embeddings.cluster_map(ax, E.project_2d(kv), KEY + ["money", "deposit", "tom", "doctor"])):
        fig, ax = plots.new_figure(figsize=(6.2, 5))
        draw(ax)
        figures.append(fig)
    for fig in figures:
        small = [(t.get_text(), t.get_fontsize()) for t in figure_texts(fig) if t.get_fontsize() < MIN_FONT_PT]
        assert not small, small
        matplotlib.pyplot.close(fig)


# ------------------------------------------------------------ the stored notebook


def test_notebook_shows_its_steps_and_drives_its_panel():
    # stored executed, in order, without errors: tests/test_notebooks_stored.py (all notebooks)
    sources = code_cells()
    assert 'plots.pipeline_diagram(highlight=["embed"])' in sources[0]
    assert any("panel.set(" in s for s in sources)
    assert "## Summary" in markdown("01")


def test_prose_is_about_1600_words():
    """Issue 10: tightened from 2,333 words of markdown to about 1,600."""
    assert len(markdown("01").split()) <= 1700
