"""How fast is fnnlib's reverse-mode engine? The digits MLP gradient three ways.

The same gradient, ∂R/∂W^(l) and ∂R/∂b^(l) of the mean softmax cross-entropy of
a 64-64-10 ReLU network on a batch of the digits data (one column per example),
computed by

1. hand-written backpropagation: ``fnnlib.network.forward`` + ``fnnlib.network.backward``
   (the public functions, input checks included);
2. ``fnnlib.autodiff``: the network written with ``Tensor`` operations (``@``,
   ``relu``, ``softmax_cross_entropy``) and differentiated by ``autodiff.grad``;
3. a scalar-only engine of the micrograd kind, written below: one ``Value``
   object per scalar, one graph node per scalar + or ×. It is far too slow for
   the whole batch, so it runs on a small sub-batch (``--scalar-batch``) and
   its time is extrapolated linearly: the parameter ``Value`` objects are made
   once per call (timed on their own), and every example then adds its own
   graph of the same size, so the time for N examples is
   ``setup + N × (t(sub-batch) − setup) / sub-batch``.

All three are first checked to agree (to 1e-10) on the same data, then timed:
each figure is the median wall-clock time over ``--repeats`` calls (after one
warm-up call, with a ``gc.collect()`` before each call, outside the timing;
Python's cyclic garbage collector stays on during the calls, as in normal use). Run ``python benchmarks/bench_autodiff.py --help`` for the options;
the output is a markdown table. BLAS threads: as in ``bench_train.py``, the
script sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to
``--threads`` (default 1) before numpy is imported, unless ``--threads env``.

Usage::

    python benchmarks/bench_autodiff.py
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256, help="examples per gradient (default 256)")
    parser.add_argument("--scalar-batch", type=int, default=4,
                        help="examples for the scalar engine, extrapolated to --batch (default 4)")
    parser.add_argument("--repeats", type=int, default=30,
                        help="timed calls for backprop and autodiff (default 30)")
    parser.add_argument("--scalar-repeats", type=int, default=3,
                        help="timed calls for the scalar engine (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the batch and the weights (default 0)")
    parser.add_argument(
        "--threads", default="1",
        help="BLAS/OpenMP threads, or 'env' to keep the environment's setting (default 1)",
    )
    args = parser.parse_args()
    if not 1 <= args.batch <= 1797:
        parser.error("--batch must be between 1 and 1797 (the number of digits)")
    if not 1 <= args.scalar_batch <= args.batch:
        parser.error("need 1 <= --scalar-batch <= --batch")
    if args.repeats < 1 or args.scalar_repeats < 1:
        parser.error("--repeats and --scalar-repeats must be >= 1")
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.threads != "env":
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fnnlib import autodiff as ad  # noqa: E402
from fnnlib.data import Standardizer, load_digits  # noqa: E402
from fnnlib.network import backward, forward, init_params  # noqa: E402

ACTS = ["relu", "softmax"]
LOSS = "softmax_cross_entropy"


# ---------------------------------------------------------------------------
# a scalar reverse-mode engine, micrograd style: one object per number
# ---------------------------------------------------------------------------
class Value:
    """A scalar in the graph: its value, its gradient, its parents and local backward rule."""

    __slots__ = ("data", "grad", "_prev", "_backward")

    def __init__(self, data: float, prev: tuple[Value, ...] = ()) -> None:
        self.data = data
        self.grad = 0.0
        self._prev = prev
        self._backward: Callable[[], None] = _noop

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    __radd__ = __add__

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    __rmul__ = __mul__

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0.0 else 0.0, (self,))

        def _backward() -> None:
            self.grad += (out.data > 0.0) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,))

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        out = Value(math.log(self.data), (self,))

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def backward(self) -> None:
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative depth-first topological sort
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._prev if id(p) not in seen)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def _noop() -> None:
    return None


def scalar_parameters(params: list[dict[str, np.ndarray]]) -> list[list[list[Value]] | list[Value]]:
    """One Value per weight and bias: [W1 rows, b1, W2 rows, b2]."""
    W1 = [[Value(float(w)) for w in row] for row in params[0]["W"]]
    b1 = [Value(float(b)) for b in params[0]["b"]]
    W2 = [[Value(float(w)) for w in row] for row in params[1]["W"]]
    b2 = [Value(float(b)) for b in params[1]["b"]]
    return [W1, b1, W2, b2]


def scalar_gradient(params: list[dict[str, np.ndarray]], X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """[dW1, db1, dW2, db2] of the mean softmax CE, with one Value per scalar."""
    W1, b1, W2, b2 = scalar_parameters(params)
    N = X.shape[1]
    total = Value(0.0)
    for n in range(N):
        x = [float(v) for v in X[:, n]]
        h = [sum((w * xi for w, xi in zip(row, x)), b).relu() for row, b in zip(W1, b1)]
        z = [sum((w * hi for w, hi in zip(row, h)), b) for row, b in zip(W2, b2)]
        m = max(zk.data for zk in z)  # a constant shift: log-sum-exp without overflow
        lse = sum((zk - m).exp() for zk in z).log()
        total = total + (lse - (z[int(y[n])] - m))
    loss = total * (1.0 / N)
    loss.backward()
    grid = lambda rows: np.array([[v.grad for v in row] for row in rows])  # noqa: E731
    return [grid(W1), np.array([v.grad for v in b1]), grid(W2), np.array([v.grad for v in b2])]


# ---------------------------------------------------------------------------
# the other two
# ---------------------------------------------------------------------------
def backprop_gradient(params: list[dict[str, np.ndarray]], X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    grads = backward(params, forward(params, X, ACTS), y, ACTS, LOSS).grads
    return [grads[0]["W"], grads[0]["b"], grads[1]["W"], grads[1]["b"]]


def autodiff_gradient(params: list[dict[str, np.ndarray]], X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    def risk(W1: ad.Tensor, b1: ad.Tensor, W2: ad.Tensor, b2: ad.Tensor) -> ad.Tensor:
        A1 = ad.relu(W1 @ X + b1[:, None])
        return ad.softmax_cross_entropy(W2 @ A1 + b2[:, None], y)

    return list(ad.grad(risk)(params[0]["W"], params[0]["b"], params[1]["W"], params[1]["b"]))


# ---------------------------------------------------------------------------
def median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        gc.collect()  # every call starts from a clean heap (the scalar graph makes many reference cycles)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def max_rel_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x - y)) / (np.max(np.abs(y)) + 1e-300)) for x, y in zip(a, b))


def fmt_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def main(args: argparse.Namespace) -> int:
    X_all, y_all = load_digits()  # (64, 1797), one column per example
    rng = np.random.default_rng(args.seed)
    cols = rng.choice(X_all.shape[1], size=args.batch, replace=False)
    X = Standardizer().fit_transform(X_all)[:, cols]
    y = y_all[cols]
    params = init_params([64, 64, 10], "he", rng=rng)
    Xs, ys = X[:, : args.scalar_batch], y[: args.scalar_batch]

    # the three agree before anything is timed
    ref = backprop_gradient(params, X, y)
    diff_ad = max_rel_diff(autodiff_gradient(params, X, y), ref)
    diff_scalar = max_rel_diff(scalar_gradient(params, Xs, ys), backprop_gradient(params, Xs, ys))
    if diff_ad > 1e-10 or diff_scalar > 1e-10:
        print(f"gradients disagree: autodiff {diff_ad:.2e}, scalar engine {diff_scalar:.2e}", file=sys.stderr)
        return 1

    t_bp = median_time(lambda: backprop_gradient(params, X, y), args.repeats)
    t_ad = median_time(lambda: autodiff_gradient(params, X, y), args.repeats)
    t_sc_small = median_time(lambda: scalar_gradient(params, Xs, ys), args.scalar_repeats)
    t_setup = median_time(lambda: scalar_parameters(params), args.scalar_repeats)
    # linear extrapolation: the parameter Values are made once per call, the graph once per example
    t_sc = t_setup + max(t_sc_small - t_setup, 0.0) * args.batch / args.scalar_batch

    B = args.batch
    print(f"Gradient of a 64-64-10 ReLU + softmax-CE MLP (4810 parameters) on a batch of N = {B} digits.")
    print(f"numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}, "
          f"BLAS threads: {args.threads}; median of {args.repeats} calls ({args.scalar_repeats} for the "
          "scalar engine).")
    print(f"Agreement with backprop (max relative difference): autodiff {diff_ad:.1e}, "
          f"scalar engine {diff_scalar:.1e}.\n")
    print(f"| method | measured on | median time | time for N = {B} | per example | × backprop |")
    print("|---|--:|--:|--:|--:|--:|")
    rows = [
        ("hand-written backprop (`network.forward` + `network.backward`)", B, t_bp, t_bp),
        ("`fnnlib.autodiff` (array tensors, reverse mode)", B, t_ad, t_ad),
        (f"scalar engine, one `Value` per number (extrapolated from N = {args.scalar_batch})",
         args.scalar_batch, t_sc_small, t_sc),
    ]
    for name, n, t_meas, t_full in rows:
        ratio = t_full / t_bp
        print(f"| {name} | N = {n} | {fmt_time(t_meas)} | {fmt_time(t_full)} | {fmt_time(t_full / B)} | "
              f"{ratio:,.0f} |" if ratio >= 100 else
              f"| {name} | N = {n} | {fmt_time(t_meas)} | {fmt_time(t_full)} | {fmt_time(t_full / B)} | "
              f"{ratio:.2f} |")
    print(f"\nautodiff / backprop = {t_ad / t_bp:.2f} (target ≤ 2). Scalar engine: {fmt_time(t_setup)} to make "
          f"the 4810 parameter Values once per call, then {fmt_time((t_sc_small - t_setup) / args.scalar_batch)} "
          f"per example; time for N = {B} = setup + N × per-example time.")
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
