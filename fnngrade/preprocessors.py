"""nbgrader preprocessors: output size in characters, and an Execute that survives any kernel.

Both are registered in ``Autograde.autograde_preprocessors`` by the grading worker
(:mod:`fnngrade.worker`): ``SafeExecute`` replaces nbgrader's ``Execute`` and
``LimitOutputChars`` runs right after nbgrader's ``LimitOutput`` (which counts *lines*, so one
100 MB line passes it untouched).
"""

from __future__ import annotations

import json
import os
import signal

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer

from . import guard

__all__ = ["EVENTS", "LimitOutputChars", "SafeExecute", "truncation_note"]

# What happened while the current submission ran (timeouts, dead or killed kernels), read by the
# worker after each submission to decide its state. One worker process grades one submission at a
# time, so a module-level list is enough; the worker clears it before each submission.
EVENTS: list[dict] = []


def truncation_note(size: int, limit: int) -> str:
    return (f"\n... [output truncated by the grader: this cell produced {size:,} characters of output; "
            f"the limit is {limit:,}] ...\n")


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


def _size(out) -> int:
    t = out.get("output_type")
    if t == "stream":
        return len(out.get("text", ""))
    if t == "error":
        return len(out.get("evalue", "")) + sum(len(x) for x in out.get("traceback", []))
    data = out.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())


class LimitOutputChars(NbGraderPreprocessor):
    """Cut every code cell's outputs to ``max_chars`` characters in total, with a note.

    Streams and rich outputs are cut (rich outputs keep their ``text/plain`` only); error outputs
    and ``stderr`` streams are never dropped, only shortened, because they are what makes a
    failing test cell score 0.
    """

    max_chars = Integer(10_000, help="largest number of output characters kept per cell").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or self.max_chars < 0:
            return cell, resources
        total = sum(_size(o) for o in cell.outputs)
        if total <= self.max_chars:
            return cell, resources
        budget, kept, noted = self.max_chars, [], False
        note = truncation_note(total, self.max_chars)
        for out in cell.outputs:
            t = out.get("output_type")
            size = _size(out)
            must_keep = t == "error" or (t == "stream" and out.get("name") == "stderr")
            if size <= budget:
                kept.append(out)
                budget -= size
                continue
            if t == "stream":
                out.text = out.get("text", "")[: max(budget, 0)] + ("" if noted else note)
            elif t == "error":
                tb = "\n".join(out.get("traceback", []))
                out.evalue = out.get("evalue", "")[:200]
                out.traceback = [tb[: max(budget, 200)], note.strip()]
            else:
                text = out.get("data", {}).get("text/plain", "")
                if isinstance(text, list):
                    text = "".join(text)
                out.data = {"text/plain": text[: max(budget, 0)] + ("" if noted else note)}
                out.pop("metadata", None)
                out["metadata"] = {}
            if budget > 0 or must_keep or not noted:
                kept.append(out)
            noted = True
            budget = 0
        cell.outputs = kept
        return cell, resources


class SafeExecute(Execute):
    """nbgrader's Execute, made to finish whatever the student's kernel does.

    - a cell past its timeout is interrupted (nbgrader's behaviour); a kernel that ignores the
      interrupt (a loop that catches KeyboardInterrupt or ignores SIGINT) is killed
      ``interrupt_grace`` seconds later;
    - a kernel that dies (``os._exit``, a signal, RLIMIT_CPU) gets an error output in the cell it
      died in;
    - once the kernel is gone, every later code cell gets an error output "not run" instead of
      being executed, so the pipeline goes on and SaveAutoGrades records 0 for those tests and the
      earned points for the cells that ran before;
    - the live output of a cell is cut at ``max_stream_chars`` as it arrives, so a 100 MB line is
      never held in full in the notebook (``LimitOutputChars`` then cuts the rest).
    Every timeout and kernel loss is appended to :data:`EVENTS`.
    """

    interrupt_grace = Integer(5, help="seconds a kernel gets to honour an interrupt").tag(config=True)
    max_stream_chars = Integer(1_000_000, help="stream characters kept per cell while running").tag(config=True)

    guard_tests = Bool(True, help="restore the instructor's names and modules before each test cell").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._fatal = None
        self._current = None
        self._token = None if not self.guard_tests else "_fnngrade_guard_" + os.urandom(8).hex()
        self._guard_ready = False
        self.iopub_timeout = max(int(self.interrupt_grace), 1)
        return super().preprocess(nb, resources, km)

    # -- timeouts -----------------------------------------------------------------------------------

    async def _async_handle_timeout(self, timeout, cell=None):
        EVENTS.append({"kind": "timeout", "cell": _grade_id(cell) if cell is not None else None,
                       "index": self._current, "detail": f"ran past the {timeout} s cell timeout (interrupted)"})
        return await super()._async_handle_timeout(timeout, cell)

    # -- live output cap ----------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        if msg.get("msg_type") == "stream" and self.max_stream_chars >= 0:
            used = sum(len(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
            text = msg["content"].get("text", "")
            room = self.max_stream_chars - used
            if room <= 0:
                return None
            if len(text) > room:
                msg = {**msg, "content": {**msg["content"],
                                          "text": text[:room] + truncation_note(used + len(text), self.max_stream_chars)}}
                self.max_stream_chars_hit = True
        return super().output(outs, msg, display_id, cell_index)

    # -- kernel loss --------------------------------------------------------------------------------

    def _kill_kernel(self) -> int | None:
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            try:
                proc.wait(5)
            except Exception:
                pass
        return proc.returncode

    # -- the test-cell guard (see fnngrade.guard) ---------------------------------------------------

    def _guard(self, expr: str) -> bool:
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"g": expr})
            reply = self.wait_for_reply(msg_id)
        except Exception:
            return False
        g = (reply or {}).get("content", {}).get("user_expressions", {}).get("g", {})
        text = g.get("data", {}).get("text/plain", "") if g.get("status") == "ok" else ""
        return text.startswith("'fnngrade-ok")

    def preprocess_cell(self, cell, resources, index):
        self._current = index
        if cell.cell_type != "code":
            return cell, resources
        if self._fatal:
            cell.outputs = [_error("NotExecuted", f"this cell was not run: {self._fatal}")]
            return cell, resources
        meta = cell.get("metadata", {}).get("nbgrader", {})
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        is_locked = bool(meta.get("locked")) and not meta.get("grade") and not meta.get("solution")
        if self._token and not self._guard_ready:
            self._guard_ready = self._guard(guard.snapshot_expression(self._token))
            if not self._guard_ready:  # before any student code: a grader problem, not the student's
                self.log.warning("fnngrade: the test-cell guard could not be installed; tests run unguarded")
                self._token = None
        if self._token and is_test and not self._guard(guard.call(self._token, "restore")):
            what = ("the grading environment was tampered with (the names and modules the tests rely on "
                    "could not be restored), so this test was not run")
            EVENTS.append({"kind": "tampered", "cell": _grade_id(cell), "index": index, "detail": what})
            cell.outputs = [_error("GradingEnvironmentTampered", what)]
            return cell, resources
        if self._token and is_locked:
            self._guard(guard.call(self._token, "pre"))
        try:
            out = super().preprocess_cell(cell, resources, index)
            if self._token and is_locked:
                self._guard(guard.call(self._token, "post"))
            return out
        except DeadKernelError:
            rc = self._kill_kernel()
            what = f"the kernel died while running this cell (exit status {rc})"
            kind = "died"
        except CellTimeoutError:
            rc = self._kill_kernel()
            what = (f"the kernel did not stop within {self.interrupt_grace} s of being interrupted after "
                    f"the {self.timeout} s cell timeout, and was killed")
            kind = "killed"
        except Exception as e:  # the kernel's channels broke in some other way
            rc = self._kill_kernel()
            what = f"grading this cell failed ({type(e).__name__}: {e}); the kernel was stopped"
            kind = "died"
        EVENTS.append({"kind": kind, "cell": _grade_id(cell), "index": index, "detail": what})
        cell.outputs.append(_error("KernelLost" if kind == "died" else "CellTimeoutError", what))
        gid = _grade_id(cell)
        self._fatal = f"the kernel was lost earlier, in cell {gid or index}: {what}"
        return cell, resources


class RepairCells(NbGraderPreprocessor):
    """Make a submission's nbgrader metadata consistent before nbgrader's OverwriteCells sees it.

    nbgrader 0.9.6 stops with ``KeyError`` (and grades nothing) when a student renamed a cell's
    ``grade_id`` (OverwriteCells deletes the id but keeps the cell's grade/solution flags), or
    when a re-added missing cell follows a locked cell that is neither graded nor a solution.
    This preprocessor, registered right before OverwriteCells:

    - turns every cell whose ``grade_id`` is missing, unknown to the gradebook, or a repeat of an
      earlier cell's into an ordinary cell (its code still runs; it can earn nothing);
    - puts back every grade cell of the source that is missing, right after the nearest source
      cell before it that is present (or first), from the gradebook's copy, as nbgrader does.
    """

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook
        from nbgrader.preprocessors import OverwriteCells

        nbid = resources["nbgrader"]["notebook"]
        aid = resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            source = gb.find_notebook(nbid, aid)
            order = [c.name for c in source.source_cells]
            known = set(order)
            grade = {c.name: c for c in source.grade_cells}
            solutions = {c.name for c in source.solution_cells}
            seen: set[str] = set()
            for cell in nb.cells:
                meta = cell.get("metadata", {}).get("nbgrader")
                if not meta:  # DeduplicateIds leaves {} behind, which OverwriteCells cannot read
                    cell.get("metadata", {}).pop("nbgrader", None)
                    continue
                gid = meta.get("grade_id")
                flagged = meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task")
                if flagged and (gid not in known or gid in seen):
                    self.log.warning("cell %r is not a cell of the source (or a repeat); graded as plain code", gid)
                    del cell.metadata["nbgrader"]
                    continue
                if gid:
                    seen.add(gid)
            maker = OverwriteCells(parent=self)
            for gid in order:
                if gid not in grade or gid in seen:
                    continue
                src = next(c for c in source.source_cells if c.name == gid)
                new = from_dict(json.loads(json.dumps(maker.missing_cell_transform(
                    src, grade[gid].max_score, is_solution=gid in solutions))))
                before = order[: order.index(gid)][::-1]
                pos = 0
                for prev in before:
                    idx = [i for i, c in enumerate(nb.cells)
                           if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == prev]
                    if idx:
                        pos = idx[0] + 1
                        break
                self.log.warning("grade cell %r is missing from the submission; put back", gid)
                nb.cells.insert(pos, new)
                seen.add(gid)
        return nb, resources
