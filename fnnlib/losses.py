"""Loss functions with their output-layer error term δ^(L) = ∂L/∂z^(L).

Unit 5 of the course. Every array holds one example as a vector of shape
(C,), or a batch as columns of shape (C, N) (one column per example). For a
batch the functions return the mean loss over the N examples by default
(``reduction="mean"``); ``"sum"`` and ``"none"`` (the N per-example losses)
are available too. The δ functions return the per-example error terms
δ^(L) = ∂L_n/∂z_n^(L), stacked as columns, *not* divided by N: the 1/N of the
batch average is applied when the weight gradients are formed
(``dW = Δ A_prevᵀ / N``). Denominator layout: ∂L/∂z has the shape of z.

Targets ``y`` are given either with the output's shape (one-hot columns for
classification, real targets for regression) or as integer class labels:
shape (N,) for a batch, a plain integer for one example.

The three losses of the course, and the output activation each pairs with:

======================  ===================  ==================================
loss                    output activation    δ^(L) = ∂L/∂z^(L)
======================  ===================  ==================================
softmax_cross_entropy   softmax              ŷ − y
binary_cross_entropy    logistic             σ(z) − y
squared_error           any elementwise f    (f(z) − y) ⊙ f'(z)
======================  ===================  ==================================

They are collected in the read-only table :data:`LOSSES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from fnnlib import activations as _activations
from fnnlib._validate import NamedTable, as_float_array, check_choice, check_positive_int, shape_str

__all__ = [
    "softmax",
    "log_softmax",
    "one_hot",
    "cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_delta",
    "binary_cross_entropy",
    "binary_cross_entropy_from_logits",
    "binary_cross_entropy_delta",
    "squared_error",
    "squared_error_delta",
    "Loss",
    "LOSSES",
    "get_loss",
]

Reduction = Literal["mean", "sum", "none"]
_REDUCTIONS = ("mean", "sum", "none")
# Smallest positive normal float64: probabilities are clipped to it before log,
# so a probability that underflowed to 0 costs -log(tiny) ≈ 708 instead of inf.
_TINY = float(np.finfo(np.float64).tiny)


# ---------------------------------------------------------------------------
# input checks shared by the losses (and by network and train)
# ---------------------------------------------------------------------------
def _as_output(z: ArrayLike, name: str, func: str) -> NDArray[np.float64]:
    """Return a float64 output-layer array of shape (C,) or (C, N), or raise."""
    arr = as_float_array(z, name, func)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0 or (arr.ndim == 2 and arr.shape[1] == 0):
        raise ValueError(
            f"{func}: {name} must have shape (C,) for one example or (C, N) for a batch (one column "
            f"per example, C ≥ 1, N ≥ 1), got shape {shape_str(arr.shape)}."
        )
    return arr


def _labels_to_int(labels: NDArray[Any], C: int, name: str, func: str) -> NDArray[np.intp]:
    """Check that ``labels`` are integers in 0..C-1 and return them as intp."""
    if labels.dtype == np.bool_:
        labels = labels.astype(np.intp)
    if np.issubdtype(labels.dtype, np.integer):
        ints = labels.astype(np.intp, copy=False)
    else:
        flt = as_float_array(labels, name, func)
        ints = np.rint(flt).astype(np.intp) if flt.size else flt.astype(np.intp)
        if not np.array_equal(ints, flt):
            bad = np.flatnonzero(np.ravel(ints != flt))[0]
            raise ValueError(
                f"{func}: {name} looks like class labels (one per example) but holds a non-integer "
                f"value {np.ravel(flt)[bad]!r} at index {bad}; expected integers 0..C-1 = 0..{C - 1}. "
                "For one-hot or real-valued targets give y the output's shape (C, N)."
            )
    out = (ints < 0) | (ints >= C)
    if out.any():
        bad = int(np.flatnonzero(np.ravel(out))[0])
        raise ValueError(
            f"{func}: {name} has a class label {int(np.ravel(ints)[bad])} at index {bad}, out of range; "
            f"expected integers 0..C-1 = 0..{C - 1} for C = {C} outputs."
        )
    return ints


def _as_targets(
    y: ArrayLike, out_shape: tuple[int, ...], kind: str, func: str, name: str = "y"
) -> NDArray[np.float64]:
    """Return the targets as a float64 array of the output's shape (C,) or (C, N).

    ``kind`` is "cross_entropy" (one-hot or probability columns, or labels),
    "binary_cross_entropy" (entries in [0, 1]; for C = 1 also of the labels'
    shape, 0/1 labels or soft targets) or
    "squared_error" (real targets; labels are one-hot encoded when C > 1).
    """
    if isinstance(y, (str, bytes)):
        raise TypeError(f"{func}: {name} must be an array of targets or labels, got a string {y!r}.")
    y_arr = np.asarray(y)
    C = out_shape[0]
    batch = len(out_shape) == 2
    want = f"(C, N) = {shape_str(out_shape)}" if batch else f"(C,) = {shape_str(out_shape)}"
    label_form = f"labels of shape (N,) = ({out_shape[1]},)" if batch else "one integer label"

    if y_arr.ndim == len(out_shape):
        if batch and y_arr.ndim == 2 and tuple(y_arr.shape) != tuple(out_shape):
            hint = ""
            if tuple(y_arr.shape) == (out_shape[1], out_shape[0]):
                hint = " It looks transposed: did you pass the (N, C) array instead of its transpose .T?"
            raise ValueError(
                f"{func}: {name} has shape {shape_str(y_arr.shape)}; expected {want} like the "
                f"network output, one column per example, or {label_form}.{hint}"
            )
        if not batch and tuple(y_arr.shape) != tuple(out_shape):
            raise ValueError(
                f"{func}: {name} has shape {shape_str(y_arr.shape)}; expected {want} like the output "
                f"of one example, or {label_form}."
            )
        Y = as_float_array(y_arr, name, func)
    elif y_arr.ndim == len(out_shape) - 1 and (not batch or y_arr.shape[0] == out_shape[1]):
        # class labels: (N,) for a batch, a scalar for one example
        if kind == "squared_error" and C == 1:
            Y = as_float_array(y_arr, name, func).reshape(out_shape)
        elif kind == "binary_cross_entropy" and C != 1:
            raise ValueError(
                f"{func}: binary cross-entropy with C = {C} outputs needs {name} of shape {want}, "
                f"one 0/1 target per output; got shape {shape_str(y_arr.shape)}. Targets of shape (N,) "
                "(0/1 labels or soft targets) are accepted only for a single logistic output (C = 1)."
            )
        elif kind == "binary_cross_entropy":  # C = 1: 0/1 labels or soft targets P(class 1), as Sequential takes
            if y_arr.dtype == np.bool_:
                y_arr = y_arr.astype(np.float64)
            Y = as_float_array(y_arr, name, func).reshape(out_shape)
            if Y.size and (Y.min() < 0.0 or Y.max() > 1.0):
                j = int(np.flatnonzero(np.ravel((Y < 0.0) | (Y > 1.0)))[0])
                raise ValueError(
                    f"{func}: binary cross-entropy with one logistic output needs {name} in [0, 1]: 0/1 "
                    f"labels or soft targets P(class 1); got {np.ravel(Y)[j]:g} at index {j} (values in "
                    f"[{Y.min():g}, {Y.max():g}]). For class labels 0..C-1 with C > 2 use a softmax output "
                    "with softmax_cross_entropy."
                )
        else:
            labels = _labels_to_int(y_arr, C, name, func)
            Y = _one_hot_unchecked(labels, C)
    else:
        raise ValueError(
            f"{func}: {name} has shape {shape_str(y_arr.shape)}; expected {want} like the network "
            f"output, or {label_form}."
        )

    if kind in ("cross_entropy", "binary_cross_entropy"):
        if Y.size and (Y.min() < 0.0 or Y.max() > 1.0):
            raise ValueError(
                f"{func}: {name} must hold probabilities in [0, 1] (one-hot targets or 0/1 labels), "
                f"got values in [{Y.min():g}, {Y.max():g}]."
            )
    if kind == "cross_entropy":
        col_sums = Y.sum(axis=0)
        if not np.allclose(col_sums, 1.0, rtol=0.0, atol=1e-6):
            j = int(np.flatnonzero(np.ravel(np.abs(col_sums - 1.0) > 1e-6))[0])
            raise ValueError(
                f"{func}: each target column of {name} must sum to 1 (one-hot, or a probability "
                f"distribution over the C = {C} classes); column {j} sums to "
                f"{float(np.ravel(col_sums)[j]):g}. Did you mean to pass integer labels?"
            )
    return Y


def _reduce(per_example: NDArray[np.float64], reduction: str, func: str) -> Any:
    check_choice(reduction, _REDUCTIONS, "reduction", func)
    if per_example.ndim == 0:
        return float(per_example)
    if reduction == "mean":
        return float(per_example.mean())
    if reduction == "sum":
        return float(per_example.sum())
    return per_example


# ---------------------------------------------------------------------------
# the formulas, on checked arrays (z and Y of the same shape, (C,) or (C, N));
# fnnlib.network and fnnlib.train call these directly after their own checks
# ---------------------------------------------------------------------------
def _sce_per_example(z: NDArray[np.float64], Y: NDArray[np.float64]) -> NDArray[np.float64]:
    """−Σ_c y_c log softmax(z)_c per column, via the shifted logits z − max z."""
    s = z - z.max(axis=0)
    return -(Y * (s - np.log(np.exp(s).sum(axis=0)))).sum(axis=0)


def _sce_delta_raw(z: NDArray[np.float64], Y: NDArray[np.float64]) -> NDArray[np.float64]:
    """softmax(z) − y."""
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0) - Y


def _bce_per_example(z: NDArray[np.float64], Y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Σ_k log(1 + e^{z_k}) − y_k z_k per column."""
    return (np.logaddexp(0.0, z) - Y * z).sum(axis=0)


def _bce_delta_raw(z: NDArray[np.float64], Y: NDArray[np.float64]) -> NDArray[np.float64]:
    """σ(z) − y, with scipy's stable σ."""
    return expit(z) - Y


def _se_per_example(a: NDArray[np.float64], Y: NDArray[np.float64]) -> NDArray[np.float64]:
    """½ ‖a − y‖² per column."""
    return 0.5 * ((a - Y) ** 2).sum(axis=0)


def _per_example_unchecked(
    loss: str, z: NDArray[np.float64], a: NDArray[np.float64], Y: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per-example losses from z^(L) (cross-entropies) or a^(L) (squared error)."""
    if loss == "softmax_cross_entropy":
        return _sce_per_example(z, Y)
    if loss == "binary_cross_entropy":
        return _bce_per_example(z, Y)
    return _se_per_example(a, Y)


def _delta_unchecked(
    loss: str, z: NDArray[np.float64], a: NDArray[np.float64], Y: NDArray[np.float64],
    df: Callable[..., Any] | None, kw: Mapping[str, Any],
) -> NDArray[np.float64]:
    """δ^(L); for squared error ``df`` is the output activation's derivative."""
    if loss == "softmax_cross_entropy":
        return _sce_delta_raw(z, Y)
    if loss == "binary_cross_entropy":
        return _bce_delta_raw(z, Y)
    return (a - Y) * df(z, **kw)  # type: ignore[misc]


# ---------------------------------------------------------------------------
# softmax and one-hot
# ---------------------------------------------------------------------------
def softmax(z: ArrayLike) -> NDArray[np.float64]:
    """Softmax over the classes (axis 0), computed stably.

    Parameters
    ----------
    z : array_like of shape (C,) or (C, N)
        Net inputs of the output layer, one column per example.

    Returns
    -------
    y_hat : ndarray, same shape as ``z``
        Each column is positive and sums to 1.

    Notes
    -----
    ``softmax(z)_c = exp(z_c) / Σ_k exp(z_k)``. Subtracting ``max_k z_k`` from
    every entry of a column leaves the result unchanged and keeps ``exp`` from
    overflowing, so logits of ±1e4 are fine.

    Examples
    --------
    >>> softmax([0.0, np.log(3.0)])
    array([0.25, 0.75])
    >>> softmax(np.array([[1e4, 0.0], [0.0, 0.0]]))
    array([[1. , 0.5],
           [0. , 0.5]])
    """
    z = _as_output(z, "z", "softmax")
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def log_softmax(z: ArrayLike) -> NDArray[np.float64]:
    """Logarithm of the softmax over axis 0, without forming the softmax.

    Parameters
    ----------
    z : array_like of shape (C,) or (C, N)

    Returns
    -------
    ndarray, same shape as ``z``

    Notes
    -----
    ``log softmax(z)_c = (z_c − m) − log Σ_k exp(z_k − m)`` with
    ``m = max_k z_k``; every term stays finite for logits of any size.

    Examples
    --------
    >>> np.round(log_softmax([0.0, 0.0]), 6)
    array([-0.693147, -0.693147])
    """
    z = _as_output(z, "z", "log_softmax")
    s = z - z.max(axis=0)
    return s - np.log(np.exp(s).sum(axis=0))


def _one_hot_unchecked(labels: NDArray[np.intp], C: int) -> NDArray[np.float64]:
    if labels.ndim == 0:
        out = np.zeros(C)
        out[int(labels)] = 1.0
        return out
    out = np.zeros((C, labels.shape[0]))
    out[labels, np.arange(labels.shape[0])] = 1.0
    return out


def one_hot(labels: ArrayLike, C: int) -> NDArray[np.float64]:
    """One-hot columns from integer class labels.

    Parameters
    ----------
    labels : int or array_like of int, shape (N,)
        Class labels in 0..C-1.
    C : int
        Number of classes.

    Returns
    -------
    Y : ndarray of shape (C, N), or (C,) for a single label
        ``Y[c, n] = 1`` if ``labels[n] == c`` else 0; one column per example.

    Examples
    --------
    >>> one_hot([2, 0], 3)
    array([[0., 1.],
           [0., 0.],
           [1., 0.]])
    >>> one_hot(1, 3)
    array([0., 1., 0.])
    """
    C = check_positive_int(C, "C", "one_hot")
    lab = np.asarray(labels)
    if lab.ndim > 1:
        raise ValueError(
            f"one_hot: labels must have shape (N,) (one integer per example) or be one integer, "
            f"got shape {shape_str(lab.shape)}."
        )
    return _one_hot_unchecked(_labels_to_int(lab, C, "labels", "one_hot"), C)


# ---------------------------------------------------------------------------
# cross-entropy
# ---------------------------------------------------------------------------
def cross_entropy(y_hat: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> Any:
    """Cross-entropy of predicted class probabilities against targets.

    Parameters
    ----------
    y_hat : array_like of shape (C,) or (C, N)
        Predicted probabilities (for instance a softmax output), one column
        per example, entries in [0, 1].
    y : array_like
        One-hot targets of the same shape, or integer labels: shape (N,) for
        a batch, an int for one example.
    reduction : {"mean", "sum", "none"}
        For a batch: the mean (default) or sum over the N examples, or the
        per-example losses as an array of shape (N,).

    Returns
    -------
    float, or ndarray of shape (N,) when ``reduction="none"``
        For one example always a float.

    Notes
    -----
    ``L(y, ŷ) = −Σ_c y_c log ŷ_c = −yᵀ log ŷ``, a scalar (errata: a seed writes
    it as if it were a vector). With a one-hot y only the true class counts:
    ``L = −log ŷ_y``. Probabilities are clipped below at the smallest normal
    float (≈ 2.2e-308) so a vanishing probability gives a large but finite
    loss; for logits use :func:`softmax_cross_entropy`, which is exact.

    Examples
    --------
    >>> round(cross_entropy([0.25, 0.75], [0.0, 1.0]), 6)     # −log 0.75
    0.287682
    >>> cross_entropy([[0.25, 0.5], [0.75, 0.5]], [1, 0], reduction="none")
    array([0.28768207, 0.69314718])
    """
    y_hat = _as_output(y_hat, "y_hat", "cross_entropy")
    if y_hat.min() < 0.0 or y_hat.max() > 1.0:
        raise ValueError(
            f"cross_entropy: y_hat must hold probabilities in [0, 1], got values in "
            f"[{y_hat.min():g}, {y_hat.max():g}]. For net inputs (logits) use softmax_cross_entropy."
        )
    Y = _as_targets(y, y_hat.shape, "cross_entropy", "cross_entropy")
    per = -(Y * np.log(np.maximum(y_hat, _TINY))).sum(axis=0)
    return _reduce(per, reduction, "cross_entropy")


def softmax_cross_entropy(z: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> Any:
    """Cross-entropy of ``softmax(z)`` against targets, computed from the logits.

    Parameters
    ----------
    z : array_like of shape (C,) or (C, N)
        Net inputs z^(L) of a softmax output layer, one column per example.
    y : array_like
        One-hot targets of shape (C,) / (C, N), or integer labels ((N,) or an int).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    float, or ndarray of shape (N,) when ``reduction="none"``

    Notes
    -----
    ``L = −yᵀ log softmax(z) = −yᵀ z + log Σ_k exp(z_k)`` (for Σ_c y_c = 1),
    evaluated with :func:`log_softmax`, so it is finite for logits up to ±1e4
    and beyond.

    Examples
    --------
    >>> round(softmax_cross_entropy([0.0, np.log(3.0)], 1), 6)     # −log 0.75
    0.287682
    >>> softmax_cross_entropy([1e4, -1e4], 1)
    20000.0
    """
    z = _as_output(z, "z", "softmax_cross_entropy")
    Y = _as_targets(y, z.shape, "cross_entropy", "softmax_cross_entropy")
    return _reduce(_sce_per_example(z, Y), reduction, "softmax_cross_entropy")


def softmax_cross_entropy_delta(z: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Output error term of a softmax layer with cross-entropy: δ^(L) = ŷ − y.

    Parameters
    ----------
    z : array_like of shape (C,) or (C, N)
        Net inputs z^(L), one column per example.
    y : array_like
        One-hot targets (same shape) or integer labels.

    Returns
    -------
    delta : ndarray, same shape as ``z``
        ``∂L_n/∂z_n^(L)`` for each example (column), not divided by N.

    Notes
    -----
    With ŷ = softmax(z) the softmax Jacobian is ``diag(ŷ) − ŷŷᵀ`` (symmetric,
    so both layouts agree) and ``∂L/∂ŷ = −y ⊘ ŷ``; their product collapses to
    ``δ = ŷ (Σ_c y_c) − y = ŷ − y``. It is computed directly, without forming
    the C × C Jacobian or dividing by ŷ, so it stays finite for any logits.

    Examples
    --------
    >>> softmax_cross_entropy_delta([0.0, np.log(3.0)], 1)
    array([ 0.25, -0.25])
    >>> softmax_cross_entropy_delta([1e4, -1e4], 1)
    array([ 1., -1.])
    """
    z = _as_output(z, "z", "softmax_cross_entropy_delta")
    Y = _as_targets(y, z.shape, "cross_entropy", "softmax_cross_entropy_delta")
    return _sce_delta_raw(z, Y)


# ---------------------------------------------------------------------------
# binary cross-entropy
# ---------------------------------------------------------------------------
def binary_cross_entropy(y_hat: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> Any:
    """Binary cross-entropy of predicted probabilities (logistic outputs).

    Parameters
    ----------
    y_hat : array_like of shape (K,) or (K, N)
        Predicted probabilities ŷ = σ(z^(L)) in [0, 1]; K = 1 for a two-class
        problem (one logistic unit), K > 1 for K independent yes/no outputs.
    y : array_like
        Targets in [0, 1] of the same shape, or, when K = 1, 0/1 labels or soft targets of
        shape (N,) (an int for one example).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    float, or ndarray of shape (N,) when ``reduction="none"``

    Notes
    -----
    ``L = −Σ_k [y_k log ŷ_k + (1 − y_k) log(1 − ŷ_k)]``. Probabilities are
    clipped to [tiny, 1 − tiny] inside the logs; prefer
    :func:`binary_cross_entropy_from_logits`, which needs no clipping.

    Examples
    --------
    >>> round(binary_cross_entropy([0.75], 1), 6)      # −log 0.75
    0.287682
    >>> binary_cross_entropy([[0.75, 0.5]], [1, 0], reduction="none")
    array([0.28768207, 0.69314718])
    """
    y_hat = _as_output(y_hat, "y_hat", "binary_cross_entropy")
    if y_hat.min() < 0.0 or y_hat.max() > 1.0:
        raise ValueError(
            f"binary_cross_entropy: y_hat must hold probabilities in [0, 1], got values in "
            f"[{y_hat.min():g}, {y_hat.max():g}]. For net inputs (logits) use "
            "binary_cross_entropy_from_logits."
        )
    Y = _as_targets(y, y_hat.shape, "binary_cross_entropy", "binary_cross_entropy")
    log_p = np.log(np.maximum(y_hat, _TINY))
    log_q = np.log(np.maximum(1.0 - y_hat, _TINY))
    per = -(Y * log_p + (1.0 - Y) * log_q).sum(axis=0)
    return _reduce(per, reduction, "binary_cross_entropy")


def binary_cross_entropy_from_logits(z: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> Any:
    """Binary cross-entropy of ``σ(z)`` against targets, computed from the logits.

    Parameters
    ----------
    z : array_like of shape (K,) or (K, N)
        Net inputs z^(L) of a logistic output layer.
    y : array_like
        Targets in [0, 1] of the same shape, or, when K = 1, 0/1 labels or soft targets of shape (N,).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    float, or ndarray of shape (N,) when ``reduction="none"``

    Notes
    -----
    Since ``−log σ(z) = log(1 + e^{−z})`` and ``−log(1 − σ(z)) = log(1 + e^{z})``,
    ``L = Σ_k [log(1 + e^{z_k}) − y_k z_k]``; ``log(1 + e^z)`` is evaluated as
    ``np.logaddexp(0, z)``, which is exact and finite for logits of ±1e4.

    Examples
    --------
    >>> round(binary_cross_entropy_from_logits([np.log(3.0)], 1), 6)     # σ(log 3) = 0.75
    0.287682
    >>> binary_cross_entropy_from_logits([-1e4], 1)
    10000.0
    """
    z = _as_output(z, "z", "binary_cross_entropy_from_logits")
    Y = _as_targets(y, z.shape, "binary_cross_entropy", "binary_cross_entropy_from_logits")
    return _reduce(_bce_per_example(z, Y), reduction, "binary_cross_entropy_from_logits")


def binary_cross_entropy_delta(z: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Output error term of a logistic layer with binary cross-entropy: δ^(L) = σ(z) − y.

    Parameters
    ----------
    z : array_like of shape (K,) or (K, N)
        Net inputs z^(L).
    y : array_like
        Targets in [0, 1] of the same shape, or, when K = 1, 0/1 labels or soft targets of shape (N,).

    Returns
    -------
    delta : ndarray, same shape as ``z``
        Per example, not divided by N.

    Notes
    -----
    ``∂L/∂ŷ = (ŷ − y) ⊘ (ŷ(1 − ŷ))`` and ``σ'(z) = ŷ(1 − ŷ)``: the factors cancel,
    leaving ``δ = ŷ − y`` with no division, finite for any logits.

    Examples
    --------
    >>> binary_cross_entropy_delta([[0.0, 1e4]], [1, 0])
    array([[-0.5,  1. ]])
    """
    z = _as_output(z, "z", "binary_cross_entropy_delta")
    Y = _as_targets(y, z.shape, "binary_cross_entropy", "binary_cross_entropy_delta")
    return _bce_delta_raw(z, Y)


# ---------------------------------------------------------------------------
# squared error
# ---------------------------------------------------------------------------
def squared_error(y_hat: ArrayLike, y: ArrayLike, reduction: Reduction = "mean") -> Any:
    """Squared error ``L = ½ ‖ŷ − y‖²`` per example.

    Parameters
    ----------
    y_hat : array_like of shape (C,) or (C, N)
        Network outputs a^(L), one column per example.
    y : array_like
        Targets of the same shape; for C = 1 also shape (N,); for C > 1
        integer labels of shape (N,) are one-hot encoded.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    float, or ndarray of shape (N,) when ``reduction="none"``

    Notes
    -----
    ``L = ½ Σ_c (ŷ_c − y_c)²``. The ½ is a convention that cancels the 2 of
    the derivative, so ``∂L/∂ŷ = ŷ − y``; without it every gradient doubles.

    Examples
    --------
    >>> squared_error([3.0, 1.0], [1.0, 1.0])      # ½ (2² + 0²)
    2.0
    """
    y_hat = _as_output(y_hat, "y_hat", "squared_error")
    Y = _as_targets(y, y_hat.shape, "squared_error", "squared_error")
    return _reduce(_se_per_example(y_hat, Y), reduction, "squared_error")


def _resolve_activation(activation: Any, func: str) -> tuple[str, Callable[..., Any], Callable[..., Any], dict]:
    """Accept an activation name or a (name, params) pair, as network.forward does; return (name, f, df, params)."""
    if activation == "softmax" or (isinstance(activation, (tuple, list)) and tuple(activation[:1]) == ("softmax",)):
        raise ValueError(
            f"{func}: a softmax output is only supported with the softmax_cross_entropy loss (its "
            "δ = ŷ − y needs no Jacobian); with squared error use an elementwise output activation."
        )
    name, kw = _activations._parse_activation(activation, func, allow_softmax=False)
    act = _activations.ACTIVATIONS[name]
    return name, act.f, act.df, kw


def squared_error_delta(z: ArrayLike, y: ArrayLike, activation: Any = "identity") -> NDArray[np.float64]:
    """Output error term for squared error: δ^(L) = (f_L(z) − y) ⊙ f_L'(z).

    Parameters
    ----------
    z : array_like of shape (C,) or (C, N)
        Net inputs z^(L), one column per example.
    y : array_like
        Targets of the output's shape (see :func:`squared_error`).
    activation : str or (str, dict)
        Name of the elementwise output activation f_L (default "identity"),
        optionally with its parameters, e.g. ``("leaky_relu", {"gamma": 0.1})``.

    Returns
    -------
    delta : ndarray, same shape as ``z``
        Per example, not divided by N.

    Notes
    -----
    ``∂L/∂a^(L) = a^(L) − y`` and ``∂a^(L)/∂z^(L) = diag(f_L'(z^(L)))``, so in
    denominator layout ``δ^(L) = diag(f_L'(z)) (a − y) = f_L'(z) ⊙ (a − y)``.

    Examples
    --------
    >>> squared_error_delta([2.5], [1.0])
    array([1.5])
    """
    z = _as_output(z, "z", "squared_error_delta")
    Y = _as_targets(y, z.shape, "squared_error", "squared_error_delta")
    _, f, df, kw = _resolve_activation(activation, "squared_error_delta")
    return (f(z, **kw) - Y) * df(z, **kw)


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------
class Loss(NamedTuple):
    """A loss of the course, as seen from the output layer's net input z^(L).

    Attributes
    ----------
    name : str
    value : callable ``value(z, y, activation, reduction="mean")``
        The loss of the outputs ``a^(L) = f_L(z)`` against ``y``.
    delta : callable ``delta(z, y, activation)``
        δ^(L) = ∂L/∂z^(L), per example, same shape as ``z``.
    output_activations : frozenset of str
        Names of the output activations f_L this loss may be paired with.
    """

    name: str
    value: Callable[..., Any]
    delta: Callable[..., NDArray[np.float64]]
    output_activations: frozenset[str]


def _sce_value(z: ArrayLike, y: ArrayLike, activation: Any = "softmax", reduction: Reduction = "mean") -> Any:
    return softmax_cross_entropy(z, y, reduction)


def _sce_delta(z: ArrayLike, y: ArrayLike, activation: Any = "softmax") -> NDArray[np.float64]:
    return softmax_cross_entropy_delta(z, y)


def _bce_value(z: ArrayLike, y: ArrayLike, activation: Any = "logistic", reduction: Reduction = "mean") -> Any:
    return binary_cross_entropy_from_logits(z, y, reduction)


def _bce_delta(z: ArrayLike, y: ArrayLike, activation: Any = "logistic") -> NDArray[np.float64]:
    return binary_cross_entropy_delta(z, y)


def _se_value(z: ArrayLike, y: ArrayLike, activation: Any = "identity", reduction: Reduction = "mean") -> Any:
    z = _as_output(z, "z", "squared_error")
    _, f, _, kw = _resolve_activation(activation, "squared_error")
    return squared_error(f(z, **kw), y, reduction)


_LOGISTIC_NAMES = frozenset(n for n in ("logistic", "sigmoid") if n in _activations.ACTIVATIONS)

LOSSES: Mapping[str, Loss] = NamedTable(
    {
        "softmax_cross_entropy": Loss("softmax_cross_entropy", _sce_value, _sce_delta, frozenset({"softmax"})),
        "binary_cross_entropy": Loss("binary_cross_entropy", _bce_value, _bce_delta, _LOGISTIC_NAMES),
        "squared_error": Loss(
            "squared_error", _se_value, squared_error_delta, frozenset(_activations.ACTIVATIONS)
        ),
    },
    "loss",
)
"""Read-only table of the course's losses keyed by name (see :class:`Loss`)."""

# how each loss reads its targets (see _as_targets)
_TARGET_KIND = MappingProxyType(
    {
        "softmax_cross_entropy": "cross_entropy",
        "binary_cross_entropy": "binary_cross_entropy",
        "squared_error": "squared_error",
    }
)


def get_loss(name: str) -> Loss:
    """Look up a loss by name in :data:`LOSSES`.

    Parameters
    ----------
    name : {"softmax_cross_entropy", "binary_cross_entropy", "squared_error"}

    Returns
    -------
    Loss

    Examples
    --------
    >>> get_loss("binary_cross_entropy").output_activations >= {"logistic"}
    True
    >>> get_loss("mse")
    Traceback (most recent call last):
    ...
    ValueError: get_loss: unknown loss 'mse'. Known: 'softmax_cross_entropy', 'binary_cross_entropy', 'squared_error'.
    """
    check_choice(name, list(LOSSES), "loss", "get_loss")
    return LOSSES[name]


def _check_loss_output(loss: str, activation: str, func: str) -> Loss:
    """Check that ``loss`` exists and may follow the output activation ``activation``."""
    check_choice(loss, list(LOSSES), "loss", func)
    spec = LOSSES[loss]
    if activation not in spec.output_activations:
        if loss == "squared_error":
            raise ValueError(
                f"{func}: the squared_error loss needs an elementwise output activation, got "
                f"{activation!r}. A softmax output pairs with loss='softmax_cross_entropy'."
            )
        want = "'softmax'" if loss == "softmax_cross_entropy" else "'logistic'"
        partner = {"softmax": "'softmax_cross_entropy'", "logistic": "'binary_cross_entropy'",
                   "sigmoid": "'binary_cross_entropy'"}.get(activation, "'squared_error'")
        raise ValueError(
            f"{func}: the {loss} loss needs the output activation {want} (its δ^(L) = ŷ − y relies on "
            f"that pairing), got {activation!r}. Change the last activation to {want}, or use "
            f"loss={partner} with {activation!r}."
        )
    return spec
