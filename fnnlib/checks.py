"""Student-facing checks used by the tests in the exercise notebooks.

Every check raises ``AssertionError`` when a student's answer is wrong, with a
message that says what was expected, what came back, where the two first
differ and the most likely mistake. The messages are written here once, so
every assignment explains a wrong shape, an overflow or a broken derivation
in the same words. A wrong *use* of a check (by whoever writes the test)
raises ``TypeError`` or ``ValueError`` instead, so the two cannot be confused.

The checks never mutate their arguments and never print.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import inspect
import math
import sys
import textwrap
import types
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import make_rng, shape_str
from fnnlib.i18n import N_, tr

__all__ = [
    "call_answer",
    "student_facing",
    "check_array",
    "check_function",
    "check_sympy_steps",
    "check_does_not_use",
    "check_no_loops",
    "using_reference",
]

# Values shown in a message are cut after this many characters.
_MAX_SHOWN = 300


# --------------------------------------------------------------------------- tracebacks

# A failing check is the student's answer being wrong, not a crash: in IPython (Validate, running the
# notebook, nbgrader's kernel) its traceback shows the test's line and the message, not this module's
# code. ``__tracebackhide__ = True`` hides a frame, but IPython always shows the innermost one, which
# is the check's own ``raise``; so each failure also carries ``_render_traceback_`` (IPython's hook for
# exceptions that render themselves), which renders the traceback without this module's frames.


def _without_own_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without this module's frames and without frames that set ``__tracebackhide__``."""
    kept = []
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename != __file__ and not frame.f_locals.get("__tracebackhide__"):
            kept.append((frame, tb.tb_lasti, tb.tb_lineno))
        tb = tb.tb_next
    out = None
    for frame, lasti, lineno in reversed(kept):
        out = types.TracebackType(out, frame, lasti, lineno)
    return out


def _render_without_own_frames(exc: BaseException) -> list[str]:
    from IPython import get_ipython

    formatter = get_ipython().InteractiveTB
    full = exc.__traceback__
    try:
        cause, seen = exc.__cause__ or exc.__context__, set()
        while cause is not None and id(cause) not in seen:  # the student's own error, when there is one
            seen.add(id(cause))
            cause.__traceback__ = _without_own_frames(cause.__traceback__)
            cause = cause.__cause__ or cause.__context__
        return formatter.structured_traceback(type(exc), exc, _without_own_frames(full))
    except Exception:  # never lose the message: fall back to IPython's usual rendering
        return formatter.structured_traceback(type(exc), exc, full)


def student_facing(check: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for a check: its failures show in IPython without the checking code's frames.

    A failure (``AssertionError``, or the ``NotImplementedError`` of an unanswered task) raised by
    ``check`` or by anything it calls is rendered with the test's own line and the message; the
    frames of this module and of every function that sets ``__tracebackhide__ = True`` are left
    out, the innermost one included (IPython alone always shows that one). Every check in this
    module is decorated; a test helper written in a notebook (a locked cell) can be too::

        @student_facing
        def check_shape_answer(got, expected, name):
            __tracebackhide__ = True
            ...

    Outside IPython nothing changes.
    """

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        try:
            return check(*args, **kwargs)
        except (AssertionError, NotImplementedError) as exc:
            exc._render_traceback_ = functools.partial(_render_without_own_frames, exc)  # type: ignore[attr-defined]
            raise

    return wrapper


# --------------------------------------------------------------------------- formatting


def _fmt(v: Any) -> str:
    """Format one value for a message: shortest round-trip repr for floats."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (complex, np.complexfloating)):
        return repr(complex(v))
    text = str(v)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _fmt_count(v: Any) -> str:
    """Format a value of an integer answer: counts read as counts ("expected 26, got 13")."""
    f = float(v)
    return str(int(f)) if np.isfinite(f) and f.is_integer() else _fmt(v)


def _fmt_index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]" if idx else ""


def _describe_value(a: Any) -> str:
    """A short description of an argument for a message."""
    if isinstance(a, np.ndarray):
        if a.size <= 8:
            return np.array2string(a, separator=", ", threshold=8)
        if a.size and np.issubdtype(a.dtype, np.number) and not np.iscomplexobj(a):
            with np.errstate(all="ignore"):
                return tr("an array of shape {shape} with values from {low} to {high}",
                          shape=shape_str(a.shape), low=_fmt(np.nanmin(a)), high=_fmt(np.nanmax(a)))
        return tr("an array of shape {shape}", shape=shape_str(a.shape))
    return _fmt(a)


def _want(shape: tuple[int, ...], symbols: str | None) -> str:
    """'a single number' or 'shape (M,) = (4,)' or 'shape (4,) (the shape of x)'."""
    if not shape and not symbols:
        return tr("a single number")
    nums = shape_str(shape)
    if symbols is None:
        return tr("shape {nums}", nums=nums)
    if symbols.startswith("("):
        return tr("shape {symbols} = {nums}", symbols=symbols, nums=nums)
    return tr("shape {nums} ({symbols})", nums=nums, symbols=tr(symbols))


# --------------------------------------------------------------------------- check_array


def _as_result(got: Any, exp: NDArray[Any], name: str, want: str) -> NDArray[Any]:
    """Turn a returned value into an array, or explain why it cannot be one."""
    __tracebackhide__ = True
    if got is None:
        raise AssertionError(
            tr("{name}: got None; expected {want}. Did you forget the `return` statement?", name=name, want=want)
        )
    if isinstance(got, (list, tuple)):
        kind = type(got).__name__
        raise AssertionError(tr(
            "{name}: got a {kind} of length {length}; expected a NumPy array of {want}. "
            "Compute the result with NumPy operations on whole arrays (np.exp, @, np.where, ...) "
            "or turn it into an array with np.asarray(...).", name=name, kind=kind, length=len(got), want=want
        ))
    if isinstance(got, np.ndarray):
        arr = got
    elif isinstance(got, (bool, int, float, complex, np.generic)):
        arr = np.asarray(got)
    else:
        kind = f"{type(got).__module__}.{type(got).__name__}"
        hint = ""
        if type(got).__module__.split(".")[0] == "sympy":
            hint = " " + tr(
                "A numerical function should use NumPy (np.exp, np.tanh), not SymPy (sp.exp, sp.tanh);"
                " SymPy is for the symbolic derivation."
            )
        raise AssertionError(tr("{name}: got an object of type {kind}; expected a NumPy array of {want}.",
                                name=name, kind=kind, want=want) + hint)
    if arr.ndim == 0 and exp.ndim > 0:
        raise AssertionError(tr(
            "{name}: got the single number {value}; expected an array of {want}. "
            "Did you reduce the array (sum, mean, max, all), or use a math.* function that only "
            "takes one number instead of its NumPy version?", name=name, value=_fmt(arr[()]), want=want
        ))
    return arr


def _shape_hint(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """The most likely cause of a shape mismatch, or ''."""
    if len(got) == 2 and len(want) == 2 and got == want[::-1]:
        return tr(
            "It looks transposed: did you return the transposed array, or swap rows and "
            "columns (remember: one column per example)?"
        )
    if len(want) == 1 and got == (want[0], want[0]) and want[0] > 1:
        return tr(
            "A ({n}, {n}) matrix instead of a vector: did a ({n},) array broadcast against a ({n}, 1) one?",
            n=want[0],
        )
    if len(got) == len(want) + 1 and got[: len(want)] == want:
        if got[-1] == 1:
            return tr("It has an extra last axis of length 1 (a column vector?): use .ravel() or index [:, 0].")
        return tr(
            "It has an extra last axis of length {n}: did you forget to reduce over it "
            "(np.sum, np.all or np.any with axis=-1)?", n=got[-1]
        )
    if len(got) == len(want) + 1 and got[1:] == want and got[0] == 1:
        return tr("It has an extra first axis of length 1 (a row vector?): use .ravel() or index [0].")
    if len(got) + 1 == len(want):
        return tr("It has one axis too few: did you reduce (sum, max, all) over an axis you should keep?")
    if len(got) == len(want) and math.prod(got) != math.prod(want):
        return tr("Did you reduce over the wrong axis, or index the wrong dimension?")
    if math.prod(got) == math.prod(want):
        return tr("It has the right number of entries in another shape: check reshape, ravel and the order of the axes.")
    return ""


def _transpose_hint(arr: NDArray[Any], exp: NDArray[Any], rtol: float, atol: float) -> str:
    """Said only when the answer IS the transpose of the right one (not just of its shape)."""
    if arr.ndim == 2 and exp.ndim == 2 and arr.shape == exp.shape[::-1] and arr.dtype != object:
        if _matches(np.asarray(arr).T, exp, rtol, atol):
            return tr(
                "It is exactly the transpose of the right answer: did you build it in the other layout "
                "(numerator instead of denominator), or swap rows and columns (one column per example)?"
            )
    return ""


def _matches(arr: NDArray[Any], other: NDArray[Any], rtol: float, atol: float) -> bool:
    """True when ``arr`` equals ``other`` (same shape, values within tolerance)."""
    if arr.shape != other.shape:
        return False
    try:
        if arr.dtype == np.bool_ or other.dtype == np.bool_:
            return bool(np.array_equal(arr.astype(bool), other.astype(bool))) and arr.dtype == other.dtype
        return bool(np.allclose(arr, other, rtol=rtol, atol=atol, equal_nan=True))
    except (TypeError, ValueError):
        return False


def _mistake_hint(
    arr: NDArray[Any], mistakes: Mapping[str, ArrayLike] | None, rtol: float, atol: float
) -> str:
    """The hint of the first known mistake that ``arr`` reproduces, or ''."""
    for hint, wrong in (mistakes or {}).items():
        try:
            wrong_arr = np.asarray(wrong)
        except Exception:  # an unusable entry is skipped, never an error for the student
            continue
        if wrong_arr.dtype != object and _matches(arr, wrong_arr, rtol, atol):
            return tr("Likely mistake: {hint}", hint=tr(hint))
    return ""


def _join(*parts: str) -> str:
    """The sentences joined by a space (none after a full-width 。？！ or ）, as in Chinese)."""
    out = ""
    for p in parts:
        if p:
            out += (("" if out.endswith(("。", "？", "！", "）")) else " ") if out else "") + p
    return out


@student_facing
def check_array(
    got: Any,
    expected: ArrayLike,
    name: str,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    symbols: str | None = None,
    inputs: ArrayLike | None = None,
    input_name: str = "x",
    mistakes: Mapping[str, ArrayLike] | None = None,
    dtype: Any = None,
) -> None:
    """Check a returned array against the expected one, explaining any difference.

    The checks run in this order, and the first that fails raises:
    type (a NumPy array or a number; not None, a list or another object),
    shape, dtype (boolean answers must be boolean, numbers must be real, and
    ``dtype`` if given), non-finite values (inf or NaN where a finite value
    was expected), values.

    Parameters
    ----------
    got : object
        What the student's code returned.
    expected : array_like
        The right answer. A boolean ``expected`` is compared exactly; a numeric
        one with ``|got - expected| <= atol + rtol * |expected|`` elementwise
        (NaN equals NaN, inf equals inf of the same sign).
    name : str
        What is being checked, as the student wrote it, e.g. ``"logistic(x)"``.
        Every message starts with it.
    rtol, atol : float, optional
        Relative and absolute tolerance for numeric answers.
    symbols : str, optional
        The expected shape in the lecture's symbols, e.g. ``"(M, N)"``, shown
        next to the numbers; or a phrase such as ``"the shape of x"``.
    inputs : array_like, optional
        For an elementwise function: its input, of ``expected``'s shape. The
        messages then name the input where the answer is wrong.
    input_name : str, optional
        The input's name in messages (default ``"x"``).
    mistakes : mapping of str to array_like, optional
        Known wrong answers: ``{hint: wrong_answer}``. When ``got`` reproduces
        one of them (same shape, equal within tolerance), its hint is added to
        the message, e.g. ``{"np.any instead of np.all": any_mask}``.
    dtype : data-type, optional
        If given, ``got`` must have exactly this dtype (e.g. ``np.float64``);
        a Python float counts as float64, a Python int as int64.

    Raises
    ------
    AssertionError
        If ``got`` is not the expected answer; the message says what was
        expected, what came and where.
    TypeError, ValueError
        If the check itself is called wrongly (``expected`` not numeric or
        boolean, a negative tolerance, ``inputs`` of another shape).

    Notes
    -----
    The worst mismatch is the entry with the largest
    ``|got - expected| / (atol + rtol * |expected|)``.

    Examples
    --------
    >>> import numpy as np
    >>> check_array(np.array([0.5, 0.75]), [0.5, 0.75], "logistic(x)")
    >>> check_array(np.array([[0.5], [0.75]]), [0.5, 0.75], "logistic(x)", symbols="the shape of x")
    Traceback (most recent call last):
    ...
    AssertionError: logistic(x): got shape (2, 1); expected shape (2,) (the shape of x). It has an extra last axis of length 1 (a column vector?): use .ravel() or index [:, 0].
    """
    __tracebackhide__ = True
    name = tr(name)  # a test's name for the answer may be a phrase ("the output of f")
    if rtol < 0 or atol < 0:
        raise ValueError(f"check_array: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}.")
    exp = np.asarray(expected)
    if exp.dtype == object or np.iscomplexobj(exp) or not (
        np.issubdtype(exp.dtype, np.number) or exp.dtype == np.bool_
    ):
        raise TypeError(f"check_array: expected must be a real numeric or boolean array, got dtype {exp.dtype}.")
    inp = None
    if inputs is not None:
        inp = np.asarray(inputs)
        if inp.shape != exp.shape:
            raise ValueError(
                f"check_array: inputs has shape {shape_str(inp.shape)} but expected has shape "
                f"{shape_str(exp.shape)}; inputs are only for elementwise functions."
            )
    want = _want(exp.shape, symbols)
    arr = _as_result(got, exp, name, want)

    def at(idx: tuple[int, ...]) -> str:
        if inp is None:
            return tr(" at index {index}", index=_fmt_index(idx)) if idx else ""
        if not idx:
            return tr(" ({input} = {value})", input=input_name, value=_fmt(inp[idx]))
        return tr(" at index {index} ({input} = {value})", index=_fmt_index(idx), input=input_name,
                  value=_fmt(inp[idx]))

    # shape
    if arr.shape != exp.shape:
        raise AssertionError(
            _join(
                tr("{name}: got shape {got}; expected {want}.", name=name, got=shape_str(arr.shape), want=want),
                _mistake_hint(arr, mistakes, rtol, atol) or _transpose_hint(arr, exp, rtol, atol)
                or _shape_hint(arr.shape, exp.shape),
            )
        )
    # dtype
    if arr.dtype == object:
        raise AssertionError(tr(
            "{name}: got an array of Python objects (dtype object); expected numbers. "
            "Did you mix SymPy and NumPy, or build the result from a ragged list?", name=name
        ))
    if np.iscomplexobj(arr):
        first = tuple(int(i) for i in np.argwhere(np.imag(arr) != 0)[0]) if np.any(np.imag(arr) != 0) else ()
        raise AssertionError(tr(
            "{name}: got complex values (first{where}: {value}); expected real "
            "numbers. Did you take the square root or the logarithm of a negative number?",
            name=name, where=at(first) or tr(" value"), value=_fmt(arr[first])
        ))
    if exp.dtype == np.bool_:
        if arr.dtype != np.bool_:
            raise AssertionError(tr(
                "{name}: got dtype {dtype}; expected a boolean array (True/False). Build it with "
                "comparisons (==, <=, >) combined with np.all or np.any, not with numbers.", name=name, dtype=arr.dtype
            ))
        wrong = arr != exp
        if wrong.any():
            idxs = [tuple(int(i) for i in ix) for ix in np.argwhere(wrong)]
            shown = ", ".join(_fmt_index(ix) for ix in idxs[:10]) + (", ..." if len(idxs) > 10 else "")
            first = idxs[0]
            raise AssertionError(
                _join(
                    tr("{name}: {wrong} of {size} entries are wrong (at {shown}). First{where}: expected {expected}, "
                       "got {got}.", name=name, wrong=len(idxs), size=arr.size, shown=shown or tr("the value"),
                       where=at(first) or "", expected=_fmt(exp[first]), got=_fmt(arr[first])),
                    _mistake_hint(arr, mistakes, rtol, atol),
                )
            )
        return
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise AssertionError(tr("{name}: got an array of dtype {dtype}; expected numbers.", name=name, dtype=arr.dtype))
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise AssertionError(tr(
            "{name}: got dtype {dtype}; expected {want}. Convert the input first, "
            "e.g. x = np.asarray(x, dtype=np.{want}), so the whole computation runs in it.",
            name=name, dtype=arr.dtype, want=np.dtype(dtype)
        ))
    if arr.dtype == np.bool_:
        raise AssertionError(tr(
            "{name}: got True/False values; expected numbers. Convert with .astype(float) only if a "
            "boolean really is the answer; usually it means a comparison was returned by mistake.", name=name
        ))
    expf = exp.astype(np.float64)
    arrf = arr.astype(np.float64)
    # non-finite values where finite ones were expected
    same = (np.isnan(arrf) & np.isnan(expf)) | (arrf == expf)
    bad = ~np.isfinite(arrf) & ~same
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        value = arrf[first]
        count = int(bad.sum())
        if np.isnan(value):
            why = tr(
                "NaN comes from inf - inf, inf / inf, 0 * inf or 0 / 0, usually right after an "
                "overflow: see the stable formula."
            )
        else:
            why = tr(
                "Is it overflowing? In float64, np.exp(z) is already inf for z > 709.78: rewrite the "
                "formula so that exp only sees arguments <= 0 (the stable formula)."
            )
        raise AssertionError(tr(
            "{name}: got {got}{where}; expected {expected} ({count} of {size} values are not finite). {why}",
            name=name, got=_fmt(value), where=at(first), expected=_fmt(expf[first]), count=count, size=arr.size,
            why=why,
        ))
    # values
    with np.errstate(all="ignore"):
        close = np.isclose(arrf, expf, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    idxs = np.argwhere(~close)
    first = tuple(int(i) for i in idxs[0])
    with np.errstate(all="ignore"):
        score = np.where(close, -np.inf, np.abs(arrf - expf) / (atol + rtol * np.abs(expf)))
    worst = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(score)), score.shape)) if arr.ndim else ()
    tol = tr("|got - expected| <= {atol:g} + {rtol:g} * |expected|", atol=atol, rtol=rtol)
    fmt = _fmt_count if np.issubdtype(np.asarray(expected).dtype, np.integer) else _fmt

    # The worst entry comes first, then the first one; the diagnosis right after them (only when the
    # answer reproduces that mistake); the tolerance last.
    if arr.ndim == 0:
        msg = tr("{name}: expected {expected}, got {got}.", name=name, expected=fmt(expf[()]), got=fmt(arrf[()]))
    elif worst == first:
        msg = tr(
            "{name}: {wrong} of {size} values differ from the expected ones. "
            "First{where}: expected {expected}, got {got}.",
            name=name, wrong=len(idxs), size=arr.size, where=at(first), expected=fmt(expf[first]),
            got=fmt(arrf[first]),
        )
    else:
        msg = tr(
            "{name}: {wrong} of {size} values differ from the expected ones. "
            "Largest difference{where_worst}: expected {expected_worst}, got {got_worst}. "
            "First{where}: expected {expected}, got {got}.",
            name=name, wrong=len(idxs), size=arr.size, where_worst=at(worst), expected_worst=fmt(expf[worst]),
            got_worst=fmt(arrf[worst]), where=at(first), expected=fmt(expf[first]), got=fmt(arrf[first]),
        )
    hint = _mistake_hint(arr, mistakes, rtol, atol)
    if not hint and np.any(expf != 0) and _matches(arrf, -expf, rtol, atol):
        hint = tr("Every value has the opposite sign: a sign error?")
    raise AssertionError(_join(msg, hint, tr("(Tolerance: {tol}.)", tol=tol)))


# --------------------------------------------------------------------------- check_function


def _copy(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return a.copy()
    return copy.deepcopy(a)


def _first_change(before: Any, after: Any) -> str | None:
    """Describe how ``after`` differs from ``before``, or None if it does not."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return tr("its shape changed")
        try:
            same = (before == after) | (
                np.isnan(before) & np.isnan(after) if np.issubdtype(before.dtype, np.inexact) else False
            )
        except TypeError:
            return None if np.array_equal(before, after) else tr("its values changed")
        if np.all(same):
            return None
        idx = tuple(int(i) for i in np.argwhere(~np.asarray(same))[0]) if before.ndim else ()
        return tr("at index {index} it was {before} and became {after}",
                  index=_fmt_index(idx), before=_fmt(before[idx]), after=_fmt(after[idx]))
    try:
        return None if bool(np.all(before == after)) else tr("its contents changed")
    except Exception:
        return None


def _param_names(f: Callable[..., Any], n: int) -> list[str]:
    names: list[str] = []
    try:
        params = list(inspect.signature(f).parameters.values())
        names = [
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        pass
    names = names[:n]
    return names + [tr("argument {k}", k=i + 1) for i in range(len(names), n)]


def _describe_call(name: str, pnames: Sequence[str], args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """``name(x, beta) with x = ...; beta = 2.0``: every argument, one per line when they are long."""
    shown = [f"{p} = {_describe_value(a)}" for p, a in zip(pnames, args)]
    shown += [f"{k} = {_describe_value(v)}" for k, v in kwargs.items()]
    head = f"{name}({', '.join(list(pnames) + list(kwargs))})"
    if not shown:
        return head
    inline = tr("{call} with {arguments}", call=head, arguments="; ".join(shown))
    if len(inline) <= 160:
        return inline
    return tr("{call} with\n{arguments}", call=head, arguments="\n".join("    " + a for a in shown))


_STUB_ADVICE = N_("write your code where it says # YOUR CODE HERE and delete the line raise NotImplementedError()")


def _is_not_implemented(exc: BaseException) -> bool:
    # By name too: the grader's checker re-raises a kernel's exception with the same type name.
    return isinstance(exc, NotImplementedError) or type(exc).__name__ == "NotImplementedError"


def _not_answered(exc: BaseException, f: Callable[..., Any], name: str) -> str:
    """The message for an unfinished stub: which function is not answered yet, when that is known."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code if tb is not None else None
    own = {name, getattr(f, "__name__", None)}
    if code is not None and code.co_name in own:
        return tr("{name} is not answered yet: {advice}.", name=name, advice=tr(_STUB_ADVICE))
    if code is None or not code.co_name.isidentifier() or code.co_filename == __file__ or (
        "site-packages" in code.co_filename or "fnngrade" in code.co_filename
    ):  # raised somewhere we cannot name (e.g. re-raised by the grader's checker)
        return tr("{name} (or a function it calls) is not answered yet: {advice}.", name=name, advice=tr(_STUB_ADVICE))
    raiser = code.co_name
    return tr("{name} calls {raiser}, which is not answered yet: answer {raiser} first ({advice} in {raiser}).",
              name=name, raiser=raiser, advice=tr(_STUB_ADVICE))


_WARNING_ADVICE = (
    ("overflow", N_(
        "Is it overflowing? In float64, np.exp(z) is inf once z > 709.78 (np.cosh, np.sinh and z**2 "
        "overflow too). Rewrite it in the stable form, so that exp only ever sees arguments <= 0. "
        "Note that np.where(c, A, B) computes both A and B for every element, so it does not stop an "
        "overflow in the branch it throws away."
    )),
    ("invalid value", N_(
        "An invalid operation made a NaN (inf - inf, inf / inf, 0 * inf, 0 / 0, or the square root or "
        "logarithm of a negative number), usually right after an overflow."
    )),
    ("divide by zero", N_("A division by zero (or log(0)) happened: check the denominators.")),
)


def _warning_advice(text: str) -> str:
    for key, advice in _WARNING_ADVICE:
        if key in text:
            return tr(advice)
    return tr("Test cells must run silently: find what triggers it and remove the cause.")


def _locate_warning(
    f: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], limit: int = 2000
) -> tuple[tuple[int, ...], Any] | None:
    """Index and value of the first element of ``args[0]`` that alone triggers a RuntimeWarning."""
    first = args[0] if args else None
    if not isinstance(first, np.ndarray) or first.size < 2 or first.size > limit:
        return None
    for idx in np.ndindex(first.shape):
        one = np.array([first[idx]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                f(one, *[_copy(a) for a in args[1:]], **kwargs)
            except Exception:
                continue
        if any(issubclass(w.category, RuntimeWarning) for w in caught):
            return idx, first[idx]
    return None


def _exception_hint(
    exc: Exception, f: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> str:
    """A hint for an exception raised by a student's function, or ''."""
    if isinstance(exc, OverflowError):  # math.exp(800): "math range error"
        return " " + _warning_advice("overflow")
    if isinstance(exc, FloatingPointError):  # under np.seterr(all="raise")
        return " " + _warning_advice(str(exc))
    if isinstance(exc, ValueError) and "broadcast" in str(exc):
        return " " + tr(
            "The shapes do not fit together: check the shape of every array in that line. To add a "
            "(M,) vector to every column of an (M, N) matrix write v[:, None]; for an outer product "
            "use np.outer."
        )
    first = args[0] if args else None
    if not isinstance(first, np.ndarray) or first.size < 2:
        return ""
    if any(isinstance(a, np.ndarray) and a.size > 1 for a in args[1:]):
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f(first.flat[0].item(), *[_copy(a) for a in args[1:]], **kwargs)
        except Exception:
            return ""
    return " " + tr(
        "It works for one number but not for an array, so it is probably not vectorised: use NumPy "
        "functions (np.exp, not math.exp) and np.where or boolean masks instead of `if x > 0:`."
    )


@student_facing
def check_function(
    f: Callable[..., Any],
    reference: Callable[..., Any] | ArrayLike,
    inputs: Any,
    name: str,
    *,
    kwargs: Mapping[str, Any] | None = None,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    symbols: str | None = None,
    mistakes: Mapping[str, Callable[..., Any] | ArrayLike] | None = None,
    dtype: Any = None,
) -> None:
    """Call a student's function and compare what it returns with a reference.

    Four things are checked, in order: the call does not raise (an
    unfinished stub's ``NotImplementedError`` becomes a ``NotImplementedError``
    that says which function is not answered yet),
    it does not change its arguments in place, it emits no ``RuntimeWarning``
    (overflow, invalid value, division by zero: each becomes a failure that
    names the first input element that triggers it), and its result passes
    :func:`check_array` against the reference.

    Parameters
    ----------
    f : callable
        The student's function.
    reference : callable or array_like
        The right answer: a function called as ``reference(*inputs, **kwargs)``
        on separate copies of the inputs, or the expected array itself.
        Prefer references the student's code cannot reach (scipy, math, sympy).
    inputs : array_like or tuple
        The positional arguments. A tuple is unpacked into several arguments;
        anything else is the single argument (pass a 1-D array, not a tuple,
        for one vector argument). When the first argument has the result's
        shape (an elementwise function), messages name the input element where
        the result is wrong.
    name : str
        The function's name, e.g. ``"logistic"``; messages start with it.
    kwargs : mapping, optional
        Keyword arguments passed to both ``f`` and ``reference``.
    rtol, atol : float, optional
        Tolerances, as in :func:`check_array`.
    symbols : str, optional
        The expected shape in the lecture's symbols, as in :func:`check_array`.
        By default an elementwise result is described as "the shape of x".
    mistakes : mapping of str to callable or array_like, optional
        Known wrong answers ``{hint: wrong}``; a callable is evaluated like the
        reference. See :func:`check_array`.
    dtype : data-type, optional
        The dtype the result must have, e.g. ``np.float64``.

    Raises
    ------
    AssertionError
        If the call raises, mutates an argument, warns, or returns a wrong
        answer; the message says which, and ends with the call and every
        argument.
    NotImplementedError
        When ``f`` (or a function it calls) is still the stub: "logistic is
        not answered yet: write your code where it says # YOUR CODE HERE and
        delete the line raise NotImplementedError()".

    Notes
    -----
    The student's function receives copies of the inputs and the check
    compares them with the originals afterwards, so an in-place change is
    caught without corrupting the reference. Warnings other than
    ``RuntimeWarning`` are recorded and dropped (a test cell must not write to
    stderr), never reported as a failure.

    A message starts with what is wrong (for values: the largest difference,
    then the first one), then the diagnosis of a known mistake, given only
    when the answer reproduces that mistake (each one in ``mistakes`` is
    recomputed on the same inputs), and ends with the call and every argument.
    The checks' own frames are hidden from IPython tracebacks
    (``__tracebackhide__``), so a failing test shows the test line and the
    message.

    It returns None on purpose: nbgrader reads a test cell's displayed output
    as a partial-credit score, so a check that is the last line of a cell
    must display nothing.

    Examples
    --------
    >>> import numpy as np
    >>> def naive_logistic(x):
    ...     return 1.0 / (1.0 + np.exp(-x))
    >>> x = np.array([0.0, 1.0])
    >>> check_function(naive_logistic, lambda x: 1.0 / (1.0 + np.exp(-x)), x, "logistic")
    >>> check_function(naive_logistic, np.array([0.0, 1.0]), np.array([-800.0, 800.0]), "logistic")
    Traceback (most recent call last):
    ...
    AssertionError: logistic emitted RuntimeWarning "overflow encountered in exp", first at x = -800.0. Is it overflowing? In float64, np.exp(z) is inf once z > 709.78 (np.cosh, np.sinh and z**2 overflow too). Rewrite it in the stable form, so that exp only ever sees arguments <= 0. Note that np.where(c, A, B) computes both A and B for every element, so it does not stop an overflow in the branch it throws away.
    This was for the call logistic(x) with x = [-800.,  800.].
    """
    __tracebackhide__ = True  # IPython shows the test's line and this message, not the check's code
    name = tr(name)  # a test's name for the answer may be a phrase ("the output of f")
    if not callable(f):
        raise AssertionError(tr(
            "{name} is not a function (it is a {kind}): did you overwrite it with a value? "
            "Run the cell that defines it again.", name=name, kind=type(f).__name__
        ))
    kw = dict(kwargs or {})
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    originals = tuple(_copy(a) for a in args)
    if callable(reference):
        expected = np.asarray(reference(*[_copy(a) for a in originals], **kw))
    else:
        expected = np.asarray(reference)
    pnames = _param_names(f, len(args))
    call = _describe_call(name, pnames, originals, kw)
    work = tuple(_copy(a) for a in originals)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got = f(*work, **kw)
        except Exception as exc:
            if _is_not_implemented(exc) and not str(exc):  # the stub's bare NotImplementedError()
                raise NotImplementedError(_not_answered(exc, f, name)) from None
            said = tr("{name} raised {error}: {message}", name=name, error=type(exc).__name__, message=exc).rstrip()
            hint = _exception_hint(exc, f, originals, kw)
            if hint and not said.endswith((".", "!", "?", "。", "！", "？")):
                said += "."
            raise AssertionError(tr("{message}\nThis was for the call {call}.", message=said + hint, call=call)) from exc

    for pname, before, after in zip(pnames, originals, work):
        change = _first_change(before, after)
        if change is not None:
            raise AssertionError(tr(
                "{name} changed its argument {pname} in place ({change}). Never modify an input: "
                "write `{pname} = {pname} * 2` rather than `{pname} *= 2`, or start from a copy "
                "`{pname} = np.array({pname}, dtype=float)` (np.asarray does not copy).",
                name=name, pname=pname, change=change,
            ))

    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if runtime:
        text = str(runtime[0].message)
        found = _locate_warning(f, originals, kw)
        where = tr(", first at {pname} = {value}", pname=pnames[0], value=_fmt(found[1])) if found else ""
        raise AssertionError(tr(
            "{message}\nThis was for the call {call}.",
            message=_join(tr('{name} emitted {warning} "{text}"{where}.', name=name,
                             warning=runtime[0].category.__name__, text=text, where=where), _warning_advice(text)),
            call=call,
        ))

    first = originals[0] if originals else None
    elementwise = isinstance(first, np.ndarray) and first.shape == expected.shape
    wrong: dict[str, ArrayLike] = {}
    for hint, bad in (mistakes or {}).items():
        if callable(bad):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    bad = bad(*[_copy(a) for a in originals], **kw)
            except Exception:
                continue
        wrong[hint] = bad
    try:
        check_array(
            got,
            expected,
            name,
            rtol=rtol,
            atol=atol,
            symbols=symbols if symbols is not None else (
                tr("the shape of {name}", name=pnames[0]) if elementwise else None),
            inputs=first if elementwise else None,
            input_name=pnames[0] if pnames else "x",
            mistakes=wrong,
            dtype=dtype,
        )
    except AssertionError as exc:
        raise AssertionError(tr("{message}\nThis was for the call {call}.", message=exc, call=call)) from None


# --------------------------------------------------------------------------- call_answer


@student_facing
def call_answer(f: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    """Call a student's function from a test and return what it returns.

    For tests that need the answer itself (a list of SymPy steps, a trained model) rather than a
    comparison by :func:`check_function`: an unfinished stub's bare ``NotImplementedError()``
    becomes a ``NotImplementedError`` that says which task is not answered yet (and, when the
    stub is another function that this one calls, which); anything else the call raises is
    passed on unchanged.

    Examples
    --------
    >>> def sigma_derivative_steps(x):
    ...     # YOUR CODE HERE
    ...     raise NotImplementedError()
    >>> call_answer(sigma_derivative_steps, "sigma_derivative_steps", 0.0)
    Traceback (most recent call last):
    ...
    NotImplementedError: sigma_derivative_steps is not answered yet: write your code where it says # YOUR CODE HERE and delete the line raise NotImplementedError().
    """
    __tracebackhide__ = True
    name = tr(name)  # a test's name for the answer may be a phrase ("the output of f")
    if not callable(f):
        raise AssertionError(tr(
            "{name} is not a function (it is a {kind}): did you overwrite it with a value? "
            "Run the cell that defines it again.", name=name, kind=type(f).__name__
        ))
    try:
        return f(*args, **kwargs)
    except Exception as exc:
        if _is_not_implemented(exc) and not str(exc):
            raise NotImplementedError(_not_answered(exc, f, name)) from None
        raise


# --------------------------------------------------------------------------- check_does_not_use


@student_facing
def check_does_not_use(
    f: Callable[..., Any], forbidden: Iterable[str], name: str, *, why: str | None = None
) -> None:
    """Check that a function's own code does not mention any of the ``forbidden`` names.

    Used where an exercise asks students to write something themselves (σ
    without ``scipy.special.expit``, tanh through the logistic without
    ``np.tanh``). The names are looked up in the function's syntax tree:
    global names it reads, attributes (``np.tanh`` uses ``tanh``) and
    imports. The docstring, comments, and the function's own variables and
    arguments (a result stored in a variable called ``tanh``) do not count.

    Parameters
    ----------
    f : callable
        The student's function.
    forbidden : iterable of str
        Names that must not appear, e.g. ``["expit", "activations"]``.
    name : str
        The function's name in messages.
    why : str, optional
        What to do instead, appended to the message.

    Raises
    ------
    AssertionError
        If the source uses a forbidden name.

    Notes
    -----
    When the source cannot be found (a builtin, or code typed at a bare
    interpreter prompt) the check passes: it is a reminder for honest work,
    not a guard against every workaround.

    Examples
    --------
    >>> import numpy as np
    >>> def tanh_via_logistic(x):
    ...     return np.tanh(x)
    >>> check_does_not_use(tanh_via_logistic, ["tanh"], "tanh_via_logistic", why="use your logistic.")
    Traceback (most recent call last):
    ...
    AssertionError: tanh_via_logistic uses tanh, which this exercise asks you not to call: use your logistic.
    """
    __tracebackhide__ = True
    name = tr(name)  # a test's name for the answer may be a phrase ("the output of f")
    banned = {forbidden} if isinstance(forbidden, str) else set(forbidden)
    try:
        source = textwrap.dedent(inspect.getsource(f))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return
    local: set[str] = set()  # the function's own variables and arguments may have any name
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local.add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in local:
                used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.alias):
            used.update(node.name.split("."))
            if node.asname:
                used.add(node.asname)
        elif isinstance(node, ast.ImportFrom) and node.module:
            used.update(node.module.split("."))
    hits = sorted(banned & used)
    if hits:
        raise AssertionError(tr(
            "{name} uses {names}, which this exercise asks you not to call: {why}",
            name=name, names=", ".join(hits), why=tr(why) if why else tr("write it yourself."),
        ))


@student_facing
def check_no_loops(f: Callable[..., Any], name: str, *, why: str | None = None) -> None:
    """Check that a function's own code has no Python loop (``for``, ``while`` or a comprehension).

    Used where a task asks for vectorised code (one matrix product for a whole batch, not one
    product per example). Only the function's own source counts, not the functions it calls.

    Raises
    ------
    AssertionError
        If the source holds a loop; the message names the line.

    Examples
    --------
    >>> import numpy as np
    >>> def forward_batch(W, X):
    ...     return np.stack([W @ x for x in X.T], axis=1)
    >>> check_no_loops(forward_batch, "forward_batch", why="use one matrix product W @ X.")
    Traceback (most recent call last):
    ...
    AssertionError: forward_batch loops over something in Python (a list comprehension at line 2: `return np.stack([W @ x for x in X.T], axis=1)`), which this task asks you not to do: use one matrix product W @ X.
    """
    __tracebackhide__ = True
    name = tr(name)  # a test's name for the answer may be a phrase ("the output of f")
    try:
        lines = textwrap.dedent(inspect.getsource(f)).splitlines()
        tree = ast.parse("\n".join(lines))
    except (OSError, TypeError, SyntaxError):
        return
    kinds = {ast.For: N_("a for loop"), ast.AsyncFor: N_("a for loop"), ast.While: N_("a while loop"),
             ast.ListComp: N_("a list comprehension"), ast.SetComp: N_("a set comprehension"),
             ast.DictComp: N_("a dict comprehension"), ast.GeneratorExp: N_("a generator expression")}
    for node in ast.walk(tree):
        kind = kinds.get(type(node))
        if kind:
            text = lines[node.lineno - 1].strip()
            raise AssertionError(tr(
                "{name} loops over something in Python ({kind} at line {line}: `{text}`), which this "
                "task asks you not to do: {why}", name=name, kind=tr(kind), line=node.lineno, text=text,
                why=tr(why) if why else tr("use whole-array NumPy operations."),
            ))


@contextlib.contextmanager
def using_reference(**functions: Callable[..., Any]) -> Any:
    """Inside the ``with`` block, the student's names are bound to these (reference) functions.

    A later task's test uses it to grade that task alone: ``backprop`` is called with the reference
    ``dense_backward`` in place of the student's, so one mistake costs the points of its own task
    only, and the message points at the real culprit. The names are restored on leaving the block,
    also when a check fails.

    The binding is made in the namespace the student's code reads its globals from: the calling
    test cell's globals when tests run in the student's kernel (Validate, nbval), or, when the
    grader runs the tests in its separate checker (see fnngrade.remote), the kernel's namespace,
    with calls to these functions sent back to the checker.

    Examples
    --------
    >>> def double(x):
    ...     return 2 * x
    >>> def quadruple(x):
    ...     return double(double(x))
    >>> with using_reference(double=lambda x: x + x):
    ...     quadruple(3)
    12
    """
    caller = sys._getframe(2).f_globals  # 0: this generator, 1: contextmanager's __enter__, 2: the test
    remote = getattr(caller, "fnn_substitute", None)
    if remote is not None:
        with remote(functions):
            yield
        return
    missing = object()
    saved = {k: caller.get(k, missing) for k in functions}
    caller.update(functions)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is missing:
                caller.pop(k, None)
            else:
                caller[k] = v


# --------------------------------------------------------------------------- check_sympy_steps


@student_facing
def check_sympy_steps(
    steps: Any,
    start: Any,
    end: Any,
    name: str,
    *,
    min_steps: int = 3,
    n_points: int = 6,
    interval: tuple[float, float] = (-3.0, 3.0),
    rng: np.random.Generator | int | None = 0,
    tol: float = 1e-9,
) -> None:
    """Check a derivation written as a list of SymPy expressions, step by step.

    ``steps[0]`` must equal ``start``, every step must equal the one before
    it, and the last step must equal ``end``. Steps are numbered from 1 in the
    messages (step 1 is ``steps[0]``).

    Parameters
    ----------
    steps : list of sympy.Expr
        The student's derivation: at least ``min_steps`` expressions.
    start, end : sympy.Expr
        What the derivation starts from and where it must arrive. An
        unevaluated ``sp.Derivative`` is fine anywhere: every expression is
        compared after ``.doit()``.
    name : str
        The derivation's name in messages.
    min_steps : int, optional
        The least number of steps (default 3: start, one step, result).
    n_points, interval, rng : optional
        The random points of the numerical comparison: ``n_points`` values of
        every symbol drawn uniformly from ``interval`` with ``rng`` (a seed by
        default, so a failure shows the same point every time).
    tol : float, optional
        Two values agree when ``|a - b| <= tol * max(1, |a|, |b|)``.

    Raises
    ------
    AssertionError
        If ``steps`` is not a list of SymPy expressions, is too short, repeats
        a step, uses a symbol that ``start`` and ``end`` do not, or breaks the
        chain of equalities; the message shows the two expressions and a point
        where they differ.
    TypeError
        If ``start`` or ``end`` is not a SymPy expression.

    Notes
    -----
    Two expressions ``a`` and ``b`` are equal when ``a - b`` is the zero
    expression, or ``sympy.simplify(a - b) == 0``, or, when simplify cannot
    decide, when they agree at every random point where both are finite. A
    difference at any point is conclusive.

    Symbols are matched by name (a student's ``Symbol("x")`` and the test's
    ``Symbol("x", real=True)`` are the same ``x`` here).

    A step that is *literally* the same SymPy expression as the one before it
    is rejected, because it shows no work: either it was repeated by mistake
    or SymPy rewrote a new form into the old one as it built it (it merges
    powers of the same base and cancels numbers automatically). The message
    says how to keep a form as typed: ``sp.UnevaluatedExpr(...)`` or
    ``sp.Mul(a, b, evaluate=False)``. Step 1 may be literally ``start``.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> start, end = sp.Derivative(x * sp.exp(x), x), (1 + x) * sp.exp(x)
    >>> check_sympy_steps([start, sp.exp(x) + x * sp.exp(x), end], start, end, "product rule")
    >>> check_sympy_steps([start, sp.exp(x) - x * sp.exp(x), end], start, end, "product rule")
    Traceback (most recent call last):
    ...
    AssertionError: product rule: step 2 is not equal to step 1:
      step 1: Derivative(x*exp(x), x)
      step 2: -x*exp(x) + exp(x)
    At x = 0.82177, step 1 = 4.14366 but step 2 = 0.405388. The mistake is in going from step 1 to step 2.
    """
    __tracebackhide__ = True
    name = tr(name)  # a test's name for the answer may be a phrase ("the output of f")
    import sympy as sp

    for label, e in (("start", start), ("end", end)):
        if not isinstance(e, sp.Expr):
            raise TypeError(f"check_sympy_steps: {label} must be a SymPy expression, got {type(e).__name__}.")
    if isinstance(steps, sp.Basic):
        raise AssertionError(tr(
            "{name}: got a single SymPy expression; expected a list of expressions, one per step: "
            "[start, step, ..., result].", name=name
        ))
    if not isinstance(steps, (list, tuple)):
        if steps is None:
            raise AssertionError(tr(
                "{name}: got None; expected a list of SymPy expressions, one per step "
                "(did you forget the `return` statement?).", name=name
            ))
        raise AssertionError(tr(
            "{name}: got a {kind}; expected a list of SymPy expressions, one per step.",
            name=name, kind=type(steps).__name__
        ))
    if len(steps) < min_steps:
        raise AssertionError(tr(
            "{name}: got {n} {steps}; expected at least {min_steps}: "
            "the start {start}, at least {middle} intermediate {middle_steps}, and the result.",
            name=name, n=len(steps), steps=tr("steps") if len(steps) != 1 else tr("step"), min_steps=min_steps,
            start=start, middle=min_steps - 2, middle_steps=tr("steps") if min_steps > 3 else tr("step"),
        ))
    for k, s in enumerate(steps, 1):
        if isinstance(s, str):
            raise AssertionError(tr(
                "{name}: step {k} is a string {text}; write it with SymPy objects (sp.exp(-x), not 'exp(-x)').",
                name=name, k=k, text=repr(s)
            ))
        if isinstance(s, sp.Basic) and not isinstance(s, sp.Expr):
            raise AssertionError(tr(
                "{name}: step {k} is a {kind} ({step}), not an expression: write only the "
                "expression (the right-hand side), not an equation or a comparison.",
                name=name, k=k, kind=type(s).__name__, step=s
            ))
        if not isinstance(s, sp.Expr):
            raise AssertionError(tr(
                "{name}: step {k} is a {kind} ({step}), not a SymPy expression: build "
                "every step from the symbol x with SymPy functions (sp.exp, not np.exp or math.exp).",
                name=name, k=k, kind=type(s).__name__, step=_fmt(s)
            ))
    allowed = {s.name for s in (start.free_symbols | end.free_symbols) if isinstance(s, sp.Symbol)}
    for k, s in enumerate(steps, 1):
        extra = sorted(
            sym.name for sym in s.free_symbols if isinstance(sym, sp.Symbol) and sym.name not in allowed
        )
        if extra:
            raise AssertionError(tr(
                "{name}: step {k} ({step}) uses the {symbols} {extra}, which the derivation does not have; "
                "expected only {allowed}.", name=name, k=k, step=s,
                symbols=tr("symbols") if len(extra) > 1 else tr("symbol"),
                extra=", ".join(extra), allowed=", ".join(sorted(allowed)) or tr("no symbols"),
            ))
    for k in range(1, len(steps)):
        if steps[k] == steps[k - 1]:
            raise AssertionError(tr(
                "{name}: step {k1} is the same SymPy expression as step {k} ({step}): every step must "
                "change the expression. If you typed a different form, SymPy rewrote it into the old one as "
                "it built it (it merges powers of the same base and cancels numbers automatically): keep "
                "your form with sp.UnevaluatedExpr(...) or sp.Mul(a, b, evaluate=False), or delete the "
                "repeated step.", name=name, k1=k + 1, k=k, step=steps[k]
            ))

    table = {nm: sp.Symbol(nm, real=True) for nm in sorted(allowed)}

    def norm(e: Any) -> Any:
        renamed = e.xreplace({s: table[s.name] for s in e.free_symbols if isinstance(s, sp.Symbol)})
        return renamed.doit()

    gen = make_rng(rng, "check_sympy_steps")
    lo, hi = interval
    points = [{table[nm]: float(gen.uniform(lo, hi)) for nm in table} for _ in range(n_points)]

    def value(e: Any, pt: Mapping[Any, float]) -> complex | None:
        try:
            v = complex(e.evalf(30, subs={s: sp.Float(val, 30) for s, val in pt.items()}))
        except (TypeError, ValueError, ZeroDivisionError, AttributeError):
            return None
        return v if math.isfinite(v.real) and math.isfinite(v.imag) else None

    def show(v: complex) -> str:
        return f"{v.real:.6g}" if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else f"{v:.6g}"

    def differ(a: Any, b: Any) -> str | None:
        """None when a == b; otherwise a sentence that shows where they differ."""
        na, nb = norm(a), norm(b)
        diff = na - nb
        if diff == 0:
            return None
        try:
            if sp.simplify(diff) == 0:
                return None
        except Exception:  # simplify gives up on some inputs: fall back to numbers
            pass
        compared = 0
        for pt in points:
            va, vb = value(na, pt), value(nb, pt)
            if va is None or vb is None:
                continue
            compared += 1
            if abs(va - vb) > tol * max(1.0, abs(va), abs(vb)):
                at = ", ".join(f"{s} = {val:.5g}" for s, val in pt.items())
                return tr("At {at}, {a} = {va} but {b} = {vb}.", at=at, a="{a}", va=show(va), b="{b}", vb=show(vb))
        if compared == 0:
            return tr(
                "SymPy could not simplify their difference to 0, and they could not be evaluated at "
                "any test point (an unevaluated function, or a division by zero?)."
            )
        return None

    problem = differ(start, steps[0])
    if problem is not None:
        raise AssertionError(tr(
            "{name}: step 1 should equal the start of the derivation, but it does not:\n"
            "  start:  {start}\n  step 1: {step}\n", name=name, start=start, step=steps[0]
        ) + problem.format(a=tr("start"), b=tr("step {k}", k=1)))
    for k in range(1, len(steps)):
        problem = differ(steps[k - 1], steps[k])
        if problem is not None:
            raise AssertionError(
                tr("{name}: step {k1} is not equal to step {k}:\n  step {k}: {before}\n  step {k1}: {after}\n",
                   name=name, k1=k + 1, k=k, before=steps[k - 1], after=steps[k])
                + _join(problem.format(a=tr("step {k}", k=k), b=tr("step {k}", k=k + 1)),
                        tr("The mistake is in going from step {k} to step {k1}.", k=k, k1=k + 1))
            )
    problem = differ(steps[-1], end)
    if problem is not None:
        last = len(steps)
        raise AssertionError(tr(
            "{name}: the last step (step {last}) should be the result, but it is not:\n"
            "  step {last}: {step}\n  result: {end}\n", name=name, last=last, step=steps[-1], end=end
        ) + problem.format(a=tr("step {k}", k=last), b=tr("the result")))
