"""One grading worker: a long-lived process with its own course root, gradebook and kernels.

Started by :mod:`fnngrade.grader` as ``python -m fnngrade.worker --fds R,W <json settings>``.

The channel. ``R`` and ``W`` are two pipes to the orchestrator, passed to this process alone (its
stdin is ``/dev/null``, its stdout and stderr the worker's log). The first line on ``R`` is the
run's secret; every later line is one job ``{"job": n, "token": "j<n>", "src": path}``. Every
line on ``W`` is ``<hex HMAC-SHA256(secret, body)> <body>``, body a JSON object: ``{"ready":
true}`` once, then one result per job. No kernel ever holds one of these descriptors (kernels get
``/dev/null`` and a private stderr file, and no other descriptor, see
:class:`JailedKernelManager`), and the secret never enters a jail, so nothing a student's code
prints or writes can pass for a result.

One job. The submission folder is copied with :func:`fnngrade.files.copy_tree` (no link
followed, bounded; what is dropped is listed in the reason) into ``grading/submitted/<token>/``
of this worker's root: nbgrader only ever sees the token, never the student's id, so any id is
safe. nbgrader's ``Autograde`` converter (in-process, with fnngrade's preprocessors) writes the
executed notebook into ``grading/autograded/<token>/``, a folder of root's that no kernel sees;
the kernel itself starts in ``kernel/<token>/``, a throwaway copy of the files nbgrader prepared,
which the jail shows read-only (the kernel works in a tmpfs). Each kernel has its own socket
folder on a small tmpfs of this worker's private mount namespace, mounted ``nosymfollow`` (a link
a kernel leaves there is never followed, not even by ZeroMQ reconnecting), removed after the
kernel. Everything from the previous job is removed before the next one.

A submission that runs past its budget (``budget`` seconds, ``--submission-timeout``) has its
kernel killed: the cell running gets an error, the later cells are not run, the cells that ran
keep their points, and the state is ``timed out``.
"""

from __future__ import annotations

import ctypes
import hashlib
import hmac
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from .files import CopyReport, FileLimits, NotAFolder, copy_tree, is_disk_full
from .sandbox import COPY_SUBMISSION

__all__ = ["Worker", "JailedKernelManager", "sign", "MAX_LINE"]

MAX_LINE = 16 * 2**20  # longest line either side accepts (a result is a few kB)


def sign(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).hexdigest().encode()


class DiskFull(RuntimeError):
    """A disk the worker writes to is full: the orchestrator stops the batch."""


def _validate(path: Path) -> str | None:
    """None if ``path`` is a readable notebook, else why not."""
    import nbformat

    try:
        raw = path.read_bytes()
    except OSError as e:
        return f"cannot read {path.name}: {e}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"{path.name} is not a text file (not a notebook)"
    try:
        data = json.loads(text)
    except ValueError as e:
        return f"{path.name} is not valid JSON ({e})"
    if not isinstance(data, dict) or "cells" not in data:
        return f"{path.name} is JSON but not a notebook (no 'cells')"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # nbformat raises several kinds
        return f"{path.name} is not a valid notebook ({type(e).__name__}: {str(e)[:200]})"
    return None


# --------------------------------------------------------------------------------------------
# private mounts: the socket folders live on a small tmpfs that follows no symlink


def private_socket_mount(sockbase: str, size: int = 16 * 2**20) -> str | None:
    """Give this process a private mount namespace and mount a ``nosymfollow`` tmpfs of ``size``
    bytes on ``sockbase``. Must run before any thread starts. None on success, else why not (the
    folder is then used as it is)."""
    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 0x4000, 1 << 18
    MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOSYMFOLLOW = 2, 4, 8, 256
    if libc.unshare(CLONE_NEWNS) != 0:
        return f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}"
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"making mounts private: {os.strerror(ctypes.get_errno())}"
    opts = f"size={size},mode=0700".encode()
    target = os.fsencode(sockbase)
    if libc.mount(b"tmpfs", target, b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW, opts) != 0:
        err = os.strerror(ctypes.get_errno())
        if libc.mount(b"tmpfs", target, b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) != 0:
            return f"mounting a tmpfs on {sockbase}: {err}"
        return f"nosymfollow is not supported here ({err}); the socket folders are on a plain tmpfs"
    return None


# --------------------------------------------------------------------------------------------
# the kernel manager: a fresh socket folder per kernel, no inherited descriptors


def _make_kernel_manager():
    from jupyter_client import AsyncKernelManager

    class JailedKernelManager(AsyncKernelManager):
        """An ``AsyncKernelManager`` for jailed kernels.

        Each kernel gets a new socket folder ``<sockbase>/k<n>`` (root's, 0700, handed to the
        kernel's uid by the launcher) with its connection file and IPC sockets, removed after the
        kernel is shut down; stdin and stdout are ``/dev/null`` and stderr a file
        ``<sockbase>/kernel-stderr-k<n>`` that only the worker reads. ``Popen`` closes every other
        descriptor. Consecutive kernels run as the worker's two leased uids in turn (``uid_env``),
        so the next submission's kernel, started while the current one runs, never shares a uid
        (nor its process limit) with it."""

        sockbase = ""
        live = None  # the manager of the kernel grading now (one at a time per worker)
        used = None  # the manager of the last kernel that graded
        count = 0
        uid_env: list = []  # the launcher's environment for each leased uid
        _lock = threading.Lock()

        async def _async_pre_start_kernel(self, **kw):
            cls = type(self)
            with cls._lock:
                cls.count += 1
                n = cls.count
            d = os.path.join(cls.sockbase, f"k{n}")
            os.mkdir(d, 0o700)
            self._fg_sockdir = d
            self.transport = "ipc"
            self.ip = os.path.join(d, "k")
            self.connection_file = os.path.join(d, "kernel.json")
            self._fg_stderr_path = os.path.join(cls.sockbase, f"kernel-stderr-k{n}")
            err = os.open(self._fg_stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                          0o600)
            self._fg_stderr = err
            kw["stdin"] = subprocess.DEVNULL
            kw["stdout"] = subprocess.DEVNULL
            kw["stderr"] = err
            if cls.uid_env:
                env = cls.uid_env[n % len(cls.uid_env)]
                kw["env"] = {**os.environ, **env}
                self._fg_uid = int(env.get("FNNGRADE_UID", "0"))
            if not getattr(self, "_fg_prestart", False):
                cls.live = cls.used = self
            return await super()._async_pre_start_kernel(**kw)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                fd, self._fg_stderr = getattr(self, "_fg_stderr", None), None
                if fd is not None:
                    os.close(fd)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            try:
                await super()._async_cleanup_resources(restart=restart)
            finally:
                d = getattr(self, "_fg_sockdir", None)
                if d and not restart:
                    shutil.rmtree(d, ignore_errors=True)  # fd-based: never follows a link
                if type(self).live is self:
                    type(self).live = None

        def kill_now(self) -> None:
            proc = getattr(getattr(self, "provisioner", None), "process", None)
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    try:
                        proc.kill()
                    except OSError:
                        pass

    return JailedKernelManager


JailedKernelManager = None  # set by Worker (importing jupyter_client is slow; the orchestrator never needs it)


class _Budget:
    """Kills the running kernel when a submission overruns its budget (checked twice a second)."""

    def __init__(self, seconds: float, km_class):
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.km_class = km_class
        self.hit = False
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            if time.monotonic() >= self.deadline:
                km = self.km_class.live
                if km is not None:
                    self.hit = True
                    km.kill_now()

    def stop(self) -> None:
        self._stop.set()
        self._t.join()


_EXECUTE: dict = {}


def _execute_class(base, km_class):
    """``SafeExecute`` with :class:`JailedKernelManager` (nbgrader's Execute passes its own
    ``kernel_manager_class`` to the constructor, which a config value cannot override)."""
    key = (base, km_class)
    if key not in _EXECUTE:
        def __init__(self, *args, **kwargs):
            kwargs["kernel_manager_class"] = km_class
            base.__init__(self, *args, **kwargs)

        def preprocess(self, nb, resources=None, km=None):
            # nbgrader knows the student as the job's token (paths, the worker's gradebook); the
            # execution sees the real id (the checker's per-student data), and the later
            # preprocessors the token again
            real = _EXECUTE.get("student")
            meta = (resources or {}).get("nbgrader")
            if real is None or not isinstance(meta, dict):
                return base.preprocess(self, nb, resources, km)
            resources["nbgrader"] = {**meta, "student": real}
            try:
                nb, resources = base.preprocess(self, nb, resources, km)
            finally:
                resources["nbgrader"] = meta
            return nb, resources

        async def async_start_new_kernel(self, **kwargs):
            # the kernel starts in the throwaway copy, never in the autograded folder that
            # nbgrader writes and chmods (nbclient's synchronous start_new_kernel is bound to the
            # base class's coroutine, so both are defined here)
            cwd = _EXECUTE.get("kernel_cwd")
            if cwd:
                kwargs["cwd"] = cwd
            t0 = time.monotonic()
            try:
                return await base.async_start_new_kernel(self, **kwargs)
            finally:
                PHASES["kernel_launch"] = time.monotonic() - t0

        async def async_start_new_kernel_client(self):
            t0 = time.monotonic()
            kc = await base.async_start_new_kernel_client(self)
            if _EXECUTE.get("prestarted"):
                # the prestarted kernel's working folder is still empty: copy the submission's
                # files into it now, as the jail's start code does for a kernel started for it
                msg_id = kc.execute(FILL_CWD, silent=True, store_history=False, allow_stdin=False)
                reply = await self.async_wait_for_reply(msg_id)
                content = (reply or {}).get("content", {})
                if content.get("status") != "ok":  # a grader problem (no student code has run yet)
                    raise RuntimeError("fnngrade: filling the prestarted kernel's working folder failed: "
                                       f"{content.get('ename')}: {content.get('evalue')}")
            PHASES["kernel_ready"] = time.monotonic() - t0
            PHASES["t_cells"] = time.monotonic()
            return kc

        def preprocess_with_km(self, nb, resources=None, km=None):
            pre = _EXECUTE.pop("km", None)
            try:
                return preprocess(self, nb, resources, pre or km)
            finally:
                if "t_cells" in PHASES:
                    PHASES["cells"] = time.monotonic() - PHASES.pop("t_cells")
                if pre is not None and getattr(self, "kc", None) is not None:
                    try:
                        self.kc.stop_channels()  # nbclient leaves a kernel it was given running
                    except Exception:
                        pass

        from nbclient.util import run_sync

        _EXECUTE[key] = type("JailedSafeExecute", (base,), {
            "__init__": __init__, "preprocess": preprocess_with_km, "__doc__": base.__doc__,
            "async_start_new_kernel": async_start_new_kernel,
            "start_new_kernel": run_sync(async_start_new_kernel),
            "async_start_new_kernel_client": async_start_new_kernel_client,
            "start_new_kernel_client": run_sync(async_start_new_kernel_client)})
    return _EXECUTE[key]


# Run in a prestarted kernel once its job is known, before any student code: what the jail's start
# code (fnngrade.sandbox.KERNEL_START) does for a kernel started for its submission.
FILL_CWD = COPY_SUBMISSION


def _module_imports(paths) -> list[str]:
    """The modules the instructor's locked code cells import (``import a.b``, ``from a.b import
    c`` give ``a.b``), in order: what a prestarted kernel imports ahead of its submission."""
    import ast

    import nbformat

    out: list[str] = []
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("locked") or meta.get("solution") or meta.get("grade"):
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in tree.body:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
                out += [n for n in names if n not in out]
    return out


class Prestarter:
    """Starts the next submission's kernel, and imports the assignment's modules in it, while the
    current submission runs. A kernel is never used for two submissions: each one is taken once
    and shut down after its job. Its working folder (``kernel/p<n>``, shown read-only in the jail)
    is empty at start and filled when the job comes (:data:`FILL_CWD`).

    The kernels are started by one thread that lives as long as the worker (a kernel's launcher
    dies with the thread that started it, ``PR_SET_PDEATHSIG``)."""

    def __init__(self, root: Path, km_class, config, kernel_name: str, modules: list[str]):
        self.root, self.km_class, self.config, self.kernel_name = root, km_class, config, kernel_name
        self.code = (f"exec(compile({_preimport_source(modules)!r}, '<fnngrade prestart>', 'exec'), {{}})"
                     if modules else "")
        self.n = 0
        self.slot = None           # (km, folder, seconds) when a kernel is ready
        self.busy = threading.Event()
        self.reqs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._serve, daemon=True, name="fnngrade-prestart")
        self.thread.start()

    def request(self) -> None:
        self.busy.set()
        self.reqs.put(True)

    def keep(self) -> set[str]:
        """Folders the next job's clean-up must leave alone (the waiting kernel's)."""
        slot = self.slot
        if slot is None:
            return set()
        km, folder, _ = slot
        return {folder, getattr(km, "_fg_sockdir", ""), getattr(km, "_fg_stderr_path", "")}

    def wait_idle(self, wait: float = 120.0) -> float:
        """Wait until no kernel is being started; return the seconds waited."""
        t0 = time.monotonic()
        deadline = t0 + wait
        while self.busy.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        return time.monotonic() - t0

    def take(self, wait: float = 120.0):
        """The prestarted kernel ``(km, folder, seconds)`` if one is ready and alive (waiting for
        one being started), else None."""
        self.wait_idle(wait)
        slot, self.slot = self.slot, None
        if slot is None:
            return None
        from nbclient.util import run_sync

        km = slot[0]
        try:
            alive = run_sync(km.is_alive)()
        except Exception:
            alive = False
        if not alive:
            _shutdown(km)
            return None
        return slot

    def _serve(self) -> None:
        while True:
            self.reqs.get()
            try:
                self.slot = self._start()
            except Exception as e:
                sys.stderr.write(f"fnngrade.worker: prestarting a kernel failed ({type(e).__name__}: {e}); "
                                 "the next submission starts its own\n")
                self.slot = None
            finally:
                self.busy.clear()

    def _start(self):
        from nbclient.util import run_sync

        t0 = time.monotonic()
        self.n += 1
        folder = self.root / "kernel" / f"p{self.n}"
        folder.parent.mkdir(exist_ok=True)
        os.mkdir(folder, 0o755)
        km = self.km_class(kernel_name=self.kernel_name, config=self.config)
        km._fg_prestart = True
        try:
            run_sync(km.start_kernel)(cwd=str(folder))
            if self.code:
                kc = km.blocking_client()
                kc.start_channels()
                try:
                    kc.wait_for_ready(timeout=120)
                    msg_id = kc.execute(self.code, silent=True, store_history=False, allow_stdin=False)
                    deadline = time.monotonic() + 120
                    while time.monotonic() < deadline:
                        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                        if reply.get("parent_header", {}).get("msg_id") == msg_id:
                            break
                finally:
                    kc.stop_channels()
        except BaseException:
            _shutdown(km)
            raise
        return km, str(folder), time.monotonic() - t0


def _preimport_source(modules: list[str]) -> str:
    return ("import importlib\n"
            f"for _m in {modules!r}:\n"
            "    try:\n"
            "        importlib.import_module(_m)\n"
            "    except Exception:\n"
            "        pass\n")


def _shutdown(km) -> None:
    """Stop a kernel this worker started outside nbclient, and remove its socket folder."""
    from nbclient.util import run_sync

    try:
        km.kill_now()
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:
        try:
            run_sync(km.cleanup_resources)()
        except Exception:
            pass


PHASES: dict = {}


def _autograde_class():
    from nbgrader.converters import Autograde

    class _Autograde(Autograde):
        """nbgrader's Autograde, which also fills the kernel's throwaway working folder with the
        files nbgrader prepared (the submission's other files, then the source's), right after
        nbgrader copied them into the autograded folder."""

        kernel_cwd = ""
        in_place = False  # the folder is a prestarted kernel's: fill it, never replace it
        file_limits = FileLimits()

        def init_assignment(self, assignment_id, student_id):
            super().init_assignment(assignment_id, student_id)
            if self.kernel_cwd:
                dest = self._format_dest(assignment_id, student_id)
                if not self.in_place:
                    shutil.rmtree(self.kernel_cwd, ignore_errors=True)
                    if os.path.isdir(dest):
                        copy_tree(dest, self.kernel_cwd, self.file_limits)
                    else:  # nbgrader makes the folder only when there are files to copy
                        os.mkdir(self.kernel_cwd, 0o755)
                elif os.path.isdir(dest):
                    # the jail shows this very folder: copy next to it, then move the entries in
                    stage = self.kernel_cwd + ".stage"
                    shutil.rmtree(stage, ignore_errors=True)
                    copy_tree(dest, stage, self.file_limits)
                    for name in os.listdir(stage):
                        os.rename(os.path.join(stage, name), os.path.join(self.kernel_cwd, name))
                    os.rmdir(stage)

    return _Autograde


def _trim_nbgrader_overhead() -> None:
    """Two costs of nbgrader that buy nothing in a worker (measured: about a third of the
    non-kernel time of a submission of 01, see benchmarks/README.md):

    - nbgrader checks each cell's metadata with ``jsonschema.validate``, which checks the
      (constant) schema itself again for every cell: the validator is built once per schema;
    - the worker's gradebook is a scratch copy (results travel on the signed pipe and the course
      gradebook is written by the orchestrator), so its SQLite commits need no fsync and no
      journal file: ``synchronous=OFF``, ``journal_mode=MEMORY``.
    """
    import jsonschema
    from nbgrader.nbgraderformat import common
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    validators: dict = {}

    class _Cached:
        @staticmethod
        def validate(instance, schema, *args, **kwargs):
            key = id(schema)
            if key not in validators:
                cls = jsonschema.validators.validator_for(schema)
                cls.check_schema(schema)
                validators[key] = (schema, cls(schema))
            error = jsonschema.exceptions.best_match(validators[key][1].iter_errors(instance))
            if error is not None:  # what jsonschema.validate raises
                raise error

    common.jsonschema = _Cached

    @event.listens_for(Engine, "connect")
    def _scratch_sqlite(dbapi_connection, _record):
        import sqlite3

        if isinstance(dbapi_connection, sqlite3.Connection):
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA journal_mode=MEMORY")
            cur.close()


class Worker:
    def __init__(self, s: dict):
        global JailedKernelManager
        self.s = s
        self.root = Path(s["root"])
        self.assignment = s["assignment"]
        self.sockbase = s["sockbase"]
        self.budget = float(s["budget"])
        self.file_limits = FileLimits(**s["file_limits"])
        from .sandbox import Limits, kernel_env, write_kernelspec

        limits = Limits(**s["limits"])
        write_kernelspec(self.root / "jupyter", sandboxed=s["sandboxed"])
        os.environ["JUPYTER_PATH"] = str(self.root / "jupyter")
        os.environ["JUPYTER_RUNTIME_DIR"] = self.sockbase
        os.environ["FNN_GRADEBOOK_URL"] = s["db_url"]
        os.environ["FNN_CELL_TIMEOUT"] = str(s["timeout"])
        os.environ.update(kernel_env(sandboxed=s["sandboxed"], uid=s["uid"], sockbase=self.sockbase, limits=limits))
        JailedKernelManager = _make_kernel_manager()
        JailedKernelManager.sockbase = self.sockbase
        JailedKernelManager.uid_env = [kernel_env(sandboxed=s["sandboxed"], uid=u, sockbase=self.sockbase, limits=limits)
                                       for u in s.get("uids") or [s["uid"]]]
        self.km_class = JailedKernelManager
        self.expected = sorted(p.name for p in (self.root / "solutions" / self.assignment).glob("*.ipynb"))
        self.done = 0
        self.prestarter: Prestarter | None = None
        self.last_stderr: str | None = None
        # test hook: the disk holding the worker's root fills up when job n + 1 starts
        self.fill_after = int(os.environ.get("FNNGRADE_TEST_FILL_DISK_AFTER", "0") or 0)

    def config(self, kernel_cwd: str):
        from nbconvert.preprocessors import ClearMetadataPreprocessor
        from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds,
                                            IgnorePattern, LimitOutput, OverwriteCells, OverwriteKernelspec,
                                            SaveAutoGrades)
        from traitlets.config.loader import PyFileConfigLoader

        from .preprocessors import LimitOutputChars, RepairCells, SafeExecute
        from .sandbox import KERNEL_NAME

        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        cfg.CourseDirectory.root = str(self.root)
        cfg.CourseDirectory.db_url = self.s["db_url"]
        cfg.Execute.timeout = int(self.s["timeout"])
        cfg.Execute.interrupt_on_timeout = True
        cfg.SafeExecute.kernel_name = KERNEL_NAME
        cfg.SafeExecute.remote_tests = bool(self.s.get("remote_tests", True))
        if "kernel_cwd" in SafeExecute.class_trait_names():
            # the kernel starts in the throwaway copy, never in the autograded folder
            cfg.SafeExecute.kernel_cwd = kernel_cwd
        cfg.SafeExecute.interrupt_grace = int(self.s["interrupt_grace"])
        cfg.SafeExecute.max_stream_chars = int(self.s["max_output_chars"]) * 10
        cfg.LimitOutputChars.max_chars = int(self.s["max_output_chars"])
        # IPC sockets in a folder of this kernel's own (JailedKernelManager): no TCP ports, no
        # network namespace needed, no collisions between workers
        cfg.KernelManager.transport = "ipc"
        cfg.Autograde.sanitize_preprocessors = [
            ClearOutput, DeduplicateIds, OverwriteKernelspec, RepairCells, OverwriteCells, CheckCellMetadata,
        ]
        cfg.Autograde.autograde_preprocessors = [
            _execute_class(SafeExecute, self.km_class), IgnorePattern, ClearMetadataPreprocessor, LimitOutput, LimitOutputChars,
            SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
        ]
        return cfg

    def start_prestart(self) -> None:
        """Start the first kernel ahead of the first job (``--no-prestart`` turns this off)."""
        if not self.s.get("prestart", True):
            return
        from .sandbox import KERNEL_NAME

        modules = _module_imports(sorted((self.root / "solutions" / self.assignment).glob("*.ipynb")))
        self.prestarter = Prestarter(self.root, self.km_class, self.config(""), KERNEL_NAME, modules)
        self.prestarter.request()

    def _scrub(self, keep: set[str] = frozenset()) -> None:
        """Remove everything an earlier job left: copies, autograded output, kernel folders (but
        not the folders of the kernel waiting for the next job, ``keep``)."""
        for p in (self.root / "grading" / "submitted", self.root / "grading" / "autograded"):
            shutil.rmtree(p, ignore_errors=True)
        kdir = self.root / "kernel"
        if kdir.is_dir():
            for p in kdir.iterdir():
                if str(p) not in keep:
                    shutil.rmtree(p, ignore_errors=True)
        for p in Path(self.sockbase).iterdir():
            if str(p) in keep:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)

    def grade(self, job: dict) -> dict:
        t0 = time.monotonic()
        token = job["token"]
        res = {"job": job["job"], "worker": self.s["index"], "uid": self.s["uid"], "sandboxed": self.s["sandboxed"],
               "notebooks": {}, "events": []}
        a = self.assignment
        PHASES.clear()
        if self.prestarter:  # the kernel being started for this job keeps its folders
            PHASES["wait_for_prestart"] = self.prestarter.wait_idle()
        self._scrub(self.prestarter.keep() if self.prestarter else set())
        if self.fill_after and self.done == self.fill_after:
            _fill_disk(self.root)
        sub = self.root / "grading" / "submitted" / token / a
        out = self.root / "grading" / "autograded" / token / a
        sub.parent.mkdir(parents=True)
        try:
            rep = copy_tree(os.fsencode(job["src"]), sub, self.file_limits, first=tuple(self.expected))
        except NotAFolder:
            res.update(state="malformed", reason="the submission folder is a symbolic link or not a folder; not followed")
            res["seconds"] = round(time.monotonic() - t0, 3)
            return res
        res["copied"] = {"files": rep.files, "bytes": rep.bytes, "dropped": rep.n_dropped}
        notes = rep.summary()
        top = {rel: why for rel, why in rep.dropped if "/" not in rel}
        not_files = {n: top[n] for n in self.expected if n in top}
        present = sorted(p.name for p in sub.iterdir())
        missing = [n for n in self.expected if not (sub / n).is_file() and n not in not_files]
        bad = {n: _validate(sub / n) for n in self.expected if n not in missing and n not in not_files}
        bad = {n: why for n, why in bad.items() if why}
        bad.update({n: f"{n} is {why}: it was not read" for n, why in not_files.items()})
        if len(missing) == len(self.expected):
            others = ", ".join(present[:10]) + (f" and {len(present) - 10} more" if len(present) > 10 else "") \
                if present else "nothing"
            res.update(state="missing", reason=f"no {', '.join(self.expected)} in the submission (found: {others})")
        elif bad:
            res.update(state="malformed", reason="; ".join(bad.values()))
        else:
            self.km_class.used = None
            res.update(self._autograde(token, job.get("student", token), spare=job.get("last") is not True))
            if self.km_class.used is not None and getattr(self.km_class.used, "_fg_uid", None):
                res["uid"] = self.km_class.used._fg_uid
            if missing and res["state"] == "graded":
                res["reason"] = f"missing notebooks scored 0: {', '.join(missing)}"
        if notes:
            res["reason"] = (res["reason"] + "; " if res.get("reason") else "") + notes
        res["autograded"] = out.is_dir()
        res["seconds"] = round(time.monotonic() - t0, 3)
        res["phases"] = {k: round(v, 3) for k, v in PHASES.items() if isinstance(v, float)}
        return res

    def _autograde(self, token: str, student: str, spare: bool = True) -> dict:
        from nbgrader.api import Gradebook
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.utils import capture_log

        from . import preprocessors

        preprocessors.EVENTS.clear()
        _EXECUTE["student"] = student
        pre = self.prestarter.take() if self.prestarter else None
        if self.prestarter and spare:  # the next job's kernel starts while this one runs (not after the
            self.prestarter.request()   # batch's last jobs: a spare kernel nobody takes costs a second of CPU)
        if pre is not None:
            km, folder, PHASES["prestart_overlapped"] = pre
            kcwd = Path(folder)
            _EXECUTE["km"] = km
            self.km_class.live = self.km_class.used = km
        else:
            km = None
            kcwd = self.root / "kernel" / token
        _EXECUTE["prestarted"] = pre is not None and bool(self.s["sandboxed"])
        _EXECUTE["kernel_cwd"] = str(kcwd)
        kcwd.parent.mkdir(parents=True, exist_ok=True)
        cfg = self.config(str(kcwd))
        coursedir = CourseDirectory(config=cfg)
        coursedir.assignment_id = self.assignment
        coursedir.student_id = token
        cls = _autograde_class()
        app = cls(coursedir=coursedir, config=cfg)
        app.kernel_cwd = str(kcwd)
        app.in_place = pre is not None
        app.file_limits = self.file_limits
        app.force = True
        app.create_student = True
        budget = _Budget(self.budget, self.km_class)
        t_nb = time.monotonic()
        try:
            log = capture_log(app)
        finally:
            budget.stop()
            PHASES["nbgrader"] = time.monotonic() - t_nb
            _EXECUTE.pop("km", None)
            live, used = self.km_class.live, self.km_class.used
            self.last_stderr = getattr(used, "_fg_stderr_path", None)
            self.last_uid = getattr(used, "_fg_uid", None)
            if live is not None:
                live.kill_now()
            if km is not None:  # a prestarted kernel: nbclient leaves it to its owner
                _shutdown(km)
                self.km_class.live = None
        text = f"{log.get('log', '')}\n{log.get('error', '')}"
        if not log.get("success"):
            sys.stderr.write(f"--- autograde of {token} failed\n{text}\n")
            self._kernel_stderr_to_log()
            if is_disk_full(text=text) or self._disk_nearly_full():
                raise DiskFull(f"the disk holding {self.root} is full (nbgrader: {_last_error(text)})")
        events = list(preprocessors.EVENTS)
        out: dict = {"events": events, "notebooks": {}}
        try:
            with Gradebook(self.s["db_url"]) as gb:
                s = gb.find_submission(self.assignment, token)
                out["timestamp"] = s.timestamp.isoformat() if s.timestamp else None
                for nb in s.notebooks:
                    grades = {g.name: {"auto_score": g.auto_score, "max_score": g.max_score,
                                       "needs_manual_grade": bool(g.needs_manual_grade),
                                       "cell_type": g.cell.cell_type} for g in nb.grades}
                    comments = {c.name: c.auto_comment for c in nb.comments}
                    out["notebooks"][nb.name] = {"grades": grades, "comments": comments}
        except Exception as e:
            if is_disk_full(e):
                raise DiskFull(f"the disk holding {self.root} is full ({e})") from e
            out["notebooks"] = {}
            log.setdefault("error", "")
            log["error"] = (log["error"] or "") + f"\nreading the worker gradebook failed: {e}"
        graded = all(any(v["auto_score"] is not None for v in nb["grades"].values()) or not nb["grades"]
                     for nb in out["notebooks"].values()) and bool(out["notebooks"])
        died = [e for e in events if e["kind"] == "died"]
        slow = [e for e in events if e["kind"] in ("timeout", "killed")]
        if budget.hit:
            where = died[0]["cell"] or died[0]["index"] if died else None
            out.update(state="timed out", reason=(
                f"the submission ran longer than its budget of {budget.seconds:.0f} s (--submission-timeout): "
                f"the kernel was stopped" + (f" in cell {where}" if where is not None else "") +
                "; the cells after it were not run"))
        elif not log.get("success") or not graded:
            out.update(state="crashed", reason="nbgrader could not grade it: " + _last_error(log.get("error") or text))
            if died:
                out["reason"] = f"cell {died[0]['cell'] or died[0]['index']}: {died[0]['detail']}"
        elif died:
            e = died[0]
            out.update(state="crashed", reason=f"cell {e['cell'] or e['index']}: {e['detail']}")
        elif slow:
            e = [x for x in slow if x["kind"] == "killed"][:1] or slow[:1]
            e = e[0]
            out.update(state="timed out", reason=f"cell {e['cell'] or e['index']}: {e['detail']}")
        else:
            out.update(state="graded", reason="")
        tampered = [e for e in events if e["kind"] == "tampered"]
        if tampered:
            cells = ", ".join(str(e["cell"]) for e in tampered)
            out["reason"] = (out["reason"] + "; " if out["reason"] else "") + \
                f"tests not run because the grading environment was tampered with: {cells}"
        return out

    def _disk_nearly_full(self) -> bool:
        try:
            st = os.statvfs(self.root)
        except OSError:
            return False
        return st.f_bavail * st.f_frsize < 2 * 2**20

    def _kernel_stderr_to_log(self) -> None:
        try:
            if not self.last_stderr:
                return
            with open(self.last_stderr, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 2000))
                tail = fh.read().decode("utf-8", "replace")
        except OSError:
            return
        if tail.strip():
            sys.stderr.write(f"--- the kernel's stderr (last 2000 bytes)\n{tail}\n")

    def serve(self, requests, send) -> None:
        for job in requests:
            try:
                res = self.grade(job)
            except Exception as e:  # never leave the orchestrator without an answer
                tb = traceback.format_exc()
                sys.stderr.write(tb)
                if isinstance(e, DiskFull) or is_disk_full(e):
                    res = {"job": job.get("job"), "fatal": "disk full",
                           "reason": str(e) if isinstance(e, DiskFull) else
                           f"the disk is full ({type(e).__name__}: {e})"}
                else:
                    res = {"job": job.get("job"), "state": "crashed", "notebooks": {}, "events": [],
                           "reason": f"the grading worker failed: {type(e).__name__}: {e}", "traceback": tb[-4000:]}
            send(res)
            self.done += 1


def _last_error(text: str) -> str:
    """The line of an nbgrader log that says what went wrong, without nbgrader's advice to run
    ``nbgrader db upgrade`` (given for every database error, whatever its cause)."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    noise = ("nbgrader db upgrade", "Please see the the above traceback", "Please see the above traceback")
    for ln in reversed(lines):
        if ("Error:" in ln or "Exception:" in ln) and "Traceback" not in ln and not any(x in ln for x in noise):
            return ln[:500]
    lines = [ln for ln in lines if "nbgrader db upgrade" not in ln and "BACK UP" not in ln]
    return lines[-1][:500] if lines else "unknown error"


def _fill_disk(where: Path) -> None:
    """Test hook (``FNNGRADE_TEST_FILL_DISK_AFTER=n``): fill the file system holding ``where``
    (a file ``ballast`` next to the run's scratch folder)."""
    path = where.parent.parent / "ballast"
    try:
        with open(path, "ab") as fh:
            block = b"\0" * 2**20
            while True:
                fh.write(block)
                fh.flush()
    except OSError:
        pass


def _die_with_parent() -> None:
    """SIGKILL this worker when the orchestrator dies (its kernel follows: see fnngrade.launch)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the orchestrator is already gone
        sys.exit(1)


def _requests(fh, limit: int = MAX_LINE):
    """Jobs from the orchestrator, one JSON object per line."""
    while True:
        line = fh.readline(limit)
        if not line:
            return
        try:
            job = json.loads(line)
        except ValueError:
            sys.stderr.write(f"fnngrade.worker: unreadable request ignored: {line[:200]!r}\n")
            continue
        if isinstance(job, dict) and "job" in job and "token" in job and "src" in job:
            yield job


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    _die_with_parent()
    if len(argv) != 3 or argv[0] != "--fds":
        sys.exit("usage: python -m fnngrade.worker --fds R,W SETTINGS_JSON")
    rfd, wfd = (int(x) for x in argv[1].split(","))
    for fd in (rfd, wfd):
        os.set_inheritable(fd, False)  # pass_fds made them inheritable: no child may hold them
    settings = json.loads(argv[2])
    if settings["sandboxed"] and os.geteuid() == 0:
        why = private_socket_mount(settings["sockbase"])  # before any thread starts
        if why:
            sys.stderr.write(f"fnngrade.worker: {why}\n")
    os.chdir(settings["root"])
    req = os.fdopen(rfd, "rb")
    out = os.fdopen(wfd, "wb")
    secret = bytes.fromhex(req.readline(256).decode().strip())
    lock = threading.Lock()

    def send(payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=True).encode()
        with lock:
            out.write(sign(secret, body) + b" " + body + b"\n")
            out.flush()

    w = Worker(settings)
    # import now what grading needs, so that this overlaps with the orchestrator's set-up
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    _trim_nbgrader_overhead()

    from . import preprocessors  # noqa: F401
    send({"ready": True})
    w.start_prestart()
    w.serve(_requests(req), send)
    shutil.rmtree(os.path.join(settings["root"], "kernel"), ignore_errors=True)


if __name__ == "__main__":
    main()
