"""Lecture notebooks are stored ready to read: executed top to bottom, figures included.

nbval (run by `make test` with --nbval) re-executes every lecture and compares the stored text
outputs with fresh ones, so a stored output that the current code does not produce fails there.
The checks here cover what nbval cannot see: that outputs are present at all, that they come
from one clean top-to-bottom run, that every figure was stored, and that nothing was written to
stderr (warnings) or raised.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "lectures").glob("[0-9][0-9]-*.ipynb"))
MAX_BYTES = 3_000_000


def test_there_are_lectures():
    assert LECTURES, "no lecture notebook under lectures/ (expected NN-topic.ipynb)"


@pytest.fixture(params=LECTURES, ids=[p.name for p in LECTURES])
def lecture(request):
    return request.param, nbformat.read(str(request.param), as_version=4)


def test_executed_once_top_to_bottom(lecture):
    path, nb = lecture
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert counts, f"{path.name} has no code"
    assert None not in counts, (
        f"{path.name}: {counts.count(None)} code cells were never run; execute the notebook top to bottom "
        "(jupyter nbconvert --to notebook --execute --inplace) and commit it with its outputs"
    )
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts[:12]}… are not 1..n: the stored outputs do not come from one "
        "clean top-to-bottom run (restart the kernel and run all, then save)"
    )


def test_no_errors_warnings_or_figure_reprs(lecture):
    path, nb = lecture
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            where = f"{path.name}, cell {i}"
            assert out.output_type != "error", f"{where} stored an error: {out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream":
                assert out.name != "stderr", f"{where} wrote to stderr (a warning?): {out.text[:200]!r}"
            data = out.get("data", {})
            has_image = bool(set(data) & {"image/png", "image/svg+xml"})
            text = "".join(data.get("text/plain", ""))
            # plt.show() stores "<Figure size …>" as the text twin of the image: that is fine. A repr
            # without an image, or as the cell's value, means the cell returned a Figure/Axes object.
            if re.search(r"<(Figure size|Axes[:>]|matplotlib\.)", text):
                assert has_image and out.output_type == "display_data", (
                    f"{where} stores {text[:60]!r} as text: end the cell with plt.show()"
                )


def test_no_execution_timestamps(lecture):
    path, nb = lecture
    stamped = [i for i, c in enumerate(nb.cells) if "execution" in c.get("metadata", {})]
    assert not stamped, (
        f"{path.name}: cells {stamped[:8]} carry execution timestamps that change on every run; "
        "execute with `make lectures` (record_timing=False)"
    )


def test_every_figure_is_stored(lecture):
    path, nb = lecture
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and re.search(r"plt\.show\(\)", cell.source):
            kinds = {k for o in cell.get("outputs", []) for k in o.get("data", {})}
            assert kinds & {"image/png", "image/svg+xml"}, f"{path.name}, cell {i} shows a figure but stores no image"


def test_size_kernel_and_key_terms(lecture):
    path, nb = lecture
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB; keep figures small"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.search(r"\|\s*English\s*\|\s*中文\s*\|", md), f"{path.name} needs a key-term table '| English | 中文 |'"
