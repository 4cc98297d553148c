"""Tests for fnnlib.params: parameter counts, the per-layer breakdown, the augmented matrix."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fnnlib.network import init_params
from fnnlib.params import (
    LayerParams,
    ParamBreakdown,
    augment,
    augment_input,
    count_params,
    param_breakdown,
    split_augmented,
)

layer_sizes_st = st.lists(st.integers(1, 12), min_size=2, max_size=6)


# The worked cases of the Unit 2 seed notes, P = Σ_l (M_{l-1} + 1) M_l.
@pytest.mark.parametrize(
    "sizes, expected",
    [
        ([3, 4, 2], 26),  # (3+1)·4 + (4+1)·2 = 16 + 10
        ([3, 5, 6, 4, 2], 94),  # 20 + 36 + 28 + 10
        ([8, 10, 12, 15, 15, 12, 6], 927),  # 90 + 132 + 195 + 240 + 192 + 78
    ],
)
def test_seed_cases(sizes, expected):
    P = count_params(sizes)
    assert P == expected
    assert type(P) is int
    assert param_breakdown(sizes).total == expected


def test_parentheses_matter():
    # the seed's formula without parentheses, Σ M_{l-1} + 1·M_l, gives another number
    sizes = [3, 4, 2]
    wrong = sum(m_prev + 1 * m for m_prev, m in zip(sizes[:-1], sizes[1:]))
    assert count_params(sizes) != wrong


def test_numpy_integer_sizes_accepted():
    assert count_params(np.array([3, 4, 2])) == 26
    assert count_params((np.int64(3), 4, 2)) == 26


@settings(deadline=None, max_examples=50)
@given(layer_sizes_st)
def test_count_equals_sum_of_array_sizes(sizes):
    params = init_params(sizes, "xavier", rng=0)
    assert count_params(sizes) == sum(p["W"].size + p["b"].size for p in params)


@settings(deadline=None, max_examples=50)
@given(layer_sizes_st)
def test_breakdown_rows_agree(sizes):
    bd = param_breakdown(sizes)
    assert isinstance(bd, ParamBreakdown)
    assert len(bd) == len(sizes) - 1
    params = init_params(sizes, "zeros")
    for row, p, l in zip(bd, params, range(1, len(sizes))):
        assert isinstance(row, LayerParams)
        assert row.layer == l
        assert row.W_shape == p["W"].shape
        assert row.weights == p["W"].size
        assert row.biases == p["b"].size
        assert row.total == row.weights + row.biases
    assert bd.total == bd.weights + bd.biases == count_params(sizes)


def test_breakdown_renders():
    bd = param_breakdown([3, 5, 6, 4, 2])
    text = str(bd)
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "W", "shape", "weights", "biases", "total"]
    assert "5 × 3" in lines[2] and lines[2].split()[-1] == "20"
    assert lines[-1].split() == ["total", "77", "17", "94"]  # weights 15+30+24+8, biases 5+6+4+2
    md = bd.to_markdown()
    assert md.splitlines()[0] == "| layer | W shape | weights | biases | total |"
    assert md.splitlines()[-1] == "| **total** |  | **77** | **17** | **94** |"
    assert bd._repr_markdown_() == md


def test_breakdown_is_frozen():
    bd = param_breakdown([3, 4, 2])
    with pytest.raises(AttributeError):
        bd.rows = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        ([3], ValueError, "at least two"),
        ([], ValueError, "at least two"),
        ([3, 0, 2], ValueError, "layer_sizes[1]"),
        ([3, -4, 2], ValueError, "positive"),
        ([3, 4.0, 2], TypeError, "layer_sizes[1]"),
        ([3, True, 2], TypeError, "positive integer"),
        ("342", TypeError, "list of positive integers"),
        (342, TypeError, "list of positive integers"),
    ],
)
def test_bad_layer_sizes(bad, exc, words):
    with pytest.raises(exc, match=None) as info:
        count_params(bad)
    assert words in str(info.value)
    assert "count_params" in str(info.value)
    with pytest.raises(exc):
        param_breakdown(bad)


@settings(deadline=None, max_examples=50)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_augmented_matrix_acts_like_w_and_b(m, m_prev, N, seed):
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(m, m_prev)), rng.normal(size=m)
    x, X = rng.normal(size=m_prev), rng.normal(size=(m_prev, N))
    W_aug = augment(W, b)
    assert W_aug.shape == (m, m_prev + 1)
    np.testing.assert_allclose(W_aug @ augment_input(x), W @ x + b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W_aug @ augment_input(X), W @ X + b[:, None], rtol=1e-12, atol=1e-12)
    W2, b2 = split_augmented(W_aug)
    np.testing.assert_array_equal(W2, W)
    np.testing.assert_array_equal(b2, b)


def test_augment_does_not_alias():
    W, b = np.ones((2, 3)), np.zeros(2)
    W_aug = augment(W, b)
    W_aug[:] = 7.0
    assert W.sum() == 6.0 and b.sum() == 0.0
    W2, b2 = split_augmented(W_aug)
    W2[:] = 0.0
    b2[:] = 0.0
    assert W_aug.sum() == 7.0 * 8


def test_augment_input_ones_row():
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(augment_input(X)[-1], np.ones(3))
    assert augment_input(X).shape == (3, 3)


def test_augment_errors():
    with pytest.raises(ValueError, match=r"b has shape \(2, 3\); expected \(M_l,\) = \(2,\)") as info:
        augment(np.ones((2, 3)), np.ones((2, 3)))
    assert "one entry per neuron" in str(info.value)
    with pytest.raises(ValueError, match="matrix"):
        augment(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="at least two"):
        split_augmented(np.ones((3, 1)))
    with pytest.raises(ValueError, match="one column per example"):
        augment_input(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        augment(np.array([[np.nan]]), [0.0])
