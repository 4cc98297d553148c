"""The orchestrator: submissions -> Dask tasks -> state files -> course gradebook -> summary.

The orchestrator is the Dask client (:mod:`fnngrade.engine`): it submits one task per submission
to a local cluster of worker processes or to a running cluster (``--scheduler``), and records each
result as it arrives; it is the only writer of state files, autograded folders and the course
gradebook. On each Dask worker process a grading host runs one fnngrade worker
(:mod:`fnngrade.worker`) and takes only results that come on that worker's pipe signed with this
run's secret, for the job that worker is doing now (:class:`ResultReader`, :func:`classify`).
What the orchestrator trusts: its own list of submissions (folders under
``grading/submitted/*/<assignment>/``, never followed through a link), and task results signed
with the run's secret for the job it submitted, whose fields it checks one by one. It never takes
a path from a result: it knows which student each job is for, and the autograded files come back
as bytes whose names are checked. It survives any one submission: every exception while handling
one becomes that submission's ``crashed`` state with the reason; a disk that is full stops the
batch cleanly (exit status 3) with everything recorded so far kept; a gradebook that stays locked
past ``--db-wait`` seconds leaves results in their state files, merged by the next run.
"""
from __future__ import annotations

import csv
import errno
import fcntl
import json
import os
import queue
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .files import FileLimits, NotAFolder, copy_tree, display_id, hash_tree, is_disk_full, state_name
from .sandbox import Limits, bwrap_argv, bwrap_path

__all__ = ["Options", "STATES", "EXIT_DISK_FULL", "autograde", "write_summary", "sandbox_selftest",
           "submission_budget", "ResultReader", "classify", "UidLease", "clean_stale_scratch", "list_submissions"]

STATES = ("graded", "timed out", "crashed", "malformed", "missing")
EXIT_DISK_FULL = 3
UID_LEASE_DIRS = ("/run/fnngrade/kernel-uids", "/var/lock/fnngrade-kernel-uids")


@dataclass
class Options:
    root: Path
    assignment: str
    workers: int = 0
    sandboxed: bool = True
    db_url: str | None = None
    timeout: int = 60
    force: bool = False
    retry_failed: bool = False
    scheduler: str | None = None     # a running Dask scheduler (default: a local cluster)
    security: object = None          # distributed.Security for --scheduler tls://...
    students: list[str] | None = None
    max_output_chars: int = 10_000
    interrupt_grace: int = 5
    submission_timeout: float | None = None
    uid_base: int = 64000
    limits: Limits = field(default_factory=Limits)
    progress: bool = True
    remote_tests: bool = True
    reregister: bool = False
    file_limits: FileLimits = field(default_factory=FileLimits)
    db_wait: float = 60.0
    prestart: bool = True            # start the next submission's kernel while the current one runs


def default_db_url(root: Path) -> str:
    return os.environ.get("FNN_GRADEBOOK_URL", "sqlite:///" + str(root / "grading" / "gradebook.db"))


def submission_budget(o: Options) -> float:
    """Seconds one submission may take before its kernel is stopped: ``--submission-timeout``, by
    default 300 s, or three cell timeouts and a minute when that is longer."""
    if o.submission_timeout:
        return float(o.submission_timeout)
    return max(300.0, 3.0 * (o.timeout + o.interrupt_grace) + 60.0)


def sandbox_selftest() -> str | None:
    """None if bwrap can build the jail here, else why not."""
    if bwrap_path() is None:
        return "bwrap is not installed (Debian package 'bubblewrap')"
    if os.geteuid() != 0:
        return ("the jail runs each kernel as its own unprivileged uid (so that RLIMIT_NPROC holds), "
                "which needs the grader to run as root")
    with tempfile.TemporaryDirectory(prefix="fg-selftest-") as d:
        argv = bwrap_argv(uid=64000, sockbase=d, limits=Limits())
        cut = argv.index("--bind")
        while argv[cut + 1] != "{sockdir}":
            cut = argv.index("--bind", cut + 1)
        cmd = argv[:cut] + ["--perms", "1777", "--size", str(2**20), "--tmpfs", "/.selftest", "--chdir", "/", "/bin/true"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bwrap failed to start: {e}"
        if p.returncode != 0:
            return f"bwrap cannot build the jail here: {p.stderr.strip()[:300]}"
    return None


# --------------------------------------------------------------------------------------------
# the result channel


class ResultReader:
    """Signed lines from one worker's result pipe, read without blocking, in bounded memory.

    A line is ``<hex HMAC-SHA256(secret, body)> <JSON object>``. A line longer than ``max_line``
    is dropped as it arrives (never held whole); a line with a wrong signature, or that is not a
    JSON object, is dropped. Dropped lines are counted and their first bytes kept in ``notes``."""

    def __init__(self, fd: int, secret: bytes, max_line: int):
        from .worker import sign

        self.fd, self.secret, self.max_line, self._sign = fd, secret, max_line, sign
        os.set_blocking(fd, False)
        self.buf = bytearray()
        self.skipping = False
        self.eof = False
        self.rejected = 0
        self.notes: list[str] = []

    def _reject(self, why: str, head: bytes) -> None:
        self.rejected += 1
        if len(self.notes) < 20:
            self.notes.append(f"{why}: {bytes(head[:80])!r}")

    def read(self) -> list[dict]:
        out: list[dict] = []
        while True:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self._feed(chunk, out)
            if len(chunk) < 1 << 20:
                break
        return out

    def _feed(self, chunk: bytes, out: list[dict]) -> None:
        start = 0
        while start < len(chunk):
            nl = chunk.find(b"\n", start)
            piece = chunk[start:] if nl < 0 else chunk[start:nl]
            if self.skipping:
                if nl >= 0:
                    self.skipping = False
            elif len(self.buf) + len(piece) > self.max_line:
                self._reject(f"a line longer than {self.max_line} bytes", bytes(self.buf[:80]) or piece[:80])
                self.buf.clear()
                self.skipping = nl < 0
            else:
                self.buf += piece
                if nl >= 0:
                    msg = self._parse(bytes(self.buf))
                    self.buf.clear()
                    if msg is not None:
                        out.append(msg)
            if nl < 0:
                break
            start = nl + 1

    def _parse(self, line: bytes) -> dict | None:
        import hmac

        mac, _, body = line.partition(b" ")
        if not hmac.compare_digest(mac, self._sign(self.secret, body)):
            self._reject("a line without this run's signature", line)
            return None
        try:
            msg = json.loads(body)
        except ValueError:
            self._reject("a signed line that is not JSON", line)
            return None
        if not isinstance(msg, dict):
            self._reject("a signed line that is not a JSON object", line)
            return None
        return msg


# --------------------------------------------------------------------------------------------
# kernel uids: leased per run on this host


def _running_uids() -> set[int]:
    uids = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Uid:"):
                        uids.update(int(x) for x in line.split()[1:3])
                        break
        except OSError:
            continue
    return uids


class UidLease:
    """``n`` kernel uids from ``base`` on, held for this run only.

    Each uid is a lock file ``<dir>/<uid>`` held with ``flock`` for the life of the run (the
    kernel releases it when the process ends, however it ends); a uid is skipped if another run
    holds it, if a process runs as it (a kernel of a run that was killed), or if it is an account
    in the password database. Two runs on one host (two assignments, two Dask worker processes) therefore never
    share a uid."""

    def __init__(self, base: int, n: int, *, span: int = 4096, dirs: tuple[str, ...] = UID_LEASE_DIRS):
        import pwd

        self.dir = self._lock_dir(dirs)
        self.uids: list[int] = []
        self._fds: list[int] = []
        busy = _running_uids()
        for uid in range(base, base + span):
            if len(self.uids) == n:
                break
            if uid in busy:
                continue
            try:
                pwd.getpwuid(uid)
                continue
            except KeyError:
                pass
            fd = os.open(os.path.join(self.dir, str(uid)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if uid in _running_uids():
                os.close(fd)
                continue
            self.uids.append(uid)
            self._fds.append(fd)
        if len(self.uids) < n:
            self.release()
            raise RuntimeError(f"only {len(self.uids)} free kernel uids in {base}..{base + span - 1} "
                               f"(leased in {self.dir}); give another --uid-base")

    @staticmethod
    def _lock_dir(dirs: tuple[str, ...]) -> str:
        for d in dirs:
            try:
                os.makedirs(d, 0o700, exist_ok=True)
                st = os.lstat(d)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not stat.S_IMODE(st.st_mode) & 0o022:
                return d
        raise RuntimeError(f"no folder for the kernel uid leases: tried {', '.join(dirs)}")

    def release(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []


# --------------------------------------------------------------------------------------------
# scratch folders of a run


class Scratch:
    """This run's scratch: ``<base>/workers<tag>-XXXX/`` (worker roots) and a short socket folder
    ``/tmp/fnngrade-XXXX/`` (unix socket paths are limited to 108 bytes), recorded in the first.
    A lock file held for the run tells :func:`clean_stale_scratch` that it is alive."""

    def __init__(self, o: Options, base: Path):
        self.dir = Path(tempfile.mkdtemp(prefix=f"workers@{_host()}-", dir=base))
        self._lock = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.sockets = tempfile.mkdtemp(prefix="fnngrade-")
        (self.dir / ".sockets").write_text(self.sockets)

    def worker_root(self, o: Options, k: int) -> Path:
        r = self.dir / f"w{k}"
        (r / "grading").mkdir(parents=True)
        shutil.copy(o.root / "nbgrader_config.py", r / "nbgrader_config.py")
        shutil.copytree(o.root / "solutions" / o.assignment, r / "solutions" / o.assignment)
        return r

    def sockbase(self, k: int) -> str:
        d = os.path.join(self.sockets, f"w{k}")
        os.makedirs(d, 0o700, exist_ok=True)
        return d

    def remove(self) -> None:
        shutil.rmtree(self.sockets, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.close(self._lock)


def _host() -> str:
    import socket

    name = "".join(c for c in socket.gethostname() if c.isalnum() or c in "._-")[:40]
    return name or "host"


def clean_stale_scratch(base: Path, *, min_age: float = 60.0) -> list[str]:
    """Remove the scratch folders of runs on this host that are no longer alive (killed,
    crashed); return them.

    A run's folder (``workers@<host>-XXXX``, one per grading host process) is alive while its lock file is locked; one
    without a lock file is removed once it is ``min_age`` seconds old (a run creates the lock
    right after the folder). Folders of other hosts (a course root shared between hosts) are left
    alone; folders of earlier fnngrade versions (no ``@host``) are removed after an hour."""
    removed = []
    mine = f"@{_host()}-"
    for d in sorted(base.glob("workers*")):
        age = min_age
        if mine not in d.name:
            if "@" in d.name:
                continue
            age = max(min_age, 3600.0)
        try:
            st = os.lstat(d)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        try:
            fd = os.open(d / ".lock", os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            if time.time() - st.st_mtime < age:
                continue
            fd = None
        except OSError:
            continue
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a live run
            try:
                sockets = (d / ".sockets").read_text().strip()
            except OSError:
                sockets = ""
            tmp = tempfile.gettempdir()
            if sockets and os.path.dirname(sockets) == tmp and os.path.basename(sockets).startswith("fnngrade-"):
                try:
                    sst = os.lstat(sockets)
                    if stat.S_ISDIR(sst.st_mode) and sst.st_uid == os.geteuid():
                        shutil.rmtree(sockets, ignore_errors=True)
                except OSError:
                    pass
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
        finally:
            if fd is not None:
                os.close(fd)
    return removed


# --------------------------------------------------------------------------------------------
# submissions


@dataclass
class Submission:
    student: str                     # the folder name (os.fsdecode: not-UTF-8 bytes kept as surrogates)
    path: Path                       # grading/submitted/<student>/<assignment>
    problem: tuple[str, str] | None = None   # (state, reason) decided without running anything
    digest: str | None = None


def list_submissions(root: Path, assignment: str) -> list[Submission]:
    """Every ``grading/submitted/<id>/<assignment>`` entry, looked at with ``lstat`` only."""
    subdir = root / "grading" / "submitted"
    out = []
    try:
        entries = sorted(os.listdir(subdir), key=os.fsencode)
    except FileNotFoundError:
        return []
    for name in entries:
        if name.startswith("."):
            continue
        top = subdir / name
        path = top / assignment
        try:
            st_top = os.lstat(top)
            if stat.S_ISLNK(st_top.st_mode):
                if not os.path.isdir(path):
                    continue
                out.append(Submission(name, path, ("malformed", f"the student folder {display_id(name)} is a "
                                                   "symbolic link; it is not followed")))
                continue
            if not stat.S_ISDIR(st_top.st_mode):
                continue
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            out.append(Submission(name, path, ("crashed", f"cannot look at the submission: {e}")))
            continue
        sub = Submission(name, path)
        if stat.S_ISLNK(st.st_mode):
            sub.problem = ("malformed", f"{assignment} is a symbolic link, not a folder; it is not followed")
        elif not stat.S_ISDIR(st.st_mode):
            sub.problem = ("malformed", f"{assignment} is not a folder")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            sub.problem = ("crashed", f"the folder name {display_id(name)} is not valid UTF-8, and the gradebook "
                                      "stores student ids as text: rename the folder (e.g. to its UTF-8 spelling) "
                                      "and run again; nothing was graded")
        out.append(sub)
    return out


def _state_path(base: Path, student: str) -> Path:
    return base / "state" / f"{state_name(student)}.json"


def _read_state(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_state(path: Path, res: dict) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w") as fh:
            fh.write(json.dumps(res, indent=1))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _score(res: dict) -> tuple[float, float]:
    score = total = 0.0
    for nb in res.get("notebooks", {}).values():
        for g in nb["grades"].values():
            total += g["max_score"] or 0
            score += g["auto_score"] or 0
    return score, total


# --------------------------------------------------------------------------------------------
# the gradebook: merges in a thread of their own, with a bounded wait


class Stop(Exception):
    """The batch cannot go on (a full disk)."""


class Merger(threading.Thread):
    """Merges results into the course gradebook one at a time, in order, off the main loop.

    A merge that keeps failing for ``wait`` seconds (a locked gradebook) leaves the result in its
    state file with ``merged: false``; later results are then not tried until the end of the run,
    when the pending ones get one more bounded try; what is still pending is merged by the next
    run. A full disk sets ``fatal``."""

    def __init__(self, db_url: str, wait: float):
        super().__init__(daemon=True, name="fnngrade-merger")
        self.db_url, self.wait = db_url, wait
        self.q: queue.Queue = queue.Queue()
        self.pending: list[tuple[Path, dict]] = []
        self.blocked: str | None = None   # why merging stopped (the gradebook was unavailable)
        self.fatal: str | None = None
        self.merged = 0
        self.writer = None

    def put(self, statefile: Path, res: dict) -> None:
        self.q.put((statefile, res))

    def run(self) -> None:
        from .gradebook import Writer

        self.writer = Writer(self.db_url)
        try:
            while True:
                item = self.q.get()
                try:
                    if item is None:
                        return
                    self._one(*item)
                finally:
                    self.q.task_done()
        finally:
            self.writer.close()

    def _one(self, statefile: Path, res: dict) -> None:
        from .gradebook import GradebookUnavailable

        if self.blocked or self.fatal:
            self.pending.append((statefile, res))
            return
        try:
            self.writer.merge(res, wait=self.wait)
        except GradebookUnavailable as e:
            self.blocked = str(e)
            self._keep(statefile, res, str(e))
            self.pending.append((statefile, res))
            return
        except Exception as e:
            if is_disk_full(e):
                self.fatal = f"the gradebook could not be written: the disk is full ({e})"
            self._keep(statefile, res, f"{type(e).__name__}: {e}")
            if not is_disk_full(e):
                res["merge_error"] = f"{type(e).__name__}: {e}"
            return
        res["merged"] = True
        res.pop("merge_error", None)
        self.merged += 1
        try:
            _write_state(statefile, res)
        except OSError as e:
            if is_disk_full(e):
                self.fatal = f"a state file could not be written: the disk is full ({e})"

    def _keep(self, statefile: Path, res: dict, why: str) -> None:
        res["merged"] = False
        res["merge_error"] = why[:500]
        try:
            _write_state(statefile, res)
        except OSError as e:
            if is_disk_full(e):
                self.fatal = f"a state file could not be written: the disk is full ({e})"

    def flush(self) -> None:
        self.q.join()

    def finish(self) -> None:
        """Wait for the queue, then give the pending results one more bounded try; stop the thread."""
        self.flush()
        if self.pending and not self.fatal:
            todo, self.pending, self.blocked = self.pending, [], None
            for statefile, res in todo:
                self.put(statefile, res)
            self.flush()
        self.q.put(None)
        self.join()


# --------------------------------------------------------------------------------------------
# workers


class _Worker:
    def __init__(self, k: int, root: Path, settings: dict, log: Path, secret: bytes):
        self.k, self.root, self.settings, self.logpath, self.secret = k, root, settings, log, secret
        self.job: dict | None = None
        self.sub: Submission | None = None
        self.started = 0.0
        self.ready = False
        self.spawn()

    def spawn(self) -> None:
        from .worker import MAX_LINE

        env = dict(os.environ)
        here = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        self.log = open(self.logpath, "ab")
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fnngrade.worker", "--fds", f"{req_r},{res_w}", json.dumps(self.settings)],
                cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                pass_fds=(req_r, res_w), start_new_session=True)
        finally:
            os.close(req_r)
            os.close(res_w)
        self.req = os.fdopen(req_w, "wb")
        self.reader = ResultReader(res_r, self.secret, MAX_LINE)
        self.req.write(self.secret.hex().encode() + b"\n")
        self.req.flush()
        self.ready = False

    def send(self, job: dict, sub: Submission) -> None:
        self.job, self.sub = job, sub
        self.started = time.monotonic()
        self.req.write(json.dumps(job).encode() + b"\n")
        self.req.flush()

    def _close_pipes(self) -> None:
        for f in (self.req,):
            try:
                f.close()
            except OSError:
                pass
        try:
            os.close(self.reader.fd)
        except OSError:
            pass

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        self._close_pipes()
        self.log.close()

    def close(self) -> None:
        try:
            self.req.close()
            self.proc.wait(30)
        except Exception:
            self.kill()
            return
        self._close_pipes()
        self.log.close()


# --------------------------------------------------------------------------------------------
# the run


def classify(job: dict | None, msg: dict) -> str:
    """What a signed message from a worker is: ``ready``, the ``result`` (or ``fatal`` error) of
    the job that worker is doing now, or something to ``ignore`` (any other job, or none)."""
    if msg.get("ready") is True and set(msg) == {"ready"}:
        return "ready"
    if job is None or msg.get("job") != job["job"]:
        return "ignore"
    return "fatal" if msg.get("fatal") else "result"


class _Run:
    def __init__(self, o: Options):
        self.o = o
        self.base = o.root / "grading" / ".fnngrade" / o.assignment
        self.db_url = o.db_url or default_db_url(o.root)
        self.stop: str | None = None
        self.cluster = None
        self.ignored: list[str] = []
        self.expected = sorted(p.name for p in (o.root / "solutions" / o.assignment).glob("*.ipynb"))
        self.out_limits = FileLimits(max_files=o.file_limits.max_files + 50,
                                     max_bytes=2 * o.file_limits.max_bytes + 64 * 2**20,
                                     max_depth=o.file_limits.max_depth)

    # -- recording -------------------------------------------------------------------------------

    def record(self, merger: Merger | None, sub: Submission, res: dict, worker_root: Path | None = None,
               token: str | None = None, files: list | None = None) -> None:
        """State file first (atomic), then the autograded folder, then the gradebook (merger).
        The autograded folder comes either from a worker root on this host (``worker_root`` and
        the job's ``token``) or as bytes from a Dask task (``files``, names checked part by part).
        Any failure becomes the submission's ``crashed`` state; a full disk stops the batch."""
        try:
            self._record(merger, sub, res, worker_root, token, files)
        except Stop:
            raise
        except Exception as e:
            if is_disk_full(e):
                raise Stop(f"the disk is full ({e}); recording {display_id(sub.student)} failed") from e
            fallback = {"state": "crashed", "reason": f"recording the result failed: {type(e).__name__}: {e}",
                        "notebooks": {}, "events": []}
            self._record(merger, sub, fallback, None, None, None)

    def _record(self, merger, sub, res, worker_root, token, files=None) -> None:
        o = self.o
        allowed = ("state", "reason", "notebooks", "events", "timestamp", "seconds", "worker", "uid", "sandboxed",
                   "copied", "traceback", "host", "phases")
        out = {k: res[k] for k in allowed if k in res}
        out.setdefault("reason", "")
        out["student"] = sub.student
        out["assignment"] = o.assignment
        out.setdefault("sandboxed", o.sandboxed)
        out["hash"] = sub.digest
        out["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        out["score"], out["max_score"] = _score(out)
        dest = o.root / "grading" / "autograded" / sub.student / o.assignment
        src = worker_root / "grading" / "autograded" / token / o.assignment if worker_root and token else None
        if src is not None and res.get("autograded") and os.path.isdir(src):
            self._copy_out(src, dest)
            out["autograded"] = str(dest)
        elif files and res.get("autograded"):
            self._write_out(files, dest)
            out["autograded"] = str(dest)
        else:
            if os.path.lexists(dest):
                shutil.rmtree(dest, ignore_errors=True)
            out["autograded"] = None
        try:
            out["student"].encode("utf-8")
            storable = True
        except UnicodeEncodeError:
            storable = False
            out["student_bytes"] = os.fsencode(out["student"]).hex()  # the folder name's bytes
        out["merged"] = False if storable else None
        statefile = _state_path(self.base, sub.student)
        _write_state(statefile, out)
        if storable and merger is not None:
            merger.put(statefile, out)

    def _replace(self, tmp: Path, dest: Path) -> None:
        if os.path.lexists(dest):
            if os.path.isdir(dest) and not os.path.islink(dest):
                shutil.rmtree(dest)
            else:
                os.unlink(dest)
        os.rename(tmp, dest)

    def _copy_out(self, src: Path, dest: Path) -> None:
        """The worker's autograded folder (root's, never seen by a kernel) into the course's,
        regular files only, bounded, through a temporary sibling and a rename."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{self.o.assignment}.fnngrade-{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            copy_tree(src, tmp, self.out_limits)
            self._replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _write_out(self, files: list, dest: Path) -> None:
        """A Dask task's autograded files (checked names, bounded) into the course's folder,
        through a temporary sibling and a rename."""
        from .engine import write_files

        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{self.o.assignment}.fnngrade-{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            write_files(files, tmp, max_files=self.out_limits.max_files, max_bytes=self.out_limits.max_bytes)
            self._replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- the gradebook at start ---------------------------------------------------------------------

    def prepare_template(self, template: Path) -> str | None:
        """Register the assignment in the course gradebook if needed and copy its definition into
        the SQLite file ``template``, which every grading host starts from. If the course gradebook
        stays unavailable for ``db_wait`` seconds, the template is registered from the source
        instead and the reason returned (results then stay in the state files until a later run
        merges them)."""
        from .gradebook import (GradebookUnavailable, _Busy, assignment_is_current, copy_assignment,
                                register_assignment, registration_lock, retry)

        o = self.o
        why = None
        tpl = "sqlite:///" + str(template)
        try:
            def course():
                with registration_lock(self.db_url, wait=o.db_wait):
                    if o.reregister or not assignment_is_current(self.db_url, o.root, o.assignment):
                        register_assignment(o.root, o.assignment, self.db_url)
                    template.unlink(missing_ok=True)
                    copy_assignment(self.db_url, tpl, o.assignment)
                if not assignment_is_current(tpl, o.root, o.assignment):  # registered by a run without the lock
                    raise _Busy("the assignment's definition in the course gradebook is incomplete or changing")
            retry(course, wait=o.db_wait, what="the course gradebook")
        except GradebookUnavailable as e:
            why = str(e)
            template.unlink(missing_ok=True)
            register_assignment(o.root, o.assignment, "sqlite:///" + str(template))
        return why

    # -- main ----------------------------------------------------------------------------------------

    def run(self) -> dict:
        from tqdm import tqdm

        o = self.o
        (self.base / "state").mkdir(parents=True, exist_ok=True)
        (self.base / "logs").mkdir(parents=True, exist_ok=True)
        self.cleaned = clean_stale_scratch(self.base)
        subs = list_submissions(o.root, o.assignment)
        if o.students:
            want = set(o.students)
            subs = [s for s in subs if s.student in want]

        todo: list[Submission] = []
        direct: list[Submission] = []
        remerge: list[tuple[Path, dict]] = []
        for s in subs:
            if s.problem is None:
                try:
                    s.digest = hash_tree(s.path, o.file_limits, first=tuple(self.expected))
                except NotAFolder:
                    s.problem = ("malformed", f"{o.assignment} is a symbolic link or not a folder; it is not followed")
                except Exception as e:
                    if is_disk_full(e):
                        raise
                    s.problem = ("crashed", f"the submission could not be read: {type(e).__name__}: {e}")
            sf = _state_path(self.base, s.student)
            prev = _read_state(sf) if not o.force else None
            if prev is not None and prev.get("hash") == s.digest and (prev.get("state") == "graded" or not o.retry_failed):
                if prev.get("merged") is False:
                    remerge.append((sf, prev))
                continue
            (direct if s.problem else todo).append(s)

        n = max(1, min(o.workers or len(os.sched_getaffinity(0)), len(todo) or 1))
        budget = submission_budget(o)
        hard = budget + 90.0
        bar = tqdm(total=len(subs), initial=len(subs) - len(todo) - len(direct), desc=o.assignment, unit="sub",
                   disable=not o.progress, file=sys.stderr)
        merger = Merger(self.db_url, o.db_wait)
        merger.start()
        fill_after = int(os.environ.get("FNNGRADE_TEST_FILL_DISK_AFTER", "0") or 0)
        self.deferred: str | None = None
        cluster_box: dict = {}
        starter = None
        client = plugin_name = None
        tmpdir = None
        try:
            if todo:
                from . import engine

                def start():  # the cluster starts while the gradebook is checked
                    try:
                        cluster_box["c"] = engine.open_cluster(n, o.scheduler, o.security)
                    except BaseException as e:  # noqa: B036  (re-raised in the main thread)
                        cluster_box["error"] = e

                starter = threading.Thread(target=start, daemon=True, name="fnngrade-cluster")
                starter.start()
                tmpdir = Path(tempfile.mkdtemp(prefix="fnngrade-template-"))
                template = tmpdir / "gradebook.db"
                self.deferred = self.prepare_template(template)
                if self.deferred:
                    merger.blocked = self.deferred
                run_id = engine.new_run_id()
                secret = secrets.token_bytes(32)
                batch = {"run": run_id, "secret": secret, "options": o, "hard": hard, "budget": budget,
                         "settings": engine.batch_settings(o, budget), "gradebook": engine.template_gradebook(template),
                         "out_limits": self.out_limits}
                starter.join()
                if "error" in cluster_box:
                    raise cluster_box["error"]
                client, self.cluster = cluster_box["c"]
                plugin = engine.BatchPlugin(batch)
                plugin_name = plugin.name
                client.register_plugin(plugin, name=plugin_name)
                sys.stderr.write(engine.dashboard_note(client, local=self.cluster is not None) + "\n")
            elif remerge or direct:
                from .gradebook import (GradebookUnavailable, assignment_is_current, register_assignment,
                                        registration_lock, retry)

                def course():
                    with registration_lock(self.db_url, wait=o.db_wait):
                        if o.reregister or not assignment_is_current(self.db_url, o.root, o.assignment):
                            register_assignment(o.root, o.assignment, self.db_url)
                try:
                    retry(course, wait=o.db_wait, what="the course gradebook")
                except GradebookUnavailable as e:
                    self.deferred = merger.blocked = str(e)
            for sf, prev in remerge:
                merger.put(sf, prev)
            for s in direct:
                state, reason = s.problem
                self.record(merger, s, {"state": state, "reason": reason, "notebooks": {}, "events": []})
                bar.update(1)
            if todo:
                self._grade_on_dask(client, batch, todo, merger, bar, one_at_a_time=bool(fill_after))
        except Stop as e:
            self.stop = str(e)
        except OSError as e:
            if not is_disk_full(e):
                raise
            self.stop = f"the disk is full ({e})"
        finally:
            bar.close()
            if starter is not None:
                starter.join()
                if client is None and "c" in cluster_box:
                    client, self.cluster = cluster_box["c"]
            if client is not None:
                try:
                    if plugin_name:
                        client.unregister_worker_plugin(plugin_name)  # every host removes its scratch
                except Exception as e:
                    self.ignored.append(f"removing the grading hosts' scratch failed: {type(e).__name__}: {e}")
                client.close()
                if self.cluster is not None:
                    self.cluster.close()
            if tmpdir is not None:
                shutil.rmtree(tmpdir, ignore_errors=True)
            try:
                merger.finish()
            except Exception:
                pass
            if merger.fatal and not self.stop:
                self.stop = merger.fatal
            self.pending = len(merger.pending)
            self.blocked = merger.blocked or self.deferred
        try:
            summary = write_summary(o.root, o.assignment, [s.student for s in subs])
        except OSError as e:
            if not is_disk_full(e):
                raise
            summary = _summary_from_states(o.root, o.assignment, [s.student for s in subs])
            summary["csv"] = None
        summary["stopped"] = self.stop
        summary["ignored"] = self.ignored
        summary["cleaned"] = self.cleaned
        summary["not_merged"] = [r["student"] for r in summary["results"].values() if r.get("merged") is False]
        summary["merge_blocked"] = self.blocked
        return summary

    def _grade_on_dask(self, client, batch: dict, todo: list[Submission], merger: Merger, bar,
                       one_at_a_time: bool = False) -> None:
        """One task per submission; each result is checked and recorded as it arrives, once."""
        from distributed import as_completed

        from . import engine

        o = self.o
        secret = batch["secret"]
        jobs: dict = {}   # future key -> (job, submission)

        # The last job each host takes needs no spare kernel started behind it. Tasks are handed out
        # in submission order, so the last `hosts` jobs are (nearly always) the hosts' last ones; a
        # wrong guess costs either the spare kernel (as without the hint) or one kernel start that
        # is not overlapped with the job before it.
        try:
            hosts = max(1, len(client.scheduler_info().get("workers", {})))
        except Exception:
            hosts = len(todo)  # unknown: no job is marked last
        def submit(i: int, s: Submission):
            rel = s.path.relative_to(o.root).as_posix()
            job = {"job": i, "token": f"j{i}", "rel": rel, "student": s.student, "last": i > len(todo) - hosts}
            fut = client.submit(engine.grade_task, batch["run"], job, key=f"grade-{batch['run']}-j{i}", pure=False)
            jobs[fut.key] = (job, s)
            return fut

        if one_at_a_time:  # test hook (FNNGRADE_TEST_FILL_DISK_AFTER): each result merged before the next job
            waves = [[(i, s)] for i, s in enumerate(todo, 1)]
        else:
            waves = [list(enumerate(todo, 1))]
        done: set[str] = set()
        for wave in waves:
            if self.stop:
                break
            futures = [submit(i, s) for i, s in wave]
            ac = as_completed(futures)
            for fut in ac:
                job, sub = jobs[fut.key]
                if fut.key in done:
                    continue
                done.add(fut.key)
                try:
                    payload = fut.result()
                except Exception as e:
                    name = type(e).__name__
                    why = (f"every Dask worker that started grading it died (a host killed or out of memory; "
                           f"distributed.scheduler.allowed-failures): {e}" if name == "KilledWorker" else
                           f"the grading task failed: {name}: {e}")
                    self.record(merger, sub, {"state": "crashed", "reason": why[:2000], "notebooks": {}, "events": []})
                    bar.update(1)
                    continue
                finally:
                    fut.release()
                res, files = self._check(payload, job, secret)
                if res.get("fatal"):
                    self.stop = str(res.get("reason") or res["fatal"])
                    break
                self.record(merger, sub, res, files=files)
                bar.update(1)
                if merger.fatal and not self.stop:
                    self.stop = merger.fatal
                if self.stop:
                    break
            if self.stop:
                client.cancel([f for f in futures if not f.done()])
                break
            if one_at_a_time:
                merger.flush()

    def _check(self, payload, job: dict, secret: bytes) -> tuple[dict, list]:
        """The result of a task, if it is signed with this batch's secret and answers this job;
        otherwise a ``crashed`` result that says why."""
        from . import engine

        def bad(why: str) -> tuple[dict, list]:
            self.ignored.append(f"a task result for job {job['job']} was rejected: {why}")
            return {"state": "crashed", "reason": f"the grading result was rejected: {why}", "notebooks": {},
                    "events": []}, []

        if not isinstance(payload, dict) or not engine.check_signature(secret, payload):
            return bad("it is not signed with this run's secret")
        if payload.get("job") != job["job"] or payload.get("token") != job["token"]:
            return bad("it answers another job")
        notes = payload.get("notes") or []
        host = str(payload.get("host"))[:80]
        self.ignored += [f"worker on {host}: {str(x)[:300]}" for x in notes[:50]]
        res, why = engine.validate_result(payload.get("result"), STATES)
        if res is None:
            return bad(why)
        res["host"] = host
        return res, payload.get("files") or []


def autograde(o: Options) -> dict:
    """Grade every submission of ``o.assignment`` on Dask (:mod:`fnngrade.engine`); return the summary."""
    o.root = o.root.resolve()
    # nbgrader's Gradebook runs `alembic` from PATH when it creates or checks a database
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    return _Run(o).run()


def _summary_from_states(root: Path, assignment: str, students: list[str] | None) -> dict:
    base = root / "grading" / ".fnngrade" / assignment / "state"
    results = {}
    want = set(students) if students is not None else None
    for sf in sorted(base.glob("*.json")):
        r = _read_state(sf)
        if r is None or "student" not in r or "state" not in r:
            continue
        if want is None or r["student"] in want:
            results[r["student"]] = r
    states = Counter(r["state"] for r in results.values())
    tests: dict[str, list[int]] = {}
    for r in results.values():
        for nb in r.get("notebooks", {}).values():
            for gid, g in nb["grades"].items():
                if g.get("cell_type") != "code" or g["auto_score"] is None:
                    continue
                t = tests.setdefault(gid, [0, 0])
                t[0] += int(g["auto_score"] == g["max_score"])
                t[1] += 1
    return {"states": dict(states), "tests": tests, "results": results}


def write_summary(root: Path, assignment: str, students: list[str] | None = None, tag: str = "") -> dict:
    """Per state and per test counts from the state files; grading/summary-<a>.csv and
    grading/states-<a>.csv (one row per submission); ``python -m fnngrade summary <a>`` writes the
    whole class's."""
    summary = _summary_from_states(root, assignment, students)
    results = list(summary["results"].values())
    out = root / "grading" / f"summary-{assignment}{tag}.csv"
    with out.open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["section", "name", "count", "out_of"])
        for s in STATES:
            wr.writerow(["state", s, summary["states"].get(s, 0), len(results)])
        for gid, (ok, of) in summary["tests"].items():
            wr.writerow(["test passed", gid, ok, of])
    with (root / "grading" / f"states-{assignment}{tag}.csv").open("w", newline="", errors="backslashreplace") as fh:
        wr = csv.writer(fh)
        wr.writerow(["student", "state", "score", "max_score", "seconds", "sandboxed", "in_gradebook", "reason"])
        for r in results:
            wr.writerow([r["student"], r["state"], r.get("score"), r.get("max_score"), r.get("seconds"),
                         r.get("sandboxed"), r.get("merged", True), r.get("reason", "")])
    summary["csv"] = str(out)
    return summary


def format_summary(summary: dict) -> str:
    lines = ["state        submissions"]
    for s in STATES:
        lines.append(f"{s:<12} {summary['states'].get(s, 0):>5}")
    if summary["tests"]:
        w = max(len(k) for k in summary["tests"])
        lines.append("")
        lines.append(f"{'test':<{w}}  passed / graded")
        for gid, (ok, of) in summary["tests"].items():
            lines.append(f"{gid:<{w}}  {ok:>6} / {of}")
    bad = [r for r in summary["results"].values() if r["state"] != "graded"]
    if bad:
        lines.append("")
        lines.append("not graded normally:")
        for r in bad:
            lines.append(f"  {display_id(r['student'])}: {r['state']}: {r.get('reason', '')}")
    late = summary.get("not_merged") or []
    if late:
        lines.append("")
        why = summary.get("merge_blocked") or "see merge_error in their state files"
        lines.append(f"NOT YET IN THE GRADEBOOK: {len(late)} result(s) are kept in their state files "
                     f"({why}). Run the same command again to merge them; nothing is graded twice.")
    if summary.get("ignored"):
        lines.append("")
        lines.append(f"{len(summary['ignored'])} message(s) from workers were ignored (unsigned, unreadable, "
                     "too long, or for another job):")
        lines += [f"  {x}" for x in summary["ignored"][:10]]
    if summary.get("cleaned"):
        lines.append("")
        lines.append(f"removed {len(summary['cleaned'])} scratch folder(s) left by an earlier run that was killed")
    if summary.get("csv"):
        lines.append("")
        lines.append(f"summary written to {summary['csv']}")
    if summary.get("stopped"):
        lines.append("")
        lines.append(f"STOPPED: {summary['stopped']}. Everything recorded above is kept; free some space and run "
                     "the same command again to grade the rest.")
    return "\n".join(lines)
