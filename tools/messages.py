"""The student-facing messages that code writes, found in the source, and their Chinese catalog.

fnnlib/i18n.py translates a message by looking its English up in ``fnnlib/locales/zh.toml``. This
tool finds every such English text without running anything (tests/test_messages_zh.py checks that
each has an entry, and that no entry is left over):

- in fnnlib: the first argument of every ``tr("...")`` and ``N_("...")`` call;
- in the assignments (``solutions/*/*.ipynb``), in every cell that is not an answer (tests and
  locked helpers): the argument of every ``tr(...)`` and ``N_(...)`` call (an f-string stands for its template: the
  text with each ``{expression}`` as a placeholder), the ``why=`` and phrase ``symbols=`` of the
  checks, and the keys of every dictionary of known mistakes (keys that are prose);
- in the lectures' quizzes (``Quiz(...)`` cells): every question, option, note and explanation that
  has words to translate (an option that is a name or a formula alone, "tanh" or "(4, 5)", has not).

It also finds what would escape translation: a ``raise AssertionError(...)`` or ``assert ..., msg``
in a test or helper cell whose message is not passed through ``tr``.

    python tools/messages.py list       # every message, where it comes from
    python tools/messages.py missing    # TOML entries (with an empty zh) for messages not in the catalog
    python tools/messages.py unwrapped  # raise/assert messages in test cells that skip tr()
    python tools/messages.py wrap ID... # pass them through tr() in solutions/ID/ID.ipynb
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "fnnlib" / "locales" / "zh.toml"
LIBRARY = ROOT / "fnnlib"
QUIZ_KINDS = {"Choice", "Numeric", "Expression"}
# The checks that translate the name they are given, and its position among their arguments.
NAME_ARG = {"check_array": 2, "check_function": 3, "check_sympy_steps": 3, "call_answer": 1,
            "check_does_not_use": 2, "check_no_loops": 1, "check_derivative": 2, "diagnose": 2}
# The assignments whose test cells pass every raised message through tr() (tests/test_messages_zh.py
# holds them to it); the others' raise/assert messages are still English only.
WRAPPED: set[str] = {"01-neuron-activations", "02-feedforward-networks", "03-universal-approximation", "04-matrix-calculus", "05-backpropagation", "06-automatic-differentiation", "07-training-difficulties", "08-mlp-end-to-end"}


@dataclass(frozen=True)
class Message:
    text: str  # the English (a template when the source is an f-string)
    where: str  # file and cell or line


def template(node: ast.expr) -> str | None:
    """The English text of a string literal, or an f-string's template (``{expr}`` placeholders);
    None for anything else. Adjacent literals joined with ``+`` count as one text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value).replace("{", "{{").replace("}", "}}"))
            else:
                conv = "" if part.conversion == -1 else "!" + chr(part.conversion)
                spec = ""
                if part.format_spec is not None:
                    spec = ":" + "".join(
                        str(p.value) if isinstance(p, ast.Constant) else "{" + ast.unparse(p.value) + "}"
                        for p in part.format_spec.values)
                out.append("{" + ast.unparse(part.value) + conv + spec + "}")
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = template(node.left), template(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def _calls_named(tree: ast.AST, names: set[str]):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in names:
                yield node


def _is_prose(text: str) -> bool:
    """A sentence rather than a label or code: at least three words of two letters or more."""
    return len(re.findall(r"\b[^\W\d_]{2,}\b", text)) >= 3


# --------------------------------------------------------------------------- fnnlib


def library_messages() -> list[Message]:
    out = []
    for path in sorted(LIBRARY.glob("*.py")):
        if path.name == "i18n.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls_named(tree, {"tr", "N_"}):
            if call.args:
                text = template(call.args[0])
                if text is not None:
                    out.append(Message(text, f"{path.relative_to(ROOT)}:{call.lineno}"))
    return out


# --------------------------------------------------------------------------- assignments


def _cell_code(cell) -> str:
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))


def test_cells(nb_path: Path):
    """(cell id, parsed code) of every code cell that is not an answer."""
    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("solution"):
            continue
        yield meta.get("grade_id") or cell.get("id"), ast.parse(_cell_code(cell))


def _is_tr(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"


def assignment_messages(nb_path: Path) -> list[Message]:
    out = []
    rel = nb_path.relative_to(ROOT)
    for cell_id, tree in test_cells(nb_path):
        where = f"{rel} cell {cell_id}"
        for call in _calls_named(tree, {"tr", "N_"}):
            if call.args and (text := template(call.args[0])) is not None:
                out.append(Message(text, where))
        for call in _calls_named(tree, set(NAME_ARG)):  # a phrase as the answer's name ("the output of f")
            f = call.func
            index = NAME_ARG[f.id if isinstance(f, ast.Name) else f.attr]
            arg = call.args[index] if len(call.args) > index else next(
                (kw.value for kw in call.keywords if kw.arg == "name"), None)
            if arg is not None and (text := template(arg)) is not None and _is_prose(text):
                out.append(Message(text, where))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg in ("why", "symbols"):
                text = template(node.value)
                if text is not None and not text.startswith("(") and _is_prose(text):
                    out.append(Message(text, where))
            elif isinstance(node, ast.Dict) and node.keys and all(k is not None for k in node.keys):
                keys = [template(k) for k in node.keys]
                if all(k is not None for k in keys) and all(_is_prose(k) for k in keys):
                    out.extend(Message(k, where) for k in keys)
    return out


def _translated(node: ast.expr) -> bool:
    """tr(...), or a sum / conditional of such parts and of texts without words (" ", "\\n  ({text})")."""
    if _is_tr(node):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _translated(node.left) and _translated(node.right)
    if isinstance(node, ast.IfExp):
        return _translated(node.body) and _translated(node.orelse)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and _translated(node.func.value)):
        return True  # "\n".join(parts): the parts are translated where they are made
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return True  # str(err): a check's error, translated where it was raised
    text = template(node)  # a separator or a value without words of its own needs no translation
    return text is not None and not re.search(r"[^\W\d_]", re.sub(r"\{[^{}]*\}", "", text))


def unmatchable(nb_path: Path) -> list[str]:
    """tr(f"...") calls in test and helper cells whose template has too little text of its own to be
    recognised in the finished message (fnnlib.i18n.MIN_LITERAL): they would stay English."""
    import string

    from fnnlib.i18n import MIN_LITERAL

    out = []
    rel = nb_path.relative_to(ROOT)
    for cell_id, tree in test_cells(nb_path):
        for call in _calls_named(tree, {"tr"}):
            if call.keywords or not call.args or not isinstance(call.args[0], ast.JoinedStr):
                continue
            text = template(call.args[0])
            literal = sum(len(lit) for lit, _, _, _ in string.Formatter().parse(text))
            if literal < MIN_LITERAL:
                out.append(f"{rel} cell {cell_id} line {call.lineno}: {text!r}")
    return out


def _raised_message(node: ast.AST) -> ast.expr | None:
    """The message expression of ``raise AssertionError(msg)`` (or NotImplementedError) or ``assert c, msg``."""
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
        f = node.exc.func
        if isinstance(f, ast.Name) and f.id in ("AssertionError", "NotImplementedError") and node.exc.args:
            return node.exc.args[0]
    elif isinstance(node, ast.Assert):
        return node.msg
    return None


def unwrapped(nb_path: Path) -> list[str]:
    """raise AssertionError(msg) / assert cond, msg in test and helper cells whose msg skips tr()."""
    out = []
    rel = nb_path.relative_to(ROOT)
    for cell_id, tree in test_cells(nb_path):
        for node in ast.walk(tree):
            msg = _raised_message(node)
            if msg is not None and not _translated(msg):
                out.append(f"{rel} cell {cell_id} line {node.lineno}: {ast.unparse(msg)[:100]}")
    return out


# --------------------------------------------------------------------------- lecture quizzes


def quiz_messages(nb_path: Path) -> list[Message]:
    out = []
    nb = nbformat.read(str(nb_path), as_version=4)
    rel = nb_path.relative_to(ROOT)
    for cell in nb.cells:
        if cell.cell_type != "code" or "Quiz(" not in cell.source:
            continue
        tree = ast.parse(_cell_code(cell))
        for call in _calls_named(tree, QUIZ_KINDS):
            parts = list(call.args[:1]) + [kw.value for kw in call.keywords if kw.arg in ("prompt", "explain")]
            if isinstance(call.func, ast.Name) and call.func.id == "Choice" and len(call.args) > 1:
                parts.append(call.args[1])
            for kw in call.keywords:
                if kw.arg in ("options", "notes"):
                    parts.append(kw.value)
            for part in parts:
                items = part.elts if isinstance(part, (ast.List, ast.Tuple)) else [part]
                for item in items:
                    text = template(item)
                    # a name or a formula alone ("tanh", "(4, 5)", "2Ax") reads the same in Chinese
                    if text and (len(re.findall(r"[A-Za-z]{2,}", text)) >= 2 or re.match(r"(a|an|the) ", text)):
                        out.append(Message(text.strip(), f"{rel} quiz"))
    return out


# --------------------------------------------------------------------------- all of them


def assignments() -> list[Path]:
    return sorted((ROOT / "solutions").glob("*/*.ipynb"))


def lectures() -> list[Path]:
    return sorted((ROOT / "lectures").glob("[0-9][0-9]-*.ipynb"))


def all_messages() -> list[Message]:
    out = library_messages()
    for nb in assignments():
        out += assignment_messages(nb)
    for nb in lectures():
        out += quiz_messages(nb)
    return out


def catalog_entries(path: Path = CATALOG) -> list[dict]:
    return tomllib.loads(path.read_text(encoding="utf-8")).get("message", [])


def _toml_text(text: str) -> str:
    if "'''" not in text and not text.endswith("'"):
        return "'''" + ("\n" if "\n" in text else "") + text + "'''"
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "list"
    if cmd == "list":
        for m in all_messages():
            print(f"{m.where}: {m.text!r}")
    elif cmd == "missing":
        have = {e["en"] for e in catalog_entries()} if CATALOG.exists() else set()
        seen = set()
        for m in all_messages():
            if m.text in have or m.text in seen:
                continue
            seen.add(m.text)
            print(f"[[message]]  # {m.where}\nen = {_toml_text(m.text)}\nzh = ''''''\n")
    elif cmd == "wrap":
        for name in argv[1:]:
            print(f"{name}: {wrap(next(ROOT.glob(f'solutions/{name}/{name}.ipynb')))} messages wrapped in tr()")
    elif cmd == "unwrapped":
        found = [u for nb in assignments() for u in unwrapped(nb)]
        print("\n".join(found))
        return 1 if found else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0



def wrap(nb_path: Path) -> int:
    """Pass the message of every raise AssertionError(...) / assert ..., msg in the test and helper
    cells of ``nb_path`` through tr(), and import tr in the cell that imports fnnlib.checks. What the
    tests check is unchanged. Returns the number of messages wrapped."""
    nb = nbformat.read(str(nb_path), as_version=4)
    count = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("solution"):
            continue
        lines = cell.source.split("\n")
        spots = []
        for node in ast.walk(ast.parse(_cell_code(cell))):
            msg = _raised_message(node)
            if msg is not None and not _is_tr(msg) and template(msg) is not None:
                spots.append((msg.lineno, msg.col_offset, msg.end_lineno, msg.end_col_offset))
        # from the end, so earlier offsets stay valid (offsets are in UTF-8 bytes)
        for lineno, col, end_lineno, end_col in sorted(spots, reverse=True):
            end = lines[end_lineno - 1].encode()
            lines[end_lineno - 1] = (end[:end_col] + b")" + end[end_col:]).decode()
            start = lines[lineno - 1].encode()
            lines[lineno - 1] = (start[:col] + b"tr(" + start[col:]).decode()
            count += 1
        cell.source = "\n".join(lines)
    for cell in nb.cells:
        if cell.cell_type == "code" and "from fnnlib.checks import" in cell.source:
            if "from fnnlib.i18n import tr" not in cell.source:
                cell.source = cell.source.replace("from fnnlib.checks import", "from fnnlib.i18n import tr\nfrom fnnlib.checks import", 1)
            break
    else:
        raise SystemExit(f"{nb_path}: no cell imports fnnlib.checks; add `from fnnlib.i18n import tr` by hand")
    nbformat.write(nb, str(nb_path))
    return count


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
