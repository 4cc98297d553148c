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

**One name per setting**, the same as in :func:`fnnlib.train.train`:
``learning_rate`` (the step size α), ``lam`` (λ of the L2 penalty),
``patience`` (early stopping) and ``progress`` (the bar). The Keras names
``lr``, ``l2``, ``early_stopping`` and ``verbose`` are accepted as aliases
wherever the setting appears; giving both names with different values is an
error.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib import activations as _activations
from fnnlib import losses as _losses
from fnnlib import network as _network
from fnnlib._progress import progress_bar
from fnnlib._validate import as_float_array, check_choice, check_positive_int, make_rng, resolve_alias, shape_str
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

    learning_rate: float

    @property
    def lr(self) -> float:
        """Alias of :attr:`learning_rate` (the step size α), as in older Keras."""
        return self.learning_rate

    @lr.setter
    def lr(self, value: float) -> None:
        self.learning_rate = value

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

    def _gradient_factor(self) -> float:
        """The factor ``Sequential.fit`` may fold into the gradient it hands to :meth:`_step_flat` (1 here)."""
        return 1.0

    def _step_flat(self, theta: Array, g: Array, state: dict[str, Any], tmp: Array, tmp2: Array) -> None:
        """The step of :meth:`_update`, in place, on every parameter at once (``Sequential.fit``).

        ``theta`` holds all W^(l) and b^(l) in one flat vector, ``g`` the gradient times
        :meth:`_gradient_factor` in the same layout; the state's per-parameter arrays are flat
        too; ``tmp`` and ``tmp2`` are scratch vectors of the same length. A subclass that does
        not override it is driven through :meth:`_update` instead.
        """
        raise NotImplementedError


def _zeros_like(params: Params) -> Params:
    return [{"W": np.zeros_like(p["W"]), "b": np.zeros_like(p["b"])} for p in params]


def _learning_rate(learning_rate: Any, lr: Any, default: float, func: str) -> float:
    value = resolve_alias(learning_rate, lr, "learning_rate", "lr", func, default)
    return _float(value, "learning_rate (the step size α)", func, low=0.0)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional classical (heavy-ball) momentum.

    Parameters
    ----------
    learning_rate : float, default 0.01
        The step size α > 0. ``lr=`` is accepted as an alias (the name of older
        Keras); giving both with different values is an error.
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
    >>> opt = SGD(learning_rate=0.5)
    >>> params = [{"W": np.array([[1.0]]), "b": np.array([0.0])}]
    >>> grads = [{"W": np.array([[2.0]]), "b": np.array([-1.0])}]
    >>> new, state = opt.update(params, grads, opt.init_state(params))
    >>> new[0]["W"], new[0]["b"]                  # 1 − 0.5·2, 0 − 0.5·(−1)
    (array([[0.]]), array([0.5]))
    """

    def __init__(self, learning_rate: float | None = None, momentum: float = 0.0, *, lr: float | None = None) -> None:
        self.learning_rate = _learning_rate(learning_rate, lr, 0.01, "SGD")
        self.momentum = _float(momentum, "momentum", "SGD", low=0.0, high=1.0, low_open=False)

    def __repr__(self) -> str:
        return f"SGD(learning_rate={self.learning_rate:g}, momentum={self.momentum:g})"

    def _init_state(self, params: Params) -> dict[str, Any]:
        return {"velocity": _zeros_like(params)} if self.momentum else {}

    def _update(self, params: Params, grads: Params, state: dict[str, Any]) -> tuple[Params, dict[str, Any]]:
        a, mu = self.learning_rate, self.momentum
        if not mu:
            return [{k: p[k] - a * g[k] for k in ("W", "b")} for p, g in zip(params, grads)], {}
        vel = [{k: mu * v[k] - a * g[k] for k in ("W", "b")} for v, g in zip(state["velocity"], grads)]
        new = [{k: p[k] + v[k] for k in ("W", "b")} for p, v in zip(params, vel)]
        return new, {"velocity": vel}

    def _gradient_factor(self) -> float:
        return self.learning_rate  # fit hands over α g, with α folded into δ^(L) as fnnlib.train does

    def _step_flat(self, theta: Array, g: Array, state: dict[str, Any], tmp: Array, tmp2: Array) -> None:
        if not self.momentum:
            theta -= g  # θ − α g
            return
        v = state["velocity"]
        v *= self.momentum
        v -= g  # μ v − α g
        theta += v


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): per-parameter steps from running moments of the gradient.

    Parameters
    ----------
    learning_rate : float, default 0.001
        The step size α > 0 (``lr=`` is accepted as an alias; not both with
        different values).
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
    >>> opt = Adam(learning_rate=0.1)
    >>> params = [{"W": np.array([[1.0]]), "b": np.array([0.0])}]
    >>> grads = [{"W": np.array([[4.0]]), "b": np.array([-0.001])}]
    >>> new, state = opt.update(params, grads, opt.init_state(params))
    >>> new[0]["W"].round(4), new[0]["b"].round(4), state["t"]    # each moves by ≈ α sign(g)
    (array([[0.9]]), array([0.1]), 1)
    """

    def __init__(self, learning_rate: float | None = None, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, *, lr: float | None = None) -> None:
        self.learning_rate = _learning_rate(learning_rate, lr, 0.001, "Adam")
        self.beta1 = _float(beta1, "beta1", "Adam", low=0.0, high=1.0, low_open=False)
        self.beta2 = _float(beta2, "beta2", "Adam", low=0.0, high=1.0, low_open=False)
        self.eps = _float(eps, "eps", "Adam", low=0.0)

    def __repr__(self) -> str:
        return (f"Adam(learning_rate={self.learning_rate:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, "
                f"eps={self.eps:g})")

    def _init_state(self, params: Params) -> dict[str, Any]:
        return {"t": 0, "m": _zeros_like(params), "v": _zeros_like(params)}

    def _update(self, params: Params, grads: Params, state: dict[str, Any]) -> tuple[Params, dict[str, Any]]:
        b1, b2 = self.beta1, self.beta2
        t = int(state["t"]) + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        m = [{k: b1 * mm[k] + (1.0 - b1) * g[k] for k in ("W", "b")} for mm, g in zip(state["m"], grads)]
        v = [{k: b2 * vv[k] + (1.0 - b2) * g[k] * g[k] for k in ("W", "b")} for vv, g in zip(state["v"], grads)]
        new = [
            {k: p[k] - self.learning_rate * (mm[k] / c1) / (np.sqrt(vv[k] / c2) + self.eps) for k in ("W", "b")}
            for p, mm, vv in zip(params, m, v)
        ]
        return new, {"t": t, "m": m, "v": v}

    def _step_flat(self, theta: Array, g: Array, state: dict[str, Any], tmp: Array, tmp2: Array) -> None:
        b1, b2 = self.beta1, self.beta2
        t = int(state["t"]) + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        m, v = state["m"], state["v"]
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp  # β₁ m + (1 − β₁) g
        v *= b2
        np.multiply(g, 1.0 - b2, out=tmp)
        tmp *= g
        v += tmp  # β₂ v + (1 − β₂) g g
        np.divide(v, c2, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps  # √v̂ + ε
        np.divide(m, c1, out=tmp2)
        tmp2 *= self.learning_rate  # α m̂
        tmp2 /= tmp
        theta -= tmp2
        state["t"] = t


def get_optimizer(optimizer: str | Optimizer) -> Optimizer:
    """An optimizer from its name, with Keras's default hyperparameters; an object is returned as is.

    Parameters
    ----------
    optimizer : {"sgd", "momentum", "adam"} or Optimizer
        ``"sgd"`` is ``SGD(learning_rate=0.01)``, ``"momentum"`` is
        ``SGD(learning_rate=0.01, momentum=0.9)``, ``"adam"`` is
        ``Adam(learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8)``.

    Returns
    -------
    Optimizer

    Examples
    --------
    >>> get_optimizer("momentum")
    SGD(learning_rate=0.01, momentum=0.9)
    >>> get_optimizer("rmsprop")
    Traceback (most recent call last):
    ...
    ValueError: get_optimizer: unknown optimizer 'rmsprop'. Known: 'sgd', 'momentum', 'adam'. Or pass an object such as SGD(learning_rate=0.1, momentum=0.9) or Adam(learning_rate=0.001).
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        listed = ", ".join(repr(k) for k in OPTIMIZERS)
        raise ValueError(
            f"get_optimizer: unknown optimizer {optimizer!r}. Known: {listed}. Or pass an object such as "
            "SGD(learning_rate=0.1, momentum=0.9) or Adam(learning_rate=0.001)."
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
    activation : str, pair (str, dict) or None, default None
        f_l: a name from :data:`fnnlib.activations.ACTIVATIONS` (``"relu"``,
        ``"tanh"``, ``"logistic"``/``"sigmoid"``, ...), or ``"softmax"`` (last
        layer only); or a pair ``(name, params)`` for an activation with a
        parameter, e.g. ``("leaky_relu", {"gamma": 0.1})``: the same specs as
        :func:`fnnlib.network.forward` takes. None means ``"identity"``
        (Keras's linear layer).
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
    >>> Dense(8, activation=("leaky_relu", {"gamma": 0.1})).activation_name
    'leaky_relu'
    >>> Dense(10, activation="softmx")
    Traceback (most recent call last):
    ...
    ValueError: Dense: unknown activation 'softmx'. Known: 'logistic', 'sigmoid', 'tanh', 'hard_logistic', 'hard_tanh', 'relu', 'leaky_relu', 'prelu', 'elu', 'softplus', 'swish', 'gelu', 'gelu_tanh', 'gelu_sigmoid', 'identity', 'linear', 'softmax'.
    """

    def __init__(self, units: int, activation: str | tuple[str, Mapping[str, Any]] | None = None,
                 input_dim: int | None = None, init: str = "xavier") -> None:
        self.units = check_positive_int(units, "units", "Dense")
        act = "identity" if activation is None else activation
        name, params = _activations._parse_activation(act, "Dense")
        #: the spec as given: a name, or (name, params) when the activation has parameters
        self.activation: str | tuple[str, dict[str, Any]] = (name, params) if params else name
        #: the activation's name alone ("leaky_relu" for ("leaky_relu", {"gamma": 0.1}))
        self.activation_name: str = name
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
    >>> model.compile(optimizer=Adam(learning_rate=0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [0.0, 2.0]])    # (N, D) = (4, 2)
    >>> y = np.array([0, 0, 1, 2])
    >>> history = model.fit(X, y, epochs=200, batch_size=4, rng=0, progress=False)
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
        self._lam = 0.0
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
            if prev.activation_name == _SOFTMAX:
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
    def activations(self) -> list[str | tuple[str, dict[str, Any]]]:
        """``[f_1, ..., f_L]``, the layers' activations as :func:`fnnlib.network.forward` takes them."""
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
        lam: float | None = None,
        l2: float | None = None,
    ) -> None:
        """Choose the loss, the optimizer, the metrics and the L2 penalty.

        Parameters
        ----------
        optimizer : {"sgd", "momentum", "adam"} or Optimizer, default "sgd"
            A name (Keras's default hyperparameters, see :func:`get_optimizer`)
            or an object such as ``SGD(learning_rate=0.1, momentum=0.9)`` or ``Adam(learning_rate=1e-3)``.
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
        lam : float, default 0.0
            λ ≥ 0 of the penalty (λ/2) Σ_l ‖W^(l)‖_F² added to the risk whose
            gradient is followed (biases are not penalised), the ``lam`` of
            :func:`fnnlib.network.risk` and :func:`fnnlib.train.train`.
            Reported losses are the data loss, without it.
        l2 : float, optional
            Alias of ``lam`` (Keras calls the penalty an L2 regulariser); give
            one of the two, or both with the same value.

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
        out_act = self._layers[-1].activation_name
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
        lam = resolve_alias(lam, l2, "lam", "l2", func, 0.0)
        lam = _float(lam, "lam (the L2 coefficient λ)", func, low=0.0, low_open=False)
        self._loss, self._optimizer, self._metrics, self._lam = name, opt, mets, lam
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
        patience: int | None = None,
        progress: bool | Callable[[int, History], Any] | None = None,
        early_stopping: int | None = None,
        verbose: bool | None = None,
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
        patience : int, optional
            Early stopping: stop when the validation loss has not improved for
            this many epochs, and restore the weights of the best epoch. Needs
            validation data. None (the default) runs all ``epochs``.
        progress : bool or callable, default True
            ``True`` shows a progress bar (one step per epoch, with the latest
            losses and accuracies) from tqdm: a widget in a Jupyter kernel,
            text on **stdout** elsewhere, never stderr (nbgrader gives 0 points
            to a cell that writes to stderr). ``False`` writes nothing at all.
            A callable is called as ``progress(epoch, history)`` after every
            epoch instead, as in :func:`fnnlib.train.train`.
        early_stopping : int, optional
            Alias of ``patience`` (give one, or both with the same value).
        verbose : bool, optional
            Alias of ``progress``, Keras's name: ``verbose=False`` is
            ``progress=False``.

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
        progress = resolve_alias(progress, verbose, "progress", "verbose", func, True)
        if not callable(progress):
            progress = _check_bool(progress, "verbose" if verbose is not None else "progress", func)
        split = _float(validation_split, "validation_split", func, low=0.0, high=1.0, low_open=False)
        if validation_data is not None and split > 0.0:
            raise ValueError(f"{func}: give validation_data or validation_split, not both.")
        patience = resolve_alias(patience, early_stopping, "patience", "early_stopping", func)
        pname = "early_stopping" if early_stopping is not None else "patience"
        patience = None if patience is None else check_positive_int(patience, pname, func)
        gen = make_rng(rng, func)

        has_val = validation_data is not None or split > 0.0
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(f"{func}: validation_data must be a pair (X_val, y_val).")
            Xv = self._columns(validation_data[0], func, "X_val (validation_data[0])")
            Yv, true_v = self._targets(validation_data[1], Xv.shape[1], func, "y_val (validation_data[1])")
        if patience is not None and not has_val:
            raise ValueError(
                f"{func}: {pname}={patience} (early stopping) watches the validation loss; pass "
                f"validation_data=(X_val, y_val) or validation_split=0.1, or leave {pname}=None to run all epochs."
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
        lam = self._lam

        history = History()
        best_loss, best_params, wait = math.inf, None, 0
        loop = _FitLoop([p["W"].shape for p in params], acts, loss, lam, opt, B, N)  # type: ignore[union-attr]
        loop.load(params, state)  # type: ignore[arg-type]
        XT = Xc.T  # the rows again (no copy): each epoch shuffles them into a buffer of rows [x; 1]ᵀ
        YT = np.ascontiguousarray(Y.T)
        bar = None
        if progress is True:
            bar = progress_bar(epochs, "epochs", "epoch")
        try:
            for epoch in range(1, epochs + 1):
                perm = gen.permutation(N) if shuffle else None
                try:
                    loss_sum, correct = loop.epoch(XT, YT, true, perm)
                except ValueError:  # a table activation refused the NaN/inf of diverging weights
                    if np.isfinite(loop.theta).all():
                        raise
                    loss_sum, correct = math.nan, 0
                if not math.isfinite(loss_sum):
                    raise FloatingPointError(
                        f"{func}: the training loss became {loss_sum} in epoch {epoch}: the updates "
                        f"diverged. Lower the learning rate (now {_lr_of(opt)}) or standardise the inputs."
                    )
                if not np.isfinite(loop.theta).all():
                    raise FloatingPointError(
                        f"{func}: the weights became NaN or infinite in epoch {epoch}: the updates diverged. "
                        f"Lower the learning rate (now {_lr_of(opt)}) or standardise the inputs."
                    )
                self._params, self._opt_state = loop.params(), loop.state()
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
                            best_params = self._params  # already a copy, never updated in place
                    else:
                        wait += 1
                if bar is not None:
                    bar.set_postfix(postfix)  # drawn every epoch: the bar never shows a stale line
                    bar.update(1)
                elif callable(progress):
                    progress(epoch, history)
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
        act = self._layers[-1].activation_name
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
        if self._layers[-1].activation_name in _PROBABILISTIC:
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
            (str(r.layer), "Dense", _act_label(layer.activation), f"(N, {r.W_shape[0]})", f"{r.W_shape[0]} × {r.W_shape[1]}",
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


def _lr_of(opt: Optimizer) -> str:
    value = getattr(opt, "learning_rate", None)
    return f"{value:g}" if isinstance(value, (int, float)) else "?"


def _act_label(spec: str | tuple[str, Mapping[str, Any]]) -> str:
    """'relu', or 'leaky_relu(gamma=0.1)' for an activation with parameters."""
    if isinstance(spec, str):
        return spec
    name, params = spec

    def fmt(v: Any) -> str:
        if np.ndim(v) == 0:
            return repr(v)
        return np.array2string(np.asarray(v), separator=", ", threshold=4, edgeitems=2)  # prelu: one γ per unit

    return f"{name}({', '.join(f'{k}={fmt(v)}' for k, v in params.items())})"


def _classes(A: Array) -> NDArray[np.intp]:
    """Class decisions from outputs of shape (C, N): argmax for C > 1, a > 0.5 for C = 1."""
    if A.shape[0] == 1:
        return (A[0] > 0.5).astype(np.intp)
    return A.argmax(axis=0)


# ---------------------------------------------------------------------------
# the training loop of Sequential.fit
# ---------------------------------------------------------------------------
def _relu_forward(Z: Array, A: Array) -> None:
    np.maximum(Z, 0.0, out=A)  # = activations.relu


def _relu_backward(D: Array, Z: Array, A: Array, T: Array) -> None:
    np.sign(A, out=T)  # a = max(z, 0), so sign(a) = 1 where z > 0, else 0: activations.relu_grad
    D *= T


_FIT_KERNELS = {"relu": (_relu_forward, _relu_backward)}


class _FitLoop:
    """The mini-batch loop of :meth:`Sequential.fit`, on preallocated buffers (the kernel of :func:`fnnlib.train.train`).

    It computes what :func:`fnnlib.network.forward`, :func:`fnnlib.network.backward` and the
    optimizer's ``update`` compute batch by batch, with the bookkeeping of ``fnnlib.train``:
    each layer is stored as its augmented matrix ``[W^(l) | b^(l)]`` and every a^(l-1) buffer
    carries a row of ones, so one matrix product gives z^(l) and one gives both ∂R/∂W^(l) and
    ∂R/∂b^(l); the factor 1/n_B (times α for SGD) is folded into δ^(L); all parameters and the
    gradient live in one flat vector θ, which the optimizer updates with a few elementwise
    operations, in place (on the loop's own copy: the model gets copies after every epoch).
    The results equal the batch-by-batch definition up to rounding (the bias enters the same
    dot product as the weights, the scale is applied to δ^(L)): relative differences of order
    1e-15 (tested). Each mini-batch writes its output layer's z − max z, a^(L) and
    Σ_k e^{z_k − max z} into per-epoch blocks, so the epoch's running loss and accuracy are
    computed once, at its end (softmax with cross-entropy; the other losses batch by batch).
    """

    def __init__(self, shapes: list[tuple[int, int]], acts: list[Any], loss: str, lam: float, opt: Optimizer,
                 B: int, N: int) -> None:
        self.acts, self.loss, self.lam, self.opt, self.B, self.N = acts, loss, lam, opt, B, N
        sizes = [shapes[0][1]] + [s[0] for s in shapes]
        self.L = len(shapes)
        self.flat_opt = type(opt)._step_flat is not Optimizer._step_flat
        self.factor = opt._gradient_factor() if self.flat_opt else 1.0
        n = sum(m * (k + 1) for m, k in shapes)
        self.theta, self.g = np.empty(n), np.empty(n)
        self.tmp, self.tmp2 = np.empty(n), np.empty(n)
        self.blocks: list[slice] = []
        off = 0
        for m, k in shapes:
            self.blocks.append(slice(off, off + m * (k + 1)))
            off += m * (k + 1)
        aug = [(m, k + 1) for m, k in shapes]
        self.W_augs = [self.theta[sl].reshape(shape) for sl, shape in zip(self.blocks, aug)]
        self.g_augs = [self.g[sl].reshape(shape) for sl, shape in zip(self.blocks, aug)]
        self.W_Ts = [Wa[:, :-1].T for Wa in self.W_augs]  # views: they follow the in-place updates
        self.decay = None
        if lam:  # factor · λ on the weights, 0 on the biases: g += decay ⊙ θ adds factor · λ W^(l)
            self.decay = np.zeros(n)
            for sl, shape in zip(self.blocks, aug):
                self.decay[sl].reshape(shape)[:, :-1] = self.factor * lam
        self.kernels = [_FIT_KERNELS.get(a.name) if not a.kw else None for a in acts[:-1]]
        self.fused = loss == "softmax_cross_entropy"
        C = sizes[-1]
        self.K, self.rest = K, rest = divmod(N, B)
        # buffers per mini-batch size: z^(l), [a^(l); 1] (the ones row stays), δ^(l), scratch
        self.buf: dict[int, tuple[list[Array], list[Array], list[Array], list[Array], list[Array]]] = {}
        for nb in {B, rest} - {0}:
            A_aug = [np.ones((m + 1, nb)) for m in sizes[1:-1]]
            self.buf[nb] = ([np.empty((m, nb)) for m in sizes[1:]], A_aug, [A[:-1] for A in A_aug],
                            [np.empty((m, nb)) for m in sizes[1:]], [np.empty((m, nb)) for m in sizes[1:]])
        self.m_buf = {nb: np.empty(nb) for nb in self.buf}
        # per-epoch blocks of the output layer (fused softmax + cross-entropy)
        self.S_blocks, self.A_blocks, self.se_blocks = np.empty((K, C, B)), np.empty((K, C, B)), np.empty((K, B))
        self.S_rest, self.A_rest, self.se_rest = np.empty((C, rest)), np.empty((C, rest)), np.empty(rest)
        self.XsT = np.ones((N, sizes[0] + 1))  # the shuffled rows [x; 1]ᵀ; the ones column is never written
        self.YsT = np.empty((N, C))
        self.true_s = np.empty(N, dtype=np.intp)
        self.state_flat: dict[str, Any] = {}
        self.steps = self._steps()

    # -- parameters and optimizer state in and out ---------------------------------------
    def _to_flat(self, params: Params, out: Array) -> Array:
        for sl, p in zip(self.blocks, params):
            block = out[sl].reshape(p["W"].shape[0], p["W"].shape[1] + 1)
            block[:, :-1] = p["W"]
            block[:, -1] = p["b"]
        return out

    def _views(self, flat: Array) -> Params:
        out = []
        for sl, Wa in zip(self.blocks, self.W_augs):
            block = flat[sl].reshape(Wa.shape)
            out.append({"W": block[:, :-1], "b": block[:, -1]})
        return out

    def _to_params(self, flat: Array) -> Params:
        return [{"W": p["W"].copy(), "b": p["b"].copy()} for p in self._views(flat)]

    def load(self, params: Params, state: dict[str, Any]) -> None:
        self._to_flat(params, self.theta)
        if not self.flat_opt:  # an Optimizer subclass of the user's: its own list-of-dicts state
            self.state_flat = state
            return
        self.state_flat = {k: self._to_flat(v, np.empty_like(self.theta)) if isinstance(v, list) else v
                           for k, v in state.items()}

    def params(self) -> Params:
        return self._to_params(self.theta)

    def state(self) -> dict[str, Any]:
        if not self.flat_opt:
            return self.state_flat
        return {k: self._to_params(v) if isinstance(v, np.ndarray) else v for k, v in self.state_flat.items()}

    # -- one epoch ------------------------------------------------------------------------
    def _steps(self) -> list[tuple[Any, ...]]:
        """Per mini-batch, every view it needs, made once (the buffers are refilled in place)."""
        B, K, rest = self.B, self.K, self.rest
        steps = []
        for k, s in enumerate(range(0, K * B, B)):
            steps.append((self.XsT[s:s + B].T, self.YsT[s:s + B].T, self.buf[B], self.m_buf[B],
                          self.S_blocks[k], self.A_blocks[k], self.se_blocks[k], s, s + B, self.factor / B))
        if rest:
            steps.append((self.XsT[K * B:].T, self.YsT[K * B:].T, self.buf[rest], self.m_buf[rest],
                          self.S_rest, self.A_rest, self.se_rest, K * B, self.N, self.factor / rest))
        return steps

    def epoch(self, XT: Array, YT: Array, true: NDArray[np.intp], perm: NDArray[np.intp] | None) -> tuple[float, int]:
        """One pass over the N training rows; returns (Σ over mini-batches of n_B · mean loss, # correct).

        ``XT`` of shape (N, M_0) holds the examples as rows, ``YT`` (N, C) the targets.
        """
        B, K, rest = self.B, self.K, self.rest
        XsT, YsT, true_s = self.XsT, self.YsT, self.true_s
        if perm is not None:
            np.take(XT, perm, axis=0, out=XsT[:, :-1])  # the last column stays 1
            np.take(YT, perm, axis=0, out=YsT)
            np.take(true, perm, out=true_s)
        else:
            XsT[:, :-1], YsT[...], true_s[...] = XT, YT, true
        L, acts, kernels, fused, loss = self.L, self.acts, self.kernels, self.fused, self.loss
        W_augs, W_Ts, g_augs, theta, g = self.W_augs, self.W_Ts, self.g_augs, self.theta, self.g
        state, tmp, tmp2, decay = self.state_flat, self.tmp, self.tmp2, self.decay
        step_flat = self.opt._step_flat if self.flat_opt else None
        batch_losses: list[float] = []
        correct = 0
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            for X, Y, (Zs, A_aug, As, Ds, Ts), m, S, A, se, start, stop, scale in self.steps:
                # forward: z^(l) = [W^(l) | b^(l)] [a^(l-1); 1], a^(l) = f_l(z^(l))
                a_in = [X]
                for l in range(L - 1):
                    Z = np.matmul(W_augs[l], a_in[-1], out=Zs[l])
                    kern = kernels[l]
                    if kern is not None:
                        kern[0](Z, As[l])
                    else:
                        As[l][...] = acts[l].f(Z, **acts[l].kw)
                    a_in.append(A_aug[l])
                Z = np.matmul(W_augs[-1], a_in[-1], out=Zs[-1])
                D = Ds[-1]
                if fused:  # softmax and δ^(L) = ŷ − y (as losses._sce_*); the loss at the epoch's end
                    np.maximum.reduce(Z, axis=0, out=m)  # max z (np.max without its wrapper)
                    np.subtract(Z, m, out=S)  # s = z − max z
                    np.exp(S, out=A)
                    np.add.reduce(A, axis=0, out=se)  # Σ_k e^{s_k}
                    A /= se  # softmax
                    np.subtract(A, Y, out=D)
                else:
                    act = acts[-1]
                    A = np.asarray(act.f(Z, **act.kw), dtype=np.float64)
                    batch_losses.append(float(_losses._per_example_unchecked(loss, Z, A, Y).mean()))
                    correct += int(np.count_nonzero(_classes(A) == true_s[start:stop]))
                    D[...] = _losses._delta_unchecked(loss, Z, A, Y, act.df, act.kw)
                D *= scale  # factor · δ^(L) / n_B: the batch mean (and SGD's α) folded in once
                # backward: factor · [Δ^(l) A^(l-1)ᵀ | Δ^(l) 1] / n_B, weights and biases at once
                for l in range(L - 1, -1, -1):
                    np.matmul(D, a_in[l].T, out=g_augs[l])
                    if l:
                        D_prev = np.matmul(W_Ts[l], D, out=Ds[l - 1])  # W^(l)ᵀ δ^(l)
                        kern = kernels[l - 1]
                        if kern is not None:
                            kern[1](D_prev, Zs[l - 1], As[l - 1], Ts[l - 1])  # ⊙ f'(z^(l-1))
                        else:
                            act = acts[l - 1]
                            D_prev *= np.asarray(act.df(Zs[l - 1], **act.kw), dtype=np.float64)
                        D = D_prev
                if decay is not None:  # + factor · λ W^(l) on the weights only
                    np.multiply(theta, decay, out=tmp)
                    g += tmp
                if step_flat is not None:
                    step_flat(theta, g, state, tmp, tmp2)
                else:
                    new, self.state_flat = self.opt._update(self._to_params(theta), self._views(g), self.state_flat)
                    self._to_flat(new, theta)
            if fused:  # the epoch's losses and accuracy, from the kept blocks
                Yb = YsT[:K * B].reshape(K, B, -1).transpose(0, 2, 1)
                T = self.S_blocks - np.log(self.se_blocks)[:, None, :]
                T *= Yb
                batch_losses = [-v for v in T.sum(axis=1).mean(axis=1).tolist()]
                correct = int(np.count_nonzero(_classes_blocks(self.A_blocks).ravel() == true_s[:K * B]))
                if rest:
                    T = self.S_rest - np.log(self.se_rest)
                    T *= YsT[K * B:].T
                    batch_losses.append(-float(T.sum(axis=0).mean()))
                    correct += int(np.count_nonzero(_classes(self.A_rest) == true_s[K * B:]))
        loss_sum = 0.0
        sizes = [B] * K + ([rest] if rest else [])
        for value, nb in zip(batch_losses, sizes):  # as batch by batch: Σ mean_B · n_B, in order
            loss_sum += value * nb
        return loss_sum, correct


def _classes_blocks(A: Array) -> NDArray[np.intp]:
    """Class decisions from output blocks of shape (K, C, B) (argmax over C, or a > 0.5 for C = 1)."""
    if A.shape[1] == 1:
        return (A[:, 0, :] > 0.5).astype(np.intp)
    return A.argmax(axis=1)
