"""A small reverse-mode automatic differentiation engine over numpy arrays (Unit 6).

Every operation on a :class:`Tensor` computes its value at once (a dynamic graph)
and records three things: the tensors it was computed from (its *parents*), a
label for the operation, and its local backward rule. ``backward()`` then walks
the graph once from the output back to the inputs, in reverse topological order,
and applies the chain rule at every node::

    adjoint(parent) += backward_rule(adjoint(node))      # summed over every use

which is backpropagation (Unit 5) done for any graph instead of one network.

Layout: gradients are in **denominator layout**: ``t.grad`` is ∂f/∂t for a scalar
output f and has ``t.value``'s shape. Elementwise operations broadcast as numpy
does; their backward rule sums the gradient over the broadcast axes, so each
gradient keeps its own tensor's shape (a bias ``b`` of shape (M_l,) used as
``b[:, None]`` against an (M_l, N) batch gets a gradient of shape (M_l,), summed
over the N columns).

There is no global tape: the graph is the tensors themselves, held together by
their ``parents``. Python numbers and numpy arrays mixed into an expression are
wrapped as constant tensors (``op == "const"``).

Examples
--------
>>> w = Tensor(0.0, name="w")
>>> b = Tensor(0.0, name="b")
>>> f = logistic(w * 1.0 + b)
>>> f.backward()
>>> float(f.value), float(w.grad), float(b.grad)
(0.5, 0.25, 0.25)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import as_float_array, check_positive_int, check_shape, shape_str

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from matplotlib.axes import Axes

__all__ = [
    "Tensor",
    "exp",
    "log",
    "tanh",
    "logistic",
    "relu",
    "softmax_cross_entropy",
    "grad",
    "TraceRow",
    "TraceTable",
    "trace_table",
    "draw_graph",
    "LogisticNeuronExample",
    "logistic_neuron_example",
]

Array = NDArray[np.float64]
# A local backward rule: upstream gradient (the node's shape) -> one gradient per parent.
BackwardRule = Callable[[Array], tuple[Array, ...]]


# ----------------------------------------------------------------------------------------
# The Tensor type
# ----------------------------------------------------------------------------------------
class Tensor:
    """A node of the computational graph: a float64 array, its gradient, and how it was made.

    Parameters
    ----------
    value : array_like
        The value; stored as a float64 array (a copy, so later changes to the
        argument do not reach the graph). Must be finite.
    name : str, optional
        A label for tables and drawings, e.g. ``"w"`` or ``"h1"``.

    Attributes
    ----------
    value : ndarray of float64
        The forward value, any shape.
    grad : ndarray of float64, same shape as ``value``
        ∂f/∂value after ``f.backward()``, in denominator layout. Zero until then.
    parents : tuple of Tensor
        The tensors this one was computed from; empty for inputs and constants.
    op : str
        The operation that made it: ``"input"`` for a tensor made by the user,
        ``"const"`` for a wrapped number or array, else ``"+"``, ``"-"``, ``"*"``,
        ``"/"``, ``"neg"``, ``"**"``, ``"@"``, ``"T"``, ``"reshape"``, ``"getitem"``,
        ``"sum"``, ``"mean"``, ``"exp"``, ``"log"``, ``"tanh"``, ``"logistic"``,
        ``"relu"`` or ``"softmax_ce"``.
    name : str or None
        The label given by the user (it may be set at any time: ``h.name = "h1"``).

    Notes
    -----
    Operators: ``+ - * /`` (elementwise, numpy broadcasting), unary ``-``, ``**``
    (elementwise; the exponent may be a number or a tensor, and ∂(a^p)/∂p = a^p log a
    is taken as 0 where a <= 0), ``@`` (1-D or 2-D operands) and ``.T``. Methods:
    ``sum``, ``mean``, ``exp``, ``log``, ``tanh``, ``logistic``, ``relu``,
    ``reshape``, and indexing ``t[i]`` (so a bias is added as ``b[:, None]``).
    numpy ufuncs that the engine differentiates work on a Tensor and are recorded
    in the graph: ``np.exp``, ``np.log``, ``np.tanh``, ``np.sqrt`` (as ``t ** 0.5``),
    ``np.square`` (as ``t ** 2``), ``np.maximum(t, 0)`` (as :func:`relu`),
    ``np.negative`` and the arithmetic of the operators (``np.add``, ``np.subtract``,
    ``np.multiply``, ``np.divide``, ``np.power``, ``np.matmul``); so do ``np.sum(t)``
    and ``np.mean(t)``. Any other ufunc raises a ``TypeError`` that names this
    module's functions (:func:`exp`, :func:`log`, :func:`tanh`, :func:`logistic`,
    :func:`relu`): numpy cannot know its derivative. ``arr == t`` is False, as
    for any two different objects.

    Examples
    --------
    >>> x = Tensor([1.0, 2.0, 3.0], name="x")
    >>> y = (x * x).sum()          # y = Σ x_i²
    >>> y.backward()
    >>> x.grad                     # ∂y/∂x = 2x, x's shape
    array([2., 4., 6.])
    """

    __slots__ = ("value", "grad", "parents", "op", "name", "_backward")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy's entry for ``np.exp(t)``, ``ndarray + t`` …: the graph's operation, or a clear error.

        Without this, ``np.exp(t)`` would fail deep inside numpy (or build an object array
        that silently leaves the graph).
        """
        name = f"np.{ufunc.__name__}"
        if method != "__call__":
            hint = " (for a sum over an axis use t.sum(axis=...))" if ufunc is np.add and method == "reduce" else ""
            raise TypeError(
                f"Tensor: {name}.{method} is not recorded by fnnlib.autodiff{hint}. Use the Tensor's own "
                "operations (t.sum(), t.mean(), + - * / ** @) and fnnlib.autodiff.exp, log, tanh, logistic, "
                "relu; or take t.value to compute with plain numpy outside the graph."
            )
        if kwargs:
            raise TypeError(
                f"Tensor: {name}(..., {', '.join(kwargs)}=...) is not supported on a Tensor: an operation of "
                "the graph makes a new Tensor (no out=, where=, dtype=). Call it without those arguments."
            )
        if ufunc in (np.equal, np.not_equal):  # ``arr == t``: two different objects, as before numpy joined in
            return ufunc is np.not_equal
        if ufunc in (np.less, np.less_equal, np.greater, np.greater_equal):
            raise TypeError(
                f"Tensor: comparisons ({name}) are not part of the graph (their derivative is 0 almost "
                "everywhere); compare the values, e.g. t.value > 0, or use fnnlib.autodiff.relu for max(t, 0)."
            )
        rule = _UFUNC_RULES.get(ufunc)
        if rule is None:
            raise TypeError(
                f"Tensor: numpy's {name} does not know its derivative, so it cannot be recorded in "
                "fnnlib.autodiff's graph. Use fnnlib.autodiff.exp, log, tanh, logistic or relu, or the "
                "operators + - * / ** @ (np.exp, np.log, np.tanh, np.sqrt, np.maximum(t, 0) and numpy's "
                "arithmetic work on a Tensor too); for a value outside the graph use t.value, e.g. "
                f"{name}(t.value)."
            )
        return rule(*inputs)

    def __init__(self, value: ArrayLike, name: str | None = None) -> None:
        if isinstance(value, Tensor):
            value = value.value
        self.value: Array = np.array(as_float_array(value, "value", "Tensor"), dtype=np.float64)
        self.grad: Array = np.zeros_like(self.value)
        self.parents: tuple[Tensor, ...] = ()
        self.op: str = "input"
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a string or None, got {type(name).__name__}.")
        self.name: str | None = name
        self._backward: BackwardRule | None = None

    # -- small conveniences -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``value``."""
        return self.value.shape

    @property
    def ndim(self) -> int:
        """The number of axes of ``value``."""
        return self.value.ndim

    @property
    def size(self) -> int:
        """The number of entries of ``value``."""
        return self.value.size

    @property
    def is_leaf(self) -> bool:
        """True for inputs and constants (no parents)."""
        return not self.parents

    def item(self) -> float:
        """The value of a one-entry tensor as a Python float."""
        if self.value.size != 1:
            raise ValueError(f"Tensor.item: only one-entry tensors convert; this one has shape {shape_str(self.shape)}.")
        return float(self.value.reshape(()))

    def __repr__(self) -> str:
        what = _fmt(self.value) if self.value.size == 1 else f"shape={shape_str(self.shape)}"
        name = f", name={self.name!r}" if self.name is not None else ""
        return f"Tensor({what}{name}, op={self.op!r})"

    # -- backward pass ------------------------------------------------------------------
    def backward(self, grad: ArrayLike | None = None) -> None:
        """Fill ``.grad`` of every tensor this one depends on with ∂self/∂tensor.

        Parameters
        ----------
        grad : array_like, optional
            The upstream gradient ∂L/∂self, of ``self.value``'s shape. Needed only
            when ``self`` is not a scalar; a scalar output starts from 1.

        Notes
        -----
        One sweep in reverse topological order (iterative, so a chain thousands of
        operations deep is fine). A tensor used several times receives the sum of
        the gradients along every path. Gradients of intermediate tensors are
        overwritten by each call; gradients of leaves (inputs and constants)
        **accumulate** across calls, as in PyTorch: call :meth:`zero_grad` between
        training steps that reuse the same inputs.

        Examples
        --------
        >>> x = Tensor(3.0, name="x")
        >>> y = x * x + x              # x is used three times
        >>> y.backward()
        >>> float(x.grad)              # 2x + 1
        7.0
        """
        if grad is None:
            if self.value.size != 1:
                raise ValueError(
                    f"backward() needs a scalar output; got shape {shape_str(self.shape)}. "
                    "Reduce it with .sum() or .mean() first, or pass grad=… (an array of the "
                    f"output's shape {shape_str(self.shape)} holding ∂L/∂output)."
                )
            seed = np.ones_like(self.value)
        else:
            seed = as_float_array(grad, "grad", "backward")
            check_shape(seed, self.shape, "grad", "backward", hint="grad must have the output's shape.")
        order, adjoint = _reverse_sweep(self, seed)
        for node in order:
            g = adjoint[id(node)]
            node.grad = np.array(g if node.parents else node.grad + g, dtype=np.float64)

    def zero_grad(self) -> None:
        """Set ``.grad`` to zero for this tensor and every tensor it depends on.

        Examples
        --------
        >>> x = Tensor(2.0)
        >>> y = x * x
        >>> y.backward(); y.backward()     # leaf gradients accumulate: 4 + 4
        >>> float(x.grad)
        8.0
        >>> y.zero_grad(); float(x.grad)
        0.0
        """
        for node in _topological_order(self):
            node.grad = np.zeros_like(node.value)

    # -- elementwise arithmetic ---------------------------------------------------------
    def __add__(self, other: TensorLike) -> Tensor:
        other = _as_tensor(other, "+")
        a, b = self.value, other.value
        out = _broadcast(np.add, a, b, "+")

        def backward(g: Array) -> tuple[Array, ...]:
            return _unbroadcast(g, a.shape), _unbroadcast(g, b.shape)

        return _node(out, (self, other), "+", backward)

    def __radd__(self, other: TensorLike) -> Tensor:
        return _as_tensor(other, "+") + self

    def __sub__(self, other: TensorLike) -> Tensor:
        other = _as_tensor(other, "-")
        a, b = self.value, other.value
        out = _broadcast(np.subtract, a, b, "-")

        def backward(g: Array) -> tuple[Array, ...]:
            return _unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)

        return _node(out, (self, other), "-", backward)

    def __rsub__(self, other: TensorLike) -> Tensor:
        return _as_tensor(other, "-") - self

    def __mul__(self, other: TensorLike) -> Tensor:
        other = _as_tensor(other, "*")
        a, b = self.value, other.value
        out = _broadcast(np.multiply, a, b, "*")

        def backward(g: Array) -> tuple[Array, ...]:
            return _unbroadcast(g * b, a.shape), _unbroadcast(g * a, b.shape)

        return _node(out, (self, other), "*", backward)

    def __rmul__(self, other: TensorLike) -> Tensor:
        return _as_tensor(other, "*") * self

    def __truediv__(self, other: TensorLike) -> Tensor:
        other = _as_tensor(other, "/")
        a, b = self.value, other.value
        if np.any(b == 0):
            raise ZeroDivisionError(
                f"Tensor /: the denominator has {int(np.sum(b == 0))} zero entr"
                f"{'y' if np.sum(b == 0) == 1 else 'ies'}; a / b needs b != 0 everywhere."
            )
        out = _broadcast(np.divide, a, b, "/")

        def backward(g: Array) -> tuple[Array, ...]:
            # ∂(a/b)/∂a = 1/b,  ∂(a/b)/∂b = -a/b² = -out/b
            return _unbroadcast(g / b, a.shape), _unbroadcast(-g * out / b, b.shape)

        return _node(out, (self, other), "/", backward)

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        return _as_tensor(other, "/") / self

    def __neg__(self) -> Tensor:
        def backward(g: Array) -> tuple[Array, ...]:
            return (-g,)

        return _node(-self.value, (self,), "neg", backward)

    def __pow__(self, exponent: TensorLike) -> Tensor:
        return _power(self, _as_tensor(exponent, "**"))

    def __rpow__(self, base: TensorLike) -> Tensor:
        return _power(_as_tensor(base, "**"), self)

    # -- linear algebra and shape -------------------------------------------------------
    def __matmul__(self, other: TensorLike) -> Tensor:
        other = _as_tensor(other, "@")
        a, b = self.value, other.value
        _check_matmul(a.shape, b.shape)
        out = a @ b

        def backward(g: Array) -> tuple[Array, ...]:
            if a.ndim == 1 and b.ndim == 1:  # inner product, g is a scalar
                return g * b, g * a
            if a.ndim == 1:  # (k,) @ (k, n) -> (n,)
                return b @ g, np.outer(a, g)
            if b.ndim == 1:  # (m, k) @ (k,) -> (m,)
                return np.outer(g, b), a.T @ g
            return g @ b.T, a.T @ g  # (m, k) @ (k, n): dA = G Bᵀ, dB = Aᵀ G

        return _node(out, (self, other), "@", backward)

    def __rmatmul__(self, other: TensorLike) -> Tensor:
        return _as_tensor(other, "@") @ self

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed), as a graph operation."""

        def backward(g: Array) -> tuple[Array, ...]:
            return (g.T,)

        return _node(self.value.T, (self,), "T", backward)

    def reshape(self, *shape: Any) -> Tensor:
        """The same entries in a new shape (as ``ndarray.reshape``)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        a = self.value
        try:
            out = a.reshape(shape)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"Tensor.reshape: cannot reshape {shape_str(a.shape)} to {shape}: {exc}") from exc

        def backward(g: Array) -> tuple[Array, ...]:
            return (g.reshape(a.shape),)

        return _node(out, (self,), "reshape", backward)

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor) or (isinstance(index, tuple) and any(isinstance(i, Tensor) for i in index)):
            raise TypeError("Tensor indexing: the index must be ints, slices, None or integer/bool arrays, not a Tensor.")
        a = self.value
        out = a[index]

        def backward(g: Array) -> tuple[Array, ...]:
            d = np.zeros_like(a)
            np.add.at(d, index, g)  # add.at, so repeated indices add up
            return (d,)

        return _node(out, (self,), "getitem", backward)

    # -- reductions ---------------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dtype: Any = None,
            out: Any = None) -> Tensor:
        """Sum over ``axis`` (all axes when None), as ``ndarray.sum`` (so ``np.sum(t)`` works too).

        The backward rule copies the upstream gradient back along the summed axes.
        """
        _no_numpy_extras("sum", dtype, out)
        a = self.value
        axes = _normalize_axis(axis, a.ndim, "sum")
        out = a.sum(axis=axes, keepdims=keepdims)

        def backward(g: Array) -> tuple[Array, ...]:
            return (np.broadcast_to(g if keepdims else np.expand_dims(g, axes), a.shape),)

        return _node(out, (self,), "sum", backward)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dtype: Any = None,
             out: Any = None) -> Tensor:
        """Mean over ``axis`` (all axes when None), as ``ndarray.mean``.

        The backward rule spreads the upstream gradient evenly: each entry gets g / n,
        n the number of entries averaged. ``np.mean(t)`` calls it.
        """
        _no_numpy_extras("mean", dtype, out)
        a = self.value
        axes = _normalize_axis(axis, a.ndim, "mean")
        n = int(np.prod([a.shape[i] for i in axes]))
        if n == 0:
            raise ValueError(f"Tensor.mean: no entries to average over axis {axis} of shape {shape_str(a.shape)}.")
        out = a.sum(axis=axes, keepdims=keepdims) / n

        def backward(g: Array) -> tuple[Array, ...]:
            return (np.broadcast_to((g if keepdims else np.expand_dims(g, axes)) / n, a.shape),)

        return _node(out, (self,), "mean", backward)

    # -- elementwise functions ----------------------------------------------------------
    def exp(self) -> Tensor:
        """Elementwise exp; local derivative exp(a) (the output itself)."""
        out = np.exp(self.value)

        def backward(g: Array) -> tuple[Array, ...]:
            return (g * out,)

        return _node(out, (self,), "exp", backward)

    def log(self) -> Tensor:
        """Elementwise natural log (positive entries only); local derivative 1/a."""
        a = self.value
        if np.any(a <= 0):
            raise ValueError(
                f"log: {int(np.sum(a <= 0))} entr{'y is' if np.sum(a <= 0) == 1 else 'ies are'} <= 0; "
                "log needs positive inputs. For a loss, prefer softmax_cross_entropy, which never takes log(0)."
            )

        def backward(g: Array) -> tuple[Array, ...]:
            return (g / a,)

        return _node(np.log(a), (self,), "log", backward)

    def tanh(self) -> Tensor:
        """Elementwise tanh; local derivative 1 − tanh(a)²."""
        out = np.tanh(self.value)

        def backward(g: Array) -> tuple[Array, ...]:
            return (g * (1.0 - out * out),)

        return _node(out, (self,), "tanh", backward)

    def logistic(self) -> Tensor:
        """Elementwise logistic σ(a) = 1/(1 + exp(−a)); local derivative σ(a)(1 − σ(a))."""
        out = _stable_logistic(self.value)

        def backward(g: Array) -> tuple[Array, ...]:
            return (g * out * (1.0 - out),)

        return _node(out, (self,), "logistic", backward)

    def relu(self) -> Tensor:
        """Elementwise max(a, 0); local derivative 1 where a > 0, else 0."""
        a = self.value

        def backward(g: Array) -> tuple[Array, ...]:
            return (g * (a > 0),)

        return _node(np.maximum(a, 0.0), (self,), "relu", backward)


TensorLike = Tensor | ArrayLike


def _no_numpy_extras(func: str, dtype: Any, out: Any) -> None:
    if dtype is not None or out is not None:
        raise TypeError(
            f"Tensor.{func}: dtype= and out= are not supported (a Tensor is float64 and every operation makes "
            f"a new node of the graph); call t.{func}(axis=...) without them."
        )


def _maximum(a: Any, b: Any) -> Tensor:
    """np.maximum(t, 0) or np.maximum(0, t): the ReLU; any other maximum is refused."""
    t, other = (a, b) if isinstance(a, Tensor) else (b, a)
    if isinstance(other, Tensor) or np.ndim(other) != 0 or float(other) != 0.0:
        raise TypeError(
            "Tensor: np.maximum is recorded only as np.maximum(t, 0), the ReLU (fnnlib.autodiff.relu); got "
            f"np.maximum with {'two Tensors' if isinstance(other, Tensor) else repr(other)}. Write it with relu, "
            "e.g. max(a, b) = b + relu(a - b)."
        )
    return t.relu()


# numpy ufunc -> the graph operation it means (Tensor.__array_ufunc__)
_UFUNC_RULES: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: lambda a, b: _as_tensor(a, "+") + b,
    np.subtract: lambda a, b: _as_tensor(a, "-") - b,
    np.multiply: lambda a, b: _as_tensor(a, "*") * b,
    np.true_divide: lambda a, b: _as_tensor(a, "/") / b,
    np.power: lambda a, b: _as_tensor(a, "**") ** b,
    np.matmul: lambda a, b: _as_tensor(a, "@") @ b,
    np.negative: lambda a: -a,
    np.exp: lambda a: a.exp(),
    np.log: lambda a: a.log(),
    np.tanh: lambda a: a.tanh(),
    np.sqrt: lambda a: a ** 0.5,
    np.square: lambda a: a ** 2,
    np.maximum: _maximum,
}


# ----------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------
def _node(value: ArrayLike, parents: Sequence[Tensor], op: str, backward: BackwardRule) -> Tensor:
    """Make the result of an operation: a Tensor that remembers its parents and rule."""
    t = Tensor.__new__(Tensor)
    t.value = np.asarray(value, dtype=np.float64)  # ufuncs return np.float64 for 0-d: keep an array
    t.grad = np.zeros_like(t.value)
    t.parents = tuple(parents)
    t.op = op
    t.name = None
    t._backward = backward
    return t


def _constant(value: ArrayLike) -> Tensor:
    t = Tensor(value)
    t.op = "const"
    return t


def _as_tensor(x: TensorLike, op: str) -> Tensor:
    """Return ``x`` if it is a Tensor, else wrap it as a constant (``op == "const"``)."""
    if isinstance(x, Tensor):
        return x
    try:
        return _constant(x)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"Tensor {op}: the other operand could not be used as a constant: {exc}") from exc


def _unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``g`` over the axes numpy broadcast, so the result has ``shape``.

    Broadcasting prepends axes and stretches axes of length 1; the gradient of a
    value used along a stretched axis is the sum over that axis.
    """
    g = np.asarray(g, dtype=np.float64)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)


def _broadcast(func: Callable[..., Any], a: Array, b: Array, op: str) -> Array:
    """Apply an elementwise numpy function, explaining a shape mismatch in the course's terms."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        hint = "Elementwise operations need equal shapes, or shapes numpy can broadcast."
        for u, v in ((a.shape, b.shape), (b.shape, a.shape)):
            if len(u) == 2 and len(v) == 1 and v[0] == u[0]:
                hint = (
                    f"A vector of shape ({v[0]},) against an ({u[0]}, {u[1]}) batch (one column per "
                    "example) must be made a column first: b[:, None]."
                )
        raise ValueError(f"Tensor {op}: shapes {shape_str(a.shape)} and {shape_str(b.shape)} do not broadcast. {hint}") from None
    return np.asarray(func(a, b), dtype=np.float64)


def _check_matmul(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    if not (1 <= len(sa) <= 2 and 1 <= len(sb) <= 2):
        raise ValueError(
            f"Tensor @: operands must be 1-D or 2-D, got shapes {shape_str(sa)} and {shape_str(sb)}. "
            "Use * for a product with a scalar."
        )
    k_a = sa[-1]
    k_b = sb[0]
    if k_a != k_b:
        hint = ""
        if len(sb) == 2 and sb[1] == k_a:
            hint = " The right operand looks transposed: a batch is (M_{l-1}, N), one column per example; try .T."
        elif len(sa) == 2 and sa[0] == k_b:
            hint = " The left operand looks transposed; W^(l) has shape (M_l, M_{l-1})."
        raise ValueError(
            f"Tensor @: shapes {shape_str(sa)} @ {shape_str(sb)} do not match: the inner sizes "
            f"{k_a} and {k_b} differ.{hint}"
        )


def _normalize_axis(axis: int | Sequence[int] | None, ndim: int, func: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)) or not -ndim <= ax < ndim:
            raise ValueError(f"Tensor.{func}: axis {axis!r} is out of range for a {ndim}-D tensor (axes 0..{ndim - 1}).")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"Tensor.{func}: axis {axis!r} repeats an axis.")
    return tuple(sorted(out))


def _power(base: Tensor, exponent: Tensor) -> Tensor:
    """``base ** exponent``, elementwise; the exponent is usually a constant."""
    a, p = base.value, exponent.value
    _broadcast(np.add, a, p, "**")  # shape check only
    if np.any((a == 0) & (p < 0)):
        raise ZeroDivisionError("Tensor **: 0 raised to a negative power; the base must be nonzero there.")
    if np.any((a < 0) & (p != np.round(p))):
        raise ValueError(
            "Tensor **: a negative base with a non-integer exponent has no real value; "
            "make the base positive (e.g. (x * x) ** 0.25 instead of x ** 0.5)."
        )
    out = a**p

    def backward(g: Array) -> tuple[Array, ...]:
        # ∂(a^p)/∂a = p a^(p-1), exactly 0 where p == 0 (a^0 is the constant 1);
        # ∂(a^p)/∂p = a^p log a where a > 0; taken as 0 where a <= 0 (no real derivative there).
        safe_p = np.where(p == 0, 1.0, p - 1.0)
        with np.errstate(divide="ignore"):  # p in (0, 1) at a = 0: the slope is +inf
            d_base = np.where(p == 0, 0.0, p * a**safe_p)
        d_exp = np.where(a > 0, out * np.log(np.where(a > 0, a, 1.0)), 0.0)
        return _unbroadcast(g * d_base, a.shape), _unbroadcast(g * d_exp, p.shape)

    return _node(out, (base, exponent), "**", backward)


def _stable_logistic(z: Array) -> Array:
    """σ(z) without overflow: exp is only ever taken of −|z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ----------------------------------------------------------------------------------------
# Functions (accept a Tensor, a number or an array)
# ----------------------------------------------------------------------------------------
def exp(x: TensorLike) -> Tensor:
    """Elementwise exp(x), recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like, any shape
        A non-Tensor is wrapped as a constant.

    Returns
    -------
    Tensor, x's shape

    Notes
    -----
    Local derivative ∂exp(x)/∂x = exp(x), elementwise.

    Examples
    --------
    >>> x = Tensor(0.0); y = exp(x); y.backward(); float(x.grad)
    1.0
    """
    return _as_tensor(x, "exp").exp()


def log(x: TensorLike) -> Tensor:
    """Elementwise natural logarithm (x > 0), recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like, any shape, positive entries

    Returns
    -------
    Tensor, x's shape

    Notes
    -----
    Local derivative ∂log(x)/∂x = 1/x, elementwise.

    Examples
    --------
    >>> x = Tensor(2.0); y = log(x); y.backward(); float(x.grad)
    0.5
    """
    return _as_tensor(x, "log").log()


def tanh(x: TensorLike) -> Tensor:
    """Elementwise tanh(x), recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like, any shape

    Returns
    -------
    Tensor, x's shape

    Notes
    -----
    Local derivative ∂tanh(x)/∂x = 1 − tanh(x)², elementwise.

    Examples
    --------
    >>> x = Tensor(0.0); y = tanh(x); y.backward(); float(x.grad)
    1.0
    """
    return _as_tensor(x, "tanh").tanh()


def logistic(x: TensorLike) -> Tensor:
    """Elementwise logistic σ(x) = 1/(1 + exp(−x)), recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like, any shape

    Returns
    -------
    Tensor, x's shape

    Notes
    -----
    Local derivative σ'(x) = σ(x)(1 − σ(x)), at most 1/4 (at x = 0). Computed
    without overflow for large |x|.

    Examples
    --------
    >>> x = Tensor(0.0); y = logistic(x); y.backward(); float(y.value), float(x.grad)
    (0.5, 0.25)
    """
    return _as_tensor(x, "logistic").logistic()


def relu(x: TensorLike) -> Tensor:
    """Elementwise ReLU max(x, 0), recorded in the graph.

    Parameters
    ----------
    x : Tensor or array_like, any shape

    Returns
    -------
    Tensor, x's shape

    Notes
    -----
    Local derivative 1 where x > 0 and 0 elsewhere (0 is used at x = 0 itself).

    Examples
    --------
    >>> x = Tensor([-1.0, 2.0]); y = relu(x).sum(); y.backward(); x.grad
    array([0., 1.])
    """
    return _as_tensor(x, "relu").relu()


def softmax_cross_entropy(logits: TensorLike, labels: ArrayLike) -> Tensor:
    """Mean softmax cross-entropy of a batch of logits, with the fused backward rule.

    Parameters
    ----------
    logits : Tensor or array_like of shape (C, N), or (C,) for one example
        The output-layer pre-activations z^(L), one column per example.
    labels : array_like of shape (N,) with integers in 0..C-1, or of shape (C, N)
        The classes, as integers or as one-hot columns (columns of class
        probabilities are accepted too). For one example: an int or shape (C,).
        Labels are data: no gradient flows to them.

    Returns
    -------
    Tensor of shape ()
        L = (1/N) Σ_n −y_nᵀ log softmax(z_n).

    Notes
    -----
    With ŷ = softmax(z) column by column, the gradient is the classic
    ∂L/∂Z = (Ŷ − Y) / N (shape (C, N), denominator layout): one node in the graph
    instead of a softmax, a log and a sum whose composition would be less stable.
    log softmax is computed as z − max z − log Σ exp(z − max z), so no overflow.

    Examples
    --------
    >>> Z = Tensor([[0.0, 0.0], [0.0, 0.0]])    # C = 2 classes, N = 2 examples
    >>> L = softmax_cross_entropy(Z, [0, 1])
    >>> round(float(L.value), 6)                # log 2
    0.693147
    >>> L.backward(); Z.grad                    # (softmax − Y) / N = ([½, ½] − one-hot) / 2
    array([[-0.25,  0.25],
           [ 0.25, -0.25]])
    """
    func = "softmax_cross_entropy"
    z_t = _as_tensor(logits, func)
    z = z_t.value
    if z.ndim not in (1, 2) or z.shape[0] < 1 or (z.ndim == 2 and z.shape[1] < 1):
        raise ValueError(
            f"{func}: logits has shape {shape_str(z.shape)}; expected (C, N), one column per example, "
            "or (C,) for one example."
        )
    Z = z if z.ndim == 2 else z[:, None]
    C, N = Z.shape
    Y = _labels_to_columns(labels, C, N, z.ndim == 1, func)
    shifted = Z - Z.max(axis=0, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    loss = -(Y * log_softmax).sum() / N
    softmax = np.exp(log_softmax)

    def backward(g: Array) -> tuple[Array, ...]:
        # (softmax − Y)/N for one-hot Y; the general form softmax·Σ_c y_c − Y covers soft labels
        d = g * (softmax * Y.sum(axis=0, keepdims=True) - Y) / N
        return (d.reshape(z.shape),)

    return _node(loss, (z_t,), "softmax_ce", backward)


def _labels_to_columns(labels: ArrayLike, C: int, N: int, single: bool, func: str) -> Array:
    """Integer labels or one-hot columns -> a (C, N) float array of target columns."""
    if isinstance(labels, Tensor):
        labels = labels.value
    y = np.asarray(labels)
    int_shape = () if single else (N,)
    hot_shape = (C,) if single else (C, N)
    if y.shape == hot_shape and not (y.shape == int_shape):
        Y = as_float_array(y, "labels", func)
        if np.any(Y < 0) or not np.allclose(Y.sum(axis=0), 1.0, atol=1e-8):
            raise ValueError(
                f"{func}: labels of shape {shape_str(y.shape)} are read as one-hot columns (C, N) = "
                f"{shape_str(hot_shape)}, but some column is negative or does not sum to 1."
            )
        return Y.reshape(C, N)
    if y.shape == int_shape:
        yf = as_float_array(y, "labels", func)
        if np.any(yf != np.round(yf)) or np.any(yf < 0) or np.any(yf >= C):
            raise ValueError(f"{func}: integer labels must lie in 0..{C - 1} (C = {C} classes), got {y!r}.")
        Y = np.zeros((C, N))
        Y[yf.astype(int).reshape(N), np.arange(N)] = 1.0
        return Y
    hint = ""
    if len(y.shape) == 2 and y.shape == (N, C):
        hint = " It looks transposed: one-hot labels are (C, N), one column per example; pass labels.T."
    raise ValueError(
        f"{func}: labels has shape {shape_str(y.shape)}; expected integer labels of shape "
        f"{shape_str(int_shape)} or one-hot columns of shape (C, N) = {shape_str(hot_shape)}.{hint}"
    )


# ----------------------------------------------------------------------------------------
# The reverse sweep
# ----------------------------------------------------------------------------------------
def _topological_order(output: Tensor) -> list[Tensor]:
    """Every tensor ``output`` depends on, each after all of its parents (output last).

    Depth-first search with an explicit stack instead of recursion, so graphs far
    deeper than Python's recursion limit are fine.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))  # comes back after all its parents are placed
        # reversed, so the first parent is popped (and placed) first: a natural reading order
        stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
    return order


def _reverse_sweep(output: Tensor, seed: Array) -> tuple[list[Tensor], dict[int, Array]]:
    """Adjoints ∂output/∂node for every node (keyed by id), without touching ``.grad``.

    Visits nodes in reverse topological order, so a node's adjoint is complete
    (summed over all its uses) before its own rule passes it on to its parents.
    """
    order = _topological_order(output)
    adjoint: dict[int, Array] = {id(output): seed}
    for node in reversed(order):
        if node._backward is None:
            continue
        for parent, contribution in zip(node.parents, node._backward(adjoint[id(node)])):
            key = id(parent)
            adjoint[key] = adjoint[key] + contribution if key in adjoint else contribution
    return order, adjoint


def grad(f: Callable[..., Tensor], argnum: int | None = None) -> Callable[..., Any]:
    """Turn a scalar function of arrays into the function computing its gradient.

    Parameters
    ----------
    f : callable
        ``f(*tensors)`` built from this module's operations, returning a scalar
        Tensor (one entry).
    argnum : int, optional
        Differentiate with respect to this argument only. By default, with
        respect to every argument.

    Returns
    -------
    callable
        ``grad(f)(*arrays)`` returns ∂f/∂array for each argument, each of its
        argument's shape (denominator layout): one array for a one-argument
        ``f`` (or when ``argnum`` is given), else a tuple.

    Notes
    -----
    One forward pass builds the graph, one reverse sweep gives every gradient.
    Nothing is stored between calls.

    Examples
    --------
    >>> def f(W, x):
    ...     return tanh(W @ x).sum()
    >>> dW, dx = grad(f)(np.zeros((2, 3)), np.array([1.0, 2.0, 3.0]))
    >>> dW                      # (1 − tanh(0)²) xᵀ in each row: W's shape
    array([[1., 2., 3.],
           [1., 2., 3.]])
    """
    if not callable(f):
        raise TypeError(f"grad: f must be a function, got {type(f).__name__}.")
    if argnum is not None and (isinstance(argnum, bool) or not isinstance(argnum, (int, np.integer))):
        raise TypeError(f"grad: argnum must be an int or None, got {argnum!r}.")

    def grad_f(*args: ArrayLike) -> Any:
        if not args:
            raise TypeError("grad(f): call it with the arrays to differentiate at, e.g. grad(f)(W, x).")
        if argnum is not None and not -len(args) <= argnum < len(args):
            raise ValueError(f"grad: argnum={argnum} but f was called with {len(args)} argument(s).")
        inputs = [Tensor(a, name=f"arg{i}") for i, a in enumerate(args)]
        out = f(*inputs)
        if not isinstance(out, Tensor):
            out = _constant(out)  # f does not depend on its inputs: every gradient is 0
        if out.size != 1:
            raise ValueError(
                f"grad: f must return a scalar; got shape {shape_str(out.shape)}. "
                "Reduce it with .sum() or .mean() inside f."
            )
        _, adjoint = _reverse_sweep(out, np.ones_like(out.value))
        grads = tuple(
            np.array(adjoint.get(id(t), np.zeros_like(t.value)), dtype=np.float64) for t in inputs
        )
        if argnum is not None:
            return grads[argnum]
        return grads[0] if len(grads) == 1 else grads

    return grad_f


# ----------------------------------------------------------------------------------------
# Tables and drawings of a graph
# ----------------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    """A number in 4 significant digits (−0 printed as 0), an array as its shape."""
    arr = np.asarray(v)
    if arr.size == 1:
        return f"{float(arr.reshape(())) + 0.0:.4g}"
    return f"shape {shape_str(arr.shape)}"


def _scalar_or_array(v: Array) -> float | Array:
    return float(v.reshape(())) if v.size == 1 else np.array(v)


def _step_names(order: Sequence[Tensor]) -> dict[int, str]:
    """A label per node: its name, the value of a constant, or v1, v2, … in order."""
    names: dict[int, str] = {}
    k = 0
    for node in order:
        if node.name is not None:
            names[id(node)] = node.name
        elif node.op == "const":
            names[id(node)] = _fmt(node.value) if node.size == 1 else "const"
        elif node.op == "input":
            names[id(node)] = f"x{k}"
            k += 1
        else:
            k += 1
            names[id(node)] = f"v{k}"
    return names


def _local_derivatives(node: Tensor) -> list[tuple[Tensor, float | Array | None]]:
    """∂node/∂parent for each distinct parent (summed over repeated uses, as in x·x).

    Available when the node has one entry: then the backward rule applied to 1
    gives ∂node/∂parent with the parent's shape. Otherwise the local derivative
    is a Jacobian, reported as None.
    """
    distinct: dict[int, Tensor] = {}
    for p in node.parents:
        distinct.setdefault(id(p), p)
    if node._backward is None:
        return []
    if node.size != 1:
        return [(p, None) for p in distinct.values()]
    total: dict[int, Array] = {}
    for p, d in zip(node.parents, node._backward(np.ones_like(node.value))):
        total[id(p)] = total[id(p)] + d if id(p) in total else np.asarray(d, dtype=np.float64)
    return [(p, _scalar_or_array(total[id(p)])) for p in distinct.values()]


def _formula(node: Tensor, names: dict[int, str]) -> str:
    """``h2 = h1 + b`` style description of how a node was computed."""
    me = names[id(node)]
    if node.op in ("input", "const"):
        return me
    args = [names[id(p)] for p in node.parents]
    binary = {"+": "+", "-": "−", "*": "·", "/": "/", "**": "^", "@": "@"}
    if node.op in binary:
        rhs = f"{args[0]} {binary[node.op]} {args[1]}"
    elif node.op == "neg":
        rhs = f"−{args[0]}"
    elif node.op == "T":
        rhs = f"{args[0]}ᵀ"
    else:
        rhs = f"{node.op}({args[0]})"
    return f"{me} = {rhs}"


class TraceRow(NamedTuple):
    """One step of a computational graph, as a row of the lecture's table.

    Attributes
    ----------
    step : str
        The node's name (``"h1"``), or ``v1, v2, …`` for unnamed operations.
    op : str
        The operation (``"*"``, ``"exp"``, …; ``"input"`` or ``"const"`` for leaves).
    value : float or ndarray
        The forward value (a float when it has one entry).
    local_derivatives : tuple of (str, float or ndarray or None)
        For each parent: its step name and ∂step/∂parent (parent's shape, denominator
        layout). None when the step has more than one entry (the local derivative is
        then a Jacobian). Empty for leaves.
    gradient : float or ndarray
        ∂output/∂step, the step's shape.
    """

    step: str
    op: str
    value: float | Array
    local_derivatives: tuple[tuple[str, float | Array | None], ...]
    gradient: float | Array


class TraceTable(list):
    """A list of :class:`TraceRow` that renders itself as a markdown table.

    In a notebook the table displays as markdown; ``to_markdown()`` returns the text.
    """

    def to_markdown(self) -> str:
        """The rows as a GitHub-flavoured markdown table."""
        lines = [
            "| step | op | value | local derivatives | gradient ∂f/∂step |",
            "|---|---|---|---|---|",
        ]
        for r in self:
            locs = ", ".join(
                f"∂{r.step}/∂{p} = {'Jacobian' if d is None else _fmt(d)}" for p, d in r.local_derivatives
            )
            lines.append(f"| {r.step} | {r.op} | {_fmt(r.value)} | {locs or '—'} | {_fmt(r.gradient)} |")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def trace_table(output: Tensor, include_constants: bool = False) -> TraceTable:
    """The forward values, local derivatives and gradients of every step of a graph.

    Parameters
    ----------
    output : Tensor with one entry
        The scalar f whose gradients are listed.
    include_constants : bool, default False
        Also list wrapped constants (such as the 1 in ``h4 + 1``).

    Returns
    -------
    TraceTable
        A list of :class:`TraceRow` in topological order (inputs first, ``output``
        last), with ``to_markdown()``. Gradients are computed afresh by a reverse
        sweep; the tensors' ``.grad`` are not changed.

    Notes
    -----
    The gradient column obeys the chain rule row by row:
    ∂f/∂parent = Σ_steps using it ∂f/∂step · ∂step/∂parent.

    Examples
    --------
    >>> rows = trace_table(logistic_neuron_example().h6)
    >>> [(r.step, r.op, r.gradient) for r in rows[-2:]]
    [('h5', '+', -0.25), ('h6', '/', 1.0)]
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"trace_table: output must be a Tensor, got {type(output).__name__}.")
    if output.size != 1:
        raise ValueError(
            f"trace_table: output must be a scalar; got shape {shape_str(output.shape)}. "
            "Reduce it with .sum() or .mean() first."
        )
    order, adjoint = _reverse_sweep(output, np.ones_like(output.value))
    names = _step_names(order)
    rows = TraceTable()
    for node in order:
        if node.op == "const" and not include_constants:
            continue
        locs = tuple((names[id(p)], d) for p, d in _local_derivatives(node))
        rows.append(
            TraceRow(names[id(node)], node.op, _scalar_or_array(node.value), locs, _scalar_or_array(adjoint[id(node)]))
        )
    return rows


def _layered_layout(
    output: Tensor, order: Sequence[Tensor], shown: Sequence[Tensor]
) -> tuple[dict[int, int], dict[int, float]]:
    """Column and height of each shown node (by id): columns by depth from the output.

    A node's depth is the longest path from it to ``output``, so every edge points
    from a higher depth to a lower one; the column is ``max_depth − depth``. Column
    by column from the output, each node wants the mean height of the nodes that
    use it; operations are placed first (so a chain of operations stays on one
    line), then leaves, each in the free slot nearest to where it wants to be.
    """
    depth: dict[int, int] = {id(output): 0}
    users: dict[int, dict[int, Tensor]] = {id(n): {} for n in order}
    for node in reversed(order):  # users before the nodes they use
        for p in node.parents:
            depth[id(p)] = max(depth.get(id(p), 0), depth[id(node)] + 1)
            users[id(p)][id(node)] = node
    rank = {id(n): i for i, n in enumerate(order)}
    layers: dict[int, list[Tensor]] = {}
    for n in shown:
        layers.setdefault(depth[id(n)], []).append(n)
    max_depth = max(layers)
    ypos: dict[int, float] = {}
    for d in sorted(layers):
        taken: list[float] = []
        for n in sorted(layers[d], key=lambda n: (n.is_leaf, rank[id(n)])):
            placed_users = [ypos[k] for k in users[id(n)] if k in ypos]
            want = float(np.mean(placed_users)) if placed_users else 0.0
            for step in range(2 * len(shown) + 2):  # offsets 0, +1, −1, +2, −2, …
                y = want + (step + 1) // 2 * (1 if step % 2 else -1)
                if all(abs(y - t) >= 1.0 - 1e-9 for t in taken):
                    break
            taken.append(y)
            ypos[id(n)] = y
    column = {id(n): max_depth - depth[id(n)] for n in shown}
    return column, ypos


_COLORS = MappingProxyType({"input": "#cfe2f3", "const": "#e6e6e6", "op": "#fff2cc"})


def draw_graph(
    output: Tensor,
    ax: Axes | None = None,
    *,
    show_constants: bool = True,
    show_grad: bool = False,
    max_nodes: int = 60,
    title: str | None = None,
) -> Axes:
    """Draw the computational graph that produced ``output``, with matplotlib only.

    Parameters
    ----------
    output : Tensor
        The last node; everything it depends on is drawn.
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized to the graph by default.
    show_constants : bool, default True
        Draw wrapped constants (grey boxes) or leave them out.
    show_grad : bool, default False
        Add ∂f/∂node to each box (``output`` must then have one entry).
    max_nodes : int, default 60
        Refuse larger graphs, which would be unreadable.
    title : str, optional
        Axes title; a short description of the conventions by default.

    Returns
    -------
    matplotlib Axes
        The axes drawn on (``ax.figure`` is the figure). Each node is a
        ``FancyBboxPatch`` with gid ``"node"``; each edge label a text with gid
        ``"edge_label"``.

    Notes
    -----
    Layout: a node's column is its depth, the longest path from it to ``output``,
    so ``output`` is rightmost and every arrow points right; within a column,
    nodes are ordered by the mean height of the nodes that use them. A box shows
    how the node was computed (``h2 = h1 + b``) and its value: the number for a
    one-entry value, else the shape. Blue: inputs; grey: constants; yellow:
    operations; thick border: ``output``. An edge is labelled with the local
    derivative ∂child/∂parent when both ends have one entry (summed over repeated
    uses, as in x·x).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = draw_graph(logistic_neuron_example().h6)
    >>> sum(p.get_gid() == "node" for p in ax.patches)   # x, w, b, h1..h6 and two constants 1
    11
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
    from matplotlib.path import Path

    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: output must be a Tensor, got {type(output).__name__}.")
    max_nodes = check_positive_int(max_nodes, "max_nodes", "draw_graph")
    order = _topological_order(output)
    shown = [n for n in order if show_constants or n.op != "const"]
    if len(shown) > max_nodes:
        raise ValueError(
            f"draw_graph: the graph has {len(shown)} nodes, more than max_nodes={max_nodes}; a drawing "
            "that large is unreadable. Draw a smaller example (fewer layers or units), or raise max_nodes."
        )
    adjoint: dict[int, Array] = {}
    if show_grad:
        if output.size != 1:
            raise ValueError(
                f"draw_graph: show_grad=True needs a scalar output; got shape {shape_str(output.shape)}. "
                "Reduce it with .sum() or .mean() first."
            )
        _, adjoint = _reverse_sweep(output, np.ones_like(output.value))
    names = _step_names(order)
    is_shown = {id(n) for n in shown}

    column, ypos = _layered_layout(output, order, shown)
    n_columns = int(max(column.values())) + 1

    def label(n: Tensor) -> str:
        lines = [_formula(n, names)]
        if n.op != "const" or n.size != 1:  # a one-entry constant's name is already its value
            lines.append(_fmt(n.value))
        if show_grad and n.size == 1:  # an array's gradient is an array of its shape: not shown
            lines.append(f"grad {_fmt(adjoint[id(n)])}")
        return "\n".join(lines)

    labels = {id(n): label(n) for n in shown}
    width = {k: max(0.4, 0.048 * max(len(s) for s in t.split("\n")) + 0.12) for k, t in labels.items()}
    height = {k: 0.2 + 0.16 * t.count("\n") for k, t in labels.items()}
    spacing = max(width.values()) + 0.45  # a gap between columns wide enough for arrows and labels
    xpos = {k: c * spacing for k, c in column.items()}
    lift = 0.85  # edges that skip columns arc this far above the row they leave
    skips = any(column[id(n)] - column[id(p)] > 1 for n in shown for p in n.parents if id(p) in is_shown)
    x_low, x_high = -0.5 * spacing, (n_columns - 0.5) * spacing
    y_low, y_high = min(ypos.values()) - 0.5, max(ypos.values()) + 0.5 + (lift if skips else 0.0)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 1.6 * (x_high - x_low)), max(2.4, 1.05 * (y_high - y_low) + 0.9)))

    for n in shown:
        k = id(n)
        x, y, w, h = xpos[k], ypos[k], width[k], height[k]
        kind = n.op if n.op in ("input", "const") else "op"
        box = FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
            facecolor=_COLORS[kind], edgecolor="black", linewidth=2.2 if n is output else 0.9, zorder=2,
        )
        box.set_gid("node")
        ax.add_patch(box)
        ax.text(x, y, labels[k], ha="center", va="center", fontsize=8, zorder=3, gid="node_label")

    for n in shown:
        for p, d in _local_derivatives(n):
            if id(p) not in is_shown:
                continue
            x0, y0 = xpos[id(p)] + width[id(p)] / 2, ypos[id(p)]
            x3, y3 = xpos[id(n)] - width[id(n)] / 2, ypos[id(n)]
            if column[id(n)] - column[id(p)] > 1:  # skips a column: arc over the boxes between
                c1, c2 = (x0 + 0.5 * spacing, y0 + lift), (x3 - 0.5 * spacing, y3 + lift)
                path = Path([(x0, y0), c1, c2, (x3, y3)], [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
                arrow = FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=10, color="0.3", lw=0.9)
                mid = ((x0 + 3 * c1[0] + 3 * c2[0] + x3) / 8, (y0 + 3 * c1[1] + 3 * c2[1] + y3) / 8)
            else:
                arrow = FancyArrowPatch((x0, y0), (x3, y3), arrowstyle="-|>", mutation_scale=10, color="0.3", lw=0.9)
                mid = ((x0 + x3) / 2, (y0 + y3) / 2)
            arrow.set_zorder(1)
            arrow.set_gid("edge")
            ax.add_patch(arrow)
            if d is not None and np.ndim(d) == 0:
                ax.text(*mid, _fmt(d), fontsize=7, ha="center", va="center", color="#1f4e9c", zorder=4,
                        gid="edge_label", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))

    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low - 0.1, y_high + 0.1)
    ax.axis("off")
    if title is None:
        title = "Computational graph: values forward"
        title += "; edges: local derivative ∂child/∂parent" if output.size == 1 else ""
    ax.set_title(title, fontsize=10)
    handles = [Patch(facecolor=_COLORS[k], edgecolor="black", label=t)
               for k, t in (("input", "input"), ("const", "constant"), ("op", "operation"))]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False, fontsize=8)
    return ax


# ----------------------------------------------------------------------------------------
# The lecture's worked example
# ----------------------------------------------------------------------------------------
class LogisticNeuronExample(NamedTuple):
    """The inputs and the six steps of f(x; w, b) = 1/(exp(−(wx + b)) + 1)."""

    x: Tensor
    w: Tensor
    b: Tensor
    h1: Tensor
    h2: Tensor
    h3: Tensor
    h4: Tensor
    h5: Tensor
    h6: Tensor

    @property
    def f(self) -> Tensor:
        """The output f = h6."""
        return self.h6


def logistic_neuron_example(x: float = 1.0, w: float = 0.0, b: float = 0.0) -> LogisticNeuronExample:
    """Build f(x; w, b) = 1/(exp(−(wx + b)) + 1) in six primitive steps and run ``backward`` on it.

    The gradients are already filled in when this returns; do not call
    ``backward`` again (see Returns).

    Parameters
    ----------
    x, w, b : float
        The input, the weight and the bias (Unit 6's example uses 1, 0, 0).

    Returns
    -------
    LogisticNeuronExample
        Named tuple of Tensors ``(x, w, b, h1, h2, h3, h4, h5, h6)`` named
        ``"x"``, …, ``"h6"``, after ``h6.backward()``: every ``.value`` is the
        forward value and every ``.grad`` is ∂f/∂(that node). ``backward`` has
        already run: calling ``ex.h6.backward()`` again *adds* a second copy of
        every gradient (``.grad`` accumulates, as in PyTorch); build a new
        example instead.

    Notes
    -----
    The six steps and their local derivatives, with the values at x = 1, w = 0, b = 0::

        h1 = w·x       = 0      ∂h1/∂w = x = 1,  ∂h1/∂x = w = 0
        h2 = h1 + b    = 0      ∂h2/∂h1 = 1,     ∂h2/∂b = 1
        h3 = −h2       = 0      ∂h3/∂h2 = −1
        h4 = exp(h3)   = 1      ∂h4/∂h3 = exp(h3) = 1
        h5 = h4 + 1    = 2      ∂h5/∂h4 = 1
        h6 = 1/h5      = 0.5    ∂h6/∂h5 = −1/h5² = −0.25

    The chain rule multiplies the local derivatives along the path from f = h6 back to w:
    ∂f/∂w = (−0.25)(1)(1)(−1)(1)(1) = 0.25, and to b: ∂f/∂b = (−0.25)(1)(1)(−1)(1) = 0.25.
    f is the logistic σ(wx + b), so both agree with σ'(0)·x = 0.25 and σ'(0) = 0.25.

    Examples
    --------
    >>> ex = logistic_neuron_example()
    >>> [h.item() for h in ex[3:]] == [0.0, 0.0, 0.0, 1.0, 2.0, 0.5]    # h1..h6
    True
    >>> float(ex.w.grad), float(ex.b.grad)
    (0.25, 0.25)
    """
    xs = Tensor(x, name="x")
    ws = Tensor(w, name="w")
    bs = Tensor(b, name="b")
    h1 = ws * xs
    h2 = h1 + bs
    h3 = -h2
    h4 = exp(h3)
    h5 = h4 + 1.0
    h6 = 1.0 / h5
    for k, h in enumerate((h1, h2, h3, h4, h5, h6), start=1):
        h.name = f"h{k}"
    h6.backward()
    return LogisticNeuronExample(xs, ws, bs, h1, h2, h3, h4, h5, h6)
