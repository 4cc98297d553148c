"""Forward-mode automatic differentiation with dual numbers (Unit 6).

A dual number ``Dual(a, a')`` carries a value together with its derivative along
one chosen input direction. Arithmetic on dual numbers applies the rules of
calculus to the second slot as it goes::

    (a, a') + (b, b') = (a + b, a' + b')
    (a, a') · (b, b') = (a b, a' b + a b')          (product rule)
    f((a, a'))        = (f(a), f'(a) a')            (chain rule)

so one evaluation of f on ``Dual(x, 1)`` gives f(x) and f'(x) together. That is
forward mode: derivatives travel with the values, from the inputs towards the
output. One pass gives the derivative along one input direction, so a gradient
of f: R^n → R takes n passes; reverse mode (:mod:`fnnlib.autodiff`,
backpropagation) gets it in one pass backwards from the output. See
:func:`passes_needed`.

Examples
--------
>>> y = Dual(3.0, 1.0) * Dual(3.0, 1.0)      # x² at x = 3, dx/dx = 1
>>> y
Dual(value=9.0, deriv=6.0)
>>> derivative(lambda x: sin(x) * exp(x), 0.0)    # cos 0 · e⁰ + sin 0 · e⁰
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import as_float_array, check_positive_int

__all__ = [
    "Dual",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "logistic",
    "sqrt",
    "derivative",
    "GradientResult",
    "gradient",
    "JacobianResult",
    "jacobian",
    "passes_needed",
]


def _real(x: Any, name: str, func: str) -> float:
    """``x`` as a Python float if it is one real number (int, float, numpy scalar, 0-d array)."""
    if isinstance(x, (bool, np.bool_)) or isinstance(x, (str, bytes)):
        raise TypeError(f"{func}: {name} must be a real number, got {type(x).__name__} {x!r}.")
    if isinstance(x, (int, float, np.integer, np.floating)):
        return float(x)
    if isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.number) and not np.iscomplexobj(x):
        return float(x)
    if isinstance(x, np.ndarray):
        raise TypeError(
            f"{func}: {name} must be one real number, got an array of shape {x.shape}. A Dual carries "
            "one value; for a vector, use one Dual per entry (gradient() does this for you)."
        )
    raise TypeError(f"{func}: {name} must be a real number or a Dual, got {type(x).__name__}.")


class Dual:
    """A dual number a + a'ε (ε² = 0): a value and its derivative along one direction.

    Parameters
    ----------
    value : float
        The value a.
    deriv : float, default 0.0
        The derivative a' of the value along the chosen input direction: 1 for
        the input being differentiated, 0 for constants.

    Notes
    -----
    Supported: ``+ - * /`` and ``**`` with Duals, Python numbers and numpy
    scalars on either side (numpy defers to Dual because ``__array_ufunc__`` is
    None, so ``np.float64(2.0) * Dual(1, 1)`` is a Dual); unary ``-``; and the
    module functions :func:`exp`, :func:`log`, :func:`sin`, :func:`cos`,
    :func:`tanh`, :func:`logistic`, :func:`sqrt` (also available as methods, so
    numpy applies ``np.exp`` or ``np.sqrt`` to an object array of Duals entry by
    entry); ``abs(x)`` (and so ``np.abs`` on an object array). The rules, with
    ε² = 0::

        (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε
        (a + a'ε)/(b + b'ε) = a/b + ((a'b − ab')/b²)ε
        (a + a'ε)^p = a^p + p a^(p−1) a'ε
        f(a + a'ε) = f(a) + f'(a) a'ε
        |a + a'ε| = |a| + sign(a) a'ε     (sign(0) = 0: the derivative at the kink is taken as 0)

    **Comparisons** ``< <= > >= == !=`` compare the values a and b only (the
    derivatives play no part), with Duals or real numbers on either side, so
    code that branches works and differentiates the branch taken, as in JAX
    and PyTorch: ``x if x > 0 else 0 * x`` (ReLU), ``max(x, 0)``, or
    ``np.maximum(xs, 0)`` on an object array of Duals. At a kink the branch
    chosen by the comparison decides the derivative. A Dual hashes like its
    value, consistent with ``==``.

    Examples
    --------
    >>> x = Dual(2.0, 1.0)
    >>> x ** 3 / x            # x² at x = 2, derivative 2x
    Dual(value=4.0, deriv=4.0)
    >>> np.float64(3.0) * x   # numpy scalars on the left work too
    Dual(value=6.0, deriv=3.0)
    >>> relu = lambda x: x if x > 0 else 0 * x   # comparisons look at the value
    >>> relu(Dual(2.0, 1.0)), relu(Dual(-2.0, 1.0))
    (Dual(value=2.0, deriv=1.0), Dual(value=-0.0, deriv=0.0))
    >>> abs(Dual(-3.0, 1.0))                     # d|x|/dx = sign(x)
    Dual(value=3.0, deriv=-1.0)
    """

    __slots__ = ("value", "deriv")
    __array_ufunc__ = None  # numpy scalars and arrays defer to Dual's reflected operators
    __array_priority__ = 1000.0

    def __init__(self, value: float, deriv: float = 0.0) -> None:
        if isinstance(value, Dual) or isinstance(deriv, Dual):
            raise TypeError("Dual: value and deriv must be real numbers, not Duals (nested duals are not supported).")
        self.value = _real(value, "value", "Dual")
        self.deriv = _real(deriv, "deriv", "Dual")

    def __repr__(self) -> str:
        return f"Dual(value={self.value!r}, deriv={self.deriv!r})"

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, other: Any) -> Dual:
        o = _as_dual(other, "+")
        return Dual(self.value + o.value, self.deriv + o.deriv)

    def __radd__(self, other: Any) -> Dual:
        return _as_dual(other, "+") + self

    def __sub__(self, other: Any) -> Dual:
        o = _as_dual(other, "-")
        return Dual(self.value - o.value, self.deriv - o.deriv)

    def __rsub__(self, other: Any) -> Dual:
        return _as_dual(other, "-") - self

    def __mul__(self, other: Any) -> Dual:
        o = _as_dual(other, "*")
        return Dual(self.value * o.value, self.deriv * o.value + self.value * o.deriv)

    def __rmul__(self, other: Any) -> Dual:
        return _as_dual(other, "*") * self

    def __truediv__(self, other: Any) -> Dual:
        o = _as_dual(other, "/")
        if o.value == 0:
            raise ZeroDivisionError("Dual /: division by a Dual whose value is 0.")
        return Dual(self.value / o.value, (self.deriv * o.value - self.value * o.deriv) / (o.value * o.value))

    def __rtruediv__(self, other: Any) -> Dual:
        return _as_dual(other, "/") / self

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.deriv)

    def __pos__(self) -> Dual:
        return self

    def __abs__(self) -> Dual:
        """|x|: value |a|, derivative sign(a) a' (0 at a = 0, see the class notes)."""
        a = self.value
        sign = 1.0 if a > 0 else (-1.0 if a < 0 else 0.0)
        return Dual(abs(a), sign * self.deriv)

    # -- comparisons: the values only ---------------------------------------------------------
    def _other_value(self, other: Any) -> float | None:
        if isinstance(other, Dual):
            return other.value
        if isinstance(other, (bool, np.bool_)) or not isinstance(other, (int, float, np.integer, np.floating)):
            if isinstance(other, np.ndarray) and other.ndim == 0 and np.issubdtype(other.dtype, np.number):
                return float(other)
            return None
        return float(other)

    def __lt__(self, other: Any) -> bool:
        o = self._other_value(other)
        return NotImplemented if o is None else self.value < o

    def __le__(self, other: Any) -> bool:
        o = self._other_value(other)
        return NotImplemented if o is None else self.value <= o

    def __gt__(self, other: Any) -> bool:
        o = self._other_value(other)
        return NotImplemented if o is None else self.value > o

    def __ge__(self, other: Any) -> bool:
        o = self._other_value(other)
        return NotImplemented if o is None else self.value >= o

    def __eq__(self, other: Any) -> bool:  # type: ignore[override]
        o = self._other_value(other)
        return NotImplemented if o is None else self.value == o

    def __ne__(self, other: Any) -> bool:  # type: ignore[override]
        o = self._other_value(other)
        return NotImplemented if o is None else self.value != o

    def __hash__(self) -> int:
        return hash(self.value)

    def __pow__(self, other: Any) -> Dual:
        return _power(self, _as_dual(other, "**"))

    def __rpow__(self, other: Any) -> Dual:
        return _power(_as_dual(other, "**"), self)

    # -- methods, so numpy can apply np.exp etc. to object arrays of Duals ----------------
    def exp(self) -> Dual:
        """exp of this Dual (see :func:`exp`)."""
        return exp(self)

    def log(self) -> Dual:
        """Natural log of this Dual (see :func:`log`)."""
        return log(self)

    def sin(self) -> Dual:
        """sin of this Dual (see :func:`sin`)."""
        return sin(self)

    def cos(self) -> Dual:
        """cos of this Dual (see :func:`cos`)."""
        return cos(self)

    def tanh(self) -> Dual:
        """tanh of this Dual (see :func:`tanh`)."""
        return tanh(self)

    def sqrt(self) -> Dual:
        """Square root of this Dual (see :func:`sqrt`)."""
        return sqrt(self)


def _as_dual(x: Any, op: str) -> Dual:
    """A Dual as is; a real number as a constant Dual (derivative 0)."""
    if isinstance(x, Dual):
        return x
    return Dual(_real(x, "the other operand", f"Dual {op}"), 0.0)


def _real_power(a: float, p: float) -> float:
    """a ** p as a real number, with clear errors where it has none."""
    if a == 0 and p < 0:
        raise ZeroDivisionError(f"Dual **: 0 raised to the negative power {p}.")
    if a < 0 and p != round(p):
        raise ValueError(f"Dual **: a negative base ({a}) with a non-integer exponent ({p}) has no real value.")
    return math.pow(a, p)


def _power(base: Dual, exponent: Dual) -> Dual:
    """(a, a') ** (b, b') = (a^b, a^b (b' log a + b a'/a)), written to avoid log a when b' = 0."""
    a, b = base.value, exponent.value
    value = _real_power(a, b)
    deriv = 0.0
    if base.deriv != 0 and b != 0:  # b a^(b−1) a'
        if a == 0 and b < 1:
            raise ValueError(f"Dual **: the derivative of x**{b} at x = 0 is infinite.")
        deriv += b * _real_power(a, b - 1) * base.deriv
    if exponent.deriv != 0:  # a^b log(a) b'
        if a <= 0:
            raise ValueError(
                f"Dual **: the derivative with respect to the exponent needs a positive base (it is "
                f"a^b log a), got a = {a}."
            )
        deriv += value * math.log(a) * exponent.deriv
    return Dual(value, deriv)


# ----------------------------------------------------------------------------------------
# Elementary functions: Dual in, Dual out; a number in, a float out
# ----------------------------------------------------------------------------------------
def _apply(x: Any, func: str, f: Callable[[float], float], df: Callable[[float, float], float]) -> Any:
    """f on a number, or the chain rule f((a, a')) = (f(a), f'(a) a') on a Dual.

    ``df(a, fa)`` gets the value and f(a), so derivatives such as exp' = exp reuse it.
    """
    if isinstance(x, Dual):
        fa = f(x.value)
        return Dual(fa, df(x.value, fa) * x.deriv)
    return f(_real(x, "x", func))


def _checked_exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        raise OverflowError(f"exp: exp({a}) is too large for a float (the limit is about exp(709)).") from None


def _checked_log(a: float) -> float:
    if a <= 0:
        raise ValueError(f"log: needs a positive number, got {a}.")
    return math.log(a)


def _logistic(a: float) -> float:
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)  # a < 0: never overflows
    return e / (1.0 + e)


def exp(x: Dual | float) -> Dual | float:
    """exp(x) for a Dual or a real number.

    Parameters
    ----------
    x : Dual, float, int or numpy scalar

    Returns
    -------
    Dual or float
        A Dual for a Dual input, else a float.

    Notes
    -----
    exp((a, a')) = (exp a, exp(a) a').

    Examples
    --------
    >>> exp(Dual(0.0, 1.0))
    Dual(value=1.0, deriv=1.0)
    """
    return _apply(x, "exp", _checked_exp, lambda a, fa: fa)


def log(x: Dual | float) -> Dual | float:
    """Natural logarithm of a positive Dual or real number.

    Parameters
    ----------
    x : Dual, float, int or numpy scalar (value > 0)

    Returns
    -------
    Dual or float

    Notes
    -----
    log((a, a')) = (log a, a'/a).

    Examples
    --------
    >>> log(Dual(2.0, 1.0)).deriv
    0.5
    """
    return _apply(x, "log", _checked_log, lambda a, fa: 1.0 / a)


def sin(x: Dual | float) -> Dual | float:
    """sin(x) for a Dual or a real number.

    Parameters
    ----------
    x : Dual, float, int or numpy scalar

    Returns
    -------
    Dual or float

    Notes
    -----
    sin((a, a')) = (sin a, cos(a) a').

    Examples
    --------
    >>> sin(Dual(0.0, 1.0))
    Dual(value=0.0, deriv=1.0)
    """
    return _apply(x, "sin", math.sin, lambda a, fa: math.cos(a))


def cos(x: Dual | float) -> Dual | float:
    """cos(x) for a Dual or a real number.

    Parameters
    ----------
    x : Dual, float, int or numpy scalar

    Returns
    -------
    Dual or float

    Notes
    -----
    cos((a, a')) = (cos a, −sin(a) a').

    Examples
    --------
    >>> cos(Dual(np.pi / 2, 1.0)).deriv        # −sin(π/2)
    -1.0
    """
    return _apply(x, "cos", math.cos, lambda a, fa: -math.sin(a))


def tanh(x: Dual | float) -> Dual | float:
    """tanh(x) for a Dual or a real number.

    Parameters
    ----------
    x : Dual, float, int or numpy scalar

    Returns
    -------
    Dual or float

    Notes
    -----
    tanh((a, a')) = (tanh a, (1 − tanh² a) a').

    Examples
    --------
    >>> tanh(Dual(0.0, 1.0))
    Dual(value=0.0, deriv=1.0)
    """
    return _apply(x, "tanh", math.tanh, lambda a, fa: 1.0 - fa * fa)


def logistic(x: Dual | float) -> Dual | float:
    """The logistic function σ(x) = 1/(1 + exp(−x)) for a Dual or a real number.

    Parameters
    ----------
    x : Dual, float, int or numpy scalar

    Returns
    -------
    Dual or float

    Notes
    -----
    σ((a, a')) = (σ(a), σ(a)(1 − σ(a)) a'); computed without overflow for large |a|.

    Examples
    --------
    >>> logistic(Dual(0.0, 1.0))
    Dual(value=0.5, deriv=0.25)
    """
    return _apply(x, "logistic", _logistic, lambda a, fa: fa * (1.0 - fa))


def sqrt(x: Dual | float) -> Dual | float:
    """Square root of a Dual or real number (value ≥ 0).

    Parameters
    ----------
    x : Dual, float, int or numpy scalar (value ≥ 0)

    Returns
    -------
    Dual or float

    Raises
    ------
    ValueError
        For a negative value; and at the value 0 with a nonzero derivative
        a', where the derivative a'/(2√a) is infinite (√x has a vertical
        tangent at 0). ``sqrt(Dual(0.0, 0.0))`` is ``Dual(0.0, 0.0)``.

    Notes
    -----
    √((a, a')) = (√a, a'/(2√a)).

    Examples
    --------
    >>> sqrt(Dual(4.0, 1.0))
    Dual(value=2.0, deriv=0.25)
    >>> sqrt(Dual(0.0, 1.0))
    Traceback (most recent call last):
    ...
    ValueError: sqrt: the derivative of √x at x = 0 is infinite (a'/(2√a) with a = 0, a' = 1.0). Keep the argument away from 0, e.g. sqrt(x + 1e-12), or use a smooth alternative such as sqrt(x**2 + eps).
    """
    if isinstance(x, Dual):
        a = x.value
        if a < 0:
            raise ValueError(f"sqrt: needs a value >= 0, got {a}.")
        if a == 0:
            if x.deriv != 0:
                raise ValueError(
                    f"sqrt: the derivative of √x at x = 0 is infinite (a'/(2√a) with a = 0, a' = {x.deriv}). "
                    "Keep the argument away from 0, e.g. sqrt(x + 1e-12), or use a smooth alternative such as "
                    "sqrt(x**2 + eps)."
                )
            return Dual(0.0, 0.0)
        r = math.sqrt(a)
        return Dual(r, x.deriv / (2.0 * r))
    a = _real(x, "x", "sqrt")
    if a < 0:
        raise ValueError(f"sqrt: needs a value >= 0, got {a}.")
    return math.sqrt(a)


# ----------------------------------------------------------------------------------------
# Derivatives, gradients and Jacobians by forward passes
# ----------------------------------------------------------------------------------------
def _output_parts(y: Any, func: str) -> tuple[float, float]:
    """(value, derivative) of one output of f: a Dual, or a number that did not depend on the input."""
    if isinstance(y, np.ndarray) and y.ndim == 0 and y.dtype == object:
        y = y.item()
    if isinstance(y, Dual):
        return y.value, y.deriv
    try:
        return _real(y, "f(x)", func), 0.0  # a constant: derivative 0
    except TypeError:
        raise TypeError(
            f"{func}: f must return a Dual or a real number, got {type(y).__name__}. Build f from "
            "+ - * / **, abs, comparisons and this module's exp, log, sin, cos, tanh, logistic, sqrt."
        ) from None


def derivative(f: Callable[[Dual], Any], x: float) -> float:
    """f'(x) of a scalar function by one forward pass with dual numbers.

    Parameters
    ----------
    f : callable
        f(x) built from Dual arithmetic and this module's functions.
    x : float
        The point.

    Returns
    -------
    float
        f'(x), exact up to rounding (no step size, unlike finite differences).

    Notes
    -----
    f(Dual(x, 1)) = Dual(f(x), f'(x)): seeding the input's derivative with 1
    makes the second slot carry df/dx through every step.

    Examples
    --------
    >>> derivative(lambda x: x ** 2 + 3 * x, 2.0)    # 2x + 3
    7.0
    """
    if not callable(f):
        raise TypeError(f"derivative: f must be a function, got {type(f).__name__}.")
    x = _real(x, "x", "derivative")
    return _output_parts(f(Dual(x, 1.0)), "derivative")[1]


class GradientResult(NamedTuple):
    """What :func:`gradient` returns: f(x), ∂f/∂x of shape (n,), and the passes used (n)."""

    value: float
    gradient: NDArray[np.float64]
    passes: int


class JacobianResult(NamedTuple):
    """What :func:`jacobian` returns: f(x) of shape (m,), ∂f/∂x of shape (n, m), passes used (n)."""

    value: NDArray[np.float64]
    jacobian: NDArray[np.float64]
    passes: int


def _seeded(x: NDArray[np.float64], i: int) -> NDArray[Any]:
    """x as an object array of Duals with derivative 1 in entry i, 0 elsewhere (direction e_i)."""
    out = np.empty(x.shape, dtype=object)
    for j, xj in enumerate(x):
        out[j] = Dual(xj, 1.0 if j == i else 0.0)
    return out


def gradient(f: Callable[[NDArray[Any]], Any], x: ArrayLike) -> GradientResult:
    """The gradient of a scalar function f: R^n → R by n forward passes.

    Parameters
    ----------
    f : callable
        f(x) for x an object array of shape (n,) holding Duals; returns one Dual.
        Indexing, ``+ - * / **``, ``x @ w``, ``np.sum`` and ``np.exp(x)`` (entry
        by entry) all work on such arrays.
    x : array_like of shape (n,)
        The point.

    Returns
    -------
    GradientResult
        ``(value, gradient, passes)``: f(x); ∂f/∂x of shape (n,) (denominator
        layout: x's shape); and the number of evaluations of f, which is n.

    Notes
    -----
    Pass i seeds direction e_i (x_i carries derivative 1, the others 0) and reads
    ∂f/∂x_i off the output. Forward mode needs one pass per input, whatever the
    number of outputs; reverse mode would need one pass for this scalar f.

    Examples
    --------
    >>> res = gradient(lambda x: x[0] * x[1] + sin(x[2]), [2.0, 3.0, 0.0])
    >>> res.gradient, res.passes
    (array([3., 2., 1.]), 3)
    """
    if not callable(f):
        raise TypeError(f"gradient: f must be a function, got {type(f).__name__}.")
    x = as_float_array(x, "x", "gradient")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"gradient: x must be a vector of shape (n,) with n >= 1, got shape {x.shape}.")
    grad = np.empty(x.size)
    value = 0.0
    passes = 0
    for i in range(x.size):
        y = f(_seeded(x, i))
        passes += 1
        if isinstance(y, (list, tuple)) or (isinstance(y, np.ndarray) and y.ndim > 0):
            raise ValueError("gradient: f must return one number (a scalar); for several outputs use jacobian().")
        value, grad[i] = _output_parts(y, "gradient")
    return GradientResult(value, grad, passes)


def jacobian(f: Callable[[NDArray[Any]], Any], x: ArrayLike) -> JacobianResult:
    """The Jacobian of f: R^n → R^m by n forward passes, in denominator layout.

    Parameters
    ----------
    f : callable
        f(x) for x an object array of shape (n,) holding Duals; returns a
        sequence (or object array) of m Duals.
    x : array_like of shape (n,)
        The point.

    Returns
    -------
    JacobianResult
        ``(value, jacobian, passes)``: f(x) of shape (m,); J of shape (n, m) with
        J[i, j] = ∂f_j/∂x_i (denominator layout: the transpose of autograd's and
        scipy's Jacobian); and the number of passes, n.

    Notes
    -----
    Pass i gives row i, the derivatives of all m outputs along e_i at once. So
    forward mode costs n passes however many outputs there are, reverse mode m.

    Examples
    --------
    >>> res = jacobian(lambda x: [x[0] * x[1], x[0] + x[1], exp(x[0])], [1.0, 2.0])
    >>> res.jacobian.shape, res.passes           # (n, m) = (2, 3) from 2 passes
    ((2, 3), 2)
    >>> res.jacobian[:, 0]                       # ∂(x0 x1)/∂x = (x1, x0)
    array([2., 1.])
    """
    if not callable(f):
        raise TypeError(f"jacobian: f must be a function, got {type(f).__name__}.")
    x = as_float_array(x, "x", "jacobian")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"jacobian: x must be a vector of shape (n,) with n >= 1, got shape {x.shape}.")
    rows = []
    values: list[float] = []
    for i in range(x.size):
        ys = f(_seeded(x, i))
        ys = list(np.asarray(ys, dtype=object).reshape(-1))
        if not ys:
            raise ValueError("jacobian: f returned no outputs.")
        parts = [_output_parts(y, "jacobian") for y in ys]
        values = [v for v, _ in parts]
        rows.append([d for _, d in parts])
    if len({len(r) for r in rows}) != 1:
        raise ValueError("jacobian: f returned a different number of outputs on different passes.")
    return JacobianResult(np.array(values), np.array(rows, dtype=np.float64), len(rows))


def passes_needed(n_inputs: int, n_outputs: int) -> dict[str, int]:
    """How many passes each mode of automatic differentiation needs for all of ∂f/∂x.

    Parameters
    ----------
    n_inputs : int
        n, the number of inputs of f: R^n → R^m.
    n_outputs : int
        m, the number of outputs.

    Returns
    -------
    dict
        ``{"forward": n, "reverse": m}`` (a new dict each call).

    Notes
    -----
    The full derivative is the n × m matrix J[i, j] = ∂f_j/∂x_i (denominator layout).

    * **Forward mode** pushes one input direction through the graph per pass: seed
      x_i with derivative 1 (the others 0) and read off row i, the derivatives of
      every output with respect to x_i. All n rows take n passes.
    * **Reverse mode** pulls one output back through the graph per pass: seed f_j
      with gradient 1 and read off column j, the gradient of f_j with respect to
      every input. All m columns take m passes.

    A loss is one number (m = 1) of very many parameters (n large), so reverse mode,
    which is backpropagation, gets the whole gradient in a single backward pass, at
    the price of storing the forward values. Forward mode wins when n < m.

    Examples
    --------
    >>> passes_needed(1000, 1)     # a loss of 1000 parameters
    {'forward': 1000, 'reverse': 1}
    """
    n = check_positive_int(n_inputs, "n_inputs", "passes_needed")
    m = check_positive_int(n_outputs, "n_outputs", "passes_needed")
    return {"forward": n, "reverse": m}
