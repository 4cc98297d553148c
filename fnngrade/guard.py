"""The test-cell guard: tests run with the functions the instructor imported, not the student's.

nbgrader runs the student's answers and the instructor's tests in ONE kernel, so an answer cell
can rebind ``check_function`` or patch ``numpy.allclose`` / ``fnnlib.checks.check_function`` and
every later test passes. :class:`~fnngrade.preprocessors.SafeExecute` therefore talks to the
kernel outside the cells (``user_expressions`` of a silent execute request, which IPython
evaluates without input or AST transformers):

1. before the first cell, :data:`SNAPSHOT` imports what the tests use and records the attributes
   of those modules (numpy*, scipy.special*, fnnlib*, sympy, math, builtins), the IPython input
   and AST transformers, the methods of the shell's and the kernel's classes and which instance
   attributes they have, and a restore function, stored under a random key in ``sys.modules``;
2. around each locked code cell that is not graded (the instructor's imports and examples), the
   names the cell binds are recorded;
3. before each autograded test cell, every recorded module attribute and every name bound by a
   locked cell is put back, IPython's transformers and the shell's and kernel's methods are reset
   (an instance attribute such as ``get_ipython().run_cell = ...`` is removed), and
   ``sys.settrace`` is cleared. If the
   guard cannot run (the student broke ``sys.modules``, ``__import__``, ...), the test cell is not
   run and gets an error output: it scores 0.

This stops the cheap tricks (rebinding or monkey-patching the checks and numpy's comparisons).
It is not a security boundary: code in the same interpreter can always find the guard (e.g. via
``gc``) or patch Python classes' methods (``sympy.Basic.equals``). The real fix is to run the
tests outside the student's interpreter (the answers' values serialised out of the jail and checked
by a separate process that the student's code never touches); the README's grading section
lists this under what the grader does not do.
"""

from __future__ import annotations

__all__ = ["SNAPSHOT", "call"]

SNAPSHOT = r'''
import sys as _sys, types as _types
import math, builtins, numpy, numpy.testing, numpy.linalg, scipy.special, sympy, fnnlib, fnnlib.checks
def _factory(ip, _sys=_sys):
    prefixes = ("numpy", "fnnlib", "scipy.special", "math", "builtins")
    snap = {}
    for name, m in list(_sys.modules.items()):
        if m is None or not isinstance(m, _types.ModuleType):
            continue
        if name == "sympy" or name in prefixes or name.startswith(tuple(p + "." for p in prefixes)):
            snap[name] = (m, dict(vars(m)))
    hooks = (list(ip.ast_transformers), list(ip.input_transformers_post), list(ip.input_transformers_cleanup))
    ns = ip.user_ns
    # the shell and the kernel: their classes' methods, and which instance attributes they had
    objs = [ip] + ([ip.kernel] if getattr(ip, "kernel", None) is not None else [])
    classes = [c for o in objs for c in type(o).__mro__ if c is not object and hasattr(c, "__dict__")]
    csnap = [(c, dict(vars(c))) for c in classes]
    isnap = [(o, set(vars(o))) for o in objs]
    locked, before = {}, {}
    missing = object()
    def restore(_sys=_sys, _snap=snap, _ns=ns, _locked=locked, _missing=missing, _hooks=hooks, _ip=ip,
                _csnap=csnap, _isnap=isnap, _setattr=setattr, _type=type, _callable=callable):
        n = 0
        for c, d in _csnap:
            cur = c.__dict__
            for k, v in d.items():
                if cur.get(k, _missing) is not v:
                    _setattr(c, k, v)
                    n += 1
        for o, keys in _isnap:
            od = o.__dict__
            for k in [k for k in od if k not in keys and _callable(getattr(_type(o), k, None))]:
                del od[k]  # e.g. get_ipython().run_cell = <something that skips the tests>
                n += 1
        for name, (m, d) in _snap.items():
            if _sys.modules.get(name) is not m:
                _sys.modules[name] = m
                n += 1
            cur = m.__dict__
            for k, v in d.items():
                if cur.get(k, _missing) is not v:
                    cur[k] = v
                    n += 1
        for k, v in _locked.items():
            if _ns.get(k, _missing) is not v:
                _ns[k] = v
                n += 1
        _ip.ast_transformers[:] = _hooks[0]
        _ip.input_transformers_post[:] = _hooks[1]
        _ip.input_transformers_cleanup[:] = _hooks[2]
        _sys.settrace(None)
        _sys.setprofile(None)
        return "fnngrade-ok %d" % n
    def pre(_ns=ns, _before=before):
        _before.clear()
        _before.update((k, id(v)) for k, v in _ns.items())
        return "fnngrade-ok 0"
    def post(_ns=ns, _before=before, _locked=locked):
        for k, v in _ns.items():
            if not k.startswith("_") and _before.get(k) != id(v):
                _locked[k] = v
        return "fnngrade-ok %d" % len(_locked)
    return _types.SimpleNamespace(restore=restore, pre=pre, post=post)
_sys.modules[TOKEN] = _factory(IP)
'''


def snapshot_expression(token: str) -> str:
    return (f"exec({SNAPSHOT!r}, {{'__builtins__': __import__('builtins'), 'TOKEN': {token!r}, "
            f"'IP': get_ipython()}}) or __import__('sys').modules[{token!r}].restore()")


def call(token: str, what: str) -> str:
    return f"__import__('sys').modules[{token!r}].{what}()"
