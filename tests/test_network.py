"""Tests for fnnlib.network: initialisation, forward pass, backpropagation, risk.

Oracles: HIPS autograd for every gradient, scikit-learn's MLPClassifier for the
forward pass, and one example worked by hand.
"""

import warnings

import autograd
import autograd.numpy as anp
import autograd.scipy.special as asp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from fnnlib.losses import one_hot
from fnnlib.network import (
    INIT_METHODS,
    BackwardPass,
    ForwardPass,
    backward,
    copy_params,
    forward,
    init_params,
    predict,
    risk,
    risk_and_grads,
)
from fnnlib.params import count_params


def rel_error(a, b):
    """‖a − b‖ / (‖a‖ + ‖b‖): ≈1e-15 for agreeing float64 results, > 1e-2 when wrong."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


# ---------------------------------------------------------------------------
# autograd reference: the same network written with autograd.numpy
# ---------------------------------------------------------------------------
def _anp_softmax(z):
    e = anp.exp(z - anp.max(z, axis=0))
    return e / anp.sum(e, axis=0)


ANP_ACT = {
    "logistic": lambda z: 1.0 / (1.0 + anp.exp(-z)),
    "tanh": anp.tanh,
    "relu": lambda z: anp.maximum(z, 0.0),
    "leaky_relu": lambda z: anp.where(z > 0, z, 0.01 * z),
    "elu": lambda z: anp.where(z > 0, z, anp.exp(anp.minimum(z, 0.0)) - 1.0),
    "softplus": lambda z: anp.logaddexp(0.0, z),
    "swish": lambda z: z / (1.0 + anp.exp(-z)),
    "gelu": lambda z: 0.5 * z * (1.0 + asp.erf(z / np.sqrt(2.0))),
    "identity": lambda z: z,
    "softmax": _anp_softmax,
}


def anp_risk(flat, x, Y, activations, loss, lam):
    """R = (1/N) Σ_n L_n + (λ/2) Σ_l ‖W^(l)‖_F², written independently of fnnlib."""
    Ws, bs = flat[0::2], flat[1::2]
    batch = x.ndim == 2
    a = x
    z = None
    for W, b, act in zip(Ws, bs, activations):
        z = anp.dot(W, a) + (anp.reshape(b, (-1, 1)) if batch else b)
        a = ANP_ACT[act](z)
    N = x.shape[1] if batch else 1
    if loss == "softmax_cross_entropy":
        m = anp.max(z, axis=0)
        log_p = z - m - anp.log(anp.sum(anp.exp(z - m), axis=0))
        data = -anp.sum(Y * log_p) / N
    elif loss == "binary_cross_entropy":
        data = anp.sum(anp.logaddexp(0.0, z) - Y * z) / N
    else:
        data = 0.5 * anp.sum((a - Y) ** 2) / N
    return data + 0.5 * lam * sum(anp.sum(W * W) for W in Ws)


def _flat(params):
    return [arr for p in params for arr in (p["W"], p["b"])]


# (layer sizes, activations, loss); depths 1–4, every loss, many activations
CONFIGS = [
    ([4, 3], ["softmax"], "softmax_cross_entropy"),
    ([3, 1], ["logistic"], "binary_cross_entropy"),
    ([3, 2], ["identity"], "squared_error"),
    ([5, 7, 4], ["relu", "softmax"], "softmax_cross_entropy"),
    ([4, 6, 1], ["tanh", "logistic"], "binary_cross_entropy"),
    ([2, 5, 3], ["softplus", "tanh"], "squared_error"),
    ([6, 5, 4, 3], ["swish", "elu", "softmax"], "softmax_cross_entropy"),
    ([3, 4, 4, 2], ["leaky_relu", "gelu", "logistic"], "binary_cross_entropy"),
    ([4, 3, 5, 2], ["logistic", "relu", "softplus"], "squared_error"),
    ([5, 6, 4, 5, 3], ["tanh", "swish", "relu", "softmax"], "softmax_cross_entropy"),
    ([3, 4, 3, 4, 2], ["elu", "logistic", "tanh", "identity"], "squared_error"),
    ([4, 5, 5, 3, 1], ["gelu", "leaky_relu", "softplus", "logistic"], "binary_cross_entropy"),
]


def _random_problem(sizes, loss, N, seed):
    rng = np.random.default_rng(seed)
    params = init_params(sizes, "xavier_normal", rng=rng)
    for p in params:  # non-zero biases, so their gradients are exercised too
        p["b"] = rng.normal(scale=0.5, size=p["b"].shape)
    C = sizes[-1]
    shape = (sizes[0], N) if N else (sizes[0],)
    x = rng.normal(size=shape)
    if loss == "softmax_cross_entropy":
        labels = rng.integers(0, C, size=N if N else None)
        Y = one_hot(labels, C)
        y = labels
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, size=(C, N) if N else (C,)).astype(float)
        y = Y
    else:
        Y = rng.normal(size=(C, N) if N else (C,))
        y = Y
    return params, x, y, Y


@pytest.mark.parametrize("sizes, activations, loss", CONFIGS)
@pytest.mark.parametrize("N", [0, 1, 6])  # 0 means a single example of shape (M_0,)
@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_backprop_matches_autograd(sizes, activations, loss, N, lam):
    params, x, y, Y = _random_problem(sizes, loss, N, seed=len(sizes) * 100 + N)
    # autograd.grad of a scalar returns arrays shaped like the variables: the
    # denominator layout of the course, so the gradients compare without a transpose.
    ref = autograd.grad(anp_risk)(_flat(params), x, Y, activations, loss, lam)
    fp = forward(params, x, activations)
    bp = backward(params, fp, y, activations, loss, lam=lam)
    for l, (g, p) in enumerate(zip(bp.grads, params), start=1):
        assert g["W"].shape == p["W"].shape and g["b"].shape == p["b"].shape
        assert rel_error(g["W"], ref[2 * l - 2]) < 1e-7, f"dW^({l})"
        assert rel_error(g["b"], ref[2 * l - 1]) < 1e-7, f"db^({l})"
    R_ref = anp_risk(_flat(params), x, Y, activations, loss, lam)
    assert risk(params, x, y, activations, loss, lam=lam) == pytest.approx(float(R_ref), rel=1e-12)
    R, grads = risk_and_grads(params, x, y, activations, loss, lam=lam)
    assert R == pytest.approx(float(R_ref), rel=1e-12)
    for g, h in zip(grads, bp.grads):
        np.testing.assert_array_equal(g["W"], h["W"])


@pytest.mark.parametrize("sizes, activations, loss", CONFIGS[6:10])
def test_deltas_match_autograd(sizes, activations, loss):
    # δ^(l) = ∂L/∂z^(l) per example: the gradient of Σ_n L_n with respect to Z^(l),
    # obtained by restarting the network at layer l from a given Z^(l).
    N = 4
    params, x, y, Y = _random_problem(sizes, loss, N, seed=7)
    fp = forward(params, x, activations)
    bp = backward(params, fp, y, activations, loss)
    L = len(params)
    for l in range(1, L + 1):

        def from_layer(Z, l=l):
            a = ANP_ACT[activations[l - 1]](Z)
            z = Z
            for W, b, act in zip([p["W"] for p in params[l:]], [p["b"] for p in params[l:]], activations[l:]):
                z = anp.dot(W, a) + anp.reshape(b, (-1, 1))
                a = ANP_ACT[act](z)
            if loss == "softmax_cross_entropy":
                m = anp.max(z, axis=0)
                return -anp.sum(Y * (z - m - anp.log(anp.sum(anp.exp(z - m), axis=0))))
            if loss == "binary_cross_entropy":
                return anp.sum(anp.logaddexp(0.0, z) - Y * z)
            return 0.5 * anp.sum((a - Y) ** 2)

        ref = autograd.grad(from_layer)(fp.z[l])
        assert bp.deltas[l].shape == fp.z[l].shape
        assert rel_error(bp.deltas[l], ref) < 1e-7, f"δ^({l})"
    assert bp.deltas[0] is None and fp.z[0] is None


def test_batch_gradient_is_mean_of_single_example_gradients():
    params, X, y, _ = _random_problem([3, 4, 2], "softmax_cross_entropy", 5, seed=3)
    acts = ["tanh", "softmax"]
    batch = backward(params, forward(params, X, acts), y, acts, "softmax_cross_entropy").grads
    singles = [
        backward(params, forward(params, X[:, n], acts), y[n], acts, "softmax_cross_entropy").grads
        for n in range(5)
    ]
    for l in range(2):
        np.testing.assert_allclose(batch[l]["W"], np.mean([s[l]["W"] for s in singles], axis=0), rtol=1e-12)
        np.testing.assert_allclose(batch[l]["b"], np.mean([s[l]["b"] for s in singles], axis=0), rtol=1e-12)


def test_l2_term_only_on_weights():
    params, X, y, _ = _random_problem([3, 4, 2], "squared_error", 5, seed=4)
    acts = ["relu", "identity"]
    fp = forward(params, X, acts)
    g0 = backward(params, fp, y, acts, "squared_error").grads
    g1 = backward(params, fp, y, acts, "squared_error", lam=0.7).grads
    for l in range(2):
        np.testing.assert_allclose(g1[l]["W"] - g0[l]["W"], 0.7 * params[l]["W"], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(g1[l]["b"], g0[l]["b"])
    penalty = 0.5 * 0.7 * sum(np.sum(p["W"] ** 2) for p in params)  # (λ/2) Σ ‖W‖_F², no biases
    assert risk(params, X, y, acts, "squared_error", lam=0.7) == pytest.approx(
        risk(params, X, y, acts, "squared_error") + penalty, rel=1e-13
    )


# ---------------------------------------------------------------------------
# a two-layer example by hand
# ---------------------------------------------------------------------------
def test_hand_worked_two_layer_example():
    # x = [1, 2], W^(1) = [[1, −1], [0.5, 1]], b^(1) = [0, 1], ReLU;
    # W^(2) = [[2, 1]], b^(2) = [−1], identity output; y = 1; L = ½ (ŷ − y)².
    #   z^(1) = [1·1 − 1·2 + 0, 0.5·1 + 1·2 + 1] = [−1, 3.5]
    #   a^(1) = ReLU(z^(1)) = [0, 3.5]
    #   z^(2) = 2·0 + 1·3.5 − 1 = 2.5 = ŷ,   L = ½ (2.5 − 1)² = 1.125
    #   δ^(2) = ŷ − y = 1.5
    #   ∂L/∂W^(2) = δ^(2) a^(1)ᵀ = [[1.5·0, 1.5·3.5]] = [[0, 5.25]],   ∂L/∂b^(2) = [1.5]
    #   δ^(1) = ReLU'(z^(1)) ⊙ (W^(2)ᵀ δ^(2)) = [0, 1] ⊙ [3, 1.5] = [0, 1.5]
    #   ∂L/∂W^(1) = δ^(1) xᵀ = [[0, 0], [1.5·1, 1.5·2]] = [[0, 0], [1.5, 3]],   ∂L/∂b^(1) = [0, 1.5]
    # With λ = 0.1: R = 1.125 + 0.05 (1 + 1 + 0.25 + 1 + 4 + 1) = 1.125 + 0.4125 = 1.5375.
    params = [
        {"W": np.array([[1.0, -1.0], [0.5, 1.0]]), "b": np.array([0.0, 1.0])},
        {"W": np.array([[2.0, 1.0]]), "b": np.array([-1.0])},
    ]
    acts = ["relu", "identity"]
    x = np.array([1.0, 2.0])
    fp = forward(params, x, acts)
    np.testing.assert_array_equal(fp.z[1], [-1.0, 3.5])
    np.testing.assert_array_equal(fp.a[1], [0.0, 3.5])
    np.testing.assert_array_equal(fp.a[2], [2.5])
    bp = backward(params, fp, [1.0], acts, "squared_error")
    np.testing.assert_array_equal(bp.deltas[2], [1.5])
    np.testing.assert_array_equal(bp.deltas[1], [0.0, 1.5])
    np.testing.assert_array_equal(bp.grads[1]["W"], [[0.0, 5.25]])
    np.testing.assert_array_equal(bp.grads[1]["b"], [1.5])
    np.testing.assert_array_equal(bp.grads[0]["W"], [[0.0, 0.0], [1.5, 3.0]])
    np.testing.assert_array_equal(bp.grads[0]["b"], [0.0, 1.5])
    assert risk(params, x, [1.0], acts, "squared_error") == 1.125
    assert risk(params, x, [1.0], acts, "squared_error", lam=0.1) == pytest.approx(1.5375, rel=1e-15)


# ---------------------------------------------------------------------------
# scikit-learn's MLPClassifier as an oracle for the forward pass
# ---------------------------------------------------------------------------
def _sklearn_with_weights(params, hidden_activation, n_classes, rng):
    M0 = params[0]["W"].shape[1]
    hidden = tuple(p["W"].shape[0] for p in params[:-1])
    clf = MLPClassifier(hidden_layer_sizes=hidden, activation=hidden_activation, max_iter=1, random_state=0)
    X_fit = rng.normal(size=(3 * n_classes, M0))
    y_fit = np.arange(3 * n_classes) % n_classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_fit, y_fit)  # only to build the layers; the weights are replaced below
    # scikit-learn stores coefs_[i] with shape (fan_in, fan_out) = W^(l)ᵀ, intercepts_[i] = b^(l)
    clf.coefs_ = [p["W"].T.copy() for p in params]
    clf.intercepts_ = [p["b"].copy() for p in params]
    return clf


@pytest.mark.parametrize("hidden_activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("sizes", [[5, 4, 3], [4, 6, 5, 4]])
def test_forward_matches_sklearn_multiclass(hidden_activation, sizes):
    rng = np.random.default_rng(11)
    params = init_params(sizes, "xavier", rng=rng)
    for p in params:
        p["b"] = rng.normal(size=p["b"].shape)
    clf = _sklearn_with_weights(params, hidden_activation, sizes[-1], rng)
    assert clf.out_activation_ == "softmax"
    X = rng.normal(size=(sizes[0], 9))  # columns are examples; scikit-learn wants rows: X.T
    acts = [hidden_activation] * (len(sizes) - 2) + ["softmax"]
    np.testing.assert_allclose(predict(params, X, acts), clf.predict_proba(X.T).T, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("hidden_activation", ["relu", "tanh"])
def test_forward_matches_sklearn_binary(hidden_activation):
    # for two classes scikit-learn uses ONE logistic output unit, P(class 1) = σ(z^(L))
    rng = np.random.default_rng(12)
    params = init_params([4, 5, 1], "xavier", rng=rng)
    params[0]["b"] = rng.normal(size=5)
    params[1]["b"] = rng.normal(size=1)
    clf = _sklearn_with_weights(params, hidden_activation, 2, rng)
    assert clf.out_activation_ == "logistic"
    X = rng.normal(size=(4, 7))
    p1 = predict(params, X, [hidden_activation, "logistic"])
    assert p1.shape == (1, 7)
    np.testing.assert_allclose(p1[0], clf.predict_proba(X.T)[:, 1], rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# initialisation
# ---------------------------------------------------------------------------
def test_init_shapes_and_zero_biases():
    for method in INIT_METHODS:
        params = init_params([3, 5, 2], method, rng=0)
        assert [p["W"].shape for p in params] == [(5, 3), (2, 5)]
        assert [p["b"].shape for p in params] == [(5,), (2,)]
        assert all(np.all(p["b"] == 0.0) for p in params)
        assert all(p["W"].dtype == np.float64 for p in params)
    assert all(np.all(p["W"] == 0.0) for p in init_params([3, 5, 2], "zeros"))


@pytest.mark.parametrize(
    "method, variance",
    [
        ("xavier", 2.0 / (300 + 200)),  # U(−r, r), r² / 3 = 2 / (M_{l-1} + M_l)
        ("xavier_normal", 2.0 / (300 + 200)),
        ("he", 2.0 / 300),  # N(0, 2 / M_{l-1})
        ("he_uniform", 2.0 / 300),
        ("normal", 0.01**2),
        ("uniform", 0.01**2 / 3.0),
    ],
)
def test_init_variances(method, variance):
    W = init_params([300, 200], method, rng=1)[0]["W"]  # 60,000 draws: ±2 % is about 5 standard errors
    assert W.var() == pytest.approx(variance, rel=0.03)
    assert abs(W.mean()) < 0.05 * np.sqrt(variance)


def test_init_xavier_bound_and_gain():
    W = init_params([30, 20], "xavier", rng=2)[0]["W"]
    r = np.sqrt(6.0 / 50)
    assert np.abs(W).max() <= r and np.abs(W).max() > 0.9 * r
    W4 = init_params([30, 20], "xavier", rng=2, gain=4.0)[0]["W"]  # nndl's factor for logistic units
    np.testing.assert_allclose(W4, 4.0 * W, rtol=1e-15)
    Ws = init_params([30, 20], "uniform", rng=2, scale=0.5)[0]["W"]
    assert np.abs(Ws).max() <= 0.5


def test_init_reproducible():
    a = init_params([4, 3, 2], "he", rng=5)
    b = init_params([4, 3, 2], "he", rng=np.random.default_rng(5))
    c = init_params([4, 3, 2], "he", rng=6)
    assert all(np.array_equal(p["W"], q["W"]) for p, q in zip(a, b))
    assert not np.array_equal(a[0]["W"], c[0]["W"])


def test_init_errors():
    with pytest.raises(ValueError, match="Known: 'xavier'"):
        init_params([3, 2], "kaiming")
    with pytest.raises(ValueError, match=r"layer_sizes\[1\]"):
        init_params([3, 0], "he")
    with pytest.raises(ValueError, match="scale"):
        init_params([3, 2], "normal", scale=-1.0)
    with pytest.raises(TypeError, match="rng"):
        init_params([3, 2], "he", rng="seed")


# ---------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------
sizes_st = st.lists(st.integers(1, 6), min_size=2, max_size=5)


@settings(deadline=None, max_examples=40)
@given(sizes_st, st.integers(0, 5), st.sampled_from(["softmax_cross_entropy", "binary_cross_entropy", "squared_error"]),
       st.integers(0, 2**31 - 1))
def test_every_gradient_has_its_parameters_shape(sizes, N, loss, seed):
    rng = np.random.default_rng(seed)
    if loss == "binary_cross_entropy":
        sizes = sizes[:-1] + [1]
    params = init_params(sizes, "xavier", rng=rng)
    out = {"softmax_cross_entropy": "softmax", "binary_cross_entropy": "logistic"}.get(loss, "tanh")
    acts = ["tanh"] * (len(sizes) - 2) + [out]
    x = rng.normal(size=(sizes[0], N) if N else (sizes[0],))
    C = sizes[-1]
    y = rng.integers(0, 2 if loss == "binary_cross_entropy" else C, size=N if N else None)
    if loss == "squared_error":
        y = rng.normal(size=(C, N) if N else (C,))
    fp = forward(params, x, acts)
    assert isinstance(fp, ForwardPass) and len(fp.z) == len(fp.a) == len(sizes)
    bp = backward(params, fp, y, acts, loss, lam=0.1)
    assert isinstance(bp, BackwardPass) and len(bp.grads) == len(params)
    for l, (g, p) in enumerate(zip(bp.grads, params), start=1):
        assert g["W"].shape == p["W"].shape
        assert g["b"].shape == p["b"].shape
        assert bp.deltas[l].shape == fp.z[l].shape == ((sizes[l], N) if N else (sizes[l],))
    assert count_params(sizes) == sum(g["W"].size + g["b"].size for g in bp.grads)


@settings(deadline=None, max_examples=40)
@given(sizes_st, st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_bad_input_shapes_always_raise_helpfully(sizes, N, extra, seed):
    rng = np.random.default_rng(seed)
    params = init_params(sizes, "xavier", rng=rng)
    acts = ["relu"] * (len(sizes) - 1)
    M0 = sizes[0]
    # wrong number of input features
    with pytest.raises(ValueError, match=rf"expected \(M_0,\) = \({M0},\) .* \(M_0, N\) = \({M0}, N\)"):
        forward(params, rng.normal(size=(M0 + extra, N)), acts)
    # examples as rows instead of columns
    if N != M0:
        with pytest.raises(ValueError, match=r"transposed.*\.T\?"):
            forward(params, rng.normal(size=(N, M0)), acts)
    # three axes
    with pytest.raises(ValueError, match="one column per example"):
        forward(params, rng.normal(size=(M0, N, 2)), acts)
    # targets of the wrong shape
    fp = forward(params, rng.normal(size=(M0, N)), acts)
    with pytest.raises(ValueError, match=rf"expected \(C, N\) = \({sizes[-1]}, {N}\)"):
        backward(params, fp, rng.normal(size=(sizes[-1] + extra, N)), acts, "squared_error")
    # a bias with one entry per weight (a seed erratum)
    bad = copy_params(params)
    bad[0]["b"] = np.zeros_like(bad[0]["W"])
    with pytest.raises(ValueError, match=rf"b\^\(1\)\) has shape .*expected \(M_1,\) = \({sizes[1]},\)"):
        forward(bad, rng.normal(size=(M0, N)), acts)
    # activation list of the wrong length
    with pytest.raises(ValueError, match=rf"L = {len(sizes) - 1} layers"):
        forward(params, rng.normal(size=(M0, N)), acts + ["relu"])


def test_other_validation_messages():
    params = init_params([3, 4, 2], rng=0)
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"W\^\(2\)\) has shape \(2, 5\) but W\^\(1\) has shape \(4, 3\)"):
        forward([params[0], {"W": np.zeros((2, 5)), "b": np.zeros(2)}], x, ["relu", "softmax"])
    with pytest.raises(ValueError, match="looks transposed"):
        forward([params[0], {"W": np.zeros((4, 2)), "b": np.zeros(4)}], x, ["relu", "relu"])
    with pytest.raises(ValueError, match="softmax is only allowed on the output layer"):
        forward(params, x, ["softmax", "softmax"])
    with pytest.raises(ValueError, match="unknown activation 'sigmod' for layer 1. Known: 'logistic'"):
        forward(params, x, ["sigmod", "softmax"])
    with pytest.raises(TypeError, match="one per layer"):
        forward(params, x, "relu")
    with pytest.raises(TypeError, match="list of dicts"):
        forward({"W": params[0]["W"], "b": params[0]["b"]}, x, ["relu"])
    with pytest.raises(TypeError, match="keys 'W'"):
        forward([{"weights": 1}], x, ["relu"])
    with pytest.raises(ValueError, match="NaN"):
        forward(params, np.array([[np.nan, 0.0], [0.0, 0.0], [0.0, 0.0]]), ["relu", "softmax"])
    fp = forward(params, x, ["relu", "softmax"])
    with pytest.raises(ValueError, match="needs the output activation 'logistic'"):
        backward(params, fp, [0, 1], ["relu", "softmax"], "binary_cross_entropy")
    with pytest.raises(ValueError, match="only supported with the softmax_cross_entropy|elementwise output"):
        backward(params, fp, np.zeros((2, 2)), ["relu", "softmax"], "squared_error")
    fp_t = forward(params, x, ["relu", "tanh"])
    with pytest.raises(ValueError, match="needs the output activation 'softmax'"):
        backward(params, fp_t, [0, 1], ["relu", "tanh"], "softmax_cross_entropy")
    with pytest.raises(ValueError, match="out of range"):
        backward(params, fp, [0, 2], ["relu", "softmax"], "softmax_cross_entropy")
    with pytest.raises(ValueError, match="lam"):
        backward(params, fp, [0, 1], ["relu", "softmax"], "softmax_cross_entropy", lam=-1.0)
    with pytest.raises(ValueError, match="Known: 'softmax_cross_entropy'"):
        backward(params, fp, [0, 1], ["relu", "softmax"], "cross_entropy")
    other = forward(init_params([3, 5, 2], rng=0), x, ["relu", "softmax"])
    with pytest.raises(ValueError, match="ForwardPass computed with these params"):
        backward(params, other, [0, 1], ["relu", "softmax"], "softmax_cross_entropy")


def test_nothing_is_mutated():
    params, X, y, _ = _random_problem([3, 4, 2], "softmax_cross_entropy", 5, seed=9)
    before = copy_params(params)
    X0 = X.copy()
    acts = ["relu", "softmax"]
    fp = forward(params, X, acts)
    backward(params, fp, y, acts, "softmax_cross_entropy", lam=0.5)
    risk_and_grads(params, X, y, acts, "softmax_cross_entropy", lam=0.5)
    for p, q in zip(params, before):
        np.testing.assert_array_equal(p["W"], q["W"])
        np.testing.assert_array_equal(p["b"], q["b"])
    np.testing.assert_array_equal(X, X0)


def test_large_logits_stay_finite_without_warnings():
    # weights so large that z^(L) reaches about ±1e4
    params = [{"W": np.array([[1e4, 0.0], [-1e4, 0.0], [0.0, 1e4]]), "b": np.zeros(3)}]
    X = np.array([[1.0, -1.0], [0.5, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fp = forward(params, X, ["softmax"])
        bp = backward(params, fp, [1, 0], ["softmax"], "softmax_cross_entropy")
        R = risk(params, X, [1, 0], ["softmax"], "softmax_cross_entropy")
        fp1 = forward([{"W": params[0]["W"][:1], "b": np.zeros(1)}], X, ["logistic"])
        bp1 = backward([{"W": params[0]["W"][:1], "b": np.zeros(1)}], fp1, [0, 1], ["logistic"],
                       "binary_cross_entropy")
    # z for the two columns: [1e4, −1e4, 5e3] (label 1) and [−1e4, 1e4, 1e4] (label 0):
    # L_1 = 1e4 − (−1e4) = 2e4, L_2 = (1e4 + log 2) − (−1e4) = 2e4 + log 2
    assert np.isfinite(R) and R == pytest.approx(2e4 + np.log(2.0) / 2, rel=1e-15)
    assert all(np.all(np.isfinite(g["W"])) for g in bp.grads + bp1.grads)


def test_activation_parameters_are_passed_through():
    params = [{"W": np.array([[1.0]]), "b": np.zeros(1)}]
    fp = forward(params, np.array([[-2.0, 3.0]]), [("leaky_relu", {"gamma": 0.1})])
    np.testing.assert_allclose(fp.a[1], [[-0.2, 3.0]])


# ---------------------------------------------------------------------------
# the same targets and activation specs as Sequential
# ---------------------------------------------------------------------------
def test_binary_cross_entropy_takes_soft_targets_of_shape_N_as_sequential_does():
    """One logistic output: y of shape (N,) may hold probabilities, as in Sequential.fit; the gradient is
    that of the (1, N) targets, checked against autograd's."""
    from fnnlib.models import Dense, Sequential

    rng = np.random.default_rng(4)
    params = init_params([3, 4, 1], rng=rng)
    X, t = rng.normal(size=(3, 7)), rng.uniform(size=7)
    acts = ["tanh", "logistic"]
    fp = forward(params, X, acts)
    got = backward(params, fp, t, acts, "binary_cross_entropy").grads
    want = backward(params, fp, t[None, :], acts, "binary_cross_entropy").grads
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g["W"], w["W"])

    def R(W1, b1, W2, b2):
        z2 = W2 @ anp.tanh(W1 @ X + b1[:, None]) + b2[:, None]
        return anp.mean(anp.logaddexp(0.0, z2[0]) - t * z2[0])

    auto = autograd.grad(R, argnum=(0, 1, 2, 3))(params[0]["W"], params[0]["b"], params[1]["W"], params[1]["b"])
    np.testing.assert_allclose(got[0]["W"], auto[0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got[1]["b"], auto[3], rtol=1e-10, atol=1e-14)
    assert risk(params, X, t, acts, "binary_cross_entropy") == pytest.approx(float(R(*(
        params[0]["W"], params[0]["b"], params[1]["W"], params[1]["b"]))), rel=1e-12)
    # Sequential takes the same rows (its model on the same weights gives the same loss)
    model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(1, activation="logistic")])
    model.params = params
    model.compile(loss="binary_cross_entropy")
    assert model.evaluate(X.T, t)["loss"] == pytest.approx(risk(params, X, t, acts, "binary_cross_entropy"), rel=1e-12)
    # out of [0, 1]: the message names one output and [0, 1], not labels 0..C-1
    with pytest.raises(ValueError, match=r"one logistic output needs y in \[0, 1\].*got 1\.5 at index 2"):
        backward(params, fp, np.array([0, 1, 1.5, 0, 1, 0, 1]), acts, "binary_cross_entropy")


def test_activation_specs_are_checked_with_their_parameters():
    params = init_params([2, 3, 1], rng=0)
    x = np.array([0.5, -1.0])
    fp = forward(params, x, [("leaky_relu", {"gamma": 0.1}), "identity"])
    np.testing.assert_allclose(fp.a[1], np.where(fp.z[1] > 0, fp.z[1], 0.1 * fp.z[1]))
    with pytest.raises(ValueError, match=r"forward: activation 'leaky_relu' for layer 1 got the unknown parameter\(s\) 'alpha'; it takes 'gamma'"):
        forward(params, x, [("leaky_relu", {"alpha": 0.1}), "identity"])
    with pytest.raises(ValueError, match=r"activation 'relu' for layer 1 got the unknown parameter\(s\) 'gamma'; it takes no parameters"):
        forward(params, x, [("relu", {"gamma": 0.1}), "identity"])
    with pytest.raises(ValueError, match=r"activation 'elu' for layer 1 with parameters \{'gamma': 'x'\}"):
        forward(params, x, [("elu", {"gamma": "x"}), "identity"])
