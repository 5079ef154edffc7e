"""Notebook 01 (word embeddings): every claim of the prose, the bank panel, the pictures.

Each test names the notebook section whose prose it backs. Values are recomputed
from the helpers, never copied from the notebook's outputs.
"""

import inspect
import itertools
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import embeddings as E  # noqa: E402
from helpers import plots, widgets  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "01_word_embeddings.ipynb"
KEY = list(E.RIVER_CLUSTER) + ["bank"] + list(E.TOWN_CLUSTER)
RIVER, TOWN = list(E.RIVER_CLUSTER), list(E.TOWN_CLUSTER)
DIM = {name: j for j, name in enumerate(E.DIMENSIONS)}
LITTLE_WORDS = {"the", "a", "at", "in", "on", "by", "of", "to", "and", "is", "near", "or", "it",
                "he", "she", "his", "her", "we", "i", "they", "was", "for", "with"}


@pytest.fixture()
def kv():
    """A fresh toy table for every test (gensim's similarity can rescale a float64 table)."""
    return E.toy_vectors()


@pytest.fixture(scope="module")
def wv():
    return E.train_word2vec()


@pytest.fixture(scope="module")
def panel():
    p = widgets.bank_vector_panel()
    yield p
    matplotlib.pyplot.close(p.fig)


def cos(a, b):
    return float(E.cosine_similarity(np.asarray(a, float), np.asarray(b, float)))


# ------------------------------------------------------------ 1. words to vectors


def test_sentence_becomes_a_9_by_6_matrix(kv):
    tokens = E.tokenize(E.SENTENCE)
    assert tokens == ["tom", "is", "going", "to", "fish", "at", "the", "river", "bank"]
    X = np.stack([kv[t] for t in tokens])
    assert X.shape == (9, 6)
    tokens_h, X_h = E.sentence_matrix(E.SENTENCE, kv)
    assert tokens_h == tokens and np.array_equal(X_h, X)
    assert np.allclose(X[tokens.index("river")], [-0.9, 0.9, -0.2, 0.4, 0.2, 0.6])


# ------------------------------------------------------------------ 2. the table


def test_table_has_44_words_with_6_named_numbers(kv):
    assert len(kv) == 44 and kv.vector_size == 6
    assert E.DIMENSIONS == ("town vs nature", "water", "person", "place", "action", "topic")
    V = kv[kv.index_to_key]
    assert V.min() >= -1 and V.max() <= 1  # "on a scale from about -1 to 1"


@pytest.mark.parametrize("dim, low, high", [
    ("town vs nature", ["river", "fish", "lake"], ["hospital", "city", "money"]),
    ("water", ["money", "cash"], ["river", "lake", "sea"]),
    ("person", [], ["tom", "fisherman", "doctor"]),
    ("place", ["money", "cash"], ["hospital", "post_office", "river", "at", "in", "near"]),
    ("action", [], ["going", "swim", "deposit"]),
    ("topic", ["the", "is", "at"], []),
])
def test_dimension_table_examples(kv, dim, low, high):
    j = DIM[dim]
    col = kv[kv.index_to_key][:, j]
    for w in low:
        assert kv[w][j] <= np.quantile(col, 0.25), (dim, w)
        assert kv[w][j] < 0.1, (dim, w)
    for w in high:
        assert kv[w][j] >= 0.3, (dim, w)
        assert kv[w][j] >= np.quantile(col, 0.6), (dim, w)


def test_topic_is_small_for_grammar_words_and_large_for_content_words(kv):
    j = DIM["topic"]
    for w in ["the", "is", "at", "to", "of", "and", "a"]:
        assert kv[w][j] <= 0.05
    for w in KEY + ["money", "deposit", "water", "lake"]:
        assert kv[w][j] >= 0.3


def test_seven_words_read_column_by_column(kv):
    t, water, place = DIM["town vs nature"], DIM["water"], DIM["place"]
    for w in RIVER:
        assert kv[w][t] < 0 and kv[w][water] > 0.5
    for w in TOWN:
        assert kv[w][t] > 0 and kv[w][water] < 0
    bank = kv["bank"]
    assert bank[t] == 0.0  # "exactly 0 on town vs nature"
    assert 0 < bank[water] < 0.5  # "a little water"
    assert bank[place] >= 0.6 and np.argmax(bank) == place  # "a high place value"


# ----------------------------------------------------------------------- 3. the map


def test_map_axes_read_town_minus_water_and_person(kv):
    m = E.project_2d(kv)
    a1, a2 = m.axes
    assert round(a1[DIM["town vs nature"]], 2) == 0.79
    assert round(a1[DIM["water"]], 2) == -0.61
    assert np.argmax(np.abs(a1)) == DIM["town vs nature"]
    assert np.argmax(np.abs(a2)) == DIM["person"] and a2[DIM["person"]] > 0
    for w in ["tom", "doctor"]:  # "sit high up"
        assert m[w][1] > 0.5
        assert all(m[w][1] > m[k][1] for k in KEY if k != "fisherman")


def test_map_river_left_town_right_bank_between(kv):
    m = E.project_2d(kv)
    x = {w: m[w][0] for w in KEY}
    assert max(x[w] for w in RIVER) < x["bank"] < min(x[w] for w in TOWN)
    assert all(x[w] < 0 for w in RIVER) and all(x[w] > 0 for w in TOWN)
    # the town words are a tight group: smaller spread than the river words
    spread = {name: max(np.linalg.norm(m[a] - m[b]) for a, b in itertools.combinations(ws, 2))
              for name, ws in (("river", RIVER), ("town", TOWN))}
    assert spread["town"] < 0.2 < spread["river"]


def test_map_is_fitted_to_the_whole_table(kv):
    m = E.project_2d(kv)
    assert m.words == kv.index_to_key and m.coords.shape == (44, 2)


# ------------------------------------------------------------------- 4. cosine


def test_cosine_formula_matches_helper_and_gensim(kv):
    def cosine(a, b):
        return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))

    for a, b in itertools.combinations(KEY + ["money", "water"], 2):
        assert np.isclose(cosine(kv[a], kv[b]), E.cosine_similarity(kv[a], kv[b]))
    assert round(cos(kv["river"], kv["fish"]), 2) == 0.90
    assert round(cos(kv["river"], kv["hospital"]), 2) == -0.16
    fresh = E.toy_vectors()
    assert np.isclose(fresh.similarity("bank", "river"), cosine(kv["bank"], kv["river"]))


def test_cosine_of_unit_rows_is_a_matrix_product(kv):
    W = kv[KEY + ["money", "water"]]
    W_unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    assert np.allclose(W_unit @ W_unit.T, E.cosine_similarity(W, W))


def test_cosine_range_same_direction_and_opposite():
    a = np.array([1.0, 2.0, 0.5])
    assert np.isclose(cos(a, 3 * a), 1.0)  # only the direction counts
    assert np.isclose(cos(a, -a), -1.0)
    assert np.isclose(cos([1, 0], [0, 1]), 0.0)


def test_similarity_heatmap_claims(kv):
    S = {(a, b): cos(kv[a], kv[b]) for a in KEY + ["money", "water"] for b in KEY + ["money", "water"]}
    inside = [S[a, b] for g in (RIVER, TOWN) for a, b in itertools.combinations(g, 2)]
    assert round(min(inside), 2) == 0.67
    assert all(round(S[a, b], 2) == 0.99 for a, b in itertools.combinations(TOWN, 2))
    assert all(S[a, b] < 0 for a in RIVER for b in TOWN)
    bank = {w: S["bank", w] for w in RIVER + TOWN}
    assert all(v > 0 for v in bank.values())
    assert max(bank, key=bank.get) == "river" and round(bank["river"], 2) == 0.68
    assert round(bank["fisherman"], 2) == 0.18
    assert all(0.45 <= bank[w] <= 0.55 for w in TOWN)  # "about 0.5 with each town word"
    # water behaves like a river word, money like a town word
    assert all(S["water", w] > 0.6 for w in RIVER) and all(S["water", w] < 0 for w in TOWN)
    assert all(S["money", w] > 0.6 for w in TOWN) and all(S["money", w] < 0 for w in RIVER)


# ---------------------------------------------------------------- 5. the panel


def expected_readout(kv_vectors, v):
    C = np.stack([kv_vectors[w] for w in RIVER + TOWN])
    sims = E.cosine_similarity(v, C)
    order = np.argsort(-sims, kind="stable")[:3]
    centres = np.stack([C[:3].mean(0), C[3:].mean(0)])
    return [(RIVER + TOWN)[i] for i in order], sims[order], E.cosine_similarity(v, centres)


def marker_xy(p):
    dot = p.emap.markers["edited"][0]
    return np.array([dot.get_xdata()[0], dot.get_ydata()[0]])


def test_panel_has_one_slider_per_dimension(panel, kv):
    assert list(panel.controls) == ["town_vs_nature", "water", "person", "place", "action", "topic"]
    assert [w.description for w in panel.controls.values()] == list(E.DIMENSIONS)
    assert np.allclose([w.value for w in panel.controls.values()], kv["bank"])
    assert all(w.min == -1 and w.max == 1 for w in panel.controls.values())


def test_panel_map_is_the_pca_of_the_unedited_table(panel, kv):
    m = E.project_2d(kv)
    assert np.allclose(panel.map2d.coords, m.coords) and np.allclose(panel.map2d.axes, m.axes)


def test_panel_starts_mixed(panel, kv):
    panel.reset()
    words, sims, centres = expected_readout(kv, kv["bank"])
    assert words == ["river", "hospital", "restaurant"]  # nearest is river, next two are town words
    assert "nearest 3 of the 6 cluster words: river 0.68, hospital 0.53, restaurant 0.53" in panel.text
    assert np.round(centres, 2).tolist() == [0.48, 0.53]  # slightly closer to the town centre
    assert centres[1] > centres[0]
    assert np.allclose(marker_xy(panel), panel.map2d["bank"])


def test_driving_each_slider_moves_the_marker_to_map_of_vector(panel, kv):
    panel.reset()
    rng = np.random.default_rng(0)
    xlim, ylim = panel.emap.ax.get_xlim(), panel.emap.ax.get_ylim()
    n_artists = len(panel.emap.ax.get_children())
    for name in panel.keys:
        before = panel.text
        value = float(np.round(rng.uniform(-0.6, 0.6), 2))
        if np.isclose(value, panel.controls[name].value):
            value = -value if value else 0.5
        panel.controls[name].value = value  # like a mouse drag
        assert panel.text != before
        v = np.array([panel.controls[k].value for k in panel.keys])
        assert np.allclose(panel.state["vector"], v)
        xy = panel.map2d(v)
        clipped = np.array([np.clip(xy[0], *xlim), np.clip(xy[1], *ylim)])
        assert np.allclose(marker_xy(panel), clipped)
        if panel.state["on_map"]:
            assert np.allclose(marker_xy(panel), xy)
        arrow = panel.emap.markers["edited"][2]
        assert np.allclose(arrow._posA_posB[1], marker_xy(panel))
        assert np.allclose(arrow._posA_posB[0], panel.map2d["bank"])  # starts at the table's bank
        words, sims, centres = expected_readout(kv, v)
        assert [w for w, _ in panel.state["neighbours"]] == words
        assert np.allclose([b.get_height() for b in panel.bars.bars], centres)
        assert f"{E.display_word(words[0])} {sims[0]:.2f}" in panel.text
    # the map itself stays fixed and no artists were added
    assert panel.emap.ax.get_xlim() == xlim and panel.emap.ax.get_ylim() == ylim
    assert len(panel.emap.ax.get_children()) == n_artists
    for w in KEY:
        dot = panel.emap.points[w][0]
        assert np.allclose([dot.get_xdata()[0], dot.get_ydata()[0]], panel.map2d[w])
    panel.reset()


def test_panel_demo_water_gives_river_words(panel, kv):
    panel.reset()
    text = panel.set(water=0.9)
    assert [w for w, _ in panel.state["neighbours"]] == RIVER
    assert "river 0.76, fish 0.60, fisherman 0.33" in text
    c = panel.state["centre_cosines"]
    assert c["river words"] > c["town words"]
    assert (round(c["river words"], 2), round(c["town words"], 2)) == (0.61, 0.24)
    assert panel.map2d(panel.state["vector"])[0] < panel.map2d["bank"][0]  # moves toward the river side
    panel.reset()


def test_panel_demo_town_gives_town_words(panel):
    panel.reset()
    text = panel.set(town_vs_nature=0.8)
    assert sorted(w for w, _ in panel.state["neighbours"]) == sorted(TOWN)
    assert "hospital 0.81, restaurant 0.79, post office 0.79" in text
    c = panel.state["centre_cosines"]
    assert c["town words"] > c["river words"]
    assert (round(c["river words"], 2), round(c["town words"], 2)) == (-0.08, 0.80)
    panel.reset()


def test_panel_reset_restores_the_table(panel, kv):
    start = panel.reset()
    panel.set(water=-1.0, place=1.0)
    assert panel.reset() == start
    assert np.allclose(panel.state["vector"], kv["bank"])
    assert np.allclose(marker_xy(panel), panel.map2d["bank"])


@pytest.mark.parametrize("setting", [
    *[{k: v} for k in ["town_vs_nature", "water", "person", "place", "action", "topic"] for v in (-1.0, 1.0)],
    {k: -1.0 for k in ["town_vs_nature", "water", "person", "place", "action", "topic"]},
    {k: 1.0 for k in ["town_vs_nature", "water", "person", "place", "action", "topic"]},
])
def test_panel_extremes_are_finite(panel, setting):
    panel.reset()
    text = panel.set(**setting)
    assert text and "nan" not in text.lower()
    assert np.all(np.isfinite(marker_xy(panel)))
    heights = [b.get_height() for b in panel.bars.bars]
    assert len(heights) == 2 and np.all(np.isfinite(heights))
    assert len(panel.state["neighbours"]) == 3
    assert all(np.isfinite(c) for _, c in panel.state["neighbours"])
    x0, x1 = panel.emap.ax.get_xlim()
    assert x0 <= marker_xy(panel)[0] <= x1
    panel.reset()


def test_panel_all_zero_vector_is_explained_not_an_error(panel):
    text = panel.set(**{k: 0.0 for k in panel.keys})
    assert "no direction" in text and "nan" not in text.lower()
    assert [b.get_height() for b in panel.bars.bars] == [0.0, 0.0]
    assert np.all(np.isfinite(marker_xy(panel)))
    panel.reset()
    assert "nearest 3" in panel.text


def test_panel_shows_png_fallback_and_fixed_text(panel):
    bundle = panel._repr_mimebundle_()
    assert bundle["image/png"]
    assert bundle["text/plain"] == ("Panel: Edit bank's six numbers "
                                    "(town_vs_nature, water, person, place, action, topic)")


def test_panel_does_not_hold_a_view_into_the_table():
    kv = E.toy_vectors()
    p = widgets.bank_vector_panel(kv)
    kv.vectors[kv.key_to_index["bank"]] *= 2  # changing the table afterwards ...
    p.reset()
    assert np.allclose(p.emap.markers["edited"][2]._posA_posB[0], p.map2d["bank"])  # ... moves nothing
    matplotlib.pyplot.close(p.fig)


# ------------------------------------------------------------------ 6. gensim


def test_gensim_most_similar_on_the_table(kv):
    river = [w for w, _ in kv.most_similar("river", topn=3)]
    hospital = [w for w, _ in kv.most_similar("hospital", topn=3)]
    assert river == ["sea", "lake", "boat"]
    assert all(kv[w][DIM["water"]] >= 0.8 for w in river)  # "other water words"
    assert hospital == ["restaurant", "town", "city"]
    assert all(kv[w][DIM["town vs nature"]] >= 0.7 for w in hospital)  # "other town words"


def test_gensim_similarity_values(kv):
    fresh = E.toy_vectors()
    assert round(float(fresh.similarity("bank", "river")), 2) == 0.68
    assert round(float(fresh.similarity("bank", "hospital")), 2) == 0.53
    assert np.isclose(fresh.similarity("bank", "hospital"), cos(kv["bank"], kv["hospital"]))


def test_gensim_bank_neighbours_are_little_place_words(kv):
    near = [w for w, _ in kv.most_similar("bank", topn=6)]
    assert set(near) == {"on", "by", "at", "in", "of", "near"}
    assert all(kv[w][DIM["topic"]] <= 0.05 for w in near)  # little words
    place_words = {w for w in near if kv[w][DIM["place"]] >= 0.25}
    assert place_words == {"on", "by", "at", "in", "near"}  # five of them place words
    assert np.argmax(kv["bank"]) == DIM["place"]  # bank's clearest trait is place


def test_gensim_similarity_leaves_the_table_unchanged():
    """gensim 4.4 normalises looked-up vectors in place; toy_vectors() hands out copies."""
    fresh = E.toy_vectors()
    before = np.array(fresh["bank"])
    value = fresh.similarity("bank", "river")
    assert np.isclose(value, cos(before, E.toy_vectors()["river"]))
    np.testing.assert_array_equal(fresh["bank"], before)
    np.testing.assert_array_equal(fresh.vectors, E.toy_vectors().vectors)


# --------------------------------------------------------------- 7. word2vec


def corpus_counts():
    sentences = E.read_corpus()
    river_side = {"river", "water", "fish", "fishing", "fisherman", "boat", "lake"}
    money_side = {"money", "deposit", "cash", "loan", "account", "savings"}
    with_bank = [s for s in sentences if "bank" in s]
    return (sentences, sum(bool(river_side & set(s)) and not money_side & set(s) for s in with_bank),
            sum(bool(money_side & set(s)) and not river_side & set(s) for s in with_bank))


def test_corpus_is_a_few_hundred_sentences_with_both_banks():
    sentences, n_river, n_money = corpus_counts()
    assert 200 <= len(sentences) < 1000
    assert n_river >= 10 and n_money >= 10
    with_bank = [s for s in sentences if "bank" in s]
    assert any("river" in s and not {"money", "deposit", "cash"} & set(s) for s in with_bank)
    assert any("money" in s and not {"river", "fish", "water"} & set(s) for s in with_bank)


def test_word2vec_settings_as_described(wv):
    params = inspect.signature(E.train_word2vec).parameters
    assert params["window"].default == 8  # "up to 8 on each side"
    assert wv.vector_size == 20
    assert "bank" in wv.key_to_index


def test_word2vec_is_seeded():
    a, b = E.train_word2vec(), E.train_word2vec()
    assert a.index_to_key == b.index_to_key and np.array_equal(a.vectors, b.vectors)


def topic_words(wv):
    kv = E.toy_vectors()
    return {w for w in kv.index_to_key if kv[w][DIM["topic"]] >= 0.3 and w in wv.key_to_index}


def nearest_topic_words(wv, word, k=4):
    tw = topic_words(wv)
    return [w for w, _ in wv.most_similar(word, topn=len(wv)) if w in tw][:k]


def test_topic_filter_leaves_out_grammar_words(wv):
    tw = topic_words(wv)
    assert not tw & LITTLE_WORDS
    assert set(KEY) <= tw and len(tw) >= 20


def test_word2vec_raw_lists_are_noisy(wv):
    tw = topic_words(wv)
    raw = [w for word in ("river", "hospital") for w, _ in wv.most_similar(word, topn=5)]
    assert any(w not in tw for w in raw)  # words outside the table's topic words land near


def test_word2vec_neighbours_among_topic_words(wv):
    assert {"fish", "fisherman"} <= set(nearest_topic_words(wv, "river"))
    assert "post_office" in nearest_topic_words(wv, "hospital", k=3)
    bank = set(nearest_topic_words(wv, "bank"))
    river_side = {"river", "water", "fish", "fisherman", "boat", "lake", "sea", "swim"}
    money_side = {"money", "deposit", "cash", "loan", "account"}
    assert bank & river_side and bank & money_side  # bank's list mixes the two meanings


def w2v_means(wv):
    S = E.cosine_similarity(np.stack([wv[w] for w in KEY]), np.stack([wv[w] for w in KEY]))
    r, t, b = [0, 1, 2], [4, 5, 6], 3

    def mean(rows, cols):
        block = S[np.ix_(rows, cols)]
        return block[~np.eye(len(rows), dtype=bool)].mean() if rows == cols else block.mean()

    return dict(rr=mean(r, r), tt=mean(t, t), rt=mean(r, t), br=mean([b], r), bt=mean([b], t))


def test_word2vec_groups_appear(wv):
    m = w2v_means(wv)
    assert m["rr"] > m["rt"] + 0.3 and m["tt"] > m["rt"] + 0.3  # "much more alike" inside groups
    # "words in similar surroundings, such as river and fish, end up with similar vectors"
    assert wv.similarity("river", "fish") > m["rt"] + 0.3


def test_word2vec_bank_sits_between(wv):
    m = w2v_means(wv)
    assert m["br"] > m["rt"]  # more like the river words than the town words are
    assert m["bt"] > m["rt"]  # more like the town words than the river words are
    # "the river words (0.67) than the town words are (0.22) ... the town words (0.43)"
    assert [f"{m[k]:.2f}" for k in ("br", "rt", "bt")] == ["0.67", "0.22", "0.43"]
    mp = E.project_2d(wv, KEY)
    x = {w: mp[w][0] for w in KEY}
    lo, hi = sorted([[x[w] for w in RIVER], [x[w] for w in TOWN]], key=np.mean)
    assert max(lo) < x["bank"] < min(hi)


def test_word2vec_bank_blends_both_meanings(wv):
    for w in ["river", "fish", "water", "money", "deposit", "cash"]:
        assert round(float(wv.similarity("bank", w)), 2) >= 0.4, w  # "0.4 or more"


# ------------------------------------------------------------- 8. the problem


def test_bank_has_the_same_vector_in_both_sentences(kv, wv):
    ta, Xa = E.sentence_matrix(E.SENTENCE, kv)
    tb, Xb = E.sentence_matrix(E.CONTRAST_SENTENCE, kv)
    assert {"river", "fish"} <= set(ta) and {"deposit", "money"} <= set(tb)
    assert not {"river", "fish"} & set(tb)
    assert np.array_equal(Xa[ta.index("bank")], Xb[tb.index("bank")])
    assert np.array_equal(Xa[ta.index("bank")], E.toy_vectors()["bank"])
    assert wv["bank"].shape == (20,) and sum(k == "bank" for k in wv.index_to_key) == 1


# ------------------------------------------------------------ pictures (notebook 01 section)


def test_vector_table_shows_the_numbers(kv):
    fig, ax = plots.new_figure()
    hm = plots.vector_table(ax, KEY, kv[KEY])
    assert np.allclose(hm.image.get_array(), kv[KEY])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(E.DIMENSIONS)
    assert [t.get_text() for t in ax.get_yticklabels()] == [E.display_word(w) for w in KEY]
    assert hm.texts[0].get_text() == "-0.90"
    # numbers near zero are dark on the white middle of the signed colormap
    zero = KEY.index("bank") * 6 + DIM["town vs nature"]
    assert hm.texts[zero].get_color() == "black"
    matplotlib.pyplot.close(fig)


def test_cluster_map_and_same_word_figure(kv):
    m = E.project_2d(kv)
    fig, ax = plots.new_figure()
    emap = plots.cluster_map(ax, m, KEY)
    assert set(emap.points) == set(KEY)
    labels = [t.get_text() for t in ax.texts]
    assert "river words" in labels and "town words" in labels
    assert len(ax.patches) == 2
    matplotlib.pyplot.close(fig)
    ta, Xa = E.sentence_matrix(E.SENTENCE, kv)
    tb, Xb = E.sentence_matrix(E.CONTRAST_SENTENCE, kv)
    fig = plots.same_word_figure(ta, Xa, tb, Xb)
    frames = [p for ax in fig.axes for p in ax.patches]
    assert len(frames) == 2
    assert [f.get_y() + 0.5 for f in frames] == [ta.index("bank"), tb.index("bank")]
    matplotlib.pyplot.close(fig)


# ------------------------------------------------------------ the stored notebook


def test_notebook_shows_its_steps_and_drives_its_panel():
    # stored executed, in order, without errors: tests/test_notebooks_stored.py (all notebooks)
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in code]
    assert sources[0].startswith("%matplotlib widget")
    assert 'plots.pipeline_diagram(highlight=["embed"])' in sources[0]
    assert any("panel.set(" in s for s in sources)
    assert "## Summary" in "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
