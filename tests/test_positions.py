"""helpers.positions: the sinusoidal table and rotary positions, against plain-Python formulas."""

import math

import numpy as np
import pytest

from helpers.attention import scaled_dot_product_attention
from helpers.positions import angles, rotate, sinusoidal


@pytest.mark.parametrize("n, d", [(1, 2), (9, 6), (5, 7), (50, 16)])
def test_sinusoidal_matches_the_formula_entry_by_entry(n, d):
    table = sinusoidal(n, d)
    assert table.shape == (n, d) and table.dtype == np.float64
    for p in range(n):
        for col in range(d):
            i = col // 2
            angle = p / 10000 ** (2 * i / d)
            expected = math.sin(angle) if col % 2 == 0 else math.cos(angle)
            assert table[p, col] == pytest.approx(expected, abs=1e-12)


def test_sinusoidal_base_changes_the_waves():
    assert sinusoidal(4, 6, base=100.0)[3, 2] == pytest.approx(math.sin(3 / 100 ** (2 / 6)))


def test_position_zero_is_sin_0_cos_0():
    np.testing.assert_array_equal(sinusoidal(3, 6)[0], [0, 1, 0, 1, 0, 1])


def test_every_position_gets_its_own_row():
    table = sinusoidal(64, 6)
    distances = np.linalg.norm(table[:, None] - table[None, :], axis=-1)
    assert (distances[~np.eye(64, dtype=bool)] > 1e-3).all()


def rotate_by_hand(x, positions, base=10000.0):
    d = len(x[0])
    out = []
    for row, p in zip(x, positions):
        new = []
        for i in range(d // 2):
            theta = p / base ** (2 * i / d)
            a, b = row[2 * i], row[2 * i + 1]
            new += [a * math.cos(theta) - b * math.sin(theta), a * math.sin(theta) + b * math.cos(theta)]
        out.append(new)
    return np.array(out)


def test_rotate_matches_2d_rotations_by_hand():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6))
    positions = [0, 1, 2, 7, 30]
    np.testing.assert_allclose(rotate(x, positions), rotate_by_hand(x.tolist(), positions), atol=1e-12)


def test_rotate_keeps_lengths_of_every_pair_and_dtype():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 8)).astype(np.float32)
    y = rotate(x, np.arange(4))
    assert y.dtype == np.float32 and y.shape == x.shape
    pair_len = lambda a: np.hypot(a[..., 0::2], a[..., 1::2])  # noqa: E731
    np.testing.assert_allclose(pair_len(y), pair_len(x), rtol=1e-5)


def test_rotated_score_depends_only_on_the_distance():
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal(8), rng.standard_normal(8)

    def score(pq, pk):
        return float(rotate(q[None], [pq])[0] @ rotate(k[None], [pk])[0])

    for gap in (0, 1, 3):
        scores = [score(start + gap, start) for start in (0, 4, 11, 50)]
        np.testing.assert_allclose(scores, scores[0], rtol=1e-9)
    assert abs(score(1, 0) - score(3, 0)) > 1e-3  # a different distance: a different score


def test_rotate_at_position_zero_changes_nothing():
    x = np.arange(6.0).reshape(1, 6)
    np.testing.assert_array_equal(rotate(x, [0]), x)


def test_attention_with_sinusoids_sees_order_and_without_does_not():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 6))
    perm = [4, 2, 0, 3, 1]
    out, _ = scaled_dot_product_attention(X, X, X)
    out_perm, _ = scaled_dot_product_attention(X[perm], X[perm], X[perm])
    np.testing.assert_allclose(out_perm, out[perm], atol=1e-12)  # blind to order
    P = sinusoidal(5, 6)
    Xp, Xq = X + P, X[perm] + P
    out, _ = scaled_dot_product_attention(Xp, Xp, Xp)
    out_perm, _ = scaled_dot_product_attention(Xq, Xq, Xq)
    assert np.abs(out_perm - out[perm]).max() > 1e-2  # positions added: order matters


def test_angles_shape_and_first_column():
    a = angles([0, 1, 2], 6)
    assert a.shape == (3, 3)
    np.testing.assert_allclose(a[:, 0], [0, 1, 2])


@pytest.mark.parametrize("call, error, message", [
    (lambda: rotate(np.ones((3, 5)), [0, 1, 2]), ValueError, "even last dimension"),
    (lambda: rotate(np.ones((3, 4)), [0, -1, 2]), ValueError, "0 or more"),
    (lambda: rotate(np.ones((3, 4)), [0, 1.5, 2]), ValueError, "whole numbers"),
    (lambda: rotate(np.ones((3, 4)), [0, 1]), ValueError, "2 entries but x has 3"),
    (lambda: rotate(np.ones((3, 4)), [[0, 1, 2]]), ValueError, "1-D"),
    (lambda: rotate(np.ones((3, 4)), ["a", "b", "c"]), TypeError, "whole numbers"),
    (lambda: rotate(np.ones(4), [0]), ValueError, "at least 2 dimension"),
    (lambda: sinusoidal(0, 6), ValueError, "n must be positive"),
    (lambda: sinusoidal(3, 2.5), TypeError, "d_model must be a whole number"),
    (lambda: sinusoidal(3, 6, base=1.0), ValueError, "base must be"),
])
def test_bad_input_gets_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
