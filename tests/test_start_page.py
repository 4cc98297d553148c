"""The students' way in: the start page and the guides link to files that exist, and the start page
links every lecture and exercise."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _links(md: Path) -> list[str]:
    return [unquote(t.split("#")[0]) for t in LINK.findall(md.read_text(encoding="utf-8"))
            if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_relative_links_in_the_start_page_readme_and_docs_resolve():
    pages = [ROOT / "START.md", ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             ROOT / "jupyter-config" / "README.md"]
    broken = [f"{md.relative_to(ROOT)} -> {target}" for md in pages for target in _links(md)
              if not (md.parent / target).exists()]
    assert not broken, "links to files that do not exist:\n  " + "\n  ".join(broken)


def test_start_page_links_every_lecture_and_exercise():
    linked = set(_links(ROOT / "START.md"))
    lectures = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "lectures").glob("[0-9][0-9]-*.ipynb"))
    exercises = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "exercises").glob("*/*.ipynb"))
    assert lectures and exercises
    missing = [p for p in lectures + exercises if p not in linked]
    assert not missing, f"START.md does not link to {missing}"
