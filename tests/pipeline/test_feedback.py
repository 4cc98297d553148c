"""Feedback as students get it back: no hidden test, formulas typeset offline (fnngrade/feedback.py).

- :class:`fnngrade.feedback.HideHiddenTests` on a notebook made here: hidden regions go, a note
  keeps their place, output lines quoting a hidden line go, the failure message stays;
- a tiny assignment graded for real (release, submission, autograde, generate_feedback with the
  course's nbgrader_config.py): its feedback HTML holds no hidden line and no CDN, shows the rubric
  under a label, and, opened from disk in headless Chromium (Playwright) with the network off,
  shows every formula typeset: no raw ``$...$`` left in the visible text, no request but the file.

The same rendering check runs on every real assignment's feedback in ``test_grading.py``.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from fnngrade.feedback import HideHiddenTests, LabelMarkScheme, hidden_lines

from . import course as C
from .test_leaks import MARKED_SOURCE, feedback_leaks

pytestmark = pytest.mark.pipeline

RAW_MATH = re.compile(r"(?<![\\$])\$[^$\n]{1,200}\$|\$\$[^$]{1,400}\$\$|\\\(|\\\[")


# --------------------------------------------------------------------------- the preprocessors alone


def _graded_like():
    """A graded test cell as the autograded notebook has it: hidden tests back, and the traceback of
    the hidden assert that failed (IPython quotes the lines around the failing one)."""
    nb = nbformat.from_dict(json.loads(json.dumps(MARKED_SOURCE)))
    test = nb.cells[3]
    test.outputs = [nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="odd extension",
        traceback=[
            "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
            "\x1b[0;31mAssertionError\x1b[0m                            Traceback (most recent call last)",
            "Cell \x1b[0;32mIn[4], line 3\x1b[0m\n\x1b[1;32m      1\x1b[0m \x1b[38;5;28;01massert\x1b[39;00m f(\x1b"
            "[38;5;241m2.0\x1b[39m) \x1b[38;5;241m==\x1b[39m \x1b[38;5;241m4.0\x1b[39m\n\x1b[1;32m      2\x1b[0m "
            "\x1b[38;5;66;03m### BEGIN HIDDEN TESTS\x1b[39;00m\n\x1b[0;32m----> 3\x1b[0m \x1b[38;5;28;01massert\x1b"
            "[39;00m f(\x1b[38;5;241m-\x1b[39m\x1b[38;5;241m3.0\x1b[39m) \x1b[38;5;241m==\x1b[39m \x1b[38;5;241m-\x1b"
            "[39m\x1b[38;5;241m9.0\x1b[39m, \x1b[38;5;124m'\x1b[39m\x1b[38;5;124modd extension\x1b[39m\x1b[38;5;124m'"
            "\x1b[39m\n\x1b[1;32m      4\x1b[0m \x1b[38;5;66;03m### END HIDDEN TESTS\x1b[39;00m\n",
            "\x1b[0;31mAssertionError\x1b[0m: odd extension",
        ],
    )]
    return nb


def test_hidden_tests_and_the_lines_quoting_them_are_removed():
    nb = _graded_like()
    assert hidden_lines(nb, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS") == {"assert f(-3.0) == -9.0, 'odd extension'"}
    out, _ = HideHiddenTests().preprocess(copy.deepcopy(nb), {})
    test = out.cells[3]
    assert test.source == "assert f(2.0) == 4.0\n# (hidden tests ran here; what they found is in this cell's output)"
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", "\n".join(test.outputs[0].traceback))
    assert "f(-3.0)" not in plain and "HIDDEN" not in plain
    assert "----> 3 (a line of a hidden test)" in plain
    assert "1 assert f(2.0) == 4.0" in plain  # visible lines stay
    assert test.outputs[0].evalue == "odd extension" and plain.endswith("AssertionError: odd extension")
    assert [c.source for c in out.cells[:3]] == [c.source for c in nb.cells[:3]]  # nothing else changes


def test_a_region_without_its_end_marker_is_hidden_to_the_end():
    nb = _graded_like()
    nb.cells[3].source = "assert f(2.0) == 4.0\n### BEGIN HIDDEN TESTS\nassert f(-3.0) == -9.0\nassert f(0) == 0"
    out, _ = HideHiddenTests().preprocess(nb, {})
    assert "f(-3.0)" not in out.cells[3].source and "f(0)" not in out.cells[3].source


def test_the_rubric_is_shown_under_a_label():
    nb = nbformat.from_dict(json.loads(json.dumps(MARKED_SOURCE)))
    out, _ = LabelMarkScheme().preprocess(nb, {})
    src = out.cells[0].source
    assert "MARK SCHEME" not in src
    assert "**How this question is marked** (the grader's rubric):" in src
    assert "- **1 point**: hence every chord lies above the graph" in src
    hidden, _ = LabelMarkScheme(hide=True).preprocess(nbformat.from_dict(json.loads(json.dumps(MARKED_SOURCE))), {})
    assert "chord" not in hidden.cells[0].source and "Rubric" not in hidden.cells[0].source
    assert "A complete answer addresses the second derivative and its sign." in hidden.cells[0].source


# --------------------------------------------------------------------------- a tiny course, for real


def _rendered(browser, html_path: Path, screenshot: Path) -> dict:
    """Open ``html_path`` from disk in headless Chromium (a new page and context of ``browser``, the
    module's: tests/conftest.py) with no network; wait for MathJax."""
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    try:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html_path.resolve().as_uri())
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
        page.evaluate("MathJax.startup.promise")
        result = page.evaluate("""() => {
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const parts = []; let node;
            while ((node = walker.nextNode())) {
                const el = node.parentElement;
                if (el.closest('pre, code, script, style, mjx-container')) continue;
                const style = getComputedStyle(el);
                if (style.display === 'none' || style.visibility === 'hidden') continue;
                parts.push(node.textContent);
            }
            return {text: parts.join(''), typeset: document.querySelectorAll('mjx-container').length,
                    errors: document.querySelectorAll('mjx-merror').length};
        }""")
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()  # and its context
    result["requests"] = requests
    return result


def check_rendered_offline(browser, html_path: Path, screenshot: Path, *, min_formulas: int = 1) -> None:
    """The feedback file typesets every formula with no network: the test of issue 15."""
    html = html_path.read_text(encoding="utf-8")
    remote = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^\"' >]+", html)
    assert not remote, f"{html_path} loads from the network: {remote[:5]}"
    r = _rendered(browser, html_path, screenshot)
    others = [u for u in r["requests"] if u != html_path.resolve().as_uri()]
    assert not others, f"{html_path.name} asked for more than itself: {others[:5]}"
    raw = RAW_MATH.findall(r["text"])
    assert not raw, f"{html_path.name}: formulas left untypeset (screenshot {screenshot}): {raw[:10]}"
    assert r["typeset"] >= min_formulas, f"{html_path.name}: only {r['typeset']} formulas typeset"
    assert r["errors"] == 0, f"{html_path.name}: MathJax could not typeset {r['errors']} formulas"


@pytest.fixture(scope="module")
def tiny_feedback(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    source = json.loads(json.dumps(MARKED_SOURCE))
    source["cells"][0]["source"] = source["cells"][0]["source"].replace(
        "Explain why the loss is convex.",
        "Explain why $L(x) = \\frac{x^4}{6} + \\frac{x^2}{2}$ is convex:\n\n"
        "$$L''(x) = 2x^2 + 1 \\quad\\text{for all } x \\in \\mathbb R.$$\n")
    (root / "src").mkdir()
    nbformat.write(nbformat.from_dict(source), str(root / "src" / "tiny.ipynb"))
    course = C.Course.create(root / "course", "tiny", source=root / "src")
    release = course.release()
    nb = C.read(release / "tiny.ipynb")
    nb.cells[1].source = "Since $L''(x) = 2x^2 + 1 > 0$, the loss is convex."
    nb.cells[2].source = "import numpy as np\n\ndef f(x):\n    return x * x  # not odd"
    course.submit("s1", {"tiny.ipynb": C.dumps(nb)})
    course.nbgrader("autograde", "tiny", "--force")
    course.nbgrader("generate_feedback", "tiny", "--force")
    html = course.root / "grading" / "feedback" / "s1" / "tiny" / "tiny.html"
    assert html.exists(), "no feedback was written"
    return course, html


def test_tiny_feedback_has_no_hidden_test(tiny_feedback):
    course, html = tiny_feedback
    secrets = C.secrets(nbformat.from_dict(json.loads(json.dumps(MARKED_SOURCE))), "tiny.ipynb")
    assert feedback_leaks(course.root / "grading" / "feedback", "tiny", secrets) == []
    text = C.html_text(html.read_text(encoding="utf-8"))
    assert "odd extension" in text, "the hidden test's failure message must stay"
    assert "(hidden tests ran here; what they found is in this cell's output)" in text
    assert "(a line of a hidden test)" in text
    assert "How this question is marked" in text and "hence every chord lies above the graph" in text


def test_tiny_feedback_typesets_its_formulas_offline(tiny_feedback, tmp_path, chromium):
    _, html = tiny_feedback
    away = tmp_path / "downloads" / "tiny.html"  # where a student keeps it: no other file beside it
    away.parent.mkdir()
    shutil.copy(html, away)
    check_rendered_offline(chromium, away, tmp_path / "tiny.png", min_formulas=4)
