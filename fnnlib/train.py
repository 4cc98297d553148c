"""Training a feedforward network by stochastic gradient descent (nndl Algorithm 4.1).

Unit 5 of the course. The algorithm of the lecture:

1. start from initial weights and biases (here: a copy of ``params``);
2. each epoch, shuffle the N training examples;
3. walk through them one example (``batch_size=1``) or one mini-batch of B
   columns at a time: forward pass, backpropagation, then the update
   ``W^(l) ← W^(l) − α (∂L/∂W^(l) + λ W^(l))``, ``b^(l) ← b^(l) − α ∂L/∂b^(l)``;
4. after each epoch measure the error on the validation set, and stop once it
   has not improved for ``patience`` epochs, keeping the best weights seen.

With ``momentum = μ > 0`` the update uses classical (heavy-ball) momentum:
``v ← μ v − α g``, ``θ ← θ + v``, where ``g`` is the mini-batch gradient of the
regularised risk and ``v`` starts at 0 (the same rule as scikit-learn's
``solver="sgd"`` with ``nesterovs_momentum=False``).

The inner loop works on private copies. Each layer is stored as its augmented
matrix ``[W^(l) | b^(l)]`` (Unit 2: the bias is the weight of an always-one
input), and every a^(l-1) buffer carries an extra row of ones, so one matrix
product gives ``z^(l) = W^(l) a^(l-1) + b^(l)`` and one gives both
``∂L/∂W^(l)`` and ``∂L/∂b^(l)``. All parameters live in one flat vector θ,
every intermediate goes into a preallocated buffer, and θ is updated in place,
so a step costs a few numpy calls per layer. The caller's ``params`` are never
modified.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from fnnlib import losses as _losses
from fnnlib._progress import progress_bar
from fnnlib._validate import as_float_array, check_choice, check_positive_int, make_rng, resolve_alias
from fnnlib.network import (
    Params,
    _Act,
    _check_activations,
    _check_input,
    _check_lam,
    _check_params,
)

__all__ = ["History", "train", "evaluate"]


@dataclass
class History:
    """What happened during :func:`train`, one entry per epoch.

    Attributes
    ----------
    epoch : list of int
        Epoch numbers 1, 2, ... (one per completed epoch).
    train_loss : list of float
        Mean data loss (without the λ penalty) over the epoch's mini-batches,
        each measured just before its update: the running average that
        scikit-learn and Keras report.
    train_accuracy : list of float
        Fraction of training examples classified correctly, measured the same
        way (argmax over the outputs; for a single output, ``a^(L) > 0.5``).
    val_loss, val_accuracy : list of float
        Mean loss and accuracy on the validation set at the end of each epoch
        (empty lists when no validation set was given).
    best_epoch : int or None
        Epoch number with the best monitored validation value (None without
        a validation set).
    stopped_early : bool
        True if training stopped because of ``patience``.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def val_error(self) -> list[float]:
        """Validation error rate per epoch, ``1 − val_accuracy``."""
        return [1.0 - acc for acc in self.val_accuracy]


# ---------------------------------------------------------------------------
# kernels: one activation in place on preallocated buffers
# ---------------------------------------------------------------------------
# A forward kernel fills A from Z and returns the array that holds a^(l); a
# backward kernel multiplies D by f'(z^(l)) in place, given Z, A and a scratch
# buffer T. The four common activations get dedicated kernels that use a^(l)
# (e.g. tanh' = 1 − a²); every other activation calls its table entry.
def _fwd_relu(Z: NDArray, A: NDArray) -> NDArray:
    return np.maximum(Z, 0.0, out=A)


def _bwd_relu(D: NDArray, Z: NDArray, A: NDArray, T: NDArray) -> None:
    np.sign(A, out=T)  # a = max(z, 0) ≥ 0, so sign(a) = relu'(z): 1 for z > 0, else 0 (as the table)
    D *= T


def _fwd_tanh(Z: NDArray, A: NDArray) -> NDArray:
    return np.tanh(Z, out=A)


def _bwd_tanh(D: NDArray, Z: NDArray, A: NDArray, T: NDArray) -> None:
    np.multiply(A, A, out=T)
    np.subtract(1.0, T, out=T)  # tanh'(z) = 1 − a²
    D *= T


def _fwd_logistic(Z: NDArray, A: NDArray) -> NDArray:
    return expit(Z, out=A)  # stable σ, no overflow warning


def _bwd_logistic(D: NDArray, Z: NDArray, A: NDArray, T: NDArray) -> None:
    np.subtract(1.0, A, out=T)
    T *= A  # σ'(z) = a (1 − a)
    D *= T


def _fwd_identity(Z: NDArray, A: NDArray) -> NDArray:
    np.copyto(A, Z)
    return A


def _bwd_identity(D: NDArray, Z: NDArray, A: NDArray, T: NDArray) -> None:
    return None


_FAST = {
    "relu": (_fwd_relu, _bwd_relu),
    "tanh": (_fwd_tanh, _bwd_tanh),
    "logistic": (_fwd_logistic, _bwd_logistic),
    "identity": (_fwd_identity, _bwd_identity),
}


def _kernels(act: _Act) -> tuple[Callable[..., NDArray], Callable[..., None]]:
    if act.name in _FAST and not act.kw:
        return _FAST[act.name]
    f, df, kw = act.f, act.df, act.kw

    def fwd(Z: NDArray, A: NDArray) -> NDArray:
        A[...] = f(Z, **kw)
        return A

    def bwd(D: NDArray, Z: NDArray, A: NDArray, T: NDArray) -> None:
        D *= df(Z, **kw)  # type: ignore[misc]

    return fwd, bwd


# Output kernels, one mini-batch: from Z = z^(L) and the targets Yb (C, n_B), write
# a^(L) into A and scale · δ^(L) into D (scale = α / n_B). Z may be overwritten
# (softmax leaves the shifted logits z − max z there); aux is an (n_B,) vector
# the kernel may keep something in (softmax: Σ_k e^{z_k − max z}). The losses
# and accuracy of the whole epoch are computed once at its end from the kept
# Z, A and aux (see _EPOCH_LOSS), not batch by batch.
def _out_softmax_ce(Z: NDArray, A: NDArray, Yb: NDArray, D: NDArray, T: NDArray, aux: NDArray,
                    scale: float, kern: Any, ones_C: NDArray) -> None:
    np.maximum.reduce(Z, axis=0, out=aux)
    Z -= aux  # shifted logits z − max z: exp cannot overflow
    np.exp(Z, out=A)
    np.dot(ones_C, A, out=aux)  # Σ_k e^{z_k − m}, kept for the loss
    A /= aux  # softmax
    np.subtract(A, Yb, out=D)  # δ^(L) = ŷ − y, no Jacobian
    D *= scale


def _out_logistic_bce(Z: NDArray, A: NDArray, Yb: NDArray, D: NDArray, T: NDArray, aux: NDArray,
                      scale: float, kern: Any, ones_C: NDArray) -> None:
    expit(Z, out=A)  # stable σ
    np.subtract(A, Yb, out=D)  # δ^(L) = σ(z) − y
    D *= scale


def _out_squared_error(Z: NDArray, A: NDArray, Yb: NDArray, D: NDArray, T: NDArray, aux: NDArray,
                       scale: float, kern: Any, ones_C: NDArray) -> None:
    fwd, bwd = kern  # the output activation's kernels
    fwd(Z, A)
    np.subtract(A, Yb, out=D)
    bwd(D, Z, A, T)  # δ^(L) = (a − y) ⊙ f'(z)
    D *= scale


def _out_kernels(act: _Act) -> Any:
    return None if act.name == "softmax" else _kernels(act)


_OUT = {
    "softmax_cross_entropy": _out_softmax_ce,
    "binary_cross_entropy": _out_logistic_bce,
    "squared_error": _out_squared_error,
}


# Per-example losses (N,) from what the output kernels left in Z, A and aux.
# The class axis is -2: arrays are (C, N), or (K, C, B) for K mini-batches of B columns.
def _loss_softmax_ce(Z: NDArray, A: NDArray, Y: NDArray, aux: NDArray) -> NDArray:
    # L_n = log Σ_k e^{z_k − m} − Σ_c y_c (z_c − m)   (the columns of y sum to 1)
    return np.log(aux) - (Y * Z).sum(axis=-2)


def _loss_logistic_bce(Z: NDArray, A: NDArray, Y: NDArray, aux: NDArray) -> NDArray:
    # L_n = Σ_k log(1 + e^{z_k}) − y_k z_k
    return (np.logaddexp(0.0, Z) - Y * Z).sum(axis=-2)


def _loss_squared_error(Z: NDArray, A: NDArray, Y: NDArray, aux: NDArray) -> NDArray:
    return 0.5 * ((A - Y) ** 2).sum(axis=-2)  # L_n = ½ ‖a − y‖²


_EPOCH_LOSS = {
    "softmax_cross_entropy": _loss_softmax_ce,
    "binary_cross_entropy": _loss_logistic_bce,
    "squared_error": _loss_squared_error,
}


def _predicted_classes(A: NDArray[np.float64]) -> NDArray[np.intp]:
    """Class decisions from outputs of shape (C, N) (or (K, C, B)): argmax, or a > 0.5 for C = 1."""
    if A.shape[-2] == 1:
        return (A[..., 0, :] > 0.5).astype(np.intp)
    return A.argmax(axis=-2)


def _evaluate_unchecked(
    Ws: Sequence[NDArray], bs: Sequence[NDArray], acts: Sequence[_Act], X: NDArray, Y: NDArray,
    true: NDArray[np.intp], loss: str,
) -> tuple[float, float]:
    """Mean data loss and accuracy of the network on (X, Y), one batch."""
    a = X
    for W, b, act in zip(Ws[:-1], bs[:-1], acts[:-1]):
        Z = W @ a
        Z += b[:, None]
        a = _kernels(act)[0](Z, np.empty_like(Z))
    Z = Ws[-1] @ a
    Z += bs[-1][:, None]
    A, D, T = np.empty_like(Z), np.empty_like(Z), np.empty_like(Z)
    aux = np.empty(Z.shape[1])
    _OUT[loss](Z, A, Y, D, T, aux, 1.0, _out_kernels(acts[-1]), np.ones(Z.shape[0]))
    acc = float(np.mean(_predicted_classes(A) == true))
    return float(_EPOCH_LOSS[loss](Z, A, Y, aux).mean()), acc


def _true_classes(Y: NDArray[np.float64]) -> NDArray[np.intp]:
    if Y.shape[0] == 1:
        return (Y[0] > 0.5).astype(np.intp)
    return Y.argmax(axis=0)


def _prepare_data(
    X: ArrayLike, y: ArrayLike, M0: int, C: int, loss: str, func: str, xname: str, yname: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    X = _check_input(X, M0, func, xname)
    if X.ndim != 2:
        raise ValueError(
            f"{func}: {xname} must be a batch of shape (M_0, N) = ({M0}, N), one column per example; "
            f"got one example of shape ({M0},). Use X[:, None] for a batch of one."
        )
    Y = _losses._as_targets(y, (C, X.shape[1]), _losses._TARGET_KIND[loss], func, yname)
    return X, Y


def evaluate(
    params: Sequence[Mapping[str, ArrayLike]],
    X: ArrayLike,
    y: ArrayLike,
    activations: Sequence[Any],
    loss: str,
) -> tuple[float, float]:
    """Mean loss and classification accuracy of a network on a data set.

    Parameters
    ----------
    params : list of dict, length L
    X : array_like of shape (M_0, N)
        One column per example.
    y : array_like
        One-hot targets of shape (M_L, N) or integer labels of shape (N,).
    activations : list of str, length L
    loss : {"softmax_cross_entropy", "binary_cross_entropy", "squared_error"}

    Returns
    -------
    loss_value : float
        ``(1/N) Σ_n L(y_n, ŷ_n)`` (no penalty term).
    accuracy : float
        Fraction of columns whose predicted class (argmax of a^(L), or
        ``a^(L) > 0.5`` for a single output) matches the target's.

    Examples
    --------
    >>> params = [{"W": np.array([[1.0], [-1.0]]), "b": np.zeros(2)}]
    >>> X = np.array([[2.0, -3.0, 1.0]])
    >>> evaluate(params, X, [0, 1, 1], ["softmax"], "softmax_cross_entropy")[1]
    0.6666666666666666
    """
    Ws, bs = _check_params(params, "evaluate")
    acts = _check_activations(activations, len(Ws), "evaluate", loss)
    X, Y = _prepare_data(X, y, Ws[0].shape[1], Ws[-1].shape[0], loss, "evaluate", "X", "y")
    with np.errstate(over="ignore", under="ignore"):
        return _evaluate_unchecked(Ws, bs, acts, X, Y, _true_classes(Y), loss)


def _diverged(func: str, value: Any, epoch: int, alpha: float, mu: float) -> str:
    return (
        f"{func}: the training loss became {value} in epoch {epoch}: the updates diverged. Lower "
        f"learning_rate (now {alpha:g})" + (f" or momentum (now {mu:g})" if mu else "")
        + ", or standardise the inputs."
    )


def _positive_float(value: Any, name: str, func: str) -> float:
    arr = as_float_array(value, name, func)
    if arr.ndim != 0 or not float(arr) > 0.0:
        raise ValueError(f"{func}: {name} must be a single number > 0, got {value!r}.")
    return float(arr)


def train(
    params: Sequence[Mapping[str, ArrayLike]],
    X: ArrayLike,
    y: ArrayLike,
    activations: Sequence[Any],
    loss: str,
    *,
    learning_rate: float | None = None,
    epochs: int = 100,
    batch_size: int = 1,
    lam: float | None = None,
    momentum: float = 0.0,
    X_val: ArrayLike | None = None,
    y_val: ArrayLike | None = None,
    patience: int | None = None,
    monitor: str = "val_error",
    shuffle: bool = True,
    rng: np.random.Generator | int | None = None,
    progress: bool | Callable[[int, History], Any] | None = None,
    lr: float | None = None,
    l2: float | None = None,
    early_stopping: int | None = None,
    verbose: bool | None = None,
    validation_data: tuple[ArrayLike, ArrayLike] | None = None,
) -> tuple[Params, History]:
    """Train a network with (mini-batch) stochastic gradient descent.

    Parameters
    ----------
    params : list of dict, length L
        Initial ``params[l-1] = {"W": W^(l) (M_l, M_{l-1}), "b": b^(l) (M_l,)}``,
        e.g. from :func:`fnnlib.network.init_params`. Not modified.
    X : array_like of shape (M_0, N)
        Training inputs, one column per example.
    y : array_like
        Integer labels of shape (N,), or targets of shape (M_L, N) (one-hot
        columns, or real values for squared error).
    activations : list of str, length L
        ``[f_1, ..., f_L]`` as for :func:`fnnlib.network.forward`.
    loss : {"softmax_cross_entropy", "binary_cross_entropy", "squared_error"}
    learning_rate : float, default 0.1
        The step size α > 0.
    epochs : int, default 100
        Maximum number of passes over the training set.
    batch_size : int, default 1
        Examples per update: 1 is the per-example SGD of the lecture's
        algorithm; a value ≥ N gives full-batch gradient descent. The last
        mini-batch of an epoch holds the N mod B leftover examples.
    lam : float, default 0.0
        λ ≥ 0 of the L2 penalty (λ/2) Σ ‖W^(l)‖_F² (weight decay); biases are
        not penalised.
    momentum : float, default 0.0
        μ in [0, 1): classical momentum ``v ← μ v − α g``, ``θ ← θ + v``.
    X_val, y_val : array_like, optional
        Validation set, same layout as ``X`` and ``y``; evaluated after each epoch.
    patience : int, optional
        Early stopping: stop when the monitored validation value has not
        improved (strictly) for ``patience`` consecutive epochs, and return the
        parameters of the best epoch. Needs a validation set. Without it all
        ``epochs`` run and the final parameters are returned.
    monitor : {"val_error", "val_loss"}
        What early stopping and ``best_epoch`` look at: the validation error
        rate (as in the lecture's algorithm) or the validation loss.
    shuffle : bool, default True
        Reshuffle the training examples at the start of every epoch.
    rng : numpy.random.Generator, int or None
        Source of the shuffles; the same seed gives the same run.
    progress : bool or callable, optional
        ``True`` shows a tqdm bar on stdout (never stderr); a callable is
        called as ``progress(epoch, history)`` after every epoch. Nothing is
        printed by default.
    lr, l2, early_stopping, verbose : optional
        Aliases of ``learning_rate``, ``lam``, ``patience`` and ``progress``,
        the names :mod:`fnnlib.models` (Keras) uses for the same settings. Give
        either name, or both with the same value.
    validation_data : (X_val, y_val), optional
        The validation set as one pair, as ``Sequential.fit`` takes it (here in
        the course layout, X_val of shape (M_0, N_val)); instead of ``X_val``
        and ``y_val``, not with them.

    Returns
    -------
    params : list of dict, length L
        The trained parameters (new arrays).
    history : History
        Per-epoch training and validation loss and accuracy, the best epoch,
        and whether training stopped early.

    Raises
    ------
    FloatingPointError
        When the training loss becomes NaN or infinite (the updates diverged:
        lower the learning rate).

    Notes
    -----
    One step on a mini-batch B of size n_B (columns of X):
    ``g_W^(l) = Δ^(l) A^(l-1)ᵀ / n_B + λ W^(l)``, ``g_b^(l) = Δ^(l) 1 / n_B``
    (backpropagation as in :func:`fnnlib.network.backward`), then
    ``θ ← θ − α g`` (or the momentum update). This is nndl's Algorithm 4.1,
    with mini-batches and momentum as options.

    Examples
    --------
    >>> from fnnlib.network import init_params, predict
    >>> X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])   # XOR, one column per example
    >>> y = np.array([0, 1, 1, 0])
    >>> p0 = init_params([2, 4, 1], "xavier", rng=0)
    >>> p, hist = train(p0, X, y, ["tanh", "logistic"], "binary_cross_entropy",
    ...                 learning_rate=0.5, epochs=500, rng=0)
    >>> (predict(p, X, ["tanh", "logistic"]) > 0.5).astype(int)
    array([[0, 1, 1, 0]])
    >>> hist.train_accuracy[-1]
    1.0
    """
    func = "train"
    learning_rate = resolve_alias(learning_rate, lr, "learning_rate", "lr", func, 0.1)
    lam = resolve_alias(lam, l2, "lam", "l2", func, 0.0)
    patience = resolve_alias(patience, early_stopping, "patience", "early_stopping", func)
    progress = resolve_alias(progress, verbose, "progress", "verbose", func)
    Ws0, bs0 = _check_params(params, func)
    L = len(Ws0)
    acts = _check_activations(activations, L, func, loss)
    sizes = [Ws0[0].shape[1]] + [W.shape[0] for W in Ws0]
    M0, C = sizes[0], sizes[-1]
    X, Y = _prepare_data(X, y, M0, C, loss, func, "X", "y")
    N = X.shape[1]
    alpha = _positive_float(learning_rate, "learning_rate", func)
    if not math.isfinite(alpha):
        raise ValueError(f"{func}: learning_rate must be finite, got {learning_rate!r}.")
    epochs = check_positive_int(epochs, "epochs", func)
    B = min(check_positive_int(batch_size, "batch_size", func), N)
    lam = _check_lam(lam, func)
    mu = float(as_float_array(momentum, "momentum", func))
    if not 0.0 <= mu < 1.0:
        raise ValueError(f"{func}: momentum must be in [0, 1), got {momentum!r}.")
    check_choice(monitor, ("val_error", "val_loss"), "monitor", func)
    if validation_data is not None:
        if X_val is not None or y_val is not None:
            raise TypeError(
                f"{func}: give the validation set once: X_val and y_val, or validation_data=(X_val, y_val) "
                "(its alias), not both."
            )
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(f"{func}: validation_data must be a pair (X_val, y_val), got {type(validation_data).__name__}.")
        X_val, y_val = validation_data
    if (X_val is None) != (y_val is None):
        raise ValueError(f"{func}: give both X_val and y_val for a validation set, or neither.")
    has_val = X_val is not None
    if has_val:
        Xv, Yv = _prepare_data(X_val, y_val, M0, C, loss, func, "X_val", "y_val")  # type: ignore[arg-type]
        true_v = _true_classes(Yv)
    if patience is not None:
        patience = check_positive_int(patience, "patience", func)
        if not has_val:
            raise ValueError(
                f"{func}: early stopping (patience={patience}) needs a validation set; pass X_val and "
                "y_val, or leave patience=None to run all epochs."
            )
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise TypeError(f"{func}: progress must be True/False, None or a callable(epoch, history).")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"{func}: shuffle must be True or False, got {shuffle!r}.")
    gen = make_rng(rng, func)

    # --- private copies: θ = [vec [W^(1) | b^(1)], ..., vec [W^(L) | b^(L)]] ---
    theta = np.empty(sum((W.shape[1] + 1) * W.shape[0] for W in Ws0))
    step = np.zeros_like(theta)  # α · (gradient of the risk), written layer by layer
    W_augs: list[NDArray] = []  # [W^(l) | b^(l)], shape (M_l, M_{l-1} + 1), views into θ
    g_augs: list[NDArray] = []  # the matching views into the step vector
    decay_coef = np.zeros_like(theta) if lam else None  # α λ on weights, 0 on biases
    offset = 0
    for W0, b0 in zip(Ws0, bs0):
        shape = (W0.shape[0], W0.shape[1] + 1)
        size = shape[0] * shape[1]
        W_augs.append(theta[offset:offset + size].reshape(shape))
        g_augs.append(step[offset:offset + size].reshape(shape))
        W_augs[-1][:, :-1] = W0
        W_augs[-1][:, -1] = b0
        if decay_coef is not None:
            decay_coef[offset:offset + size].reshape(shape)[:, :-1] = alpha * lam
        offset += size
    Ws = [Wa[:, :-1] for Wa in W_augs]  # views: they follow the in-place updates
    bs = [Wa[:, -1] for Wa in W_augs]
    W_Ts = [W.T for W in Ws]
    decay = np.empty_like(theta) if lam else None
    velocity = np.zeros_like(theta) if mu else None

    kernels = [_kernels(act) for act in acts[:-1]]
    fwds = [k[0] for k in kernels]
    bwds = [k[1] for k in kernels]
    out_kernel = _OUT[loss]
    out_kern = _out_kernels(acts[-1])
    epoch_loss = _EPOCH_LOSS[loss]

    # --- data, stored example-major with a column of ones (the augmented input [x; 1]),
    #     so each mini-batch is one contiguous block of rows ---
    XT = np.ones((N, M0 + 1))
    XT[:, :M0] = X.T
    YT = np.ascontiguousarray(Y.T)  # (N, C)
    true = _true_classes(Y)
    XsT, YsT = np.empty_like(XT), np.empty_like(YT)
    true_s = np.empty_like(true)

    # --- mini-batches: K full ones of B columns, then possibly one of N − K B ---
    # Buffers are preallocated. The output layer's z^(L), a^(L) and aux of every
    # mini-batch are kept for the whole epoch, in blocks of shape (K, C, B) (each
    # block contiguous), so the epoch's running loss and accuracy are computed in
    # one go at its end.
    K, rest = divmod(N, B)
    Z_blocks, A_blocks, aux_blocks = np.empty((K, C, B)), np.empty((K, C, B)), np.empty((K, B))
    Z_rest, A_rest, aux_rest = np.empty((C, rest)), np.empty((C, rest)), np.empty(rest)
    Y_blocks = YsT[:K * B].reshape(K, B, C).transpose(0, 2, 1)  # views of the shuffled targets
    Y_rest = YsT[K * B:].T
    ones_C = np.ones(C)
    buffers = {}
    for nb in {B, rest} - {0}:
        Zb = [np.empty((m, nb)) for m in sizes[1:-1]]
        A_aug = [np.ones((m + 1, nb)) for m in sizes[1:-1]]  # [a^(l); 1], the ones row stays
        Ab = [A[:-1] for A in A_aug]
        Db = [np.empty((m, nb)) for m in sizes[1:]]
        Tb = [np.empty((m, nb)) for m in sizes[1:]]
        buffers[nb] = (Zb, A_aug, Ab, Db, Tb)
    # everything a step needs, as views made once: the arrays above are refilled in place
    steps = [
        (XsT[s:s + B].T, YsT[s:s + B].T, buffers[B], alpha / B, Z_blocks[k], A_blocks[k], aux_blocks[k])
        for k, s in enumerate(range(0, K * B, B))
    ]
    if rest:
        steps.append((XsT[K * B:].T, Y_rest, buffers[rest], alpha / rest, Z_rest, A_rest, aux_rest))

    history = History()
    best_value = math.inf
    best_theta: NDArray | None = None
    wait = 0
    bar = None
    if progress is True:
        bar = progress_bar(epochs, "epochs")

    try:
        for epoch in range(1, epochs + 1):
            if shuffle:
                perm = gen.permutation(N)
                np.take(XT, perm, axis=0, out=XsT)
                np.take(YT, perm, axis=0, out=YsT)
                np.take(true, perm, out=true_s)
            elif epoch == 1:
                XsT[...], YsT[...], true_s[...] = XT, YT, true
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                    for a, Yb, (Zb, A_aug, Ab, Db, Tb), scale, Z_L, A_L, aux in steps:
                        # a = [a^(0); 1] of shape (M_0 + 1, n_B) and Yb of shape (C, n_B): views
                        # forward: z^(l) = [W^(l) | b^(l)] [a^(l-1); 1], a^(l) = f_l(z^(l))
                        acts_in = [a]
                        for l in range(L - 1):
                            Z = np.matmul(W_augs[l], a, out=Zb[l])
                            fwds[l](Z, Ab[l])
                            a = A_aug[l]
                            acts_in.append(a)
                        np.matmul(W_augs[-1], a, out=Z_L)
                        # output layer: a^(L) and α δ^(L) / n_B
                        out_kernel(Z_L, A_L, Yb, Db[-1], Tb[-1], aux, scale, out_kern, ones_C)
                        # backward, straight into the flat step vector α g (α folded into δ^(L))
                        D = Db[-1]
                        for l in range(L - 1, -1, -1):
                            # α [Δ^(l) A^(l-1)ᵀ | Δ^(l) 1] / n_B: weight and bias gradients at once
                            np.matmul(D, acts_in[l].T, out=g_augs[l])
                            if l:
                                D_prev = np.matmul(W_Ts[l], D, out=Db[l - 1])  # W^(l)ᵀ Δ^(l)
                                bwds[l - 1](D_prev, Zb[l - 1], Ab[l - 1], Tb[l - 1])  # ⊙ f'(z^(l-1))
                                D = D_prev
                        # update θ; weight decay α λ W on the weights only
                        if lam:
                            np.multiply(theta, decay_coef, out=decay)
                            step += decay
                        if mu:
                            velocity *= mu  # v ← μ v − α g
                            velocity -= step
                            theta += velocity  # θ ← θ + v
                        else:
                            theta -= step  # θ ← θ − α g
            except ValueError as exc:  # an activation refused a NaN/inf produced by diverging weights
                if np.isfinite(theta).all():
                    raise
                raise FloatingPointError(_diverged(func, "NaN/inf", epoch, alpha, mu)) from exc

            # the epoch's running loss and accuracy: each example as seen in its mini-batch
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                loss_sum = float(epoch_loss(Z_blocks, A_blocks, Y_blocks, aux_blocks).sum())
                correct = np.count_nonzero(_predicted_classes(A_blocks).ravel() == true_s[:K * B])
                if rest:
                    loss_sum += float(epoch_loss(Z_rest, A_rest, Y_rest, aux_rest).sum())
                    correct += np.count_nonzero(_predicted_classes(A_rest) == true_s[K * B:])
            train_loss = loss_sum / N
            if not math.isfinite(train_loss) or not np.isfinite(theta).all():
                raise FloatingPointError(_diverged(func, train_loss, epoch, alpha, mu))
            history.epoch.append(epoch)
            history.train_loss.append(train_loss)
            history.train_accuracy.append(float(correct) / N)
            if has_val:
                with np.errstate(over="ignore", under="ignore"):
                    v_loss, v_acc = _evaluate_unchecked(Ws, bs, acts, Xv, Yv, true_v, loss)
                history.val_loss.append(v_loss)
                history.val_accuracy.append(v_acc)
                value = 1.0 - v_acc if monitor == "val_error" else v_loss
                if value < best_value:
                    best_value, history.best_epoch, wait = value, epoch, 0
                    if patience is not None:
                        best_theta = theta.copy()
                else:
                    wait += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{train_loss:.4g}")
            elif callable(progress) and not isinstance(progress, bool):
                progress(epoch, history)
            if patience is not None and wait >= patience:
                history.stopped_early = epoch < epochs
                break
    finally:
        if bar is not None:
            bar.close()

    if best_theta is not None:
        theta[...] = best_theta
    trained = [{"W": W.copy(), "b": b.copy()} for W, b in zip(Ws, bs)]  # contiguous copies
    return trained, history
