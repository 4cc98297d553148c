"""Every lecture ends like the syllabus says, and its explorers show before anything runs.

- a "Check your understanding" section whose code stores a quiz (fnnlib.quiz's static fallback:
  questions, options, answers inside <details>), so the questions are there without a kernel;
- a "Further reading" section whose every entry is exact: a year, a chapter or section number, or
  an address, never just a name;
- no cell whose only stored output is a widget (the `interactive(children=(...` text or a widget
  view with nothing beside it): an explorer must store a figure or HTML that renders statically.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "lectures").glob("[0-9][0-9]-*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
STATIC_KINDS = {"image/png", "image/svg+xml", "text/html", "text/markdown"}

# (lecture, check) pairs another change is still bringing up to this standard; the reason names the lecture.
PENDING: dict[tuple[str, str], str] = {}  # (lecture number, check) -> why it is expected to fail


def _params(check: str):
    return [
        pytest.param(p, id=p.name, marks=pytest.mark.xfail(reason=PENDING[(p.name[:2], check)], strict=False))
        if (p.name[:2], check) in PENDING
        else pytest.param(p, id=p.name)
        for p in LECTURES
    ]


def _read(path: Path):
    return nbformat.read(str(path), as_version=4)


def _heading_index(nb, title: str) -> int | None:
    pattern = re.compile(rf"^#+\s*(\d+(\.\d+)*\.?\s*)?{re.escape(title)}\s*$", re.I | re.M)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and pattern.search(cell.source):
            return i
    return None


def _section_cells(nb, start: int):
    """The cells after heading cell ``start`` up to the next heading of the same or a higher level."""
    level = len(re.search(r"^(#+)", [ln for ln in nb.cells[start].source.splitlines() if ln.startswith("#")][0]).group(1))
    out = []
    for cell in nb.cells[start + 1:]:
        if cell.cell_type == "markdown":
            m = re.match(r"^(#+)\s", cell.source.lstrip())
            if m and len(m.group(1)) <= level:
                break
        out.append(cell)
    return out


def test_lectures_exist():
    assert len(LECTURES) == 8, [p.name for p in LECTURES]


@pytest.mark.parametrize("path", _params("quiz"))
def test_check_your_understanding_stores_a_quiz(path):
    nb = _read(path)
    start = _heading_index(nb, "Check your understanding")
    assert start is not None, f"{path.name}: no '## Check your understanding' heading"
    quizzes = [
        o
        for cell in _section_cells(nb, start)
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if 'class="fnn-quiz-static"' in "".join(o.get("data", {}).get("text/html", ""))
    ]
    assert quizzes, (
        f"{path.name}: the 'Check your understanding' section stores no quiz output; end a code cell with a "
        "fnnlib.quiz.Quiz and execute the notebook"
    )
    for out in quizzes:
        page = "".join(out.data["text/html"])
        n_questions = page.count('class="fnn-quiz-question"')
        assert n_questions >= 3, f"{path.name}: the quiz has {n_questions} questions; ask at least three"
        assert page.count("<details>") == n_questions, f"{path.name}: every answer belongs in a <details> block"
        assert {"text/plain", "text/markdown"} <= set(out.data), f"{path.name}: quiz output lacks its plain fallbacks"


# An entry is exact when it carries a year, a chapter/section/page, or an address.
_EXACT = re.compile(r"\b(19|20)\d\d\b|\bch(apter|\.)\s*\d|§\s*\d|\bsec(tion|\.)\s*\d|https?://|\bpp?\.\s*\d", re.I)


@pytest.mark.parametrize("path", _params("reading"))
def test_further_reading_lists_exact_references(path):
    nb = _read(path)
    start = _heading_index(nb, "Further reading")
    assert start is not None, f"{path.name}: no '## Further reading' heading"
    text = "\n".join([nb.cells[start].source] + [c.source for c in _section_cells(nb, start) if c.cell_type == "markdown"])
    entries: list[str] = []
    for line in text.splitlines():  # an entry is a bullet line plus its indented continuation lines
        if re.match(r"^\s*([-*]|\d+\.)\s+\S", line):
            entries.append(line.strip())
        elif entries and line.startswith((" ", "\t")) and line.strip():
            entries[-1] += " " + line.strip()
        elif not line.strip():
            continue
    assert len(entries) >= 3, f"{path.name}: 'Further reading' lists {len(entries)} references; give at least three"
    vague = [e for e in entries if not _EXACT.search(e)]
    assert not vague, (
        f"{path.name}: these reading entries name no year, chapter/section or address: {vague[:3]}"
    )


@pytest.mark.parametrize("path", _params("widget"))
def test_every_widget_cell_also_stores_a_static_view(path):
    nb = _read(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        outs = cell.get("outputs", [])
        kinds = {k for o in outs for k in o.get("data", {})}
        texts = " ".join("".join(o.get("data", {}).get("text/plain", "")) for o in outs)
        has_widget = WIDGET in kinds or texts.lstrip().startswith("interactive(children=")
        if not has_widget:
            continue
        assert kinds & STATIC_KINDS, (
            f"{path.name}, cell {i}: its stored output is only a widget ({texts[:60]!r}); store a figure or "
            "HTML next to it (fnnlib.plot.explorer, fnnlib.quiz.Quiz) so it renders without a kernel"
        )
        assert "interactive(children=" not in texts, (
            f"{path.name}, cell {i}: stores the text 'interactive(children=(...' that shows until the cell runs; "
            "use fnnlib.plot.explorer"
        )


@pytest.mark.parametrize("path", LECTURES, ids=[p.name for p in LECTURES])
def test_every_figure_is_stored_at_twice_its_displayed_size(path):
    """fnnlib.plot.use_course_style() in the first cell makes the inline backend store retina PNGs."""
    import base64
    import struct

    nb = _read(path)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if not png:
                continue
            raw = base64.b64decode(png)
            width = struct.unpack(">I", raw[16:20])[0]  # the IHDR chunk: width, then height
            shown = out.get("metadata", {}).get("image/png", {}).get("width")
            assert shown and abs(2 * shown - width) <= 1, (
                f"{path.name}, cell {i}: a {width}-pixel PNG displayed at width {shown}; call "
                "fplot.use_course_style() in the first cell so figures are stored at 2x (retina)"
            )


@pytest.mark.parametrize("path", _params("order"))
def test_sections_in_order_summary_assignment_quiz_reading(path):
    """The end of a lecture: Summary, the Assignment pointer, Check your understanding, Further reading."""
    nb = _read(path)
    found = {}
    for title in ("Summary", "Assignment", "Check your understanding", "Further reading"):
        pattern = re.compile(rf"^##\s+(\d+\.?\s+)?{title}\b", re.M)
        hits = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and pattern.search(c.source)]
        assert hits, f"{path.name}: no '## {title}' section"
        found[title] = hits[0]
    order = sorted(found, key=found.get)
    assert order == list(found), f"{path.name}: sections in the order {order}; expected {list(found)}"
