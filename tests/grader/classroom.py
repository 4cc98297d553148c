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


# --------------------------------------------------------------------------------------------
# Attacks on what surrounds the jail: the result channel, the files copied in and out, the
# scratch folders root touches, ids. Each entry is ``student -> Attack``: the files to submit, a
# setup that makes what plain files cannot express (links, FIFOs, 200,000 files), and the
# expectation. ``host`` is a folder outside the course root holding sentinel files
# (:func:`make_sentinels`), which no submission may read, change or copy.

NON_UTF8_ID = os.fsdecode(b"caf\xe9-latin1")
LONG_ID = "L" * 251
NEWLINE_ID = "two\nlines"


@dataclass
class Attack:
    files: dict
    expect: Expect
    setup: object = None  # callable(submission folder: Path) -> None


def make_sentinels(host: Path) -> dict[str, Path]:
    """Files outside the course root: a root-only secret and a victim to overwrite."""
    host.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, mode in (("secret", 0o600), ("victim", 0o600), ("hardlinked", 0o600)):
        p = host / name
        p.write_bytes(f"HOST-{name.upper()}-7f3a9c\n".encode())
        os.chmod(p, mode)
        out[name] = p
    return out


def sentinel_state(sentinels: dict[str, Path]) -> dict[str, tuple]:
    return {k: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns) for k, p in sentinels.items()}


def _forge_code(assignment: str) -> str:
    """Write forged result lines (old and new formats, for itself and a classmate) on every
    descriptor the kernel has that is not a socket, then 300 MB without a newline on stdout."""
    full = {assignment: {"grades": {"test_logistic_values": {"auto_score": 99, "max_score": 99,
                                                              "needs_manual_grade": False, "cell_type": "code"}},
                         "comments": {}}}
    lines = [
        "@@FNNGRADE " + json.dumps({"student": "forge", "assignment": assignment, "state": "graded",
                                    "notebooks": full, "autograded": "/etc", "job": 1}),
        "@@FNNGRADE " + json.dumps({"student": "perfect", "assignment": assignment, "state": "graded",
                                    "notebooks": {}, "job": 2}),
        "0" * 64 + " " + json.dumps({"job": 1, "state": "graded", "notebooks": full, "autograded": True}),
        "@@FNNGRADE {not json",
        "@@FNNGRADE {}",
        json.dumps({"ready": True}),
    ]
    return (
        "import os as _os, sys as _sys\n"
        f"_lines = {lines!r}\n"
        "_hit = []\n"
        "for _fd in range(0, 1024):\n"
        "    try:\n"
        "        _t = _os.readlink(f'/proc/self/fd/{_fd}')\n"
        "    except OSError:\n"
        "        continue\n"
        "    if _t.startswith(('socket:', 'anon_inode:')):\n"
        "        continue\n"
        "    for _l in _lines:\n"
        "        try:\n"
        "            _os.write(_fd, (_l + '\\n').encode())\n"
        "            _hit.append((_fd, _t))\n"
        "        except OSError:\n"
        "            pass\n"
        "for _l in _lines:\n"
        "    print(_l, file=_sys.__stdout__, flush=True)\n"
        "    print(_l)\n"
        "# 300 MB without a newline on the kernel's real stdout (ipykernel keeps a copy of it)\n"
        "_chunk = b'x' * 2**20\n"
        "for _fd, _t in sorted(set(_hit)):\n"
        "    if _t == '/dev/null':\n"
        "        for _i in range(300):\n"
        "            _os.write(_fd, _chunk)\n"
        "print('FORGED-ON', sorted(set(_hit)))\n"
    )


def _kernel_links_code(root: Path, sentinels: dict[str, Path]) -> str:
    """In the kernel: replace the working folder's files and the socket folder's entries by links
    to host files (the gradebook, a classmate's notebook, sentinels) and by folders."""
    nb = f"{ASSIGNMENT}.ipynb"
    targets = {
        nb: str(sentinels["victim"]),
        "gradebook.db": str(root / "grading" / "gradebook.db"),
        "classmate.ipynb": str(root / "grading" / "submitted" / "perfect" / ASSIGNMENT / nb),
        "secret": str(sentinels["secret"]),
        "solution.ipynb": str(root / "solutions" / ASSIGNMENT / nb),
    }
    return (
        "import os as _os\n"
        f"_targets = {targets!r}\n"
        "for _n in _os.listdir('.'):\n"
        "    try:\n"
        "        _os.unlink(_n)\n"
        "    except OSError:\n"
        "        pass\n"
        "for _n, _t in _targets.items():\n"
        "    _os.symlink(_t, _n)\n"
        "_os.mkdir('sub')\n"
        "_os.symlink('/', 'sub/root')\n"
        "from ipykernel.connect import get_connection_file as _gcf\n"
        "_cf = _gcf()\n"
        "_d = _os.path.dirname(_cf)\n"
        "_os.rename(_cf, _cf + '.moved')\n"
        "_os.mkdir(_cf)\n"
        "_os.symlink(_targets['secret'], _os.path.join(_cf, 'inner'))\n"
        "for _n in _os.listdir(_d):\n"
        "    _p = _os.path.join(_d, _n)\n"
        "    if _n.startswith('k-'):\n"
        "        _os.unlink(_p)\n"
        f"        _os.symlink({str(sentinels['victim'])!r}, _p)\n"
        "for _n, _t in _targets.items():\n"
        "    _os.symlink(_t, _os.path.join(_d, 'x-' + _n))\n"
        "print('KERNEL-LINKS-DONE', sorted(_os.listdir('.')), sorted(_os.listdir(_d)))\n"
    )


BIG_CWD_CODE = """\
import os as _os
_w = 0
try:
    for _i in range(12):
        with open(f"big{_i}", "wb") as _f:
            for _j in range(60):
                _f.write(b"\\0" * 2**20)
                _w += 1
except OSError as _e:
    print("CWD-FULL", type(_e).__name__)
print("CWD-WROTE-MB", _w)
for _i in range(12):
    try:
        _os.unlink(f"big{_i}")
    except OSError:
        pass
"""


def _many_files_code(k: int) -> str:
    return ("import os as _os\n"
            "for _i in range(50_000):\n"
            f"    _os.close(_os.open('f{k}_%d' % _i, _os.O_CREAT | _os.O_WRONLY, 0o644))\n"
            f"print('MANY-FILES', {k}, len(_os.listdir('.')))\n")


LISTDIR_CODE = "import os as _os\nprint('LISTDIR', sorted(_os.listdir('.')))\nprint('CWD', _os.getcwd())\n"


def make_attacks(root: Path, release_nb, source_nb, sentinels: dict[str, Path]) -> dict[str, Attack]:
    name = f"{ASSIGNMENT}.ipynb"
    perfect = C.fill_answers(release_nb, source_nb)
    blank = _copy(release_nb)
    D = C.dumps
    solution = root / "solutions" / ASSIGNMENT / name
    out: dict[str, Attack] = {}
    out["forge"] = Attack({name: D(_prefix(blank, "logistic", _forge_code(ASSIGNMENT)))},
                          Expect("graded", "<=blank", "forged result lines earn nothing, change no one else"))

    def symlinked_nb(folder: Path) -> None:
        os.symlink(solution, folder / name)
    out["symlinked-notebook"] = Attack({}, Expect("malformed", "zero", "the notebook is a link to the solution"),
                                       symlinked_nb)

    def fifo_nb(folder: Path) -> None:
        os.mkfifo(folder / name)
    out["fifo-notebook"] = Attack({}, Expect("malformed", "zero", "the notebook is a FIFO"), fifo_nb)

    def links(folder: Path) -> None:
        import socket

        os.symlink(root / "grading" / "gradebook.db", folder / "gradebook.db")
        os.symlink(solution, folder / "solution.ipynb")
        os.symlink(sentinels["secret"], folder / "secret")
        os.symlink("/", folder / "host-root")
        os.link(sentinels["hardlinked"], folder / "hardlinked")
        os.mkfifo(folder / "pipe")
        s = socket.socket(socket.AF_UNIX)
        here = os.getcwd()
        os.chdir(folder)  # unix socket paths are limited to 108 bytes: bind a relative name
        try:
            s.bind("sock")
        finally:
            os.chdir(here)
            s.close()
        if os.geteuid() == 0:
            os.mknod(folder / "null-device", 0o600 | 0o020000, os.makedev(1, 3))
        (folder / "data").mkdir()
        (folder / "data" / "kept.csv").write_text("x,y\n1,2\n")
        os.symlink(sentinels["victim"], folder / "data" / "victim")
    out["links-in-folder"] = Attack({name: D(_prefix(perfect, "logistic", LISTDIR_CODE))},
                                    Expect("graded", "full", "links, a hard link, a FIFO, a socket, a device"), links)

    # one kernel does three things in three answer cells (each one is checked on its own output):
    # replaces its files and sockets by links to host files, writes 720 MB into its working
    # folder, and makes 200,000 files there
    vandal = _prefix(perfect, "logistic", _kernel_links_code(root, sentinels))
    vandal = _prefix(vandal, "logistic_grad", BIG_CWD_CODE)
    for k, gid in enumerate(("sigma_derivative_steps", "tanh_grad", "swish_grad", "gelu_grad")):
        vandal = _prefix(vandal, gid, _many_files_code(k))
    out["kernel-vandal"] = Attack({name: D(vandal)},
                                  Expect("graded", "full", "links in its folders, 720 MB and 200,000 files in its cwd"))
    out[LONG_ID] = Attack({name: D(perfect)}, Expect("graded", "full", "a 251-character id"))

    def many_files(folder: Path) -> None:
        for i in range(200_000):
            os.close(os.open(folder / f"f{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644))
    out[NEWLINE_ID] = Attack({name: D(perfect)},
                             Expect("graded", "full", "a newline in the id, and 200,000 files in the submission"),
                             many_files)
    out[NON_UTF8_ID] = Attack({name: D(perfect)}, Expect("crashed", "absent", "an id that is not UTF-8"))
    return out


def link_folder(root: Path, student: str, to: str) -> None:
    """``grading/submitted/<student>/<a>`` as a symbolic link to another student's folder."""
    d = root / "grading" / "submitted" / student
    d.mkdir(parents=True)
    os.symlink(root / "grading" / "submitted" / to / ASSIGNMENT, d / ASSIGNMENT)
