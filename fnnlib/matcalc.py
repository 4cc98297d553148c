"""Matrix calculus in one consistent layout: numerical Jacobians and layout diagnosis.

Unit 4 of the course. Every derivative here is in **denominator layout** unless
asked otherwise: the derivative of ``y`` with respect to ``x`` has the shape of
``x`` followed by the shape of ``y``. For vectors x ∈ R^m, y ∈ R^n the
Jacobian ∂y/∂x is m × n with ``J[i, j] = ∂y_j/∂x_i``; for a scalar ``L`` the
gradient ∂L/∂W has the shape of W. scipy, torch and ``autograd.jacobian``
return the transpose (numerator layout, y's shape first).

Why denominator layout:

* a gradient has its variable's shape, so the update reads
  ``W ← W − η ∂L/∂W`` with no transpose;
* the chain rule reads left to right along the forward pass: for
  x → y → z, ``∂z/∂x = ∂y/∂x · ∂z/∂y`` (numerator layout writes
  ``∂z/∂y · ∂y/∂x``).

Public names:

``jacobian``
    numerical Jacobian by central differences, either layout, any shapes.
``convert_layout``
    turn a Jacobian from one layout into the other (swap the index groups).
``diagnose`` / ``check_derivative``
    compare a student's derivative with a reference and name the mistake
    (wrong type, numerator layout, wrong shape, constant factor, NaN, wrong
    values). ``check_derivative`` raises ``AssertionError`` with the message
    that Unit 4's and Unit 5's exercise tests show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import as_float_array, check_choice, shape_str
from fnnlib.i18n import tr

__all__ = [
    "LAYOUTS",
    "MISTAKE_KINDS",
    "Diagnosis",
    "jacobian",
    "convert_layout",
    "diagnose",
    "check_derivative",
]

#: The two layouts a Jacobian can be written in.
LAYOUTS: tuple[str, ...] = ("denominator", "numerator")

#: The kinds of mistake ``diagnose`` recognises, in the order it tests them.
MISTAKE_KINDS: tuple[str, ...] = (
    "not_array",
    "numerator_layout",
    "wrong_shape",
    "nan",
    "constant_factor",
    "wrong_values",
)


# ---------------------------------------------------------------------------
# Numerical Jacobian
# ---------------------------------------------------------------------------


def _evaluate(f: Callable[..., Any], x: NDArray[np.float64], func: str) -> NDArray[np.float64]:
    """Call ``f`` on a private copy of ``x`` and return its output as float64."""
    return as_float_array(f(x.copy()), "f(x)", func)


def _swap_axes(ndim_first: int, ndim_second: int) -> tuple[int, ...]:
    """Axes that move the last ``ndim_second`` axes in front of the first ``ndim_first``."""
    first = tuple(range(ndim_first))
    second = tuple(range(ndim_first, ndim_first + ndim_second))
    return second + first


def jacobian(
    f: Callable[[NDArray[np.float64]], ArrayLike],
    x: ArrayLike,
    layout: str = "denominator",
    h: float = 1e-6,
) -> NDArray[np.float64]:
    """Numerical Jacobian of ``y = f(x)`` by central differences, in float64.

    Parameters
    ----------
    f : callable
        Maps an array of x's shape to an array (or a scalar) ``y``. It is only
        ever called on copies of ``x``.
    x : array_like of shape (m,) or any shape
        The point where the derivative is taken. Never modified.
    layout : {"denominator", "numerator"}, default "denominator"
        Denominator layout (the course's): the result has shape
        ``x.shape + y.shape``. Numerator layout (scipy's, torch's,
        ``autograd.jacobian``'s): ``y.shape + x.shape``.
    h : float, default 1e-6
        Step of the central difference.

    Returns
    -------
    J : ndarray of shape x.shape + y.shape (denominator) or y.shape + x.shape (numerator)
        For x ∈ R^m and y ∈ R^n, denominator layout gives the m × n matrix
        ``J[i, j] = ∂y_j/∂x_i`` (the transpose of scipy's and torch's
        Jacobian). For a scalar ``y`` both layouts give the gradient, an array
        of x's shape. (The textbook's numerator layout writes the gradient of a
        scalar with respect to a matrix with the matrix's transposed shape; here
        "numerator" always means y's indices first, so a scalar's gradient
        keeps x's shape in both layouts.)

    Raises
    ------
    ValueError
        Unknown ``layout``, ``h`` not positive, or ``f`` returning NaN/inf or
        a differently shaped output at a perturbed point.

    See Also
    --------
    convert_layout : switch a Jacobian between the two layouts.
    fnnlib.gradcheck.numerical_gradient : the same for scalar-valued f.

    Notes
    -----
    Each entry comes from one central difference (Unit 4, Unit 6)::

        ∂y/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / (2h)

    with truncation error O(h²). It costs 2·x.size calls of ``f``.

    Examples
    --------
    The Jacobian of ``y = Wx`` is ``Wᵀ`` in denominator layout and ``W`` in
    numerator layout:

    >>> W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   # (n, m) = (2, 3)
    >>> x = np.array([1.0, -1.0, 0.5])                       # (m,) = (3,)
    >>> J = jacobian(lambda v: W @ v, x)                      # (m, n) = (3, 2)
    >>> np.allclose(J, W.T)
    True
    >>> np.allclose(jacobian(lambda v: W @ v, x, layout="numerator"), W)
    True
    """
    func = "jacobian"
    check_choice(layout, LAYOUTS, "layout", func)
    h = _check_step(h, func)
    if not callable(f):
        raise TypeError(f"{func}: f must be a function of x, got {type(f).__name__}.")
    x = np.array(as_float_array(x, "x", func), dtype=np.float64, copy=True)
    y0 = _evaluate(f, x, func)
    J = np.empty(x.shape + y0.shape, dtype=np.float64)
    for i in np.ndindex(*x.shape):
        x_plus = x.copy()
        x_plus[i] += h
        x_minus = x.copy()
        x_minus[i] -= h
        y_plus = _evaluate(f, x_plus, func)
        y_minus = _evaluate(f, x_minus, func)
        if y_plus.shape != y0.shape or y_minus.shape != y0.shape:
            raise ValueError(
                f"{func}: f(x) has shape {shape_str(y0.shape)} but a perturbed f(x ± h e_i) at "
                f"index {i} has shape {shape_str(y_plus.shape)}; f must return the same shape "
                "for every x of the same shape."
            )
        J[i] = (y_plus - y_minus) / (2.0 * h)
    if layout == "numerator":
        return convert_layout(J, x.shape, y0.shape, "denominator", "numerator")
    return J


def _check_step(h: Any, func: str) -> float:
    """Return ``h`` as a positive finite float, or raise."""
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: h must be a positive number such as 1e-6, got {type(h).__name__}.")
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"{func}: h must be a positive number such as 1e-6, got {h}.")
    return float(h)


def convert_layout(
    J: ArrayLike,
    x_shape: tuple[int, ...],
    y_shape: tuple[int, ...],
    from_layout: str = "denominator",
    to_layout: str = "numerator",
) -> NDArray[np.float64]:
    """Convert a Jacobian ∂y/∂x between denominator and numerator layout.

    Parameters
    ----------
    J : array_like of shape x_shape + y_shape (denominator) or y_shape + x_shape (numerator)
        The Jacobian in ``from_layout``.
    x_shape, y_shape : tuple of int
        Shapes of the variable x and of the function value y.
    from_layout, to_layout : {"denominator", "numerator"}
        Layout of ``J`` and the layout wanted.

    Returns
    -------
    ndarray of shape y_shape + x_shape or x_shape + y_shape
        The same numbers with the two index groups swapped (a new array). For
        vectors this is the matrix transpose ``J.T``.

    Raises
    ------
    ValueError
        Unknown layout name, or ``J``'s shape does not fit ``x_shape`` and
        ``y_shape`` in ``from_layout``.

    Notes
    -----
    Denominator layout: ``J_den[i..., j...] = ∂y_j.../∂x_i...``; numerator
    layout: ``J_num[j..., i...] = J_den[i..., j...]`` (Unit 4).

    Examples
    --------
    >>> J = np.arange(6.0).reshape(3, 2)        # ∂y/∂x, (m, n) = (3, 2)
    >>> convert_layout(J, (3,), (2,)).shape       # numerator: (n, m)
    (2, 3)
    >>> np.array_equal(convert_layout(J, (3,), (2,)), J.T)
    True
    """
    func = "convert_layout"
    check_choice(from_layout, LAYOUTS, "layout", func)
    check_choice(to_layout, LAYOUTS, "layout", func)
    J = as_float_array(J, "J", func, allow_nonfinite=True)
    x_shape = tuple(int(s) for s in x_shape)
    y_shape = tuple(int(s) for s in y_shape)
    expected = x_shape + y_shape if from_layout == "denominator" else y_shape + x_shape
    if J.shape != expected:
        order = "x_shape + y_shape" if from_layout == "denominator" else "y_shape + x_shape"
        raise ValueError(
            f"{func}: J has shape {shape_str(J.shape)}; in {from_layout} layout expected "
            f"{order} = {shape_str(expected)}. Is J already in the other layout, or are "
            "x_shape and y_shape swapped?"
        )
    if from_layout == to_layout:
        return J.copy()
    first, second = (len(x_shape), len(y_shape)) if from_layout == "denominator" else (len(y_shape), len(x_shape))
    return np.ascontiguousarray(np.transpose(J, _swap_axes(first, second)))


# ---------------------------------------------------------------------------
# Diagnosing a student's derivative
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """What is wrong with a derivative, as found by :func:`diagnose`.

    Attributes
    ----------
    kind : str
        One of ``MISTAKE_KINDS``: "not_array", "numerator_layout",
        "wrong_shape", "nan", "constant_factor", "wrong_values".
    message : str
        The explanation for the student (also ``str(diagnosis)``).
    name : str
        The name of the answer in the exercise, e.g. ``"dW"``.
    index : tuple of int or None
        Position of the largest discrepancy (or of the first NaN).
    expected, got : float or None
        Reference and answer at ``index``.
    rel_error : float or None
        ``|got − expected| / max(1e-8, |got| + |expected|)`` at ``index``.
    factor : float or None
        For "constant_factor": answer ≈ factor · reference.
    """

    kind: str
    message: str
    name: str
    index: tuple[int, ...] | None = None
    expected: float | None = None
    got: float | None = None
    rel_error: float | None = None
    factor: float | None = None

    def __str__(self) -> str:
        return self.message


def _fmt(v: float) -> str:
    """A number for a student: short, no numpy type name."""
    return f"{float(v):.6g}"


def _index_str(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def _default_symbols(ndim: int, x_ndim: int | None, x_symbol: str, y_symbol: str) -> str | None:
    """Shape of ∂y/∂x in symbols when the caller gave none."""
    if ndim == 0:
        return None
    if ndim == 1:
        return "(m,)"
    if ndim == 2:
        return "(m, n)"
    if x_ndim is not None:
        return f"{x_symbol}.shape + {y_symbol}.shape"
    return None


def _layout_reason(d: str, shape: tuple[int, ...], x_symbol: str, y_symbol: str, gradient: bool) -> str:
    """Why the course uses denominator layout, in two sentences."""
    if gradient:
        first = tr(
            "This course uses denominator layout: a gradient has the shape of its variable, so "
            "{d} has the shape of {x}, {shape}, and the update reads {x} ← {x} − η {d} with no transpose.",
            d=d, x=x_symbol, shape=shape_str(shape),
        )
    else:
        first = tr(
            "This course uses denominator layout: {d} has the shape of {x} followed by "
            "the shape of {y}, here {shape}, so a gradient has its variable's "
            "shape and an update reads W ← W − η ∂L/∂W.", d=d, x=x_symbol, y=y_symbol, shape=shape_str(shape),
        )
    second = tr(
        "In this layout the chain rule reads left to right along the forward pass: "
        "for x → y → z, ∂z/∂x = ∂y/∂x · ∂z/∂y."
    )
    return first + ("" if first.endswith("。") else " ") + second


def _swaps(shape: tuple[int, ...], x_ndim: int | None) -> list[tuple[int, tuple[int, ...]]]:
    """Ways to swap x's and y's index groups: pairs (k, axes) where x has k axes.

    A matrix is always tried transposed (for a gradient with respect to a
    matrix W, the transpose is what numerator layout writes). For 3 or more
    axes every split is tried unless ``x_ndim`` fixes it.
    """
    ndim = len(shape)
    if ndim == 2:
        return [(1, (1, 0))]
    if ndim < 2:
        return []
    ks = [x_ndim] if x_ndim is not None else list(range(1, ndim))
    return [(k, _swap_axes(k, ndim - k)) for k in ks if 0 < k < ndim]


def _factor_words(c: float, batch_size: int | None, d: str) -> tuple[str, bool]:
    """Explain an answer that is ``c`` times the reference; also say if ``c`` is a telling factor.

    Telling factors: N, 1/N, −1, 2, ½, an integer k ≥ 3 or 1/k.
    """

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))

    if batch_size is not None and batch_size > 1 and near(c, batch_size):
        return tr(
            "is N = {n} times the expected {d} in every entry: did you sum over the "
            "N examples instead of averaging? The course averages over the batch: divide by N.", n=batch_size, d=d
        ), True
    if batch_size is not None and batch_size > 1 and near(c, 1.0 / batch_size):
        return tr(
            "is 1/N = 1/{n} of the expected {d} in every entry: did you divide by N "
            "twice (for example once in δ and again in ∂L/∂W)? Divide by N only once.", n=batch_size, d=d
        ), True
    if near(c, -1.0):
        return tr(
            "has the opposite sign of the expected {d} in every entry. Check the order of a "
            "difference, (ŷ − y) versus (y − ŷ), or a minus sign lost in the chain rule.", d=d
        ), True
    if near(c, 2.0):
        return tr(
            "is 2 times the expected {d} in every entry. A factor 2 too many usually means a "
            "missing ½: the ½ in ½‖·‖² (or in λ/2) cancels the 2 from differentiating a square.", d=d
        ), True
    if near(c, 0.5):
        return tr(
            "is ½ of the expected {d} in every entry: a factor 2 is missing. Differentiating a "
            "square gives one: ∂(u²)/∂u = 2u, and ∂(xᵀAx)/∂x = (A + Aᵀ)x, which is 2Ax (not Ax) "
            "when A is symmetric.", d=d
        ), True
    k = round(c)
    if k >= 3 and near(c, k):
        return tr(
            "is {k} times the expected {d} in every entry. Did you sum {k} terms where the "
            "course averages them (divide by N), or count a factor twice?", k=k, d=d
        ), True
    if abs(c) > 0 and round(1.0 / c) >= 3 and near(1.0 / c, round(1.0 / c)):
        k = round(1.0 / c)
        return tr(
            "is 1/{k} of the expected {d} in every entry. Did you divide by N (or another "
            "count) once too often?", k=k, d=d
        ), True
    return tr(
        "is {c} times the expected {d} in every entry: the formula is right up to a "
        "constant factor. Look for a missing or extra constant.", c=_fmt(c), d=d
    ), False


def diagnose(
    answer: Any,
    reference: ArrayLike,
    name: str = "answer",
    *,
    x_symbol: str = "x",
    y_symbol: str = "y",
    shape_symbols: str | None = None,
    x_ndim: int | None = None,
    batch_size: int | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> Diagnosis | None:
    """Compare a derivative with a reference and name the mistake, if any.

    Parameters
    ----------
    answer : object
        What the student's function returned; should be an ndarray of the
        reference's shape.
    reference : array_like of shape x.shape + y.shape
        The correct derivative ∂y/∂x in denominator layout: for x ∈ R^m,
        y ∈ R^n it is (m, n); for a scalar y it has x's shape.
    name : str, default "answer"
        The answer's name in the exercise, e.g. ``"dW"`` or ``"jacobian_Wx(W, x)"``.
    x_symbol, y_symbol : str, default "x", "y"
        Symbols in ``∂y/∂x`` for the messages, e.g. ``y_symbol="L"``,
        ``x_symbol="W^(1)"``.
    shape_symbols : str, optional
        The expected shape in the lecture's symbols, e.g. ``"(M_1, M_0)"``.
        Defaults to ``"(m, n)"`` for a matrix and ``"(m,)"`` for a vector.
    x_ndim : int, optional
        How many leading axes of ``reference`` belong to x.
        ``x_ndim == reference.ndim`` says y is a scalar (a gradient such as
        ∂L/∂W): the layout message then speaks of the update
        ``W ← W − η ∂L/∂W``. For references with 3 or more axes it fixes which
        index groups to swap (otherwise every split is tried). By default a
        1-D reference is a gradient and a 2-D one a Jacobian ∂y/∂x.
    batch_size : int, optional
        The batch size N, so that a factor N or 1/N is explained as summing
        instead of averaging.
    rtol, atol : float, default 1e-5, 1e-8
        Values agree when ``|answer − reference| <= atol + rtol·|reference|``
        entrywise (``np.allclose``).

    Returns
    -------
    Diagnosis or None
        ``None`` when the answer agrees with the reference; otherwise the first
        mistake found: not an array ("not_array"); if the shape differs,
        numerator layout ("numerator_layout", the index groups swapped) or
        else a wrong shape ("wrong_shape"); if the shape is right, NaN or inf
        ("nan"), numerator layout (a transposed square matrix), off by a
        constant factor ("constant_factor"), or wrong values ("wrong_values").

    Raises
    ------
    ValueError, TypeError
        ``reference`` is not a finite real array (the test's fault, not the
        student's).

    See Also
    --------
    check_derivative : raise ``AssertionError`` with the message instead.

    Notes
    -----
    A transposed answer (for 2-D references) or an answer with x's and y's
    index groups swapped (``convert_layout`` of the reference) is numerator
    layout. A constant factor is ``c = ⟨answer, ref⟩ / ⟨ref, ref⟩`` when
    ``answer ≈ c · ref``. The relative error reported is the course's
    ``|a − b| / max(1e-8, |a| + |b|)`` (Unit 5's gradient check).

    Examples
    --------
    >>> W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   # (n, m) = (2, 3)
    >>> print(diagnose(W.T, W.T, "J"))                       # ∂(Wx)/∂x = Wᵀ: correct
    None
    >>> diagnose(W, W.T, "J").kind                           # returned W instead of Wᵀ
    'numerator_layout'
    """
    func = "diagnose"
    name = tr(name)  # a test's name for the answer may be a phrase
    ref = as_float_array(reference, "reference", func)
    d = f"∂{y_symbol}/∂{x_symbol}"
    if shape_symbols is None:
        shape_symbols = _default_symbols(ref.ndim, x_ndim, x_symbol, y_symbol)
    if ref.ndim == 0:
        expected_shape = tr("a scalar, shape ()")
    elif shape_symbols:
        expected_shape = tr("shape {symbols} = {nums}", symbols=shape_symbols, nums=shape_str(ref.shape))
    else:
        expected_shape = tr("shape {nums}", nums=shape_str(ref.shape))
    gradient = x_ndim == ref.ndim if x_ndim is not None else ref.ndim <= 1

    # (1) not an array ------------------------------------------------------
    kind_msg = _not_array_message(answer, ref, name, d, expected_shape)
    if kind_msg is not None:
        return Diagnosis("not_array", kind_msg, name)
    ans = np.asarray(answer).astype(np.float64)

    # (2)/(3) shape -----------------------------------------------------------
    if ans.shape != ref.shape:
        return _shape_diagnosis(ans, ref, name, d, expected_shape, x_symbol, y_symbol,
                                gradient, x_ndim, rtol, atol)

    # NaN / inf ---------------------------------------------------------------
    bad = ~np.isfinite(ans)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        n_nan = int(np.isnan(ans).sum())
        what = tr("NaN (not a number)") if n_nan else tr("infinite values")
        msg = tr(
            "{name} contains {what} in {bad} of {size} entries, first at index "
            "{index}. NaN comes from 0/0, ∞ − ∞ or log of a negative number, and inf "
            "from an overflow such as exp(1000) or a division by 0: check those steps of your "
            "formula.", name=name, what=what, bad=int(bad.sum()), size=ans.size, index=_index_str(first)
        )
        return Diagnosis("nan", msg, name, index=first)

    if np.allclose(ans, ref, rtol=rtol, atol=atol):
        return None

    # (2) numerator layout with the same shape (square matrices and the like) -
    for k, axes in _swaps(ref.shape, x_ndim):
        swapped = np.transpose(ref, axes)
        if swapped.shape == ans.shape and np.allclose(ans, swapped, rtol=rtol, atol=atol):
            return _numerator_diagnosis(ans, ref, name, d, x_symbol, y_symbol, gradient, k)

    # (4) constant factor -----------------------------------------------------
    rr = float(np.sum(ref * ref))
    if rr > 0 and np.any(np.abs(ref) > atol):
        c = float(np.sum(ans * ref) / rr)
        words, telling = _factor_words(c, batch_size, d)
        # with fewer than two nonzero entries any answer is "a factor" times the
        # reference: then only a telling factor (2, ½, −1, N, ...) is worth naming
        enough = int(np.sum(np.abs(ref) > atol)) >= 2 or telling
        if (
            enough
            and abs(c) > 1e-12
            and not np.isclose(c, 1.0, rtol=1e-3, atol=0.0)
            and np.allclose(ans, c * ref, rtol=rtol, atol=atol)
        ):
            idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(ref))), ref.shape))
            exp_v, got_v = float(ref[idx]), float(ans[idx])
            if ref.ndim:
                example = tr("For example at index {index}: expected {expected}, got {got}.",
                             index=_index_str(idx), expected=_fmt(exp_v), got=_fmt(got_v))
            else:
                example = tr("Expected {expected}, got {got}.", expected=_fmt(exp_v), got=_fmt(got_v))
            msg = tr("{name} has the right shape but {words}", name=name, words=words)
            msg += ("" if msg.endswith("。") else " ") + example
            return Diagnosis("constant_factor", msg, name, index=idx, expected=exp_v, got=got_v,
                             rel_error=_entry_rel_error(got_v, exp_v), factor=c)

    # (5) wrong values --------------------------------------------------------
    diff = np.abs(ans - ref)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), ref.shape))
    exp_v, got_v = float(ref[idx]), float(ans[idx])
    rel = _entry_rel_error(got_v, exp_v)
    n_wrong = int((~np.isclose(ans, ref, rtol=rtol, atol=atol)).sum())
    if ref.ndim == 0:
        msg = tr("{name} is wrong: expected {d} = {expected}, got {got} (relative error {rel:.1e}).",
                 name=name, d=d, expected=_fmt(exp_v), got=_fmt(got_v), rel=rel)
    else:
        count = (tr("1 entry of {size} differs", size=ref.size) if n_wrong == 1
                 else tr("{n} entries of {size} differ", n=n_wrong, size=ref.size))
        msg = tr(
            "{name} has the right shape {shape} but wrong values: {count} from "
            "{d}. The largest difference is at index {index}: expected "
            "{expected}, got {got} (relative error {rel:.1e}).", name=name, shape=shape_str(ref.shape), count=count,
            d=d, index=_index_str(idx), expected=_fmt(exp_v), got=_fmt(got_v), rel=rel,
        )
    if not np.any(ans):
        zeros = tr("Your answer is all zeros: is the function still a stub, or did you forget to fill in the array?")
        msg += ("" if msg.endswith("。") else " ") + zeros
    return Diagnosis("wrong_values", msg, name, index=idx, expected=exp_v, got=got_v, rel_error=rel)


def _entry_rel_error(got: float, expected: float) -> float:
    return abs(got - expected) / max(1e-8, abs(got) + abs(expected))


def _not_array_message(answer: Any, ref: NDArray[np.float64], name: str, d: str, expected_shape: str) -> str | None:
    """Message for an answer that is not a real numeric array, or None if it is one."""
    want = tr("a NumPy array with {d} of {shape}", d=d, shape=expected_shape) if ref.ndim else tr("a number, {d}", d=d)
    if answer is None:
        return tr("{name} is None: did you forget the return statement? Expected {want}.", name=name, want=want)
    if ref.ndim == 0 and isinstance(answer, (int, float, np.integer, np.floating)) and not isinstance(answer, bool):
        return None
    if isinstance(answer, (list, tuple)):
        return tr(
            "{name} is a Python {kind}, not a NumPy array. Expected {want}: "
            "build it with NumPy operations, or wrap it in np.array(...).", name=name, kind=type(answer).__name__,
            want=want,
        )
    if not isinstance(answer, (np.ndarray, np.generic)):
        return tr("{name} is a {kind}; expected {want}.", name=name, kind=type(answer).__name__, want=want)
    arr = np.asarray(answer)
    if np.iscomplexobj(arr):
        return tr("{name} has complex values; expected real numbers, {want}.", name=name, want=want)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        return tr("{name} is an array of {dtype} (not numbers); expected {want}.", name=name, dtype=arr.dtype,
                  want=want)
    return None


def _numerator_diagnosis(
    ans: NDArray[np.float64],
    ref: NDArray[np.float64],
    name: str,
    d: str,
    x_symbol: str,
    y_symbol: str,
    gradient: bool,
    k: int,
) -> Diagnosis:
    """The answer is the reference with its index groups swapped."""
    if ref.ndim == 2:
        what = tr("{name} is the transpose of {d}: it is in numerator layout.", name=name, d=d)
        fix = tr("Fix: return its transpose, {name}.T.", name=name)
    elif ref.ndim == 1:
        what = tr("{name} is a row vector of shape {shape}: it is in numerator layout.", name=name,
                  shape=shape_str(ans.shape))
        fix = tr("Fix: return a flat array of shape {shape}, e.g. {name}.ravel().", shape=shape_str(ref.shape),
                 name=name)
    else:
        # ans = transpose(ref, swap(k, ndim-k)); undo with the inverse permutation.
        perm = _swap_axes(k, ref.ndim - k)
        inverse = tuple(int(i) for i in np.argsort(perm))
        what = tr("{name} has the index groups of {d} swapped ({y}'s axes first): it is in numerator layout.",
                  name=name, d=d, y=y_symbol)
        fix = tr("Fix: put {x}'s axes first, {name}.transpose{inverse}.", x=x_symbol, name=name, inverse=inverse)
    parts = [what, _layout_reason(d, ref.shape, x_symbol, y_symbol, gradient), fix]
    msg = parts[0]
    for part in parts[1:]:
        msg += ("" if msg.endswith("。") else " ") + part
    return Diagnosis("numerator_layout", msg, name)


def _shape_diagnosis(
    ans: NDArray[np.float64],
    ref: NDArray[np.float64],
    name: str,
    d: str,
    expected_shape: str,
    x_symbol: str,
    y_symbol: str,
    gradient: bool,
    x_ndim: int | None,
    rtol: float,
    atol: float,
) -> Diagnosis:
    """Numerator layout with a different shape, or a plain wrong shape."""

    def same(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
        return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, rtol=rtol, atol=atol)

    # swapped index groups -> numerator layout
    for k, axes in _swaps(ref.shape, x_ndim):
        if same(ans, np.transpose(ref, axes)):
            return _numerator_diagnosis(ans, ref, name, d, x_symbol, y_symbol, gradient, k)
    # a row vector for a gradient with respect to a vector is numerator layout too
    if ref.ndim == 1 and ans.shape == (1,) + ref.shape and same(ans.reshape(ref.shape), ref):
        return _numerator_diagnosis(ans, ref, name, d, x_symbol, y_symbol, gradient, 1)

    msg = tr("{name} has shape {shape}; expected {d} of {want}.", name=name, shape=shape_str(ans.shape), d=d,
             want=expected_shape)
    swapped_shapes = {tuple(np.transpose(ref, axes).shape) for _, axes in _swaps(ref.shape, x_ndim)}
    if ans.shape in swapped_shapes:
        more = tr(
            "That is the shape of the numerator layout (the transpose); the course uses "
            "denominator layout, where {d} has {x}'s axes first. Even transposed, the "
            "values do not match, so check the formula as well.", d=d, x=x_symbol
        )
    elif ans.size == ref.size and np.squeeze(ans).shape == np.squeeze(ref).shape:
        values = (
            tr(" The values are right; only the shape is off.")
            if same(ans.reshape(ref.shape), ref)
            else ""
        )
        if ref.ndim == 0:
            more = tr("Expected a single number.{values} Use float(...) or .item().", values=values)
        elif ref.ndim == 1:
            more = tr("It has extra or missing axes of length 1 (a column (m, 1) instead of a flat (m,)?).{values} "
                      "Use .reshape{shape} or .ravel().", values=values, shape=shape_str(ref.shape))
        else:
            more = tr("It has extra or missing axes of length 1.{values} Use .reshape{shape}.", values=values,
                      shape=shape_str(ref.shape))
    elif ans.size == ref.size:
        more = tr(
            "It has the right number of entries in the wrong arrangement: check the order of "
            "the factors in each matrix product (A @ B versus B @ A) and any reshape."
        )
    else:
        more = tr(
            "Write the shape of each factor next to your formula: a product (a, b) @ (b, c) has "
            "shape (a, c), an outer product of (a,) and (c,) has shape (a, c)."
        )
    msg += ("" if msg.endswith("。") else " ") + more
    return Diagnosis("wrong_shape", msg, name)


def check_derivative(
    answer: Any,
    reference: ArrayLike,
    name: str = "answer",
    **kwargs: Any,
) -> None:
    """Raise ``AssertionError`` with a student-facing message unless ``answer`` is right.

    Parameters
    ----------
    answer : object
        What the student's function returned.
    reference : array_like of shape x.shape + y.shape
        The correct derivative in denominator layout.
    name : str, default "answer"
        The answer's name in the exercise.
    **kwargs
        Passed to :func:`diagnose`: ``x_symbol``, ``y_symbol``,
        ``shape_symbols``, ``x_ndim``, ``batch_size``, ``rtol``, ``atol``.

    Raises
    ------
    AssertionError
        The answer is wrong; the message says how (see :func:`diagnose`).

    Notes
    -----
    Meant for exercise tests (Units 4 and 5), where an ``AssertionError`` is a
    failed test and its message is what the student reads.

    Examples
    --------
    >>> x = np.array([1.0, 2.0])
    >>> check_derivative(x, x, "grad_wx", x_symbol="w", y_symbol="(wᵀx)")   # ∂(wᵀx)/∂w = x
    >>> check_derivative(2 * x, x, "grad_wx", x_symbol="w", y_symbol="(wᵀx)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: grad_wx has the right shape but is 2 times the expected ∂(wᵀx)/∂w in every entry. ...
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    result = diagnose(answer, reference, name, **kwargs)
    if result is not None:
        raise AssertionError(result.message)
