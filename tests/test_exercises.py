"""The exercises of notebooks 01-05 and their worked solutions (notebooks/solutions/).

- In the committed notebooks every exercise is a stub (`...`) followed by its check, and the
  check's stored output is the friendly "not implemented yet" message (no traceback).
- Every solution notebook shows the ✅ pass message for each check, and its functions, executed
  again here, pass the checkers.
- The numbers the answers quote are recomputed from the helpers.
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
    return f"{float(x):.2f}"


def exercises_text(name):
    return section(load(NOTEBOOKS / f"{name}.ipynb"), "## Exercises")


def test_nb01_answers():
    text = exercises_text("01_word_embeddings")
    cos = embeddings.cosine_similarity
    bank = KV["bank"].copy()
    bank[1] = 0.9  # the water slider at 0.90
    near = sorted(((cos(bank, KV[w]), w) for w in embeddings.RIVER_CLUSTER + embeddings.TOWN_CLUSTER),
                  reverse=True)[:3]
    assert [w for _, w in near] == ["river", "fish", "fisherman"]
    assert [r2(c) for c, _ in near] == ["0.76", "0.60", "0.33"]
    assert r2(cos(bank, RIVER_CENTRE)) == "0.61" and r2(cos(bank, TOWN_CENTRE)) == "0.24"
    for value in ("*river* 0.76, *fish* 0.60 and *fisherman* 0.33", "0.61 against 0.24"):
        assert value in text
    water = [KV[w][1] for w in embeddings.RIVER_CLUSTER], [KV[w][1] for w in embeddings.TOWN_CLUSTER]
    assert min(water[0]) == 0.6 and max(water[0]) == 0.9 and set(water[1]) == {-0.3, -0.4}
    # Question 3: nearest word of the whole table is "on"
    ranked = KV.most_similar("bank", topn=1)
    assert ranked[0][0] == "on" and r2(ranked[0][1]) == "0.82" and r2(cos(KV["bank"], KV["river"])) == "0.68"
    assert np.argmax(KV["bank"]) == embeddings.DIMENSIONS.index("place") and KV["bank"][0] == 0
    assert list(KV["on"]) == [0, 0, 0, 0.3, 0.05, 0.05] and KV["river"][0] == -0.9
    assert "*on* (cosine 0.82), not *river* (0.68)" in text
    # Question 4: word2vec has one row per word
    assert "shape `(20,)`" in text and embeddings.train_word2vec()["bank"].shape == (20,)
    assert "instead of 410" in text and len(embeddings.read_corpus()) == 410


def test_nb02_answers():
    text = exercises_text("02_queries_and_keys")
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, _ = attention.demo_head()
    Q, K = X @ W_q, X @ W_k
    b, r, f = tokens.index("bank"), tokens.index("river"), tokens.index("fish")
    assert r2(Q[b] @ K[r]) == "6.06" and r2(Q[r] @ K[b]) == "4.14"
    assert np.allclose(Q[r], [-3.6, 3.6, -0.8, 1.6, 0.8, 5.6]) and np.allclose(Q[b], [0, 1.4, -0.8, 2.4, 0.4, 6])
    assert np.array_equal(W_k, np.eye(6)) and not np.array_equal(W_q, W_k)
    # Question 3: place slider at 0
    x = X[b].copy()
    x[attention.PLACE] = 0
    q = x @ W_q
    K2 = K.copy()
    K2[b] = x @ W_k
    new = q @ K2.T
    assert r2(new[r]) == "2.22" and r2(new[f]) == "2.24" and new[f] > new[r]
    assert r2(q[attention.TOPIC]) == "1.20" and r2(Q[b, attention.TOPIC]) == "6.00"
    assert r2(Q[b, 5] * K[r, 5]) == "3.60" and r2(q[5] * K[r, 5]) == "0.72"
    assert r2(Q[b, 3] * K[r, 3]) == "0.96" and r2(Q[b, 3] * K[f, 3]) == "-0.24"
    assert r2(Q[b, 5] * K[f, 5]) == "4.20" and r2(q[5] * K[f, 5]) == "0.84"
    assert r2(new[f] - new[r]) == "0.02"
    for value in ("6.06", "4.14", "2.22", "2.24", "0.02 ahead"):
        assert value in text
    # Question 4: the numbers of the d_k panel, as stored in the notebook's panel cell
    nb = load(NOTEBOOKS / "02_queries_and_keys.ipynb")
    panel_out = next(text_output(c) for c in nb["cells"] if "dk_panel.set(d_k=d_k)" in source(c))
    assert "spread (std) of q·k over 2000 pairs: 16.15   (√d_k = 16.00)" in panel_out
    assert "1.00 without scaling, 0.35 with scaling" in panel_out
    assert "16.15" in text and "1.00" in text and "0.35" in text and "(1.01)" in text


def test_nb03_answers():
    text = exercises_text("03_softmax_and_masking")
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, _ = attention.demo_head()
    scores = (X @ W_q) @ (X @ W_k).T / np.sqrt(6)
    b, r, f = tokens.index("bank"), tokens.index("river"), tokens.index("fish")
    gap = scores[b, r] - scores[b, f]
    assert r2(scores[b, r]) == "2.47" and r2(scores[b, f]) == "2.19" and gap < 0.3 and r2(gap) == "0.29"
    w = attention.softmax(scores[b], temperature=0.1)
    assert r2(w[r]) == "0.95" and r2(w[f]) == "0.05" and r2(gap / 0.1) == "2.86"
    assert round(w[r] / w[f]) == 17 and round(np.exp(gap / 0.1)) == 17
    # Question 5: fish with the causal mask
    W = attention.softmax(scores)
    causal = attention.causal_mask(9)
    Wc = attention.softmax(np.where(causal, scores, -np.inf))
    visible = W[f, :f + 1].sum()
    assert [tokens[j] for j in np.flatnonzero(~causal[f])] == ["at", "the", "river", "bank"]
    assert r2(W[f, f]) == "0.40" and r2(visible) == "0.53" and r2(Wc[f, f]) == "0.75" and r2(W[f, r]) == "0.38"
    assert np.allclose(Wc[f, :f + 1], W[f, :f + 1] / visible)
    for value in ("0.40 to 0.75", "together only 0.53", "0.40 / 0.53 = 0.75", "took 0.38", "e^2.86 ≈ 17"):
        assert value in text
    # Question 6: bank's row does not change
    assert causal[b].all() and np.allclose(Wc[b], W[b])
    assert [r2(W[b, j]) for j in (r, f, b)] == ["0.35", "0.26", "0.15"]


def test_nb04_answers():
    from helpers import widgets

    text = exercises_text("04_values_and_context")
    panel = widgets.bank_context_panel(vectors=KV)
    try:
        lake0 = panel.set(word="lake", sharpness=0.0)
        assert "tom 0.14, is 0.14" in lake0 and "cosine with the river centre: 0.48 -> 0.82" in lake0
        money10 = panel.set(word="money", sharpness=10.0)
        assert "bank 0.60, money 0.29" in money10 and "cosine with the town centre:  0.53 -> 0.85" in money10
        hospital = panel.set(word="hospital", sharpness=4.0)
        assert "hospital 0.41, bank" in hospital
        money4 = panel.set(word="money", sharpness=4.0)
        assert "bank attends most to: bank" in money4 and ", money" in money4
    finally:
        matplotlib.pyplot.close(panel.fig)
    tokens, X = embeddings.sentence_matrix("Tom is going to the lake bank.", KV)
    assert len(tokens) == 7
    assert r2(embeddings.cosine_similarity(X.mean(axis=0), RIVER_CENTRE)) == "0.82"
    W_q, _, _ = attention.demo_head()
    q = KV["bank"] @ W_q
    assert [r2(q @ KV[w]) for w in ("hospital", "bank", "money")] == ["5.10", "3.93", "3.22"]
    assert r2(KV["hospital"][3] * q[3]) == "1.92" and r2(KV["money"][3] * q[3]) == "-0.48"
    assert KV["money"][0] == 0.9 and KV["money"][1] == -0.5 and KV["hospital"][1] == -0.3
    assert r2(embeddings.cosine_similarity(KV["bank"], TOWN_CENTRE)) == "0.53"
    for value in ("0.48 to 0.82", "0.60 of its attention", "0.53 to 0.85", "(0.41)", "5.10", "3.93", "3.22"):
        assert value in text


def test_nb05_answers():
    from helpers import widgets

    text = exercises_text("05_multi_head_attention")
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    assert not W_q[:, 5].any()
    _, w6 = attention.multi_head_attention(X, W_q, W_k, W_v, W_o, 6)
    assert np.allclose(w6[5], 1 / 9)
    going, tom = tokens.index("going"), tokens.index("tom")
    _, w1 = attention.multi_head_attention(X, W_q, W_k, W_v, W_o, 2)
    _, w2 = attention.multi_head_attention(X, 2 * W_q, W_k, W_v, W_o, 2)
    assert r2(w1[1, going, tom]) == "0.62" and r2(w2[1, going, tom]) == "0.95"
    with pytest.raises(ValueError):
        attention.split_heads(X @ W_q, 4)
    panel = widgets.multi_head_panel(KV, W_q, W_k, W_v, W_o)
    try:
        readout = panel.set(num_heads=2, sentence="river", sharpness=2.0)
        assert "going -> tom 0.95" in readout
        assert "head 5: bank -> all about 0.11, going -> all about 0.11" in panel.set(num_heads=6, sentence="river", sharpness=1.0)
    finally:
        matplotlib.pyplot.close(panel.fig)
    for value in ("0.11", "0.62 to 0.95", "T = 0.5", "h must divide 6"):
        assert value in text
