"""Faults around fnngrade: a gradebook locked for the whole run, a submission over its time
budget, two runs on one host at the same time (these three in one pair of concurrent runs), and a
disk that fills up during a run.

One scratch course (01-neuron-activations, released once) is copied for each run; each run grades
three submissions. Needs root and bwrap (and, for the full disk, a tmpfs mount); skipped with the
reason elsewhere.
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
SLOW_CELL, BUDGET = 7, 24  # seconds: four slow cells, each under the cell timeout, together over the budget


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from fnngrade.grader import sandbox_selftest

    why = sandbox_selftest()
    if why:
        pytest.skip(f"the bubblewrap sandbox cannot run on this machine: {why}")
    root = tmp_path_factory.mktemp("faults-base")
    course = C.Course.from_release(root, ASSIGNMENT, tmp_path_factory, cell_timeout=5)
    release = course.exercises
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


@pytest.fixture(scope="module")
def two_runs(base, tmp_path_factory):
    """Two runs on this host at the same time, each in its own course:

    - run A: its gradebook is locked (an exclusive SQLite transaction) for the whole run, longer
      than ``--db-wait 2``; it has a perfect, a blank and a ``slow`` submission that sleeps 4 x 7 s
      (each under the 15 s cell timeout) against a 24 s ``--submission-timeout``. Once the lock is
      gone, A runs again;
    - run B: a submission that holds every process its uid may have (``--nproc 32``), a perfect
      and a blank one.
    """
    env = dict(os.environ, PYTHONPATH=str(C.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FNN_GRADEBOOK_URL", None)
    a = _copy(base, tmp_path_factory.mktemp("run-a"))
    slow = base["perfect_nb"]
    for gid in ("logistic_grad", "sigma_derivative_steps", "tanh_grad", "tanh_via_logistic"):
        slow = _prefix(slow, gid, f"import time\ntime.sleep({SLOW_CELL})")
    for s, body in (("perfect", base["perfect"]), ("blank", base["blank"]), ("slow", C.dumps(slow))):
        a.submit(s, {NAME: body})
    b = _copy(base, tmp_path_factory.mktemp("run-b"))
    for s, body in (("holder", C.dumps(_prefix(base["perfect_nb"], "logistic", HOLDER))),
                    ("perfect", base["perfect"]), ("blank", base["blank"])):
        b.submit(s, {NAME: body})
    locker = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(900)\n"), str(a.root / "grading" / "gradebook.db")], stdout=subprocess.PIPE, text=True)
    cmd = [sys.executable, "-m", "fnngrade", "autograde", ASSIGNMENT, *COMMON]
    try:
        assert locker.stdout.readline().strip() == "locked"
        procs = {
            "a": subprocess.Popen(cmd + ["--workers", "2", "--db-wait", "2", "--submission-timeout", str(BUDGET),
                                         "--timeout", "15"], cwd=a.root, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True),
            "b": subprocess.Popen(cmd + ["--workers", "1", "--nproc", "32"], cwd=b.root, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        }
        outs = {k: p.communicate(timeout=900) + (p.returncode,) for k, p in procs.items()}
    finally:
        locker.kill()
        locker.wait()
    first = _states(a.root)
    again = run_fnngrade(a.root, "autograde", ASSIGNMENT, "--workers", "2", *COMMON)
    return {"a": a, "b": b, "outs": outs, "first": first, "again": again, "second": _states(a.root),
            "b_states": _states(b.root)}


def test_locked_gradebook_keeps_results_and_a_later_run_merges_them(base, two_runs):
    """Run A completes although its gradebook stays locked: every submission is graded and kept in
    its state file, the summary says they are not in the gradebook yet; the next run merges them
    without grading anything again."""
    out, err, rc = two_runs["outs"]["a"]
    assert rc == 0, out[-2000:] + err[-3000:]
    assert "NOT YET IN THE GRADEBOOK: 3 result(s)" in out, out[-2000:]
    first = two_runs["first"]
    assert {s: (r["state"], r["merged"]) for s, r in first.items()} == {
        "perfect": ("graded", False), "blank": ("graded", False), "slow": ("timed out", False)}, first
    assert first["perfect"]["score"] == base["full"] and first["blank"]["score"] == 0
    again = two_runs["again"]
    assert again.returncode == 0, again.stderr[-3000:]
    assert "NOT YET" not in again.stdout
    second = two_runs["second"]
    for s, r in second.items():
        assert r["merged"] is True, (s, r.get("merge_error"))
        assert (r["finished"], r["seconds"], r["score"]) == (first[s]["finished"], first[s]["seconds"],
                                                            first[s]["score"]), f"{s} was graded again"
    assert _gradebook_scores(two_runs["a"].db_url, second) == {s: r["score"] for s, r in second.items()}


def test_a_submission_over_its_budget_keeps_the_points_of_the_cells_that_ran(base, two_runs):
    r = two_runs["first"]["slow"]
    assert r["state"] == "timed out" and f"budget of {BUDGET} s" in r["reason"], r["reason"]
    assert 0 < r["score"] < base["full"]


def test_two_concurrent_runs_never_share_a_kernel_uid(base, two_runs):
    """Run B's holder took every process its uid may have while run A's kernels ran: A's kernels
    ran as other uids, and both runs graded their honest submissions right."""
    out, err, rc = two_runs["outs"]["b"]
    assert rc == 0, err[-3000:]
    a, b = two_runs["first"], two_runs["b_states"]
    uids_a, uids_b = {r["uid"] for r in a.values()}, {r["uid"] for r in b.values()}
    assert uids_a and uids_b, (uids_a, uids_b)
    # A uid is leased by a grading worker for its life; a worker of A set up after B ended may take a
    # uid B has released (Dask starts A's workers when it is ready). What must never happen is one uid
    # grading for both runs at the same time: compare each submission's grading interval.
    def interval(r):
        end = time.mktime(time.strptime(r["finished"], "%Y-%m-%dT%H:%M:%S"))
        return end - float(r["seconds"]), end

    for sa, ra in a.items():
        for sb, rb in b.items():
            if ra["uid"] != rb["uid"]:
                continue
            (a0, a1), (b0, b1) = interval(ra), interval(rb)
            assert max(a0, b0) >= min(a1, b1) - 1, (
                f"uid {ra['uid']} graded run A's {sa} ({ra['finished']}, {ra['seconds']} s) and run B's {sb} "
                f"({rb['finished']}, {rb['seconds']} s) at the same time")
    assert {s: (r["state"], r["score"]) for s, r in b.items() if s != "holder"} == {
        "perfect": ("graded", base["full"]), "blank": ("graded", 0)}
    assert b["holder"]["state"] == "graded" and b["holder"]["score"] == base["full"], b["holder"].get("reason")


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

