"""Tests of fnnlib.models: the Keras-like Sequential API of Unit 8.

Sequential takes (N, D) rows and computes on the course's columns; the oracles
here are fnnlib.network (forward on X.T, backward for the gradients), plain
numpy re-implementations of the optimizer updates, and scikit-learn's digits.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits, make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from fnnlib import models
from fnnlib.models import SGD, Adam, Dense, History, Optimizer, Sequential, get_optimizer
from fnnlib.network import backward, forward
from fnnlib.params import count_params


def digits_model(**dense_kw) -> Sequential:
    return Sequential([Dense(64, activation="relu", input_dim=64, **dense_kw), Dense(10, activation="softmax")])


@pytest.fixture(scope="module")
def digits():
    """sklearn's digits, stratified 75/25 split, standardised with training statistics."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(300, noise=0.2, random_state=0)
    return X, y


# ---------------------------------------------------------------------------
# end to end
# ---------------------------------------------------------------------------
def test_digits_reaches_97_percent(digits):
    X_tr, y_tr, X_te, y_te = digits
    model = digits_model()
    model.compile(optimizer=Adam(lr=0.003), loss="softmax_cross_entropy", metrics=["accuracy"])
    history = model.fit(X_tr, y_tr, epochs=20, batch_size=32, validation_split=0.1, rng=0, verbose=False)
    result = model.evaluate(X_te, y_te)
    assert set(result) == {"loss", "accuracy"}
    assert result["accuracy"] >= 0.97, result
    assert np.mean(model.predict(X_te) == y_te) == result["accuracy"]
    assert isinstance(history, History)
    assert history.epoch == list(range(1, 21))
    for values in (history.train_loss, history.train_accuracy, history.val_loss, history.val_accuracy):
        assert len(values) == 20
    assert history.train_loss[-1] < history.train_loss[0] / 5
    assert history.best_epoch is not None and not history.stopped_early


def test_same_seed_same_history(moons):
    X, y = moons

    def run(seed):
        model = Sequential([Dense(8, activation="tanh", input_dim=2), Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"])
        h = model.fit(X, y, epochs=5, batch_size=16, validation_split=0.2, rng=seed, verbose=False)
        return h, model.get_weights()

    (h1, w1), (h2, w2), (h3, _) = run(7), run(7), run(8)
    assert h1 == h2  # dataclass equality: every per-epoch list
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert h1.train_loss != h3.train_loss


def test_binary_classifier_with_one_logistic_unit(moons):
    X, y = moons
    model = Sequential([Dense(16, activation="relu", input_dim=2), Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(lr=0.02), loss="binary_crossentropy", metrics=["acc"])
    model.fit(X, y, epochs=40, batch_size=32, rng=0, verbose=False)
    proba = model.predict_proba(X)
    assert proba.shape == (300, 2)  # [1 − p, p], as scikit-learn
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = model.predict(X)
    assert pred.shape == (300,) and set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (proba[:, 1] > 0.5).astype(int))
    assert model.evaluate(X, y)["accuracy"] > 0.9


def test_regression_with_mse_returns_outputs():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = np.sin(3 * X[:, 0])
    model = Sequential([Dense(32, activation="tanh", input_dim=1), Dense(1)])
    model.compile(optimizer=Adam(lr=0.01), loss="mse")
    model.build(rng=0)
    before = model.evaluate(X, y)
    model.fit(X, y, epochs=100, batch_size=32, rng=0, verbose=False)
    after = model.evaluate(X, y)
    assert set(after) == {"loss"}  # no metrics asked
    assert after["loss"] < before["loss"] / 10
    out = model.predict(X)
    assert out.shape == (200, 1)  # identity output: the raw outputs, one row per example
    # "mse" is the course's squared error ½ (ŷ − y)² per example
    assert after["loss"] == pytest.approx(0.5 * np.mean((out[:, 0] - y) ** 2), rel=1e-12)


# ---------------------------------------------------------------------------
# the boundary: rows outside, columns inside
# ---------------------------------------------------------------------------
def test_transposition_at_the_boundary():
    rng = np.random.default_rng(1)
    model = Sequential([Dense(5, activation="relu", input_dim=3), Dense(4, activation="softmax")]).build(rng=0)
    X = rng.normal(size=(7, 3))  # N = 7 rows, D = 3
    proba = model.predict_proba(X)
    assert proba.shape == (7, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    direct = forward(model.params, X.T, model.activations).a[-1]  # (C, N) in the course layout
    np.testing.assert_allclose(proba, direct.T, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(model.predict(X), direct.argmax(axis=0))
    assert model.params[0]["W"].shape == (5, 3)  # W^(1) is (M_1, M_0)


@settings(deadline=None, max_examples=25)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(2, 5), st.integers(1, 9), st.integers(0, 10**6))
def test_one_hot_rows_and_integer_labels_give_the_same_fit(D, M, C, N, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, size=N)
    Y = np.eye(C)[y]  # one-hot ROWS (N, C)
    hists, weights = [], []
    for labels, loss in ((y, "sparse_categorical_crossentropy"), (Y, "categorical_crossentropy")):
        model = Sequential([Dense(M, activation="tanh", input_dim=D), Dense(C, activation="softmax")])
        model.compile(optimizer=SGD(lr=0.1, momentum=0.5), loss=loss, metrics=["accuracy"])
        hists.append(model.fit(X, labels, epochs=2, batch_size=4, rng=seed, verbose=False))
        weights.append(model.get_weights())
    assert hists[0] == hists[1]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_gradients_come_from_network_backward():
    """One full-batch SGD step moves every parameter by −α (∂R/∂θ) from fnnlib.network.backward."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)
    model = Sequential([Dense(6, activation="tanh", input_dim=4), Dense(3, activation="softmax")]).build(rng=0)
    before = model.params
    lr, lam = 0.3, 0.05
    model.compile(optimizer=SGD(lr=lr), loss="softmax_cross_entropy", l2=lam)
    model.fit(X, y, epochs=1, batch_size=12, shuffle=False, verbose=False)
    acts = model.activations
    grads = backward(before, forward(before, X.T, acts), y, acts, "softmax_cross_entropy", lam=lam).grads
    for p0, g, p1 in zip(before, grads, model.params):
        np.testing.assert_allclose(p1["W"], p0["W"] - lr * g["W"], rtol=0, atol=1e-15)
        np.testing.assert_allclose(p1["b"], p0["b"] - lr * g["b"], rtol=0, atol=1e-15)


def test_fit_does_not_modify_its_arguments(moons):
    X, y = moons
    X0, y0 = X.copy(), y.copy()
    model = Sequential([Dense(4, activation="relu", input_dim=2), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="softmax_cross_entropy")
    model.fit(X, y, epochs=2, validation_split=0.2, rng=0, verbose=False)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


# ---------------------------------------------------------------------------
# optimizers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["momentum", "adam", SGD(lr=0.05, momentum=0.9), Adam(lr=0.01)])
def test_adam_and_momentum_reduce_the_loss(moons, optimizer):
    X, y = moons
    model = Sequential([Dense(10, activation="tanh", input_dim=2), Dense(2, activation="softmax")]).build(rng=0)
    model.compile(optimizer=optimizer, loss="softmax_cross_entropy", metrics=["accuracy"])
    start = model.evaluate(X, y)["loss"]
    history = model.fit(X, y, epochs=30, batch_size=16, rng=0, verbose=False)
    end = model.evaluate(X, y)["loss"]
    assert end < 0.6 * start, (start, end)
    assert history.train_loss[-1] < history.train_loss[0]


def test_adam_update_matches_the_paper():
    """Three steps of Adam against a direct transcription of Kingma & Ba (2015), Algorithm 1."""
    rng = np.random.default_rng(0)
    opt = Adam(lr=0.01, beta1=0.8, beta2=0.9, eps=1e-6)
    params = [{"W": rng.normal(size=(2, 3)), "b": rng.normal(size=2)}]
    state = opt.init_state(params)
    theta = np.concatenate([params[0]["W"].ravel(), params[0]["b"]])
    m = v = np.zeros_like(theta)
    for t in range(1, 4):
        g = rng.normal(size=theta.size)
        grads = [{"W": g[:6].reshape(2, 3), "b": g[6:]}]
        params_before = [{"W": params[0]["W"].copy(), "b": params[0]["b"].copy()}]
        params, state = opt.update(params, grads, state)
        np.testing.assert_array_equal(params_before[0]["W"], params_before[0]["W"])  # no mutation
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g**2
        theta = theta - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.9**t)) + 1e-6)
        got = np.concatenate([params[0]["W"].ravel(), params[0]["b"]])
        np.testing.assert_allclose(got, theta, rtol=1e-13, atol=1e-15)
    assert state["t"] == 3


def test_momentum_update_and_no_mutation():
    opt = SGD(lr=0.1, momentum=0.5)
    params = [{"W": np.array([[1.0, 2.0]]), "b": np.array([0.0])}]
    grads = [{"W": np.array([[1.0, -1.0]]), "b": np.array([2.0])}]
    state = opt.init_state(params)
    p1, s1 = opt.update(params, grads, state)
    p2, _ = opt.update(p1, grads, s1)
    # v1 = −0.1 g, θ1 = θ0 + v1;  v2 = 0.5 v1 − 0.1 g = −0.15 g, θ2 = θ1 + v2 = θ0 − 0.25 g
    np.testing.assert_allclose(p2[0]["W"], [[1.0 - 0.25, 2.0 + 0.25]])
    np.testing.assert_allclose(p2[0]["b"], [-0.5])
    np.testing.assert_array_equal(params[0]["W"], [[1.0, 2.0]])  # arguments untouched
    np.testing.assert_array_equal(state["velocity"][0]["W"], [[0.0, 0.0]])


def test_optimizer_names_and_learning_rate_alias():
    assert repr(get_optimizer("sgd")) == "SGD(learning_rate=0.01, momentum=0)"
    assert get_optimizer("adam").learning_rate == 0.001
    assert SGD(lr=0.2).learning_rate == 0.2 and SGD(0.2).learning_rate == 0.2
    assert SGD(learning_rate=0.2).lr == 0.2  # the alias reads too
    assert Adam(lr=0.01, learning_rate=0.01).learning_rate == 0.01  # both, with the same value
    with pytest.raises(TypeError, match=r"SGD: got learning_rate=0\.1 and lr=0\.2, two names for the same setting"):
        SGD(0.1, lr=0.2)
    with pytest.raises(ValueError, match=r"momentum must be a single number in \[0, 1\)"):
        SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        Adam(lr=-1.0)


def test_aliases_of_compile_and_fit_give_the_same_run(moons):
    """lam/l2, patience/early_stopping, progress/verbose: either name, the same run; both only when equal."""
    X, y = moons
    runs = []
    for compile_kw, fit_kw in [({"lam": 1e-3}, {"patience": 2, "progress": False}),
                               ({"l2": 1e-3}, {"early_stopping": 2, "verbose": False}),
                               ({"lam": 1e-3, "l2": 1e-3}, {"patience": 2, "early_stopping": 2, "verbose": False})]:
        model = Sequential([Dense(8, activation="tanh", input_dim=2), Dense(2, activation="softmax")])
        model.compile(optimizer=SGD(learning_rate=0.5), loss="softmax_cross_entropy", **compile_kw)
        h = model.fit(X, y, epochs=40, validation_split=0.2, rng=0, **fit_kw)
        runs.append((model.get_weights(), h.val_loss))
    for weights, val_loss in runs[1:]:
        assert val_loss == runs[0][1]
        for a, b in zip(weights, runs[0][0]):
            np.testing.assert_array_equal(a, b)
    model = Sequential([Dense(2, activation="softmax", input_dim=2)])
    with pytest.raises(TypeError, match=r"compile: got lam=0\.1 and l2=0\.2.*Pass only lam=0\.1 or only lam=0\.2"):
        model.compile(loss="softmax_cross_entropy", lam=0.1, l2=0.2)
    model.compile(loss="softmax_cross_entropy")
    with pytest.raises(TypeError, match="fit: got patience=3 and early_stopping=4"):
        model.fit(X, y, validation_split=0.2, patience=3, early_stopping=4, progress=False)
    with pytest.raises(TypeError, match="fit: got progress=True and verbose=False"):
        model.fit(X, y, progress=True, verbose=False)
    seen = []
    model.fit(X, y, epochs=2, progress=lambda epoch, h: seen.append((epoch, len(h.train_loss))))
    assert seen == [(1, 1), (2, 2)]


def _fit_batch_by_batch(model, X, y, epochs, batch_size, rng):
    """Sequential.fit's definition, spelled out with the public functions: per mini-batch,
    network.forward, network.risk's loss, network.backward and the optimizer's update."""
    from fnnlib import network as nw

    gen = np.random.default_rng(rng)
    params, acts, opt = model.params, model.activations, model._optimizer
    state = opt.init_state(params)
    loss = model._loss
    Y = np.eye(model.layer_sizes[-1])[:, y]
    losses = []
    for _ in range(epochs):
        perm = gen.permutation(len(y))
        total = 0.0
        for s in range(0, len(y), batch_size):
            idx = perm[s:s + batch_size]
            fp = nw.forward(params, X[idx].T, acts)
            total += nw.risk(params, X[idx].T, Y[:, idx], acts, loss) * idx.size
            grads = nw.backward(params, fp, Y[:, idx], acts, loss, lam=model._lam).grads
            params, state = opt.update(params, grads, state)
        losses.append(total / len(y))
    return params, losses


class _PlainSGD(Optimizer):
    """An optimizer of the user's own (no flat fast path): fit drives it through _update."""

    learning_rate = 0.1

    def _init_state(self, params):
        return {"steps": 0}

    def _update(self, params, grads, state):
        new = [{k: p[k] - self.learning_rate * g[k] for k in ("W", "b")} for p, g in zip(params, grads)]
        return new, {"steps": state["steps"] + 1}


@pytest.mark.parametrize("optimizer, batch_size, lam, hidden", [
    (SGD(learning_rate=0.1, momentum=0.9), 32, 0.0, "relu"),   # α/n_B folded into δ^(L)
    (SGD(learning_rate=0.1), 24, 1e-3, "relu"),                 # weight decay, a short last mini-batch
    (Adam(learning_rate=0.01), 16, 0.0, "tanh"),                # a table activation (no fast kernel)
    (Adam(learning_rate=0.01), 20, 1e-2, ("leaky_relu", {"gamma": 0.1})),
    (_PlainSGD(), 50, 1e-3, "relu"),
])
def test_fit_equals_the_batch_by_batch_definition(moons, optimizer, batch_size, lam, hidden):
    """fit's preallocated loop ([W | b] blocks of one flat vector, the scale folded into δ^(L)) computes what
    forward/backward/update compute batch by batch, up to rounding; the same decisions (accuracies)."""
    X, y = moons
    model = Sequential([Dense(16, activation=hidden, input_dim=2), Dense(8, activation="relu"),
                        Dense(2, activation="softmax")]).build(rng=3)
    model.compile(optimizer=optimizer, loss="softmax_cross_entropy", lam=lam)
    want_params, want_losses = _fit_batch_by_batch(model, X, y, 3, batch_size, rng=5)
    h = model.fit(X, y, epochs=3, batch_size=batch_size, rng=5, progress=False)
    np.testing.assert_allclose(h.train_loss, want_losses, rtol=1e-12)
    for got, want in zip(model.params, want_params):
        np.testing.assert_allclose(got["W"], want["W"], rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(got["b"], want["b"], rtol=1e-11, atol=1e-13)


# ---------------------------------------------------------------------------
# validation, early stopping, continuing
# ---------------------------------------------------------------------------
def test_early_stopping_restores_the_best_weights():
    X, y = make_moons(60, noise=0.35, random_state=0)
    Xv, yv = make_moons(200, noise=0.35, random_state=1)
    model = Sequential([Dense(64, activation="relu", input_dim=2), Dense(64, activation="relu"),
                        Dense(2, activation="softmax")])
    model.compile(optimizer=Adam(lr=0.01), loss="softmax_cross_entropy", metrics=["accuracy"])
    h = model.fit(X, y, epochs=300, batch_size=16, validation_data=(Xv, yv), early_stopping=5, rng=0,
                  verbose=False)
    assert h.stopped_early and len(h.epoch) < 300
    assert len(h.epoch) == h.best_epoch + 5
    assert model.evaluate(Xv, yv)["loss"] == pytest.approx(min(h.val_loss), rel=1e-12)


def test_second_fit_continues(moons):
    X, y = moons
    model = Sequential([Dense(8, activation="tanh", input_dim=2), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="softmax_cross_entropy")
    h1 = model.fit(X, y, epochs=3, rng=0, verbose=False)
    h2 = model.fit(X, y, epochs=3, rng=1, verbose=False)
    assert h2.train_loss[0] < h1.train_loss[0]


# ---------------------------------------------------------------------------
# summary and weights
# ---------------------------------------------------------------------------
def test_summary_lists_parameter_counts(capsys):
    model = digits_model()
    text = model.summary()
    assert capsys.readouterr().out == ""  # the library does not print
    assert count_params([64, 64, 10]) == 4810
    lines = text.splitlines()
    assert lines[-2].split()[-1] == "4810"  # the total row
    layer1 = next(line for line in lines if line.startswith("1 "))
    layer2 = next(line for line in lines if line.startswith("2 "))
    assert layer1.split()[-3:] == ["4096", "64", "4160"] and "(N, 64)" in layer1
    assert layer2.split()[-3:] == ["640", "10", "650"] and "(N, 10)" in layer2 and "softmax" in layer2


def test_get_and_set_weights_round_trip():
    model = digits_model().build(rng=0)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(64, 64), (64,), (10, 64), (10,)]
    weights[0][...] = 0.0  # a copy: the model is unchanged
    assert np.any(model.get_weights()[0] != 0.0)
    other = digits_model()
    other.set_weights(weights)
    np.testing.assert_array_equal(other.params[0]["W"], 0.0)
    with pytest.raises(ValueError, match=r"W\^\(2\) has shape \(64, 10\).*transpose of a Keras kernel"):
        other.set_weights([weights[0], weights[1], weights[2].T, weights[3]])
    with pytest.raises(ValueError, match=r"expected 2L = 4 arrays"):
        other.set_weights(weights[:2])


def test_params_setter_and_add():
    model = Sequential()
    model.add(Dense(3, activation="relu", input_dim=2))
    model.add(Dense(1, activation="logistic"))
    assert model.layer_sizes == [2, 3, 1]
    assert model.activations == ["relu", "logistic"]
    params = [{"W": np.ones((3, 2)), "b": np.zeros(3)}, {"W": np.ones((1, 3)), "b": np.zeros(1)}]
    model.params = params
    assert model.built
    with pytest.raises(RuntimeError, match="already has weights"):
        model.add(Dense(2))
    with pytest.raises(ValueError, match=r"params: b\^\(1\) has shape \(1, 3\); expected \(M_1,\) = \(3,\)"):
        model.params = [{"W": np.ones((3, 2)), "b": np.zeros((1, 3))}, params[1]]
    with pytest.raises(TypeError, match="list of dicts"):
        model.params = {"W": np.ones((3, 2))}


# ---------------------------------------------------------------------------
# output streams
# ---------------------------------------------------------------------------
def _fit_three_epochs(X, y, *, verbose: bool) -> None:
    model = Sequential([Dense(4, activation="relu", input_dim=2), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"])
    model.fit(X, y, epochs=3, validation_split=0.1, rng=0, verbose=verbose)


def test_fit_verbose_false_writes_nothing(capsys, moons):
    X, y = moons
    _fit_three_epochs(X, y, verbose=False)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_fit_progress_bar_goes_to_stdout_never_stderr(capsys, moons):
    X, y = moons
    _fit_three_epochs(X, y, verbose=True)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "epochs" in captured.out and "val_accuracy" in captured.out


def test_fit_progress_bar_stays_text_when_a_kernel_module_is_imported(capsys, moons):
    """Importing ipykernel's shell module (as tests/test_kernelspec.py does) must not turn the bar into
    a notebook widget outside a kernel: tqdm.auto did, and printed only the widget's 0 % line."""
    import importlib

    from fnnlib._progress import in_jupyter_kernel

    pytest.importorskip("ipykernel")
    importlib.import_module("ipykernel.zmqshell")
    assert not in_jupyter_kernel()
    X, y = moons
    _fit_three_epochs(X, y, verbose=True)
    captured = capsys.readouterr()
    assert captured.err == ""
    last = captured.out.replace("\r", "\n").strip().splitlines()[-1]
    assert "3/3" in last and "val_accuracy" in last, captured.out


# ---------------------------------------------------------------------------
# clear errors
# ---------------------------------------------------------------------------
@pytest.fixture()
def compiled():
    model = digits_model()
    model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"])
    return model


def test_wrong_feature_count_points_at_the_layout(compiled):
    X = np.zeros((64, 100))  # the course layout (D, N) by mistake
    with pytest.raises(ValueError, match=r"expected \(N, 64\) with one ROW per example, got \(64, 100\): did "
                                         r"you pass the course-layout \(D, N\) array\? Sequential takes rows; "
                                         r"use X\.T"):
        compiled.fit(X, np.zeros(100, dtype=int), verbose=False)
    with pytest.raises(ValueError, match=r"has shape \(100, 63\); expected \(N, 64\).*input_dim"):
        compiled.fit(np.zeros((100, 63)), np.zeros(100, dtype=int), verbose=False)
    with pytest.raises(ValueError, match=r"one example of shape \(64,\): use x\[None, :\]"):
        compiled.build(rng=0).predict(np.zeros(64))


def test_labels_out_of_range(compiled):
    X = np.zeros((5, 64))
    with pytest.raises(ValueError, match=r"labels out of range: y holds labels 0\.\.11 but the last layer has "
                                         r"C = 10 units \(classes 0\.\.9\)"):
        compiled.fit(X, np.array([0, 1, 2, 3, 11]), verbose=False)
    with pytest.raises(ValueError, match="labels out of range"):
        compiled.fit(X, np.array([0, -1, 2, 3, 4]), verbose=False)
    with pytest.raises(ValueError, match=r"integer class labels 0\.\.9; y\[1\] = 1\.5"):
        compiled.fit(X, np.array([0, 1.5, 2, 3, 4]), verbose=False)
    with pytest.raises(ValueError, match=r"y has 4 entries but X has N = 5 rows"):
        compiled.fit(X, np.array([0, 1, 2, 3]), verbose=False)
    with pytest.raises(ValueError, match=r"y has shape \(10, 5\).*looks transposed.*use y\.T"):
        compiled.fit(X, np.eye(10)[[0, 1, 2, 3, 4]].T, verbose=False)


def test_nan_in_X(compiled):
    X = np.zeros((5, 64))
    X[2, 7] = np.nan
    with pytest.raises(ValueError, match=r"fit: X contains 1 NaN or infinite value \(first at index \(2, 7\)\)"):
        compiled.fit(X, np.arange(5), verbose=False)


def test_fit_before_compile_and_predict_before_build():
    model = digits_model()
    with pytest.raises(RuntimeError, match=r"fit: the model is not compiled; call model\.compile\("):
        model.fit(np.zeros((5, 64)), np.arange(5), verbose=False)
    with pytest.raises(RuntimeError, match="predict: the model has no weights yet"):
        model.predict(np.zeros((5, 64)))
    with pytest.raises(RuntimeError, match="evaluate: the model is not compiled"):
        model.evaluate(np.zeros((5, 64)), np.arange(5))


def test_unknown_optimizer_and_loss_list_the_known_ones():
    model = digits_model()
    with pytest.raises(ValueError, match=r"unknown optimizer 'rmsprop'\. Known: 'sgd', 'momentum', 'adam'"):
        model.compile(optimizer="rmsprop", loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'\. Known: 'softmax_cross_entropy', .*'mse'"):
        model.compile(optimizer="adam", loss="hinge")
    with pytest.raises(ValueError, match="loss is required"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"unknown metric 'f1'"):
        model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["f1"])
    with pytest.raises(ValueError, match=r"needs a 'softmax' last layer.*Use loss='squared_error'"):
        Sequential([Dense(3, activation="relu", input_dim=2)]).compile(loss="categorical_crossentropy")


def test_dense_takes_the_activation_specs_of_network_forward(moons):
    """("leaky_relu", {"gamma": 0.1}) works in Dense as in network.forward: same outputs, a summary label."""
    from fnnlib.network import forward

    spec = ("leaky_relu", {"gamma": 0.1})
    model = Sequential([Dense(5, activation=spec, input_dim=2), Dense(2, activation="softmax")]).build(rng=0)
    assert model.activations == [spec, "softmax"]
    assert model.layers[0].activation_name == "leaky_relu"
    X, _ = moons
    np.testing.assert_array_equal(model.predict_proba(X[:7]), forward(model.params, X[:7].T, [spec, "softmax"]).a[-1].T)
    assert "leaky_relu(gamma=0.1)" in model.summary()
    with pytest.raises(ValueError, match=r"Dense: activation 'leaky_relu' got the unknown parameter\(s\) 'alpha'"):
        Dense(3, activation=("leaky_relu", {"alpha": 0.1}))
    with pytest.raises(ValueError, match=r"Dense: softmax takes no parameters"):
        Dense(3, activation=("softmax", {"beta": 1.0}))


def test_softmax_only_on_the_last_layer():
    with pytest.raises(ValueError, match=r"layer 1 has activation 'softmax', which is only allowed on the last"):
        Sequential([Dense(10, activation="softmax", input_dim=64), Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match="the first layer needs input_dim"):
        Sequential([Dense(10, activation="relu")])
    with pytest.raises(ValueError, match=r"layer 2 has input_dim=5 but layer 1 has 10 units"):
        Sequential([Dense(10, activation="relu", input_dim=3), Dense(2, input_dim=5)])
    with pytest.raises(ValueError, match=r"Dense: unknown activation 'rleu'\. Known: .*'softmax'"):
        Dense(10, activation="rleu")


def test_other_fit_arguments_are_checked(compiled):
    X, y = np.zeros((10, 64)), np.arange(10)
    with pytest.raises(ValueError, match="validation_data or validation_split, not both"):
        compiled.fit(X, y, validation_data=(X, y), validation_split=0.2, verbose=False)
    with pytest.raises(ValueError, match=r"early_stopping=3 \(early stopping\) watches the validation loss"):
        compiled.fit(X, y, early_stopping=3, verbose=False)
    with pytest.raises(ValueError, match=r"validation_split must be a single number in \[0, 1\)"):
        compiled.fit(X, y, validation_split=1.0, verbose=False)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        compiled.fit(X, y, epochs=0, verbose=False)
    with pytest.raises(TypeError, match="verbose must be True or False"):
        compiled.fit(X, y, verbose="yes")
    with pytest.raises(ValueError, match=r"X_val \(validation_data\[0\]\) has shape \(64, 10\).*use X\.T"):
        compiled.fit(X, y, validation_data=(X.T, y), verbose=False)


def test_predict_proba_needs_probabilities():
    model = Sequential([Dense(2, input_dim=2)]).build(rng=0)
    with pytest.raises(ValueError, match="outputs are not probabilities"):
        model.predict_proba(np.zeros((3, 2)))


def test_divergence_raises_floating_point_error():
    X = np.array([[1e3, -1e3], [-1e3, 1e3]] * 5)
    y = np.array([0.0, 1.0] * 5) * 1e3
    model = Sequential([Dense(4, activation="relu", input_dim=2), Dense(1)])
    model.compile(optimizer=SGD(lr=10.0), loss="mse")
    with pytest.raises(FloatingPointError, match="diverged"):
        model.fit(X, y, epochs=50, rng=0, verbose=False)


def test_module_exports():
    assert set(models.__all__) == {
        "LOSS_ALIASES", "OPTIMIZERS", "METRICS", "Optimizer", "SGD", "Adam", "get_optimizer", "Dense",
        "Sequential", "History",
    }
    assert models.LOSS_ALIASES["sparse_categorical_crossentropy"] == "softmax_cross_entropy"
    assert models.LOSS_ALIASES["mse"] == "squared_error"
    with pytest.raises(TypeError):
        models.LOSS_ALIASES["new"] = "x"  # read-only


def test_fit_progress_widget_stores_the_finished_bar_in_the_notebook():
    """In a kernel the bar is a widget; its stored output (what a notebook shows without a kernel:
    the website, nbval, a viewer) must end as the finished bar with its metrics, not the 0 % frame."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from sklearn.datasets import make_moons\n"
        "from fnnlib.models import Dense, Sequential\n"
        "X, y = make_moons(60, noise=0.2, random_state=0)\n"
        "m = Sequential([Dense(4, activation='tanh', input_dim=2), Dense(1, activation='sigmoid')])\n"
        "m.compile(optimizer='adam', loss='binary_crossentropy')\n"
        "h = m.fit(X, y, epochs=3, batch_size=20, rng=1, progress=True)")]
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    data = [o["data"] for o in nb.cells[0].outputs if o.get("output_type") == "display_data"]
    assert len(data) == 1, nb.cells[0].outputs
    assert "application/vnd.jupyter.widget-view+json" in data[0]
    assert "3/3" in data[0]["text/plain"] and "100%" in data[0]["text/plain"], data[0]["text/plain"]
    assert "loss" in data[0]["text/plain"], "the bar's metrics are not in its stored text"
    assert "3/3" in data[0]["text/html"]
