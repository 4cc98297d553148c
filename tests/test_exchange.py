"""The whole nbgrader flow through the course's exchange, as on a JupyterHub, for two students.

A scratch course (this repository's nbgrader_config.py and one small assignment) releases through
an exchange folder named by FNN_EXCHANGE; two students, each with a home folder of their own (and,
when the test runs as root, a uid of their own, as on a hub), fetch, work and submit; the instructor
collects, autogrades, grades a written answer by hand, and returns feedback; each student fetches
their own feedback.

Both sides use the code behind nbgrader's JupyterLab tools: the students the Assignments tab's
(`nbgrader.server_extensions.assignment_list.handlers.AssignmentList`), the instructor the
Formgrader's (`nbgrader.apps.NbGraderAPI`), each in a process of its own. The students find the
exchange in a system-wide nbgrader_config.py (here on JUPYTER_CONFIG_PATH, on a hub in /etc/jupyter),
exactly as docs/jupyterhub.md tells the hub's administrator to write it.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
COURSE_ID = "fnn-course"
ASSIGNMENT = "tiny"
STUDENT_UIDS = {"alice": 62001, "bob": 62002}  # used when running as root; fnngrade's kernels use 64000+
HIDDEN_LINE = "assert square(-4) == 16  # hidden line"
MANUAL_COMMENT = "Right: a product of two negatives is positive."

# What a hub administrator puts in /etc/jupyter/nbgrader_config.py for the students (docs/jupyterhub.md).
STUDENT_SITE_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "fnn-course"
c.Exchange.root = {exchange!r}
"""


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def tiny_source() -> nbformat.NotebookNode:
    """One function (2 points, one visible and one hidden test) and one written answer (3 points)."""
    nb = new_notebook(cells=[
        new_markdown_cell("# A tiny assignment\n\n**Total: 5 points**",
                          metadata=_meta("intro", grade=False, solution=False, locked=True)),
        new_code_cell('def square(x):\n    """Return x squared."""\n    ### BEGIN SOLUTION\n'
                      "    return x * x\n    ### END SOLUTION",
                      metadata=_meta("square", grade=False, solution=True, locked=False)),
        new_code_cell(f"assert square(3) == 9\n### BEGIN HIDDEN TESTS\n{HIDDEN_LINE}\n### END HIDDEN TESTS",
                      metadata=_meta("test_square", grade=True, solution=False, locked=True, points=2)),
        new_markdown_cell("Why is `square(-x) == square(x)`? One sentence.",
                          metadata=_meta("question", grade=False, solution=False, locked=True)),
        new_markdown_cell("Because (-x)(-x) = x x.",
                          metadata=_meta("explain", grade=True, solution=True, locked=False, points=3)),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return nb


# Each side is one process that reads the name of its next step on stdin and answers with one JSON
# line, so nbgrader is imported once per person, not once per step.
PROTOCOL = textwrap.dedent("""
    import json, os, sys

    def ok(name, result):
        if not result["success"]:
            sys.exit(f"{name} failed: {result.get('error') or result.get('value')}\\n{result.get('log', '')}")
        return result

    def serve(steps):
        for line in sys.stdin:
            name, *args = json.loads(line)
            print(json.dumps(steps[name](*args)), flush=True)
""")

# The instructor's side: the Formgrader's API in the course folder, config from nbgrader_config.py.
INSTRUCTOR = PROTOCOL + textwrap.dedent("""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader

    os.chdir(sys.argv[1])
    app = NbGrader()
    app.config_file_paths.append(os.getcwd())
    app.load_config_file()
    api = NbGraderAPI(config=app.config)
    a = "tiny"

    def release():
        ok("generate_assignment", api.generate_assignment(a))
        ok("release_assignment", api.release_assignment(a))
        return {"exchange": app.config.Exchange.root, "released": sorted(api.get_released_assignments())}

    def grade(comment):
        ok("collect", api.collect(a))
        students = sorted(api.get_submitted_students(a))
        for s in students:
            ok(f"autograde {s}", api.autograde(a, s))
        with api.gradebook as gb:
            auto = {s: gb.find_submission(a, s).score for s in students}
            gb.find_grade("explain", a, a, "alice").manual_score = 3
            gb.find_comment("explain", a, a, "alice").manual_comment = comment
            gb.db.commit()
            final = {s: gb.find_submission(a, s).score for s in students}
        ok("generate_feedback", api.generate_feedback(a))
        ok("release_feedback", api.release_feedback(a))
        return {"collected": students, "auto": auto, "final": final}

    serve({"release": release, "grade": grade})
""")

# A student's side: what the Assignments tab does (list, fetch, submit, fetch feedback), in their home.
STUDENT = PROTOCOL + textwrap.dedent("""
    import glob
    import nbformat
    from nbgrader.server_extensions.assignment_list.handlers import AssignmentList

    home = os.environ["HOME"]
    os.chdir(home)
    tab = AssignmentList()
    tab.root_dir = home

    def work(answer):
        listed = ok("list", tab.list_assignments(course_id="fnn-course"))["value"]
        released = [x["assignment_id"] for x in listed if x["status"] == "released"]
        ok("fetch", tab.fetch_assignment("fnn-course", "tiny"))
        path = os.path.join(home, "tiny", "tiny.ipynb")
        nb = nbformat.read(path, as_version=4)
        if answer == "right":
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid == "square":
                    cell.source = "def square(x):\\n    return x * x"
                elif gid == "explain":
                    cell.source = "A minus times a minus is a plus: (-x)(-x) = x^2."
            nbformat.write(nb, path)
        ok("submit", tab.submit_assignment("fnn-course", "tiny"))
        listed = ok("list", tab.list_assignments(course_id="fnn-course"))["value"]
        return {"released": released, "statuses": sorted(x["status"] for x in listed), "uid": os.getuid()}

    def feedback():
        ok("fetch_feedback", tab.fetch_feedback("fnn-course", "tiny"))
        pages = glob.glob(os.path.join(home, "tiny", "feedback", "*", "*.html"))
        return {"feedback": {p: open(p, encoding="utf-8").read() for p in pages}}

    serve({"work": work, "feedback": feedback})
""")


class Person:
    """One side of the flow, a process of its own; `do(step, *args)` runs a step and returns its answer."""

    def __init__(self, name: str, argv: list[str], env: dict):
        self.name = name
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def send(self, step: str, *args) -> None:
        self.proc.stdin.write(json.dumps([step, *args]) + "\n")
        self.proc.stdin.flush()

    def answer(self, step: str) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.stdin.close()
            err = self.proc.stderr.read()
            self.proc.wait(timeout=60)
            pytest.fail(f"{self.name}: {step} failed (exit {self.proc.returncode}):\n{err[-4000:]}")
        return json.loads(line)

    def do(self, step: str, *args) -> dict:
        self.send(step, *args)
        return self.answer(step)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _closed_folders() -> list[Path]:
    """Folders that other uids cannot enter on the way to this interpreter (e.g. /root for pyenv)."""
    closed = []
    for path in {Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent, Path(sys.prefix).resolve()}:
        for folder in [*reversed(path.parents), path]:
            if not folder.stat().st_mode & 0o001:
                closed.append(folder)
                break
    return sorted(set(closed))


def student_accounts() -> tuple[bool, str]:
    """Whether the students can run as uids of their own here, and if not, why."""
    if os.geteuid() != 0:
        return False, "not root: both students run as this user, each with a home folder of their own"
    if not (shutil.which("bwrap") and shutil.which("setpriv")):
        return False, ("bwrap or setpriv is missing (Debian: bubblewrap, util-linux): the students run as root, "
                       "each with a home folder of their own")
    return True, ""


def student_argv(script: str, *, user: int | None, accounts: Path) -> list[str]:
    """This interpreter running script; with `user`, as that uid in a mount namespace (bwrap) whose
    /etc/passwd and /etc/group are `accounts`/passwd and group (the students' accounts, as on a hub)
    and where a folder other uids cannot enter on the way to the interpreter (e.g. /root for pyenv)
    is replaced by an empty one holding only the interpreter."""
    argv = [sys.executable, "-c", script]
    if user is None:
        return argv
    mounts = ["--ro-bind", str(accounts / "passwd"), "/etc/passwd", "--ro-bind", str(accounts / "group"), "/etc/group"]
    for folder in _closed_folders():
        mounts += ["--tmpfs", str(folder)]
        for path in sorted({Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent,
                            Path(sys.prefix).resolve()}):
            if folder in path.parents or path == folder:
                mounts += ["--ro-bind", str(path), str(path)]
    return [shutil.which("bwrap"), "--dev-bind", "/", "/", *mounts, "--die-with-parent", "--",
            shutil.which("setpriv"), f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *argv]


@pytest.fixture
def classroom():
    """A course folder, an exchange, two student homes, all under one folder every uid can enter."""
    base = Path(tempfile.mkdtemp(prefix="fnn-exchange-"))
    base.chmod(0o755)  # mkdtemp makes it 0700; the students' uids must be able to reach the exchange
    try:
        course = base / "course"
        (course / "solutions" / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        nbformat.write(tiny_source(), course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        exchange = base / "srv" / "exchange"  # made by the hub's administrator (docs/jupyterhub.md)
        exchange.mkdir(parents=True)
        exchange.chmod(0o777)
        site = base / "etc-jupyter"
        site.mkdir()
        (site / "nbgrader_config.py").write_text(STUDENT_SITE_CONFIG.format(exchange=str(exchange)))
        as_root, why_not = student_accounts()
        if why_not:
            print(f"test_exchange: {why_not}")
        accounts = base / "accounts"
        accounts.mkdir()
        passwd, group = Path("/etc/passwd").read_text(), Path("/etc/group").read_text()
        for name, uid in STUDENT_UIDS.items():
            passwd += f"{name}:x:{uid}:{uid}::{base / 'home' / name}:/bin/sh\n"
            group += f"{name}:x:{uid}:\n"
        (accounts / "passwd").write_text(passwd)
        (accounts / "group").write_text(group)
        students = {}
        for name, uid in STUDENT_UIDS.items():
            home = base / "home" / name
            home.mkdir(parents=True)
            if as_root:
                os.chown(home, uid, uid)
            home.chmod(0o700)
            env = {"HOME": str(home), "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
                   "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                   "JUPYTER_CONFIG_PATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
            students[name] = {"home": home, "uid": uid if as_root else None, "env": env}
        instructor_env = {k: v for k, v in os.environ.items() if not k.startswith(("FNN_", "JUPYTER_"))}
        instructor_env.update(FNN_EXCHANGE=str(exchange),
                              PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        yield {"course": course, "exchange": exchange, "students": students, "env": instructor_env,
               "accounts": accounts}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_release_fetch_submit_collect_autograde_manual_feedback_for_two_students(classroom):
    course, exchange, students = classroom["course"], classroom["exchange"], classroom["students"]
    answers = {"alice": "right", "bob": "untouched"}
    people = {"instructor": Person("instructor", [sys.executable, "-c", INSTRUCTOR, str(course)], classroom["env"])}
    for name, s in students.items():
        people[name] = Person(name, student_argv(STUDENT, user=s["uid"], accounts=classroom["accounts"]), s["env"])
    try:
        _flow(classroom, people, answers)
    finally:
        for person in people.values():
            person.close()


def _flow(classroom: dict, people: dict[str, Person], answers: dict[str, str]) -> None:
    course, exchange, students = classroom["course"], classroom["exchange"], classroom["students"]
    released = people["instructor"].do("release")
    assert released["exchange"] == str(exchange), "FNN_EXCHANGE did not set the exchange folder"
    assert released["released"] == [ASSIGNMENT]
    assert (exchange / COURSE_ID / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()

    for name in students:  # both students at once
        people[name].send("work", answers[name])
    work = {name: people[name].answer("fetch and submit") for name in students}
    for name, s in students.items():
        assert work[name]["released"] == [ASSIGNMENT], f"{name} did not see the release: {work[name]}"
        assert "submitted" in work[name]["statuses"], f"{name}'s submission is not listed: {work[name]}"
        fetched = s["home"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.is_file(), f"{name} has no fetched notebook"
        if answers[name] != "right":
            assert "return x * x" not in fetched.read_text(), "the release holds the model solution"
        if s["uid"] is not None:
            assert work[name]["uid"] == s["uid"] and fetched.stat().st_uid == s["uid"], \
                f"{name} did not work as uid {s['uid']}"
    inbound = sorted(p.name.split("+")[0] for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == ["alice", "bob"], f"inbound holds {inbound}"

    graded = people["instructor"].do("grade", MANUAL_COMMENT)
    assert graded["collected"] == ["alice", "bob"]
    for name in students:
        assert (course / "grading" / "submitted" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert graded["auto"] == {"alice": 2.0, "bob": 0.0}, f"autograded scores {graded['auto']}"
    assert graded["final"] == {"alice": 5.0, "bob": 0.0}, f"scores after the manual grade {graded['final']}"

    for name in students:
        people[name].send("feedback")
    feedback = {name: people[name].answer("fetch_feedback") for name in students}
    for name in students:
        pages = feedback[name]["feedback"]
        assert len(pages) == 1, f"{name} fetched {len(pages)} feedback pages: {sorted(pages)}"
        (path, html), = pages.items()
        assert path.startswith(str(students[name]["home"] / ASSIGNMENT / "feedback")), path
        assert "hidden line" not in html, f"{name}'s feedback shows a hidden test"
        mine = "A minus times a minus" in html
        assert mine == (name == "alice"), f"{name}'s feedback {'shows' if mine else 'lacks'} alice's answer"
        assert (MANUAL_COMMENT in html) == (name == "alice"), f"{name}: the grader's comment is misplaced"


def test_exchange_and_gradebook_folder_come_from_the_course_config(tmp_path, monkeypatch):
    """Default exchange grading/exchange beside the config, FNN_EXCHANGE overrides, grading/ made on load."""
    from traitlets.config import Config

    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for variable in ("FNN_EXCHANGE", "FNN_GRADEBOOK_URL"):
        monkeypatch.delenv(variable, raising=False)

    def load() -> Config:
        config = Config()
        runpy.run_path(str(tmp_path / "nbgrader_config.py"), init_globals={"get_config": lambda: config})
        return config

    config = load()
    assert config.Exchange.root == str(tmp_path / "grading" / "exchange")
    assert (tmp_path / "grading").is_dir(), "the gradebook's folder was not made (Formgrader on a fresh clone)"
    assert (tmp_path / "grading" / "exchange").is_dir(), "the default exchange was not made (no Release button)"
    assert config.CourseDirectory.db_url == "sqlite:///" + str(tmp_path / "grading" / "gradebook.db")
    monkeypatch.setenv("FNN_EXCHANGE", "/srv/nbgrader/exchange")
    assert load().Exchange.root == "/srv/nbgrader/exchange"
