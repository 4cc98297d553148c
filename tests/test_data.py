"""Tests for fnnlib.data: toy sets, digits, IDX/MNIST files, splitting, standardising.

No network access: MNIST-like IDX files are written by the tests themselves into tmp_path.
"""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fnnlib import data
from fnnlib.data import (
    MNIST_FILES,
    Standardizer,
    load_digits,
    load_mnist,
    read_idx,
    stratified_split,
    two_moons,
    write_idx,
    xor,
)

ALL_MNIST_NAMES = [name for pair in MNIST_FILES.values() for name in pair]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# ----------------------------------------------------------------------------- xor, two moons


def test_xor_points_labels_and_layouts():
    X, y = xor()
    assert X.shape == (2, 4) and X.dtype == np.float64
    assert y.dtype == np.int64
    # y = x1 XOR x2, column by column
    np.testing.assert_array_equal(y, np.logical_xor(X[0], X[1]).astype(int))
    Xr, yr = xor(layout="rows")
    assert Xr.shape == (4, 2)
    np.testing.assert_array_equal(Xr, X.T)
    np.testing.assert_array_equal(yr, y)


def test_xor_rejects_unknown_layout():
    with pytest.raises(ValueError, match="'columns', 'rows'"):
        xor(layout="cols")


@pytest.mark.parametrize("n", [2, 7, 100, 201])
def test_two_moons_is_balanced(n):
    X, y = two_moons(n, noise=0.2, rng=1)
    assert X.shape == (2, n) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=2)
    assert counts.sum() == n and abs(counts[0] - counts[1]) <= n % 2
    assert set(np.unique(y)) == {0, 1}


def test_two_moons_seeding():
    a = two_moons(50, 0.1, rng=3)
    b = two_moons(50, 0.1, rng=3)
    c = two_moons(50, 0.1, rng=4)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.allclose(a.X, c.X)
    # a Generator is used as given: two draws from one generator differ
    gen = np.random.default_rng(3)
    first, second = two_moons(50, 0.1, rng=gen), two_moons(50, 0.1, rng=gen)
    np.testing.assert_array_equal(first.X, a.X)
    assert not np.allclose(first.X, second.X)


def test_two_moons_leaves_global_random_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    two_moons(20, 0.1, rng=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_two_moons_without_noise_lies_on_the_half_circles():
    X, y = two_moons(300, noise=0.0, rng=0)
    up, low = X[:, y == 0], X[:, y == 1]
    # class 0: (cos t, sin t); class 1: (1 - cos t, 1/2 - sin t), t in [0, pi]
    np.testing.assert_allclose(up[0] ** 2 + up[1] ** 2, 1.0)
    assert np.all(up[1] >= 0)
    np.testing.assert_allclose((low[0] - 1) ** 2 + (low[1] - 0.5) ** 2, 1.0)
    assert np.all(low[1] <= 0.5)
    # the two classes interleave: neither is linearly separable along x1 alone
    assert up[0].max() > low[0].min()


def test_two_moons_layout_rows_is_the_transpose():
    Xc, yc = two_moons(40, 0.1, rng=5)
    Xr, yr = two_moons(40, 0.1, rng=5, layout="rows")
    assert Xr.shape == (40, 2)
    np.testing.assert_array_equal(Xr, Xc.T)
    np.testing.assert_array_equal(yr, yc)


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        ({"n": 1}, ValueError, "n must be an integer >= 2"),
        ({"n": 10.0}, TypeError, "n must be an integer"),
        ({"noise": -0.1}, ValueError, "noise"),
        ({"noise": float("nan")}, ValueError, "noise"),
        ({"noise": "0.1"}, TypeError, "noise"),
        ({"rng": "seed"}, TypeError, "rng"),
        ({"layout": "row"}, ValueError, "layout"),
    ],
)
def test_two_moons_rejects_bad_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        two_moons(**{"n": 10, **kwargs})


# ----------------------------------------------------------------------------- digits


def test_load_digits_layout_dtype_and_values(digits):
    X, y = digits
    assert X.shape == (64, 1797) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 16.0
    assert set(np.unique(y)) == set(range(10))


def test_load_digits_matches_sklearn_transposed(digits):
    from sklearn.datasets import load_digits as sk_load_digits

    sk = sk_load_digits()
    # sklearn stores one example per row (N, D); the course layout is its transpose (D, N)
    np.testing.assert_array_equal(digits.X, sk.data.T)
    np.testing.assert_array_equal(digits.y, sk.target)
    # column n reshaped row by row is image n
    np.testing.assert_array_equal(digits.X[:, 5].reshape(8, 8), sk.images[5])


def test_load_digits_rows_and_scale(digits):
    Xr, yr = load_digits(layout="rows")
    assert Xr.shape == (1797, 64)
    np.testing.assert_array_equal(Xr, digits.X.T)
    Xs, _ = load_digits(scale=True)
    np.testing.assert_allclose(Xs, digits.X / 16.0)
    assert Xs.max() == 1.0
    with pytest.raises(TypeError, match="scale"):
        load_digits(scale="yes")


# ----------------------------------------------------------------------------- IDX files


def test_write_idx_header_by_hand(tmp_path):
    # magic 00 00 08 (uint8) 02 (two dims), sizes 2 and 3 as big-endian uint32, then the bytes
    p = write_idx(tmp_path / "tiny-idx2-ubyte", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8))
    assert p.read_bytes() == bytes.fromhex("00000802" "00000002" "00000003" "010203040506")
    # int32 values are written big-endian: 258 = 0x00000102
    p = write_idx(tmp_path / "ints-idx1", np.array([258], dtype=np.int32))
    assert p.read_bytes() == bytes.fromhex("00000C01" "00000001" "00000102")


IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@settings(deadline=None, max_examples=40)
@given(
    dtype=st.sampled_from(IDX_DTYPES),
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=4).map(tuple),
    gz=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_idx_round_trip_property(tmp_path_factory, dtype, shape, gz, seed):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    else:
        arr = rng.standard_normal(shape).astype(dtype)
    path = tmp_path_factory.mktemp("idx") / ("a-idx" + (".gz" if gz else ""))
    before = arr.copy()
    write_idx(path, arr)
    np.testing.assert_array_equal(arr, before)  # not mutated
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    np.testing.assert_array_equal(back, arr)
    assert back.flags.writeable


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    gz = write_idx(tmp_path / "x-idx2-ubyte.gz", arr)
    renamed = tmp_path / "x-idx2-ubyte"
    renamed.write_bytes(gz.read_bytes())
    assert renamed.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(renamed), arr)


def test_read_idx_big_endian_words(tmp_path):
    # int16 -2 is 0xFFFE big-endian; float32 1.0 is 0x3F800000
    p = tmp_path / "w"
    p.write_bytes(bytes.fromhex("00000B01 00000002 FFFE 0001".replace(" ", "")))
    np.testing.assert_array_equal(read_idx(p), np.array([-2, 1], dtype=np.int16))
    p.write_bytes(bytes.fromhex("00000D01 00000001 3F800000".replace(" ", "")))
    assert read_idx(p).tolist() == [1.0]


@pytest.mark.parametrize(
    "payload, pattern",
    [
        (bytes.fromhex("01000801 00000001 05".replace(" ", "")), "magic number 0x01000801"),
        (b"<!DOCTYPE html><html>", "not an IDX file"),
        (bytes.fromhex("0000"), "truncated"),
        (bytes.fromhex("00000803 00000002 0000".replace(" ", "")), "truncated: the header declares 3"),
        (bytes.fromhex("00000801 00000005 0102".replace(" ", "")), "truncated: shape \\(5,\\)"),
        (bytes.fromhex("00000801 00000001 0102".replace(" ", "")), "1 more bytes"),
        (bytes.fromhex("00000A01 00000001 00".replace(" ", "")), "unknown IDX type code 0x0A"),
        (bytes.fromhex("00000800".replace(" ", "")), "0 dimensions"),
    ],
)
def test_read_idx_rejects_corrupt_files(tmp_path, payload, pattern):
    p = tmp_path / "bad-idx1-ubyte"
    p.write_bytes(payload)
    with pytest.raises(ValueError, match=pattern):
        read_idx(p)


def test_read_idx_rejects_corrupt_gzip(tmp_path):
    good = gzip.compress(bytes.fromhex("00000801 00000003 010203".replace(" ", "")))
    p = tmp_path / "cut-idx1-ubyte.gz"
    p.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="gzipped but cannot be decompressed"):
        read_idx(p)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="astype\\(np.uint8\\)"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "x", np.array(3, dtype=np.uint8))


# ----------------------------------------------------------------------------- MNIST


def _fake_mnist(folder, kind="train", n=7, gz=False, seed=0, rows=28, cols=28):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    img_name, lbl_name = MNIST_FILES[kind]
    suffix = ".gz" if gz else ""
    write_idx(folder / (img_name + suffix), images)
    write_idx(folder / (lbl_name + suffix), labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("kind", ["train", "test"])
def test_load_mnist_round_trip(tmp_path, kind, gz):
    images, labels = _fake_mnist(tmp_path, kind, n=9, gz=gz)
    if gz:
        assert (tmp_path / (MNIST_FILES[kind][0] + ".gz")).read_bytes()[:2] == b"\x1f\x8b"
    X, y = load_mnist(tmp_path, kind=kind)
    assert X.shape == (784, 9) and X.dtype == np.float64
    assert y.shape == (9,) and y.dtype == np.int64
    # one column per image, flattened row by row
    np.testing.assert_array_equal(X, images.reshape(9, 784).T.astype(np.float64))
    np.testing.assert_array_equal(X[:, 4].reshape(28, 28), images[4])
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_layout_rows_and_scale(tmp_path):
    images, labels = _fake_mnist(tmp_path, "train", n=5)
    Xr, yr = load_mnist(tmp_path, layout="rows")
    assert Xr.shape == (5, 784)
    np.testing.assert_array_equal(Xr, images.reshape(5, 784))
    Xs, _ = load_mnist(str(tmp_path), scale=True)
    np.testing.assert_allclose(Xs, images.reshape(5, 784).T / 255.0)
    assert 0.0 <= Xs.min() and Xs.max() <= 1.0


def test_load_mnist_prefers_the_plain_file(tmp_path):
    _fake_mnist(tmp_path, "train", n=4, gz=True, seed=1)
    images, labels = _fake_mnist(tmp_path, "train", n=4, gz=False, seed=2)
    X, y = load_mnist(tmp_path)
    np.testing.assert_array_equal(X, images.reshape(4, -1).T)


def test_load_mnist_mixed_plain_and_gzip(tmp_path):
    images, labels = _fake_mnist(tmp_path, "test", n=3, gz=True)
    plain = tmp_path / MNIST_FILES["test"][1]
    plain.write_bytes(gzip.decompress((tmp_path / (plain.name + ".gz")).read_bytes()))
    (tmp_path / (plain.name + ".gz")).unlink()
    X, y = load_mnist(tmp_path, "test")
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_missing_file_lists_expected_names(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, kind="train")
    msg = str(info.value)
    for name in ALL_MNIST_NAMES:
        assert name in msg and f"{name}.gz" in msg
    assert str(tmp_path) in msg
    assert "never downloads" in msg and "https://" in msg


def test_load_mnist_missing_labels_names_that_file(tmp_path):
    img_name, lbl_name = MNIST_FILES["test"]
    write_idx(tmp_path / img_name, np.zeros((2, 28, 28), np.uint8))
    (tmp_path / "t10k-labels.idx1-ubyte").write_bytes(b"")  # a near miss, as some archives name it
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, kind="test")
    msg = str(info.value)
    assert msg.startswith(f"load_mnist: '{lbl_name}' (or '{lbl_name}.gz') is missing")
    assert "t10k-labels.idx1-ubyte" in msg  # the near miss is pointed out


def test_load_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        load_mnist(tmp_path / "no-such-folder")
    assert all(name in str(info.value) for name in ALL_MNIST_NAMES)


def test_load_mnist_corrupt_magic_raises(tmp_path):
    _fake_mnist(tmp_path, "train", n=3)
    p = tmp_path / MNIST_FILES["train"][0]
    raw = bytearray(p.read_bytes())
    raw[0] = 0x12
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte is not an IDX file"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_raises(tmp_path):
    _fake_mnist(tmp_path, "train", n=3)
    p = tmp_path / MNIST_FILES["train"][0]
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(tmp_path)


def test_load_mnist_mismatched_or_swapped_files(tmp_path):
    img_name, lbl_name = MNIST_FILES["train"]
    write_idx(tmp_path / img_name, np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / lbl_name, np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="N = 4 images but .* 5 labels"):
        load_mnist(tmp_path)
    write_idx(tmp_path / lbl_name, np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / img_name, np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="swapped"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_bad_kind(tmp_path):
    with pytest.raises(ValueError, match="'train', 'test'"):
        load_mnist(tmp_path, kind="validation")


# ----------------------------------------------------------------------------- stratified split


def _with_ids(X):
    """Append a row holding each column's index, to track examples through a split."""
    return np.vstack([X, np.arange(X.shape[1], dtype=np.float64)])


def test_split_digits_sizes_and_stratification(digits):
    X, y = digits
    s = stratified_split(X, y, (0.6, 0.2, 0.2), rng=0)
    # 1797 * (0.6, 0.2, 0.2) = (1078.2, 359.4, 359.4) -> (1078, 360, 359) by largest remainders
    assert [s.X_train.shape, s.X_val.shape, s.X_test.shape] == [(64, 1078), (64, 360), (64, 359)]
    assert [s.y_train.shape, s.y_val.shape, s.y_test.shape] == [(1078,), (360,), (359,)]
    counts = np.bincount(y)
    for part, frac in ((s.y_train, 0.6), (s.y_val, 0.2), (s.y_test, 0.2)):
        assert part.dtype == np.int64
        got = np.bincount(part, minlength=10)
        assert np.all(np.abs(got - frac * counts) <= 1), (got, frac * counts)
        assert np.all(got > 0)  # every class in every part


def test_split_no_overlap_and_labels_follow_examples(digits):
    X, y = digits
    Xi = _with_ids(X)
    s = stratified_split(Xi, y, (0.5, 0.25, 0.25), rng=1)
    ids = [s.X_train[-1].astype(int), s.X_val[-1].astype(int), s.X_test[-1].astype(int)]
    for a in range(3):
        for b in range(a + 1, 3):
            assert not set(ids[a]) & set(ids[b])
    np.testing.assert_array_equal(np.sort(np.concatenate(ids)), np.arange(X.shape[1]))
    for part_ids, part_X, part_y in zip(ids, (s.X_train, s.X_val, s.X_test), (s.y_train, s.y_val, s.y_test)):
        np.testing.assert_array_equal(part_y, y[part_ids])
        np.testing.assert_array_equal(part_X[:-1], X[:, part_ids])


def test_split_is_deterministic_for_a_seed(digits):
    X, y = digits
    a = stratified_split(X, y, rng=7)
    b = stratified_split(X, y, rng=7)
    c = stratified_split(X, y, rng=8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.y_train, c.y_train)


def test_split_parts_are_shuffled(digits):
    X, y = digits
    s = stratified_split(X, y, rng=0)
    assert np.any(np.diff(s.y_train) < 0)  # not sorted by class


def test_split_does_not_mutate_inputs(digits):
    X, y = digits
    X0, y0 = X.copy(), y.copy()
    s = stratified_split(X, y, rng=0)
    s.X_train[:] = -1.0
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_split_rows_layout_matches_columns(digits):
    X, y = digits
    sc = stratified_split(X, y, rng=3)
    sr = stratified_split(X.T, y, rng=3, layout="rows")
    assert sr.X_train.shape == (1078, 64)
    np.testing.assert_array_equal(sr.X_train, sc.X_train.T)
    np.testing.assert_array_equal(sr.y_test, sc.y_test)


def test_split_zero_validation_fraction():
    X, y = two_moons(50, 0.1, rng=0)
    s = stratified_split(X, y, (0.8, 0.0, 0.2), rng=0)
    assert s.X_val.shape == (2, 0) and s.y_val.shape == (0,)
    assert s.X_train.shape == (2, 40) and s.X_test.shape == (2, 10)


def test_split_transposed_X_gets_a_hint(digits):
    X, y = digits
    with pytest.raises(ValueError, match="Pass X.T, or layout='rows'"):
        stratified_split(X.T, y)


@pytest.mark.parametrize(
    "fractions", [(0.5, 0.5), (0.6, 0.3, 0.3), (0.0, 0.5, 0.5), (1.2, -0.1, -0.1), (0.6, float("nan"), 0.4)]
)
def test_split_rejects_bad_fractions(fractions):
    X, y = xor()
    with pytest.raises(ValueError, match="fractions"):
        stratified_split(X, y, fractions)


def test_split_rejects_bad_labels():
    X, _ = xor()
    with pytest.raises(ValueError, match="one label per example"):
        stratified_split(X, [0, 1, 1])
    with pytest.raises(ValueError, match="non-integer"):
        stratified_split(X, [0.2, 0.9, 0.1, 0.7])
    with pytest.raises(ValueError, match="argmax"):
        stratified_split(X, np.eye(2)[[0, 1, 1, 0]].T)


@settings(deadline=None, max_examples=50)
@given(
    counts=st.lists(st.integers(1, 40), min_size=1, max_size=8),
    weights=st.tuples(st.integers(1, 20), st.integers(0, 20), st.integers(0, 20)),
    seed=st.integers(0, 1000),
)
def test_split_property_sizes_and_class_proportions(counts, weights, seed):
    f = np.array(weights, float) / sum(weights)
    y = np.repeat(np.arange(len(counts)), counts)
    N = y.size
    X = np.arange(N, dtype=np.float64)[None, :]  # D = 1: the example's id
    s = stratified_split(X, y, tuple(f), rng=seed)
    parts_y = (s.y_train, s.y_val, s.y_test)
    parts_X = (s.X_train, s.X_val, s.X_test)
    # sizes: floor or ceiling of N f_k, summing to N
    sizes = np.array([p.shape[0] for p in parts_y])
    assert sizes.sum() == N
    assert np.all(np.abs(sizes - N * f) < 1)
    # every example exactly once
    np.testing.assert_array_equal(np.sort(np.concatenate([p[0] for p in parts_X])), np.arange(N))
    # each class within one example of its share in each part; none in a part of fraction 0
    for part, fk in zip(parts_y, f):
        got = np.bincount(part, minlength=len(counts))
        assert np.all(np.abs(got - fk * np.array(counts)) <= 1 + 1e-9)
        if fk == 0:
            assert part.size == 0


# ----------------------------------------------------------------------------- Standardizer


def test_standardizer_uses_training_statistics_only(digits):
    X, y = digits
    s = stratified_split(X, y, rng=0)
    std = Standardizer().fit(s.X_train)
    mu = s.X_train.mean(axis=1)
    sigma = s.X_train.std(axis=1)
    np.testing.assert_allclose(std.mean_, mu)
    np.testing.assert_allclose(std.std_, sigma)
    Z = std.transform(s.X_test)
    expected = (s.X_test - mu[:, None]) / np.where(sigma > 0, sigma, 1.0)[:, None]
    np.testing.assert_allclose(Z, expected)
    # the test part's own statistics would give something else
    own = Standardizer().fit_transform(s.X_test)
    assert not np.allclose(Z, own)


def test_standardizer_matches_sklearn_transposed(digits):
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    s = stratified_split(X, y, rng=2)
    ours = Standardizer().fit(s.X_train)
    # sklearn works on rows (N, D): transpose in and out
    theirs = StandardScaler().fit(s.X_train.T)
    np.testing.assert_allclose(ours.transform(s.X_val), theirs.transform(s.X_val.T).T, atol=1e-12)
    np.testing.assert_allclose(ours.scale_, theirs.scale_)


def test_standardizer_constant_features(digits):
    X, _ = digits
    std = Standardizer()
    Z = std.fit_transform(X)  # pixel 0 is 0 in every digit image
    assert std.constant_[0] and std.std_[0] == 0.0 and std.scale_[0] == 1.0
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[0], 0.0)
    varying = ~std.constant_
    np.testing.assert_allclose(Z[varying].mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[varying].std(axis=1), 1.0)
    # a new example with ink in a constant pixel: its deviation in original units, no division by 0
    x = np.zeros((64, 1))
    x[0, 0] = 3.0
    assert std.transform(x)[0, 0] == 3.0


def test_standardizer_near_constant_float_feature():
    X = np.array([[0.1, 0.1, 0.1, 0.1], [1.0, 2.0, 3.0, 4.0]]) * 3.0  # 0.3 is not exact in binary
    std = Standardizer().fit(X)
    assert std.constant_.tolist() == [True, False]
    assert np.all(np.isfinite(std.transform(X)))


def test_standardizer_does_not_mutate_and_returns_new_arrays():
    X = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 6.0]])
    X0 = X.copy()
    std = Standardizer()
    Z = std.fit_transform(X)
    np.testing.assert_array_equal(X, X0)
    assert not np.shares_memory(Z, X)
    with pytest.raises(ValueError):
        std.mean_[0] = 5.0  # read-only statistics


def test_standardizer_inverse_and_rows_layout():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(5, 30))
    std = Standardizer().fit(X)
    np.testing.assert_allclose(std.inverse_transform(std.transform(X)), X)
    rows = Standardizer(layout="rows").fit(X.T)
    np.testing.assert_allclose(rows.transform(X.T), std.transform(X).T)
    np.testing.assert_allclose(rows.mean_, std.mean_)


def test_standardizer_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform(np.zeros((2, 3)))
    std = Standardizer().fit(np.zeros((4, 10)))
    with pytest.raises(ValueError, match=re.escape("expected (D, N) = (4, N)")):
        std.transform(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="transposed"):
        std.transform(np.zeros((10, 4)))
    with pytest.raises(ValueError, match="2-D"):
        std.transform(np.zeros(4))
    with pytest.raises(ValueError, match="N = 0"):
        Standardizer().fit(np.zeros((4, 0)))
    with pytest.raises(ValueError, match="layout"):
        Standardizer(layout="col")
    rows = Standardizer(layout="rows").fit(np.zeros((10, 4)))
    with pytest.raises(ValueError, match=re.escape("(N, D) = (N, 4)")):
        rows.transform(np.zeros((4, 10)))


def test_module_exports():
    assert set(data.__all__) >= {
        "xor", "two_moons", "load_digits", "load_mnist", "write_idx", "read_idx",
        "stratified_split", "Standardizer",
    }
    for name in data.__all__:
        assert hasattr(data, name)
