"""Faults around fnngrade: a gradebook locked for the whole run, a submission over its time
budget, a disk that fills up during the run, two runs on one host at the same time.

One scratch course (01-neuron-activations, released once) is copied for each scenario; each
scenario grades two or three submissions. Needs root and bwrap (and, for the full disk, a tmpfs
mount); skipped with the reason elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tests.pipeline import course as C

from .classroom import ASSIGNMENT, _prefix, run_fnngrade

pytestmark = pytest.mark.pipeline

NAME = f"{ASSIGNMENT}.ipynb"
COMMON = ["--timeout", "5", "--no-progress", "--mem-mb", "2048", "--cwd-mb", "32"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from fnngrade.grader import sandbox_selftest

    why = sandbox_selftest()
    if why:
        pytest.skip(f"the bubblewrap sandbox cannot run on this machine: {why}")
    root = tmp_path_factory.mktemp("faults-base")
    course = C.Course.create(root, ASSIGNMENT, cell_timeout=5)
    release = course.release()
    source, released = C.read(C.SOLUTIONS / ASSIGNMENT / NAME), C.read(release / NAME)
    shutil.rmtree(root / "exercises")
    perfect = C.fill_answers(released, source)
    tests = {C.grade_id(c): C.points(c) for c in source.cells if C.is_test(c)}
    return {"root": root, "perfect": C.dumps(perfect), "blank": C.dumps(released), "perfect_nb": perfect,
            "full": sum(tests.values())}


def _copy(base, dest: Path) -> C.Course:
    shutil.copytree(base["root"], dest, dirs_exist_ok=True)
    db = f"sqlite:///{dest / 'grading' / 'gradebook.db'}"
    return C.Course(dest, ASSIGNMENT, db, {})


def _states(root: Path) -> dict:
    out = {}
    for p in (root / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json"):
        r = json.loads(p.read_text())
        out[r["student"]] = r
    return out


def _gradebook_scores(db_url: str, students) -> dict:
    with Gradebook(db_url) as gb:
        return {s: gb.find_submission(ASSIGNMENT, s).score for s in students}


def test_locked_gradebook_keeps_results_and_a_later_run_merges_them(base, tmp_path):
    """The course gradebook is locked (an exclusive SQLite transaction) for the whole first run,
    longer than --db-wait: every submission is graded and kept in its state file, the summary
    says they are not in the gradebook yet; the next run merges them without grading again. The
    same run has a submission over its --submission-timeout budget: ``timed out``, with the
    points of the cells that ran."""
    course = _copy(base, tmp_path / "course")
    # 3 x 12 s of sleep (each under the 30 s cell timeout of this run) against a 24 s budget
    slow = base["perfect_nb"]
    for gid in ("logistic_grad", "sigma_derivative_steps", "tanh_grad"):
        slow = _prefix(slow, gid, "import time\ntime.sleep(12)")
    for s, body in (("perfect", base["perfect"]), ("blank", base["blank"]), ("slow", C.dumps(slow))):
        course.submit(s, {NAME: body})
    db = course.root / "grading" / "gradebook.db"
    locker = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(900)\n"), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        p1 = run_fnngrade(course.root, "autograde", ASSIGNMENT, "--workers", "2", "--db-wait", "2",
                          "--submission-timeout", "24", *COMMON, "--timeout", "30")
    finally:
        locker.kill()
        locker.wait()
    assert p1.returncode == 0, p1.stdout[-2000:] + p1.stderr[-3000:]
    assert "NOT YET IN THE GRADEBOOK: 3 result(s)" in p1.stdout, p1.stdout[-2000:]
    first = _states(course.root)
    assert {s: (r["state"], r["merged"]) for s, r in first.items()} == {
        "perfect": ("graded", False), "blank": ("graded", False), "slow": ("timed out", False)}, first
    assert first["perfect"]["score"] == base["full"] and first["blank"]["score"] == 0
    assert "budget of 24 s" in first["slow"]["reason"], first["slow"]["reason"]
    assert 0 < first["slow"]["score"] < base["full"], "the cells that ran before the budget keep their points"
    with Gradebook(course.db_url) as gb:
        assert not list(gb.assignment_submissions(ASSIGNMENT)), "merged although the gradebook was locked"
    # the lock is gone: the next run merges, grading nothing again
    p2 = run_fnngrade(course.root, "autograde", ASSIGNMENT, "--workers", "2", *COMMON)
    assert p2.returncode == 0, p2.stderr[-3000:]
    assert "NOT YET" not in p2.stdout
    second = _states(course.root)
    for s, r in second.items():
        assert r["merged"] is True, (s, r.get("merge_error"))
        assert (r["finished"], r["seconds"], r["score"]) == (first[s]["finished"], first[s]["seconds"],
                                                            first[s]["score"]), f"{s} was graded again"
    assert _gradebook_scores(course.db_url, second) == {s: r["score"] for s, r in second.items()}


def _mount_tmpfs(where: Path, size: str) -> str | None:
    where.mkdir(parents=True)
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return None if p.returncode == 0 else (p.stderr.strip() or f"mount exited {p.returncode}")


def test_a_full_disk_stops_the_batch_cleanly(base, tmp_path):
    """The course root is a 48 MB tmpfs; after the first result is recorded the disk fills up
    (test hook FNNGRADE_TEST_FILL_DISK_AFTER=1). The run stops with exit status 3 and says the
    disk is full (not "nbgrader db upgrade"); what was recorded is kept, consistent with the
    gradebook, no half-written file is left; after space is freed the next run grades the rest."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    why = _mount_tmpfs(mnt, "48m")
    if why:
        pytest.skip(f"cannot mount a tmpfs here: {why}")
    try:
        course = _copy(base, mnt)
        for s, body in (("a-perfect", base["perfect"]), ("b-blank", base["blank"]), ("c-perfect", base["perfect"])):
            course.submit(s, {NAME: body})
        env = {"FNNGRADE_TEST_FILL_DISK_AFTER": "1"}
        p1 = _run_env(course.root, env, "autograde", ASSIGNMENT, "--workers", "1", *COMMON)
        assert p1.returncode == 3, p1.stdout[-2000:] + p1.stderr[-3000:]
        out = p1.stdout + p1.stderr
        assert "STOPPED" in out and "disk is full" in out, out[-3000:]
        assert "db upgrade" not in out
        first = _states(course.root)
        assert len(first) == 1 and all(r["merged"] is True for r in first.values()), first
        assert _gradebook_scores(course.db_url, first) == {s: r["score"] for s, r in first.items()}
        assert not [p for p in course.root.rglob("*.tmp")], "a half-written file was left"
        assert not list((course.root / "grading" / ".fnngrade" / ASSIGNMENT).glob("workers*"))
        (course.root / "grading" / ".fnngrade" / ASSIGNMENT / "ballast").unlink()
        p2 = run_fnngrade(course.root, "autograde", ASSIGNMENT, "--workers", "1", *COMMON)
        assert p2.returncode == 0, p2.stderr[-3000:]
        second = _states(course.root)
        assert {s: (r["state"], r["score"]) for s, r in second.items()} == {
            "a-perfect": ("graded", base["full"]), "b-blank": ("graded", 0), "c-perfect": ("graded", base["full"])}
        (only,) = first
        assert second[only]["finished"] == first[only]["finished"], "a recorded result was graded again"
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _run_env(root: Path, extra: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(C.ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("FNN_GRADEBOOK_URL", None)
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "fnngrade", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)


HOLDER = """\
import subprocess, sys, time
_held = []
try:
    while len(_held) < 200:
        _held.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(8)"]))
except Exception as _e:
    print("HOLDING", len(_held), type(_e).__name__)
time.sleep(3)
for _p in _held:
    _p.kill()
    _p.wait()
"""


def test_two_concurrent_runs_never_share_a_kernel_uid(base, tmp_path):
    """Two runs on one host at once (one holds every process its uid may have): their kernels
    run as different uids, and the honest run grades everything right."""
    env = dict(os.environ, PYTHONPATH=str(C.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FNN_GRADEBOOK_URL", None)
    runs = {}
    for tag, subs in (("a", {"holder": C.dumps(_prefix(base["perfect_nb"], "logistic", HOLDER)),
                             "perfect": base["perfect"]}),
                      ("b", {"perfect": base["perfect"], "blank": base["blank"]})):
        course = _copy(base, tmp_path / tag)
        for s, body in subs.items():
            course.submit(s, {NAME: body})
        runs[tag] = course
    procs = {tag: subprocess.Popen([sys.executable, "-m", "fnngrade", "autograde", ASSIGNMENT, "--workers", "1",
                                    "--nproc", "32", *COMMON], cwd=c.root, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for tag, c in runs.items()}
    for tag, p in procs.items():
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"run {tag}: {err[-3000:]}"
    a, b = _states(runs["a"].root), _states(runs["b"].root)
    uids_a = {r["uid"] for r in a.values()}
    uids_b = {r["uid"] for r in b.values()}
    assert uids_a and uids_b and not uids_a & uids_b, (uids_a, uids_b)
    assert {s: (r["state"], r["score"]) for s, r in b.items()} == {
        "perfect": ("graded", base["full"]), "blank": ("graded", 0)}
    assert a["perfect"]["score"] == base["full"]
    assert a["holder"]["state"] == "graded" and a["holder"]["score"] == base["full"], a["holder"].get("reason")
