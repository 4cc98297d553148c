"""Gradient checking: compare analytic gradients with finite differences.

Unit 5 (checking backpropagation) and Unit 6 (numerical differentiation).

How to read a relative error
----------------------------
``rel_error(a, b) = max over entries of |a − b| / max(1e-8, |a| + |b|)``, the
measure used by CS231n. In float64, with central differences and h ≈ 1e-5:

=====================  ==================================================================
relative error         verdict
=====================  ==================================================================
≤ 1e-7                 good: what a correct gradient gives on a smooth function
1e-7 … 1e-4            suspicious: acceptable only where the function has kinks
                       (ReLU, max, hard-tanh …), otherwise look for a small bug
1e-4 … 1e-2            probably wrong
> 1e-2                 almost certainly wrong (a missing transpose, factor or term)
=====================  ==================================================================

``THRESHOLDS`` holds these numbers. ``check_gradient`` passes when every judged
entry's relative error is at most ``tol`` (default ``THRESHOLDS["good"]`` =
1e-7, the course's criterion for backprop in Unit 5) or its absolute error is
at most ``atol`` (default 1e-9). The second rule is for tiny gradient entries:
central differences are only accurate to about 1e-10 in absolute terms, so an
entry of size 1e-6 cannot show a relative error below about 1e-4 however right
it is.

Kinks
-----
ReLU-family activations are not differentiable at their kinks (0 for relu,
leaky_relu, prelu and elu; ±2 for hard_logistic; ±1 for hard_tanh; ties for
maxout). When the perturbation ±h of a parameter moves a pre-activation z
across a kink, ``(R(θ+h) − R(θ−h)) / 2h`` averages two different slopes and is
no longer a good estimate, even for a correct gradient. The checks here detect
those entries (the kink region of some z differs between θ − h, θ and θ + h)
and report them separately instead of passing or failing them; every other
entry is judged normally. (ELU is listed although its derivative is continuous
for γ = 1: its second derivative still jumps at 0, which is enough to spoil a
1e-7 check for an entry that straddles 0.)

Errata: the central difference is ``(f(x + h) − f(x − h)) / 2h``; one seed
writes ``f(x + h) − f(x + h)``, which is always 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import as_float_array, check_positive_int, check_shape, make_rng, shape_str
from fnnlib.i18n import tr

__all__ = [
    "THRESHOLDS",
    "KINKS",
    "rel_error",
    "verdict",
    "numerical_gradient",
    "forward_difference",
    "kink_regions",
    "ParamCheck",
    "GradCheckReport",
    "check_gradient",
    "check_network_gradients",
]

#: Relative-error thresholds (float64, central differences), read-only.
THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {"good": 1e-7, "suspicious": 1e-4, "wrong": 1e-2}
)

#: Kink locations of the piecewise activations (pre-activation values z), read-only.
KINKS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "relu": (0.0,),
        "leaky_relu": (0.0,),
        "prelu": (0.0,),
        "elu": (0.0,),
        "hard_logistic": (-2.0, 2.0),
        "hard_tanh": (-1.0, 1.0),
    }
)

_FLOOR = 1e-8  # the denominator floor of rel_error


def rel_error(x: ArrayLike, y: ArrayLike) -> float:
    """Largest elementwise relative error between two arrays of the same shape.

    Parameters
    ----------
    x, y : array_like of the same shape
        For example an analytic gradient and its finite-difference estimate.

    Returns
    -------
    float
        ``max |x − y| / max(1e-8, |x| + |y|)`` over all entries (0.0 for
        empty arrays).

    Raises
    ------
    ValueError
        Shapes differ, or NaN/inf in either array.

    Notes
    -----
    The floor 1e-8 keeps entries where both values are (nearly) zero from
    dividing by zero. See the module's table for what the size means.

    Examples
    --------
    >>> rel_error([1.0, 2.0], [1.0, 2.0])
    0.0
    >>> round(rel_error([1.0], [1.1]), 4)          # 0.1 / 2.1
    0.0476
    """
    func = "rel_error"
    x = as_float_array(x, "x", func)
    y = as_float_array(y, "y", func)
    check_shape(y, x.shape, "y", func, symbols="the shape of x")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(_FLOOR, np.abs(x) + np.abs(y))))


def verdict(err: float) -> str:
    """Name a relative error by the module's table: "good", "suspicious", "probably wrong", "wrong".

    >>> verdict(3e-10), verdict(2e-6), verdict(0.5)
    ('good', 'suspicious', 'wrong')
    """
    err = float(err)
    if not err <= THRESHOLDS["wrong"]:  # also catches NaN
        return "wrong"
    if err <= THRESHOLDS["good"]:
        return "good"
    if err <= THRESHOLDS["suspicious"]:
        return "suspicious"
    return "probably wrong"


# ---------------------------------------------------------------------------
# Finite differences
# ---------------------------------------------------------------------------


def _check_step(h: Any, func: str) -> float:
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: h must be a positive number such as 1e-5, got {type(h).__name__}.")
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"{func}: h must be a positive number such as 1e-5, got {h}.")
    return float(h)


def _scalar(value: Any, func: str) -> float:
    """The value of f as a float, or a clear error if f is not scalar-valued."""
    arr = as_float_array(value, "f(x)", func)
    if arr.size != 1:
        raise ValueError(
            f"{func}: f must return a scalar (a loss or risk), got an array of shape "
            f"{shape_str(arr.shape)}. For a vector-valued f use fnnlib.matcalc.jacobian."
        )
    return float(arr.reshape(()))


def _difference(
    f: Callable[[Any], Any], x: ArrayLike, h: Any, func: str, central: bool
) -> NDArray[np.float64] | float:
    if not callable(f):
        raise TypeError(f"{func}: f must be a function of x, got {type(f).__name__}.")
    h = _check_step(h, func)
    x = np.array(as_float_array(x, "x", func), dtype=np.float64, copy=True)
    grad = np.empty_like(x)
    f_x = None if central else _scalar(f(x.copy()), func)
    for i in np.ndindex(*x.shape):
        x_plus = x.copy()
        x_plus[i] += h
        if central:
            x_minus = x.copy()
            x_minus[i] -= h
            grad[i] = (_scalar(f(x_plus), func) - _scalar(f(x_minus), func)) / (2.0 * h)
        else:
            grad[i] = (_scalar(f(x_plus), func) - f_x) / h
    return float(grad) if x.ndim == 0 else grad


def numerical_gradient(
    f: Callable[[NDArray[np.float64]], Any], x: ArrayLike, h: float = 1e-5
) -> NDArray[np.float64] | float:
    """Gradient of a scalar function by central differences.

    Parameters
    ----------
    f : callable
        Scalar-valued function of an array of x's shape (a loss). It is only
        ever called on copies of ``x``.
    x : array_like of any shape, or a float
        The point. Never modified.
    h : float, default 1e-5
        Step; near-optimal for float64 central differences (round-off grows
        like ε/h, truncation like h²).

    Returns
    -------
    grad : ndarray of x's shape, or float if x is a scalar
        ``∂f/∂x`` in denominator layout (x's shape).

    Notes
    -----
    Unit 6: ``∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h``, truncation
    error O(h²), 2·x.size evaluations of f (the O(N²) cost when each
    evaluation is itself O(N)). Errata: one seed writes
    ``f(x + h) − f(x + h)`` in the numerator, which is always 0.

    Examples
    --------
    >>> numerical_gradient(lambda v: np.sum(v ** 2), np.array([1.0, -2.0]))  # 2x
    array([ 2., -4.])
    """
    return _difference(f, x, h, "numerical_gradient", central=True)


def forward_difference(
    f: Callable[[NDArray[np.float64]], Any], x: ArrayLike, h: float = 1e-5
) -> NDArray[np.float64] | float:
    """Gradient of a scalar function by forward differences (for comparison).

    Parameters
    ----------
    f : callable
        Scalar-valued function of an array of x's shape.
    x : array_like of any shape, or a float
        The point. Never modified.
    h : float, default 1e-5
        Step.

    Returns
    -------
    grad : ndarray of x's shape, or float if x is a scalar
        ``∂f/∂x`` in denominator layout.

    Notes
    -----
    Unit 6: ``∂f/∂x_i ≈ (f(x + h e_i) − f(x)) / h``. By Taylor's theorem the
    truncation error is ``h f''(x)/2 + O(h²)``, first order in h, against the
    central difference's second order; the lecture plots both against h.

    Examples
    --------
    >>> d = forward_difference(np.exp, 0.0, h=1e-3)    # exact: 1
    >>> round(d - 1.0, 6)                              # ≈ h/2
    0.0005
    """
    return _difference(f, x, h, "forward_difference", central=False)


def kink_regions(z: ArrayLike, activation: str) -> NDArray[np.int64] | None:
    """Which piece of a piecewise activation each pre-activation falls on.

    Parameters
    ----------
    z : array_like of shape (M_l,) or (M_l, N)
        Pre-activations z^(l). For "maxout", the pieces along the first axis,
        shape (K, M_l) or (K, M_l, N).
    activation : str
        An activation name. Names without kinks (logistic, tanh, softplus,
        swish, gelu, identity, softmax …) return None.

    Returns
    -------
    ndarray of int or None
        For kinked activations, the index of the interval between kinks that
        each z lies in (``np.digitize`` over ``KINKS[activation]``; for maxout
        the winning piece). A parameter change that alters any of these labels
        moved some z across a kink.

    Examples
    --------
    >>> kink_regions(np.array([-0.5, 0.0, 3.0]), "relu")
    array([0, 1, 1])
    >>> kink_regions(np.array([-3.0, 0.0, 3.0]), "hard_logistic")
    array([0, 1, 2])
    >>> print(kink_regions(np.array([1.0]), "tanh"))
    None
    """
    func = "kink_regions"
    z = as_float_array(z, "z", func)
    if activation == "maxout":
        return np.argmax(z, axis=0)
    if activation not in KINKS:
        return None
    return np.digitize(z, np.asarray(KINKS[activation], dtype=np.float64)).astype(np.int64)


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ParamCheck:
    """The gradient check of one parameter array.

    Attributes
    ----------
    name : str
        E.g. ``"W^(1)"``.
    shape : tuple of int
        The parameter's shape.
    n_checked : int
        Entries compared (all of them, or a sample).
    kink_indices : tuple of tuple of int
        Checked entries whose perturbation crosses a kink (reported, not judged).
    n_failed : int
        Judged entries with relative error > tol and absolute error > atol.
    max_rel_error, max_abs_error : float or None
        Largest relative and absolute errors over the judged entries (None if
        no entry was judged).
    worst_index : tuple of int or None
        The worst judged entry: the failing one with the largest relative
        error, or if none fails the one with the largest relative error.
    worst_rel_error, analytic, numeric : float or None
        Its relative error, analytic gradient and finite-difference estimate.
    kink_max_rel_error : float or None
        Largest relative error among the kink entries, for information.
    tol, atol : float
        Pass thresholds on the relative and the absolute error.
    """

    name: str
    shape: tuple[int, ...]
    n_checked: int
    kink_indices: tuple[tuple[int, ...], ...]
    n_failed: int
    max_rel_error: float | None
    max_abs_error: float | None
    worst_index: tuple[int, ...] | None
    worst_rel_error: float | None
    analytic: float | None
    numeric: float | None
    kink_max_rel_error: float | None
    tol: float
    atol: float

    @property
    def n_kinks(self) -> int:
        """Number of checked entries that straddle a kink."""
        return len(self.kink_indices)

    @property
    def passed(self) -> bool:
        """True when every judged entry has relative error ≤ tol or absolute error ≤ atol."""
        return self.n_failed == 0

    @property
    def verdict(self) -> str:
        """"good", "good (tiny values)", "suspicious", "probably wrong", "wrong", or "kinks only"."""
        if self.max_rel_error is None:
            return "kinks only" if self.n_kinks else "not checked"
        if self.n_failed:
            return verdict(self.worst_rel_error)  # type: ignore[arg-type]
        return "good" if self.max_rel_error <= self.tol else "good (tiny values)"


def _idx(index: tuple[int, ...] | None) -> str:
    if index is None:
        return "-"
    return "(" + ", ".join(str(i) for i in index) + ("," if len(index) == 1 else "") + ")"


@dataclasses.dataclass(frozen=True)
class GradCheckReport:
    """Result of :func:`check_gradient`: one :class:`ParamCheck` per parameter array.

    ``str(report)`` is a small table; ``report.passed`` is the verdict;
    ``report["W^(1)"]`` is one parameter's row.

    Attributes
    ----------
    checks : tuple of ParamCheck
    h : float
        Finite-difference step.
    tol, atol : float
        An entry agrees when its relative error is ≤ tol or its absolute
        error is ≤ atol.
    sample : int or None
        Entries sampled per array, or None when every entry was checked.
    """

    checks: tuple[ParamCheck, ...]
    h: float
    tol: float
    atol: float
    sample: int | None = None

    @property
    def passed(self) -> bool:
        """True when every parameter passed (kink entries are not judged)."""
        return all(c.passed for c in self.checks)

    @property
    def n_kinks(self) -> int:
        """Total number of checked entries that straddle a kink."""
        return sum(c.n_kinks for c in self.checks)

    @property
    def max_rel_error(self) -> float | None:
        """Largest relative error over all judged entries."""
        errs = [c.max_rel_error for c in self.checks if c.max_rel_error is not None]
        return max(errs) if errs else None

    def __getitem__(self, name: str) -> ParamCheck:
        for c in self.checks:
            if c.name == name:
                return c
        known = ", ".join(repr(c.name) for c in self.checks)
        raise KeyError(f"GradCheckReport: no parameter {name!r}. Known: {known}.")

    def __str__(self) -> str:
        how = tr("every entry") if self.sample is None else tr("{n} random entries per array", n=self.sample)
        lines = [tr(
            "Gradient check ({how}; central differences, h = {h:g}; an entry agrees when "
            "its relative error is <= {tol:g} or its absolute error <= {atol:g})",
            how=how, h=self.h, tol=self.tol, atol=self.atol,
        )]
        header = ("parameter", "shape", "checked", "kinks", "failed", "max rel error",
                  "worst entry", "analytic", "numerical", "verdict")
        rows = [header]
        for c in self.checks:
            rows.append((
                c.name,
                shape_str(c.shape),
                str(c.n_checked),
                str(c.n_kinks),
                str(c.n_failed),
                "-" if c.max_rel_error is None else f"{c.max_rel_error:.1e}",
                _idx(c.worst_index),
                "-" if c.analytic is None else f"{c.analytic:.6e}",
                "-" if c.numeric is None else f"{c.numeric:.6e}",
                c.verdict,
            ))
        widths = [max(len(r[k]) for r in rows) for k in range(len(header))]
        for r in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
        if self.passed:
            lines.append(tr("PASSED: every judged entry agrees with its finite difference."))
        else:
            bad = "; ".join(
                tr("{name}: {failed} of {judged} entries, worst relative error {worst:.1e} at {index}",
                   name=c.name, failed=c.n_failed, judged=c.n_checked - c.n_kinks, worst=c.worst_rel_error,
                   index=_idx(c.worst_index))
                for c in self.checks if not c.passed
            )
            lines.append(tr(
                "FAILED: {bad}. Above {wrong:g} the analytic gradient is almost "
                "certainly wrong (a missing transpose, factor or term).", bad=bad, wrong=THRESHOLDS["wrong"]
            ))
        if any(c.verdict == "good (tiny values)" for c in self.checks):
            lines.append(tr(
                "Some gradient entries are tiny: their relative error measures the finite "
                "difference's own noise, so they were judged by the absolute error (<= {atol:g}).", atol=self.atol
            ))
        if self.n_kinks:
            where = "; ".join(
                f"{c.name} " + ", ".join(_idx(i) for i in c.kink_indices[:5])
                + (" …" if c.n_kinks > 5 else "")
                for c in self.checks if c.n_kinks
            )
            n = self.n_kinks
            if n == 1:
                lines.append(tr(
                    "{n} entry straddles a kink ({where}); its finite difference is unreliable, so they were not "
                    "judged.", n=n, where=where))
            else:
                lines.append(tr(
                    "{n} entries straddle a kink ({where}); their finite differences are unreliable, so they "
                    "were not judged.", n=n, where=where))
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# The generic check
# ---------------------------------------------------------------------------


def _flatten(params: Any, what: str, func: str) -> tuple[Any, list[tuple[str, NDArray[np.float64]]]]:
    """Copy ``params`` into float64 arrays of the same structure; list (name, array) pairs.

    Structures: one array; a dict of arrays; a list of arrays; a list of dicts
    of arrays (fnnlib.network's params, named "W^(l)", "b^(l)").
    """
    def conv(a: Any, name: str) -> NDArray[np.float64]:
        return np.array(as_float_array(a, f"{what} {name}", func), dtype=np.float64, copy=True)

    if isinstance(params, Mapping):
        work = {k: conv(v, str(k)) for k, v in params.items()}
        return work, [(str(k), v) for k, v in work.items()]
    if isinstance(params, (list, tuple)):
        if params and all(isinstance(p, Mapping) for p in params):
            work_l = [{k: conv(v, f"{k}^({l})") for k, v in p.items()} for l, p in enumerate(params, 1)]
            entries = [(f"{k}^({l})", v) for l, p in enumerate(work_l, 1) for k, v in p.items()]
            return work_l, entries
        if any(isinstance(p, Mapping) for p in params):
            raise TypeError(f"{func}: {what} mixes dicts and arrays; use a list of dicts or a list of arrays.")
        work_a = [conv(v, f"[{i}]") for i, v in enumerate(params)]
        return work_a, [(f"[{i}]", v) for i, v in enumerate(work_a)]
    arr = conv(params, "")
    return arr, [("x", arr)]


def _regions(kink_fn: Callable[[Any], Any] | None, work: Any) -> list[NDArray[Any]] | None:
    if kink_fn is None:
        return None
    out = kink_fn(work)
    if out is None:
        return None
    if isinstance(out, np.ndarray):
        out = [out]
    return [np.array(r, copy=True) for r in out if r is not None]


def _same_regions(a: list[NDArray[Any]] | None, b: list[NDArray[Any]] | None) -> bool:
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


def check_gradient(
    f: Callable[[Any], Any],
    params: Any,
    grads: Any,
    *,
    h: float = 1e-5,
    tol: float = THRESHOLDS["good"],
    atol: float = 1e-9,
    sample: int | None = None,
    rng: np.random.Generator | int | None = None,
    kink_fn: Callable[[Any], Any] | None = None,
) -> GradCheckReport:
    """Compare analytic gradients with central differences, parameter by parameter.

    Parameters
    ----------
    f : callable
        ``f(params) -> float``, e.g. the regularised risk R. It receives a
        private copy of ``params`` (same structure) and must not modify it.
    params : ndarray, dict of ndarrays, list of ndarrays, or list of dicts
        The point θ. A list of dicts is fnnlib.network's
        ``params[l-1] = {"W": W^(l) (M_l, M_{l-1}), "b": b^(l) (M_l,)}``; its
        arrays are reported as "W^(l)", "b^(l)". Never modified.
    grads : same structure as params
        The analytic gradient ∂f/∂θ, each array of its parameter's shape
        (denominator layout).
    h : float, default 1e-5
        Finite-difference step.
    tol : float, default 1e-7
        An entry agrees when its relative error is ≤ tol (see the module
        table for other choices) ...
    atol : float, default 1e-9
        ... or its absolute error ``|g_i − num|`` is ≤ atol. Central
        differences with h = 1e-5 are only accurate to about 1e-10 in absolute
        terms (round-off ε|f|/h plus truncation h²|f‴|/6), so for a gradient
        entry below about 1e-3 the relative error measures that noise, not the
        gradient. Set ``atol=0`` for the pure relative criterion.
    sample : int, optional
        Check only this many random entries of each array (all entries of
        smaller arrays). For big networks: the cost is 2 evaluations of f per
        entry.
    rng : numpy Generator, int or None
        Randomness for ``sample``.
    kink_fn : callable, optional
        ``kink_fn(params) -> array or list of arrays`` of region labels (see
        :func:`kink_regions`). An entry whose ±h perturbation changes any label
        straddles a kink: it is reported, not judged.

    Returns
    -------
    GradCheckReport
        Per-parameter max relative error, worst entry, kink entries; ``.passed``;
        ``str(report)`` is a table.

    Raises
    ------
    ValueError, TypeError
        ``grads`` does not match ``params`` in structure or shapes (the
        message says which and whether it looks transposed), NaN/inf in either,
        or f not scalar-valued.

    Notes
    -----
    For each checked entry θ_i: ``num = (f(θ + h e_i) − f(θ − h e_i)) / 2h``
    and ``err = |g_i − num| / max(1e-8, |g_i| + |num|)`` (Units 5 and 6); the
    entry agrees when ``err ≤ tol`` or ``|g_i − num| ≤ atol``.

    Examples
    --------
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> f = lambda x: 0.5 * x @ A @ x               # ∂f/∂x = Ax for symmetric A
    >>> x = np.array([1.0, -1.0])
    >>> check_gradient(f, x, A @ x).passed
    True
    >>> check_gradient(f, x, 2 * A @ x).passed      # a factor 2 too many
    False
    """
    func = "check_gradient"
    if not callable(f):
        raise TypeError(f"{func}: f must be a function of params returning a scalar, got {type(f).__name__}.")
    h = _check_step(h, func)
    tol = float(tol)
    if not tol > 0:
        raise ValueError(f"{func}: tol must be positive, got {tol}.")
    atol = float(atol)
    if not atol >= 0:
        raise ValueError(f"{func}: atol must be >= 0, got {atol}.")
    if sample is not None:
        sample = check_positive_int(sample, "sample", func)
    gen = make_rng(rng, func)
    work, entries = _flatten(params, "params", func)
    _, grad_entries = _flatten(grads, "grads", func)
    names = [n for n, _ in entries]
    if [n for n, _ in grad_entries] != names:
        raise ValueError(
            f"{func}: grads must have the same structure as params. params has "
            f"{', '.join(names)}; grads has {', '.join(n for n, _ in grad_entries)}."
        )
    for (name, p), (_, g) in zip(entries, grad_entries):
        check_shape(g, p.shape, f"the gradient of {name}", func, symbols=f"the shape of {name}")

    base_regions = _regions(kink_fn, work)
    checks = []
    for (name, p), (_, g) in zip(entries, grad_entries):
        if sample is None or sample >= p.size:
            flat = np.arange(p.size)
        else:
            flat = np.sort(gen.choice(p.size, size=sample, replace=False))
        judged: list[tuple[float, float, tuple[int, ...], float, float]] = []
        kinks: list[tuple[int, ...]] = []
        kink_err = None
        for k in flat:
            idx = tuple(int(i) for i in np.unravel_index(int(k), p.shape))
            old = p[idx]
            p[idx] = old + h
            f_plus = _scalar(f(work), func)
            r_plus = _regions(kink_fn, work)
            p[idx] = old - h
            f_minus = _scalar(f(work), func)
            r_minus = _regions(kink_fn, work)
            p[idx] = old
            num = (f_plus - f_minus) / (2.0 * h)
            ana = float(g[idx])
            abs_err = abs(ana - num)
            err = abs_err / max(_FLOOR, abs(ana) + abs(num))
            if _same_regions(base_regions, r_plus) and _same_regions(base_regions, r_minus):
                judged.append((err, abs_err, idx, ana, num))
            else:
                kinks.append(idx)
                kink_err = err if kink_err is None else max(kink_err, err)
        failing = [t for t in judged if t[0] > tol and t[1] > atol]
        worst = max(failing or judged, key=lambda t: t[0]) if judged else None
        checks.append(ParamCheck(
            name=name,
            shape=tuple(p.shape),
            n_checked=len(flat),
            kink_indices=tuple(kinks),
            n_failed=len(failing),
            max_rel_error=max(t[0] for t in judged) if judged else None,
            max_abs_error=max(t[1] for t in judged) if judged else None,
            worst_index=None if worst is None else worst[2],
            worst_rel_error=None if worst is None else worst[0],
            analytic=None if worst is None else worst[3],
            numeric=None if worst is None else worst[4],
            kink_max_rel_error=kink_err,
            tol=tol,
            atol=atol,
        ))
    return GradCheckReport(checks=tuple(checks), h=h, tol=tol, atol=atol, sample=sample)


def _activation_name(act: Any) -> str | None:
    """Canonical name of one entry of an ``activations`` list: a name or a (name, params) pair."""
    name = act[0] if isinstance(act, (tuple, list)) and act else act
    if not isinstance(name, str):
        return None
    from fnnlib import activations as _activations

    known = _activations.ACTIVATIONS.get(name)
    return known.name if known is not None else name  # aliases such as "sigmoid" → "logistic"


def check_network_gradients(
    params: Sequence[Mapping[str, ArrayLike]],
    x: ArrayLike,
    y: ArrayLike,
    activations: Sequence[Any],
    loss: str,
    lam: float = 0.0,
    *,
    grads: Sequence[Mapping[str, ArrayLike]] | None = None,
    h: float = 1e-5,
    tol: float = THRESHOLDS["good"],
    atol: float = 1e-9,
    sample: int | None = None,
    rng: np.random.Generator | int | None = None,
    kinks: bool = True,
) -> GradCheckReport:
    """Check backpropagation's gradients of the regularised risk R against central differences.

    Parameters
    ----------
    params : list of dict
        ``params[l-1] = {"W": W^(l) (M_l, M_{l-1}), "b": b^(l) (M_l,)}``.
        Never modified.
    x : ndarray of shape (M_0,) or (M_0, N)
        Inputs, one column per example.
    y : ndarray of shape (M_L, N) (one-hot) or (N,) (integer labels)
        Targets, as fnnlib.network.risk takes them.
    activations : list of str
        f_1 … f_L, e.g. ``["relu", "softmax"]`` (an entry may be a pair
        ``(name, params)`` as fnnlib.network allows).
    loss : str
        A loss name of fnnlib.losses, e.g. ``"softmax_cross_entropy"``.
    lam : float, default 0.0
        λ of the penalty (λ/2) Σ‖W‖_F².
    grads : list of dict, optional
        The analytic gradients to check (e.g. from a student's own backprop),
        batch-averaged, each of its parameter's shape. Default: those of
        ``fnnlib.network.backward``.
    h, tol, atol, sample, rng
        As in :func:`check_gradient`.
    kinks : bool, default True
        Detect entries that move some z^(l) of a ReLU-family layer across a
        kink and report them separately. With False every entry is judged.

    Returns
    -------
    GradCheckReport

    Notes
    -----
    ``R(θ) = (1/N) Σ_n L(y_n, ŷ_n) + (λ/2) Σ_l ‖W^(l)‖_F²`` is evaluated by
    ``fnnlib.network.risk``; the check passes when every judged entry of every
    ``∂R/∂W^(l)`` and ``∂R/∂b^(l)`` has relative error ≤ tol (1e-7, Unit 5) or,
    for tiny entries, absolute error ≤ atol.

    Examples
    --------
    >>> from fnnlib.network import init_params
    >>> params = init_params([3, 4, 2], rng=0)
    >>> x = np.random.default_rng(1).normal(size=(3, 5))      # (M_0, N) = (3, 5)
    >>> y = np.array([0, 1, 1, 0, 1])                         # labels, (N,)
    >>> report = check_network_gradients(params, x, y, ["tanh", "softmax"], "softmax_cross_entropy")
    >>> report.passed
    True
    """
    func = "check_network_gradients"
    from fnnlib import network  # imported here: network imports nothing from this module

    if not isinstance(params, (list, tuple)) or not all(isinstance(p, Mapping) for p in params):
        raise TypeError(
            f"{func}: params must be a list of dicts {{'W': W^(l), 'b': b^(l)}}, as made by "
            f"fnnlib.network.init_params; got {type(params).__name__}."
        )
    if grads is None:
        fp = network.forward(params, x, activations)
        grads = network.backward(params, fp, y, activations, loss, lam).grads

    def risk(p: Any) -> float:
        return network.risk(p, x, y, activations, loss, lam)

    names = [_activation_name(a) for a in activations]
    kinked = [l for l, n in enumerate(names, 1) if n in KINKS or n == "maxout"]
    kink_fn = None
    if kinks and kinked:

        def kink_fn(p: Any) -> list[NDArray[Any]]:
            z = network.forward(p, x, activations).z
            return [kink_regions(z[l], names[l - 1]) for l in kinked]  # type: ignore[misc]

    return check_gradient(
        risk, params, grads, h=h, tol=tol, atol=atol, sample=sample, rng=rng, kink_fn=kink_fn
    )
