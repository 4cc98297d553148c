"""Build GLOSSARY.md, the course-wide bilingual glossary, from the lectures' key-term tables.

Every lecture ``lectures/NN-topic.ipynb`` has a markdown table whose header row starts
``| English | 中文 |`` (more columns may follow; they are ignored). This script reads all of
them and writes one alphabetical table of every term with the units that use it::

    python tools/glossary.py            # write GLOSSARY.md
    python tools/glossary.py --check    # exit 1 and print a diff if GLOSSARY.md is stale

Terms are merged case-insensitively (``Epoch`` and ``epoch`` are one term; the spelling of the
first unit that uses it is shown). When two units translate the same English term differently,
both translations are listed, each with its units, and the term is flagged, so the difference is
seen and either kept on purpose or fixed in the lectures. A literal pipe inside a cell is written
``\\|`` in the lectures and in GLOSSARY.md.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = "GLOSSARY.md"
LECTURE_GLOB = "[0-9][0-9]-*.ipynb"
FLAG = "⚠"

_SPLIT = re.compile(r"(?<!\\)\|")
_SEPARATOR_CELL = re.compile(r"^:?-{1,}:?$")


def split_row(line: str) -> list[str] | None:
    """The cells of one markdown table row, or None if the line is not a row.

    Outer pipes are optional; ``\\|`` is a literal pipe inside a cell.
    """
    s = line.strip()
    if "|" not in s.replace("\\|", ""):
        return None
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip().replace("\\|", "|") for c in _SPLIT.split(s)]


def _is_separator(cells: list[str]) -> bool:
    return bool(cells) and all(_SEPARATOR_CELL.match(c.replace(" ", "")) for c in cells)


def _norm(text: str) -> str:
    return " ".join(text.split())


def parse_term_tables(markdown: str) -> list[tuple[str, str]]:
    """Every (English, 中文) pair of the key-term tables in a markdown text.

    A key-term table is a header row with cells ``English`` and ``中文`` (any order, any other
    columns too), a separator row (``|---|---|``), then rows up to the first line that is not a
    table row (a blank line ends a table, as in markdown). Blank lines between the header and
    the separator are tolerated. Rows whose English cell is empty are skipped.
    """
    lines = markdown.splitlines()
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        cells = split_row(lines[i])
        i += 1
        if not cells:
            continue
        names = [c.casefold() for c in cells]
        if "english" not in names or "中文" not in names:
            continue
        en, zh = names.index("english"), names.index("中文")
        while i < len(lines) and not lines[i].strip():
            i += 1
        sep = split_row(lines[i]) if i < len(lines) else None
        if not sep or not _is_separator(sep):
            continue
        i += 1
        while i < len(lines):
            row = split_row(lines[i])
            if row is None or _is_separator(row):
                break
            i += 1
            english = _norm(row[en]) if en < len(row) else ""
            chinese = _norm(row[zh]) if zh < len(row) else ""
            if english:
                pairs.append((english, chinese))
    return pairs


def notebook_markdown(path: Path) -> str:
    """The markdown cells of a notebook, joined by blank lines."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            out.append(src if isinstance(src, str) else "".join(src))
    return "\n\n".join(out)


def unit_number(path: Path) -> int:
    return int(path.name[:2])


@dataclass
class Term:
    english: str
    translations: dict[str, list[int]] = field(default_factory=dict)  # 中文 -> units, first-seen order

    @property
    def units(self) -> list[int]:
        return sorted({u for us in self.translations.values() for u in us})

    @property
    def conflicting(self) -> bool:
        return len(self.translations) > 1


def collect(root: Path = ROOT) -> tuple[dict[str, Term], list[Path]]:
    """Merge the key-term tables of every lecture under ``root/lectures``."""
    lectures = sorted((root / "lectures").glob(LECTURE_GLOB))
    terms: dict[str, Term] = {}
    for path in lectures:
        unit = unit_number(path)
        for english, chinese in parse_term_tables(notebook_markdown(path)):
            key = english.casefold()
            term = terms.setdefault(key, Term(english))
            units = term.translations.setdefault(chinese, [])
            if unit not in units:
                units.append(unit)
    return terms, lectures


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _units(units: list[int]) -> str:
    return ", ".join(str(u) for u in sorted(units))


def render(terms: dict[str, Term], lectures: list[Path]) -> str:
    """GLOSSARY.md as text."""
    lines = [
        "# Glossary · 术语表",
        "",
        "Every key term of the lectures, English and 中文, with the units that use it. This file is",
        "generated from the key-term tables of `lectures/NN-*.ipynb` by `python tools/glossary.py`;",
        "edit the lectures, not this file (`python tools/glossary.py --check` tells whether it is current).",
        "",
        "Units: " + ", ".join(f"[{unit_number(p)}](lectures/{p.name})" for p in lectures) + ".",
        "",
    ]
    conflicts = [t for t in terms.values() if t.conflicting]
    if conflicts:
        lines += [
            f"{FLAG} marks a term that units translate differently; each translation is followed by its units.",
            "",
        ]
    lines += ["| English | 中文 | Units |", "|---|---|---|"]
    for key in sorted(terms, key=lambda k: (k, terms[k].english)):
        t = terms[key]
        if t.conflicting:
            zh = "; ".join(f"{_cell(c)} ({_units(us)})" for c, us in t.translations.items()) + f" {FLAG}"
        else:
            zh = _cell(next(iter(t.translations)))
        lines.append(f"| {_cell(t.english)} | {zh} | {_units(t.units)} |")
    lines.append("")
    lines.append(f"{len(terms)} terms from {len(lectures)} lectures"
                 + (f"; {len(conflicts)} with more than one translation." if conflicts else "."))
    return "\n".join(lines) + "\n"


def build(root: Path = ROOT) -> str:
    return render(*collect(root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 with a diff if the file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course root (default: this repository)")
    args = parser.parse_args(argv)
    target = args.root / OUTPUT
    text = build(args.root)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current == text:
            print(f"{OUTPUT} is up to date.")
            return 0
        diff = difflib.unified_diff(current.splitlines(keepends=True), text.splitlines(keepends=True),
                                    fromfile=f"{OUTPUT} (on disk)", tofile=f"{OUTPUT} (from the lectures)")
        sys.stdout.writelines(diff)
        print(f"\n{OUTPUT} is stale: run `python tools/glossary.py` to regenerate it.")
        return 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
