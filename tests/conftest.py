"""Suite-wide reporting: what did not run, in one short list at the end of every run.

Some tests need what a newcomer's machine may lack (root and bubblewrap for fnngrade's jail,
PostgreSQL, Debian's chromium, a CJK font). They skip with their reason; pytest's own ``-ra``
summary lists every skipped test, which for a parametrised class of tests is a long list. This
hook prints one line per distinct need instead, with how many tests it held back and the
commands that enable it, after everything else; and says so when nothing was skipped, so that a
silent skip cannot pass for a full run.
"""

from __future__ import annotations

import os
import re

import pytest

# (pattern in a skip reason, what is missing, the commands that enable it). First match wins.
NEEDS = [
    (r"bubblewrap|bwrap|sandbox|needs root|as root|own uid|runuser|tmpfs",
     "root and bubblewrap (fnngrade's jail)",
     "sudo apt-get install bubblewrap; run `make test` as root (CI does)"),
    (r"PostgreSQL|psycopg|initdb",
     "PostgreSQL (gradebook shared by several grading hosts)",
     "sudo apt-get install postgresql; `make test` as root"),
    (r"chromium|[Pp]laywright",
     "Debian's chromium (browser tests)",
     "sudo apt-get install chromium; `make test` installs Playwright for Python"),
    (r"font",
     "a font with Chinese glyphs",
     "sudo apt-get install fonts-noto-cjk"),
    (r"\[site\]|sphinx|myst",
     "the website's tools",
     ".venv/bin/pip install -e '.[site]' (make test does)"),
]


def _need(reason: str) -> tuple[str, str]:
    for pattern, what, how in NEEDS:
        if re.search(pattern, reason, re.IGNORECASE):
            return what, how
    return reason.strip()[:160], ""


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput"):  # an xdist worker: the controller reports
        return
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if getattr(r, "when", "") in ("setup", "call")]
    tr = terminalreporter
    tr.section("what did not run", sep="-")
    if not skipped:
        tr.write_line("nothing was skipped: every test ran on this machine")
        return
    groups: dict[tuple[str, str], int] = {}
    for r in skipped:
        key = _need(_reason(r))
        groups[key] = groups.get(key, 0) + 1
    tr.write_line(f"{len(skipped)} test(s) skipped; everything else ran. To run them too:")
    for (what, how), n in sorted(groups.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"  {n:4d} need {what}: {how}" if how else f"  {n:4d} skipped: {what}")
    if os.geteuid() != 0:
        tr.write_line("  (not root here: fnngrade's jail gives each kernel its own uid, which needs root)")
