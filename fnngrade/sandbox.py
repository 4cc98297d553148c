"""The jail a student's kernel runs in: a kernelspec whose launcher execs bubblewrap.

What the kernel sees (everything else does not exist inside the jail):

=====================================  ==========  ============================================
path                                   access      why
=====================================  ==========  ============================================
``/usr`` (and ``/bin``, ``/lib*``)     read-only   the C library and shared objects Python needs
the virtual environment (sys.prefix)   read-only   numpy, scipy, sympy, ipykernel, ...
the Python install (sys.base_prefix)   read-only   the interpreter and the standard library
the ``fnnlib`` package directory       read-only   only that folder, never the repository root,
                                                   which holds ``solutions/`` and ``grading/``
the student's autograded folder        read-write  the kernel's working directory
the worker's socket directory          read-write  the connection file and the IPC sockets
``/tmp``                               read-write  a private tmpfs of bounded size
``/proc``, ``/dev``                    -           a fresh procfs (own pid namespace), minimal /dev
=====================================  ==========  ============================================

Namespaces: pid, net (no network at all: the kernel talks to nbgrader over IPC sockets), ipc,
uts and cgroup are unshared; ``--die-with-parent`` and ``--new-session`` are set.

Privileges: ``bwrap`` runs as root (no user namespace) to build the mounts, then ``setpriv``
switches to an unprivileged uid/gid (``64000 + worker``, no supplementary groups) before Python
starts, and ``bwrap`` sets ``no_new_privs``. The kernel is therefore an ordinary user *on the
host*, which is what makes ``RLIMIT_NPROC`` effective: the kernel ignores that limit for uid 0,
and a user namespace that maps an inner uid to host root (``bwrap --unshare-user --uid 65534``
run as root) does not help, because the count is kept for the host uid. One uid per worker keeps
one student's fork bomb from exhausting the process budget of the other workers' kernels.

Limits (set by :mod:`fnngrade.launch` before ``exec``): ``RLIMIT_AS`` (memory), ``RLIMIT_CPU``
(CPU seconds over the kernel's life; SIGXCPU kills it), ``RLIMIT_NPROC`` (processes and threads
of that uid), ``RLIMIT_FSIZE`` (largest file it can write), no core dumps, and the size of /tmp.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KERNEL_NAME", "Limits", "bwrap_path", "setpriv_path", "bwrap_argv", "read_only_paths",
           "write_kernelspec", "kernel_env"]

KERNEL_NAME = "fnngrade-sandbox"
LAUNCH = Path(__file__).resolve().parent / "launch.py"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one kernel (0 = no limit)."""

    mem: int = 4 * 1024**3       # bytes of address space (RLIMIT_AS)
    cpu: int = 600               # CPU seconds over the kernel's whole life (RLIMIT_CPU)
    nproc: int = 256             # processes + threads of the kernel's uid (RLIMIT_NPROC)
    fsize: int = 64 * 1024**2    # largest file the kernel may write (RLIMIT_FSIZE)
    tmp: int = 256 * 1024**2     # size of the private /tmp


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def setpriv_path() -> str | None:
    return shutil.which("setpriv")


def read_only_paths() -> list[str]:
    """The directories a kernel needs read-only: the venv, the Python install, fnnlib only."""
    import fnnlib  # the course library: bind its own folder, never the repository root

    paths = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.realpath(fnnlib.__file__))]
    out: list[str] = []
    for p in map(os.path.realpath, paths):
        if p.startswith("/usr/") or p == "/usr":
            continue  # already bound as a whole
        if any(p == q or p.startswith(q + os.sep) for q in out):
            continue
        out = [q for q in out if not q.startswith(p + os.sep)] + [p]
    return sorted(out)


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts
    return [str(Path(*parts[:i])) for i in range(2, len(parts))]


def bwrap_argv(*, uid: int, sockdir: str, limits: Limits, extra_env: dict[str, str] | None = None) -> list[str]:
    """The jail's command line with ``{cwd}`` and ``{connection_file}`` left as placeholders."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise FileNotFoundError("bwrap (Debian package 'bubblewrap') is not installed")
    python = os.path.join(sys.prefix, "bin", "python")
    ro = read_only_paths()
    a = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
         "--die-with-parent", "--new-session", "--clearenv"]
    env = {
        "HOME": "/tmp", "PATH": f"{sys.prefix}/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra_env or {})
    for k, v in env.items():
        a += ["--setenv", k, v]
    a += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            a += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            a += ["--ro-bind", top, top]
    a += ["--proc", "/proc", "--dev", "/dev"]
    a += ["--perms", "1777", "--size", str(limits.tmp), "--tmpfs", "/tmp"] if limits.tmp else \
         ["--perms", "1777", "--tmpfs", "/tmp"]
    # parents of every mount point: bwrap would create them 0700 (unreadable for the kernel's uid)
    made: set[str] = {"/usr", "/tmp", "/proc", "/dev"}
    for p in ro + [sockdir]:
        for d in _ancestors(p):
            if d not in made:
                a += ["--perms", "0755", "--dir", d]
                made.add(d)
    for p in ro:
        a += ["--ro-bind", p, p]
    a += ["--bind", sockdir, sockdir]
    # the working directory: its parents are created at run time (placeholder), then the folder
    a += ["--fnngrade-cwd-parents", "--bind", "{cwd}", "{cwd}", "--chdir", "{cwd}"]
    setpriv = setpriv_path()
    if setpriv:
        a += [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--"]
        a += [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    else:  # no util-linux: drop privileges from Python itself before the kernel starts
        code = ("import os,sys;os.setgroups([]);os.setresgid({u},{u},{u});os.setresuid({u},{u},{u});"
                "os.execv(sys.executable,[sys.executable,'-m','ipykernel_launcher','-f',sys.argv[1]])").format(u=uid)
        a += [python, "-c", code, "{connection_file}"]
    return a


def write_kernelspec(jupyter_dir: Path, *, sandboxed: bool) -> Path:
    """Write ``<jupyter_dir>/kernels/fnngrade-sandbox/kernel.json``; put jupyter_dir on JUPYTER_PATH."""
    d = jupyter_dir / "kernels" / KERNEL_NAME
    d.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, str(LAUNCH), "-f", "{connection_file}"],
        "display_name": "Python 3 (fnngrade sandbox)" if sandboxed else "Python 3 (fnngrade, UNSANDBOXED)",
        "language": "python",
        "metadata": {"debugger": False},
        # SIGINT sent to the launcher's process would stop at bwrap, which does not forward it:
        # interrupts go as a message on the control channel, and ipykernel signals itself
        "interrupt_mode": "message",
    }
    (d / "kernel.json").write_text(json.dumps(spec, indent=1))
    return d


def kernel_env(*, sandboxed: bool, uid: int, sockdir: str, limits: Limits) -> dict[str, str]:
    """The FNNGRADE_* variables the launcher reads (set in the worker's environment)."""
    env = {
        "FNNGRADE_SANDBOX": "1" if sandboxed else "0",
        "FNNGRADE_UID": str(uid),
        "FNNGRADE_MEM": str(limits.mem),
        "FNNGRADE_CPU": str(limits.cpu),
        "FNNGRADE_NPROC": str(limits.nproc),
        "FNNGRADE_FSIZE": str(limits.fsize),
        "FNNGRADE_SOCKDIR": sockdir,
    }
    if sandboxed:
        env["FNNGRADE_BWRAP_ARGV"] = json.dumps(bwrap_argv(uid=uid, sockdir=sockdir, limits=limits))
    return env
