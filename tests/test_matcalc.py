"""Tests of fnnlib.matcalc: numerical Jacobians in both layouts and the layout diagnosis."""

from __future__ import annotations

import dataclasses

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fnnlib.matcalc import (
    LAYOUTS,
    MISTAKE_KINDS,
    Diagnosis,
    check_derivative,
    convert_layout,
    diagnose,
    jacobian,
)

RNG_SEED = 20240601


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


# ---------------------------------------------------------------------------
# jacobian: the identities of Unit 4
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_jacobian_of_Wx_is_W_transposed_in_denominator_layout(rng, layout):
    W = rng.normal(size=(2, 3))  # (n, m) = (2, 3): x ∈ R^3, y ∈ R^2
    x = rng.normal(size=3)
    J = jacobian(lambda v: W @ v, x, layout=layout)
    if layout == "denominator":
        assert J.shape == (3, 2)  # (m, n)
        np.testing.assert_allclose(J, W.T, rtol=1e-8, atol=1e-10)
    else:
        assert J.shape == (2, 3)  # (n, m)
        np.testing.assert_allclose(J, W, rtol=1e-8, atol=1e-10)


def test_hand_worked_jacobian_of_Wx():
    # W = [[1, 2], [3, 4]]; y = Wx = (x1 + 2 x2, 3 x1 + 4 x2).
    # Denominator layout J[i, j] = ∂y_j/∂x_i: row i = x_i, so
    # J = [[∂y1/∂x1, ∂y2/∂x1], [∂y1/∂x2, ∂y2/∂x2]] = [[1, 3], [2, 4]] = Wᵀ.
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    J = jacobian(lambda v: W @ v, np.array([0.3, -0.7]))
    np.testing.assert_allclose(J, [[1.0, 3.0], [2.0, 4.0]], atol=1e-9)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_gradient_of_inner_product_is_x(rng, layout):
    # ∂(wᵀx)/∂w = x; a scalar output gives the gradient, shaped like w, in both layouts.
    x = rng.normal(size=4)
    w = rng.normal(size=4)
    g = jacobian(lambda v: v @ x, w, layout=layout)
    assert g.shape == (4,)
    np.testing.assert_allclose(g, x, rtol=1e-8, atol=1e-10)


def test_gradient_of_quadratic_form(rng):
    # ∂(xᵀAx)/∂x = (A + Aᵀ)x, for a non-symmetric A (Ax alone would be wrong).
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    g = jacobian(lambda v: v @ A @ v, x)
    np.testing.assert_allclose(g, (A + A.T) @ x, rtol=1e-7, atol=1e-9)
    assert not np.allclose(g, 2 * A @ x)


def test_elementwise_function_has_diagonal_jacobian(rng):
    # a = f(z) elementwise: ∂a/∂z = diag(f'(z)), here f = tanh, f' = 1 − tanh².
    z = rng.normal(size=5)
    J = jacobian(np.tanh, z)
    np.testing.assert_allclose(J, np.diag(1.0 - np.tanh(z) ** 2), rtol=1e-7, atol=1e-10)


def test_gradient_wrt_matrix_is_shaped_like_W(rng):
    # L = ‖Wx − y‖²/2 ⇒ ∂L/∂W = (Wx − y) xᵀ, of W's shape (3, 4).
    W = rng.normal(size=(3, 4))
    x = rng.normal(size=4)
    y = rng.normal(size=3)
    g = jacobian(lambda M: 0.5 * np.sum((M @ x - y) ** 2), W)
    assert g.shape == W.shape
    np.testing.assert_allclose(g, np.outer(W @ x - y, x), rtol=1e-7, atol=1e-9)


def test_numerator_is_transpose_of_denominator(rng):
    A = rng.normal(size=(3, 5))
    f = lambda v: np.sin(A @ v)  # noqa: E731  R^5 → R^3
    x = rng.normal(size=5)
    J_den = jacobian(f, x)
    J_num = jacobian(f, x, layout="numerator")
    assert J_den.shape == (5, 3) and J_num.shape == (3, 5)
    np.testing.assert_array_equal(J_num, J_den.T)


def test_agrees_with_autograd_jacobian(rng):
    A = rng.normal(size=(3, 4))
    b = rng.normal(size=3)
    x = rng.normal(size=4)
    J_ag = autograd.jacobian(lambda v: anp.tanh(anp.dot(A, v) + b))(x)
    # autograd.jacobian is numerator layout, shape (n, m) = (3, 4): the transpose of ours.
    assert J_ag.shape == (3, 4)
    np.testing.assert_allclose(jacobian(lambda v: np.tanh(A @ v + b), x), J_ag.T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        jacobian(lambda v: np.tanh(A @ v + b), x, layout="numerator"), J_ag, rtol=1e-7, atol=1e-9
    )


def test_matrix_in_matrix_out_shapes_and_values(rng):
    # Y = A X with X (3, 2), Y (4, 2): ∂Y_kl/∂X_ij = A[k, i] δ_jl.
    A = rng.normal(size=(4, 3))
    X = rng.normal(size=(3, 2))
    J = jacobian(lambda M: A @ M, X)
    assert J.shape == (3, 2, 4, 2)  # X.shape + Y.shape
    expected = np.einsum("ki,jl->ijkl", A, np.eye(2))
    np.testing.assert_allclose(J, expected, atol=1e-9)
    J_num = jacobian(lambda M: A @ M, X, layout="numerator")
    assert J_num.shape == (4, 2, 3, 2)  # Y.shape + X.shape
    np.testing.assert_allclose(J_num, np.transpose(expected, (2, 3, 0, 1)), atol=1e-9)
    # autograd agrees once the index groups are swapped
    J_ag = autograd.jacobian(lambda M: anp.dot(A, M))(X)
    np.testing.assert_allclose(J_num, J_ag, atol=1e-9)


def test_vector_in_matrix_out(rng):
    u = rng.normal(size=3)
    f = lambda v: np.outer(v, u)  # noqa: E731  R^3 → R^{3×3}
    x = rng.normal(size=3)
    J = jacobian(f, x)
    assert J.shape == (3, 3, 3)
    np.testing.assert_allclose(J, np.einsum("ik,l->ikl", np.eye(3), u), atol=1e-9)


def test_x_is_not_mutated(rng):
    x = rng.normal(size=(2, 3))
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v)
        v *= 2.0  # a careless f that changes its argument in place
        return v.sum()

    jacobian(f, x)
    np.testing.assert_array_equal(x, before)
    assert all(v is not x for v in seen)


def test_read_only_x_is_fine(rng):
    x = rng.normal(size=3)
    x.setflags(write=False)
    np.testing.assert_allclose(jacobian(lambda v: v @ v, x), 2 * x, rtol=1e-8)


def test_jacobian_errors():
    with pytest.raises(ValueError, match="unknown layout 'column'. Known: 'denominator', 'numerator'"):
        jacobian(np.sin, np.ones(2), layout="column")
    with pytest.raises(ValueError, match="h must be a positive number"):
        jacobian(np.sin, np.ones(2), h=0.0)
    with pytest.raises(TypeError, match="f must be a function"):
        jacobian(3.0, np.ones(2))
    with pytest.raises(ValueError, match="NaN or infinite"):
        jacobian(lambda v: np.full_like(v, np.nan), np.array([0.0, 1.0]))


def test_jacobian_output_shape_must_not_change():
    with pytest.raises(ValueError, match="same shape"):
        jacobian(lambda v: np.zeros(2) if v[0] > 0.5 else np.zeros(3), np.array([0.5]))


@settings(deadline=None, max_examples=30)
@given(m=st.integers(1, 4), n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_jacobian_of_linear_map_any_size(m, n, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, m))
    x = rng.normal(size=m)
    J = jacobian(lambda v: W @ v, x)
    assert J.shape == (m, n)
    np.testing.assert_allclose(J, W.T, atol=1e-8)


# ---------------------------------------------------------------------------
# convert_layout
# ---------------------------------------------------------------------------


def test_convert_layout_round_trip(rng):
    J = rng.normal(size=(2, 3, 4))  # x of shape (2, 3), y of shape (4,)
    num = convert_layout(J, (2, 3), (4,), "denominator", "numerator")
    assert num.shape == (4, 2, 3)
    np.testing.assert_array_equal(num[1], J[..., 1])
    back = convert_layout(num, (2, 3), (4,), "numerator", "denominator")
    np.testing.assert_array_equal(back, J)
    same = convert_layout(J, (2, 3), (4,), "denominator", "denominator")
    np.testing.assert_array_equal(same, J)
    assert same is not J


def test_convert_layout_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"expected x_shape \+ y_shape = \(3, 2\)"):
        convert_layout(np.zeros((2, 3)), (3,), (2,))
    with pytest.raises(ValueError, match="unknown layout"):
        convert_layout(np.zeros((3, 2)), (3,), (2,), to_layout="transposed")


# ---------------------------------------------------------------------------
# diagnose / check_derivative: one test per mistake
# ---------------------------------------------------------------------------

W = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])  # (n, m) = (2, 3)
J_REF = W.T  # ∂(Wx)/∂x in denominator layout, (m, n) = (3, 2)


def test_correct_answer_passes():
    assert diagnose(J_REF.copy(), J_REF) is None
    check_derivative(J_REF + 1e-12, J_REF, "J")  # within tolerance: no exception
    assert diagnose(np.float64(2.0), 2.0) is None
    assert diagnose(2.0, 2.0) is None


def test_transposed_answer_is_numerator_layout():
    with pytest.raises(AssertionError) as info:
        check_derivative(W, J_REF, "jacobian_Wx", shape_symbols="(m, n)")
    msg = str(info.value)
    assert "jacobian_Wx is the transpose of ∂y/∂x: it is in numerator layout." in msg
    assert "denominator layout" in msg
    assert "W ← W − η ∂L/∂W" in msg
    assert "∂z/∂x = ∂y/∂x · ∂z/∂y" in msg
    assert "jacobian_Wx.T" in msg
    assert diagnose(W, J_REF).kind == "numerator_layout"


def test_transposed_square_answer_is_numerator_layout(rng):
    A = rng.normal(size=(3, 3))  # not symmetric, so Aᵀ ≠ A
    d = diagnose(A, A.T, "J")
    assert d is not None and d.kind == "numerator_layout"


def test_transposed_gradient_wrt_matrix_uses_gradient_words(rng):
    dW = rng.normal(size=(3, 2))
    d = diagnose(dW.T, dW, "dW", x_symbol="W^(1)", y_symbol="L", shape_symbols="(M_1, M_0)", x_ndim=2)
    assert d.kind == "numerator_layout"
    assert "a gradient has the shape of its variable" in d.message
    assert "W^(1) ← W^(1) − η ∂L/∂W^(1)" in d.message
    assert "dW.T" in d.message


def test_row_vector_gradient_is_numerator_layout():
    g = np.array([1.0, 2.0, 3.0])
    d = diagnose(g[None, :], g, "grad", x_symbol="w", y_symbol="L")
    assert d.kind == "numerator_layout"
    assert "row vector of shape (1, 3)" in d.message and "grad.ravel()" in d.message


def test_swapped_index_groups_in_higher_order_jacobian(rng):
    J = rng.normal(size=(3, 2, 4))  # X (3, 2) → y (4,)
    d = diagnose(np.transpose(J, (2, 0, 1)), J, "J", x_ndim=2)
    assert d.kind == "numerator_layout"
    assert "index groups" in d.message and "J.transpose(1, 2, 0)" in d.message
    # the suggested fix really gives the reference back
    np.testing.assert_array_equal(np.transpose(J, (2, 0, 1)).transpose(1, 2, 0), J)


def test_wrong_shape_gives_symbols_and_numbers():
    with pytest.raises(AssertionError) as info:
        check_derivative(np.ones((3, 1)), J_REF, "J")
    msg = str(info.value)
    assert "J has shape (3, 1); expected ∂y/∂x of shape (m, n) = (3, 2)." in msg
    d = diagnose(np.ones((4, 5)), np.ones((3, 2)), "dW", x_symbol="W^(1)", y_symbol="L",
                 shape_symbols="(M_1, M_0)")
    assert d.kind == "wrong_shape"
    assert "expected ∂L/∂W^(1) of shape (M_1, M_0) = (3, 2)" in d.message


def test_wrong_shape_column_instead_of_flat():
    g = np.array([1.0, 2.0, 3.0])
    d = diagnose(g[:, None], g, "grad")
    assert d.kind == "wrong_shape"
    assert "(3, 1)" in d.message and "The values are right" in d.message and ".ravel()" in d.message


def test_transposed_shape_with_wrong_values_mentions_layout():
    d = diagnose(W + 1.0, J_REF, "J")
    assert d.kind == "wrong_shape"
    assert "numerator layout" in d.message and "check the formula" in d.message


@pytest.mark.parametrize(
    "factor, words",
    [
        (2.0, "is 2 times the expected ∂y/∂x"),
        (0.5, "is ½ of the expected ∂y/∂x"),
        (-1.0, "opposite sign"),
        (8.0, "is N = 8 times the expected ∂y/∂x"),
        (1 / 8, "is 1/N = 1/8 of the expected ∂y/∂x"),
        (0.37, "is 0.37 times the expected ∂y/∂x"),
    ],
)
def test_constant_factor_is_named(factor, words):
    with pytest.raises(AssertionError) as info:
        check_derivative(factor * J_REF, J_REF, "J", batch_size=8)
    assert words in str(info.value)
    d = diagnose(factor * J_REF, J_REF, "J", batch_size=8)
    assert d.kind == "constant_factor"
    assert d.factor == pytest.approx(factor)


def test_factor_without_batch_size_still_suggests_averaging():
    d = diagnose(5 * J_REF, J_REF, "dW")
    assert d.kind == "constant_factor" and "is 5 times" in d.message and "divide by N" in d.message


def test_scalar_answer_is_not_blamed_on_a_random_factor():
    # any nonzero number is "c times" a scalar reference: only telling factors are named
    assert diagnose(3.0, 2.0).kind == "wrong_values"
    assert diagnose(4.0, 2.0).kind == "constant_factor"


def test_wrong_values_show_the_largest_discrepancy():
    bad = J_REF.copy()
    bad[1, 1] += 0.5  # expected 0.25, got 0.75
    bad[0, 0] += 0.1
    with pytest.raises(AssertionError) as info:
        check_derivative(bad, J_REF, "J")
    msg = str(info.value)
    assert "J has the right shape (3, 2) but wrong values: 2 entries of 6 differ" in msg
    assert "at index (1, 1): expected 0.25, got 0.75" in msg
    assert "relative error 5.0e-01" in msg  # |0.75 − 0.25| / (0.75 + 0.25)
    d = diagnose(bad, J_REF, "J")
    assert d.kind == "wrong_values" and d.index == (1, 1)
    assert (d.expected, d.got) == (0.25, 0.75)
    assert d.rel_error == pytest.approx(0.5)


def test_all_zeros_is_called_a_stub():
    d = diagnose(np.zeros_like(J_REF), J_REF, "J")
    assert d.kind == "wrong_values" and "all zeros" in d.message


def test_nan_is_reported():
    bad = J_REF.copy()
    bad[2, 1] = np.nan
    nan_msg = r"J contains NaN \(not a number\) in 1 of 6 entries, first at index \(2, 1\)"
    with pytest.raises(AssertionError, match=nan_msg):
        check_derivative(bad, J_REF, "J")
    bad[2, 1] = np.inf
    assert "infinite values" in diagnose(bad, J_REF, "J").message


@pytest.mark.parametrize(
    "answer, words",
    [
        (None, "J is None: did you forget the return statement?"),
        ([[1.0, 3.0], [-2.0, 0.25], [0.5, -1.0]], "J is a Python list, not a NumPy array"),
        ("W.T", "J is a str; expected a NumPy array"),
        (np.array([["a", "b"]]), "not numbers"),
        (J_REF + 0j, "complex values"),
    ],
)
def test_non_array_answers(answer, words):
    d = diagnose(answer, J_REF, "J")
    assert d.kind == "not_array"
    assert words in d.message
    with pytest.raises(AssertionError, match="J "):
        check_derivative(answer, J_REF, "J")


def test_diagnosis_object():
    d = diagnose(W, J_REF, "J")
    assert isinstance(d, Diagnosis) and str(d) == d.message and d.name == "J"
    assert d.kind in MISTAKE_KINDS
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.kind = "other"  # type: ignore[misc]


def test_bad_reference_is_the_tests_fault():
    with pytest.raises(ValueError, match="reference contains"):
        diagnose(np.ones(2), np.array([1.0, np.nan]))


def test_diagnose_does_not_mutate():
    ans = W.copy()
    ref = J_REF.copy()
    diagnose(ans, ref)
    np.testing.assert_array_equal(ans, W)
    np.testing.assert_array_equal(ref, J_REF)


def test_jacobian_feeds_check_derivative(rng):
    # The intended use in the exercise tests: a student answer against the numerical reference.
    A = rng.normal(size=(3, 3))
    x = rng.normal(size=3)
    ref = jacobian(lambda v: v @ A @ v, x)
    check_derivative((A + A.T) @ x, ref, "grad_quadratic", x_symbol="x", y_symbol="xᵀAx")
    d = diagnose(A @ x, ref, "grad_quadratic")  # forgot Aᵀx: A is not symmetric
    assert d is not None and d.kind == "wrong_values"


# ---------------------------------------------------------------------------
# properties over random shapes
# ---------------------------------------------------------------------------

shapes = st.tuples(st.integers(2, 5), st.integers(2, 5))


@settings(deadline=None, max_examples=40)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_each_mistake_is_classified_for_random_shapes(shape, seed):
    rng = np.random.default_rng(seed)
    ref = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    assert diagnose(ref.copy(), ref) is None
    # transposed (a non-symmetric reference, so the transpose really differs)
    if shape[0] == shape[1]:
        ref[0, 1] = ref[1, 0] + 1.0
    assert diagnose(ref.T.copy(), ref).kind == "numerator_layout"
    assert diagnose(2.0 * ref, ref).kind == "constant_factor"
    assert diagnose(ref[:, :-1], ref).kind == "wrong_shape"
    i, j = rng.integers(shape[0]), rng.integers(shape[1])
    bad = ref.copy()
    bad[i, j] += 3.0
    d = diagnose(bad, ref)
    assert d.kind == "wrong_values" and d.index == (i, j)
    bad[i, j] = np.nan
    assert diagnose(bad, ref).kind == "nan"


@settings(deadline=None, max_examples=30)
@given(
    x_shape=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    y_shape=st.lists(st.integers(2, 3), min_size=1, max_size=2),
    seed=st.integers(0, 2**32 - 1),
)
def test_swapped_groups_detected_for_random_tensor_shapes(x_shape, y_shape, seed):
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=tuple(x_shape) + tuple(y_shape))
    num = convert_layout(ref, tuple(x_shape), tuple(y_shape))
    d = diagnose(num, ref, "J", x_ndim=len(x_shape))
    if num.shape == ref.shape and np.allclose(num, ref):
        assert d is None  # e.g. all axes of length 1 on one side
    else:
        assert d is not None and d.kind == "numerator_layout"
