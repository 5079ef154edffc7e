"""Notebook 02 (queries and keys): every claim of its prose, its figures and its two slider panels.

The numbers are recomputed here from the helpers (toy vectors, demo_head, softmax); every
number the prose quotes is read from the notebook's markdown (tests/notebook_text.py), never
typed a second time here, so prose and maths cannot drift apart.
"""

import matplotlib

matplotlib.use("Agg")

import base64
import json
import re
import struct

import numpy as np
import pytest

from helpers import attention, embeddings, plots
from helpers.lessons import queries_and_keys
from helpers.panels import apply_patch
from notebook_text import load, markdown, outputs, quoted, source

plots.use_classroom_style()  # as the notebook's first cell: the sizes tested are the shown ones

TEXT = markdown("02")
#: fractions the prose writes as words
FRACTIONS = {"half": 0.5, "a quarter": 0.25, "a tenth": 0.1}
WORD_NUMBERS = {"ten": 10, "twenty": 20, "thirty": 30}


def fraction(pattern):
    """The fraction named by the one match of `pattern` (one group: 'half', 'a quarter', ...)."""
    import re
    found = re.findall(pattern, TEXT)
    assert len(found) == 1, f"{pattern!r} matches {len(found)} times"
    return FRACTIONS[found[0]]


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def head():
    return attention.demo_head()


@pytest.fixture(scope="module")
def river(head):
    """tokens, X, Q, K, scores for SENTENCE."""
    W_q, W_k, _ = head
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    Q, K = X @ W_q, X @ W_k
    return tokens, X, Q, K, Q @ K.T


@pytest.fixture(scope="module")
def money(head):
    W_q, W_k, _ = head
    tokens, X = embeddings.sentence_matrix(embeddings.CONTRAST_SENTENCE)
    Q, K = X @ W_q, X @ W_k
    return tokens, X, Q, K, Q @ K.T


def np_softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ranked(tokens, row):
    return [tokens[j] for j in np.argsort(-row, kind="stable")]


def bank_row(x, head, sentence=embeddings.SENTENCE, word="bank"):
    """bank's query, keys and scores when bank's embedding is `x` (as the panel computes)."""
    W_q, W_k, _ = head
    tokens, X = embeddings.sentence_matrix(sentence)
    X = X.copy()
    X[tokens.index(word)] = x
    q = np.asarray(x, dtype=float) @ W_q
    K = X @ W_k
    return tokens, q, K, K @ q


# ------------------------------------------------------ section 1-2: the head


def test_sentence_matrix_shape_and_bank_is_last(river):
    """'W_q and W_k are matrices of size 6 × 6'; 'd_k is the length of a query or a key: 6 here'."""
    tokens, X, Q, K, scores = river
    size = quoted(TEXT, r"W_q and W_k are matrices of size (\d+) × (\d+)")
    d_k = quoted(TEXT, r"d_k is the length of a query or a key:\s+(\d+) here")
    W_q, W_k, _ = attention.demo_head()
    assert W_q.shape == W_k.shape == size and K.shape[-1] == d_k
    assert X.shape == Q.shape == K.shape == (len(tokens), d_k)
    assert scores.shape == (len(tokens), len(tokens))
    assert tokens.index("bank") == len(tokens) - 1  # "bank is the last word"
    assert set(embeddings.RIVER_CLUSTER[:2]) <= set(tokens)  # river, fish are in the sentence


def test_bank_sits_between_the_two_meanings():
    """Intro: 'its six numbers sit between the two meanings'."""
    kv = embeddings.toy_vectors()
    river_c = np.mean([kv[w] for w in embeddings.RIVER_CLUSTER], axis=0)
    town_c = np.mean([kv[w] for w in embeddings.TOWN_CLUSTER], axis=0)
    d_river, d_town = (np.linalg.norm(kv["bank"] - c) for c in (river_c, town_c))
    assert max(d_river, d_town) < np.linalg.norm(river_c - town_c)
    assert d_river / d_town == pytest.approx(1, abs=0.2)


def test_demo_head_is_as_described(head):
    """'diagonal 4 everywhere', 'one extra entry, row place, column topic (8)', 'W_k is the identity'."""
    W_q, W_k, _ = head
    P, T = attention.PLACE, attention.TOPIC
    assert np.all(np.diag(W_q) == quoted(TEXT, r"The diagonal \((\d+) everywhere\)"))
    assert W_q[P, T] == quoted(TEXT, r"row \*place\*, column \*topic\* \((\d+), framed\)")
    off = W_q - np.diag(np.diag(W_q))
    off[P, T] = 0
    assert not off.any()  # no other entry
    np.testing.assert_array_equal(W_k, np.eye(len(W_k)))
    assert embeddings.DIMENSIONS[P] == "place" and embeddings.DIMENSIONS[T] == "topic"


def test_bank_is_mostly_a_place_and_its_query_asks_for_topic(river):
    tokens, X, Q, K, _ = river
    b = tokens.index("bank")
    assert int(np.argmax(X[b])) == attention.PLACE  # "bank is mostly a place"
    assert Q[b, attention.TOPIC] == pytest.approx(4 * X[b, attention.TOPIC] + 8 * X[b, attention.PLACE])
    assert int(np.argmax(Q[b])) == attention.TOPIC  # "largest entry of its query is the topic entry"
    np.testing.assert_array_equal(K[b], X[b])  # "its key is its own vector, unchanged"


# --------------------------------------------------- section 3: the scores


def test_bank_listens_to_river_and_fish(river):
    tokens, _, Q, K, scores = river
    b = tokens.index("bank")
    row = scores[b]
    np.testing.assert_allclose(row, [Q[b] @ K[j] for j in range(9)])
    assert ranked(tokens, row)[:2] == ["river", "fish"]  # the two highest
    assert row[tokens.index("fish")] > row[b]  # "higher even than bank's score with itself"
    others = [j for j, t in enumerate(tokens) if t not in ("river", "fish", "bank")]
    share = fraction(r"every word scores less than (a quarter|a tenth|half) of what")
    assert row[others].max() < share * row[tokens.index("river")]


def test_scores_are_not_symmetric(river):
    tokens, _, _, _, scores = river
    b, r = tokens.index("bank"), tokens.index("river")
    assert not np.allclose(scores, scores.T)
    assert scores[b, r] > scores[r, b]


# --------------------------------------------------- section 4: term by term


def test_bank_river_term_by_term(river):
    tokens, _, Q, K, scores = river
    b, r = tokens.index("bank"), tokens.index("river")
    products = Q[b] * K[r]
    assert products.sum() == pytest.approx(scores[b, r])
    order = np.argsort(-products)
    assert order[0] == attention.TOPIC  # "the topic term is by far the biggest"
    assert products[attention.TOPIC] > fraction(r"it alone is more than (half|a quarter) of the score") * scores[b, r]
    assert products[attention.TOPIC] > 2 * products[order[1]]  # "by far"
    assert order[1] == attention.WATER  # "water adds the second-largest share"


def test_bank_the_term_by_term(river):
    tokens, _, Q, K, scores = river
    b, t, r = tokens.index("bank"), tokens.index("the"), tokens.index("river")
    products = Q[b] * K[t]
    assert np.abs(products).max() < 0.35  # "every product is close to zero"
    assert np.abs(K[t]).max() <= 0.05  # "the has almost no meaning of its own"
    assert scores[b, t] < fraction(r"its score is less than (a tenth|a quarter|half) of") * scores[b, r]


def test_money_sentence(river, money):
    tokens_m, _, _, _, scores_m = money
    tokens_r, _, _, _, scores_r = river
    bm, br = tokens_m.index("bank"), tokens_r.index("bank")
    others = [t for t in ranked(tokens_m, scores_m[bm]) if t != "bank"]
    assert set(others[:2]) == {"money", "deposit"}
    assert scores_m[bm, bm] == pytest.approx(scores_r[br, br])  # "the same in both sentences"
    assert ranked(tokens_m, scores_m[bm])[0] == "bank"  # "here it stays the largest"


# ---------------------------------------------------- section 5: bank panel


def test_bank_panel_claims(head, river):
    """'town word: river and fish fall below 1, bank scores itself highest';
    'without place: river and fish still lead, scores drop to less than half'."""
    tokens, X, _, _, scores = river
    b = tokens.index("bank")
    x = X[b].copy()
    x[attention.TOWN], x[attention.WATER] = 0.8, -0.4
    _, _, _, s = bank_row(x, head)
    below = quoted(TEXT, r"\*river\* and \*fish\* fall\s+below (\d+)")
    assert s[tokens.index("river")] < below and s[tokens.index("fish")] < below
    assert ranked(tokens, s)[0] == "bank"
    assert not set(embeddings.TOWN_CLUSTER) & set(tokens)  # "no town words in this sentence"
    x = X[b].copy()
    x[attention.PLACE] = 0.0
    _, _, _, s = bank_row(x, head)
    assert set(ranked(tokens, s)[:2]) == {"river", "fish"}
    share = fraction(r"their scores drop to less than (half|a quarter)")
    for w in ("river", "fish"):
        assert s[tokens.index(w)] < share * scores[b, tokens.index(w)]


class Front:
    """What the browser shows: the first scene, then the patches the view sends (svg_view.js in
    Python); a whole re-send (a new `rev`) replaces it. Records the kind and size of every message."""

    def __init__(self, panel):
        self.panel, self.keyed = panel, panel.scene.keyed()
        self.rev, self.kinds = panel.view.rev, []
        panel.view.send = self.receive

    def receive(self, content, buffers=None):
        assert content["rev"] == self.rev
        assert len(json.dumps(content, separators=(",", ":")).encode()) < 8 * 1024
        self.keyed = apply_patch(self.keyed, content)
        self.kinds.append("patch")

    def change(self, **values):
        """Set controls one at a time, as a student drags; returns the kinds of messages sent."""
        self.kinds = []
        for name, value in values.items():
            self.panel.controls[name].value = value
            if self.panel.view.rev != self.rev:
                self.keyed, self.rev = self.panel.scene.keyed(), self.panel.view.rev
                self.kinds.append("whole")
        assert self.keyed == self.panel.scene.keyed()  # the browser shows the new scene
        return self.kinds


def attr(scene, key, name):
    return float(scene.keyed()[key][0][name])


def text_of(scene, key):
    return scene.keyed()[key][1]


def rgb(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255


def assert_signed_colours(fills, values, limit):
    """Cell colours are the signed map at value/limit (purple -limit, white 0, gold +limit)."""
    expected = plots.SIGNED_CMAP((np.asarray(values, float).ravel() / limit + 1) / 2)[:, :3]
    np.testing.assert_allclose([rgb(f) for f in fills], expected, atol=4 / 255)  # (256-step tables)


def bar_scale(tops, bottoms, values):
    """px per unit of bars spanning `values` (data), measured on the drawn rectangles."""
    spans = np.asarray(bottoms) - np.asarray(tops)
    values = np.abs(np.asarray(values, float))
    return float(spans @ values / (values @ values)) if values.any() else 0.0


@pytest.fixture()
def bank_panel():
    return queries_and_keys.bank_embedding_panel()


def slider_vector(panel):
    return np.array([panel.controls[n].value for n in queries_and_keys.BANK_SLIDER_NAMES])


def clean(v):
    return f"{round(float(v), 2) + 0.0:.2f}"


def assert_bank_panel_shows(panel, head):
    """Every number of the picture and the readout, against bank_row computed here."""
    x = slider_vector(panel)
    tokens, q, K, s = bank_row(x, head)
    key = panel.controls["key"].value
    j = tokens.index(key)
    scene = panel.scene
    n = len(tokens)
    # the score row: one bar per word, its height |s| at one scale, its number written, word colours
    tops = [attr(scene, f"row.b{i}", "y") for i in range(n)]
    spans = [attr(scene, f"row.b{i}", "height") for i in range(n)]
    scale = bar_scale(tops, np.add(tops, spans), s)
    np.testing.assert_allclose(spans, np.abs(s) * scale, atol=0.11 + 0.005 * scale)
    assert [text_of(scene, f"row.v{i}") for i in range(n)] == [clean(v) for v in s]
    assert [text_of(scene, f"row.l{i}") for i in range(n)] == [embeddings.display_word(t) for t in tokens]
    assert [scene.keyed()[f"row.b{i}"][0]["fill"] for i in range(n)] == [plots.word_color(t) for t in tokens]
    ticks = [float(t) for t in (text_of(scene, f"row.y{s}") for s in range(queries_and_keys.AXIS_TICK_SLOTS)) if t]
    assert min(ticks) <= max(s.min(), 0) and s.max() <= max(ticks)  # every bar fits the chart
    # the strip: q, k, q×k on one colour scale, limit = the largest |q| a slider setting gives (4 + 8)
    values = np.array([q, K[j], q * K[j]])
    limit = float(np.abs(head[0]).sum(axis=0).max())
    fills = [scene.keyed()[f"terms.{r}.{c}"][0]["fill"] for r in range(3) for c in range(6)]
    assert_signed_colours(fills, values, limit)
    assert [text_of(scene, f"terms.n{r}.{c}") for r in range(3) for c in range(6)] == [clean(v) for v in values.ravel()]
    assert [text_of(scene, f"terms.r{r}") for r in range(3)] == ["q bank", f"k {embeddings.display_word(key)}", "q × k"]
    assert [text_of(scene, f"terms.c{c}") for c in range(6)] == ["town", "water", "person", "place", "action", "topic"]
    # the waterfall: step d spans the running sum before and after term d; then the total from 0
    products = q * K[j]
    start = np.concatenate([[0.0], np.cumsum(products)[:-1]])
    lo_hi = [(min(a, a + p), max(a, a + p)) for a, p in zip(start, products)] + [(min(s[j], 0), max(s[j], 0))]
    tops = np.array([attr(scene, f"sum.b{i}", "y") for i in range(7)])
    bottoms = tops + [attr(scene, f"sum.b{i}", "height") for i in range(7)]
    scale = bar_scale(tops, bottoms, [hi - lo for lo, hi in lo_hi])
    if np.sum(bottoms - tops) > 5:
        zero = bottoms[-1] if s[j] >= 0 else tops[-1]
        np.testing.assert_allclose(zero - bottoms, np.array([lo for lo, _ in lo_hi]) * scale, atol=0.25)
        np.testing.assert_allclose(zero - tops, np.array([hi for _, hi in lo_hi]) * scale, atol=0.25)
    golds = [scene.keyed()[f"sum.b{i}"][0]["fill"] for i in range(6)]
    assert golds == [queries_and_keys.POSITIVE_COLOR if p >= 0 else queries_and_keys.NEGATIVE_COLOR for p in products]
    assert [text_of(scene, f"sum.v{i}") for i in range(7)] == [f"{round(p, 2) + 0.0:+.2f}" for p in products] + [clean(s[j])]
    assert text_of(scene, "sum.t") == f"q·k = {s[j]:.2f}"
    # the readout
    lines = panel.text.splitlines()
    assert lines[0] == "x_bank = [" + ", ".join(clean(v) for v in x) + "]"
    assert lines[1] == "q_bank = x_bank W_q = [" + ", ".join(clean(v) for v in q) + "]"
    top3 = ", ".join(f"{tokens[i]} {s[i]:.2f}" for i in np.argsort(-s, kind="stable")[:3])
    assert lines[2] == f"top scores: {top3}"
    assert lines[3].startswith(f"bank · {embeddings.display_word(key)}: ") and lines[3].endswith(f"= {s[j]:.2f}")
    terms = [float(t.replace(" ", "")) for t in re.findall(r"(?:^-?|[+-] )[\d.]+", lines[3].split(": ", 1)[1].rsplit(" = ", 1)[0])]
    np.testing.assert_allclose(terms, products, atol=0.0051)
    return s


def test_bank_panel_starts_at_the_toy_vector(bank_panel, head, river):
    tokens, X, _, _, scores = river
    assert list(bank_panel.controls) == list(queries_and_keys.BANK_SLIDER_NAMES) + ["key"]
    np.testing.assert_allclose(slider_vector(bank_panel), X[tokens.index("bank")])
    s = assert_bank_panel_shows(bank_panel, head)
    np.testing.assert_allclose(s, scores[tokens.index("bank")])
    top = [tokens[j] for j in np.argsort(-s)[:3]]
    assert top[:2] == ["river", "fish"]  # the readout starts where section 3 ends
    assert "-0.00" not in bank_panel.text


@pytest.mark.parametrize("name", queries_and_keys.BANK_SLIDER_NAMES)
def test_each_bank_slider_drags_by_patches(bank_panel, head, name):
    """Drag one slider from its start to -1, then to 1, in steps of 0.05: every step shows the new
    numbers, and every step is a small patch (< 8 KiB), even when an axis widens or the slider
    passes its start, where the first axes come back (the ticks are keyed)."""
    front = Front(bank_panel)
    start = bank_panel.controls[name].value
    steps = np.r_[np.arange(start, -1.0, -0.05), np.arange(-1.0, 1.0001, 0.05)]
    kinds = []
    for value in np.round(steps, 2):
        kinds += front.change(**{name: float(value)})
        assert_bank_panel_shows(bank_panel, head)
    assert kinds == ["patch"] * len(kinds) and len(kinds) >= len(steps) - 1, kinds


def test_key_menu_changes_the_term_view(bank_panel, head, river):
    tokens, _, _, _, scores = river
    front = Front(bank_panel)
    for key in ("fish", "bank", "river"):
        assert front.change(key=key) == ["patch"]  # the same axes: a patch
        assert_bank_panel_shows(bank_panel, head)
    for key in ("the", "tom", "river"):  # (tom and the: the town term is below -1, the waterfall's axis widens)
        front.change(key=key)
        assert_bank_panel_shows(bank_panel, head)
        assert f"bank · {key}:" in bank_panel.text
        assert text_of(bank_panel.scene, "sum.t") == f"q·k = {scores[8, tokens.index(key)]:.2f}"


def test_bank_panel_set_and_reset(bank_panel, head):
    start, first = bank_panel.text, bank_panel.scene.keyed()
    text = bank_panel.set(bank_town=0.8, bank_water=-0.4)
    assert text == bank_panel.text
    tokens, _, _, s = bank_row(slider_vector(bank_panel), head)
    order = np.argsort(-s, kind="stable")[:3]
    assert text.splitlines()[2] == "top scores: " + ", ".join(f"{tokens[j]} {s[j]:.2f}" for j in order)
    assert_bank_panel_shows(bank_panel, head)
    assert bank_panel.reset() == start and bank_panel.scene.keyed() == first
    with pytest.raises(KeyError):
        bank_panel.set(bank_colour=1.0)


@pytest.mark.parametrize("corner", [1.0, -1.0, "mixed", 0.0])
def test_bank_panel_extremes_are_finite_and_fit(bank_panel, head, corner):
    """At the sliders' corners the axes widen (powers of two) by a patch, every bar still fits,
    and going back is a patch again."""
    if corner == "mixed":
        values = {n: (1.0 if i % 2 else -1.0) for i, n in enumerate(queries_and_keys.BANK_SLIDER_NAMES)}
    else:
        values = {n: corner for n in queries_and_keys.BANK_SLIDER_NAMES}
    front = Front(bank_panel)
    for key in ("river", "bank"):
        front.change(key=key, **values)
        text = bank_panel.text
        assert "nan" not in text.lower() and "inf" not in text.lower() and not bank_panel.error
        s = assert_bank_panel_shows(bank_panel, head)
        assert np.isfinite(s).all()
    front.change(**{n: float(v) for n, v in zip(queries_and_keys.BANK_SLIDER_NAMES, bank_row_start())})
    assert_bank_panel_shows(bank_panel, head)


def bank_row_start():
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    return X[tokens.index("bank")]


def test_bank_panel_axes_widen_only_when_a_score_needs_it(bank_panel):
    """The score row's axis is -1..8 at the start; bank all at 1 but topic at -1 makes its own score 16:
    the axis goes to 32 (by patches: the tick labels are keyed), and back at the start it is -1..8 again."""
    front = Front(bank_panel)
    start = bank_panel.scene.tile_markups()[0]
    values = {n: (-1.0 if n == "bank_topic" else 1.0) for n in queries_and_keys.BANK_SLIDER_NAMES}
    assert set(front.change(**values)) == {"patch"}
    assert ">32<" in bank_panel.scene.tile_markups()[0]
    shown = [text_of(bank_panel.scene, f"row.y{s}") for s in range(queries_and_keys.AXIS_TICK_SLOTS)]
    assert shown[:5] == ["0", "8", "16", "24", "32"] and shown[-1] == ""  # the last slots hidden
    bank_panel.reset()
    assert bank_panel.scene.tile_markups()[0] == start


def test_bank_panel_has_a_static_picture(bank_panel):
    """Static viewers see the live view's first state: the same scene as SVG."""
    bundle = bank_panel._repr_mimebundle_()
    assert bundle["image/svg+xml"] == bank_panel.scene.static_svg()
    assert bundle["text/plain"].startswith("Panel: Edit bank's embedding")
    assert "<text" in bundle["image/svg+xml"] and "nan" not in bundle["image/svg+xml"]


def test_bank_panel_rejects_words_not_in_the_sentence():
    with pytest.raises(ValueError, match="not a word of the sentence"):
        queries_and_keys.bank_embedding_panel(word="money")
    with pytest.raises(ValueError, match="not a word of the sentence"):
        queries_and_keys.bank_embedding_panel(key="money")


# ------------------------------------------------------ section 6: sqrt(d_k)


def notebook_list(name):
    """The list `name = [...]` as the notebook's code writes it (the d_k values it measures)."""
    import ast
    import re
    code = "\n".join(source(c) for c in load("02")["cells"] if c["cell_type"] == "code")
    (found,) = re.findall(rf"^{name} = (\[[^\]]*\])", code, re.M)
    return ast.literal_eval(found)


SPREAD_DIMS = notebook_list("dims")
N_PAIRS = int(quoted(TEXT, r"draw\s+(\d+) random pairs"))


@pytest.fixture(scope="module")
def spreads():
    """The notebook's measurement: seed 0, N_PAIRS float32 pairs of 512 numbers, cut to each d_k, in the order of SPREAD_DIMS;
    columns: std of q·k, std of q·k/√d_k, std of the same q·k summed in float64."""
    rng = np.random.default_rng(0)
    q_all = rng.standard_normal((N_PAIRS, max(SPREAD_DIMS)), dtype=np.float32)
    k_all = rng.standard_normal((N_PAIRS, max(SPREAD_DIMS)), dtype=np.float32)
    out = []
    for d_k in SPREAD_DIMS:
        q, k = q_all[:, :d_k], k_all[:, :d_k]  # the first d_k numbers of the same pairs
        dots = np.einsum("nd,nd->n", q, k)
        dots64 = np.einsum("nd,nd->n", q.astype(np.float64), k.astype(np.float64))
        out.append((dots.std(), (dots / np.sqrt(d_k)).std(), dots64.std()))
    return np.array(out)


def test_the_printed_table_is_this_measurement(spreads):
    """The table the notebook printed (d_k, std, √d_k, std scaled) is what the fixture measures."""
    import re
    rows = re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", outputs("02"), re.M)
    table = {int(d): (float(a), float(c)) for d, a, _, c in rows}
    assert sorted(table) == sorted(SPREAD_DIMS)
    for d_k, (std, std_scaled, _) in zip(SPREAD_DIMS, spreads):
        assert table[d_k] == (round(float(std), 2), round(float(std_scaled), 2))


def test_spread_grows_like_sqrt_dk(spreads):
    within = quoted(TEXT, r"follows the √d_k curve within (\d+) %") / 100
    ratio = spreads[:, 0] / np.sqrt(SPREAD_DIMS)
    assert np.all(np.abs(ratio - 1) < within)
    # and it really grows: a power law fit gives exponent 1/2
    slope = np.polyfit(np.log(SPREAD_DIMS), np.log(spreads[:, 0]), 1)[0]
    assert slope == pytest.approx(0.5, abs=0.02)


def test_scaled_spread_stays_near_one(spreads):
    lo, hi = quoted(TEXT, r"it stays between ([\d.]+) and ([\d.]+), whatever")
    assert np.all((spreads[:, 1] > lo) & (spreads[:, 1] < hi))


def test_precision_does_not_change_the_printed_spreads(spreads):
    """'summing the same numbers in float64 changes none of the spreads printed below'."""
    assert "changes none of the spreads printed below" in TEXT
    np.testing.assert_array_equal(np.round(spreads[:, 0], 2), np.round(spreads[:, 2], 2))


def test_the_precision_sentence_is_true_of_today():
    """The one-liner on precision: float32 is not called the precision models compute in."""
    assert "the precision models compute in" not in TEXT
    for name in ("bfloat16", "float16", "float32", "8 or 4 bits"):
        assert name in TEXT


def test_a_gap_of_ten_is_a_ratio_above_twenty_thousand():
    import re
    ((gap, word),) = re.findall(r"a gap of (\d+) gives a ratio of more than (\w+) thousand", TEXT)
    w = attention.softmax(np.array([float(gap), 0.0]))
    assert w[0] / w[1] > WORD_NUMBERS[word] * 1000
    assert w[0] / w[1] < (WORD_NUMBERS[word] + 10) * 1000  # and not far more: the prose is tight


SOFTMAX_DIMS = notebook_list("dims_softmax")
N_TRIALS = int(quoted(TEXT, r"averaged over (\d+) trials"))
N_KEYS = int(quoted(TEXT, r"one random query, (\d+) random keys"))


@pytest.fixture(scope="module")
def saturation():
    """The notebook's experiment: seed 1, N_TRIALS float32 trials of one query and N_KEYS keys per d_k."""
    rng = np.random.default_rng(1)
    rows = []
    for d_k in SOFTMAX_DIMS:
        q = rng.standard_normal((N_TRIALS, 1, d_k), dtype=np.float32)
        k = rng.standard_normal((N_TRIALS, N_KEYS, d_k), dtype=np.float32)
        s = (q * k).sum(axis=-1)
        rows.append((s, s / np.sqrt(d_k)))
    return rows


def test_unscaled_softmax_saturates_scaled_does_not(saturation):
    largest = np.array([attention.softmax(s).max(-1).mean() for s, _ in saturation])
    largest_scaled = np.array([attention.softmax(sc).max(-1).mean() for _, sc in saturation])
    np.testing.assert_allclose(largest, [np_softmax(s).max(-1).mean() for s, _ in saturation], atol=1e-6)
    assert np.all(np.diff(largest) > 0)  # "climbs toward 1 as d_k grows"
    assert largest[0] == pytest.approx(largest_scaled[0])  # d_k = 1: sqrt(1) = 1
    above, from_dk = quoted(TEXT, r"above ([\d.]+) from d_k = (\d+) on")
    for d_k, w in zip(SOFTMAX_DIMS, largest):
        assert (w > above) == (d_k >= from_dk)  # nearly one-hot from there on
    lo, hi = quoted(TEXT, r"stays near a third at every d_k \(between ([\d.]+) and ([\d.]+)\)")
    assert np.all((largest_scaled > lo) & (largest_scaled < hi))
    assert np.all(np.abs(largest_scaled - 1 / 3) < 0.07)  # "near a third"


def test_one_hot_weights_barely_react(saturation):
    """'its weights barely react when the scores change a little': the softmax Jacobian
    diag(w) - w wᵀ is nearly zero for the unscaled scores at d_k = 512, not for the scaled."""
    def jacobian_size(s):
        w = attention.softmax(s)
        J = w[:, :, None] * np.eye(w.shape[-1]) - w[:, :, None] * w[:, None, :]
        return np.median(np.linalg.norm(J, axis=(1, 2)))

    s, sc = saturation[-1]
    assert jacobian_size(s) < 0.01
    assert jacobian_size(sc) > 0.3


# -------------------------------------------------------- section 7: d_k panel


def samples(n_pairs=2000, n_keys=9, max_dk=256, seed=0):
    """The documented order of draws: the pairs of section 6's table (float32, 512 numbers), cut
    to max_dk, then one query and n_keys keys."""
    rng = np.random.default_rng(seed)
    qp = rng.standard_normal((n_pairs, 512), dtype=np.float32)[:, :max_dk].astype(np.float64)
    kp = rng.standard_normal((n_pairs, 512), dtype=np.float32)[:, :max_dk].astype(np.float64)
    q = rng.standard_normal(max_dk)
    keys = rng.standard_normal((n_keys, max_dk))
    return qp, kp, q, keys


@pytest.fixture(scope="module")
def draws():
    return samples()


@pytest.fixture()
def dk_panel():
    return queries_and_keys.scaling_panel()


EDGES = np.arange(-50.5, 51.0, 1.0)  # the panel's bins, as its docstring says: width 1, centred on -50..50


def heights(scene, key, n):
    return np.array([attr(scene, f"{key}{i}", "height") for i in range(n)])


def feet(markup, fill):
    """The y of the foot of every bar of colour `fill` in a tile (bars drawn upside down)."""
    return re.findall(rf'<rect [^>]*y="-([\d.]+)"[^>]*fill="{fill}" transform="scale\(1,-1\)"', markup)


def assert_dk_panel_shows(panel, draws):
    """Histogram bins and weight bars at one scale each, titles and readout, against numpy here."""
    qp, kp, q, keys = draws
    d_k = panel.controls["d_k"].value
    dots = (qp[:, :d_k] * kp[:, :d_k]).sum(axis=1)
    scaled = dots / np.sqrt(d_k)
    s = keys[:, :d_k] @ q[:d_k]
    scene = panel.scene
    expected = [np.histogram(v, bins=EDGES, density=True)[0] for v in (dots, scaled)]
    drawn = [heights(scene, f"hist.{name}", len(EDGES) - 1) for name in "us"]
    scale = bar_scale(np.zeros(len(EDGES) - 1), drawn[1], expected[1])  # px per unit, on the blue bins
    for bins, values in zip(drawn, expected):
        np.testing.assert_allclose(bins, values * scale, atol=0.06)  # one scale for both
        assert values.max() < 0.65  # the fixed y-limit holds every bin
    hist_tile, weight_tile = scene.tile_markups()
    for colour in (plots.TOWN_COLOR, plots.RIVER_COLOR):  # orange unscaled, blue scaled, as the legend says
        assert len(feet(hist_tile, colour)) == len(EDGES) - 1 and len(set(feet(hist_tile, colour))) == 1
        assert len(feet(weight_tile, colour)) == len(s)
    assert set(feet(hist_tile, plots.TOWN_COLOR)) == set(feet(hist_tile, plots.RIVER_COLOR))  # one axis
    assert expected[0].sum() > 0.99  # (almost) every score falls inside the bins
    w_u, w_s = np_softmax(s), np_softmax(s / np.sqrt(d_k))
    bars_drawn = np.r_[heights(scene, "w.u", len(s)), heights(scene, "w.s", len(s))]
    scale = bar_scale(np.zeros(2 * len(s)), bars_drawn, np.r_[w_u, w_s])
    np.testing.assert_allclose(bars_drawn, np.r_[w_u, w_s] * scale, atol=0.06)
    assert text_of(scene, "hist.t") == f"d_k = {d_k}: std {dots.std():.2f}, scaled {scaled.std():.2f}"
    assert text_of(scene, "w.t") == f"softmax weights; largest {w_u.max():.2f}, scaled {w_s.max():.2f}"
    lines = panel.text.splitlines()
    assert lines[0] == f"d_k = {d_k}"
    assert f"{dots.std():.2f}   (√d_k = {np.sqrt(d_k):.2f})" in lines[1]
    assert lines[2].endswith(f"{scaled.std():.2f}")
    assert lines[3].endswith(f"{w_u.max():.2f} without scaling, {w_s.max():.2f} with scaling")
    return dots, scaled, w_u, w_s


def central_share(values, share=0.95):
    """The width of the central `share` of `values`, as a fraction of the fixed x-axis (the bins)."""
    lo, hi = np.quantile(values, [(1 - share) / 2, (1 + share) / 2])
    return (hi - lo) / (EDGES[-1] - EDGES[0])


def test_dk_panel_first_state_is_readable(dk_panel, draws):
    """'The panel starts at d_k = 64, the size of one head in the paper's base model (512 numbers
    per word, 8 heads): at our head's d_k = 6 both spreads would still be thin spikes'.
    Readable: the orange scores fill a good part of the fixed axes and are visibly wider than the
    blue ones, which keep the spread of about 1; at d_k = 6 both would be thin."""
    start = quoted(TEXT, r"starts at d_k = (\d+), the size of one head")
    d_model, heads = quoted(TEXT, r"base model \((\d+) numbers per word, (\d+) heads\)")
    assert start == d_model / heads and dk_panel.controls["d_k"].value == start
    assert (dk_panel.controls["d_k"].min, dk_panel.controls["d_k"].max) == (1, quoted(TEXT, r"wide enough for d_k = (\d+)"))
    dots, scaled, w_u, w_s = assert_dk_panel_shows(dk_panel, draws)
    assert central_share(dots) > 0.25  # a wide orange bell, not a spike
    assert dots.std() > 6 * scaled.std()  # the blue one is visibly narrower
    assert w_u.max() > 2 * w_s.max()  # and one orange weight already leads
    assert np.all((dots > EDGES[0]) & (dots < EDGES[-1]))  # every score of the first state is drawn
    ours = quoted(TEXT, r"at our head's d_k = (\d+) both spreads")
    assert ours == attention.demo_head()[1].shape[1]
    assert central_share(pair_dots(draws, int(ours))) < 0.12  # "thin spikes in the middle"


def pair_dots(draws, d_k):
    qp, kp, _, _ = draws
    return (qp[:, :d_k] * kp[:, :d_k]).sum(axis=1)


def test_dk_panel_reads_the_tables_spread(dk_panel):
    """'the 2000 pairs are the ones of section 6, so the readout's spread is the table's'."""
    assert "the 2000 pairs are the ones of section 6, so the readout's spread is the table's" in " ".join(TEXT.split())
    table = {int(d): float(a) for d, a, _, _ in re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
                                                              outputs("02"), re.M)}
    for d_k in (1, 16, 64, 256):
        text = dk_panel.set(d_k=d_k)
        assert float(re.search(r"pairs: ([\d.]+)", text).group(1)) == table[d_k]


@pytest.mark.parametrize("d_k", [1, 2, 16, 64, 100, 255, 256])
def test_dk_slider_updates_histograms_and_weights_by_a_patch(dk_panel, draws, d_k):
    front = Front(dk_panel)
    before = dk_panel.text
    kinds = front.change(d_k=d_k)
    assert kinds == ([] if d_k == 64 else ["patch"])
    if d_k != 64:
        assert dk_panel.text != before
    dots, scaled, w_u, w_s = assert_dk_panel_shows(dk_panel, draws)
    assert np.isfinite(dots).all() and np.isfinite(w_u).all() and np.isfinite(w_s).all()


def test_dk_panel_claims(dk_panel, draws):
    """'at d_k = 1 scaling changes nothing'; 'the orange scores spread like sqrt(d_k) and one
    orange weight takes over; the blue ones keep the same spread and stay shared'."""
    assert quoted(TEXT, r"At d_k = (\d+), √d_k = 1 and scaling changes nothing") == 1
    dk_panel.set(d_k=1)
    _, _, w_u, w_s = assert_dk_panel_shows(dk_panel, draws)
    np.testing.assert_allclose(w_u, w_s)
    for d_k in (16, 64, 256):
        dk_panel.set(d_k=d_k)
        dots, scaled, w_u, w_s = assert_dk_panel_shows(dk_panel, draws)
        assert dots.std() == pytest.approx(np.sqrt(d_k), rel=0.1)
        assert scaled.std() == pytest.approx(1, abs=0.05)
        assert w_s.max() < 0.5
    assert w_u.max() > 0.99  # d_k = 256: one key takes (almost) all
    assert dk_panel.reset().startswith(f"d_k = {queries_and_keys.SCALING_START_DK}\n")


def test_dk_panel_every_value_is_a_small_patch_and_finite(dk_panel, draws):
    front = Front(dk_panel)
    for d_k in list(range(1, 257)) + [256, 1, 128]:  # every step, then the two jumps a drag can make
        assert set(front.change(d_k=d_k)) <= {"patch"}  # (Front checks each is < 8 KiB)
        assert not dk_panel.error
    assert "nan" not in dk_panel.text
    assert_dk_panel_shows(dk_panel, draws)


def test_dk_panel_has_a_static_picture(dk_panel):
    bundle = dk_panel._repr_mimebundle_()
    assert bundle["image/svg+xml"] == dk_panel.scene.static_svg()
    assert bundle["text/plain"] == "Panel: How long vectors blow up the scores (d_k)"



# --------------------------------------------- section 8: the scaled scores


def test_scaled_scores_match_the_helper_and_keep_the_order(river, head):
    tokens, X, Q, K, scores = river
    d_k = K.shape[-1]
    assert d_k == 6
    scaled = Q @ K.T / np.sqrt(d_k)
    _, weights = attention.scaled_dot_product_attention(Q, K, X @ head[2])
    np.testing.assert_allclose(np_softmax(scaled), weights, atol=1e-12)
    b = tokens.index("bank")
    assert ranked(tokens, scaled[b]) == ranked(tokens, scores[b])  # "does not change their order"
    assert ranked(tokens, scaled[b])[:2] == ["river", "fish"]


# ------------------------------------------------------- the pictures' helpers


def test_signed_heatmap_texts_are_readable_and_never_minus_zero():
    fig, ax = plots.new_figure()
    M = np.array([[0.0, -0.004, 5.0], [-5.0, 0.3, 1.0]])
    hm = plots.signed_heatmap(ax, M, ["a", "b"], ["x", "y", "z"], fmt="{:.1f}")
    texts = [t.get_text() for t in hm.texts]
    assert texts == ["0.0", "0.0", "5.0", "-5.0", "0.3", "1.0"]
    colors = [t.get_color() for t in hm.texts]
    assert colors[0] == "black" and colors[2] == "white" and colors[3] == "white"
    lo, hi = hm.image.get_clim()
    assert lo == -hi == -5.0
    matplotlib.pyplot.close(fig)


#: The series' limits (shared brief): static figures at most 7.0 in wide (700 px at 100 dpi) with
#: text at least 11 pt; live panels' tiles at most 580 px wide with text at least 13 px.
STATIC_MAX_WIDTH_PX = 700
PANEL_MAX_WIDTH_PX = 580
MIN_FONT_PX = 13
MIN_FONT_PT = 11
#: A readout line of at most 68 characters: 14 px monospace (8.43 px a character) stays in 580 px.
READOUT_MAX_CHARS = 68


def assert_readout_fits(panel, settings):
    for values in settings:
        text = panel.set(**values)
        assert max(len(line) for line in text.splitlines()) <= READOUT_MAX_CHARS, text


def assert_text_at_least(fig, points):
    """Every visible text of `fig` (titles, labels, tick labels, cell numbers) is >= `points`."""
    fig.canvas.draw()  # tick labels exist only after a draw
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.get_fontsize() < points]
    assert not small, small


def cell_colors(view):
    return np.array([[rect.get_facecolor() for rect in row] for row in view.cells])


def assert_one_colour_scale(view, q, k):
    """Every cell of the three rows is coloured by the same norm, the one its colour bar shows."""
    values = np.array([q, k, np.multiply(q, k)])
    expected = view.cmap(np.clip(view.norm(values), 0, 1))
    np.testing.assert_allclose(cell_colors(view), expected, atol=1e-12)
    assert view.colorbar.mappable.norm is view.norm
    lo, hi = view.colorbar.ax.get_ylim()
    assert (lo, hi) == pytest.approx((view.norm.vmin, view.norm.vmax))
    assert lo == -hi and np.abs(values).max() <= hi  # symmetric, and no value beyond the bar


def test_term_by_term_figure_sums_and_shares_one_colour_scale(river):
    tokens, _, Q, K, scores = river
    b, r, t = tokens.index("bank"), tokens.index("river"), tokens.index("the")
    fig = queries_and_keys.term_by_term_figure(Q[b], [(K[r], "river"), (K[t], "the")])
    view_r, view_t = fig.term_views
    assert view_r.total.get_height() == pytest.approx(scores[b, r])
    assert view_r.ax_sum.get_title() == f"q·k = {scores[b, r]:.2f}"
    assert [x.get_text() for x in view_t.row_labels] == ["q bank", "k the", "q × k"]
    assert_one_colour_scale(view_r, Q[b], K[r])
    assert_one_colour_scale(view_t, Q[b], K[t])
    assert (view_r.norm.vmin, view_r.norm.vmax) == (view_t.norm.vmin, view_t.norm.vmax)
    assert view_r.ax_sum.get_ylim() == view_t.ax_sum.get_ylim()  # "on the same scales"
    # equal values get equal colours in different rows: q_bank's 0.40 (action) and k_river's 0.40 (place)
    A, P = attention.ACTION, attention.PLACE
    assert Q[b, A] == pytest.approx(K[r, P])
    np.testing.assert_allclose(cell_colors(view_r)[0, A], cell_colors(view_r)[1, P])
    assert "share one colour scale, shown by the bar" in TEXT
    assert fig.get_size_inches()[0] <= STATIC_MAX_WIDTH_PX / 100
    assert_text_at_least(fig, MIN_FONT_PT)
    matplotlib.pyplot.close(fig)


def test_bank_panel_cells_use_one_fixed_scale(bank_panel, head):
    """The strip's colour bar covers every value a slider setting can give: it never moves."""
    bar = bank_panel.scene.tile_markups()[2]
    assert re.findall(r">(-?\d+)</text>", bar) == ["-12", "0", "12"]
    assert np.abs(head[0]).sum(axis=0).max() == 12  # the largest |q|: topic 4 + place 8
    for corner in (1.0, -1.0):
        bank_panel.set(**{n: corner for n in queries_and_keys.BANK_SLIDER_NAMES})
        assert bank_panel.scene.tile_markups()[2] == bar
        assert_bank_panel_shows(bank_panel, head)  # the cells: the signed map at value / 12


def assert_fits(panel):
    """Every tile at most 580 px wide; every text at least 13 px."""
    for markup in panel.scene.tile_markups():
        assert int(re.search(r'width="(\d+)"', markup).group(1)) <= PANEL_MAX_WIDTH_PX
        sizes = [float(v) for v in re.findall(r'font-size="([\d.]+)"', markup)]
        assert sizes and min(sizes) >= MIN_FONT_PX, markup[:80]
    assert panel.scene.size()[0] <= PANEL_MAX_WIDTH_PX


def test_bank_panel_fits_a_notebook_column(bank_panel):
    assert_fits(bank_panel)
    assert bank_panel._columns == 1  # sliders in one column: 340 px + Reset, no sideways scrolling
    corners = [{n: v for n in queries_and_keys.BANK_SLIDER_NAMES} for v in (-1.0, 1.0)]
    assert_readout_fits(bank_panel, [{}] + [dict(c, key=k) for c in corners for k in ("tom", "river")])
    assert_fits(bank_panel)


def test_dk_panel_fits_a_notebook_column(dk_panel):
    assert_fits(dk_panel)
    assert_readout_fits(dk_panel, [{"d_k": d} for d in (1, 64, 256)])


def test_projection_matrices_share_one_colour_scale(head):
    """W_q and W_k on one colour scale with one colour bar: W_k's 1s are pale next to W_q's 4s."""
    W_q, W_k, _ = head
    fig = queries_and_keys.projection_matrices_figure(W_q, W_k, embeddings.DIMENSIONS)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 2
    (im_q, im_k) = images
    assert im_q.get_clim() == im_k.get_clim() == (-8.0, 8.0)  # ± the largest entry of both
    colorbars = [ax for ax in fig.axes if ax not in (im_q.axes, im_k.axes)]
    assert len(colorbars) == 1  # one colour bar for both
    rgba_q, rgba_k = im_q.to_rgba(W_q), im_k.to_rgba(W_k)
    np.testing.assert_allclose(rgba_q[0, 1], rgba_k[0, 1])  # a 0 is the same colour in both
    np.testing.assert_allclose(rgba_k[0, 0], im_q.to_rgba(np.array([[W_k[0, 0]]]))[0, 0])  # so is a 1
    # and W_k's 1 is paler (nearer the white middle) than W_q's 4
    assert abs(im_k.norm(W_k[0, 0]) - 0.5) < abs(im_q.norm(W_q[0, 0]) - 0.5)
    assert "Both matrices are drawn on one colour scale" in TEXT
    assert fig.get_size_inches()[0] <= STATIC_MAX_WIDTH_PX / 100
    assert_text_at_least(fig, MIN_FONT_PT)
    matplotlib.pyplot.close(fig)


def test_static_figures_build(river, head):
    tokens, _, _, _, scores = river
    fig = queries_and_keys.score_rows_figure([(tokens, scores[8], "river sentence"), (tokens, scores[7], "river")])
    (a, b) = [ax for ax in fig.axes]
    assert a.get_ylim() == b.get_ylim()  # one scale for both rows
    assert a.get_position().y0 > b.get_position().y1  # stacked, not side by side
    assert fig.get_size_inches()[0] <= STATIC_MAX_WIDTH_PX / 100
    assert_text_at_least(fig, MIN_FONT_PT)
    matplotlib.pyplot.close(fig)
    fig, ax = plots.new_figure()
    queries_and_keys.listening_question(ax, tokens, 8, question="?")
    assert sum(t.get_text() == "?" for t in ax.texts) == len(tokens) - 1  # one arc per other word
    matplotlib.pyplot.close(fig)


def png_width(b64):
    """The width in pixels of a base64 PNG (its IHDR chunk)."""
    return struct.unpack(">I", base64.b64decode(b64)[16:20])[0]


def test_stored_figures_fit_the_column():
    """Every picture 02 stores: static figures (PNG) at most 700 px wide; the two panels store
    their first state as SVG for static viewers, at most 580 px wide, and it is the live
    view's first state. (The pipeline diagram of the first cell is the series' own picture.)"""
    pngs, svgs = 0, []
    for cell in load("02")["cells"]:
        if cell["cell_type"] != "code" or "pipeline_diagram" in source(cell):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                assert png_width(data["image/png"]) <= STATIC_MAX_WIDTH_PX, source(cell)[:60]
                pngs += 1
            if "image/svg+xml" in data:
                svg = "".join(data["image/svg+xml"])
                assert int(re.search(r'width="(\d+)"', svg).group(1)) <= PANEL_MAX_WIDTH_PX
                svgs.append(svg)
    assert pngs >= 8
    assert svgs == [p.static_svg() for p in queries_and_keys.panels().values()]


def test_question_numbers_are_the_computation(river, head):
    """Questions 2 and 3 quote scores and terms: read them and recompute them."""
    tokens, X, Q, K, scores = river
    b, r, f = (tokens.index(w) for w in ("bank", "river", "fish"))
    br, rb = quoted(TEXT, r"score for \*river\* is ([\d.]+) \([\d.]+ on the heatmap\), but \*river\*'s score for \*bank\* is only ([\d.]+)")
    assert (br, rb) == (round(scores[b, r], 2), round(scores[r, b], 2))
    x = X[b].copy()
    x[attention.PLACE] = 0.0
    _, q, K2, s = bank_row(x, head)
    was, now, fish = quoted(TEXT, r"\*river\*'s score falls from ([\d.]+) to ([\d.]+), and \*fish\* \(([\d.]+)\)")
    assert (was, now, fish) == (round(scores[b, r], 2), round(s[r], 2), round(s[f], 2))
    assert quoted(TEXT, r"ends up ([\d.]+) ahead") == round(s[f] - s[r], 2)
