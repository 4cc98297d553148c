"""fnngrade's plumbing without kernels: link-free copies and hashes, names for odd ids, the signed
result channel, kernel uid leases, stale scratch folders. Fast; the parts that need root (a
device node, a process run as another uid) are skipped with the reason elsewhere."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fnngrade.files import FileLimits, NotAFolder, copy_tree, display_id, hash_tree, is_disk_full, state_name
from fnngrade.grader import ResultReader, UidLease, clean_stale_scratch, list_submissions
from fnngrade.worker import sign

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (device nodes, processes of another uid)")


@pytest.fixture
def tree(tmp_path):
    """An untrusted folder with one of everything, and a host file it links to."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret").write_bytes(b"HOST-SECRET")
    src = tmp_path / "sub"
    src.mkdir()
    (src / "nb.ipynb").write_text('{"cells": []}')
    (src / "data").mkdir()
    (src / "data" / "a.csv").write_bytes(b"1,2\n")
    os.symlink(host / "secret", src / "link")
    os.symlink(host, src / "dirlink")
    os.link(host / "secret", src / "hard")
    os.mkfifo(src / "fifo")
    here = os.getcwd()
    os.chdir(src)
    try:
        s = socket.socket(socket.AF_UNIX)
        s.bind("sock")
        s.close()
    finally:
        os.chdir(here)
    return src


def test_copy_keeps_regular_files_and_drops_everything_else(tree, tmp_path):
    rep = copy_tree(tree, tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["data", "nb.ipynb"]
    assert (out / "data" / "a.csv").read_bytes() == b"1,2\n"
    dropped = dict(rep.dropped)
    assert "symbolic link" in dropped["link"] and "symbolic link" in dropped["dirlink"]
    assert "hard link" in dropped["hard"] and "FIFO" in dropped["fifo"] and "socket" in dropped["sock"]
    assert rep.files == 2 and rep.folders == 1 and rep.n_dropped == 5
    assert "5 item(s)" in rep.summary()
    for p in out.rglob("*"):
        assert not p.is_symlink() and (p.is_dir() or p.stat().st_nlink == 1)


@ROOT_ONLY
def test_copy_drops_devices(tmp_path):
    src = tmp_path / "s"
    src.mkdir()
    os.mknod(src / "null", 0o600 | 0o020000, os.makedev(1, 3))
    rep = copy_tree(src, tmp_path / "o")
    assert dict(rep.dropped)["null"] == "a device" and not list((tmp_path / "o").iterdir())


def test_a_linked_top_folder_is_not_followed(tree, tmp_path):
    os.symlink(tree, tmp_path / "alias")
    with pytest.raises(NotAFolder):
        copy_tree(tmp_path / "alias", tmp_path / "out")
    with pytest.raises(NotAFolder):
        hash_tree(tmp_path / "alias")


def test_limits_keep_the_notebook_first(tmp_path):
    src = tmp_path / "s"
    src.mkdir()
    for i in range(50):
        (src / f"a{i:02d}").write_bytes(b"x" * 100)
    (src / "z.ipynb").write_text("{}")
    lim = FileLimits(max_files=5, max_bytes=350, max_listed=10)
    rep = copy_tree(src, tmp_path / "o", lim, first=("z.ipynb",))
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert "z.ipynb" in names and len(names) <= 5
    assert rep.bytes <= 350
    assert any("more than 10 entries" in why for _, why in rep.dropped)
    assert any("over the limit" in why for _, why in rep.dropped)
    deep = tmp_path / "deep"
    p = deep
    for i in range(6):
        p = p / f"d{i}"
    p.mkdir(parents=True)
    rep = copy_tree(deep, tmp_path / "o2", FileLimits(max_depth=3))
    assert any("deeper than 3" in why for _, why in rep.dropped)


def test_hash_streams_and_follows_nothing(tree, tmp_path):
    h1 = hash_tree(tree)
    assert h1 == hash_tree(tree)
    (tmp_path / "host" / "secret").write_bytes(b"changed through the link")
    assert hash_tree(tree) == h1, "the hash read a file through a link"
    (tree / "data" / "a.csv").write_bytes(b"1,3\n")
    assert hash_tree(tree) != h1
    big = tmp_path / "big"
    big.mkdir()
    with open(big / "f", "wb") as fh:
        fh.truncate(64 * 2**20)  # sparse: reading it in chunks costs no memory
    assert len(hash_tree(big, FileLimits(max_bytes=2**30))) == 64


def test_hashing_a_300_mb_submission_holds_little_memory(tmp_path):
    """The orchestrator hashes submissions in 1 MiB chunks: a 300 MB file (sparse, so free to make)
    raises the peak memory of a fresh interpreter by far less than its size."""
    sub = tmp_path / "sub"
    sub.mkdir()
    with open(sub / "big.bin", "wb") as fh:
        fh.truncate(300 * 2**20)
    code = ("import resource, sys; from fnngrade.files import FileLimits, hash_tree; "
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "hash_tree(sys.argv[1], FileLimits(max_bytes=2**30)); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)")
    p = subprocess.run([sys.executable, "-c", code, str(sub)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert p.returncode == 0, p.stderr
    grew_kb = int(p.stdout.strip())
    assert grew_kb < 32 * 1024, f"hashing 300 MB raised the peak memory by {grew_kb} kB"


def test_state_names_for_any_id():
    odd = ["L" * 251, os.fsdecode(b"caf\xe9"), "two\nlines", "../etc", ".hidden", "a/b", "x.tmp", "~x", ""]
    names = [state_name(s) for s in odd]
    assert len(set(names)) == len(odd)
    for n in names:
        assert n.startswith("~") and len(n) <= 64 and "/" not in n and n.isprintable()
    assert state_name("alice") == "alice" and state_name("bob.smith-2") == "bob.smith-2"
    assert display_id(os.fsdecode(b"caf\xe9")) == repr(b"caf\xe9")
    assert display_id("two\nlines") == repr("two\nlines")


def test_disk_full_is_recognised():
    import errno

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(text="sqlite3.OperationalError: database or disk is full")
    assert not is_disk_full(RuntimeError("database is locked"))


def test_list_submissions_never_follows_links(tmp_path):
    sub = tmp_path / "grading" / "submitted"
    (sub / "alice" / "a1").mkdir(parents=True)
    (sub / "bob").mkdir()
    os.symlink(sub / "alice" / "a1", sub / "bob" / "a1")
    os.symlink(sub / "alice", sub / "carol")
    (sub / os.fsdecode(b"d\xe9") / "a1").mkdir(parents=True)
    (sub / "erin").mkdir()
    (sub / "erin" / "a1").write_text("not a folder")
    got = {s.student: s.problem for s in list_submissions(tmp_path, "a1")}
    assert got["alice"] is None
    assert got["bob"][0] == "malformed" and "symbolic link" in got["bob"][1]
    assert got["carol"][0] == "malformed" and "symbolic link" in got["carol"][1]
    assert got[os.fsdecode(b"d\xe9")][0] == "crashed" and "UTF-8" in got[os.fsdecode(b"d\xe9")][1]
    assert got["erin"][0] == "malformed"


# -- the result channel -----------------------------------------------------------------------------


def _signed(secret: bytes, payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return sign(secret, body) + b" " + body + b"\n"


def test_channel_accepts_only_signed_objects():
    secret = os.urandom(32)
    r, w = os.pipe()
    reader = ResultReader(r, secret, max_line=4096)
    forged = [
        b'@@FNNGRADE {"student": "x", "state": "graded"}\n',
        b"0" * 64 + b' {"job": 1, "state": "graded"}\n',
        sign(os.urandom(32), b'{"job": 1}') + b' {"job": 1}\n',  # another run's secret
        sign(secret, b"[1, 2]") + b" [1, 2]\n",                   # signed, not an object
        sign(secret, b"{not json") + b" {not json\n",
        b"\n",
    ]
    for line in forged:
        os.write(w, line)
    os.write(w, _signed(secret, {"job": 7, "state": "graded"}))
    msgs = reader.read()
    assert msgs == [{"job": 7, "state": "graded"}]
    assert reader.rejected == len(forged)
    os.close(w)
    assert reader.read() == [] and reader.eof
    os.close(r)


def test_channel_memory_is_bounded_by_a_300_mb_line():
    """300 MB without a newline, then a valid line: the reader never holds more than max_line."""
    secret = os.urandom(32)
    r, w = os.pipe()
    limit = 1 << 20
    reader = ResultReader(r, secret, max_line=limit)

    def flood():
        chunk = b"x" * (1 << 20)
        for _ in range(300):
            os.write(w, chunk)
        os.write(w, b"\n" + _signed(secret, {"job": 1, "ok": True}))
        os.close(w)

    t = threading.Thread(target=flood)
    t.start()
    import select

    got, peak = [], 0
    while not reader.eof:
        select.select([r], [], [], 5)
        got += reader.read()
        peak = max(peak, len(reader.buf))
    t.join()
    os.close(r)
    assert got == [{"job": 1, "ok": True}]
    assert peak <= limit and reader.rejected == 1


def test_a_result_for_another_job_is_ignored():
    from fnngrade.grader import classify

    job = {"job": 3, "token": "j3"}
    assert classify(job, {"ready": True}) == "ready"
    assert classify(job, {"ready": True, "job": 3, "state": "graded"}) == "result"
    assert classify(job, {"job": 3, "state": "graded"}) == "result"
    assert classify(job, {"job": 2, "state": "graded"}) == "ignore"
    assert classify(job, {"job": "3", "state": "graded"}) == "ignore"
    assert classify(job, {"student": "perfect", "state": "graded"}) == "ignore"
    assert classify(None, {"job": 3, "state": "graded"}) == "ignore"
    assert classify(job, {"job": 3, "fatal": "disk full"}) == "fatal"


def test_paths_and_names_in_a_result_are_not_trusted(tmp_path):
    """A result naming another student and a host folder: the orchestrator records it for its
    own student, copies only the worker's own autograded folder, and takes no other key."""
    from fnngrade.grader import Options, Submission, _Run

    root = tmp_path / "course"
    (root / "solutions" / "a1").mkdir(parents=True)
    (root / "grading" / "submitted" / "alice" / "a1").mkdir(parents=True)
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret").write_text("HOST")
    worker = tmp_path / "w0"
    ag = worker / "grading" / "autograded" / "j1" / "a1"
    ag.mkdir(parents=True)
    (ag / "a1.ipynb").write_text("{}")
    os.symlink(host / "secret", ag / "link")
    run = _Run(Options(root=root, assignment="a1"))
    (run.base / "state").mkdir(parents=True)
    sub = Submission("alice", root / "grading" / "submitted" / "alice" / "a1", digest="d")
    msg = {"job": 1, "student": "perfect", "state": "graded", "reason": "", "autograded": str(host),
           "notebooks": {}, "events": [], "hash": "forged", "score": 99, "extra": "x"}
    run.record(None, sub, msg, worker, "j1")
    state = json.loads((run.base / "state" / "alice.json").read_text())
    assert state["student"] == "alice" and state["hash"] == "d" and state["score"] == 0 and "extra" not in state
    assert not (run.base / "state" / "perfect.json").exists()
    dest = root / "grading" / "autograded" / "alice" / "a1"
    assert sorted(p.name for p in dest.iterdir()) == ["a1.ipynb"]
    assert state["autograded"] == str(dest)
    assert not (root / "grading" / "autograded" / "perfect").exists()


def test_a_task_result_is_taken_only_signed_and_well_formed():
    """What a Dask task returns: signed with the run's secret over the result and every file's
    digest; a changed score, file or job, or another secret, is rejected; only expected fields of
    expected types pass validation."""
    from fnngrade.engine import check_signature, sign_result, validate_result
    from fnngrade.grader import STATES

    secret = b"s" * 32
    res = {"state": "graded", "reason": "", "events": [], "notebooks": {"nb": {"grades": {
        "t1": {"auto_score": 2.0, "max_score": 2.0, "needs_manual_grade": False, "cell_type": "code"}},
        "comments": {}}}, "seconds": 1.5, "worker": "wA", "autograded": True}
    payload = sign_result(secret, {"run": "r", "job": 3, "token": "j3", "result": res,
                                   "files": [("nb.ipynb", b"{}")], "notes": []})
    assert check_signature(secret, payload)
    assert not check_signature(b"t" * 32, payload)
    for change in (lambda p: p["result"]["notebooks"]["nb"]["grades"]["t1"].update(auto_score=1.0),
                   lambda p: p.update(files=[("nb.ipynb", b"{ }")]),
                   lambda p: p.update(job=4)):
        forged = json.loads(json.dumps({k: v for k, v in payload.items() if k != "files"}))
        forged["files"] = list(payload["files"])
        change(forged)
        assert not check_signature(secret, forged)
    ok, why = validate_result(dict(res, extra="x", student="someone", autograded_path="/etc"), STATES)
    assert ok is not None and "extra" not in ok and "student" not in ok and "autograded_path" not in ok, why
    for bad in ({**res, "state": "excellent"},
                {**res, "notebooks": {"nb": {"grades": {"t1": {"auto_score": 9.0, "max_score": 2.0}}}}},
                {**res, "notebooks": {"nb": {"grades": {"t1": {"auto_score": "2", "max_score": 2.0}}}}},
                {**res, "notebooks": []}, "graded"):
        assert validate_result(bad, STATES)[0] is None, bad


def test_autograded_files_from_a_task_are_written_only_inside_their_folder(tmp_path):
    from fnngrade.engine import write_files

    (tmp_path / "outside").mkdir()
    for files in ([("../outside/x", b"1")], [("/etc/x", b"1")], [("a//b", b"1")], [("a/./b", b"1")],
                  [("ok", b"1"), ("ok/x", b"2")], [("x", "not bytes")], [("big", b"x" * 200)]):
        dest = tmp_path / "dest"
        shutil.rmtree(dest, ignore_errors=True)
        with pytest.raises(ValueError):
            write_files(files, dest, max_files=10, max_bytes=100)
    assert not list((tmp_path / "outside").iterdir())
    dest = tmp_path / "good"
    write_files([("a.ipynb", b"{}"), ("data/x.csv", b"1,2")], dest, max_files=10, max_bytes=100)
    assert (dest / "a.ipynb").read_bytes() == b"{}" and (dest / "data" / "x.csv").read_bytes() == b"1,2"
    with pytest.raises(ValueError):
        write_files([(str(i), b"") for i in range(11)], tmp_path / "many", max_files=10, max_bytes=100)


# -- kernel uids ---------------------------------------------------------------------------------------


def test_uid_leases_are_disjoint_and_released(tmp_path):
    d = str(tmp_path / "leases")
    a = UidLease(64000, 2, dirs=(d,))
    b = UidLease(64000, 2, dirs=(d,))
    assert len(set(a.uids) | set(b.uids)) == 4, (a.uids, b.uids)
    # a lease held by another process (another run) is skipped too
    code = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)")
    other = subprocess.Popen([sys.executable, "-c", code, os.path.join(d, str(max(a.uids + b.uids) + 1))],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        c = UidLease(64000, 1, dirs=(d,))
        assert c.uids[0] > max(a.uids + b.uids) + 1
        c.release()
    finally:
        other.kill()
        other.wait()
    a.release()
    c = UidLease(64000, 2, dirs=(d,))
    assert sorted(c.uids) == sorted(a.uids)
    b.release()
    c.release()


@ROOT_ONLY
def test_a_uid_with_a_running_process_is_skipped(tmp_path):
    d = str(tmp_path / "leases")
    first = UidLease(64000, 1, dirs=(d,)).uids[0]  # released at once (garbage)
    p = subprocess.Popen(["sleep", "30"], user=first, group=first)
    try:
        time.sleep(0.2)
        lease = UidLease(64000, 1, dirs=(d,))
        assert lease.uids[0] != first
        lease.release()
    finally:
        p.kill()
        p.wait()


# -- scratch of killed runs ----------------------------------------------------------------------------


def test_stale_scratch_is_removed_and_live_scratch_kept(tmp_path):
    import tempfile

    from fnngrade.grader import _host

    base = tmp_path / "base"
    base.mkdir()
    h = _host()
    live = base / f"workers@{h}-live"
    dead = base / f"workers@{h}-dead"
    old = base / "workers-old-version"          # an earlier fnngrade's, without a host
    young = base / f"workers@{h}-young"        # just made, its lock not taken yet
    other = base / "workers@another-host-x"     # a course root shared with another host
    for d in (live, dead, old, young, other):
        (d / "w0").mkdir(parents=True)
    (other / ".lock").write_text("")
    fd = os.open(live / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    (dead / ".lock").write_text("")
    sockets = tempfile.mkdtemp(prefix="fnngrade-")
    (dead / ".sockets").write_text(sockets)
    past = time.time() - 2 * 3600
    for d in (old, other):
        os.utime(d, (past, past))
    try:
        removed = clean_stale_scratch(base)
    finally:
        os.close(fd)
    assert sorted(Path(p).name for p in removed) == sorted([dead.name, old.name])
    assert live.exists() and young.exists() and other.exists() and not dead.exists() and not old.exists()
    assert not os.path.exists(sockets)


# -- the launcher's hand-over of the socket folder -----------------------------------------------------


@ROOT_ONLY
def test_launcher_hands_over_only_a_fresh_socket_folder_through_descriptors(tmp_path):
    """``fnngrade.launch`` chowns the kernel's socket folder and connection file through
    descriptors opened with O_NOFOLLOW, and refuses a folder that is a link, not private, not
    directly in the socket base, or a connection file that is a link."""
    from fnngrade import launch

    base = tmp_path / "base"
    base.mkdir(mode=0o700)
    host = tmp_path / "host"
    host.write_text("HOST")
    os.chmod(host, 0o600)

    def make(name, mode=0o700):
        d = base / name
        d.mkdir(mode=mode)
        os.chmod(d, mode)
        (d / "kernel.json").write_text("{}")
        return d

    ok = make("k1")
    assert launch._hand_over(str(ok / "kernel.json"), str(base), 64123) == str(ok)
    assert ok.stat().st_uid == 64123 and (ok / "kernel.json").stat().st_uid == 64123
    link_conn = make("k2")
    (link_conn / "kernel.json").unlink()
    os.symlink(host, link_conn / "kernel.json")
    os.symlink(make("k3"), base / "k4")
    open_dir = make("k5", 0o755)
    nested = make("k6") / "inner"
    nested.mkdir()
    (nested / "kernel.json").write_text("{}")
    for conn in (link_conn / "kernel.json", base / "k4" / "kernel.json", open_dir / "kernel.json",
                 nested / "kernel.json", tmp_path / "kernel.json"):
        with pytest.raises(SystemExit):
            launch._hand_over(str(conn), str(base), 64123)
    assert host.stat().st_uid == 0 and host.stat().st_mode & 0o777 == 0o600
    assert (base / "k3").stat().st_uid == 0 and open_dir.stat().st_uid == 0


@pytest.mark.parametrize("meta, want", [
    ({"fnn_course": {"language": "zh"}}, "zh"),
    ({"fnn_course": {"language": "en"}}, "en"),
    ({}, "en"),
    ({"fnn_course": {"language": "fr"}}, "en"),
    ({"fnn_course": {"language": ["zh"]}}, "en"),
    ({"fnn_course": "zh"}, "en"),
    ({"fnn_course": {"language": "zh; import os"}}, "en"),
])
def test_a_submission_names_its_messages_language_only_from_a_known_list(meta, want):
    """The student controls the notebook's metadata: anything but a known language is English, and a
    language only ever changes the words of that student's own messages."""
    from fnngrade.preprocessors import submission_language

    assert submission_language({"metadata": meta}) == want
