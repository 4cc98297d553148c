"""Submissions are untrusted bytes: copies that follow no link, bounded; streaming hashes; safe names.

Everything here works on directory file descriptors (``openat``-style: ``dir_fd=``, ``O_NOFOLLOW``),
so a name that is, or becomes, a symbolic link is never followed, whatever it points to:

- :func:`copy_tree` copies the regular files and folders of an untrusted tree into a new folder
  and drops everything else (symbolic links, hard links, FIFOs, sockets, devices), with the
  reason, within a bound on the number of entries, the bytes and the depth;
- :func:`hash_tree` hashes what :func:`copy_tree` would copy, reading files in chunks;
- :func:`state_name` turns a student id (any bytes a folder name can hold: 251 characters,
  not UTF-8, a newline) into a short file name that cannot collide and is always valid.

A regular file with more than one hard link is dropped: a hard link is how a file from elsewhere
(``/etc/shadow``, the gradebook, a classmate's notebook) can sit in a folder without a symlink.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field

__all__ = ["FileLimits", "CopyReport", "copy_tree", "hash_tree", "state_name", "display_id", "NotAFolder",
           "is_disk_full"]

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20


class NotAFolder(OSError):
    """The top of an untrusted tree is not a real folder (a symbolic link, a file, missing)."""


@dataclass(frozen=True)
class FileLimits:
    """Bounds on an untrusted tree (copied or hashed)."""

    max_files: int = 1000               # entries (files and folders) copied
    max_bytes: int = 100 * 2**20        # bytes of regular files copied
    max_depth: int = 16                 # folders below the top
    max_listed: int = 20_000            # names read from one folder before giving up on the rest


@dataclass
class CopyReport:
    files: int = 0
    folders: int = 0
    bytes: int = 0
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (relative path, why), first 50
    n_dropped: int = 0

    def drop(self, rel: str, why: str) -> None:
        self.n_dropped += 1
        if len(self.dropped) < 50:
            self.dropped.append((rel, why))

    def summary(self) -> str:
        """One line for a state's reason, grouped by why; empty when nothing was dropped."""
        if not self.n_dropped:
            return ""
        groups: dict[str, list[str]] = {}
        for rel, why in self.dropped:
            groups.setdefault(why, []).append(rel)
        parts = []
        for why, rels in list(groups.items())[:8]:
            names = ", ".join(repr(r) for r in rels[:4]) + (f" and {len(rels) - 4} more" if len(rels) > 4 else "")
            parts.append(f"{why}: {names}")
        listed = len(self.dropped)
        more = f"; and {self.n_dropped - listed} more" if self.n_dropped > listed else ""
        return f"{self.n_dropped} item(s) of the submission were not used: {'; '.join(parts)}{more}"


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link (never followed)"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return f"not a regular file (mode {oct(mode)})"


def _names(fd: int, limit: int) -> tuple[list[str], bool]:
    """The sorted names in the folder ``fd`` (at most ``limit``; True if some were left out)."""
    out: list[str] = []
    cut = False
    with os.scandir(fd) as it:
        for e in it:
            if len(out) >= limit:
                cut = True
                break
            out.append(e.name)
    return sorted(out, key=os.fsencode), cut


def _open_top(path) -> int:
    try:
        return os.open(path, _DIR_FLAGS)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
            raise NotAFolder(e.errno, f"{os.fsdecode(path)!r} is not a folder (a symbolic link, a file or missing)") from None
        raise


class _Walk:
    """One bounded, link-free walk over an untrusted tree; ``visit_file`` gets an open fd."""

    def __init__(self, limits: FileLimits, report: CopyReport):
        self.lim, self.rep = limits, report
        self.entries = 0

    def over(self) -> bool:
        return self.entries >= self.lim.max_files

    def run(self, sfd: int, rel: str, depth: int, first: tuple[str, ...] = ()) -> None:
        names, cut = _names(sfd, self.lim.max_listed)
        if cut:
            self.rep.drop(rel or ".", f"holds more than {self.lim.max_listed} entries; the rest were not read")
        if first:  # looked up by name, so that a cut listing cannot hide them
            wanted = []
            for n in first:
                try:
                    os.stat(n, dir_fd=sfd, follow_symlinks=False)
                except OSError:
                    continue
                wanted.append(n)
            names = wanted + [n for n in names if n not in set(first)]
        for name in names:
            r = f"{rel}/{name}" if rel else name
            try:
                st = os.stat(name, dir_fd=sfd, follow_symlinks=False)
            except OSError as e:
                self.rep.drop(r, f"cannot be read ({e.strerror})")
                continue
            if self.over():
                self.rep.drop(r, f"over the limit of {self.lim.max_files} files and folders")
                continue
            if stat.S_ISDIR(st.st_mode):
                if depth >= self.lim.max_depth:
                    self.rep.drop(r, f"folder deeper than {self.lim.max_depth} levels")
                    continue
                try:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=sfd)
                except OSError as e:
                    self.rep.drop(r, f"cannot be opened ({e.strerror})")
                    continue
                try:
                    if not self._same(sub, st):
                        self.rep.drop(r, "changed while it was read")
                        continue
                    self.entries += 1
                    self.rep.folders += 1
                    self.enter_dir(name, r)
                    self.run(sub, r, depth + 1)
                    self.leave_dir()
                finally:
                    os.close(sub)
            elif stat.S_ISREG(st.st_mode):
                if st.st_nlink > 1:
                    self.rep.drop(r, f"a hard link ({st.st_nlink} names for one file; it may be a file from "
                                     "outside the submission)")
                    self.visit_other(r, st.st_mode)
                    continue
                if self.rep.bytes + st.st_size > self.lim.max_bytes:
                    self.rep.drop(r, f"over the limit of {self.lim.max_bytes:,} bytes for the whole submission")
                    continue
                try:
                    # O_NONBLOCK: if the name became a FIFO since the stat, opening it does not wait
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=sfd)
                except OSError as e:
                    self.rep.drop(r, f"cannot be opened ({e.strerror})")
                    continue
                try:
                    if not self._same(fd, st):
                        self.rep.drop(r, "changed while it was read")
                        continue
                    self.entries += 1
                    self.rep.files += 1
                    self.rep.bytes += self.visit_file(name, r, fd, st.st_size)
                finally:
                    os.close(fd)
            else:
                self.rep.drop(r, _kind(st.st_mode))
                self.visit_other(r, st.st_mode)

    @staticmethod
    def _same(fd: int, st: os.stat_result) -> bool:
        now = os.fstat(fd)
        return (now.st_ino, now.st_dev, stat.S_IFMT(now.st_mode)) == (st.st_ino, st.st_dev, stat.S_IFMT(st.st_mode)) \
            and now.st_nlink == st.st_nlink

    # hooks
    def enter_dir(self, name: str, rel: str) -> None: ...
    def leave_dir(self) -> None: ...
    def visit_file(self, name: str, rel: str, fd: int, size: int) -> int: ...
    def visit_other(self, rel: str, mode: int) -> None: ...


class _Copy(_Walk):
    def __init__(self, limits, report, dfd: int):
        super().__init__(limits, report)
        self.dst = [dfd]

    def enter_dir(self, name, rel):
        os.mkdir(name, 0o755, dir_fd=self.dst[-1])
        self.dst.append(os.open(name, _DIR_FLAGS, dir_fd=self.dst[-1]))

    def leave_dir(self):
        os.close(self.dst.pop())

    def visit_file(self, name, rel, fd, size):
        room = min(size, self.lim.max_bytes - self.rep.bytes)  # a file that grows is cut at its stat size
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                      dir_fd=self.dst[-1])
        done = 0
        try:
            while done < room:
                try:
                    n = os.sendfile(out, fd, done, min(room - done, 64 * CHUNK))
                except OSError as e:
                    if e.errno not in (errno.EINVAL, errno.ENOSYS):
                        raise
                    data = os.pread(fd, min(room - done, CHUNK), done)
                    n = os.write(out, data) if data else 0
                if n == 0:
                    break
                done += n
        finally:
            os.close(out)
        return done


class _Hash(_Walk):
    def __init__(self, limits, report):
        super().__init__(limits, report)
        self.h = hashlib.sha256()

    def enter_dir(self, name, rel):
        self.h.update(b"D" + os.fsencode(rel) + b"\0")

    def visit_file(self, name, rel, fd, size):
        self.h.update(b"F" + os.fsencode(rel) + b"\0" + str(size).encode() + b"\0")
        done = 0
        while done < size:
            data = os.pread(fd, min(CHUNK, size - done), done)
            if not data:
                break
            self.h.update(data)
            done += len(data)
        return done

    def visit_other(self, rel, mode):
        self.h.update(b"O" + os.fsencode(rel) + b"\0" + str(stat.S_IFMT(mode)).encode() + b"\0")


def copy_tree(src, dst, limits: FileLimits = FileLimits(), *, first: tuple[str, ...] = ()) -> CopyReport:
    """Copy the untrusted folder ``src`` into the new folder ``dst`` (which must not exist).

    Only regular files (with one link) and folders are copied, by their bytes, into files and
    folders created here (mode 0644 / 0755); every other entry is dropped and listed in the
    report. ``first`` names top-level entries to copy before the others (the notebooks), so that
    the limits never drop them in favour of clutter. Raises :class:`NotAFolder` if ``src`` is not
    a real folder."""
    rep = CopyReport()
    sfd = _open_top(src)
    try:
        os.mkdir(dst, 0o755)
        dfd = os.open(dst, _DIR_FLAGS)
        try:
            _Copy(limits, rep, dfd).run(sfd, "", 0, first)
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)
    return rep


def hash_tree(src, limits: FileLimits = FileLimits(), *, first: tuple[str, ...] = ()) -> str:
    """SHA-256 of what :func:`copy_tree` would copy from ``src`` (names, sizes, bytes, and the
    names and kinds of dropped entries), streamed in 1 MiB chunks."""
    rep = CopyReport()
    sfd = _open_top(src)
    try:
        w = _Hash(limits, rep)
        w.run(sfd, "", 0, first)
        return w.h.hexdigest()
    finally:
        os.close(sfd)


def state_name(student: str) -> str:
    """A file name for the student's state: the id itself when it is a plain short name, else
    ``~`` and a hash of its bytes (``~`` never starts a plain name, so the two never collide)."""
    if _SAFE.fullmatch(student) and not student.endswith(".tmp"):
        return student
    return "~" + hashlib.sha256(os.fsencode(student)).hexdigest()[:40]


def display_id(student: str) -> str:
    """The id as it can be printed: itself if printable UTF-8, else its bytes' repr."""
    try:
        student.encode("utf-8")
    except UnicodeEncodeError:
        return repr(os.fsencode(student))
    return student if student.isprintable() else repr(student)


def is_disk_full(exc: BaseException | None = None, text: str = "") -> bool:
    """True if an exception or an error text says that a disk is full."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(exc) or "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return "No space left on device" in text or "database or disk is full" in text or "[Errno 28]" in text
