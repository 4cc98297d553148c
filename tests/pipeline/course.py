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
from html.parser import HTMLParser
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
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
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


MUTATION_KEYS = {"cell", "find", "replace", "source", "fails", "message"}
ALTERNATIVE_KEYS = {"cell", "find", "replace", "source"}


@dataclass
class Edit:
    """One answer cell of the solution changed: ``find`` -> ``replace``, or the whole ``source``."""

    cell: str
    find: str | None = None
    replace: str | None = None
    source: str | None = None

    def apply(self, nb, where: str):
        """A copy of ``nb`` with this edit made; ``where`` names the spec entry in error messages."""
        nb = nbformat.from_dict(json.loads(json.dumps(nb)))
        target = [c for c in nb.cells if grade_id(c) == self.cell]
        if not target:
            ids = [grade_id(c) for c in nb.cells if is_solution(c)]
            raise AssertionError(f"{where}: no cell with grade_id {self.cell!r}; the answer cells are {ids}")
        if not is_solution(target[0]):
            raise AssertionError(f"{where}: cell {self.cell!r} is not an answer cell (a student cannot edit it)")
        if self.source is not None:
            target[0].source = self.source
        else:
            if self.find not in target[0].source:
                raise AssertionError(
                    f"{where}: {self.find!r} is not in the solution of cell {self.cell!r}; "
                    f"its source is now:\n{target[0].source}"
                )
            target[0].source = target[0].source.replace(self.find, self.replace)
        return nb


@dataclass
class Mutation(Edit):
    """A deliberate mistake (or a loophole the task forbids): exactly ``fails`` lose their points.

    ``message``, when given, must appear in the output of every test cell listed in ``fails``
    (whitespace runs count as one space): the diagnosis the student sees.
    """

    fails: list[str] = field(default_factory=list)
    message: str | None = None


@dataclass
class Alternative(Edit):
    """Another correct answer, written differently from the reference: it earns every point."""


def _edit_fields(entry: dict, allowed: set[str], where: str) -> dict:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; the keys are {sorted(allowed)}")
    if not isinstance(entry.get("cell"), str):
        raise ValueError(f"{where}: `cell` (the grade_id of an answer cell) is required")
    has_find = "find" in entry or "replace" in entry
    if has_find == ("source" in entry):
        raise ValueError(f"{where}: give either `find` and `replace`, or `source` (the whole new cell), not "
                         f"{'both' if has_find else 'neither'}")
    if has_find and not (isinstance(entry.get("find"), str) and isinstance(entry.get("replace"), str)):
        raise ValueError(f"{where}: `find` and `replace` must both be strings")
    if "source" in entry and not isinstance(entry["source"], str):
        raise ValueError(f"{where}: `source` must be a string (the whole new source of the cell)")
    return {k: entry.get(k) for k in ("cell", "find", "replace", "source")}


def _spec(assignment: str) -> dict:
    path = SPECS / f"{assignment}.toml"
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = sorted(set(data) - {"mutation", "alternative"})
    if unknown:
        raise ValueError(f"specs/{assignment}.toml: unknown table(s) {unknown}; expected [[mutation]] and [[alternative]]")
    return data


def mutations(assignment: str) -> list[Mutation]:
    """Deliberate mistakes for ``assignment`` from ``tests/pipeline/specs/<assignment>.toml``."""
    out = []
    for k, m in enumerate(_spec(assignment).get("mutation", [])):
        where = f"specs/{assignment}.toml, mutation {k} (cell {m.get('cell')!r})"
        fields = _edit_fields(m, MUTATION_KEYS, where)
        fails = m.get("fails")
        if not isinstance(fails, list) or not all(isinstance(f, str) for f in fails):
            raise ValueError(f"{where}: `fails` must be a list of test grade_ids")
        message = m.get("message")
        if message is not None and (not isinstance(message, str) or not message.strip()):
            raise ValueError(f"{where}: `message` must be a non-empty string")
        if message is not None and not fails:
            raise ValueError(f"{where}: a `message` needs failing tests to appear in (`fails` is empty)")
        out.append(Mutation(**fields, fails=list(fails), message=message))
    return out


def alternatives(assignment: str) -> list[Alternative]:
    """Other correct answers for ``assignment`` from ``tests/pipeline/specs/<assignment>.toml``."""
    return [
        Alternative(**_edit_fields(a, ALTERNATIVE_KEYS, f"specs/{assignment}.toml, alternative {k} (cell {a.get('cell')!r})"))
        for k, a in enumerate(_spec(assignment).get("alternative", []))
    ]


def _plain(text: str) -> str:
    return " ".join(ANSI_RE.sub("", text).split())


def cell_output_text(cell) -> str:
    """Everything a code cell displayed (streams, results, errors with their traceback), as plain text
    with ANSI colours removed and whitespace runs collapsed to one space."""
    parts = []
    for out in cell.get("outputs", []):
        t = out.get("output_type")
        if t == "stream":
            parts.append(out.get("text", ""))
        elif t == "error":
            parts += [out.get("ename", ""), out.get("evalue", ""), *out.get("traceback", [])]
        else:
            data = out.get("data", {})
            parts.append(str(data.get("text/plain", "")))
    return _plain("\n".join(parts))


def contains_message(output_text: str, message: str) -> bool:
    return _plain(message) in output_text


# --------------------------------------------------------------------------- scratch course roots


@dataclass
class Course:
    """A throwaway nbgrader course root holding one copy of an assignment's source."""

    root: Path
    assignment: str
    db_url: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, assignment: str, *, cell_timeout: int = 30, source: Path | None = None) -> "Course":
        """A course root with ``solutions/<assignment>`` copied from ``source`` (default: the course's)."""
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        shutil.copytree(source or SOLUTIONS / assignment, root / "solutions" / assignment)
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

    @classmethod
    def from_release(cls, root: Path, assignment: str, release: "Course", *, cell_timeout: int = 30) -> "Course":
        """A course root like :meth:`create`, with the release and the gradebook (the assignment
        registered, no submissions) copied from ``release`` (see :func:`shared_release`)."""
        course = cls.create(root, assignment, cell_timeout=cell_timeout)
        shutil.copytree(release.root / "exercises" / assignment, root / "exercises" / assignment)
        shutil.copy(release.root / "grading" / "gradebook.db", root / "grading" / "gradebook.db")
        return course

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

    def fnngrade(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        """``python -m fnngrade autograde <assignment> ...`` in this course: the tests run in the
        remote checker; in the jail where this machine can build it (root and bwrap), else with
        ``--unsandboxed``. Raises with the output if the batch itself fails."""
        from fnngrade.grader import sandbox_selftest

        extra = [] if sandbox_selftest() is None else ["--unsandboxed"]
        proc = subprocess.run(
            [sys.executable, "-m", "fnngrade", "autograde", self.assignment, "--no-progress", *extra, *args],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout,
        )
        if proc.returncode != 0:
            raise AssertionError(f"fnngrade autograde {self.assignment} {' '.join(args)} exited {proc.returncode}"
                                 f"\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
        return proc

    def states(self) -> dict[str, dict]:
        """fnngrade's state of every graded student: {student: state file contents}."""
        import json

        base = self.root / "grading" / ".fnngrade" / self.assignment / "state"
        out = {}
        for f in base.glob("*.json"):
            r = json.loads(f.read_text())
            out[r["student"]] = r
        return out

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


def shared_release(assignment: str, tmp_path_factory) -> "Course":
    """A course root in which ``nbgrader generate_assignment`` ran once for this test session: its
    ``exercises/<assignment>`` and its gradebook (the assignment registered). Made by the first test
    that asks, on whichever xdist worker, under a lock; later ones reuse it (:meth:`Course.from_release`)."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the session's workers
    root = base / "shared-releases" / assignment
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{assignment}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        course = Course.create(root, assignment) if not (root / "done").exists() else None
        if course is not None:
            course.release()
            (root / "done").write_text("")
    return Course(root, assignment, f"sqlite:///{root / 'grading' / 'gradebook.db'}")


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


# --------------------------------------------------------------------------- secrets and leaks

BEGIN_MARK_SCHEME = "### BEGIN MARK SCHEME"
END_MARK_SCHEME = "### END MARK SCHEME"
# A rubric heading outside a mark-scheme region ("*Rubric (3 points):*", "**Mark scheme.**"): the
# rubric of a written question then reaches the release, whatever its lines say.
RUBRIC_HEADING_RE = re.compile(r"^[\s>*_#-]*(rubric|mark(ing)?[ -]scheme)\b", re.IGNORECASE)
# Lines that say nothing on their own, wherever they appear.
TRIVIAL = {
    "pass", "return", "else:", "try:", "finally:", "continue", "break", "import numpy as np",
    "import sympy as sp", "import math", "raise NotImplementedError()", "YOUR ANSWER HERE",
    "# YOUR CODE HERE", "$$", "```", "```python", "---",
}
MIN_SECRET = 8        # characters (after normalising): shorter lines are not compared
MIN_SUBSTRING = 30    # longer secret lines are also searched inside joined text (rendered Markdown)
_MD_MARKUP = re.compile(r"[*`]")  # not "_": it is part of names and of LaTeX subscripts
_LINE_PREFIX = re.compile(r"^(?:[-+*>]\s+|\d+[.)]\s+|#+\s+|-*>\s*\d+\s+|\d+\s+(?=\S))+")


def normalise(line: str) -> str:
    """A line as compared for leaks: no ANSI colours, no Markdown emphasis, list, quote or heading
    markers, no traceback arrows and line numbers, whitespace runs collapsed."""
    s = ANSI_RE.sub("", line).strip()
    s = _LINE_PREFIX.sub("", s)
    s = _MD_MARKUP.sub("", s)
    return " ".join(s.split())


@dataclass
class Secrets:
    """What ``solutions/`` holds and students must never see, as normalised lines with their origin."""

    rubric: dict[str, str] = field(default_factory=dict)
    answer: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)
    visible: set[str] = field(default_factory=set)
    unmarked_rubrics: dict[str, str] = field(default_factory=dict)  # rubric headings outside a region
    raw: dict[str, str] = field(default_factory=dict)  # normalised line -> the line as the source has it

    def kinds(self, *names: str) -> dict[str, tuple[str, str]]:
        """{normalised line: (kind, origin)} for the kinds asked, without given (visible) lines."""
        out = {}
        for kind in names:
            for line, origin in getattr(self, kind).items():
                if line not in self.visible:
                    out.setdefault(line, (kind, origin))
        return out


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin/end regions, lines outside them); marker lines belong to neither."""
    inside, outside, state = [], [], False
    for ln in source.splitlines():
        s = ln.strip()
        if s == begin:
            state = True
        elif s == end:
            state = False
        else:
            (inside if state else outside).append(ln)
    return inside, outside


def _significant(norm: str) -> bool:
    return len(norm) >= MIN_SECRET and norm not in {normalise(t) for t in TRIVIAL}


def secrets(source_nb, label: str) -> Secrets:
    """Rubric lines (mark-scheme regions), model answers (solution regions of code AND Markdown
    cells; a solution cell without markers is an answer as a whole) and hidden-test lines of one
    source notebook. Lines the notebook also shows outside every secret region are given
    material (an import, a signature, a docstring) and are not secrets."""
    out = Secrets()
    for i, cell in enumerate(source_nb.cells):
        where = f"{label}, cell {i}" + (f" ({grade_id(cell)})" if grade_id(cell) else "")
        src = cell.source
        rubric, rest = _regions(src, BEGIN_MARK_SCHEME, END_MARK_SCHEME)
        hidden, rest2 = _regions("\n".join(rest), BEGIN_HIDDEN, END_HIDDEN)
        if is_solution(cell) and BEGIN_SOLUTION not in src:
            answer, visible = rest2, []
        else:
            answer, visible = _regions("\n".join(rest2), BEGIN_SOLUTION, END_SOLUTION)
        for kind, lines in (("rubric", rubric), ("answer", answer), ("hidden", hidden)):
            for ln in lines:
                n = normalise(ln)
                if _significant(n):
                    getattr(out, kind).setdefault(n, f"{where}: {ln.strip()!r}")
                    out.raw.setdefault(n, ln)
        out.visible |= {normalise(ln) for ln in visible}
        if cell.cell_type == "markdown":
            for ln in visible:
                if RUBRIC_HEADING_RE.match(ln):
                    out.unmarked_rubrics.setdefault(normalise(ln), f"{where}: {ln.strip()!r}")
    return out


class _Text(HTMLParser):
    """The text of an HTML page as a browser would show it, without scripts and styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "pre", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("p", "div", "li", "tr", "pre"):
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def notebook_text(nb) -> str:
    """Every cell's source and every output's text of a notebook."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts += [out.get("text", ""), out.get("evalue", ""), *out.get("traceback", [])]
            parts += [v for v in out.get("data", {}).values() if isinstance(v, str)]
    return "\n".join(parts)


def file_text(path: Path) -> str:
    """What a student sees in a released or returned file: notebook text, HTML text, plain text."""
    if path.suffix == ".ipynb":
        return notebook_text(read(path))
    text = path.read_text(errors="replace")
    return html_text(text) if path.suffix in (".html", ".htm") else text


def find_leaks(secret: dict[str, tuple[str, str]], text: str, *,
               unmarked_rubrics: dict[str, str] | None = None) -> list[str]:
    """Each secret line that ``text`` shows: as one of its (normalised) lines, or, for a long
    secret, anywhere inside its joined text (rendered Markdown joins and splits lines)."""
    lines = {normalise(ln) for ln in text.splitlines()}
    joined = " " + normalise(" ".join(text.split())) + " "
    found = []
    for line, (kind, origin) in secret.items():
        if line in lines or (len(line) >= MIN_SUBSTRING and line in joined):
            found.append(f"{kind} line of {origin}")
    for line, origin in (unmarked_rubrics or {}).items():
        if line in lines:
            found.append(f"rubric outside a mark-scheme region ({BEGIN_MARK_SCHEME} ... {END_MARK_SCHEME}), "
                         f"so nbgrader ships it: {origin}")
    return found
