"""Tests of fnnlib.gradcheck: relative error, finite differences, gradient checks with kinks."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fnnlib import network
from fnnlib.gradcheck import (
    KINKS,
    THRESHOLDS,
    GradCheckReport,
    check_gradient,
    check_network_gradients,
    forward_difference,
    kink_regions,
    numerical_gradient,
    rel_error,
    verdict,
)

SEED = 7


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


# ---------------------------------------------------------------------------
# rel_error and the thresholds
# ---------------------------------------------------------------------------


def test_rel_error_basics():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    # |1 − 1.1| / (1 + 1.1) = 0.1 / 2.1
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    # the largest entry wins: 0.5/1.5 = 1/3 against 0.1/2.1
    assert rel_error([1.0, 1.0], [1.1, 0.5]) == pytest.approx(1 / 3)
    # both zero: the floor 1e-8 avoids 0/0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    # tiny values are measured against the floor: 1e-10 / max(1e-8, 1e-10) = 1e-2
    assert rel_error([0.0], [1e-10]) == pytest.approx(1e-2)
    # opposite signs give the maximum, 1
    assert rel_error([2.0], [-2.0]) == pytest.approx(1.0)


def test_rel_error_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"rel_error: y has shape \(3, 2\)"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


@settings(deadline=None, max_examples=40)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6),
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6),
)
def test_rel_error_is_symmetric_and_between_0_and_1(a, b):
    n = min(len(a), len(b))
    a, b = np.array(a[:n]), np.array(b[:n])
    e = rel_error(a, b)
    assert e == rel_error(b, a)
    assert 0.0 <= e <= 1.0


def test_thresholds_and_verdicts():
    assert dict(THRESHOLDS) == {"good": 1e-7, "suspicious": 1e-4, "wrong": 1e-2}
    with pytest.raises(TypeError):
        THRESHOLDS["good"] = 1.0  # type: ignore[index]
    assert verdict(1e-9) == "good"
    assert verdict(1e-7) == "good"
    assert verdict(1e-5) == "suspicious"
    assert verdict(1e-3) == "probably wrong"
    assert verdict(0.3) == "wrong"


# ---------------------------------------------------------------------------
# finite differences
# ---------------------------------------------------------------------------


def test_numerical_gradient_matches_analytic_on_smooth_functions(rng):
    # entries of size ~1 (a gradient entry near 0 makes any relative error large: see below)
    x = rng.uniform(0.5, 2.0, size=5) * rng.choice([-1.0, 1.0], size=5)
    # f = Σ sin(x_i) x_i²  ⇒  ∂f/∂x_i = cos(x_i) x_i² + 2 x_i sin(x_i)
    g = numerical_gradient(lambda v: np.sum(np.sin(v) * v**2), x)
    assert rel_error(g, np.cos(x) * x**2 + 2 * x * np.sin(x)) < 1e-7
    # log-sum-exp ⇒ softmax
    g = numerical_gradient(lambda v: np.log(np.sum(np.exp(v))), x)
    assert rel_error(g, np.exp(x) / np.sum(np.exp(x))) < 1e-7


def test_numerical_gradient_matches_autograd_for_matrix_input(rng):
    A = rng.normal(size=(3, 4))
    u = rng.normal(size=3)
    f = lambda M: anp.sum(anp.tanh(anp.dot(M.T, u)) ** 2)  # noqa: E731
    # autograd.grad of a scalar has the variable's shape: the same as denominator layout.
    expected = autograd.grad(f)(A)
    g = numerical_gradient(lambda M: f(M), A)
    assert g.shape == A.shape
    assert rel_error(g, expected) < 1e-7


def test_central_difference_errata():
    # f(x) = x² at x = 3: f'(3) = 6. The seed's f(x+h) − f(x+h) would give 0.
    assert numerical_gradient(lambda v: v**2, 3.0) == pytest.approx(6.0, rel=1e-9)
    assert isinstance(numerical_gradient(lambda v: v**2, 3.0), float)


def test_forward_difference_is_first_order_and_central_second_order():
    f, x0, exact = np.sin, 1.0, np.cos(1.0)
    # h ranges where truncation dominates round-off (round-off ~ 1e-16 / h)
    h_fwd = np.logspace(-4, -1, 8)
    h_ctr = np.logspace(-3, -1, 8)
    err_fwd = [abs(forward_difference(f, x0, h=h) - exact) for h in h_fwd]
    err_ctr = [abs(numerical_gradient(f, x0, h=h) - exact) for h in h_ctr]
    slope_fwd = np.polyfit(np.log10(h_fwd), np.log10(err_fwd), 1)[0]
    slope_ctr = np.polyfit(np.log10(h_ctr), np.log10(err_ctr), 1)[0]
    assert slope_fwd == pytest.approx(1.0, abs=0.3)
    assert slope_ctr == pytest.approx(2.0, abs=0.3)


def test_forward_difference_error_is_h_times_half_second_derivative():
    # f = exp at 0: (e^h − 1)/h − 1 ≈ h/2
    h = 1e-3
    assert forward_difference(np.exp, 0.0, h=h) - 1.0 == pytest.approx(h / 2, rel=1e-3)


def test_finite_differences_do_not_mutate_x(rng):
    x = rng.normal(size=(2, 2))
    before = x.copy()

    def f(v):
        v += 1.0  # a careless f
        return float(np.sum(v**2))

    numerical_gradient(f, x)
    forward_difference(f, x)
    np.testing.assert_array_equal(x, before)


def test_finite_differences_need_a_scalar_function():
    with pytest.raises(ValueError, match="f must return a scalar.*matcalc.jacobian"):
        numerical_gradient(lambda v: 2 * v, np.ones(3))
    with pytest.raises(ValueError, match="h must be a positive number"):
        forward_difference(np.sin, 1.0, h=-1e-5)
    with pytest.raises(TypeError, match="f must be a function"):
        numerical_gradient("sin", 1.0)


def test_tiny_gradient_entries_are_judged_by_absolute_error():
    # f = Σ sin(x) x² has ∂f/∂x ≈ 2x² near 0: at x = 1e-3 the gradient is 2e-6 while the
    # central difference is only accurate to ~1e-10, a relative error of ~1e-5.
    f = lambda v: float(np.sum(np.sin(v) * v**2))  # noqa: E731
    x = np.array([1e-3, 1.0])
    grad = np.cos(x) * x**2 + 2 * x * np.sin(x)
    strict = check_gradient(f, x, grad, atol=0.0)
    assert not strict.passed and strict["x"].worst_index == (0,)
    report = check_gradient(f, x, grad)
    assert report.passed and report["x"].verdict == "good (tiny values)"
    assert "judged by the absolute error" in str(report)
    # atol excuses only differences below 1e-9: a 1% error in an entry of size ~2 still fails
    assert not check_gradient(f, x, grad * [1.0, 1.01]).passed


# ---------------------------------------------------------------------------
# kinks
# ---------------------------------------------------------------------------


def test_kink_regions():
    np.testing.assert_array_equal(kink_regions([-1.0, 0.0, 2.0], "relu"), [0, 1, 1])
    np.testing.assert_array_equal(kink_regions([-1.5, 0.0, 1.5], "hard_tanh"), [0, 1, 2])
    np.testing.assert_array_equal(kink_regions([[1.0, 0.0], [2.0, -1.0]], "maxout"), [1, 0])
    assert kink_regions([1.0], "tanh") is None
    assert set(KINKS) >= {"relu", "leaky_relu", "prelu", "elu", "hard_logistic", "hard_tanh"}


def test_generic_check_reports_kinks_instead_of_failing():
    # f(x) = Σ relu(x); the second entry sits 1e-7 from the kink, inside ±h = ±1e-5.
    f = lambda v: float(np.sum(np.maximum(v, 0.0)))  # noqa: E731
    x = np.array([0.5, 1e-7, -0.3])
    grad = (x > 0).astype(float)  # relu'(z) = I(z > 0)
    plain = check_gradient(f, x, grad)
    assert not plain.passed  # the finite difference there is (1e-5 + 1e-7)/2e-5 ≈ 0.505, not 1
    report = check_gradient(f, x, grad, kink_fn=lambda v: kink_regions(v, "relu"))
    assert report.passed
    assert report.n_kinks == 1
    assert report["x"].kink_indices == ((1,),)
    assert report["x"].kink_max_rel_error > 0.1
    assert "1 entry straddles a kink (x (1,))" in str(report)
    assert "its finite difference is unreliable" in str(report)


# ---------------------------------------------------------------------------
# check_gradient on generic containers
# ---------------------------------------------------------------------------


def _quadratic_problem(rng):
    A = rng.normal(size=(3, 3))
    u = rng.normal(size=3)
    params = {"w": rng.normal(size=3), "M": rng.normal(size=(2, 3))}

    def f(p):
        # f = wᵀAw + ‖M u‖²/2 ⇒ ∂f/∂w = (A + Aᵀ)w, ∂f/∂M = (M u) uᵀ
        return float(p["w"] @ A @ p["w"] + 0.5 * np.sum((p["M"] @ u) ** 2))

    grads = {"w": (A + A.T) @ params["w"], "M": np.outer(params["M"] @ u, u)}
    return f, params, grads


def test_check_gradient_dict_passes_and_table(rng):
    f, params, grads = _quadratic_problem(rng)
    report = check_gradient(f, params, grads)
    assert isinstance(report, GradCheckReport)
    assert report.passed and report.max_rel_error < 1e-7
    assert [c.name for c in report.checks] == ["w", "M"]
    assert report["M"].n_checked == 6 and report["M"].shape == (2, 3)
    text = str(report)
    assert "parameter" in text and "max rel error" in text and "PASSED" in text
    assert text.count("good") == 2


def test_check_gradient_fails_on_wrong_gradient(rng):
    f, params, grads = _quadratic_problem(rng)
    bad = dict(grads, w=2.0 * grads["w"])  # a factor 2 too many in ∂f/∂w
    report = check_gradient(f, params, bad)
    assert not report.passed
    assert not report["w"].passed and report["M"].passed
    assert report["w"].max_rel_error > THRESHOLDS["wrong"]
    assert report["w"].verdict == "wrong"
    assert "FAILED: w" in str(report)


def test_check_gradient_list_and_single_array(rng):
    f, params, grads = _quadratic_problem(rng)
    as_list = [params["w"], params["M"]]
    report = check_gradient(lambda p: f({"w": p[0], "M": p[1]}), as_list, [grads["w"], grads["M"]])
    assert report.passed and [c.name for c in report.checks] == ["[0]", "[1]"]
    single = check_gradient(lambda w: f({"w": w, "M": params["M"]}), params["w"], grads["w"])
    assert single.passed and single.checks[0].name == "x"


def test_check_gradient_does_not_mutate(rng):
    f, params, grads = _quadratic_problem(rng)
    before = {k: v.copy() for k, v in params.items()}
    check_gradient(f, params, grads, sample=2, rng=0)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


def test_check_gradient_rejects_mismatched_grads(rng):
    f, params, grads = _quadratic_problem(rng)
    with pytest.raises(ValueError, match="same structure"):
        check_gradient(f, params, {"w": grads["w"]})
    with pytest.raises(ValueError, match=r"the gradient of M has shape \(3, 2\).*transposed"):
        check_gradient(f, params, dict(grads, M=grads["M"].T))
    with pytest.raises(ValueError, match="f must return a scalar"):
        check_gradient(lambda p: p["w"], params, grads)


def test_check_gradient_sampled_mode(rng):
    f, params, grads = _quadratic_problem(rng)
    r1 = check_gradient(f, params, grads, sample=2, rng=3)
    r2 = check_gradient(f, params, grads, sample=2, rng=3)
    assert [c.n_checked for c in r1.checks] == [2, 2]
    assert r1.passed and r1.sample == 2
    assert [c.worst_index for c in r1.checks] == [c.worst_index for c in r2.checks]
    assert "2 random entries per array" in str(r1)
    with pytest.raises(ValueError, match="sample must be an integer >= 1"):
        check_gradient(f, params, grads, sample=0)


# ---------------------------------------------------------------------------
# check_network_gradients (fnnlib.network's backprop and risk)
# ---------------------------------------------------------------------------


def _net(rng, sizes, N=5, labels=True):
    params = network.init_params(sizes, rng=rng)
    x = rng.normal(size=(sizes[0], N))
    y = rng.integers(0, sizes[-1], size=N) if labels else rng.normal(size=(sizes[-1], N))
    return params, x, y


@pytest.mark.parametrize(
    "sizes, activations, loss, lam",
    [
        ([3, 4, 2], ["tanh", "softmax"], "softmax_cross_entropy", 0.0),
        ([3, 5, 4, 3], ["logistic", "tanh", "softmax"], "softmax_cross_entropy", 0.1),
        ([2, 4, 1], ["softplus", "logistic"], "binary_cross_entropy", 0.05),
        ([3, 4, 2], ["relu", "identity"], "squared_error", 0.0),
    ],
)
def test_network_gradients_pass(rng, sizes, activations, loss, lam):
    params, x, _ = _net(rng, sizes)
    N = x.shape[1]
    if loss == "softmax_cross_entropy":
        y = rng.integers(0, sizes[-1], size=N)
    elif loss == "binary_cross_entropy":
        y = rng.integers(0, 2, size=(1, N)).astype(float)
    else:
        y = rng.normal(size=(sizes[-1], N))
    before = network.copy_params(params)
    report = check_network_gradients(params, x, y, activations, loss, lam)
    assert report.passed, str(report)
    assert report.max_rel_error < 1e-7
    assert [c.name for c in report.checks][:2] == ["W^(1)", "b^(1)"]
    for p, q in zip(params, before):  # nothing mutated
        np.testing.assert_array_equal(p["W"], q["W"])
        np.testing.assert_array_equal(p["b"], q["b"])


def test_network_gradients_agree_with_autograd_oracle(rng):
    # An independent oracle: autograd differentiates a separately written risk; its
    # gradients (which have each parameter's shape) pass the check against network.risk.
    params, x, y = _net(rng, [3, 4, 2])
    lam = 0.1
    Y = np.eye(2)[:, y]  # one-hot columns (C, N)

    def risk(flat):
        W1, b1, W2, b2 = flat
        a1 = anp.tanh(anp.dot(W1, x) + b1[:, None])
        z2 = anp.dot(W2, a1) + b2[:, None]
        log_p = z2 - anp.log(anp.sum(anp.exp(z2), axis=0, keepdims=True))
        return -anp.sum(Y * log_p) / x.shape[1] + lam / 2 * (anp.sum(W1**2) + anp.sum(W2**2))

    flat = [params[0]["W"], params[0]["b"], params[1]["W"], params[1]["b"]]
    g = autograd.grad(risk)(flat)
    grads = [{"W": g[0], "b": g[1]}, {"W": g[2], "b": g[3]}]
    assert risk(flat) == pytest.approx(network.risk(params, x, y, ["tanh", "softmax"], "softmax_cross_entropy", lam))
    report = check_network_gradients(params, x, y, ["tanh", "softmax"], "softmax_cross_entropy", lam, grads=grads)
    assert report.passed, str(report)


def _backprop(params, x, y, activations, loss, lam=0.0):
    fp = network.forward(params, x, activations)
    return network.backward(params, fp, y, activations, loss, lam).grads


def test_network_check_fails_on_factor_2(rng):
    params, x, y = _net(rng, [3, 4, 2])
    acts = ["tanh", "softmax"]
    grads = _backprop(params, x, y, acts, "softmax_cross_entropy")
    grads[1]["W"] = 2.0 * grads[1]["W"]
    report = check_network_gradients(params, x, y, acts, "softmax_cross_entropy", grads=grads)
    assert not report.passed
    assert not report["W^(2)"].passed and report["W^(1)"].passed
    assert report["W^(2)"].max_rel_error == pytest.approx(1 / 3, rel=1e-4)  # |2g − g| / (2g + g)


def test_network_check_fails_on_missing_transpose(rng):
    # W^(1) is square (3, 3), so a transposed dW^(1) has the right shape and wrong values.
    params, x, y = _net(rng, [3, 3, 2])
    acts = ["tanh", "softmax"]
    grads = _backprop(params, x, y, acts, "softmax_cross_entropy")
    grads[0]["W"] = grads[0]["W"].T.copy()
    report = check_network_gradients(params, x, y, acts, "softmax_cross_entropy", grads=grads)
    assert not report.passed and not report["W^(1)"].passed
    assert report["W^(1)"].max_rel_error > THRESHOLDS["wrong"]


def test_network_check_fails_when_summing_instead_of_averaging(rng):
    params, x, y = _net(rng, [3, 4, 2], N=8)
    acts = ["tanh", "softmax"]
    grads = _backprop(params, x, y, acts, "softmax_cross_entropy")
    summed = [{"W": 8 * g["W"], "b": 8 * g["b"]} for g in grads]
    report = check_network_gradients(params, x, y, acts, "softmax_cross_entropy", grads=summed)
    assert not report.passed
    assert all(not c.passed for c in report.checks)


def test_network_check_fails_without_the_penalty_gradient(rng):
    params, x, y = _net(rng, [3, 4, 2])
    acts = ["tanh", "softmax"]
    grads = _backprop(params, x, y, acts, "softmax_cross_entropy", lam=0.0)  # λW forgotten
    report = check_network_gradients(params, x, y, acts, "softmax_cross_entropy", lam=0.5, grads=grads)
    assert not report["W^(1)"].passed and not report["W^(2)"].passed
    assert report["b^(1)"].passed and report["b^(2)"].passed  # biases are not regularised


def _relu_net_at_a_kink(rng):
    params, x, y = _net(rng, [2, 3, 2], N=4)
    # Put z^(1)_1 of the first example 1e-7 above the kink of relu: the ±1e-5 steps in
    # b^(1)_1 (and in W^(1)_1j, since |x_j| > 1e-2) cross it.
    x[:, 0] = [0.8, -0.6]
    params[0]["b"][0] = 1e-7 - params[0]["W"][0] @ x[:, 0]
    z1 = network.forward(params, x, ["relu", "softmax"]).z[1]
    assert abs(z1[0, 0]) < 1e-6 and np.all(np.abs(np.delete(z1.ravel(), 0)) > 1e-3)
    return params, x, y


def test_relu_kink_entries_are_reported_not_failed(rng):
    params, x, y = _relu_net_at_a_kink(rng)
    acts = ["relu", "softmax"]
    report = check_network_gradients(params, x, y, acts, "softmax_cross_entropy")
    assert report.passed, str(report)
    assert report.n_kinks == 3
    assert set(report["W^(1)"].kink_indices) == {(0, 0), (0, 1)}
    assert report["b^(1)"].kink_indices == ((0,),)
    # column 1 of ∂R/∂W^(2) is ∝ a^(1)_1 ≈ 1e-7: tiny entries, judged by their absolute error
    assert report["W^(2)"].n_kinks == 0 and report["W^(2)"].passed
    # those entries really are unreliable: judged, they fail the check
    assert report["b^(1)"].kink_max_rel_error > 1e-3
    assert not check_network_gradients(params, x, y, acts, "softmax_cross_entropy", kinks=False).passed
    text = str(report)
    assert "3 entries straddle a kink" in text and "their finite differences are unreliable" in text


def test_hard_tanh_kinks_are_detected(rng):
    params, x, y = _net(rng, [2, 3, 2], N=3)
    x[:, 0] = [0.7, 0.9]
    params[0]["b"][1] = 1.0 + 5e-8 - params[0]["W"][1] @ x[:, 0]  # z^(1)_2 at the kink z = 1
    report = check_network_gradients(params, x, y, ["hard_tanh", "softmax"], "softmax_cross_entropy")
    assert report["b^(1)"].kink_indices == ((1,),)
    assert report.passed, str(report)


def test_network_check_sampled_mode(rng):
    params, x, y = _net(rng, [6, 8, 3])
    acts = ["tanh", "softmax"]
    report = check_network_gradients(params, x, y, acts, "softmax_cross_entropy", sample=4, rng=1)
    assert report.passed
    assert [c.n_checked for c in report.checks] == [4, 4, 4, 3]  # b^(2) has only 3 entries
    grads = _backprop(params, x, y, acts, "softmax_cross_entropy")
    grads[0]["W"] = grads[0]["W"] + 0.1  # every entry wrong: any sample finds it
    bad = check_network_gradients(params, x, y, acts, "softmax_cross_entropy", grads=grads, sample=4, rng=1)
    assert not bad["W^(1)"].passed


def test_network_check_rejects_non_params(rng):
    _, x, y = _net(rng, [3, 4, 2])
    with pytest.raises(TypeError, match="params must be a list of dicts"):
        check_network_gradients({"W": np.ones((4, 3))}, x, y, ["tanh", "softmax"], "softmax_cross_entropy")
