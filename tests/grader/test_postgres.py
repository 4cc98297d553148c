"""Several shards writing to ONE PostgreSQL gradebook, as on several hosts (``--shard i/n``).

The test starts its own PostgreSQL server from Debian's packages (``initdb``/``pg_ctl`` under
/usr/lib/postgresql/*/bin, run as ``nobody`` with ``runuser``, listening on a unix socket in a
scratch folder only), grades a small class as two shards, one after the other and then both at
once, and checks the gradebook. It is SKIPPED, with the reason, where it cannot run: no
PostgreSQL binaries, no ``runuser``, not root, no PostgreSQL driver for SQLAlchemy in the venv
(``psycopg``, a test extra), or a server that does not start.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest

from tests.pipeline import course as C

from .classroom import ASSIGNMENT, make_class, run_fnngrade

pytestmark = pytest.mark.pipeline


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def postgres():
    try:
        import psycopg  # noqa: F401  (SQLAlchemy's driver for postgresql:// URLs; a test extra)
    except ImportError:
        pytest.skip("no PostgreSQL driver in the venv: SQLAlchemy needs psycopg (pip package "
                    "'psycopg[binary]', in the course's test extras); the multi-host path is untested here")
    from fnngrade.grader import sandbox_selftest

    why = sandbox_selftest()
    if why:
        pytest.skip(f"the bubblewrap sandbox cannot run on this machine: {why}")
    pgbin = _pg_bin()
    if pgbin is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql: /usr/lib/postgresql/*/bin/initdb)")
    if shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("starting a private PostgreSQL needs root and runuser (to run it as 'nobody')")
    # not under pytest's tmp folder: that is private to root, and the server runs as nobody
    d = Path(tempfile.mkdtemp(prefix="fnngrade-pg-"))
    os.chmod(d, 0o755)
    data, sock = d / "data", d / "sock"
    sock.mkdir()
    shutil.chown(d, "nobody")
    shutil.chown(sock, "nobody")

    def run(*cmd):
        return subprocess.run(["runuser", "-u", "nobody", "--", *cmd], capture_output=True, text=True,
                              timeout=120)

    p = run(str(pgbin / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8")
    if p.returncode != 0:
        pytest.skip(f"initdb failed here: {p.stderr.strip()[-300:]}")
    p = run(str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(d / "log"), "-w", "-t", "60", "start",
            "-o", f"-k {sock} -c listen_addresses='' -p 54329")
    if p.returncode != 0:
        pytest.skip(f"the PostgreSQL server did not start: {(d / 'log').read_text()[-300:] if (d / 'log').exists() else p.stderr}")
    try:
        p = run(str(pgbin / "createdb"), "-h", str(sock), "-p", "54329", "-U", "grader", "fnn")
        assert p.returncode == 0, p.stderr
        yield f"postgresql://grader@/fnn?host={sock}&port=54329"
    finally:
        run(str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(d, ignore_errors=True)


def test_two_shards_one_postgres_gradebook(postgres, tmp_path):
    from nbgrader.api import Gradebook

    course = C.Course.create(tmp_path / "course", ASSIGNMENT, cell_timeout=5)
    release = course.release()
    name = f"{ASSIGNMENT}.ipynb"
    cls = make_class(course.root, C.read(release / name), C.read(C.SOLUTIONS / ASSIGNMENT / name))
    picked = ["perfect", "blank", "wrong-tanh", "os-exit", "broken-json", "no-notebook"]
    for s in picked:
        course.submit(s, cls[s][0])
    shards = {s: zlib.crc32(s.encode()) % 2 + 1 for s in picked}
    assert set(shards.values()) == {1, 2}, "the class should fall into both shards"
    common = ["--db", postgres, "--workers", "1", "--timeout", "5", "--no-progress"]
    p1 = run_fnngrade(course.root, "autograde", ASSIGNMENT, "--shard", "1/2", *common)
    assert p1.returncode == 0, p1.stderr[-3000:]
    p2 = run_fnngrade(course.root, "autograde", ASSIGNMENT, "--shard", "2/2", *common)
    assert p2.returncode == 0, p2.stderr[-3000:]
    states = {p.stem: json.loads(p.read_text())
              for p in (course.root / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json")}
    assert set(states) == set(picked)
    with Gradebook(postgres) as gb:
        for s in picked:
            sub = gb.find_submission(ASSIGNMENT, s)
            assert sub.score == pytest.approx(states[s]["score"]), s
        assert {st.id for st in gb.students} >= set(picked)
    assert states["perfect"]["score"] > states["wrong-tanh"]["score"] > states["blank"]["score"] == 0
    # both shards again, at the same time, with --force: same scores, no duplicate rows
    env_cmd = ["autograde", ASSIGNMENT, "--force", *common]
    procs = [subprocess.Popen([sys.executable, "-m", "fnngrade", *env_cmd, "--shard", f"{i}/2"], cwd=course.root,
                              env={**os.environ, "PYTHONPATH": str(C.ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
    again = {p.stem: json.loads(p.read_text())
             for p in (course.root / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json")}
    for s in picked:
        assert (again[s]["state"], again[s]["score"]) == (states[s]["state"], states[s]["score"]), (
            f"{s}: regraded as {again[s]['state']} ({again[s].get('reason')}) with {again[s]['score']}, "
            f"first graded as {states[s]['state']} with {states[s]['score']}")
    with Gradebook(postgres) as gb:
        assert len([x for x in gb.assignment_submissions(ASSIGNMENT)]) == len(picked)
        for s in picked:
            assert gb.find_submission(ASSIGNMENT, s).score == pytest.approx(states[s]["score"]), s
