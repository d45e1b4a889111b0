"""Caches in ``.plumego-lint-cache/`` at the project root: per-file facts, and the findings of the last run.

``FactsCache``: one ``marshal`` file per (tool version, parser version, config fingerprint):
``entries`` maps a blake2b content hash to the file's facts, ``extras`` maps it to the facts rule families
built from its tree (``TreeExtractor``) by "name|key", ``stat`` maps a path to (size, ctime_ns,
inode, hash) so a warm run can skip re-hashing unchanged files (a stat mismatch, e.g. after a CI cache
restore, only costs a re-hash: facts stay keyed on content, never on times; files changed within
``RACY_NS`` of the run that recorded them are always re-hashed). ``RunCache``: the findings of the last
run and a ``Snapshot`` of its inputs, so "nothing changed" costs one stat per file. ``FindingsMemo``:
per-file findings of the file-local families, so a run after a change re-checks only the files whose
content or module identity changed (unless the module index or the specs changed). Writes go to a
temp file and are renamed into place, so concurrent runs never see a torn file (last writer wins; both
are valid); an unreadable or corrupt cache file is ignored and rewritten.
Must not import rules, reporters or the CLI (nor, at import time, facts: the warm path avoids ``ast``).
"""

from __future__ import annotations

import marshal
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plumego_lint import __version__
from plumego_lint.snapshot import RACY_NS as RACY_NS
from plumego_lint.snapshot import Snapshot as Snapshot
from plumego_lint.snapshot import code_fingerprint as code_fingerprint

try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL (about 3 ms of every short run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds it in
    from hashlib import blake2b

FORMAT = 4
StatKey = tuple[int, int, int]


def cache_key(config_fingerprint: str) -> str:
    from plumego_lint.facts import PARSER_VERSION

    payload = f"{FORMAT}|{__version__}|{PARSER_VERSION}|{sys.version_info[:2]}|{config_fingerprint}"
    return blake2b(payload.encode(), digest_size=8).hexdigest()


class FactsCache:
    """Load once, look up by stat or by content hash, save atomically."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.file = directory / f"facts-{key}.marshal"
        self.entries: dict[str, tuple[object, ...]] = {}
        self.extras: dict[str, dict[str, tuple[object, ...]]] = {}
        self.stat: dict[str, tuple[int, int, int, str]] = {}
        self.used_extras: set[tuple[str, str]] | None = None   # (hash, "name|key") this run read or wrote
        self.dirty = False
        self.started = time.time_ns()       # recorded as "written": later runs distrust stats newer than it
        self.horizon = 0                    # stats at or after this (ns) are racy: re-hash

    def load(self) -> None:
        try:
            data = self.file.read_bytes()
            loaded = marshal.loads(data)
        except (OSError, EOFError, ValueError, TypeError):
            return
        if isinstance(loaded, dict) and loaded.get("format") == FORMAT:
            entries, stat, written = loaded.get("entries"), loaded.get("stat"), loaded.get("written")
            extras = loaded.get("extras")
            if (isinstance(entries, dict) and isinstance(stat, dict) and isinstance(written, int)
                    and isinstance(extras, dict)):
                self.entries, self.stat, self.extras = entries, stat, extras
                self.horizon = written - RACY_NS

    def hash_for_stat(self, rel: str, st: os.stat_result) -> str | None:
        known = self.stat.get(rel)
        # ctime, not mtime: `cp -p`/`touch -d` can put an old mtime on new bytes, nothing can set ctime back
        if (known is not None and known[0] == st.st_size and known[1] == st.st_ctime_ns and known[2] == st.st_ino
                and st.st_ctime_ns < self.horizon):
            return known[3]
        return None

    def remember(self, rel: str, st: os.stat_result | None, digest: str, facts: tuple[object, ...] | None) -> None:
        if st is not None:
            value = (st.st_size, st.st_ctime_ns, st.st_ino, digest)
            if self.stat.get(rel) != value:
                self.stat[rel] = value
                self.dirty = True
        if facts is not None and digest not in self.entries:
            self.entries[digest] = facts
            self.dirty = True

    def extra(self, digest: str, name: str) -> tuple[object, ...] | None:
        """What a ``TreeExtractor`` built from the file with this hash, under ``name`` ("extractor|key")."""
        found = self.extras.get(digest)
        value = found.get(name) if isinstance(found, dict) else None
        if not isinstance(value, tuple):
            return None
        if self.used_extras is not None:
            self.used_extras.add((digest, name))
        return value

    def remember_extra(self, digest: str, name: str, value: tuple[object, ...]) -> None:
        found = self.extras.get(digest)
        if not isinstance(found, dict):
            found = self.extras[digest] = {}
        if found.get(name) != value:
            found[name] = value
            self.dirty = True
        if self.used_extras is not None:
            self.used_extras.add((digest, name))

    def forget(self, digest: str) -> None:
        """Drop an entry that could not be decoded (a damaged cache file): it is re-parsed and rewritten."""
        if self.entries.pop(digest, None) is not None:
            self.dirty = True

    def save(self, live_paths: set[str]) -> None:
        """Write (atomically) keeping only entries that live files still use.

        When ``used_extras`` was set (every live file's extras were read or written this run), extras
        nobody used are dropped too: a renamed module leaves its old "name|key" behind otherwise."""
        stale_paths = [p for p in self.stat if p not in live_paths]
        for p in stale_paths:
            del self.stat[p]
        live_hashes = {v[3] for v in self.stat.values()}
        if len(live_hashes) < len(self.entries):
            self.entries = {h: f for h, f in self.entries.items() if h in live_hashes}
            self.dirty = True
        used = self.used_extras
        kept = {h: ({n: v for n, v in found.items() if (h, n) in used} if used is not None else found)
                for h, found in self.extras.items() if h in live_hashes and isinstance(found, dict)}
        kept = {h: found for h, found in kept.items() if found}
        if kept != self.extras:     # values compare by identity first: cheap when nothing was dropped
            self.extras = kept
            self.dirty = True
        if not (self.dirty or stale_paths):
            return
        _atomic_write(self.directory, self.file, {"format": FORMAT, "entries": self.entries, "extras": self.extras,
                                                  "stat": self.stat, "written": self.started})


# ------------------------------------------------------------------------------------------ run cache

RUN_FORMAT = 4
MEMO_FORMAT = 1


def run_key(config_fingerprint: str, root: Path, select: Sequence[str], ignore: Sequence[str]) -> str:
    # sys.prefix and sys.path: another environment may install another plumego (the service family's tiers)
    payload = (f"{RUN_FORMAT}|{__version__}|{sys.version_info[:2]}|{sys.prefix}|{sys.path[1:]}|"
               f"{config_fingerprint}|{root}|{sorted(select)}|{sorted(ignore)}|{code_fingerprint()}")
    return blake2b(payload.encode(), digest_size=8).hexdigest()


class RunCache:
    """The findings of the last complete run plus the snapshot of its inputs, in ``run-<key>.marshal``.

    ``key`` covers the tool (and its own source), Python, the config and the CLI code filters; the
    snapshot covers the project tree. A hit means nothing that any rule reads has changed, so the
    findings are returned without loading specs, facts or rules. The record also keeps the run's
    ``state`` (each file's hash, module and findings, whole-project findings and summaries: see
    ``incremental``), from which a run after a small change re-checks only what that change can affect.
    Written like FactsCache (temp file + rename: concurrent runs never see a torn file); an unreadable or
    malformed file is a miss.
    """

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.file = directory / f"run-{key}.marshal"
        # the state lives in its own file: a hit (and the CLI replay) reads the snapshot and findings only
        self.state_file = directory / f"state-{key}.marshal"

    def read_state(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The state stored with ``record`` (same token: written by the same run), else None."""
        try:
            loaded = marshal.loads(self.state_file.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if (not isinstance(loaded, dict) or loaded.get("format") != RUN_FORMAT or not record.get("token")
                or loaded.get("token") != record.get("token") or not isinstance(loaded.get("state"), dict)):
            return None
        state: dict[str, Any] = loaded["state"]
        return state

    def read(self) -> dict[str, Any] | None:
        """The stored record (``dirs``, ``files``, ``findings``, ``suppressed``, ``files_checked``, ``token``)."""
        try:
            loaded = marshal.loads(self.file.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return self.validate(loaded)

    @staticmethod
    def validate(loaded: object) -> dict[str, Any] | None:
        """``loaded`` when it has the shape of a record (``read``'s checks), else None."""
        if not isinstance(loaded, dict) or loaded.get("format") != RUN_FORMAT:
            return None
        if not (isinstance(loaded.get("dirs"), dict) and isinstance(loaded.get("files"), dict)
                and isinstance(loaded.get("findings"), list) and isinstance(loaded.get("suppressed"), int)
                and isinstance(loaded.get("files_checked"), int)):
            return None
        return loaded

    def lookup(self) -> tuple[list[tuple[object, ...]], int, int] | None:
        """(plain findings, suppressed count, file count) when the recorded inputs are unchanged."""
        loaded = self.read()
        if loaded is None:
            return None
        try:
            if not Snapshot(loaded["dirs"], loaded["files"]).unchanged():
                return None
        except (TypeError, ValueError):
            return None
        return loaded["findings"], loaded["suppressed"], loaded["files_checked"]

    def store(self, snapshot: Snapshot, findings: list[tuple[object, ...]], suppressed: int,
              files_checked: int, state: dict[str, object] | None = None) -> None:
        token = f"{time.time_ns()}-{os.getpid()}"
        if state is not None:       # first: a reader that sees the new record finds its state, or none
            _atomic_write(self.directory, self.state_file, {"format": RUN_FORMAT, "token": token, "state": state})
        data = {"format": RUN_FORMAT, "dirs": snapshot.dirs, "files": snapshot.files, "findings": findings,
                "suppressed": suppressed, "files_checked": files_checked, "token": token if state is not None else ""}
        _atomic_write(self.directory, self.file, data)

    def stamp(self) -> tuple[int, int, int] | None:
        """(size, mtime_ns, inode) of the cache file: which version of it a caller saw."""
        try:
            st = os.stat(self.file)
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ino)

    def discard(self) -> None:
        try:
            self.file.unlink()
        except OSError:
            return


# ------------------------------------------------------------------------------------------ findings memo

def memo_key(config_fingerprint: str, select: Sequence[str], ignore: Sequence[str]) -> str:
    """The run key without the root and the environment: file-local findings depend on neither, so a CI
    checkout at another path with a restored cache directory still reuses them."""
    payload = (f"memo|{MEMO_FORMAT}|{__version__}|{sys.version_info[:2]}|{config_fingerprint}|{sorted(select)}|"
               f"{sorted(ignore)}|{code_fingerprint()}")
    return blake2b(payload.encode(), digest_size=8).hexdigest()


FileSignature = tuple[str, str, bool, bool]    # (content hash, module, is_package, is_test)


class FindingsMemo:
    """Per-file findings of the file-local rule families from the last run, in ``memo-<run key>.marshal``.

    When the run cache misses (something changed), files whose signature (content hash, module name,
    package and test flags) is unchanged reuse these findings instead of resolving and checking their
    imports again, provided ``scope`` (a digest of the module index and the specs) is unchanged too;
    any other change of scope drops the memo. The run key already covers tool, Python, config and
    code filters. A separate file from the run cache, so the warm hit path never loads it.
    """

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.file = directory / f"memo-{key}.marshal"

    def load(self, scope: str) -> dict[str, tuple[FileSignature, list[tuple[object, ...]]]]:
        try:
            loaded = marshal.loads(self.file.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if not (isinstance(loaded, dict) and loaded.get("format") == MEMO_FORMAT and loaded.get("scope") == scope):
            return {}
        files = loaded.get("files")
        if not isinstance(files, dict):
            return {}
        out: dict[str, tuple[FileSignature, list[tuple[object, ...]]]] = {}
        for rel, entry in files.items():
            if (isinstance(rel, str) and isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], tuple)
                    and len(entry[0]) == 4 and isinstance(entry[1], list)
                    and all(isinstance(f, tuple) for f in entry[1])):
                out[rel] = (entry[0], entry[1])
        return out

    def store(self, scope: str, files: dict[str, tuple[FileSignature, list[tuple[object, ...]]]]) -> None:
        _atomic_write(self.directory, self.file, {"format": MEMO_FORMAT, "scope": scope, "files": files})


def ensure_cache_dir(directory: Path) -> bool:
    """Create the cache directory (with a ``*`` .gitignore); False on a read-only tree."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        gitignore = directory / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n", encoding="utf-8")
    except OSError:
        return False
    return True


def _atomic_write(directory: Path, target: Path, data: dict[str, Any]) -> None:
    if not ensure_cache_dir(directory):
        return
    import tempfile     # lazily: a warm run that writes nothing does not pay for it

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                marshal.dump(data, handle)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return   # a read-only checkout still lints; it just stays cold
