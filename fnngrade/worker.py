"""One grading worker: a long-lived process with its own course root, gradebook and kernels.

Started by :mod:`fnngrade.grader` as ``python -m fnngrade.worker <json settings>``. It reads one
student id per line on stdin, grades that submission with nbgrader's ``Autograde`` converter
(in-process, with :class:`~fnngrade.preprocessors.SafeExecute` and
:class:`~fnngrade.preprocessors.LimitOutputChars` registered) and answers with one line
``@@FNNGRADE <json result>`` on stdout. nbgrader's log goes to stderr (the worker's log file).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

PREFIX = "@@FNNGRADE "


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


class Worker:
    def __init__(self, s: dict):
        self.s = s
        self.root = Path(s["root"])
        self.main_root = Path(s["main_root"])
        self.assignment = s["assignment"]
        self.sockdir = tempfile.mkdtemp(prefix="fg-")  # short: unix socket paths are limited to 108 bytes
        os.chmod(self.sockdir, 0o700)
        from .sandbox import Limits, kernel_env, write_kernelspec

        limits = Limits(**s["limits"])
        write_kernelspec(self.root / "jupyter", sandboxed=s["sandboxed"])
        os.environ["JUPYTER_PATH"] = str(self.root / "jupyter")
        os.environ["JUPYTER_RUNTIME_DIR"] = self.sockdir
        os.environ["FNN_GRADEBOOK_URL"] = s["db_url"]
        os.environ["FNN_CELL_TIMEOUT"] = str(s["timeout"])
        os.environ.update(kernel_env(sandboxed=s["sandboxed"], uid=s["uid"], sockdir=self.sockdir, limits=limits))
        self.expected = sorted(p.name for p in (self.root / "solutions" / self.assignment).glob("*.ipynb"))

    def config(self):
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
        cfg.SafeExecute.guard_tests = bool(self.s.get("guard", True))
        cfg.SafeExecute.interrupt_grace = int(self.s["interrupt_grace"])
        cfg.SafeExecute.max_stream_chars = int(self.s["max_output_chars"]) * 10
        cfg.LimitOutputChars.max_chars = int(self.s["max_output_chars"])
        # IPC sockets at an absolute path in this worker's own folder: no TCP ports (so no
        # collisions between workers), and the kernel needs no network namespace
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = os.path.join(self.sockdir, "k")
        # one kernel at a time per worker: a fixed connection file inside the bound socket folder
        # (left unset, jupyter_client would write it to $TMPDIR, which the jail does not see)
        cfg.KernelManager.connection_file = os.path.join(self.sockdir, "kernel.json")
        cfg.Autograde.sanitize_preprocessors = [
            ClearOutput, DeduplicateIds, OverwriteKernelspec, RepairCells, OverwriteCells, CheckCellMetadata,
        ]
        cfg.Autograde.autograde_preprocessors = [
            SafeExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, LimitOutputChars,
            SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
        ]
        return cfg

    def _clean_sockdir(self) -> None:
        for p in Path(self.sockdir).iterdir():
            try:
                p.unlink()
            except OSError:
                pass

    def grade(self, student: str) -> dict:
        t0 = time.monotonic()
        res = {"student": student, "assignment": self.assignment, "worker": self.s["index"],
               "sandboxed": self.s["sandboxed"], "notebooks": {}, "events": []}
        a = self.assignment
        src = self.main_root / "grading" / "submitted" / student / a
        sub = self.root / "grading" / "submitted" / student / a
        out = self.root / "grading" / "autograded" / student / a
        shutil.rmtree(sub, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        sub.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, sub, symlinks=True)
        present = sorted(p.name for p in sub.iterdir()) if sub.is_dir() else []
        missing = [n for n in self.expected if not (sub / n).is_file()]
        bad = {n: _validate(sub / n) for n in self.expected if n not in missing}
        bad = {n: why for n, why in bad.items() if why}
        if len(missing) == len(self.expected):
            others = ", ".join(present) or "nothing"
            res.update(state="missing", reason=f"no {', '.join(self.expected)} in the submission (found: {others})")
        elif bad:
            res.update(state="malformed", reason="; ".join(bad.values()))
        else:
            res.update(self._autograde(student))
            if missing and res["state"] == "graded":
                res["reason"] = f"missing notebooks scored 0: {', '.join(missing)}"
        res["autograded"] = str(out) if out.is_dir() else None
        res["seconds"] = round(time.monotonic() - t0, 3)
        return res

    def _autograde(self, student: str) -> dict:
        from nbgrader.api import Gradebook
        from nbgrader.converters import Autograde
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.utils import capture_log

        from . import preprocessors

        preprocessors.EVENTS.clear()
        self._clean_sockdir()
        cfg = self.config()
        coursedir = CourseDirectory(config=cfg)
        coursedir.assignment_id = self.assignment
        coursedir.student_id = student
        app = Autograde(coursedir=coursedir, config=cfg)
        app.force = True
        app.create_student = True
        log = capture_log(app)
        if not log.get("success"):
            sys.stderr.write(f"--- autograde of {student} failed\n{log.get('log', '')}\n{log.get('error', '')}\n")
        events = list(preprocessors.EVENTS)
        out: dict = {"events": events, "notebooks": {}}
        try:
            with Gradebook(self.s["db_url"]) as gb:
                s = gb.find_submission(self.assignment, student)
                out["timestamp"] = s.timestamp.isoformat() if s.timestamp else None
                for nb in s.notebooks:
                    grades = {g.name: {"auto_score": g.auto_score, "max_score": g.max_score,
                                       "needs_manual_grade": bool(g.needs_manual_grade),
                                       "cell_type": g.cell.cell_type} for g in nb.grades}
                    comments = {c.name: c.auto_comment for c in nb.comments}
                    out["notebooks"][nb.name] = {"grades": grades, "comments": comments}
        except Exception as e:
            out["notebooks"] = {}
            log.setdefault("error", "")
            log["error"] += f"\nreading the worker gradebook failed: {e}"
        graded = all(any(v["auto_score"] is not None for v in nb["grades"].values()) or not nb["grades"]
                     for nb in out["notebooks"].values()) and bool(out["notebooks"])
        died = [e for e in events if e["kind"] == "died"]
        slow = [e for e in events if e["kind"] in ("timeout", "killed")]
        if not log.get("success") or not graded:
            err = (log.get("error") or "").strip().splitlines()
            out.update(state="crashed", reason="nbgrader could not grade it: " + (err[-1] if err else "unknown error"))
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

    def serve(self) -> None:
        for line in sys.stdin:
            student = line.strip()
            if not student:
                continue
            try:
                res = self.grade(student)
            except Exception as e:  # never leave the orchestrator without an answer
                res = {"student": student, "assignment": self.assignment, "state": "crashed",
                       "reason": f"the grading worker failed: {type(e).__name__}: {e}",
                       "traceback": traceback.format_exc(), "notebooks": {}, "events": []}
            sys.stdout.write(PREFIX + json.dumps(res) + "\n")
            sys.stdout.flush()
        shutil.rmtree(self.sockdir, ignore_errors=True)


def _die_with_parent() -> None:
    """SIGKILL this worker when the orchestrator dies (its kernel follows: see fnngrade.launch)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the orchestrator is already gone
        sys.exit(1)


def main() -> None:
    _die_with_parent()
    settings = json.loads(sys.argv[1])
    os.chdir(settings["root"])
    w = Worker(settings)
    # import now what grading needs, so that this overlaps with the orchestrator's set-up
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    from . import preprocessors  # noqa: F401
    sys.stdout.write(PREFIX + json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    w.serve()


if __name__ == "__main__":
    main()
