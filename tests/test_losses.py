"""Tests for fnnlib.losses: values against scipy/sklearn, δ^(L) against autograd, stability."""

import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss

from fnnlib import losses
from fnnlib.losses import (
    LOSSES,
    binary_cross_entropy,
    binary_cross_entropy_delta,
    binary_cross_entropy_from_logits,
    cross_entropy,
    get_loss,
    log_softmax,
    one_hot,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_delta,
    squared_error,
    squared_error_delta,
)


def rel_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


# ---------------------------------------------------------------------------
# softmax, one-hot
# ---------------------------------------------------------------------------
def test_softmax_matches_scipy_along_classes(rng):
    Z = rng.normal(scale=3.0, size=(5, 7))  # C = 5 classes, N = 7 columns
    np.testing.assert_allclose(softmax(Z), scipy.special.softmax(Z, axis=0), rtol=1e-13)
    np.testing.assert_allclose(softmax(Z).sum(axis=0), np.ones(7), rtol=1e-13)
    np.testing.assert_allclose(log_softmax(Z), scipy.special.log_softmax(Z, axis=0), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(softmax(Z[:, 2]), softmax(Z)[:, 2], rtol=1e-14)


def test_softmax_shift_invariant(rng):
    z = rng.normal(size=4)
    np.testing.assert_allclose(softmax(z + 1000.0), softmax(z), rtol=1e-12)


def test_one_hot():
    np.testing.assert_array_equal(one_hot([0, 2, 1, 2], 3), np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1]]))
    np.testing.assert_array_equal(one_hot(np.int64(1), 2), [0.0, 1.0])
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), [[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"out of range; expected integers 0..C-1 = 0..2"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="index 1"):
        one_hot([0, -1], 3)
    with pytest.raises(ValueError, match="non-integer"):
        one_hot([0.5], 3)
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        one_hot([[0, 1]], 3)
    with pytest.raises(ValueError, match="C must be"):
        one_hot([0], 0)


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------
def test_cross_entropy_is_a_scalar_minus_y_dot_log_yhat():
    # errata: for one-hot y the cross-entropy is −yᵀ log ŷ, one number
    y_hat = np.array([0.2, 0.5, 0.3])
    y = np.array([0.0, 1.0, 0.0])
    value = cross_entropy(y_hat, y)
    assert isinstance(value, float)
    assert value == pytest.approx(-y @ np.log(y_hat)) == pytest.approx(-np.log(0.5))
    assert cross_entropy(y_hat, 1) == pytest.approx(value)


def test_cross_entropy_labels_equal_one_hot(rng):
    P = scipy.special.softmax(rng.normal(size=(4, 9)), axis=0)
    labels = rng.integers(0, 4, size=9)
    per = cross_entropy(P, labels, reduction="none")
    assert per.shape == (9,)
    np.testing.assert_allclose(per, -np.log(P[labels, np.arange(9)]), rtol=1e-13)
    assert cross_entropy(P, one_hot(labels, 4)) == pytest.approx(per.mean(), rel=1e-13)
    assert cross_entropy(P, labels, reduction="sum") == pytest.approx(per.sum(), rel=1e-13)
    # scikit-learn's log_loss takes rows = examples: the transpose of our columns
    assert cross_entropy(P, labels) == pytest.approx(log_loss(labels, P.T, labels=range(4)), rel=1e-12)


def test_softmax_cross_entropy_equals_cross_entropy_of_softmax(rng):
    Z = rng.normal(scale=2.0, size=(3, 6))
    labels = rng.integers(0, 3, size=6)
    assert softmax_cross_entropy(Z, labels) == pytest.approx(cross_entropy(softmax(Z), labels), rel=1e-12)
    # soft targets (columns summing to 1) are allowed too
    Y = scipy.special.softmax(rng.normal(size=(3, 6)), axis=0)
    expected = -(Y * scipy.special.log_softmax(Z, axis=0)).sum(axis=0).mean()
    assert softmax_cross_entropy(Z, Y) == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_forms_agree(rng):
    z = rng.normal(scale=2.0, size=(1, 8))
    labels = rng.integers(0, 2, size=8)
    p = scipy.special.expit(z)
    a = binary_cross_entropy_from_logits(z, labels)
    assert a == pytest.approx(binary_cross_entropy(p, labels), rel=1e-12)
    assert a == pytest.approx(log_loss(labels, p[0], labels=[0, 1]), rel=1e-12)
    assert binary_cross_entropy_from_logits(z, labels[None, :]) == pytest.approx(a, rel=1e-15)
    # one example, K = 3 independent outputs
    zk, yk = rng.normal(size=3), np.array([1.0, 0.0, 1.0])
    expected = -np.sum(yk * np.log(scipy.special.expit(zk)) + (1 - yk) * np.log(1 - scipy.special.expit(zk)))
    assert binary_cross_entropy_from_logits(zk, yk) == pytest.approx(expected, rel=1e-12)


def test_squared_error_has_one_half():
    assert squared_error([3.0, 1.0], [1.0, 1.0]) == 2.0  # ½ (2² + 0²)
    Y_hat = np.array([[1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(squared_error(Y_hat, np.zeros((2, 2)), reduction="none"), [0.5, 2.0])
    # regression with one output: targets of shape (N,) are read as a row
    assert squared_error(np.array([[1.0, 3.0]]), [0.0, 1.0]) == pytest.approx((0.5 + 2.0) / 2)
    # classification labels with C > 1 are one-hot encoded
    assert squared_error(np.array([[1.0], [0.0]]), [0]) == 0.0


# ---------------------------------------------------------------------------
# δ^(L) against autograd
# ---------------------------------------------------------------------------
# autograd.grad of a scalar returns an array of the variable's shape: that is
# the denominator layout used throughout the course, so no transpose is needed.
# For a batch the δ columns are per-example, so they equal the gradient of the
# SUM of the per-example losses with respect to Z.
def _anp_log_softmax(Z):
    return Z - anp.log(anp.sum(anp.exp(Z - anp.max(Z, axis=0)), axis=0)) - anp.max(Z, axis=0)


ANP_OUT = {
    "identity": lambda z: z,
    "tanh": anp.tanh,
    "logistic": lambda z: 1.0 / (1.0 + anp.exp(-z)),
    "softplus": lambda z: anp.logaddexp(0.0, z),
    "swish": lambda z: z / (1.0 + anp.exp(-z)),
}


@pytest.mark.parametrize("shape", [(4,), (4, 6)])
def test_softmax_ce_delta_matches_autograd(rng, shape):
    Z = rng.normal(scale=2.0, size=shape)
    labels = rng.integers(0, 4, size=shape[1:])
    Y = one_hot(labels, 4)
    g = autograd.grad(lambda Z_: -anp.sum(Y * _anp_log_softmax(Z_)))(Z)
    assert g.shape == Z.shape
    assert rel_error(softmax_cross_entropy_delta(Z, labels), g) < 1e-12


@pytest.mark.parametrize("shape", [(1,), (1, 7), (3, 5)])
def test_bce_delta_matches_autograd(rng, shape):
    Z = rng.normal(scale=2.0, size=shape)
    Y = rng.integers(0, 2, size=shape).astype(float)
    g = autograd.grad(lambda Z_: anp.sum(anp.logaddexp(0.0, Z_) - Y * Z_))(Z)
    assert rel_error(binary_cross_entropy_delta(Z, Y), g) < 1e-12


@pytest.mark.parametrize("act", sorted(ANP_OUT))
@pytest.mark.parametrize("shape", [(3,), (3, 5)])
def test_squared_error_delta_matches_autograd(rng, act, shape):
    Z = rng.normal(size=shape)
    Y = rng.normal(size=shape)
    f = ANP_OUT[act]
    g = autograd.grad(lambda Z_: 0.5 * anp.sum((f(Z_) - Y) ** 2))(Z)
    assert rel_error(squared_error_delta(Z, Y, act), g) < 1e-12


def test_squared_error_delta_with_activation_params(rng):
    Z, Y = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    g = autograd.grad(lambda Z_: 0.5 * anp.sum((anp.where(Z_ > 0, Z_, 0.2 * Z_) - Y) ** 2))(Z)
    assert rel_error(squared_error_delta(Z, Y, ("leaky_relu", {"gamma": 0.2})), g) < 1e-12


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_delta_shapes_equal_output_shapes(C, N, seed):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(C, N))
    for name, spec in LOSSES.items():
        if name == "binary_cross_entropy":
            y = rng.integers(0, 2, size=(C, N)).astype(float)
        else:
            y = rng.integers(0, C, size=N)
        act = "softmax" if name == "softmax_cross_entropy" else "logistic"
        assert spec.delta(Z, y, act).shape == (C, N)
        assert spec.delta(Z[:, 0], y[..., 0], act).shape == (C,)
        assert np.isfinite(spec.value(Z, y, act))


# ---------------------------------------------------------------------------
# stability
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("big", [1e4, -1e4, 1e300])
def test_losses_finite_for_huge_logits(big):
    Z = np.array([[big, 0.0, -abs(big)], [0.0, big, 3.0], [-big, -big, 0.0]])
    labels = np.array([2, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        values = [
            softmax_cross_entropy(Z, labels, reduction="none"),
            softmax_cross_entropy_delta(Z, labels),
            softmax(Z),
            log_softmax(Z),
            binary_cross_entropy_from_logits(Z[:1], [0, 1, 1], reduction="none"),
            binary_cross_entropy_delta(Z[:1], [0, 1, 1]),
            cross_entropy(softmax(Z), labels, reduction="none"),
            binary_cross_entropy(scipy.special.expit(Z[:1]), [0, 1, 1], reduction="none"),
            squared_error_delta(Z / 1e300 if big == 1e300 else Z, np.zeros((3, 3)), "tanh"),
        ]
    for v in values:
        assert np.all(np.isfinite(v))


def test_huge_logits_exact_values():
    # −log softmax([1e4, −1e4])_1 = 2e4 exactly; from logits the BCE is log(1 + e^{1e4}) = 1e4
    assert softmax_cross_entropy([1e4, -1e4], 1) == 2e4
    assert binary_cross_entropy_from_logits([1e4], 0) == 1e4
    np.testing.assert_array_equal(softmax_cross_entropy_delta([1e4, -1e4], 1), [1.0, -1.0])
    np.testing.assert_array_equal(binary_cross_entropy_delta([[-1e4, 1e4]], [1, 1]), [[-1.0, 0.0]])


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------
def test_table_is_read_only_and_complete():
    assert set(LOSSES) == {"softmax_cross_entropy", "binary_cross_entropy", "squared_error"}
    with pytest.raises(TypeError):
        LOSSES["hinge"] = None  # type: ignore[index]
    assert LOSSES["softmax_cross_entropy"].output_activations == frozenset({"softmax"})
    assert "logistic" in LOSSES["binary_cross_entropy"].output_activations
    assert {"identity", "tanh", "relu"} <= LOSSES["squared_error"].output_activations
    assert "softmax" not in LOSSES["squared_error"].output_activations
    assert get_loss("squared_error") is LOSSES["squared_error"]
    with pytest.raises(ValueError, match="Known: 'softmax_cross_entropy'"):
        get_loss("cross_entropy")


def test_table_entries_agree_with_functions(rng):
    Z = rng.normal(size=(3, 4))
    labels = np.array([0, 2, 1, 1])
    sce = LOSSES["softmax_cross_entropy"]
    assert sce.value(Z, labels, "softmax") == softmax_cross_entropy(Z, labels)
    np.testing.assert_array_equal(sce.delta(Z, labels, "softmax"), softmax_cross_entropy_delta(Z, labels))
    se = LOSSES["squared_error"]
    Y = rng.normal(size=(3, 4))
    assert se.value(Z, Y, "tanh") == pytest.approx(squared_error(np.tanh(Z), Y), rel=1e-14)
    bce = LOSSES["binary_cross_entropy"]
    assert bce.value(Z[:1], [0, 1, 1, 0], "logistic") == binary_cross_entropy_from_logits(Z[:1], [0, 1, 1, 0])


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------
def test_target_errors(rng):
    Z = rng.normal(size=(3, 5))
    with pytest.raises(ValueError, match=r"out of range; expected integers 0..C-1 = 0..2"):
        softmax_cross_entropy(Z, [0, 1, 2, 3, 0])
    with pytest.raises(ValueError, match=r"It looks transposed.*\.T"):
        softmax_cross_entropy(Z, np.eye(3)[:, [0, 1, 2, 0, 1]].T)
    with pytest.raises(ValueError, match=r"expected \(C, N\) = \(3, 5\)"):
        softmax_cross_entropy(Z, [0, 1, 2])
    with pytest.raises(ValueError, match="sum to 1"):
        softmax_cross_entropy(Z, np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        cross_entropy(Z, [0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match="only for a single logistic output"):
        binary_cross_entropy_from_logits(Z, [0, 1, 1, 0, 1])
    with pytest.raises(ValueError, match=r"one logistic output needs y in \[0, 1\]: 0/1 labels or soft targets P\(class 1\); got 2 at"):
        binary_cross_entropy_from_logits(Z[:1], [0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        squared_error(Z, np.zeros((3, 5)), reduction="avg")
    with pytest.raises(ValueError, match="NaN"):
        softmax(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="only supported with the softmax_cross_entropy"):
        squared_error_delta(Z, np.zeros((3, 5)), "softmax")
    with pytest.raises(ValueError, match="unknown activation 'sigmod'"):
        squared_error_delta(Z, np.zeros((3, 5)), "sigmod")
    with pytest.raises(ValueError, match=r"shape \(C,\) for one example or \(C, N\)"):
        softmax(np.zeros((2, 2, 2)))


def test_loss_output_pairing_messages():
    with pytest.raises(ValueError, match="needs the output activation 'softmax'"):
        losses._check_loss_output("softmax_cross_entropy", "logistic", "backward")
    with pytest.raises(ValueError, match="loss='binary_cross_entropy'"):
        losses._check_loss_output("softmax_cross_entropy", "logistic", "backward")
    with pytest.raises(ValueError, match="needs the output activation 'logistic'"):
        losses._check_loss_output("binary_cross_entropy", "softmax", "backward")
    with pytest.raises(ValueError, match="elementwise output activation"):
        losses._check_loss_output("squared_error", "softmax", "backward")


def test_inputs_not_mutated(rng):
    Z = rng.normal(size=(3, 4))
    Y = one_hot([0, 1, 2, 0], 3)
    Z0, Y0 = Z.copy(), Y.copy()
    for f in (softmax_cross_entropy, softmax_cross_entropy_delta):
        f(Z, Y)
    softmax(Z)
    squared_error_delta(Z, Y, "tanh")
    np.testing.assert_array_equal(Z, Z0)
    np.testing.assert_array_equal(Y, Y0)
