"""The remote checker's protocol, without a kernel: the agent runs in this process.

Here the "kernel" shares this interpreter, so these tests check the wire format, the strict
decoding and the handle semantics; that patching the real kernel earns nothing is checked with
real kernels in tests/grader/test_interpreter_cheats.py.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import types

import numpy as np
import pytest
import sympy as sp

from fnngrade import agent, remote
from fnngrade.remote import Checker, RemoteError, decode_sympy

STUDENT = '''
import numpy as np
import sympy as sp


def logistic(x):
    x = np.asarray(x, dtype=float)
    return 1 / (1 + np.exp(-x))


def doubles_in_place(a):
    a *= 2
    return float(a.sum())


class Dual:
    def __init__(self, value, deriv):
        self.value, self.deriv = value, deriv

    def __add__(self, other):
        other = other if isinstance(other, Dual) else Dual(other, 0.0)
        return Dual(self.value + other.value, self.deriv + other.deriv)

    __radd__ = __add__


def apply_twice(f, x):
    return f(f(x))


def steps(x):
    e = sp.exp(-x)
    return [sp.Derivative(1 / (1 + e), x), sp.Mul(1 / (1 + e), e / (1 + e), evaluate=False)]


class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def __array_ufunc__(self, *args, **kwargs):
        return True


def lying_zeros(x):
    return np.zeros(np.shape(x)).view(Liar)


def draws(rng):
    return rng.normal(size=2)


def fails():
    raise np.linalg.LinAlgError("singular matrix")


def unfinished(x):
    raise NotImplementedError()


def interrupted():
    raise KeyboardInterrupt


answers = {"layer": (50, 30)}
'''


@pytest.fixture(autouse=True)
def _warnings_state():
    """The in-process 'kernel' thread records warnings with warnings.catch_warnings, which swaps
    process-wide state and is not thread-safe: put that state back for the tests that follow."""
    import warnings

    filters, show = list(warnings.filters), warnings.showwarning
    yield
    warnings.filters[:] = filters
    warnings.showwarning = show
    warnings._filters_mutated()


class LocalHost:
    """Stands in for SafeExecute: the 'kernel' is a thread of this process serving the socket."""

    timeout = 30
    interrupt_grace = 1
    _fatal = None

    def _kernel_alive(self):
        return True

    def _interrupt_kernel(self):
        pass

    def _note_timeout(self):
        pass

    def _lose_kernel(self, kind, what):
        self._fatal = what
        return what

    def _wait_reply(self, msg_id, seconds):
        return None


@pytest.fixture
def checker(tmp_path):
    import sys
    import threading

    ns: dict = {}
    token = "_fnngrade_agent_test"
    assert agent.install(types.SimpleNamespace(user_ns=ns), token) == "fnngrade-agent-ok"
    kernel = sys.modules.pop(token)
    host = LocalHost()
    state: dict = {"session": None}

    def transport(payload, on_input, deadline, nested=False):
        if state["session"] is None:
            path = str(tmp_path / f"c{len(os.listdir(tmp_path))}.sock")
            session = remote.Session(path, host)
            # The agent keeps one connection in module state, as in a kernel (which serves one
            # session at a time); the thread must be gone before the next session starts.
            state["thread"] = threading.Thread(target=kernel.serve, args=(path,), daemon=True)
            state["thread"].start()
            session.accept(None, deadline)
            state["session"] = session
        return state["session"].request(payload, on_input, deadline)

    exec(compile(STUDENT, "<student>", "exec"), ns)
    c = Checker(transport, timeout=30)
    c.student_sources = [STUDENT]
    c.kernel_ns = ns
    run_cell = c.run

    def run_and_close(code, **kw):  # one session per cell, as in SafeExecute
        try:
            return run_cell(code, **kw)
        finally:
            if state["session"] is not None:
                state["session"].close()
                state["session"] = None
                state["thread"].join(30)
                assert not state["thread"].is_alive(), "the agent's serve loop did not end with its session"

    c.run = run_and_close
    yield c
    if state["session"] is not None:
        state["session"].close()
        state["thread"].join(30)


def run(c: Checker, code: str) -> list[dict]:
    return c.run(code)


def ok(c: Checker, code: str) -> str:
    outs = run(c, code)
    errors = [o for o in outs if o["output_type"] == "error"]
    assert not errors, errors[0]["evalue"]
    return "".join(o.get("text", "") for o in outs if o["output_type"] == "stream" and o["name"] == "stdout")


def failure(c: Checker, code: str) -> dict:
    errors = [o for o in run(c, code) if o["output_type"] == "error"]
    assert errors, "expected the cell to fail"
    return errors[-1]


# ------------------------------------------------------------------------------------ plain data


@pytest.mark.parametrize("value", [
    None, True, 0, -(10**40), 1.5, math.inf, complex(1, -2), "σ(x)", b"\x00\xff", [1, (2, 3)], {"a": [1.0], 2: None},
    np.float64(0.25), np.int64(7), np.bool_(True), np.array(3.0), np.arange(6, dtype=np.int32).reshape(2, 3),
    np.array([1 + 2j]), np.zeros((0, 4)), np.array(["a", "bc"]),
])
def test_plain_values_cross_unchanged_in_type_shape_and_value(checker, value):
    checker.kernel_ns["v"] = value
    got = checker.lookup("v")
    assert type(got) is type(value)
    if isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape and np.array_equal(got, value)
    elif isinstance(value, float) and math.isnan(value):
        assert math.isnan(got)
    else:
        assert got == value


def test_nan_survives(checker):
    checker.kernel_ns["v"] = [math.nan, np.array([np.nan, 1.0])]
    got = checker.lookup("v")
    assert math.isnan(got[0]) and np.isnan(got[1][0])


def test_an_ndarray_subclass_arrives_as_a_plain_array(checker):
    out = ok(checker, "r = lying_zeros([1.0, 2.0])\nprint(type(r).__name__, bool(np.all(r == 5)))")
    assert out.strip() == "ndarray False"
    e = failure(checker, "from fnnlib.checks import check_function\n"
                         "check_function(lying_zeros, np.array([1.0, 2.0]), np.array([0.0, 1.0]), 'lying_zeros')")
    assert e["ename"] == "AssertionError"


def test_sympy_expressions_keep_the_tree_the_student_built(checker):
    out = ok(checker, "import sympy as sp\nx = sp.Symbol('x', real=True)\ns = steps(x)\n"
                      "print(s[1] == s[1].func(*s[1].args, evaluate=False), len(s[1].args), s[0].is_Derivative)")
    assert out.strip() == "True 2 True"


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",
    "sympify('x')",
    "Symbol('x').__class__",
    "Function('f')(Symbol('x')).func.__globals__",
    "Lambda(Symbol('x'), Symbol('x'))",
    "(lambda: 1)()",
    "Integer(1) + Integer(2)",
])
def test_sympy_decoding_refuses_anything_but_constructor_calls(text):
    with pytest.raises(RemoteError):
        decode_sympy(text)


def test_sympy_decoding_rebuilds_srepr():
    x = sp.Symbol("x", real=True)
    e = sp.Derivative(1 / (1 + sp.exp(-x)), x) + sp.Function("f")(x) * sp.Rational(3, 7)
    assert decode_sympy(sp.srepr(e)) == e


@pytest.mark.parametrize("wire", [
    ["a", "|O", [1], "AA=="],            # object dtype
    ["a", "<f8", [2], "AAAAAAAA8D8="],   # 8 bytes for 2 floats
    ["a", "<f8", [-1], ""],
    ["zz", 1],
    ["i", 5],                             # ints travel as text
    ["ns", "<U1", "YQAAAA=="],
    ["rng", "NotAGenerator", ["d", []]],
    "not a list",
])
def test_malformed_values_are_refused(checker, wire):
    with pytest.raises(RemoteError):
        checker.decode(wire)


def test_a_kernel_reply_that_is_not_json_fails_the_cell_not_the_grader():
    c = Checker(lambda payload, on_input, deadline, nested=False: "not json", timeout=5)
    e = failure(c, "logistic(1.0)")
    assert e["ename"] == "RemoteError" and "JSON" in e["evalue"]


# ------------------------------------------------------------------------------------ calls


def test_check_function_sees_in_place_changes_and_warnings(checker):
    e = failure(checker, "from fnnlib.checks import check_function\n"
                         "check_function(doubles_in_place, 6.0, np.array([1.0, 2.0]), 'doubles_in_place')")
    assert "changed its argument a in place" in e["evalue"]
    checker.kernel_ns["warns"] = lambda x: np.exp(np.asarray(x, dtype=float))
    checker.student_sources.append("def warns(x):\n    return np.exp(x)\n")
    e = failure(checker, "from fnnlib.checks import check_function\n"
                         "check_function(warns, np.array([np.inf]), np.array([1000.0]), 'warns')")
    assert "RuntimeWarning" in e["evalue"] and "overflow" in e["evalue"]


def test_exceptions_keep_their_type_and_message(checker):
    e = failure(checker, "unfinished(1)")
    assert e["ename"] == "NotImplementedError"
    e = failure(checker, "fails()")
    assert e["ename"] == "LinAlgError" and e["evalue"] == "singular matrix"
    assert ok(checker, "try:\n    fails()\nexcept Exception as exc:\n    print(type(exc).__name__)").strip() == "LinAlgError"


def test_an_interrupt_in_the_kernel_is_not_swallowed_by_a_tests_except_exception(checker):
    e = failure(checker, "try:\n    interrupted()\nexcept Exception:\n    pass")
    assert e["ename"] == "RemoteError"


def test_generators_advance_as_in_the_kernel(checker):
    out = ok(checker, "rng = np.random.default_rng(0)\na = draws(rng)\nb = draws(rng)\n"
                      "ref = np.random.default_rng(0)\n"
                      "print(np.array_equal(a, ref.normal(size=2)), np.array_equal(b, ref.normal(size=2)))")
    assert out.strip() == "True True"


def test_callbacks_run_in_the_checker(checker):
    out = ok(checker, "calls = []\nprint(apply_twice(lambda v: calls.append(v) or v + 1, 1), calls)")
    assert out.strip() == "3 [1, 2]"


def test_a_reference_bound_for_the_students_code_and_restored(checker):
    code = ("from fnnlib.checks import using_reference\n"
            "with using_reference(logistic=lambda x: 42.0):\n"
            "    inside = apply_twice(lambda v: logistic(v), 0.0)\n"
            "print(inside, float(logistic(0.0)))")
    assert ok(checker, code).strip() == "42.0 0.5"


def test_rebinding_a_students_name_in_a_test_rebinds_it_for_the_students_code(checker):
    checker.kernel_ns["tanh_via_logistic"] = eval("lambda x: 2 * logistic(2 * x) - 1", checker.kernel_ns)
    code = ("_student, _calls = logistic, []\n"
            "def logistic(z):\n    _calls.append(z)\n    return _student(z)\n"
            "try:\n    tanh_via_logistic(0.5)\nfinally:\n    logistic = _student\n"
            "print(len(_calls))")
    assert ok(checker, code).strip() == "1"
    assert checker.kernel_ns["logistic"].__name__ == "logistic"


# ------------------------------------------------------------------------------------ handles


def test_handles_support_operators_attributes_and_isinstance(checker):
    out = ok(checker, "x = Dual(3.0, 1.0)\ny = 2 + x + x\n"
                      "print(type(y).__name__, y.value, y.deriv, isinstance(y, Dual), isinstance(3.0, Dual))")
    assert out.split() == ["Dual", "8.0", "2.0", "True", "False"]


def test_the_same_kernel_object_is_the_same_handle(checker):
    assert ok(checker, "print(Dual is Dual, logistic is logistic)").split() == ["True", "True"]


def test_signature_and_source_come_from_the_submitted_text(checker):
    out = ok(checker, "import inspect\nprint(inspect.signature(apply_twice))\nprint(inspect.getsource(Dual).split()[1])")
    assert out.split() == ["(f,", "x)", "Dual:"]
    from fnnlib.checks import check_does_not_use

    checker.run("pass")
    h = checker.lookup("logistic")
    with pytest.raises(AssertionError, match="uses exp"):
        check_does_not_use(h, ["exp"], "logistic")
    assert "def logistic(x):" in inspect.getsource(h)


def test_a_handle_cannot_be_sent_to_another_checker(checker):
    h = checker.lookup("Dual")
    other = Checker(lambda *a: json.dumps(["ok", ["n"]]), timeout=5)
    with pytest.raises(ValueError, match="another"):
        other.encode(h)


def test_plain_data_answers_are_copies(checker):
    ok(checker, "answers['layer'] = (1, 1)")
    assert checker.kernel_ns["answers"] == {"layer": (50, 30)}


def test_test_cells_see_fresh_student_names_in_every_cell(checker):
    ok(checker, "print(answers)")
    checker.kernel_ns["answers"] = {"layer": (5, 3)}
    assert ok(checker, "print(answers['layer'])").strip() == "(5, 3)"


def test_errors_show_the_message_without_frames(checker):
    e = failure(checker, "assert False, 'the message'")
    assert e["traceback"] == ["\x1b[0;31mAssertionError\x1b[0m: the message"]


def test_remote_error_is_not_an_exception_subclass():
    assert not issubclass(remote.RemoteError, Exception)
