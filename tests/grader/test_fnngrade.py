"""fnngrade on an adversarial class: sandbox, robust states, scores, parallel = serial, resume.

One scratch course root, one assignment (01-neuron-activations), ~22 generated submissions graded
ONCE by ``python -m fnngrade autograde`` on 2 workers with a 5 s cell timeout; a few of them are
graded again serially in a second course root to compare scores. See classroom.py for the class.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from nbgrader.api import Gradebook

from fnngrade.grader import STATES
from tests.pipeline import course as C

from .classroom import ASSIGNMENT, make_class, run_fnngrade

pytestmark = pytest.mark.pipeline

CELL_TIMEOUT = 5
MAX_CHARS = 20_000
NPROC = 64
COMMON = ["--timeout", str(CELL_TIMEOUT), "--max-output-chars", str(MAX_CHARS), "--mem-mb", "2048",
          "--nproc", str(NPROC), "--cpu", "120", "--no-progress"]


def _setup(root):
    course = C.Course.create(root, ASSIGNMENT, cell_timeout=CELL_TIMEOUT)
    release = course.release()
    name = f"{ASSIGNMENT}.ipynb"
    source_nb = C.read(C.SOLUTIONS / ASSIGNMENT / name)
    release_nb = C.read(release / name)
    shutil.rmtree(root / "exercises")
    return course, source_nb, release_nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from fnngrade.grader import sandbox_selftest

    why = sandbox_selftest()
    if why:
        pytest.skip(f"the bubblewrap sandbox cannot run on this machine: {why}")
    root = tmp_path_factory.mktemp("fnngrade-course")
    course, source_nb, release_nb = _setup(root)
    cls = make_class(root, release_nb, source_nb)
    for student, (files, _) in cls.items():
        course.submit(student, files)
    proc = run_fnngrade(root, "autograde", ASSIGNMENT, "--workers", "2", *COMMON)
    states = {p.stem: json.loads(p.read_text())
              for p in (root / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json")}
    tests = {C.grade_id(c): C.points(c) for c in source_nb.cells if C.is_test(c)}
    return {"root": root, "course": course, "class": cls, "proc": proc, "states": states,
            "full": sum(tests.values()), "tests": tests, "source": source_nb, "release": release_nb}


def _log(g):
    return f"\n--- stdout\n{g['proc'].stdout[-3000:]}\n--- stderr\n{g['proc'].stderr[-3000:]}"


def _auto_score(g, student):
    """The student's automatic score in the COURSE gradebook (what nbgrader export reports)."""
    with Gradebook(g["course"].db_url) as gb:
        total = 0.0
        for gid in g["tests"]:
            grade = gb.find_grade(gid, ASSIGNMENT, ASSIGNMENT, student)
            total += grade.auto_score or 0.0
        return total


def test_the_batch_completes_and_every_submission_has_a_state(graded):
    assert graded["proc"].returncode == 0, _log(graded)
    missing = set(graded["class"]) - set(graded["states"])
    assert not missing, f"no state recorded for {sorted(missing)}" + _log(graded)
    for s, r in graded["states"].items():
        assert r["state"] in STATES, (s, r["state"])
        assert r["sandboxed"] is True
        if r["state"] != "graded":
            assert r["reason"], f"{s}: state {r['state']} without a reason"


@pytest.mark.parametrize("student", [
    "perfect", "blank", "wrong-tanh", "loops", "ignores-sigint", "sys-exit", "os-exit", "memory-bomb",
    "huge-line", "spawner", "edited-tests", "deleted-tests", "duplicated-tests", "renamed-grade-id",
    "renamed-answer-id", "broken-json", "not-a-notebook", "json-not-notebook", "no-notebook", "snoop",
    "cheat-patch", "cheat-runcell", "cheat-silence",
])
def test_state_and_score(graded, student):
    expect = graded["class"][student][1]
    r = graded["states"][student]
    assert r["state"] == expect.state, f"{student}: {r['state']} ({r.get('reason')}), expected {expect.state}"
    score, full = _auto_score(graded, student), graded["full"]
    assert r["score"] == pytest.approx(score), f"{student}: state file and gradebook disagree"
    blank = _auto_score(graded, "blank")
    kind = expect.score
    if kind == "full":
        assert score == full, f"{student}: {score}/{full}, expected every automatic point"
    elif kind == "zero":
        assert score == 0, f"{student}: {score}/{full}, expected 0"
    elif kind.startswith("full-minus:"):
        assert score == full - float(kind.split(":")[1]), f"{student}: {score}/{full}, expected {kind}"
    elif kind == "below-full":
        assert score < full, f"{student}: {score}/{full}, expected to lose points"
    elif kind == "<=blank":
        assert score <= blank, f"{student}: a cheat scored {score}, an honest blank scores {blank}"


def _autograded_nb(graded, student):
    return graded["root"] / "grading" / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def _outputs(graded, student) -> str:
    nb = C.read(_autograded_nb(graded, student))
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_snooping_reads_nothing(graded):
    out = _outputs(graded, "snoop")
    assert "SNOOP-DONE" in out, "the snooping code did not run to the end"
    denied = [ln for ln in out.splitlines() if ln.startswith("DENIED")]
    read = [ln for ln in out.splitlines() if ln.startswith("READ")]
    assert not read, "the sandbox let a submission read:\n" + "\n".join(read)
    assert len(denied) >= 13, out[:2000]
    # the grader's home directory holds nothing but the folders leading to the bound Python install
    import os
    import sys

    home = os.path.expanduser("~")
    allowed = set()
    for p in (sys.prefix, sys.base_prefix, str(C.ROOT)):
        rel = os.path.relpath(os.path.realpath(p), home)
        if not rel.startswith(".."):
            allowed.add(rel.split(os.sep)[0])
    line = [ln for ln in out.splitlines() if ln.startswith("ROOTHOME")][0]
    listed = eval(line.split(" ", 1)[1]) or []
    assert set(listed) <= allowed, f"the jail shows the grader's home directory: {listed}"


def test_one_huge_line_is_truncated(graded):
    path = _autograded_nb(graded, "huge-line")
    assert path.stat().st_size < 10 * MAX_CHARS + 200_000, f"{path.stat().st_size} bytes: output not truncated"
    assert "output truncated by the grader" in _outputs(graded, "huge-line")


def test_process_limit_holds(graded):
    out = _outputs(graded, "spawner")
    line = [ln for ln in out.splitlines() if ln.startswith("SPAWNED")]
    assert line, out[:1000]
    spawned = int(line[0].split()[1])
    assert spawned < NPROC, f"{spawned} processes started with RLIMIT_NPROC = {NPROC}"
    assert "REFUSED None" not in line[0]


def test_reasons_name_the_cell(graded):
    r = graded["states"]
    assert "weight_gradient_signs" in r["os-exit"]["reason"] and "died" in r["os-exit"]["reason"]
    assert "weight_gradient_signs" in r["ignores-sigint"]["reason"] and "killed" in r["ignores-sigint"]["reason"]
    assert "logistic" in r["loops"]["reason"]
    assert "JSON" in r["broken-json"]["reason"]


def test_summary_csv(graded):
    import csv

    rows = list(csv.DictReader((graded["root"] / "grading" / f"summary-{ASSIGNMENT}.csv").open()))
    states = {r["name"]: int(r["count"]) for r in rows if r["section"] == "state"}
    want = {}
    for _, e in graded["class"].values():
        want[e.state] = want.get(e.state, 0) + 1
    assert {k: v for k, v in states.items() if v} == want
    tests = {r["name"]: (int(r["count"]), int(r["out_of"])) for r in rows if r["section"] == "test passed"}
    assert set(tests) == set(graded["tests"])
    assert all(ok <= of for ok, of in tests.values())


def test_rerun_is_idempotent_and_resumes(graded):
    root = graded["root"]
    before = {s: _auto_score(graded, s) for s in ("perfect", "os-exit", "no-notebook")}
    statefile = root / "grading" / ".fnngrade" / ASSIGNMENT / "state" / "perfect.json"
    statefile.unlink()  # as if the run had been killed before this submission was recorded
    others = {p.name: p.stat().st_mtime_ns for p in statefile.parent.glob("*.json")}
    proc = run_fnngrade(root, "autograde", ASSIGNMENT, "--workers", "2", *COMMON)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert statefile.exists()
    after = {s: _auto_score(graded, s) for s in before}
    assert after == before
    con = sqlite3.connect(root / "grading" / "gradebook.db")
    n = con.execute("select count(*) from submitted_assignment").fetchone()[0]
    con.close()
    assert n == len(graded["class"]), f"{n} submissions in the gradebook after a re-run"
    # only the one submission without a state was graded again
    assert {p.name: p.stat().st_mtime_ns for p in statefile.parent.glob("*.json") if p != statefile} == others


def test_killed_serial_run_resumes_and_equals_parallel(graded, tmp_path_factory):
    root = tmp_path_factory.mktemp("fnngrade-serial")
    course, _, _ = _setup(root)
    picked = ["perfect", "blank", "wrong-tanh", "os-exit", "cheat-patch"]
    for s in picked:
        course.submit(s, graded["class"][s][0])
    # first a run that is killed (SIGKILL, with its workers and kernels) after one submission ...
    import os
    import signal
    import subprocess
    import sys
    import time

    state = root / "grading" / ".fnngrade" / ASSIGNMENT / "state"
    env = dict(os.environ, PYTHONPATH=str(C.ROOT))
    env.pop("FNN_GRADEBOOK_URL", None)
    victim = subprocess.Popen([sys.executable, "-m", "fnngrade", "autograde", ASSIGNMENT, "--workers", "1", *COMMON],
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while victim.poll() is None and not list(state.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    done_first = {p.name: p.stat().st_mtime_ns for p in state.glob("*.json")}
    assert 1 <= len(done_first) < len(picked), f"the killed run recorded {len(done_first)} submissions"
    # ... then the run that resumes: it grades only what is left
    proc = run_fnngrade(root, "autograde", ASSIGNMENT, "--workers", "1", *COMMON)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {p.name: p.stat().st_mtime_ns for p in state.glob("*.json") if p.name in done_first} == done_first
    assert len(list(state.glob("*.json"))) == len(picked)
    serial = {}
    with Gradebook(course.db_url) as gb:
        for s in picked:
            serial[s] = {gid: gb.find_grade(gid, ASSIGNMENT, ASSIGNMENT, s).auto_score for gid in graded["tests"]}
    with Gradebook(graded["course"].db_url) as gb:
        parallel = {s: {gid: gb.find_grade(gid, ASSIGNMENT, ASSIGNMENT, s).auto_score for gid in graded["tests"]}
                    for s in picked}
    assert serial == parallel


def test_refuses_without_bwrap(graded, tmp_path):
    """Without bwrap on PATH the grader names the problem and the way out, and grades nothing."""
    import os
    import subprocess
    import sys

    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty), PYTHONPATH=str(C.ROOT))
    before = {p.name: p.stat().st_mtime_ns
              for p in (graded["root"] / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json")}
    proc = subprocess.run([sys.executable, "-m", "fnngrade", "autograde", ASSIGNMENT, "--force", "--no-progress"],
                          cwd=graded["root"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "refusing to run student code unsandboxed" in proc.stderr
    assert "--unsandboxed" in proc.stderr
    after = {p.name: p.stat().st_mtime_ns
             for p in (graded["root"] / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json")}
    assert after == before


def test_registration_is_skipped_only_when_the_gradebook_is_current(graded, tmp_path):
    """A run re-registers the assignment when a test or fixed cell changed, not for an answer."""
    import nbformat

    from fnngrade.gradebook import assignment_is_current

    root = tmp_path / "copy"
    shutil.copytree(graded["root"] / "solutions", root / "solutions")
    (root / "grading").mkdir()
    shutil.copy(graded["root"] / "grading" / "gradebook.db", root / "grading" / "gradebook.db")
    url = f"sqlite:///{root / 'grading' / 'gradebook.db'}"
    path = root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert assignment_is_current(url, root, ASSIGNMENT)
    nb = nbformat.read(str(path), as_version=4)
    for c in nb.cells:
        if C.grade_id(c) == "tanh_grad":
            c.source = c.source.replace("return 1.0 - t * t", "return (1.0 - t) * (1.0 + t)")
    nbformat.write(nb, str(path))
    assert assignment_is_current(url, root, ASSIGNMENT), "an edited answer needs no new registration"
    for c in nb.cells:
        if C.grade_id(c) == "test_tanh_grad":
            c.source += "\n# one more check"
    nbformat.write(nb, str(path))
    assert not assignment_is_current(url, root, ASSIGNMENT), "an edited test must be registered again"
    assert not assignment_is_current(url, root, "no-such-assignment")
