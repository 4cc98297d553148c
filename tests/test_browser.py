"""The course in a real browser: JupyterLab as `make lab` (students) and `make instructor` start it.

Headless Debian chromium driven by Playwright for Python (`pip install playwright`; never
`playwright install`: the browser is the system's, .ci/run installs it). Both servers are started
by the Makefile's own recipes, on free ports, with a scratch JUPYTER_CONFIG_DIR so that nobody's
settings or workspaces play a part. The test checks what a student and an instructor see first:

- the start page opens (START.md, rendered) and links to every lecture and exercise;
- a lecture opened from the start page shows all its figures and typeset math (no raw `$$` or TeX),
  and is not marked modified after its kernel has started; every other lecture and every exercise
  is opened too, its kernel started, and none is marked modified;
- an exercise has the Validate button, and Validate (on a scratch copy in build/, because Validate
  saves the notebook) reports the untouched stubs as not answered;
- a student has no Nbgrader menu, no Create Assignment panel and no /formgrader; an instructor has
  the menu, and the Formgrader lists every assignment in solutions/;
- afterwards no committed file has changed (opening, starting a kernel and closing change nothing).

Screenshots go to build/screenshots/ (printed at the end) for a person to look at.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.conftest import chromium_missing

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
SCRATCH = ROOT / "build" / "browser-test"  # build/ is ignored by git
TOKEN = "fnn-browser-test"
LECTURES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "lectures").glob("[0-9][0-9]-*.ipynb"))
EXERCISES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "exercises").glob("*/*.ipynb"))
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
VALIDATED = "exercises/01-neuron-activations/01-neuron-activations.ipynb"
PHASES: dict[str, float] = {}  # seconds per phase, printed at the end (where the time goes)


class _phase:
    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.start = time.monotonic()

    def __exit__(self, *exc):
        PHASES[self.name] = round(time.monotonic() - self.start, 1)

_no_browser = chromium_missing()
if _no_browser:
    pytest.skip(_no_browser, allow_module_level=True)
if not shutil.which("make"):
    pytest.skip("make is missing: the servers are started by the Makefile's lab and instructor recipes",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server started by `make <mode>` with this interpreter's environment."""

    def __init__(self, mode: str, home: Path):
        self.mode, self.port = mode, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = home / mode / "config"
        self.settings = config / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
        self.settings.mkdir(parents=True)
        self.render_every_cell(True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "FNN_"))}
        env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(home / mode / "data"),
                   JUPYTER_RUNTIME_DIR=str(home / mode / "runtime"), IPYTHONDIR=str(home / mode / "ipython"),
                   MPLBACKEND="module://matplotlib_inline.backend_inline",
                   PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        venv = "VENV=.venv"
        stamps = [".venv/.installed-student", ".venv/.installed-instructor", ".venv/.installed-test",
                  ".venv/share/jupyter/kernels/python3/kernel.json"]
        lab_args = (f"--no-browser --port={self.port} --ServerApp.ip=127.0.0.1 "
                    f"--IdentityProvider.token={TOKEN} --LabApp.expose_app_in_browser=True "
                    "--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
        argv = ["make", "--no-print-directory", "-C", str(ROOT), mode, venv, f"BIN={Path(sys.executable).parent}",
                f"LAB_ARGS={lab_args}"] + [f"--assume-old={s}" for s in stamps]
        self.log = home / f"{mode}.log"
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def render_every_cell(self, every: bool) -> None:
        """Every cell in the DOM (the figure and math checks see the whole notebook), or JupyterLab's
        default, which renders only what is in view (much faster); read by pages loaded afterwards."""
        mode = "none" if every else "full"
        (self.settings / "tracker.jupyterlab-settings").write_text(f'{{"windowingMode": "{mode}"}}')

    def wait(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"`make {self.mode}` exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={TOKEN}", timeout=5)
                return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"`make {self.mode}` did not serve {self.url} in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def status(self, path: str) -> int:
        try:
            return urllib.request.urlopen(f"{self.url}{path}?token={TOKEN}", timeout=30).status
        except urllib.error.HTTPError as e:
            return e.code

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)  # JupyterLab shuts its kernels down on SIGTERM
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


# What the browser session could change: the files it opens or shows, and git's view of them.
WATCHED = ["lectures", "exercises", "START.md", "README.md", "GLOSSARY.md", "jupyter-config"]


def _fingerprint() -> dict[str, str]:
    """The content hash of every tracked file in WATCHED, and `git status` of WATCHED."""
    files = subprocess.run(["git", "ls-files", "-z", "--", *WATCHED], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode()
    out = {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in files.split("\0")
           if p and (ROOT / p).is_file()}
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", *WATCHED], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    out["<git status>"] = "\n".join(sorted(status.splitlines()))
    return out


@pytest.fixture(scope="module")
def labs(chromium):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git work tree: the test compares the tracked files before and after")
    home = Path(tempfile.mkdtemp(prefix="fnn-browser-"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    before = _fingerprint()
    servers = {mode: Lab(mode, home) for mode in ("lab", "instructor")}  # both start at once
    try:
        with _phase("both servers up"):
            for server in servers.values():
                server.wait()
        yield servers, chromium  # the module's browser (tests/conftest.py)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(home, ignore_errors=True)
    after = _fingerprint()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"the browser session changed tracked files or git status: {changed}"
    status = subprocess.run(["git", "status", "--porcelain", "--", *WATCHED], cwd=ROOT, capture_output=True, text=True).stdout
    if os.environ.get("CI"):  # a fresh clone: nothing may be modified at all
        assert not status, f"git status is not clean after the browser session:\n{status}"


def _page(browser, server: Lab, path: str = "/"):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(120_000)
    page.goto(f"{server.url}{path}?token={TOKEN}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell && document.querySelector('#jp-main-dock-panel')")
    page.evaluate("() => window.jupyterapp.restored")
    return page


OPEN = """async (path) => {
    const app = window.jupyterapp;
    const w = app.shell.currentWidget && app.shell.currentWidget.context
              && app.shell.currentWidget.context.path === path
        ? app.shell.currentWidget : await app.commands.execute('docmanager:open', {path});
    window.fnn = window.fnn || {};
    window.fnn[path] = w;
    await w.context.ready;
    await w.sessionContext.ready;
    const kernel = w.sessionContext.session.kernel;
    await kernel.info;          // the kernel answered: JupyterLab now compares its spec and language
    await kernel.spec;
    return kernel.name;
}"""
STATE = """(path) => {
    const w = window.fnn[path];
    const k = w.sessionContext.session && w.sessionContext.session.kernel;
    return {dirty: w.context.model.dirty, tabDirty: w.title.className.includes('jp-mod-dirty'),
            kernel: k ? k.status : 'none', metadata: JSON.stringify(w.context.model.getMetadata('kernelspec'))};
}"""
CLOSE = """async (path) => {
    const w = window.fnn[path];
    await w.sessionContext.shutdown();
    w.dispose();
    delete window.fnn[path];
}"""


def _open_and_check_unmodified(page, paths: list[str]) -> dict[str, dict]:
    """Open the notebooks, wait until each kernel has started and answered, and read their state."""
    for path in paths:
        assert page.evaluate(OPEN, path) == "python3"
    page.wait_for_function("(paths) => paths.every(p => window.fnn[p].sessionContext.session.kernel.status === 'idle')",
                           arg=paths)
    page.wait_for_timeout(1000)  # metadata updates follow the kernel's first answers
    return {path: page.evaluate(STATE, path) for path in paths}


def test_student_start_page_lecture_exercises_validate(labs):
    servers, browser = labs
    student = servers["lab"]
    page = _page(browser, student)  # "/" as `make lab` opens it: its default URL is the start page
    start = page.locator(".jp-RenderedMarkdown").filter(has_text="start here")
    start.wait_for()
    page.screenshot(path=str(SHOTS / "01-student-start-page.png"))
    links = start.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    linked = {re.sub(r"^.*?/files/|\?.*$", "", href) for href in links}  # rendered as the server's /files/ URLs
    for path in LECTURES + EXERCISES:
        assert path in linked, f"the start page has no link to {path} (links: {sorted(linked)})"

    # A student sees no instructor tool.
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Nbgrader" not in menus, f"a student sees the Nbgrader menu: {menus}"
    assert page.locator("#nbgrader-create_assignemnt").count() == 0, "a student sees Create Assignment"
    assert student.status("/formgrader") == 404, "the Formgrader is served to students"

    # A lecture, opened from the start page: figures, typeset math, not modified.
    clock = _phase("start page, first lecture")
    clock.__enter__()
    lecture = LECTURES[0]
    start.locator(f"a[href*='/files/{lecture}?']").click()
    page.wait_for_function("(p) => { const w = window.jupyterapp.shell.currentWidget;"
                           " return w && w.context && w.context.path === p; }", arg=lecture)
    state = _open_and_check_unmodified(page, [lecture])[lecture]
    assert not state["dirty"] and not state["tabDirty"], f"{lecture} is marked modified after its kernel started: {state}"
    panel = page.locator(".jp-NotebookPanel:visible")
    expected_figures = sum("image/png" in o.get("data", {}) for c in nbformat.read(ROOT / lecture, 4).cells
                           if c.cell_type == "code" for o in c.outputs)
    assert expected_figures > 0
    page.wait_for_function(
        "(n) => { const imgs = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')];"
        " return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0); }", arg=expected_figures)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown mjx-container').length > 0")
    raw_tex = panel.locator(".jp-MarkdownCell .jp-RenderedMarkdown").evaluate_all(r"""els => els.map(el => {
            const c = el.cloneNode(true);
            c.querySelectorAll('code, pre, mjx-container').forEach(x => x.remove());
            return c.textContent; }).filter(t => t.includes('$$') || /\\[a-zA-Z]+[{_^]/.test(t))""")
    assert not raw_tex, f"{lecture} shows raw TeX: {[t[:200] for t in raw_tex[:3]]}"
    page.screenshot(path=str(SHOTS / "02-student-lecture-top.png"))
    panel.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "03-student-lecture-figure.png"))
    table = panel.locator(".jp-RenderedMarkdown table").filter(has_text=re.compile("[\u4e00-\u9fff]"))
    if table.count():
        table.first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "04-student-lecture-key-terms.png"))
    page.evaluate(CLOSE, lecture)

    clock.__exit__()

    # Every other lecture and every exercise: open, start the kernel, nothing modified.
    clock = _phase(f"{len(LECTURES) - 1 + len(EXERCISES)} more notebooks opened, kernels started")
    clock.__enter__()
    page.close()
    student.render_every_cell(False)  # only the model's state is checked from here on
    page = _page(browser, student, "/lab")
    rest = LECTURES[1:] + EXERCISES
    for i in range(0, len(rest), 8):
        batch = rest[i:i + 8]
        states = _open_and_check_unmodified(page, batch)
        modified = {p: s for p, s in states.items() if s["dirty"] or s["tabDirty"]}
        assert not modified, f"marked modified after the kernel started: {modified}"
        if i == 0 or VALIDATED in batch:
            page.screenshot(path=str(SHOTS / f"05-student-opened-{i // 8}.png"))
        for path in batch:
            page.evaluate(CLOSE, path)

    clock.__exit__()

    # Validate, on a copy (Validate saves the notebook first).
    clock = _phase("Validate")
    clock.__enter__()
    copy = SCRATCH / Path(VALIDATED).name
    shutil.copy(ROOT / VALIDATED, copy)
    copy_path = copy.relative_to(ROOT).as_posix()
    page.evaluate(OPEN, copy_path)
    button = page.locator(".jp-NotebookPanel:visible .jp-Toolbar").get_by_text("Validate", exact=True)
    button.wait_for()
    page.screenshot(path=str(SHOTS / "06-student-exercise-validate-button.png"))
    button.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=240_000)
    answered = dialog.get_by_text("not answered yet").first
    answered.wait_for(timeout=240_000)
    answered.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "07-student-validate-result.png"))
    text = dialog.inner_text()
    assert "Validation Results" in text and "The following cell failed" in text, text[:2000]
    assert "not answered yet" in text and "NotImplementedError" in text, text[:2000]
    clock.__exit__()
    page.close()


def test_instructor_sees_the_formgrader_with_every_assignment(labs):
    servers, browser = labs
    instructor = servers["instructor"]
    clock = _phase("instructor: menu and Formgrader")
    clock.__enter__()
    page = _page(browser, instructor)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.wait_for()
    page.screenshot(path=str(SHOTS / "08-instructor-nbgrader-menu.png"))
    page.keyboard.press("Escape")
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(120_000)
    page.goto(f"{instructor.url}/formgrader?token={TOKEN}")
    for assignment in ASSIGNMENTS:
        page.locator("td", has_text=assignment).first.wait_for()
    page.screenshot(path=str(SHOTS / "09-instructor-formgrader-assignments.png"), full_page=True)
    assert "Loading" not in page.locator("body").inner_text()
    page.close()
    clock.__exit__()


def test_screenshots_are_listed(labs, capsys):
    """Runs last in this module: says where the screenshots are, for a person to look at them."""
    shots = sorted(SHOTS.glob("*.png"))
    with capsys.disabled():
        print(f"\n==> browser screenshots ({len(shots)}) in {SHOTS}: " + ", ".join(s.name for s in shots))
        print("==> browser test phases (s): " + ", ".join(f"{k} {v}" for k, v in PHASES.items()))
    assert shots
