"""Activation functions and their derivatives (Lecture 01).

A neuron computes its net input ``z = wᵀx + b`` and its activation ``a = f(z)``.
This module gives every activation of Lecture 01 as a pair of functions,
``<name>(z)`` for ``f`` and ``<name>_grad(z)`` for ``f'``, and a read-only
table :data:`ACTIVATIONS` that maps a name to an :class:`Activation`.
Maxout, which takes K pieces rather than one net input, is outside the table.

Each entry of :data:`ACTIVATIONS` is an :class:`Activation`, a named tuple
``(name, f, df)``: ``name`` is the canonical name (an alias gives the same
entry, so ``ACTIVATIONS["sigmoid"].name == "logistic"``), ``f`` is the
function, e.g. :func:`relu`, and ``df`` its derivative, e.g. :func:`relu_grad`.
The table behaves like a read-only dict (iteration, ``in``, ``len``,
``items()``, ``.get(name, default)``); looking up an unknown name raises a
``KeyError`` whose message repeats the name, suggests the closest known one
and lists them all (:func:`get` raises ``ValueError`` instead):

>>> ACTIVATIONS["rleu"]  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
KeyError: "unknown activation 'rleu'; did you mean 'relu'? Known: 'logistic', 'sigmoid', 'tanh', ...

Conventions shared by every function here:

- **Shapes.** ``z`` may have any shape: a scalar, the net input ``z^(l)`` of a
  layer, shape (M_l,), or a batch ``Z^(l)``, shape (M_l, N), one column per
  example. The result has the shape of ``z``, dtype float64, and is a new array
  (the argument is never modified). A scalar or 0-d input gives a numpy
  ``float64`` scalar.
- **Derivatives** are elementwise: ``f_grad(z)[i] = f'(z_i)``. They are the
  diagonal of the Jacobian ``∂a/∂z = diag(f'(z))``; a diagonal matrix is its
  own transpose, so here denominator and numerator layout agree.
- **Kinks.** At a point where ``f`` is not differentiable the derivative takes
  the value of the flat or negative piece: ReLU'(0) = 0, leaky ReLU'(0) =
  PReLU'(0) = γ, ELU'(0) = γ (= 1 for the default γ = 1, where ELU is smooth),
  hard-logistic'(±2) = 0, hard-tanh'(±1) = 0. Each value lies between the
  one-sided derivatives (a valid subgradient); PyTorch makes the same choices.
- **Bad input** raises: NaN or ±inf in ``z`` gives ``ValueError`` (an
  activation does not hide a NaN from upstream), strings and complex numbers
  give ``TypeError``. Parameters (``gamma``, ``beta``) are keyword-only, have
  defaults, and are checked the same way.
- **Numerical stability.** No overflow and no RuntimeWarning for any finite
  float64 input (tested at ±1e4 and ±1e300) whenever the exact result is
  representable: ``np.exp`` only ever sees non-positive arguments, and where
  ``np.where`` evaluates both branches each branch gets an argument that is
  safe for it. Values below the smallest float64 round to 0 silently
  (numpy's default for underflow), which is the correctly rounded answer.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erfc

from fnnlib._validate import NamedTable, as_float_array, check_choice, shape_str

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get",
    "logistic",
    "logistic_grad",
    "tanh",
    "tanh_grad",
    "hard_logistic",
    "hard_logistic_grad",
    "hard_tanh",
    "hard_tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "prelu_grad_gamma",
    "elu",
    "elu_grad",
    "softplus",
    "softplus_grad",
    "swish",
    "swish_grad",
    "gelu",
    "gelu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "gelu_sigmoid",
    "gelu_sigmoid_grad",
    "identity",
    "identity_grad",
    "maxout",
    "maxout_grad",
]

FloatOut = NDArray[np.float64] | np.float64
"""What every elementwise function returns: an array shaped like ``z``, or a scalar for a scalar."""

_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_GELU_TANH_C = math.sqrt(2.0 / math.pi)  # √(2/π) in the tanh approximation of GELU
_GELU_TANH_A = 0.044715  # the cubic coefficient of the same approximation
_GELU_SIGMOID_BETA = 1.702  # GELU(z) ≈ z σ(1.702 z)


# --------------------------------------------------------------------------- #
# Private helpers: input checks and the stable building blocks.               #
# --------------------------------------------------------------------------- #


def _z(z: ArrayLike, func: str) -> NDArray[np.float64]:
    """``z`` as a float64 array, finite, or a clear error naming ``func``."""
    return as_float_array(z, "z", func)


def _out(a: ArrayLike) -> FloatOut:
    """Turn a 0-d result into a float64 scalar; leave other arrays alone."""
    return np.asarray(a, dtype=np.float64)[()]


def _real(value: Any, name: str, func: str, *, minimum: float | None = None) -> float:
    """A finite real parameter (``gamma``, ``beta``) as a float, or raise."""
    arr = as_float_array(value, name, func)
    if arr.ndim != 0:
        hint = " For one γ per neuron use prelu." if name == "gamma" else ""
        raise ValueError(
            f"{func}: {name} must be a single number, "
            f"got an array of shape {shape_str(arr.shape)}.{hint}"
        )
    if minimum is not None and arr < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}, got {float(arr)}.")
    return float(arr)


def _exp_neg_abs(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """``exp(-|t|)``: the exponent is never positive, so it never overflows."""
    return np.exp(-np.abs(t))


def _sigma(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Stable σ(t): 1/(1 + e^{-t}) for t ≥ 0 and e^{t}/(1 + e^{t}) for t < 0."""
    e = _exp_neg_abs(t)
    return np.where(t >= 0, 1.0, e) / (1.0 + e)


def _sigma_grad(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Stable σ'(t) = σ(t)(1 − σ(t)) = e^{-|t|} / (1 + e^{-|t|})², accurate in both tails."""
    e = _exp_neg_abs(t)
    return e / (1.0 + e) ** 2


def _scaled(beta: float, z: NDArray[np.float64]) -> NDArray[np.float64]:
    """β z, where a product beyond ±1.8e308 becomes ±inf quietly: σ is exactly 0 or 1 there."""
    with np.errstate(over="ignore"):
        return beta * z


def _swish(z: NDArray[np.float64], beta: float) -> NDArray[np.float64]:
    return z * _sigma(_scaled(beta, z))


def _swish_grad(z: NDArray[np.float64], beta: float) -> NDArray[np.float64]:
    # t σ'(t) is exactly 0 in float64 for |t| > 1e3; clipping keeps inf · 0 away.
    t = np.clip(_scaled(beta, z), -1e3, 1e3)
    return _sigma(t) + t * _sigma_grad(t)


def _leaky(z: NDArray[np.float64], gamma: Any) -> NDArray[np.float64]:
    # min(z, 0) keeps the unused branch from overflowing when γ and z are both large.
    return np.where(z > 0, z, gamma * np.minimum(z, 0.0))


def _leaky_grad(z: NDArray[np.float64], gamma: Any) -> NDArray[np.float64]:
    return np.where(z > 0, 1.0, gamma)  # gamma broadcasts to the shape of z


def _prelu_gamma(gamma: ArrayLike, z: NDArray[np.float64], func: str) -> NDArray[np.float64]:
    """γ checked and shaped to broadcast against the first (neuron) axis of ``z``."""
    g = as_float_array(gamma, "gamma", func)
    if g.ndim == 0:
        return g
    if g.ndim == 1 and z.ndim >= 1 and g.shape[0] == z.shape[0]:
        return g.reshape(g.shape + (1,) * (z.ndim - 1))
    want = shape_str(z.shape[:1]) if z.ndim >= 1 else "(1,), a single number for a scalar z"
    msg = (
        f"{func}: gamma has shape {shape_str(g.shape)} but z has shape {shape_str(z.shape)}; "
        f"expected a single number or one γ per neuron, shape (M,) = {want}, "
        "with z of shape (M,) or (M, N), one column per example."
    )
    if g.ndim == 1 and z.ndim == 2 and g.shape[0] == z.shape[1]:
        msg += (
            " gamma matches the second axis: did you pass the (N, M) array "
            "instead of its transpose .T?"
        )
    raise ValueError(msg)


def _phi_cdf(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Standard normal cdf Φ(z) = erfc(−z/√2)/2, accurate in the left tail too."""
    return 0.5 * erfc(-z / _SQRT_2)


def _z_phi_pdf(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """z φ(z) with φ the standard normal density; exactly 0 in float64 beyond |z| = 40."""
    zc = np.clip(z, -40.0, 40.0)  # keeps z² finite for |z| up to 1.8e308
    return zc * np.exp(-0.5 * zc * zc) / _SQRT_2PI


def _gelu_tanh_arg(z: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """(zc, t, dt/dz) with t = 2u = 2√(2/π)(zc + 0.044715 zc³) and zc = z clipped to ±50.

    Beyond |z| = 50, σ(t) is exactly 0 or 1 and σ'(t) exactly 0 in float64,
    so clipping changes nothing but keeps z³ finite.
    """
    zc = np.clip(z, -50.0, 50.0)
    t = 2.0 * _GELU_TANH_C * (zc + _GELU_TANH_A * zc**3)
    dt = 2.0 * _GELU_TANH_C * (1.0 + 3.0 * _GELU_TANH_A * zc**2)
    return zc, t, dt


def _pieces(Z: ArrayLike, func: str) -> NDArray[np.float64]:
    """The K ≥ 1 maxout pieces stacked on the first axis, or a clear error."""
    P = as_float_array(Z, "Z", func)
    if P.ndim == 0 or P.shape[0] == 0:
        raise ValueError(
            f"{func}: Z has shape {shape_str(P.shape)}; expected the K >= 1 affine pieces stacked "
            "on the first axis, shape (K, ...), e.g. (K, M, N). "
            "Build it with np.stack([z_1, ..., z_K])."
        )
    return P


# --------------------------------------------------------------------------- #
# Sigmoid family.                                                              #
# --------------------------------------------------------------------------- #


def logistic(z: ArrayLike) -> FloatOut:
    """Logistic function σ(z), the "sigmoid", elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input, e.g. z^(l) of shape (M_l,) or Z^(l) of shape (M_l, N).

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        σ(z), in [0, 1] (strictly inside (0, 1) unless it rounds).

    Notes
    -----
    σ(z) = 1 / (1 + e^{−z}) (Lecture 01, §Sigmoid family). Computed as
    1/(1 + e^{−z}) for z ≥ 0 and e^{z}/(1 + e^{z}) for z < 0, so that exp
    never overflows (Lecture 01, §Numerical stability).

    Examples
    --------
    >>> logistic(np.array([-1.0, 0.0, 1.0]))
    array([0.26894142, 0.5       , 0.73105858])
    """
    return _out(_sigma(_z(z, "logistic")))


def logistic_grad(z: ArrayLike) -> FloatOut:
    """Derivative σ'(z) of the logistic function, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which σ' is evaluated.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        σ'(z), in [0, 1/4]; the maximum 1/4 is at z = 0.

    Notes
    -----
    σ'(z) = σ(z)(1 − σ(z)) (Lecture 01, §Derivative table), evaluated as
    e^{−|z|}/(1 + e^{−|z|})², which keeps full relative accuracy in the tails.

    Examples
    --------
    >>> logistic_grad(np.array([0.0, 2.0]))
    array([0.25      , 0.10499359])
    """
    return _out(_sigma_grad(_z(z, "logistic_grad")))


def tanh(z: ArrayLike) -> FloatOut:
    """Hyperbolic tangent, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a tanh unit.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        tanh(z), in [−1, 1]: zero-centred, unlike σ.

    Notes
    -----
    tanh(z) = (e^{z} − e^{−z}) / (e^{z} + e^{−z}) = 2σ(2z) − 1
    (Lecture 01, §Sigmoid family): tanh is the logistic stretched from (0, 1)
    to (−1, 1) and compressed by a factor 2 along z.

    Examples
    --------
    >>> tanh(np.array([-1.0, 0.0, 1.0]))
    array([-0.76159416,  0.        ,  0.76159416])
    """
    return _out(np.tanh(_z(z, "tanh")))


def tanh_grad(z: ArrayLike) -> FloatOut:
    """Derivative of tanh, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which tanh' is evaluated.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        tanh'(z), in [0, 1]; the maximum 1 is at z = 0.

    Notes
    -----
    tanh'(z) = 1 − tanh²(z) = 4σ'(2z) (Lecture 01, §Derivative table). The
    second form is used: 1 − tanh² rounds to 0 already for |z| > 19.

    Examples
    --------
    >>> tanh_grad(np.array([0.0, 1.0]))
    array([1.        , 0.41997434])
    """
    # Beyond |z| = 400, tanh' is exactly 0 in float64; clipping keeps 2z finite.
    zc = np.clip(_z(z, "tanh_grad"), -400.0, 400.0)
    return _out(4.0 * _sigma_grad(2.0 * zc))


def hard_logistic(z: ArrayLike) -> FloatOut:
    """Hard-logistic function, the piecewise-linear σ, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a hard-logistic unit.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        hard-logistic(z), in [0, 1].

    Notes
    -----
    hard-logistic(z) = max(min(0.25 z + 0.5, 1), 0): the first-order Taylor
    expansion of σ around 0, σ(0) + σ'(0) z = 0.5 + 0.25 z, clipped to [0, 1]
    (Lecture 01, §Sigmoid family).

    Examples
    --------
    >>> hard_logistic(np.array([-3.0, 0.0, 1.0, 3.0]))
    array([0.  , 0.5 , 0.75, 1.  ])
    """
    return _out(np.clip(0.25 * _z(z, "hard_logistic") + 0.5, 0.0, 1.0))


def hard_logistic_grad(z: ArrayLike) -> FloatOut:
    """Derivative of the hard-logistic function, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which the slope of hard-logistic is taken.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        0.25 on −2 < z < 2 and 0 elsewhere, the kinks z = ±2 included.

    Notes
    -----
    hard-logistic'(z) = 0.25 · I(|z| < 2) (Lecture 01, §Derivative table).

    Examples
    --------
    >>> hard_logistic_grad(np.array([-2.0, 0.0, 2.0]))
    array([0.  , 0.25, 0.  ])
    """
    return _out(np.where(np.abs(_z(z, "hard_logistic_grad")) < 2.0, 0.25, 0.0))


def hard_tanh(z: ArrayLike) -> FloatOut:
    """Hard-tanh function, the piecewise-linear tanh, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a hard-tanh unit.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        hard-tanh(z), in [−1, 1].

    Notes
    -----
    hard-tanh(z) = max(min(z, 1), −1): the first-order expansion of tanh
    around 0, tanh(0) + tanh'(0) z = z, clipped to [−1, 1]
    (Lecture 01, §Sigmoid family).

    Examples
    --------
    >>> hard_tanh(np.array([-2.0, 0.5, 2.0]))
    array([-1. ,  0.5,  1. ])
    """
    return _out(np.clip(_z(z, "hard_tanh"), -1.0, 1.0))


def hard_tanh_grad(z: ArrayLike) -> FloatOut:
    """Derivative of the hard-tanh function, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which the slope of hard-tanh is taken.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        1 on −1 < z < 1 and 0 elsewhere, the kinks z = ±1 included.

    Notes
    -----
    hard-tanh'(z) = I(|z| < 1) (Lecture 01, §Derivative table).

    Examples
    --------
    >>> hard_tanh_grad(np.array([-1.0, 0.0, 1.0]))
    array([0., 1., 0.])
    """
    return _out(np.where(np.abs(_z(z, "hard_tanh_grad")) < 1.0, 1.0, 0.0))


# --------------------------------------------------------------------------- #
# ReLU family.                                                                 #
# --------------------------------------------------------------------------- #


def relu(z: ArrayLike) -> FloatOut:
    """Rectified linear unit, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a ReLU unit.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        ReLU(z) ≥ 0; exactly 0 for z ≤ 0 (sparse activations).

    Notes
    -----
    ReLU(z) = max(0, z) (Lecture 01, §ReLU family).

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return _out(np.maximum(_z(z, "relu"), 0.0))


def relu_grad(z: ArrayLike) -> FloatOut:
    """Derivative of ReLU, elementwise, with ReLU'(0) = 0.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which ReLU' is evaluated.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        1 where z > 0, 0 where z ≤ 0.

    Notes
    -----
    ReLU'(z) = I(z > 0) (Lecture 01, §Derivative table). ReLU has no
    derivative at 0; any value in [0, 1] is a subgradient, and this module
    takes 0. A neuron whose z ≤ 0 for every example gets no gradient at all:
    a dead ReLU.

    Examples
    --------
    >>> relu_grad(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    return _out((_z(z, "relu_grad") > 0).astype(np.float64))


def leaky_relu(z: ArrayLike, *, gamma: float = 0.01) -> FloatOut:
    """Leaky ReLU with a fixed slope γ for negative inputs, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a leaky ReLU unit.
    gamma : float, default 0.01
        Slope for z ≤ 0, any finite real number; usually small and positive.
        γ = 0 gives ReLU, γ = 1 the identity. One γ per neuron: use :func:`prelu`.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        z where z > 0, γ z elsewhere.

    Notes
    -----
    LeakyReLU(z) = max(0, z) + γ min(0, z) (Lecture 01, §ReLU family).

    Examples
    --------
    >>> leaky_relu(np.array([-2.0, 3.0]), gamma=0.1)
    array([-0.2,  3. ])
    """
    return _out(_leaky(_z(z, "leaky_relu"), _real(gamma, "gamma", "leaky_relu")))


def leaky_relu_grad(z: ArrayLike, *, gamma: float = 0.01) -> FloatOut:
    """Derivative of leaky ReLU, elementwise, with the value γ at z = 0.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which the slope of leaky ReLU is taken.
    gamma : float, default 0.01
        Slope for z ≤ 0, as in :func:`leaky_relu`.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        1 where z > 0, γ where z ≤ 0.

    Notes
    -----
    LeakyReLU'(z) = I(z > 0) + γ I(z ≤ 0) (Lecture 01, §Derivative table).

    Examples
    --------
    >>> leaky_relu_grad(np.array([-2.0, 0.0, 3.0]), gamma=0.1)
    array([0.1, 0.1, 1. ])
    """
    return _out(_leaky_grad(_z(z, "leaky_relu_grad"), _real(gamma, "gamma", "leaky_relu_grad")))


def prelu(z: ArrayLike, *, gamma: ArrayLike = 0.25) -> FloatOut:
    """Parametric ReLU: leaky ReLU with a learned slope γ_i per neuron.

    Parameters
    ----------
    z : array_like of shape (M,) or (M, N), or any shape for a single γ
        Net input z^(l) of one layer, (M_l,), or a batch Z^(l), (M_l, N) with
        one column per example. More axes are allowed after the first.
    gamma : float or array_like of shape (M,), default 0.25
        Slopes for z ≤ 0: γ_i applies to neuron i, i.e. to z[i, ...]
        (broadcast against the first axis of z). A single number is shared
        by all neurons. Any finite reals; 0.25 is the usual starting value.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        a[i, ...] = z[i, ...] where positive, γ_i z[i, ...] elsewhere.

    Notes
    -----
    PReLU_i(z_i) = max(0, z_i) + γ_i min(0, z_i) (Lecture 01, §ReLU family;
    He et al., 2015). γ is trained with the weights: see
    :func:`prelu_grad_gamma`.

    Examples
    --------
    >>> prelu(np.array([[-1.0, 2.0], [-1.0, 2.0]]), gamma=np.array([0.1, 0.5]))
    array([[-0.1,  2. ],
           [-0.5,  2. ]])
    """
    x = _z(z, "prelu")
    return _out(_leaky(x, _prelu_gamma(gamma, x, "prelu")))


def prelu_grad(z: ArrayLike, *, gamma: ArrayLike = 0.25) -> FloatOut:
    """Derivative of PReLU with respect to z, elementwise, with the value γ_i at z = 0.

    Parameters
    ----------
    z : array_like of shape (M,) or (M, N)
        Net input at which ∂a/∂z is taken, as in :func:`prelu`.
    gamma : float or array_like of shape (M,), default 0.25
        One slope per neuron (or one shared), as in :func:`prelu`.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        1 where z > 0, γ_i where z[i, ...] ≤ 0.

    Notes
    -----
    ∂a_i/∂z_i = I(z_i > 0) + γ_i I(z_i ≤ 0) (Lecture 01, §Derivative table).

    Examples
    --------
    >>> prelu_grad(np.array([-1.0, 2.0]), gamma=np.array([0.1, 0.5]))
    array([0.1, 1. ])
    """
    x = _z(z, "prelu_grad")
    return _out(_leaky_grad(x, _prelu_gamma(gamma, x, "prelu_grad")))


def prelu_grad_gamma(z: ArrayLike, *, gamma: ArrayLike = 0.25) -> FloatOut:
    """Derivative of PReLU with respect to its slope, ∂a/∂γ, elementwise.

    Parameters
    ----------
    z : array_like of shape (M,) or (M, N)
        Net input at which ∂a/∂γ is taken, as in :func:`prelu`.
    gamma : float or array_like of shape (M,), default 0.25
        Checked against z as in :func:`prelu`, so the same keyword arguments
        serve all three PReLU functions; the result does not depend on it.

    Returns
    -------
    da_dgamma : ndarray of the shape of z, or float64 for a scalar
        ∂a[i, ...]/∂γ_i = min(0, z[i, ...]).

    Notes
    -----
    ∂PReLU_i(z_i)/∂γ_i = min(0, z_i) (Lecture 01, §ReLU family). Given
    ``dL_da`` = ∂L/∂a for a batch, shape (M, N), the batch-averaged gradient
    with respect to γ, shape (M,), is
    ``(dL_da * prelu_grad_gamma(Z)).mean(axis=1)``.

    Examples
    --------
    >>> prelu_grad_gamma(np.array([-1.5, 2.0]))
    array([-1.5,  0. ])
    """
    x = _z(z, "prelu_grad_gamma")
    _prelu_gamma(gamma, x, "prelu_grad_gamma")
    return _out(np.minimum(x, 0.0))


def elu(z: ArrayLike, *, gamma: float = 1.0) -> FloatOut:
    """Exponential linear unit, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of an ELU unit.
    gamma : float, default 1.0
        Scale of the negative part, finite and ≥ 0; the output saturates at −γ.
        γ = 0 gives ReLU. A negative γ is rejected: it would make ELU
        decrease on z < 0.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        z where z > 0, γ(e^z − 1) elsewhere, in (−γ, ∞).

    Notes
    -----
    ELU(z) = max(0, z) + min(0, γ(e^z − 1)) (Lecture 01, §ReLU family;
    Clevert et al., 2016). Computed with expm1 on min(z, 0), accurate near 0
    and never overflowing.

    Examples
    --------
    >>> elu(np.array([-1.0, 0.0, 2.0]))
    array([-0.63212056,  0.        ,  2.        ])
    """
    x = _z(z, "elu")
    g = _real(gamma, "gamma", "elu", minimum=0.0)
    return _out(np.where(x > 0, x, g * np.expm1(np.minimum(x, 0.0))))


def elu_grad(z: ArrayLike, *, gamma: float = 1.0) -> FloatOut:
    """Derivative of ELU, elementwise, with the value γ at z = 0.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which ELU' is evaluated.
    gamma : float, default 1.0
        As in :func:`elu`.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        1 where z > 0, γ e^z where z ≤ 0.

    Notes
    -----
    ELU'(z) = I(z > 0) + γ e^z I(z ≤ 0) (Lecture 01, §Derivative table).
    With γ = 1 both pieces give 1 at z = 0 and ELU is continuously
    differentiable.

    Examples
    --------
    >>> elu_grad(np.array([-1.0, 0.0, 2.0]))
    array([0.36787944, 1.        , 1.        ])
    """
    x = _z(z, "elu_grad")
    g = _real(gamma, "gamma", "elu_grad", minimum=0.0)
    return _out(np.where(x > 0, 1.0, g * np.exp(np.minimum(x, 0.0))))


def softplus(z: ArrayLike) -> FloatOut:
    """Softplus, a smooth ReLU, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a softplus unit.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        softplus(z) = log(1 + e^z) > 0.

    Notes
    -----
    softplus(z) = log(1 + e^z) (Lecture 01, §ReLU family), computed as
    max(z, 0) + log1p(e^{−|z|}) so that exp never overflows and the left
    tail (where softplus(z) ≈ e^z) keeps its relative accuracy.

    Examples
    --------
    >>> softplus(np.array([-1.0, 0.0, 1.0]))
    array([0.31326169, 0.69314718, 1.31326169])
    """
    x = _z(z, "softplus")
    return _out(np.maximum(x, 0.0) + np.log1p(_exp_neg_abs(x)))


def softplus_grad(z: ArrayLike) -> FloatOut:
    """Derivative of softplus, which is the logistic function σ, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which softplus' is evaluated.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        softplus'(z) = σ(z), in [0, 1].

    Notes
    -----
    softplus'(z) = e^z / (1 + e^z) = σ(z) (Lecture 01, §Derivative table).

    Examples
    --------
    >>> softplus_grad(np.array([0.0]))
    array([0.5])
    """
    return _out(_sigma(_z(z, "softplus_grad")))


# --------------------------------------------------------------------------- #
# Swish and GELU.                                                              #
# --------------------------------------------------------------------------- #


def swish(z: ArrayLike, *, beta: float = 1.0) -> FloatOut:
    """Swish z·σ(βz), elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a swish unit.
    beta : float, default 1.0
        Any finite real. β = 0 gives z/2 (linear); as β → +∞ swish tends to
        ReLU. β = 1 is also called SiLU.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        z σ(βz).

    Notes
    -----
    swish(z) = z σ(βz) (Lecture 01, §Swish and GELU; Ramachandran et al., 2017).
    σ(βz) acts as a soft gate that lets z through where βz ≫ 0.

    Examples
    --------
    >>> swish(np.array([-1.0, 0.0, 1.0]))
    array([-0.26894142,  0.        ,  0.73105858])
    """
    return _out(_swish(_z(z, "swish"), _real(beta, "beta", "swish")))


def swish_grad(z: ArrayLike, *, beta: float = 1.0) -> FloatOut:
    """Derivative of swish with respect to z, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which swish' is evaluated.
    beta : float, default 1.0
        As in :func:`swish`.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        swish'(z); slightly negative for some z < 0 when β > 0.

    Notes
    -----
    swish'(z) = σ(βz) + βz σ(βz)(1 − σ(βz)) (Lecture 01, §Derivative table).

    Examples
    --------
    >>> swish_grad(np.array([0.0, 1.0]))
    array([0.5       , 0.92767051])
    """
    return _out(_swish_grad(_z(z, "swish_grad"), _real(beta, "beta", "swish_grad")))


def gelu(z: ArrayLike) -> FloatOut:
    """Gaussian error linear unit z·Φ(z), exact, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a GELU unit.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        z Φ(z), with Φ the standard normal cumulative distribution function.

    Notes
    -----
    GELU(z) = z Φ(z) = (z/2)(1 + erf(z/√2)) (Lecture 01, §Swish and GELU;
    Hendrycks & Gimpel, 2016). Φ is evaluated as erfc(−z/√2)/2, accurate in
    the left tail. Approximations: :func:`gelu_tanh`, :func:`gelu_sigmoid`.

    Examples
    --------
    >>> gelu(np.array([-1.0, 0.0, 1.0]))
    array([-0.15865525,  0.        ,  0.84134475])
    """
    x = _z(z, "gelu")
    return _out(x * _phi_cdf(x))


def gelu_grad(z: ArrayLike) -> FloatOut:
    """Derivative of the exact GELU, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which GELU' is evaluated.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        GELU'(z), in about [−0.068, 1.13]; its minimum is at z = −√2, and it
        is 0 at z ≈ −0.75, where GELU itself is smallest (≈ −0.17).

    Notes
    -----
    GELU'(z) = Φ(z) + z φ(z), with φ(z) = e^{−z²/2}/√(2π) the standard normal
    density (Lecture 01, §Derivative table).

    Examples
    --------
    >>> gelu_grad(np.array([0.0, 1.0]))
    array([0.5       , 1.08331547])
    """
    x = _z(z, "gelu_grad")
    return _out(_phi_cdf(x) + _z_phi_pdf(x))


def gelu_tanh(z: ArrayLike) -> FloatOut:
    """The tanh approximation of GELU, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a GELU unit (tanh approximation).

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        (z/2)(1 + tanh(√(2/π)(z + 0.044715 z³))), within 5e-4 of :func:`gelu`
        for every z (largest error ≈ 4.7e-4, near |z| = 2.7).

    Notes
    -----
    GELU(z) ≈ (z/2)(1 + tanh(u)), u = √(2/π)(z + 0.044715 z³)
    (Lecture 01, §Swish and GELU). By tanh(u) = 2σ(2u) − 1 this equals
    z σ(2u), which is how it is computed: no cancellation in 1 + tanh(u)
    for z < 0.

    Examples
    --------
    >>> gelu_tanh(np.array([-1.0, 0.0, 1.0]))
    array([-0.15880801,  0.        ,  0.84119199])
    """
    x = _z(z, "gelu_tanh")
    return _out(x * _sigma(_gelu_tanh_arg(x)[1]))


def gelu_tanh_grad(z: ArrayLike) -> FloatOut:
    """Derivative of the tanh approximation of GELU, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which the slope of the tanh approximation is taken.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        The exact derivative of :func:`gelu_tanh`, within 1e-3 of
        :func:`gelu_grad` for every z.

    Notes
    -----
    With t = 2u = 2√(2/π)(z + 0.044715 z³): d/dz [z σ(t)] = σ(t) + z σ'(t) t',
    t' = 2√(2/π)(1 + 3 · 0.044715 z²) (Lecture 01, §Derivative table).

    Examples
    --------
    >>> gelu_tanh_grad(np.array([0.0, 1.0]))
    array([0.5       , 1.08296408])
    """
    zc, t, dt = _gelu_tanh_arg(_z(z, "gelu_tanh_grad"))
    return _out(_sigma(t) + zc * _sigma_grad(t) * dt)


def gelu_sigmoid(z: ArrayLike) -> FloatOut:
    """The sigmoid approximation of GELU, z·σ(1.702 z), elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a GELU unit (sigmoid approximation).

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        z σ(1.702 z), within 0.021 of :func:`gelu` for every z (largest
        error ≈ 0.0203, near z = −2.27).

    Notes
    -----
    GELU(z) ≈ z σ(1.702 z) = swish(z; β = 1.702) (Lecture 01, §Swish and GELU):
    σ(1.702 z) is close to Φ(z).

    Examples
    --------
    >>> gelu_sigmoid(np.array([-1.0, 0.0, 1.0]))
    array([-0.15420423,  0.        ,  0.84579577])
    """
    return _out(_swish(_z(z, "gelu_sigmoid"), _GELU_SIGMOID_BETA))


def gelu_sigmoid_grad(z: ArrayLike) -> FloatOut:
    """Derivative of the sigmoid approximation of GELU, elementwise.

    Parameters
    ----------
    z : array_like, any shape
        Net input at which the slope of z σ(1.702 z) is taken.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        The exact derivative of :func:`gelu_sigmoid`, within 0.03 of
        :func:`gelu_grad` for every z.

    Notes
    -----
    d/dz [z σ(βz)] = σ(βz) + βz σ'(βz) with β = 1.702
    (Lecture 01, §Derivative table); the same formula as :func:`swish_grad`.

    Examples
    --------
    >>> gelu_sigmoid_grad(np.array([0.0]))
    array([0.5])
    """
    return _out(_swish_grad(_z(z, "gelu_sigmoid_grad"), _GELU_SIGMOID_BETA))


# --------------------------------------------------------------------------- #
# Identity and maxout.                                                         #
# --------------------------------------------------------------------------- #


def identity(z: ArrayLike) -> FloatOut:
    """Identity ("linear") activation, for regression outputs.

    Parameters
    ----------
    z : array_like, any shape
        Net input of a linear (output) unit.

    Returns
    -------
    a : ndarray of the shape of z, or float64 for a scalar
        A float64 copy of z (never z itself).

    Notes
    -----
    f(z) = z (Lecture 01, §Why nonlinearity: a network of identity units is
    one affine map, however deep).

    Examples
    --------
    >>> identity([1, -2])
    array([ 1., -2.])
    """
    return _out(np.array(_z(z, "identity"), dtype=np.float64, copy=True))


def identity_grad(z: ArrayLike) -> FloatOut:
    """Derivative of the identity: ones shaped like z.

    Parameters
    ----------
    z : array_like, any shape
        Net input; only its shape matters.

    Returns
    -------
    da : ndarray of the shape of z, or float64 for a scalar
        All ones.

    Notes
    -----
    f'(z) = 1 (Lecture 01, §Derivative table).

    Examples
    --------
    >>> identity_grad(np.zeros((2, 3))).shape
    (2, 3)
    """
    return _out(np.ones_like(_z(z, "identity_grad")))


def maxout(Z: ArrayLike) -> FloatOut:
    """Maxout: the largest of K affine pieces, over the first axis.

    Parameters
    ----------
    Z : array_like of shape (K, ...), e.g. (K, M, N) or (K, M)
        The K ≥ 1 pieces z_k = W_k a + b_k stacked on the first axis; the
        remaining axes are those of one net input, e.g. (M_l, N) for a batch
        with one column per example.

    Returns
    -------
    a : ndarray of shape Z.shape[1:], or float64 for Z of shape (K,)
        a = max_k z_k, elementwise.

    Notes
    -----
    maxout(z_1, ..., z_K) = max_k z_k (Lecture 01, §Maxout; Goodfellow et al.,
    2013). A maxout unit is convex and piecewise linear; with the pieces
    (z, 0) it is ReLU.

    Examples
    --------
    >>> maxout(np.array([[1.0, -2.0], [0.0, 0.0]]))
    array([1., 0.])
    """
    return _out(_pieces(Z, "maxout").max(axis=0))


def maxout_grad(Z: ArrayLike) -> NDArray[np.float64]:
    """Derivative of maxout with respect to each piece: the one-hot mask of the argmax.

    Parameters
    ----------
    Z : array_like of shape (K, ...)
        The K ≥ 1 pieces, as in :func:`maxout`.

    Returns
    -------
    mask : ndarray of shape (K, ...), the shape of Z
        mask[k, ...] = ∂a/∂z_k = 1 where piece k is the largest, else 0.
        Exactly one 1 along the first axis: ties go to the first largest
        piece (np.argmax's rule).

    Notes
    -----
    ∂ max_j z_j / ∂z_k = I(k = argmax_j z_j) (Lecture 01, §Maxout). With the
    pieces (0, z) a tie at z = 0 goes to the constant piece, which matches
    ReLU'(0) = 0.

    Examples
    --------
    >>> maxout_grad(np.array([[1.0, 0.0], [0.0, 0.0]]))
    array([[1., 1.],
           [0., 0.]])
    """
    P = _pieces(Z, "maxout_grad")
    mask = np.zeros_like(P)
    np.put_along_axis(mask, np.argmax(P, axis=0)[np.newaxis], 1.0, axis=0)
    return mask


# --------------------------------------------------------------------------- #
# The name → (f, df) table.                                                    #
# --------------------------------------------------------------------------- #


class Activation(NamedTuple):
    """An elementwise activation: its canonical name, ``f`` and its derivative ``df``.

    ``f(z, **params)`` and ``df(z, **params)`` take the same keyword parameters
    (``gamma`` or ``beta`` where the activation has one) and return arrays
    shaped like ``z``. An alias maps to the entry of its canonical name, so
    ``ACTIVATIONS["sigmoid"].name == "logistic"``.

    Examples
    --------
    >>> act = get("relu")
    >>> act.name, act.f([-1.0, 2.0]), act.df([-1.0, 2.0])
    ('relu', array([0., 2.]), array([0., 1.]))
    """

    name: str
    f: Callable[..., FloatOut]
    df: Callable[..., FloatOut]


def _make_table() -> Mapping[str, Activation]:
    pairs = [
        (logistic, logistic_grad),
        (tanh, tanh_grad),
        (hard_logistic, hard_logistic_grad),
        (hard_tanh, hard_tanh_grad),
        (relu, relu_grad),
        (leaky_relu, leaky_relu_grad),
        (prelu, prelu_grad),
        (elu, elu_grad),
        (softplus, softplus_grad),
        (swish, swish_grad),
        (gelu, gelu_grad),
        (gelu_tanh, gelu_tanh_grad),
        (gelu_sigmoid, gelu_sigmoid_grad),
        (identity, identity_grad),
    ]
    aliases = {"logistic": "sigmoid", "identity": "linear"}
    table: dict[str, Activation] = {}
    for f, df in pairs:
        table[f.__name__] = Activation(f.__name__, f, df)
        if f.__name__ in aliases:
            table[aliases[f.__name__]] = table[f.__name__]
    return NamedTable(table, "activation")


ACTIVATIONS: Mapping[str, Activation] = _make_table()
"""Read-only map from a name to its :class:`Activation`.

Names: logistic (alias sigmoid), tanh, hard_logistic, hard_tanh, relu,
leaky_relu, prelu, elu, softplus, swish, gelu, gelu_tanh, gelu_sigmoid,
identity (alias linear). Maxout is not elementwise and is not in the table.
Each entry is an :class:`Activation`, a named tuple ``(name, f, df)``: the canonical name
(``ACTIVATIONS["sigmoid"].name == "logistic"``), the function and its derivative. An unknown
name raises ``KeyError`` listing the known ones and the closest match.
"""


def get(name: str) -> Activation:
    """Look up an activation by name.

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATIONS`, e.g. ``"relu"`` or the alias ``"sigmoid"``.

    Returns
    -------
    Activation
        The named tuple ``(name, f, df)``; ``name`` is the canonical name.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known names.

    Examples
    --------
    >>> get("sigmoid").name
    'logistic'
    >>> get("sigmod")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: get: unknown activation 'sigmod'. Known: 'logistic', 'sigmoid', 'tanh', ...
    """
    return ACTIVATIONS[check_choice(name, ACTIVATIONS, "activation", "get")]


def _parse_activation(spec: Any, func: str, where: str = "", *, allow_softmax: bool = True) -> tuple[str, dict[str, Any]]:
    """One activation spec, a name or a pair ``(name, params)``: return ``(name, params)`` checked.

    The same specs are accepted by :func:`fnnlib.network.forward` (in its list) and by
    :class:`fnnlib.models.Dense` (and :func:`fnnlib.losses.squared_error_delta`): a name from :data:`ACTIVATIONS`
    or ``"softmax"``, or a pair such as ``("leaky_relu", {"gamma": 0.1})`` whose
    parameters are those of the activation function (checked here, once).
    """
    known = [*ACTIVATIONS, "softmax"] if allow_softmax else list(ACTIVATIONS)
    listed = ", ".join(repr(k) for k in known)
    if isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[1], Mapping):
        name, kw = spec[0], dict(spec[1])
    elif isinstance(spec, (tuple, list)):
        raise ValueError(
            f"{func}: activation {spec!r}{where} is not a name or a pair (name, params); expected e.g. 'relu' "
            "or ('leaky_relu', {'gamma': 0.1}), the parameters as a dict."
        )
    else:
        name, kw = spec, {}
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"{func}: unknown activation {name!r}{where}. Known: {listed}.")
    if not kw:
        return name, kw
    if name == "softmax":
        raise ValueError(f"{func}: softmax takes no parameters, got {kw!r}{where}. Use 'softmax' alone.")
    f = ACTIVATIONS[name].f
    accepted = [p for p in inspect.signature(f).parameters if p != "z"]
    unknown = [k for k in kw if k not in accepted]
    if unknown:
        got = ", ".join(repr(k) for k in unknown)
        if accepted:
            hint = f"it takes {', '.join(repr(p) for p in accepted)}, e.g. ({name!r}, {{{accepted[0]!r}: 0.1}})"
        else:
            hint = f"it takes no parameters: pass {name!r} alone"
        raise ValueError(f"{func}: activation {name!r}{where} got the unknown parameter(s) {got}; {hint}.")
    if all(np.ndim(v) == 0 for v in kw.values()):  # per-neuron arrays (prelu) are checked against z when used
        try:
            f(np.zeros(1), **kw)  # the function checks its parameters' values (a single real number, ...)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{func}: activation {name!r}{where} with parameters {kw!r}: {exc}") from None
    return name, kw
