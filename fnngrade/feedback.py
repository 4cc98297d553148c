"""Feedback students can keep: no hidden tests, and formulas that typeset offline.

``nbgrader generate_feedback`` turns each autograded notebook into HTML. Out of the box (nbgrader
0.9.6) that HTML shows every ``### BEGIN HIDDEN TESTS`` region, because the autograded copy has the
hidden tests back, and it loads MathJax from a CDN, so a student who opens the file offline sees raw
``$...$``. nbgrader has no option for either (its ``ClearHiddenTests`` runs only when the release
is generated), so ``nbgrader_config.py`` sets up two things from this module for GenerateFeedback:

:class:`HideHiddenTests`
    a preprocessor that removes each hidden-test region from the cell source (a one-line note
    keeps the place) and every line of a cell's outputs that quotes a hidden line: an IPython
    traceback shows the source lines around the failing one, so a failing hidden check would
    otherwise print itself. The failure *message* stays: it is what the student learns from.

the ``fnn_feedback`` template (``templates/fnn_feedback``)
    nbgrader's feedback template with nbconvert's ``mathjax`` macro replaced: instead of a
    ``<script src>`` to a CDN, the page carries MathJax 3 itself, inlined from the copy vendored
    in ``static/mathjax/`` (``tex-svg-full.js`` of the npm package ``mathjax`` 3.2.2, Apache-2.0;
    see ``static/mathjax/README.md``). nbgrader's ``release_feedback`` ships only the ``.html``
    file, so the page must be self-contained; the SVG output needs no font files. The price is
    about 2.3 MB per feedback file.

:class:`LabelMarkScheme`
    the rubric of a written question (its ``### BEGIN MARK SCHEME`` region) may be shown once the
    answer is graded; this preprocessor only turns the two marker lines, which Markdown would
    render as headings, into a label ("How this question is marked") and a rule.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode

__all__ = ["HideHiddenTests", "LabelMarkScheme", "TranslatedTaskText", "MATHJAX_JS", "TEMPLATES", "hidden_lines", "mathjax_script", "strip_hidden"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
MATHJAX_JS = HERE / "static" / "mathjax" / "tex-svg-full.js"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What an IPython or Python traceback puts before a quoted source line: "----> 12 ", "     13 ",
# "File ..., line 5, in f" lines are left alone (they quote no source).
_TB_PREFIX = re.compile(r"^(\s*(?:-*>\s*)?\d+\s)(?=\s*\S)")
MIN_HIDDEN = 4  # a hidden line shorter than this (")", "])") says nothing and is left in outputs


def _norm(line: str) -> str:
    return " ".join(line.split())


def strip_hidden(source: str, begin: str, end: str, note: str) -> tuple[str, list[str], list[str]]:
    """(source without its hidden regions, the hidden lines, the other lines).

    Each region, marker lines included, becomes ``note`` at the indentation of its first marker.
    A region with no end marker runs to the end of the cell (never shown by mistake).
    """
    kept, hidden, visible, inside = [], [], [], False
    for line in source.split("\n"):
        if not inside and begin in line:
            inside = True
            if note:
                kept.append(line[: len(line) - len(line.lstrip())] + note)
        elif inside and end in line:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            kept.append(line)
            visible.append(line)
    return "\n".join(kept), hidden, visible


def hidden_lines(nb, begin: str, end: str) -> set[str]:
    """Normalised hidden-test lines of a notebook that it does not also show outside the regions."""
    hidden, visible = set(), set()
    for cell in nb.cells:
        _, h, v = strip_hidden(cell.source, begin, end, "")
        hidden |= {_norm(x) for x in h}
        visible |= {_norm(x) for x in v}
    return {h for h in hidden - visible if len(h) >= MIN_HIDDEN}


def _scrub(text: str, secret: set[str], markers: tuple[str, ...] = ()) -> tuple[str, int]:
    """``text`` with every line that quotes a secret line (or holds a marker) replaced by a note;
    and how many were replaced."""
    out, n = [], 0
    for line in text.split("\n"):
        plain = _ANSI.sub("", line)
        m = _TB_PREFIX.match(plain)
        body = plain[m.end():] if m else plain
        if _norm(body) in secret or _norm(plain) in secret or any(k in plain for k in markers):
            out.append((m.group(1) if m else "") + "(a line of a hidden test)")
            n += 1
        else:
            out.append(line)
    return "\n".join(out), n


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests from a graded notebook, and the output lines that quote them."""

    begin_test_delimeter = Unicode(
        "BEGIN HIDDEN TESTS", help="The delimiter marking the beginning of hidden tests (as ClearHiddenTests)"
    ).tag(config=True)
    end_test_delimeter = Unicode(
        "END HIDDEN TESTS", help="The delimiter marking the end of hidden tests (as ClearHiddenTests)"
    ).tag(config=True)
    note = Unicode(
        "# (hidden tests ran here; what they found is in this cell's output)",
        help="What stands in the feedback where a hidden-test region was ('' for nothing)",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        self._secret = hidden_lines(nb, self.begin_test_delimeter, self.end_test_delimeter)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if self.begin_test_delimeter in cell.source:
            cell.source, _, _ = strip_hidden(cell.source, self.begin_test_delimeter, self.end_test_delimeter,
                                             self.note)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                self._scrub_output(out)
        return cell, resources

    def _scrub_output(self, out) -> None:
        def scrub(text: str) -> str:
            return _scrub(text, self._secret, (self.begin_test_delimeter, self.end_test_delimeter))[0]

        kind = out.get("output_type")
        if kind == "stream":
            out["text"] = scrub(out.get("text", ""))
        elif kind == "error":
            out["evalue"] = scrub(out.get("evalue", ""))
            out["traceback"] = [scrub(entry) for entry in out.get("traceback", [])]
        else:
            data = out.get("data", {})
            for mime in ("text/plain", "text/html", "text/markdown", "text/latex"):
                if isinstance(data.get(mime), str):
                    data[mime] = scrub(data[mime])


class LabelMarkScheme(NbGraderPreprocessor):
    """Show a rubric in feedback under a label instead of nbgrader's marker lines."""

    begin_mark_scheme_delimeter = Unicode("BEGIN MARK SCHEME", help="as ClearMarkScheme").tag(config=True)
    end_mark_scheme_delimeter = Unicode("END MARK SCHEME", help="as ClearMarkScheme").tag(config=True)
    label = Unicode("\n***\n\n**How this question is marked** (the grader's rubric):\n",
                    help="Markdown that replaces the begin marker").tag(config=True)
    closing = Unicode("\n***\n", help="Markdown that replaces the end marker").tag(config=True)
    hide = Bool(False, help="Leave the rubric out of the feedback altogether (e.g. while late or "
                            "extended submissions are still open)").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown" and self.begin_mark_scheme_delimeter in cell.source:
            lines, inside = [], False
            for line in cell.source.split("\n"):
                if self.begin_mark_scheme_delimeter in line:
                    inside = True
                    if not self.hide:
                        lines.append(self.label)
                elif self.end_mark_scheme_delimeter in line:
                    inside = False
                    if not self.hide:
                        lines.append(self.closing)
                elif not (inside and self.hide):
                    lines.append(line)
            cell.source = "\n".join(lines)
        return cell, resources


class TranslatedTaskText(NbGraderPreprocessor):
    """Feedback on a submission made from the Chinese release (中文版) shows the Chinese task texts.

    Autograding puts the source's (English) text back into every locked cell, so the graded copy of
    a Chinese submission reads in English. Its notebook metadata still names the edition it was made
    from; for ``zh`` each locked markdown cell that holds exactly the English release's text for its
    cell id gets the Chinese release's text for that id (``zh/exercises/<id>/<notebook>.ipynb``,
    written by ``make zh``). Grade and answer cells are never touched, nor a cell whose English is not
    the release's (an old release, a changed source): the page then keeps the English."""

    release_root = Unicode("exercises", help="the English releases (CourseDirectory.release_directory)").tag(config=True)
    edition_root = Unicode(str(Path("zh") / "exercises"), help="the Chinese releases").tag(config=True)

    def preprocess(self, nb, resources):
        meta = nb.metadata.get("fnn_course")
        info = (resources or {}).get("nbgrader") or {}
        if not (isinstance(meta, dict) and meta.get("language") == "zh") or not info.get("assignment"):
            return nb, resources
        name = f"{info['notebook']}.ipynb"
        english = _markdown_by_id(Path(self.release_root) / info["assignment"] / name)
        chinese = _markdown_by_id(Path(self.edition_root) / info["assignment"] / name)
        for cell in nb.cells:
            nbg = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type != "markdown" or nbg.get("grade") or nbg.get("solution"):
                continue
            cid = cell.get("id")
            if cid in chinese and english.get(cid) == cell.source:
                cell.source = chinese[cid]
        return nb, resources


def _markdown_by_id(path: Path) -> dict[str, str]:
    import nbformat

    if not path.is_file():
        return {}
    nb = nbformat.read(path, as_version=4)
    return {c["id"]: c["source"] for c in nb.cells if c["cell_type"] == "markdown" and "id" in c}


@functools.lru_cache(maxsize=1)
def _mathjax_source() -> str:
    if not MATHJAX_JS.exists():
        raise FileNotFoundError(
            f"the vendored MathJax is missing: {MATHJAX_JS} (it ships with fnngrade; see "
            f"{MATHJAX_JS.parent / 'README.md'} for how to restore it)"
        )
    # "</script" would end the inline <script> element early; the file has none, but be sure.
    return MATHJAX_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")


def mathjax_script(_: object = "") -> str:
    """Jinja filter used by ``templates/fnn_feedback/mathjax.html.j2``: the MathJax source to inline."""
    return _mathjax_source()
