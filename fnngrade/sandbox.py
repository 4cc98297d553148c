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
its working folder                     read-write  a private tmpfs of bounded size (``Limits.cwd``)
                                                   filled with a copy of the submission's files
``/.submission``                       read-only   the worker's throwaway copy of those files
its own socket folder                  read-write  the connection file and the IPC sockets; a new
                                                   folder for every kernel, removed after it
``/tmp``                               read-write  a private tmpfs of bounded size
``/proc``, ``/dev``                    -           a fresh procfs (own pid namespace), minimal /dev
=====================================  ==========  ============================================

So the only host folder a kernel can write is its own socket folder, which the worker made for
this kernel alone (on a small tmpfs of the worker's private mount namespace, see
:mod:`fnngrade.worker`) and removes afterwards without following links; what the kernel writes in
its working folder disappears with the jail. The executed notebook is written by nbgrader into
the worker's autograded folder, which the kernel never sees.

Namespaces: pid, net (no network at all: the kernel talks to nbgrader over IPC sockets), ipc,
uts and cgroup are unshared; ``--die-with-parent`` and ``--new-session`` are set.

Privileges: ``bwrap`` runs as root (no user namespace) to build the mounts, then ``setpriv``
switches to an unprivileged uid/gid (leased for the run by :mod:`fnngrade.grader`, no
supplementary groups) before Python starts, and ``bwrap`` sets ``no_new_privs``. The kernel is
therefore an ordinary user *on the host*, which is what makes ``RLIMIT_NPROC`` effective: the
kernel ignores that limit for uid 0, and a user namespace that maps an inner uid to host root
(``bwrap --unshare-user --uid 65534`` run as root) does not help, because the count is kept for
the host uid. One uid per worker, never shared with another run on the host, keeps one student's
fork bomb from exhausting the process budget of any other kernel.

The first program in the jail (:data:`KERNEL_START`, as the kernel's uid) copies
``/.submission`` into the working folder and execs ``ipykernel``.

Limits (set by :mod:`fnngrade.launch` before ``exec``): ``RLIMIT_AS`` (memory), ``RLIMIT_CPU``
(CPU seconds over the kernel's life; SIGXCPU kills it), ``RLIMIT_NPROC`` (processes and threads
of that uid), ``RLIMIT_FSIZE`` (largest file it can write), no core dumps, and the sizes of /tmp
and of the working folder. The kernel's stdin, stdout and stderr are ``/dev/null`` and a file in
the worker's private folder: no descriptor of the worker reaches the jail.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COPY_SUBMISSION", "KERNEL_NAME", "KERNEL_START", "SUBMISSION_MOUNT", "Limits", "bwrap_path", "setpriv_path", "bwrap_argv",
           "read_only_paths", "write_kernelspec", "kernel_env"]

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
    cwd: int = 256 * 1024**2     # size of the kernel's working folder (a tmpfs in the jail)


# Where the jail shows the worker's throwaway copy of the submission's files (read-only).
SUBMISSION_MOUNT = "/.submission"

# The first program in the jail, run as the kernel's uid by ``python -I -S -c``: copy the
# submission's files (regular files and folders only) into the working folder, a bounded tmpfs,
# then become the kernel. Errors (a file larger than RLIMIT_FSIZE, a full tmpfs) skip that file.
COPY_SUBMISSION = r'''
def _fnngrade_copy_submission():
    import os, shutil, signal, sys
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file over RLIMIT_FSIZE fails (EFBIG), no kill
    def copy(s, d):
        for n in sorted(os.listdir(s)):
            a, b = os.path.join(s, n), os.path.join(d, n)
            try:
                if os.path.islink(a):
                    continue
                if os.path.isdir(a):
                    os.mkdir(b)
                    copy(a, b)
                elif os.path.isfile(a):
                    shutil.copyfile(a, b)
            except OSError as e:
                sys.stderr.write("fnngrade: %r was not copied into the working folder: %s\n" % (b, e))
    try:
        copy(SRC, ".")
    except OSError as e:
        sys.stderr.write("fnngrade: the submission's files were not copied: %s\n" % e)
    signal.signal(signal.SIGXFSZ, old)
_fnngrade_copy_submission()
del _fnngrade_copy_submission
'''.replace("SRC", repr(SUBMISSION_MOUNT))
# (a prestarted kernel runs COPY_SUBMISSION itself once its job is known: fnngrade.worker)
KERNEL_START = COPY_SUBMISSION + '''
import os, sys
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", sys.argv[1]])
'''


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


def bwrap_argv(*, uid: int, sockbase: str, limits: Limits, extra_env: dict[str, str] | None = None) -> list[str]:
    """The jail's command line with ``{cwd}``, ``{sockdir}`` and ``{connection_file}`` left as
    placeholders (filled by :mod:`fnngrade.launch` for each kernel); ``{sockdir}`` is a folder
    directly inside ``sockbase``."""
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
    for p in ro + [os.path.join(sockbase, "x")]:
        for d in _ancestors(p):
            if d not in made:
                a += ["--perms", "0755", "--dir", d]
                made.add(d)
    for p in ro:
        a += ["--ro-bind", p, p]
    # this kernel's own socket folder (the only host folder it can write), then the throwaway copy
    # of the submission, read-only, and the working folder: a bounded tmpfs (its parents are
    # created at run time, see fnngrade.launch)
    a += ["--bind", "{sockdir}", "{sockdir}", "--ro-bind", "{cwd}", SUBMISSION_MOUNT, "--fnngrade-cwd-parents"]
    a += ["--perms", "1777"] + (["--size", str(limits.cwd)] if limits.cwd else []) + ["--tmpfs", "{cwd}"]
    a += ["--chdir", "{cwd}"]
    start = ["-I", "-S", "-c"]
    setpriv = setpriv_path()
    if setpriv:
        a += [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--"]
        a += [python, *start, KERNEL_START, "{connection_file}"]
    else:  # no util-linux: drop privileges from Python itself before the kernel starts
        drop = "import os;os.setgroups([]);os.setresgid({u},{u},{u});os.setresuid({u},{u},{u})\n".format(u=uid)
        a += [python, *start, drop + KERNEL_START, "{connection_file}"]
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


def kernel_env(*, sandboxed: bool, uid: int, sockbase: str, limits: Limits) -> dict[str, str]:
    """The FNNGRADE_* variables the launcher reads (set in the worker's environment)."""
    env = {
        "FNNGRADE_SANDBOX": "1" if sandboxed else "0",
        "FNNGRADE_UID": str(uid),
        "FNNGRADE_MEM": str(limits.mem),
        "FNNGRADE_CPU": str(limits.cpu),
        "FNNGRADE_NPROC": str(limits.nproc),
        "FNNGRADE_FSIZE": str(limits.fsize),
        "FNNGRADE_SOCKBASE": sockbase,
    }
    if sandboxed:
        env["FNNGRADE_BWRAP_ARGV"] = json.dumps(bwrap_argv(uid=uid, sockbase=sockbase, limits=limits))
    return env
