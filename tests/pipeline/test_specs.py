"""The grading specs (tests/pipeline/specs/<assignment>.toml) read right, before anything is graded.

A typo in a spec (a key spelled ``mesage``, a ``find`` that is no longer in the solution, a test
grade_id that does not exist) would otherwise show only after a grading run of minutes, or not at
all. These checks take a second; ``test_grading.py`` then grades every entry for real.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from . import course as C

ASSIGNMENTS = C.assignments()
pytestmark = pytest.mark.pipeline


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_spec_entry_applies_to_the_solution(assignment):
    muts, alts = C.mutations(assignment), C.alternatives(assignment)
    sources = {p.name: C.read(p) for p in C.notebooks(C.SOLUTIONS / assignment)}
    main = nbformat.from_dict(json.loads(json.dumps(next(iter(sources.values())))))
    for cell in main.cells:  # answer cells as the perfect student types them (no solution markers)
        if C.is_solution(cell):
            cell.source = C.strip_markers(cell.source)
    tests = {C.grade_id(c) for nb in sources.values() for c in nb.cells if C.is_test(c)}
    problems = []
    for kind, entries in (("mutation", muts), ("alternative", alts)):
        for k, e in enumerate(entries):
            where = f"specs/{assignment}.toml {kind} {k}"
            try:
                edited = e.apply(main, where)
            except AssertionError as exc:
                problems.append(str(exc).split("; its source is now")[0])
                continue
            cell = next(c for c in edited.cells if C.grade_id(c) == e.cell)
            original = next(c for c in main.cells if C.grade_id(c) == e.cell)
            if cell.source == original.source:
                problems.append(f"{where} (cell {e.cell!r}): the edit leaves the answer unchanged")
            if kind == "mutation":
                unknown = sorted(set(e.fails) - tests)
                if unknown:
                    problems.append(f"{where} (cell {e.cell!r}): `fails` names no test cell: {unknown}")
    assert not problems, "\n".join(problems)


def _spec(tmp_path, monkeypatch, text: str) -> None:
    (tmp_path / "x.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(C, "SPECS", tmp_path)


@pytest.mark.parametrize("text, error", [
    ('[[mutation]]\ncell = "f"\nfind = "a"\nreplace = "b"\nfails = ["t"]\nmesage = "m"\n', "unknown key(s) ['mesage']"),
    ('[[mutation]]\ncell = "f"\nfind = "a"\nreplace = "b"\nsource = "c"\nfails = []\n', "not both"),
    ('[[mutation]]\ncell = "f"\nfails = []\n', "not neither"),
    ('[[mutation]]\ncell = "f"\nfind = "a"\nfails = []\n', "must both be strings"),
    ('[[mutation]]\ncell = "f"\nsource = "c"\nfails = "t"\n', "`fails` must be a list"),
    ('[[mutation]]\ncell = "f"\nsource = "c"\nfails = []\nmessage = "m"\n', "needs failing tests"),
    ('[[alternative]]\ncell = "f"\nsource = "c"\nfails = ["t"]\n', "unknown key(s) ['fails']"),
    ('[[loophole]]\ncell = "f"\n', "unknown table(s) ['loophole']"),
])
def test_a_wrong_spec_is_named(tmp_path, monkeypatch, text, error):
    _spec(tmp_path, monkeypatch, text)
    with pytest.raises(ValueError, match=r"specs/x\.toml") as info:
        C.mutations("x") + C.alternatives("x")
    assert error in str(info.value)


def test_a_spec_without_the_new_keys_reads_as_before(tmp_path, monkeypatch):
    _spec(tmp_path, monkeypatch, '[[mutation]]\ncell = "f"\nfind = "a"\nreplace = "b"\nfails = ["t"]\n')
    (m,) = C.mutations("x")
    assert (m.cell, m.find, m.replace, m.source, m.fails, m.message) == ("f", "a", "b", None, ["t"], None)
    assert C.alternatives("x") == []


def test_message_matching_ignores_colours_and_line_breaks():
    out = {"outputs": [{"output_type": "error", "ename": "AssertionError", "evalue": "f: the inner\nfactor β",
                        "traceback": ["\x1b[0;31mAssertionError\x1b[0m: f: the inner\nfactor β is missing"]}]}
    text = C.cell_output_text(out)
    assert C.contains_message(text, "the inner factor β is missing")
    assert not C.contains_message(text, "the outer factor")
