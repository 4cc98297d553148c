"""Recording results in the course gradebook (SQLite or PostgreSQL) through nbgrader's API."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

__all__ = ["register_assignment", "assignment_is_current", "copy_assignment", "merge_result", "Writer", "nbgrader_env",
           "GradebookUnavailable", "retry", "registration_lock"]


class GradebookUnavailable(RuntimeError):
    """The gradebook stayed locked or unreachable for the whole bounded wait."""


class _Busy(RuntimeError):
    """A command failed because the gradebook was locked or unreachable (worth another try)."""


_BUSY_TEXT = ("database is locked", "database table is locked", "could not connect", "Connection refused",
              "could not obtain lock", "deadlock detected", "unable to open database file",
              # two runs creating a new PostgreSQL gradebook's tables at once: the loser's CREATE hits
              # the catalog's unique index; on the next try the tables exist and are not created again
              "pg_type_typname_nsp_index", "pg_class_relname_nsp_index")


def _transient(e: BaseException) -> bool:
    """A failure that waiting may cure: a lock, a lost or refused connection. Never a full disk."""
    from sqlalchemy import exc as sa

    from .files import is_disk_full

    if is_disk_full(e):
        return False
    if isinstance(e, (_Busy, sa.TimeoutError, sa.OperationalError, sa.InterfaceError)):
        return True
    if isinstance(e, sa.DBAPIError) and e.connection_invalidated:
        return True
    return any(t in str(e) for t in _BUSY_TEXT)


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300] if text else ''}"


def retry(fn, *, wait: float, what: str = "the gradebook"):
    """``fn()``, tried again (0.5 s, 1 s, 2 s, ... 5 s apart) while it fails for a reason waiting
    may cure, for at most ``wait`` seconds; then :class:`GradebookUnavailable`. Other errors are
    raised at once."""
    deadline = time.monotonic() + wait
    delay = 0.5
    while True:
        try:
            return fn()
        except Exception as e:
            if not _transient(e):
                raise
            last = e
        if time.monotonic() + delay > deadline:
            raise GradebookUnavailable(f"{what} stayed locked or unreachable for {wait:.0f} s (--db-wait): "
                                       f"{_short(last)}") from last
        time.sleep(delay)
        delay = min(2 * delay, 5.0)


def nbgrader_env(db_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["FNN_GRADEBOOK_URL"] = db_url
    # nbgrader runs `alembic` from PATH to check the gradebook's schema
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def register_assignment(root: Path, assignment: str, db_url: str, *, tries: int = 3) -> None:
    """Run ``nbgrader generate_assignment`` into a scratch release: it (re)registers the
    assignment's notebooks and cells in ``db_url`` (idempotent). Retried, because several hosts
    may register the same assignment in one PostgreSQL gradebook at the same moment."""
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force", "--log-level=WARN",
           f"--CourseDirectory.db_url={db_url}"]
    out = ""
    for attempt in range(tries):
        with tempfile.TemporaryDirectory(prefix="fnngrade-release-") as tmp:
            p = subprocess.run([*cmd, f"--CourseDirectory.release_directory={tmp}"], cwd=root,
                               env=nbgrader_env(db_url), capture_output=True, text=True)
        if p.returncode == 0:
            return
        out = p.stdout + p.stderr
        if any(t in out for t in _BUSY_TEXT):
            raise _Busy(f"nbgrader generate_assignment {assignment}: the gradebook is busy: "
                        f"{[ln for ln in out.splitlines() if any(t in ln for t in _BUSY_TEXT)][-1][:300]}")
        time.sleep(1 + attempt)
    raise RuntimeError(f"nbgrader generate_assignment {assignment} failed in {root}:\n{out[-3000:]}")


def assignment_is_current(db_url: str, root: Path, assignment: str) -> bool:
    """True if the gradebook already holds this assignment as ``solutions/<a>/`` defines it: the
    same notebooks, grade cells and points, and the same text in every graded or locked cell that
    is not an answer (the tests, hidden parts included, and the instructor's fixed cells). Answers
    are stored as stubs, so editing a solution does not need a new registration."""
    import warnings

    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Gradebook(db_url) as gb:
                a = gb.find_assignment(assignment)
                stored = {nb.name: nb for nb in a.notebooks}
                paths = sorted((root / "solutions" / assignment).glob("*.ipynb"))
                if sorted(p.stem for p in paths) != sorted(stored):
                    return False
                for p in paths:
                    nb = nbformat.read(str(p), as_version=4)
                    db = stored[p.stem]
                    src = {c.name: c for c in db.source_cells}
                    grades = {c.name: c.max_score for c in db.grade_cells}
                    want_grades, want_src, want_sol, want_task = {}, set(), set(), set()
                    for cell in nb.cells:
                        m = cell.get("metadata", {}).get("nbgrader", {})
                        gid = m.get("grade_id")
                        if not gid:
                            continue
                        if m.get("grade"):
                            want_grades[gid] = float(m.get("points", 0) or 0)
                        if m.get("solution"):
                            want_sol.add(gid)
                        if m.get("task"):
                            want_task.add(gid)
                        if m.get("grade") or m.get("solution") or m.get("locked") or m.get("task"):
                            want_src.add(gid)
                        if m.get("solution"):
                            continue
                        if (m.get("grade") or m.get("locked")) and (gid not in src or src[gid].source != cell.source):
                            return False
                    # every cell, not only the graded ones: a registration caught half-way (it removes a
                    # notebook's cells and adds them back one commit at a time) lacks some of them
                    if (want_grades != {k: float(v) for k, v in grades.items()} or want_src != set(src)
                            or want_sol != {c.name for c in db.solution_cells}
                            or want_task != {c.name for c in db.task_cells}):
                        return False
        return True
    except MissingEntry:
        return False


@contextlib.contextmanager
def registration_lock(db_url: str, *, wait: float):
    """Held while a run registers an assignment in the course gradebook and copies its definition
    out: nbgrader's registration removes a notebook's cells and adds them back one commit at a
    time, so a run reading the definition meanwhile (two sections or hosts sharing a PostgreSQL
    gradebook, two runs on one SQLite file) would grade with half of it. PostgreSQL: a session
    advisory lock; SQLite: ``flock`` on a file beside the database; other databases: no lock (the
    copied definition is still checked). Not obtained within ``wait`` seconds: :class:`_Busy`."""
    deadline = time.monotonic() + wait

    def wait_for(acquired) -> None:  # ``acquired()`` tried every 0.2 s until it is true or the wait is over
        while not acquired():
            if time.monotonic() > deadline:
                raise _Busy(f"another fnngrade run has been registering the assignment for {wait:.0f} s")
            time.sleep(0.2)

    if db_url.startswith("sqlite:///"):
        import fcntl

        path = Path(db_url[len("sqlite:///"):].split("?")[0])
        lock = path.parent / f".{path.name}.fnngrade-register.lock"
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)  # never through a link

        def flocked() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        try:
            wait_for(flocked)
            yield
        finally:
            os.close(fd)  # releases the lock
    elif db_url.startswith(("postgresql", "postgres")):
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        engine = create_engine(db_url, poolclass=NullPool)
        key = 0x666E6E67  # "fnng": one lock per database
        try:
            with engine.connect() as conn:
                wait_for(lambda: conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        finally:
            engine.dispose()
    else:
        yield


class scratch_sqlite:
    """Within this context, SQLite databases in ``folder`` (scratch copies, never the course
    gradebook) are written without fsync and without a journal file: ``synchronous=OFF``,
    ``journal_mode=MEMORY``. nbgrader commits after every row, so a fresh gradebook costs
    seconds of fsyncs otherwise."""

    def __init__(self, folder: Path):
        self.folder = os.path.realpath(folder) + os.sep

    def _connect(self, dbapi_connection, _record) -> None:
        import sqlite3

        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cur = dbapi_connection.cursor()
        try:
            files = [row[2] for row in cur.execute("PRAGMA database_list") if row[1] == "main"]
            if files and files[0] and os.path.realpath(files[0]).startswith(self.folder):
                cur.execute("PRAGMA synchronous=OFF")
                cur.execute("PRAGMA journal_mode=MEMORY")
        finally:
            cur.close()

    def __enter__(self):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "connect", self._connect)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "connect", self._connect)


def _alembic_head() -> str:
    """What nbgrader's ``get_alembic_version`` answers (the schema head it stamps on a new
    gradebook), read in this process with alembic's API instead of a ``alembic heads``
    subprocess (a Python start and nbgrader's imports: seconds on a loaded host)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    cfg = Config()
    cfg.set_main_option("script_location", ALEMBIC_DIR)
    heads = ScriptDirectory.from_config(cfg).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's database migrations have {len(heads)} heads: {heads}")
    return heads[0]


def copy_assignment(src_url: str, dst_url: str, assignment: str) -> None:
    """Copy an assignment's definition (notebooks and cells, not submissions) between gradebooks,
    in the source's order: what ``generate_assignment`` would have recorded, in a fraction of
    the time. A destination that is a SQLite file is a scratch copy: written without fsync."""
    scratch = None
    if dst_url.startswith("sqlite:///"):
        scratch = scratch_sqlite(Path(dst_url[len("sqlite:///"):]).parent)
        scratch.__enter__()
    import nbgrader.api

    stamp = nbgrader.api.get_alembic_version
    nbgrader.api.get_alembic_version = _alembic_head
    try:
        _copy_assignment(src_url, dst_url, assignment)
    finally:
        nbgrader.api.get_alembic_version = stamp
        if scratch is not None:
            scratch.__exit__(None, None, None)


def _copy_assignment(src_url: str, dst_url: str, assignment: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(src_url) as src, Gradebook(dst_url) as dst:
            a = src.find_assignment(assignment)
            dst.update_or_create_assignment(assignment, duedate=a.duedate)
            for nb in a.notebooks:
                dst.update_or_create_notebook(nb.name, assignment)
                for c in nb.grade_cells:
                    dst.update_or_create_grade_cell(c.name, nb.name, assignment, max_score=c.max_score,
                                                    cell_type=c.cell_type)
                for c in nb.solution_cells:
                    dst.update_or_create_solution_cell(c.name, nb.name, assignment)
                for c in nb.task_cells:
                    dst.update_or_create_task_cell(c.name, nb.name, assignment, max_score=c.max_score,
                                                   cell_type=c.cell_type)
                for c in nb.source_cells:
                    dst.update_or_create_source_cell(c.name, nb.name, assignment, cell_type=c.cell_type,
                                                     locked=c.locked, source=c.source, checksum=c.checksum)


def _zero_all(gb: Gradebook, assignment: str, student: str) -> None:
    sub = gb.find_submission(assignment, student)
    for nb in sub.notebooks:
        for g in nb.grades:
            g.auto_score = 0.0
            g.needs_manual_grade = False


def merge_result(db_url: str, res: dict, *, wait: float = 60.0) -> None:
    """Write one submission's result into the gradebook; idempotent, never touches manual scores.

    Graded states copy every automatic score and comment; ``missing``, ``malformed`` and a
    submission the worker could not finish get 0 for every cell (nbgrader's treatment of a missing
    notebook), so the student appears in exports with 0 and the reason is in the state file. A
    locked or unreachable gradebook (another writer, several hosts on one PostgreSQL) is retried
    for ``wait`` seconds, then :class:`GradebookUnavailable` is raised.
    """
    retry(lambda: _merge(db_url, res), wait=wait, what="the course gradebook")


class Writer:
    """:func:`merge_result` for many results in a row, through ONE open gradebook connection
    (opening nbgrader's ``Gradebook`` checks and creates its tables each time: most of a merge's
    cost). After any failure the connection is closed and the next try opens a new one."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.gb: Gradebook | None = None

    def merge(self, res: dict, *, wait: float = 60.0) -> None:
        retry(lambda: self._once(res), wait=wait, what="the course gradebook")

    def _once(self, res: dict) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.gb is None:
                self.gb = Gradebook(self.db_url)
            try:
                _merge_into(self.gb, res)
            except BaseException:
                self.close()
                raise

    def close(self) -> None:
        gb, self.gb = self.gb, None
        if gb is not None:
            try:
                gb.db.rollback()
            except Exception:
                pass
            try:
                gb.close()
            except Exception:
                pass


def _merge(db_url: str, res: dict) -> None:
    import warnings

    with warnings.catch_warnings():
        # nbgrader's add_submission triggers SQLAlchemy autoflush warnings that mean nothing here
        warnings.simplefilter("ignore")
        with Gradebook(db_url) as gb:
            _merge_into(gb, res)


def _merge_into(gb: Gradebook, res: dict) -> None:
    a, student = res["assignment"], res["student"]
    gb.update_or_create_student(student)
    try:
        sub = gb.find_submission(a, student)
    except MissingEntry:
        sub = gb.add_submission(a, student)
    if res.get("timestamp"):
        sub.timestamp = dt.datetime.fromisoformat(res["timestamp"])
    if not res.get("notebooks"):
        _zero_all(gb, a, student)
    for nbname, data in res.get("notebooks", {}).items():
        for gid, g in data["grades"].items():
            grade = gb.find_grade(gid, nbname, a, student)
            grade.auto_score = g["auto_score"]
            grade.needs_manual_grade = g["needs_manual_grade"]
        for cid, text in data.get("comments", {}).items():
            try:
                c = gb.find_comment(cid, nbname, a, student)
            except MissingEntry:
                continue
            c.auto_comment = text
    gb.db.commit()
