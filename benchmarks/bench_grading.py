"""Throughput of the course's grader: plain ``nbgrader autograde`` against ``python -m fnngrade``.

A scratch course root holds one assignment (``01-neuron-activations`` by default) and ``--n``
synthetic submissions (a third perfect, a third blank, a third with one deliberate mistake from
``tests/pipeline/specs/<a>.toml``). The same class is graded three ways, each in a fresh copy of
the course root:

- ``nbgrader``: ``nbgrader autograde <a> --force``, one process, serial, no sandbox (what
  ``make autograde`` runs, without its ``generate_assignment`` step);
- ``fnngrade, 1 worker`` and ``fnngrade, 2 workers``: ``python -m fnngrade autograde <a>
  --workers N`` (sandboxed), end to end: checking the assignment's registration, starting the
  workers, merging into the gradebook. 2 workers against 1 is the parallel scaling; 1 worker
  against plain nbgrader is fnngrade's own cost per submission;
- the sandbox's overhead: ``fnngrade --workers 1`` with and without ``--unsandboxed`` on the
  first ``--overhead-n`` submissions; overhead per submission = difference / count; the same
  for the remote checker (``--tests-in-kernel`` runs the tests in the student's kernel instead).

Each figure is one run on this machine (wall clock); throughput is submissions per minute. The
table and the exact command are written between the ``bench:begin``/``bench:end`` markers of
``benchmarks/README.md``.

Usage::

    python benchmarks/bench_grading.py            # 40 submissions
    python benchmarks/bench_grading.py --n 12 --overhead-n 4 --no-write
"""

from __future__ import annotations

import argparse
import os
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assignment", default="01-neuron-activations")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--overhead-n", type=int, default=8)
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    a = args.assignment
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        base = make_course(tmp / "base", a, args.n, args.timeout)
        # the release above registered the assignment in the base gradebook, which every copy keeps
        del base
        plain = fresh_copy(tmp / "base", tmp / "plain")
        t_plain = timed([sys.executable, "-m", "nbgrader", "autograde", a, "--force", "--log-level=WARN"],
                        plain.root, plain.env)
        fg_cmd = [sys.executable, "-m", "fnngrade", "autograde", a, "--timeout", str(args.timeout), "--no-progress"]
        one = fresh_copy(tmp / "base", tmp / "one")
        t_one = timed(fg_cmd + ["--workers", "1"], one.root, one.env)
        par = fresh_copy(tmp / "base", tmp / "par")
        t_par = timed(fg_cmd + ["--workers", "2"], par.root, par.env)
        k = min(args.overhead_n, args.n)
        only = [x for s in range(k) for x in ("--student", f"student-{s:03d}")]
        sb = fresh_copy(tmp / "base", tmp / "sb")
        t_sb = timed(fg_cmd + ["--workers", "1", *only], sb.root, sb.env)
        ub = fresh_copy(tmp / "base", tmp / "ub")
        t_ub = timed(fg_cmd + ["--workers", "1", "--unsandboxed", *only], ub.root, ub.env)
        ng = fresh_copy(tmp / "base", tmp / "ng")
        t_ng = timed(fg_cmd + ["--workers", "1", "--tests-in-kernel", *only], ng.root, ng.env)
    n = args.n
    rows = [
        ("plain `nbgrader autograde` (serial, unsandboxed)", t_plain, n),
        ("`python -m fnngrade autograde --workers 1` (sandboxed)", t_one, n),
        ("`python -m fnngrade autograde --workers 2` (sandboxed)", t_par, n),
    ]
    lines = [
        f"Measured by `python benchmarks/bench_grading.py --n {n} --overhead-n {k} --timeout {args.timeout}` "
        f"on {os.cpu_count()} cores ({time.strftime('%Y-%m-%d')}), {n} submissions of `{a}` "
        "(a third perfect, a third blank, a third with one mistake), one run each:",
        "",
        "| grader | wall time (s) | submissions / min |",
        "|---|---:|---:|",
    ]
    for label, t, m in rows:
        lines.append(f"| {label} | {t:.1f} | {60 * m / t:.1f} |")
    ratio = t_plain / t_par
    over = (t_sb - t_ub) / k
    lines += [
        "",
        f"Speed-up of fnngrade on 2 workers over plain nbgrader: **{ratio:.2f}×** (target ≥ 1.8×; fnngrade's time "
        "includes starting its workers and checking the gradebook's copy of the assignment). "
        f"Scaling of fnngrade from 1 to 2 workers: **{t_one / t_par:.2f}×**; fnngrade on 1 worker against plain "
        f"nbgrader: **{t_plain / t_one:.2f}×**.",
        "",
        f"Sandbox overhead: {k} submissions on 1 worker took {t_sb:.1f} s sandboxed and {t_ub:.1f} s with "
        f"`--unsandboxed`: **{over:+.2f} s per submission**. The remote checker: {t_ng:.1f} s with "
        f"`--tests-in-kernel`, **{(t_sb - t_ng) / k:+.2f} s per submission**.",
    ]
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
