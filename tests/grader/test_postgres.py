"""Two grading batches at the same time into ONE PostgreSQL gradebook.

Two course roots (two sections of a course, or two instructors) hold different students of the
same assignment and share one PostgreSQL gradebook (a database of the session's server,
conftest.py). Both batches run at once (each registers the assignment, each merges its own
students through its one writer), then one is run again with ``--force``: every student is in the
gradebook once, with the score of its state file. The multi-host engine itself (a Dask cluster
writing into PostgreSQL) is tested in test_dask.py. SKIPPED, with the reason, where PostgreSQL,
root or bwrap are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.pipeline import course as C

from .classroom import ASSIGNMENT, REPO, make_class, run_fnngrade

pytestmark = pytest.mark.pipeline

SECTIONS = {"a": ["perfect", "blank", "broken-json"], "b": ["wrong-tanh", "os-exit", "no-notebook"]}


def _states(root) -> dict:
    return {r["student"]: r for p in (root / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json")
            for r in [json.loads(p.read_text())]}


def test_two_batches_at_once_into_one_postgres_gradebook(postgres, tmp_path, tmp_path_factory):
    from nbgrader.api import Gradebook

    first = C.Course.from_release(tmp_path / "a", ASSIGNMENT, tmp_path_factory, cell_timeout=5)
    release = first.exercises
    name = f"{ASSIGNMENT}.ipynb"
    cls = make_class(first.root, C.read(release / name), C.read(C.SOLUTIONS / ASSIGNMENT / name))
    shutil.rmtree(first.root / "exercises")
    shutil.copytree(first.root, tmp_path / "b", symlinks=True)
    roots = {"a": first.root, "b": tmp_path / "b"}
    for sec, students in SECTIONS.items():
        for s in students:
            folder = roots[sec] / "grading" / "submitted" / s / ASSIGNMENT
            folder.mkdir(parents=True)
            for fname, body in cls[s][0].items():
                (folder / fname).write_bytes(body if isinstance(body, bytes) else body.encode())
    common = ["--db", postgres, "--workers", "1", "--timeout", "5", "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FNN_GRADEBOOK_URL", None)
    procs = {sec: subprocess.Popen([sys.executable, "-m", "fnngrade", "autograde", ASSIGNMENT, *common],
                                   cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for sec, root in roots.items()}
    for sec, p in procs.items():
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"section {sec}:\n{out[-2000:]}\n{err[-3000:]}"
    states = {**_states(roots["a"]), **_states(roots["b"])}
    assert set(states) == set(SECTIONS["a"]) | set(SECTIONS["b"])
    assert states["perfect"]["score"] > states["wrong-tanh"]["score"] > states["blank"]["score"] == 0
    assert states["broken-json"]["state"] == "malformed" and states["no-notebook"]["state"] == "missing"
    again = run_fnngrade(roots["a"], "autograde", ASSIGNMENT, "--force", *common)
    assert again.returncode == 0, again.stderr[-3000:]
    regraded = _states(roots["a"])
    for s in SECTIONS["a"]:
        assert (regraded[s]["state"], regraded[s]["score"]) == (states[s]["state"], states[s]["score"]), s
    with Gradebook(postgres) as gb:
        rows = [x.student.id for x in gb.assignment_submissions(ASSIGNMENT)]
        assert sorted(rows) == sorted(states), rows
        for s, r in states.items():
            assert gb.find_submission(ASSIGNMENT, s).score == pytest.approx(r["score"]), s
