"""Speed of fnnlib.train and Sequential.fit against a hand-fused numpy loop and scikit-learn's MLPClassifier.

Task: scikit-learn's handwritten digits (1,797 8×8 images, 10 classes), a 75/25
stratified split, inputs standardised with the training part's mean and
standard deviation. Network 64-64-10, ReLU hidden layer, softmax output with
cross-entropy, Glorot-uniform initial weights, mini-batches of 32, SGD with
classical momentum 0.9, learning rate 0.05, no weight decay, 60 epochs, a
fresh shuffle every epoch. The four contestants:

- ``numpy loop``: the minimal hand-fused loop written out below (fancy-indexed
  mini-batches, two layers spelled out, momentum update per array);
- ``fnnlib.train``: the library's SGD (60 epochs, no validation set, so no
  early stopping);
- ``Sequential.fit``: the Keras-like model of ``fnnlib.models``, the same
  initial weights (``set_weights``) and the same seed for the shuffles, so
  it follows ``fnnlib.train``'s trajectory up to rounding
  (``compile(optimizer=SGD(learning_rate=0.05, momentum=0.9),
  loss="softmax_cross_entropy", metrics=["accuracy"])``, ``fit(X, y,
  epochs=60, batch_size=32, rng=seed, verbose=False)``; the model takes
  (N, D) rows and transposes once inside the timed call);
- ``scikit-learn``: ``MLPClassifier(solver="sgd", momentum=0.9,
  nesterovs_momentum=False, learning_rate_init=0.05, alpha=0, batch_size=32,
  max_iter=60, tol=0, n_iter_no_change=10**9, early_stopping=False, shuffle=True)``.

Each runs once per seed (seeds 0, 1, ...); the table reports the median wall
time of the training call alone (data preparation excluded), the ratios of
the medians, and the median test accuracy.

BLAS threads: unless ``--threads env`` is given, the script sets
OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to ``--threads``
(default 1) before numpy is imported, the same for all contestants.
The matrices here are tiny (64 × 32 blocks), so extra threads mostly add
synchronisation cost.

Usage::

    python benchmarks/bench_train.py --seeds 3
"""

from __future__ import annotations

import argparse
import os
import sys


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (runs per contestant)")
    parser.add_argument("--epochs", type=int, default=60, help="epochs per run")
    parser.add_argument(
        "--threads", default="1",
        help="BLAS/OpenMP threads for all contestants, or 'env' to keep the environment's setting",
    )
    parser.add_argument("--only", choices=["numpy", "fnnlib", "sequential", "sklearn"], action="append",
                        help="run only these contestants (repeatable)")
    return parser.parse_args()


ARGS = parse_args()
if ARGS.threads != "env":
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fnnlib.models import SGD, Dense, Sequential  # noqa: E402
from fnnlib.network import init_params, predict  # noqa: E402
from fnnlib.train import train  # noqa: E402

HIDDEN = 64
BATCH = 32
LR = 0.05
MOMENTUM = 0.9


class Timer:
    """Wall-clock and process CPU time of a block (``.wall``, ``.cpu``, in seconds)."""

    def __enter__(self):
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
        return False


def load(seed: int):
    """Digits, 75/25 stratified split, standardised on the training part; (N, D) arrays."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0  # constant pixels (always 0 in the corners)
    return (X_tr - mean) / std, (X_te - mean) / std, y_tr, y_te


def numpy_loop(X, y, params, epochs, seed):
    """The minimal hand-fused loop: columns are examples, two layers written out."""
    rng = np.random.default_rng(seed)
    W1, b1 = params[0]["W"].copy(), params[0]["b"].copy()
    W2, b2 = params[1]["W"].copy(), params[1]["b"].copy()
    vW1, vb1, vW2, vb2 = (np.zeros_like(a) for a in (W1, b1, W2, b2))
    Y = np.eye(10)[:, y]  # one-hot columns (10, N)
    N = X.shape[1]
    for _ in range(epochs):
        perm = rng.permutation(N)
        for s in range(0, N, BATCH):
            idx = perm[s:s + BATCH]
            Xb, Yb = X[:, idx], Y[:, idx]
            n = Xb.shape[1]
            Z1 = W1 @ Xb + b1[:, None]
            A1 = np.maximum(Z1, 0.0)
            Z2 = W2 @ A1 + b2[:, None]
            E = np.exp(Z2 - Z2.max(axis=0))
            P = E / E.sum(axis=0)
            D2 = (P - Yb) / n
            D1 = (W2.T @ D2) * (Z1 > 0)
            vW2 = MOMENTUM * vW2 - LR * (D2 @ A1.T)
            vb2 = MOMENTUM * vb2 - LR * D2.sum(axis=1)
            vW1 = MOMENTUM * vW1 - LR * (D1 @ Xb.T)
            vb1 = MOMENTUM * vb1 - LR * D1.sum(axis=1)
            W2 += vW2
            b2 += vb2
            W1 += vW1
            b1 += vb1
    return [{"W": W1, "b": b1}, {"W": W2, "b": b2}]


def run_numpy(data, seed, epochs):
    X_tr, X_te, y_tr, y_te = data
    Xc, Xt = np.ascontiguousarray(X_tr.T), np.ascontiguousarray(X_te.T)
    p0 = init_params([64, HIDDEN, 10], "xavier", rng=seed)
    with Timer() as t:
        p = numpy_loop(Xc, y_tr, p0, epochs, seed)
    acc = float(np.mean(predict(p, Xt, ["relu", "softmax"]).argmax(axis=0) == y_te))
    return t, acc


def run_fnnlib(data, seed, epochs):
    X_tr, X_te, y_tr, y_te = data
    Xc, Xt = np.ascontiguousarray(X_tr.T), np.ascontiguousarray(X_te.T)
    p0 = init_params([64, HIDDEN, 10], "xavier", rng=seed)
    with Timer() as t:
        p, _ = train(p0, Xc, y_tr, ["relu", "softmax"], "softmax_cross_entropy", learning_rate=LR,
                     epochs=epochs, batch_size=BATCH, momentum=MOMENTUM, rng=seed)
    acc = float(np.mean(predict(p, Xt, ["relu", "softmax"]).argmax(axis=0) == y_te))
    return t, acc


def run_sequential(data, seed, epochs):
    X_tr, X_te, y_tr, y_te = data
    p0 = init_params([64, HIDDEN, 10], "xavier", rng=seed)
    model = Sequential([Dense(HIDDEN, activation="relu", input_dim=64), Dense(10, activation="softmax")])
    model.set_weights([p0[0]["W"], p0[0]["b"], p0[1]["W"], p0[1]["b"]])
    model.compile(optimizer=SGD(learning_rate=LR, momentum=MOMENTUM), loss="softmax_cross_entropy",
                  metrics=["accuracy"])
    with Timer() as t:
        model.fit(X_tr, y_tr, epochs=epochs, batch_size=BATCH, rng=seed, verbose=False)
    acc = float(np.mean(model.predict(X_te) == y_te))
    return t, acc


def run_sklearn(data, seed, epochs):
    X_tr, X_te, y_tr, y_te = data
    clf = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), activation="relu", solver="sgd", alpha=0.0, batch_size=BATCH,
        learning_rate="constant", learning_rate_init=LR, momentum=MOMENTUM, nesterovs_momentum=False,
        max_iter=epochs, tol=0.0, n_iter_no_change=10**9, early_stopping=False, shuffle=True,
        random_state=seed,
    )
    with warnings.catch_warnings(), Timer() as t:
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_tr, y_tr)
    return t, float(clf.score(X_te, y_te))


CONTESTANTS = {
    "numpy": ("numpy loop (hand-fused)", run_numpy),
    "fnnlib": ("fnnlib.train", run_fnnlib),
    "sequential": ("fnnlib Sequential.fit", run_sequential),
    "sklearn": ("scikit-learn MLPClassifier", run_sklearn),
}


def main() -> None:
    chosen = ARGS.only or list(CONTESTANTS)
    wall = {k: [] for k in chosen}
    cpu = {k: [] for k in chosen}
    accs = {k: [] for k in chosen}
    for seed in range(ARGS.seeds):
        data = load(seed)
        for key in chosen:  # interleaved, so a slow spell of the machine hits them all
            t, acc = CONTESTANTS[key][1](data, seed, ARGS.epochs)
            wall[key].append(t.wall)
            cpu[key].append(t.cpu)
            accs[key].append(acc)
    mw = {k: statistics.median(v) for k, v in wall.items()}
    mc = {k: statistics.median(v) for k, v in cpu.items()}
    threads = "as set by the environment" if ARGS.threads == "env" else ARGS.threads
    print(f"digits 64-{HIDDEN}-10, ReLU + softmax-CE, batch {BATCH}, SGD momentum {MOMENTUM}, "
          f"lr {LR}, {ARGS.epochs} epochs, {ARGS.seeds} seeds, BLAS threads: {threads}")
    import platform

    import sklearn

    print(f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"{os.cpu_count()} CPUs")
    print("ratios: wall-time ratio / CPU-time ratio of the medians")
    print()
    print("| implementation | median wall time (s) | median CPU time (s) | × numpy loop | × scikit-learn "
          "| × fnnlib.train | median test accuracy |")
    print("|---|--:|--:|--:|--:|--:|--:|")

    def ratio(key: str, ref: str) -> str:
        if ref not in mw:
            return "–"
        return f"{mw[key] / mw[ref]:.2f} / {mc[key] / mc[ref]:.2f}"

    for key in chosen:
        print(f"| {CONTESTANTS[key][0]} | {mw[key]:.3f} | {mc[key]:.3f} | {ratio(key, 'numpy')} | "
              f"{ratio(key, 'sklearn')} | {ratio(key, 'fnnlib')} | {statistics.median(accs[key]):.4f} |")


if __name__ == "__main__":
    main()
