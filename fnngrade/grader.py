"""The orchestrator: submissions -> workers -> state files -> course gradebook -> summary."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .gradebook import assignment_is_current, copy_assignment, merge_result, register_assignment
from .sandbox import Limits, bwrap_path, bwrap_argv
from .worker import PREFIX

__all__ = ["Options", "STATES", "autograde", "select_shard", "write_summary", "sandbox_selftest"]

STATES = ("graded", "timed out", "crashed", "malformed", "missing")


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
    shard: tuple[int, int] = (1, 1)
    students: list[str] | None = None
    max_output_chars: int = 10_000
    interrupt_grace: int = 5
    submission_timeout: float | None = None
    uid_base: int = 64000
    limits: Limits = field(default_factory=Limits)
    progress: bool = True
    guard: bool = True
    reregister: bool = False


def default_db_url(root: Path) -> str:
    return os.environ.get("FNN_GRADEBOOK_URL", "sqlite:///" + str(root / "grading" / "gradebook.db"))


def select_shard(students: list[str], i: int, n: int) -> list[str]:
    """Shard ``i`` of ``n`` (1-based): decided by the student id alone (crc32), so every host
    agrees without seeing the same list of folders."""
    return [s for s in students if zlib.crc32(s.encode()) % n == i - 1]


def submission_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def sandbox_selftest() -> str | None:
    """None if bwrap can build the jail here, else why not."""
    if bwrap_path() is None:
        return "bwrap is not installed (Debian package 'bubblewrap')"
    if os.geteuid() != 0:
        return ("the jail runs each kernel as its own unprivileged uid (so that RLIMIT_NPROC holds), "
                "which needs the grader to run as root")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fg-selftest-") as d:
        argv = bwrap_argv(uid=64000, sockdir=d, limits=Limits())
        cut = argv.index("--fnngrade-cwd-parents")
        cmd = argv[:cut] + ["--chdir", "/", "/bin/true"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bwrap failed to start: {e}"
        if p.returncode != 0:
            return f"bwrap cannot build the jail here: {p.stderr.strip()[:300]}"
    return None


class _Worker:
    def __init__(self, k: int, root: Path, settings: dict, log: Path):
        self.k, self.root, self.settings, self.logpath = k, root, settings, log
        self.student: str | None = None
        self.started = 0.0
        self.buf = b""
        self.ready = False
        self.spawn()

    def spawn(self) -> None:
        env = dict(os.environ)
        here = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "fnngrade.worker", json.dumps(self.settings)],
                                     cwd=self.root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.ready = False
        self.buf = b""

    def send(self, student: str) -> None:
        self.student = student
        self.started = time.monotonic()
        self.proc.stdin.write((student + "\n").encode())
        self.proc.stdin.flush()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        self.log.close()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(30)
        except Exception:
            self.kill()
        self.log.close()

    def read_lines(self) -> list[dict]:
        try:
            chunk = self.proc.stdout.read()
        except (OSError, ValueError):
            chunk = None
        if chunk:
            self.buf += chunk
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace")
            if text.startswith(PREFIX):
                out.append(json.loads(text[len(PREFIX):]))
        return out


def _shard_tag(o: Options) -> str:
    i, n = o.shard
    return "" if n == 1 else f"-shard{i}of{n}"


def _worker_roots(o: Options, base: Path, n: int) -> list[Path]:
    """One course root per worker: nbgrader_config.py, the assignment source, its own gradebook.

    They live in a folder of this run only (several shards may share one course root, on one
    host or on a shared disk), removed when the run ends."""
    import tempfile

    wroot = Path(tempfile.mkdtemp(prefix=f"workers{_shard_tag(o)}-", dir=base))
    roots = []
    for k in range(n):
        r = wroot / f"w{k}"
        (r / "grading").mkdir(parents=True)
        shutil.copy(o.root / "nbgrader_config.py", r / "nbgrader_config.py")
        shutil.copytree(o.root / "solutions" / o.assignment, r / "solutions" / o.assignment)
        roots.append(r)
    return roots


def _worker_gradebooks(o: Options, db_url: str, roots: list[Path]) -> None:
    """Register the assignment in the course gradebook (nbgrader generate_assignment), then copy
    its definition into worker 0's new gradebook and that file to the other workers. The
    registration is skipped when the gradebook already holds the assignment as the source defines
    it (``--reregister`` forces it)."""
    if o.reregister or not assignment_is_current(db_url, o.root, o.assignment):
        register_assignment(o.root, o.assignment, db_url)
    first = roots[0] / "grading" / "gradebook.db"
    copy_assignment(db_url, "sqlite:///" + str(first), o.assignment)
    for r in roots[1:]:
        shutil.copy(first, r / "grading" / "gradebook.db")


def _record(o: Options, base: Path, db_url: str, res: dict, digest: str | None) -> None:
    """State file first (atomic), then the gradebook, then the autograded folder."""
    res = dict(res)
    res["hash"] = digest
    res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    res["score"], res["max_score"] = _score(res)
    merge_result(db_url, res)
    src = res.get("autograded")
    if src and Path(src).is_dir():
        dest = o.root / "grading" / "autograded" / res["student"] / o.assignment
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        res["autograded"] = str(dest)
    state = base / "state" / f"{res['student']}.json"
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1))
    os.replace(tmp, state)


def _score(res: dict) -> tuple[float, float]:
    score = total = 0.0
    for nb in res.get("notebooks", {}).values():
        for g in nb["grades"].values():
            total += g["max_score"] or 0
            score += g["auto_score"] or 0
    return score, total


def autograde(o: Options) -> dict:
    """Grade every submission of ``o.assignment`` (in ``o.shard``); return the summary."""
    from tqdm import tqdm

    o.root = o.root.resolve()
    # nbgrader's Gradebook runs `alembic` from PATH when it creates or checks a database
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    db_url = o.db_url or default_db_url(o.root)
    base = o.root / "grading" / ".fnngrade" / o.assignment
    (base / "state").mkdir(parents=True, exist_ok=True)
    (base / "logs").mkdir(parents=True, exist_ok=True)
    subdir = o.root / "grading" / "submitted"
    students = sorted(d.parent.name for d in subdir.glob(f"*/{o.assignment}") if d.is_dir())
    if o.students:
        students = [s for s in students if s in set(o.students)]
    students = select_shard(students, *o.shard)

    todo, digests = [], {}
    for s in students:
        digests[s] = submission_hash(subdir / s / o.assignment)
        sf = base / "state" / f"{s}.json"
        if sf.exists() and not o.force:
            try:
                prev = json.loads(sf.read_text())
            except ValueError:
                prev = {}
            if prev.get("hash") == digests[s] and (prev.get("state") == "graded" or not o.retry_failed):
                continue
        todo.append(s)

    n = max(1, min(o.workers or len(os.sched_getaffinity(0)), len(todo) or 1))
    roots = _worker_roots(o, base, n) if todo else []
    budget = o.submission_timeout or (o.timeout + o.interrupt_grace + 5) * 40 + 120
    bar = tqdm(total=len(students), initial=len(students) - len(todo), desc=o.assignment, unit="sub",
               disable=not o.progress, file=sys.stderr)
    workers: list[_Worker] = []
    try:
        if todo:
            for k in range(n):
                settings = {
                    "index": k, "root": str(roots[k]), "main_root": str(o.root), "assignment": o.assignment,
                    "db_url": "sqlite:///" + str(roots[k] / "grading" / "gradebook.db"),
                    "timeout": o.timeout, "interrupt_grace": o.interrupt_grace,
                    "max_output_chars": o.max_output_chars, "sandboxed": o.sandboxed,
                    # one uid per worker, and per shard where shards share a host
                    "uid": o.uid_base + (o.shard[0] - 1) * 256 + k, "limits": asdict(o.limits), "guard": o.guard,
                }
                log = base / "logs" / f"worker{_shard_tag(o)}-{k}.log"
                workers.append(_Worker(k, roots[k], settings, log))
            # the workers import nbgrader and start up meanwhile; they touch no gradebook before
            # their first submission
            _worker_gradebooks(o, db_url, roots)
        queue = list(todo)
        busy = 0
        sel = selectors.DefaultSelector()
        for w in workers:
            sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        while queue or busy:
            for w in workers:
                if w.ready and w.student is None and queue:
                    w.send(queue.pop(0))
                    busy += 1
            for key, _ in sel.select(timeout=1.0):
                w = key.data
                for msg in w.read_lines():
                    if msg.get("ready"):
                        w.ready = True
                    elif w.student is not None and msg.get("student") == w.student:
                        _record(o, base, db_url, msg, digests[w.student])
                        w.student = None
                        busy -= 1
                        bar.update(1)
            for w in workers:  # a worker that died or overran its budget: record, replace
                dead = w.proc.poll() is not None
                late = w.student is not None and time.monotonic() - w.started > budget
                if not (dead or late):
                    continue
                if w.student is not None:
                    why = (f"grading took longer than {budget:.0f} s; the worker was killed" if late else
                           f"the grading worker exited ({w.proc.returncode}) while grading it")
                    res = {"student": w.student, "assignment": o.assignment, "notebooks": {}, "events": [],
                           "state": "timed out" if late else "crashed", "reason": why,
                           "sandboxed": o.sandboxed, "worker": w.k}
                    _record(o, base, db_url, res, digests[w.student])
                    w.student = None
                    busy -= 1
                    bar.update(1)
                sel.unregister(w.proc.stdout)
                w.kill()
                w.spawn()
                sel.register(w.proc.stdout, selectors.EVENT_READ, w)
    finally:
        bar.close()
        for w in workers:
            w.close()
        if roots:
            shutil.rmtree(roots[0].parent, ignore_errors=True)
    return write_summary(o.root, o.assignment, students, tag=_shard_tag(o))


def write_summary(root: Path, assignment: str, students: list[str] | None = None, tag: str = "") -> dict:
    """Per state and per test counts from the state files; grading/summary-<a>.csv and
    grading/states-<a>.csv (one row per submission). A shard's run writes its own pair
    (``summary-<a>-shard1of3.csv``); ``python -m fnngrade summary <a>`` writes the whole class's."""
    base = root / "grading" / ".fnngrade" / assignment / "state"
    results = []
    for sf in sorted(base.glob("*.json")):
        r = json.loads(sf.read_text())
        if students is None or r["student"] in students:
            results.append(r)
    states = Counter(r["state"] for r in results)
    tests: dict[str, list[int]] = {}
    for r in results:
        for nb in r.get("notebooks", {}).values():
            for gid, g in nb["grades"].items():
                if g.get("cell_type") != "code" or g["auto_score"] is None:
                    continue
                t = tests.setdefault(gid, [0, 0])
                t[0] += int(g["auto_score"] == g["max_score"])
                t[1] += 1
    out = root / "grading" / f"summary-{assignment}{tag}.csv"
    with out.open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["section", "name", "count", "out_of"])
        for s in STATES:
            wr.writerow(["state", s, states.get(s, 0), len(results)])
        for gid, (ok, of) in tests.items():
            wr.writerow(["test passed", gid, ok, of])
    with (root / "grading" / f"states-{assignment}{tag}.csv").open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["student", "state", "score", "max_score", "seconds", "sandboxed", "reason"])
        for r in results:
            wr.writerow([r["student"], r["state"], r.get("score"), r.get("max_score"), r.get("seconds"),
                         r.get("sandboxed"), r.get("reason", "")])
    return {"states": dict(states), "tests": tests, "results": {r["student"]: r for r in results},
            "csv": str(out)}


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
            lines.append(f"  {r['student']}: {r['state']}: {r.get('reason', '')}")
    lines.append("")
    lines.append(f"summary written to {summary['csv']}")
    return "\n".join(lines)
