"""Counting a network's parameters, and the bias as an extra always-one input.

Unit 2 of the course. A fully connected feedforward network with layer sizes
``layer_sizes = [M_0, M_1, ..., M_L]`` has, in layer l, a weight matrix
``W^(l)`` of shape (M_l, M_{l-1}) and a bias vector ``b^(l)`` of shape (M_l,),
so its parameter count is

    P = Σ_{l=1}^{L} (M_{l-1} + 1) · M_l.

The "+ 1" is the bias seen as the weight of an extra input that is always 1:
the augmented matrix ``W_aug = [W | b]`` of shape (M_l, M_{l-1} + 1) acting on
``x_aug = [x; 1]`` gives ``W_aug x_aug = W x + b``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import as_float_array, check_shape, shape_str

__all__ = [
    "check_layer_sizes",
    "count_params",
    "LayerParams",
    "ParamBreakdown",
    "param_breakdown",
    "augment",
    "split_augmented",
    "augment_input",
]


def check_layer_sizes(layer_sizes: Any, func: str = "check_layer_sizes") -> list[int]:
    """Return ``layer_sizes`` as a list of Python ints, or raise a clear error.

    Parameters
    ----------
    layer_sizes : sequence of int, length L + 1
        ``[M_0, M_1, ..., M_L]``: the input size, then the size of each layer.
        Every entry must be a positive integer and there must be at least two
        (one input size and one layer).
    func : str
        Name of the calling function, used in the error message.

    Returns
    -------
    list of int

    Examples
    --------
    >>> check_layer_sizes((3, 4, 2))
    [3, 4, 2]
    >>> check_layer_sizes([3, 0, 2], "count_params")
    Traceback (most recent call last):
    ...
    ValueError: count_params: layer_sizes[1] must be a positive integer (a layer has at least one neuron), got 0.
    """
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise TypeError(
            f"{func}: layer_sizes must be a list of positive integers [M_0, M_1, ..., M_L], "
            f"got {type(layer_sizes).__name__} {layer_sizes!r}."
        )
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"{func}: layer_sizes must hold at least two sizes [M_0, M_1] (the input size and one "
            f"layer), got {sizes!r}."
        )
    out = []
    for i, m in enumerate(sizes):
        if isinstance(m, (bool, np.bool_)) or not isinstance(m, (int, np.integer)):
            raise TypeError(
                f"{func}: layer_sizes[{i}] must be a positive integer, got {type(m).__name__} {m!r}."
            )
        if m < 1:
            raise ValueError(
                f"{func}: layer_sizes[{i}] must be a positive integer (a layer has at least one "
                f"neuron), got {m}."
            )
        out.append(int(m))
    return out


def count_params(layer_sizes: Sequence[int]) -> int:
    """Number of trainable parameters of a fully connected network.

    Parameters
    ----------
    layer_sizes : sequence of int, length L + 1
        ``[M_0, M_1, ..., M_L]``.

    Returns
    -------
    int
        ``P = Σ_l (M_{l-1} + 1) · M_l``.

    Notes
    -----
    Layer l has ``M_l · M_{l-1}`` weights and ``M_l`` biases, together
    ``(M_{l-1} + 1) · M_l``. (The parentheses matter: one seed document's
    formula lost them.)

    Examples
    --------
    >>> count_params([3, 4, 2])          # (3+1)·4 + (4+1)·2
    26
    >>> count_params([3, 5, 6, 4, 2])
    94
    >>> count_params([8, 10, 12, 15, 15, 12, 6])
    927
    """
    sizes = check_layer_sizes(layer_sizes, "count_params")
    return sum((m_prev + 1) * m for m_prev, m in zip(sizes[:-1], sizes[1:]))


class LayerParams(NamedTuple):
    """One row of a parameter breakdown: layer l, the shape of W^(l) and its counts."""

    layer: int
    W_shape: tuple[int, int]
    weights: int
    biases: int
    total: int


_HEADERS = ("layer", "W shape", "weights", "biases", "total")


@dataclass(frozen=True)
class ParamBreakdown:
    """Per-layer parameter counts of a fully connected network.

    Iterating gives the rows (:class:`LayerParams`, one per layer l = 1..L).
    ``str(breakdown)`` is a plain-text table and :meth:`to_markdown` a markdown
    table; both end with a total row. In Jupyter the markdown table is shown.

    Attributes
    ----------
    rows : tuple of LayerParams, length L
    """

    rows: tuple[LayerParams, ...]

    @property
    def weights(self) -> int:
        """Total number of weights, Σ_l M_l · M_{l-1}."""
        return sum(r.weights for r in self.rows)

    @property
    def biases(self) -> int:
        """Total number of biases, Σ_l M_l."""
        return sum(r.biases for r in self.rows)

    @property
    def total(self) -> int:
        """Total number of parameters, Σ_l (M_{l-1} + 1) · M_l."""
        return sum(r.total for r in self.rows)

    def __iter__(self) -> Iterator[LayerParams]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> LayerParams:
        return self.rows[i]

    def _cells(self) -> list[tuple[str, ...]]:
        body = [
            (str(r.layer), f"{r.W_shape[0]} × {r.W_shape[1]}", str(r.weights), str(r.biases), str(r.total))
            for r in self.rows
        ]
        body.append(("total", "", str(self.weights), str(self.biases), str(self.total)))
        return body

    def __str__(self) -> str:
        cells = [_HEADERS, *self._cells()]
        widths = [max(len(row[j]) for row in cells) for j in range(len(_HEADERS))]

        def fmt(row: tuple[str, ...]) -> str:
            first = row[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
            return "  ".join([first, *rest]).rstrip()

        rule = "  ".join("-" * w for w in widths)
        lines = [fmt(_HEADERS), rule, *(fmt(r) for r in cells[1:-1]), rule, fmt(cells[-1])]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The breakdown as a markdown table (numbers right-aligned, last row the total)."""
        lines = ["| " + " | ".join(_HEADERS) + " |", "|---|---|--:|--:|--:|"]
        for row in self._cells():
            if row[0] == "total":
                row = tuple(f"**{c}**" if c else c for c in row)
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def param_breakdown(layer_sizes: Sequence[int]) -> ParamBreakdown:
    """Per-layer table of a network's parameters.

    Parameters
    ----------
    layer_sizes : sequence of int, length L + 1
        ``[M_0, M_1, ..., M_L]``.

    Returns
    -------
    ParamBreakdown
        Rows ``LayerParams(layer=l, W_shape=(M_l, M_{l-1}), weights=M_l·M_{l-1},
        biases=M_l, total=(M_{l-1}+1)·M_l)`` for l = 1..L, with ``.total``
        equal to :func:`count_params`.

    Notes
    -----
    ``W^(l)`` has shape (M_l, M_{l-1}) (one row per neuron of layer l) and
    ``b^(l)`` has shape (M_l,): one bias per neuron, not one per weight.

    Examples
    --------
    >>> bd = param_breakdown([3, 4, 2])
    >>> bd[0]
    LayerParams(layer=1, W_shape=(4, 3), weights=12, biases=4, total=16)
    >>> print(bd)
    layer  W shape  weights  biases  total
    -----  -------  -------  ------  -----
    1        4 × 3       12       4     16
    2        2 × 4        8       2     10
    -----  -------  -------  ------  -----
    total                20       6     26
    """
    sizes = check_layer_sizes(layer_sizes, "param_breakdown")
    rows = tuple(
        LayerParams(layer=l, W_shape=(m, m_prev), weights=m * m_prev, biases=m, total=(m_prev + 1) * m)
        for l, (m_prev, m) in enumerate(zip(sizes[:-1], sizes[1:]), start=1)
    )
    return ParamBreakdown(rows)


def augment(W: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Augmented weight matrix ``W_aug = [W | b]``: the bias as the weight of an always-one input.

    Parameters
    ----------
    W : array_like of shape (M_l, M_{l-1})
    b : array_like of shape (M_l,)

    Returns
    -------
    W_aug : ndarray of shape (M_l, M_{l-1} + 1)
        A new array; the last column is ``b``.

    Notes
    -----
    With ``x_aug = [x; 1]`` (see :func:`augment_input`),
    ``W_aug x_aug = W x + b · 1 = W x + b``: a layer with biases is a layer
    without biases acting on an input with one extra constant unit. This is
    where the ``+ 1`` in ``P = Σ_l (M_{l-1} + 1) M_l`` comes from.

    Examples
    --------
    >>> W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> augment(W, [0.1, 0.2, 0.3])
    array([[1. , 2. , 0.1],
           [3. , 4. , 0.2],
           [5. , 6. , 0.3]])
    """
    W = as_float_array(W, "W", "augment")
    b = as_float_array(b, "b", "augment")
    if W.ndim != 2:
        raise ValueError(
            f"augment: W must be a matrix of shape (M_l, M_{{l-1}}), got shape {shape_str(W.shape)}."
        )
    check_shape(
        b, (W.shape[0],), "b", "augment", symbols="(M_l,)",
        hint="The bias has one entry per neuron of the layer (per row of W), not one per weight.",
    )
    return np.concatenate([W, b[:, None]], axis=1)


def split_augmented(W_aug: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Undo :func:`augment`: split ``W_aug = [W | b]`` into ``W`` and ``b``.

    Parameters
    ----------
    W_aug : array_like of shape (M_l, M_{l-1} + 1)

    Returns
    -------
    W : ndarray of shape (M_l, M_{l-1})
    b : ndarray of shape (M_l,)
        New arrays (copies), so changing them leaves ``W_aug`` alone.

    Examples
    --------
    >>> W, b = split_augmented([[1.0, 2.0, 0.5], [3.0, 4.0, -0.5]])
    >>> W
    array([[1., 2.],
           [3., 4.]])
    >>> b
    array([ 0.5, -0.5])
    """
    W_aug = as_float_array(W_aug, "W_aug", "split_augmented")
    if W_aug.ndim != 2 or W_aug.shape[1] < 2:
        raise ValueError(
            "split_augmented: W_aug must be a matrix of shape (M_l, M_{l-1} + 1) with at least two "
            f"columns (weights, then the bias column), got shape {shape_str(W_aug.shape)}."
        )
    return W_aug[:, :-1].copy(), W_aug[:, -1].copy()


def augment_input(x: ArrayLike) -> NDArray[np.float64]:
    """Append the always-one input: ``x_aug = [x; 1]``.

    Parameters
    ----------
    x : array_like of shape (M_{l-1},) or (M_{l-1}, N)
        One example, or a batch with one column per example.

    Returns
    -------
    x_aug : ndarray of shape (M_{l-1} + 1,) or (M_{l-1} + 1, N)
        A new array whose last entry (last row, for a batch) is 1.

    Notes
    -----
    ``augment(W, b) @ augment_input(x)`` equals ``W @ x + b`` (for a batch,
    ``W @ X + b[:, None]``).

    Examples
    --------
    >>> augment_input([2.0, 3.0])
    array([2., 3., 1.])
    >>> W, b, x = np.eye(2), np.array([10.0, 20.0]), np.array([2.0, 3.0])
    >>> augment(W, b) @ augment_input(x)
    array([12., 23.])
    """
    x = as_float_array(x, "x", "augment_input")
    if x.ndim == 1:
        return np.concatenate([x, [1.0]])
    if x.ndim == 2:
        return np.concatenate([x, np.ones((1, x.shape[1]))], axis=0)
    raise ValueError(
        "augment_input: x must have shape (M_{l-1},) for one example or (M_{l-1}, N) for a batch "
        f"(one column per example), got shape {shape_str(x.shape)}."
    )
