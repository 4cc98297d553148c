"""The kernel side of the remote checker: code the grader installs in the student's kernel.

This module is never imported by the grader. Its source text is sent to the student's kernel
(by :class:`fnngrade.remote.Checker`) in a silent execute request, and runs there as ordinary,
untrusted code: the student's code can read it, patch it or replace it. That is fine, because
nothing here decides a grade. It only does what the checker asks (look up a name, call a
function, read an attribute, apply an operator) and answers with *values*: plain data encoded as
JSON (numbers, strings, numeric arrays as raw bytes, SymPy expressions as ``srepr`` text), or a
handle (a number) for any other object, which stays in the kernel. The checker decodes every
answer strictly (see :mod:`fnngrade.remote`); a kernel that lies can only make its own tests fail.

Transport: for each checker cell, a silent execute request calls :func:`serve` with the path of a
Unix socket the grader listens on; the kernel's main thread connects and answers requests until
the grader ends the session (frames: 4-byte length, JSON). A checker-side function passed as an
argument arrives here as a stub that sends its arguments back on the same socket and waits for the
answer (serving any request the checker makes meanwhile).

The wire format (JSON, each value a list whose first item is a tag) is described in
:mod:`fnngrade.remote`.
"""

from __future__ import annotations


def install(ip, token):  # noqa: C901  (one closure on purpose: nothing leaks into user_ns)
    import base64
    import builtins
    import inspect
    import json
    import operator
    import sys
    import warnings

    import numpy as np

    objs: dict[int, object] = {}
    by_id: dict[int, int] = {}
    counter = [0]
    bound: dict[str, list] = {}
    missing = object()

    def handle_of(o):
        k = id(o)
        if k in by_id and objs.get(by_id[k]) is o:
            return by_id[k]
        counter[0] += 1
        objs[counter[0]] = o
        by_id[k] = counter[0]
        return counter[0]

    def enc(v, depth=0):
        if depth > 60:
            raise ValueError("value nested too deeply")
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
            return ["l", [enc(x, depth + 1) for x in v]]
        if t is tuple:
            return ["t", [enc(x, depth + 1) for x in v]]
        if t is dict:
            return ["d", [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]]
        if t is slice:
            return ["sl", enc(v.start, depth + 1), enc(v.stop, depth + 1), enc(v.step, depth + 1)]
        if v is Ellipsis:
            return ["el"]
        if isinstance(v, np.ndarray) and v.dtype.kind in "biufcUS" and not v.dtype.fields:
            a = np.array(v.view(np.ndarray), order="C", copy=True)
            return ["a", a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]
        if isinstance(v, np.ndarray) and v.dtype.kind == "O":
            return ["ao", list(v.shape), [enc(x, depth + 1) for x in v.reshape(-1).tolist()]]
        if isinstance(v, np.generic) and v.dtype.kind in "biufc":
            return ["ns", v.dtype.str, base64.b64encode(v.tobytes()).decode()]
        if isinstance(v, np.random.Generator):
            return ["rng", type(v.bit_generator).__name__, enc(v.bit_generator.state, depth + 1)]
        sp = sys.modules.get("sympy")
        if sp is not None and isinstance(v, (sp.Basic, sp.MatrixBase)):
            return ["sym", sp.srepr(v)]
        if isinstance(v, (set, frozenset)) and all(type(x) in (int, str, float, bool, tuple) for x in v):
            return ["set" if isinstance(v, set) else "fs", [enc(x, depth + 1) for x in v]]
        return ["h", handle_of(v), type(v).__name__, callable(v), isinstance(v, type)]

    def dec(x):
        tag = x[0]
        if tag == "n":
            return None
        if tag in ("b", "s"):
            return x[1]
        if tag == "i":
            return int(x[1])
        if tag == "f":
            return float(x[1])
        if tag == "c":
            return complex(float(x[1]), float(x[2]))
        if tag == "y":
            return base64.b64decode(x[1])
        if tag == "l":
            return [dec(y) for y in x[1]]
        if tag == "t":
            return tuple(dec(y) for y in x[1])
        if tag == "d":
            return {dec(k): dec(y) for k, y in x[1]}
        if tag == "set":
            return {dec(y) for y in x[1]}
        if tag == "fs":
            return frozenset(dec(y) for y in x[1])
        if tag == "sl":
            return slice(dec(x[1]), dec(x[2]), dec(x[3]))
        if tag == "el":
            return Ellipsis
        if tag == "a":
            return np.frombuffer(base64.b64decode(x[3]), dtype=np.dtype(x[1])).reshape(x[2]).copy()
        if tag == "ao":
            out = np.empty(len(x[2]), dtype=object)
            out[:] = [dec(y) for y in x[2]]
            return out.reshape(x[1])
        if tag == "ns":
            return np.frombuffer(base64.b64decode(x[2]), dtype=np.dtype(x[1]))[0]
        if tag == "sym":
            import sympy
            from sympy.core.parameters import evaluate

            with evaluate(False):
                return eval(x[1], vars(sympy))  # noqa: S307  (the checker's own text, in the student's kernel)
        if tag == "rng":
            g = np.random.Generator(getattr(np.random, x[1])())
            g.bit_generator.state = dec(x[2])
            return g
        if tag == "h":
            return objs[x[1]]
        if tag == "cb":
            return make_callback(x[1], x[2])
        raise ValueError(f"unknown tag {tag!r}")

    def exc_info(e):
        bases = [c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins" and issubclass(c, BaseException)]
        try:
            args = enc(tuple(e.args))
        except Exception:
            args = enc((str(e),))
        return ["x", type(e).__name__, type(e).__module__, bases, args, str(e)[:20000]]

    conn: list = [None]

    def send(msg):
        data = json.dumps(msg).encode()
        conn[0].sendall(len(data).to_bytes(4, "big") + data)

    def recv():
        head = b""
        while len(head) < 4:
            chunk = conn[0].recv(4 - len(head))
            if not chunk:
                raise ConnectionError("the grader closed the checker's connection")
            head += chunk
        n = int.from_bytes(head, "big")
        parts, got = [], 0
        while got < n:
            chunk = conn[0].recv(min(n - got, 1 << 20))
            if not chunk:
                raise ConnectionError("the grader closed the checker's connection")
            parts.append(chunk)
            got += len(chunk)
        return json.loads(b"".join(parts))

    def serve(path):
        """Serve the checker's requests on its socket until it ends the session."""
        import socket

        conn[0] = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn[0].connect(path)
        try:
            while True:
                msg = recv()
                if msg[0] != "req":
                    return "fnngrade-session-ok"
                send(["res", handle(msg[1])])
        finally:
            conn[0].close()
            conn[0] = None

    def make_callback(cid, name):
        def callback(*args, **kwargs):
            if conn[0] is None:
                raise RuntimeError("the grader's checker is not connected")
            send(["cb", json.dumps(["cb", cid, enc(list(args)), enc(kwargs)])])
            while True:
                msg = recv()
                if msg[0] == "req":  # the checker calls back into this kernel while the callback is open
                    send(["res", handle(msg[1])])
                    continue
                r = json.loads(msg[1])
                break
            if r[0] == "ok":
                return dec(r[1])
            cls = getattr(builtins, r[1], None)
            if not (isinstance(cls, type) and issubclass(cls, Exception)):
                cls = RuntimeError
            raise cls(r[2])

        callback.__name__ = callback.__qualname__ = name or "reference"
        return callback

    def signature(o):
        try:
            sig = inspect.signature(o)
        except (TypeError, ValueError):
            return None
        return [[p.name, int(p.kind), p.default is not p.empty] for p in sig.parameters.values()]

    def apply(req):
        op = req["op"]
        if op == "get":
            v = ip.user_ns.get(req["name"], missing)
            return ["t", [["b", False], ["n"]]] if v is missing else ["t", [["b", True], enc(v)]]
        if op == "call":
            f = objs[req["h"]]
            args = dec(req["args"])
            kwargs = dec(req["kwargs"])
            before = [json.dumps(enc(a)) if type(a) in (list, dict) or isinstance(a, (np.ndarray, np.random.Generator))
                      else None
                      for a in list(args) + list(kwargs.values())]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = f(*args, **kwargs)
            after = []
            for b, a in zip(before, list(args) + list(kwargs.values())):
                e = None if b is None else enc(a)
                after.append(["n"] if e is None or json.dumps(e) == b else e)
            warned = [["t", [["s", w.category.__name__], ["s", str(w.message)[:2000]]]] for w in caught]
            return ["t", [enc(result), ["l", after], ["l", warned]]]
        if op == "getattr":
            return enc(getattr(objs[req["h"]], req["name"]))
        if op == "setattr":
            setattr(objs[req["h"]], req["name"], dec(req["value"]))
            return ["n"]
        if op == "op":
            args = dec(req["args"])
            return enc(getattr(operator, req["name"])(*args))
        if op == "builtin":
            args = dec(req["args"])
            name = req["name"]
            if name == "list":
                v = list(args[0])
                if len(v) > 10**6:
                    raise ValueError("too many items to iterate over")
                return enc(v)
            if name == "asarray":
                return enc(np.asarray(*args))
            if name == "isinstance":
                return enc(isinstance(args[0], args[1]))
            if name == "signature":
                return enc(signature(args[0]))
            if name in ("len", "repr", "str", "float", "int", "bool", "complex", "hash", "format", "abs"):
                return enc(getattr(builtins, name)(*args))
            raise ValueError(f"unknown builtin {name!r}")
        if op == "bind":
            for name, value in dec(req["values"]).items():
                bound.setdefault(name, []).append(ip.user_ns.get(name, missing))
                ip.user_ns[name] = value
            return ["n"]
        if op == "set":
            ip.user_ns[req["name"]] = dec(req["value"])
            return ["n"]
        if op == "unbind":
            for name in req["names"]:
                old = bound[name].pop()
                if old is missing:
                    ip.user_ns.pop(name, None)
                else:
                    ip.user_ns[name] = old
            return ["n"]
        raise ValueError(f"unknown request {op!r}")

    def handle(payload):
        try:
            return json.dumps(["ok", apply(json.loads(payload))])
        except BaseException as e:  # noqa: BLE001  (everything goes back to the checker as data)
            try:
                return json.dumps(["err", exc_info(e)])
            except Exception:
                return json.dumps(["err", ["x", "RuntimeError", "builtins", ["RuntimeError"], ["t", []],
                                          "an exception that could not be described"]])

    import types

    sys.modules[token] = types.SimpleNamespace(handle=handle, serve=serve)
    return "fnngrade-agent-ok"
