"""Kernel launcher: resource limits, then the bubblewrap jail, then ``ipykernel``.

This file is the ``argv`` of the ``fnngrade-sandbox`` kernelspec::

    <python> <this file> -f {connection_file}

It imports nothing but the standard library (it runs before anything else, and is also run as a
plain script, so it must not need ``fnngrade`` on ``sys.path``). Everything it needs comes from
environment variables that the grading worker sets (``FNNGRADE_*``, see :func:`_settings`); the
kernel's working directory (set by nbclient) is the worker's throwaway copy of the submission's
files, which the jail shows read-only (the kernel works in a tmpfs, see :mod:`fnngrade.sandbox`).

Order of operations (all in this process, which then ``exec``\\ s):

1. ``PR_SET_PDEATHSIG = SIGKILL``: the kernel dies with the worker that started it.
2. In sandboxed mode, the connection file's folder must be a fresh folder that the worker made
   for this kernel alone, directly inside ``FNNGRADE_SOCKBASE``, owned by root, not a link; it
   and the connection file are handed to the kernel's uid through descriptors opened with
   ``O_NOFOLLOW`` (``fchown``), so no link is ever followed. Nothing else is chowned: the working
   folder is never written by the kernel (it is bound read-only; the kernel writes a tmpfs).
3. ``RLIMIT_AS``, ``RLIMIT_CPU``, ``RLIMIT_FSIZE``, ``RLIMIT_NPROC``, ``RLIMIT_CORE = 0``. They are
   inherited through ``bwrap`` and ``setpriv`` by the kernel and every process it starts.
4. ``exec bwrap ... setpriv --reuid U ... python -I -S -c <start> <conn>`` (see
   ``fnngrade.sandbox.bwrap_argv``; the argv is precomputed by the worker and passed as JSON in
   ``FNNGRADE_BWRAP_ARGV`` with the placeholders ``{cwd}``, ``{sockdir}`` and
   ``{connection_file}``), or, with ``FNNGRADE_SANDBOX=0`` (``--unsandboxed``),
   ``exec python -m ipykernel_launcher -f <conn>`` with the same limits.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import stat
import sys


def _settings() -> dict:
    env = os.environ
    return {
        "sandbox": env.get("FNNGRADE_SANDBOX", "1") == "1",
        "uid": int(env.get("FNNGRADE_UID", "64000")),
        "mem": int(env.get("FNNGRADE_MEM", str(4 * 1024**3))),
        "cpu": int(env.get("FNNGRADE_CPU", "600")),
        "nproc": int(env.get("FNNGRADE_NPROC", "256")),
        "fsize": int(env.get("FNNGRADE_FSIZE", str(64 * 1024**2))),
        "sockbase": env.get("FNNGRADE_SOCKBASE", ""),
        "argv": json.loads(env.get("FNNGRADE_BWRAP_ARGV", "[]")),
    }


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker's watchdog still kills the kernel
        pass


def _hand_over(conn: str, sockbase: str, uid: int) -> str:
    """Give the kernel's uid its socket folder and connection file; return the folder.

    Refuses (exit) unless the folder is a real folder directly inside ``sockbase``, owned by root
    and private (0700), i.e. one the worker has just made; every change goes through a
    descriptor opened with ``O_NOFOLLOW``."""
    sockdir = os.path.dirname(conn)
    if not sockbase or os.path.dirname(sockdir) != os.path.realpath(sockbase):
        sys.exit(f"fnngrade.launch: the connection file {conn} is not in a socket folder of "
                 f"{sockbase!r} (set KernelManager.connection_file)")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        dfd = os.open(sockdir, flags | os.O_DIRECTORY)
    except OSError as e:
        sys.exit(f"fnngrade.launch: socket folder {sockdir}: {e}")
    try:
        st = os.fstat(dfd)
        if st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077:
            sys.exit(f"fnngrade.launch: socket folder {sockdir} is not a fresh private folder of the worker")
        try:
            cfd = os.open(os.path.basename(conn), flags, dir_fd=dfd)
        except OSError as e:
            sys.exit(f"fnngrade.launch: connection file {conn}: {e}")
        try:
            if not stat.S_ISREG(os.fstat(cfd).st_mode):
                sys.exit(f"fnngrade.launch: connection file {conn} is not a regular file")
            os.fchown(cfd, uid, uid)
        finally:
            os.close(cfd)
        os.fchown(dfd, uid, uid)
    finally:
        os.close(dfd)
    return sockdir


def _set_limits(s: dict) -> None:
    def lim(which: int, value: int) -> None:
        if value > 0:
            resource.setrlimit(which, (value, value))

    lim(resource.RLIMIT_AS, s["mem"])
    # soft limit: SIGXCPU (kills the kernel); the hard limit one second later is SIGKILL
    if s["cpu"] > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (s["cpu"], s["cpu"] + 1))
    lim(resource.RLIMIT_FSIZE, s["fsize"])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if s["sandbox"]:
        # counted per real uid: enforced because the kernel runs as the unprivileged uid
        lim(resource.RLIMIT_NPROC, s["nproc"])


def _expand(argv: list[str], cwd: str) -> list[str]:
    """Replace the ``--fnngrade-cwd-parents`` marker by ``--dir`` for each parent of the cwd.

    bwrap creates missing parents of a mount point with mode 0700, which the kernel's uid could
    not traverse; these are created 0755 on the jail's own root instead (they are empty).
    """
    made = {argv[i + 1] for i, x in enumerate(argv[:-1]) if x == "--dir"}
    parts = cwd.rstrip("/").split("/")
    parents = ["/".join(parts[:i]) for i in range(2, len(parts))]
    out: list[str] = []
    for x in argv:
        if x == "--fnngrade-cwd-parents":
            for d in parents:
                if d not in made and d not in ("/tmp", "/usr", "/proc", "/dev"):
                    out += ["--perms", "0755", "--dir", d]
        else:
            out.append(x)
    return out


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "-f":
        sys.exit("usage: launch.py -f CONNECTION_FILE")
    conn = os.path.abspath(argv[1])
    s = _settings()
    cwd = os.getcwd()
    _die_with_parent()
    if s["sandbox"]:
        if not s["argv"]:
            sys.exit("fnngrade.launch: FNNGRADE_BWRAP_ARGV is not set; refusing to start an unconfined kernel")
        sockdir = _hand_over(conn, s["sockbase"], s["uid"])
        fill = {"{cwd}": cwd, "{sockdir}": sockdir, "{connection_file}": conn}
        cmd = [fill.get(a, a) for a in _expand(s["argv"], cwd)]
        _set_limits(s)
        os.execv(cmd[0], cmd)
    _set_limits(s)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", conn])


if __name__ == "__main__":
    main()
