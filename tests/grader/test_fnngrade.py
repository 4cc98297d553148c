"""fnngrade on an adversarial class: sandbox, robust states, scores, parallel = serial, resume.

One scratch course root, one assignment (01-neuron-activations), ~37 generated submissions graded
ONCE by ``python -m fnngrade autograde`` on 2 workers with a 5 s cell timeout; a few of them are
graded again serially in a second course root to compare scores. See classroom.py for the class:
cheats inside the kernel, and attacks on what surrounds the jail (forged results, links and FIFOs
in the submission, a kernel that replaces its files and sockets by links, 200,000 files, 720 MB
in the working folder, odd ids), with sentinel files outside the course root that nothing may
read, change or copy.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from nbgrader.api import Gradebook

from fnngrade.grader import STATES
from tests.pipeline import course as C

from fnngrade.files import hash_tree, state_name

from .classroom import (ASSIGNMENT, LONG_ID, NEWLINE_ID, NON_UTF8_ID, Expect, link_folder, make_attacks, make_class,
                        make_sentinels, run_fnngrade, sentinel_state)

pytestmark = pytest.mark.pipeline

CELL_TIMEOUT = 5
MAX_CHARS = 20_000
NPROC = 64
CWD_MB = 64
COMMON = ["--timeout", str(CELL_TIMEOUT), "--max-output-chars", str(MAX_CHARS), "--mem-mb", "2048",
          "--nproc", str(NPROC), "--cpu", "120", "--cwd-mb", str(CWD_MB), "--no-progress"]


def _setup(root, tmp_path_factory):
    course = C.Course.from_release(root, ASSIGNMENT, tmp_path_factory, cell_timeout=CELL_TIMEOUT)
    release = course.exercises
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
    host = tmp_path_factory.mktemp("fnngrade-host")
    sentinels = make_sentinels(host)
    course, source_nb, release_nb = _setup(root, tmp_path_factory)
    cls = make_class(root, release_nb, source_nb)
    for student, (files, _) in cls.items():
        course.submit(student, files)
    attacks = make_attacks(root, release_nb, source_nb, sentinels)
    for student, att in attacks.items():
        folder = course.submit(student, att.files)
        if att.setup:
            att.setup(folder)
    link_folder(root, "linked-folder", "perfect")
    expect = {s: e for s, (_, e) in cls.items()}
    expect.update({s: a.expect for s, a in attacks.items()})
    expect["linked-folder"] = Expect("malformed", "zero", "the assignment folder is a link to a classmate's")
    before = {"sentinels": sentinel_state(sentinels),
              "perfect": hash_tree(root / "grading" / "submitted" / "perfect" / ASSIGNMENT)}
    proc = run_fnngrade(root, "autograde", ASSIGNMENT, "--workers", "2", *COMMON)
    states = {}
    for p in (root / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json"):
        r = json.loads(p.read_text())
        states[r["student"]] = r
        assert p.stem == state_name(r["student"])
    tests = {C.grade_id(c): C.points(c) for c in source_nb.cells if C.is_test(c)}
    return {"root": root, "course": course, "class": cls, "expect": expect, "proc": proc, "states": states,
            "full": sum(tests.values()), "tests": tests, "source": source_nb, "release": release_nb,
            "sentinels": sentinels, "before": before}


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
    missing = set(graded["expect"]) - set(graded["states"])
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
    # attacks on what surrounds the jail (classroom.make_attacks)
    "forge", "symlinked-notebook", "fifo-notebook", "links-in-folder", "kernel-vandal", "linked-folder", LONG_ID,
    NEWLINE_ID, NON_UTF8_ID,
], ids=lambda s: repr(s) if not s.isprintable() or len(s) > 40 else s)
def test_state_and_score(graded, student):
    expect = graded["expect"][student]
    r = graded["states"][student]
    assert r["state"] == expect.state, f"{student!r}: {r['state']} ({r.get('reason')}), expected {expect.state}"
    kind = expect.score
    if kind == "absent":  # an id the gradebook cannot hold: kept in the state file only
        assert r["merged"] is None and r["score"] == 0
        with Gradebook(graded["course"].db_url) as gb:
            assert not [s.id for s in gb.students if "latin1" in s.id]
        return
    assert r["merged"] is True, f"{student!r}: not merged into the gradebook ({r.get('merge_error')})"
    score, full = _auto_score(graded, student), graded["full"]
    assert r["score"] == pytest.approx(score), f"{student!r}: state file and gradebook disagree"
    blank = _auto_score(graded, "blank")
    if kind == "full":
        assert score == full, f"{student!r}: {score}/{full}, expected every automatic point ({r.get('reason')})"
    elif kind == "zero":
        assert score == 0, f"{student!r}: {score}/{full}, expected 0"
    elif kind.startswith("full-minus:"):
        assert score == full - float(kind.split(":")[1]), f"{student!r}: {score}/{full}, expected {kind}"
    elif kind == "below-full":
        assert score < full, f"{student!r}: {score}/{full}, expected to lose points"
    elif kind == "<=blank":
        assert score <= blank, f"{student!r}: a cheat scored {score}, an honest blank scores {blank}"
    else:
        raise AssertionError(f"unknown expectation {kind!r}")


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


def _walk_no_follow(top):
    """(path, lstat) of everything under ``top``, links not followed."""
    import os

    out = []
    for d, dirs, files in os.walk(top, followlinks=False):
        for n in dirs + files:
            p = os.path.join(d, n)
            out.append((p, os.lstat(p)))
    return out


def test_no_host_file_read_changed_or_copied(graded):
    """Sentinels outside the course root keep content, mode and mtime; nothing graded holds
    their bytes, a link or a hard link; the classmate's submission and the gradebook are intact."""
    import stat

    from fnngrade.files import hash_tree

    from .classroom import sentinel_state

    assert sentinel_state(graded["sentinels"]) == graded["before"]["sentinels"]
    root = graded["root"]
    assert hash_tree(root / "grading" / "submitted" / "perfect" / ASSIGNMENT) == graded["before"]["perfect"]
    for p, st in _walk_no_follow(root / "grading" / "autograded"):
        assert not stat.S_ISLNK(st.st_mode), f"a link in the autograded folders: {p}"
        if stat.S_ISREG(st.st_mode):
            assert st.st_nlink == 1, f"a hard link in the autograded folders: {p}"
            if st.st_size < 2**20:
                with open(p, "rb") as fh:
                    assert b"-7f3a9c" not in fh.read(), f"a host file's bytes were copied into {p}"
    con = sqlite3.connect(root / "grading" / "gradebook.db")
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_forged_results_earn_nothing(graded):
    """The kernel wrote forged result lines on every descriptor it has (none leads to the
    orchestrator) and 300 MB without a newline on stdout: the forger scores like a blank, the
    classmate it named keeps every point, the batch completed (test_the_batch_completes...)."""
    out = _outputs(graded, "forge")
    line = [ln for ln in out.splitlines() if ln.startswith("FORGED-ON")]
    assert line, "the forging code did not run to the end:\n" + out[:2000]
    hit = eval(line[0].split(" ", 1)[1])
    targets = {t for _, t in hit}
    assert "/dev/null" in targets, f"the kernel's stdout is not /dev/null: {targets}"
    # had any descriptor led to a worker's result pipe, the orchestrator would have dropped the
    # forged lines as unsigned and said so in its summary
    assert "were ignored" not in graded["proc"].stdout, graded["proc"].stdout[-2000:]
    assert _auto_score(graded, "perfect") == graded["full"]
    assert graded["states"]["forge"]["autograded"].endswith(f"/forge/{ASSIGNMENT}")


def test_links_fifos_and_devices_in_the_submission_are_dropped(graded):
    r = graded["states"]["links-in-folder"]
    for word in ("symbolic link", "hard link", "FIFO", "socket"):
        assert word in r["reason"], f"{word!r} not in the reason: {r['reason']}"
    out = _outputs(graded, "links-in-folder")
    listed = [ln for ln in out.splitlines() if ln.startswith("LISTDIR")]
    assert listed and eval(listed[0].split(" ", 1)[1]) == ["data"], out[:1000]
    # the kernel worked in the worker's throwaway folder (a tmpfs in the jail: kernel/j<n> for a
    # kernel started for its job, kernel/p<n> for one prestarted during the previous job), never
    # in the autograded folder that nbgrader writes and chmods
    cwd = [ln.split(" ", 1)[1] for ln in out.splitlines() if ln.startswith("CWD ")]
    assert cwd and ("/kernel/j" in cwd[0] or "/kernel/p" in cwd[0]) and "autograded" not in cwd[0], cwd
    ag = _autograded_nb(graded, "links-in-folder").parent
    assert sorted(p.name for p in ag.iterdir()) == sorted([f"{ASSIGNMENT}.ipynb", "data"])
    assert [p.name for p in (ag / "data").iterdir()] == ["kept.csv"]
    for s in ("symlinked-notebook", "fifo-notebook"):
        reason = graded["states"][s]["reason"]
        assert "symbolic link" in reason or "FIFO" in reason, reason
    assert "symbolic link" in graded["states"]["linked-folder"]["reason"]


def test_kernel_links_in_its_folders_are_never_followed(graded):
    """The kernel replaced its files by links to the gradebook, a classmate's notebook, the
    solution and host files, and its connection file and sockets by a folder and links: nothing
    outside changed (test_no_host_file_read_changed_or_copied), every classmate graded after it on
    the same worker was graded right (test_state_and_score), its autograded folder is root's."""
    out = _outputs(graded, "kernel-vandal")
    assert "KERNEL-LINKS-DONE" in out, out[:2000]
    ag = _autograded_nb(graded, "kernel-vandal").parent
    assert sorted(p.name for p in ag.iterdir()) == [f"{ASSIGNMENT}.ipynb"]


def test_working_folder_is_bounded_and_never_copied_back(graded):
    out = _outputs(graded, "kernel-vandal")
    mb = [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("CWD-WROTE-MB")]
    assert mb and mb[0] <= CWD_MB, out[:1000]
    assert "CWD-FULL" in out
    counts = [int(ln.split()[2]) for ln in out.splitlines() if ln.startswith("MANY-FILES")]
    assert counts and counts[-1] >= 200_000, out[:1000]
    assert _autograded_nb(graded, "kernel-vandal").stat().st_size < 10 * MAX_CHARS + 200_000


def test_a_submission_of_200000_files_is_bounded(graded):
    from fnngrade.files import FileLimits

    r = graded["states"][NEWLINE_ID]
    assert r["copied"]["files"] <= FileLimits().max_files, r["copied"]
    assert "were not used" in r["reason"]
    ag = _autograded_nb(graded, NEWLINE_ID).parent
    assert len(list(ag.iterdir())) <= FileLimits().max_files + 1


def test_odd_ids(graded):
    """A 251-character id and a newline in an id are graded and merged (state files named by a
    hash); an id that is not UTF-8 is reported, not merged, and stops nothing."""
    import os

    base = graded["root"] / "grading" / ".fnngrade" / ASSIGNMENT / "state"
    for sid in (LONG_ID, NEWLINE_ID, NON_UTF8_ID):
        name = state_name(sid)
        assert name.startswith("~") and len(name) < 64 and (base / f"{name}.json").is_file()
    r = graded["states"][NON_UTF8_ID]
    assert "UTF-8" in r["reason"] and r["student_bytes"] == os.fsencode(NON_UTF8_ID).hex()
    assert (graded["root"] / "grading" / "autograded" / LONG_ID / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert (graded["root"] / "grading" / "autograded" / NEWLINE_ID / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def test_kernel_uids_and_scratch(graded):
    """Kernels ran as leased uids (two per worker: the next submission's kernel starts while the
    current one runs, as the other uid); the run removed its scratch folders."""
    uids = {r.get("uid") for r in graded["states"].values() if r.get("worker") is not None and r.get("uid")}
    assert uids and all(u >= 64000 for u in uids) and len(uids) <= 4, uids
    assert not list((graded["root"] / "grading" / ".fnngrade" / ASSIGNMENT).glob("workers*"))


def test_summary_csv(graded):
    import csv

    rows = list(csv.DictReader((graded["root"] / "grading" / f"summary-{ASSIGNMENT}.csv").open()))
    states = {r["name"]: int(r["count"]) for r in rows if r["section"] == "state"}
    want = {}
    for e in graded["expect"].values():
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
    storable = [s for s in graded["expect"] if s != NON_UTF8_ID]
    assert n == len(storable), f"{n} submissions in the gradebook after a re-run, expected {len(storable)}"
    # only the one submission without a state was graded again
    assert {p.name: p.stat().st_mtime_ns for p in statefile.parent.glob("*.json") if p != statefile} == others


def test_killed_serial_run_resumes_and_equals_parallel(graded, tmp_path_factory):
    root = tmp_path_factory.mktemp("fnngrade-serial")
    course, _, _ = _setup(root, tmp_path_factory)
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

    def graded_when():  # a result graded again would get a new "finished" time and "seconds"
        return {p.name: (r["finished"], r["seconds"]) for p in state.glob("*.json")
                for r in [json.loads(p.read_text())]}

    done_first = graded_when()
    assert 1 <= len(done_first) < len(picked), f"the killed run recorded {len(done_first)} submissions"
    # the killed run left its scratch: worker roots and a socket folder in /tmp
    left = list((root / "grading" / ".fnngrade" / ASSIGNMENT).glob("workers*"))
    assert len(left) == 1
    sockets = (left[0] / ".sockets").read_text().strip()
    assert os.path.isdir(sockets)
    # ... then the run that resumes: it grades only what is left, and removes that scratch
    proc = run_fnngrade(root, "autograde", ASSIGNMENT, "--workers", "1", *COMMON)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {k: v for k, v in graded_when().items() if k in done_first} == done_first
    assert len(list(state.glob("*.json"))) == len(picked)
    assert not left[0].exists() and not os.path.exists(sockets)
    assert "removed 1 scratch folder" in proc.stdout
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


def test_a_half_registered_assignment_is_not_current_and_registration_is_exclusive(graded, tmp_path):
    """nbgrader registers a notebook by removing its cells and adding them back one commit at a time:
    a gradebook read half-way (another section's run registering into a shared PostgreSQL gradebook)
    lacks cells, must not count as current, and a run copies the definition only under the lock."""
    import sqlite3

    from fnngrade.gradebook import _Busy, assignment_is_current, registration_lock

    root = tmp_path / "copy"
    shutil.copytree(graded["root"] / "solutions", root / "solutions")
    (root / "grading").mkdir()
    db = root / "grading" / "gradebook.db"
    shutil.copy(graded["root"] / "grading" / "gradebook.db", db)
    url = f"sqlite:///{db}"
    assert assignment_is_current(url, root, ASSIGNMENT)
    for table, name in (("source_cell", "part2a_task"), ("solution_cells", "tanh_grad"), ("grade_cells", "test_tanh_grad")):
        half = tmp_path / f"half-{table}.db"
        shutil.copy(db, half)
        with sqlite3.connect(half) as con:
            if table == "source_cell":
                assert con.execute("DELETE FROM source_cell WHERE name = ?", (name,)).rowcount == 1, name
            else:  # nbgrader's grade and solution cells: a row of base_cell and one of their own table
                ids = [r[0] for r in con.execute(f"SELECT id FROM {table} JOIN base_cell USING (id) WHERE name = ?",
                                                 (name,))]
                assert len(ids) == 1, (table, name, ids)
                con.execute(f"DELETE FROM {table} WHERE id = ?", ids)
                con.execute("DELETE FROM base_cell WHERE id = ?", ids)
        assert not assignment_is_current(f"sqlite:///{half}", root, ASSIGNMENT), f"{table} {name} missing, yet current"
    with registration_lock(url, wait=5):
        with pytest.raises(_Busy, match="registering"):
            with registration_lock(url, wait=0.5):
                pass
    with registration_lock(url, wait=0.5):  # released
        pass
