"""The student release in exercises/ against its source in solutions/.

- the committed release is exactly what nbgrader generates from the source today;
- no solution line of the source reaches any file under exercises/;
- each assignment's points add up to the total its introduction states;
- the release executes, and every autograded test fails on the untouched stubs (a test that
  passes on a blank answer is a defect).

nbval is not used for the last check: its ``raises-exception`` tag allows a cell to fail but
cannot require it to, so the release is executed with nbclient and each cell judged here.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from . import course as C

ASSIGNMENTS = C.assignments()
pytestmark = pytest.mark.pipeline


def test_there_are_assignments():
    assert ASSIGNMENTS, f"no assignment found under {C.SOLUTIONS}: the release checks would test nothing"


def test_every_source_folder_holds_only_notebooks():
    # nbgrader copies every other file of solutions/<a>/ into the student release.
    for a in ASSIGNMENTS:
        extra = [
            p.relative_to(C.ROOT)
            for p in (C.SOLUTIONS / a).rglob("*")
            if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts
        ]
        assert not extra, f"{a}: these files would be shipped to students with the release: {extra}"


def _cell_label(nb_path, index, cell) -> str:
    gid = C.grade_id(cell)
    first = (cell.source.strip().splitlines() or [""])[0][:60]
    return f"{nb_path.name}, cell {index}" + (f" (grade_id {gid!r})" if gid else "") + f": {first!r}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_in_sync_with_source(assignment, tmp_path_factory):
    fresh = C.shared_release(assignment, tmp_path_factory).exercises
    committed = C.EXERCISES / assignment
    assert committed.is_dir(), f"exercises/{assignment} is missing: run `make release` and commit it"
    fresh_files = sorted(p.name for p in fresh.iterdir())
    # Jupyter's checkpoints (ignored by git) appear once someone opens an exercise in place
    committed_files = sorted(p.name for p in committed.iterdir() if p.name != ".ipynb_checkpoints")
    assert fresh_files == committed_files, (
        f"exercises/{assignment} holds {committed_files} but nbgrader generates {fresh_files}: "
        "run `make release` and commit the result"
    )
    for name in fresh_files:
        if not name.endswith(".ipynb"):
            assert (fresh / name).read_bytes() == (committed / name).read_bytes(), f"{name} differs"
            continue
        new, old = C.read(fresh / name), C.read(committed / name)
        assert len(new.cells) == len(old.cells), (
            f"exercises/{assignment}/{name} has {len(old.cells)} cells, the source gives {len(new.cells)}: "
            "the release is stale; run `make release` and commit it"
        )
        for i, (a, b) in enumerate(zip(new.cells, old.cells)):
            for key in ("cell_type", "source", "metadata"):
                assert a.get(key) == b.get(key), (
                    f"exercises/{assignment}/{_cell_label(fresh / name, i, b)}: its {key} differs from what "
                    "nbgrader generates from solutions/; the release is stale: run `make release` and commit it"
                )
            assert not b.get("outputs"), f"exercises/{assignment}/{_cell_label(fresh / name, i, b)} has outputs"


# a line that only opens a call ("raise AssertionError(", "np.testing.assert_allclose(") holds nothing to leak
_BARE_OPENER = re.compile(r"^(?:raise |return )?[\w.]+\($")


def _significant(line: str) -> bool:
    s = line.strip()
    return (len(s) >= 6 and not s.startswith("#") and s not in {"pass", "return", "else:", "try:", "continue"}
            and not _BARE_OPENER.match(s))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_line_reaches_students(assignment):
    released_text = []
    for path in (C.EXERCISES / assignment).rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".ipynb":
            released_text += [c.source for c in C.read(path).cells]
        else:
            released_text.append(path.read_text(errors="replace"))
    released = "\n".join(released_text)
    for nb_path in C.notebooks(C.SOLUTIONS / assignment):
        nb = C.read(nb_path)
        # Lines that the source also shows outside any solution region are given code, not secrets.
        given = set()
        for cell in nb.cells:
            secret = set(C.solution_lines(cell.source)) | set(C.solution_lines(cell.source, C.BEGIN_HIDDEN, C.END_HIDDEN))
            given |= {ln.strip() for ln in cell.source.splitlines() if ln not in secret}
        for i, cell in enumerate(nb.cells):
            secret = C.solution_lines(cell.source) + C.solution_lines(cell.source, C.BEGIN_HIDDEN, C.END_HIDDEN)
            for line in secret:
                if _significant(line) and line.strip() not in given:
                    assert line.strip() not in released, (
                        f"solution line of {_cell_label(nb_path, i, cell)} appears in exercises/{assignment}: "
                        f"{line.strip()!r}"
                    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_add_up_to_stated_total(assignment):
    for nb_path in C.notebooks(C.SOLUTIONS / assignment):
        nb = C.read(nb_path)
        total = C.stated_total(nb)
        assert total is not None, f"{nb_path.name}: the introduction must state '**Total: N points**'"
        graded = [c for c in nb.cells if C.is_grade(c) or C.nbmeta(c).get("task")]
        assert graded, f"{nb_path.name} has no graded cell"
        s = sum(C.points(c) for c in graded)
        assert s == total, (
            f"{nb_path.name}: the introduction states {total:g} points but the graded cells add up to {s:g} "
            f"({', '.join(f'{C.grade_id(c)}={C.points(c):g}' for c in graded)})"
        )
        assert any(C.is_test(c) for c in graded), f"{nb_path.name}: no autograded test"
        ids = [C.grade_id(c) for c in nb.cells if C.grade_id(c)]
        assert len(ids) == len(set(ids)), f"{nb_path.name}: duplicate grade_ids"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_executes_and_every_test_fails_on_the_stubs(assignment, tmp_path):
    folder = C.EXERCISES / assignment
    work = tmp_path / assignment
    shutil.copytree(folder, work)
    for nb_path in C.notebooks(work):
        nb = C.read(nb_path)
        NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": str(work)}}).execute()
        problems = []
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            label = _cell_label(nb_path, i, cell)
            if C.is_test(cell):
                if not errors:
                    problems.append(f"{label}: this test PASSES on the untouched release (a blank answer earns its points)")
                elif errors[0]["ename"] in ("SyntaxError", "IndentationError"):
                    problems.append(f"{label}: fails with {errors[0]['ename']}, a defect of the test itself")
            elif errors:
                ename = errors[0]["ename"]
                if not (C.is_solution(cell) and ename == "NotImplementedError"):
                    problems.append(f"{label}: raised {ename}: {errors[0]['evalue'][:200]}")
        assert not problems, "\n".join(problems)
