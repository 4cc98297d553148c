"""A fully connected feedforward network: initialisation, forward pass, backpropagation, risk.

Units 2 and 5 of the course, in the nndl notation. A network with
``layer_sizes = [M_0, M_1, ..., M_L]`` has parameters

    params[l-1] = {"W": W^(l) of shape (M_l, M_{l-1}), "b": b^(l) of shape (M_l,)},  l = 1..L

(Python lists count from 0, the layers from 1; hence ``params[l-1]``). The
forward pass is

    z^(l) = W^(l) a^(l-1) + b^(l),    a^(l) = f_l(z^(l)),    a^(0) = x,

for one example x of shape (M_0,), or for a batch X of shape (M_0, N) with one
column per example (then ``Z^(l) = W^(l) A^(l-1) + b^(l) 1ᵀ`` has shape
(M_l, N)). Backpropagation (denominator layout: a gradient has the shape of
the quantity it is taken with respect to) computes the error terms

    δ^(L) = ∂L/∂z^(L)                                    (from the loss, see fnnlib.losses)
    δ^(l) = f_l'(z^(l)) ⊙ (W^(l+1)ᵀ δ^(l+1)),             l = L-1, ..., 1

and the gradients ``∂L/∂W^(l) = δ^(l) a^(l-1)ᵀ``, ``∂L/∂b^(l) = δ^(l)``; for a
batch they are averaged, ``dW^(l) = Δ^(l) A^(l-1)ᵀ / N``,
``db^(l) = Δ^(l) 1 / N``. The regularised (structural) risk is

    R = (1/N) Σ_n L(y_n, ŷ_n) + (λ/2) Σ_l ‖W^(l)‖_F²,

with no penalty on the biases, so its gradient adds ``λ W^(l)`` to ``dW^(l)``
only.

``activations`` is a list of L names ``[f_1, ..., f_L]`` from
:data:`fnnlib.activations.ACTIVATIONS` (an entry may also be a pair
``(name, params)``, e.g. ``("leaky_relu", {"gamma": 0.1})``), plus
``"softmax"`` for the output layer. Softmax is allowed only as f_L and, in
backpropagation, only with the ``"softmax_cross_entropy"`` loss; a
``"logistic"`` output pairs with ``"binary_cross_entropy"``; ``"squared_error"``
accepts any elementwise output activation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib import activations as _activations
from fnnlib import losses as _losses
from fnnlib._validate import as_float_array, check_choice, make_rng, shape_str
from fnnlib.params import check_layer_sizes

__all__ = [
    "INIT_METHODS",
    "init_params",
    "copy_params",
    "ForwardPass",
    "BackwardPass",
    "forward",
    "backward",
    "risk",
    "risk_and_grads",
    "predict",
]

Params = list[dict[str, NDArray[np.float64]]]

INIT_METHODS: tuple[str, ...] = (
    "xavier", "xavier_normal", "glorot", "glorot_normal", "he", "he_uniform", "zeros", "normal", "uniform",
)
"""Names accepted by :func:`init_params` (``glorot*`` are aliases of ``xavier*``)."""


# ---------------------------------------------------------------------------
# initialisation
# ---------------------------------------------------------------------------
def init_params(
    layer_sizes: Sequence[int],
    method: str = "xavier",
    rng: np.random.Generator | int | None = None,
    *,
    scale: float = 0.01,
    gain: float = 1.0,
) -> Params:
    """Initial weights and biases of a fully connected network.

    Parameters
    ----------
    layer_sizes : sequence of int, length L + 1
        ``[M_0, M_1, ..., M_L]``.
    method : str
        How to draw each ``W^(l)``, with fan-in ``M_{l-1}`` and fan-out ``M_l``:

        - ``"xavier"`` (alias ``"glorot"``): uniform U(−r, r) with
          ``r = gain · sqrt(6 / (M_{l-1} + M_l))`` (Glorot & Bengio, 2010);
        - ``"xavier_normal"`` (alias ``"glorot_normal"``): normal
          N(0, σ²) with ``σ² = gain² · 2 / (M_{l-1} + M_l)`` (same paper, same
          variance as the uniform variant);
        - ``"he"``: normal N(0, σ²) with ``σ² = gain² · 2 / M_{l-1}``
          (He et al., 2015), meant for ReLU layers;
        - ``"he_uniform"``: U(−r, r) with ``r = gain · sqrt(6 / M_{l-1})``,
          the same variance;
        - ``"zeros"``: all weights 0 (to show the symmetry problem of Unit 7:
          every hidden unit of a layer then stays identical);
        - ``"normal"``: N(0, scale²); ``"uniform"``: U(−scale, scale).
    rng : numpy.random.Generator, int or None
        Source of randomness (an int seeds a new Generator).
    scale : float, default 0.01
        Standard deviation (``"normal"``) or half-width (``"uniform"``).
    gain : float, default 1.0
        Factor on the Xavier/He spread. nndl suggests ``gain=4`` for Xavier
        with logistic units (σ'(0) = 1/4, whereas tanh'(0) = 1).

    Returns
    -------
    params : list of dict, length L
        ``params[l-1] = {"W": W^(l) of shape (M_l, M_{l-1}), "b": b^(l) of shape (M_l,)}``;
        the biases start at 0.

    Notes
    -----
    Xavier keeps the variance of the activations and of the back-propagated
    gradients roughly constant from layer to layer for symmetric activations
    near their linear regime: ``Var(w) = 2 / (M_{l-1} + M_l)``, and
    U(−r, r) has variance ``r²/3``, whence ``r = sqrt(6 / (M_{l-1} + M_l))``.
    He initialisation doubles the fan-in variance to ``2 / M_{l-1}`` because a
    ReLU passes on only half of its input's second moment.

    Examples
    --------
    >>> params = init_params([3, 4, 2], "xavier", rng=0)
    >>> [(p["W"].shape, p["b"].shape) for p in params]
    [((4, 3), (4,)), ((2, 4), (2,))]
    >>> bool(np.abs(params[0]["W"]).max() <= np.sqrt(6 / (3 + 4)))
    True
    """
    sizes = check_layer_sizes(layer_sizes, "init_params")
    check_choice(method, INIT_METHODS, "initialisation method", "init_params")
    scale = _nonneg_float(scale, "scale", "init_params")
    gain = _nonneg_float(gain, "gain", "init_params")
    gen = make_rng(rng, "init_params")
    params: Params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        shape = (fan_out, fan_in)
        if method in ("xavier", "glorot"):
            r = gain * np.sqrt(6.0 / (fan_in + fan_out))
            W = gen.uniform(-r, r, size=shape)
        elif method in ("xavier_normal", "glorot_normal"):
            W = gen.normal(0.0, gain * np.sqrt(2.0 / (fan_in + fan_out)), size=shape)
        elif method == "he":
            W = gen.normal(0.0, gain * np.sqrt(2.0 / fan_in), size=shape)
        elif method == "he_uniform":
            r = gain * np.sqrt(6.0 / fan_in)
            W = gen.uniform(-r, r, size=shape)
        elif method == "normal":
            W = gen.normal(0.0, scale, size=shape)
        elif method == "uniform":
            W = gen.uniform(-scale, scale, size=shape)
        else:  # "zeros"
            W = np.zeros(shape)
        params.append({"W": W, "b": np.zeros(fan_out)})
    return params


def _nonneg_float(value: Any, name: str, func: str) -> float:
    arr = as_float_array(value, name, func)
    if arr.ndim != 0 or float(arr) < 0.0:
        raise ValueError(f"{func}: {name} must be a single number >= 0, got {value!r}.")
    return float(arr)


def copy_params(params: Sequence[Mapping[str, ArrayLike]]) -> Params:
    """An independent float64 copy of ``params`` (after checking it).

    Parameters
    ----------
    params : list of dict, length L
        ``params[l-1] = {"W": W^(l), "b": b^(l)}``.

    Returns
    -------
    list of dict
        New arrays; changing them leaves ``params`` alone.

    Examples
    --------
    >>> p = init_params([2, 1], rng=0)
    >>> q = copy_params(p)
    >>> q[0]["W"][...] = 0.0
    >>> bool(np.any(p[0]["W"] != 0.0))
    True
    """
    Ws, bs = _check_params(params, "copy_params")
    return [{"W": W.copy(), "b": b.copy()} for W, b in zip(Ws, bs)]


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------
def _check_params(
    params: Any, func: str
) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """Check the list-of-dicts structure and the chain of shapes; return (Ws, bs)."""
    if isinstance(params, Mapping) or not isinstance(params, Sequence) or len(params) == 0:
        raise TypeError(
            f"{func}: params must be a non-empty list of dicts, params[l-1] = "
            f"{{'W': W^(l), 'b': b^(l)}} for l = 1..L (as returned by init_params), got "
            f"{type(params).__name__}."
        )
    Ws, bs = [], []
    for i, layer in enumerate(params):
        l = i + 1
        if not isinstance(layer, Mapping) or "W" not in layer or "b" not in layer:
            raise TypeError(
                f"{func}: params[{i}] must be a dict with keys 'W' (W^({l})) and 'b' (b^({l})), got "
                f"{type(layer).__name__}{' with keys ' + repr(sorted(layer)) if isinstance(layer, Mapping) else ''}."
            )
        W = as_float_array(layer["W"], f"params[{i}]['W'] (W^({l}))", func)
        b = as_float_array(layer["b"], f"params[{i}]['b'] (b^({l}))", func)
        if W.ndim != 2 or 0 in W.shape:
            raise ValueError(
                f"{func}: params[{i}]['W'] (W^({l})) must be a matrix of shape (M_{l}, M_{l - 1}), "
                f"got shape {shape_str(W.shape)}."
            )
        if b.shape != (W.shape[0],):
            hint = ""
            if b.shape == W.shape:
                hint = " The bias has one entry per neuron (b^(l) ∈ R^{M_l}), not one per weight."
            elif b.ndim == 2 and 1 in b.shape and b.size == W.shape[0]:
                hint = f" Flatten it: b.ravel() or b.reshape({W.shape[0]})."
            raise ValueError(
                f"{func}: params[{i}]['b'] (b^({l})) has shape {shape_str(b.shape)}; expected "
                f"(M_{l},) = ({W.shape[0]},) to match W^({l}) of shape {shape_str(W.shape)}.{hint}"
            )
        if Ws and W.shape[1] != Ws[-1].shape[0]:
            prev = Ws[-1]
            hint = ""
            if W.shape[0] == prev.shape[0]:
                hint = f" W^({l}) looks transposed: the course stores W^(l) as (M_l, M_{{l-1}})."
            raise ValueError(
                f"{func}: params[{i}]['W'] (W^({l})) has shape {shape_str(W.shape)} but W^({l - 1}) "
                f"has shape {shape_str(prev.shape)}; expected (M_{l}, M_{l - 1}) = "
                f"({W.shape[0]}, {prev.shape[0]}), since layer {l - 1} has M_{l - 1} = {prev.shape[0]} "
                f"neurons.{hint}"
            )
        Ws.append(W)
        bs.append(b)
    return Ws, bs


class _Act(NamedTuple):
    name: str  # canonical name, or "softmax"
    f: Callable[..., Any]
    df: Callable[..., Any] | None
    kw: dict[str, Any]


def _softmax_cols(z: NDArray[np.float64]) -> NDArray[np.float64]:
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def _check_activations(activations: Any, L: int, func: str, loss: str | None = None) -> list[_Act]:
    """Resolve the list of L activation names; softmax only last (and with its loss)."""
    if isinstance(activations, str) or not isinstance(activations, Sequence):
        raise TypeError(
            f"{func}: activations must be a list of L = {L} names [f_1, ..., f_L], one per layer, "
            f"e.g. {['relu'] * (L - 1) + ['softmax']!r}; got {activations!r}."
        )
    if len(activations) != L:
        raise ValueError(
            f"{func}: activations has {len(activations)} entries but the network has L = {L} layers; "
            f"give one activation per layer [f_1, ..., f_L] (none for the input a^(0) = x)."
        )
    out: list[_Act] = []
    for i, spec in enumerate(activations):
        name, kw = _activations._parse_activation(spec, func, f" for layer {i + 1}")
        if name == "softmax":
            if i != L - 1:
                raise ValueError(
                    f"{func}: softmax is only allowed on the output layer L = {L}, got it for layer "
                    f"{i + 1}. Use an elementwise activation such as 'relu' or 'tanh' for hidden layers."
                )
            out.append(_Act("softmax", _softmax_cols, None, kw))
        else:
            act = _activations.ACTIVATIONS[name]
            out.append(_Act(act.name, act.f, act.df, kw))
    if loss is not None:
        check_choice(loss, list(_losses.LOSSES), "loss", func)
        _losses._check_loss_output(loss, out[-1].name, func)
    return out


def _check_input(x: ArrayLike, M0: int, func: str, name: str = "x") -> NDArray[np.float64]:
    """Return ``x`` as float64 of shape (M_0,) or (M_0, N), or raise with a hint."""
    arr = as_float_array(x, name, func)
    if arr.ndim == 1 and arr.shape[0] == M0:
        return arr
    if arr.ndim == 2 and arr.shape[0] == M0 and arr.shape[1] >= 1:
        return arr
    msg = (
        f"{func}: {name} has shape {shape_str(arr.shape)}; expected (M_0,) = ({M0},) for one example "
        f"or (M_0, N) = ({M0}, N) for a batch, one column per example, since W^(1) has "
        f"M_0 = {M0} columns."
    )
    if arr.ndim == 2 and arr.shape[1] == M0:
        msg += " It looks transposed: did you pass the (N, D) array instead of its transpose .T?"
    elif arr.ndim == 2 and arr.shape[1] == 0:
        msg += " The batch is empty (N = 0)."
    raise ValueError(msg)


# ---------------------------------------------------------------------------
# forward and backward
# ---------------------------------------------------------------------------
class ForwardPass(NamedTuple):
    """Everything the forward pass computed, layer by layer.

    Attributes
    ----------
    z : list, length L + 1
        ``z[0] = None``; ``z[l] = z^(l)``, shape (M_l,) or (M_l, N).
    a : list, length L + 1
        ``a[0] = x``; ``a[l] = a^(l) = f_l(z^(l))``, shape (M_l,) or (M_l, N).
    """

    z: list[NDArray[np.float64] | None]
    a: list[NDArray[np.float64]]


class BackwardPass(NamedTuple):
    """Gradients and error terms from backpropagation.

    Attributes
    ----------
    grads : list of dict, length L
        ``grads[l-1] = {"W": ∂R/∂W^(l) of shape (M_l, M_{l-1}), "b": ∂R/∂b^(l) of shape (M_l,)}``,
        averaged over the batch, including ``λ W^(l)`` when λ > 0.
    deltas : list, length L + 1
        ``deltas[0] = None``; ``deltas[l] = δ^(l) = ∂L/∂z^(l)``, shape (M_l,) or
        (M_l, N), one column per example (per-example, not divided by N).
    """

    grads: Params
    deltas: list[NDArray[np.float64] | None]


def _forward_unchecked(
    Ws: Sequence[NDArray[np.float64]], bs: Sequence[NDArray[np.float64]], x: NDArray[np.float64],
    acts: Sequence[_Act],
) -> ForwardPass:
    z: list[NDArray[np.float64] | None] = [None]
    a: list[NDArray[np.float64]] = [x]
    for W, b, act in zip(Ws, bs, acts):
        zl = W @ a[-1] + (b if x.ndim == 1 else b[:, None])
        z.append(zl)
        a.append(np.asarray(act.f(zl, **act.kw), dtype=np.float64))
    return ForwardPass(z, a)


def forward(
    params: Sequence[Mapping[str, ArrayLike]], x: ArrayLike, activations: Sequence[Any]
) -> ForwardPass:
    """Forward propagation through every layer, keeping each z^(l) and a^(l).

    Parameters
    ----------
    params : list of dict, length L
        ``params[l-1] = {"W": W^(l) of shape (M_l, M_{l-1}), "b": b^(l) of shape (M_l,)}``.
    x : array_like of shape (M_0,) or (M_0, N)
        One example, or a batch with one column per example.
    activations : list of str, length L
        ``[f_1, ..., f_L]``; "softmax" only for the last layer.

    Returns
    -------
    ForwardPass
        ``(z, a)`` with ``z[0] = None``, ``a[0] = x`` and, for l = 1..L,
        ``z[l] = z^(l)`` and ``a[l] = a^(l)``, each of shape (M_l,) or (M_l, N).

    Notes
    -----
    ``z^(l) = W^(l) a^(l-1) + b^(l)`` and ``a^(l) = f_l(z^(l))``. For a batch
    the bias is added to every column (broadcast ``b[:, None]``), so
    ``Z^(l) = W^(l) A^(l-1) + b^(l) 1ᵀ``: the same formula, one column per
    example.

    Examples
    --------
    >>> params = [{"W": np.array([[1.0, -1.0], [0.5, 1.0]]), "b": np.array([0.0, 1.0])},
    ...           {"W": np.array([[2.0, 1.0]]), "b": np.array([-1.0])}]
    >>> fp = forward(params, np.array([1.0, 2.0]), ["relu", "identity"])
    >>> fp.z[1], fp.a[1], fp.a[2]
    (array([-1. ,  3.5]), array([0. , 3.5]), array([2.5]))
    """
    Ws, bs = _check_params(params, "forward")
    acts = _check_activations(activations, len(Ws), "forward")
    x = _check_input(x, Ws[0].shape[1], "forward")
    return _forward_unchecked(Ws, bs, x, acts)


def predict(params: Sequence[Mapping[str, ArrayLike]], x: ArrayLike, activations: Sequence[Any]) -> NDArray[np.float64]:
    """The network's output ``a^(L) = φ(x; W, b)``.

    Parameters
    ----------
    params : list of dict, length L
    x : array_like of shape (M_0,) or (M_0, N)
        One example, or a batch with one column per example.
    activations : list of str, length L

    Returns
    -------
    a_L : ndarray of shape (M_L,) or (M_L, N)
        For a softmax output each column is a probability distribution over
        the M_L classes; for a single logistic unit, the probability of class 1.

    Examples
    --------
    >>> params = init_params([2, 3, 4], rng=0)
    >>> predict(params, np.zeros((2, 5)), ["tanh", "softmax"]).sum(axis=0)
    array([1., 1., 1., 1., 1.])
    """
    return forward(params, x, activations).a[-1]


def _check_forward_pass(
    fp: Any, Ws: Sequence[NDArray[np.float64]], func: str
) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """Check that ``fp`` is a forward pass of a network with these weights; return (z, a)."""
    L = len(Ws)
    z, a = (fp.z, fp.a) if isinstance(fp, ForwardPass) else (None, None)
    if z is None and isinstance(fp, tuple) and len(fp) == 2:
        z, a = fp
    if z is None or not isinstance(z, Sequence) or not isinstance(a, Sequence):
        raise TypeError(f"{func}: fp must be the ForwardPass returned by forward(params, x, activations).")
    if len(z) != L + 1 or len(a) != L + 1:
        raise ValueError(
            f"{func}: fp holds {len(a) - 1} layers but params has L = {L}; pass the ForwardPass "
            "computed with these params."
        )
    x = _check_input(a[0], Ws[0].shape[1], func, "fp.a[0] (the input x)")
    tail = x.shape[1:]
    zs: list[NDArray[np.float64]] = [x]  # placeholder at index 0, never used as a z
    as_: list[NDArray[np.float64]] = [x]
    for l in range(1, L + 1):
        want = (Ws[l - 1].shape[0], *tail)
        zl = as_float_array(z[l], f"fp.z[{l}]", func)
        al = as_float_array(a[l], f"fp.a[{l}]", func)
        for arr, nm in ((zl, "z"), (al, "a")):
            if arr.shape != want:
                raise ValueError(
                    f"{func}: fp.{nm}[{l}] has shape {shape_str(arr.shape)}; expected "
                    f"{'(M_%d, N)' % l if tail else '(M_%d,)' % l} = {shape_str(want)} for W^({l}) of "
                    f"shape {shape_str(Ws[l - 1].shape)} and x of shape {shape_str(x.shape)}. Pass the "
                    "ForwardPass computed with these params."
                )
        zs.append(zl)
        as_.append(al)
    return zs, as_


def _check_lam(lam: Any, func: str) -> float:
    arr = as_float_array(lam, "lam", func)
    if arr.ndim != 0 or float(arr) < 0.0:
        raise ValueError(f"{func}: lam (the L2 coefficient λ) must be a single number >= 0, got {lam!r}.")
    return float(arr)


def _backward_unchecked(
    Ws: Sequence[NDArray[np.float64]], z: Sequence[NDArray[np.float64]], a: Sequence[NDArray[np.float64]],
    Y: NDArray[np.float64], acts: Sequence[_Act], loss: str, lam: float,
) -> BackwardPass:
    L = len(Ws)
    delta = _losses._delta_unchecked(loss, z[L], a[L], Y, acts[-1].df, acts[-1].kw)  # δ^(L)
    batch = a[0].ndim == 2
    N = a[0].shape[1] if batch else 1
    deltas: list[NDArray[np.float64] | None] = [None] * (L + 1)
    grads: Params = [{} for _ in range(L)]  # type: ignore[misc]
    deltas[L] = delta
    for l in range(L, 0, -1):
        a_prev = a[l - 1]
        if batch:
            dW = delta @ a_prev.T / N  # ∂R/∂W^(l) = Δ^(l) A^(l-1)ᵀ / N
            db = delta.sum(axis=1) / N
        else:
            dW = np.outer(delta, a_prev)  # δ^(l) a^(l-1)ᵀ, an outer product
            db = delta.copy()
        if lam:
            dW += lam * Ws[l - 1]
        grads[l - 1] = {"W": dW, "b": db}
        if l > 1:
            act = acts[l - 2]
            # δ^(l-1) = f_{l-1}'(z^(l-1)) ⊙ (W^(l)ᵀ δ^(l))
            delta = np.asarray(act.df(z[l - 1], **act.kw), dtype=np.float64) * (Ws[l - 1].T @ delta)
            deltas[l - 1] = delta
    return BackwardPass(grads, deltas)


def backward(
    params: Sequence[Mapping[str, ArrayLike]],
    fp: ForwardPass,
    y: ArrayLike,
    activations: Sequence[Any],
    loss: str,
    lam: float = 0.0,
) -> BackwardPass:
    """Backpropagation: every δ^(l) and the gradient of the risk for every W^(l), b^(l).

    Parameters
    ----------
    params : list of dict, length L
        ``params[l-1] = {"W": W^(l) of shape (M_l, M_{l-1}), "b": b^(l) of shape (M_l,)}``.
    fp : ForwardPass
        The result of ``forward(params, x, activations)``.
    y : array_like
        Targets: the output's shape (M_L,) / (M_L, N) (one-hot columns for
        classification), or integer class labels of shape (N,) (an int for
        one example). For one logistic output with binary cross-entropy, the
        shape (N,) also takes soft targets in [0, 1] (as ``Sequential.fit``).
    activations : list of str, length L
        The same list as for :func:`forward`.
    loss : {"softmax_cross_entropy", "binary_cross_entropy", "squared_error"}
        Must suit the output activation f_L (softmax, logistic, any elementwise).
    lam : float, default 0.0
        λ of the L2 penalty (λ/2) Σ_l ‖W^(l)‖_F² (biases are not penalised).

    Returns
    -------
    BackwardPass
        ``grads[l-1] = {"W": dW^(l), "b": db^(l)}`` shaped like ``W^(l)`` and
        ``b^(l)`` (denominator layout), batch-averaged; ``deltas[l] = δ^(l)``
        with one column per example (``deltas[0] = None``).

    Notes
    -----
    ``δ^(L) = ∂L/∂z^(L)`` comes from the loss (ŷ − y for softmax + CE and for
    logistic + binary CE, (ŷ − y) ⊙ f_L'(z^(L)) for squared error), then
    ``δ^(l) = f_l'(z^(l)) ⊙ (W^(l+1)ᵀ δ^(l+1))``,
    ``∂R/∂W^(l) = (1/N) Σ_n δ_n^(l) a_n^(l-1)ᵀ + λ W^(l) = Δ^(l) A^(l-1)ᵀ / N + λ W^(l)``
    and ``∂R/∂b^(l) = (1/N) Σ_n δ_n^(l)``. The transpose in ``a^(l-1)ᵀ`` makes
    the weight gradient an outer product of shape (M_l, M_{l-1}). The cost is
    about twice that of the forward pass.

    Examples
    --------
    >>> params = [{"W": np.array([[1.0, -1.0], [0.5, 1.0]]), "b": np.array([0.0, 1.0])},
    ...           {"W": np.array([[2.0, 1.0]]), "b": np.array([-1.0])}]
    >>> acts = ["relu", "identity"]
    >>> fp = forward(params, np.array([1.0, 2.0]), acts)
    >>> bp = backward(params, fp, [1.0], acts, "squared_error")
    >>> bp.deltas[2], bp.deltas[1]
    (array([1.5]), array([0. , 1.5]))
    >>> bp.grads[0]["W"]
    array([[0. , 0. ],
           [1.5, 3. ]])
    """
    Ws, _ = _check_params(params, "backward")
    acts = _check_activations(activations, len(Ws), "backward", loss)
    lam = _check_lam(lam, "backward")
    z, a = _check_forward_pass(fp, Ws, "backward")
    Y = _losses._as_targets(y, z[-1].shape, _losses._TARGET_KIND[loss], "backward")
    return _backward_unchecked(Ws, z, a, Y, acts, loss, lam)


def _risk_unchecked(
    Ws: Sequence[NDArray[np.float64]], fp: ForwardPass, Y: NDArray[np.float64], acts: Sequence[_Act],
    loss: str, lam: float,
) -> float:
    data = float(_losses._per_example_unchecked(loss, fp.z[-1], fp.a[-1], Y).mean())  # type: ignore[arg-type]
    if lam:
        data += 0.5 * lam * sum(float(np.sum(W * W)) for W in Ws)
    return data


def risk(
    params: Sequence[Mapping[str, ArrayLike]],
    x: ArrayLike,
    y: ArrayLike,
    activations: Sequence[Any],
    loss: str,
    lam: float = 0.0,
) -> float:
    """Regularised empirical risk ``R = (1/N) Σ_n L(y_n, ŷ_n) + (λ/2) Σ_l ‖W^(l)‖_F²``.

    Parameters
    ----------
    params : list of dict, length L
    x : array_like of shape (M_0,) or (M_0, N)
        One example, or a batch with one column per example.
    y : array_like
        Targets of the output's shape, or integer labels of shape (N,).
    activations : list of str, length L
    loss : {"softmax_cross_entropy", "binary_cross_entropy", "squared_error"}
    lam : float, default 0.0
        λ ≥ 0. Only the weights are penalised: a bias shifts a unit's
        threshold without making the function steeper, and penalising it
        would pull the outputs towards f(0) for no gain in smoothness.

    Returns
    -------
    float

    Notes
    -----
    With the factor ½ in the penalty its gradient is ``λ W^(l)`` (with a
    penalty ``λ ‖W‖_F²`` it would be ``2 λ W^(l)``). The cross-entropies are
    evaluated from z^(L), so the risk stays finite for large logits.

    Examples
    --------
    >>> params = [{"W": np.array([[3.0, 4.0]]), "b": np.array([1.0])}]
    >>> risk(params, [0.0, 0.0], [2.0], ["identity"], "squared_error", lam=0.1)   # ½·1² + 0.05·25
    1.75
    """
    Ws, bs = _check_params(params, "risk")
    acts = _check_activations(activations, len(Ws), "risk", loss)
    lam = _check_lam(lam, "risk")
    x = _check_input(x, Ws[0].shape[1], "risk")
    fp = _forward_unchecked(Ws, bs, x, acts)
    Y = _losses._as_targets(y, fp.z[-1].shape, _losses._TARGET_KIND[loss], "risk")
    return _risk_unchecked(Ws, fp, Y, acts, loss, lam)


def risk_and_grads(
    params: Sequence[Mapping[str, ArrayLike]],
    x: ArrayLike,
    y: ArrayLike,
    activations: Sequence[Any],
    loss: str,
    lam: float = 0.0,
) -> tuple[float, Params]:
    """The risk :func:`risk` and its gradient from :func:`backward`, in one forward pass.

    Parameters
    ----------
    params, x, y, activations, loss, lam
        As for :func:`risk`.

    Returns
    -------
    R : float
    grads : list of dict, length L
        ``grads[l-1] = {"W": ∂R/∂W^(l), "b": ∂R/∂b^(l)}``, shaped like the parameters.

    Examples
    --------
    >>> params = [{"W": np.array([[3.0, 4.0]]), "b": np.array([1.0])}]
    >>> R, g = risk_and_grads(params, [1.0, 0.0], [2.0], ["identity"], "squared_error")
    >>> R, g[0]["W"], g[0]["b"]          # z = 4, δ = 4 − 2 = 2
    (2.0, array([[2., 0.]]), array([2.]))
    """
    Ws, bs = _check_params(params, "risk_and_grads")
    acts = _check_activations(activations, len(Ws), "risk_and_grads", loss)
    lam = _check_lam(lam, "risk_and_grads")
    x = _check_input(x, Ws[0].shape[1], "risk_and_grads")
    fp = _forward_unchecked(Ws, bs, x, acts)
    Y = _losses._as_targets(y, fp.z[-1].shape, _losses._TARGET_KIND[loss], "risk_and_grads")
    R = _risk_unchecked(Ws, fp, Y, acts, loss, lam)
    bp = _backward_unchecked(Ws, fp.z, fp.a, Y, acts, loss, lam)  # type: ignore[arg-type]
    return R, bp.grads
