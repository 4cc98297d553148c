"""Data sets for the course, in the course layout: one column per example.

Every loader here returns the inputs as ``X`` of shape (D, N), one column per
example (the layout of ``A^(0)`` in the lectures, so ``z^(1) = W^(1) X +
b^(1)`` works without a transpose), and the labels as ``y`` of shape (N,),
int64. Pass ``layout="rows"`` to get ``X`` of shape (N, D) instead, the layout
that the Keras-like ``Sequential`` API and scikit-learn expect.

- :func:`xor` and :func:`two_moons` make small 2-D problems on the spot
  (Units 2, 3 and 5).
- :func:`load_digits` reads scikit-learn's bundled 8 x 8 handwritten digits
  (1,797 images, no network access); :func:`load_mnist` reads MNIST from the
  four IDX files the user already has on disk (Unit 8). fnnlib never downloads.
- :func:`read_idx` and :func:`write_idx` parse and write the IDX format.
- :func:`stratified_split` makes train / validation / test parts that keep the
  class proportions; :class:`Standardizer` scales features with statistics of
  the training part only.
"""

from __future__ import annotations

import gzip
import math
import zlib
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fnnlib._validate import (
    as_float_array,
    check_choice,
    check_positive_int,
    check_shape,
    make_rng,
    shape_str,
)

__all__ = [
    "Dataset",
    "Split",
    "xor",
    "two_moons",
    "load_digits",
    "load_mnist",
    "read_idx",
    "write_idx",
    "MNIST_FILES",
    "stratified_split",
    "Standardizer",
]

LAYOUTS = ("columns", "rows")

# IDX type codes (third byte of the magic number) and the big-endian dtypes they denote.
_IDX_DTYPES = MappingProxyType(
    {
        0x08: np.dtype(">u1"),
        0x09: np.dtype(">i1"),
        0x0B: np.dtype(">i2"),
        0x0C: np.dtype(">i4"),
        0x0D: np.dtype(">f4"),
        0x0E: np.dtype(">f8"),
    }
)
_IDX_CODES = MappingProxyType({dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()})

#: The IDX file names of MNIST, by ``kind``: (images, labels). Each may also be gzipped (``.gz``).
MNIST_FILES = MappingProxyType(
    {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
)

_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


class Dataset(NamedTuple):
    """Inputs and labels: ``X, y = load_digits()``.

    X : ndarray of shape (D, N), float64
        One column per example (or (N, D) when loaded with ``layout="rows"``).
    y : ndarray of shape (N,), int64
        Class labels.
    """

    X: NDArray[np.float64]
    y: NDArray[np.int64]


class Split(NamedTuple):
    """The three parts made by :func:`stratified_split`.

    ``X_*`` have shape (D, N_part), one column per example (or (N_part, D)
    with ``layout="rows"``); ``y_*`` have shape (N_part,), int64.
    """

    X_train: NDArray[np.float64]
    y_train: NDArray[np.int64]
    X_val: NDArray[np.float64]
    y_val: NDArray[np.int64]
    X_test: NDArray[np.float64]
    y_test: NDArray[np.int64]


# ----------------------------------------------------------------------------- helpers


def _check_layout(layout: str, func: str) -> str:
    return check_choice(layout, LAYOUTS, "layout", func)


def _in_layout(X_cols: NDArray[np.float64], layout: str) -> NDArray[np.float64]:
    """``X_cols`` is (D, N); return it as is or as a contiguous (N, D) copy."""
    return X_cols if layout == "columns" else np.ascontiguousarray(X_cols.T)


def _as_labels(y: ArrayLike, name: str, func: str, n: int | None = None) -> NDArray[np.int64]:
    """Return integer class labels of shape (N,) as a new int64 array, or raise."""
    arr = np.asarray(y)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{func}: {name} must hold integer class labels, got dtype {arr.dtype}.")
    if arr.ndim == 2 and 1 in arr.shape:
        hint = " Flatten it with .ravel()."
    elif arr.ndim == 2:
        hint = (
            " It looks one-hot (C, N) or like class probabilities: pass the labels, "
            "e.g. Y.argmax(axis=0)."
        )
    else:
        hint = ""
    if arr.ndim != 1:
        raise ValueError(
            f"{func}: {name} has shape {shape_str(arr.shape)}; expected (N,) integer class labels.{hint}"
        )
    if n is not None and arr.shape[0] != n:
        raise ValueError(
            f"{func}: {name} has {arr.shape[0]} labels but X has N = {n} examples; "
            "expected one label per example (per column of X)."
        )
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(
                f"{func}: {name} must hold integer class labels, got non-integer values "
                "(probabilities or scores? take the argmax first)."
            )
    return arr.astype(np.int64)


# ----------------------------------------------------------------------------- toy problems


def xor(*, layout: str = "columns") -> Dataset:
    """The four XOR points and their labels.

    Parameters
    ----------
    layout : {"columns", "rows"}
        ``"columns"`` (default, the course layout): ``X`` has shape (D, N) =
        (2, 4), one column per example. ``"rows"``: ``X`` has shape (N, D) =
        (4, 2), for ``Sequential`` and scikit-learn.

    Returns
    -------
    Dataset
        ``X`` : ndarray of shape (2, 4), float64, the corners of the unit
        square; ``y`` : ndarray of shape (4,), int64, ``y = x_1 XOR x_2``.

    Notes
    -----
    ``y = 1`` exactly when one input is 1: ``y = x_1 + x_2 - 2 x_1 x_2``. No
    line separates the two classes, so a single neuron cannot fit it; one
    hidden layer can (Unit 2).

    Examples
    --------
    >>> X, y = xor()
    >>> X
    array([[0., 0., 1., 1.],
           [0., 1., 0., 1.]])
    >>> y
    array([0, 1, 1, 0])
    >>> xor(layout="rows").X.shape
    (4, 2)
    """
    _check_layout(layout, "xor")
    X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return Dataset(_in_layout(X, layout), y)


def two_moons(
    n: int = 200,
    noise: float = 0.1,
    rng: np.random.Generator | int | None = None,
    *,
    layout: str = "columns",
) -> Dataset:
    """Two interleaving half circles, one per class, with Gaussian noise.

    Parameters
    ----------
    n : int, default 200
        Number of examples N (at least 2). Class 0 gets ``n - n // 2``
        examples and class 1 gets ``n // 2``: the classes are balanced (they
        differ by one when ``n`` is odd).
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate (>= 0).
    rng : numpy Generator, int seed or None
        Source of randomness; the same seed gives the same data.
    layout : {"columns", "rows"}
        ``"columns"`` (default): ``X`` of shape (D, N) = (2, N), one column
        per example; ``"rows"``: ``X`` of shape (N, 2).

    Returns
    -------
    Dataset
        ``X`` : ndarray of shape (2, N), float64; ``y`` : ndarray of shape
        (N,), int64, in shuffled order.

    Notes
    -----
    With angles ``t ~ U(0, π)`` drawn per example, class 0 lies on the upper
    half circle ``(cos t, sin t)`` and class 1 on the shifted lower one
    ``(1 - cos t, 1/2 - sin t)``; then ``ε ~ N(0, noise² I)`` is added. The
    classes are not linearly separable: Unit 5 trains a one-hidden-layer
    network on them and draws its decision boundary.

    Examples
    --------
    >>> X, y = two_moons(100, noise=0.1, rng=0)
    >>> X.shape, y.shape, X.dtype, y.dtype
    ((2, 100), (100,), dtype('float64'), dtype('int64'))
    >>> np.bincount(y)
    array([50, 50])
    >>> bool(np.array_equal(X, two_moons(100, noise=0.1, rng=0).X))
    True
    """
    func = "two_moons"
    n = check_positive_int(n, "n", func, minimum=2)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: noise must be a number >= 0, got {type(noise).__name__} {noise!r}.")
    noise = float(noise)
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"{func}: noise must be a finite number >= 0 (a standard deviation), got {noise}.")
    _check_layout(layout, func)
    gen = make_rng(rng, func)
    n1 = n // 2
    n0 = n - n1
    t0 = gen.uniform(0.0, np.pi, n0)
    t1 = gen.uniform(0.0, np.pi, n1)
    upper = np.vstack([np.cos(t0), np.sin(t0)])  # (2, n0)
    lower = np.vstack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])  # (2, n1)
    X = np.hstack([upper, lower])
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    X = X + noise * gen.standard_normal(X.shape)
    order = gen.permutation(n)
    return Dataset(_in_layout(np.ascontiguousarray(X[:, order]), layout), y[order])


# ----------------------------------------------------------------------------- digits


def load_digits(*, layout: str = "columns", scale: bool = False) -> Dataset:
    """scikit-learn's bundled 8 x 8 handwritten digits (1,797 images, offline).

    Parameters
    ----------
    layout : {"columns", "rows"}
        ``"columns"`` (default): ``X`` of shape (D, N) = (64, 1797), one
        column per image; ``"rows"``: ``X`` of shape (N, D) = (1797, 64).
    scale : bool, default False
        False keeps the pixel values 0..16 (as float64); True divides them by
        16 so they lie in [0, 1].

    Returns
    -------
    Dataset
        ``X`` : ndarray of shape (64, 1797), float64, each column an image
        flattened row by row (``X[:, n].reshape(8, 8)`` gives it back);
        ``y`` : ndarray of shape (1797,), int64, the digit 0..9.

    Notes
    -----
    The data ship inside scikit-learn (``sklearn.datasets.load_digits`` reads
    files installed with the package), so nothing is downloaded. Each pixel
    counts the ink in a 4 x 4 block of a 32 x 32 bitmap, hence 0..16. Some
    border pixels are 0 in every image: see :class:`Standardizer`.

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, y.shape, X.dtype, y.dtype
    ((64, 1797), (1797,), dtype('float64'), dtype('int64'))
    >>> float(X.max()), int(y[0])
    (16.0, 0)
    """
    func = "load_digits"
    _check_layout(layout, func)
    if not isinstance(scale, (bool, np.bool_)):
        raise TypeError(f"{func}: scale must be True or False, got {scale!r}.")
    from sklearn.datasets import load_digits as _sk_load_digits  # imported here: sklearn is slow to import

    bunch = _sk_load_digits()
    X = np.array(bunch.data, dtype=np.float64).T  # sklearn gives (N, D) rows; the course uses columns
    if scale:
        X = X / 16.0
    y = np.asarray(bunch.target).astype(np.int64)
    return Dataset(_in_layout(np.ascontiguousarray(X), layout), y)


# ----------------------------------------------------------------------------- IDX files


def read_idx(path: str | PathLike[str]) -> NDArray[Any]:
    """Read one IDX file (plain or gzipped) into a numpy array.

    Parameters
    ----------
    path : str or path-like
        The file. Gzip compression is recognised by its first two bytes, not
        by the name.

    Returns
    -------
    ndarray
        Shape as given in the header (MNIST images: (N, 28, 28); labels:
        (N,)), dtype as given by the type code (uint8 for MNIST), in native
        byte order, writable.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the header is corrupt (first two bytes not zero, unknown type code,
        no dimensions), the file is truncated, or bytes follow the data.

    Notes
    -----
    An IDX file is a header followed by the data in C order, big-endian:
    the magic number ``0x00 0x00 <type code> <number of dimensions d>``, then
    d big-endian uint32 sizes. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64. MNIST images have magic
    0x00000803 and labels 0x00000801.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_idx(os.path.join(tmp, "demo-idx2-ubyte.gz"), np.arange(6, dtype=np.uint8).reshape(2, 3))
    ...     read_idx(p)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    func = "read_idx"
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{func}: no file {str(p)!r}.")
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(
                f"{func}: {p.name} is gzipped but cannot be decompressed ({exc}); the file is "
                "truncated or corrupt: obtain it again."
            ) from exc
    else:
        data = raw
    where = f"{func}: {p.name}"
    if len(data) < 4:
        raise ValueError(
            f"{where} is truncated: {len(data)} bytes, shorter than the 4-byte IDX magic number."
        )
    if data[0] != 0 or data[1] != 0:
        magic = int.from_bytes(data[:4], "big")
        raise ValueError(
            f"{where} is not an IDX file: magic number 0x{magic:08X}, but an IDX file starts "
            "with two zero bytes (0x0000TTDD: type code TT, DD dimensions; MNIST images 0x00000803, "
            "labels 0x00000801). Is it an HTML page saved by mistake, or compressed twice?"
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} {dt.name}" for c, dt in _IDX_DTYPES.items())
        raise ValueError(f"{where} has unknown IDX type code 0x{code:02X}; known codes: {known}.")
    if ndim == 0:
        raise ValueError(f"{where} has a corrupt header: it declares 0 dimensions.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{where} is truncated: the header declares {ndim} dimensions ({header} header bytes) "
            f"but the file has {len(data)} bytes."
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    count = math.prod(dims)
    expected = count * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(
            f"{where} is truncated: shape {shape_str(dims)} of {dtype.name} needs {expected} data "
            f"bytes, found {found}. Obtain the file again."
        )
    if found > expected:
        raise ValueError(
            f"{where} is corrupt: shape {shape_str(dims)} of {dtype.name} needs {expected} data "
            f"bytes, but {found - expected} more bytes follow them."
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))  # a native-order, writable copy


def write_idx(path: str | PathLike[str], array: ArrayLike) -> Path:
    """Write an array as an IDX file; gzipped when ``path`` ends in ``.gz``.

    Parameters
    ----------
    path : str or path-like
        Target file (overwritten). The folder must exist.
    array : array_like
        Any shape with 1 to 255 dimensions; dtype uint8, int8, int16, int32,
        float32 or float64 (convert first, e.g. ``images.astype(np.uint8)``).
        Not modified.

    Returns
    -------
    Path
        The path written.

    Notes
    -----
    Writes the magic number ``0x00 0x00 <type code> <ndim>``, the sizes as
    big-endian uint32, then the values big-endian in C order; the format
    :func:`read_idx` reads (see there for the type codes). Useful for making
    small MNIST-like files in tests and exercises.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_idx(os.path.join(tmp, "labels-idx1-ubyte"), np.array([5, 0, 4], dtype=np.uint8))
    ...     p.read_bytes().hex(" ")
    '00 00 08 01 00 00 00 03 05 00 04'
    """
    func = "write_idx"
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=") if arr.dtype.byteorder not in ("=", "|") else arr.dtype
    code = _IDX_CODES.get(native)
    if code is None:
        known = ", ".join(dt.newbyteorder("=").name for dt in _IDX_DTYPES.values())
        raise TypeError(
            f"{func}: IDX cannot store dtype {arr.dtype}; supported: {known}. Convert first, e.g. "
            "images.astype(np.uint8) for 0..255 pixels or labels.astype(np.uint8)."
        )
    if not 1 <= arr.ndim <= 255:
        raise ValueError(f"{func}: array must have 1 to 255 dimensions, got shape {shape_str(arr.shape)}.")
    if any(d >= 2**32 for d in arr.shape):
        raise ValueError(f"{func}: every size must be below 2**32, got shape {shape_str(arr.shape)}.")
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(arr, dtype=_IDX_DTYPES[code]).tobytes()
    payload = header + body
    p = Path(path)
    if p.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    p.write_bytes(payload)
    return p


def _mnist_file(folder: Path, base: str, kind: str) -> Path:
    for name in (base, base + ".gz"):
        if (folder / name).is_file():
            return folder / name
    images, labels = MNIST_FILES[kind]
    every = ", ".join(f"{b} (or {b}.gz)" for pair in MNIST_FILES.values() for b in pair)
    near = sorted(
        f.name for f in folder.iterdir() if f.is_file() and ("idx" in f.name.lower() or "ubyte" in f.name.lower())
    )
    found = f" IDX-like files found there: {', '.join(near)} (rename them to the expected names)." if near else ""
    raise FileNotFoundError(
        f"load_mnist: {base!r} (or {base + '.gz'!r}) is missing in {str(folder)!r}. "
        f"kind={kind!r} reads {images} and {labels}, each plain or gzipped (.gz).{found} "
        f"The four MNIST files are: {every}. fnnlib never downloads: obtain the IDX files of the "
        f"MNIST database (for example from {' or '.join(_MNIST_MIRRORS)}) and save them unchanged "
        "into that folder (gzipped is fine)."
    )


def load_mnist(
    folder: str | PathLike[str],
    kind: str = "train",
    *,
    layout: str = "columns",
    scale: bool = False,
) -> Dataset:
    """Read MNIST from its IDX files in a folder the user names (no download).

    Parameters
    ----------
    folder : str or path-like
        Folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``
        (for ``kind="train"``) and ``t10k-images-idx3-ubyte``,
        ``t10k-labels-idx1-ubyte`` (for ``kind="test"``), each plain or
        gzipped (the same name plus ``.gz``). A plain file wins over a
        gzipped one.
    kind : {"train", "test"}
        The 60,000 training images or the 10,000 test images.
    layout : {"columns", "rows"}
        ``"columns"`` (default): ``X`` of shape (D, N) = (784, N), one column
        per image; ``"rows"``: ``X`` of shape (N, 784).
    scale : bool, default False
        False keeps the pixel values 0..255 (as float64); True divides them
        by 255 so they lie in [0, 1].

    Returns
    -------
    Dataset
        ``X`` : ndarray of shape (D, N) = (784, N), float64, each column a
        28 x 28 image flattened row by row (``X[:, n].reshape(28, 28)``);
        ``y`` : ndarray of shape (N,), int64, the digit 0..9.

    Raises
    ------
    FileNotFoundError
        If the folder or a file is missing; the message lists the expected
        names and where the MNIST IDX files can be obtained.
    ValueError
        If a header is corrupt or a file truncated (see :func:`read_idx`), or
        images and labels do not match.

    Notes
    -----
    The images file holds a uint8 array of shape (N, 28, 28) (magic
    0x00000803), the labels file a uint8 array of shape (N,) (magic
    0x00000801); see :func:`read_idx`. Files of the same format with another
    image size (e.g. Fashion-MNIST) load too, with D = rows * cols.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_idx(Path(tmp) / "t10k-images-idx3-ubyte.gz", np.zeros((5, 28, 28), np.uint8))
    ...     _ = write_idx(Path(tmp) / "t10k-labels-idx1-ubyte", np.arange(5, dtype=np.uint8))
    ...     X, y = load_mnist(tmp, kind="test")
    >>> X.shape, y
    ((784, 5), array([0, 1, 2, 3, 4]))
    """
    func = "load_mnist"
    kind = check_choice(kind, MNIST_FILES.keys(), "kind", func)
    _check_layout(layout, func)
    if not isinstance(scale, (bool, np.bool_)):
        raise TypeError(f"{func}: scale must be True or False, got {scale!r}.")
    root = Path(folder)
    if not root.is_dir():
        names = ", ".join(f"{b} (or {b}.gz)" for pair in MNIST_FILES.values() for b in pair)
        raise FileNotFoundError(
            f"{func}: folder {str(root)!r} does not exist or is not a folder. Name the folder that "
            f"holds the MNIST IDX files {names}. fnnlib never downloads: obtain them (for example "
            f"from {' or '.join(_MNIST_MIRRORS)}) and save them there."
        )
    images_name, labels_name = MNIST_FILES[kind]
    images_path = _mnist_file(root, images_name, kind)
    labels_path = _mnist_file(root, labels_name, kind)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(
            f"{func}: {images_path.name} holds an array of shape {shape_str(images.shape)}; expected "
            "images of shape (N, rows, cols) = (N, 28, 28). Are the images and labels files swapped?"
        )
    if labels.ndim != 1:
        raise ValueError(
            f"{func}: {labels_path.name} holds an array of shape {shape_str(labels.shape)}; expected "
            "labels of shape (N,). Are the images and labels files swapped?"
        )
    if labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"{func}: {images_path.name} holds N = {images.shape[0]} images but {labels_path.name} "
            f"holds {labels.shape[0]} labels; the two files must come from the same part ({kind!r})."
        )
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and labels.min() < 0):
        raise ValueError(
            f"{func}: {labels_path.name} must hold non-negative integer labels, got dtype {labels.dtype}."
        )
    n, rows, cols = images.shape
    X = images.reshape(n, rows * cols).astype(np.float64).T  # (D, N): one column per image
    if scale:
        X = X / 255.0
    return Dataset(_in_layout(np.ascontiguousarray(X), layout), labels.astype(np.int64))


# ----------------------------------------------------------------------------- splitting


def _largest_remainder(quotas: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integers that sum to ``total``, each the floor or the ceiling of its quota."""
    base = np.floor(quotas).astype(np.int64)
    left = total - int(base.sum())
    order = np.argsort(-(quotas - base), kind="stable")
    base[order[:left]] += 1
    return base


def _complete(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64] | None,
    cap: NDArray[np.bool_],
    pref: NDArray[np.float64],
) -> NDArray[np.int64] | None:
    """A 0/1 matrix E (C, K) with E <= cap, row sums ``rows`` and column sums ``cols``.

    ``cols=None`` leaves the column sums free. Starts from a greedy fill that
    prefers large ``pref``, then repairs it with augmenting paths (a small
    max-flow over classes and parts). Returns None when no such matrix exists.
    """
    n_rows, n_cols = cap.shape
    col_cap = np.full(n_cols, np.iinfo(np.int64).max // 4) if cols is None else cols.copy()
    E = np.zeros(cap.shape, dtype=np.int64)
    for c in range(n_rows):  # greedy start
        for k in np.argsort(-pref[c], kind="stable"):
            if E[c].sum() < rows[c] and cap[c, k] and E[:, k].sum() < col_cap[k]:
                E[c, k] = 1
    while True:
        row_short = rows - E.sum(axis=1)
        if not row_short.any():
            break
        # Breadth-first search for an augmenting path: row (short) -> part -> row -> ... -> part with room.
        col_room = col_cap - E.sum(axis=0)
        parent_col: dict[int, int] = {}  # part -> row it was reached from
        parent_row: dict[int, int] = {}  # row -> part it was reached from (-1: a start row)
        frontier = [int(c) for c in np.flatnonzero(row_short > 0)]
        for c in frontier:
            parent_row[c] = -1
        end = -1
        while frontier and end < 0:
            nxt: list[int] = []
            for c in frontier:
                for k in np.flatnonzero(cap[c] & (E[c] == 0)):
                    k = int(k)
                    if k in parent_col:
                        continue
                    parent_col[k] = c
                    if col_room[k] > 0:
                        end = k
                        break
                    for c2 in np.flatnonzero(E[:, k] == 1):
                        c2 = int(c2)
                        if c2 not in parent_row:
                            parent_row[c2] = k
                            nxt.append(c2)
                if end >= 0:
                    break
            frontier = nxt
        if end < 0:
            return None
        k = end
        while True:  # flip the path
            c = parent_col[k]
            E[c, k] = 1
            back = parent_row[c]
            if back < 0:
                break
            E[c, back] = 0
            k = back
    if cols is not None and not np.array_equal(E.sum(axis=0), cols):
        return None
    return E


def _allocate(counts: NDArray[np.int64], fractions: NDArray[np.float64]) -> NDArray[np.int64]:
    """Per-class, per-part counts m (C, K) for :func:`stratified_split`.

    Row c sums to counts[c]; each entry is the floor of its ideal
    counts[c] * fractions[k] or one more (so within 1 of it), and 0 in a part
    with fraction 0. Column k sums to the largest-remainder rounding of
    N * fractions[k] whenever such a matrix exists (otherwise the columns are
    left free). A class with at least as many examples as there are parts
    gets an example in every part with a positive fraction when that keeps
    the other guarantees.
    """
    n_total = int(counts.sum())
    sizes = _largest_remainder(n_total * fractions, n_total)
    ideal = counts[:, None] * fractions[None, :]
    floor = np.floor(ideal).astype(np.int64)
    positive = np.broadcast_to(fractions > 0, ideal.shape)
    n_parts = int((fractions > 0).sum())
    present = positive & (floor == 0) & (counts[:, None] >= n_parts)  # ideal in (0, 1): 1 is within 1

    def attempt(lower: NDArray[np.bool_], cols: NDArray[np.int64] | None) -> NDArray[np.int64] | None:
        low = floor + lower
        rows = counts - low.sum(axis=1)
        col_sums = None if cols is None else cols - low.sum(axis=0)
        if rows.min() < 0 or (col_sums is not None and (col_sums.min() < 0 or col_sums.sum() != rows.sum())):
            return None
        E = _complete(rows, col_sums, positive & ~lower, ideal - floor)
        return None if E is None else low + E

    m = attempt(present, sizes)
    if m is not None:
        return m
    m = attempt(np.zeros_like(present), sizes)
    if m is None:
        return attempt(np.zeros_like(present), None)  # type: ignore[return-value]
    # Not every class fits in every part: keep as many presence wishes as the sizes allow.
    kept = np.zeros_like(present)
    for c, k in sorted(zip(*np.nonzero(present)), key=lambda ck: -ideal[ck]):
        trial = kept.copy()
        trial[c, k] = True
        found = attempt(trial, sizes)
        if found is not None:
            kept, m = trial, found
    return m


def stratified_split(
    X: ArrayLike,
    y: ArrayLike,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    rng: np.random.Generator | int | None = None,
    *,
    layout: str = "columns",
) -> Split:
    """Split into train, validation and test parts that keep the class proportions.

    Parameters
    ----------
    X : array_like of shape (D, N)
        Inputs, one column per example (or (N, D) with ``layout="rows"``).
        Not modified.
    y : array_like of shape (N,)
        Integer class labels.
    fractions : (float, float, float), default (0.6, 0.2, 0.2)
        Fractions (train, validation, test), each >= 0, summing to 1; the
        training fraction must be positive. A zero fraction gives an empty part.
    rng : numpy Generator, int seed or None
        Source of randomness; the same seed gives the same split.
    layout : {"columns", "rows"}
        Layout of ``X`` and of the returned ``X_*``.

    Returns
    -------
    Split
        ``(X_train, y_train, X_val, y_val, X_test, y_test)``; ``X_*`` of shape
        (D, N_part), one column per example (or (N_part, D) with
        ``layout="rows"``), new arrays; ``y_*`` of shape (N_part,), int64.
        Every example lands in exactly one part; each part is shuffled.

    Notes
    -----
    Part sizes are ``N_k ≈ N f_k`` (rounded so they sum to N). A class with
    ``N_c`` examples puts ``N_{c,k}`` of them in part k with
    ``|N_{c,k} - N_c f_k| <= 1``, so every part has nearly the class mix of
    the whole. A class with at least three examples appears in every part
    whose fraction is positive whenever that is compatible with these two
    rules (it is for the usual fractions and classes of a dozen examples or
    more). Which examples go where is random (through ``rng``); the counts
    come from a small max-flow over classes and parts.

    Examples
    --------
    >>> X, y = load_digits()
    >>> s = stratified_split(X, y, (0.6, 0.2, 0.2), rng=0)
    >>> s.X_train.shape, s.X_val.shape, s.X_test.shape
    ((64, 1078), (64, 360), (64, 359))
    >>> np.bincount(s.y_test)
    array([36, 36, 35, 37, 36, 36, 36, 36, 35, 36])
    """
    func = "stratified_split"
    _check_layout(layout, func)
    Xa = as_float_array(X, "X", func)
    if Xa.ndim != 2:
        sym = "(D, N)" if layout == "columns" else "(N, D)"
        raise ValueError(f"{func}: X has shape {shape_str(Xa.shape)}; expected a 2-D array {sym}.")
    n = Xa.shape[1] if layout == "columns" else Xa.shape[0]
    yarr = np.asarray(y)
    if layout == "columns" and yarr.ndim == 1 and yarr.shape[0] == Xa.shape[0] != n:
        raise ValueError(
            f"{func}: y has {yarr.shape[0]} labels but X of shape {shape_str(Xa.shape)} has N = {n} "
            "columns; expected X of shape (D, N), one column per example. Did you pass the (N, D) "
            "array? Pass X.T, or layout='rows'."
        )
    labels = _as_labels(yarr, "y", func, n)
    try:
        f = np.asarray(fractions, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{func}: fractions must be three numbers (train, val, test), got {fractions!r}.") from exc
    if f.shape != (3,) or not np.all(np.isfinite(f)) or np.any(f < 0) or f[0] <= 0 or abs(f.sum() - 1) > 1e-9:
        raise ValueError(
            f"{func}: fractions must be three numbers (train, val, test), each >= 0, train > 0, "
            f"summing to 1, e.g. (0.6, 0.2, 0.2); got {fractions!r}."
        )
    f = f / f.sum()
    gen = make_rng(rng, func)
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes)).astype(np.int64)
    m = _allocate(counts, f)
    parts: list[list[NDArray[np.int64]]] = [[], [], []]
    for c in range(len(classes)):
        idx = gen.permutation(np.flatnonzero(inverse == c))
        edges = np.cumsum(m[c])
        for k, piece in enumerate(np.split(idx, edges[:-1])):
            parts[k].append(piece)
    out: list[NDArray[Any]] = []
    for k in range(3):
        idx = gen.permutation(np.concatenate(parts[k]).astype(np.int64))
        Xk = Xa[:, idx] if layout == "columns" else Xa[idx, :]
        out.extend([Xk, labels[idx]])
    return Split(*out)


# ----------------------------------------------------------------------------- standardising


class Standardizer:
    """Per-feature standardisation with statistics of the training part only.

    Parameters
    ----------
    layout : {"columns", "rows"}
        ``"columns"`` (default): arrays of shape (D, N), one column per
        example, statistics over the columns axis (axis 1); ``"rows"``:
        arrays of shape (N, D), statistics over axis 0.

    Attributes
    ----------
    mean_ : ndarray of shape (D,)
        Per-feature mean ``μ_d`` of the training inputs.
    std_ : ndarray of shape (D,)
        Per-feature standard deviation ``σ_d`` (ddof = 0).
    scale_ : ndarray of shape (D,)
        The divisor used: ``σ_d``, or 1 for a constant feature.
    constant_ : ndarray of shape (D,), bool
        Features that were (numerically) constant in the training part.

    Notes
    -----
    ``transform`` computes ``x̃_d = (x_d - μ_d) / s_d`` with ``s_d = σ_d``,
    where ``μ_d`` and ``σ_d`` come from ``fit`` on the training part. Fitting
    on validation or test data would leak information about them into the
    model, so fit once on the training part and transform the others.

    A constant feature (``σ_d <= 10 ε max(1, |μ_d|)``, e.g. a digit border
    pixel that is 0 in every training image) gets ``s_d = 1``: no division by
    zero; it becomes 0 in the training part, and in other parts shows its
    deviation from the training constant in the original units (as
    scikit-learn's ``StandardScaler`` does).

    Examples
    --------
    >>> X_train = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])  # (D, N) = (2, 3); feature 2 constant
    >>> s = Standardizer().fit(X_train)
    >>> s.mean_, s.scale_
    (array([2., 5.]), array([0.81649658, 1.        ]))
    >>> s.transform(np.array([[2.0], [6.0]]))  # a test column, with the training statistics
    array([[0.],
           [1.]])
    """

    def __init__(self, layout: str = "columns") -> None:
        self.layout = _check_layout(layout, "Standardizer")
        self.mean_: NDArray[np.float64] | None = None
        self.std_: NDArray[np.float64] | None = None
        self.scale_: NDArray[np.float64] | None = None
        self.constant_: NDArray[np.bool_] | None = None

    def __repr__(self) -> str:
        state = "unfitted" if self.mean_ is None else f"D={self.mean_.shape[0]}"
        return f"Standardizer(layout={self.layout!r}, {state})"

    @property
    def _axis(self) -> int:
        return 1 if self.layout == "columns" else 0

    def _check_X(self, X: ArrayLike, func: str) -> NDArray[np.float64]:
        Xa = as_float_array(X, "X", func)
        sym = "(D, N)" if self.layout == "columns" else "(N, D)"
        if Xa.ndim != 2:
            hint = " For one example use x[:, None]." if Xa.ndim == 1 and self.layout == "columns" else ""
            raise ValueError(f"{func}: X has shape {shape_str(Xa.shape)}; expected a 2-D array {sym}.{hint}")
        return Xa

    def fit(self, X: ArrayLike) -> Standardizer:
        """Learn ``mean_``, ``std_``, ``scale_`` from the training inputs.

        Parameters
        ----------
        X : array_like of shape (D, N)
            Training inputs, one column per example (or (N, D) with
            ``layout="rows"``), N >= 1. Not modified.

        Returns
        -------
        Standardizer
            ``self``, so ``Standardizer().fit(X_train)`` reads naturally.

        Notes
        -----
        ``μ_d = (1/N) Σ_n x_{d,n}``, ``σ_d = sqrt((1/N) Σ_n (x_{d,n} - μ_d)²)``.

        Examples
        --------
        >>> Standardizer().fit(np.array([[0.0, 2.0]])).mean_
        array([1.])
        """
        Xa = self._check_X(X, "Standardizer.fit")
        if Xa.shape[self._axis] == 0:
            raise ValueError("Standardizer.fit: X has no examples (N = 0); fit needs N >= 1.")
        mean = Xa.mean(axis=self._axis)
        std = Xa.std(axis=self._axis)
        constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        scale = np.where(constant, 1.0, std)
        for arr in (mean, std, scale, constant):
            arr.setflags(write=False)
        self.mean_, self.std_, self.scale_, self.constant_ = mean, std, scale, constant
        return self

    def _fitted(self, func: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.mean_ is None or self.scale_ is None:
            raise RuntimeError(f"{func}: this Standardizer is not fitted yet; call fit(X_train) first.")
        return self.mean_, self.scale_

    def _broadcast(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        return v[:, None] if self.layout == "columns" else v[None, :]

    def _check_D(self, Xa: NDArray[np.float64], func: str) -> None:
        d = self.mean_.shape[0]  # type: ignore[union-attr]
        if self.layout == "columns":
            check_shape(Xa, (d, None), "X", func, symbols="(D, N)")
        elif Xa.shape[1] != d:
            raise ValueError(
                f"{func}: X has shape {shape_str(Xa.shape)}; expected (N, D) = (N, {d}), one row per "
                "example (layout='rows'), with the D features seen by fit."
            )

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Standardise ``X`` with the statistics learned by ``fit``.

        Parameters
        ----------
        X : array_like of shape (D, N)
            Inputs with the same D features as the training part (or (N, D)
            with ``layout="rows"``). Not modified.

        Returns
        -------
        ndarray of shape (D, N), float64
            A new array ``(X - μ) / s``, feature by feature.

        Notes
        -----
        ``x̃_{d,n} = (x_{d,n} - μ_d) / s_d`` with the training ``μ_d``, ``s_d``.

        Examples
        --------
        >>> Standardizer().fit(np.array([[0.0, 2.0]])).transform(np.array([[4.0]]))
        array([[3.]])
        """
        func = "Standardizer.transform"
        mean, scale = self._fitted(func)
        Xa = self._check_X(X, func)
        self._check_D(Xa, func)
        return (Xa - self._broadcast(mean)) / self._broadcast(scale)

    def fit_transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """``fit(X)`` then ``transform(X)``: for the training part only.

        Parameters
        ----------
        X : array_like of shape (D, N)
            Training inputs, one column per example. Not modified.

        Returns
        -------
        ndarray of shape (D, N), float64
            Standardised training inputs: each non-constant feature has
            mean 0 and standard deviation 1.

        Notes
        -----
        Same formula as :meth:`transform`, with statistics from ``X`` itself.

        Examples
        --------
        >>> Standardizer().fit_transform(np.array([[0.0, 2.0]]))
        array([[-1.,  1.]])
        """
        return self.fit(X).transform(X)

    def inverse_transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Undo :meth:`transform`: ``x = x̃ s + μ``.

        Parameters
        ----------
        X : array_like of shape (D, N)
            Standardised inputs (or (N, D) with ``layout="rows"``). Not modified.

        Returns
        -------
        ndarray of shape (D, N), float64
            A new array in the original units.

        Notes
        -----
        ``x_{d,n} = x̃_{d,n} s_d + μ_d``.

        Examples
        --------
        >>> s = Standardizer().fit(np.array([[0.0, 2.0]]))
        >>> s.inverse_transform(s.transform(np.array([[4.0]])))
        array([[4.]])
        """
        func = "Standardizer.inverse_transform"
        mean, scale = self._fitted(func)
        Xa = self._check_X(X, func)
        self._check_D(Xa, func)
        return Xa * self._broadcast(scale) + self._broadcast(mean)
