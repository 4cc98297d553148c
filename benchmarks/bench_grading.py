"""Throughput of the course's grader: plain ``nbgrader autograde`` against ``python -m fnngrade``.

A scratch course root holds one assignment (``01-neuron-activations`` by default) and ``--n``
synthetic submissions (a third perfect, a third blank, a third with one deliberate mistake from
``tests/pipeline/specs/<a>.toml``). The same class is graded three ways, each in a fresh copy of
the course root:

- ``nbgrader``: ``nbgrader autograde <a> --force``, one process, serial, no sandbox (what
  ``make autograde`` runs, without its ``generate_assignment`` step);
- ``fnngrade, 1 worker`` and ``fnngrade, 2 workers``: ``python -m fnngrade autograde <a>
  --workers N`` (sandboxed; a local Dask cluster of N worker processes), end to end: starting
  the cluster and the workers, checking the assignment's registration, merging into the
  gradebook. 2 workers against 1 is the parallel scaling; 1 worker against plain nbgrader is
  fnngrade's own cost per submission;
- ``Dask cluster on loopback``: a ``dask scheduler`` and two ``dask worker --nthreads 1``
  processes started by the benchmark before the clock starts (as a running cluster would be),
  then ``python -m fnngrade autograde <a> --scheduler tcp://127.0.0.1:PORT``;
- with ``--overhead-n K``: the sandbox's overhead (``fnngrade --workers 1`` with and without
  ``--unsandboxed`` on the first K submissions; overhead per submission = difference / K), the
  same for the remote checker (``--tests-in-kernel``) and for the prestarted kernels
  (``--no-prestart``).

Where a submission's time goes is read from the ``phases`` of the 1-worker run's state files
(medians over the submissions that ran a kernel). ``--runs R`` repeats everything R times;
every ratio is taken within one run (the machine may be shared), and their spread is reported.
The table and the exact command are written between the ``bench:begin``/``bench:end`` markers of
``benchmarks/README.md``.

Usage::

    python benchmarks/bench_grading.py --runs 3        # 40 submissions, three runs
    python benchmarks/bench_grading.py --n 12 --overhead-n 4 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pipeline import course as C  # noqa: E402

FRAGMENT = REPO / "benchmarks" / "README.md"


def make_course(root: Path, assignment: str, n: int, timeout: int) -> C.Course:
    course = C.Course.create(root, assignment, cell_timeout=timeout)
    release = course.release()
    name = f"{assignment}.ipynb"
    source = C.read(C.SOLUTIONS / assignment / name)
    released = C.read(release / name)
    perfect = C.fill_answers(released, source)
    muts = C.mutations(assignment)
    text = C.dumps(perfect)
    for k in range(n):
        kind = k % 3
        if kind == 0:
            body = text
        elif kind == 1:
            body = C.dumps(released)
        else:
            m = muts[k % len(muts)] if muts else None
            # a mutation is find/replace or a whole new source of one answer cell (spec format)
            body = C.dumps(m.apply(perfect, f"specs/{assignment}.toml, mutation {k % len(muts)}")) if m else text
        course.submit(f"student-{k:03d}", {name: body})
    shutil.rmtree(root / "exercises")
    return course


def fresh_copy(src: Path, dest: Path) -> C.Course:
    shutil.copytree(src, dest)
    course = C.Course(dest, "", "")
    env = dict(os.environ)
    db = f"sqlite:///{dest / 'grading' / 'gradebook.db'}"
    env.update(FNN_GRADEBOOK_URL=db, MPLBACKEND="Agg",
               PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
               PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""))
    course.env, course.db_url = env, db
    return course


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode not in (0,):
        sys.stderr.write(f"note: {' '.join(cmd[:5])} exited {p.returncode}\n{p.stderr[-1500:]}\n")
    return dt


def load() -> str:
    return "{:.1f}".format(os.getloadavg()[0])


class LoopbackCluster:
    """``dask scheduler`` and ``n`` ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, where: Path, env: dict, n: int = 2):
        bindir = Path(sys.executable).parent
        self.procs = []
        sched_file = where / "scheduler.json"
        log = open(where / "cluster.log", "wb")
        self.procs.append(subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                            "--no-dashboard", "--scheduler-file", str(sched_file)],
                                           cwd=where, env=env, stdout=log, stderr=log))
        deadline = time.monotonic() + 120
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        self.address = json.loads(sched_file.read_text())["address"]
        for k in range(n):
            self.procs.append(subprocess.Popen([str(bindir / "dask"), "worker", self.address, "--nthreads", "1",
                                                "--no-nanny", "--memory-limit", "0", "--no-dashboard",
                                                "--name", f"bench-{k}", "--local-directory", str(where)],
                                               cwd=where, env=env, stdout=log, stderr=log))
        from distributed import Client

        with Client(self.address, timeout=120) as c:
            c.wait_for_workers(n, timeout=120)

    def close(self) -> None:
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


PHASE_NAMES = {
    "wait_for_prestart": "waiting for the prestarted kernel",
    "kernel_launch": "kernel start in the jail (not prestarted)",
    "kernel_ready": "connecting to the kernel, filling its working folder",
    "cells": "running the cells (answers in the kernel, tests in the checker)",
    "nbgrader": "nbgrader's whole Autograde (includes the two rows above)",
    "prestart_overlapped": "prestart: jailed kernel + imports (overlapped with the previous submission)",
}


def phases(root: Path, assignment: str) -> dict[str, float]:
    per: dict[str, list[float]] = {}
    seconds = []
    for f in (root / "grading" / ".fnngrade" / assignment / "state").glob("*.json"):
        r = json.loads(f.read_text())
        ph = r.get("phases") or {}
        if "nbgrader" not in ph:
            continue
        seconds.append(r["seconds"])
        for k, v in ph.items():
            per.setdefault(k, []).append(v)
    out = {k: statistics.median(v) for k, v in per.items()}
    if seconds:
        out["seconds"] = statistics.median(seconds)
    return out


def one_run(tmp: Path, a: str, args, env_note: list[str]) -> dict:
    fg_cmd = [sys.executable, "-m", "fnngrade", "autograde", a, "--timeout", str(args.timeout), "--no-progress"]
    out: dict = {"load": [load()]}
    plain = fresh_copy(tmp / "base", tmp / "plain")
    out["plain"] = timed([sys.executable, "-m", "nbgrader", "autograde", a, "--force", "--log-level=WARN"],
                         plain.root, plain.env)
    out["load"].append(load())
    one = fresh_copy(tmp / "base", tmp / "one")
    out["one"] = timed(fg_cmd + ["--workers", "1"], one.root, one.env)
    out["phases"] = phases(one.root, a)
    out["load"].append(load())
    par = fresh_copy(tmp / "base", tmp / "par")
    out["two"] = timed(fg_cmd + ["--workers", "2"], par.root, par.env)
    out["load"].append(load())
    dk = fresh_copy(tmp / "base", tmp / "dask")
    (tmp / "cluster").mkdir()
    cluster = LoopbackCluster(tmp / "cluster", dk.env, 2)
    try:
        out["dask"] = timed(fg_cmd + ["--scheduler", cluster.address], dk.root, dk.env)
    finally:
        cluster.close()
    out["load"].append(load())
    k = min(args.overhead_n, args.n)
    if k:
        only = [x for s in range(k) for x in ("--student", f"student-{s:03d}")]
        for key, extra in (("sb", []), ("ub", ["--unsandboxed"]), ("ng", ["--tests-in-kernel"]),
                           ("np", ["--no-prestart"])):
            c = fresh_copy(tmp / "base", tmp / key)
            out[key] = timed(fg_cmd + ["--workers", "1", *extra, *only], c.root, c.env)
    for d in ("plain", "one", "par", "dask", "cluster", "sb", "ub", "ng", "np"):
        shutil.rmtree(tmp / d, ignore_errors=True)
    return out


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}×"
    return f"{statistics.median(values):.2f}× (runs: {', '.join(f'{v:.2f}' for v in values)}; " \
           f"spread {min(values):.2f}–{max(values):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assignment", default="01-neuron-activations")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--overhead-n", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    a = args.assignment
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        base = make_course(tmp / "base", a, args.n, args.timeout)
        # the release above registered the assignment in the base gradebook, which every copy keeps
        del base
        for r in range(args.runs):
            runs.append(one_run(tmp, a, args, []))
            print(f"run {r + 1}: " + json.dumps({k: v for k, v in runs[-1].items() if k != "phases"}), flush=True)
    n = args.n
    k = min(args.overhead_n, n)
    lines = [
        f"Measured by `python benchmarks/bench_grading.py --n {n} --runs {args.runs} --timeout {args.timeout}"
        + (f" --overhead-n {k}" if k else "") + f"` on {os.cpu_count()} cores ({time.strftime('%Y-%m-%d')}), "
        f"{n} submissions of `{a}` (a third perfect, a third blank, a third with one mistake); "
        "wall time of each contestant, one column per run (load average before each run's contestants: "
        + "; ".join("/".join(r["load"]) for r in runs) + "):",
        "",
        "| grader | " + " | ".join(f"run {i + 1} (s)" for i in range(len(runs))) + " | submissions / min (median) |",
        "|---|" + "---:|" * len(runs) + "---:|",
    ]
    for label, key in (("plain `nbgrader autograde` (serial, unsandboxed)", "plain"),
                       ("`fnngrade autograde --workers 1` (local Dask cluster, sandboxed)", "one"),
                       ("`fnngrade autograde --workers 2` (local Dask cluster, sandboxed)", "two"),
                       ("`fnngrade autograde --scheduler tcp://127.0.0.1:…` (Dask scheduler + 2 workers on loopback, "
                        "already running)", "dask")):
        ts = [r[key] for r in runs]
        lines.append(f"| {label} | " + " | ".join(f"{t:.1f}" for t in ts) + f" | {60 * n / statistics.median(ts):.1f} |")
    lines += [
        "",
        "Ratios, each within one run (median, every run, spread):",
        "",
        f"- fnngrade on 1 worker against plain nbgrader: **{spread([r['plain'] / r['one'] for r in runs])}** "
        "(target ≥ 1.0×)",
        f"- fnngrade on 2 workers against plain nbgrader: **{spread([r['plain'] / r['two'] for r in runs])}** "
        "(target ≥ 1.8×)",
        f"- scaling of fnngrade from 1 to 2 local workers: {spread([r['one'] / r['two'] for r in runs])}",
        f"- the loopback Dask cluster (2 workers) against plain nbgrader: "
        f"{spread([r['plain'] / r['dask'] for r in runs])}; against the local 1-worker run: "
        f"{spread([r['one'] / r['dask'] for r in runs])}",
    ]
    ph = runs[-1]["phases"]
    if ph:
        lines += ["", f"Where a submission's time goes (fnngrade on 1 worker, last run; median seconds over the "
                      f"submissions that ran a kernel; a whole submission took {ph.get('seconds', 0):.2f} s in the "
                      "worker):", "", "| phase | median (s) |", "|---|---:|"]
        for key, label in PHASE_NAMES.items():
            if key in ph:
                lines.append(f"| {label} | {ph[key]:.2f} |")
    if k:
        r = runs[-1]
        lines += ["", f"Overheads (last run, {k} submissions on 1 worker): sandboxed {r['sb']:.1f} s, "
                      f"`--unsandboxed` {r['ub']:.1f} s (**{(r['sb'] - r['ub']) / k:+.2f} s per submission**), "
                      f"`--tests-in-kernel` {r['ng']:.1f} s (the remote checker: **{(r['sb'] - r['ng']) / k:+.2f} s "
                      f"per submission**), `--no-prestart` {r['np']:.1f} s (prestarting saves "
                      f"**{(r['np'] - r['sb']) / k:+.2f} s per submission**)."]
    table = "\n".join(lines)
    print(table)
    if not args.no_write and FRAGMENT.exists():
        text = FRAGMENT.read_text()
        b, e = "<!-- bench:begin -->", "<!-- bench:end -->"
        if b in text and e in text:
            head, rest = text.split(b, 1)
            _, tail = rest.split(e, 1)
            FRAGMENT.write_text(head + b + "\n" + table + "\n" + e + tail)
            print(f"\nwritten to {FRAGMENT}")


if __name__ == "__main__":
    main()
