"""Input checks shared by every public entry point of fnnlib.

Each check raises a real exception (never ``assert``) whose message names the
function, the argument, what was expected (in the lecture's symbols and in
numbers), what came, and the likely fix. Private module: the public API is in
the topic modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "NamedTable",
    "as_float_array",
    "check_shape",
    "check_choice",
    "check_positive_int",
    "make_rng",
    "resolve_alias",
    "shape_str",
]


def shape_str(shape: Sequence[Any]) -> str:
    """Format a shape like numpy does, ``(3,)`` or ``(3, 4)``; ``None`` prints as ``N``."""
    parts = ["N" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def as_float_array(
    x: ArrayLike,
    name: str,
    func: str,
    *,
    allow_nonfinite: bool = False,
    dtype: type = np.float64,
) -> NDArray[np.float64]:
    """Return ``x`` as a new-or-shared float64 array, or raise a clear error.

    Never mutates ``x``. Rejects strings, objects and complex numbers with a
    ``TypeError``, and NaN or inf with a ``ValueError`` unless
    ``allow_nonfinite`` is true.

    >>> as_float_array([1, 2], "x", "demo")
    array([1., 2.])
    >>> as_float_array([1.0, float("nan")], "x", "demo")
    Traceback (most recent call last):
    ...
    ValueError: demo: x contains 1 NaN or infinite value (first at index (1,)); expected finite numbers. Check the inputs that produced it (a division by zero, log(0), or an overflow upstream).
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{func}: {name} must be an array of numbers, got a string {x!r}.")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{func}: {name} could not be turned into an array ({exc}).") from exc
    if arr.dtype == object:
        raise TypeError(
            f"{func}: {name} must be an array of numbers, got an object array "
            f"(a ragged list, or a list holding None or strings?)."
        )
    if np.iscomplexobj(arr):
        raise TypeError(f"{func}: {name} must be real, got complex values.")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{func}: {name} must be an array of numbers, got dtype {arr.dtype}.")
    arr = arr.astype(dtype, copy=False)
    if not allow_nonfinite:
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            count = int(bad.sum())
            raise ValueError(
                f"{func}: {name} contains {count} NaN or infinite value"
                f"{'s' if count > 1 else ''} (first at index {first}); expected finite numbers. "
                "Check the inputs that produced it (a division by zero, log(0), or an overflow upstream)."
            )
    return arr


def check_shape(
    arr: NDArray[Any],
    expected: Sequence[int | None],
    name: str,
    func: str,
    *,
    symbols: str | None = None,
    hint: str | None = None,
) -> None:
    """Raise ``ValueError`` unless ``arr.shape`` matches ``expected``.

    ``None`` in ``expected`` matches any length (written ``N``). ``symbols`` is
    the shape in the lecture's symbols, e.g. ``"(M_0, N)"``. When the array is
    the transpose of what was expected, the message says so.

    >>> check_shape(np.zeros((4, 3)), (3, None), "A_prev", "forward", symbols="(M_0, N)")
    Traceback (most recent call last):
    ...
    ValueError: forward: A_prev has shape (4, 3); expected (M_0, N) = (3, N), one column per example. It looks transposed: did you pass the (N, D) array instead of its transpose .T?
    """
    shape = tuple(arr.shape)
    ok = len(shape) == len(expected) and all(e is None or e == s for s, e in zip(shape, expected))
    if ok:
        return
    want = shape_str(expected)
    sym = f"{symbols} = {want}" if symbols else want
    msg = f"{func}: {name} has shape {shape_str(shape)}; expected {sym}"
    if len(expected) == 2 and expected[1] is None:
        msg += ", one column per example"
    msg += "."
    if hint is None and len(shape) == 2 and len(expected) == 2:
        rev = (shape[1], shape[0])
        if all(e is None or e == s for s, e in zip(rev, expected)):
            hint = (
                "It looks transposed: did you pass the (N, D) array instead of its transpose .T?"
                if expected[1] is None
                else "It looks transposed (numerator layout?): the course uses denominator layout."
            )
    if hint:
        msg += " " + hint
    raise ValueError(msg)


def check_choice(value: str, choices: Iterable[str], name: str, func: str) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise list the known ones.

    >>> check_choice("sigmod", ["logistic", "tanh"], "activation", "get")
    Traceback (most recent call last):
    ...
    ValueError: get: unknown activation 'sigmod'. Known: 'logistic', 'tanh'.
    """
    known = list(choices)
    if not isinstance(value, str) or value not in known:
        listed = ", ".join(repr(k) for k in known)
        raise ValueError(f"{func}: unknown {name} {value!r}. Known: {listed}.")
    return value


def check_positive_int(value: Any, name: str, func: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer ``>= minimum``; otherwise raise.

    >>> check_positive_int(0, "epochs", "fit")
    Traceback (most recent call last):
    ...
    ValueError: fit: epochs must be an integer >= 1, got 0.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: {name} must be an integer >= {minimum}, got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"{func}: {name} must be an integer >= {minimum}, got {value}.")
    return int(value)


def resolve_alias(value: Any, alias_value: Any, name: str, alias: str, func: str, default: Any = None) -> Any:
    """The value of a parameter that also has an alias name: ``name=`` or ``alias=``, else ``default``.

    Both may be given only with the same value; different values are an error
    (like Python's "got multiple values for argument"). ``None`` means "not given".

    >>> resolve_alias(None, 0.5, "learning_rate", "lr", "demo", default=0.1)
    0.5
    >>> resolve_alias(None, None, "learning_rate", "lr", "demo", default=0.1)
    0.1
    >>> resolve_alias(0.2, 0.5, "learning_rate", "lr", "demo")
    Traceback (most recent call last):
    ...
    TypeError: demo: got learning_rate=0.2 and lr=0.5, two names for the same setting (lr is an alias of learning_rate) with different values. Pass only learning_rate=0.2 or only learning_rate=0.5.
    """
    if alias_value is None:
        return default if value is None else value
    if value is None:
        return alias_value
    try:
        same = bool(value == alias_value)
    except Exception:  # arrays and the like: never equal as a whole
        same = False
    if not same:
        raise TypeError(
            f"{func}: got {name}={value!r} and {alias}={alias_value!r}, two names for the same setting "
            f"({alias} is an alias of {name}) with different values. Pass only {name}={value!r} or only "
            f"{name}={alias_value!r}."
        )
    return value


def make_rng(rng: np.random.Generator | int | None, func: str = "fnnlib") -> np.random.Generator:
    """Turn ``rng`` into a ``np.random.Generator``.

    A Generator is used as given; an int seeds a new one; ``None`` makes an
    unseeded one (pass a seed for reproducible results). fnnlib never touches
    numpy's global random state.

    >>> int(make_rng(0).integers(10)) == int(make_rng(0).integers(10))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{func}: rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}. "
        "Create one with np.random.default_rng(seed)."
    )


class NamedTable(Mapping):
    """A read-only table keyed by name whose lookup of an unknown name says what is known.

    ``table[name]`` raises :class:`KeyError` (so ``except KeyError`` still works) with the
    known names and the closest one:

    >>> t = NamedTable({"relu": 1, "tanh": 2}, "activation")
    >>> t["rleu"]
    Traceback (most recent call last):
    ...
    KeyError: "unknown activation 'rleu'; did you mean 'relu'? Known: 'relu', 'tanh'."
    >>> dict(t)
    {'relu': 1, 'tanh': 2}
    """

    def __init__(self, data: Mapping[str, Any], what: str) -> None:
        self._data = dict(data)
        self._what = what

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except (KeyError, TypeError):
            import difflib

            close = difflib.get_close_matches(str(key), list(self._data), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ";"
            listed = ", ".join(repr(k) for k in self._data)
            raise KeyError(f"unknown {self._what} {key!r}{hint} Known: {listed}.") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"NamedTable({self._what}: {', '.join(self._data)})"
