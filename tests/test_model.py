"""The shipped small language model (helpers.model.load_model, data/model/)."""

import json
import time

import numpy as np
import pytest

from helpers import lm_training
from helpers.model import MODEL_DIR, UNKNOWN, load_model

SENTENCE = "Tom is going to fish at the river bank."


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_it_loads_offline_in_well_under_a_second():
    started = time.perf_counter()
    load_model()
    assert time.perf_counter() - started < 1.0  # (a generous bound: it takes a few ms)


def test_the_shipped_files_are_small_and_say_how_they_were_made():
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir())
    assert size < 5 * 1024 * 1024
    info = json.loads((MODEL_DIR / "training.json").read_text())
    for key in ("corpus_sha256", "options", "train_loss", "held_out_loss", "loss_curve"):
        assert key in info


def test_the_recorded_held_out_loss_is_what_the_shipped_weights_give(model):
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("train_model", Path(__file__).parent.parent / "tools" / "train_model.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    o = model.info["options"]
    _, held = tool.split(tool.corpus_sentences(), o["held_out_every"])
    ids = tool.stream(held, model.index)
    params32 = {k: v for k, v in model.params.items()}
    loss = tool.evaluate(params32, ids, o["context"], model.num_heads)
    assert loss == pytest.approx(model.info["held_out_loss"], abs=2e-3)  # (weights stored as float32)
    assert model.info["corpus_sha256"] == __import__("hashlib").sha256(tool.CORPUS.read_bytes()).hexdigest()


def test_api_shapes_and_properties(model):
    ids = model.encode(SENTENCE)
    n, v = len(ids), len(model.vocabulary)
    assert model.logits(ids).shape == (n, v)
    weights = model.attention(ids)
    assert weights.shape == (model.layers, model.num_heads, n, n)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-12)
    assert np.all(np.triu(weights, k=1) == 0)  # causal: no word looks ahead
    top = model.predict_next("Tom is going to fish at the river", k=5)
    assert len(top) == 5 and all(a[1] >= b[1] for a, b in zip(top, top[1:]))
    assert 0 < sum(p for _, p in top) <= 1 + 1e-12


def test_logits_of_a_prefix_do_not_depend_on_later_words(model):
    ids = model.encode(SENTENCE)
    np.testing.assert_allclose(model.logits(ids[:5]), model.logits(ids)[:5], atol=1e-10)


def test_unknown_words_become_unk(model):
    assert model.unknown_words("Tom saw a zeppelin and a zeppelin") == ["zeppelin"]
    assert model.encode("zeppelin")[0] == model.index[UNKNOWN]
    with pytest.raises(ValueError, match="at least one word"):
        model.predict_next("?!")
    with pytest.raises(ValueError, match="token ids"):
        model.logits([len(model.vocabulary)])


def test_temperature_flattens_or_sharpens_the_prediction(model):
    text = "Tom is going to fish at the river"
    cold, warm = model.predict_next(text, k=1, temperature=0.5), model.predict_next(text, k=1, temperature=2.0)
    normal = model.predict_next(text, k=1)
    assert cold[0][0] == normal[0][0] == warm[0][0]
    assert cold[0][1] > normal[0][1] > warm[0][1]


def test_the_model_forward_uses_float64_weights_that_round_trip(model):
    assert set(model.params) == set(lm_training.init_parameters(len(model.vocabulary), model.d_model,
                                                                 model.layers, model.params["0.W_1"].shape[1]))
