"""``Snapshot``: the stat of every directory and file a run read, to tell "nothing changed" in one stat each.

Used by the run cache (``cache.RunCache``) and the CLI replay (``replay``). Standard library only, and
not even ``pathlib``: the replay path imports this module and nothing else of the linter.
"""

from __future__ import annotations

import itertools
import os
import stat as stat_module
import time
from collections.abc import Iterable

try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL (about 3 ms of every short run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds it in
    from hashlib import blake2b

RACY_NS = 2_000_000_000     # entries changed this close to the snapshot are re-verified by content, as git does
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_MISSING = (-1, -1, -1, "")


def code_fingerprint() -> str:
    """Size and mtime of every module of plumego_lint itself: editing the linter invalidates cached findings."""
    parts: list[str] = []
    for dirpath, dirnames, filenames in os.walk(_PACKAGE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".py", ".yaml")):
                st = os.stat(os.path.join(dirpath, name))
                parts.append(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


def _names_digest(path: str) -> str:
    return blake2b("\0".join(sorted(os.listdir(path))).encode(), digest_size=16).hexdigest()


def _file_digest(path: str) -> str:
    with open(path, "rb") as handle:
        return blake2b(handle.read(), digest_size=16).hexdigest()


class Snapshot:
    """Stat of every directory and file under some roots: the inputs of a run, as git's index sees a worktree.

    A directory's (ctime_ns, inode) changes when an entry is added, removed or renamed; a file's
    (size, ctime_ns, inode) when it is written. The status-change time, not the modification time: it
    also moves on chmod (a file or directory becoming unreadable or readable) and cannot be set back by
    ``touch``/``os.utime`` or an archive extractor. Entries changed within ``RACY_NS`` of the snapshot
    could change again without a visible stat change, so they also carry a content digest (files) or
    a digest of their entry names (directories) that ``unchanged`` re-checks. Dot directories and
    ``__pycache__`` are not inputs of any rule and are skipped (families list others in ``input_paths``).
    """

    def __init__(self, dirs: dict[str, tuple[int, int, str]], files: dict[str, tuple[int, int, int, str]]) -> None:
        self.dirs = dirs
        self.files = files

    @classmethod
    def take(cls, roots: Iterable[str], skip: Iterable[str] = ()) -> Snapshot:
        skipped = set(skip)
        dirs: dict[str, tuple[int, int, str]] = {}
        files: dict[str, tuple[int, int, int, str]] = {}
        stack = [r for r in roots]
        while stack:
            current = stack.pop()
            if current in dirs or current in files:
                continue
            try:
                st = os.stat(current)
            except OSError:
                files[current] = _MISSING
                continue
            if not stat_module.S_ISDIR(st.st_mode):
                files[current] = (st.st_size, st.st_ctime_ns, st.st_ino, "")
                continue
            dirs[current] = (st.st_ctime_ns, st.st_ino, "")    # unreadable too: chmod moves its ctime
            try:
                with os.scandir(current) as it:
                    entries = list(it)
            except OSError:
                continue
            for entry in entries:
                path = entry.path
                if path in skipped:
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not (entry.name.startswith(".") or entry.name == "__pycache__"):
                            stack.append(path)
                        continue
                    est = entry.stat()
                except OSError:
                    files[path] = _MISSING
                    continue
                files[path] = (est.st_size, est.st_ctime_ns, est.st_ino, "")
        return cls(dirs, files)

    def settle(self) -> None:
        """Give every entry changed within RACY_NS of now a digest, so a later same-tick change is still seen."""
        horizon = time.time_ns() - RACY_NS
        for path, (ctime, ino, _) in list(self.dirs.items()):
            if ctime >= horizon:
                try:
                    self.dirs[path] = (ctime, ino, _names_digest(path))
                except OSError:
                    self.dirs[path] = (-1, -1, "")
        for path, (size, ctime, ino, _) in list(self.files.items()):
            if ctime >= horizon:
                try:
                    self.files[path] = (size, ctime, ino, _file_digest(path))
                except OSError:
                    self.files[path] = _MISSING

    def settle_dirs(self) -> None:
        """``settle`` for directories only (files whose content was read are given their digest by the reader)."""
        horizon = time.time_ns() - RACY_NS
        for path, (ctime, ino, names) in list(self.dirs.items()):
            if ctime >= horizon and not names:
                try:
                    self.dirs[path] = (ctime, ino, _names_digest(path))
                except OSError:
                    self.dirs[path] = (-1, -1, "")

    def unchanged(self) -> bool:
        """True when every recorded directory and file still has the recorded stat (and digest, when racy)."""
        return self.first_change() is None

    def first_change(self) -> tuple[int, int] | None:
        """None when ``unchanged``; else how many directories and files, in recorded order, were found unchanged
        before the first difference (``changes(verified=...)`` need not look at them again)."""
        stat = os.stat
        d = f = 0
        try:
            for path, (ctime, ino, names) in self.dirs.items():
                st = stat(path)
                if st.st_ctime_ns != ctime or st.st_ino != ino or (names and _names_digest(path) != names):
                    return d, 0
                d += 1
            for path, (size, ctime, ino, digest) in self.files.items():
                try:
                    st = stat(path)
                except FileNotFoundError:
                    if size == -1:
                        f += 1
                        continue
                    return d, f
                if st.st_size != size or st.st_ctime_ns != ctime or st.st_ino != ino:
                    return d, f
                if digest and _file_digest(path) != digest:
                    return d, f
                f += 1
        except OSError:
            return d, f
        return None

    def changes(self, verified: tuple[int, int] = (0, 0),
                ) -> tuple[dict[str, tuple[int, int, str]], dict[str, tuple[int, int, int, str]]]:
        """What ``unchanged`` would find different, entry by entry: (directories, files), each with its stat now.

        Same tests as ``unchanged``; an entry that cannot be stat-ed now is given the ``_MISSING`` stat
        (files) or ``(-1, -1, "")`` (directories). Used to re-check only what changed. ``verified``: the
        first so many directories and files were just found unchanged (``first_change``): not stat-ed again."""
        dirs: dict[str, tuple[int, int, str]] = {}
        files: dict[str, tuple[int, int, int, str]] = {}
        stat = os.stat
        skip_dirs, skip_files = verified
        dir_items: Iterable[tuple[str, tuple[int, int, str]]] = self.dirs.items()
        file_items: Iterable[tuple[str, tuple[int, int, int, str]]] = self.files.items()
        if skip_dirs:
            dir_items = itertools.islice(dir_items, skip_dirs, None)
        if skip_files:
            file_items = itertools.islice(file_items, skip_files, None)
        for path, (ctime, ino, names) in dir_items:
            try:
                st = stat(path)
                if st.st_ctime_ns != ctime or st.st_ino != ino or (names and _names_digest(path) != names):
                    dirs[path] = (st.st_ctime_ns, st.st_ino, "")
            except OSError:
                dirs[path] = (-1, -1, "")
        for path, (size, ctime, ino, digest) in file_items:
            try:
                st = stat(path)
            except FileNotFoundError:
                if size != -1:
                    files[path] = _MISSING
                continue
            except OSError:
                files[path] = _MISSING
                continue
            now = (st.st_size, st.st_ctime_ns, st.st_ino, "")
            if st.st_size != size or st.st_ctime_ns != ctime or st.st_ino != ino:
                files[path] = now
                continue
            try:
                if digest and _file_digest(path) != digest:
                    files[path] = now
            except OSError:
                files[path] = _MISSING
        return dirs, files

    @staticmethod
    def listing(path: str, skip: Iterable[str] = ()) -> set[str]:
        """The entries of a directory ``take`` records (dot directories and ``__pycache__`` left out)."""
        skipped = set(skip)
        out: set[str] = set()
        with os.scandir(path) as it:
            for entry in it:
                if entry.path in skipped:
                    continue
                if entry.is_dir(follow_symlinks=False) and (entry.name.startswith(".") or entry.name == "__pycache__"):
                    continue
                out.add(entry.path)
        return out
