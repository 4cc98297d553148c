"""Nothing students receive holds a rubric, a model answer or a hidden test of solutions/.

What a student receives is the release in ``exercises/`` and, after grading, the feedback HTML.
The secrets of a source notebook are

- rubric lines: between ``### BEGIN MARK SCHEME`` and ``### END MARK SCHEME`` (nbgrader's
  ClearMarkScheme removes them from the release; the grader sees them in the Formgrader);
- model answers: the solution regions of code AND Markdown cells (a solution cell without
  markers is a model answer as a whole);
- hidden tests: between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.

They are compared line by line after normalising (whitespace, Markdown emphasis and list markers,
traceback arrows); lines under ``MIN_SECRET`` characters, trivial lines (``pass``, ``import numpy
as np`` ...) and lines the source also shows outside every secret region are not compared. Long
lines are also searched inside the joined text, since rendered Markdown joins lines. A rubric
heading ("*Rubric (3 points):*") left outside a mark-scheme region is a leak too.

The release is checked here. The feedback is checked on the class that ``test_grading.py``
grades (one grading run per assignment), by :func:`feedback_leaks` below: no feedback file may
show a hidden-test line, and the feedback of a student who did not write the model answers (the
blank and tampered submissions) may show no model answer either. Rubrics may appear in feedback
after grading (the returned, graded notebook has the question cell back with its rubric).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from . import course as C

ASSIGNMENTS = C.assignments()
pytestmark = pytest.mark.pipeline

# Students of test_grading.py whose submission holds no model answer: their feedback must not either.
NO_ANSWER_STUDENTS = ("blank", "edited-tests", "deleted-tests")


def assignment_secrets(assignment: str) -> C.Secrets:
    merged = C.Secrets()
    for path in C.notebooks(C.SOLUTIONS / assignment):
        s = C.secrets(C.read(path), f"solutions/{assignment}/{path.name}")
        for kind in ("rubric", "answer", "hidden", "unmarked_rubrics", "raw"):
            for k, v in getattr(s, kind).items():
                getattr(merged, kind).setdefault(k, v)
        merged.visible |= s.visible
    return merged


def release_leaks(folder: Path, secrets: C.Secrets) -> list[str]:
    """Every secret that some file under ``folder`` (a release) shows, with the file's name."""
    secret = secrets.kinds("rubric", "answer", "hidden")
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = C.file_text(path)
        found = C.find_leaks(secret, text, unmarked_rubrics=secrets.unmarked_rubrics)
        if path.suffix == ".ipynb":
            for i, cell in enumerate(C.read(path).cells):
                if cell.cell_type == "markdown":
                    found += [f"a rubric heading in cell {i} ({C.grade_id(cell)}): {ln.strip()!r}"
                              for ln in cell.source.splitlines() if C.RUBRIC_HEADING_RE.match(ln)]
        problems += [f"{path.name}: {f}" for f in dict.fromkeys(found)]
    return problems


def _own_lines(submitted: Path | None) -> set[str]:
    """Normalised lines of a student's own submission: what they wrote is no leak when it comes back."""
    own: set[str] = set()
    for path in sorted(submitted.glob("*.ipynb")) if submitted and submitted.is_dir() else []:
        try:
            own |= {C.normalise(ln) for cell in C.read(path).cells for ln in cell.source.splitlines()}
        except Exception:  # an unreadable submission contributes nothing
            continue
    return own


def feedback_leaks(feedback_root: Path, assignment: str, secrets: C.Secrets, submitted_root: Path | None = None
                   ) -> list[str]:
    """Every hidden-test line in any feedback file under ``feedback_root/<student>/<assignment>/``,
    and every model-answer line in the feedback of the students in NO_ANSWER_STUDENTS. A line the
    student's own submission (under ``submitted_root/<student>/<assignment>/``) holds does not count."""
    hidden = secrets.kinds("hidden")
    rubric = set(secrets.rubric)
    answers = {k: v for k, v in secrets.kinds("answer").items() if k not in rubric}
    problems = []
    files = sorted(feedback_root.glob(f"*/{assignment}/*.html"))
    if not files:
        return [f"no feedback file under {feedback_root}/*/{assignment}/"]
    for path in files:
        student = path.parts[-3]
        own = _own_lines(submitted_root / student / assignment if submitted_root else None)
        secret = {k: v for k, v in {**hidden, **(answers if student in NO_ANSWER_STUDENTS else {})}.items()
                  if k not in own}
        problems += [f"feedback of {student} ({path.name}): {f}" for f in C.find_leaks(secret, C.file_text(path))]
    return problems


# --------------------------------------------------------------------------- the committed release


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_shows_no_rubric_model_answer_or_hidden_test(assignment):
    secrets = assignment_secrets(assignment)
    problems = release_leaks(C.EXERCISES / assignment, secrets)
    assert not problems, (
        f"exercises/{assignment} shows what only graders may see ({len(problems)}):\n  " + "\n  ".join(problems[:40])
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_chinese_release_shows_no_rubric_model_answer_or_hidden_test(assignment):
    """zh/exercises (the 中文版, generated from exercises/ and i18n/zh/) is checked the same way: its
    code and grade cells are the English release's, its translated task texts must add nothing."""
    folder = C.ROOT / "zh" / "exercises" / assignment
    assert C.notebooks(folder), f"zh/exercises/{assignment} holds no notebook: run make zh and commit zh/"
    problems = release_leaks(folder, assignment_secrets(assignment))
    assert not problems, (
        f"zh/exercises/{assignment} shows what only graders may see ({len(problems)}):\n  " + "\n  ".join(problems[:40])
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_leak_planted_in_the_release_is_caught(assignment, tmp_path):
    """The check above can fail: one line of each kind of secret, planted in a copy of the release."""
    secrets = assignment_secrets(assignment)
    shutil.copytree(C.EXERCISES / assignment, tmp_path / assignment)
    path = C.notebooks(tmp_path / assignment)[0]
    planted = 0
    for kind in ("rubric", "answer", "hidden"):
        candidates = secrets.kinds(kind)
        if not candidates:
            continue
        line, (_, origin) = max(candidates.items(), key=lambda kv: len(kv[0]))
        nb = C.read(path)
        cell = next(c for c in nb.cells if c.cell_type == ("markdown" if kind == "rubric" else "code"))
        cell.source += "\n" + secrets.raw[line]  # the line as the source writes it
        nbformat.write(nb, str(path))
        problems = release_leaks(tmp_path / assignment, secrets)
        assert any(origin in p for p in problems), f"a planted {kind} line was not found: {origin}\n{problems}"
        planted += 1
        shutil.copy(C.EXERCISES / assignment / path.name, path)
    assert planted >= 2, f"{assignment}: solutions/ has fewer than two kinds of secrets to plant"


# --------------------------------------------------------------------------- the detector itself

MARKED_SOURCE = {
    "cells": [
        {"id": "c0", "cell_type": "markdown", "metadata": {"nbgrader": {"grade": False, "grade_id": "q", "locked": True,
                                                              "schema_version": 3, "solution": False, "task": False}},
         "source": "**Task 1 (2 points).** Explain why the loss is convex.\n\nA complete answer addresses "
                   "the second derivative and its sign.\n\n### BEGIN MARK SCHEME\n*Rubric (2 points):*\n"
                   "- **1 point**: the second derivative $2x^2 + 1$ is positive everywhere\n"
                   "- **1 point**: hence every chord lies above the graph\n### END MARK SCHEME"},
        {"id": "c1", "cell_type": "markdown", "metadata": {"nbgrader": {"grade": True, "grade_id": "a", "locked": False,
                                                              "points": 2, "schema_version": 3, "solution": True,
                                                              "task": False}},
         "source": "The loss has second derivative $2x^2 + 1 > 0$ on the whole line, so it is convex."},
        {"id": "c2", "cell_type": "code", "execution_count": None, "outputs": [],
         "metadata": {"nbgrader": {"grade": False, "grade_id": "f", "locked": False, "schema_version": 3,
                                   "solution": True, "task": False}},
         "source": "def f(x):\n    ### BEGIN SOLUTION\n    return np.where(x >= 0, x * x, -x * x)\n    ### END SOLUTION"},
        {"id": "c3", "cell_type": "code", "execution_count": None, "outputs": [],
         "metadata": {"nbgrader": {"grade": True, "grade_id": "t", "locked": True, "points": 1,
                                   "schema_version": 3, "solution": False, "task": False}},
         "source": "assert f(2.0) == 4.0\n### BEGIN HIDDEN TESTS\nassert f(-3.0) == -9.0, 'odd extension'\n"
                   "### END HIDDEN TESTS"},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def test_detector_on_a_release_nbgrader_generates(tmp_path):
    """A small assignment with all three kinds of secrets, released by nbgrader with the course's
    config: the release is clean (ClearMarkScheme, ClearSolutions, ClearHiddenTests), and each
    kind of secret, planted back, is found."""
    (tmp_path / "src").mkdir()
    nb = nbformat.from_dict(json.loads(json.dumps(MARKED_SOURCE)))
    nbformat.write(nb, str(tmp_path / "src" / "tiny.ipynb"))
    release = C.Course.create(tmp_path / "course", "tiny", source=tmp_path / "src").release()
    secrets = C.secrets(nb, "tiny.ipynb")
    assert set(secrets.kinds("rubric")) >= {"1 point: hence every chord lies above the graph"}
    assert "return np.where(x >= 0, x x, -x x)" in secrets.answer  # normalised: '*' is Markdown markup
    assert any("odd extension" in h for h in secrets.hidden)
    assert "A complete answer addresses the second derivative and its sign." not in secrets.kinds("rubric", "answer")
    assert release_leaks(release, secrets) == []

    released = C.read(release / "tiny.ipynb")
    plants = {
        "rubric": (0, "- **1 point**: hence every chord lies above the graph"),
        "rubric heading": (0, "*Rubric (2 points):*"),
        "answer (Markdown)": (1, "The loss has second derivative $2x^2 + 1 > 0$ on the whole line, so it is convex."),
        "answer (code)": (2, "    return np.where(x >= 0, x * x, -x * x)"),
        "hidden": (3, "assert f(-3.0) == -9.0, 'odd extension'"),
    }
    for what, (index, line) in plants.items():
        leaky = nbformat.from_dict(json.loads(json.dumps(released)))
        leaky.cells[index].source += "\n" + line
        nbformat.write(leaky, str(release / "tiny.ipynb"))
        assert release_leaks(release, secrets), f"a planted {what} line was not found"
    # A line joined into a paragraph by the Markdown renderer is still found in HTML.
    html = ("<html><body><p>The loss has second derivative $2x^2 + 1 &gt; 0$ on the\nwhole line, so it is "
            "convex.</p><script>var s = 'assert f(-3.0) == -9.0';</script></body></html>")
    assert C.find_leaks(secrets.kinds("answer"), C.html_text(html))
    assert not C.find_leaks(secrets.kinds("hidden"), C.html_text(html)), "script text is not shown to students"
    # Traceback lines (ANSI colours, arrows, line numbers) quoting a hidden line are found.
    tb = "\x1b[0;32m----> 3\x1b[0m \x1b[38;5;28;01massert\x1b[39;00m f(\x1b[38;5;241m-\x1b[39m3.0) == -9.0, 'odd extension'"
    assert C.find_leaks(secrets.kinds("hidden"), tb)
