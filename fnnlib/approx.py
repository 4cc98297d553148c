"""Universal approximation by construction: networks whose weights are written down, not trained.

Unit 3 of the course. The universal approximation theorem (Cybenko, 1989;
Hornik, 1991; Leshno et al., 1993 for every non-polynomial activation, ReLU
included) says that one hidden layer,

    F(x) = Σ_m v_m φ(w_mᵀ x + b_m) + c,

comes within any ε of any continuous function on a bounded closed set, given
enough hidden units. It does not say how many units, nor whether training finds
them. The functions here *build* such networks for the pictures of the lecture:

- :func:`step`: one steep logistic unit σ(k(x − s)) ≈ the unit step at s;
- :func:`bump`: two steps, ``h σ(k(x − a)) − h σ(k(x − b))`` ≈ h on [a, b];
- :func:`bump_sum`: n bumps, a piecewise-constant approximation of a continuous f;
- :func:`relu_interpolant`: a ReLU network through given knots, exactly;
- :func:`tent` and :func:`sawtooth`: L composed tent maps, a deep ReLU network
  with 2 units per layer and 2^L linear pieces; :func:`count_linear_pieces`
  counts them and :func:`shallow_width_for_pieces` says what one hidden layer
  would need instead (why depth helps);
- :func:`tower_2d`: an approximate indicator of a rectangle in the plane.

Every construction returns an :class:`ApproxNetwork`, i.e. the ``params`` list
(``params[l-1] = {"W": W^(l) of shape (M_l, M_{l-1}), "b": b^(l) of shape
(M_l,)}``) and the ``activations`` list of an ordinary network of
:mod:`fnnlib.network`: ``network.forward(net.params, X, net.activations)``
evaluates it, with X of shape (M_0, N), one column per example. Calling the
network, ``net(x)``, does exactly that for you.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib import network as _network
from fnnlib._validate import as_float_array, check_positive_int, shape_str

__all__ = [
    "ApproxNetwork",
    "step",
    "bump",
    "bump_sum",
    "relu_interpolant",
    "tent",
    "sawtooth",
    "count_linear_pieces",
    "shallow_width_for_pieces",
    "tower_2d",
]

Params = list[dict[str, NDArray[np.float64]]]


class ApproxNetwork(NamedTuple):
    """The weights of a constructed network, ready for :func:`fnnlib.network.forward`.

    Attributes
    ----------
    params : list of dict, length L
        ``params[l-1] = {"W": W^(l) of shape (M_l, M_{l-1}), "b": b^(l) of shape (M_l,)}``.
    activations : list of str, length L
        ``[f_1, ..., f_L]``.

    Notes
    -----
    A plain NamedTuple, so ``params, activations = step(0.0, 50.0)`` works. Calling
    it, ``net(x)``, runs ``network.forward(params, X, activations)`` and returns
    the single output unit a^(L):

    - input dimension M_0 = 1: ``x`` is a number or an array of points of any
      shape; the result has ``x``'s shape (a float for a number);
    - M_0 > 1: ``x`` has shape (M_0, N), one column per example (the result has
      shape (N,)), or (M_0,) for one point (the result is a float).

    Examples
    --------
    >>> net = step(0.0, k=50.0)
    >>> net.layer_sizes, net.activations
    ([1, 1, 1], ['logistic', 'identity'])
    >>> net(np.array([-1.0, 0.0, 1.0])).round(6)
    array([0. , 0.5, 1. ])
    """

    params: Params
    activations: list[str]

    @property
    def layer_sizes(self) -> list[int]:
        """``[M_0, M_1, ..., M_L]``."""
        return [int(self.params[0]["W"].shape[1])] + [int(p["W"].shape[0]) for p in self.params]

    @property
    def hidden_units(self) -> int:
        """Number of hidden units, ``M_1 + ... + M_{L-1}``."""
        return sum(self.layer_sizes[1:-1])

    def __call__(self, x: ArrayLike) -> Any:
        """Evaluate the network with :func:`fnnlib.network.forward` (see the class Notes)."""
        func = "ApproxNetwork"
        M0 = self.layer_sizes[0]
        arr = as_float_array(x, "x", func)
        if M0 == 1:
            out = _network.forward(self.params, arr.reshape(1, -1), self.activations).a[-1][0]
            return float(out[0]) if arr.ndim == 0 else out.reshape(arr.shape)
        if arr.ndim == 1 and arr.shape[0] == M0:
            return float(_network.forward(self.params, arr, self.activations).a[-1][0])
        if arr.ndim == 2 and arr.shape[0] == M0:
            return _network.forward(self.params, arr, self.activations).a[-1][0]
        hint = " It looks transposed: pass X.T." if arr.ndim == 2 and arr.shape[1] == M0 else ""
        raise ValueError(
            f"{func}: x has shape {shape_str(arr.shape)}; expected (M_0, N) = ({M0}, N), one column per "
            f"example, or (M_0,) = ({M0},) for one point.{hint}"
        )


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------
def _number(value: Any, name: str, func: str) -> float:
    arr = as_float_array(value, name, func)
    if arr.ndim != 0:
        raise ValueError(f"{func}: {name} must be a single number, got shape {shape_str(arr.shape)}.")
    return float(arr)


def _positive(value: Any, name: str, func: str, hint: str = "") -> float:
    v = _number(value, name, func)
    if not v > 0.0:
        raise ValueError(f"{func}: {name} must be > 0, got {value!r}.{hint}")
    return v


def _interval(lo: Any, hi: Any, lo_name: str, hi_name: str, func: str) -> tuple[float, float]:
    a = _number(lo, lo_name, func)
    b = _number(hi, hi_name, func)
    if not a < b:
        raise ValueError(
            f"{func}: the interval [{lo_name}, {hi_name}] must have {lo_name} < {hi_name}, got "
            f"{lo_name} = {a:g}, {hi_name} = {b:g}."
        )
    return a, b


_K_HINT = " k is the steepness of the logistic units: larger k gives a sharper step."


def _layer(W: Any, b: Any) -> dict[str, NDArray[np.float64]]:
    return {"W": np.array(W, dtype=np.float64, ndmin=2), "b": np.array(b, dtype=np.float64, ndmin=1)}


# ---------------------------------------------------------------------------
# steps and bumps from steep logistic units
# ---------------------------------------------------------------------------
def step(s: float, k: float = 50.0) -> ApproxNetwork:
    """A steep logistic unit σ(k(x − s)): approximately the unit step at s.

    Parameters
    ----------
    s : float
        Where the step is (the unit's value there is exactly 1/2).
    k : float, default 50.0
        Steepness, k > 0. The unit rises from 0.01 to 0.99 over a width of
        2 ln(99)/k ≈ 9.2/k around s.

    Returns
    -------
    ApproxNetwork
        Layer sizes [1, 1, 1]: ``W^(1) = [[k]]``, ``b^(1) = [−k s]`` (logistic),
        then an identity output ``W^(2) = [[1]]``, ``b^(2) = [0]``.

    Notes
    -----
    ``σ(k(x − s)) → 1`` for x > s and ``→ 0`` for x < s as k → ∞: the error
    against the step ``I(x > s)`` at distance d = |x − s| is σ(−k d) < e^{−k d}.
    The hidden unit's weight sets the steepness and its bias the position,
    ``s = −b/w``.

    Examples
    --------
    >>> net = step(1.0, k=100.0)
    >>> net.params[0]
    {'W': array([[100.]]), 'b': array([-100.])}
    >>> [round(float(net(x)), 4) for x in (0.9, 1.0, 1.1)]
    [0.0, 0.5, 1.0]
    """
    func = "step"
    s = _number(s, "s", func)
    k = _positive(k, "k", func, _K_HINT)
    return ApproxNetwork([_layer([[k]], [-k * s]), _layer([[1.0]], [0.0])], ["logistic", "identity"])


def bump(a: float, b: float, height: float = 1.0, k: float = 50.0) -> ApproxNetwork:
    """Two steep logistic units make a bump: approximately ``height`` on [a, b] and 0 elsewhere.

    Parameters
    ----------
    a, b : float
        The bump's edges, a < b.
    height : float, default 1.0
        Its height h (may be negative or 0).
    k : float, default 50.0
        Steepness of both steps, k > 0.

    Returns
    -------
    ApproxNetwork
        Layer sizes [1, 2, 1]: ``W^(1) = [[k], [k]]``, ``b^(1) = [−k a, −k b]``
        (logistic), output ``W^(2) = [[h, −h]]``, ``b^(2) = [0]`` (identity).

    Notes
    -----
    ``F(x) = h σ(k(x − a)) − h σ(k(x − b))``: the first step switches the bump
    on at a, the second switches it off at b. Far inside [a, b] both are near
    their limits and F ≈ h; at an edge F ≈ h/2.

    Examples
    --------
    >>> net = bump(0.0, 1.0, height=2.0, k=100.0)
    >>> net(np.array([-0.5, 0.5, 1.5])).round(6)
    array([0., 2., 0.])
    """
    func = "bump"
    a, b = _interval(a, b, "a", "b", func)
    h = _number(height, "height", func)
    k = _positive(k, "k", func, _K_HINT)
    return ApproxNetwork(
        [_layer([[k], [k]], [-k * a, -k * b]), _layer([[h, -h]], [0.0])], ["logistic", "identity"]
    )


def bump_sum(
    f: Callable[[float], float],
    interval: tuple[float, float] = (0.0, 1.0),
    n_bumps: int = 10,
    k: float | None = None,
) -> ApproxNetwork:
    """A sum of n bumps: a piecewise-constant approximation of a continuous f.

    Parameters
    ----------
    f : callable
        The function to approximate, called on one number at a time
        (``f(x) -> float``); it must be finite on the interval.
    interval : (float, float), default (0.0, 1.0)
        ``(lo, hi)`` with lo < hi.
    n_bumps : int, default 10
        Number of bumps n ≥ 1 (the network has 2n hidden units).
    k : float, optional
        Steepness of the logistic units. By default ``20 / Δ`` with the bin
        width ``Δ = (hi − lo) / n``, so each step is sharp compared with a bin.

    Returns
    -------
    ApproxNetwork
        Layer sizes [1, 2n, 1]: one hidden logistic layer and an identity output.
        Bump i contributes the hidden units 2i and 2i+1 (its left and right
        steps) with output weights ``+h_i`` and ``−h_i``, ``h_i = f(m_i)``.

    Notes
    -----
    Split [lo, hi] into n bins of width Δ with edges ``e_i = lo + iΔ`` and
    midpoints ``m_i``. Then

        F(x) = Σ_{i=0}^{n-1} h_i [σ(k(x − l_i)) − σ(k(x − r_i))],   h_i = f(m_i),

    with ``l_i = e_i`` and ``r_i = e_{i+1}``, except that the two outermost
    edges are moved one bin outwards (``l_0 = lo − Δ``, ``r_{n-1} = hi + Δ``):
    otherwise F would be only halfway up its first and last steps at the ends
    of the interval, F(lo) ≈ f(m_0)/2. Outside [lo − Δ, hi + Δ] the network
    falls to 0. Adjacent bumps share an edge, so between them F goes smoothly
    from h_i to h_{i+1}.

    On [lo, hi] the error is that of the piecewise-constant function plus the
    tails of the logistic units: for f with |f'| ≤ K it is at most about
    ``K Δ / 2 = K (hi − lo) / (2n)``, so it falls like 1/n (a slope of −1 on a
    log-log plot of error against width). Continuity alone (no derivative)
    still gives an error → 0, by uniform continuity on the closed interval:
    this is the constructive 1-D picture behind the theorem.

    Examples
    --------
    >>> net = bump_sum(np.sin, (0.0, np.pi), n_bumps=50)
    >>> net.layer_sizes
    [1, 100, 1]
    >>> x = np.linspace(0.0, np.pi, 1001)
    >>> bool(np.max(np.abs(net(x) - np.sin(x))) < np.pi / 50)
    True
    """
    func = "bump_sum"
    if not callable(f):
        raise TypeError(f"{func}: f must be a function of one number, e.g. np.sin, got {type(f).__name__}.")
    try:
        lo_, hi_ = interval
    except (TypeError, ValueError):
        raise TypeError(f"{func}: interval must be a pair (lo, hi), got {interval!r}.") from None
    lo, hi = _interval(lo_, hi_, "lo", "hi", func)
    n = check_positive_int(n_bumps, "n_bumps", func)
    width = (hi - lo) / n
    k_ = 20.0 / width if k is None else _positive(k, "k", func, _K_HINT)
    edges = lo + width * np.arange(n + 1)
    edges[-1] = hi
    mids = lo + width * (np.arange(n) + 0.5)
    heights = np.empty(n)
    for i, m in enumerate(mids):
        try:
            heights[i] = _number(f(float(m)), f"f({m:g})", func)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{func}: f must return a finite number at every midpoint; at x = {m:g}: {exc}") from exc
    left = edges[:-1].copy()
    right = edges[1:].copy()
    left[0] -= width
    right[-1] += width
    # hidden units in the order (left_0, right_0, left_1, right_1, ...)
    where = np.column_stack([left, right]).ravel()
    W1 = np.full((2 * n, 1), k_)
    b1 = -k_ * where
    W2 = np.column_stack([heights, -heights]).reshape(1, 2 * n)
    return ApproxNetwork([_layer(W1, b1), _layer(W2, [0.0])], ["logistic", "identity"])


# ---------------------------------------------------------------------------
# ReLU: exact piecewise-linear interpolation
# ---------------------------------------------------------------------------
def relu_interpolant(knots_x: ArrayLike, knots_y: ArrayLike) -> ApproxNetwork:
    """A one-hidden-layer ReLU network through given knots, linear between them (weights computed, not trained).

    Parameters
    ----------
    knots_x : array_like of shape (n,)
        Knot positions x_0 < x_1 < ... < x_{n-1}, n ≥ 2, strictly increasing.
    knots_y : array_like of shape (n,)
        Values y_j at the knots.

    Returns
    -------
    ApproxNetwork
        Layer sizes [1, n, 1]: a hidden ReLU layer of n units and an identity
        output. Hidden units, in order: ``ReLU(x − x_0)``, ``ReLU(x_0 − x)``, and
        ``ReLU(x − x_j)`` for each interior knot j = 1..n−2.

    Notes
    -----
    With the segment slopes ``s_j = (y_{j+1} − y_j) / (x_{j+1} − x_j)``,
    j = 0..n−2,

        g(x) = y_0 + s_0 [ReLU(x − x_0) − ReLU(x_0 − x)] + Σ_{j=1}^{n-2} (s_j − s_{j-1}) ReLU(x − x_j).

    Since ``ReLU(t) − ReLU(−t) = t``, the first two units give the line
    ``y_0 + s_0 (x − x_0)``; each interior knot adds one unit that changes the
    slope there by ``s_j − s_{j−1}``. So g is linear between consecutive knots
    and ``g(x_j) = y_j`` for every j (by induction over j: the slopes add up
    to the right differences). Outside the knots g **extends linearly**: to the
    left of x_0 with the first slope s_0 (this is what the unit ``ReLU(x_0 − x)``
    is for; without it g would be constant y_0 there), to the right of
    x_{n−1} with the last slope s_{n−2}. On [x_0, x_{n−1}] g has n − 1 linear
    pieces (fewer if consecutive slopes agree).

    In floating point the knots are reproduced up to rounding, of order
    ε · Σ_m |v_m a_m(x_j)| (ε ≈ 2.2e-16; v_m the output weights, a_m the hidden
    activations): below 1e-12 for knots and values of order 1 whose spacing is
    not tiny compared with their spread. Knots very close together give large
    slopes, hence large cancelling terms and a larger rounding error.

    Examples
    --------
    >>> net = relu_interpolant([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])   # a hat
    >>> net.params[1]["W"]                                          # s_0, −s_0, s_1 − s_0
    array([[ 1., -1., -2.]])
    >>> net(np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]))
    array([-1. ,  0. ,  0.5,  1. ,  0. , -1. ])
    """
    func = "relu_interpolant"
    x = as_float_array(knots_x, "knots_x", func)
    y = as_float_array(knots_y, "knots_y", func)
    if x.ndim != 1 or x.shape[0] < 2:
        raise ValueError(
            f"{func}: knots_x must have shape (n,) with n ≥ 2 knots, got shape {shape_str(x.shape)}."
        )
    if y.shape != x.shape:
        raise ValueError(
            f"{func}: knots_y has shape {shape_str(y.shape)}; expected (n,) = {shape_str(x.shape)}, one "
            "value per knot."
        )
    gaps = np.diff(x)
    if np.any(gaps <= 0.0):
        j = int(np.flatnonzero(gaps <= 0.0)[0])
        what = "repeated" if gaps[j] == 0.0 else "not sorted"
        raise ValueError(
            f"{func}: knots_x must be strictly increasing (sorted and distinct); knots_x[{j}] = {x[j]:g} "
            f"and knots_x[{j + 1}] = {x[j + 1]:g} are {what}. Sort the knots (with their values), e.g. "
            "order = np.argsort(knots_x), and drop duplicates."
        )
    with np.errstate(over="ignore"):
        slopes = np.diff(y) / gaps
        changes = np.diff(slopes)
    if not (np.all(np.isfinite(slopes)) and np.all(np.isfinite(changes))):
        raise ValueError(f"{func}: the slopes between knots overflow; the knots are too close for their values.")
    n = x.shape[0]
    W1 = np.ones((n, 1))
    W1[1, 0] = -1.0
    b1 = np.concatenate([[-x[0], x[0]], -x[1:-1]])
    v = np.concatenate([[slopes[0], -slopes[0]], changes])
    return ApproxNetwork([_layer(W1, b1), _layer(v[None, :], [y[0]])], ["relu", "identity"])


# ---------------------------------------------------------------------------
# depth: the sawtooth
# ---------------------------------------------------------------------------
def sawtooth(L: int) -> ApproxNetwork:
    """L composed tent maps: a deep ReLU network with 2 units per hidden layer and 2^L linear pieces on [0, 1].

    Parameters
    ----------
    L : int
        Number of tent maps, L ≥ 1 (= number of hidden layers).

    Returns
    -------
    ApproxNetwork
        Layer sizes [1, 2, 2, ..., 2, 1] (L hidden ReLU layers of 2 units,
        2L hidden units in all) and an identity output.

    Notes
    -----
    The tent map on [0, 1] is

        T(t) = 2t for t ≤ 1/2,  2 − 2t for t > 1/2,   i.e.   T(t) = 2 ReLU(t) − 4 ReLU(t − 1/2)

    (for t ∈ [0, 1]: on [1/2, 1], 2t − 4(t − 1/2) = 2 − 2t). One hidden layer
    computes ``h = (ReLU(t), ReLU(t − 1/2))`` and T is the linear map
    ``[2, −4] h``; that map is folded into the next layer's weights, so

        W^(1) = [[1], [1]],  b^(1) = [0, −1/2];
        W^(l) = [[2, −4], [2, −4]],  b^(l) = [0, −1/2],  l = 2..L;
        W^(L+1) = [[2, −4]],  b^(L+1) = [0]   (identity output),

    and the network computes T∘T∘...∘T (L times) on [0, 1], which maps [0, 1]
    onto [0, 1]. Each composition doubles the number of linear pieces: T maps
    each piece of T^(L−1) (rising or falling across all of [0, 1]) onto [0, 1]
    twice. So there are 2^L pieces, breakpoints at j / 2^L, slopes ±2^L. One
    hidden layer would need at least 2^L − 1 units for as many pieces
    (:func:`shallow_width_for_pieces`); depth gives them with 2L.
    Outside [0, 1] the network is not a sawtooth.

    Examples
    --------
    >>> net = sawtooth(3)
    >>> net.layer_sizes, net.hidden_units
    ([1, 2, 2, 2, 1], 6)
    >>> net(np.array([0.0, 1/16, 1/8, 3/16, 1/4]))
    array([0. , 0.5, 1. , 0.5, 0. ])
    >>> count_linear_pieces(net, 0.0, 1.0)
    8
    """
    func = "sawtooth"
    L = check_positive_int(L, "L", func)
    params = [_layer([[1.0], [1.0]], [0.0, -0.5])]
    params += [_layer([[2.0, -4.0], [2.0, -4.0]], [0.0, -0.5]) for _ in range(L - 1)]
    params.append(_layer([[2.0, -4.0]], [0.0]))
    return ApproxNetwork(params, ["relu"] * L + ["identity"])


def tent() -> ApproxNetwork:
    """The tent map on [0, 1] as a 2-unit ReLU layer: ``T(t) = 2 ReLU(t) − 4 ReLU(t − 1/2)``.

    Returns
    -------
    ApproxNetwork
        Layer sizes [1, 2, 1]; the same as ``sawtooth(1)``.

    Notes
    -----
    T(t) = 2t on [0, 1/2] and 2 − 2t on [1/2, 1]: up to 1 and back down, two
    linear pieces. See :func:`sawtooth` for its compositions.

    Examples
    --------
    >>> tent()(np.array([0.0, 0.25, 0.5, 0.75, 1.0]))
    array([0. , 0.5, 1. , 0.5, 0. ])
    """
    return sawtooth(1)


def count_linear_pieces(
    f: Callable[[NDArray[np.float64]], ArrayLike],
    lo: float,
    hi: float,
    n: int = 100_001,
    *,
    rtol: float = 1e-6,
) -> int:
    """Count the linear pieces of a piecewise-linear f on [lo, hi] from its slope changes on a fine grid.

    Parameters
    ----------
    f : callable
        Vectorised: ``f(x)`` for x of shape (n,) returns shape (n,), e.g. an
        :class:`ApproxNetwork` with one input.
    lo, hi : float
        The interval, lo < hi.
    n : int, default 100_001
        Number of grid points (n ≥ 3); the grid has n − 1 cells of width
        h = (hi − lo)/(n − 1), which must be much narrower than every piece.
    rtol : float, default 1e-6
        Slope changes smaller than ``rtol · max_j |s_j|`` (and than the
        rounding floor below) count as float noise, not as a kink.

    Returns
    -------
    int
        1 + the number of breakpoints found in (lo, hi).

    Raises
    ------
    ValueError
        When slope changes occur in three or more consecutive cells: f is not
        piecewise linear at this resolution (two breakpoints in neighbouring
        cells, or a curved f). Use a larger n.

    Notes
    -----
    On the grid x_0 < ... < x_{n−1} the cell slopes are
    ``s_j = (f(x_{j+1}) − f(x_j)) / h``. A breakpoint on a grid point changes
    the slope once; a breakpoint inside cell j makes that cell's slope an
    average of its neighbours', so the slope changes twice in a row. Hence the
    count is the number of *runs* of consecutive slope changes, each run being
    one or two changes long.

    Tolerance: a slope change counts when ``|s_{j+1} − s_j| > tol`` with
    ``tol = max(rtol · max_j |s_j|, 64 ε max_j |f(x_j)| / h)``; the second
    term bounds the slope noise caused by rounding errors of size ~ε|f| in
    the values (ε ≈ 2.2e-16 is the float64 machine epsilon). A genuine kink
    smaller than tol is missed; making rtol smaller risks counting noise.

    Examples
    --------
    >>> count_linear_pieces(np.abs, -1.0, 1.0)
    2
    >>> count_linear_pieces(sawtooth(5), 0.0, 1.0)
    32
    """
    func = "count_linear_pieces"
    if not callable(f):
        raise TypeError(f"{func}: f must be a vectorised function of an array x of shape (n,), got {type(f).__name__}.")
    lo, hi = _interval(lo, hi, "lo", "hi", func)
    n = check_positive_int(n, "n", func, minimum=3)
    rtol = _positive(rtol, "rtol", func)
    x = np.linspace(lo, hi, n)
    values = as_float_array(f(x), "f(x)", func)
    if values.shape != (n,):
        raise ValueError(
            f"{func}: f(x) has shape {shape_str(values.shape)} for x of shape ({n},); expected ({n},): f "
            "must be vectorised, one value per point."
        )
    h = (hi - lo) / (n - 1)
    with np.errstate(over="ignore", invalid="ignore"):
        slopes = np.diff(values) / h
    if not np.all(np.isfinite(slopes)):
        raise ValueError(f"{func}: the slopes of f on the grid overflow (|f| up to {np.max(np.abs(values)):g}).")
    tol = max(rtol * float(np.max(np.abs(slopes))), 64 * np.finfo(np.float64).eps * float(np.max(np.abs(values))) / h)
    changed = np.abs(np.diff(slopes)) > tol
    # runs of True: starts and ends (half-open) of each run
    padded = np.concatenate([[False], changed, [False]])
    starts = np.flatnonzero(~padded[:-1] & padded[1:])
    ends = np.flatnonzero(padded[:-1] & ~padded[1:])
    long_runs = np.flatnonzero(ends - starts > 2)
    if long_runs.size:
        j = int(starts[long_runs[0]])
        raise ValueError(
            f"{func}: the slope changes in {int(ends[long_runs[0]] - j)} consecutive grid cells near "
            f"x = {x[j + 1]:.6g}; f is not piecewise linear at this resolution (h = {h:.3g}): two "
            "breakpoints in neighbouring cells, or a curved f. Use a larger n."
        )
    return 1 + int(starts.size)


def shallow_width_for_pieces(n_pieces: int) -> int:
    """The fewest hidden units a one-hidden-layer ReLU network needs for n linear pieces: n − 1.

    Parameters
    ----------
    n_pieces : int
        Number of linear pieces n ≥ 1 of a function of one variable (on the
        real line, or on an interval containing all its breakpoints).

    Returns
    -------
    int
        ``n − 1``, a lower bound on the width M_1.

    Notes
    -----
    Claim: ``g(x) = Σ_{m=1}^{M} v_m ReLU(w_m x + b_m) + c`` has at most M + 1
    linear pieces, so n pieces need M ≥ n − 1.

    Proof. A unit with w_m = 0 is constant. A unit with w_m ≠ 0 is linear on
    each side of the single point t_m = −b_m / w_m, where its slope jumps from
    0 to v_m w_m (or back). So each unit adds at most one breakpoint, and a
    sum of linear functions is linear: g is linear on every interval free of
    the t_m, i.e. g has at most M breakpoints and at most M + 1 pieces. □

    The bound is almost tight: n units always suffice (n − 1 for the
    breakpoints and one for the slope of the first piece, as in
    :func:`relu_interpolant`; on an interval, a unit whose breakpoint lies
    left of it is linear there), and n − 1 suffice e.g. when the first piece is
    flat. Compare :func:`sawtooth`: 2^L pieces from 2L units in L layers, where
    one hidden layer needs at least 2^L − 1: depth buys exponentially many
    pieces.

    Examples
    --------
    >>> shallow_width_for_pieces(2 ** 10), sawtooth(10).hidden_units
    (1023, 20)
    """
    return check_positive_int(n_pieces, "n_pieces", "shallow_width_for_pieces") - 1


# ---------------------------------------------------------------------------
# two dimensions: a tower
# ---------------------------------------------------------------------------
def tower_2d(
    a1: float, b1: float, a2: float, b2: float, k: float = 100.0, k_out: float = 20.0
) -> ApproxNetwork:
    """An approximate indicator of the rectangle [a1, b1] × [a2, b2], from steep logistic units.

    Parameters
    ----------
    a1, b1 : float
        The rectangle's extent along x_1, a1 < b1.
    a2, b2 : float
        Its extent along x_2, a2 < b2.
    k : float, default 100.0
        Steepness of the four step units (k > 0).
    k_out : float, default 20.0
        Steepness of the output threshold (k_out > 0). Inside the rectangle
        the output is about σ(k_out/2), on the "cross" arms σ(−k_out/2), and
        elsewhere σ(−3 k_out/2).

    Returns
    -------
    ApproxNetwork
        Layer sizes [2, 4, 1]: **one hidden layer** of 4 logistic step units
        and a **logistic output unit** that acts as the threshold. Input x of
        shape (2, N), one column per point.

    Notes
    -----
    The hidden units are the steps σ(k(x_1 − a1)), σ(k(x_1 − b1)),
    σ(k(x_2 − a2)), σ(k(x_2 − b2)); with output weights (+1, −1, +1, −1) they
    make a bump in x_1 plus a bump in x_2:

        B(x) = [σ(k(x_1 − a1)) − σ(k(x_1 − b1))] + [σ(k(x_2 − a2)) − σ(k(x_2 − b2))],

    which is ≈ 2 inside the rectangle, ≈ 1 where only one coordinate is in
    range (a cross through the rectangle) and ≈ 0 elsewhere. The output unit
    keeps only the top: ``F(x) = σ(k_out (B(x) − 3/2))``, i.e.
    ``W^(2) = k_out [1, −1, 1, −1]``, ``b^(2) = −3 k_out / 2``. Sums of such
    towers (scaled, through one more linear layer) approximate a continuous
    function of two variables, as bumps do in one.

    Examples
    --------
    >>> net = tower_2d(0.0, 1.0, 0.0, 1.0)
    >>> X = np.array([[0.5, 0.5, 2.0, 2.0],      # x_1: inside, inside, arm, outside
    ...               [0.5, 2.0, 0.5, 2.0]])     # x_2
    >>> net(X).round(3)
    array([1., 0., 0., 0.])
    """
    func = "tower_2d"
    a1, b1 = _interval(a1, b1, "a1", "b1", func)
    a2, b2 = _interval(a2, b2, "a2", "b2", func)
    k = _positive(k, "k", func, _K_HINT)
    k_out = _positive(k_out, "k_out", func)
    W1 = k * np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    b1_ = -k * np.array([a1, b1, a2, b2])
    W2 = k_out * np.array([[1.0, -1.0, 1.0, -1.0]])
    return ApproxNetwork([_layer(W1, b1_), _layer(W2, [-1.5 * k_out])], ["logistic", "logistic"])
