"""teacher/GUIDE.md: every number and quoted readout, checked against what the class sees.

The guide tells teachers what to drag and what they will read ("you can say them before
the class drags"), so its numbers must be the notebooks' numbers. ROWS is a table of
(quote, how to compute it):

- the quote is text exactly as it appears in GUIDE.md (line breaks count as spaces), so a
  row fails as soon as the guide's wording or numbers change and the row is stale;
- the computation drives the panel the way the guide says (built as the notebook builds
  it, controls set with panel.set), uses the helpers (helpers.attention,
  helpers.embeddings), or reads the notebook's stored text outputs (json);
- it returns either a string, which must equal the quote, or a list of numbers, which
  must be the numbers of the quote in order, each rounded as the quote writes it.
  Claims around the numbers ("the river centre wins", "every other word below 0.1")
  are asserted inside the computation.

More tests: the minute plans add up to the 90 minutes each lesson claims; the table of
*In class and at home* counts the exercises and questions the notebooks hold, and plans each
of them once (in class or as homework); and every
decimal number of the lesson plans, misconceptions and panel table is covered by some
row (so a new number in the guide needs a row). Numbers about the set-up (disk sizes,
install and run times, Python version) are not the maths' and are not checked here.
"""

import functools
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import attention, embeddings, plots
from helpers.lessons import softmax_and_masking, start_here, word_embeddings
from helpers.lessons.values_and_context import CONTEXT_TEMPLATE
from helpers.lessons import queries_and_keys

ROOT = Path(__file__).resolve().parent.parent
GUIDE_FILE = ROOT / "teacher" / "GUIDE.md"
NOTEBOOKS = ROOT / "notebooks"
NUMBER_WORDS = {4: "four", 5: "five"}
MINUS = "−"  # the guide's prose writes negative numbers with U+2212


def norm(text):
    """Whitespace runs (line breaks of the markdown included) become one space."""
    return " ".join(text.split())


@functools.cache
def guide_raw():
    return GUIDE_FILE.read_text(encoding="utf-8")


@functools.cache
def guide():
    return norm(guide_raw())


# ------------------------------------------------------------------ sources


@functools.cache
def stored_lines(prefix):
    """Text output lines of the stored notebook whose name starts with `prefix`."""
    (path,) = NOTEBOOKS.glob(f"{prefix}_*.ipynb")
    lines = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = out["text"]
            else:
                text = out.get("data", {}).get("text/plain", "")
            lines += "".join(text).splitlines()
    return tuple(lines)


def stored_line(prefix, start):
    """The one stored output line of notebook `prefix` that starts with `start`."""
    found = [line for line in stored_lines(prefix) if line.startswith(start)]
    assert len(found) == 1, f"notebook {prefix}: {len(found)} output lines start with {start!r}"
    return found[0]


def stored_table(prefix, header_start):
    """A printed table of notebook `prefix`: {first column as int: the other columns (floats)}."""
    lines = stored_lines(prefix)
    i = next(k for k, line in enumerate(lines) if line.strip().startswith(header_start))
    rows = {}
    for line in lines[i + 1:]:
        cells = line.split()
        if not cells or not cells[0].isdigit():
            break
        rows[int(cells[0])] = [float(c) for c in cells[1:]]
    return rows


def sqrt_table():
    """Notebook 02, section 6: d_k -> (std of q·k, √d_k, std of q·k/√d_k)."""
    return stored_table("02", "d_k  std of q·k")


def softmax_table():
    """Notebook 02, section 6: d_k -> (largest weight, largest weight scaled)."""
    return stored_table("02", "d_k  largest weight")


@functools.cache
def kv():
    return embeddings.toy_vectors()


@functools.cache
def story():
    """The running example through the one head of notebooks 02-04."""
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv())
    W_q, W_k, W_v = attention.demo_head()
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.T
    scaled = scores / np.sqrt(K.shape[-1])
    output, weights = attention.scaled_dot_product_attention(Q, K, V)
    return dict(tokens=tokens, X=X, W_q=W_q, W_k=W_k, W_v=W_v, Q=Q, K=K, V=V, scores=scores,
                scaled=scaled, weights=weights, output=output, i=tokens.index)


def centres():
    return (np.mean([kv()[w] for w in embeddings.RIVER_CLUSTER], axis=0),
            np.mean([kv()[w] for w in embeddings.TOWN_CLUSTER], axis=0))


def cos(a, b):
    return float(embeddings.cosine_similarity(np.asarray(a, float), np.asarray(b, float)))


@functools.cache
def heads():
    return attention.demo_heads()  # W_q, W_k, W_v, W_o, num_heads


@functools.cache
def panel(name):
    """The panel `name`, built with the arguments its notebook uses."""
    s = story()
    if name == "00":
        return start_here.word_vector_panel(kv())
    if name == "01":
        return word_embeddings.bank_vector_panel(kv())
    if name == "02 bank":
        return queries_and_keys.bank_embedding_panel()
    if name == "02 d_k":
        return queries_and_keys.scaling_panel()
    if name == "03 temperature":
        return softmax_and_masking.temperature_panel(s["tokens"], s["scaled"][s["i"]("bank")], query="bank")
    if name == "03 explorer":
        return softmax_and_masking.attention_explorer_panel(s["tokens"], s["scaled"], query="bank")
    if name == "04":
        from helpers.lessons import values_and_context
        return values_and_context.bank_context_panel(vectors=kv())
    if name == "05":
        W_q, W_k, W_v, W_o, _ = heads()
        from helpers.lessons.multi_head_attention import multi_head_panel
        return multi_head_panel(kv(), W_q, W_k, W_v, W_o)
    raise ValueError(name)


def drive(name, **values):
    """Reset panel `name`, set the controls as the guide says, return the readout lines."""
    p = panel(name)
    p.reset()
    text = p.set(**values) if values else p.text
    return text.splitlines()


def controls(name):
    """The controls of panel `name` as they start (after Reset)."""
    panel(name).reset()
    return panel(name).controls


def line(lines, start):
    (found,) = [ln for ln in lines if ln.startswith(start)]
    return found


def after(text, sep=": "):
    return text.split(sep, 1)[1]


def prose(x, fmt="{:.2f}"):
    """A number as the guide's prose writes it (U+2212 minus)."""
    s = fmt.format(x)
    return (s if s.lstrip("-") != fmt.format(0.0) else fmt.format(0.0)).replace("-", MINUS)


def trim(x):
    """Two decimals, trailing zeros dropped, as numpy prints with precision=2 (0.20 -> 0.2)."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def np2(row):
    """A row as the notebooks print it (np.set_printoptions(precision=2, suppress=True))."""
    with np.printoptions(precision=2, suppress=True):
        return str(np.asarray(row))


# ------------------------------------------------------ computations: lesson 1


def nb00_env_check():
    lines = stored_lines("00")
    start = next(k for k, ln in enumerate(lines) if ln.startswith("numpy "))
    end = lines.index("Ready!")
    checks = lines[start:end]
    oks = [ln for ln in checks if ln.split()[-1] == "ok" and not ln.startswith("toy vectors")]
    assert all(ln.endswith("ok") for ln in checks)  # "every line says ok"
    toy = [ln for ln in checks if ln.startswith("toy vectors")]
    return f"must print `ok` {NUMBER_WORDS[len(oks)]} times, `{toy[0]}` and `{lines[end]}`"


def nb00_fish():
    text = drive("00", word="fish", scale=0.5)[0]
    return f"Pick *fish* in `word` and drag `scale` to 0.5: `{text}`"


def river_row_prose():
    return f"the row of *river* is {', '.join(prose(v, '{:g}') for v in kv()['river'])}"


def bank_on_map():
    x, y = embeddings.project_2d(kv())["bank"]
    return f"at ({prose(x)}, {prose(y)})"


def cosine_line(a, b):
    return f"cos({a}, {b}) = {prose(cos(kv()[a], kv()[b]))}"


def cosine_diagonal():
    words = list(embeddings.RIVER_CLUSTER) + ["bank"] + list(embeddings.TOWN_CLUSTER) + ["money", "water"]
    S = embeddings.cosine_similarity(kv()[words], kv()[words])
    assert np.allclose(np.diag(S), 1.0)
    return [1]


def nb01_slider_range():
    lo, hi = {c.min for c in controls("01").values()}, {c.max for c in controls("01").values()}
    assert len(lo) == len(hi) == 1
    return f"each from {prose(lo.pop(), '{:g}')} to {prose(hi.pop(), '{:g}')}"


def nb01_water():
    start = controls("01")["water"].value
    drive("01", water=0.9)
    state = panel("01").state
    near = ", ".join(f"{embeddings.display_word(w)} {c:.2f}" for w, c in state["neighbours"])
    river_c, town_c = state["centre_cosines"].values()
    assert river_c > town_c  # "the river centre wins"
    return f"Drag **water** from {start:.2f} to 0.90: the nearest words become {near}, and the river centre wins ({river_c:.2f} against {town_c:.2f})"


def nb01_town():
    drive("01", town_vs_nature=0.8)
    state = panel("01").state
    near = ", ".join(f"{embeddings.display_word(w)} {c:.2f}" for w, c in state["neighbours"])
    c = state["centre_cosines"]
    return f"drag **town vs nature** to 0.8: {near}; town words {prose(c['town words'])}, river words {prose(c['river words'])}"


def nb01_all_zero():
    text = "\n".join(drive("01", **{k: 0.0 for k in panel("01").keys}))
    assert "a vector with no direction has no cosine" in text
    return "Drag all six to 0: the readout explains that a vector with no direction has no cosine"


def nb01_identical():
    a = embeddings.sentence_matrix(embeddings.SENTENCE, kv())
    b = embeddings.sentence_matrix(embeddings.CONTRAST_SENTENCE, kv())
    same = bool(np.array_equal(a[1][a[0].index("bank")], b[1][b[0].index("bank")]))
    assert stored_line("01", "identical:") == f"identical: {same}"
    return f"(`identical: {same}`)"


def nb02_projections():
    s = story()
    W_q, W_k = s["W_q"], s["W_k"]
    diag = set(np.diag(W_q))
    off = np.argwhere(~np.eye(6, dtype=bool) & (W_q != 0))
    assert len(diag) == 1 and len(off) == 1
    (r, c), = off
    dims = ("town", "water", "person", "place", "action", "topic")
    assert np.array_equal(W_k, np.eye(6))
    return (f"W_q has {diag.pop():g} on the diagonal and one extra entry, {W_q[r, c]:g} at row *{dims[r]}*, "
            f"column *{dims[c]}*; W_k is the identity")


def nb02_query_and_key():
    s = story()
    b = s["i"]("bank")
    assert np.array_equal(s["K"][b], s["X"][b])  # "its own vector"
    return list(s["Q"][b]) + list(s["K"][b])


def score(q, k):
    s = story()
    return float(s["scores"][s["i"](q), s["i"](k)])


def nb02_bank_row_winners():
    s = story()
    row = s["scores"][s["i"]("bank")]
    top = [s["tokens"][j] for j in np.argsort(-row)[:2]]
    assert top == ["river", "fish"]
    return [score("bank", "river"), score("bank", "fish")]


@functools.cache
def score_heatmap_texts():
    """The cells of notebook 02's heatmap *scores Q Kᵀ*, drawn as the notebook draws it."""
    s = story()
    fig, ax = plots.new_figure(figsize=(8, 6.5))
    hm = plots.signed_heatmap(ax, s["scores"], s["tokens"], s["tokens"], fmt="{:.1f}",
                              title="scores Q Kᵀ (row = query, column = key)")
    n = len(s["tokens"])
    texts = [t.get_text() for t in hm.texts]
    matplotlib.pyplot.close(fig)
    return {(s["tokens"][k // n], s["tokens"][k % n]): t for k, t in enumerate(texts)}


def heatmap_asymmetry():
    s = story()
    assert not np.allclose(s["scores"], s["scores"].T)
    cells = score_heatmap_texts()
    return [float(cells["bank", "river"]), float(cells["river", "bank"])]


def nb02_term_by_term():
    s = story()
    b, r = s["i"]("bank"), s["i"]("river")
    products = s["Q"][b] * s["K"][r]
    assert products[-1] > products.sum() / 2  # "the topic term alone is more than half"
    return " + ".join(prose(p).replace(MINUS, "-") for p in products) + f" = {products.sum():.2f}"


def nb02_top_start():
    return f"Start: `{line(drive('02 bank'), 'top scores:')}`"


def nb02_town_bank():
    lines = drive("02 bank", bank_town=0.8, bank_water=-0.4)
    river = line(lines, "bank · river:").rsplit("= ", 1)[1]
    return (f"Drag **bank: town** to 0.8 and **bank: water** to {MINUS}0.4: `{line(lines, 'top scores:')}`, "
            f"and `bank · river` falls to {river}")


def topic_entry(lines):
    return line(lines, "q_bank").rstrip("]").rsplit(", ", 1)[1]


def nb02_no_place():
    start = drive("02 bank")
    lines = drive("02 bank", bank_place=0.0)
    assert lines[1].startswith("q_bank")  # "second line of the readout"
    top = after(line(lines, "top scores:")).split(", ")[:2]
    return (f"**Reset**, then drag **bank: place** to 0: the topic entry of the query drops from "
            f"{topic_entry(start)} to {topic_entry(lines)} (second line of the readout) and the top "
            f"scores fall to {', '.join(top)}")


def nb02_key_fish():
    return f"`{line(drive('02 bank', key='fish'), 'bank · fish:')}`"


def nb02_sqrt_claim():
    rows = sqrt_table()
    assert all(abs(r[2] - 1) <= 0.05 for r in rows.values())  # "stays near 1.00"
    return [rows[64][0], 64, 64, rows[64][1], 1.00]


def nb02_softmax_claim():
    rows = softmax_table()
    unscaled = [rows[d][0] for d in sorted(rows)]
    assert unscaled == sorted(unscaled) and unscaled[-1] == max(unscaled)  # "climbs"
    assert all(abs(r[1] - 1 / 3) < 0.05 for r in rows.values())  # "stays near a third"
    return [unscaled[-1], max(rows), rows[max(rows)][1]]


def nb02_real_models():
    rows = softmax_table()
    return [rows[64][0], 64, rows[128][0], 128]


def dk_slider():
    c = controls("02 d_k")["d_k"]
    return f"(slider `d_k`, from {c.min} to {c.max}, starts at {c.value})"


def dk_readout(d_k=None):
    """(d_k, spread, √d_k, spread after dividing, largest unscaled, largest scaled) of the panel."""
    text = "\n".join(drive("02 d_k", d_k=d_k) if d_k is not None else drive("02 d_k"))
    (dk,) = re.findall(r"^d_k = (\d+)$", text, re.M)
    spread, root = re.search(r"over \d+ pairs: ([\d.]+)\s+\(√d_k = ([\d.]+)\)", text).groups()
    (divided,) = re.findall(r"after dividing by √d_k:\s+([\d.]+)", text)
    unscaled, scaled = re.search(r"largest weight: ([\d.]+) without scaling, ([\d.]+) with scaling", text).groups()
    return [float(v) for v in (dk, spread, root, divided, unscaled, scaled)]


def dk_1():
    dk, spread, _, _, unscaled, scaled = dk_readout(1)
    assert unscaled == scaled  # "both bars equal"
    return [dk, spread, unscaled]


def dk_full(d_k):
    def compute():
        return dk_readout(d_k)
    return compute


def dk_reset():
    dk, spread, root, *_ = dk_readout()
    return [dk, spread, dk, root]


def dk_ours():
    dk, spread, root, *_ = dk_readout(6)
    assert dk == story()["K"].shape[-1]  # "our head"
    return [dk, spread, dk, root]


def scaled_bank_row():
    s = story()
    return f"`{np2(s['scaled'][s['i']('bank')])}`"


def dk_1_equal():
    dk, _, root, _, unscaled, scaled = dk_readout(1)
    assert unscaled == scaled
    return [dk, dk, root]


# ------------------------------------------------------ computations: lesson 2


def w(q, k):
    s = story()
    return float(s["weights"][s["i"](q), s["i"](k)])


def head_counts():
    return list(panel("05").controls["num_heads"].options)


def scores_sum():
    s = story()
    return [s["scaled"][s["i"]("bank")].sum(), 1]


def bank_weights_and_pair():
    pair = stored_line("03", "river + fish get")
    assert f"{w('bank', 'river') + w('bank', 'fish'):.2f}" in pair
    return (f"*bank*'s weights: river {w('bank', 'river'):.2f}, fish {w('bank', 'fish'):.2f}, "
            f"bank {w('bank', 'bank'):.2f}; `{pair}`")


def temperature_steps():
    options = [v for _, v in panel("03 temperature").controls["temperature"].options]
    return "(slider `temperature T`, with the steps " + ", ".join(f"{t:g}" for t in options) + ")"


def temperature_readout(T=None):
    lines = drive("03 temperature", temperature=T) if T is not None else drive("03 temperature")
    head, tops = lines[0].split(": top weights ")
    entropy = re.search(r"entropy ([\d.]+) \(0 = all on one word, ([\d.]+) = spread evenly over (\d+)\)", lines[1])
    return head, tops.split(", "), entropy.groups()


def t_start():
    head, tops, (ent, _, _) = temperature_readout()
    return f"Start at `{head}`: top weights {', '.join(tops)}, entropy {ent}"


def t_cold():
    head, tops, (ent, _, _) = temperature_readout(0.1)
    assert float(tops[0].split()[1]) >= 0.9  # "almost all on one word"
    return f"Drag to **0.1**: {', '.join(tops[:2])}, entropy {ent} (almost all on one word)"


def t_hot():
    head, tops, (ent, even, n) = temperature_readout(5.0)
    assert float(even) == round(np.log(int(n)), 2)
    return f"Drag to **5**: {', '.join(tops)}, entropy {ent} ({even} = spread evenly over {n})"


def overflow():
    limits = {}
    for name in ("float16", "float32", "float64"):
        limit = f"{np.log(float(np.finfo(name).max)):.2f}"
        assert stored_line("03", f"{name}: largest number").endswith(f"e^s overflows above s = {limit}")
        limits[name] = limit
    s = story()["scaled"][story()["i"]("bank")]
    river = story()["i"]("river")
    big = (5 * s).astype(np.float16)
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(big) / np.exp(big).sum()
    assert np.isnan(naive[river]) and (np.delete(naive, river) == 0).all()
    printed = after(stored_line("03", "naive softmax in float16")).strip("[]").split()
    assert printed[river] == "nan" and {float(x) for i, x in enumerate(printed) if i != river} == {0.0}
    assert np.allclose(attention.softmax(big), attention.softmax(s, temperature=0.2), atol=1e-3)
    assert stored_line("03", "float16 = softmax(s, T = 0.2) in float64").endswith("True")
    return (f"e^s overflows float16 above s = {limits['float16']} and float32 above s = {limits['float32']} "
            f"(float64 only above {limits['float64']}, so numpy on a laptop hides it). *bank*'s scores × 5 "
            f"in float16 (largest {float(big.max()):.2f}): the naive softmax gives `nan` for *river* and 0 "
            "for every other word; the stable softmax gives the weights of T = 0.2")


def fish_masked_scores():
    s = story()
    n = len(s["tokens"])
    row = np.where(attention.causal_mask(n), s["scaled"], -np.inf)[s["i"]("fish")]
    seen = row[np.isfinite(row)]
    hidden = int(np.sum(np.isneginf(row)))
    return f"*fish*'s masked scores ({', '.join(trim(v) for v in seen)}, then {MINUS}inf {NUMBER_WORDS[hidden]} times)"


def causal_rows():
    s = story()
    n = len(s["tokens"])
    mask = attention.causal_mask(n)
    weights = attention.softmax(np.where(mask, s["scaled"], -np.inf))
    assert np.all(weights[~mask] == 0) and np.allclose(weights.sum(axis=1), 1)
    return [0, 1]


def padding():
    lost = after(stored_line("03", "bank's attention lost to padding without the mask"))
    assert stored_line("03", "padding columns are exactly 0 with the mask") .endswith("True")
    return [float(lost), 0]


def explorer(query, mask):
    lines = drive("03 explorer", query=query, mask=mask, temperature=1.0)
    tops = lines[0].split(": top weights ")[1]
    hidden = lines[1].split("   ")[0]
    row_sum = "row sum " + re.search(r"row sum ([\d.]+)", lines[1]).group(1)
    return tops, hidden, row_sum


def ex_fish_none():
    return f"`query word` = *fish*, `mask` = *none*: {explorer('fish', 'none')[0]}"


def ex_fish_causal():
    tops, hidden, row_sum = explorer("fish", "causal")
    return f"`mask` = *causal*: `{hidden}`, {tops}, `{row_sum}`"


def ex_bank_causal():
    tops, hidden, _ = explorer("bank", "causal")
    assert explorer("bank", "none")[0] == tops  # "nothing changes"
    return f"`query word` = *bank* with *causal*: nothing changes ({tops}, `{hidden}`)"


def ex_tom_causal():
    return f"`query word` = *tom* with *causal*: {explorer('tom', 'causal')[0]}"


def ex_the():
    tops = explorer("the", "none")[0].split(", ")
    values = {t.split()[1] for t in tops}
    assert len(values) == 1
    return f"`query word` = *the*, `mask` = *none*: top weights {values.pop()} each"


def bank_largest_first():
    s = story()
    row = s["weights"][s["i"]("bank")]
    order = np.argsort(-row)
    assert [s["tokens"][j] for j in order[:3]] == ["river", "fish", "bank"]
    assert np.all(row[order[3:]] < 0.1)
    return [row[order[0]], row[order[1]], row[order[2]], 0.1]


def bank_after_attention():
    s = story()
    b = s["i"]("bank")
    assert np.array_equal(s["W_v"], np.eye(6)) and np.array_equal(s["V"], s["X"])
    row, out = s["weights"][b], s["output"][b]
    order = np.argsort(-row)[:3]
    parts = " + ".join(f"{row[j]:.2f} × {s['tokens'][j]}" for j in order)
    rest = 1 - row[order].sum()
    assert out[0] < 0 < s["X"][b][1] < out[1]  # "town vs nature turns negative, water grows"
    return (f"*bank* after attention = {parts} + the other {len(row) - 3} words ({rest:.2f} together) = "
            f"({', '.join(trim(v).replace('-', MINUS) for v in out)})")


def bank_moves():
    s = story()
    b = s["i"]("bank")
    river_c, town_c = centres()
    tokens_m, X_m = embeddings.sentence_matrix(embeddings.CONTRAST_SENTENCE, kv())
    out_m, _ = attention.scaled_dot_product_attention(X_m @ s["W_q"], X_m @ s["W_k"], X_m @ s["W_v"])
    bank_m = out_m[tokens_m.index("bank")]
    assert cos(bank_m, town_c) > cos(bank_m, river_c)  # "the town centre wins"
    return [cos(s["X"][b], river_c), cos(s["output"][b], river_c),
            cos(s["X"][b], town_c), cos(s["output"][b], town_c),
            cos(s["X"][b], town_c), cos(bank_m, town_c)]


def context_controls():
    c = controls("04")
    words = ", ".join(c["word"].options)
    s = c["sharpness"]
    return (f"(drop-down `context word` with {words}; slider `sharpness` from {s.min:g} to {s.max:g}, "
            f"starts at {s.value:g})")


def context(**values):
    lines = drive("04", **values)
    tops = after(line(lines, "bank attends most to:"))
    river = line(lines, "cosine with the river centre:").split(": ")[1]
    town = line(lines, "cosine with the town centre:").split(":  ")[1]
    closer = lines[-1].split("closer to the ")[1].split()[0]
    return tops, river.replace(" -> ", " → "), town.replace(" -> ", " → "), closer


def ctx_start():
    tops, river, _, closer = context()
    assert closer == "river"
    c = panel("04").controls
    return f"Start (*{c['word'].value}*, {c['sharpness'].value:.1f}): `bank attends most to: {tops}`, river centre {river}"


def ctx_hospital():
    tops, _, town, closer = context(word="hospital")
    assert closer == "town"
    return f"`context word` = *hospital*: {tops}; town centre {town}"


def ctx_money():
    tops, _, town, closer = context(word="money")
    assert tops.split()[0] == "bank" and closer == "town"
    return (f"`context word` = *money*: now *bank* attends most **to itself** ({tops}), and still ends up "
            f"closer to the town centre ({town.split(' → ')[1]})")


def ctx_sharpness_0():
    tops, river, _, closer = context(sharpness=0.0)
    from helpers.lessons import values_and_context
    n = len(embeddings.tokenize(values_and_context.CONTEXT_TEMPLATE.format(word="river")))
    assert np.allclose(values_and_context.context_attention("river", 0.0, kv())[1], 1 / n) and closer == "river"
    return (f"Back to *river*, drag `sharpness` to **0**: every word gets 1/{n} ≈ {1 / n:.2f} (the readout lists "
            f"`{tops}`), and *bank* still leans to the river side ({river.split(' → ')[1]})")


def ctx_sharpness_25():
    tops, *_ = context(sharpness=2.5)
    return f"Drag `sharpness` to **2.5**: {tops}"


def loop_vs_matrix():
    return f"(`{stored_line('04', 'max |loop - matrix form|')}`)"


def nb05_columns():
    W_q, _, _, _, h = heads()
    d_k = W_q.shape[1] // h
    assert h == 2
    return f"head 0 uses columns 0–{d_k - 1}, head 1 columns {d_k}–{2 * d_k - 1}"


def nb05_shapes():
    W_q, W_k, W_v, W_o, h = heads()
    _, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv())
    Qh = attention.split_heads(X @ W_q, h)
    heads_out, weights = attention.scaled_dot_product_attention(
        Qh, attention.split_heads(X @ W_k, h), attention.split_heads(X @ W_v, h))
    concat = attention.merge_heads(heads_out)
    output = concat @ W_o
    for shown in (f"Q split into heads: {Qh.shape}", f"weights: {weights.shape}",
                  f"each head's output: {heads_out.shape}", f"concat: {concat.shape}", f"output: {output.shape}"):
        assert any(shown in ln for ln in stored_lines("05")), shown
    return (f"`Q split into heads: {Qh.shape}`; scores, weights and outputs per head: `weights: {weights.shape}`, "
            f"`each head's output: {heads_out.shape}`, then `concat: {concat.shape}` and `output: {output.shape}`")


def mha_weights(num_heads, sentence=embeddings.SENTENCE):
    W_q, W_k, W_v, W_o, _ = heads()
    tokens, X = embeddings.sentence_matrix(sentence, kv())
    _, weights = attention.multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads)
    return tokens, weights


def nb05_fish_two_answers():
    """fish with one head (one row for both answers), then with two heads (one row each)."""
    tokens, one = mha_weights(1)
    _, two = mha_weights(2)
    fish, river, tom = (tokens.index(w) for w in ("fish", "river", "tom"))
    assert tokens[np.argmax(two[0, fish])] == "river" and tokens[np.argmax(two[1, fish])] == "tom"
    return [one[0, fish, river], one[0, fish, tom], two[0, fish, river], two[1, fish, tom]]


def nb05_heatmaps():
    tokens, weights = mha_weights(2)
    b, g = tokens.index("bank"), tokens.index("going")
    top = np.argsort(-weights[0, b])[:2]
    assert [tokens[j] for j in top] == ["fish", "river"] and tokens[np.argmax(weights[1, g])] == "tom"
    return f"head 0: *bank* → fish {weights[0, b, top[0]]:.2f} and river {weights[0, b, top[1]]:.2f}; head 1: *going* → tom {weights[1, g].max():.2f}"


def nb05_bank_output():
    """bank's cosine with the river centre: its input, after one head, after two."""
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv())
    W_q, W_k, W_v, W_o, _ = heads()
    river = np.mean([kv()[w] for w in embeddings.RIVER_CLUSTER], axis=0)
    b = tokens.index("bank")
    after = [attention.multi_head_attention(X, W_q, W_k, W_v, W_o, h)[0][b] for h in (1, 2)]
    return [embeddings.cosine_similarity(v, river) for v in [X[b]] + after]


def mh(num_heads, sentence="river"):
    """The multi-head panel's readout: d_k and {head: (bank -> ..., going -> ...)}."""
    lines = drive("05", num_heads=num_heads, sentence=sentence, sharpness=1.0)
    d_k = re.search(r"d_k = (\d+)", lines[0]).group(0)
    per_head = {}
    for ln in lines[1:]:
        h, rest = ln.split(": ", 1)
        per_head[int(h.split()[1])] = [part.replace("->", "→") for part in rest.split(", ")]
    return d_k, per_head


def mh_start():
    return f"Start: {controls('05')['num_heads'].value} heads"


def mh_1():
    d_k, per = mh(1)
    return f"`heads` = **1**: `{d_k}`; {per[0][0]}, {per[0][1]}"


def mh_3():
    d_k, per = mh(3)
    return f"`heads` = **3**: `{d_k}`; head 1 sends {per[1][1]}"


def mh_6():
    d_k, per = mh(6)
    W_q = heads()[0]
    assert np.flatnonzero(W_q[:, 3]).tolist() == [attention.ACTION]  # "the action column"
    assert not W_q[:, 5].any()  # "whose column of W_q is all zeros"
    tokens, weights = mha_weights(6)
    assert np.allclose(weights[5], 1 / len(tokens))
    return (f"`heads` = **6**: `{d_k}`; head 3 (the *action* column) gives {per[3][1].replace('tom ', 'tom **')}**; "
            f"head 5, whose column of W_q is all zeros, gives every word {1 / len(tokens):.2f} (= 1/{len(tokens)})")


def head5_scores():
    """Head 5 of 6: its column of W_q is zero, its scores are 0, its weights 1/n."""
    W_q, W_k = heads()[:2]
    _, X = embeddings.sentence_matrix(embeddings.SENTENCE, kv())
    q5 = attention.split_heads(X @ W_q, 6)[5]
    k5 = attention.split_heads(X @ W_k, 6)[5]
    assert not W_q[:, 5].any() and not (q5 @ k5.T).any()
    tokens, weights = mha_weights(6)
    assert np.allclose(weights[5], 1 / len(tokens))
    return [0, 1, len(tokens)]


def mh_money():
    _, per = mh(2, "money")
    return (f"`heads` = **2**, `sentence` = *{embeddings.CONTRAST_SENTENCE}*: head 0, {per[0][0]}; "
            f"head 1, {per[1][1]}")


def parameter_count():
    d = kv()["river"].shape[0]
    counts = {h: h * 3 * d * (d // h) + d * d for h in head_counts()}
    assert len(set(counts.values())) == 1
    for h, total in counts.items():
        assert stored_line("05", f"{h} head(s):").endswith(f"= {total} weights")
    original = 4 * 512 ** 2
    assert stored_line("05", "the original transformer").startswith(f"the original transformer, d_model = 512: {original:,} ")
    return f"{counts[1]} weights for {', '.join(map(str, head_counts()[:-1]))} and {head_counts()[-1]} heads alike (`4 · d_model²`); the original transformer: {original:,} per attention layer"


def parameter_cell():
    totals = {float(stored_line("05", f"{h} head(s):").split("= ")[1].split()[0]) for h in head_counts()}
    assert len(totals) == 1
    return list(totals)


def divisors_of_6():
    d = kv()["river"].shape[0]
    assert head_counts() == [h for h in range(1, d + 1) if d % h == 0]
    assert d % 4 and d % 5
    return [d, d, 4, 5]


def exit_shapes():
    s = story()
    _, weights2 = mha_weights(2)
    W_q = heads()[0]
    per_head = attention.split_heads(s["X"] @ W_q, 2).shape
    return (f"(`X {s['X'].shape}` → `Q, K, V {s['Q'].shape}` → scores `{s['scores'].shape}` → weights "
            f"`{s['weights'].shape}` → output `{s['output'].shape}`; with 2 heads: `{per_head}` per head, "
            f"concatenated back to `{s['output'].shape}`.)")


# ----------------------------------------------- computations: misconceptions


def mis1_context_weights():
    heights = {}
    for sharp in (1.0, 0.0, 2.5):
        drive("04", sharpness=sharp)
        p = panel("04")
        from helpers.lessons import values_and_context
        tokens = values_and_context.context_attention("river", sharp, kv())[0]
        heights[sharp] = float(p.scene.keyed()[f"w.v{tokens.index('river')}"][1])  # the number over river's bar
    return f"*river*'s weight goes {heights[1.0]:.2f} (sharpness 1) → {heights[0.0]:.2f} (0) → {heights[2.5]:.2f} (2.5)"


def mis1_nb03():
    return [w("bank", "river"), w("river", "bank"), w("bank", "bank"), 1]


def mis2_q_line():
    return f"`{line(drive('02 bank'), 'q_bank')}`"


def mis2_place():
    start, lines = drive("02 bank"), drive("02 bank", bank_place=0.0)
    river = [line(x, "bank · river:").rsplit("= ", 1)[1] for x in (start, lines)]
    return (f"Dragging `bank: place` to 0 drops the topic entry of the query from {topic_entry(start)} to "
            f"{topic_entry(lines)} and river's score from {river[0]} to {river[1]}")


def mis3_dk():
    d_ks = [mh(h)[0].split(" = ")[1] for h in head_counts()]
    return f"The readout shows `d_k = {', '.join(d_ks)}` for {', '.join(map(str, head_counts()))} heads"


def mis4_t1():
    head, tops, (ent, even, _) = temperature_readout(1.0)
    return f"At T = 1: {', '.join(tops)} (entropy {ent}, near the maximum {even})"


def mis4_only_cold():
    options = [v for _, v in panel("03 temperature").controls["temperature"].options]
    river = {T: float(temperature_readout(T)[1][0].split()[1]) for T in options}
    assert [T for T, v in river.items() if v >= 0.9] == [0.1]  # "only at T = 0.1"
    assert temperature_readout(0.1)[1][0].startswith("river ")
    return [0.1, river[0.1]]


def mis4_nb04_mixes():
    s = story()
    row = s["weights"][s["i"]("bank")]
    assert len(row) == 9 and np.all(row > 0)
    return "In notebook 04, *bank*'s output mixes all nine words"


def mis5_causal():
    _, hidden, row_sum = explorer("fish", "causal")
    return f"`mask` = *causal*: `{hidden}`, fish's own weight grows from {w('fish', 'fish'):.2f} to {explorer('fish', 'causal')[0].split(', ')[0].split()[1]}, `{row_sum}`"


def mis5_rounded_cells():
    """The five visible cells of fish's row on the explorer heatmap, and their unrounded sum."""
    drive("03 explorer", query="fish", mask="none", temperature=1.0)
    s = story()
    f = s["i"]("fish")
    scene = panel("03 explorer").scene
    cells = [text for key, (_, text) in scene.keyed().items()
             if key.startswith("w.q") and text]  # only the chosen row is written in the heatmap
    assert len(cells) == len(s["tokens"])
    visible = cells[:f + 1]
    exact = float(s["weights"][f, :f + 1].sum())
    assert abs(exact - 0.5) < 0.1  # "about half"
    return f"(the cells show {' + '.join(visible)}; unrounded, they add up to {exact:.2f})"


def mis6():
    a, b = dk_readout(16), dk_readout(256)
    return (f"d_k = {a[0]:g}: spread {a[1]:.2f} (√d_k = {a[2]:.2f}), after dividing {a[3]:.2f}; largest weight "
            f"{a[4]:.2f} without scaling, {a[5]:.2f} with. d_k = {b[0]:g}: {b[1]:.2f} vs {b[2]:.2f}, after dividing "
            f"{b[3]:.2f}; {b[4]:.2f} vs {b[5]:.2f}.")


def mis7():
    tops, _, town, _ = context(word="money")
    first, second = tops.split(", ")
    assert first.startswith("bank ")
    return (f"*bank* attends most to itself ({first.split()[1]}, {second}), yet its cosine with the town "
            f"centre rises from {town.replace(' → ', ' to ')}")


def mis8():
    s = story()
    b = s["i"]("bank")
    return [s["scaled"][b].sum(), s["weights"][b].sum()]


# ------------------------------------------------------------ panels at a glance


def glance_00():
    c = panel("00").controls
    assert len(c["word"].options) == len(kv())
    return f"`word`: the {len(c['word'].options)} words; `scale`: {c['scale'].min:g} to {c['scale'].max:g}"


def slider_range(name):
    controls = [c for c in panel(name).controls.values() if hasattr(c, "min")]
    (lo, hi, step), = {(c.min, c.max, c.step) for c in controls}
    return f"{prose(lo, '{:g}')} to {hi:g}, step {step:g}"


def glance_01():
    labels = ", ".join(f"`{c.description}`" for c in panel("01").controls.values())
    return f"{labels}: {slider_range('01')}"


def glance_02():
    c = panel("02 bank").controls
    sliders = [x.description for x in c.values() if hasattr(x, "min")]
    assert len(c["key"].options) == len(story()["tokens"])
    return f"`{sliders[0]}` … `{sliders[-1]}`: {slider_range('02 bank')}; `key word`: the {len(c['key'].options)} words"


def glance_dk():
    c = controls("02 d_k")["d_k"]
    return f"`d_k`: {c.min} to {c.max} (starts at {c.value})"


def glance_explorer():
    c = panel("03 explorer").controls
    return f"`query word`: the {len(c['query'].options)} words; `mask`: {' / '.join(c['mask'].options)}; `temperature T`"


def glance_04():
    c = controls("04")
    s = c["sharpness"]
    return (f"`context word`: {', '.join(c['word'].options)}; `sharpness`: {s.min:g} to {s.max:g}, "
            f"step {s.step:g} (starts at {s.value:g})")


def glance_05():
    c = panel("05").controls
    assert [v for _, v in c["sentence"].options] == ["river", "money"]
    s = c["sharpness"]
    return (f"`heads`: {', '.join(map(str, c['num_heads'].options))}; `sentence`: the river sentence or the "
            f"money sentence; `{s.description}`: {s.min:g} to {s.max:g}, step {s.step:g} (starts at {s.value:g})")


# ------------------------------------------------------------------ the table

ROWS = [
    # ---- introduction
    ("(9 words, each a vector of 6 numbers)", lambda: list(story()["X"].shape)),
    # ---- before each lesson
    ("must print `ok` five times, `toy vectors: ok` and `Ready!`", nb00_env_check),
    # ---- lesson 1, objectives
    ("a matrix `X` of shape `(9, 6)`", lambda: f"a matrix `X` of shape `{story()['X'].shape}`"),
    ("(*town vs nature, water, person, place, action, topic*)", lambda: f"(*{', '.join(embeddings.DIMENSIONS)}*)"),
    # ---- notebook 00
    ("It opens on *river*: `river × 1.00 = [-0.9, 0.9, -0.2, 0.4, 0.2, 0.6]`",
     lambda: f"It opens on *river*: `{drive('00')[0]}`"),
    ("Pick *fish* in `word` and drag `scale` to 0.5: `fish × 0.50 = [-0.35, 0.4, -0.05, -0.05, 0.25, 0.35]`", nb00_fish),
    # ---- notebook 01
    ("Section 1: `X has shape (9, 6)`", lambda: f"Section 1: `{stored_line('01', 'X has shape')}`"),
    ("the row of *river* is −0.9, 0.9, −0.2, 0.4, 0.2, 0.6", river_row_prose),
    ("the table of 44 words", lambda: f"the table of {len(kv())} words"),
    ("at (−0.24, −0.49)", bank_on_map),
    ("cos(river, fish) = 0.90", lambda: cosine_line("river", "fish")),
    ("cos(river, hospital) = −0.16", lambda: cosine_line("river", "hospital")),
    ("cos(bank, river) = 0.68", lambda: cosine_line("bank", "river")),
    ("cos(bank, hospital) = 0.53", lambda: cosine_line("bank", "hospital")),
    ("On the heatmap, the diagonal is 1", cosine_diagonal),
    ("each from −1 to 1", nb01_slider_range),
    ("`nearest 3 of the 6 cluster words: river 0.68, hospital 0.53, restaurant 0.53`",
     lambda: f"`{drive('01')[1]}`"),
    ("`cosine with the centres: river words 0.48, town words 0.53`", lambda: f"`{drive('01')[2]}`"),
    ("Drag **water** from 0.35 to 0.90: the nearest words become river 0.76, fish 0.60, fisherman 0.33, "
     "and the river centre wins (0.61 against 0.24)", nb01_water),
    ("drag **town vs nature** to 0.8: hospital 0.81, restaurant 0.79, post office 0.79; town words 0.80, "
     "river words −0.08", nb01_town),
    ("Drag all six to 0: the readout explains that a vector with no direction has no cosine", nb01_all_zero),
    ("(`identical: True`)", nb01_identical),
    # ---- notebook 02
    ("W_q has 4 on the diagonal and one extra entry, 8 at row *place*, column *topic*; W_k is the identity",
     nb02_projections),
    ("(0, 1.4, −0.8, 2.4, 0.4, 6.0) against its key (0, 0.35, −0.2, 0.6, 0.1, 0.3", nb02_query_and_key),
    ("*river* (6.06) and *fish* (5.36) win", nb02_bank_row_winners),
    ("the heatmap shows 6.1 for *bank* → *river* and 4.1 for *river* → *bank*", heatmap_asymmetry),
    ("0.00 + 1.26 + 0.16 + 0.96 + 0.08 + 3.60 = 6.06", nb02_term_by_term),
    ("Start: `top scores: river 6.06, fish 5.36, bank 3.93`", nb02_top_start),
    ("Drag **bank: town** to 0.8 and **bank: water** to −0.4: `top scores: bank 6.64, going 1.08, at 1.02`, "
     "and `bank · river` falls to 0.48", nb02_town_bank),
    ("**Reset**, then drag **bank: place** to 0: the topic entry of the query drops from 6.00 to 1.20 "
     "(second line of the readout) and the top scores fall to fish 2.24, river 2.22", nb02_no_place),
    ("`bank · fish: 0.00 + 1.12 + 0.08 - 0.24 + 0.20 + 4.20 = 5.36`", nb02_key_fish),
    ("(8.00 at d_k = 64, √64 = 8); divided by √d_k it stays near 1.00", nb02_sqrt_claim),
    ("the largest weight climbs to 0.96 at d_k = 512 without scaling and stays near a third (0.34)",
     nb02_softmax_claim),
    ("(slider `d_k`, from 1 to 256, starts at 64)", dk_slider),
    ("`d_k = 1`: spread 1.02, both bars equal (largest weight 0.45", dk_1),
    ("`d_k = 16`: spread 4.00 (√d_k = 4.00), after dividing 1.00; largest weight **0.57 without scaling, 0.25 with**",
     dk_full(16)),
    ("`d_k = 256`: spread 15.94 (√d_k = 16.00), after dividing 1.00; largest weight **1.00 without, 0.40 with**",
     dk_full(256)),
    ("`d_k = 6` (our head): spread 2.40, √6 = 2.45", dk_ours),
    ("goes back to d_k = 64 (one head of the paper's base model): spread 8.00, √64 = 8.00", dk_reset),
    ("Section 8: the scaled row of *bank*, `[0.36 0.17 0.44 0.25 2.19 0.42 0.17 2.47 1.6 ]`",
     lambda: f"Section 8: the scaled row of *bank*, {scaled_bank_row()}"),
    # ---- lesson 1, discussion
    ("*bank's score for river is 6.06, river's score for bank is 4.14", lambda: [score("bank", "river"), score("river", "bank")]),
    ("the measured largest weight is 0.87 at d_k = 64 and 0.92 at 128", nb02_real_models),
    ("*At d_k = 1 the scaled and unscaled bars are equal. Why?* — √1 = 1", dk_1_equal),
    # ---- lesson 2, objectives
    ("count the parameters for 1, 2, 3 and 6 heads", lambda: head_counts()),
    # ---- notebook 03
    ("*bank*'s scores `[0.36 0.17 0.44 0.25 2.19 0.42 0.17 2.47 1.6 ]` \"add up to 8.08, not to 1\"",
     lambda: f"*bank*'s scores {scaled_bank_row()} \"add up to {scores_sum()[0]:.2f}, not to 1\""),
    ("*bank*'s weights: river 0.35, fish 0.26, bank 0.15; `river + fish get 0.61 of bank's attention`",
     bank_weights_and_pair),
    ("(slider `temperature T`, with the steps 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5)", temperature_steps),
    ("Start at `T = 1`: top weights river 0.35, fish 0.26, bank 0.15, entropy 1.77", t_start),
    ("Drag to **0.1**: river 0.95, fish 0.05, entropy 0.21 (almost all on one word)", t_cold),
    ("Drag to **5**: river 0.15, fish 0.14, bank 0.13, entropy 2.18 (2.20 = spread evenly over 9)", t_hot),
    ("e^s overflows float16 above s = 11.09 and float32 above s = 88.72 (float64 only above 709.78, "
     "so numpy on a laptop hides it). *bank*'s scores × 5 in float16 (largest 12.37): the naive softmax "
     "gives `nan` for *river* and 0 for every other word; the stable softmax gives the weights of T = 0.2",
     overflow),
    ("*fish*'s masked scores (0.2, 0.29, 0.7, 0.19, 2.86, then −inf four times)", fish_masked_scores),
    ("hidden words get exactly 0 and every row still sums to 1", causal_rows),
    ("the padding slots take 0.28 of *bank*'s attention in the short sentence; with it, exactly 0", padding),
    ("`query word` = *fish*, `mask` = *none*: fish 0.40, river 0.38, bank 0.05", ex_fish_none),
    ("`mask` = *causal*: `hidden keys: at, the, river, bank`, fish 0.75, going 0.09, is 0.06, `row sum 1.00`",
     ex_fish_causal),
    ("`query word` = *bank* with *causal*: nothing changes (river 0.35, fish 0.26, bank 0.15, `hidden keys: none`)",
     ex_bank_causal),
    ("`query word` = *tom* with *causal*: tom 1.00", ex_tom_causal),
    ("`query word` = *the*, `mask` = *none*: top weights 0.12 each", ex_the),
    ("(river 0.35, fish 0.26, bank 0.15, every other word below 0.1)", bank_largest_first),
    # ---- notebook 04
    ("*bank* after attention = 0.35 × river + 0.26 × fish + 0.15 × bank + the other 6 words (0.24 together) = "
     "(−0.5, 0.58, −0.08, 0.22, 0.28, 0.46)", bank_after_attention),
    ("cosine with the river centre 0.48 → **0.96**, with the town centre 0.53 → −0.10; in the money sentence "
     "the town centre wins: 0.53 → **0.81**", bank_moves),
    ("(drop-down `context word` with river, lake, sea, money, cash, deposit, hospital, post office, restaurant; "
     "slider `sharpness` from 0 to 3, starts at 1)", context_controls),
    ("Start (*river*, 1.0): `bank attends most to: river 0.51, bank 0.21`, river centre 0.48 → 0.92", ctx_start),
    ("`context word` = *hospital*: hospital 0.41, bank 0.25; town centre 0.53 → 0.95", ctx_hospital),
    ("`context word` = *money*: now *bank* attends most **to itself** (bank 0.32, money 0.24), and still ends up "
     "closer to the town centre (0.84)", ctx_money),
    ("Back to *river*, drag `sharpness` to **0**: every word gets 1/7 ≈ 0.14 (the readout lists `tom 0.14, is 0.14`), "
     "and *bank* still leans to the river side (0.83)", ctx_sharpness_0),
    ("Drag `sharpness` to **2.5**: river 0.88, bank 0.10", ctx_sharpness_25),
    ("(`max |loop - matrix form| = 0.0`)", loop_vs_matrix),
    # ---- notebook 05
    ("one head gives it one row to share, river 0.28 and tom 0.17; two heads give it two rows, "
     "river 0.45 and tom 0.39", nb05_fish_two_answers),
    ("head 0 uses columns 0–2, head 1 columns 3–5", nb05_columns),
    ("`Q split into heads: (2, 9, 3)`; scores, weights and outputs per head: `weights: (2, 9, 9)`, "
     "`each head's output: (2, 9, 3)`, then `concat: (9, 6)` and `output: (9, 6)`", nb05_shapes),
    ("head 0: *bank* → fish 0.35 and river 0.28; head 1: *going* → tom 0.62", nb05_heatmaps),
    ("*bank*'s cosine with the river centre is 0.48 before attention, 0.97 after one head and 0.99 after two",
     nb05_bank_output),
    ("(toggle `heads` with 1, 2, 3, 6;", lambda: head_counts()),
    ("Start: 2 heads", mh_start),
    ("`heads` = **1**: `d_k = 6`; bank → fish 0.25, going → tom 0.45", mh_1),
    ("`heads` = **3**: `d_k = 2`; head 1 sends going → tom 0.76", mh_3),
    ("`heads` = **6**: `d_k = 1`; head 3 (the *action* column) gives going → tom **0.91**; head 5, whose column "
     "of W_q is all zeros, gives every word 0.11 (= 1/9)", mh_6),
    ("`heads` = **2**, `sentence` = *Tom is going to deposit money at the bank.*: head 0, bank → money 0.24; "
     "head 1, going → tom 0.61", mh_money),
    ("144 weights for 1, 2, 3 and 6 heads alike (`4 · d_model²`); the original transformer: 1,048,576 per "
     "attention layer", parameter_count),
    # ---- lesson 2, discussion
    ("why does tom get 1.00 on itself", lambda: [float(explorer("tom", "causal")[0].split()[1])]),
    ("*At sharpness 0 every weight is 1/7. Does bank still move, and which way?* — Yes, to the river side "
     "(cosine with the river centre 0.83)",
     lambda: [0, 1, len(embeddings.tokenize(CONTEXT_TEMPLATE.format(word="river"))),
              float(context(sharpness=0.0)[1].split(" → ")[1])]),
    ("the largest addition is *money* (0.24 in the panel)",
     lambda: [float(context(word="money")[0].split(", ")[1].split()[1])]),
    ("*Why must the number of heads divide 6?* — Each head takes `d_model / h` columns of Q, K and V; "
     "6 numbers cannot be cut into 4 or 5 equal slices", divisors_of_6),
    ("*With 6 heads, why does head 5 give every word 0.11?*",
     lambda: [6, 5, float(mh(6)[1][5][0].split()[-1])] if np.allclose(mha_weights(6)[1][5], 1 / 9) else []),
    ("Its column of W_q is all zeros, so all its scores are 0 and softmax of equal scores is 1/9 each",
     head5_scores),
    ("(`X (9, 6)` → `Q, K, V (9, 6)` → scores `(9, 9)` → weights `(9, 9)` → output `(9, 6)`; with 2 heads: "
     "`(2, 9, 3)` per head, concatenated back to `(9, 6)`.)", exit_shapes),
    # ---- misconceptions
    ("*river*'s weight goes 0.51 (sharpness 1) → 0.14 (0) → 0.88 (2.5)", mis1_context_weights),
    ("*bank* gives *river* 0.35 but *river* gives *bank* 0.04; a word gives itself 0.15 (*bank*), while cosine "
     "similarity of a word with itself is always 1", mis1_nb03),
    ("The readout shows `q_bank = x_bank W_q = [0.00, 1.40, -0.80, 2.40, 0.40, 6.00]`",
     lambda: f"The readout shows {mis2_q_line()}"),
    ("*bank*'s key is its own vector (0, 0.35, −0.2, 0.6, 0.1, 0.3)",
     lambda: list(story()["K"][story()["i"]("bank")])),
    ("Dragging `bank: place` to 0 drops the topic entry of the query from 6.00 to 1.20 and river's score from "
     "6.06 to 2.22", mis2_place),
    ("The score heatmap is not symmetric (6.1 vs 4.1)", heatmap_asymmetry),
    ("The readout shows `d_k = 6, 3, 2, 1` for 1, 2, 3, 6 heads", mis3_dk),
    ("the parameter cell prints 144 weights for every head count", parameter_cell),
    ("At T = 1: river 0.35, fish 0.26, bank 0.15 (entropy 1.77, near the maximum 2.20)", mis4_t1),
    ("Only at T = 0.1 does river take 0.95", mis4_only_cold),
    ("In notebook 04, *bank*'s output mixes all nine words", mis4_nb04_mixes),
    ("`mask` = *causal*: `hidden keys: at, the, river, bank`, fish's own weight grows from 0.40 to 0.75, "
     "`row sum 1.00`", mis5_causal),
    ("(the cells show 0.03 + 0.03 + 0.05 + 0.03 + 0.40; unrounded, they add up to 0.53)", mis5_rounded_cells),
    ("d_k = 16: spread 4.00 (√d_k = 4.00), after dividing 1.00; largest weight 0.57 without scaling, 0.25 with. "
     "d_k = 256: 15.94 vs 16.00, after dividing 1.00; 1.00 vs 0.40.", mis6),
    ("*bank* attends most to itself (0.32, money 0.24), yet its cosine with the town centre rises from 0.53 to 0.84",
     mis7),
    ("*bank*'s scores add up to 8.08, its weights to 1.00", mis8),
    # ---- panels at a glance
    ("`word`: the 44 words; `scale`: 0 to 1.5", glance_00),
    ("`town vs nature`, `water`, `person`, `place`, `action`, `topic`: −1 to 1, step 0.05", glance_01),
    ("`bank: town` … `bank: topic`: −1 to 1, step 0.05; `key word`: the 9 words", glance_02),
    ("`d_k`: 1 to 256 (starts at 64)", glance_dk),
    ("`temperature T`: 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5",
     lambda: temperature_steps().replace("(slider `temperature T`, with the steps ", "`temperature T`: ").rstrip(")")),
    ("`query word`: the 9 words; `mask`: none / causal; `temperature T`", glance_explorer),
    ("`context word`: river, lake, sea, money, cash, deposit, hospital, post office, restaurant; "
     "`sharpness`: 0 to 3, step 0.1 (starts at 1)", glance_04),
    ("`heads`: 1, 2, 3, 6; `sentence`: the river sentence or the money sentence; "
     "`sharpness × W_q`: 0 to 3, step 0.1 (starts at 1)", glance_05),
]

# ---------------------------------------------- Part II, notebook 06 (word order)


def nb06_panels():
    from helpers.lessons import word_order
    return {"waves": word_order.waves_panel(), "order": word_order.order_panel(),
            "previous": word_order.previous_word_panel(), "rope": word_order.rope_panel()}


@functools.cache
def nb06(name):
    return nb06_panels()[name]


def nb06_shuffle():
    line = stored_line("06", "bank -> river")
    a, b = re.findall(r"\d+\.\d+", line)
    assert a == b  # the same weight in both orders
    return [float(a), float(b)]


def nb06_waves():
    p = nb06("waves")
    periods = [float(p.set(dimension=dim, position=8).split("repeats every ")[1].split()[0]) for dim in (0, 4)]
    p.reset()
    return [8, 0, 4] + periods


def nb06_order():
    from helpers.lessons import word_order
    p = nb06("order")
    assert p.set(strength=0.0).endswith("the same in both orders")
    p.set(strength=1.0)
    tokens, _, w = word_order.head_weights(embeddings.SENTENCE, 1.0)
    tokens_r, _, w_r = word_order.head_weights(word_order.ORDERS["reversed"], 1.0)
    p.reset()
    return [0, 1, 0, 1, w[tokens.index("bank"), tokens.index("river")],
            w_r[tokens_r.index("bank"), tokens_r.index("river")]]


def nb06_previous():
    p = nb06("previous")
    means = [float(p.set(strength=s).split("mean ")[1]) for s in (3.0, 0.0)]
    p.reset()
    return [3, 0] + means


def nb06_rope():
    p = nb06("rope")
    scores = {float(p.set(query_position=a, key_position=b).split("score ")[1]) for a, b in ((8, 7), (5, 4))}
    p.reset()
    assert len(scores) == 1
    return [8, 7, 5, 4, scores.pop()]


def nb06_range(ctl, starts=False):
    text = f"`{ctl.description}`: {ctl.min:g} to {ctl.max:g}"
    text += f", step {ctl.step:g}" if ctl.step != 1 else ""
    return text + (f" (starts at {ctl.value:g})" if starts else "")


def glance_06(name):
    def glance():
        panel = nb06(name)
        panel.reset()
        c = panel.controls
        if name == "waves":
            return f"{nb06_range(c['dimension'])}; {nb06_range(c['position'])}"
        if name == "order":
            return f"{nb06_range(c['strength'])}; `{c['order'].description}`: {', '.join(c['order'].options)}"
        if name == "previous":
            return f"{nb06_range(c['strength'], True)}; {nb06_range(c['sharpness'], True)}"
        q, k = c["query_position"], c["key_position"]
        assert (q.min, q.max) == (k.min, k.max)
        return f"`{q.description}`, `{k.description}`: {q.min} to {q.max}"
    return glance


ROWS += [
    ("`bank -> river` is 0.35 in the sentence and 0.35 reversed", nb06_shuffle),
    ("at `position` 8, drag `dimension` from 0 to 4: the first wave repeats every 6.3 positions, the slowest "
     "every 135.4", nb06_waves),
    ("drag `positions ×` from 0 to 1. At 0 the two rows of bars match word for word; at 1 *bank*'s weight on "
     "*river* is 0.21 in the sentence and 0.85 reversed", nb06_order),
    ("drag `positions ×` from 3 down to 0: the mean weight on the previous word falls from 0.95 to 0.13",
     nb06_previous),
    ("set query 8 and key 7, then query 5 and key 4: the score is 2.65 both times", nb06_rope),
    ("`dimension`: 0 to 5; `position`: 0 to 8", glance_06("waves")),
    ("`positions ×`: 0 to 2, step 0.1; `other order`: reversed, shuffled, moved", glance_06("order")),
    ("`positions ×`: 0 to 4, step 0.25 (starts at 3); `sharpness`: 1 to 12 (starts at 8)",
     glance_06("previous")),
    ("`query at`, `key at`: 0 to 8", glance_06("rope")),
]

# ---------------------------------------------- Part II, notebook 07 (the transformer block)


@functools.cache
def nb07(name):
    from helpers.lessons import transformer_block
    return transformer_block.panels()[name]


def nb07_cosine_table():
    from helpers.lessons import transformer_block
    (raw_in, river_in, _), (raw_alone, river_alone, _), (raw_res, river_res, _) = \
        transformer_block.bank_cosines(embeddings.SENTENCE).values()
    assert raw_res > raw_alone and river_res > river_in
    return [river_alone, raw_alone, raw_res, river_in, river_res]


def nb07_residual():
    p = nb07("residual")

    def cosine(text, what):
        return float(text.split(f"cosine ")[1].split(" with raw bank")[0]) if what == "raw" else \
            float(text.split(", ")[-1].split(" with the town centre")[0])

    start = cosine(p.set(keep=1.0), "raw")
    alone = cosine(p.set(keep=0.0), "raw")
    town = cosine(p.set(keep=1.0, sentence="money"), "town")
    p.reset()
    return [1, 0, start, alone, 1, town]


def nb07_layer_norm():
    p = nb07("layer_norm")

    def stats(text):
        return [float(v) for v in re.findall(r"mean (-?[\d.]+), std ([\d.]+)", text) for v in v]

    before_after = stats(p.set(word="river"))
    scaled = stats(p.set(gain=2.0, bias=0.5))[2:]
    p.reset()
    return before_after + [2, 0.5] + scaled


def nb07_parameters():
    from helpers.lessons import transformer_block
    counts = transformer_block.parameter_counts(768, biases=True)
    assert stored_line("07", "a GPT-2 small block").count(f"{counts['feed-forward']:,}") == 1
    return [counts["feed-forward"], counts["block"]]


def nb07_stacking():
    p = nb07("stacking")
    off = p.set(layers=4, residuals="off")
    on = p.set(residuals="on")
    p.reset()
    cos_off, rank_off = re.search(r"words ([\d.]+), rank (\d)", off).groups()
    cos_on, rank_on = re.search(r"words ([\d.]+), rank (\d)", on).groups()
    return [4, float(cos_off), int(rank_off), 6, float(cos_on), int(rank_on), 6]


def nb07_cross():
    from helpers.lessons import transformer_block
    french, english, w = transformer_block.translation_weights()
    i = french.index("rivière")
    assert w[i].argmax() == english.index("river")
    return [w[i, english.index("river")]]


def glance_07(name):
    def glance():
        panel = nb07(name)
        panel.reset()
        c = panel.controls
        if name == "residual":
            labels = ", ".join(label for label, _ in c["sentence"].options)
            return f"`{c['sentence'].description}`: {labels}; {nb06_range(c['keep'], True)}"
        if name == "layer_norm":
            assert len(c["word"].options) == 9
            return (f"`{c['word'].description}`: the 9 words; {nb06_range(c['gain'], True)}; "
                    f"{nb06_range(c['bias'], True)}").replace("-", MINUS)
        return f"{nb06_range(c['layers'])}; `{c['residuals'].description}`: {', '.join(c['residuals'].options)}"
    return glance


ROWS += [
    ("in the river sentence attention alone gives *bank* cosine 0.99 with the river centre but only 0.58 "
     "with its raw vector; with the residual it keeps 0.87 with its raw vector and still rises from 0.48 "
     "to 0.85 with the river centre", nb07_cosine_table),
    ("drag `keep x ×` from 1 to 0: the cosine with raw bank falls from 0.87 to 0.58. Back at 1, switch "
     "`sentence` to *money bank*: 0.82 with the town centre", nb07_residual),
    ("pick `word` *river*: mean 0.36 and std 1.06 before, mean 0.00 and std 1.00 after. Drag `gain` to 2 "
     "and `bias` to 0.5: mean 0.50, std 2.00", nb07_layer_norm),
    ("the feed-forward network has 4,722,432 of the 7,087,872 weights", nb07_parameters),
    ("set `blocks` to 4 and turn `residuals` off: mean cosine 1.00, rank 1 of 6. Turn them on: 0.76, "
     "rank 6 of 6", nb07_stacking),
    ("*rivière* gives *river* 0.76", nb07_cross),
    ("`sentence`: river bank, money bank; `keep x ×`: 0 to 1, step 0.05 (starts at 1)", glance_07("residual")),
    ("`word`: the 9 words; `gain`: 0 to 2, step 0.1 (starts at 1); `bias`: −1 to 1, step 0.1 (starts at 0)",
     glance_07("layer_norm")),
    ("`blocks`: 1 to 12; `residuals`: on, off", glance_07("stacking")),
]


# ---------------------------------------------- Part II, notebook 08 (learning the head)


@functools.cache
def nb08_panel():
    from helpers.lessons import learning_attention
    return learning_attention.training_panel(pause=0.0)


def nb08_forward():
    line = stored_line("08", "p(river) = ")
    return [float(line.split("p(river) = ")[1].split(",")[0])]


def nb08_steps():
    from helpers import training
    from helpers.lessons import learning_attention as L
    train = L.data()[0]
    params = training.init_head(seed=L.SEED)
    cache = training.head_forward(params, train)
    stepped = training.gradient_step(params, training.head_backward(params, train, cache), 1.0)
    run = L.run()
    assert run[0].loss == cache["loss"] and run[-1].step == 200  # "two hundred"
    return [cache["loss"], training.head_forward(stepped, train)["loss"], run[-1].loss]


def nb08_scrub():
    p = nb08_panel()
    weights = []
    for step in (0, 200):
        p.set(step=step)
        for sentence, word in (("river", "fish"), ("money", "deposit")):
            keyed = p.scene.keyed()
            labels = [keyed[f"{sentence}.c{j}"][1] for j in range(9)]
            weights.append(float(keyed[f"{sentence}.n0.{labels.index(word)}"][1]))
    p.set(rate=0.1, step=200)
    slow = float(p.text.split("loss ")[1].split(",")[0])
    p.reset()
    fish0, deposit0, fish, deposit = weights
    return [0, 200, fish0, fish, deposit0, deposit, 0.1, 200, slow]


def nb08_held_out():
    from helpers.lessons import learning_attention as L
    final = L.run()[-1].params
    batch, _, acc, _ = L.held_out(final)
    (wrong,) = L.mistakes(final)
    assert " ".join(wrong[1]) == "a of the bank and a boat"
    return [round(acc * len(batch.y)), len(batch.y), wrong[2]]


def glance_08():
    p = nb08_panel()
    p.reset()
    step, rate = p.controls["step"], p.controls["rate"]
    options = ", ".join(label for label, _ in rate.options)
    return (f"**{p.train_button.description}** button; `{step.description}`: {step.min} to {step.max}, step "
            f"{step.step}; `{rate.description}`: {options} (starts at {rate.value:g})")


ROWS += [
    ("the forward cell prints p(river) = 0.48", nb08_forward),
    ("one step takes the loss from 0.764 to 0.703; two hundred take it to 0.006", nb08_steps),
    ("drag `step` from 0 to 200: *bank*'s weight on *fish* goes from 0.11 to 0.35 in the river sentence, on "
     "*deposit* from 0.10 to 0.30 in the money sentence. Pick `learning rate` 0.1 and press Train again: "
     "after 200 steps the loss is still 0.560", nb08_scrub),
    ("44 of the 45 held-out sentences right; the one it misses reads *a of the bank and a boat* to the head, "
     "which answers river with p = 0.96", nb08_held_out),
    ("**Train** button; `step`: 0 to 200, step 5; `learning rate`: 0.1, 0.3, 1, 3 (starts at 1)", glance_08),
]

# ---------------------------------------------- Part II, notebook 09 (a trained transformer)


@functools.cache
def nb09(name):
    from helpers.lessons import trained_transformer
    return trained_transformer.panels()[name]


def nb09_top(panel_text):
    """[(word, probability)] of a prediction readout's second line."""
    pairs = panel_text.splitlines()[1].split(", ")
    return [(w, float(p)) for w, p in (pair.rsplit(" ", 1) for pair in pairs)]


def nb09_losses():
    from helpers.model import load_model
    m = load_model()
    assert len(m.vocabulary) == 333
    return [m.info["held_out_loss"], np.log(len(m.vocabulary)), len(m.vocabulary), m.info["train_loss"]]


def nb09_prediction():
    p = nb09("prediction")
    p.reset()
    (word, first), = nb09_top(p.text)[:1]
    assert word == "bank"
    p.set(text="Tom is going to")
    (w1, deposit), (w2, fish) = nb09_top(p.text)[:2]
    assert (w1, w2) == ("deposit", "fish")
    p.set(text="Tom is going to fish at the lagoon")
    assert "read as <unk>: lagoon" in p.text
    p.set(text="Tom is going to", temperature=0.5)
    cool = nb09_top(p.text)[0][1]
    p.set(temperature=2.0)
    hot = nb09_top(p.text)[0][1]
    p.reset()
    return [first, deposit, fish, 0.5, cool, 2, hot]


def nb09_sampling():
    from helpers.lessons import trained_transformer as L
    cold = {L.generate("Tom is going to", words=10, temperature=0.2, seed=s) for s in range(3)}
    assert len(cold) == 1
    return [0.2, 2]


def nb09_head():
    from helpers.lessons import trained_transformer as L
    p = nb09("head")
    p.set(layer=1, head=0)
    fish = float(p.text.split("looks at fish ")[1].split(",")[0])
    p.set(sentence="money")
    money = float(p.text.split("looks at money ")[1].split(",")[0])
    p.reset()
    assert L.sense_head()[:2] == (1, 0)
    return [1, 0, fish, money]


def nb09_neuron():
    from helpers.lessons import trained_transformer as L
    p = nb09("neuron")
    p.reset()
    q, k = L.queries_and_keys(L.model().encode(L.SENTENCE), 1, 0)
    words = L.words_of(L.SENTENCE)
    terms = q[words.index("bank")] * k[words.index("fish")]
    big = sorted(np.argsort(-terms)[:2])
    score = float(p.text.split("score ")[1].split()[0])
    weight = float(p.text.split("weight ")[1].split()[0])
    p.set(key="river")
    river_score = float(p.text.split("score ")[1].split()[0])
    river_weight = float(p.text.split("weight ")[1].split()[0])
    p.reset()
    return [terms[big[0]], terms[big[1]], big[0], big[1], score, weight, river_score, river_weight]


def glance_09(name):
    def glance():
        from helpers.lessons import trained_transformer as L
        panel = nb09(name)
        panel.reset()
        c = panel.controls
        if name == "prediction":
            return (f"`{c['text'].description}`: any text; {nb06_range(c['temperature'], True)}")
        if name == "head":
            assert [label for label, _ in c["sentence"].options] == [L.SENTENCE, L.CONTRAST_SENTENCE]
            return (f"`{c['layer'].description}`: {', '.join(map(str, c['layer'].options))}; "
                    f"`{c['head'].description}`: 0 to {max(c['head'].options)}; "
                    f"`{c['sentence'].description}`: the river sentence or the money sentence")
        words = len(c["query"].options)
        assert c["key"].options == c["query"].options
        return (f"`{c['layer'].description}`: {', '.join(map(str, c['layer'].options))} (starts at "
                f"{c['layer'].value}); `{c['head'].description}`: 0 to {max(c['head'].options)} (starts at "
                f"{c['head'].value}); `{c['query'].description}`, `{c['key'].description}`: the {words} words")
    return glance


ROWS += [
    ("the held-out loss is 2.68 against 5.81 for guessing evenly among 333 words; the training loss, 1.19, "
     "is lower", nb09_losses),
    ("\"Tom is going to fish at the river\" gives *bank* 0.87. Delete words back to \"Tom is going to\": "
     "*deposit* 0.49, *fish* 0.25. Type *lagoon*: the panel says it is read as `<unk>`. Drag `temperature T` "
     "to 0.5 (*deposit* 0.79), then to 2 (0.13)", nb09_prediction),
    ("at T = 0.2 the three seeds write the same sentence; at T = 2 it falls apart", nb09_sampling),
    ("pick layer 1, head 0; *bank* looks at *fish* 0.77. Switch `sentence` to the money sentence: *money* 0.96",
     nb09_head),
    ("their products (4.4 and 5.6 in dimensions 0 and 4), score 2.96, weight 0.77. Pick `key word` *river*: "
     "score −1.40, weight 0.01", nb09_neuron),
    ("`prompt`: any text; `temperature T`: 0.1 to 3, step 0.1 (starts at 1)", glance_09("prediction")),
    ("`layer`: 0, 1; `head`: 0 to 3; `sentence`: the river sentence or the money sentence", glance_09("head")),
    ("`layer`: 0, 1 (starts at 1); `head`: 0 to 3 (starts at 0); `query word`, `key word`: the 10 words",
     glance_09("neuron")),
]

NUMBER = re.compile(r"[−-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[−-]?\d+(?:\.\d+)?")


def numbers_match(quote, computed):
    written = NUMBER.findall(quote)
    assert len(written) == len(computed), f"{len(written)} numbers in the quote, {len(computed)} computed"
    for text, value in zip(written, computed):
        plain = text.replace(MINUS, "-").replace(",", "")
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        shown = f"{float(value):.{decimals}f}"
        if float(shown) == 0:
            shown = shown.lstrip("-")
        assert shown == plain, f"the guide says {text}, computed {value!r} ({shown})"


@pytest.mark.parametrize("quote, compute", ROWS, ids=[f"{k:03d} {q[:50]}" for k, (q, _) in enumerate(ROWS)])
def test_guide_quote(quote, compute):
    assert norm(quote) in guide(), "this quote is no longer in teacher/GUIDE.md: update the row"
    value = compute()
    if isinstance(value, str):
        assert norm(value) == norm(quote)
    else:
        numbers_match(quote, list(value))


# ----------------------------------------------------------- timings of the plans


def lesson_block(k):
    text = guide_raw()
    start = text.index(f"## Lesson {k} (")
    end = text.index("\n## ", start + 1)
    return text[start:end]


@pytest.mark.parametrize("lesson", [1, 2])
def test_minute_plan_adds_up_to_the_lesson(lesson):
    assert "two lessons of 90 minutes" in guide()
    block = lesson_block(lesson)
    total = int(re.match(r"## Lesson \d \((\d+) min\)", block).group(1))
    assert total == 90
    table = block[block.index("### Timing"):block.index("### On the projector")]
    spans = [(int(a), int(b), nb.strip().strip("`"))
             for a, b, nb in re.findall(r"^\| (\d+)–(\d+) \| ([^|]+) \|", table, re.M)]
    assert spans[0][0] == 0 and spans[-1][1] == total
    assert all(prev[1] == nxt[0] for prev, nxt in zip(spans, spans[1:])), spans
    assert all(a < b for a, b, _ in spans)
    minutes = {nb: b - a for a, b, nb in spans if nb.endswith(".ipynb")}
    per_notebook = re.findall(r"^\*\*`(\S+\.ipynb)`\*\* \((\d+) min\)", block, re.M)
    assert per_notebook
    for nb, m in per_notebook:  # each notebook's heading gives the minutes of the timing table
        assert minutes[nb] == int(m), nb


# ------------------------------------------------------------------- coverage


def covered_blocks():
    """Paragraphs, list items and table rows from the lesson plans to the panel table (the
    maths of the guide), without those about slides (edited elsewhere, no computed numbers)."""
    text = guide_raw()
    region = text[text.index("## Lesson 1 ("):text.index("## Running the class")]
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:\d+\.|[-*]) |\|)", region):
        if not re.search(r"\b[Ss]lides?\b|\bRISE\b", block):
            yield norm(block)


def test_every_decimal_number_of_the_lessons_is_checked():
    quotes = [norm(q) for q, _ in ROWS]
    missing = []
    for block in covered_blocks():
        covered = np.zeros(len(block), bool)
        for q in quotes:
            for m in re.finditer(re.escape(q), block):
                covered[m.start():m.end()] = True
        for m in re.finditer(r"\d+\.\d+", block):
            if not covered[m.start():m.end()].all():
                missing.append(f"{m.group()} in: ...{block[max(0, m.start() - 60):m.end() + 30]}...")
    assert not missing, "numbers of GUIDE.md with no row in ROWS:\n" + "\n".join(missing)


# ------------------------------------------------ in class and at home (the exercises)

EXERCISE_HEADING = re.compile(r"^### (Exercise|Question) (\d+) · (.+)$", re.M)


@functools.cache
def notebook_exercises(prefix):
    """{"Exercise": {number: title}, "Question": {number: title}} from notebook `prefix`'s headings."""
    (path,) = NOTEBOOKS.glob(f"{prefix}_*.ipynb")
    found = {"Exercise": {}, "Question": {}}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for kind, k, title in EXERCISE_HEADING.findall("".join(cell["source"])):
                found[kind][int(k)] = title.strip()
    return found


def plan_table():
    """The rows of the table of *In class and at home*: {notebook or 'all': [cells]}."""
    text = guide_raw()
    block = text[text.index("## In class and at home"):text.index("## Before each lesson")]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") or line.startswith("| all "):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def named(cell):
    """'Exercises 2–3, Questions 4–6' -> {("Exercise", 2), ("Exercise", 3), ("Question", 4), ...}."""
    items = set()
    for kind, a, b in re.findall(r"(Exercise|Question)s? (\d+)(?:–(\d+))?", cell):
        items |= {(kind, k) for k in range(int(a), int(b or a) + 1)}
    return items


def test_exercise_and_question_counts_are_the_notebooks():
    rows = plan_table()
    lessons = sorted(p.name for p in NOTEBOOKS.glob("0[1-9]_*.ipynb"))
    assert sorted(rows) == sorted(lessons + ["all"])
    totals = np.zeros(2, int)
    for nb in lessons:
        found = notebook_exercises(nb[:2])
        counts = [len(found["Exercise"]), len(found["Question"])]
        assert [int(rows[nb][0]), int(rows[nb][1])] == counts, nb
        totals += counts
    assert [int(rows["all"][0]), int(rows["all"][1])] == list(totals)


def test_every_exercise_and_question_is_in_class_or_homework_once():
    rows = plan_table()
    in_class_total = homework = 0
    for nb, cells in rows.items():
        if nb == "all":
            continue
        found = notebook_exercises(nb[:2])
        everything = {(kind, k) for kind in found for k in found[kind]}
        in_class, at_home = named(cells[2]), named(cells[3])
        assert not in_class & at_home, nb
        assert in_class | at_home == everything, f"{nb}: {sorted(everything - in_class - at_home)} unplanned"
        in_class_total += len(in_class)
        homework += len(at_home)
    all_row = rows["all"]
    assert all_row[2] == f"{in_class_total} exercises"
    exercises_home = sum(1 for nb in rows if nb != "all" for kind, _ in named(rows[nb][3]) if kind == "Exercise")
    assert all_row[3] == f"{exercises_home} exercises, {homework - exercises_home} questions"


def test_the_timing_tables_give_the_in_class_exercises_a_slot():
    rows = plan_table()
    for lesson in (1, 2):
        block = lesson_block(lesson)
        table = block[block.index("### Timing"):block.index("### On the projector")]
        slots = re.findall(r"^\| \d+–\d+ \| `(\d\d)`, Exercise (\d+) \| In pairs: \*Exercise \d+ · ([^*]+)\*",
                           table, re.M)
        assert len(slots) == 1, f"lesson {lesson}: {slots}"
        ((prefix, k, title),) = slots
        (nb,) = [name for name in rows if name.startswith(prefix)]
        assert ("Exercise", int(k)) in named(rows[nb][2])  # the table's in-class exercise
        assert f"(lesson {lesson})" in rows[nb][2]
        assert notebook_exercises(prefix)["Exercise"][int(k)] == title


def test_the_softmax_exercise_is_two_lines_of_numpy():
    """'*Exercise 1 · Softmax* (two lines of numpy)': the worked solution's function body."""
    assert "*Exercise 1 · Softmax* (two lines of numpy)" in guide()
    path = NOTEBOOKS / "solutions" / "03_softmax_and_masking_solutions.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    (code,) = [c for c in map(lambda c: "".join(c["source"]), cells) if "def my_softmax" in c]
    body = code.split("def my_softmax")[1].split("\n\n")[0].splitlines()[1:]
    assert len([line for line in body if line.strip() and not line.strip().startswith("#")]) == 2


def test_the_lessons_are_three_of_the_hours():
    """'about 4–5 hours ... the two lessons are 3 of them': the lessons' minutes. (The 4–5 hours
    are a tester's estimate of the self-paced time, not a computation.)"""
    minutes = sum(int(re.match(r"## Lesson \d \((\d+) min\)", lesson_block(k)).group(1)) for k in (1, 2))
    hours = re.search(r"about (\d)–(\d) hours, the estimate of a tester.*?the two lessons are (\d) of them",
                      guide())
    low, high, lessons = map(int, hours.groups())
    assert lessons == minutes / 60 < low < high


def test_the_column_the_figures_are_designed_for():
    """'a notebook column of about 700 CSS px: static figures are at most 700 px wide with text
    of 11 pt or more': the pipeline diagram that opens every notebook, saved as plots.show does."""
    import io

    match = re.search(r"column of about (\d+) CSS px: static figures are at most (\d+) px wide with text "
                      r"of (\d+) pt or more", guide())
    column, width, points = map(int, match.groups())
    assert column == width
    plots.use_classroom_style()
    fig = plots.pipeline_diagram(highlight=["softmax"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png_width = int.from_bytes(buf.getvalue()[16:20], "big")  # the PNG header's width field
    assert png_width <= width
    assert min(t.get_fontsize() for t in fig.axes[0].texts if t.get_text()) >= points
    matplotlib.pyplot.close(fig)
