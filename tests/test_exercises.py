"""The exercises of notebooks 01-05 and their worked solutions (notebooks/solutions/).

- In the committed notebooks every exercise is a stub (`...`) followed by its check, and the
  check's stored output is the friendly "not implemented yet" message (no traceback).
- Every solution notebook shows the ✅ pass message for each check, and its functions, executed
  again here, pass the checkers.
- Every number the questions and answers quote is read from the notebook's text (tests/notebook_text.py)
  and compared with the helpers' computation, never typed a second time here.
"""
import ast
import contextlib
import io
import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from helpers import attention, checks, embeddings  # noqa: E402
from notebook_text import number, quoted  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"

#: notebook -> the checks its exercises call, with the student's function name.
EXERCISES = {
    "01_word_embeddings": {"check_cosine_similarity": "my_cosine_similarity"},
    "02_queries_and_keys": {"check_scores": "my_scores"},
    "03_softmax_and_masking": {"check_softmax": "my_softmax", "check_causal_mask": "my_causal_mask",
                               "check_masked_softmax": "my_masked_softmax"},
    "04_values_and_context": {"check_attention": "my_attention"},
    "05_multi_head_attention": {"check_split_heads": "my_split_heads", "check_multi_head": "my_multi_head"},
    "06_word_order": {"check_sinusoidal": "my_sinusoidal", "check_rotate": "my_rotate"},
    "07_transformer_block": {"check_layer_norm": "my_layer_norm", "check_pre_norm_block": "my_pre_norm_block"},
    "08_learning_attention": {"check_softmax_backward": "my_softmax_backward",
                              "check_gradient_step": "my_gradient_step"},
    "09_a_trained_transformer": {"check_head_weights": "my_head_weights",
                                 "check_next_word_probabilities": "my_next_word_probabilities"},
}
CHECK_CALL = re.compile(r"^checks\.(check_\w+)\((\w+)\)\s*$")
NOT_YET = "is not implemented yet"
PASSED = "✅ Correct!"


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def text_output(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif "data" in out and "text/plain" in out["data"]:
            parts.append("".join(out["data"]["text/plain"]))
    return "".join(parts)


def check_cells(nb):
    """{check name: (index, cell, student function name)} for every `checks.check_x(f)` cell."""
    found = {}
    for i, cell in enumerate(nb["cells"]):
        match = CHECK_CALL.match(source(cell).strip()) if cell["cell_type"] == "code" else None
        if match:
            found[match.group(1)] = (i, cell, match.group(2))
    return found


def solution_path(name):
    return SOLUTIONS / f"{name}_solutions.ipynb"


def markdown(nb):
    return "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def section(nb, start, stop="## Summary"):
    text = markdown(nb)
    return text[text.index(start):text.index(stop)]


# ------------------------------------------------------------- the student notebooks


@pytest.mark.parametrize("name", EXERCISES)
def test_exercises_section_sits_just_before_the_summary(name):
    nb = load(NOTEBOOKS / f"{name}.ipynb")
    heads = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"
             and source(c).startswith("## ")]
    titles = [source(nb["cells"][i]).splitlines()[0] for i in heads]
    assert titles[-2:] == ["## Exercises", "## Summary"], titles
    exercises = section(nb, "## Exercises")
    assert len(re.findall(r"^### ", exercises, re.MULTILINE)) >= 3, "at least three exercises"
    assert f"solutions/{name}_solutions.ipynb" in exercises
    assert (SOLUTIONS / f"{name}_solutions.ipynb").is_file()


@pytest.mark.parametrize("name", EXERCISES)
def test_every_exercise_is_a_stub_whose_check_says_not_implemented(name):
    nb = load(NOTEBOOKS / f"{name}.ipynb")
    found = check_cells(nb)
    assert set(found) == set(EXERCISES[name]), found.keys()
    for check, (i, cell, function) in found.items():
        assert function == EXERCISES[name][check]
        stub = source(nb["cells"][i - 1])
        assert nb["cells"][i - 1]["cell_type"] == "code"
        tree = ast.parse(stub)
        assert len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef), stub
        assert tree.body[0].name == function
        body = tree.body[0].body
        assert len(body) == 1, f"the stub of {function} should hold only `...`"
        is_ellipsis = isinstance(body[0], ast.Expr) and getattr(body[0].value, "value", None) is Ellipsis
        is_raise = isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])
        assert is_ellipsis or is_raise, stub
        assert "# your code here" in stub
        out = text_output(cell)
        assert NOT_YET in out and "⏳" in out, out
        assert all(o["output_type"] != "error" for o in cell["outputs"])
        assert "Traceback" not in out and out.rstrip().endswith("False"), out  # the check returns False


@pytest.mark.parametrize("name", EXERCISES)
def test_the_stubs_really_give_the_not_implemented_message(name):
    nb = load(NOTEBOOKS / f"{name}.ipynb")
    for check, (i, _, function) in check_cells(nb).items():
        namespace = {"np": np}
        exec(source(nb["cells"][i - 1]), namespace)  # noqa: S102 - our own notebook's stub
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert getattr(checks, check)(namespace[function]) is False
        assert NOT_YET in printed.getvalue()


@pytest.mark.parametrize("name", EXERCISES)
def test_questions_have_collapsed_answers(name):
    nb = load(NOTEBOOKS / f"{name}.ipynb")
    questions = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"
                 and source(c).startswith("### Question")]
    assert len(questions) >= 1
    for text in questions:
        assert "<details><summary>Answer</summary>" in text and text.rstrip().endswith("</details>"), text


# ------------------------------------------------------------- the solution notebooks


@pytest.mark.parametrize("name", EXERCISES)
def test_solution_notebook_shows_every_check_passing(name):
    nb = load(solution_path(name))
    found = check_cells(nb)
    assert set(found) == set(EXERCISES[name])
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for c in code:
        assert all(o["output_type"] != "error" for o in c["outputs"])
        assert not any(o["output_type"] == "stream" and o["name"] == "stderr" for o in c["outputs"])
    for check, (_, cell, function) in found.items():
        assert text_output(cell).startswith(f"{PASSED} Your {check.removeprefix('check_')} passed all"), \
            text_output(cell)
        assert text_output(cell).rstrip().endswith("True")  # the check's return value
    # the same questions as the student notebook, answered in the open
    student = load(NOTEBOOKS / f"{name}.ipynb")
    titles = [source(c).splitlines()[0][4:] for c in student["cells"] if c["cell_type"] == "markdown"
              and re.match(r"### (Exercise|Question) \d", source(c))]
    solution_titles = [source(c).splitlines()[0][3:] for c in nb["cells"] if c["cell_type"] == "markdown"
                       and re.match(r"## (Exercise|Question) \d", source(c))]
    assert titles == solution_titles
    assert "**Answer.**" in markdown(nb)
    assert "../" not in "".join(source(c) for c in code), "no relative paths: solutions run from solutions/"


@pytest.mark.parametrize("name", EXERCISES)
def test_solution_functions_pass_the_checkers_when_run_again(name):
    nb = load(solution_path(name))
    namespace = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                exec(source(cell), namespace)  # noqa: S102 - our own solution notebook
        for check, function in EXERCISES[name].items():
            assert getattr(checks, check)(namespace[function]) is True, (check, printed.getvalue())
    assert printed.getvalue().count(PASSED) == 2 * len(EXERCISES[name])  # the cells' checks and ours


def test_the_solutions_answer_each_students_question_the_same_way():
    """The collapsed answer in the notebook and the solution's answer are the same text."""
    for name in EXERCISES:
        student = markdown(load(NOTEBOOKS / f"{name}.ipynb"))
        answers = re.findall(r"<details><summary>Answer</summary>\n\n(.*?)\n\n</details>", student, re.S)
        solution = markdown(load(solution_path(name)))
        for answer in answers:
            assert f"**Answer.** {answer}" in solution


# ------------------------------------------------ the numbers the answers quote

KV = embeddings.toy_vectors()
RIVER_CENTRE = np.mean([KV[w] for w in embeddings.RIVER_CLUSTER], axis=0)
TOWN_CENTRE = np.mean([KV[w] for w in embeddings.TOWN_CLUSTER], axis=0)


def r2(x):
    """A computed number rounded as the prose quotes it (two decimals)."""
    return round(float(x), 2)


def vector(text, pattern):
    """The vector `[0, 1.4, −0.8, ...]` that `pattern` (one group: the inside of the brackets) finds."""
    (inside,) = re.findall(pattern, text)
    return np.array([number(v) for v in inside.split(",")])


def exercises_text(name):
    return section(load(NOTEBOOKS / f"{name}.ipynb"), "## Exercises")


def test_nb01_answers():
    text = exercises_text("01_word_embeddings")
    cos = embeddings.cosine_similarity
    water = embeddings.DIMENSIONS.index("water")
    old, new = quoted(text, r"drag `water` from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)")
    assert old == KV["bank"][water]
    bank = KV["bank"].copy()
    bank[water] = new
    near = sorted(((cos(bank, KV[w]), w) for w in embeddings.RIVER_CLUSTER + embeddings.TOWN_CLUSTER),
                  reverse=True)[:3]
    assert [w for _, w in near] == ["river", "fish", "fisherman"]
    said = quoted(text, r"\*river\* (\d+(?:\.\d+)?), \*fish\* (\d+(?:\.\d+)?) and \*fisherman\* (\d+(?:\.\d+)?)")
    assert list(said) == [r2(c) for c, _ in near]
    assert quoted(text, r"wins, (\d+(?:\.\d+)?) against (\d+(?:\.\d+)?) for the town words") == (
        r2(cos(bank, RIVER_CENTRE)), r2(cos(bank, TOWN_CENTRE)))
    river_water = [KV[w][water] for w in embeddings.RIVER_CLUSTER]
    town_water = {KV[w][water] for w in embeddings.TOWN_CLUSTER}
    lo, hi, t1, t2 = quoted(text, r"(\d+(?:\.\d+)?) to (\d+(?:\.\d+)?) for the river words, ([−-]?\d+(?:\.\d+)?) or ([−-]?\d+(?:\.\d+)?) for the town words")
    assert (lo, hi) == (min(river_water), max(river_water)) and {t1, t2} == town_water
    assert quoted(text, r"water by (\d+(?:\.\d+)?) adds") == r2(new - old)
    # Question 3: nearest word of the whole table is a little word
    (nearest, similarity), = KV.most_similar("bank", topn=1)
    word, c_word, c_river = re.findall(r"nearest word is \*(\w+)\* \(cosine (\d+(?:\.\d+)?)\), not \*river\* \((\d+(?:\.\d+)?)\)",
                                       text)[0]
    assert word == nearest and number(c_word) == r2(similarity)
    assert number(c_river) == r2(cos(KV["bank"], KV["river"]))
    assert np.array_equal(vector(text, rf"\*{nearest}\* is `\[([^\]]+)\]`"), KV[nearest])
    largest = int(np.argmax(KV["bank"]))
    assert quoted(text, r"\*place\*, \*bank\*'s largest number \((\d+(?:\.\d+)?)\)") == KV["bank"][largest]
    assert embeddings.DIMENSIONS[largest] == "place"
    river_largest = int(np.argmax(np.abs(KV["river"])))
    assert quoted(text, r"\*river\*'s largest number, ([−-]?\d+(?:\.\d+)?) on \*town vs nature\*") == KV["river"][river_largest]
    assert embeddings.DIMENSIONS[river_largest] == "town vs nature" and KV["bank"][river_largest] == 0
    # Question 4: word2vec has one row per word
    assert quoted(text, r"shape `\((\d+),\)`") == embeddings.train_word2vec()["bank"].shape[0]
    assert quoted(text, r"sentences instead of (\d+)") == len(embeddings.read_corpus())


def test_nb02_answers():
    text = exercises_text("02_queries_and_keys")
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, _ = attention.demo_head()
    Q, K = X @ W_q, X @ W_k
    b, r, f = tokens.index("bank"), tokens.index("river"), tokens.index("fish")
    br, br1, rb, rb1 = quoted(text, r"score for \*river\* is (\d+(?:\.\d+)?) \((\d+(?:\.\d+)?) on the heatmap\), but "
                                    r"\*river\*'s score for \*bank\* is only (\d+(?:\.\d+)?) \((\d+(?:\.\d+)?)\)")
    assert (br, rb) == (r2(Q[b] @ K[r]), r2(Q[r] @ K[b]))
    assert (br1, rb1) == (round(Q[b] @ K[r], 1), round(Q[r] @ K[b], 1))
    assert np.allclose(vector(text, r"q_bank = x_bank W_q = \[([^\]]+)\]"), Q[b])
    assert np.allclose(vector(text, r"q_river = \[([^\]]+)\]"), Q[r])
    assert "W_k is the identity" in text and np.array_equal(W_k, np.eye(6))
    assert quoted(text, r"carries little topic \((\d+(?:\.\d+)?)\)") == X[b, attention.TOPIC]
    # Question 3: place slider at 0
    x = X[b].copy()
    x[attention.PLACE] = 0
    q = x @ W_q
    K2 = K.copy()
    K2[b] = x @ W_k
    new = q @ K2.T
    assert quoted(text, r"score falls from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?), and \*fish\* \((\d+(?:\.\d+)?)\)") == (
        r2(Q[b] @ K[r]), r2(new[r]), r2(new[f]))
    assert new[f] > new[r]
    T, P = attention.TOPIC, attention.PLACE
    assert quoted(text, r"= (\d+(?:\.\d+)?) becomes \d+ × [\d.]+ = (\d+(?:\.\d+)?)\.") == (r2(Q[b, T]), r2(q[T]))
    assert quoted(text, r"topic term falls from [\d.]+ × [\d.]+ = (\d+(?:\.\d+)?) to [\d.]+ × [\d.]+ = (\d+(?:\.\d+)?)") == (
        r2(Q[b, T] * K[r, T]), r2(q[T] * K[r, T]))
    assert quoted(text, r"place term \([\d.]+ × [\d.]+ = (\d+(?:\.\d+)?)\) disappears") == r2(Q[b, P] * K[r, P])
    assert quoted(text, r"topic term too \((\d+(?:\.\d+)?) → (\d+(?:\.\d+)?)\)") == (r2(Q[b, T] * K[f, T]), r2(q[T] * K[f, T]))
    assert quoted(text, r"was negative \(([−-]?\d+(?:\.\d+)?)\)") == r2(Q[b, P] * K[f, P])
    assert quoted(text, r"ends up (\d+(?:\.\d+)?) ahead") == r2(new[f] - new[r])
    # Question 4: the d_k panel, recomputed at the d_k the question names
    from helpers.lessons import queries_and_keys

    d_k = int(quoted(text, r"drag `d_k` to (\d+)"))
    panel = queries_and_keys.scaling_panel()
    readout = panel.set(d_k=d_k)
    assert panel.text == readout and not panel.error
    N = r"(\d+(?:\.\d+)?)"
    spread, root = quoted(readout, rf"spread \(std\) of q·k over \d+ pairs: {N}\s+\(√d_k = {N}\)")
    assert root == np.sqrt(d_k)
    unscaled, scaled = quoted(readout, rf"{N} without scaling, {N} with scaling")
    assert quoted(text, rf"largest weight is {N}, with scaling only {N}") == (unscaled, scaled)
    assert quoted(text, rf"at d_k = {d_k} it is {N}") == spread
    assert quoted(text, rf"√{d_k} = {N}") == root
    assert quoted(text, rf"back to about 1 \({N}\)") == quoted(readout, rf"after dividing by √d_k:\s+{N}")


def test_nb03_answers():
    text = exercises_text("03_softmax_and_masking")
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, _ = attention.demo_head()
    scores = (X @ W_q) @ (X @ W_k).T / np.sqrt(6)
    b, r, f = tokens.index("bank"), tokens.index("river"), tokens.index("fish")
    gap = scores[b, r] - scores[b, f]
    T, w_r, w_f, s_r, s_f, bound = quoted(
        text, r"temperature to (\d+(?:\.\d+)?): \*river\* takes (\d+(?:\.\d+)?) of \*bank\*'s attention and \*fish\* only "
              r"(\d+(?:\.\d+)?), although their scores \((\d+(?:\.\d+)?) and (\d+(?:\.\d+)?)\) differ by less than (\d+(?:\.\d+)?)")
    w = attention.softmax(scores[b], temperature=T)
    assert (w_r, w_f, s_r, s_f) == (r2(w[r]), r2(w[f]), r2(scores[b, r]), r2(scores[b, f])) and gap < bound
    # the panel the question names says the same at that temperature
    from helpers.lessons import softmax_and_masking

    panels = softmax_and_masking.panels()
    readout = panels["temperature"].set(temperature=T)
    assert readout.startswith(f"T = {T:g}: top weights river {w_r:.2f}, fish {w_f:.2f}")
    assert quoted(text, r"the gap of (\d+(?:\.\d+)?) between") == round(gap, 3)
    assert quoted(text, r"\((\d+(?:\.\d+)?) from the rounded scores\)") == r2(s_r - s_f)
    assert quoted(text, r"multiplies every gap by (\d+)") == round(1 / T)
    assert quoted(text, r"becomes (\d+(?:\.\d+)?), and softmax") == r2(gap / T)
    exponent, ratio = quoted(text, r"e\^(\d+(?:\.\d+)?) ≈ (\d+)")
    assert exponent == r2(gap / T) and ratio == round(w[r] / w[f])
    assert quoted(text, r"about (\d+) times") == ratio
    # Question 5: fish with the causal mask
    W = attention.softmax(scores)
    causal = attention.causal_mask(len(tokens))
    Wc = attention.softmax(np.where(causal, scores, -np.inf))
    visible = W[f, :f + 1].sum()
    (hidden,) = re.findall(r"keys after \*fish\* \(\*([^)]+)\*\)", text)
    assert hidden.split(", ") == [tokens[j] for j in np.flatnonzero(~causal[f])]
    assert quoted(text, r"weight on itself jumps from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)") == (r2(W[f, f]), r2(Wc[f, f]))
    assert quoted(text, r"together only (\d+(?:\.\d+)?), since \*river\* alone took (\d+(?:\.\d+)?)") == (r2(visible), r2(W[f, r]))
    assert quoted(text, r"(\d+(?:\.\d+)?) / (\d+(?:\.\d+)?) = (\d+(?:\.\d+)?)\.") == (r2(W[f, f]), r2(visible), r2(Wc[f, f]))
    assert quoted(text, r"a row adding up to (\d+(?:\.\d+)?)") == r2(visible)
    assert np.allclose(Wc[f, :f + 1], W[f, :f + 1] / visible)
    explorer = panels["explorer"]
    fish_none = explorer.set(query="fish", mask="none", temperature=1.0)
    fish_causal = explorer.set(mask="causal")
    assert fish_none.startswith(f"fish (mask: none, T = 1): top weights fish {W[f, f]:.2f}")
    assert fish_causal.startswith(f"fish (mask: causal, T = 1): top weights fish {Wc[f, f]:.2f}")
    assert f"hidden keys: {hidden}   row sum 1.00" in fish_causal
    # Question 6: bank's row does not change
    assert causal[b].all() and np.allclose(Wc[b], W[b])
    row = quoted(text, r"\(river (\d+(?:\.\d+)?), fish (\d+(?:\.\d+)?), bank (\d+(?:\.\d+)?)\)")
    assert list(row) == [r2(W[b, j]) for j in (r, f, b)]
    bank_causal = explorer.set(query="bank", mask="causal")
    assert bank_causal == explorer.set(mask="none").replace("mask: none", "mask: causal")
    assert "top weights river {:.2f}, fish {:.2f}, bank {:.2f}\nhidden keys: none".format(*row) in bank_causal


def top_weights(readout):
    """'bank attends most to: bank 0.60, money 0.29' -> [('bank', 0.6), ('money', 0.29)]."""
    (line,) = re.findall(r"attends most to: (.*)", readout)
    return [(word, number(value)) for word, value in re.findall(r"(\w+) (\d+(?:\.\d+)?)", line)]


def centre_cosines(readout, centre):
    """The readout's 'cosine with the <centre> centre: before -> after' as two floats."""
    return quoted(readout, rf"cosine with the {centre} centre:\s+(\d+(?:\.\d+)?) -> (\d+(?:\.\d+)?)")


def test_nb04_answers():
    from helpers.lessons import values_and_context

    text = exercises_text("04_values_and_context")
    panel = values_and_context.bank_context_panel(vectors=KV)
    start_sharpness = panel.controls["sharpness"].value
    lake = panel.set(word="lake", sharpness=quoted(text, r"[Pp]ick \*lake\* and drag `sharpness` to (\d+(?:\.\d+)?)"))
    n = len(embeddings.sentence_matrix("Tom is going to the lake bank.", KV)[0])
    assert quoted(text, r"Every one of the (\d+) words") == n
    assert quoted(text, rf"1/{n} ≈ (\d+(?:\.\d+)?)") == r2(1 / n)
    assert {w for _, w in top_weights(lake)} == {r2(1 / n)}
    assert {panel.scene.keyed()[f"w.v{i}"][1] for i in range(n)} == {f"{1 / n:.2f}"}  # the bars say it too
    assert quoted(text, r"river centre still rises from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)") == centre_cosines(lake, "river")

    money = panel.set(word="money", sharpness=quoted(text, r"[Pp]ick \*money\* and drag `sharpness` to (\d+(?:\.\d+)?)"))
    (top, w_top), (second, w_second) = top_weights(money)[:2]
    assert (top, second) == ("bank", "money")
    assert quoted(text, r"\*bank\* gives (\d+(?:\.\d+)?) of its attention to itself and only (\d+(?:\.\d+)?) to \*money\*") \
        == (w_top, w_second)
    assert quoted(text, r"town centre rises from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)") == centre_cosines(money, "town")
    assert quoted(text, r"closer to the town centre, (\d+(?:\.\d+)?) against (\d+(?:\.\d+)?)") == (
        centre_cosines(money, "town")[0], centre_cosines(money, "river")[0])

    start = quoted(text, r"At the starting sharpness \((\d+(?:\.\d+)?)\)")
    assert start == start_sharpness
    ranked = top_weights(panel.set(word="hospital", sharpness=start))
    assert ranked[0][0] == "hospital"
    assert quoted(text, r"\*hospital\* gets \*bank\*'s largest weight \((\d+(?:\.\d+)?)\)") == ranked[0][1]
    ranked = top_weights(panel.set(word="money", sharpness=start))
    assert [w for w, _ in ranked[:2]] == ["bank", "money"]
    W_q, _, _ = attention.demo_head()
    q = KV["bank"] @ W_q
    assert np.allclose(vector(text, r"q_bank = \[([^\]]+)\]"), q)
    assert quoted(text, r"the score is (\d+(?:\.\d+)?) for \*hospital\*, (\d+(?:\.\d+)?) for \*bank\* itself and "
                        r"(\d+(?:\.\d+)?) for \*money\*") == tuple(r2(q @ KV[w]) for w in ("hospital", "bank", "money"))
    P = attention.PLACE
    assert quoted(text, r"\((\d+(?:\.\d+)?) × (\d+(?:\.\d+)?) = \+(\d+(?:\.\d+)?)\)") == (KV["hospital"][P], r2(q[P]),
                                                                     r2(KV["hospital"][P] * q[P]))
    assert quoted(text, r"\(([−-]?\d+(?:\.\d+)?) × (\d+(?:\.\d+)?) = ([−-]?\d+(?:\.\d+)?)\) and is drier") == (KV["money"][P], r2(q[P]),
                                                                        r2(KV["money"][P] * q[P]))


def test_nb05_answers():
    from helpers.lessons import multi_head_attention as lesson
    from helpers.panels.pieces.colours import weight_colours

    text = exercises_text("05_multi_head_attention")
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    panel = lesson.multi_head_panel(KV, W_q, W_k, W_v, W_o)
    heads = quoted(text, r"set (\d+) heads: head \d+ gives")
    head = int(quoted(text, rf"set {heads:.0f} heads: head (\d+) gives"))
    readout = panel.set(num_heads=int(heads), sentence="river", sharpness=1.0)
    even = quoted(text, r"gives every word the same weight, (\d+(?:\.\d+)?)")
    assert f"head {head}: bank -> all about {even:.2f}, going -> all about {even:.2f}" in readout
    assert even == r2(1 / len(tokens)) and not W_q[:, head].any()
    # the heatmap of that head is one colour: the colour of 1/9
    keyed = panel.scene.keyed()
    (key,) = [k for k in keyed if k.endswith(f".h{head}") and "display:none" not in keyed[k][0]["style"]]
    assert {keyed[f"{key}.{i}.{j}"][0]["fill"] for i in range(9) for j in range(9)} == set(weight_colours([1 / 9]))

    low, high = quoted(text, r"drag `sharpness` from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)")
    before, after = quoted(text, r"\*going\* → \*Tom\* rises from (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)")
    (head,) = [int(h) for h in re.findall(r"in head (\d+), \*going\*", text)]
    going, tom = tokens.index("going"), tokens.index("tom")
    _, w1 = attention.multi_head_attention(X, low * W_q, W_k, W_v, W_o, 2)
    _, w2 = attention.multi_head_attention(X, high * W_q, W_k, W_v, W_o, 2)
    assert (before, after) == (r2(w1[head, going, tom]), r2(w2[head, going, tom]))
    assert f"going -> tom {after:.2f}" in panel.set(num_heads=2, sentence="river", sharpness=high)
    assert panel.scene.keyed()[f"two.h{head}.{going}.{tom}"][0]["fill"] == weight_colours([w2[head, going, tom]])[0]
    assert quoted(text, r"temperature T = (\d+(?:\.\d+)?)") == low / high
    d_model = X.shape[1]
    assert quoted(text, r"h must divide (\d+)") == d_model
    with pytest.raises(ValueError):
        attention.split_heads(X @ W_q, 4)
