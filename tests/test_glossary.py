"""GLOSSARY.md against the lectures, and the parser of tools/glossary.py on its edge cases.

GLOSSARY.md is generated from the key-term tables (``| English | 中文 |``) of every lecture, so it
cannot drift: the first test fails as soon as a lecture's table changes and the file is not
regenerated (``python tools/glossary.py``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "glossary.py"

_spec = importlib.util.spec_from_file_location("glossary", SCRIPT)
glossary = importlib.util.module_from_spec(_spec)
sys.modules["glossary"] = glossary
_spec.loader.exec_module(glossary)

LECTURES = sorted((ROOT / "lectures").glob(glossary.LECTURE_GLOB))


def _glossary_rows(text: str) -> dict[str, tuple[str, str]]:
    """English (casefolded) -> (中文 cell, units cell) of the table in GLOSSARY.md."""
    rows = {}
    lines = text.splitlines()
    start = lines.index("| English | 中文 | Units |")
    for line in lines[start + 2:]:
        cells = glossary.split_row(line)
        if cells is None:
            break
        rows[cells[0].casefold()] = (cells[1], cells[2])
    return rows


def test_glossary_is_up_to_date():
    path = ROOT / glossary.OUTPUT
    assert path.exists(), "GLOSSARY.md is missing: run `python tools/glossary.py`"
    assert path.read_text(encoding="utf-8") == glossary.build(ROOT), (
        "GLOSSARY.md is stale (a lecture's key-term table changed): run `python tools/glossary.py` "
        "(`python tools/glossary.py --check` shows the difference)"
    )


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.name for p in LECTURES])
def test_every_lecture_term_is_in_the_glossary(lecture):
    rows = _glossary_rows((ROOT / glossary.OUTPUT).read_text(encoding="utf-8"))
    pairs = glossary.parse_term_tables(glossary.notebook_markdown(lecture))
    assert pairs, f"{lecture.name}: no key-term table '| English | 中文 |' found"
    unit = str(glossary.unit_number(lecture))
    for english, chinese in pairs:
        assert english.casefold() in rows, f"{lecture.name}: {english!r} is not in GLOSSARY.md"
        zh, units = rows[english.casefold()]
        assert chinese.replace("|", "\\|") in zh, f"{english!r}: {chinese!r} of {lecture.name} missing from {zh!r}"
        assert unit in units.split(", "), f"{english!r}: unit {unit} not listed ({units!r})"


def test_split_row_handles_escaped_pipes_and_optional_outer_pipes():
    assert glossary.split_row("| a \\| b | 甲 |") == ["a | b", "甲"]
    assert glossary.split_row("a | b") == ["a", "b"]
    assert glossary.split_row("no table here") is None
    assert glossary.split_row("an escaped \\| pipe only") is None


def test_parser_edge_cases():
    md = "\n".join([
        "Some text with a | pipe that is not a table.",
        "",
        "|  English  | 中文 | Notes |",
        "",  # a blank line before the separator is tolerated
        "|:---|:---:|---|",
        "| norm \\|x\\| | 范数 | extra column, ignored |",
        "| Epoch | 回合 |",  # a missing last cell
        "|  | 空 | no English: skipped |",
        "| mini-batch  gradient | 小批量   梯度 | whitespace collapsed |",
        "",  # a blank line ends the table
        "| not | a term |",
        "",
        "| 中文 | English |",  # columns in the other order
        "|---|---|",
        "| 权重 | weight |",
    ])
    assert glossary.parse_term_tables(md) == [
        ("norm |x|", "范数"),
        ("Epoch", "回合"),
        ("mini-batch gradient", "小批量 梯度"),
        ("weight", "权重"),
    ]


def test_a_header_without_separator_is_not_a_table():
    assert glossary.parse_term_tables("| English | 中文 |\n| weight | 权重 |\n") == []


def _course(tmp_path: Path, tables: dict[str, str]) -> Path:
    (tmp_path / "lectures").mkdir()
    for name, md in tables.items():
        nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": md},
                        {"cell_type": "code", "metadata": {}, "source": "| English | 中文 |", "outputs": [],
                         "execution_count": None}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (tmp_path / "lectures" / name).write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return tmp_path


TABLE_1 = "| English | 中文 |\n|---|---|\n| Weight | 权重 |\n| epoch | 回合 |\n| a \\| b | 甲 |\n"
TABLE_2 = "| English | 中文 | Note |\n|---|---|---|\n| weight | 权重 | x |\n| Epoch | 轮 | y |\n| bias | 偏置 | z |\n"


def test_merge_dedupes_case_insensitively_and_flags_conflicts(tmp_path):
    root = _course(tmp_path, {"01-a.ipynb": TABLE_1, "02-b.ipynb": TABLE_2, "notes.ipynb": TABLE_2})
    terms, lectures = glossary.collect(root)
    assert [p.name for p in lectures] == ["01-a.ipynb", "02-b.ipynb"]
    assert sorted(terms) == ["a | b", "bias", "epoch", "weight"]
    assert terms["weight"].english == "Weight" and terms["weight"].units == [1, 2]
    assert not terms["weight"].conflicting
    assert terms["epoch"].conflicting and terms["epoch"].translations == {"回合": [1], "轮": [2]}
    text = glossary.render(terms, lectures)
    rows = _glossary_rows(text)
    assert list(rows) == ["a | b", "bias", "epoch", "weight"]  # alphabetical, code cells ignored
    assert rows["epoch"] == (f"回合 (1); 轮 (2) {glossary.FLAG}", "1, 2")
    assert rows["weight"] == ("权重", "1, 2")
    assert "| a \\| b | 甲 | 1 |" in text  # the pipe is escaped again in the output


def test_check_reports_a_stale_file_and_write_fixes_it(tmp_path):
    root = _course(tmp_path, {"01-a.ipynb": TABLE_1})
    run = lambda *args: subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args],  # noqa: E731
                                       capture_output=True, text=True, encoding="utf-8")
    missing = run("--check")
    assert missing.returncode == 1 and "stale" in missing.stdout
    assert run().returncode == 0
    assert run("--check").returncode == 0
    (root / "lectures" / "02-b.ipynb").write_text(
        (root / "lectures" / "01-a.ipynb").read_text(encoding="utf-8").replace("回合", "轮"), encoding="utf-8")
    stale = run("--check")
    assert stale.returncode == 1
    assert "+| epoch | 回合 (1); 轮 (2)" in stale.stdout and "-| epoch | 回合 | 1 |" in stale.stdout
