"""The course as nbgrader sees it: assignments, their cells, scratch course roots, submissions.

Shared by the release checks (``test_release.py``) and the grading checks (``test_grading.py``).
Every assignment under ``solutions/`` is picked up automatically: adding a folder there is all it
takes for the whole pipeline to be tested on it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
SPECS = Path(__file__).resolve().parent / "specs"
NBGRADER = [sys.executable, "-m", "nbgrader"]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
TOTAL_RE = re.compile(r"\*\*Total:\s*(\d+(?:\.\d+)?)\s*points\*\*")


def assignments() -> list[str]:
    """Ids of every assignment in ``solutions/`` (a folder holding at least one notebook)."""
    if not SOLUTIONS.is_dir():
        return []
    return sorted(d.name for d in SOLUTIONS.iterdir() if d.is_dir() and any(d.glob("*.ipynb")))


def notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def nbmeta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_grade(cell) -> bool:
    return bool(nbmeta(cell).get("grade"))


def is_solution(cell) -> bool:
    return bool(nbmeta(cell).get("solution"))


def is_test(cell) -> bool:
    """An autograded test: a code cell that is graded and holds no solution."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def is_manual(cell) -> bool:
    """A written answer graded by hand (nbgrader: graded solution cell, or a task cell)."""
    m = nbmeta(cell)
    return bool(m.get("task")) or (bool(m.get("grade")) and bool(m.get("solution")) and cell.cell_type == "markdown")


def points(cell) -> float:
    return float(nbmeta(cell).get("points", 0) or 0)


def grade_id(cell) -> str | None:
    return nbmeta(cell).get("grade_id")


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def strip_markers(source: str) -> str:
    """The solution as a student would type it: the cell without nbgrader's marker lines."""
    keep = [ln for ln in source.splitlines() if ln.strip() not in (BEGIN_SOLUTION, END_SOLUTION)]
    return "\n".join(keep)


def solution_lines(source: str, begin: str = BEGIN_SOLUTION, end: str = END_SOLUTION) -> list[str]:
    """The lines between ``begin`` and ``end`` markers (every region in the cell)."""
    out, inside = [], False
    for ln in source.splitlines():
        s = ln.strip()
        if s == begin:
            inside = True
        elif s == end:
            inside = False
        elif inside:
            out.append(ln)
    return out


def stated_total(nb) -> float | None:
    """The total announced in the notebook's introduction (``**Total: N points**``)."""
    for cell in nb.cells[:3]:
        if cell.cell_type == "markdown":
            m = TOTAL_RE.search(cell.source)
            if m:
                return float(m.group(1))
    return None


@dataclass
class Mutation:
    cell: str
    find: str
    replace: str
    fails: list[str]


def mutations(assignment: str) -> list[Mutation]:
    """Deliberate mistakes for ``assignment`` from ``tests/pipeline/specs/<assignment>.toml``."""
    path = SPECS / f"{assignment}.toml"
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Mutation(m["cell"], m["find"], m["replace"], list(m["fails"])) for m in data.get("mutation", [])]


# --------------------------------------------------------------------------- scratch course roots


@dataclass
class Course:
    """A throwaway nbgrader course root holding one copy of an assignment's source."""

    root: Path
    assignment: str
    db_url: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, assignment: str, *, cell_timeout: int = 30) -> "Course":
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        shutil.copytree(SOLUTIONS / assignment, root / "solutions" / assignment)
        db_url = f"sqlite:///{root / 'grading' / 'gradebook.db'}"
        (root / "grading").mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update(
            FNN_GRADEBOOK_URL=db_url,
            FNN_CELL_TIMEOUT=str(cell_timeout),
            MPLBACKEND="Agg",
            # nbgrader runs `alembic` from PATH to check the gradebook's schema
            PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
            PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        )
        return cls(root, assignment, db_url, env)

    def nbgrader(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [*NBGRADER, *args], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"nbgrader {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
                f"\n--- stderr\n{proc.stderr[-4000:]}"
            )
        return proc

    def release(self) -> Path:
        self.nbgrader("generate_assignment", self.assignment, "--force")
        return self.root / "exercises" / self.assignment

    def submit(self, student: str, files: dict[str, str | bytes]) -> Path:
        """Place a submission: ``files`` maps a notebook name to its content."""
        folder = self.root / "grading" / "submitted" / student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(folder / name, mode) as fh:
                fh.write(content)
        return folder


def fill_answers(release_nb, source_nb):
    """The release notebook with every answer cell filled in from the source: a perfect student."""
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    answers = {grade_id(c): strip_markers(c.source) for c in source_nb.cells if is_solution(c)}
    for cell in nb.cells:
        gid = grade_id(cell)
        if is_solution(cell) and gid in answers:
            cell.source = answers[gid]
    return nb


def dumps(nb) -> str:
    return nbformat.writes(nb)
