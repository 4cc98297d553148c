"""Tests of fnnlib.checks: every check passes a right answer and explains each kind of wrong one."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import sympy as sp

from fnnlib.checks import call_answer, check_array, check_does_not_use, check_function, check_sympy_steps


def fails(match: str):
    """pytest.raises(AssertionError) whose message must contain ``match`` literally."""
    return pytest.raises(AssertionError, match=re.escape(match))


# =============================================================================== check_array


class TestCheckArrayPasses:
    def test_equal_arrays(self):
        check_array(np.array([0.5, 0.75]), [0.5, 0.75], "f(x)")

    def test_within_tolerance(self):
        check_array(np.array([1.0 + 1e-9, 2.0]), np.array([1.0, 2.0]), "f(x)")
        check_array(np.array([1.001]), np.array([1.0]), "f(x)", rtol=1e-2)

    def test_number_against_scalar(self):
        check_array(0.5, 0.5, "f(0)")
        check_array(np.float64(0.5), np.array(0.5), "f(0)")
        check_array(np.array(0.5), 0.5, "f(0)")

    def test_integers_against_floats(self):
        check_array(np.array([[1, -1], [0, 1]]), np.array([[1.0, -1.0], [0.0, 1.0]]), "signs")

    def test_matching_nan_and_inf(self):
        check_array(np.array([np.nan, np.inf, -np.inf]), np.array([np.nan, np.inf, -np.inf]), "f(x)")

    def test_boolean(self):
        check_array(np.array([True, False]), np.array([True, False]), "mask")


class TestCheckArrayType:
    def test_none(self):
        with fails("f(x): got None; expected shape (2,). Did you forget the `return` statement?"):
            check_array(None, [1.0, 2.0], "f(x)")

    def test_list(self):
        with fails("f(x): got a list of length 2; expected a NumPy array of shape (2,)."):
            check_array([1.0, 2.0], [1.0, 2.0], "f(x)")

    def test_tuple(self):
        with fails("got a tuple of length 2"):
            check_array((1.0, 2.0), [1.0, 2.0], "f(x)")

    def test_other_object(self):
        with fails("f(x): got an object of type builtins.str; expected a NumPy array"):
            check_array("0.5", 0.5, "f(x)")

    def test_sympy_object(self):
        x = sp.Symbol("x")
        with fails("should use NumPy (np.exp, np.tanh), not SymPy"):
            check_array(sp.exp(x), 1.0, "f(x)")

    def test_single_number_for_an_array(self):
        with fails("f(x): got the single number 3.0; expected an array of shape (3,)."):
            check_array(3.0, np.ones(3), "f(x)")
        with fails("math.* function"):
            check_array(np.array(3.0), np.ones(3), "f(x)")


class TestCheckArrayShape:
    def test_transposed(self):
        with fails("dW: got shape (4, 3); expected shape (M, D) = (3, 4). It looks transposed"):
            check_array(np.ones((4, 3)), np.zeros((3, 4)), "dW", symbols="(M, D)")

    def test_exact_transpose_is_named_only_when_the_values_agree(self):
        right = np.arange(12.0).reshape(3, 4)
        with fails("dW: got shape (4, 3); expected shape (M, D) = (3, 4). It is exactly the transpose of the right answer"):
            check_array(right.T, right, "dW", symbols="(M, D)")
        with pytest.raises(AssertionError) as info:
            check_array(right.T + 1.0, right, "dW", symbols="(M, D)")
        assert "exactly the transpose" not in str(info.value) and "It looks transposed" in str(info.value)

    def test_square_from_broadcasting(self):
        with fails("A (3, 3) matrix instead of a vector: did a (3,) array broadcast against a (3, 1) one?"):
            check_array(np.zeros((3, 3)), np.zeros(3), "f(x)")

    def test_column_vector(self):
        with fails("extra last axis of length 1 (a column vector?)"):
            check_array(np.zeros((3, 1)), np.zeros(3), "f(x)")

    def test_row_vector(self):
        with fails("extra first axis of length 1 (a row vector?)"):
            check_array(np.zeros((1, 3)), np.zeros(3), "f(x)")

    def test_extra_axis_not_reduced(self):
        with fails("extra last axis of length 5: did you forget to reduce over it"):
            check_array(np.zeros((3, 5)), np.zeros(3), "mask")

    def test_axis_missing(self):
        with fails("one axis too few"):
            check_array(np.zeros(3), np.zeros((3, 5)), "Z")

    def test_same_size_other_shape(self):
        with fails("the right number of entries in another shape"):
            check_array(np.zeros((2, 6)), np.zeros((3, 4)), "Z")

    def test_wrong_length(self):
        with fails("f(x): got shape (5,); expected shape (M,) = (3,). Did you reduce over the wrong axis"):
            check_array(np.zeros(5), np.zeros(3), "f(x)", symbols="(M,)")

    def test_symbols_as_phrase(self):
        with fails("expected shape (2,) (the shape of x)"):
            check_array(np.zeros(3), np.zeros(2), "f(x)", symbols="the shape of x")

    def test_mistake_hint_replaces_shape_hint(self):
        Z = np.array([[1.0, -1.0], [-1.0, -2.0], [0.5, 0.5]])
        with fails("Likely mistake: per-example mask"):
            check_array(Z <= 0, np.all(Z <= 0, axis=1), "dead", mistakes={"per-example mask": Z <= 0})


class TestCheckArrayDtype:
    def test_object_array(self):
        with fails("dtype object"):
            check_array(np.array([1.0, None]), np.ones(2), "f(x)")

    def test_complex(self):
        with fails("got complex values (first at index [1]: (1+1j)); expected real numbers"):
            check_array(np.array([1.0, 1.0 + 1.0j]), np.ones(2), "f(x)")

    def test_boolean_expected_float_given(self):
        with fails("mask: got dtype float64; expected a boolean array (True/False)"):
            check_array(np.array([1.0, 0.0]), np.array([True, False]), "mask")

    def test_float_expected_boolean_given(self):
        with fails("got True/False values; expected numbers"):
            check_array(np.array([True, False]), np.array([1.0, 0.0]), "signs")

    def test_required_dtype(self):
        check_array(np.ones(2), np.ones(2), "f(x)", dtype=np.float64)
        check_array(0.5, 0.5, "f(0)", dtype=np.float64)
        with fails("f(x): got dtype float32; expected float64. Convert the input first, e.g. "
                   "x = np.asarray(x, dtype=np.float64)"):
            check_array(np.ones(2, dtype=np.float32), np.ones(2), "f(x)", dtype=np.float64)

    def test_strings(self):
        with fails("got an array of dtype <U1; expected numbers"):
            check_array(np.array(["a", "b"]), np.ones(2), "f(x)")


class TestCheckArrayValues:
    def test_boolean_mismatch(self):
        with fails("mask: 2 of 4 entries are wrong (at [1], [3]). First at index [1]: expected False, got True."):
            check_array(np.array([True, True, False, True]), np.array([True, False, False, False]), "mask")

    def test_boolean_mismatch_with_mistake(self):
        with fails("Likely mistake: np.any instead of np.all"):
            check_array(np.array([True, True]), np.array([True, False]), "mask",
                        mistakes={"np.any instead of np.all": np.array([True, True])})

    def test_inf_names_the_input(self):
        x = np.array([0.0, 800.0])
        with fails("logistic(x): got inf at index [1] (x = 800.0); expected 1.0 (1 of 2 values are not finite). "
                   "Is it overflowing?"):
            check_array(np.array([0.5, np.inf]), np.array([0.5, 1.0]), "logistic(x)", inputs=x)

    def test_nan(self):
        with fails("got nan at index [0] (z = -800.0); expected 0.0 (1 of 1 values are not finite). NaN comes from"):
            check_array(np.array([np.nan]), np.array([0.0]), "f(z)", inputs=np.array([-800.0]), input_name="z")

    def test_first_and_worst_mismatch(self):
        x = np.array([1.0, 2.0, 3.0])
        # the worst entry first, then the first one, the tolerance last
        with fails("f(x): 2 of 3 values differ from the expected ones. Largest difference at index [2] (x = 3.0): "
                   "expected 9.0, got 12.0. First at index [1] (x = 2.0): expected 4.0, got 4.5. (Tolerance: "
                   "|got - expected| <= 1e-10 + 1e-07 * |expected|.)"):
            check_array(np.array([1.0, 4.5, 12.0]), x**2, "f(x)", inputs=x)

    def test_scalar_mismatch(self):
        with fails("f(0): expected 0.5, got 0.6. (Tolerance: |got - expected| <="):
            check_array(0.6, 0.5, "f(0)")

    def test_two_dimensional_index(self):
        with fails("First at index [1, 0]: expected 0.0, got 1.0."):
            check_array(np.array([[0.0, 0.0], [1.0, 0.0]]), np.zeros((2, 2)), "Z")

    def test_sign_error(self):
        with fails("Every value has the opposite sign: a sign error?"):
            check_array(np.array([-1.0, -2.0]), np.array([1.0, 2.0]), "f(x)")

    def test_mistake_hint(self):
        with fails("Likely mistake: this is 1 - tanh(x)"):
            x = np.array([0.5, 1.0])
            check_array(1 - np.tanh(x), 1 - np.tanh(x) ** 2, "tanh'(x)",
                        mistakes={"this is 1 - tanh(x)": 1 - np.tanh(x)})

    def test_mistakes_that_do_not_match_are_ignored(self):
        with pytest.raises(AssertionError) as info:
            check_array(np.array([3.0]), np.array([1.0]), "f(x)", mistakes={"hint": np.array([2.0]), "bad": object()})
        assert "Likely mistake" not in str(info.value)


class TestCheckArrayMisuse:
    def test_negative_tolerance(self):
        with pytest.raises(ValueError, match="rtol and atol must be >= 0"):
            check_array(1.0, 1.0, "f", atol=-1.0)

    def test_expected_not_numeric(self):
        with pytest.raises(TypeError, match="expected must be a real numeric or boolean array"):
            check_array(1.0, "one", "f")

    def test_inputs_of_another_shape(self):
        with pytest.raises(ValueError, match="inputs has shape"):
            check_array(np.ones(2), np.ones(2), "f", inputs=np.ones(3))


# ============================================================================ check_function


def stable_logistic(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def naive_logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


class TestCheckFunctionPasses:
    def test_returns_none(self):
        # None on purpose: nbgrader would read a displayed value as a partial-credit score.
        x = np.array([-1e4, 0.0, 1e4])
        assert check_function(stable_logistic, np.array([0.0, 0.5, 1.0]), x, "logistic") is None

    def test_dtype(self):
        check_function(stable_logistic, np.array([0.5]), np.array([0]), "logistic", dtype=np.float64)

    def test_reference_function_and_kwargs(self):
        def swish(x, beta=1.0):
            return x * stable_logistic(beta * x)

        x = np.linspace(-3, 3, 7)
        check_function(swish, lambda z, beta: z * stable_logistic(beta * z), x, "swish", kwargs={"beta": 2.0})

    def test_several_arguments(self):
        def outer(delta, x):
            return np.outer(delta, x)

        check_function(outer, lambda d, x: d[:, None] * x[None, :], (np.ones(2), np.arange(3.0)), "outer")

    def test_scalar_input(self):
        check_function(stable_logistic, 0.5, 0.0, "logistic")

    def test_other_warnings_are_dropped_silently(self, capsys):
        def noisy(x):
            warnings.warn("just so you know", UserWarning)
            return x

        check_function(noisy, np.ones(2), np.ones(2), "noisy")
        assert capsys.readouterr().err == ""

    def test_reference_sees_pristine_inputs(self):
        seen = []

        def reference(x):
            seen.append(x.copy())
            return x

        check_function(lambda x: x.copy(), reference, np.arange(3.0), "copy")
        np.testing.assert_array_equal(seen[0], np.arange(3.0))


class TestCheckFunctionFailures:
    def test_not_callable(self):
        with fails("logistic is not a function (it is a ndarray): did you overwrite it with a value?"):
            check_function(np.zeros(3), np.zeros(3), np.zeros(3), "logistic")

    def test_stub_says_the_task_is_not_answered_yet(self):
        def logistic(x):
            # YOUR CODE HERE
            raise NotImplementedError()

        with pytest.raises(NotImplementedError, match=re.escape(
            "logistic is not answered yet: write your code where it says # YOUR CODE HERE and delete the line "
            "raise NotImplementedError()."
        )) as info:
            check_function(logistic, np.zeros(2), np.zeros(2), "logistic")
        assert info.value.__cause__ is None and info.value.__suppress_context__

    def test_unanswered_function_called_by_the_one_checked_is_named(self):
        def logistic(x):
            raise NotImplementedError()

        def logistic_grad(x):
            s = logistic(x)
            return s * (1 - s)

        with pytest.raises(NotImplementedError, match=re.escape(
            "logistic_grad calls logistic, which is not answered yet: answer logistic first"
        )):
            check_function(logistic_grad, np.zeros(2), np.zeros(2), "logistic_grad")

    def test_not_implemented_with_a_message_is_the_students_own_error(self):
        def f(x):
            raise NotImplementedError("only 1-D inputs")

        with fails("f raised NotImplementedError: only 1-D inputs\nThis was for the call f(x) with x = [0., 0.]."):
            check_function(f, np.zeros(2), np.zeros(2), "f")

    def test_exception_is_reported_with_the_call(self):
        def broken(x):
            return x / 0 if isinstance(x, float) else 1 // 0

        with fails("broken raised ZeroDivisionError: integer division or modulo by zero\nThis was for the call "
                   "broken(x) with x = [1., 2.]."):
            check_function(broken, np.zeros(2), np.array([1.0, 2.0]), "broken")

    def test_not_vectorised(self):
        def scalar_only(x):
            import math

            return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))

        with fails("It works for one number but not for an array, so it is probably not vectorised"):
            check_function(scalar_only, np.full(3, 0.5), np.zeros(3), "logistic")

    def test_overflow_error(self):
        import math

        with fails("f raised OverflowError: math range error. Is it overflowing?"):
            check_function(lambda v: 1.0 / (1.0 + math.exp(v)), 0.0, 800.0, "f")
        with fails("so it does not stop an overflow in the branch it throws away.\nThis was for the call f(v) with v = 800.0."):
            check_function(lambda v: 1.0 / (1.0 + math.exp(v)), 0.0, 800.0, "f")

    def test_floating_point_error(self):
        def strict(x):
            with np.errstate(all="raise"):
                return 1.0 / (1.0 + np.exp(-x))

        with fails("raised FloatingPointError: overflow encountered in exp"):
            check_function(strict, np.zeros(2), np.array([-800.0, 0.0]), "strict")
        with fails("Is it overflowing?"):
            check_function(strict, np.zeros(2), np.array([-800.0, 0.0]), "strict")

    def test_broadcasting_error(self):
        def layer(W, b, X):
            return W @ X + b

        with fails("The shapes do not fit together"):
            check_function(layer, np.zeros((3, 2)), (np.ones((3, 4)), np.ones(3), np.ones((4, 2))), "layer")

    def test_mutation_is_caught(self):
        def in_place(x):
            x *= 2
            return x

        with fails("double changed its argument x in place (at index [0] it was 1.0 and became 2.0). Never "
                   "modify an input"):
            check_function(in_place, np.array([2.0, 4.0]), np.array([1.0, 2.0]), "double")

    def test_overflow_names_the_first_input(self, capsys):
        x = np.array([0.0, 800.0, -800.0])
        with fails('logistic emitted RuntimeWarning "overflow encountered in exp", first at x = -800.0. Is it '
                   "overflowing?"):
            check_function(naive_logistic, np.array([0.5, 1.0, 0.0]), x, "logistic")
        with fails("This was for the call logistic(x) with x = [   0.,  800., -800.]."):
            check_function(naive_logistic, np.array([0.5, 1.0, 0.0]), x, "logistic")
        assert capsys.readouterr().err == ""

    def test_np_where_does_not_protect(self):
        def where_logistic(x):
            return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))

        with fails("np.where(c, A, B) computes both A and B for every element"):
            check_function(where_logistic, np.array([1.0, 0.0]), np.array([800.0, -800.0]), "logistic")

    def test_invalid_value_warning(self):
        with fails('emitted RuntimeWarning "invalid value encountered in sqrt"'):
            check_function(np.sqrt, np.array([1.0, 0.0]), np.array([1.0, -1.0]), "root")
        with fails("An invalid operation made a NaN"):
            check_function(np.sqrt, np.array([1.0, 0.0]), np.array([1.0, -1.0]), "root")

    def test_divide_warning(self):
        with fails("A division by zero (or log(0)) happened"):
            check_function(np.log, np.array([0.0, -np.inf]), np.array([1.0, 0.0]), "log")

    def test_wrong_values_name_the_argument(self):
        def f(z):
            return z + np.array([0.0, 1.0])

        with fails("f: 1 of 2 values differ from the expected ones. First at index [1] (z = 3.0): expected 3.0, "
                   "got 4.0. (Tolerance: |got - expected| <= 1e-10 + 1e-07 * |expected|.)\nThis was for the call "
                   "f(z) with z = [2., 3.]."):
            check_function(f, lambda z: z, np.array([2.0, 3.0]), "f")

    def test_default_shape_description(self):
        with fails("f: got shape (2, 1); expected shape (2,) (the shape of x)."):
            check_function(lambda x: x[:, None], lambda x: x, np.ones(2), "f")

    def test_symbols_override(self):
        with fails("expected shape (M, D) = (2, 3)"):
            check_function(lambda d, x: np.outer(x, d), np.zeros((2, 3)), (np.ones(2), np.ones(3)), "g",
                           symbols="(M, D)")

    def test_callable_mistakes(self):
        with fails("Likely mistake: dropped the square"):
            check_function(lambda x: 1 - np.tanh(x), lambda x: 1 - np.tanh(x) ** 2, np.array([0.5, 1.0]),
                           "tanh_grad", mistakes={"dropped the square": lambda x: 1 - np.tanh(x)})

    def test_failing_mistake_callable_is_skipped(self):
        def bad_mistake(x):
            raise RuntimeError("not applicable")

        with pytest.raises(AssertionError) as info:
            check_function(lambda x: x + 1, lambda x: x, np.ones(2), "f", mistakes={"m": bad_mistake})
        assert "Likely mistake" not in str(info.value)


# ========================================================================= check_does_not_use


def uses_np_tanh(x):
    return np.tanh(x)


def imports_expit(x):
    from scipy.special import expit

    return expit(x)


def only_mentions_in_docstring(x):
    """Do not use np.tanh or expit here."""
    # np.tanh would be cheating
    return 2.0 * stable_logistic(2.0 * x) - 1.0


def local_variable_named_tanh(x):
    tanh = 2.0 * stable_logistic(2.0 * x) - 1.0
    return tanh


class TestCheckDoesNotUse:
    def test_local_variable_of_that_name_passes(self):
        check_does_not_use(local_variable_named_tanh, ["tanh"], "tanh_via_logistic")

    def test_attribute(self):
        with fails("tanh_via_logistic uses tanh, which this exercise asks you not to call: use logistic."):
            check_does_not_use(uses_np_tanh, ["tanh", "sinh"], "tanh_via_logistic", why="use logistic.")

    def test_import_inside(self):
        with fails("logistic uses expit, which this exercise asks you not to call: write it yourself."):
            check_does_not_use(imports_expit, ["expit"], "logistic")

    def test_docstring_and_comments_do_not_count(self):
        check_does_not_use(only_mentions_in_docstring, ["tanh", "expit"], "tanh_via_logistic")

    def test_single_string(self):
        with fails("uses tanh"):
            check_does_not_use(uses_np_tanh, "tanh", "f")

    def test_no_source_passes(self):
        check_does_not_use(len, ["len"], "len")


# ========================================================================== check_sympy_steps

x = sp.Symbol("x", real=True)
SIGMA = 1 / (1 + sp.exp(-x))
START = sp.Derivative(SIGMA, x)
END = SIGMA * (1 - SIGMA)


def good_steps(symbol=x):
    e = sp.exp(-symbol)
    return [
        sp.Derivative(1 / (1 + e), symbol),
        e / (1 + e) ** 2,
        sp.Mul(1 / (1 + e), e / (1 + e), evaluate=False),
        1 / (1 + e) * (1 - 1 / (1 + e)),
    ]


class TestCheckSympyStepsPasses:
    def test_valid_chain(self):
        check_sympy_steps(good_steps(), START, END, "sigma'")

    def test_evaluated_first_step_and_unevaluated_expr(self):
        steps = [sp.diff(SIGMA, x), sp.UnevaluatedExpr(sp.exp(-x)) / (1 + sp.exp(-x)) ** 2, END]
        check_sympy_steps(steps, START, END, "sigma'")

    def test_symbols_are_matched_by_name(self):
        plain = sp.Symbol("x")  # no assumptions: a different SymPy symbol from the real x
        check_sympy_steps(good_steps(plain), START, END, "sigma'")

    def test_tuple_is_accepted(self):
        check_sympy_steps(tuple(good_steps()), START, END, "sigma'")

    def test_numeric_fallback_when_simplify_cannot_decide(self, monkeypatch):
        monkeypatch.setattr(sp, "simplify", lambda e: e)  # simplify "gives up" on everything
        check_sympy_steps(good_steps(), START, END, "sigma'")
        with fails("step 2 is not equal to step 1"):
            check_sympy_steps([START, -sp.exp(-x) / (1 + sp.exp(-x)) ** 2, END], START, END, "sigma'")


class TestCheckSympyStepsFailures:
    def test_single_expression(self):
        with fails("sigma': got a single SymPy expression; expected a list of expressions, one per step"):
            check_sympy_steps(END, START, END, "sigma'")

    def test_none(self):
        with fails("sigma': got None; expected a list of SymPy expressions, one per step (did you forget the "
                   "`return` statement?)."):
            check_sympy_steps(None, START, END, "sigma'")

    def test_not_a_list(self):
        with fails("got a dict; expected a list of SymPy expressions"):
            check_sympy_steps({1: END}, START, END, "sigma'")

    def test_too_short(self):
        with fails("sigma': got 2 steps; expected at least 3: the start Derivative(1/(1 + exp(-x)), x), at least 1 "
                   "intermediate step, and the result."):
            check_sympy_steps([START, END], START, END, "sigma'")

    def test_min_steps(self):
        with fails("expected at least 5"):
            check_sympy_steps(good_steps(), START, END, "sigma'", min_steps=5)

    def test_string_step(self):
        with fails("sigma': step 2 is a string 'exp(-x)/(1 + exp(-x))**2'; write it with SymPy objects"):
            check_sympy_steps([START, "exp(-x)/(1 + exp(-x))**2", END], START, END, "sigma'")

    def test_equation_step(self):
        with fails("sigma': step 2 is a Equality"):
            check_sympy_steps([START, sp.Eq(sp.Symbol("y"), END), END], START, END, "sigma'")
        with fails("not an expression: write only the expression (the right-hand side)"):
            check_sympy_steps([START, sp.Eq(sp.Symbol("y"), END), END], START, END, "sigma'")

    def test_number_step(self):
        with fails("sigma': step 2 is a float (0.25), not a SymPy expression"):
            check_sympy_steps([START, 0.25, END], START, END, "sigma'")

    def test_extra_symbol(self):
        y = sp.Symbol("y")
        with fails("sigma': step 2 (y*exp(-x)/(1 + exp(-x))**2) uses the symbol y, which the derivation does not "
                   "have; expected only x."):
            check_sympy_steps([START, y * sp.exp(-x) / (1 + sp.exp(-x)) ** 2, END], START, END, "sigma'")

    def test_repeated_step(self):
        e = sp.exp(-x)
        steps = [START, e / (1 + e) ** 2, 1 / (1 + e) * (e / (1 + e)), END]  # SymPy merges step 3 into step 2
        with fails("sigma': step 3 is the same SymPy expression as step 2 (exp(-x)/(1 + exp(-x))**2): every step "
                   "must change the expression."):
            check_sympy_steps(steps, START, END, "sigma'")

    def test_first_step_is_not_the_start(self):
        with fails("sigma': step 1 should equal the start of the derivation, but it does not:\n"
                   "  start:  Derivative(1/(1 + exp(-x)), x)\n  step 1: 1/(1 + exp(-x))\nAt x = "):
            check_sympy_steps([SIGMA, sp.exp(-x) / (1 + sp.exp(-x)) ** 2, END], START, END, "sigma'")

    def test_broken_link(self):
        e = sp.exp(-x)
        steps = [START, e / (1 + e) ** 2, sp.Mul(1 / (1 + e), 1 / (1 + e), evaluate=False), END]
        with pytest.raises(AssertionError) as info:
            check_sympy_steps(steps, START, END, "sigma'")
        msg = str(info.value)
        assert msg.startswith("sigma': step 3 is not equal to step 2:\n  step 2: exp(-x)/(1 + exp(-x))**2\n")
        assert re.search(r"At x = -?[\d.]+, step 2 = [-\d.e]+ but step 3 = [-\d.e]+\. The mistake is in going "
                         r"from step 2 to step 3\.", msg)

    def test_last_step_is_not_the_result(self):
        e = sp.exp(-x)
        steps = [START, e / (1 + e) ** 2, sp.Mul(1 / (1 + e), e / (1 + e), evaluate=False)]
        wrong_end = SIGMA * (1 + SIGMA)
        with fails("sigma': the last step (step 3) should be the result, but it is not:"):
            check_sympy_steps(steps, START, wrong_end, "sigma'")

    def test_cannot_be_evaluated(self, monkeypatch):
        monkeypatch.setattr(sp, "simplify", lambda e: e)
        g = sp.Function("g")
        steps = [g(x), g(x) * sp.UnevaluatedExpr(1) + sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, g(x)]
        with fails("SymPy could not simplify their difference to 0, and they could not be evaluated"):
            check_sympy_steps(steps, g(x), g(x), "g")

    def test_start_must_be_sympy(self):
        with pytest.raises(TypeError, match="start must be a SymPy expression"):
            check_sympy_steps(good_steps(), "d/dx sigma", END, "sigma'")


def test_integer_answers_are_shown_as_counts():
    with pytest.raises(AssertionError, match=r"expected 26, got 13\."):
        check_array(np.array([13.0]), np.array([26]), "count_params")


def test_value_mismatch_names_the_call_when_not_elementwise():
    with pytest.raises(AssertionError, match=r"This was for the call count_params\(s\) with s = \[3, 4, 2\]"):
        check_function(lambda s: sum(s), 26, [3, 4, 2], "count_params")


class TestCallAnswer:
    def test_returns_what_the_answer_returns(self):
        assert call_answer(lambda x, k=1: [x] * k, "steps", 2.0, k=3) == [2.0, 2.0, 2.0]

    def test_stub_and_the_stub_it_calls(self):
        def steps(x):
            raise NotImplementedError()

        def proof(x):
            return steps(x)

        with pytest.raises(NotImplementedError, match=r"^steps is not answered yet: write your code"):
            call_answer(steps, "steps", 0.0)
        with pytest.raises(NotImplementedError, match=r"^proof calls steps, which is not answered yet"):
            call_answer(proof, "proof", 0.0)

    def test_other_errors_pass_unchanged(self):
        def broken(x):
            return x / 0

        with pytest.raises(ZeroDivisionError):
            call_answer(broken, "broken", 1.0)
        with fails("steps is not a function (it is a list)"):
            call_answer([1, 2], "steps")


class TestCheckFunctionMessages:
    """Issue 15: every argument in the call, the worst entry first and short, long arrays last, and a
    diagnosis only when the answer reproduces that mistake."""

    @staticmethod
    def swish_grad(x, beta=1.0):
        s = stable_logistic(beta * x)
        return s + x * s * (1.0 - s)  # the inner factor beta is missing

    @staticmethod
    def right(x, beta):
        s = stable_logistic(beta * x)
        return s + beta * x * s * (1.0 - s)

    def test_every_argument_is_shown_for_an_elementwise_function(self):
        x = np.linspace(-3, 3, 7)
        with pytest.raises(AssertionError) as info:
            check_function(self.swish_grad, self.right, x, "swish_grad", kwargs={"beta": 2.0})
        msg = str(info.value)
        assert msg.startswith("swish_grad: 6 of 7 values differ from the expected ones. Largest difference at index [")
        assert msg.endswith("This was for the call swish_grad(x, beta) with x = [-3., -2., -1.,  0.,  1.,  2.,  3.]; "
                            "beta = 2.0.")

    def test_diagnosis_only_when_the_answer_reproduces_the_mistake(self):
        x = np.linspace(-3, 3, 7)
        missing_beta = {"the inner factor β is missing": lambda x, beta: self.swish_grad(x, beta)}
        other = {"β applied twice": lambda x, beta: self.right(x, beta * beta)}
        with fails("Likely mistake: the inner factor β is missing"):
            check_function(self.swish_grad, self.right, x, "swish_grad", kwargs={"beta": 2.0}, mistakes=missing_beta)
        with pytest.raises(AssertionError) as info:
            check_function(self.swish_grad, self.right, x, "swish_grad", kwargs={"beta": 2.0}, mistakes=other)
        assert "Likely mistake" not in str(info.value)

    def test_the_diagnosis_comes_before_long_arguments(self):
        def forward_batch(params, X):
            return params[0]["W"] @ X  # the bias is missing

        rng = np.random.default_rng(0)
        params = [{"W": rng.normal(size=(3, 4)), "b": rng.normal(size=3)} for _ in range(1)]
        X = rng.normal(size=(4, 50))
        with pytest.raises(AssertionError) as info:
            check_function(forward_batch, lambda p, X: p[0]["W"] @ X + p[0]["b"][:, None], (params, X),
                           "forward_batch", mistakes={"the biases are missing": lambda p, X: p[0]["W"] @ X})
        msg = str(info.value)
        hint, call = msg.index("Likely mistake: the biases are missing"), msg.index("This was for the call")
        assert hint < 300 < call, msg
        # a long call is written one argument per line, after everything else
        assert "This was for the call forward_batch(params, X) with\n    params = [{'W': array(" in msg
        assert re.search(r"\n    X = an array of shape \(4, 50\) with values from -[\d.]+ to [\d.]+\.$", msg), msg

    def test_exception_hint_comes_before_the_call(self):
        def layer(W, b, X):
            return W @ X + b

        with pytest.raises(AssertionError) as info:
            check_function(layer, np.zeros((3, 20)), (np.ones((3, 4)), np.ones(3), np.ones((4, 20))), "layer")
        msg = str(info.value)
        assert msg.index("The shapes do not fit together") < msg.index("This was for the call layer(W, b, X)")


def test_the_checks_own_frames_are_hidden_in_a_kernel(tmp_path):
    """In IPython (Validate, a student running the notebook) a failing check shows the test's line and
    the message, not the lines of fnnlib/checks.py; an unanswered task shows no frame of the stub."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import numpy as np\nfrom fnnlib.checks import check_function",
        "def swish_grad(x, beta=1.0):\n    s = 1 / (1 + np.exp(-beta * x))\n    return s + x * s * (1 - s)",
        "check_function(swish_grad, lambda x, beta: 0 * x, np.linspace(-1, 1, 3), 'swish_grad', kwargs={'beta': 2.0})",
        "def logistic(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "check_function(logistic, np.array([0.5]), np.array([0.0]), 'logistic')",
        "from fnnlib.checks import student_facing\n\n@student_facing\ndef check_positive(v, name):\n"
        "    __tracebackhide__ = True\n    if not v > 0:\n        raise AssertionError(f'{name} must be positive, got {v}')",
        "check_positive(-1.0, 'eta')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
    errors = {i: o for i, c in enumerate(nb.cells) for o in c.outputs if o.output_type == "error"}
    assert sorted(errors) == [2, 4, 6], errors
    for i, err in errors.items():
        tb = ansi.sub("", "\n".join(err.traceback))
        assert "checks.py" not in tb, tb
        assert "check_function(" in tb or "check_positive(-1.0" in tb  # the test's own line is still shown
    assert errors[2].ename == "AssertionError" and "beta = 2.0" in errors[2].evalue
    assert errors[4].ename == "NotImplementedError"
    assert errors[4].evalue.startswith("logistic is not answered yet: write your code where it says # YOUR CODE HERE")
    assert "raise NotImplementedError()\n" not in ansi.sub("", "\n".join(errors[4].traceback))
    helper = ansi.sub("", "\n".join(errors[6].traceback))  # a notebook's own check helper, decorated
    assert "raise AssertionError" not in helper and "check_positive(-1.0, 'eta')" in helper, helper
    assert errors[6].evalue == "eta must be positive, got -1.0"
