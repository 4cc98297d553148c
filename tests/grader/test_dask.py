"""fnngrade on a Dask cluster on loopback: same results as serial, a worker killed, a worker added.

The test starts a Dask scheduler and two workers as separate processes (``dask scheduler``,
``dask worker --no-nanny``: the process killed is the worker itself), and a PostgreSQL server
(conftest.py, one per session). A small class of ``01-neuron-activations`` (correct, wrong, blank,
a kernel that exits, a cheat that patches the checks, a broken notebook, no notebook, and copies
of the first three) is copied into two course roots before anything is graded:

- the serial reference: ``python -m fnngrade autograde --workers 1`` (a local cluster of one
  worker process) on the distinct submissions, SQLite gradebook;
- the batch on the cluster: ``--scheduler tcp://127.0.0.1:PORT --db postgresql://...``. Once the
  first task result is recorded, a worker that is running a task is killed with SIGKILL and a
  third worker is started.

Then: every submission ends in the state and score of the serial run, each is in the PostgreSQL
gradebook exactly once with that score, nothing recorded before the kill was graded or recorded
again, and the worker that joined mid-batch graded some. Needs root, bwrap and PostgreSQL;
SKIPPED otherwise, with the reason and the command that enables it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pipeline import course as C

from .classroom import ASSIGNMENT, REPO, make_class, run_fnngrade

pytestmark = pytest.mark.pipeline

NAME = f"{ASSIGNMENT}.ipynb"
COMMON = ["--timeout", "5", "--no-progress", "--mem-mb", "2048", "--cwd-mb", "32"]
PICKED = ["perfect", "blank", "wrong-tanh", "os-exit", "cheat-patch", "broken-json", "no-notebook"]
COPIES = {"perfect-2": "perfect", "wrong-2": "wrong-tanh", "blank-2": "blank"}
BIN = Path(sys.executable).parent


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env.pop("FNN_GRADEBOOK_URL", None)
    return env


def _states(root: Path) -> dict:
    out = {}
    for p in (root / "grading" / ".fnngrade" / ASSIGNMENT / "state").glob("*.json"):
        try:
            r = json.loads(p.read_text())
        except ValueError:  # being replaced right now (written atomically: read again later)
            continue
        out[r["student"]] = r
    return out


class Cluster:
    """A scheduler and named workers, each a process of its own, on loopback."""

    def __init__(self, where: Path):
        self.where = where
        self.file = where / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self._start("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(self.file)])
        deadline = time.monotonic() + 120
        while not self.file.exists() and time.monotonic() < deadline:
            assert self.procs["scheduler"].poll() is None, self.log("scheduler")
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written whole by then
        self.address = json.loads(self.file.read_text())["address"]

    def _start(self, name: str, cmd: list[str]) -> None:
        self.logs[name] = self.where / f"{name}.log"
        with open(self.logs[name], "wb") as log:
            self.procs[name] = subprocess.Popen(cmd, cwd=self.where, env=_env(), stdout=log, stderr=log,
                                                stdin=subprocess.DEVNULL)

    def add_worker(self, name: str) -> None:
        (self.where / name).mkdir(exist_ok=True)
        self._start(name, [str(BIN / "dask"), "worker", self.address, "--name", name, "--nthreads", "1",
                           "--no-nanny", "--memory-limit", "0", "--no-dashboard",
                           "--local-directory", str(self.where / name)])

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=60)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")[-3000:]

    def close(self) -> None:
        for p in reversed(list(self.procs.values())):
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def batch(pg_server, tmp_path_factory):
    pytest.importorskip("distributed", reason="Dask distributed is not installed: .venv/bin/pip install -e "
                                              "'.[instructor,test]' (it brings distributed>=2024.1)")
    if not (BIN / "dask").exists():
        pytest.skip(f"no `dask` command next to {sys.executable}: .venv/bin/pip install -e '.[instructor,test]'")
    db = pg_server("dask")
    base = tmp_path_factory.mktemp("dask-course")
    course = C.Course.from_release(base / "serial", ASSIGNMENT, tmp_path_factory, cell_timeout=5)
    release = course.exercises
    cls = make_class(course.root, C.read(release / NAME), C.read(C.SOLUTIONS / ASSIGNMENT / NAME))
    shutil.rmtree(course.root / "exercises")
    for s in PICKED:
        course.submit(s, cls[s][0])
    for s, like in COPIES.items():
        course.submit(s, cls[like][0])
    dask_root = base / "on-dask"
    shutil.copytree(course.root, dask_root, symlinks=True)
    cluster = Cluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        cluster.add_worker("wA")
        cluster.add_worker("wB")
        # the reference: one worker, serial, the distinct submissions only (the copies must score as
        # their originals); the cluster's processes start meanwhile
        only = [x for s in PICKED for x in ("--student", s)]
        serial = run_fnngrade(course.root, "autograde", ASSIGNMENT, "--workers", "1", *only, *COMMON)
        assert serial.returncode == 0, serial.stdout[-2000:] + serial.stderr[-3000:]
        watch = cluster.client()
        watch.wait_for_workers(2, timeout=120)
        proc = subprocess.Popen([sys.executable, "-m", "fnngrade", "autograde", ASSIGNMENT, *COMMON,
                                 "--scheduler", cluster.address, "--db", db],
                                cwd=dask_root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        # wait for the first task result (a state written by a worker), then kill a busy worker
        deadline = time.monotonic() + 300
        before: dict = {}
        while proc.poll() is None and time.monotonic() < deadline:
            before = {s: r for s, r in _states(dask_root).items() if r.get("worker") is not None}
            if before:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the batch ended before any worker could be killed"
        busy = {}
        while proc.poll() is None and time.monotonic() < deadline:
            busy = {info["name"]: len(watch.processing().get(addr, ()))
                    for addr, info in watch.scheduler_info()["workers"].items()}
            if any(busy.values()):
                break
            time.sleep(0.05)
        victim = "wA" if busy.get("wA") else "wB"
        before = {s: r for s, r in _states(dask_root).items() if r.get("worker") is not None}
        cluster.procs[victim].send_signal(signal.SIGKILL)
        killed_at = time.time()
        cluster.add_worker("wC")
        out, err = proc.communicate(timeout=600)
        watch.close()
    finally:
        cluster.close()
    return {"serial": _states(course.root), "dask": _states(dask_root), "proc": proc, "out": out, "err": err,
            "before": before, "busy": busy, "victim": victim, "killed_at": killed_at, "db": db,
            "cluster": cluster}


def _log(b) -> str:
    return (f"\n--- stdout\n{b['out'][-2000:]}\n--- stderr\n{b['err'][-3000:]}\n--- wC\n"
            f"{b['cluster'].log('wC')}")


def test_the_cluster_grades_like_a_serial_run(batch):
    assert batch["proc"].returncode == 0, _log(batch)
    serial, dask = batch["serial"], batch["dask"]
    assert set(serial) == set(PICKED) and set(dask) == set(PICKED) | set(COPIES), (sorted(serial), sorted(dask))
    for s in PICKED:
        assert (dask[s]["state"], dask[s]["score"]) == (serial[s]["state"], serial[s]["score"]), (
            f"{s}: {dask[s]['state']} {dask[s]['score']} ({dask[s].get('reason')}) on the cluster, "
            f"{serial[s]['state']} {serial[s]['score']} ({serial[s].get('reason')}) serially")
    for s, like in COPIES.items():
        assert (dask[s]["state"], dask[s]["score"]) == (serial[like]["state"], serial[like]["score"])
    assert serial["perfect"]["score"] > serial["wrong-tanh"]["score"] > serial["blank"]["score"] == 0
    assert serial["cheat-patch"]["score"] == 0 and serial["os-exit"]["state"] == "crashed"
    assert "Dask dashboard" in batch["err"] or "no Dask dashboard" in batch["err"], batch["err"][-2000:]


def test_every_submission_is_in_the_postgres_gradebook_once(batch):
    from nbgrader.api import Gradebook

    dask = batch["dask"]
    with Gradebook(batch["db"]) as gb:
        rows = [s.student.id for s in gb.assignment_submissions(ASSIGNMENT)]
        assert sorted(rows) == sorted(dask), rows
        for s, r in dask.items():
            assert gb.find_submission(ASSIGNMENT, s).score == pytest.approx(r["score"]), s
    assert all(r["merged"] is True for r in dask.values())


IN_FLIGHT = 5.0  # seconds: a result sent before the kill is recorded within this


def test_a_killed_worker_loses_nothing_and_nothing_is_graded_twice(batch):
    """A worker killed (SIGKILL) while running a task: the batch completed without it, what was
    recorded before the kill is unchanged, and its task was graded again by another worker."""
    assert batch["busy"].get(batch["victim"]), f"no worker was running a task when one was killed: {batch['busy']}"
    before, dask = batch["before"], batch["dask"]
    assert before, "nothing was recorded before the kill"
    for s, r in before.items():
        assert (dask[s]["finished"], dask[s]["seconds"], dask[s]["worker"]) == (
            r["finished"], r["seconds"], r["worker"]), f"{s} was graded or recorded again after the kill"
    later = {s for s, r in dask.items() if s not in before and r.get("worker") is not None}
    # A result the victim sent just before it was killed may reach the client (and its state file)
    # just after: recorded within a few seconds of the kill, it was graded before it. Anything the
    # victim is credited with later would be a result from a dead process.
    recorded = {s: time.mktime(time.strptime(dask[s]["finished"], "%Y-%m-%dT%H:%M:%S")) for s in later}
    late = {s: dask[s]["worker"] for s in later
            if dask[s]["worker"] == batch["victim"] and recorded[s] > batch["killed_at"] + IN_FLIGHT}
    assert later and not late and any(dask[s]["worker"] != batch["victim"] for s in later), (
        {s: dask[s]["worker"] for s in later}, batch["victim"], late)
    assert "crashed" not in {dask[s]["state"] for s in later if s != "os-exit"}, _log(batch)


def test_a_worker_that_joins_mid_batch_takes_work(batch):
    took = sorted(s for s, r in batch["dask"].items() if r.get("worker") == "wC")
    assert took, "the worker started after the kill graded nothing" + _log(batch)
