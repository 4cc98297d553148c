"""Command line: ``python -m fnngrade autograde <assignment> [options]`` (see fnngrade's docstring)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .files import FileLimits
from .grader import EXIT_DISK_FULL, Options, autograde, format_summary, sandbox_selftest, write_summary
from .engine import WORKER_COMMAND
from .sandbox import Limits


def _root() -> Path:
    cwd = Path.cwd()
    if (cwd / "nbgrader_config.py").exists():
        return cwd
    return Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fnngrade", description="Sandboxed, parallel nbgrader autograding.")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("autograde", help="grade every submission under grading/submitted/*/<assignment>/")
    a.add_argument("assignment")
    a.add_argument("--root", type=Path, default=None, help="course root (default: the folder with nbgrader_config.py)")
    a.add_argument("--workers", type=int, default=0,
                   help="worker processes of the local Dask cluster (default: number of cores; "
                        "ignored with --scheduler, where the cluster's workers grade)")
    a.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="grade on a running Dask cluster, e.g. tcp://host:8786 or tls://host:8786, whose workers "
                        "were started with `%s` (see README); default: a local cluster on this host" % WORKER_COMMAND)
    a.add_argument("--tls-ca-file", default=None, help="with a tls:// --scheduler: the CA certificate")
    a.add_argument("--tls-cert", default=None, help="with a tls:// --scheduler: this client's certificate")
    a.add_argument("--tls-key", default=None, help="with a tls:// --scheduler: this client's private key")
    a.add_argument("--unsandboxed", action="store_true", help="run student code WITHOUT the bubblewrap jail")
    a.add_argument("--db", default=None, help="gradebook URL (default: $FNN_GRADEBOOK_URL or grading/gradebook.db)")
    a.add_argument("--timeout", type=int, default=int(os.environ.get("FNN_CELL_TIMEOUT", "60")),
                   help="seconds per cell (default: $FNN_CELL_TIMEOUT or 60)")
    a.add_argument("--force", action="store_true", help="regrade submissions that already have a state")
    a.add_argument("--retry-failed", action="store_true", help="regrade every submission not in state 'graded'")
    a.add_argument("--shard", default=None, help=argparse.SUPPRESS)  # gone: says what replaces it
    a.add_argument("--student", action="append", default=None, help="grade only this student (repeatable)")
    a.add_argument("--max-output-chars", type=int, default=10_000, help="output characters kept per cell")
    a.add_argument("--mem-mb", type=int, default=Limits.mem // 2**20, help="kernel address space (RLIMIT_AS)")
    a.add_argument("--cpu", type=int, default=Limits.cpu, help="kernel CPU seconds (RLIMIT_CPU)")
    a.add_argument("--nproc", type=int, default=Limits.nproc, help="processes+threads of a kernel (RLIMIT_NPROC)")
    a.add_argument("--fsize-mb", type=int, default=Limits.fsize // 2**20, help="largest file a kernel writes")
    a.add_argument("--cwd-mb", type=int, default=Limits.cwd // 2**20,
                   help="size of the kernel's working folder (a tmpfs in the jail)")
    a.add_argument("--tmp-mb", type=int, default=Limits.tmp // 2**20, help="size of the kernel's /tmp (a tmpfs)")
    a.add_argument("--submission-timeout", type=float, default=None,
                   help="wall-clock seconds for one whole submission before its kernel is stopped (the cells "
                        "that ran keep their points); default 300, or 3 cell timeouts + 60 s if longer")
    a.add_argument("--max-files", type=int, default=FileLimits.max_files,
                   help="files and folders of a submission that are copied (the rest is dropped, with a note)")
    a.add_argument("--max-submission-mb", type=int, default=FileLimits.max_bytes // 2**20,
                   help="bytes of a submission that are copied (the rest is dropped, with a note)")
    a.add_argument("--db-wait", type=float, default=60.0,
                   help="seconds to wait for a locked or unreachable gradebook before keeping results in the "
                        "state files (merged by the next run)")
    a.add_argument("--uid-base", type=int, default=64000,
                   help="kernel uids are the first free ones from here, leased per run on this host")
    a.add_argument("--reregister", action="store_true",
                   help="run nbgrader generate_assignment even if the gradebook's copy of the assignment is current")
    a.add_argument("--no-progress", action="store_true")
    a.add_argument("--no-prestart", action="store_true",
                   help="start each kernel only when its submission comes (by default the next submission's "
                        "kernel is started, with the assignment's imports, while the current one runs)")
    a.add_argument("--tests-in-kernel", action="store_true",
                   help="run the test cells in the student's kernel, as plain nbgrader does, instead of the remote "
                        "checker (UNSAFE: the answers can patch the tests; to measure what the checker costs)")
    s = sub.add_parser("summary", help="rewrite grading/summary-<assignment>.csv from the state files")
    s.add_argument("assignment")
    s.add_argument("--root", type=Path, default=None)
    args = p.parse_args(argv)
    root = (args.root or _root()).resolve()

    if args.cmd == "summary":
        print(format_summary(write_summary(root, args.assignment)))
        return 0
    for name in ("workers", "timeout", "max_files", "max_submission_mb", "mem_mb", "cpu", "nproc", "fsize_mb",
                 "cwd_mb", "tmp_mb", "max_output_chars"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must be 0 or more; got {getattr(args, name)}")

    if args.shard is not None:
        p.error("--shard is gone: several hosts now grade one batch on a Dask cluster. Start `dask scheduler` on "
                f"one host and `{WORKER_COMMAND}` on each grading host, then run this command with "
                "--scheduler tcp://HOST:8786 (README, 'Several hosts'); --student ID picks students by hand")
    security = None
    if args.tls_ca_file or args.tls_cert or args.tls_key:
        if not (args.tls_ca_file and args.tls_cert and args.tls_key):
            p.error("--tls-ca-file, --tls-cert and --tls-key go together (the cluster's CA, this client's "
                    "certificate and key)")
        from distributed.security import Security

        security = Security(tls_ca_file=args.tls_ca_file, tls_client_cert=args.tls_cert,
                            tls_client_key=args.tls_key, require_encryption=True)
    if not (root / "solutions" / args.assignment).is_dir():
        print(f"fnngrade: no assignment {args.assignment!r} under {root / 'solutions'}", file=sys.stderr)
        return 2
    if args.unsandboxed:
        print("fnngrade: WARNING: --unsandboxed: student code runs with this user's rights "
              "(it can read solutions/ and the gradebook); resource limits still apply", file=sys.stderr)
    elif not args.scheduler:  # on a cluster, each worker checks its own host and leaves if it cannot jail
        why = sandbox_selftest()
        if why:
            print(f"fnngrade: refusing to run student code unsandboxed: {why}.\n"
                  "Install bubblewrap (apt-get install bubblewrap) or pass --unsandboxed to accept the risk.",
                  file=sys.stderr)
            return 2
    o = Options(
        root=root, assignment=args.assignment, workers=args.workers, sandboxed=not args.unsandboxed,
        db_url=args.db, timeout=args.timeout, force=args.force, retry_failed=args.retry_failed,
        scheduler=args.scheduler, security=security, students=args.student, max_output_chars=args.max_output_chars,
        submission_timeout=args.submission_timeout, uid_base=args.uid_base, progress=not args.no_progress, remote_tests=not args.tests_in_kernel, reregister=args.reregister,
        limits=Limits(mem=args.mem_mb * 2**20, cpu=args.cpu, nproc=args.nproc, fsize=args.fsize_mb * 2**20,
                      tmp=args.tmp_mb * 2**20, cwd=args.cwd_mb * 2**20),
        file_limits=FileLimits(max_files=args.max_files, max_bytes=args.max_submission_mb * 2**20),
        db_wait=args.db_wait, prestart=not args.no_prestart,
    )
    try:
        summary = autograde(o)
    except (RuntimeError, OSError) as e:
        if "Dask" not in str(e) and "distributed" not in str(e) and not args.scheduler:
            raise
        where = f"the Dask scheduler {args.scheduler}" if args.scheduler else "a local Dask cluster"
        print(f"fnngrade: could not grade on {where}: {type(e).__name__}: {e}\n"
              "Nothing was graded or recorded by this run; check the address (and that `dask scheduler` runs "
              "there), or run without --scheduler.", file=sys.stderr)
        return 2
    print(format_summary(summary))
    if summary.get("stopped"):
        print(f"fnngrade: stopped early: {summary['stopped']}", file=sys.stderr)
        return EXIT_DISK_FULL
    return 0


if __name__ == "__main__":
    sys.exit(main())
