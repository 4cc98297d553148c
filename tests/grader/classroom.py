"""A class of adversarial submissions for ``01-neuron-activations`` and a way to grade it.

Each entry of :func:`make_class` is ``student -> (files, expectation)``. The expectation says in
which state the submission must end and how its automatic score must compare with the honest
submissions ("perfect" earns every automatic point, "blank" earns none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tests.pipeline import course as C

ASSIGNMENT = "01-neuron-activations"
REPO = C.ROOT
MB = 2**20


@dataclass
class Expect:
    state: str
    score: str  # "full", "zero", "full-minus:<points>", "below-full", "<=blank"
    note: str = ""


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _prefix(nb, grade_id: str, code: str):
    nb = _copy(nb)
    hit = [c for c in nb.cells if C.grade_id(c) == grade_id]
    assert hit, grade_id
    hit[0].source = code + "\n" + hit[0].source
    return nb


def snoop_code(root: Path, worker_db_glob: str) -> str:
    """Code that tries to read what a student must never see and prints DENIED/READ per path."""
    targets = [
        f"{root}/solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        f"{root}/solutions",
        f"{root}/grading/gradebook.db",
        f"{root}/grading/submitted/perfect/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        f"{root}/grading/autograded/perfect/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        f"../../../solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        "../../../grading/gradebook.db",
        f"../../perfect/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        f"{REPO}/solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        f"{REPO}/grading",
        os.path.expanduser("~/.bashrc"),
        os.path.expanduser("~/.ssh"),
        "/etc/passwd",
    ]
    return (
        "import os as _os, glob as _glob\n"
        f"_targets = {targets!r} + _glob.glob({worker_db_glob!r})\n"
        "for _t in _targets:\n"
        "    try:\n"
        "        if _os.path.isdir(_t):\n"
        "            _got = _os.listdir(_t)\n"
        "        else:\n"
        "            with open(_t, 'rb') as _fh:\n"
        "                _got = _fh.read(64)\n"
        "        print('READ', _t, repr(_got)[:60])\n"
        "    except Exception as _e:\n"
        "        print('DENIED', _t, type(_e).__name__)\n"
        "print('HOME', sorted(_os.listdir(_os.path.expanduser('~'))) if _os.path.isdir(_os.path.expanduser('~')) else None)\n"
        f"print('ROOTHOME', sorted(_os.listdir({os.path.expanduser('~')!r})) if _os.path.isdir({os.path.expanduser('~')!r}) else None)\n"
        "print('SNOOP-DONE', len(_targets))\n"
    )


CHEAT_CODE = """\
# every test would pass if the checks and numpy's comparisons said yes
import numpy as _np
import fnnlib.checks as _checks
_yes = lambda *a, **k: None
check_function = check_does_not_use = check_sympy_steps = check_array = _yes
_checks.check_function = _checks.check_does_not_use = _checks.check_sympy_steps = _checks.check_array = _yes
_np.allclose = lambda *a, **k: True
_np.array_equal = lambda *a, **k: True
_np.testing.assert_allclose = _yes
_np.testing.assert_array_equal = _yes
"""

RUNCELL_CODE = """\
# run 'pass' instead of any cell that looks like a test
_ip = get_ipython()
_real_run_cell = _ip.run_cell
def _fake_run_cell(raw_cell, *a, **k):
    return _real_run_cell("pass" if "check_" in raw_cell or "Task" in raw_cell else raw_cell, *a, **k)
_ip.run_cell = _fake_run_cell
_ip.should_run_async = lambda *a, **k: False
"""

SILENCER_CODE = """\
# swallow every exception, so no test cell shows an error
get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
"""


def make_class(root: Path, release_nb, source_nb, *, spawn_cap: int = 150) -> dict[str, tuple[dict, Expect]]:
    name = f"{ASSIGNMENT}.ipynb"
    perfect = C.fill_answers(release_nb, source_nb)
    blank = _copy(release_nb)
    D = C.dumps
    last = "weight_gradient_signs"  # the last answer cell: its test is worth 2 points
    cls: dict[str, tuple[dict, Expect]] = {}
    cls["perfect"] = ({name: D(perfect)}, Expect("graded", "full"))
    cls["blank"] = ({name: D(blank)}, Expect("graded", "zero"))
    wrong = D(perfect).replace("return 1.0 - t * t", "return 1.0 - t")
    assert wrong != D(perfect)
    cls["wrong-tanh"] = ({name: wrong}, Expect("graded", "full-minus:2"))
    cls["loops"] = ({name: D(_prefix(perfect, "logistic", "while True:\n    pass"))},
                    Expect("timed out", "below-full"))
    cls["ignores-sigint"] = ({name: D(_prefix(perfect, last, (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)")))},
        Expect("timed out", "full-minus:2"))
    cls["sys-exit"] = ({name: D(_prefix(perfect, "logistic", "import sys\nsys.exit(1)"))},
                       Expect("graded", "below-full"))
    cls["os-exit"] = ({name: D(_prefix(perfect, last, "import os\nos._exit(3)"))},
                      Expect("crashed", "full-minus:2"))
    cls["memory-bomb"] = ({name: D(_prefix(perfect, last, (
        "def _bomb():\n    hog = []\n    while True:\n        hog.append(bytearray(64 * 2**20))\n_bomb()")))},
        Expect("graded", "full-minus:2"))
    cls["huge-line"] = ({name: D(_prefix(perfect, "logistic", "print('x' * 5_000_000)"))},
                        Expect("graded", "full"))
    cls["spawner"] = ({name: D(_prefix(perfect, "logistic", (
        "import subprocess, sys\n_procs, _refused = [], None\n"
        f"for _i in range({spawn_cap}):\n"
        "    try:\n"
        "        _procs.append(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']))\n"
        "    except Exception as _e:\n"
        "        _refused = type(_e).__name__\n"
        "        break\n"
        "for _p in _procs:\n    _p.kill()\n    _p.wait()\n"
        "print('SPAWNED', len(_procs), 'REFUSED', _refused)")))},
        Expect("graded", "full"))
    edited = _copy(blank)
    for c in edited.cells:
        if C.is_test(c):
            c.source = "pass  # every test passes now?"
    cls["edited-tests"] = ({name: D(edited)}, Expect("graded", "zero"))
    deleted = _copy(blank)
    deleted.cells = [c for c in deleted.cells if not C.is_test(c)]
    cls["deleted-tests"] = ({name: D(deleted)}, Expect("graded", "zero"))
    dup = _copy(perfect)
    tests = [i for i, c in enumerate(dup.cells) if C.is_test(c)]
    first, last_test = _copy(dup.cells[tests[0]]), _copy(dup.cells[tests[-1]])
    for k, c in enumerate((first, last_test)):
        c["id"] = f"copied-cell-{k}"  # Jupyter gives a copied cell a new id; nbgrader's metadata repeats
    dup.cells.insert(tests[0] + 1, first)
    dup.cells.append(last_test)
    cls["duplicated-tests"] = ({name: D(dup)}, Expect("graded", "full"))
    ren = _copy(blank)
    for c in ren.cells:
        if C.is_test(c):
            c.metadata["nbgrader"]["grade_id"] = "renamed_" + C.grade_id(c)
            c.source = "pass"
            break
    cls["renamed-grade-id"] = ({name: D(ren)}, Expect("graded", "zero"))
    ren_p = _copy(perfect)
    for c in ren_p.cells:
        if C.is_solution(c) and c.cell_type == "code":
            c.metadata["nbgrader"]["grade_id"] = "renamed_" + C.grade_id(c)
            break
    cls["renamed-answer-id"] = ({name: D(ren_p)}, Expect("graded", "full"))
    text = D(perfect)
    cls["broken-json"] = ({name: text[: len(text) // 2]}, Expect("malformed", "zero"))
    cls["not-a-notebook"] = ({name: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4}, Expect("malformed", "zero"))
    cls["json-not-notebook"] = ({name: json.dumps({"answer": 42})}, Expect("malformed", "zero"))
    cls["no-notebook"] = ({"answers.py": "def logistic(x):\n    return x\n"}, Expect("missing", "zero"))
    cls["snoop"] = ({name: D(_prefix(blank, "logistic", snoop_code(
        root, str(root / "grading" / ".fnngrade" / ASSIGNMENT / "workers*" / "*" / "grading" / "gradebook.db"))))},
        Expect("graded", "<=blank"))
    cls["cheat-patch"] = ({name: D(_prefix(blank, "logistic", CHEAT_CODE))}, Expect("graded", "<=blank"))
    cls["cheat-runcell"] = ({name: D(_prefix(blank, "logistic", RUNCELL_CODE))}, Expect("graded", "<=blank"))
    cls["cheat-silence"] = ({name: D(_prefix(blank, "logistic", SILENCER_CODE))}, Expect("graded", "<=blank"))
    return cls


def run_fnngrade(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("FNN_GRADEBOOK_URL", None)
    return subprocess.run([sys.executable, "-m", "fnngrade", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)
