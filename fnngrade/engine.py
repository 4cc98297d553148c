"""Grading on Dask distributed: one task per submission, one fnngrade worker per Dask worker process.

The client (``python -m fnngrade autograde``, :mod:`fnngrade.grader`) submits one task per
submission to a Dask scheduler: a :class:`distributed.LocalCluster` of processes on this host by
default, or a running cluster given with ``--scheduler`` whose workers were started elsewhere
with ``dask worker``. The results come back to the client as each task finishes, and the client
alone writes state files, autograded notebooks and the course gradebook (one writer).

On every Dask worker process the batch's :class:`BatchPlugin` (a ``WorkerPlugin``, so it is also
set up on a worker that joins while the batch runs) makes a :class:`GradingHost`: a scratch
course root of its own (``grading/.fnngrade/<a>/workers@<host>-*/w0/``), a gradebook made from
the client's copy of the assignment's definition, one kernel uid leased on that host, and one
fnngrade worker process (:mod:`fnngrade.worker`, unchanged) on a pipe signed with the batch's
secret. A task hands the submission to that worker, reads the signed answer for that job only
(:class:`fnngrade.grader.ResultReader`, :func:`fnngrade.grader.classify`), kills and replaces a
worker that dies or overruns its budget (the submission is then ``crashed`` or ``timed out``, as
before), reads the autograded folder back without following links and within bounds, and returns
all of it signed with the batch's secret (HMAC-SHA256 over the result and the digest of every
file). Nothing a kernel can write reaches a task's result: kernels have no network (so no way to
the scheduler or the client), no descriptor of the pipe, and never the secret. The client checks
the signature, the job and every field's type (:func:`validate_result`), and takes no path from
a result: files come back as bytes with names that are checked part by part
(:func:`write_files`) and are written under the student's folder the client chose.

A Dask worker that dies mid-task (a killed host, the out-of-memory killer) loses its task to the
scheduler, which runs it again on another worker (up to ``distributed.scheduler.allowed-failures``
times, then the submission is recorded as ``crashed``); the client records each submission once,
from the one task result that reaches it. Nothing is recorded before a result reaches the client,
and everything recorded stays recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import asdict
from pathlib import Path

__all__ = ["BatchPlugin", "GradingHost", "grade_task", "sign_result", "validate_result", "write_files",
           "open_cluster", "dashboard_note", "WORKER_COMMAND"]

WORKER_COMMAND = "dask worker tcp://HOST:8786 --nworkers N --nthreads 1 --memory-limit 0"

_HOSTS: dict[str, "GradingHost"] = {}
_HOSTS_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# signing a task's result (Dask worker process -> client)


def _canonical(payload: dict) -> bytes:
    files = [[rel, hashlib.sha256(data).hexdigest()] for rel, data in payload.get("files", [])]
    body = {k: v for k, v in payload.items() if k not in ("files", "mac")}
    body["files"] = files
    return json.dumps(body, sort_keys=True, ensure_ascii=True, default=str).encode()


def sign_result(secret: bytes, payload: dict) -> dict:
    payload["mac"] = hmac.new(secret, _canonical(payload), hashlib.sha256).hexdigest()
    return payload


def check_signature(secret: bytes, payload: dict) -> bool:
    mac = payload.get("mac")
    if not isinstance(mac, str):
        return False
    return hmac.compare_digest(mac, hmac.new(secret, _canonical(payload), hashlib.sha256).hexdigest())


# --------------------------------------------------------------------------------------------
# what a result may contain


_NUM = (int, float)


def validate_result(res: object, states: tuple[str, ...]) -> tuple[dict | None, str]:
    """A copy of a worker's result with only the expected fields, each of the expected type, or
    ``(None, why)``. Grades must be numbers (or None) with ``auto_score <= max_score``."""
    if not isinstance(res, dict):
        return None, "the result is not an object"
    if res.get("fatal"):
        return {"fatal": str(res["fatal"])[:200], "reason": str(res.get("reason") or "")[:2000]}, ""
    out: dict = {}
    if res.get("state") not in states:
        return None, f"unknown state {str(res.get('state'))[:40]!r}"
    out["state"] = res["state"]
    out["reason"] = str(res.get("reason") or "")[:20_000]
    nbs = res.get("notebooks", {})
    if not isinstance(nbs, dict):
        return None, "notebooks is not an object"
    out["notebooks"] = {}
    for name, nb in nbs.items():
        if not isinstance(name, str) or not isinstance(nb, dict) or not isinstance(nb.get("grades"), dict):
            return None, "a notebook entry is malformed"
        grades = {}
        for gid, g in nb["grades"].items():
            if not isinstance(gid, str) or not isinstance(g, dict):
                return None, "a grade entry is malformed"
            auto, top = g.get("auto_score"), g.get("max_score")
            if auto is not None and (not isinstance(auto, _NUM) or isinstance(auto, bool)):
                return None, f"grade {gid[:40]!r}: auto_score is not a number"
            if not isinstance(top, _NUM) or isinstance(top, bool) or top < 0:
                return None, f"grade {gid[:40]!r}: max_score is not a number"
            if auto is not None and not (0 <= auto <= top):
                return None, f"grade {gid[:40]!r}: auto_score {auto} is outside 0..{top}"
            grades[gid] = {"auto_score": None if auto is None else float(auto), "max_score": float(top),
                           "needs_manual_grade": bool(g.get("needs_manual_grade")),
                           "cell_type": str(g.get("cell_type"))[:20]}
        comments = nb.get("comments", {})
        if not isinstance(comments, dict):
            return None, "comments is not an object"
        out["notebooks"][name] = {"grades": grades, "comments": {
            str(k): (None if v is None else str(v)[:20_000]) for k, v in comments.items()}}
    events = res.get("events", [])
    out["events"] = [e for e in events if isinstance(e, dict)][:200] if isinstance(events, list) else []
    for key, kinds in (("timestamp", (str,)), ("seconds", _NUM), ("uid", (int,)), ("sandboxed", (bool,)),
                       ("worker", (int, str)), ("traceback", (str,)), ("autograded", (bool,))):
        if key in res and isinstance(res[key], kinds):
            out[key] = res[key]
    phases = res.get("phases")
    if isinstance(phases, dict):
        out["phases"] = {str(k)[:40]: float(v) for k, v in list(phases.items())[:20]
                         if isinstance(v, _NUM) and not isinstance(v, bool)}
    copied = res.get("copied")
    if isinstance(copied, dict) and all(isinstance(v, int) for v in copied.values()):
        out["copied"] = {str(k): v for k, v in copied.items()}
    return out, ""


def _part_ok(part: str) -> bool:
    return part not in ("", ".", "..") and "\0" not in part and "/" not in part and len(part.encode(
        "utf-8", "surrogateescape")) <= 255


def write_files(files: list, dest: Path, *, max_files: int, max_bytes: int) -> None:
    """Write ``[(relative name, bytes), ...]`` into the NEW folder ``dest``: every name is checked
    part by part (no absolute path, no ``..``, no empty part), folders are made by this function
    only, files are created with ``O_EXCL | O_NOFOLLOW``; at most ``max_files`` files and
    ``max_bytes`` bytes. ``ValueError`` on anything else."""
    if not isinstance(files, list) or len(files) > max_files:
        raise ValueError("the autograded files are not a bounded list")
    total = 0
    os.mkdir(dest, 0o755)
    for item in files:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], bytes)):
            raise ValueError("an autograded file entry is malformed")
        rel, data = item
        parts = rel.split("/")
        if rel.startswith("/") or not all(_part_ok(p) for p in parts) or len(parts) > 32:
            raise ValueError(f"an autograded file has an unusable name: {rel[:80]!r}")
        total += len(data)
        if total > max_bytes:
            raise ValueError(f"the autograded files exceed {max_bytes} bytes")
        d = dest
        for p in parts[:-1]:
            d = d / p
            try:
                os.mkdir(d, 0o755)
            except FileExistsError:
                if os.path.islink(d) or not os.path.isdir(d):
                    raise ValueError(f"an autograded file has an unusable name: {rel[:80]!r}") from None
        fd = os.open(d / parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


def _read_files(src: Path, scratch: Path, limits) -> list:
    """The folder ``src`` (nbgrader's autograded output) as ``[(relative name, bytes)]``: copied
    first with :func:`fnngrade.files.copy_tree` (regular files only, no link followed, bounded),
    then read from that private copy."""
    from .files import copy_tree

    tmp = scratch / "out"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        copy_tree(src, tmp, limits)
        out = []
        for dirpath, dirnames, filenames in os.walk(tmp):
            dirnames.sort()
            for f in sorted(filenames):
                p = Path(dirpath) / f
                out.append((p.relative_to(tmp).as_posix(), p.read_bytes()))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# the Dask worker side


class GradingHost:
    """One fnngrade worker owned by this Dask worker process, for one batch."""

    def __init__(self, batch: dict, name):
        from .grader import Scratch, UidLease, _host, _Worker, clean_stale_scratch, sandbox_selftest

        self.batch = batch
        self.broken: str | None = None
        self.notes: list[str] = []
        self.lock = threading.Lock()
        self.w = None
        self.lease = self.scratch = None
        o = batch["options"]
        here = os.environ.get("FNNGRADE_COURSE_ROOT")
        self.root = Path(here).resolve() if here else Path(o.root)
        o = self.o = _with_root(o, self.root)
        if not (self.root / "solutions" / o.assignment).is_dir():
            self.broken = (f"{socket.gethostname()}: no {self.root / 'solutions' / o.assignment}: the Dask worker needs "
                           "the course files at the same path as the client, or FNNGRADE_COURSE_ROOT")
            return
        if o.sandboxed:
            why = sandbox_selftest()
            if why:
                self.broken = f"{socket.gethostname()}: the sandbox cannot run here: {why}"
                return
        self.base = self.root / "grading" / ".fnngrade" / o.assignment
        (self.base / "logs").mkdir(parents=True, exist_ok=True)
        clean_stale_scratch(self.base)
        self.scratch = Scratch(o, self.base)
        root = self.scratch.worker_root(o, 0)
        (root / "grading" / "gradebook.db").write_bytes(zlib.decompress(batch["gradebook"]))
        uids = [0]
        if o.sandboxed:  # two: the next submission's kernel starts while the current one runs
            self.lease = UidLease(o.uid_base, 2)
            uids = self.lease.uids
        settings = dict(batch["settings"], index=name, root=str(root), uid=uids[0], uids=uids,
                        sockbase=self.scratch.sockbase(0),
                        db_url="sqlite:///" + str(root / "grading" / "gradebook.db"))
        log = self.base / "logs" / f"worker@{_host()}-{os.getpid()}.log"
        self.worker_root = root
        self.w = _Worker(0, root, settings, log, batch["secret"])

    def grade(self, job: dict) -> dict:
        with self.lock:
            return self._grade(job)

    def _grade(self, job: dict) -> dict:
        from .files import is_disk_full
        from .grader import classify

        b, o = self.batch, self.o
        w = self.w
        job = dict(job, src=str(self.root / job["rel"]))
        payload = {"run": b["run"], "job": job["job"], "token": job["token"], "host": socket.gethostname(),
                   "pid": os.getpid(), "files": []}
        if w.proc.poll() is not None:  # died between tasks: replace it before the job
            w.kill()
            w.spawn()
        request = {k: job[k] for k in ("job", "token", "src", "student")}
        if job.get("last") is True:  # no spare kernel after it (see fnngrade.grader: _grade_on_dask)
            request["last"] = True
        try:
            w.send(request, None)
        except OSError:  # it died just now
            w.kill()
            w.spawn()
            w.send(request, None)
        res = None
        while res is None:
            readable, _, _ = select.select([w.reader.fd], [], [], 0.5)
            if readable:
                for msg in w.reader.read():
                    kind = classify(w.job, msg)
                    if kind == "ready":
                        w.ready = True
                    elif kind == "ignore":
                        self.notes.append(f"a result for job {str(msg.get('job'))[:40]!r}, which it is not doing")
                    else:
                        res = msg
                        break
                if res is not None:
                    break
            dead = w.proc.poll() is not None
            late = time.monotonic() - w.started > b["hard"]
            if dead or late:
                why = (f"grading took longer than {b['hard']:.0f} s (the {b['budget']:.0f} s budget of a submission, "
                       "--submission-timeout, and 90 s for nbgrader); the worker was killed" if late else
                       f"the grading worker exited ({w.proc.returncode}) while grading it")
                res = {"job": job["job"], "state": "timed out" if late else "crashed", "reason": why,
                       "notebooks": {}, "events": [], "sandboxed": o.sandboxed, "worker": w.settings["index"]}
                w.kill()
                w.spawn()
        w.job = w.sub = None
        self.notes += w.reader.notes
        w.reader.notes = []
        src = self.worker_root / "grading" / "autograded" / job["token"] / o.assignment
        if res.get("autograded") is True and not res.get("fatal") and os.path.isdir(src):
            try:
                payload["files"] = _read_files(src, self.scratch.dir, b["out_limits"])
            except Exception as e:
                if is_disk_full(e):
                    res = {"job": job["job"], "fatal": "disk full", "reason": f"the disk is full ({e})"}
                else:
                    res["autograded"] = False
                    res["reason"] = (res.get("reason") or "") + f"; the autograded notebook could not be read: {e}"
        payload["result"] = res
        payload["notes"], self.notes = self.notes[:50], []
        return sign_result(b["secret"], payload)

    def close(self) -> None:
        if self.w is not None:
            self.w.close()
            self.w = None
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        if self.scratch is not None:
            self.scratch.remove()
            self.scratch = None


def _with_root(o, root: Path):
    from dataclasses import replace

    return replace(o, root=root)


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # the client explains how to install it (open_cluster)
    _WorkerPlugin = object


class BatchPlugin(_WorkerPlugin):
    """Set up on every Dask worker of the cluster, now and for the batch's whole life: the
    worker's :class:`GradingHost` (a worker where grading cannot run safely, without bwrap or the
    course files, leaves the cluster with the reason in its log)."""

    idempotent = False

    def __init__(self, batch: dict):
        self.batch = batch
        self.name = f"fnngrade-{batch['run']}"

    def setup(self, worker) -> None:
        try:
            host = GradingHost(self.batch, worker.name)
        except Exception as e:
            host = None
            why = f"{socket.gethostname()}: fnngrade could not start its worker: {type(e).__name__}: {e}"
        else:
            why = host.broken
        if why:
            sys.stderr.write(f"fnngrade: this Dask worker cannot grade and leaves the cluster: {why}\n")
            if host is not None:
                host.close()
            _HOSTS.pop(self.batch["run"], None)
            worker.loop.add_callback(worker.close, nanny=True, reason=f"fnngrade: {why}")
            return
        with _HOSTS_LOCK:
            _HOSTS[self.batch["run"]] = host

    async def teardown(self, worker) -> None:
        import asyncio

        with _HOSTS_LOCK:
            host = _HOSTS.pop(self.batch["run"], None)
        if host is not None:  # off the event loop: the worker keeps answering the scheduler meanwhile
            await asyncio.get_running_loop().run_in_executor(None, host.close)


def grade_task(run: str, job: dict) -> dict:
    """The Dask task: grade one submission on this worker's fnngrade worker."""
    host = _HOSTS.get(run)
    if host is None or host.w is None:
        from distributed import Reschedule

        raise Reschedule()
    return host.grade(job)


# --------------------------------------------------------------------------------------------
# the client side: the cluster


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def dashboard_note(client, local: bool) -> str:
    """Where the Dask dashboard is, or why there is none and how to get it (it needs bokeh on
    the scheduler's host; fnngrade does not need it)."""
    try:
        services = client.scheduler_info().get("services", {})
        bokeh = client.run_on_scheduler(_has_bokeh)
    except Exception:
        services, bokeh = {}, False
    if "dashboard" in services and bokeh:
        return f"fnngrade: Dask dashboard: {client.dashboard_link}"
    how = ("pip install 'bokeh>=3.1' into this venv" if local else
           "pip install 'bokeh>=3.1' on the scheduler's host, then restart `dask scheduler`")
    return f"fnngrade: no Dask dashboard (it needs the bokeh package: {how})"


def open_cluster(n: int, scheduler: str | None, security=None):
    """``(client, cluster)``: a Dask client of ``scheduler`` (``cluster`` None), or of a new
    LocalCluster of ``n`` worker processes of one thread on this host, on loopback with TLS and
    certificates made for this run only (any local user may connect to a loopback port; the
    workers run student code's graders as root)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise RuntimeError("fnngrade grades on Dask: install the course's instructor tools "
                           "(pip install -e '.[instructor]', or pip install 'distributed>=2024.1')") from e
    import importlib.util
    import logging

    dask.config.set({"distributed.scheduler.allowed-failures": 2,
                     "distributed.admin.tick.limit": "1h",
                     "distributed.scheduler.work-stealing": True})
    if not scheduler:
        # A local cluster's processes do nothing but wait for grading subprocesses, yet Dask's defaults
        # wake them all the time: each worker samples its task's stack every 10 ms (the dashboard's
        # profile, here of a thread waiting in select()), every server checks its event loop every
        # 20 ms (to warn after tick.limit, an hour here), and a system monitor polls every 0.5 s. That
        # was 0.09 CPU-seconds per second of a 2-worker run; with these, 0.005 (a run of two
        # submissions that sleep 25 s: 13.6 -> 10.1 CPU-s, per-process sampler). The workers inherit
        # this configuration from the client's process (LocalCluster's Nanny passes it on).
        dask.config.set({"distributed.worker.profile.enabled": False,
                         "distributed.admin.tick.interval": "1s",
                         "distributed.admin.system-monitor.interval": "2s",
                         "distributed.admin.system-monitor.gil.enabled": False})
    if scheduler:
        return Client(scheduler, security=security, timeout=60), None
    sec = None
    proto = "tcp://"
    if importlib.util.find_spec("cryptography") is not None:
        from distributed.security import Security

        sec = Security.temporary()
        proto = "tls://"
    else:
        sys.stderr.write("fnngrade: WARNING: the package 'cryptography' is missing, so the local Dask cluster "
                         "listens on loopback without TLS: other users of this host could send it work "
                         "(pip install cryptography, part of the instructor tools)\n")
    dash = "127.0.0.1:8787"  # on loopback only; a busy port is replaced by a free one
    import warnings

    with warnings.catch_warnings():  # "Port 8787 is already in use": another port is taken, and printed
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", protocol=proto,
                               security=sec, dashboard_address=dash, memory_limit=0, silence_logs=logging.CRITICAL,
                               worker_dashboard_address=None)
    return Client(cluster, security=sec), cluster


def batch_settings(o, budget: float) -> dict:
    """The fnngrade worker settings that are the same on every host."""
    return {"assignment": o.assignment, "timeout": o.timeout, "interrupt_grace": o.interrupt_grace,
            "max_output_chars": o.max_output_chars, "sandboxed": o.sandboxed, "limits": asdict(o.limits),
            "remote_tests": o.remote_tests, "budget": budget, "file_limits": asdict(o.file_limits),
            "prestart": o.prestart}


def template_gradebook(path: Path) -> bytes:
    return zlib.compress(path.read_bytes(), 6)


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{os.urandom(4).hex()}"


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="fnngrade-client-"))
