"""Tests for fnnlib.activations.

Oracles: SymPy (each f built symbolically, differentiated, evaluated with
mpmath), central differences, scipy (expit, softplus, norm.cdf/pdf), numpy's
logaddexp and mpmath at high precision for the tails. Derivatives of
elementwise functions are diagonal Jacobians, so no layout transpose is needed.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.special
import scipy.stats
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnnlib.activations as A

FAST = settings(deadline=None, max_examples=50)

# --------------------------------------------------------------------------- #
# One row per (activation, parameters): the SymPy expression and the kinks.    #
# --------------------------------------------------------------------------- #

x = sp.Symbol("x", real=True)
R = sp.Rational


def _negpos(neg: sp.Expr, pos: sp.Expr) -> sp.Piecewise:
    """neg for x <= 0, pos for x > 0 (the ReLU-family shape)."""
    return sp.Piecewise((neg, x <= 0), (pos, True))


def _sym_swish(beta: sp.Expr) -> sp.Expr:
    return x / (1 + sp.exp(-beta * x))


CASES = [
    # (name, params, sympy f(x), kinks)
    ("logistic", {}, 1 / (1 + sp.exp(-x)), ()),
    ("tanh", {}, sp.tanh(x), ()),
    ("hard_logistic", {}, sp.Piecewise((0, x <= -2), (x / 4 + R(1, 2), x < 2), (1, True)), (-2.0, 2.0)),
    ("hard_tanh", {}, sp.Piecewise((-1, x <= -1), (x, x < 1), (1, True)), (-1.0, 1.0)),
    ("relu", {}, _negpos(0, x), (0.0,)),
    ("leaky_relu", {}, _negpos(x / 100, x), (0.0,)),
    ("leaky_relu", {"gamma": 0.2}, _negpos(R(1, 5) * x, x), (0.0,)),
    ("prelu", {}, _negpos(x / 4, x), (0.0,)),
    ("prelu", {"gamma": -0.5}, _negpos(-x / 2, x), (0.0,)),
    ("elu", {}, _negpos(sp.exp(x) - 1, x), (0.0,)),
    ("elu", {"gamma": 0.5}, _negpos((sp.exp(x) - 1) / 2, x), (0.0,)),
    ("softplus", {}, sp.log(1 + sp.exp(x)), ()),
    ("swish", {}, _sym_swish(1), ()),
    ("swish", {"beta": 0.5}, _sym_swish(R(1, 2)), ()),
    ("swish", {"beta": 3.0}, _sym_swish(3), ()),
    ("swish", {"beta": -1.0}, _sym_swish(-1), ()),
    ("gelu", {}, x / 2 * (1 + sp.erf(x / sp.sqrt(2))), ()),
    (
        "gelu_tanh",
        {},
        x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + R(44715, 10**6) * x**3))),
        (),
    ),
    ("gelu_sigmoid", {}, _sym_swish(R(1702, 1000)), ()),
    ("identity", {}, x, ()),
]
CASE_IDS = [name + "".join(f"-{k}={v}" for k, v in params.items()) for name, params, _, _ in CASES]

CANONICAL = [
    "logistic", "tanh", "hard_logistic", "hard_tanh", "relu", "leaky_relu", "prelu", "elu",
    "softplus", "swish", "gelu", "gelu_tanh", "gelu_sigmoid", "identity",
]  # fmt: skip
ALIASES = {"sigmoid": "logistic", "linear": "identity"}

# Points for the symbolic comparison: none at a kink (0, ±1, ±2).
POINTS = np.array([-7.5, -3.1, -1.7, -0.9, -0.35, 0.2, 0.6, 1.3, 2.4, 4.8, 7.5])


def _sympy_eval(expr: sp.Expr, points: np.ndarray) -> np.ndarray:
    fn = sp.lambdify(x, expr, modules="mpmath")
    with mp.workdps(40):
        return np.array([float(fn(mp.mpf(float(p)))) for p in points])


def test_cases_cover_every_table_entry():
    assert sorted({name for name, *_ in CASES}) == sorted(CANONICAL)


# --------------------------------------------------------------------------- #
# Derivatives: SymPy and central differences.                                  #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("name", "params", "expr", "kinks"), CASES, ids=CASE_IDS)
def test_value_and_derivative_match_sympy(name, params, expr, kinks):
    act = A.get(name)
    np.testing.assert_allclose(act.f(POINTS, **params), _sympy_eval(expr, POINTS), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        act.df(POINTS, **params), _sympy_eval(sp.diff(expr, x), POINTS), rtol=1e-12, atol=1e-15
    )


def _central_difference(f, z: np.ndarray, **params) -> np.ndarray:
    """(f(z + h) − f(z − h)) / 2h, elementwise, with h = 1e-5 · max(1, |z|)."""
    h = 1e-5 * np.maximum(1.0, np.abs(z))
    return (f(z + h, **params) - f(z - h, **params)) / (2 * h)


def _rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-3) -> float:
    """max |a − b| / max(|a|, |b|, floor).

    A central difference with step h carries a round-off of about eps·|f|/h
    ≈ 1e-11 here, so it cannot resolve derivatives much below 1e-3 relatively:
    those (e.g. near GELU's or swish's zero crossing) are compared with the
    absolute tolerance floor · 1e-7 = 1e-10 instead.
    """
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor), initial=0.0))


def _away_from(kinks):
    floats = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
    return floats.filter(lambda v: all(abs(v - k) > 1e-3 for k in kinks))


@pytest.mark.parametrize(("name", "params", "expr", "kinks"), CASES, ids=CASE_IDS)
@FAST
@given(data=st.data())
def test_derivative_matches_central_difference(name, params, expr, kinks, data):
    z = data.draw(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=_away_from(kinks)))
    act = A.get(name)
    assert _rel_error(act.df(z, **params), _central_difference(act.f, z, **params)) < 1e-7


def test_rel_error_helper_can_fail():
    # A wrong derivative (σ instead of σ') must be caught by the same check.
    z = np.linspace(-3, 3, 7)
    assert _rel_error(A.logistic(z), _central_difference(A.logistic, z)) > 1e-2


# --------------------------------------------------------------------------- #
# Independent oracles.                                                         #
# --------------------------------------------------------------------------- #

WIDE = st.floats(-700.0, 700.0, allow_nan=False, allow_infinity=False)


@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 8), elements=WIDE))
def test_logistic_matches_scipy_expit(z):
    np.testing.assert_allclose(A.logistic(z), scipy.special.expit(z), rtol=1e-14, atol=0)


@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 8), elements=WIDE))
def test_softplus_matches_logaddexp_and_scipy(z):
    np.testing.assert_allclose(A.softplus(z), np.logaddexp(0.0, z), rtol=1e-14, atol=0)
    np.testing.assert_allclose(A.softplus(z), scipy.special.softplus(z), rtol=1e-14, atol=0)


@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-30.0, 30.0)))
def test_gelu_matches_scipy_normal_cdf(z):
    cdf, pdf = scipy.stats.norm.cdf(z), scipy.stats.norm.pdf(z)
    # Φ's relative condition number in the left tail is about z² (≈ 900 at z = −30),
    # so two good implementations may differ by ~1e-13 relatively there.
    np.testing.assert_allclose(A.gelu(z), z * cdf, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(A.gelu_grad(z), cdf + z * pdf, rtol=1e-12, atol=1e-15)


def _mp_sigma(t):
    return 1 / (1 + mp.exp(-t))


# (function, mpmath formula, points): the tails, where naive formulas lose accuracy.
TAILS = [
    (A.logistic, _mp_sigma, [-700.0, -50.0, -20.0, 20.0, 50.0]),
    (A.logistic_grad, lambda t: _mp_sigma(t) * _mp_sigma(-t), [-700.0, -50.0, 0.5, 50.0, 700.0]),
    (A.tanh_grad, lambda t: 1 / mp.cosh(t) ** 2, [-300.0, -30.0, 20.0, 300.0]),
    (A.softplus, lambda t: mp.log1p(mp.exp(t)), [-700.0, -50.0, -1e-3, 30.0, 50.0]),
    (A.gelu, lambda t: t * mp.ncdf(t), [-30.0, -10.0, -3.0, 3.0]),
    (A.gelu_grad, lambda t: mp.ncdf(t) + t * mp.npdf(t), [-10.0, -5.0, 5.0]),
    (A.elu, lambda t: mp.expm1(t), [-1e-9, -30.0]),
]


@pytest.mark.parametrize(("func", "exact", "points"), TAILS, ids=[t[0].__name__ for t in TAILS])
def test_tails_against_mpmath(func, exact, points):
    with mp.workdps(50):
        expected = np.array([float(exact(mp.mpf(p))) for p in points])
    # 1e-12 rather than 1e-13: Φ(z) has relative condition number ≈ z² in the left tail.
    np.testing.assert_allclose(func(np.array(points)), expected, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- #
# Stability: huge inputs, no warnings.                                         #
# --------------------------------------------------------------------------- #

EXTREMES = np.array([-1e300, -1e4, 1e4, 1e300])
_ZEROS, _ONES, _STEP = [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]
_RELU = [0.0, 0.0, 1e4, 1e300]
# name -> (f(EXTREMES), f'(EXTREMES)) with default parameters, worked by hand.
EXTREME_VALUES = {
    "logistic": ([0.0, 0.0, 1.0, 1.0], _ZEROS),
    "tanh": ([-1.0, -1.0, 1.0, 1.0], _ZEROS),
    "hard_logistic": ([0.0, 0.0, 1.0, 1.0], _ZEROS),
    "hard_tanh": ([-1.0, -1.0, 1.0, 1.0], _ZEROS),
    "relu": (_RELU, _STEP),
    "leaky_relu": ([-1e298, -100.0, 1e4, 1e300], [0.01, 0.01, 1.0, 1.0]),
    "prelu": ([-2.5e299, -2500.0, 1e4, 1e300], [0.25, 0.25, 1.0, 1.0]),
    "elu": ([-1.0, -1.0, 1e4, 1e300], _STEP),
    "softplus": (_RELU, _STEP),
    "swish": (_RELU, _STEP),
    "gelu": (_RELU, _STEP),
    "gelu_tanh": (_RELU, _STEP),
    "gelu_sigmoid": (_RELU, _STEP),
    "identity": (list(EXTREMES), _ONES),
}


class _Strict:
    """Turn every warning and every overflow / invalid / divide-by-zero into an error.

    Underflow is left at numpy's default (silent): a result below the smallest
    float64 correctly rounds to 0, and e.g. σ(−1e4) must underflow.
    """

    def __enter__(self):
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("error")
        self._e = np.errstate(over="raise", invalid="raise", divide="raise")
        self._e.__enter__()

    def __exit__(self, *exc):
        self._e.__exit__(*exc)
        return self._w.__exit__(*exc)


def test_extreme_values_cover_the_table():
    assert sorted(EXTREME_VALUES) == sorted(CANONICAL)


@pytest.mark.parametrize("name", CANONICAL)
def test_extreme_inputs_give_the_limits_without_warnings(name):
    act = A.get(name)
    f_expected, df_expected = EXTREME_VALUES[name]
    with _Strict():
        f_val, df_val = act.f(EXTREMES), act.df(EXTREMES)
    np.testing.assert_allclose(f_val, f_expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(df_val, df_expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", CANONICAL)
@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_any_finite_input_gives_finite_output_without_warnings(name, z):
    act = A.get(name)
    with _Strict():
        assert np.all(np.isfinite(act.f(z)))
        assert np.all(np.isfinite(act.df(z)))


@pytest.mark.parametrize("beta", [-1e10, -2.0, 0.0, 1e-300, 1.0, 1e10, 1e300])
def test_swish_any_beta_is_stable(beta):
    z = np.array([-1e308, -1e4, -1.0, 0.0, 1.0, 1e4, 1e308])
    with _Strict():
        a, da = A.swish(z, beta=beta), A.swish_grad(z, beta=beta)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(da))
    assert np.all(np.abs(a) <= np.abs(z))  # a = z σ(βz) with 0 <= σ <= 1


@pytest.mark.parametrize("gamma", [-1e10, 1e10])
def test_leaky_and_prelu_large_gamma_do_not_overflow_on_the_positive_side(gamma):
    z = np.array([1e300, 1.0, -1e-300])
    with _Strict():
        np.testing.assert_array_equal(A.leaky_relu(z, gamma=gamma), [1e300, 1.0, -1e-300 * gamma])
        np.testing.assert_array_equal(A.prelu(z, gamma=gamma), [1e300, 1.0, -1e-300 * gamma])


def test_maxout_extremes_without_warnings():
    Z = np.stack([EXTREMES, -EXTREMES])
    with _Strict():
        np.testing.assert_array_equal(A.maxout(Z), np.abs(EXTREMES))
        np.testing.assert_array_equal(A.maxout_grad(Z), [[0, 0, 1, 1], [1, 1, 0, 0]])


# --------------------------------------------------------------------------- #
# Identities and relations from the lecture.                                   #
# --------------------------------------------------------------------------- #


@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-300.0, 300.0)))
def test_tanh_is_a_rescaled_logistic(z):
    # tanh(z) = 2σ(2z) − 1
    np.testing.assert_allclose(A.tanh(z), 2 * A.logistic(2 * z) - 1, rtol=0, atol=1e-15)


@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-30.0, 30.0)))
def test_logistic_grad_is_sigma_times_one_minus_sigma(z):
    s = A.logistic(z)
    # 1 − σ(z) is only good to an absolute eps for large z, hence atol = eps here;
    # σ(z)σ(−z) is the same product without that cancellation.
    np.testing.assert_allclose(A.logistic_grad(z), s * (1 - s), rtol=1e-12, atol=np.finfo(float).eps)
    np.testing.assert_allclose(A.logistic_grad(z), s * A.logistic(-z), rtol=1e-14, atol=0)


@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-15.0, 15.0)))
def test_tanh_grad_is_one_minus_tanh_squared(z):
    np.testing.assert_allclose(A.tanh_grad(z), 1 - A.tanh(z) ** 2, rtol=1e-6, atol=1e-15)


@FAST
@given(z=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-10.0, 10.0)))
def test_softplus_derivative_is_logistic(z):
    # Independent of softplus_grad: difference the softplus itself.
    assert _rel_error(_central_difference(A.softplus, z), A.logistic(z)) < 1e-7


def test_hard_logistic_is_first_order_approximation_of_logistic_at_0():
    assert A.hard_logistic(0.0) == A.logistic(0.0) == 0.5
    assert A.hard_logistic_grad(0.0) == A.logistic_grad(0.0) == 0.25
    z = np.linspace(-1.9, 1.9, 39)  # inside the linear piece: exactly the Taylor polynomial
    np.testing.assert_allclose(A.hard_logistic(z), 0.5 + 0.25 * z, rtol=1e-15)


def test_hard_tanh_is_first_order_approximation_of_tanh_at_0():
    assert A.hard_tanh(0.0) == A.tanh(0.0) == 0.0
    assert A.hard_tanh_grad(0.0) == A.tanh_grad(0.0) == 1.0


def test_swish_small_beta_tends_to_half_z():
    z = np.linspace(-5, 5, 41)
    np.testing.assert_array_equal(A.swish(z, beta=0.0), z / 2)
    np.testing.assert_array_equal(A.swish_grad(z, beta=0.0), np.full_like(z, 0.5))
    # swish(z; β) − z/2 = z(σ(βz) − 1/2) ≈ βz²/4 for small β
    np.testing.assert_allclose(A.swish(z, beta=1e-6), z / 2, rtol=0, atol=1e-6 * 25 / 4 * 1.01)


@pytest.mark.parametrize("beta", [10.0, 100.0, 1e4])
def test_swish_large_beta_tends_to_relu(beta):
    z = np.linspace(-5, 5, 100001)
    # |swish − ReLU| = |z| σ(−β|z|) <= max_t t σ(−t) / β ≈ 0.2785 / β
    err = np.max(np.abs(A.swish(z, beta=beta) - A.relu(z)))
    assert err <= 0.2785 / beta
    away = np.abs(z) > 20 / beta  # away from the kink the slopes agree too
    np.testing.assert_allclose(A.swish_grad(z[away], beta=beta), A.relu_grad(z[away]), atol=1e-6)


@pytest.mark.parametrize(
    ("approx", "approx_grad", "tol", "tol_grad"),
    [
        (A.gelu_tanh, A.gelu_tanh_grad, 5e-4, 1e-3),  # the bounds stated in the docstrings
        (A.gelu_sigmoid, A.gelu_sigmoid_grad, 0.021, 0.03),
    ],
)
def test_gelu_approximations_within_documented_tolerance(approx, approx_grad, tol, tol_grad):
    z = np.linspace(-20, 20, 400001)
    assert np.max(np.abs(approx(z) - A.gelu(z))) < tol
    assert np.max(np.abs(approx_grad(z) - A.gelu_grad(z))) < tol_grad
    # the documented bound is not absurdly loose: the error does reach half of it
    assert np.max(np.abs(approx(z) - A.gelu(z))) > tol / 2


def test_gelu_sigmoid_is_swish_with_beta_1702():
    z = np.linspace(-8, 8, 33)
    np.testing.assert_array_equal(A.gelu_sigmoid(z), A.swish(z, beta=1.702))
    np.testing.assert_array_equal(A.gelu_sigmoid_grad(z), A.swish_grad(z, beta=1.702))


def test_elu_with_gamma_zero_is_relu():
    z = np.linspace(-3, 3, 13)
    np.testing.assert_array_equal(A.elu(z, gamma=0.0), A.relu(z))
    np.testing.assert_array_equal(A.elu_grad(z, gamma=0.0), A.relu_grad(z))


# --------------------------------------------------------------------------- #
# Kinks and hand-worked values.                                                #
# --------------------------------------------------------------------------- #


def test_kink_conventions():
    # The flat or negative piece wins at a kink (see the module docstring).
    assert A.relu_grad(0.0) == 0.0
    assert A.leaky_relu_grad(0.0, gamma=0.1) == 0.1
    assert A.prelu_grad(0.0, gamma=0.3) == 0.3
    assert A.elu_grad(0.0, gamma=0.5) == 0.5
    assert A.elu_grad(0.0) == 1.0
    np.testing.assert_array_equal(A.hard_logistic_grad([-2.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(A.hard_tanh_grad([-1.0, 1.0]), [0.0, 0.0])


def test_hand_worked_values():
    # σ(ln 3) = 1/(1 + 1/3) = 3/4 and σ'(ln 3) = 3/4 · 1/4 = 3/16
    assert A.logistic(np.log(3.0)) == pytest.approx(0.75, rel=1e-15)
    assert A.logistic_grad(np.log(3.0)) == pytest.approx(3 / 16, rel=1e-15)
    # softplus(ln 3) = ln 4
    assert A.softplus(np.log(3.0)) == pytest.approx(np.log(4.0), rel=1e-15)
    # swish(ln 3; β=1) = ln 3 · 3/4
    assert A.swish(np.log(3.0)) == pytest.approx(0.75 * np.log(3.0), rel=1e-15)
    # ELU(ln 0.5) = 0.5 − 1 = −0.5, ELU'(ln 0.5) = 0.5
    assert A.elu(np.log(0.5)) == pytest.approx(-0.5, rel=1e-15)
    assert A.elu_grad(np.log(0.5)) == pytest.approx(0.5, rel=1e-15)
    # GELU(0) = 0, GELU'(0) = Φ(0) = 1/2 for all three variants
    for name in ("gelu", "gelu_tanh", "gelu_sigmoid"):
        assert A.get(name).f(0.0) == 0.0 and A.get(name).df(0.0) == 0.5


# --------------------------------------------------------------------------- #
# Maxout.                                                                      #
# --------------------------------------------------------------------------- #


@FAST
@given(z=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5), elements=st.floats(-1e6, 1e6)))
def test_maxout_with_pieces_z_and_zero_is_relu(z):
    np.testing.assert_array_equal(A.maxout(np.stack([z, np.zeros_like(z)])), A.relu(z))
    # With the constant piece first, a tie at z = 0 goes to it: ReLU'(0) = 0.
    np.testing.assert_array_equal(A.maxout_grad(np.stack([np.zeros_like(z), z]))[1], A.relu_grad(z))


def test_maxout_grad_ties_go_to_the_first_piece():
    Z = np.array([[2.0, 0.0, 1.0], [2.0, 3.0, 1.0], [1.0, 3.0, 1.0]])
    np.testing.assert_array_equal(A.maxout_grad(Z), [[1, 0, 1], [0, 1, 0], [0, 0, 0]])


@FAST
@given(
    Z=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
        elements=st.floats(-10.0, 10.0),
    )
)
def test_maxout_grad_is_a_one_hot_argmax_and_the_derivative(Z):
    mask = A.maxout_grad(Z)
    assert mask.shape == Z.shape
    np.testing.assert_array_equal(mask.sum(axis=0), np.ones(Z.shape[1:]))
    np.testing.assert_array_equal((mask * Z).sum(axis=0), A.maxout(Z))
    # Central difference in each piece, where the maximum is strict.
    top2 = np.sort(Z, axis=0)[-2:] if Z.shape[0] > 1 else None
    strict = np.ones(Z.shape[1:], bool) if top2 is None else (top2[1] - top2[0] > 1e-3)
    h = 1e-6
    for k in range(Z.shape[0]):
        E = np.zeros_like(Z)
        E[k] = h
        num = (A.maxout(Z + E) - A.maxout(Z - E)) / (2 * h)
        np.testing.assert_allclose(num[strict], mask[k][strict], atol=1e-6)


def test_maxout_shapes():
    assert isinstance(A.maxout([3.0, -1.0]), np.float64)
    assert A.maxout(np.zeros((4, 3, 5))).shape == (3, 5)
    assert A.maxout_grad([3.0, -1.0]).shape == (2,)


@pytest.mark.parametrize("func", [A.maxout, A.maxout_grad])
def test_maxout_rejects_a_scalar_or_no_pieces(func):
    with pytest.raises(ValueError, match=r"\(K, \.\.\.\)"):
        func(1.0)
    with pytest.raises(ValueError, match=r"K >= 1"):
        func(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="NaN"):
        func([[1.0], [np.nan]])


# --------------------------------------------------------------------------- #
# PReLU: one γ per neuron along the first axis.                                #
# --------------------------------------------------------------------------- #

GAMMA = np.array([0.1, -0.5, 2.0])


@pytest.mark.parametrize("shape", [(3,), (3, 4), (3, 2, 2)])
def test_prelu_gamma_per_neuron_broadcasts_against_first_axis(shape):
    z = np.random.default_rng(0).normal(size=shape)
    a, da, dg = A.prelu(z, gamma=GAMMA), A.prelu_grad(z, gamma=GAMMA), A.prelu_grad_gamma(z, gamma=GAMMA)
    for out in (a, da, dg):
        assert out.shape == shape
    for i, g in enumerate(GAMMA):  # row i is leaky ReLU with γ_i
        np.testing.assert_array_equal(a[i], A.leaky_relu(z[i], gamma=g))
        np.testing.assert_array_equal(da[i], A.leaky_relu_grad(z[i], gamma=g))
        np.testing.assert_array_equal(dg[i], np.minimum(z[i], 0.0))


def test_prelu_grad_gamma_matches_sympy_and_central_difference():
    g = sp.Symbol("g", real=True)
    expr = sp.Piecewise((g * x, x <= 0), (x, True))
    fn = sp.lambdify((x, g), sp.diff(expr, g), modules="mpmath")
    np.testing.assert_allclose(A.prelu_grad_gamma(POINTS), [float(fn(p, 0.25)) for p in POINTS], rtol=1e-15)

    Z = np.random.default_rng(1).normal(size=(3, 5))
    dg = A.prelu_grad_gamma(Z, gamma=GAMMA)
    h = 1e-6
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        num = (A.prelu(Z, gamma=GAMMA + e) - A.prelu(Z, gamma=GAMMA - e)) / (2 * h)
        np.testing.assert_allclose(num[i], dg[i], rtol=1e-8, atol=1e-12)
        np.testing.assert_array_equal(np.delete(num, i, axis=0), 0.0)  # γ_i moves row i only


@pytest.mark.parametrize("func", [A.prelu, A.prelu_grad, A.prelu_grad_gamma])
def test_prelu_gamma_of_wrong_shape_is_rejected(func):
    with pytest.raises(ValueError, match=r"shape \(M,\) = \(3,\)"):
        func(np.zeros((3, 4)), gamma=np.ones(5))
    with pytest.raises(ValueError, match=r"transpose \.T"):
        func(np.zeros((3, 4)), gamma=np.ones(4))
    with pytest.raises(ValueError, match="gamma"):
        func(np.zeros((3, 4)), gamma=np.ones((3, 4)))
    with pytest.raises(ValueError, match="gamma"):
        func(1.0, gamma=np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        func(np.zeros(3), gamma=[0.1, np.nan, 0.2])


# --------------------------------------------------------------------------- #
# Shapes, types, no mutation.                                                  #
# --------------------------------------------------------------------------- #

ALL_ELEMENTWISE = [(name, f) for name in CANONICAL for f in (A.get(name).f, A.get(name).df)] + [
    ("prelu", A.prelu_grad_gamma)
]
ELEMENTWISE_IDS = [f.__name__ for _, f in ALL_ELEMENTWISE]


@pytest.mark.parametrize(("name", "func"), ALL_ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_scalar_in_gives_float64_scalar_out(name, func):
    for z in (0.7, -2, np.float32(1.5), np.array(-0.4)):
        out = func(z)
        assert isinstance(out, np.float64) and np.ndim(out) == 0


@pytest.mark.parametrize(("name", "func"), ALL_ELEMENTWISE, ids=ELEMENTWISE_IDS)
@pytest.mark.parametrize("shape", [(0,), (5,), (3, 4), (2, 3, 2)])
def test_shape_and_dtype_preserved(name, func, shape):
    z = np.linspace(-3, 3, int(np.prod(shape))).reshape(shape)
    out = func(z)
    assert out.shape == shape and out.dtype == np.float64


@pytest.mark.parametrize(("name", "func"), ALL_ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_integer_and_list_input_is_accepted(name, func):
    np.testing.assert_array_equal(func([-2, 0, 3]), func(np.array([-2.0, 0.0, 3.0])))


@pytest.mark.parametrize(("name", "func"), ALL_ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_argument_not_mutated_nor_aliased(name, func):
    z = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
    before = z.copy()
    out = func(z)
    np.testing.assert_array_equal(z, before)
    assert not np.shares_memory(out, z)


def test_maxout_argument_not_mutated_nor_aliased():
    Z = np.array([[1.0, -2.0], [0.0, 5.0]])
    before = Z.copy()
    for out in (A.maxout(Z), A.maxout_grad(Z)):
        assert not np.shares_memory(out, Z)
    np.testing.assert_array_equal(Z, before)


# --------------------------------------------------------------------------- #
# Input and parameter checks.                                                  #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("name", "func"), ALL_ELEMENTWISE, ids=ELEMENTWISE_IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_input_raises(name, func, bad):
    with pytest.raises(ValueError, match=rf"^{func.__name__}: z contains 1 NaN or infinite value"):
        func([0.0, bad])


@pytest.mark.parametrize(("name", "func"), ALL_ELEMENTWISE, ids=ELEMENTWISE_IDS)
def test_non_numeric_input_raises_type_error(name, func):
    for bad in ("1.0", [1 + 2j], [[1.0], [1.0, 2.0]]):
        with pytest.raises(TypeError, match=func.__name__):
            func(bad)


@pytest.mark.parametrize("func", [A.leaky_relu, A.leaky_relu_grad, A.elu, A.elu_grad])
def test_gamma_is_checked(func):
    with pytest.raises(ValueError, match="gamma"):
        func(1.0, gamma=np.nan)
    with pytest.raises(ValueError, match="single number"):
        func(1.0, gamma=[0.1, 0.2])
    with pytest.raises(TypeError, match="gamma"):
        func(1.0, gamma="0.1")
    with pytest.raises(TypeError):
        func(1.0, 0.1)  # parameters are keyword-only


def test_leaky_gamma_array_message_points_to_prelu():
    with pytest.raises(ValueError, match="use prelu"):
        A.leaky_relu(np.zeros(2), gamma=[0.1, 0.2])


@pytest.mark.parametrize("func", [A.elu, A.elu_grad])
def test_elu_rejects_negative_gamma(func):
    with pytest.raises(ValueError, match=r"gamma must be >= 0"):
        func(1.0, gamma=-0.5)


@pytest.mark.parametrize("func", [A.swish, A.swish_grad])
def test_beta_is_checked(func):
    assert np.isfinite(func(1.0, beta=-3.0))  # any real β is allowed
    with pytest.raises(ValueError, match="beta"):
        func(1.0, beta=np.inf)
    with pytest.raises(ValueError, match="beta must be a single number"):
        func(1.0, beta=[1.0, 2.0])
    with pytest.raises(TypeError, match="beta"):
        func(1.0, beta=None)


# --------------------------------------------------------------------------- #
# The table.                                                                   #
# --------------------------------------------------------------------------- #


def test_table_names_and_aliases():
    assert sorted(A.ACTIVATIONS) == sorted(CANONICAL + list(ALIASES))
    for alias, name in ALIASES.items():
        assert A.ACTIVATIONS[alias] is A.ACTIVATIONS[name]
        assert A.get(alias).name == name
    for name in CANONICAL:
        act = A.ACTIVATIONS[name]
        assert isinstance(act, A.Activation) and act.name == name
        assert act.f is getattr(A, name) and act.df is getattr(A, name + "_grad")


def test_table_is_read_only():
    from collections.abc import Mapping, MutableMapping

    assert isinstance(A.ACTIVATIONS, Mapping) and not isinstance(A.ACTIVATIONS, MutableMapping)
    with pytest.raises(TypeError):
        A.ACTIVATIONS["relu"] = A.ACTIVATIONS["tanh"]  # type: ignore[index]
    with pytest.raises(TypeError):
        A.ACTIVATIONS["new"] = A.ACTIVATIONS["tanh"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del A.ACTIVATIONS["relu"]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        A.ACTIVATIONS["relu"].f = A.tanh  # the entries are immutable named tuples too
    assert A.get("relu").f is A.relu


@pytest.mark.parametrize("bad", ["sigmod", "ReLU", "", "maxout", None, 3])
def test_unknown_name_lists_the_known_names(bad):
    with pytest.raises(ValueError) as info:
        A.get(bad)
    msg = str(info.value)
    assert msg.startswith("get: unknown activation")
    for name in A.ACTIVATIONS:
        assert repr(name) in msg


def test_every_entry_runs_with_its_default_parameters():
    z = np.array([[-1.0, 0.5], [2.0, -3.0]])
    for name, act in A.ACTIVATIONS.items():
        assert act.f(z).shape == act.df(z).shape == z.shape, name


def test_all_is_exact():
    public = {n for n in dir(A) if not n.startswith("_") and getattr(getattr(A, n), "__module__", None) == A.__name__}
    assert set(A.__all__) == public | {"ACTIVATIONS"}
    for n in A.__all__:
        if n != "ACTIVATIONS":  # a mappingproxy instance carries no docstring of its own
            assert getattr(A, n).__doc__, n


def test_unknown_activation_name_lists_the_known_ones_and_the_closest():
    from fnnlib.activations import ACTIVATIONS

    with pytest.raises(KeyError) as info:
        ACTIVATIONS["sigmod"]
    msg = str(info.value)
    assert "'sigmod'" in msg and "did you mean 'sigmoid'" in msg
    for name in ACTIVATIONS:  # every known name, aliases included
        assert repr(name) in msg, f"{name} missing from {msg}"
    # nothing close: still the name asked for and every known one, and no wrong suggestion
    with pytest.raises(KeyError) as info:
        ACTIVATIONS["xyzzy"]
    msg = str(info.value)
    assert "'xyzzy'" in msg and "did you mean" not in msg
    assert all(repr(name) in msg for name in ACTIVATIONS), msg
    with pytest.raises(KeyError, match="Known: 'logistic'"):
        ACTIVATIONS[3]  # not even a string
    # otherwise an ordinary read-only mapping
    assert "relu" in ACTIVATIONS and "sigmod" not in ACTIVATIONS
    assert ACTIVATIONS.get("sigmod") is None and ACTIVATIONS.get("relu") is ACTIVATIONS["relu"]
    assert list(ACTIVATIONS) == [k for k, _ in ACTIVATIONS.items()] and len(ACTIVATIONS) == len(list(ACTIVATIONS))
    assert all(isinstance(v, A.Activation) and ACTIVATIONS[k] is v for k, v in ACTIVATIONS.items())
    assert ACTIVATIONS["sigmoid"] is ACTIVATIONS["logistic"]
    with pytest.raises(TypeError):
        ACTIVATIONS["relu"] = None  # read-only


def test_unknown_loss_name_lists_the_known_ones():
    from fnnlib.losses import LOSSES

    with pytest.raises(KeyError, match="Known: 'softmax_cross_entropy', 'binary_cross_entropy', 'squared_error'"):
        LOSSES["mse"]
