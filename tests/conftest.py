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

# Debian's chromium, driven by Playwright for Python (never `playwright install`: no download here).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def chromium_missing() -> str | None:
    """Why the browser tests cannot run on this machine, or None."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install playwright, part of the [test] extra)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run installs it as root)"
    return None


@pytest.fixture(scope="module")
def chromium():
    """One headless chromium for a test module's tests (the site's, JupyterLab's, or every assignment's
    feedback checks in the grading pipeline): each test opens its own context (or page, which brings
    its own context) and closes it. A browser per check cost a Playwright driver and a browser start,
    about 3 CPU-seconds each. Not one per session: Playwright's sync API keeps an asyncio event loop
    running in the thread while it is open, so that a later test of another module calling
    asyncio.run() fails (seen: tests/test_kernelspec.py)."""
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()

try:  # property-based tests draw the same examples on every run and machine (the course's fixed seeds)
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # the test extra is not installed; those tests then fail on their own import
    pass
else:
    _hypothesis_settings.register_profile("course", derandomize=True, print_blob=True)
    _hypothesis_settings.load_profile("course")

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


# ------------------------------------------------------------------------------ xdist scheduling
# `make test` runs `pytest -n 2 --dist loadscope`: a module's tests stay on one worker (their
# module-scoped fixtures, a notebook's cells under nbval, are set up once). Two refinements:
# the grading pipeline's tests are grouped per assignment instead of per module (its fixture is
# parametrised by assignment, so each assignment is set up once wherever it runs, and the eight
# can share the two workers), and the work units start heaviest first, so that no long unit is
# left to run alone at the end. The weights only order the queue (rough seconds on a quiet
# 2-core machine, from `pytest --durations`; the longest matching prefix counts); a unit not listed weighs 1.
PER_ASSIGNMENT = ("tests/pipeline/test_grading.py",)
WEIGHTS = {  # seconds of wall time per unit in `make test` (2 workers, 2 cores), measured with --durations
    "tests/test_site.py": 200,
    "tests/pipeline/test_grading.py::08-": 165,
    "tests/grader/test_faults.py": 90,
    "tests/grader/test_dask.py": 87,
    "tests/grader/test_fnngrade.py": 84,
    "tests/pipeline/test_grading.py::04-": 80,
    "tests/pipeline/test_grading.py::05-": 80,
    "tests/pipeline/test_grading.py::": 55,
    "tests/pipeline/test_grading.py": 12,
    "tests/test_browser.py": 60,
    "tests/grader/test_postgres.py": 38,
    "tests/pipeline/test_release.py": 33,
    "tests/grader/test_interpreter_cheats.py": 23,
    "tests/pipeline/test_feedback.py": 19,
    "tests/test_exchange.py": 17,
    "tests/test_i18n.py": 12,
    "lectures/": 9,
    "tests/pipeline/test_leaks.py": 7,
    "solutions/": 2,
}


def _assignment_ids() -> list[str]:
    from pathlib import Path

    sol = Path(__file__).resolve().parents[1] / "solutions"
    return sorted((d.name for d in sol.iterdir() if d.is_dir()), key=len, reverse=True) if sol.is_dir() else []


def _weight(scope: str) -> float:
    """The weight of the longest prefix of ``scope`` in WEIGHTS (1 if none)."""
    hits = [p for p in WEIGHTS if scope.startswith(p)]
    return WEIGHTS[max(hits, key=len)] if hits else 1


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadscope":
        return None
    from collections import OrderedDict

    from xdist.scheduler import LoadScopeScheduling

    ids = _assignment_ids()

    class HeaviestFirst(OrderedDict):
        def popitem(self, last=True):
            scope = max(self, key=_weight)  # the first of the heaviest, in collection order
            return scope, self.pop(scope)

    class CourseScheduling(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            self.workqueue = HeaviestFirst()

        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            if scope in PER_ASSIGNMENT and nodeid.endswith("]"):
                params = nodeid[nodeid.index("[") + 1:-1]
                for a in ids:
                    if a in params:
                        return f"{scope}::{a}"
            return scope

    return CourseScheduling(config, log)


# ------------------------------------------------------------------------------ make test-fast
# Tests that start graders, nbgrader, JupyterLab, a browser or a Sphinx build: marked `heavy`, so
# that `make test-fast` (-m "not heavy") keeps to the library, the doctests and static checks.
HEAVY = ("tests/grader/", "tests/pipeline/", "tests/test_browser.py", "tests/test_exchange.py",
         "tests/test_site.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(HEAVY):
            item.add_marker(pytest.mark.heavy)
