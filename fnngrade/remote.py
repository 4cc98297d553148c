"""The remote checker: test cells run outside the student's interpreter.

nbgrader runs a student's answers and the instructor's tests in one kernel, so whatever decides
a grade there (``check_function``, ``numpy.allclose``, the kernel's messaging, the traceback that
marks a test as failed) can be patched by the answers. Under fnngrade the test cells therefore
never run in the student's kernel. :class:`Checker` runs them in the grading worker, a trusted
interpreter outside the jail, in a namespace of its own:

- locked cells that are not answers (imports, helpers, examples) run in the kernel (the student's
  code may need them) and again in the checker (the tests need them);
- a test cell runs only in the checker; a name it does not define (the student's function, class
  or answer variable) is looked up in the kernel (:class:`RemoteNamespace`);
- the kernel answers with values only. Plain data is copied out and rebuilt here from bytes:
  ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, lists, tuples, dicts,
  sets, NumPy scalars and arrays of a built-in dtype (never a subclass), SymPy expressions (rebuilt
  from ``srepr`` text by a parser that only calls SymPy constructors). Any other object stays in
  the kernel and is represented here by a :class:`Handle`, whose attribute reads, calls and
  operators are requests to the kernel;
- checker-side functions passed to the student's code (a test's ``lambda v: np.sum(v**2)``, a
  reference ``dense_backward`` bound with :func:`fnnlib.checks.using_reference`) stay here and are
  called back through the kernel's stdin channel;
- the cell's outputs (its ``print`` text, and an error with the failing check's message) are made
  here and written into the notebook; nothing the kernel sends can add or remove them.

So a student who patches ``check_function``, ``numpy``, ``builtins``, the IPython shell, the
kernel's ``Session.send`` or its own threads changes nothing the checker uses; a student whose
code returns an ``ndarray`` subclass with lying comparisons gets a plain array rebuilt from its
bytes; a kernel that lies, hangs or dies only fails its own tests. What the kernel still controls
is what its functions return, which is the student's answer.

The kernel side is :mod:`fnngrade.agent` (sent as text, run in the kernel). Wire format: every
value is a JSON list whose first item is a tag: ``n`` None, ``b`` bool, ``i`` int (decimal text),
``f`` float (``repr``), ``c`` complex, ``s`` str, ``y`` bytes (base64), ``l``/``t`` list/tuple,
``d`` dict (pairs), ``set``/``fs``, ``sl`` slice, ``el`` Ellipsis, ``a`` array (dtype string, shape,
base64 bytes), ``ao`` object array (shape, items), ``ns`` NumPy scalar, ``sym`` SymPy ``srepr``,
``rng`` a NumPy ``Generator`` (bit generator name, state; written back after a call, so the
test's generator advances as it would in the kernel), ``h`` handle (id, type name, callable, is a
class), ``cb`` checker callback (id, name).
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import inspect
import io
import json
import linecache
import math
import time
import types
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["Checker", "Handle", "RemoteError", "RemoteTimeout", "KernelGone", "decode_sympy"]

AGENT_SOURCE = (Path(__file__).resolve().parent / "agent.py").read_text()

MAX_REPLY_CHARS = 512 * 1024 * 1024  # a reply larger than this is refused (the answer is wrong anyway)
MAX_DEPTH = 64
_DTYPE_KINDS = "biufcUS"
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class RemoteError(BaseException):
    """The kernel did not answer a request in a way the checker can use.

    A ``BaseException``, so that a test's ``except Exception:`` (written for the student's own
    exceptions) never swallows a timeout or a lost kernel and passes by accident."""


class RemoteTimeout(RemoteError):
    """The kernel did not answer before the cell's deadline."""


class KernelGone(RemoteError):
    """The kernel died, or was killed after a timeout."""


# ------------------------------------------------------------------------------------ the socket


class Session:
    """One checker cell's conversation with the kernel's agent over a Unix socket.

    The worker binds the socket (as a new file with a random name in the kernel's socket folder:
    ``bind`` never follows a link, and no chmod is needed because the mode comes from the umask),
    asks the kernel to connect and serve it, and accepts one connection. Frames are a 4-byte
    length and JSON. ``host`` is the :class:`~fnngrade.preprocessors.SafeExecute` that owns the
    kernel: it interrupts, checks and kills it when a deadline passes.
    """

    MAX_FRAME = MAX_REPLY_CHARS

    def __init__(self, path: str, host: Any):
        import os
        import socket

        self.path, self.host = path, host
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0)  # the kernel runs as another uid and must be able to connect
        try:
            self.listener.bind(path)
        finally:
            os.umask(old)
        self.listener.listen(1)
        self.conn = None
        self.msg_id = None
        self.buf = b""

    def accept(self, msg_id: str, deadline: float) -> None:
        import select

        self.msg_id = msg_id
        end = min(deadline, time.monotonic() + max(self.host.timeout or 60, 5))
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise self._stuck("the kernel did not connect to the grader's checker")
            ready, _, _ = select.select([self.listener], [], [], min(left, 1.0))
            if ready:
                self.conn, _ = self.listener.accept()
                self.listener.close()
                self.listener = None
                return
            if not self.host._kernel_alive():
                raise KernelGone(self.host._lose_kernel("died", "the kernel died (exit status {rc})"))

    def request(self, payload: str, on_input: Callable[[str], str], deadline: float) -> str:
        """Send one request; answer the callbacks that come before its reply; return the reply."""
        self.send(["req", payload])
        while True:
            msg = self.recv(deadline)
            if msg[0] == "res" and isinstance(msg[1], str):
                return msg[1]
            if msg[0] == "cb" and isinstance(msg[1], str):
                self.send(["cbres", on_input(msg[1])])
                continue
            raise self.broken("an unknown message")

    def send(self, msg: list) -> None:
        data = json.dumps(msg).encode()
        try:
            self.conn.sendall(len(data).to_bytes(4, "big") + data)
        except OSError as e:
            raise self.broken(f"the connection failed ({e})") from None

    def recv(self, deadline: float) -> list:
        import select

        interrupted_at = None
        last_alive = time.monotonic()
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:4], "big")
                if n > self.MAX_FRAME:
                    raise self.broken("a message larger than the checker accepts")
                if len(self.buf) >= 4 + n:
                    frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    try:
                        msg = json.loads(frame)
                    except ValueError:
                        raise self.broken("a message that is not JSON") from None
                    if not (isinstance(msg, list) and len(msg) == 2 and isinstance(msg[0], str)):
                        raise self.broken("a message of an unknown form")
                    if interrupted_at is not None and msg[0] == "res":
                        raise RemoteTimeout(f"the student's code ran past the {self.host.timeout} s cell timeout "
                                            "and was interrupted")
                    return msg
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                self.host._note_timeout()
                self.host._interrupt_kernel()
                interrupted_at = now
            if interrupted_at is not None and now > interrupted_at + max(int(self.host.interrupt_grace), 1):
                raise KernelGone(self.host._lose_kernel(
                    "killed", f"the kernel did not stop within {self.host.interrupt_grace} s of being interrupted "
                              f"after the {self.host.timeout} s cell timeout, and was killed (exit status {{rc}})"))
            if now - last_alive > 2.0:
                last_alive = now
                if not self.host._kernel_alive():
                    raise KernelGone(self.host._lose_kernel("died", "the kernel died while running this cell "
                                                                    "(exit status {rc})"))
            ready, _, _ = select.select([self.conn], [], [], 0.5)
            if ready:
                try:
                    chunk = self.conn.recv(1 << 20)
                except OSError:
                    chunk = b""
                if not chunk:
                    if interrupted_at is not None:
                        raise RemoteTimeout(f"the student's code ran past the {self.host.timeout} s cell timeout "
                                            "and was interrupted")
                    raise self.broken("the kernel closed the connection")
                self.buf += chunk
                if len(self.buf) > self.MAX_FRAME + 4:
                    raise self.broken("a message larger than the checker accepts")

    def broken(self, what: str) -> "RemoteError":
        return RemoteError(f"the kernel's side of the checker failed: {what}")

    def _stuck(self, what: str) -> BaseException:
        return KernelGone(self.host._lose_kernel("died", what + " (the kernel was stopped, exit status {rc})"))

    def close(self) -> None:
        """End the session: the kernel's serve loop returns and its execute request completes."""
        import os

        if self.conn is not None:
            try:
                self.send(["end", ""])
            except RemoteError:
                pass
            if self.msg_id and not self.host._fatal:
                if self.host._wait_reply(self.msg_id, max(int(self.host.interrupt_grace), 1) + 5) is None:
                    self.host._interrupt_kernel()
                    if self.host._wait_reply(self.msg_id, max(int(self.host.interrupt_grace), 1)) is None:
                        self.host._lose_kernel("killed", "the kernel did not finish the checker's session "
                                                         "and was killed (exit status {rc})")
            self.conn.close()
            self.conn = None
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        try:
            os.unlink(self.path)  # unlink removes the name itself, never a link's target
        except OSError:
            pass


# ------------------------------------------------------------------------------------ SymPy


def decode_sympy(text: str) -> Any:
    """Rebuild a SymPy object from ``srepr`` text without evaluating code.

    Only calls of SymPy classes and functions (looked up in the ``sympy`` namespace, nothing with a
    leading underscore, nothing that parses strings) with constant or nested-call arguments are
    allowed; anything else raises :class:`RemoteError`.
    """
    import sympy

    if len(text) > 2_000_000:
        raise RemoteError("a SymPy expression of more than 2,000,000 characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise RemoteError(f"not a SymPy srepr: {e}") from None
    banned = {"sympify", "S", "parse_expr", "lambdify", "Lambda", "var", "symbols", "init_printing", "srepr"}

    def build(node: ast.AST, depth: int = 0) -> Any:
        if depth > 400:
            raise RemoteError("SymPy expression nested too deeply")
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, str, bool, type(None)):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return -build(node.operand, depth + 1)
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [build(e, depth + 1) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            return {build(k, depth + 1): build(v, depth + 1) for k, v in zip(node.keys, node.values)}
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                name = node.func.id
                if name.startswith("_") or name in banned or not hasattr(sympy, name):
                    raise RemoteError(f"{name!r} is not a SymPy constructor the checker accepts")
                func = getattr(sympy, name)
                if not callable(func) or getattr(func, "__module__", "").split(".")[0] != "sympy":
                    raise RemoteError(f"{name!r} is not a SymPy constructor")
            elif isinstance(node.func, ast.Call):  # Function('f')(x)
                func = build(node.func, depth + 1)
                if not (isinstance(func, type) and issubclass(func, sympy.Basic)):
                    raise RemoteError("a call of something that is not a SymPy class")
            else:
                raise RemoteError("only SymPy constructor calls are accepted")
            args = [build(a, depth + 1) for a in node.args]
            kwargs = {k.arg: build(k.value, depth + 1) for k in node.keywords if k.arg}
            for v in kwargs.values():
                if type(v) not in (bool, int, float, str, type(None)):
                    raise RemoteError("SymPy keyword arguments must be constants")
            if func in (sympy.Function,) and (len(args) != 1 or not isinstance(args[0], str)):
                raise RemoteError("Function(...) takes one name")
            return func(*args, **kwargs)
        raise RemoteError(f"unexpected {type(node).__name__} in a SymPy srepr")

    from sympy.core.parameters import evaluate

    with evaluate(False):  # rebuild the very tree the student made (srepr shows it as built)
        return build(tree.body)


# ------------------------------------------------------------------------------------ handles

_OPS = {
    "__add__": ("add", False), "__radd__": ("add", True), "__sub__": ("sub", False), "__rsub__": ("sub", True),
    "__mul__": ("mul", False), "__rmul__": ("mul", True), "__truediv__": ("truediv", False),
    "__rtruediv__": ("truediv", True), "__floordiv__": ("floordiv", False), "__rfloordiv__": ("floordiv", True),
    "__mod__": ("mod", False), "__rmod__": ("mod", True), "__pow__": ("pow", False), "__rpow__": ("pow", True),
    "__matmul__": ("matmul", False), "__rmatmul__": ("matmul", True), "__and__": ("and_", False),
    "__rand__": ("and_", True), "__or__": ("or_", False), "__ror__": ("or_", True), "__xor__": ("xor", False),
    "__rxor__": ("xor", True), "__lt__": ("lt", False), "__le__": ("le", False), "__gt__": ("gt", False),
    "__ge__": ("ge", False), "__eq__": ("eq", False), "__ne__": ("ne", False), "__getitem__": ("getitem", False),
    "__contains__": ("contains", False),
}
_UNARY = {"__neg__": "neg", "__pos__": "pos", "__invert__": "invert"}
_BUILTINS = {"__len__": "len", "__repr__": "repr", "__str__": "str", "__float__": "float", "__int__": "int",
             "__index__": "int", "__bool__": "bool", "__complex__": "complex", "__hash__": "hash", "__abs__": "abs"}


class Handle:
    """An object that lives in the student's kernel. Every use is a request to the kernel."""

    __slots__ = ("_fnn_checker", "_fnn_hid", "_fnn_type", "_fnn_name", "_fnn_meta", "__weakref__")

    def __init__(self, checker: "Checker", hid: int, typename: str):
        object.__setattr__(self, "_fnn_checker", checker)
        object.__setattr__(self, "_fnn_hid", hid)
        object.__setattr__(self, "_fnn_type", typename)
        object.__setattr__(self, "_fnn_name", None)
        object.__setattr__(self, "_fnn_meta", {})

    # asked for only when a test uses inspect.signature / inspect.getsource on the student's name
    @property
    def __signature__(self):
        meta = self._fnn_meta
        if "signature" not in meta:
            meta["signature"] = self._fnn_checker.signature_of(self)
        return meta["signature"]

    @property
    def __wrapped__(self):
        meta = self._fnn_meta
        if "wrapped" not in meta:
            meta["wrapped"] = self._fnn_checker.source_holder(self)
        if meta["wrapped"] is None:
            raise AttributeError("__wrapped__")
        return meta["wrapped"]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._fnn_checker.request({"op": "getattr", "h": self._fnn_hid, "name": name})

    def __setattr__(self, name: str, value: Any) -> None:
        self._fnn_checker.request({"op": "setattr", "h": self._fnn_hid, "name": name,
                                   "value": self._fnn_checker.encode(value)})

    def __setitem__(self, key: Any, value: Any) -> None:
        self._fnn_checker.request({"op": "op", "name": "setitem",
                                   "args": self._fnn_checker.encode((self, key, value))})

    def __iter__(self):
        return iter(self._fnn_checker.request({"op": "builtin", "name": "list",
                                               "args": self._fnn_checker.encode((self,))}))

    def __array__(self, dtype=None, copy=None):
        a = self._fnn_checker.request({"op": "builtin", "name": "asarray", "args": self._fnn_checker.encode((self,))})
        if not isinstance(a, np.ndarray):
            a = np.asarray(a)
        return a.astype(dtype) if dtype is not None else a

    def __format__(self, spec: str) -> str:
        return self._fnn_checker.request({"op": "builtin", "name": "format",
                                          "args": self._fnn_checker.encode((self, spec))})

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        raise TypeError("an object of the student's kernel cannot be pickled")

    def __instancecheck__(self, obj: Any) -> bool:
        return bool(self._fnn_checker.request({"op": "builtin", "name": "isinstance",
                                               "args": self._fnn_checker.encode((obj, self))}))


def _binary(opname: str, reflected: bool):
    def method(self, other):
        c = self._fnn_checker
        args = (other, self) if reflected else (self, other)
        return c.request({"op": "op", "name": opname, "args": c.encode(args)})
    return method


def _unary(opname: str):
    def method(self):
        c = self._fnn_checker
        return c.request({"op": "op", "name": opname, "args": c.encode((self,))})
    return method


def _builtin(name: str, check: Callable[[Any], bool] | None = None):
    def method(self):
        c = self._fnn_checker
        v = c.request({"op": "builtin", "name": name, "args": c.encode((self,))})
        if check is not None and not check(v):
            raise TypeError(f"{name}() of an object of the student's kernel returned {type(v).__name__}")
        return v
    return method


for _k, (_op, _r) in _OPS.items():
    setattr(Handle, _k, _binary(_op, _r))
for _k, _op in _UNARY.items():
    setattr(Handle, _k, _unary(_op))
_CHECKS = {"len": lambda v: type(v) is int, "repr": lambda v: type(v) is str, "str": lambda v: type(v) is str,
           "float": lambda v: type(v) is float, "int": lambda v: type(v) is int, "bool": lambda v: type(v) is bool,
           "complex": lambda v: type(v) is complex, "hash": lambda v: type(v) is int}
for _k, _op in _BUILTINS.items():
    setattr(Handle, _k, _builtin(_op, _CHECKS.get(_op)))


def _call(self, *args, **kwargs):
    return self._fnn_checker.call(self, args, kwargs)


# ------------------------------------------------------------------------------------ namespace


class RemoteNamespace(dict):
    """The checker's globals: its own names first, then builtins, then the student's kernel."""

    def __init__(self, checker: "Checker"):
        super().__init__()
        self._checker = checker

    def __missing__(self, name: str) -> Any:
        if hasattr(builtins, name):
            return getattr(builtins, name)
        v = self._checker.lookup(name)
        dict.__setitem__(self, name, v)  # until the end of this cell (Checker.run forgets it)
        return v

    def __setitem__(self, name: str, value: Any) -> None:
        # a test that rebinds one of the student's names (a counting wrapper around the student's
        # function, then the original back) rebinds it where the student's code looks it up too,
        # as it would if the test ran in the kernel
        if name in self._checker.fetched:
            self._checker.assign(name, value)
        super().__setitem__(name, value)

    def fnn_substitute(self, functions: dict[str, Any]):
        return self._checker.substitute(functions)


# ------------------------------------------------------------------------------------ checker


class Checker:
    """Runs test cells here, with the student's names looked up in the kernel.

    ``transport(payload: str, on_input: callable, deadline: float) -> str`` sends one request to
    the kernel agent and returns its reply text; ``on_input(prompt) -> str`` answers the kernel's
    callback requests while it waits. The grader's :class:`~fnngrade.preprocessors.SafeExecute`
    provides it over the kernel's shell and stdin channels.
    """

    def __init__(self, transport: Callable[[str, Callable[[str], str], float], str], timeout: float):
        self.transport = transport
        self.timeout = timeout
        self.fetched: set[str] = set()
        self.ns = RemoteNamespace(self)
        self.ns["__name__"] = "__main__"
        self.ns["__builtins__"] = builtins
        self.handles: dict[int, Handle] = {}
        self.classes: dict[tuple[str, bool, bool], type] = {}
        self.callbacks: dict[int, Callable[..., Any]] = {}
        self.fetched: set[str] = set()
        self.student_sources: list[str] = []
        self.deadline = math.inf
        self.in_callback = 0
        self.requests = 0
        self._src_count = 0

    # -- encoding (checker -> kernel) ---------------------------------------------------------

    def encode(self, v: Any, depth: int = 0) -> list:
        if depth > MAX_DEPTH:
            raise ValueError("value nested too deeply to send to the student's kernel")
        if isinstance(v, Handle):
            if v._fnn_checker is not self:
                raise ValueError("a handle of another submission's kernel")
            return ["h", v._fnn_hid]
        t = type(v)
        if v is None:
            return ["n"]
        if t is bool:
            return ["b", v]
        if t is int:
            return ["i", str(v)]
        if t is float:
            return ["f", repr(v)]
        if t is complex:
            return ["c", repr(v.real), repr(v.imag)]
        if t is str:
            return ["s", v]
        if t is bytes:
            return ["y", base64.b64encode(v).decode()]
        if t is list:
            return ["l", [self.encode(x, depth + 1) for x in v]]
        if t is tuple:
            return ["t", [self.encode(x, depth + 1) for x in v]]
        if isinstance(v, dict):
            return ["d", [[self.encode(k, depth + 1), self.encode(x, depth + 1)] for k, x in v.items()]]
        if t is slice:
            return ["sl", self.encode(v.start, depth + 1), self.encode(v.stop, depth + 1), self.encode(v.step, depth + 1)]
        if v is Ellipsis:
            return ["el"]
        if isinstance(v, (set, frozenset)):
            return ["set" if isinstance(v, set) else "fs", [self.encode(x, depth + 1) for x in v]]
        if isinstance(v, np.ndarray):
            if v.dtype.kind in _DTYPE_KINDS and not v.dtype.fields:
                a = np.array(v, order="C", copy=True)
                return ["a", a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]
            return ["ao", list(v.shape), [self.encode(x, depth + 1) for x in v.reshape(-1).tolist()]]
        if isinstance(v, np.generic) and v.dtype.kind in "biufc":
            return ["ns", v.dtype.str, base64.b64encode(v.tobytes()).decode()]
        if isinstance(v, np.random.Generator):
            return ["rng", type(v.bit_generator).__name__, self.encode(v.bit_generator.state, depth + 1)]
        if isinstance(v, (int, float)):  # IntEnum and the like: their plain value
            return self.encode(float(v) if isinstance(v, float) else int(v), depth)
        import sympy

        if isinstance(v, (sympy.Basic, sympy.MatrixBase)):
            return ["sym", sympy.srepr(v)]
        if callable(v):
            cid = len(self.callbacks) + 1
            self.callbacks[cid] = v
            return ["cb", cid, getattr(v, "__name__", "reference")]
        raise TypeError(f"cannot send a {t.__name__} to the student's code (the test passes plain data, "
                        "arrays, SymPy expressions, functions, or objects of the student's kernel)")

    # -- decoding (kernel -> checker): strict ----------------------------------------------------

    def decode(self, x: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise RemoteError("value nested too deeply")
        if not isinstance(x, list) or not x or not isinstance(x[0], str):
            raise RemoteError("malformed value from the kernel")
        tag = x[0]
        try:
            if tag == "n":
                return None
            if tag == "b":
                return _exact(x[1], bool)
            if tag == "s":
                return _exact(x[1], str)
            if tag == "i":
                s = _exact(x[1], str)
                if len(s) > 5000:
                    raise RemoteError("an integer of more than 5,000 digits")
                return int(s)
            if tag == "f":
                return float(_exact(x[1], str))
            if tag == "c":
                return complex(float(_exact(x[1], str)), float(_exact(x[2], str)))
            if tag == "y":
                return base64.b64decode(_exact(x[1], str), validate=True)
            if tag in ("l", "t", "set", "fs"):
                items = [self.decode(y, depth + 1) for y in _exact(x[1], list)]
                return {"l": list, "t": tuple, "set": set, "fs": frozenset}[tag](items)
            if tag == "d":
                return {self.decode(k, depth + 1): self.decode(v, depth + 1) for k, v in _exact(x[1], list)}
            if tag == "sl":
                return slice(self.decode(x[1], depth + 1), self.decode(x[2], depth + 1), self.decode(x[3], depth + 1))
            if tag == "el":
                return Ellipsis
            if tag == "a":
                dt = np.dtype(_exact(x[1], str))
                if dt.kind not in _DTYPE_KINDS or dt.fields or dt.hasobject:
                    raise RemoteError(f"array of dtype {dt} is not plain data")
                shape = tuple(_exact(n, int) for n in _exact(x[2], list))
                if any(n < 0 for n in shape) or len(shape) > 32:
                    raise RemoteError("bad array shape")
                raw = base64.b64decode(_exact(x[3], str), validate=True)
                if len(raw) != math.prod(shape) * dt.itemsize:
                    raise RemoteError("array bytes do not match its shape")
                return np.frombuffer(raw, dtype=dt).reshape(shape).copy()
            if tag == "ao":
                shape = tuple(_exact(n, int) for n in _exact(x[1], list))
                items = [self.decode(y, depth + 1) for y in _exact(x[2], list)]
                if len(items) != math.prod(shape):
                    raise RemoteError("object array items do not match its shape")
                out = np.empty(len(items), dtype=object)
                out[:] = items
                return out.reshape(shape)
            if tag == "ns":
                dt = np.dtype(_exact(x[1], str))
                if dt.kind not in "biufc" or dt.fields:
                    raise RemoteError(f"scalar of dtype {dt} is not plain data")
                raw = base64.b64decode(_exact(x[2], str), validate=True)
                if len(raw) != dt.itemsize:
                    raise RemoteError("scalar bytes do not match its dtype")
                return np.frombuffer(raw, dtype=dt)[0]
            if tag == "sym":
                return decode_sympy(_exact(x[1], str))
            if tag == "rng":
                name = _exact(x[1], str)
                if name not in _BIT_GENERATORS:
                    raise RemoteError(f"unknown bit generator {name!r}")
                g = np.random.Generator(getattr(np.random, name)())
                g.bit_generator.state = self.decode(x[2], depth + 1)
                return g
            if tag == "h":
                return self.handle(_exact(x[1], int), _exact(x[2], str), _exact(x[3], bool), _exact(x[4], bool))
        except RemoteError:
            raise
        except (ValueError, TypeError, IndexError, KeyError, OverflowError) as e:
            raise RemoteError(f"malformed {tag!r} value from the kernel: {e}") from None
        raise RemoteError(f"unknown value tag {tag!r} from the kernel")

    def handle(self, hid: int, typename: str, is_callable: bool, is_class: bool) -> Handle:
        h = self.handles.get(hid)
        if h is not None:
            return h
        key = (typename[:100], is_callable, is_class)
        cls = self.classes.get(key)
        if cls is None:
            ns: dict[str, Any] = {"__slots__": (), "__module__": "student"}
            if is_callable:
                ns["__call__"] = _call
            name = typename if typename.isidentifier() else "StudentObject"
            cls = self.classes[key] = type(name, (Handle,), ns)
        h = cls(self, hid, typename)
        self.handles[hid] = h
        return h

    # -- requests -----------------------------------------------------------------------------

    def request(self, req: dict) -> Any:
        self.requests += 1
        text = self.transport(json.dumps(req), self._on_input, self.deadline, self.in_callback > 0)
        if not isinstance(text, str) or len(text) > MAX_REPLY_CHARS:
            raise RemoteError("the kernel's reply is missing or too large")
        try:
            reply = json.loads(text)
        except ValueError:
            raise RemoteError("the kernel's reply is not valid JSON") from None
        if not isinstance(reply, list) or len(reply) != 2 or reply[0] not in ("ok", "err"):
            raise RemoteError("the kernel's reply has an unknown form")
        if reply[0] == "err":
            raise self._exception(reply[1])
        return self.decode(reply[1])

    def _exception(self, x: Any) -> BaseException:
        try:
            _, name, module, bases, args, text = x
            name, module, text = _exact(name, str), _exact(module, str), _exact(text, str)
            args = self.decode(args)
            if not isinstance(args, tuple):
                args = (text,)
        except (ValueError, TypeError, RemoteError):
            return RemoteError("the kernel reported an error in a form the checker cannot read")
        cls = getattr(builtins, name, None) if module == "builtins" else None
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            if name in ("KeyboardInterrupt", "SystemExit", "GeneratorExit"):
                cls = RemoteError
            else:
                cls = self._exception_class(name, tuple(b for b in bases if isinstance(b, str)))
        try:
            return cls(*args)
        except Exception:
            return cls(text)

    def _exception_class(self, name: str, bases: tuple[str, ...]) -> type:
        key = ("exc:" + name, bases, False)
        cls = self.classes.get(key)
        if cls is None:
            types_ = [getattr(builtins, b) for b in bases
                      if isinstance(getattr(builtins, b, None), type) and issubclass(getattr(builtins, b), Exception)]
            types_ = [t for t in types_ if not any(t is not u and issubclass(u, t) for u in types_)] or [Exception]
            try:
                cls = type(name if name.isidentifier() else "StudentError", tuple(types_), {"__module__": "student"})
            except TypeError:
                cls = type(name if name.isidentifier() else "StudentError", (types_[0],), {"__module__": "student"})
            self.classes[key] = cls
        return cls

    def _on_input(self, prompt: str) -> str:
        """A callback from the student's code to a checker-side function."""
        try:
            req = json.loads(prompt)
            if not (isinstance(req, list) and len(req) == 4 and req[0] == "cb"):
                raise RemoteError("unknown input request")
            fn = self.callbacks[_exact(req[1], int)]
            args = self.decode(req[2])
            kwargs = self.decode(req[3])
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise RemoteError("malformed callback arguments")
        except (ValueError, KeyError, RemoteError) as e:
            return json.dumps(["err", "RuntimeError", f"the grader could not read a callback: {e}"])
        self.in_callback += 1
        try:
            result = fn(*args, **kwargs)
            return json.dumps(["ok", self.encode(result)])
        except Exception as e:  # the reference raised: the student's code sees the same exception type
            name = type(e).__name__ if type(e).__module__ == "builtins" else "RuntimeError"
            return json.dumps(["err", name, str(e)[:2000]])
        finally:
            self.in_callback -= 1

    def call(self, h: Handle, args: tuple, kwargs: dict) -> Any:
        sent = list(args) + list(kwargs.values())
        res = self.request({"op": "call", "h": h._fnn_hid, "args": self.encode(tuple(args)),
                            "kwargs": self.encode(dict(kwargs))})
        if not (isinstance(res, tuple) and len(res) == 3):
            raise RemoteError("malformed call reply")
        result, after, warned = res
        # in-place changes of array / list / dict arguments, written back so that tests see them
        if isinstance(after, list):
            for orig, new in zip(sent, after):
                if new is None:
                    continue
                _write_back(orig, new)
        for item in warned if isinstance(warned, list) else []:
            if isinstance(item, tuple) and len(item) == 2 and all(isinstance(s, str) for s in item):
                cat = getattr(builtins, item[0], None)
                if not (isinstance(cat, type) and issubclass(cat, Warning)):
                    cat = UserWarning
                warnings.warn(item[1], cat, stacklevel=2)
        return result

    def lookup(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise KeyError(name)
        res = self.request({"op": "get", "name": name})
        if not (isinstance(res, tuple) and len(res) == 2 and type(res[0]) is bool):
            raise RemoteError("malformed reply to a name lookup")
        found, v = res
        if not found:
            raise KeyError(name)
        self.fetched.add(name)
        if isinstance(v, Handle) and v._fnn_name is None:
            object.__setattr__(v, "_fnn_name", name)
        return v

    def assign(self, name: str, value: Any) -> None:
        self.request({"op": "set", "name": name, "value": self.encode(value)})

    def _forget(self, names) -> None:
        for name in names:
            if name in self.fetched:
                dict.pop(self.ns, name, None)

    @contextlib.contextmanager
    def substitute(self, functions: dict[str, Any]):
        self.request({"op": "bind", "values": self.encode(dict(functions))})
        self._forget(functions)
        try:
            yield
        finally:
            self.request({"op": "unbind", "names": list(functions)})
            self._forget(functions)

    # -- source of the student's definitions (for inspect.getsource, from the notebook) ----------

    def signature_of(self, h: Handle) -> inspect.Signature | None:
        try:
            sig = self.request({"op": "builtin", "name": "signature", "args": self.encode((h,))})
        except RemoteError:
            return None
        if not isinstance(sig, list):
            return None
        try:
            params = [inspect.Parameter(pname, inspect._ParameterKind(kind),
                                        default=_RemoteDefault if has_default else inspect.Parameter.empty)
                      for pname, kind, has_default in sig]
            return inspect.Signature(params)
        except (ValueError, TypeError):
            return None

    def source_holder(self, h: Handle) -> Any:
        """A stand-in function or class whose source (for ``inspect.getsource``) is the student's
        submitted definition of the name ``h`` was looked up by; never called."""
        name = h._fnn_name
        found = _find_definition(self.student_sources, name) if name else None
        if found is None:
            return None
        kind, text = found
        self._src_count += 1
        fname = f"<student code: {name} #{self._src_count}>"
        lines = [line + "\n" for line in text.split("\n")]
        linecache.cache[fname] = (len(text), None, lines, fname)
        if kind == "def":
            code = compile(f"def {name}():\n    pass\n", fname, "exec")
            fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
            return types.FunctionType(fcode, {})
        import sys

        modname = f"fnngrade_student_source_{self._src_count}"
        mod = types.ModuleType(modname)
        mod.__file__ = fname
        sys.modules[modname] = mod
        return type(name, (), {"__module__": modname, "__qualname__": name})

    # -- running cells ---------------------------------------------------------------------------

    def run(self, source: str, *, capture: bool = True) -> list[dict]:
        """Run one cell's code here; return its nbformat outputs (stdout text, then an error)."""
        for name in self.fetched:  # re-read the student's names in every cell
            dict.pop(self.ns, name, None)
        self.fetched.clear()
        self.deadline = time.monotonic() + self.timeout
        out, err = io.StringIO(), io.StringIO()
        error: BaseException | None = None
        try:
            code = compile(_ipython_to_python(source), "<test cell>", "exec")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
                warnings.simplefilter("default")
                exec(code, self.ns)  # noqa: S102  (the instructor's test code)
        except KernelGone:
            raise
        except BaseException as e:  # noqa: BLE001  (a test's failure is an output, not a crash)
            if isinstance(e, (SystemExit, KeyboardInterrupt)) and not isinstance(e, Exception):
                e = RuntimeError(f"the test stopped with {type(e).__name__}")
            error = e
        outputs: list[dict] = []
        if capture and out.getvalue():
            outputs.append({"output_type": "stream", "name": "stdout", "text": out.getvalue()})
        if capture and err.getvalue():
            outputs.append({"output_type": "stream", "name": "stderr", "text": err.getvalue()})
        if error is not None:
            outputs.append(error_output(error))
        return outputs


class _RemoteDefaultType:
    def __repr__(self) -> str:
        return "<default>"


_RemoteDefault = _RemoteDefaultType()


def error_output(e: BaseException) -> dict:
    """An nbformat error output with the check's message and no frames (no test code, no library)."""
    name = type(e).__name__
    if isinstance(e, RemoteTimeout):
        name = "CellTimeoutError"
    text = str(e)
    return {"output_type": "error", "ename": name, "evalue": text,
            "traceback": [f"\x1b[0;31m{name}\x1b[0m: {text}"]}


def _exact(v: Any, t: type) -> Any:
    if type(v) is not t:
        raise RemoteError(f"expected {t.__name__}, got {type(v).__name__}")
    return v


def _write_back(orig: Any, new: Any) -> None:
    """Make the checker's argument ``orig`` equal to what the student's function left in it."""
    if isinstance(orig, np.ndarray) and isinstance(new, np.ndarray):
        if orig.shape == new.shape:
            try:
                orig[...] = new
            except (TypeError, ValueError):
                pass
    elif isinstance(orig, np.random.Generator) and isinstance(new, np.random.Generator):
        orig.bit_generator.state = new.bit_generator.state
    elif isinstance(orig, list) and isinstance(new, list):
        orig[:] = new
    elif isinstance(orig, dict) and isinstance(new, dict):
        orig.clear()
        orig.update(new)


def _find_definition(sources: list[str], name: str) -> tuple[str, str] | None:
    """The text of the last top-level ``def name`` / ``class name`` in the student's cells."""
    found = None
    for src in sources:
        try:
            tree = ast.parse(_ipython_to_python(src))
        except SyntaxError:
            continue
        lines = _ipython_to_python(src).split("\n")
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                text = "\n".join(lines[start - 1: node.end_lineno])
                found = ("class" if isinstance(node, ast.ClassDef) else "def", text)
    return found


def _ipython_to_python(source: str) -> str:
    """Cell text as plain Python: IPython's magics and shell escapes become Python calls."""
    if "%" not in source and "!" not in source:
        return source
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:
        return source
