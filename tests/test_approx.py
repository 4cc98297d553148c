"""Tests of fnnlib.approx, the universal-approximation constructions of Unit 3.

Every construction is checked as an ordinary network: its weights go through
fnnlib.network.forward (inputs as columns, shape (M_0, N)), never through a
separate formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fnnlib import approx
from fnnlib.approx import (
    ApproxNetwork,
    bump,
    bump_sum,
    count_linear_pieces,
    relu_interpolant,
    sawtooth,
    shallow_width_for_pieces,
    step,
    tent,
    tower_2d,
)
from fnnlib.network import forward


def run(net: ApproxNetwork, x: np.ndarray) -> np.ndarray:
    """Evaluate a 1-input network at the points x (shape (N,)) with network.forward."""
    return forward(net.params, np.asarray(x, dtype=float)[None, :], net.activations).a[-1][0]


def smooth(x):
    return np.sin(3.0 * x) + 0.5 * x**2


# ---------------------------------------------------------------------------
# every construction is an ordinary network
# ---------------------------------------------------------------------------
CONSTRUCTIONS = {
    "step": lambda: step(0.2, 30.0),
    "bump": lambda: bump(-0.5, 0.5, 2.0, 30.0),
    "bump_sum": lambda: bump_sum(np.cos, (-1.0, 1.0), 7),
    "relu_interpolant": lambda: relu_interpolant([-1.0, 0.0, 0.5, 2.0], [1.0, -1.0, 0.0, 3.0]),
    "tent": tent,
    "sawtooth": lambda: sawtooth(4),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
def test_construction_is_an_ordinary_network(name):
    net = CONSTRUCTIONS[name]()
    params, activations = net  # unpacks like (params, activations)
    sizes = net.layer_sizes
    assert len(params) == len(activations) == len(sizes) - 1
    for l, layer in enumerate(params, start=1):
        assert layer["W"].shape == (sizes[l], sizes[l - 1])  # W^(l) is (M_l, M_{l-1})
        assert layer["b"].shape == (sizes[l],)  # b^(l) is (M_l,)
        assert layer["W"].dtype == np.float64
    x = np.linspace(-1.5, 1.5, 101)
    direct = forward(params, x[None, :], activations).a[-1]
    assert direct.shape == (1, 101)
    np.testing.assert_array_equal(net(x), direct[0])
    assert isinstance(net(0.3), float)
    assert net(0.3) == run(net, np.array([0.3]))[0]


def test_call_rejects_transposed_input_for_two_inputs():
    net = tower_2d(0.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"expected \(M_0, N\) = \(2, N\).*transposed"):
        net(np.zeros((5, 2)))


# ---------------------------------------------------------------------------
# steps, bumps and sums of bumps
# ---------------------------------------------------------------------------
def test_step_weights_and_midpoint():
    net = step(0.5, k=8.0)
    # σ(k(x − s)) = σ(8x − 4): weight k, bias −k s
    np.testing.assert_array_equal(net.params[0]["W"], [[8.0]])
    np.testing.assert_array_equal(net.params[0]["b"], [-4.0])
    assert run(net, [0.5])[0] == 0.5  # σ(0) = 1/2 exactly


def test_step_approaches_the_indicator_as_k_grows():
    s = 0.3
    x = np.concatenate([np.linspace(-1.0, s - 0.1, 200), np.linspace(s + 0.1, 1.0, 200)])
    target = (x > s).astype(float)
    errors = [np.max(np.abs(run(step(s, k), x) - target)) for k in (5.0, 20.0, 100.0, 500.0)]
    assert all(e2 < e1 for e1, e2 in zip(errors, errors[1:]))
    # at distance d ≥ 0.1 from s the error is σ(−k d) ≤ σ(−0.1 k)
    assert errors[2] == pytest.approx(1.0 / (1.0 + math.exp(0.1 * 100.0)), rel=1e-9)
    assert errors[-1] < 1e-20


def test_bump_is_height_inside_and_zero_outside():
    net = bump(1.0, 3.0, height=-2.5, k=200.0)
    assert net.layer_sizes == [1, 2, 1]
    np.testing.assert_array_equal(net.params[1]["W"], [[-2.5, 2.5]])
    inside = np.linspace(1.1, 2.9, 50)
    outside = np.concatenate([np.linspace(-2.0, 0.9, 50), np.linspace(3.1, 5.0, 50)])
    np.testing.assert_allclose(run(net, inside), -2.5, atol=1e-6)
    np.testing.assert_allclose(run(net, outside), 0.0, atol=1e-6)
    # half-height at each edge (up to the other step's tail)
    np.testing.assert_allclose(run(net, [1.0, 3.0]), -1.25, atol=1e-6)


def test_bump_sum_layout_and_heights():
    n = 4
    net = bump_sum(lambda t: t * t, (0.0, 2.0), n, k=1000.0)
    assert net.layer_sizes == [1, 2 * n, 1]
    assert net.activations == ["logistic", "identity"]
    mids = np.array([0.25, 0.75, 1.25, 1.75])
    # output weights (+h_i, −h_i) per bump, h_i = f(midpoint)
    np.testing.assert_allclose(net.params[1]["W"][0], np.repeat(mids**2, 2) * np.tile([1.0, -1.0], n))
    # in the middle of each bin the network is f at the midpoint
    np.testing.assert_allclose(run(net, mids), mids**2, atol=1e-9)


def test_bump_sum_is_flat_at_the_ends_of_the_interval():
    # the outermost edges are pushed one bin outwards: F(lo) ≈ f(m_0), not f(m_0)/2
    net = bump_sum(lambda t: 5.0, (0.0, 1.0), 3)
    np.testing.assert_allclose(run(net, [0.0, 1.0]), 5.0, atol=1e-6)


def test_bump_sum_error_falls_like_one_over_n():
    lo, hi = -1.0, 2.0
    x = np.linspace(lo, hi, 20001)
    ns = np.array([5, 10, 20, 40, 80, 160])
    errors = np.array([np.max(np.abs(run(bump_sum(smooth, (lo, hi), int(n)), x) - smooth(x))) for n in ns])
    assert np.all(np.diff(errors) < 0), errors  # monotone
    slope = np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert -1.15 < slope < -0.85, slope
    # and the bound K Δ / 2 with K = max |f'| ≤ 3 + 2 = 5
    assert np.all(errors <= 5.0 * (hi - lo) / (2 * ns) * 1.01)


def test_bump_sum_accepts_scalar_only_functions():
    net = bump_sum(math.cos, (0.0, 1.0), 5)  # math.cos does not take arrays
    assert net.layer_sizes == [1, 10, 1]


# ---------------------------------------------------------------------------
# ReLU interpolation
# ---------------------------------------------------------------------------
def _spread_out(xs, min_gap=1e-3):
    xs = sorted(xs)
    return all(b - a >= min_gap for a, b in zip(xs, xs[1:]))


knots = st.integers(2, 12).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n, unique=True).filter(_spread_out).map(sorted),
        st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n),
    )
)


@settings(deadline=None, max_examples=50)
@given(knots)
def test_relu_interpolant_passes_exactly_through_its_knots(kn):
    xs, ys = (np.array(v) for v in kn)
    net = relu_interpolant(xs, ys)
    n = xs.size
    assert net.layer_sizes == [1, n, 1]
    assert net.activations == ["relu", "identity"]
    np.testing.assert_allclose(run(net, xs), ys, rtol=0.0, atol=1e-12)
    # linear between knots: the midpoint value is the mean of the end values
    mids = (xs[:-1] + xs[1:]) / 2
    np.testing.assert_allclose(run(net, mids), (ys[:-1] + ys[1:]) / 2, rtol=0.0, atol=1e-9)


def test_relu_interpolant_extends_linearly_on_both_sides():
    xs, ys = np.array([0.0, 1.0, 3.0]), np.array([1.0, 3.0, 2.0])  # slopes 2 and −1/2
    net = relu_interpolant(xs, ys)
    np.testing.assert_allclose(run(net, [-2.0, -0.5]), [1.0 - 4.0, 1.0 - 1.0])  # y_0 + s_0 (x − x_0)
    np.testing.assert_allclose(run(net, [5.0]), [2.0 - 1.0])  # y_2 + s_1 (x − x_2)
    # hand-worked weights: units ReLU(x), ReLU(−x), ReLU(x − 1); output (2, −2, −5/2), bias 1
    np.testing.assert_array_equal(net.params[0]["W"], [[1.0], [-1.0], [1.0]])
    np.testing.assert_array_equal(net.params[0]["b"], [0.0, 0.0, -1.0])
    np.testing.assert_array_equal(net.params[1]["W"], [[2.0, -2.0, -2.5]])
    np.testing.assert_array_equal(net.params[1]["b"], [1.0])


def test_relu_interpolant_piece_count():
    # 6 knots with all consecutive slopes different: 5 pieces between the first and last knot
    xs = np.array([0.0, 1.0, 2.5, 3.0, 4.0, 6.0])
    ys = np.array([0.0, 2.0, -1.0, 0.0, 3.0, 3.0])
    assert count_linear_pieces(relu_interpolant(xs, ys), xs[0], xs[-1]) == 5


@pytest.mark.parametrize(
    "xs, ys, match",
    [
        ([0.0, 2.0, 1.0], [0.0, 1.0, 2.0], "strictly increasing.*not sorted"),
        ([0.0, 1.0, 1.0], [0.0, 1.0, 2.0], "strictly increasing.*repeated"),
        ([0.0, 1.0], [0.0, 1.0, 2.0], r"knots_y has shape \(3,\); expected \(n,\) = \(2,\)"),
        ([0.0], [0.0], "n ≥ 2"),
        ([0.0, float("nan")], [0.0, 1.0], "NaN"),
        ([0.0, 1e-300], [0.0, 1e300], "slopes between knots overflow"),
    ],
)
def test_relu_interpolant_rejects_bad_knots(xs, ys, match):
    with pytest.raises(ValueError, match=match):
        relu_interpolant(xs, ys)


# ---------------------------------------------------------------------------
# depth: tent, sawtooth, piece counting
# ---------------------------------------------------------------------------
def test_tent_map_values_and_weights():
    net = tent()
    assert net.layer_sizes == [1, 2, 1]
    t = np.linspace(0.0, 1.0, 101)
    np.testing.assert_allclose(run(net, t), np.where(t <= 0.5, 2 * t, 2 - 2 * t), atol=1e-15)


@pytest.mark.parametrize("L", range(1, 9))
def test_sawtooth_has_2_to_the_L_pieces_with_2L_units(L):
    net = sawtooth(L)
    assert net.layer_sizes == [1] + [2] * L + [1]
    assert net.hidden_units == 2 * L
    assert count_linear_pieces(net, 0.0, 1.0) == 2**L
    # a grid that puts most breakpoints inside cells, not on grid points
    assert count_linear_pieces(net, 0.0, 1.0, n=123_457) == 2**L
    # breakpoints at j / 2^L alternate between 0 and 1
    j = np.arange(2**L + 1)
    np.testing.assert_allclose(run(net, j / 2**L), j % 2, atol=1e-12)


def test_sawtooth_is_the_composition_of_tents():
    t = np.linspace(0.0, 1.0, 1001)
    composed = t
    for _ in range(4):
        composed = run(tent(), composed)
    np.testing.assert_allclose(run(sawtooth(4), t), composed, atol=1e-12)


def test_count_linear_pieces_simple_cases():
    assert count_linear_pieces(lambda x: 3.0 * x + 1.0, -1.0, 1.0) == 1
    assert count_linear_pieces(np.abs, -1.0, 1.0) == 2
    # a kink strictly inside a grid cell still counts once
    assert count_linear_pieces(lambda x: np.abs(x - 0.123456789), -1.0, 1.0, n=1001) == 2
    # slope changes below the tolerance are noise
    noisy = lambda x: x + 1e-13 * np.sin(1e3 * x)  # noqa: E731
    assert count_linear_pieces(noisy, 0.0, 1.0) == 1


def test_count_linear_pieces_refuses_curved_functions():
    with pytest.raises(ValueError, match="not piecewise linear at this resolution"):
        count_linear_pieces(np.sin, 0.0, 3.0)


@settings(deadline=None, max_examples=30)
@given(
    st.lists(st.integers(-20, 20), min_size=1, max_size=10, unique=True),
    st.data(),
)
def test_one_hidden_layer_relu_has_at_most_width_plus_one_pieces(breakpoints, data):
    """The claim behind shallow_width_for_pieces: M units give at most M + 1 pieces."""
    M = len(breakpoints)
    signs = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=M, max_size=M)))
    v = np.array(data.draw(st.lists(st.floats(0.1, 3.0), min_size=M, max_size=M)))
    v *= np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=M, max_size=M)))
    t = np.array(breakpoints, dtype=float)
    params = [{"W": signs[:, None], "b": -signs * t}, {"W": v[None, :], "b": np.zeros(1)}]
    net = ApproxNetwork(params, ["relu", "identity"])
    pieces = count_linear_pieces(net, -25.0, 25.0, n=50_001)
    # distinct breakpoints, each with a nonzero slope change |v_m|: exactly M + 1 pieces
    assert pieces == M + 1
    assert shallow_width_for_pieces(pieces) == M


def test_shallow_width_versus_depth():
    assert shallow_width_for_pieces(1) == 0
    for L in (4, 8, 12):
        assert shallow_width_for_pieces(2**L) == 2**L - 1 > sawtooth(L).hidden_units == 2 * L


# ---------------------------------------------------------------------------
# two dimensions
# ---------------------------------------------------------------------------
def test_tower_is_one_inside_and_zero_outside():
    a1, b1, a2, b2 = -1.0, 0.5, 2.0, 3.0
    net = tower_2d(a1, b1, a2, b2)
    assert net.layer_sizes == [2, 4, 1]
    assert net.activations == ["logistic", "logistic"]
    g1, g2 = np.meshgrid(np.linspace(-2.0, 1.5, 71), np.linspace(1.0, 4.0, 61))
    X = np.vstack([g1.ravel(), g2.ravel()])  # (2, N), one column per point
    out = forward(net.params, X, net.activations).a[-1][0]
    np.testing.assert_array_equal(net(X), out)
    inside1 = (X[0] > a1) & (X[0] < b1)
    inside2 = (X[1] > a2) & (X[1] < b2)
    margin1 = np.minimum(np.abs(X[0] - a1), np.abs(X[0] - b1)) >= 0.05
    margin2 = np.minimum(np.abs(X[1] - a2), np.abs(X[1] - b2)) >= 0.05
    away = margin1 & margin2
    assert np.all(out[away & inside1 & inside2] > 0.999)
    assert np.all(out[away & ~(inside1 & inside2)] < 1e-3)
    assert (away & inside1 & inside2).sum() > 100  # the test looked at real points
    assert (away & (inside1 ^ inside2)).sum() > 100  # including the cross arms


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: step(0.0, k=0.0), ValueError, "step: k must be > 0"),
        (lambda: step(0.0, k=-3.0), ValueError, "steepness"),
        (lambda: step([0.0, 1.0]), ValueError, "s must be a single number"),
        (lambda: bump(1.0, 1.0), ValueError, r"bump: the interval \[a, b\] must have a < b"),
        (lambda: bump(0.0, 1.0, k=float("inf")), ValueError, "NaN or infinite"),
        (lambda: bump_sum(np.sin, (0.0, 1.0), 0), ValueError, "n_bumps must be an integer >= 1"),
        (lambda: bump_sum(np.sin, (1.0, 0.0), 3), ValueError, "lo < hi"),
        (lambda: bump_sum("sin", (0.0, 1.0), 3), TypeError, "f must be a function"),
        (lambda: bump_sum(np.log, (-1.0, 1.0), 4), ValueError, "finite number at every midpoint"),
        (lambda: sawtooth(0), ValueError, "L must be an integer >= 1"),
        (lambda: sawtooth(2.5), TypeError, "L must be an integer"),
        (lambda: count_linear_pieces(np.abs, 0.0, 1.0, n=2), ValueError, "n must be an integer >= 3"),
        (lambda: count_linear_pieces(lambda x: x[:-1], 0.0, 1.0), ValueError, "must be vectorised"),
        (lambda: shallow_width_for_pieces(0), ValueError, "n_pieces must be an integer >= 1"),
        (lambda: tower_2d(0.0, 1.0, 2.0, 1.0), ValueError, r"\[a2, b2\] must have a2 < b2"),
        (lambda: tower_2d(0.0, 1.0, 0.0, 1.0, k_out=0.0), ValueError, "k_out must be > 0"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, exc, match):
    with np.errstate(all="ignore"):
        with pytest.raises(exc, match=match):
            call()


def test_module_exports():
    assert set(approx.__all__) == {
        "ApproxNetwork", "step", "bump", "bump_sum", "relu_interpolant", "tent", "sawtooth",
        "count_linear_pieces", "shallow_width_for_pieces", "tower_2d",
    }
