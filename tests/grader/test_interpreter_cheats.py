"""Cheats inside the student's interpreter earn nothing: the tests run in the remote checker.

One class of ``01-neuron-activations`` graded once by fnngrade (jail and all): an honest perfect
and blank submission, and blanks that each try one way of making the tests pass from inside the
kernel. Every cheat must score no more than the blank, and no hidden-test line may reach the
kernel (so no student code can copy one into its output).
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from tests.pipeline import course as C

from .classroom import ASSIGNMENT, run_fnngrade

pytestmark = [pytest.mark.pipeline]

NAME = f"{ASSIGNMENT}.ipynb"

CODE_SWAP = """\
# give every check the code of a function that does nothing
import fnnlib.checks as _c
_nothing = (lambda *a, **k: None).__code__
for _f in (_c.check_function, _c.check_array, _c.check_sympy_steps, _c.check_does_not_use):
    _f.__code__ = _nothing
check_function.__code__ = _nothing
"""

THREAD_REPATCH = """\
# a thread that puts the patches back every 0.2 ms, whatever restores them
import threading as _th, time as _time, numpy as _np, fnnlib.checks as _c
def _patch():
    while True:
        for _n in ("check_function", "check_array", "check_sympy_steps", "check_does_not_use"):
            setattr(_c, _n, lambda *a, **k: None)
            globals()[_n] = lambda *a, **k: None
        _np.allclose = lambda *a, **k: True
        _time.sleep(0.0002)
_th.Thread(target=_patch, daemon=True).start()
"""

DROP_ERRORS = """\
# drop every error message and error reply the kernel sends, so no test cell shows a failure
from jupyter_client.session import Session as _S
_send = _S.send
def _quiet(self, stream, msg_or_type, content=None, *a, **k):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get("msg_type", msg_or_type.get("header", {}).get("msg_type"))
    if kind == "error":
        return None
    if isinstance(content, dict) and content.get("status") == "error":
        content = dict(content, status="ok")
    return _send(self, stream, msg_or_type, content, *a, **k)
_S.send = _quiet
"""

LYING_ARRAYS = """\
# answers whose comparisons always say yes
import numpy as _np
class _Yes(_np.ndarray):
    def __eq__(self, other):
        return True
    def __array_ufunc__(self, *args, **kwargs):
        return True
def _yes(*args, **kwargs):
    return _np.zeros(_np.shape(args[0]) if args else ()).view(_Yes)
"""

# every answer of the blank is replaced by the lying function above
LYING_NAMES = ["logistic", "logistic_grad", "tanh_grad", "tanh_via_logistic", "swish_grad", "gelu_grad",
               "dead_units", "weight_gradient_signs"]

HIDDEN_SNOOP = """\
# record every piece of code the kernel is asked to run, and print it at the end
_seen = []
get_ipython().events.register("pre_run_cell", lambda info: _seen.append(info.raw_cell))
import builtins as _b
_exec = _b.exec
"""

HIDDEN_PRINT = "print('SEEN-CODE-BEGIN'); print('\\n'.join(_seen)); print('SEEN-CODE-END')\n"


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _prefix(nb, grade_id: str, code: str):
    nb = _copy(nb)
    cell = next(c for c in nb.cells if C.grade_id(c) == grade_id)
    cell.source = code + "\n" + cell.source
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap): the jail cannot be built")
    import os

    if os.geteuid() != 0:
        pytest.skip("fnngrade's jail runs kernels as their own uid, which needs root")
    root = tmp_path_factory.mktemp("cheats")
    course = C.Course.from_release(root, ASSIGNMENT, tmp_path_factory, cell_timeout=30)
    release = course.exercises
    released = C.read(C.notebooks(release)[0])
    source = C.read(C.SOLUTIONS / ASSIGNMENT / NAME)
    perfect = C.fill_answers(released, source)
    blank = _copy(released)
    subs = {
        "perfect": perfect,
        "blank": blank,
        "code-swap": _prefix(blank, "logistic", CODE_SWAP),
        "thread-repatch": _prefix(blank, "logistic", THREAD_REPATCH),
        "drop-errors": _prefix(blank, "logistic", DROP_ERRORS),
    }
    lying = _copy(blank)
    for c in lying.cells:
        if C.is_solution(c) and c.cell_type == "code" and C.grade_id(c) in LYING_NAMES:
            c.source = f"{C.grade_id(c)} = _yes"
    subs["lying-arrays"] = _prefix(lying, "logistic", LYING_ARRAYS)
    snoop = _prefix(perfect, "logistic", HIDDEN_SNOOP)
    snoop.cells.append(nbformat.v4.new_code_cell(HIDDEN_PRINT))
    subs["hidden-snoop"] = snoop
    for student, nb in subs.items():
        course.submit(student, {NAME: C.dumps(nb)})
    p = run_fnngrade(course.root, "autograde", ASSIGNMENT, "--workers", "2", "--no-progress", "--timeout", "30")
    assert p.returncode == 0, p.stdout + p.stderr
    states = {}
    base = course.root / "grading" / ".fnngrade" / ASSIGNMENT / "state"
    for sf in base.glob("*.json"):
        r = json.loads(sf.read_text())
        states[r["student"]] = r
    return course, states, source


def _auto(states, student) -> float:
    return states[student]["score"]


def _auto_max(states, student) -> float:
    grades = [g for nb in states[student]["notebooks"].values() for g in nb["grades"].values()]
    return sum(g["max_score"] for g in grades if g.get("cell_type") == "code")


def test_the_honest_submissions_score_as_expected(graded):
    _, states, _ = graded
    assert states["perfect"]["state"] == "graded"
    assert _auto(states, "perfect") == _auto_max(states, "perfect") > 0
    assert _auto(states, "blank") == 0


@pytest.mark.parametrize("student", ["code-swap", "thread-repatch", "drop-errors", "lying-arrays"])
def test_a_cheat_inside_the_interpreter_earns_nothing(graded, student):
    _, states, _ = graded
    assert states[student]["state"] in ("graded", "crashed", "timed out"), states[student]
    assert _auto(states, student) <= _auto(states, "blank"), (student, states[student])


def test_no_hidden_test_line_reaches_the_kernel(graded):
    course, states, source = graded
    assert states["hidden-snoop"]["state"] == "graded"
    assert _auto(states, "hidden-snoop") == states["perfect"]["score"]
    nb = C.read(course.root / "grading" / "autograded" / "hidden-snoop" / ASSIGNMENT / NAME)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("output_type") == "stream")
    assert "SEEN-CODE-BEGIN" in printed and "SEEN-CODE-END" in printed
    hidden = C.secrets(source, NAME).kinds("hidden")
    assert len(hidden) > 20, "the source holds no hidden tests to look for"
    seen = {C.normalise(line) for line in printed.splitlines()}
    leaked = [origin for line, (_, origin) in hidden.items() if line in seen]
    assert not leaked, leaked[:3]
    # the kernel did see the answers' own code and the instructor's locked cells
    assert "def logistic" in printed
