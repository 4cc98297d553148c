"""Tests of fnnlib.dual, forward-mode automatic differentiation with dual numbers.

Oracles: HIPS autograd (reverse mode) and SymPy (exact symbolic derivatives).
autograd.jacobian returns the (m, n) numerator-layout Jacobian; fnnlib.dual.jacobian
returns the (n, m) denominator-layout one, so the comparison transposes.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import autograd.numpy as anp
import numpy as np
import pytest
import sympy as sp
from autograd import grad as autograd_grad
from autograd import jacobian as autograd_jacobian
from hypothesis import given, settings
from hypothesis import strategies as st

from fnnlib import dual
from fnnlib.dual import Dual

TOL = dict(rtol=1e-10, atol=1e-12)

DUAL = SimpleNamespace(exp=dual.exp, log=dual.log, sin=dual.sin, cos=dual.cos, tanh=dual.tanh, logistic=dual.logistic)
AUTOGRAD = SimpleNamespace(
    exp=anp.exp, log=anp.log, sin=anp.sin, cos=anp.cos, tanh=anp.tanh, logistic=lambda z: 1.0 / (1.0 + anp.exp(-z))
)
SYMPY = SimpleNamespace(
    exp=sp.exp, log=sp.log, sin=sp.sin, cos=sp.cos, tanh=sp.tanh, logistic=lambda z: 1 / (1 + sp.exp(-z))
)


# Composed expressions of one variable (x > 0), together using every supported function and operator.
def f1(ns, x):
    return ns.sin(x) * ns.exp(ns.cos(x)) + ns.log(1 + x**2) / (2 + ns.tanh(x)) - ns.logistic(3 * x) ** 2


def f2(ns, x):
    return x**x + 2**x - x**1.5 + 1 / (x + ns.exp(-x)) - (-x) * ns.tanh(ns.sin(x) - 0.5)


def f3(ns, x):
    return ns.logistic(ns.log(x) * ns.cos(x**3)) / ns.exp(ns.tanh(x) ** 2) - 7.0 / (1.0 + x) ** 3


EXPRESSIONS = [f1, f2, f3]


@settings(deadline=None, max_examples=30)
@given(x=st.floats(min_value=0.2, max_value=2.5), k=st.sampled_from(range(len(EXPRESSIONS))))
def test_derivative_matches_autograd(x, k):
    f = EXPRESSIONS[k]
    got = dual.derivative(lambda t: f(DUAL, t), x)
    want = autograd_grad(lambda t: f(AUTOGRAD, t))(x)
    np.testing.assert_allclose(got, want, **TOL)
    y = f(DUAL, Dual(x, 1.0))
    np.testing.assert_allclose(y.value, f(AUTOGRAD, x), **TOL)


@pytest.mark.parametrize("f", EXPRESSIONS)
def test_derivative_matches_sympy_at_random_points(f):
    t = sp.Symbol("t", positive=True)
    exact = sp.lambdify(t, sp.diff(f(SYMPY, t), t), modules="math")
    rng = np.random.default_rng(11)
    for x in rng.uniform(0.2, 2.5, size=15):
        np.testing.assert_allclose(dual.derivative(lambda s: f(DUAL, s), float(x)), exact(float(x)), **TOL)


def g_vec(ns, x):
    """A scalar function of 3 inputs for gradient checks."""
    return ns.sin(x[0] * x[1]) + ns.exp(x[2] / (1 + x[0] ** 2)) * ns.logistic(x[1]) - ns.log(2 + ns.tanh(x[2])) + x[0] ** x[1] * ns.cos(x[2])


@settings(deadline=None, max_examples=20)
@given(x=st.lists(st.floats(min_value=0.2, max_value=2.0), min_size=3, max_size=3))
def test_gradient_matches_autograd_and_sympy_with_one_pass_per_input(x):
    res = dual.gradient(lambda v: g_vec(DUAL, v), x)
    want = autograd_grad(lambda v: g_vec(AUTOGRAD, v))(np.array(x))
    assert res.gradient.shape == (3,)
    np.testing.assert_allclose(res.gradient, want, **TOL)
    np.testing.assert_allclose(res.value, g_vec(AUTOGRAD, np.array(x)), **TOL)
    assert res.passes == 3 == dual.passes_needed(3, 1)["forward"]


def test_gradient_matches_sympy():
    s = sp.symbols("s0:3", positive=True)
    expr = g_vec(SYMPY, s)
    partials = [sp.lambdify(s, sp.diff(expr, si), modules="math") for si in s]
    rng = np.random.default_rng(5)
    for _ in range(10):
        x = rng.uniform(0.2, 2.0, size=3)
        res = dual.gradient(lambda v: g_vec(DUAL, v), x)
        np.testing.assert_allclose(res.gradient, [p(*x) for p in partials], **TOL)


def test_gradient_works_with_numpy_object_array_operations():
    w = np.array([0.5, -1.0, 2.0])

    def f(x):
        # np.exp on an object array calls Dual.exp entry by entry; on a bare Dual use dual.sin
        return np.sum(np.exp(x)) + x @ w + np.tanh(x)[0] * dual.sin(x[1])

    x = np.array([0.1, 0.2, 0.3])
    res = dual.gradient(f, x)
    want = autograd_grad(lambda v: anp.sum(anp.exp(v)) + anp.dot(v, w) + anp.tanh(v)[0] * anp.sin(v[1]))(x)
    np.testing.assert_allclose(res.gradient, want, **TOL)


def test_jacobian_is_denominator_layout_transpose_of_autograd():
    def f(ns, x):
        return [x[0] * x[1] ** 2, ns.exp(x[0]) - x[2], ns.sin(x[1]) * ns.cos(x[2]), x[0] / x[2]]

    x = np.array([0.3, 1.2, 0.8])
    res = dual.jacobian(lambda v: f(DUAL, v), x)
    want = autograd_jacobian(lambda v: anp.array(f(AUTOGRAD, v)))(x)  # (m, n) = (4, 3): numerator layout
    assert res.jacobian.shape == (3, 4)  # (n, m): J[i, j] = ∂f_j/∂x_i
    np.testing.assert_allclose(res.jacobian, want.T, **TOL)
    np.testing.assert_allclose(res.value, anp.array(f(AUTOGRAD, x)), **TOL)
    assert res.passes == 3 == dual.passes_needed(3, 4)["forward"]


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(2.5), np.int64(2), 2, 2.5])
def test_numpy_and_python_scalars_on_either_side(scalar):
    a = float(scalar)
    x = Dual(1.5, 1.0)
    cases = {
        "add": (scalar + x, x + scalar, (a + 1.5, 1.0), (a + 1.5, 1.0)),
        "sub": (scalar - x, x - scalar, (a - 1.5, -1.0), (1.5 - a, 1.0)),
        "mul": (scalar * x, x * scalar, (a * 1.5, a), (a * 1.5, a)),
        "div": (scalar / x, x / scalar, (a / 1.5, -a / 1.5**2), (1.5 / a, 1 / a)),
        "pow": (scalar**x, x**scalar, (a**1.5, a**1.5 * math.log(a)), (1.5**a, a * 1.5 ** (a - 1))),
    }
    for name, (left, right, want_left, want_right) in cases.items():
        assert isinstance(left, Dual) and isinstance(right, Dual), name
        np.testing.assert_allclose((left.value, left.deriv), want_left, **TOL, err_msg=name)
        np.testing.assert_allclose((right.value, right.deriv), want_right, **TOL, err_msg=name)


def test_functions_accept_numbers_and_numpy_scalars():
    for fn, ref in [(dual.exp, math.exp), (dual.log, math.log), (dual.sin, math.sin), (dual.cos, math.cos),
                    (dual.tanh, math.tanh), (dual.logistic, lambda v: 1 / (1 + math.exp(-v)))]:
        for v in (0.7, np.float64(0.7), np.float32(0.7), 1):
            out = fn(v)
            assert isinstance(out, float)
            np.testing.assert_allclose(out, ref(float(v)), **TOL)
    assert dual.logistic(-1000.0) == 0.0 and dual.logistic(1000.0) == 1.0  # no overflow
    assert dual.logistic(Dual(-1000.0, 1.0)).deriv == 0.0


def test_dual_exponent_and_unary_minus():
    x, y = Dual(2.0, 1.0), Dual(3.0, 0.0)
    # ∂(x^y)/∂x = y x^(y−1) = 12 with y held fixed
    assert (x**y).value == 8.0 and (x**y).deriv == 12.0
    # ∂(x^y)/∂y = x^y log x with x held fixed
    xc, yv = Dual(2.0, 0.0), Dual(3.0, 1.0)
    np.testing.assert_allclose((xc**yv).deriv, 8 * math.log(2), **TOL)
    assert (-x).value == -2.0 and (-x).deriv == -1.0
    assert (Dual(-2.0, 1.0) ** 3).deriv == 12.0  # integer power of a negative base is fine


def test_derivative_of_a_constant_function_is_zero_and_methods_exist():
    assert dual.derivative(lambda x: 3.0, 1.0) == 0.0
    x = Dual(0.5, 1.0)
    for name in ("exp", "log", "sin", "cos", "tanh"):
        a, b = getattr(x, name)(), getattr(dual, name)(x)
        assert (a.value, a.deriv) == (b.value, b.deriv)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="positive"):
        dual.log(Dual(0.0, 1.0))
    with pytest.raises(ZeroDivisionError):
        Dual(1.0, 1.0) / Dual(0.0, 1.0)
    with pytest.raises(ValueError, match="non-integer"):
        Dual(-2.0, 1.0) ** 0.5
    with pytest.raises(ValueError, match="positive base"):
        Dual(-2.0, 0.0) ** Dual(2.0, 1.0)
    with pytest.raises(ValueError, match="infinite"):
        Dual(0.0, 1.0) ** 0.5
    with pytest.raises(TypeError, match="one Dual per entry"):
        Dual(np.array([1.0, 2.0]))
    with pytest.raises(TypeError):
        Dual(1.0) * "a"
    with pytest.raises(TypeError, match="must return"):
        dual.derivative(lambda x: "nope", 1.0)
    with pytest.raises(ValueError, match="jacobian"):
        dual.gradient(lambda x: [x[0], x[1]], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(n,\)"):
        dual.gradient(lambda x: x[0], [[1.0]])
    with pytest.raises(OverflowError, match="too large"):
        dual.exp(Dual(1000.0, 1.0))


@settings(deadline=None, max_examples=30)
@given(n=st.integers(1, 10_000), m=st.integers(1, 10_000))
def test_passes_needed(n, m):
    assert dual.passes_needed(n, m) == {"forward": n, "reverse": m}


def test_passes_needed_rejects_bad_sizes():
    with pytest.raises(ValueError):
        dual.passes_needed(0, 1)
    with pytest.raises(TypeError):
        dual.passes_needed(2.5, 1)
    assert dual.passes_needed(1000, 1) == {"forward": 1000, "reverse": 1}
    d = dual.passes_needed(3, 2)
    d["forward"] = 99  # a fresh dict each call: no shared state
    assert dual.passes_needed(3, 2)["forward"] == 3


def test_repr():
    assert repr(Dual(1.5, -2.0)) == "Dual(value=1.5, deriv=-2.0)"


# ---------------------------------------------------------------------------------------
# Forward mode against reverse mode: fnnlib.dual and fnnlib.autodiff are independent
# implementations of the same derivatives
# ---------------------------------------------------------------------------------------
_COMPOSITES = {
    "exp-log": lambda m, x: m.exp(x[0] * x[1]) + m.log(1 + x[2] ** 2),
    "tanh-logistic": lambda m, x: m.tanh(x[0]) * m.logistic(x[1] - x[2]) / (2 + x[0] ** 2),
    "nested": lambda m, x: (x[0] - x[1]) ** 3 + m.exp(-x[2]) * m.tanh(x[1] * x[2]) - m.logistic(m.log(1 + x[0] ** 2)),
    # variable base and exponent (base kept positive), a number to a variable power, quotients
    "powers-quotients": lambda m, x: (1 + x[0] ** 2) ** (0.5 * x[1]) + 2.0 ** x[2] / (1 + m.logistic(x[0]))
    - x[1] / (2 + m.tanh(x[2])) + (m.exp(x[2]) + 1) ** -1.5,
}
# exp, log, tanh and logistic are the elementary functions both modules have (dual adds sin and cos,
# the engine adds relu); every one appears above and below.
_SCALAR_COMPOSITES = {
    "logistic-of-log": lambda m, t: m.logistic(m.log(1 + t**2) * t) / (1 + m.exp(-t)),
    "tanh-power": lambda m, t: m.tanh(t) ** 3 - t * m.exp(m.tanh(0.5 * t)) + (2 + t**2) ** 0.25,
    "quotient": lambda m, t: (m.log(3 + t) - m.logistic(-2 * t)) / (1 + m.exp(t) * m.tanh(t) ** 2),
}


@pytest.mark.parametrize("t", [-2.3, -0.4, 0.0, 0.9, 2.7])
@pytest.mark.parametrize("name", sorted(_SCALAR_COMPOSITES))
def test_scalar_derivative_agrees_with_the_reverse_mode_engine(name, t):
    from fnnlib import autodiff as ad

    f = _SCALAR_COMPOSITES[name]
    fwd = dual.derivative(lambda s: f(dual, s), t)  # one forward pass with seed ẋ = 1
    rev = ad.grad(lambda s: f(ad, s))(t)  # one reverse sweep with seed ∂f/∂f = 1
    np.testing.assert_allclose(fwd, float(np.asarray(rev)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("point", [(0.3, -1.2, 0.8), (1.5, 0.4, -2.0), (-0.7, 2.2, 0.1)])
@pytest.mark.parametrize("name", sorted(_COMPOSITES))
def test_forward_mode_agrees_with_the_reverse_mode_engine(name, point):
    from fnnlib import autodiff as ad

    f = _COMPOSITES[name]
    x = np.array(point)
    fwd = dual.gradient(lambda v: f(dual, v), x)
    rev = ad.grad(lambda v: f(ad, v))(x)
    rev = rev[0] if isinstance(rev, (tuple, list)) else rev
    assert fwd.passes == 3
    np.testing.assert_allclose(fwd.gradient, np.asarray(rev, dtype=float), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fwd.value, f(ad, ad.Tensor(x)).item(), rtol=1e-14)


# ---------------------------------------------------------------------------------------
# Comparisons, abs and sqrt: ReLU and friends in forward mode
# ---------------------------------------------------------------------------------------
from fnnlib.gradcheck import numerical_gradient, rel_error  # noqa: E402

away_from_kinks = st.floats(-50.0, 50.0).filter(lambda v: abs(v) > 1e-3)
positive = st.floats(1e-3, 1e3)


@settings(deadline=None, max_examples=60)
@given(a=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6), da=st.floats(-10, 10), db=st.floats(-10, 10))
def test_comparisons_look_at_the_values_only(a, b, da, db):
    x, y = Dual(a, da), Dual(b, db)
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        want = getattr(a, op)(b)
        assert getattr(x, op)(y) is want
        assert getattr(x, op)(b) is want  # a real number on the right
        assert getattr(x, op)(np.float64(b)) is want
    assert (b < x) is (b < a) and (np.float64(b) >= x) is (b >= a)  # and on the left (reflected)
    if a == b:
        assert hash(x) == hash(y) == hash(a)


def test_comparisons_with_other_types_are_refused_or_false():
    x = Dual(1.0, 1.0)
    assert (x == "1") is False and (x != None) is True  # noqa: E711
    with pytest.raises(TypeError):
        x < "a"  # noqa: B015
    with pytest.raises(TypeError):
        x < np.array([1.0, 2.0])  # noqa: B015  # one Dual, one value: use one Dual per entry
    assert sorted([Dual(3.0), Dual(-1.0), 2.0]) == [-1.0, 2.0, 3.0]


def relu_branch(x):
    return x if x > 0 else 0 * x


def relu_max(x):
    return max(x, 0.0)


@settings(deadline=None, max_examples=60)
@given(v=away_from_kinks.filter(lambda v: abs(2.0 * v - 1.0) > 1e-3))  # the kinks at 0 and 1/2
def test_relu_written_with_a_comparison_has_the_right_derivative(v):
    for relu in (relu_branch, relu_max):
        d = dual.derivative(lambda x: 3.0 * relu(2.0 * x - 1.0) + relu(-x), v)
        fd = numerical_gradient(lambda t: 3.0 * max(2.0 * float(t) - 1.0, 0.0) + max(-float(t), 0.0), v, h=1e-6)
        want = (6.0 if 2.0 * v - 1.0 > 0 else 0.0) + (-1.0 if -v > 0 else 0.0)
        assert d == want
        if abs(2.0 * v - 1.0) > 1e-3:  # finite differences straddle no kink
            assert rel_error(d, fd) < 1e-7 or abs(d - fd) < 1e-7


def test_relu_network_gradient_in_forward_mode_matches_backprop():
    """A one-hidden-layer ReLU network, its input gradient by n forward passes, against autograd."""
    rng = np.random.default_rng(0)
    W1, b1, w2 = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=5)
    x0 = rng.normal(size=3)

    def net(x):
        return w2 @ np.maximum(W1 @ x + b1, 0.0)  # np.maximum on an object array of Duals compares values

    res = dual.gradient(net, x0)
    want = autograd_grad(lambda x: anp.dot(w2, anp.maximum(anp.dot(W1, x) + b1, 0.0)))(x0)
    np.testing.assert_allclose(res.gradient, want, **TOL)
    assert res.value == pytest.approx(float(net(x0)))


@settings(deadline=None, max_examples=60)
@given(v=away_from_kinks, d=st.floats(-5, 5))
def test_abs_derivative_is_the_sign(v, d):
    y = abs(Dual(v, d))
    assert y.value == abs(v) and y.deriv == math.copysign(1.0, v) * d
    g = dual.derivative(lambda x: abs(x * x - 4.0) * dual.exp(x), v)
    fd = numerical_gradient(lambda t: abs(float(t) ** 2 - 4.0) * math.exp(float(t)), v)
    if abs(v * v - 4.0) > 1e-3:
        assert rel_error(g, fd) < 1e-6


def test_abs_at_zero_takes_the_derivative_0_by_convention():
    assert abs(Dual(0.0, 1.0)) == 0.0 and abs(Dual(0.0, 1.0)).deriv == 0.0
    assert abs(Dual(-0.0, -3.0)).deriv == 0.0
    np.testing.assert_array_equal(dual.gradient(lambda v: np.abs(v).sum(), [0.0, 2.0, -1.0]).gradient, [0, 1, -1])


@settings(deadline=None, max_examples=60)
@given(v=positive)
def test_sqrt_against_finite_differences_and_power_half(v):
    y = dual.sqrt(Dual(v, 1.0))
    assert y.value == math.sqrt(v)
    assert y.deriv == pytest.approx(1.0 / (2.0 * math.sqrt(v)), rel=1e-15)
    assert y.deriv == pytest.approx((Dual(v, 1.0) ** 0.5).deriv, rel=1e-14)
    g = dual.derivative(lambda x: dual.sqrt(x) * (1.0 + x) + dual.sqrt(x * x + 1.0), v)  # g > 0.5: no cancellation
    fd = numerical_gradient(lambda t: math.sqrt(float(t)) * (1.0 + float(t)) + math.sqrt(float(t) ** 2 + 1.0), v,
                            h=1e-5 * max(1e-2, v))
    assert rel_error(g, fd) < 1e-6
    np.testing.assert_allclose(np.sqrt(np.array([Dual(v, 1.0)], dtype=object))[0].deriv, y.deriv)  # object arrays


def test_sqrt_errors_and_the_value_at_zero():
    assert dual.sqrt(Dual(0.0, 0.0)) == 0.0 and dual.sqrt(Dual(0.0, 0.0)).deriv == 0.0  # a constant 0 is fine
    assert dual.sqrt(9.0) == 3.0
    with pytest.raises(ValueError, match=r"sqrt: the derivative of √x at x = 0 is infinite"):
        dual.sqrt(Dual(0.0, 1.0))
    with pytest.raises(ValueError, match=r"sqrt: needs a value >= 0, got -1\.0"):
        dual.sqrt(Dual(-1.0, 1.0))
    with pytest.raises(ValueError, match=r"sqrt: needs a value >= 0"):
        dual.sqrt(-4)
