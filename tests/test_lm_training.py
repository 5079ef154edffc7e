"""The small language model's training code (helpers.lm_training, tools/train_model.py).

The forward pass used for training must be the model's forward pass (helpers.model,
built on helpers.transformer); every gradient must agree with finite differences; a
short training run must make the loss fall.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from helpers import lm_training as T
from helpers.model import Model, words_of

ROOT = Path(__file__).resolve().parent.parent


def train_module():
    spec = importlib.util.spec_from_file_location("train_model", ROOT / "tools" / "train_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(1)
    params = T.init_parameters(11, d_model=8, layers=2, d_ff=12, seed=3)
    for name in params:  # gains, biases away from 1 and 0, so that their gradients are tested too
        if ".ln" in name or name.startswith("ln") or ".b_" in name:
            params[name] = params[name] + rng.normal(0.0, 0.3, params[name].shape)
    tokens, targets = rng.integers(0, 11, (2, 5)), rng.integers(0, 11, (2, 5))
    return params, tokens, targets


def test_the_training_forward_pass_is_the_models(small):
    params, tokens, _ = small
    logits, _ = T.forward(params, tokens, num_heads=2)
    model = Model(params, [f"w{i}" for i in range(11)], num_heads=2)
    for row in range(2):
        np.testing.assert_allclose(logits[row], model.logits(tokens[row]), atol=1e-12)


def test_every_gradient_matches_finite_differences(small):
    params, tokens, targets = small
    params = {k: v.copy() for k, v in params.items()}
    _, grads = T.loss_and_grads(params, tokens, targets, num_heads=2)
    rng = np.random.default_rng(7)
    assert set(grads) == set(params)
    for name, value in params.items():
        assert grads[name].shape == value.shape, name
        for _ in range(3):
            idx = tuple(int(rng.integers(0, s)) for s in value.shape)
            old, h = value[idx], 1e-6
            value[idx] = old + h
            up, _ = T.loss_and_grads(params, tokens, targets, 2)
            value[idx] = old - h
            down, _ = T.loss_and_grads(params, tokens, targets, 2)
            value[idx] = old
            np.testing.assert_allclose(grads[name][idx], (up - down) / (2 * h), rtol=1e-5, atol=1e-9,
                                       err_msg=name)


def test_cross_entropy_of_a_uniform_guess_is_log_vocab():
    loss, d = T.cross_entropy(np.zeros((2, 3, 5)), np.zeros((2, 3), dtype=int))
    assert loss == pytest.approx(np.log(5))
    np.testing.assert_allclose(d.sum(axis=-1), 0.0, atol=1e-15)  # softmax − one-hot sums to 0


def test_adam_moves_against_the_gradient():
    params = {"w": np.array([1.0, -1.0])}
    adam = T.Adam(params, lr=0.1)
    adam.step(params, {"w": np.array([2.0, -3.0])})
    np.testing.assert_allclose(params["w"], [0.9, -0.9])  # first step: lr · sign(g)


def test_words_are_lower_case_words_and_full_stops():
    assert words_of("Tom is going, to the river bank.") == ["tom", "is", "going", "to", "the", "river", "bank", "."]
    with pytest.raises(TypeError, match="string"):
        words_of(3)


def test_a_short_run_makes_the_loss_fall_and_is_deterministic():
    train = train_module().train
    options = dict(steps=40, warmup=5, d_model=16, d_ff=32, layers=1, num_heads=2, batch=8)
    params, vocabulary, info = train(options, log_every=10, quiet=True)
    losses = [loss for _, loss, _ in info["loss_curve"]]
    assert losses[-1] < losses[0] - 0.5
    again, _, _ = train(options, log_every=10, quiet=True)
    assert all(np.array_equal(params[k], again[k]) for k in params)
    assert vocabulary[0] == "<unk>" and "bank" in vocabulary


def test_the_held_out_sentences_are_never_trained_on():
    tool = train_module()
    sentences = tool.corpus_sentences()
    train, held = tool.split(sentences, 10)
    assert sorted(train + held) == sorted(sentences)
    assert not set(train) & set(held)  # (the corpus has no repeated sentence)
    assert len(held) == len(sentences) // 10
