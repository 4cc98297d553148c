"""Tests for fnnlib.train: the SGD algorithm of Unit 5 (nndl Algorithm 4.1)."""

import numpy as np
import pytest

from fnnlib.losses import one_hot
from fnnlib.network import backward, copy_params, forward, init_params, predict, risk
from fnnlib.train import History, evaluate, train

XOR_X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])  # one column per example
XOR_y = np.array([0, 1, 1, 0])


def _grads(params, X, y, acts, loss, lam):
    return backward(params, forward(params, X, acts), y, acts, loss, lam=lam).grads


def _assert_params_close(p, q, rtol=1e-12, atol=1e-14):
    for a, b in zip(p, q):
        np.testing.assert_allclose(a["W"], b["W"], rtol=rtol, atol=atol)
        np.testing.assert_allclose(a["b"], b["b"], rtol=rtol, atol=atol)


def _problem(sizes, loss, N, seed):
    rng = np.random.default_rng(seed)
    params = init_params(sizes, "xavier", rng=rng)
    for p in params:
        p["b"] = rng.normal(scale=0.3, size=p["b"].shape)
    X = rng.normal(size=(sizes[0], N))
    if loss == "squared_error":
        y = rng.normal(size=(sizes[-1], N))
    else:
        y = rng.integers(0, 2 if sizes[-1] == 1 else sizes[-1], size=N)
    return params, X, y


CONFIGS = [
    ([3, 5, 4], ["relu", "softmax"], "softmax_cross_entropy"),
    ([3, 4, 4, 1], ["tanh", "logistic", "logistic"], "binary_cross_entropy"),
    ([2, 5, 3, 2], ["swish", "identity", "tanh"], "squared_error"),
    ([4, 3], ["softmax"], "softmax_cross_entropy"),
    ([3, 4, 2], [("leaky_relu", {"gamma": 0.2}), "elu"], "squared_error"),
]


# ---------------------------------------------------------------------------
# the updates are exactly those of the algorithm
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("sizes, acts, loss", CONFIGS)
def test_one_full_batch_step_is_gradient_descent_on_the_risk(sizes, acts, loss):
    params, X, y = _problem(sizes, loss, 7, seed=1)
    g = _grads(params, X, y, acts, loss, lam=0.2)
    new, hist = train(params, X, y, acts, loss, learning_rate=0.3, epochs=1, batch_size=7, lam=0.2, rng=0)
    expected = [{"W": p["W"] - 0.3 * d["W"], "b": p["b"] - 0.3 * d["b"]} for p, d in zip(params, g)]
    _assert_params_close(new, expected)
    # the recorded training loss is the data loss before the update (no penalty term)
    assert hist.train_loss[0] == pytest.approx(risk(params, X, y, acts, loss), rel=1e-12)


@pytest.mark.parametrize("sizes, acts, loss", CONFIGS[:3])
def test_mini_batches_in_order_match_manual_loop(sizes, acts, loss):
    # N = 7, B = 3: batches of 3, 3 and a last one of 1, each one update; two epochs, no shuffle
    params, X, y = _problem(sizes, loss, 7, seed=2)
    new, _ = train(params, X, y, acts, loss, learning_rate=0.2, epochs=2, batch_size=3, lam=0.05,
                   shuffle=False)
    manual = copy_params(params)
    for _ in range(2):
        for s in range(0, 7, 3):
            cols = slice(s, s + 3)
            yb = y[..., cols]
            g = _grads(manual, X[:, cols], yb, acts, loss, lam=0.05)
            manual = [{"W": p["W"] - 0.2 * d["W"], "b": p["b"] - 0.2 * d["b"]} for p, d in zip(manual, g)]
    _assert_params_close(new, manual)


def test_per_example_sgd_with_shuffle_matches_manual_loop():
    # batch_size=1 is the lecture's per-example SGD; the shuffle is rng.permutation(N) each epoch
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 5, seed=3)
    new, _ = train(params, X, y, acts, loss, learning_rate=0.1, epochs=3, batch_size=1, rng=42)
    rng = np.random.default_rng(42)
    manual = copy_params(params)
    for _ in range(3):
        for n in rng.permutation(5):
            g = _grads(manual, X[:, n], y[n], acts, loss, lam=0.0)
            manual = [{"W": p["W"] - 0.1 * d["W"], "b": p["b"] - 0.1 * d["b"]} for p, d in zip(manual, g)]
    _assert_params_close(new, manual)


def test_classical_momentum():
    # v ← μ v − α g,  θ ← θ + v,  v starts at 0; full batch so the order does not matter
    sizes, acts, loss = CONFIGS[1]
    params, X, y = _problem(sizes, loss, 6, seed=4)
    alpha, mu = 0.4, 0.9
    new, _ = train(params, X, y, acts, loss, learning_rate=alpha, epochs=3, batch_size=6, momentum=mu,
                   lam=0.1, shuffle=False)
    theta = copy_params(params)
    v = [{"W": np.zeros_like(p["W"]), "b": np.zeros_like(p["b"])} for p in params]
    for _ in range(3):
        g = _grads(theta, X, y, acts, loss, lam=0.1)
        v = [{k: mu * vl[k] - alpha * gl[k] for k in "Wb"} for vl, gl in zip(v, g)]
        theta = [{k: tl[k] + vl[k] for k in "Wb"} for tl, vl in zip(theta, v)]
    _assert_params_close(new, theta)
    plain, _ = train(params, X, y, acts, loss, learning_rate=alpha, epochs=3, batch_size=6, lam=0.1,
                     shuffle=False)
    assert not np.allclose(plain[0]["W"], new[0]["W"])


# ---------------------------------------------------------------------------
# XOR
# ---------------------------------------------------------------------------
def test_xor_softmax_reaches_100_percent():
    acts = ["tanh", "softmax"]
    p0 = init_params([2, 4, 2], "xavier", rng=0)
    p, hist = train(p0, XOR_X, XOR_y, acts, "softmax_cross_entropy", learning_rate=0.5, epochs=400, rng=0)
    np.testing.assert_array_equal(predict(p, XOR_X, acts).argmax(axis=0), XOR_y)
    assert hist.train_accuracy[-1] == 1.0
    assert hist.train_loss[-1] < 0.1 < hist.train_loss[0]
    assert evaluate(p, XOR_X, XOR_y, acts, "softmax_cross_entropy")[1] == 1.0


def test_xor_relu_logistic_minibatch_momentum():
    acts = ["relu", "logistic"]
    p0 = init_params([2, 8, 1], "he", rng=3)
    p, hist = train(p0, XOR_X, one_hot(XOR_y, 2)[1:], acts, "binary_cross_entropy", learning_rate=0.1,
                    epochs=300, batch_size=2, momentum=0.9, rng=3)
    np.testing.assert_array_equal((predict(p, XOR_X, acts)[0] > 0.5).astype(int), XOR_y)
    assert hist.train_accuracy[-1] == 1.0


# ---------------------------------------------------------------------------
# early stopping
# ---------------------------------------------------------------------------
def _digits_like(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4, 60))
    y = (X[0] + X[1] > 0).astype(int)
    return X, y


def test_aliases_shared_with_sequential_give_the_same_run(capsys):
    """lr, l2, early_stopping and verbose are Sequential's names for learning_rate, lam, patience, progress."""
    X, y = _digits_like(0)
    X_val, y_val = X[:, :30], 1 - y[:30]
    acts = ["tanh", "softmax"]
    p0 = init_params([4, 6, 2], "xavier", rng=1)
    common = dict(epochs=40, batch_size=10, X_val=X_val, y_val=y_val, rng=7)
    p_a, h_a = train(p0, X, y, acts, "softmax_cross_entropy", learning_rate=0.05, lam=1e-3, patience=5,
                     progress=False, **common)
    p_b, h_b = train(p0, X, y, acts, "softmax_cross_entropy", lr=0.05, l2=1e-3, early_stopping=5, verbose=False,
                     **common)
    _assert_params_close(p_a, p_b, rtol=0, atol=0)
    assert h_a.train_loss == h_b.train_loss and h_a.stopped_early
    common_pair = {k: v for k, v in common.items() if k not in ("X_val", "y_val")}
    p_c, h_c = train(p0, X, y, acts, "softmax_cross_entropy", learning_rate=0.05, lam=1e-3, patience=5,
                     validation_data=(X_val, y_val), **common_pair)
    _assert_params_close(p_a, p_c, rtol=0, atol=0)
    assert h_c.val_loss == h_a.val_loss
    with pytest.raises(TypeError, match="give the validation set once"):
        train(p0, X, y, acts, "softmax_cross_entropy", X_val=X_val, y_val=y_val, validation_data=(X_val, y_val))
    with pytest.raises(TypeError, match=r"train: got learning_rate=0\.05 and lr=0\.1, two names for the same setting"):
        train(p0, X, y, acts, "softmax_cross_entropy", learning_rate=0.05, lr=0.1)
    with pytest.raises(TypeError, match=r"train: got lam=0\.0 and l2=0\.1"):
        train(p0, X, y, acts, "softmax_cross_entropy", lam=0.0, l2=0.1)
    train(p0, X, y, acts, "softmax_cross_entropy", epochs=1, verbose=True)  # the Keras name shows the bar
    assert "1/1" in capsys.readouterr().out


def test_early_stopping_restores_best_epoch():
    X, y = _digits_like(0)
    # a validation set whose labels are the opposite of the rule: it gets worse as training improves
    X_val, y_val = X[:, :30], 1 - y[:30]
    acts = ["tanh", "softmax"]
    p0 = init_params([4, 6, 2], "xavier", rng=1)
    kwargs = dict(learning_rate=0.05, batch_size=10, rng=7)
    p, hist = train(p0, X, y, acts, "softmax_cross_entropy", epochs=200, X_val=X_val, y_val=y_val,
                    patience=5, **kwargs)
    assert hist.stopped_early
    best = hist.best_epoch
    assert len(hist.epoch) == best + 5
    assert hist.val_error[best - 1] == min(hist.val_error)
    assert all(e >= hist.val_error[best - 1] for e in hist.val_error[best:])
    # the returned parameters are those reached after epoch `best`: rerun to that epoch
    p_best, h_best = train(p0, X, y, acts, "softmax_cross_entropy", epochs=best, **kwargs)
    _assert_params_close(p, p_best, rtol=0, atol=0)
    assert h_best.train_loss == hist.train_loss[:best]
    v_loss, v_acc = evaluate(p, X_val, y_val, acts, "softmax_cross_entropy")
    assert v_acc == pytest.approx(hist.val_accuracy[best - 1], abs=1e-15)
    assert v_loss == pytest.approx(hist.val_loss[best - 1], rel=1e-12)


def test_a_tie_is_not_an_improvement():
    # every validation column is the same input, half labelled 0 and half 1: the validation
    # error is 0.5 whatever the weights, so epoch 1 stays the best and training stops at 1 + patience
    X, y = _digits_like(2)
    X_val, y_val = np.zeros((4, 6)), np.array([0, 1, 0, 1, 0, 1])
    p0 = init_params([4, 3, 2], "xavier", rng=0)
    p, hist = train(p0, X, y, ["tanh", "softmax"], "softmax_cross_entropy", learning_rate=0.1, epochs=50,
                    batch_size=10, X_val=X_val, y_val=y_val, patience=3, rng=0)
    assert hist.val_error == [0.5] * 4
    assert hist.best_epoch == 1 and hist.stopped_early
    p1, _ = train(p0, X, y, ["tanh", "softmax"], "softmax_cross_entropy", learning_rate=0.1, epochs=1,
                  batch_size=10, rng=0)
    _assert_params_close(p, p1, rtol=0, atol=0)


def test_monitor_val_loss_and_no_patience():
    X, y = _digits_like(1)
    acts = ["relu", "softmax"]
    p0 = init_params([4, 5, 2], "he", rng=2)
    p, hist = train(p0, X, y, acts, "softmax_cross_entropy", learning_rate=0.05, epochs=15, batch_size=8,
                    X_val=X[:, :20], y_val=y[:20], monitor="val_loss", rng=0)
    assert len(hist.val_loss) == len(hist.val_accuracy) == 15
    assert hist.best_epoch == int(np.argmin(hist.val_loss)) + 1
    assert not hist.stopped_early
    # without patience the final parameters come back, not the best ones
    p_last, _ = train(p0, X, y, acts, "softmax_cross_entropy", learning_rate=0.05, epochs=15, batch_size=8,
                      rng=0)
    _assert_params_close(p, p_last, rtol=0, atol=0)


# ---------------------------------------------------------------------------
# bookkeeping
# ---------------------------------------------------------------------------
def test_params_not_mutated_and_result_independent():
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 9, seed=5)
    before = copy_params(params)
    X0, y0 = X.copy(), y.copy()
    p, _ = train(params, X, y, acts, loss, epochs=3, batch_size=4, momentum=0.5, lam=0.1, rng=0)
    _assert_params_close(params, before, rtol=0, atol=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    assert not np.shares_memory(p[0]["W"], p[0]["b"])
    assert p[0]["W"].flags.c_contiguous


def test_deterministic_for_a_seed():
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 20, seed=6)
    runs = [train(params, X, y, acts, loss, epochs=4, batch_size=3, X_val=X, y_val=y, rng=s) for s in (8, 8, 9)]
    (p1, h1), (p2, h2), (p3, h3) = runs
    assert h1 == h2
    _assert_params_close(p1, p2, rtol=0, atol=0)
    assert h1.train_loss != h3.train_loss


def test_history_contents():
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 10, seed=7)
    _, hist = train(params, X, y, acts, loss, epochs=3, batch_size=10, rng=0)
    assert isinstance(hist, History)
    assert hist.epoch == [1, 2, 3]
    assert len(hist.train_loss) == len(hist.train_accuracy) == 3
    assert hist.val_loss == hist.val_accuracy == [] and hist.best_epoch is None
    # full batch: the first epoch's accuracy is that of the initial parameters
    assert hist.train_accuracy[0] == evaluate(params, X, y, acts, loss)[1]
    assert all(0.0 <= a <= 1.0 for a in hist.train_accuracy)


@pytest.mark.parametrize("sizes, acts, loss", CONFIGS[:3])
def test_running_metrics_cover_every_mini_batch(sizes, acts, loss):
    # with a vanishing learning rate the weights do not move, so the running loss and accuracy
    # of an epoch (N = 11, B = 4: batches of 4, 4 and 3) equal those of the initial network
    params, X, y = _problem(sizes, loss, 11, seed=13)
    if loss == "squared_error":
        y = np.eye(sizes[-1])[:, np.arange(11) % sizes[-1]]  # 0/1 targets, so accuracy means something
    _, hist = train(params, X, y, acts, loss, learning_rate=1e-12, epochs=2, batch_size=4, rng=0)
    R, acc = evaluate(params, X, y, acts, loss)
    assert 0.0 < acc < 1.0
    for e in range(2):
        assert hist.train_loss[e] == pytest.approx(R, rel=1e-9)
        assert hist.train_accuracy[e] == acc


def test_one_hot_targets_equal_labels():
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 12, seed=8)
    a = train(params, X, y, acts, loss, epochs=2, batch_size=5, rng=1)
    b = train(params, X, one_hot(y, 4), acts, loss, epochs=2, batch_size=5, rng=1)
    _assert_params_close(a[0], b[0], rtol=0, atol=0)
    assert a[1] == b[1]


def test_soft_targets_use_the_general_loss():
    sizes, acts, loss = CONFIGS[0]
    params, X, _ = _problem(sizes, loss, 6, seed=9)
    Y = np.full((4, 6), 0.25)
    _, hist = train(params, X, Y, acts, loss, epochs=1, batch_size=6, rng=0)
    assert hist.train_loss[0] == pytest.approx(risk(params, X, Y, acts, loss), rel=1e-12)


def test_progress_callback_and_bar(capsys):
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 6, seed=10)
    seen = []
    train(params, X, y, acts, loss, epochs=3, progress=lambda e, h: seen.append((e, len(h.train_loss))), rng=0)
    assert seen == [(1, 1), (2, 2), (3, 3)]
    train(params, X, y, acts, loss, epochs=2, rng=0)
    assert capsys.readouterr() == ("", "")  # silent by default
    train(params, X, y, acts, loss, epochs=2, progress=True, rng=0)
    captured = capsys.readouterr()
    assert captured.err == ""  # nbgrader scores a cell 0 if anything reaches stderr
    assert "2/2" in captured.out.replace("\r", "\n").strip().splitlines()[-1]


@pytest.mark.parametrize("hidden", [[], ["relu"], ["swish"]])  # fast kernels and a table activation
def test_divergence_is_reported(hidden):
    params = [{"W": np.array([[1.0, 1.0], [0.5, 0.2]]), "b": np.zeros(2)}] if hidden else []
    params = params + [{"W": np.array([[1.0, 1.0]]), "b": np.zeros(1)}]
    X = np.array([[1e3, -2e3, 3e3], [2e3, 1e3, -1e3]])
    with pytest.raises(FloatingPointError, match="diverged. Lower learning_rate"):
        train(params, X, np.array([[1.0, 2.0, 3.0]]), hidden + ["identity"], "squared_error",
              learning_rate=10.0, epochs=50, rng=0)


def test_errors():
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 6, seed=11)
    with pytest.raises(ValueError, match="transposed"):
        train(params, X.T, y, acts, loss)
    with pytest.raises(ValueError, match=r"batch of shape \(M_0, N\)"):
        train(params, X[:, 0], y[0], acts, loss)
    with pytest.raises(ValueError, match="out of range"):
        train(params, X, y + 4, acts, loss)
    with pytest.raises(ValueError, match="needs a validation set"):
        train(params, X, y, acts, loss, patience=3)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        train(params, X, y, acts, loss, X_val=X)
    with pytest.raises(ValueError, match=r"y_val has shape"):
        train(params, X, y, acts, loss, X_val=X, y_val=y[:3])
    with pytest.raises(ValueError, match="learning_rate must be a single number > 0"):
        train(params, X, y, acts, loss, learning_rate=0.0)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        train(params, X, y, acts, loss, momentum=1.0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        train(params, X, y, acts, loss, batch_size=0)
    with pytest.raises(ValueError, match="unknown monitor"):
        train(params, X, y, acts, loss, monitor="accuracy")
    with pytest.raises(ValueError, match="needs the output activation 'softmax'"):
        train(params, X, y, ["relu", "tanh"], loss)
    with pytest.raises(TypeError, match="progress"):
        train(params, X, y, acts, loss, progress="yes")


def test_batch_size_larger_than_n_is_full_batch():
    sizes, acts, loss = CONFIGS[0]
    params, X, y = _problem(sizes, loss, 5, seed=12)
    a, _ = train(params, X, y, acts, loss, epochs=2, batch_size=5, shuffle=False)
    b, _ = train(params, X, y, acts, loss, epochs=2, batch_size=500, shuffle=False)
    _assert_params_close(a, b, rtol=0, atol=0)
