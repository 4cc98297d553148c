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
from jupyter_core.utils import ensure_async, run_sync
from traitlets import Bool, Integer, Unicode


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
      never held in full in the notebook (``LimitOutputChars`` then cuts the rest);
    - with ``remote_tests`` (the default) the autograded test cells never run in the kernel: they
      run in a :class:`fnngrade.remote.Checker` in this process, which asks the kernel for the
      values of the student's names, and the cell's outputs are the checker's; the instructor's
      locked cells run in both places. Requests travel as silent execute requests to an agent
      installed in the kernel before the first cell (:mod:`fnngrade.agent`), callbacks as
      ``input_request`` on the stdin channel; the cell timeout covers every request of a cell.
    Every timeout and kernel loss is appended to :data:`EVENTS`.
    """

    interrupt_grace = Integer(5, help="seconds a kernel gets to honour an interrupt").tag(config=True)
    max_stream_chars = Integer(1_000_000, help="stream characters kept per cell while running").tag(config=True)

    remote_tests = Bool(True, help="run test cells in the checker outside the kernel (fnngrade.remote); "
                                   "False runs them in the kernel, as nbgrader does").tag(config=True)
    kernel_cwd = Unicode("", help="the kernel's working folder (default: the notebook's folder)").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._fatal = None
        self._current = None
        self._checker = None
        self._agent = "_fnngrade_agent_" + os.urandom(8).hex()
        self._agent_ready = False
        self._current_gid = None
        self._session = None
        self.iopub_timeout = max(int(self.interrupt_grace), 1)
        student = ((resources or {}).get("nbgrader") or {}).get("student")
        if student is not None:
            os.environ["FNN_STUDENT_ID"] = str(student)  # read by hidden tests that derive per-student data
        self._language = submission_language(nb)
        if self.remote_tests:
            from .remote import Checker

            self._checker = Checker(self._transport, timeout=float(self.timeout or 60))
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs):
        if self.kernel_cwd:
            kwargs["cwd"] = self.kernel_cwd
        return await super().async_start_new_kernel(**kwargs)

    # nbclient binds its synchronous start_new_kernel (which nbconvert calls) to the base class's
    # coroutine, so the override above needs its own synchronous twin to take effect
    start_new_kernel = run_sync(async_start_new_kernel)

    # -- the remote checker's transport (see fnngrade.remote) ----------------------------------------

    def _install_agent(self) -> bool:
        from .remote import AGENT_SOURCE

        expr = (f"(lambda d: exec(compile({AGENT_SOURCE!r}, '<fnngrade agent>', 'exec'), d) "
                f"or d['install'](get_ipython(), {self._agent!r}))({{}})")
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"g": expr})
            reply = self.wait_for_reply(msg_id)
        except Exception:
            return False
        g = (reply or {}).get("content", {}).get("user_expressions", {}).get("g", {})
        text = g.get("data", {}).get("text/plain", "") if g.get("status") == "ok" else ""
        return text == "'fnngrade-agent-ok'"

    def _transport(self, payload: str, on_input, deadline: float, nested: bool = False) -> str:
        """Send one request to the kernel's agent; answer its callbacks; return its reply text.

        Requests and replies travel over a Unix socket that this worker binds in the kernel's
        socket folder: for each checker cell one silent execute request makes the kernel's main
        thread serve that socket (so an interrupt still lands in the student's code), and the
        session ends with the cell. A callback (the student's code calling a function of the
        test) arrives as a message in the middle of a request and is answered on the same socket;
        a request made while a callback is open is served the same way, nested."""
        from .remote import KernelGone

        if self._fatal:
            raise KernelGone(self._fatal)
        if os.environ.get("FNNGRADE_DEBUG"):
            import time

            with open(os.environ["FNNGRADE_DEBUG"], "a") as fh:  # a trace of every request, for debugging
                fh.write(f"[rpc {time.monotonic():.6f} cell {self._current_gid} nested={nested}] {payload[:150]}\n")
        if self._session is None:
            self._session = self._open_session(deadline)
        return self._session.request(payload, on_input, deadline)

    def _open_session(self, deadline: float):
        from .remote import Session

        d = os.path.dirname(os.path.abspath(self.km.connection_file))
        path = os.path.join(d, f"c-{os.urandom(6).hex()}.sock")
        session = Session(path, self)
        msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                                 user_expressions={"s": f"__import__('sys').modules[{self._agent!r}].serve({path!r})"})
        session.accept(msg_id, deadline)
        return session

    def _close_session(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            session.close()

    # hooks used by remote.Session

    def _interrupt_kernel(self) -> None:
        try:
            run_sync(ensure_async)(self.km.interrupt_kernel())
        except Exception:
            pass

    def _kernel_alive(self) -> bool:
        try:
            return bool(run_sync(ensure_async)(self.km.is_alive()))
        except Exception:
            return False

    def _lose_kernel(self, kind: str, what: str) -> str:
        rc = self._kill_kernel()
        what = what.format(rc=rc)
        EVENTS.append({"kind": kind, "cell": self._current_gid, "index": self._current, "detail": what})
        self._fatal = f"the kernel was lost earlier, in cell {self._current_gid or self._current}: {what}"
        return what

    def _note_timeout(self) -> None:
        EVENTS.append({"kind": "timeout", "cell": self._current_gid, "index": self._current,
                       "detail": f"ran past the {self.timeout} s cell timeout (interrupted)"})

    def _wait_reply(self, msg_id: str, seconds: float):
        """The shell reply to msg_id within ``seconds``, or None."""
        import time

        from queue import Empty

        async def wait():
            end = time.monotonic() + seconds
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                try:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(left, 0.5)))
                except Empty:
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    return msg

        return run_sync(wait)()

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
        self._current_gid = _grade_id(cell)
        if self._checker is not None:
            if not self._agent_ready:
                self._agent_ready = self._install_agent()
                if not self._agent_ready:  # before any student code: a grader problem, not the student's
                    raise RuntimeError("fnngrade: the remote checker's helper could not be installed in the kernel")
            if is_test:
                return self._run_test_in_checker(cell, resources, index)
            if not is_locked:  # the student's own code: its text is where inspect.getsource looks
                self._checker.student_sources.append(cell.source)
        try:
            out = super().preprocess_cell(cell, resources, index)
            if self._checker is not None and is_locked and not self._fatal:
                self._run_locked_in_checker(cell)
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


    async def _async_drain_iopub(self) -> int:
        """Read away the status messages of the checker's requests (ZeroMQ drops new messages once
        about 2,000 are queued, and nbclient would then miss the next cell's "idle" and time out)."""
        from queue import Empty

        n = 0
        while True:
            try:
                await ensure_async(self.kc.iopub_channel.get_msg(timeout=0.01))
                n += 1
            except Empty:
                return n

    def _run_test_in_checker(self, cell, resources, index):
        from .remote import KernelGone, error_output

        try:
            with _messages_in(self._language):
                outputs = self._checker.run(cell.source)
        except KernelGone as e:
            outputs = [error_output(e)]
        self._close_session()
        if not self._fatal:
            run_sync(self._async_drain_iopub)()
        cell.outputs = [from_dict(o) for o in outputs]
        cell.execution_count = None
        return cell, resources

    def _run_locked_in_checker(self, cell) -> None:
        """The instructor's imports, helpers and examples: the tests need their names here too."""
        from .remote import KernelGone

        try:
            outputs = self._checker.run(cell.source)
        except KernelGone:
            self._close_session()
            return
        self._close_session()
        if not self._fatal:
            run_sync(self._async_drain_iopub)()
        errors = [o for o in outputs if o["output_type"] == "error"]
        if errors:
            self.log.info("fnngrade: locked cell %s raised in the checker: %s", _grade_id(cell), errors[0]["evalue"][:200])

LANGUAGES = ("en", "zh")


def submission_language(nb) -> str:
    """The language of a submission's test messages: the edition its release was made from.

    The Chinese release (``zh/exercises``, written by tools/i18n.py) says ``{"fnn_course":
    {"language": "zh"}}`` in its notebook metadata. The student can edit that, which only changes
    the language of the messages in their own feedback; anything but a known language is English.
    Never the grading machine's own FNN_LANG or settings: one class, one rule per notebook."""
    meta = nb.get("metadata", {}).get("fnn_course", {})
    lang = meta.get("language") if isinstance(meta, dict) else None
    return lang if isinstance(lang, str) and lang in LANGUAGES else "en"


def _messages_in(language: str):
    from fnnlib.i18n import use_language

    return use_language(language)


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
