"""A Keras-like ``Sequential`` model on top of fnnlib's network (Unit 8).

::

    model = Sequential([Dense(64, activation="relu", input_dim=64),
                        Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"])
    history = model.fit(X_train, y_train, epochs=30, batch_size=32, validation_split=0.1, rng=0)
    model.evaluate(X_test, y_test)          # {"loss": ..., "accuracy": ...}
    print(model.summary())

**Layout at the boundary.** ``Sequential`` takes the usual data layout of
scikit-learn and Keras: ``X`` of shape (N, D), **one row per example**; labels
as integers of shape (N,) or one-hot rows of shape (N, C). It transposes once,
at its boundary, to the course layout, and computes on columns inside:
``A^(0) = Xᵀ`` of shape (M_0, N) with M_0 = D, so every layer is
``Z^(l) = W^(l) A^(l-1) + b^(l) 1ᵀ`` exactly as in the lectures, and
``model.params`` holds ``W^(l)`` of shape (M_l, M_{l-1}) (the transpose of a
Keras kernel). Outputs come back as rows again: ``predict_proba`` returns
(N, C).

**Gradients** come from :mod:`fnnlib.network`'s backpropagation: the data
are checked once at the boundary, and each mini-batch then runs the network's
forward pass and backward pass (the unchecked kernels behind
:func:`fnnlib.network.forward` and :func:`fnnlib.network.backward`). This
module adds only what Keras adds around them: the layer list, optimizers
(:class:`SGD` with momentum, :class:`Adam`), mini-batches, validation,
early stopping, a progress bar and a summary table.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib import activations as _activations
from fnnlib import losses as _losses
from fnnlib import network as _network
from fnnlib._progress import progress_bar
from fnnlib._validate import as_float_array, check_choice, check_positive_int, make_rng, shape_str
from fnnlib.params import param_breakdown
from fnnlib.train import History

__all__ = [
    "LOSS_ALIASES",
    "OPTIMIZERS",
    "METRICS",
    "Optimizer",
    "SGD",
    "Adam",
    "get_optimizer",
    "Dense",
    "Sequential",
    "History",
]

Array = NDArray[np.float64]
Params = list[dict[str, Array]]

LOSS_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "softmax_cross_entropy": "softmax_cross_entropy",
        "binary_cross_entropy": "binary_cross_entropy",
        "squared_error": "squared_error",
        "categorical_crossentropy": "softmax_cross_entropy",
        "sparse_categorical_crossentropy": "softmax_cross_entropy",
        "binary_crossentropy": "binary_cross_entropy",
        "mse": "squared_error",
        "mean_squared_error": "squared_error",
    }
)
"""Loss names accepted by :meth:`Sequential.compile`, mapped to the course's losses.

The Keras names are aliases of the course losses, with two differences to keep
in mind: both ``"categorical_crossentropy"`` and
``"sparse_categorical_crossentropy"`` accept integer labels *and* one-hot
rows (Keras wants one-hot for the first and integers for the second); and
``"mse"`` is the course's ``squared_error``, ``½ Σ_c (ŷ_c − y_c)²`` per
example, which is ``C/2`` times Keras's mean over the C outputs (the same
minimiser, gradients scaled by C/2).
"""

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adam")
"""Optimizer names accepted by :meth:`Sequential.compile` (see :func:`get_optimizer`)."""

METRICS: tuple[str, ...] = ("accuracy", "acc")
"""Metric names accepted by :meth:`Sequential.compile` (``"acc"`` is an alias)."""

_INIT_ALIASES = MappingProxyType({"glorot_uniform": "xavier", "he_normal": "he"})
_SOFTMAX = "softmax"
_PROBABILISTIC = frozenset({"softmax", "logistic", "sigmoid"})


# ---------------------------------------------------------------------------
# small checks
# ---------------------------------------------------------------------------
def _float(value: Any, name: str, func: str, *, low: float, high: float = math.inf,
           low_open: bool = True, high_open: bool = True) -> float:
    """A finite float in the interval (low, high), ends open or closed as asked."""
    arr = as_float_array(value, name, func)
    ok = arr.ndim == 0
    if ok:
        v = float(arr)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise ValueError(f"{func}: {name} must be a single number in {lb}{low:g}, {high:g}{rb}, got {value!r}.")
    return v


def _check_bool(value: Any, name: str, func: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be True or False, got {value!r}.")
    return bool(value)


# ---------------------------------------------------------------------------
# optimizers
# ---------------------------------------------------------------------------
class Optimizer(ABC):
    """Base class of the optimizers: hyperparameters only; the state lives with the model.

    An optimizer turns the mini-batch gradient ``g`` of the risk into an update of
    every ``W^(l)`` and ``b^(l)``. :meth:`init_state` makes its state (e.g.
    velocities) for given parameters and :meth:`update` returns the new
    parameters and the new state; neither modifies its arguments, so one
    optimizer object may serve several models.
    """

    lr: float

    def init_state(self, params: Sequence[Mapping[str, ArrayLike]]) -> dict[str, Any]:
        """A fresh state for parameters shaped like ``params`` (see the subclasses)."""
        Ws, bs = _network._check_params(params, f"{type(self).__name__}.init_state")
        return self._init_state([{"W": W, "b": b} for W, b in zip(Ws, bs)])

    def update(
        self,
        params: Sequence[Mapping[str, ArrayLike]],
        grads: Sequence[Mapping[str, ArrayLike]],
        state: dict[str, Any],
    ) -> tuple[Params, dict[str, Any]]:
        """One step: new ``(params, state)`` from the gradients ``grads``.

        Parameters
        ----------
        params : list of dict, length L
            ``params[l-1] = {"W": W^(l) (M_l, M_{l-1}), "b": b^(l) (M_l,)}``.
        grads : list of dict, length L
            ``∂R/∂W^(l)`` and ``∂R/∂b^(l)``, shaped like ``params`` (denominator
            layout), e.g. ``network.backward(...).grads``.
        state : dict
            From :meth:`init_state` or from the previous call.

        Returns
        -------
        params : list of dict
            New arrays.
        state : dict
            The new state (new arrays; the old one is left as it was).
        """
        func = f"{type(self).__name__}.update"
        Ws, bs = _network._check_params(params, func)
        gW, gb = _network._check_params(grads, func + " (grads)")
        if len(Ws) != len(gW):
            raise ValueError(f"{func}: params has {len(Ws)} layers but grads has {len(gW)}.")
        for l, (W, G) in enumerate(zip(Ws, gW), start=1):
            if W.shape != G.shape:
                raise ValueError(
                    f"{func}: grads[{l - 1}]['W'] has shape {shape_str(G.shape)} but W^({l}) has shape "
                    f"{shape_str(W.shape)}; a gradient has the shape of its parameter (denominator layout)."
                )
        if not isinstance(state, dict):
            raise TypeError(f"{func}: state must be the dict returned by init_state (or by update).")
        P = [{"W": W, "b": b} for W, b in zip(Ws, bs)]
        G_ = [{"W": W, "b": b} for W, b in zip(gW, gb)]
        return self._update(P, G_, state)

    # subclasses implement these on checked float64 lists of dicts
    @abstractmethod
    def _init_state(self, params: Params) -> dict[str, Any]:
        """The optimiser's initial state for these parameters."""

    @abstractmethod
    def _update(self, params: Params, grads: Params, state: dict[str, Any]) -> tuple[Params, dict[str, Any]]:
        """One step: new parameters and new state (the inputs are not modified)."""


def _zeros_like(params: Params) -> Params:
    return [{"W": np.zeros_like(p["W"]), "b": np.zeros_like(p["b"])} for p in params]


def _lr(lr: Any, learning_rate: Any, func: str) -> float:
    if learning_rate is not None:
        if lr is not None:
            raise TypeError(f"{func}: give lr or its alias learning_rate, not both.")
        lr = learning_rate
    return _float(lr, "lr (the learning rate α)", func, low=0.0)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional classical (heavy-ball) momentum.

    Parameters
    ----------
    lr : float, default 0.01
        Learning rate α > 0 (``learning_rate=`` is accepted as an alias, as in Keras).
    momentum : float, default 0.0
        μ in [0, 1); 0 gives plain SGD.

    Notes
    -----
    Plain: ``θ ← θ − α g``. With momentum: ``v ← μ v − α g``, ``θ ← θ + v``, with
    v = 0 at the start, for every weight and bias (``g`` is the gradient of the
    regularised mini-batch risk, so weight decay λW is included). This is the
    update of :func:`fnnlib.train.train` and of Keras's ``SGD(momentum=μ)``.

    Examples
    --------
    >>> opt = SGD(lr=0.5)
    >>> params = [{"W": np.array([[1.0]]), "b": np.array([0.0])}]
    >>> grads = [{"W": np.array([[2.0]]), "b": np.array([-1.0])}]
    >>> new, state = opt.update(params, grads, opt.init_state(params))
    >>> new[0]["W"], new[0]["b"]                  # 1 − 0.5·2, 0 − 0.5·(−1)
    (array([[0.]]), array([0.5]))
    """

    def __init__(self, lr: float | None = None, momentum: float = 0.0, *, learning_rate: float | None = None) -> None:
        self.lr = _lr(0.01 if lr is None and learning_rate is None else lr, learning_rate, "SGD")
        self.momentum = _float(momentum, "momentum", "SGD", low=0.0, high=1.0, low_open=False)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"

    def _init_state(self, params: Params) -> dict[str, Any]:
        return {"velocity": _zeros_like(params)} if self.momentum else {}

    def _update(self, params: Params, grads: Params, state: dict[str, Any]) -> tuple[Params, dict[str, Any]]:
        a, mu = self.lr, self.momentum
        if not mu:
            return [{k: p[k] - a * g[k] for k in ("W", "b")} for p, g in zip(params, grads)], {}
        vel = [{k: mu * v[k] - a * g[k] for k in ("W", "b")} for v, g in zip(state["velocity"], grads)]
        new = [{k: p[k] + v[k] for k in ("W", "b")} for p, v in zip(params, vel)]
        return new, {"velocity": vel}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): per-parameter steps from running moments of the gradient.

    Parameters
    ----------
    lr : float, default 0.001
        Step size α > 0 (``learning_rate=`` is accepted as an alias).
    beta1 : float, default 0.9
        Decay β₁ in [0, 1) of the first-moment (mean) estimate.
    beta2 : float, default 0.999
        Decay β₂ in [0, 1) of the second-moment (uncentred variance) estimate.
    eps : float, default 1e-8
        ε > 0, keeps the division finite.

    Notes
    -----
    With m = v = 0 and t = 0 at the start, each step does, elementwise for every
    weight and bias θ with gradient g:

        t ← t + 1
        m ← β₁ m + (1 − β₁) g,        v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁^t),            v̂ = v / (1 − β₂^t)      (bias correction)
        θ ← θ − α m̂ / (√v̂ + ε)

    The bias correction undoes the pull of the zero start towards 0 in the first
    steps: after one step m̂ = g and v̂ = g², so the first update is about
    α sign(g).

    Examples
    --------
    >>> opt = Adam(lr=0.1)
    >>> params = [{"W": np.array([[1.0]]), "b": np.array([0.0])}]
    >>> grads = [{"W": np.array([[4.0]]), "b": np.array([-0.001])}]
    >>> new, state = opt.update(params, grads, opt.init_state(params))
    >>> new[0]["W"].round(4), new[0]["b"].round(4), state["t"]    # each moves by ≈ α sign(g)
    (array([[0.9]]), array([0.1]), 1)
    """

    def __init__(self, lr: float | None = None, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 *, learning_rate: float | None = None) -> None:
        self.lr = _lr(0.001 if lr is None and learning_rate is None else lr, learning_rate, "Adam")
        self.beta1 = _float(beta1, "beta1", "Adam", low=0.0, high=1.0, low_open=False)
        self.beta2 = _float(beta2, "beta2", "Adam", low=0.0, high=1.0, low_open=False)
        self.eps = _float(eps, "eps", "Adam", low=0.0)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, eps={self.eps:g})"

    def _init_state(self, params: Params) -> dict[str, Any]:
        return {"t": 0, "m": _zeros_like(params), "v": _zeros_like(params)}

    def _update(self, params: Params, grads: Params, state: dict[str, Any]) -> tuple[Params, dict[str, Any]]:
        b1, b2 = self.beta1, self.beta2
        t = int(state["t"]) + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        m = [{k: b1 * mm[k] + (1.0 - b1) * g[k] for k in ("W", "b")} for mm, g in zip(state["m"], grads)]
        v = [{k: b2 * vv[k] + (1.0 - b2) * g[k] * g[k] for k in ("W", "b")} for vv, g in zip(state["v"], grads)]
        new = [
            {k: p[k] - self.lr * (mm[k] / c1) / (np.sqrt(vv[k] / c2) + self.eps) for k in ("W", "b")}
            for p, mm, vv in zip(params, m, v)
        ]
        return new, {"t": t, "m": m, "v": v}


def get_optimizer(optimizer: str | Optimizer) -> Optimizer:
    """An optimizer from its name, with Keras's default hyperparameters; an object is returned as is.

    Parameters
    ----------
    optimizer : {"sgd", "momentum", "adam"} or Optimizer
        ``"sgd"`` is ``SGD(lr=0.01)``, ``"momentum"`` is ``SGD(lr=0.01, momentum=0.9)``,
        ``"adam"`` is ``Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8)``.

    Returns
    -------
    Optimizer

    Examples
    --------
    >>> get_optimizer("momentum")
    SGD(lr=0.01, momentum=0.9)
    >>> get_optimizer("rmsprop")
    Traceback (most recent call last):
    ...
    ValueError: get_optimizer: unknown optimizer 'rmsprop'. Known: 'sgd', 'momentum', 'adam'. Or pass an object such as SGD(lr=0.1, momentum=0.9) or Adam(lr=0.001).
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        listed = ", ".join(repr(k) for k in OPTIMIZERS)
        raise ValueError(
            f"get_optimizer: unknown optimizer {optimizer!r}. Known: {listed}. Or pass an object such as "
            "SGD(lr=0.1, momentum=0.9) or Adam(lr=0.001)."
        )
    name = optimizer.lower()
    if name == "sgd":
        return SGD(0.01)
    if name == "momentum":
        return SGD(0.01, momentum=0.9)
    return Adam(0.001)


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------
class Dense:
    """A fully connected layer: ``a^(l) = f_l(W^(l) a^(l-1) + b^(l))``.

    Parameters
    ----------
    units : int
        M_l, the number of neurons of the layer.
    activation : str or None, default None
        f_l: a name from :data:`fnnlib.activations.ACTIVATIONS` (``"relu"``,
        ``"tanh"``, ``"logistic"``/``"sigmoid"``, ...), or ``"softmax"`` (last
        layer only). None means ``"identity"`` (Keras's linear layer).
    input_dim : int, optional
        M_0, the number of input features D. Required on the first layer of a
        :class:`Sequential`; on a later layer it must equal the previous layer's
        units, if given.
    init : str, default "xavier"
        How :meth:`Sequential.build` draws W^(l): a method of
        :func:`fnnlib.network.init_params` (``"xavier"`` = Keras's default
        ``"glorot_uniform"``, ``"he"`` = ``"he_normal"``, ``"he_uniform"``,
        ``"zeros"``, ...; the Keras names are accepted). Biases start at 0.

    Examples
    --------
    >>> Dense(64, activation="relu", input_dim=64)
    Dense(64, activation='relu', input_dim=64)
    >>> Dense(10, activation="softmx")
    Traceback (most recent call last):
    ...
    ValueError: Dense: unknown activation 'softmx'. Known: 'logistic', 'sigmoid', 'tanh', 'hard_logistic', 'hard_tanh', 'relu', 'leaky_relu', 'prelu', 'elu', 'softplus', 'swish', 'gelu', 'gelu_tanh', 'gelu_sigmoid', 'identity', 'linear', 'softmax'.
    """

    def __init__(self, units: int, activation: str | None = None, input_dim: int | None = None,
                 init: str = "xavier") -> None:
        self.units = check_positive_int(units, "units", "Dense")
        act = "identity" if activation is None else activation
        self.activation = check_choice(act, [*_activations.ACTIVATIONS, _SOFTMAX], "activation", "Dense")
        self.input_dim = None if input_dim is None else check_positive_int(input_dim, "input_dim", "Dense")
        init = _INIT_ALIASES.get(init, init) if isinstance(init, str) else init
        self.init = check_choice(init, [*_network.INIT_METHODS], "init method", "Dense")

    def __repr__(self) -> str:
        extra = f", input_dim={self.input_dim}" if self.input_dim is not None else ""
        return f"Dense({self.units}, activation={self.activation!r}{extra})"


# ---------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------
class Sequential:
    """A stack of :class:`Dense` layers with a Keras-like interface; data in rows, computation in columns.

    Parameters
    ----------
    layers : list of Dense, optional
        The layers, first to last (more can be appended with :meth:`add`). The
        first one needs ``input_dim``.
    name : str, default "sequential"
        Shown by :meth:`summary`.

    Attributes
    ----------
    layers : tuple of Dense
    layer_sizes : list of int
        ``[M_0, M_1, ..., M_L]``.
    activations : list of str
        ``[f_1, ..., f_L]``, as :func:`fnnlib.network.forward` takes them.
    params : list of dict
        A copy of the weights in the course layout, ``params[l-1] = {"W": W^(l)
        of shape (M_l, M_{l-1}), "b": b^(l) of shape (M_l,)}`` (assigning a list
        of that form sets them).
    built : bool
        Whether the model has weights (after :meth:`build`, :meth:`fit` or
        :meth:`set_weights`).

    Notes
    -----
    Inputs are (N, D) arrays, one **row** per example, like scikit-learn and
    Keras; the model transposes once at its boundary and runs the course's
    column-layout network on ``A^(0) = Xᵀ`` of shape (M_0, N). Outputs are rows
    again.

    Examples
    --------
    >>> model = Sequential([Dense(4, activation="tanh", input_dim=2), Dense(3, activation="softmax")])
    >>> model.compile(optimizer=Adam(lr=0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [0.0, 2.0]])    # (N, D) = (4, 2)
    >>> y = np.array([0, 0, 1, 2])
    >>> history = model.fit(X, y, epochs=200, batch_size=4, rng=0, verbose=False)
    >>> model.predict(X)
    array([0, 0, 1, 2])
    >>> model.predict_proba(X).shape                                      # (N, C), rows sum to 1
    (4, 3)
    """

    def __init__(self, layers: Sequence[Dense] | None = None, name: str = "sequential") -> None:
        if not isinstance(name, str):
            raise TypeError(f"Sequential: name must be a string, got {type(name).__name__}.")
        self.name = name
        self._layers: list[Dense] = []
        self._params: Params | None = None
        self._loss: str | None = None
        self._optimizer: Optimizer | None = None
        self._opt_state: dict[str, Any] | None = None
        self._metrics: tuple[str, ...] = ()
        self._l2 = 0.0
        if layers is not None:
            if isinstance(layers, Dense) or not isinstance(layers, Sequence):
                raise TypeError(
                    "Sequential: layers must be a list of Dense layers, e.g. "
                    "Sequential([Dense(64, activation='relu', input_dim=64), Dense(10, activation='softmax')])."
                )
            for layer in layers:
                self._add(layer, "Sequential")

    # -- structure -----------------------------------------------------------------
    def add(self, layer: Dense) -> None:
        """Append a layer (before the model has weights).

        Parameters
        ----------
        layer : Dense

        Examples
        --------
        >>> model = Sequential()
        >>> model.add(Dense(8, activation="relu", input_dim=4))
        >>> model.add(Dense(1, activation="logistic"))
        >>> model.layer_sizes
        [4, 8, 1]
        """
        self._add(layer, "Sequential.add")

    def _add(self, layer: Any, func: str) -> None:
        if not isinstance(layer, Dense):
            raise TypeError(f"{func}: expected a Dense layer, got {type(layer).__name__}.")
        if self._params is not None:
            raise RuntimeError(
                f"{func}: the model already has weights; adding a layer would change their shapes. Build a "
                "new Sequential with all its layers."
            )
        n = len(self._layers)
        if n == 0 and layer.input_dim is None:
            raise ValueError(
                f"{func}: the first layer needs input_dim, the number of features D of each example "
                f"(M_0), e.g. Dense({layer.units}, activation={layer.activation!r}, input_dim=64)."
            )
        if n > 0:
            prev = self._layers[-1]
            if prev.activation == _SOFTMAX:
                raise ValueError(
                    f"{func}: layer {n} has activation 'softmax', which is only allowed on the last layer "
                    "(it turns the outputs into class probabilities); give the hidden layers an "
                    "elementwise activation such as 'relu' or 'tanh'."
                )
            if layer.input_dim is not None and layer.input_dim != prev.units:
                raise ValueError(
                    f"{func}: layer {n + 1} has input_dim={layer.input_dim} but layer {n} has "
                    f"{prev.units} units; a layer's input is the previous layer's output (M_{n} = "
                    f"{prev.units}). Drop input_dim on layers after the first."
                )
        self._layers.append(layer)
        if self._loss is not None:  # the output layer changed: compile again
            self._loss = None

    @property
    def layers(self) -> tuple[Dense, ...]:
        """The layers, first to last."""
        return tuple(self._layers)

    @property
    def layer_sizes(self) -> list[int]:
        """``[M_0, M_1, ..., M_L]``: input features, then the units of every layer."""
        self._require_layers("layer_sizes")
        return [int(self._layers[0].input_dim)] + [layer.units for layer in self._layers]  # type: ignore[arg-type]

    @property
    def activations(self) -> list[str]:
        """``[f_1, ..., f_L]``, the activation names of the layers."""
        return [layer.activation for layer in self._layers]

    @property
    def built(self) -> bool:
        """True once the model has weights."""
        return self._params is not None

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self._layers)
        return f"Sequential([{inner}])"

    def _require_layers(self, func: str) -> None:
        if not self._layers:
            raise RuntimeError(f"{func}: the model has no layers yet; add Dense layers first.")

    def _require_built(self, func: str) -> Params:
        self._require_layers(func)
        if self._params is None:
            raise RuntimeError(
                f"{func}: the model has no weights yet: call fit(...), or build(rng) for random initial "
                "weights, or set_weights(...)."
            )
        return self._params

    def _require_compiled(self, func: str) -> str:
        self._require_layers(func)
        if self._loss is None or self._optimizer is None:
            raise RuntimeError(
                f"{func}: the model is not compiled; call model.compile(optimizer='adam', "
                "loss='softmax_cross_entropy', metrics=['accuracy']) first."
            )
        return self._loss

    # -- weights -------------------------------------------------------------------
    def build(self, rng: np.random.Generator | int | None = None) -> Sequential:
        """Draw initial weights (each layer with its ``init`` method; biases 0).

        Parameters
        ----------
        rng : numpy.random.Generator, int or None
            Source of randomness; the same seed gives the same weights.

        Returns
        -------
        Sequential
            ``self``.

        Examples
        --------
        >>> model = Sequential([Dense(3, activation="relu", input_dim=2), Dense(1)]).build(rng=0)
        >>> [p["W"].shape for p in model.params]                    # W^(l) is (M_l, M_{l-1})
        [(3, 2), (1, 3)]
        """
        self._require_layers("build")
        gen = make_rng(rng, "build")
        sizes = self.layer_sizes
        self._params = [
            _network.init_params([m_prev, m], layer.init, rng=gen)[0]
            for m_prev, m, layer in zip(sizes[:-1], sizes[1:], self._layers)
        ]
        self._reset_optimizer_state()
        return self

    @property
    def params(self) -> Params:
        """A copy of the weights in the course layout (see the class docstring)."""
        return [{"W": p["W"].copy(), "b": p["b"].copy()} for p in self._require_built("params")]

    @params.setter
    def params(self, value: Sequence[Mapping[str, ArrayLike]]) -> None:
        self._require_layers("params")
        if isinstance(value, Mapping) or not isinstance(value, Sequence) or not all(
            isinstance(p, Mapping) and "W" in p and "b" in p for p in value
        ):
            raise TypeError(
                "params: expected a list of dicts, params[l-1] = {'W': W^(l), 'b': b^(l)} for l = 1..L."
            )
        self._set([p["W"] for p in value], [p["b"] for p in value], "params")

    def _set(self, Ws: Sequence[ArrayLike], bs: Sequence[ArrayLike], func: str) -> None:
        """Check every W^(l), b^(l) against the layer sizes, then store copies."""
        sizes = self.layer_sizes
        L = len(sizes) - 1
        if len(Ws) != L:
            raise ValueError(f"{func}: got weights for {len(Ws)} layers but the model has L = {L}.")
        new: Params = []
        for l, (W_, b_) in enumerate(zip(Ws, bs), start=1):
            W = as_float_array(W_, f"W^({l})", func)
            b = as_float_array(b_, f"b^({l})", func)
            want = (sizes[l], sizes[l - 1])
            if W.shape != want:
                hint = ""
                if W.shape == want[::-1]:
                    hint = (" It looks transposed: fnnlib stores W^(l) as (M_l, M_{l-1}), the transpose of a "
                            "Keras kernel; pass kernel.T.")
                raise ValueError(
                    f"{func}: W^({l}) has shape {shape_str(W.shape)}; expected (M_{l}, M_{l - 1}) = "
                    f"{shape_str(want)}.{hint}"
                )
            if b.shape != (sizes[l],):
                raise ValueError(
                    f"{func}: b^({l}) has shape {shape_str(b.shape)}; expected (M_{l},) = ({sizes[l]},), one "
                    "bias per neuron of the layer."
                )
            new.append({"W": W.copy(), "b": b.copy()})
        self._params = new
        self._reset_optimizer_state()

    def get_weights(self) -> list[Array]:
        """The weights as a flat list ``[W^(1), b^(1), ..., W^(L), b^(L)]`` (copies, course layout).

        Returns
        -------
        list of ndarray, length 2L
            ``W^(l)`` of shape (M_l, M_{l-1}) (the transpose of a Keras kernel)
            and ``b^(l)`` of shape (M_l,).

        Examples
        --------
        >>> model = Sequential([Dense(3, input_dim=2)]).build(rng=0)
        >>> [w.shape for w in model.get_weights()]
        [(3, 2), (3,)]
        """
        return [w for p in self.params for w in (p["W"], p["b"])]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Set the weights from a flat list ``[W^(1), b^(1), ..., W^(L), b^(L)]`` (course layout).

        Parameters
        ----------
        weights : list of array_like, length 2L
            ``W^(l)`` of shape (M_l, M_{l-1}) and ``b^(l)`` of shape (M_l,); copied.

        Notes
        -----
        Resets the optimizer's state (momentum, Adam's moments).

        Examples
        --------
        >>> model = Sequential([Dense(1, input_dim=2)])
        >>> model.set_weights([np.array([[1.0, 2.0]]), np.array([0.5])])
        >>> model.predict(np.array([[1.0, 1.0]]))                   # identity output: the raw a^(L)
        array([[3.5]])
        """
        self._require_layers("set_weights")
        if isinstance(weights, (np.ndarray, Mapping)) or not isinstance(weights, Sequence):
            raise TypeError(
                "set_weights: weights must be a list [W^(1), b^(1), ..., W^(L), b^(L)] as returned by "
                "get_weights()."
            )
        L = len(self._layers)
        if len(weights) != 2 * L:
            raise ValueError(
                f"set_weights: expected 2L = {2 * L} arrays [W^(1), b^(1), ..., W^({L}), b^({L})], got "
                f"{len(weights)}."
            )
        self._set(weights[0::2], weights[1::2], "set_weights")

    def _reset_optimizer_state(self) -> None:
        self._opt_state = None

    # -- compile -------------------------------------------------------------------
    def compile(
        self,
        optimizer: str | Optimizer = "sgd",
        loss: str | None = None,
        metrics: Sequence[str] | None = None,
        *,
        l2: float = 0.0,
    ) -> None:
        """Choose the loss, the optimizer, the metrics and the L2 penalty.

        Parameters
        ----------
        optimizer : {"sgd", "momentum", "adam"} or Optimizer, default "sgd"
            A name (Keras's default hyperparameters, see :func:`get_optimizer`)
            or an object such as ``SGD(lr=0.1, momentum=0.9)`` or ``Adam(lr=1e-3)``.
        loss : str
            ``"softmax_cross_entropy"`` (softmax last layer),
            ``"binary_cross_entropy"`` (one logistic unit, or several for
            multi-label targets) or ``"squared_error"`` (any elementwise last
            layer); or the Keras names ``"categorical_crossentropy"``,
            ``"sparse_categorical_crossentropy"``, ``"binary_crossentropy"``,
            ``"mse"`` (see :data:`LOSS_ALIASES` for how they map).
        metrics : list of str, optional
            ``["accuracy"]`` to record and report the classification accuracy
            (argmax of the outputs, or a^(L) > 0.5 for one output unit).
        l2 : float, default 0.0
            λ ≥ 0 of the penalty (λ/2) Σ_l ‖W^(l)‖_F² added to the risk whose
            gradient is followed (biases are not penalised). Reported losses
            are the data loss, without it.

        Notes
        -----
        Compiling again starts a fresh optimizer state but keeps the weights.

        Examples
        --------
        >>> model = Sequential([Dense(10, activation="softmax", input_dim=64)])
        >>> model.compile(optimizer="adam", loss="binary_cross_entropy")
        Traceback (most recent call last):
        ...
        ValueError: compile: the loss 'binary_cross_entropy' needs a 'logistic' last layer, but the last layer has activation 'softmax'. Use loss='softmax_cross_entropy', or change the last layer's activation.
        """
        func = "compile"
        self._require_layers(func)
        if loss is None:
            raise ValueError(
                f"{func}: loss is required; known: {', '.join(repr(k) for k in LOSS_ALIASES)}. E.g. "
                "loss='softmax_cross_entropy' for a softmax last layer."
            )
        check_choice(loss, list(LOSS_ALIASES), "loss", func)
        name = LOSS_ALIASES[loss]
        out_act = self._layers[-1].activation
        allowed = _losses.get_loss(name).output_activations
        if out_act not in allowed:
            if name == "squared_error":
                want, partner = "an elementwise", "softmax_cross_entropy"
            else:
                want = "a 'softmax'" if name == "softmax_cross_entropy" else "a 'logistic'"
                partner = {"softmax": "softmax_cross_entropy", "logistic": "binary_cross_entropy",
                           "sigmoid": "binary_cross_entropy"}.get(out_act, "squared_error")
            raise ValueError(
                f"{func}: the loss {loss!r} needs {want} last layer, but the last layer has activation "
                f"{out_act!r}. Use loss={partner!r}, or change the last layer's activation."
            )
        opt = get_optimizer(optimizer)
        if metrics is None:
            mets: tuple[str, ...] = ()
        else:
            if isinstance(metrics, str) or not isinstance(metrics, Sequence):
                raise TypeError(f"{func}: metrics must be a list of names such as ['accuracy'], got {metrics!r}.")
            mets = tuple(
                "accuracy" if check_choice(m, METRICS, "metric", func) == "acc" else m for m in metrics
            )
        l2 = _float(l2, "l2 (λ)", func, low=0.0, low_open=False)
        self._loss, self._optimizer, self._metrics, self._l2 = name, opt, mets, l2
        self._reset_optimizer_state()

    # -- data at the boundary --------------------------------------------------------
    def _columns(self, X: ArrayLike, func: str, name: str = "X") -> Array:
        """Check (N, D) rows and return the course-layout view Xᵀ of shape (D, N)."""
        D = self.layer_sizes[0]
        arr = as_float_array(X, name, func)
        if arr.ndim == 2 and arr.shape[1] == D and arr.shape[0] >= 1:
            return arr.T  # the one transpose: rows in, columns inside
        msg = f"{func}: {name} has shape {shape_str(arr.shape)}; expected (N, {D}) with one ROW per example"
        if arr.ndim == 1 and arr.shape[0] == D:
            msg += f", got one example of shape ({D},): use x[None, :] (or x.reshape(1, -1))."
        elif arr.ndim == 2 and arr.shape[0] == D:
            msg += (
                f", got {shape_str(arr.shape)}: did you pass the course-layout (D, N) array? Sequential "
                "takes rows; use X.T."
            )
        elif arr.ndim == 2 and arr.shape[0] == 0:
            msg += ", got no examples (N = 0)."
        else:
            msg += f" (D = {D} features, the input_dim of the first layer)."
        raise ValueError(msg)

    def _targets(self, y: Any, N: int, func: str, name: str = "y") -> tuple[Array, NDArray[np.intp]]:
        """Check the labels or targets and return Y of shape (C, N) and the true classes (N,)."""
        loss = self._loss
        C = self.layer_sizes[-1]
        if isinstance(y, (str, bytes)):
            raise TypeError(f"{func}: {name} must be an array of labels or targets, got a string.")
        yf = as_float_array(y, name, func)
        if yf.ndim == 2 and yf.shape[1] == 1 and C == 1:
            yf = yf[:, 0]
        if yf.ndim == 1:
            if yf.shape[0] != N:
                raise ValueError(
                    f"{func}: {name} has {yf.shape[0]} entries but X has N = {N} rows; expected one label "
                    "per example."
                )
            if loss == "squared_error" and C == 1:
                Y = yf[None, :].copy()
                return Y, (yf > 0.5).astype(np.intp)
            if loss == "binary_cross_entropy" and C == 1:
                if yf.min() < 0.0 or yf.max() > 1.0:
                    raise ValueError(
                        f"{func}: {name} must hold 0/1 labels (or probabilities in [0, 1]) for a single "
                        f"logistic output, got values in [{yf.min():g}, {yf.max():g}]."
                    )
                return yf[None, :].copy(), (yf > 0.5).astype(np.intp)
            if loss == "binary_cross_entropy":
                raise ValueError(
                    f"{func}: binary cross-entropy with C = {C} logistic outputs needs {name} of shape "
                    f"(N, C) = ({N}, {C}), one 0/1 target per output (multi-label); got shape ({N},). For "
                    "one class out of C use a softmax last layer with softmax_cross_entropy."
                )
            bad = yf != np.round(yf)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"{func}: {name} must hold integer class labels 0..{C - 1}; {name}[{j}] = {yf[j]:g}."
                )
            lo, hi = int(yf.min()), int(yf.max())
            if lo < 0 or hi >= C:
                raise ValueError(
                    f"{func}: labels out of range: {name} holds labels {lo}..{hi} but the last layer has "
                    f"C = {C} units (classes 0..{C - 1}). Give the last layer one unit per class, or "
                    "relabel the classes 0..C-1."
                )
            labels = yf.astype(np.intp)
            Y = np.zeros((C, N))
            Y[labels, np.arange(N)] = 1.0
            return Y, labels
        if yf.ndim == 2:
            if yf.shape != (N, C):
                hint = ""
                if yf.shape == (C, N):
                    hint = (" It looks transposed: did you pass course-layout (C, N) columns? Sequential "
                            "takes one ROW per example; use y.T.")
                raise ValueError(
                    f"{func}: {name} has shape {shape_str(yf.shape)}; expected labels of shape (N,) = "
                    f"({N},) or one-hot rows of shape (N, C) = ({N}, {C}).{hint}"
                )
            if loss in ("softmax_cross_entropy", "binary_cross_entropy") and (yf.min() < 0 or yf.max() > 1):
                raise ValueError(
                    f"{func}: {name} must hold probabilities in [0, 1] (one-hot rows or 0/1 targets), got "
                    f"values in [{yf.min():g}, {yf.max():g}]."
                )
            if loss == "softmax_cross_entropy":
                sums = yf.sum(axis=1)
                off = np.abs(sums - 1.0) > 1e-6
                if off.any():
                    j = int(np.flatnonzero(off)[0])
                    raise ValueError(
                        f"{func}: each row of {name} must sum to 1 (one-hot); row {j} sums to {sums[j]:g}. "
                        "Did you mean integer labels of shape (N,)?"
                    )
            Y = np.ascontiguousarray(yf.T)
            true = (Y[0] > 0.5).astype(np.intp) if C == 1 else Y.argmax(axis=0)
            return Y, true
        raise ValueError(
            f"{func}: {name} has shape {shape_str(yf.shape)}; expected labels of shape (N,) = ({N},) or "
            f"one-hot rows of shape (N, C) = ({N}, {C})."
        )

    # -- forward helpers -------------------------------------------------------------
    def _acts(self, func: str, loss: str | None = None) -> list[Any]:
        return _network._check_activations(self.activations, len(self._layers), func, loss)

    def _outputs(self, X: ArrayLike, func: str) -> Array:
        """a^(L) of shape (M_L, N) for rows X of shape (N, D)."""
        params = self._require_built(func)
        Xc = self._columns(X, func)
        Ws, bs = [p["W"] for p in params], [p["b"] for p in params]
        with np.errstate(over="ignore", under="ignore"):
            return _network._forward_unchecked(Ws, bs, Xc, self._acts(func)).a[-1]

    # -- fit -------------------------------------------------------------------------
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        epochs: int = 10,
        batch_size: int = 32,
        *,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        rng: np.random.Generator | int | None = None,
        early_stopping: int | None = None,
        verbose: bool = True,
    ) -> History:
        """Train with mini-batches; return the per-epoch history.

        Parameters
        ----------
        X : array_like of shape (N, D)
            Training inputs, **one row per example** (D = input_dim).
        y : array_like of shape (N,) or (N, C)
            Integer class labels 0..C−1, or one-hot rows; for one logistic or
            linear output unit, 0/1 labels or real targets of shape (N,).
        epochs : int, default 10
            Passes over the training rows.
        batch_size : int, default 32
            Rows per update (the last mini-batch of an epoch holds the rest).
        validation_data : (X_val, y_val), optional
            Evaluated after every epoch; same layout as ``X`` and ``y``.
        validation_split : float, default 0.0
            Instead of ``validation_data``: hold out this fraction in [0, 1) of
            the rows, drawn at random with ``rng`` (Keras takes the *last*
            rows; a random draw keeps a sorted data set from giving a
            one-class validation set).
        shuffle : bool, default True
            Reshuffle the training rows every epoch.
        rng : numpy.random.Generator, int or None
            Seeds, in this order: the initial weights (if the model has none
            yet), the validation split, the shuffles. The same seed on a fresh
            model gives the same history.
        early_stopping : int, optional
            Patience: stop when the validation loss has not improved for this
            many epochs, and restore the weights of the best epoch. Needs
            validation data.
        verbose : bool, default True
            Show a progress bar (one step per epoch, with the latest losses and
            accuracies) from tqdm: a widget in a Jupyter kernel, text on
            **stdout** elsewhere, never stderr (nbgrader gives 0 points to a
            cell that writes to stderr). ``verbose=False`` writes nothing at all.

        Returns
        -------
        History
            :class:`fnnlib.train.History`: ``epoch``, ``train_loss``,
            ``train_accuracy``, ``val_loss``, ``val_accuracy`` (accuracies only
            with ``metrics=["accuracy"]``, validation only with validation
            data), ``best_epoch`` (lowest validation loss) and ``stopped_early``.

        Raises
        ------
        RuntimeError
            Before :meth:`compile`.
        FloatingPointError
            When the loss becomes NaN or infinite (lower the learning rate).

        Notes
        -----
        For every mini-batch B (n_B columns of Xᵀ): the forward and backward
        passes of :mod:`fnnlib.network` give the gradient of the regularised
        risk ``(1/n_B) Σ_{n∈B} L_n + (λ/2) Σ_l ‖W^(l)‖_F²``, and the optimizer
        updates every W^(l), b^(l). ``train_loss`` is the mean data loss over
        the epoch, each mini-batch measured just before its update (as Keras
        and scikit-learn report it); the validation values are measured at the
        end of the epoch. A second ``fit`` continues from the current weights
        and optimizer state.
        """
        func = "fit"
        loss = self._require_compiled(func)
        Xc = self._columns(X, func)
        N = Xc.shape[1]
        Y, true = self._targets(y, N, func)
        epochs = check_positive_int(epochs, "epochs", func)
        B = check_positive_int(batch_size, "batch_size", func)
        shuffle = _check_bool(shuffle, "shuffle", func)
        verbose = _check_bool(verbose, "verbose", func)
        split = _float(validation_split, "validation_split", func, low=0.0, high=1.0, low_open=False)
        if validation_data is not None and split > 0.0:
            raise ValueError(f"{func}: give validation_data or validation_split, not both.")
        patience = None if early_stopping is None else check_positive_int(early_stopping, "early_stopping", func)
        gen = make_rng(rng, func)

        has_val = validation_data is not None or split > 0.0
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(f"{func}: validation_data must be a pair (X_val, y_val).")
            Xv = self._columns(validation_data[0], func, "X_val (validation_data[0])")
            Yv, true_v = self._targets(validation_data[1], Xv.shape[1], func, "y_val (validation_data[1])")
        if patience is not None and not has_val:
            raise ValueError(
                f"{func}: early_stopping={patience} watches the validation loss; pass validation_data=(X_val, "
                "y_val) or validation_split=0.1, or set early_stopping=None."
            )

        if self._params is None:
            self.build(gen)
        if split > 0.0:
            n_val = int(round(split * N))
            if n_val < 1 or n_val >= N:
                raise ValueError(
                    f"{func}: validation_split={split:g} of N = {N} rows leaves {n_val} for validation and "
                    f"{N - n_val} for training; both need at least one."
                )
            order = gen.permutation(N)
            vi, ti = np.sort(order[:n_val]), np.sort(order[n_val:])
            Xv, Yv, true_v = Xc[:, vi], Y[:, vi], true[vi]
            Xc, Y, true = Xc[:, ti], Y[:, ti], true[ti]
            N = Xc.shape[1]
        B = min(B, N)

        acts = self._acts(func, loss)
        opt: Optimizer = self._optimizer  # type: ignore[assignment]  # set: _require_compiled checked it
        params = self._params
        state = self._opt_state if self._opt_state is not None else opt._init_state(params)  # type: ignore[arg-type]
        record_acc = "accuracy" in self._metrics
        lam = self._l2

        history = History()
        best_loss, best_params, wait = math.inf, None, 0
        bar = None
        if verbose:
            bar = progress_bar(epochs, "epochs", "epoch")
        try:
            for epoch in range(1, epochs + 1):
                perm = gen.permutation(N) if shuffle else np.arange(N)
                loss_sum, correct = 0.0, 0
                with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                    for s in range(0, N, B):
                        idx = perm[s:s + B]
                        Xb, Yb = Xc[:, idx], Y[:, idx]
                        Ws, bs = [p["W"] for p in params], [p["b"] for p in params]  # type: ignore[union-attr]
                        fp = _network._forward_unchecked(Ws, bs, Xb, acts)
                        batch_loss = _network._risk_unchecked(Ws, fp, Yb, acts, loss, 0.0)
                        if not math.isfinite(batch_loss):
                            raise FloatingPointError(
                                f"{func}: the training loss became {batch_loss} in epoch {epoch}: the updates "
                                f"diverged. Lower the learning rate (now {opt.lr:g}) or standardise the inputs."
                            )
                        loss_sum += batch_loss * idx.size
                        if record_acc:
                            correct += int(np.count_nonzero(_classes(fp.a[-1]) == true[idx]))
                        grads = _network._backward_unchecked(Ws, fp.z, fp.a, Yb, acts, loss, lam).grads
                        params, state = opt._update(params, grads, state)  # type: ignore[arg-type]
                if not all(np.isfinite(p["W"]).all() and np.isfinite(p["b"]).all() for p in params):  # type: ignore[union-attr]
                    raise FloatingPointError(
                        f"{func}: the weights became NaN or infinite in epoch {epoch}: the updates diverged. "
                        f"Lower the learning rate (now {opt.lr:g}) or standardise the inputs."
                    )
                self._params, self._opt_state = params, state
                history.epoch.append(epoch)
                history.train_loss.append(loss_sum / N)
                if record_acc:
                    history.train_accuracy.append(correct / N)
                postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
                if record_acc:
                    postfix["accuracy"] = f"{history.train_accuracy[-1]:.4f}"
                if has_val:
                    v_loss, v_pred = self._loss_and_classes(Xv, Yv, acts, loss)
                    history.val_loss.append(v_loss)
                    postfix["val_loss"] = f"{v_loss:.4f}"
                    if record_acc:
                        history.val_accuracy.append(float(np.mean(v_pred == true_v)))
                        postfix["val_accuracy"] = f"{history.val_accuracy[-1]:.4f}"
                    if v_loss < best_loss:
                        best_loss, history.best_epoch, wait = v_loss, epoch, 0
                        if patience is not None:
                            best_params = [{"W": p["W"].copy(), "b": p["b"].copy()} for p in params]  # type: ignore[union-attr]
                    else:
                        wait += 1
                if bar is not None:
                    bar.set_postfix(postfix)  # drawn every epoch: the bar never shows a stale line
                    bar.update(1)
                if patience is not None and wait >= patience:
                    history.stopped_early = epoch < epochs
                    break
        finally:
            if bar is not None:
                bar.close()
        if best_params is not None:
            self._params = best_params
        return history

    def _loss_and_classes(self, Xc: Array, Y: Array, acts: list[Any], loss: str) -> tuple[float, NDArray[np.intp]]:
        params = self._params
        Ws, bs = [p["W"] for p in params], [p["b"] for p in params]  # type: ignore[union-attr]
        with np.errstate(over="ignore", under="ignore"):
            fp = _network._forward_unchecked(Ws, bs, Xc, acts)
            value = _network._risk_unchecked(Ws, fp, Y, acts, loss, 0.0)
        return value, _classes(fp.a[-1])

    # -- evaluate and predict ----------------------------------------------------------
    def evaluate(self, X: ArrayLike, y: ArrayLike) -> dict[str, float]:
        """Mean loss (and the compiled metrics) on a data set.

        Parameters
        ----------
        X : array_like of shape (N, D)
            One row per example.
        y : array_like of shape (N,) or (N, C)
            Labels or targets, as for :meth:`fit`.

        Returns
        -------
        dict
            ``{"loss": mean data loss (no λ penalty)}`` plus ``"accuracy"`` when
            compiled with ``metrics=["accuracy"]``.

        Examples
        --------
        >>> model = Sequential([Dense(2, activation="softmax", input_dim=1)])
        >>> model.set_weights([np.array([[1.0], [-1.0]]), np.zeros(2)])
        >>> model.compile(loss="softmax_cross_entropy", metrics=["accuracy"])
        >>> model.evaluate(np.array([[2.0], [-3.0], [1.0]]), np.array([0, 1, 1]))["accuracy"]
        0.6666666666666666
        """
        func = "evaluate"
        loss = self._require_compiled(func)
        self._require_built(func)
        Xc = self._columns(X, func)
        Y, true = self._targets(y, Xc.shape[1], func)
        value, pred = self._loss_and_classes(Xc, Y, self._acts(func, loss), loss)
        out = {"loss": value}
        if "accuracy" in self._metrics:
            out["accuracy"] = float(np.mean(pred == true))
        return out

    def predict_proba(self, X: ArrayLike) -> Array:
        """Class probabilities, one row per example.

        Parameters
        ----------
        X : array_like of shape (N, D)

        Returns
        -------
        ndarray of shape (N, C)
            For a softmax last layer, ``(a^(L))ᵀ``: each row sums to 1. For one
            logistic unit, the two columns ``[1 − p, p]`` with p = P(class 1)
            (as scikit-learn), so C = 2. For several logistic units, one
            independent probability per output (multi-label; rows need not
            sum to 1).

        Raises
        ------
        ValueError
            When the last layer's outputs are not probabilities (e.g. identity).

        Examples
        --------
        >>> model = Sequential([Dense(1, activation="logistic", input_dim=1)])
        >>> model.set_weights([np.array([[1.0]]), np.array([0.0])])
        >>> model.predict_proba(np.array([[0.0], [100.0]]))
        array([[0.5, 0.5],
               [0. , 1. ]])
        """
        func = "predict_proba"
        self._require_layers(func)
        act = self._layers[-1].activation
        if act not in _PROBABILISTIC:
            raise ValueError(
                f"{func}: the last layer has activation {act!r}, so its outputs are not probabilities; use "
                "predict(X) for the raw outputs, or a 'softmax' (or 'logistic') last layer."
            )
        A = self._outputs(X, func)
        if A.shape[0] == 1 and act != _SOFTMAX:
            return np.column_stack([1.0 - A[0], A[0]])
        return np.ascontiguousarray(A.T)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted class labels (or, for a regression output, the outputs), one per row.

        Parameters
        ----------
        X : array_like of shape (N, D)

        Returns
        -------
        ndarray
            For a softmax or logistic last layer: integer labels of shape (N,)
            (the argmax of the outputs; for one logistic unit, ``a^(L) > 0.5``).
            For any other last layer (e.g. identity): the outputs ``(a^(L))ᵀ`` of
            shape (N, M_L).

        Examples
        --------
        >>> model = Sequential([Dense(3, activation="softmax", input_dim=3)])
        >>> model.set_weights([np.eye(3), np.zeros(3)])
        >>> model.predict(np.array([[0.0, 5.0, 1.0], [2.0, 0.0, 0.0]]))
        array([1, 0])
        """
        func = "predict"
        self._require_layers(func)
        A = self._outputs(X, func)
        if self._layers[-1].activation in _PROBABILISTIC:
            return _classes(A)
        return np.ascontiguousarray(A.T)

    # -- summary -----------------------------------------------------------------------
    def summary(self) -> str:
        """A table of the layers: output shape and parameter counts (from :func:`fnnlib.params.param_breakdown`).

        Returns
        -------
        str
            The table; print it (the library never prints).

        Notes
        -----
        Layer l has ``(M_{l-1} + 1) M_l`` parameters: ``M_l M_{l-1}`` weights
        and ``M_l`` biases. The output shape ``(N, M_l)`` is per batch of N rows.

        Examples
        --------
        >>> model = Sequential([Dense(64, activation="relu", input_dim=64), Dense(10, activation="softmax")])
        >>> print(model.summary())
        Model: "sequential"
        layer  type   activation  output shape  W shape  weights  biases  params
        -----  -----  ----------  ------------  -------  -------  ------  ------
        1      Dense  relu        (N, 64)       64 × 64     4096      64    4160
        2      Dense  softmax     (N, 10)       10 × 64      640      10     650
        -----  -----  ----------  ------------  -------  -------  ------  ------
        total                                               4736      74    4810
        Input: (N, 64), one row per example (computed as columns: Xᵀ of shape (64, N)).
        """
        self._require_layers("summary")
        sizes = self.layer_sizes
        bd = param_breakdown(sizes)
        head = ("layer", "type", "activation", "output shape", "W shape", "weights", "biases", "params")
        rows = [
            (str(r.layer), "Dense", layer.activation, f"(N, {r.W_shape[0]})", f"{r.W_shape[0]} × {r.W_shape[1]}",
             str(r.weights), str(r.biases), str(r.total))
            for r, layer in zip(bd, self._layers)
        ]
        total = ("total", "", "", "", "", str(bd.weights), str(bd.biases), str(bd.total))
        cells = [head, *rows, total]
        widths = [max(len(c[j]) for c in cells) for j in range(len(head))]
        right = {4, 5, 6, 7}

        def fmt(row: tuple[str, ...]) -> str:
            return "  ".join(c.rjust(w) if j in right and row is not head else c.ljust(w)
                             for j, (c, w) in enumerate(zip(row, widths))).rstrip()

        rule = "  ".join("-" * w for w in widths)
        lines = [f'Model: "{self.name}"', fmt(head), rule, *(fmt(r) for r in rows), rule, fmt(total),
                 f"Input: (N, {sizes[0]}), one row per example (computed as columns: Xᵀ of shape ({sizes[0]}, N))."]
        return "\n".join(lines)


def _classes(A: Array) -> NDArray[np.intp]:
    """Class decisions from outputs of shape (C, N): argmax for C > 1, a > 0.5 for C = 1."""
    if A.shape[0] == 1:
        return (A[0] > 0.5).astype(np.intp)
    return A.argmax(axis=0)
