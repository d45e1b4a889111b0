"""The stat of a directory as a walk lists it: what ``treeindex`` keeps to tell that no entry was added or removed.

Standard library only: both walks (``discovery`` of sources, ``specs.loader`` of module.yaml files)
record into the same mapping. Must not import anything of plumego_lint.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping

try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL (about 3 ms of every short run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds it in
    from hashlib import blake2b

RACY_NS = 2_000_000_000     # as snapshot.RACY_NS: a directory changed this recently is also checked by its names

# path -> (ctime_ns, inode, digest of the names listed, "!"-prefixed when recent) of a listed directory;
# (-1, -1, "") when it could not be stat-ed
Listed = dict[str, tuple[int, int, str]]
# path -> the entries one ``os.scandir`` of it gave, shared by the walks of one process over the same tree
Listings = dict[str, list[os.DirEntry[str]]]


def names_digest(names: Iterable[str]) -> str:
    return blake2b("\0".join(sorted(names)).encode(), digest_size=16).hexdigest()


def record_dir(dirs: Listed, path: str) -> None:
    """Record ``path``'s stat; call it before listing the directory, so a change during the walk is seen."""
    if path in dirs:
        return
    try:
        st = os.stat(path)
    except OSError:
        dirs[path] = (-1, -1, "")
        return
    dirs[path] = (st.st_ctime_ns, st.st_ino, "")


def record_names(dirs: Listed, path: str, names: Iterable[str]) -> None:
    """After listing ``path``: keep a digest of the names this very listing saw, marked ``!`` when the
    directory's ctime is recent (a later same-tick change would keep the ctime: always compare names)."""
    recorded = dirs.get(path)
    if recorded is not None and not recorded[2] and recorded[0] != -1:
        mark = "!" if recorded[0] >= time.time_ns() - RACY_NS else ""
        dirs[path] = (recorded[0], recorded[1], mark + names_digest(names))


def unchanged(dirs: Mapping[str, tuple[int, int, str]]) -> bool:
    """Every recorded directory still lists the same names: same (ctime, inode), or, when those moved (an
    editor's save-by-rename) or were recent when recorded, the same names digest. Directories that could
    not be stat-ed then must still fail to stat."""
    stat = os.stat
    for path, (ctime, ino, names) in dirs.items():
        try:
            st = stat(path)
        except OSError:
            if ctime == -1:
                continue
            return False
        if st.st_ctime_ns == ctime and st.st_ino == ino and not names.startswith("!"):
            continue
        if not names:
            return False
        try:
            if names_digest(os.listdir(path)) != names.lstrip("!"):
                return False
        except OSError:
            return False
    return True
