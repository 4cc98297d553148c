"""Fixtures shared by the grader's tests: one private PostgreSQL server per test session.

The server is started from Debian's packages (``initdb``/``pg_ctl`` under
/usr/lib/postgresql/*/bin, run as ``nobody`` with ``runuser``, listening on a unix socket in a
scratch folder only); each test that needs a gradebook gets a database of its own on it
(:func:`postgres`). SKIPPED, with the reason and the way to enable it, where it cannot run: no
PostgreSQL binaries, no ``runuser``, not root, no bwrap, no PostgreSQL driver for SQLAlchemy in
the venv (``psycopg``, a test extra), or a server that does not start.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_PORT = 54329
ENABLE = ("run as root on a host with bubblewrap and PostgreSQL: apt-get install bubblewrap postgresql, "
          "then .venv/bin/pip install -e '.[instructor,test]' and .venv/bin/pytest tests/grader")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def pg_server():
    """``new_database(name) -> SQLAlchemy URL`` on a PostgreSQL server of this session."""
    try:
        import psycopg  # noqa: F401  (SQLAlchemy's driver for postgresql:// URLs; a test extra)
    except ImportError:
        pytest.skip("no PostgreSQL driver in the venv: SQLAlchemy needs psycopg (pip package "
                    f"'psycopg[binary]', in the course's test extras); to enable: {ENABLE}")
    from fnngrade.grader import sandbox_selftest

    why = sandbox_selftest()
    if why:
        pytest.skip(f"the bubblewrap sandbox cannot run on this machine: {why}; to enable: {ENABLE}")
    pgbin = _pg_bin()
    if pgbin is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql: /usr/lib/postgresql/*/bin/initdb); "
                    f"to enable: {ENABLE}")
    if shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip(f"starting a private PostgreSQL needs root and runuser (to run it as 'nobody'); to enable: {ENABLE}")
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
            "-o", f"-k {sock} -c listen_addresses='' -p {PG_PORT}")
    if p.returncode != 0:
        log = (d / "log").read_text()[-300:] if (d / "log").exists() else p.stderr
        pytest.skip(f"the PostgreSQL server did not start: {log}")
    made = itertools.count(1)

    def new_database(prefix: str = "fnn") -> str:
        name = f"{prefix}{next(made)}"
        p = run(str(pgbin / "createdb"), "-h", str(sock), "-p", str(PG_PORT), "-U", "grader", name)
        assert p.returncode == 0, p.stderr
        return f"postgresql://grader@/{name}?host={sock}&port={PG_PORT}"

    try:
        yield new_database
    finally:
        run(str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def postgres(pg_server):
    """A new, empty PostgreSQL database for one test."""
    return pg_server()
