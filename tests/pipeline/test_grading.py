"""The whole nbgrader flow, run for real on every assignment in solutions/.

For each assignment a scratch course root is made, the release generated, and a class of
generated submissions autograded in ONE ``python -m fnngrade autograde`` run (two workers; the
tests run in fnngrade's remote checker, outside the student's kernel; in the jail where the
machine allows it). One small class is also graded by plain ``nbgrader autograde``, so the
notebooks keep working with nbgrader's own grading (tests in the kernel):

=================  =============================================================  ==================
student            submission                                                     expected
=================  =============================================================  ==================
perfect            the release with every answer filled in from the source          every auto point
blank              the untouched release                                          0 auto points
wrong-<j>          perfect, with several ``[[mutation]]`` s of specs/<a>.toml       loses exactly the
                   (deliberate mistakes, or loopholes the task forbids), each     tests they list;
                   in another task (see below)                                    each shows its
                                                                                  mutation's
                                                                                  ``message``
alt-<j>            perfect, with several ``[[alternative]]`` s, each in another     every auto point
                   answer cell (other correct answers, written differently)
loops              an answer cell that starts with an endless ``sleep`` loop       graded; loses that
                                                                                  cell's tests
exits              an answer cell that starts with ``sys.exit(1)``                  graded; ditto
edited-tests       blank, with every test cell replaced by ``pass``                 0 (tests restored)
deleted-tests      blank, with every test cell deleted                            0 (tests re-added)
broken-json        a truncated .ipynb file                                        malformed, 0
perfect-zh,        the same answers as perfect and wrong-0, in the Chinese          the same scores,
wrong-0-zh         release (zh/exercises): a class with both languages mixed       cell by cell;
                                                                                  wrong-0-zh's
                                                                                  messages in Chinese
=================  =============================================================  ==================

The tasks of an assignment are isolated (a test calls the student's function with the reference
versions of earlier tasks), so one submission carries several mistakes at once, one kernel start
for all of them: mutations share a submission only when they change different answer cells and
the tests they fail lie in different tasks (``_pack``), so every test is failed by at most one of
them and shows that mutation's message, and every other test must keep all of its points. A
mistake that cascaded into another task would still show: that task's tests lose points they
should keep, or show a message that is not theirs.

A few submissions (perfect, the first mutation, the first alternative) are in the class twice,
the copy as ``again-<student>``: graded in the same run by whichever worker takes it, every score
must come out the same. Feedback is generated for the perfect, blank, crashing
and tampering students and for as few wrong-<k> as make every failing test show its failure; it
must hold no hidden test and no model answer (see ``test_leaks.py``) and must typeset its
formulas offline (see ``test_feedback.py``). Written answers are scored by
hand through the gradebook API (what formgrader does) and grades are exported to CSV.

Spec format (``tests/pipeline/specs/<a>.toml``): ``[[mutation]]`` with ``cell`` (grade_id of an
answer cell), ``find``/``replace`` or ``source`` (the whole new cell), ``fails`` (test grade_ids
that must lose all their points; every other test keeps all of its points) and optionally
``message`` (text that must appear in the output of EVERY test listed in ``fails``); and
``[[alternative]]`` with ``cell`` and ``find``/``replace`` or ``source``.
"""

from __future__ import annotations

import csv
import json
import re
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from . import course as C
from . import test_leaks as L

ASSIGNMENTS = C.assignments()
pytestmark = pytest.mark.pipeline

CELL_TIMEOUT = 10  # seconds: the looping submission costs this much
AGAIN = "again-"   # the second grading of a submission: a copy under this prefix, in the same run


def _first_answer_cell(nb, preferred: str | None):
    cells = [c for c in nb.cells if C.is_solution(c) and c.cell_type == "code"]
    for c in cells:
        if C.grade_id(c) == preferred:
            return c
    return cells[0]


def _prefixed(nb, cell_id: str, prefix: str):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for c in nb.cells:
        if C.grade_id(c) == cell_id:
            c.source = prefix + c.source
    return nb


def _read_scores(course, assignment, sources, student):
    """{grade_id: (auto_score, max_score)} for every graded cell of the student's submission."""
    out = {}
    with Gradebook(course.db_url) as gb:
        for name, nb in sources.items():
            notebook = name[: -len(".ipynb")]
            for cell in nb.cells:
                if C.is_grade(cell):
                    try:
                        g = gb.find_grade(C.grade_id(cell), notebook, assignment, student)
                    except MissingEntry:
                        continue
                    out[C.grade_id(cell)] = (g.auto_score, g.max_score)
    return out


def _test_outputs(course, assignment, student, notebook):
    """{test grade_id: plain text of its output} in the student's autograded notebook."""
    path = course.root / "grading" / "autograded" / student / assignment / notebook
    if not path.exists():
        return {}
    return {C.grade_id(c): C.cell_output_text(c) for c in C.read(path).cells if C.is_test(c)}


def _task_of_tests(nb) -> dict[str, str]:
    """{test grade_id: grade_id of the answer cell whose task it tests (the last one before it)}."""
    out, task = {}, None
    for cell in nb.cells:
        if C.is_solution(cell) and cell.cell_type == "code":
            task = C.grade_id(cell)
        elif C.is_test(cell) and task is not None:
            out[C.grade_id(cell)] = task
    return out


def _pack(occupied: list[set[str]]) -> list[list[int]]:
    """Groups of indices whose ``occupied`` sets (answer cells changed, tasks whose tests fail) are
    pairwise disjoint, first fit in spec order.

    >>> _pack([{"a"}, {"a"}, {"b"}, {"a", "c"}, {"c"}])
    [[0, 2, 4], [1], [3]]
    """
    groups: list[tuple[list[int], set[str]]] = []
    for k, occ in enumerate(occupied):
        for members, used in groups:
            if not used & occ:
                members.append(k)
                used |= occ
                break
        else:
            groups.append(([k], set(occ)))
    return [members for members, _ in groups]


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Run the class through nbgrader once per assignment; yield what the checks need."""
    assignment = request.param
    course = C.Course.from_release(tmp_path_factory.mktemp(assignment), assignment, tmp_path_factory,
                                   cell_timeout=CELL_TIMEOUT)
    release = course.exercises
    notebooks = C.notebooks(release)
    assert notebooks, f"the release of {assignment} holds no notebook"
    sources = {p.name: C.read(C.SOLUTIONS / assignment / p.name) for p in notebooks}
    released = {p.name: C.read(p) for p in notebooks}
    perfect = {n: C.fill_answers(released[n], sources[n]) for n in released}
    # the Chinese edition of the same release: the same answers must earn the same scores
    perfect_zh = {n: C.fill_answers(C.zh_release(assignment, n), sources[n]) for n in released}
    muts = C.mutations(assignment)
    alts = C.alternatives(assignment)

    expected_missing = {}  # student -> grade ids that must score 0 (others full)
    course.submit("perfect", {n: C.dumps(nb) for n, nb in perfect.items()})
    course.submit("blank", {n: C.dumps(nb) for n, nb in released.items()})
    course.submit("perfect-zh", {n: C.dumps(nb) for n, nb in perfect_zh.items()})

    main_nb = notebooks[0].name
    task_of = _task_of_tests(sources[main_nb])
    wrong_of, alt_of = {}, {}  # mutation / alternative index -> the student that carries it
    for j, group in enumerate(_pack([{m.cell} | {task_of.get(t, m.cell) for t in m.fails} for m in muts])):
        nb = perfect[main_nb]
        for k in group:
            nb = muts[k].apply(nb, f"specs/{assignment}.toml mutation {k}")
            wrong_of[k] = f"wrong-{j}"
        course.submit(f"wrong-{j}", {**{n: C.dumps(x) for n, x in perfect.items()}, main_nb: C.dumps(nb)})
        expected_missing[f"wrong-{j}"] = set().union(*(muts[k].fails for k in group))
        if j == 0:
            nb = perfect_zh[main_nb]
            for k in group:
                nb = muts[k].apply(nb, f"specs/{assignment}.toml mutation {k}")
            course.submit("wrong-0-zh", {**{n: C.dumps(x) for n, x in perfect_zh.items()}, main_nb: C.dumps(nb)})
    for j, group in enumerate(_pack([{alt.cell} for alt in alts])):
        nb = perfect[main_nb]
        for k in group:
            nb = alts[k].apply(nb, f"specs/{assignment}.toml alternative {k}")
            alt_of[k] = f"alt-{j}"
        course.submit(f"alt-{j}", {**{n: C.dumps(x) for n, x in perfect.items()}, main_nb: C.dumps(nb)})

    victim = _first_answer_cell(perfect[main_nb], muts[0].cell if muts else None)
    # the looping cell waits rather than spins: the timeout path is the same, and eight classes do not burn
    # 80 CPU-seconds on it (busy loops, and kernels that ignore the interrupt, are tests/grader's attacks)
    for student, prefix in (("loops", "import time\nwhile True:\n    time.sleep(0.1)\n"),
                            ("exits", "import sys\nsys.exit(1)\n")):
        files = {n: C.dumps(x) for n, x in perfect.items()}
        files[main_nb] = C.dumps(_prefixed(perfect[main_nb], C.grade_id(victim), prefix))
        course.submit(student, files)

    edited = nbformat.from_dict(json.loads(json.dumps(released[main_nb])))
    for c in edited.cells:
        if C.is_test(c):
            c.source = "pass  # every test passes now?"
    deleted = nbformat.from_dict(json.loads(json.dumps(released[main_nb])))
    deleted.cells = [c for c in deleted.cells if not C.is_test(c)]
    course.submit("edited-tests", {**{n: C.dumps(x) for n, x in released.items()}, main_nb: C.dumps(edited)})
    course.submit("deleted-tests", {**{n: C.dumps(x) for n, x in released.items()}, main_nb: C.dumps(deleted)})
    broken = C.dumps(perfect[main_nb])
    course.submit("broken-json", {**{n: C.dumps(x) for n, x in released.items()}, main_nb: broken[: len(broken) // 2]})

    # A few submissions are graded twice: a byte-for-byte copy under another id, in the same run (on
    # whichever worker, in whichever order, with a kernel of its own). The scores must not change: a
    # seed drawn at grading time, a test that depends on the order or timing of anything, would show
    # here. (fnngrade's --force regrading of the same student is tested in tests/grader.)
    again = ["perfect"] + (["wrong-0"] if muts else []) + (["alt-0"] if alts else [])
    submitted = course.root / "grading" / "submitted"
    for s in again:
        shutil.copytree(submitted / s, submitted / f"{AGAIN}{s}")

    students = sorted(p.name for p in submitted.iterdir())
    proc = course.fnngrade("--force", "--workers", "2", "--timeout", str(CELL_TIMEOUT))
    log = proc.stdout + proc.stderr
    states = course.states()
    scores = {s: _read_scores(course, assignment, sources, s) for s in students}
    outputs = {s: _test_outputs(course, assignment, s, main_nb)
               for s in [*expected_missing, *(["wrong-0-zh"] if muts else [])]}
    rescored = {s: scores[f"{AGAIN}{s}"] for s in again}

    # Written answers scored by hand, as a grader does in the Formgrader (full marks for the perfect
    # student), before feedback is generated: its feedback must show the new total.
    manual = [
        (name[: -len(".ipynb")], C.grade_id(c), C.points(c))
        for name, nb in sources.items() for c in nb.cells if C.is_manual(c)
    ]
    with Gradebook(course.db_url) as gb:
        for notebook, gid, pts in manual:
            gb.find_grade(gid, notebook, assignment, "perfect").manual_score = pts
        gb.db.commit()
        sub = gb.find_submission(assignment, "perfect")
        manual_total = (sub.score, sub.max_score)

    # Feedback, as students get it back (checked for leaks with test_leaks.py's rules), for everyone
    # whose notebook holds no model answer, for the perfect one, and for enough wrong ones that every
    # test that some mistake fails shows its failure (tracebacks are where hidden lines could leak).
    readers = ["perfect", "perfect-zh", "blank", "edited-tests", "deleted-tests", "loops", "exits"]
    uncovered = set().union(*expected_missing.values()) if expected_missing else set()
    while uncovered:
        best = max(expected_missing, key=lambda st: len(expected_missing[st] & uncovered))
        if not expected_missing[best] & uncovered:
            break
        readers.append(best)
        uncovered -= expected_missing[best]
    fb = course.nbgrader(
        "generate_feedback", assignment, "--force",
        f"--CourseDirectory.student_id_exclude={','.join(s for s in students if s not in readers)}",
        check=False,
    )
    return {
        "assignment": assignment,
        "course": course,
        "sources": sources,
        "main_nb": main_nb,
        "log": log,
        "returncode": proc.returncode,
        "states": states,
        "victim": C.grade_id(victim),
        "expected_missing": expected_missing,
        "mutations": muts,
        "alternatives": alts,
        "wrong_of": wrong_of,
        "alt_of": alt_of,
        "scores": scores,
        "outputs": outputs,
        "regraded": rescored,
        "feedback_log": fb.stdout + fb.stderr,
        "manual_total": manual_total,
        "feedback_returncode": fb.returncode,
    }


def _scores(graded, student):
    """{grade_id: (auto_score, max_score)} of the student after the class's (first) grading run."""
    return graded["scores"][student]


def _auto(scores):
    return {k: v for k, v in scores.items() if v[0] is not None}


def _describe(scores):
    return ", ".join(f"{k}={v[0]}/{v[1]}" for k, v in sorted(scores.items()))


def test_perfect_submission_earns_every_automatic_point(graded):
    scores = _scores(graded, "perfect")
    tests = {C.grade_id(c) for nb in graded["sources"].values() for c in nb.cells if C.is_test(c)}
    missed = {k: v for k, v in scores.items() if k in tests and v[0] != v[1]}
    assert not missed, f"the solution loses points: {_describe(missed)}\n{graded['log'][-3000:]}"
    manual = {k for nb in graded["sources"].values() for c in nb.cells if C.is_manual(c) for k in [C.grade_id(c)]}
    for k in manual:
        assert scores[k][0] is None, f"written answer {k} was scored automatically ({scores[k]}); it must await a grader"


def test_blank_release_earns_nothing(graded):
    earned = {k: v for k, v in _auto(_scores(graded, "blank")).items() if v[0]}
    assert not earned, f"the untouched release earns points: {_describe(earned)}"


def test_each_deliberate_mistake_loses_exactly_its_tests(graded):
    if not graded["mutations"]:
        pytest.fail(f"tests/pipeline/specs/{graded['assignment']}.toml must describe at least one [[mutation]]")
    problems = []
    for k, m in enumerate(graded["mutations"]):
        student = graded["wrong_of"][k]
        scores = _auto(_scores(graded, student))
        unknown = set(m.fails) - scores.keys()
        if unknown:
            problems.append(f"mutation {k} (cell {m.cell!r}): spec names tests that do not exist: {sorted(unknown)}")
            continue
        lost = {t: scores[t] for t in m.fails if scores[t][0] != 0}
        if lost:
            problems.append(f"mutation {k} (cell {m.cell!r}, in {student}): its tests should lose every point, "
                            f"got {_describe(lost)}")
    for student, must_fail in graded["expected_missing"].items():
        scores = _auto(_scores(graded, student))
        kept = {t: v for t, v in scores.items() if t not in must_fail and v[0] != v[1]}
        if kept:
            carried = [f"{k} (cell {m.cell!r})" for k, m in enumerate(graded["mutations"])
                       if graded["wrong_of"][k] == student]
            problems.append(f"{student} (mutations {', '.join(carried)}): tests no mutation names lost points "
                            f"(a mistake cascades beyond its task): {_describe(kept)}")
    assert not problems, "\n".join(problems)


def test_each_mistake_shows_its_message(graded):
    problems = []
    for k, m in enumerate(graded["mutations"]):
        if m.message is None:
            continue
        student = graded["wrong_of"][k]
        outputs = graded["outputs"][student]
        for test in m.fails:
            text = outputs.get(test)
            if text is None:
                problems.append(f"mutation {k} (cell {m.cell!r}, in {student}): no output of {test} in the "
                                "autograded notebook")
            elif not C.contains_message(text, m.message):
                problems.append(
                    f"mutation {k} (cell {m.cell!r}, in {student}): the output of {test} does not contain {m.message!r}; "
                    f"it shows:\n    {text[-1500:]}"
                )
    assert not problems, "\n".join(problems)


def test_each_alternative_answer_earns_every_automatic_point(graded):
    tests = {C.grade_id(c) for nb in graded["sources"].values() for c in nb.cells if C.is_test(c)}
    problems = []
    for student in sorted(set(graded["alt_of"].values())):
        scores = _scores(graded, student)
        missed = {g: v for g, v in scores.items() if g in tests and v[0] != v[1]}
        if missed or not tests <= scores.keys():
            carried = [f"{k} (cell {a.cell!r})" for k, a in enumerate(graded["alternatives"])
                       if graded["alt_of"][k] == student]
            problems.append(f"{student} (alternatives {', '.join(carried)}) holds only correct answers but loses "
                            f"points: {_describe(missed)}")
    assert not problems, "\n".join(problems)


def test_mixed_language_class_scores_identical_answers_identically(graded):
    """A class with both editions: the Chinese release's submissions are graded by the same source,
    cell by cell with the same scores as the English ones holding the same answers."""
    pairs = [("perfect", "perfect-zh")] + ([("wrong-0", "wrong-0-zh")] if graded["mutations"] else [])
    for en, zh in pairs:
        a, b = _scores(graded, en), _scores(graded, zh)
        differ = {g: (a.get(g), b.get(g)) for g in a.keys() | b.keys() if a.get(g) != b.get(g)}
        assert not differ and a, (f"{zh} holds {en}'s answers in the Chinese release but scores differently "
                                  f"(grade_id: (English, Chinese)): {differ}\n{graded['log'][-3000:]}")
    assert graded["states"]["perfect-zh"]["state"] == graded["states"]["perfect"]["state"] == "graded"


def test_chinese_submission_gets_its_test_messages_in_chinese(graded):
    """The language of the messages follows the edition a submission was made from (its notebook's
    metadata), not the grading machine: wrong-0-zh's failing tests speak Chinese, wrong-0's English."""
    if not graded["mutations"]:
        pytest.skip("no mutation to fail a test")
    failing = sorted(graded["expected_missing"]["wrong-0"])
    zh = {t: graded["outputs"]["wrong-0-zh"].get(t) or "" for t in failing}
    en = {t: graded["outputs"]["wrong-0"].get(t) or "" for t in failing}
    assert all(zh.values()) and all(en.values()), f"failing tests without output: zh {zh}, en {en}"
    cjk = lambda text: any("\u4e00" <= ch <= "\u9fff" for ch in text)  # noqa: E731
    assert all(cjk(t) for t in zh.values()), f"messages not in Chinese: {zh}"
    assert not any(cjk(t) for t in en.values()), f"English submission got Chinese messages: {en}"


def test_chinese_submission_gets_feedback_with_the_chinese_task_texts(graded):
    """Autograding puts the English task text back; the feedback of perfect-zh shows the Chinese."""
    a, name = graded["assignment"], graded["main_nb"]
    root = graded["course"].root
    zh = C.zh_release(a, name)
    translated = [c for c, e in zip(zh.cells, C.read(root / "exercises" / a / name).cells)
                  if c.cell_type == "markdown" and c.source != e.source]
    assert translated
    html = {s: (root / "grading" / "feedback" / s / a / name.replace(".ipynb", ".html")) for s in ("perfect", "perfect-zh")}
    assert all(p.exists() for p in html.values()), f"no feedback: {html}\n{graded['feedback_log'][-2000:]}"
    # a run of Chinese characters from a translated task text: in the Chinese feedback, not the English
    probe = max((m for c in translated for m in re.findall("[\u4e00-\u9fff]{4,}", c.source)), key=len)[:12]
    assert probe in html["perfect-zh"].read_text(encoding="utf-8"), f"{probe!r} not in perfect-zh's feedback"
    assert probe not in html["perfect"].read_text(encoding="utf-8")


def test_regrading_reproduces_every_score(graded):
    assert graded["regraded"], "nothing was regraded"
    for student, again in graded["regraded"].items():
        first = _scores(graded, student)
        changed = {g: (first.get(g), v) for g, v in again.items() if first.get(g) != v}
        assert not changed and again.keys() == first.keys(), (
            f"{student}: grading the same submission again ({AGAIN}{student}) changed its scores "
            f"(grade_id: (first grading, second grading)): {changed}\n{graded['log'][-3000:]}"
        )


@pytest.mark.parametrize("student", ["loops", "exits"])
def test_crashing_submission_is_graded_without_undue_marks(graded, student):
    scores = _auto(_scores(graded, student))
    full = _auto(_scores(graded, "perfect"))
    assert sum(v[0] for v in scores.values()) < sum(v[0] for v in full.values()), (
        f"{student}: the cell {graded['victim']!r} never finished, yet the submission earned full marks"
    )
    if graded["mutations"] and graded["mutations"][0].cell == graded["victim"]:
        lost = {k: v for k, v in scores.items() if k in graded["mutations"][0].fails and v[0] != 0}
        assert not lost, f"{student}: tests of the unfinished cell still earned points: {_describe(lost)}"


@pytest.mark.parametrize("student", ["edited-tests", "deleted-tests"])
def test_tampering_with_test_cells_earns_nothing(graded, student):
    scores = _auto(_scores(graded, student))
    tests = {C.grade_id(c) for nb in graded["sources"].values() for c in nb.cells if C.is_test(c)}
    assert tests <= scores.keys(), f"{student}: test cells were not restored: {sorted(tests - scores.keys())}"
    earned = {k: v for k, v in scores.items() if v[0]}
    assert not earned, f"{student}: earned points with tampered tests: {_describe(earned)}"


def test_broken_notebook_is_reported_and_does_not_stop_the_batch(graded):
    state = graded["states"]["broken-json"]
    assert state["state"] == "malformed" and "not valid JSON" in state["reason"], state
    assert "broken-json: malformed" in graded["log"], "the summary does not name the broken submission"
    with Gradebook(graded["course"].db_url) as gb:
        try:
            sub = gb.find_submission(graded["assignment"], "broken-json")
        except MissingEntry:
            sub = None
        assert sub is None or not sub.score, "the unreadable submission earned points"
        # everyone else was graded in the same run
        for student in ("perfect", "blank", "loops", "exits"):
            gb.find_submission(graded["assignment"], student)


def test_every_submission_ends_in_the_state_it_should(graded):
    states = graded["states"]
    want = {"broken-json": "malformed", "loops": "timed out"}
    wrong = {s: (r["state"], r.get("reason")) for s, r in states.items() if r["state"] != want.get(s, "graded")}
    assert not wrong, wrong


def test_plain_nbgrader_still_grades_the_notebooks(tmp_path, tmp_path_factory):
    """nbgrader's own autograde (tests in the kernel) gives the perfect submission every point and
    the blank none: the notebooks work with and without fnngrade. One assignment is enough."""
    assignment = ASSIGNMENTS[1] if len(ASSIGNMENTS) > 1 else ASSIGNMENTS[0]
    course = C.Course.from_release(tmp_path / assignment, assignment, tmp_path_factory, cell_timeout=60)
    release = course.exercises
    sources = {p.name: C.read(C.SOLUTIONS / assignment / p.name) for p in C.notebooks(release)}
    released = {p.name: C.read(p) for p in C.notebooks(release)}
    course.submit("perfect", {n: C.dumps(C.fill_answers(released[n], sources[n])) for n in released})
    course.submit("blank", {n: C.dumps(nb) for n, nb in released.items()})
    course.nbgrader("autograde", assignment, "--force")
    perfect = _auto(_read_scores(course, assignment, sources, "perfect"))
    blank = _auto(_read_scores(course, assignment, sources, "blank"))
    assert perfect and all(got == full for got, full in perfect.values()), _describe(perfect)
    assert not any(got for got, _ in blank.values()), _describe(blank)


def test_manual_grades_feedback_and_export(graded):
    """Full manual marks (given in the fixture, through the gradebook API as the Formgrader does)
    make the perfect submission's total its maximum; its feedback shows that total; the CSV export
    has it."""
    course, a = graded["course"], graded["assignment"]
    total, max_score = graded["manual_total"]
    assert total == max_score, f"perfect submission with full manual marks scores {total}/{max_score}"

    html = list((course.root / "grading" / "feedback" / "perfect" / a).glob("*.html"))
    assert html, f"no feedback HTML was generated\n{graded['feedback_log'][-3000:]}"
    text = html[0].read_text()
    assert f"{total:g}" in text or f"{total}" in text, "the feedback does not show the score"

    out = course.root / "grading" / "grades.csv"
    course.nbgrader("export", "--to", str(out))
    rows = {r["student_id"]: r for r in csv.DictReader(out.open()) if r["assignment"] == a}
    assert float(rows["perfect"]["score"]) == total
    assert float(rows["blank"]["score"]) == 0.0


def test_feedback_shows_no_hidden_test_or_model_answer(graded):
    """Feedback for the whole class, as students get it back (see test_leaks.py for what counts)."""
    course, a = graded["course"], graded["assignment"]
    root = course.root / "grading" / "feedback"
    written = {p.parts[-3] for p in root.glob(f"*/{a}/*.html")}
    assert {"perfect", "blank"} <= written, (
        f"feedback was written only for {sorted(written)}\n{graded['feedback_log'][-3000:]}"
    )
    problems = L.feedback_leaks(root, a, L.assignment_secrets(a), course.root / "grading" / "submitted")
    assert not problems, f"the feedback of {a} shows what only graders may see:\n  " + "\n  ".join(problems[:40])


def test_feedback_typesets_its_formulas_offline(graded, tmp_path, chromium):
    """The perfect student's feedback, opened from disk in headless Chromium with no network."""
    from .test_feedback import check_rendered_offline

    a = graded["assignment"]
    html = sorted((graded["course"].root / "grading" / "feedback" / "perfect" / a).glob("*.html"))
    assert html, f"no feedback for the perfect submission\n{graded['feedback_log'][-3000:]}"
    for page in html:
        check_rendered_offline(chromium, page, tmp_path / f"{page.stem}.png")
