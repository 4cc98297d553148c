"""The course's figures: activations, decision boundaries, loss surfaces, training.

Every function draws with matplotlib on the Axes it is given (``ax=``) or on
a new figure, and returns what it drew on: an ``Axes`` for one panel, the
``Figure`` for several. Nothing here calls ``plt.show()`` or changes global
settings; :func:`use_course_style` is the one explicit exception.

Arrays follow the course layout: inputs ``X`` of shape (D, N), one column per
example; labels ``y`` of shape (N,).

- :func:`function_and_derivative`: f and f' side by side (Unit 1).
- :func:`network_diagram`: neurons, connections, ``M_l`` per layer (Unit 2).
- :func:`decision_boundary`: a classifier's regions over the plane (Units 3, 5).
- :func:`loss_surface`: a loss over two parameters, contour or 3-D (Unit 7).
- :func:`training_curves`, :func:`confusion_matrix`, :func:`image_grid`:
  the diagnostics of a trained model (Unit 8).
- :func:`explorer`: a figure with sliders that redraw it in a running kernel,
  stored as an ordinary figure so it shows without one (Units 1-3, 7).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import as_float_array, check_choice, check_positive_int, check_shape, shape_str

__all__ = [
    "CLASS_COLORS",
    "COURSE_STYLE",
    "use_course_style",
    "function_and_derivative",
    "decision_boundary",
    "loss_surface",
    "training_curves",
    "confusion_counts",
    "confusion_matrix",
    "image_grid",
    "network_diagram",
    "explorer",
    "Explorer",
]

#: One colour per class, the same in every figure (class 0 blue, class 1 orange, ...).
CLASS_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")

#: The rcParams that :func:`use_course_style` sets; ``with plt.rc_context(COURSE_STYLE):`` applies them locally.
COURSE_STYLE: Mapping[str, Any] = MappingProxyType(
    {
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "lines.linewidth": 1.8,
        "image.interpolation": "nearest",
    }
)


def use_course_style(*, retina: bool = True) -> None:
    """Apply :data:`COURSE_STYLE` to matplotlib's global settings; in IPython, store figures at 2×.

    The only function in fnnlib that changes global state; every lecture calls
    it once in its first cell. To style a single figure instead, use
    ``with plt.rc_context(COURSE_STYLE): ...``.

    Parameters
    ----------
    retina : bool, default True
        Inside IPython (a notebook), make the inline backend store each figure
        as a PNG with twice the pixels in each direction, displayed at the
        normal size (the "retina" format), so figures stay sharp on
        high-density screens and when zoomed. Outside IPython nothing else
        changes. A figure of w × h inches at ``figure.dpi`` = d is stored as
        (2·w·d) × (2·h·d) pixels, about twice the bytes of the 1× PNG.

    Returns
    -------
    None

    Notes
    -----
    Equivalent to ``plt.rcParams.update(COURSE_STYLE)`` followed, in IPython,
    by ``%config InlineBackend.figure_formats = {'retina'}``; undo the first
    with ``plt.rcdefaults()``.

    Examples
    --------
    >>> with plt.rc_context():  # restores the settings afterwards
    ...     use_course_style()
    ...     bool(plt.rcParams["axes.grid"])
    True
    """
    plt.rcParams.update(dict(COURSE_STYLE))
    if retina:
        _use_retina_figures()


def _use_retina_figures() -> bool:
    """Switch IPython's inline backend to 2× PNGs; False (and no change) outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    if shell is None:
        return False
    try:
        from IPython.core.pylabtools import select_figure_formats
        from matplotlib_inline.config import InlineBackend
    except ImportError:  # pragma: no cover - matplotlib-inline comes with ipykernel
        return False
    config = InlineBackend.instance(parent=shell)
    # Stored in the backend's configuration so a later `%matplotlib inline` keeps it, and applied now.
    config.figure_formats = {"retina"}
    select_figure_formats(shell, {"retina"}, **config.print_figure_kwargs)
    return True


# ----------------------------------------------------------------------------- helpers


def _check_ax(ax: Any, func: str, *, three_d: bool = False) -> Axes:
    if not isinstance(ax, Axes):
        raise TypeError(
            f"{func}: ax must be a matplotlib Axes or None, got {type(ax).__name__}. "
            "Create one with fig, ax = plt.subplots()."
        )
    if three_d and getattr(ax, "name", "") != "3d":
        raise ValueError(
            f"{func}: kind='surface' needs a 3-D Axes; create it with "
            "fig.add_subplot(projection='3d'), or pass ax=None."
        )
    return ax


def _check_axes_list(ax: Any, n: int, func: str, *, at_least: bool = False) -> list[Axes]:
    """``ax`` as a flat list of Axes: exactly ``n`` of them (or at least ``n``)."""
    if isinstance(ax, Axes):
        items = [ax]
    else:
        try:
            items = list(np.asarray(ax, dtype=object).ravel())
        except Exception as exc:  # pragma: no cover - np.asarray(object) accepts nearly anything
            raise TypeError(f"{func}: ax must be a sequence of matplotlib Axes or None.") from exc
    if not all(isinstance(a, Axes) for a in items):
        raise TypeError(f"{func}: ax must hold matplotlib Axes only, got {[type(a).__name__ for a in items]}.")
    if (len(items) < n) if at_least else (len(items) != n):
        want = f"at least {n}" if at_least else f"{n}"
        raise ValueError(
            f"{func}: needs {want} Axes here (one per panel), got {len(items)}. "
            "Pass ax=None to make a new figure."
        )
    return items


def _check_title(title: Any, func: str) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{func}: title must be a string or None, got {type(title).__name__}.")


def _as_int_labels(y: ArrayLike, name: str, func: str, n: int | None = None) -> NDArray[np.int64]:
    arr = np.asarray(y)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{func}: {name} must hold integer class labels, got dtype {arr.dtype}.")
    if arr.ndim != 1:
        hint = (
            " It looks one-hot (C, N) or like class probabilities: pass labels, e.g. Y.argmax(axis=0)."
            if arr.ndim == 2 and min(arr.shape) > 1
            else " Flatten it with .ravel()."
            if arr.ndim == 2
            else ""
        )
        raise ValueError(f"{func}: {name} has shape {shape_str(arr.shape)}; expected (N,) class labels.{hint}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{func}: {name} has {arr.shape[0]} labels; expected N = {n}, one per example.")
    if np.issubdtype(arr.dtype, np.floating) and (
        not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr))
    ):
        raise ValueError(
            f"{func}: {name} must hold integer class labels, got non-integer values "
            "(probabilities or scores? take the argmax first)."
        )
    return arr.astype(np.int64)


def _class_style(i: int) -> tuple[str, str]:
    return CLASS_COLORS[i % len(CLASS_COLORS)], _MARKERS[i % len(_MARKERS)]


# ----------------------------------------------------------------------------- activations


def _activation_items(fs: Any) -> list[tuple[str, Callable[..., Any], Callable[..., Any]]]:
    func = "function_and_derivative"
    if isinstance(fs, str) or (isinstance(fs, tuple) and len(fs) == 3 and callable(fs[1])):
        fs = [fs]
    try:
        seq = list(fs)
    except TypeError as exc:
        raise TypeError(
            f"{func}: fs must be a list of (name, f, df) tuples, e.g. [ACTIVATIONS['relu']], "
            f"got {type(fs).__name__}."
        ) from exc
    if not seq:
        raise ValueError(f"{func}: fs is empty; pass at least one (name, f, df) tuple.")
    items = []
    for i, item in enumerate(seq):
        if isinstance(item, str):
            from fnnlib.activations import get  # only needed for names

            item = get(item)
        if not (isinstance(item, Sequence) and len(item) == 3):
            raise TypeError(
                f"{func}: fs[{i}] must be a (name, f, df) tuple such as an Activation, got {item!r}."
            )
        label, f, df = item
        if not callable(f) or not callable(df):
            raise TypeError(f"{func}: fs[{i}] = ({label!r}, f, df): f and df must be callables.")
        items.append((str(label), f, df))
    return items


def _evaluate(fn: Callable[..., Any], z: NDArray[np.float64], what: str) -> NDArray[np.float64]:
    func = "function_and_derivative"
    out = as_float_array(fn(z.copy()), what, func, allow_nonfinite=True)
    if out.ndim == 0:
        out = np.full_like(z, float(out))
    if out.shape != z.shape:
        raise ValueError(
            f"{func}: {what} returned shape {shape_str(out.shape)} for z of shape {shape_str(z.shape)}; "
            "it must be elementwise and vectorised (same shape out as in)."
        )
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{func}: {what} returned NaN or inf on the z grid; check its implementation.")
    return out


def function_and_derivative(
    fs: Any,
    x: ArrayLike | None = None,
    ax: Any = None,
    *,
    title: str | None = None,
) -> Figure:
    """Plot activation functions f(z) and their derivatives f'(z) in two panels.

    Parameters
    ----------
    fs : Activation, (label, f, df) tuple, activation name, or a list of them
        Each ``f`` and ``df`` maps an array z to an array of the same shape
        (elementwise, vectorised). Names are looked up in
        ``fnnlib.activations``. The label goes into the legend.
    x : array_like of shape (K,), optional
        The z values, increasing; default 401 points on [-5, 5].
    ax : pair of Axes, optional
        Panels for f and for f'; default a new figure with two panels.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        With two Axes: f(z) (left) and f'(z) (right), each function in the
        same colour in both.

    Notes
    -----
    The lectures' activation figures (Unit 1): plotting ``f`` beside ``f'``
    shows where a unit saturates (``f'`` near 0, e.g. ``σ'(z) = σ(z)(1 - σ(z))
    <= 1/4``) and where it passes gradients unchanged (``ReLU'(z) = 1`` for
    ``z > 0``).

    Examples
    --------
    >>> relu = ("relu", lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float))
    >>> fig = function_and_derivative([relu, ("tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2)])
    >>> [len(a.get_lines()) >= 2 for a in fig.axes]
    [True, True]
    >>> plt.close(fig)
    """
    func = "function_and_derivative"
    items = _activation_items(fs)
    _check_title(title, func)
    if x is None:
        z = np.linspace(-5.0, 5.0, 401)
    else:
        z = as_float_array(x, "x", func).copy()
        if z.ndim != 1 or z.shape[0] < 2:
            raise ValueError(f"{func}: x has shape {shape_str(z.shape)}; expected (K,) with K >= 2 points.")
    if ax is None:
        fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    else:
        ax_f, ax_df = _check_axes_list(ax, 2, func)
        fig = ax_f.figure
    for label, f, df in items:
        fz = _evaluate(f, z, f"f of {label!r}")
        dfz = _evaluate(df, z, f"df of {label!r}")
        (line,) = ax_f.plot(z, fz, label=label)
        ax_df.plot(z, dfz, color=line.get_color(), label=label)
    for a, sym, name in ((ax_f, "$f(z)$", "Activation functions"), (ax_df, "$f'(z)$", "Derivatives")):
        a.axhline(0.0, color="0.6", lw=0.8, zorder=0)
        a.axvline(0.0, color="0.6", lw=0.8, zorder=0)
        a.set_xlabel("net input $z$")
        a.set_ylabel(sym)
        a.set_title(f"{name} {sym}")
        a.grid(True, alpha=0.3)
        a.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- decision boundary


def _two_class_cmap() -> LinearSegmentedColormap:
    return LinearSegmentedColormap.from_list("class0_class1", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])


def _interpret_prediction(out: Any, K: int, func: str) -> tuple[str, NDArray[Any]]:
    """Return ("labels", (K,) int64) or ("proba", (K,) float64 = P(y = 1 | x))."""
    arr = np.asarray(out)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{func}: predict must return numbers, got dtype {arr.dtype}.")
    if arr.ndim == 2 and arr.shape[0] == 1 and arr.shape[1] == K:
        arr = arr[0]
        if np.issubdtype(arr.dtype, np.floating) and np.all((arr >= 0) & (arr <= 1)):
            return "proba", arr.astype(np.float64)
    if arr.ndim == 1 and arr.shape[0] == K:
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{func}: predict returned NaN or inf.")
        if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer) or np.all(arr == np.round(arr)):
            return "labels", arr.astype(np.int64)
        if np.all((arr >= 0) & (arr <= 1)):
            return "proba", arr.astype(np.float64)
        raise ValueError(
            f"{func}: predict returned non-integer values outside [0, 1]; expected class labels (K,), "
            "P(y = 1 | x) of shape (K,) or (1, K), or class probabilities (C, K)."
        )
    if arr.ndim == 2 and arr.shape[1] == K and arr.shape[0] >= 2:
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{func}: predict returned NaN or inf.")
        return "labels", np.argmax(arr, axis=0).astype(np.int64)
    if arr.ndim == 2 and arr.shape[0] == K:
        raise ValueError(
            f"{func}: predict returned shape {shape_str(arr.shape)} = (K, C), one row per grid point; "
            f"expected one column per point, (C, K) = (C, {K}). Return its transpose .T "
            "(e.g. lambda G: model.predict_proba(G.T).T)."
        )
    raise ValueError(
        f"{func}: predict returned shape {shape_str(arr.shape)} for the grid G of shape (2, K) = (2, {K}); "
        f"expected labels (K,) = ({K},), P(y = 1 | x) of shape (K,) or (1, K), or class probabilities "
        f"(C, K) = (C, {K})."
    )


def decision_boundary(
    predict: Callable[[NDArray[np.float64]], ArrayLike],
    X: ArrayLike,
    y: ArrayLike | None = None,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
    padding: float = 0.1,
    title: str | None = None,
) -> Axes:
    """Colour the plane by a classifier's prediction and draw the data on top.

    Parameters
    ----------
    predict : callable
        Maps a grid ``G`` of shape (2, K), one column per point, to class
        labels of shape (K,), to ``P(y = 1 | x)`` of shape (K,) or (1, K)
        (values in [0, 1]), or to class probabilities of shape (C, K). For a
        model that takes rows (scikit-learn), pass ``lambda G: model.predict(G.T)``.
    X : array_like of shape (2, N)
        The examples, one column per example (M_0 = 2 input features). Not modified.
    y : array_like of shape (N,), optional
        Their integer labels; each class gets its colour and marker.
    ax : Axes, optional
        Where to draw; default a new figure.
    resolution : int, default 200
        Grid points per axis (K = resolution²), at least 2.
    padding : float, default 0.1
        Margin around the data, as a fraction of its range.
    title : str, optional
        Default "Decision regions".

    Returns
    -------
    Axes
        Filled regions (a contour set), the boundary line, one scatter per
        class, a legend.

    Notes
    -----
    With labels, each grid point gets its class colour; with probabilities
    ``p = P(y = 1 | x)``, the colour runs from class 0 (p = 0) through white
    to class 1 (p = 1) and the black line is the decision boundary ``p = 1/2``
    (for a logistic output, ``z^(L) = 0``). With (C, K) probabilities the
    regions are ``argmax_c ŷ_c``.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    >>> y = np.array([0, 1, 1, 0])
    >>> ax = decision_boundary(lambda G: (G[0] + G[1] > 1.0).astype(int), X, y, resolution=20)
    >>> ax.get_xlabel(), len(ax.collections) >= 3
    ('$x_1$', True)
    >>> plt.close(ax.figure)
    """
    func = "decision_boundary"
    if not callable(predict):
        raise TypeError(f"{func}: predict must be a callable G (2, K) -> labels or probabilities, got {predict!r}.")
    Xa = as_float_array(X, "X", func)
    if Xa.ndim != 2:
        raise ValueError(
            f"{func}: X has shape {shape_str(Xa.shape)}; expected (M_0, N) = (2, N), one column per example."
        )
    check_shape(Xa, (2, None), "X", func, symbols="(M_0, N)", hint=(
        "It looks transposed: did you pass the (N, 2) array instead of its transpose .T?"
        if Xa.shape[1] == 2 else "The plot needs exactly two input features."
    ))
    n = Xa.shape[1]
    if n == 0:
        raise ValueError(f"{func}: X has no examples (N = 0).")
    labels = None if y is None else _as_int_labels(y, "y", func, n)
    resolution = check_positive_int(resolution, "resolution", func, minimum=2)
    if isinstance(padding, bool) or not isinstance(padding, (int, float, np.integer, np.floating)) or not (
        math.isfinite(padding) and padding >= 0
    ):
        raise ValueError(f"{func}: padding must be a finite number >= 0, got {padding!r}.")
    _check_title(title, func)
    ax = plt.subplots(figsize=(6, 5), layout="constrained")[1] if ax is None else _check_ax(ax, func)

    lo, hi = Xa.min(axis=1), Xa.max(axis=1)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - padding * span, hi + padding * span
    g1 = np.linspace(lo[0], hi[0], resolution)
    g2 = np.linspace(lo[1], hi[1], resolution)
    G1, G2 = np.meshgrid(g1, g2)
    G = np.vstack([G1.ravel(), G2.ravel()])  # (2, K): one column per grid point
    K = G.shape[1]
    try:
        out = predict(G.copy())
    except Exception as exc:
        raise ValueError(
            f"{func}: predict raised {type(exc).__name__} when called with the grid G of shape (2, K) = "
            f"(2, {K}), one column per point: {exc}. If your model takes rows (N, D), as scikit-learn "
            "does, pass lambda G: model.predict(G.T)."
        ) from exc
    kind, pred = _interpret_prediction(out, K, func)

    handles: list[Any] = []
    if kind == "proba":
        P = pred.reshape(G1.shape)
        filled = ax.contourf(G1, G2, P, levels=np.linspace(0.0, 1.0, 11), cmap=_two_class_cmap(), alpha=0.75)
        ax.contour(G1, G2, P, levels=[0.5], colors="k", linewidths=1.5)
        ax.figure.colorbar(filled, ax=ax, label=r"$P(y = 1 \mid \mathbf{x})$")
        handles.append(Line2D([], [], color="k", lw=1.5, label=r"boundary $P = 1/2$"))
        classes = np.unique(labels) if labels is not None else np.array([0, 1])
    else:
        classes = np.union1d(np.unique(pred), np.unique(labels) if labels is not None else [])
        idx = np.searchsorted(classes, pred).reshape(G1.shape)
        colors = [_class_style(i)[0] for i in range(len(classes))]
        ax.contourf(G1, G2, idx, levels=np.arange(len(classes) + 1) - 0.5, colors=colors, alpha=0.25)
        if len(classes) > 1:
            ax.contour(G1, G2, idx, levels=np.arange(len(classes) - 1) + 0.5, colors="k", linewidths=1.2)
            handles.append(Line2D([], [], color="k", lw=1.2, label="decision boundary"))
    if labels is None:
        ax.scatter(Xa[0], Xa[1], s=22, c="k", marker="o", label="data", zorder=3)
    else:
        for i, c in enumerate(classes):
            mask = labels == c
            if not mask.any():
                continue
            color, marker = _class_style(i)
            ax.scatter(
                Xa[0, mask], Xa[1, mask], s=28, c=color, marker=marker, edgecolors="k",
                linewidths=0.6, label=f"class $y = {c}$", zorder=3,
            )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title if title is not None else "Decision regions")
    point_handles, point_labels = ax.get_legend_handles_labels()
    ax.legend(handles=point_handles + handles, loc="best", fontsize="small", framealpha=0.85)
    return ax


# ----------------------------------------------------------------------------- loss surface


def _check_range(r: Any, name: str, func: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in r)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{func}: {name} must be a pair (low, high) of numbers, got {r!r}.") from exc
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValueError(f"{func}: {name} must be a pair (low, high) of finite numbers with low < high, got {r!r}.")
    return a, b


def loss_surface(
    f: Callable[..., Any],
    w1_range: tuple[float, float],
    w2_range: tuple[float, float],
    kind: str = "contour",
    ax: Axes | None = None,
    *,
    resolution: int = 101,
    vectorized: bool = False,
    levels: int | ArrayLike = 30,
    mark_min: bool = True,
    title: str | None = None,
    zlabel: str = r"loss $\mathcal{L}(w_1, w_2)$",
) -> Axes:
    """Draw a loss over two parameters as filled contours or a 3-D surface.

    Parameters
    ----------
    f : callable
        ``f(w1, w2)`` returns the loss, a number. With ``vectorized=True`` it
        is called once with two arrays of shape (n_2, n_1) and must return
        the losses in an array of that shape.
    w1_range, w2_range : (float, float)
        ``(low, high)`` for ``w_1`` (horizontal axis) and ``w_2``.
    kind : {"contour", "surface"}
        Filled contour plot with a colour bar, or a 3-D surface
        (``mpl_toolkits.mplot3d``; ``ax`` must then be a 3-D Axes).
    ax : Axes, optional
        Where to draw; default a new figure.
    resolution : int, default 101
        Grid points per parameter (n_1 = n_2 = resolution), at least 2.
    vectorized : bool, default False
        Whether ``f`` accepts arrays (see ``f``).
    levels : int or array_like, default 30
        Contour levels (``kind="contour"``).
    mark_min : bool, default True
        Mark the grid point with the smallest loss.
    title : str, optional
        Default "Loss surface".
    zlabel : str
        Label of the loss (colour bar or z axis).

    Returns
    -------
    Axes
        With the contour set or the surface, and labelled axes ``w_1``, ``w_2``.

    Notes
    -----
    Unit 7 uses it for ``ŷ = σ(w_2 σ(w_1 x))``: the squared error
    ``(y - ŷ)²`` has flat plateaus where σ saturates, the cross-entropy
    ``-y log ŷ - (1 - y) log(1 - ŷ)`` keeps a slope there; neither is convex
    in ``(w_1, w_2)``. The grid minimum is only as fine as the grid.

    Examples
    --------
    >>> ax = loss_surface(lambda a, b: (a - 1) ** 2 + 2 * b ** 2, (-2, 2), (-2, 2), resolution=21)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('$w_1$', '$w_2$')
    >>> plt.close(ax.figure)
    """
    func = "loss_surface"
    if not callable(f):
        raise TypeError(f"{func}: f must be a callable f(w1, w2) -> loss, got {f!r}.")
    a1, b1 = _check_range(w1_range, "w1_range", func)
    a2, b2 = _check_range(w2_range, "w2_range", func)
    kind = check_choice(kind, ("contour", "surface"), "kind", func)
    resolution = check_positive_int(resolution, "resolution", func, minimum=2)
    _check_title(title, func)
    W1, W2 = np.meshgrid(np.linspace(a1, b1, resolution), np.linspace(a2, b2, resolution))
    if vectorized:
        L = as_float_array(f(W1.copy(), W2.copy()), "f(W1, W2)", func, allow_nonfinite=True)
        if L.shape != W1.shape:
            raise ValueError(
                f"{func}: with vectorized=True, f(W1, W2) must return the losses in the grid's shape "
                f"{shape_str(W1.shape)}, got {shape_str(L.shape)}. Make f elementwise, or pass vectorized=False."
            )
    else:
        L = np.empty(W1.shape)
        for idx in np.ndindex(W1.shape):
            value = np.asarray(f(float(W1[idx]), float(W2[idx])))
            if value.size != 1:
                raise ValueError(
                    f"{func}: f(w1, w2) must return one number, got shape {shape_str(value.shape)}."
                )
            L[idx] = float(value.reshape(()))
    bad = ~np.isfinite(L)
    if bad.any():
        i = np.argwhere(bad)[0]
        raise ValueError(
            f"{func}: f returned {int(bad.sum())} NaN or infinite values (first at w = "
            f"({W1[tuple(i)]:.3g}, {W2[tuple(i)]:.3g})). Clip the prediction inside the logarithm, "
            "or shrink the ranges."
        )
    if ax is None:
        fig = plt.figure(figsize=(6.4, 5), layout="constrained")
        ax = fig.add_subplot(projection="3d") if kind == "surface" else fig.add_subplot()
    else:
        _check_ax(ax, func, three_d=(kind == "surface"))
    i_min = np.unravel_index(np.argmin(L), L.shape)
    w_min = (float(W1[i_min]), float(W2[i_min]))
    if kind == "contour":
        lv = levels if isinstance(levels, (int, np.integer)) else np.asarray(levels, dtype=np.float64)
        filled = ax.contourf(W1, W2, L, levels=lv, cmap="viridis")
        ax.contour(W1, W2, L, levels=filled.levels, colors="k", linewidths=0.3, alpha=0.5)
        ax.figure.colorbar(filled, ax=ax, label=zlabel)
        if mark_min:
            ax.plot(*w_min, marker="*", ms=14, color="#d62728", mec="w", ls="none", clip_on=False, zorder=4,
                    label=f"grid minimum ({w_min[0]:.2f}, {w_min[1]:.2f})")
    else:
        ax.plot_surface(W1, W2, L, cmap="viridis", linewidth=0, antialiased=True, alpha=0.9)
        ax.set_zlabel(zlabel)
        if mark_min:
            ax.scatter([w_min[0]], [w_min[1]], [float(L[i_min])], marker="*", s=120, color="#d62728",
                       label=f"grid minimum ({w_min[0]:.2f}, {w_min[1]:.2f})")
    if mark_min and kind == "contour":  # below the axes, so it never hides the surface or the point
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="small", frameon=False)
    elif mark_min:
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(title if title is not None else "Loss surface")
    return ax


# ----------------------------------------------------------------------------- training curves

_HISTORY_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "train_loss": ("train_loss", "loss"),
        "val_loss": ("val_loss",),
        "train_acc": ("train_acc", "acc", "accuracy", "train_accuracy"),
        "val_acc": ("val_acc", "val_accuracy"),
    }
)


def _history_series(history: Any, func: str) -> dict[str, NDArray[np.float64] | None]:
    if not isinstance(history, Mapping) and isinstance(getattr(history, "history", None), Mapping):
        history = history.history  # a Keras-style History object
    series: dict[str, NDArray[np.float64] | None] = {}
    for key, names in _HISTORY_KEYS.items():
        value = None
        for name in names:
            value = history.get(name) if isinstance(history, Mapping) else getattr(history, name, None)
            if value is not None:
                break
        if value is not None:
            arr = as_float_array(value, key, func, allow_nonfinite=True)
            if arr.ndim != 1:
                raise ValueError(f"{func}: {key} has shape {shape_str(arr.shape)}; expected one value per epoch (E,).")
            value = arr if arr.size else None
        series[key] = value
    if all(v is None for v in series.values()):
        got = sorted(map(str, history)) if isinstance(history, Mapping) else type(history).__name__
        raise ValueError(
            f"{func}: history has no per-epoch values; expected a dict of lists or an object with "
            f"attributes train_loss, val_loss, train_acc, val_acc (any may be missing), got {got}."
        )
    return series


def training_curves(
    history: Any,
    ax: Any = None,
    *,
    title: str | None = None,
    mark_best: bool = True,
) -> Figure:
    """Plot loss and accuracy per epoch, for the training and validation sets.

    Parameters
    ----------
    history : dict of lists, or object
        Per-epoch values under the keys (or attributes) ``train_loss``,
        ``val_loss``, ``train_acc``, ``val_acc``, each a sequence of shape
        (E,) or missing/None/empty (e.g. no validation set). Keras-style names
        (``loss``, ``accuracy``, ``val_accuracy``) and objects with a
        ``history`` dict are accepted too. Not modified.
    ax : Axes or sequence of Axes, optional
        One Axes per panel drawn (loss, then accuracy; a panel is drawn when
        one of its series exists); default a new figure.
    title : str, optional
        Figure title.
    mark_best : bool, default True
        Mark the epoch with the smallest validation loss, where early stopping
        would keep the weights.

    Returns
    -------
    Figure
        With one or two panels.

    Notes
    -----
    Epochs count from 1. Training loss that keeps falling while the
    validation loss rises is overfitting; the lecture's SGD algorithm stops
    when the validation error stops falling (Units 5 and 8).

    Examples
    --------
    >>> h = {"train_loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.6, 0.5], "train_acc": [0.6, 0.8, 0.9]}
    >>> fig = training_curves(h)
    >>> [a.get_title() for a in fig.axes]
    ['Loss per epoch', 'Accuracy per epoch']
    >>> plt.close(fig)
    """
    func = "training_curves"
    series = _history_series(history, func)
    _check_title(title, func)
    panels = []
    if series["train_loss"] is not None or series["val_loss"] is not None:
        panels.append(("loss", "Loss per epoch", "loss $\\mathcal{L}$"))
    if series["train_acc"] is not None or series["val_acc"] is not None:
        panels.append(("acc", "Accuracy per epoch", "accuracy"))
    if ax is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), layout="constrained", squeeze=False)
        axes_list = list(axes.ravel())
    else:
        axes_list = _check_axes_list(ax, len(panels), func)
        fig = axes_list[0].figure
    best = None
    if mark_best and series["val_loss"] is not None and np.isfinite(series["val_loss"]).any():
        best = int(np.nanargmin(np.where(np.isfinite(series["val_loss"]), series["val_loss"], np.nan))) + 1
    for a, (key, panel_title, ylabel) in zip(axes_list, panels):
        for part, label, style in (("train", "training", "-"), ("val", "validation", "--")):
            values = series[f"{part}_{key}"]
            if values is None:
                continue
            epochs = np.arange(1, values.shape[0] + 1)
            color = CLASS_COLORS[0] if part == "train" else CLASS_COLORS[1]
            a.plot(epochs, values, style, color=color, marker="o" if len(values) <= 30 else None, ms=3.5, label=label)
        if best is not None:
            a.axvline(best, color="0.4", ls=":", lw=1.2, label=f"best validation loss (epoch {best})")
        a.set_xlabel("epoch")
        a.set_ylabel(ylabel)
        a.set_title(panel_title)
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.grid(True, alpha=0.3)
        a.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- confusion matrix


def confusion_counts(
    y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (N,)
        Integer class labels. Not modified.
    labels : array_like of shape (C,), optional
        The classes, in the order of the rows and columns; default the sorted
        union of both label arrays. Examples whose true or predicted label is
        not listed are not counted (as in scikit-learn).

    Returns
    -------
    ndarray of shape (C, C), int64
        ``M[i, j]`` = number of examples of true class ``labels[i]``
        predicted as ``labels[j]``; rows are true classes, columns predictions.

    Notes
    -----
    ``M[i, j] = Σ_n I(y_n = c_i) I(ŷ_n = c_j)``; the accuracy is
    ``trace(M) / Σ M``. Same convention as ``sklearn.metrics.confusion_matrix``.

    Examples
    --------
    >>> confusion_counts([0, 0, 1, 2], [0, 1, 1, 2])
    array([[1, 1, 0],
           [0, 1, 0],
           [0, 0, 1]])
    """
    func = "confusion_counts"
    yt = _as_int_labels(y_true, "y_true", func)
    yp = _as_int_labels(y_pred, "y_pred", func, yt.shape[0])
    if labels is None:
        classes = np.union1d(yt, yp)
    else:
        classes = _as_int_labels(labels, "labels", func)
        if np.unique(classes).shape[0] != classes.shape[0]:
            raise ValueError(f"{func}: labels must not repeat a class, got {classes.tolist()}.")
        if classes.shape[0] == 0:
            raise ValueError(f"{func}: labels is empty; list at least one class.")
    C = classes.shape[0]
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]

    def index(v: NDArray[np.int64]) -> NDArray[np.int64]:
        pos = np.clip(np.searchsorted(sorted_classes, v), 0, max(C - 1, 0))
        found = (sorted_classes[pos] == v) if C else np.zeros(v.shape, bool)
        return np.where(found, order[pos], -1)

    it, ip = index(yt), index(yp)
    keep = (it >= 0) & (ip >= 0)
    M = np.zeros((C, C), dtype=np.int64)
    np.add.at(M, (it[keep], ip[keep]), 1)
    return M


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    labels: ArrayLike | None = None,
    ax: Axes | None = None,
    *,
    normalize: bool = False,
    title: str | None = None,
    cmap: str = "Blues",
) -> Axes:
    """Draw the confusion matrix with the count in every cell.

    Parameters
    ----------
    y_true, y_pred : array_like of shape (N,)
        Integer class labels (for network outputs ``Ŷ`` of shape (C, N), pass
        ``Ŷ.argmax(axis=0)``). Not modified.
    labels : array_like of shape (C,), optional
        Classes and their order; see :func:`confusion_counts`.
    ax : Axes, optional
        Where to draw; default a new figure.
    normalize : bool, default False
        Show each row as fractions of its true class (row sums 1) instead of counts.
    title : str, optional
        Default "Confusion matrix (accuracy …, N = …)".
    cmap : str, default "Blues"
        Colour map.

    Returns
    -------
    Axes
        With the image, one text per cell, a colour bar, labelled axes.

    Notes
    -----
    Rows are the true classes ``y``, columns the predictions ``ŷ``; the
    diagonal holds the correct predictions, so accuracy = ``trace(M) / N``.
    Off-diagonal cells show which digits are confused (Unit 8).

    Examples
    --------
    >>> ax = confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1])
    >>> sorted(t.get_text() for t in ax.texts)
    ['0', '1', '1', '2']
    >>> plt.close(ax.figure)
    """
    func = "confusion_matrix"
    if isinstance(normalize, str) or not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"{func}: normalize must be True or False, got {normalize!r}.")
    _check_title(title, func)
    M = confusion_counts(y_true, y_pred, labels)
    classes = np.union1d(_as_int_labels(y_true, "y_true", func), _as_int_labels(y_pred, "y_pred", func)) \
        if labels is None else _as_int_labels(labels, "labels", func)
    C = M.shape[0]
    total = int(M.sum())
    if normalize:
        rows = M.sum(axis=1, keepdims=True)
        values = np.divide(M, rows, out=np.zeros(M.shape), where=rows > 0)
        text = [[f"{v:.2f}" for v in row] for row in values]
        bar_label = "fraction of the true class"
    else:
        values = M.astype(np.float64)
        text = [[str(v) for v in row] for row in M]
        bar_label = "count"
    if ax is None:
        side = min(3.0 + 0.45 * C, 12.0)
        ax = plt.subplots(figsize=(side + 1.0, side), layout="constrained")[1]
    else:
        _check_ax(ax, func)
    im = ax.imshow(values, cmap=cmap, vmin=0.0, vmax=max(float(values.max()), 1e-12), interpolation="nearest")
    threshold = 0.5 * float(values.max())
    fontsize = 10 if C <= 12 else 7
    for i in range(C):
        for j in range(C):
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=fontsize,
                    color="white" if values[i, j] > threshold else "black")
    ax.figure.colorbar(im, ax=ax, label=bar_label, shrink=0.85)
    ax.set_xticks(range(C), [str(c) for c in classes])
    ax.set_yticks(range(C), [str(c) for c in classes])
    ax.set_xlabel(r"predicted label $\hat{y}$")
    ax.set_ylabel("true label $y$")
    ax.grid(False)
    if title is None:
        acc = np.trace(M) / total if total else float("nan")
        title = f"Confusion matrix (accuracy {acc:.1%}, N = {total})" if total else "Confusion matrix (N = 0)"
    ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- image grid


def image_grid(
    images: ArrayLike,
    titles: Sequence[str] | None = None,
    shape: tuple[int, int] = (8, 8),
    ncols: int | None = None,
    ax: Any = None,
    *,
    layout: str = "rows",
    symmetric: bool = False,
    cmap: str | None = None,
    colorbar: bool | None = None,
    title: str | None = None,
) -> Figure:
    """Show several images in a grid: examples, or weight vectors as pictures.

    Parameters
    ----------
    images : array_like
        K images as (K, h, w); or flattened, (K, h·w), one image per row
        (``layout="rows"``, the default: e.g. ``W^(1)`` of shape (M_1, M_0),
        each neuron's weights a row), or (h·w, K), one image per column
        (``layout="columns"``: e.g. ``X[:, idx]`` in the course layout); or
        one image (h·w,). Not modified.
    titles : sequence of K str, optional
        A caption per image (e.g. "true 3, predicted 8").
    shape : (int, int), default (8, 8)
        (h, w) of a flattened image: (8, 8) for digits, (28, 28) for MNIST.
        Ignored for (K, h, w) input.
    ncols : int, optional
        Images per row; default min(K, 10).
    ax : sequence of Axes, optional
        At least K Axes to draw into; default a new figure.
    layout : {"rows", "columns"}
        Where the images are in a 2-D ``images`` (see above).
    symmetric : bool, default False
        Use a diverging colour map centred at 0 with limits ±max|value| (for
        weights: red positive, blue negative, white 0). Otherwise one grey
        scale (dark = large) shared by all images.
    cmap : str, optional
        Override the colour map.
    colorbar : bool, optional
        Draw a shared colour bar; default: only when ``symmetric``.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One Axes per grid cell; cells beyond K are hidden.

    Notes
    -----
    Flattened images are reshaped row by row (C order), the order in which
    :func:`fnnlib.data.load_digits` and :func:`fnnlib.data.load_mnist` flatten
    them. Row m of ``W^(1)`` holds the weights of hidden neuron m on every
    pixel, so ``W1.reshape(M_1, 8, 8)`` shows what each neuron responds to.
    All images share one colour scale, so they can be compared.

    Examples
    --------
    >>> W1 = np.random.default_rng(0).normal(size=(6, 64))  # (M_1, M_0): one row per neuron
    >>> fig = image_grid(W1, titles=[f"neuron {m}" for m in range(1, 7)], symmetric=True, ncols=3)
    >>> sum(a.get_title().startswith("neuron") for a in fig.axes)
    6
    >>> plt.close(fig)
    """
    func = "image_grid"
    layout = check_choice(layout, ("rows", "columns"), "layout", func)
    arr = as_float_array(images, "images", func)
    try:
        h, w = (check_positive_int(s, "shape", func) for s in shape)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{func}: shape must be a pair (h, w) of positive integers, got {shape!r}.") from exc
    D = h * w
    if arr.ndim == 3:
        stack = arr
    elif arr.ndim == 1:
        if arr.shape[0] != D:
            raise ValueError(f"{func}: one image of {arr.shape[0]} values does not fit shape (h, w) = ({h}, {w}).")
        stack = arr.reshape(1, h, w)
    elif arr.ndim == 2:
        flat = arr if layout == "rows" else arr.T
        if flat.shape[1] != D:
            other = "columns" if layout == "rows" else "rows"
            fits_other = (arr.shape[0] if layout == "rows" else arr.shape[1]) == D
            hint = (
                f" It fits one image per {other[:-1]}: pass layout={other!r} (course inputs X[:, idx] are "
                "columns; the rows of W^(1) are rows)."
                if fits_other
                else f" Check shape=(h, w) (digits (8, 8), MNIST (28, 28))."
            )
            want = f"(K, h·w) = (K, {D})" if layout == "rows" else f"(h·w, K) = ({D}, K)"
            raise ValueError(
                f"{func}: images has shape {shape_str(arr.shape)}; with layout={layout!r} and shape=({h}, {w}) "
                f"expected {want}.{hint}"
            )
        stack = flat.reshape(flat.shape[0], h, w)
    else:
        raise ValueError(f"{func}: images has shape {shape_str(arr.shape)}; expected (K, h, w), (K, h·w) or (h·w,).")
    K = stack.shape[0]
    if K == 0:
        raise ValueError(f"{func}: images holds no image (K = 0).")
    if titles is not None:
        if isinstance(titles, str) or len(titles) != K:
            got = "a single string" if isinstance(titles, str) else f"{len(titles)}"
            raise ValueError(f"{func}: titles must be a sequence of K = {K} strings, got {got}.")
    ncols = min(K, 10) if ncols is None else check_positive_int(ncols, "ncols", func)
    ncols = min(ncols, K)
    nrows = math.ceil(K / ncols)
    _check_title(title, func)
    if symmetric:
        vmax = float(np.abs(stack).max()) or 1.0
        vmin = -vmax
        cmap = cmap or "RdBu_r"
    else:
        vmin, vmax = float(stack.min()), float(stack.max())
        if vmax == vmin:
            vmax = vmin + 1.0
        cmap = cmap or "gray_r"
    colorbar = symmetric if colorbar is None else bool(colorbar)
    if ax is None:
        fig, grid = plt.subplots(
            nrows, ncols, figsize=(1.25 * ncols + (0.9 if colorbar else 0.2), 1.35 * nrows + (0.4 if title else 0.1)),
            squeeze=False, layout="constrained",
        )
        axes = list(grid.ravel())
    else:
        axes = _check_axes_list(ax, K, func, at_least=True)
        fig = axes[0].figure
    im = None
    for i, a in enumerate(axes):
        if i >= K:
            a.set_axis_off()
            continue
        im = a.imshow(stack[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        a.set_xticks([])
        a.set_yticks([])
        if titles is not None:
            a.set_title(str(titles[i]), fontsize=8)
    if colorbar and im is not None:
        fig.colorbar(im, ax=axes[:K], shrink=0.8, label="weight" if symmetric else "value")
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- network diagram

_LAYER_COLORS = MappingProxyType({"input": "#cfe2f3", "hidden": "#d9ead3", "output": "#f4cccc"})


def network_diagram(
    layer_sizes: Sequence[int],
    ax: Axes | None = None,
    *,
    max_per_layer: int = 10,
    show_bias: bool = False,
    neuron_labels: bool = True,
    title: str | None = None,
) -> Axes:
    """Draw a fully connected feedforward network: neurons, connections, layer sizes.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[M_0, M_1, ..., M_L]``: inputs, hidden layers, outputs (at least two
        entries, each >= 1). Not modified.
    ax : Axes, optional
        Where to draw; default a new figure.
    max_per_layer : int, default 10
        A layer with more neurons shows its first and last ones with "⋮"
        between them, using ``max_per_layer`` slots in all (at least 3).
    show_bias : bool, default False
        Draw each layer's bias as an extra always-one unit "+1" above
        layers 0 .. L-1, connected to the next layer.
    neuron_labels : bool, default True
        Write ``x_i`` beside the inputs and ``ŷ_i`` beside the outputs.
    title : str, optional
        Default "Network M_0-M_1-...-M_L: L = …, P = … parameters".

    Returns
    -------
    Axes
        With one ``Circle`` patch per drawn neuron (gid "neuron") and per
        bias unit (gid "bias"), the connections as line collections, and a
        label "input / hidden / output, M_l = …" under each layer.

    Notes
    -----
    Layer l has ``M_l`` neurons; between layers l-1 and l every neuron is
    connected to every neuron, through ``W^(l)`` of shape (M_l, M_{l-1}) and
    ``b^(l)`` of shape (M_l,). The title counts the parameters,
    ``P = Σ_{l=1}^{L} (M_{l-1} + 1) M_l``: 26 for 3-4-2 (Unit 2).

    Examples
    --------
    >>> ax = network_diagram([3, 4, 2])
    >>> sum(p.get_gid() == "neuron" for p in ax.patches)
    9
    >>> ax.get_title()
    'Network 3-4-2: L = 2 layers, P = 26 parameters'
    >>> plt.close(ax.figure)
    """
    func = "network_diagram"
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise TypeError(f"{func}: layer_sizes must be a list [M_0, ..., M_L] of positive integers, got {layer_sizes!r}.")
    sizes = [check_positive_int(m, f"layer_sizes[{i}]", func) for i, m in enumerate(list(layer_sizes))]
    if len(sizes) < 2:
        raise ValueError(
            f"{func}: layer_sizes needs at least two entries [M_0, ..., M_L] (inputs and outputs), got {sizes}."
        )
    max_per_layer = check_positive_int(max_per_layer, "max_per_layer", func, minimum=3)
    _check_title(title, func)
    L = len(sizes) - 1
    P = sum((sizes[l - 1] + 1) * sizes[l] for l in range(1, L + 1))
    dx, r = 2.6, 0.32

    # Slots per layer: (y, neuron index or None for the ellipsis).
    layers: list[list[tuple[float, int | None]]] = []
    for M in sizes:
        if M <= max_per_layer:
            shown: list[int | None] = list(range(M))
        else:
            top = math.ceil((max_per_layer - 1) / 2)
            bottom = max_per_layer - 1 - top
            shown = list(range(top)) + [None] + list(range(M - bottom, M))
        n = len(shown)
        layers.append([((n - 1) / 2 - s, i) for s, i in enumerate(shown)])
    y_top = max(slots[0][0] for slots in layers)
    y_bottom = min(slots[-1][0] for slots in layers)
    y_bias = y_top + 1.3

    left = -dx * 0.55 if neuron_labels else -0.8
    right = L * dx + (dx * 0.55 if neuron_labels else 0.8)
    low, high = y_bottom - r - 1.5, (y_bias if show_bias else y_top) + r + 0.8
    if ax is None:
        inch = 0.6  # inches per data unit, so the figure fits the drawing
        ax = plt.subplots(figsize=(inch * (right - left) + 0.3, inch * (high - low) + 0.5), layout="constrained")[1]
    else:
        _check_ax(ax, func)

    def kind_of(l: int) -> str:
        return "input" if l == 0 else "output" if l == L else "hidden"

    edges, bias_edges = [], []
    for l in range(L):
        x0, x1 = l * dx, (l + 1) * dx
        for y0, i in layers[l]:
            if i is None:
                continue
            for y1, j in layers[l + 1]:
                if j is not None:
                    edges.append([(x0, y0), (x1, y1)])
        if show_bias:
            for y1, j in layers[l + 1]:
                if j is not None:
                    bias_edges.append([(x0, y_bias), (x1, y1)])
    ax.add_collection(LineCollection(edges, colors="0.55", linewidths=0.7, zorder=1))
    if bias_edges:
        ax.add_collection(LineCollection(bias_edges, colors="0.6", linewidths=0.7, linestyles="--", zorder=1))

    for l, slots in enumerate(layers):
        x = l * dx
        for y, i in slots:
            if i is None:
                ax.text(x, y, "⋮", ha="center", va="center", fontsize=16, zorder=3)
                continue
            ax.add_patch(Circle((x, y), r, facecolor=_LAYER_COLORS[kind_of(l)], edgecolor="k", lw=1.0,
                                zorder=2, gid="neuron"))
            if neuron_labels and l == 0:
                ax.text(x - r - 0.12, y, f"$x_{{{i + 1}}}$", ha="right", va="center", fontsize=10)
            if neuron_labels and l == L:
                ax.text(x + r + 0.12, y, f"$\\hat{{y}}_{{{i + 1}}}$", ha="left", va="center", fontsize=10)
        if show_bias and l < L:
            ax.add_patch(Circle((x, y_bias), r, facecolor="#fff2cc", edgecolor="k", lw=1.0, ls="--",
                                zorder=2, gid="bias"))
            ax.text(x, y_bias, "+1", ha="center", va="center", fontsize=9, zorder=3)
        ax.text(x, y_bottom - r - 0.35, f"{kind_of(l)}\n$M_{{{l}}} = {sizes[l]}$", ha="center", va="top", fontsize=10)
        if l >= 1:
            label_y = (y_bias if show_bias else y_top) + r + 0.25
            ax.text(x - dx / 2, label_y, f"$W^{{({l})}},\\ b^{{({l})}}$", ha="center", va="bottom", fontsize=10,
                    color="0.25")

    ax.set_xlim(left, right)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    ax.set_axis_off()
    arch = "-".join(str(m) for m in sizes)
    ax.set_title(title if title is not None else f"Network {arch}: L = {L} layers, P = {P} parameters")
    return ax


# ----------------------------------------------------------------------------- explorers


def _live_kernel() -> bool:
    """True inside a running Jupyter kernel that has ipywidgets."""
    try:
        from IPython import get_ipython

        import ipywidgets  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _check_controls(controls: Any, func: str) -> dict[str, tuple[str, Any]]:
    """``{name: ("int"|"float", (lo, hi, step, default)) or ("choice", (options, default))}``."""
    if not isinstance(controls, Mapping) or not controls:
        raise TypeError(
            f"{func}: controls must be a non-empty dict such as {{'gamma': (0.0, 1.0, 0.05, 0.1)}} "
            f"(min, max, step, default) or {{'act': ['relu', 'tanh']}} (options, first is the default), "
            f"got {controls!r}."
        )
    out: dict[str, tuple[str, Any]] = {}
    for name, spec in controls.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{func}: control name {name!r} must be a valid keyword-argument name of draw.")
        if isinstance(spec, (list, tuple)) and spec and all(isinstance(o, str) for o in spec):
            out[name] = ("choice", (list(spec), spec[0]))
            continue
        if not (isinstance(spec, tuple) and len(spec) == 4 and all(
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in spec)):
            raise ValueError(
                f"{func}: control {name!r} = {spec!r}; expected (min, max, step, default) numbers "
                "or a list of option strings."
            )
        lo, hi, step, default = spec
        if not (lo < hi and step > 0 and lo <= default <= hi):
            raise ValueError(
                f"{func}: control {name!r} = {spec!r} needs min < max, step > 0 and min <= default <= max."
            )
        kind = "int" if all(isinstance(v, (int, np.integer)) for v in spec) else "float"
        out[name] = (kind, (lo, hi, step, default))
    return out


class Explorer:
    """What :func:`explorer` returns: the current values, the sliders, and :meth:`redraw`.

    Attributes
    ----------
    values : dict
        The control values of the figure on display.
    widgets : dict
        One ipywidgets control per name (empty outside a running kernel).
    """

    def __init__(self, draw: Callable[..., Figure], specs: dict[str, tuple[str, Any]],
                 labels: Mapping[str, str], handle: Any) -> None:
        self._draw = draw
        self._specs = specs
        self._labels = dict(labels)
        self.handle = handle
        self.values: dict[str, Any] = {n: spec[1][-1] for n, spec in specs.items()}
        self.widgets: dict[str, Any] = {}

    def figure(self, **values: Any) -> Figure:
        """Draw (and return, not display) the figure for the current values updated by ``values``."""
        unknown = sorted(set(values) - set(self._specs))
        if unknown:
            raise TypeError(f"Explorer: unknown control(s) {unknown}; the controls are {sorted(self._specs)}.")
        merged = {**self.values, **values}
        fig = self._draw(**merged)
        if not isinstance(fig, Figure):
            raise TypeError(
                f"explorer: draw(**values) must return a matplotlib Figure (end it with `return fig`; do not call plt.show), "
                f"got {type(fig).__name__}."
            )
        return fig

    def redraw(self, **values: Any) -> None:
        """Set some controls, draw the figure again and replace the displayed one."""
        fig = self.figure(**values)
        self.values.update(values)
        if self.handle is not None:
            self.handle.update(fig)
        plt.close(fig)

    def _build_widgets(self) -> Any:
        import ipywidgets as w

        for name, (kind, spec) in self._specs.items():
            label = self._labels.get(name, name)
            common = dict(description=label, continuous_update=False, style={"description_width": "initial"})
            if kind == "choice":
                widget = w.Dropdown(options=spec[0], value=spec[1], description=label)
            elif kind == "int":
                lo, hi, step, default = (int(v) for v in spec)
                widget = w.IntSlider(min=lo, max=hi, step=step, value=default, **common)
            else:
                lo, hi, step, default = (float(v) for v in spec)
                widget = w.FloatSlider(min=lo, max=hi, step=step, value=default, readout_format=".3g", **common)
            widget.observe(self._on_change(name), names="value")
            self.widgets[name] = widget
        box = w.HBox(list(self.widgets.values()), layout=w.Layout(flex_flow="row wrap"))
        box.add_class("fnn-explorer")
        return box

    def _on_change(self, name: str) -> Callable[[Any], None]:
        def handler(change: Any) -> None:
            self.redraw(**{name: change["new"]})

        return handler

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"Explorer({vals})"

    def _ipython_display_(self) -> None:  # the figure and the sliders are already displayed
        return None


def explorer(
    draw: Callable[..., Figure],
    controls: Mapping[str, Any],
    *,
    labels: Mapping[str, str] | None = None,
) -> Explorer:
    """Display ``draw(**defaults)`` as a stored figure, plus sliders that redraw it in a running kernel.

    The figure for the default values is displayed as an ordinary figure output
    (PNG), so it is stored in the notebook and shows without a kernel (a static
    web page, JupyterLab before anything runs, nbval). In a running kernel with
    ipywidgets, a row of sliders follows it; moving one redraws the figure in
    place (the same output is updated through its display id).

    Parameters
    ----------
    draw : callable
        ``draw(**values) -> Figure``: a new figure for the given control values.
        Put the values in the title so every stored figure says what it shows.
    controls : dict
        ``name -> (min, max, step, default)`` for a slider (all ints give an
        integer slider), or ``name -> [option, ...]`` for a drop-down whose
        first option is the default. Names are ``draw``'s keyword arguments.
    labels : dict, optional
        Slider labels, e.g. ``{"gamma": "γ"}``; default the names.

    Returns
    -------
    Explorer
        Its ``values``, ``widgets`` and ``redraw(**values)``; displaying it
        shows nothing more.

    Examples
    --------
    >>> def draw(w=1.0):
    ...     fig, ax = plt.subplots()
    ...     ax.plot([0, 1], [0, w])
    ...     ax.set_title(f"w = {w}")
    ...     return fig
    >>> ex = explorer(draw, {"w": (-2.0, 2.0, 0.5, 1.0)})  # outside Jupyter: prints the figure's repr
    Figure(640x480)
    >>> ex.values
    {'w': 1.0}
    """
    func = "explorer"
    if not callable(draw):
        raise TypeError(f"{func}: draw must be a function draw(**values) -> Figure, got {type(draw).__name__}.")
    specs = _check_controls(controls, func)
    labels = {} if labels is None else dict(labels)
    stray = sorted(set(labels) - set(specs))
    if stray:
        raise ValueError(f"{func}: labels {stray} name no control; the controls are {sorted(specs)}.")
    from IPython.display import display

    ex = Explorer(draw, specs, labels, handle=None)
    fig = ex.figure()
    ex.handle = display(fig, display_id=True)
    plt.close(fig)
    if _live_kernel():
        box = ex._build_widgets()
        names = ", ".join(labels.get(n, n) for n in specs)
        display(
            {
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2,
                    "version_minor": 0,
                    "model_id": box.model_id,
                },
                "text/plain": f"[sliders {names}: run the notebook to redraw the figure above]",
            },
            raw=True,
        )
    return ex
