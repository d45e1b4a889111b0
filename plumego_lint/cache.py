"""Content-hash cache of per-file facts, in ``.plumego-lint-cache/`` at the project root.

One ``marshal`` file per (tool version, parser version, config fingerprint): ``entries`` maps a
blake2b content hash to the file's facts, ``stat`` maps a path to (size, mtime_ns, inode, hash) so a
warm run can skip re-hashing unchanged files (a stat mismatch, e.g. after a CI cache restore, only
costs a re-hash: facts stay keyed on content, never on mtime). Writes go to a temp file and are
renamed into place, so concurrent runs never see a torn file (last writer wins; both are valid).
Must not import rules, reporters or the CLI.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path

from plumego_lint import __version__
from plumego_lint.facts import PARSER_VERSION

FORMAT = 1
StatKey = tuple[int, int, int]


def cache_key(config_fingerprint: str) -> str:
    payload = f"{FORMAT}|{__version__}|{PARSER_VERSION}|{sys.version_info[:2]}|{config_fingerprint}"
    return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


class FactsCache:
    """Load once, look up by stat or by content hash, save atomically."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.file = directory / f"facts-{key}.marshal"
        self.entries: dict[str, tuple[object, ...]] = {}
        self.stat: dict[str, tuple[int, int, int, str]] = {}
        self.dirty = False

    def load(self) -> None:
        try:
            data = self.file.read_bytes()
            loaded = marshal.loads(data)
        except (OSError, EOFError, ValueError, TypeError):
            return
        if isinstance(loaded, dict) and loaded.get("format") == FORMAT:
            entries, stat = loaded.get("entries"), loaded.get("stat")
            if isinstance(entries, dict) and isinstance(stat, dict):
                self.entries, self.stat = entries, stat

    def hash_for_stat(self, rel: str, st: os.stat_result) -> str | None:
        known = self.stat.get(rel)
        if known is not None and known[0] == st.st_size and known[1] == st.st_mtime_ns and known[2] == st.st_ino:
            return known[3]
        return None

    def remember(self, rel: str, st: os.stat_result | None, digest: str, facts: tuple[object, ...] | None) -> None:
        if st is not None:
            value = (st.st_size, st.st_mtime_ns, st.st_ino, digest)
            if self.stat.get(rel) != value:
                self.stat[rel] = value
                self.dirty = True
        if facts is not None and digest not in self.entries:
            self.entries[digest] = facts
            self.dirty = True

    def save(self, live_paths: set[str]) -> None:
        """Write (atomically) keeping only entries that live files still use."""
        stale_paths = [p for p in self.stat if p not in live_paths]
        for p in stale_paths:
            del self.stat[p]
        live_hashes = {v[3] for v in self.stat.values()}
        if len(live_hashes) < len(self.entries):
            self.entries = {h: f for h, f in self.entries.items() if h in live_hashes}
            self.dirty = True
        if not (self.dirty or stale_paths):
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            gitignore = self.directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(prefix=".facts-", dir=self.directory)
            with os.fdopen(fd, "wb") as handle:
                marshal.dump({"format": FORMAT, "entries": self.entries, "stat": self.stat}, handle)
            os.replace(tmp, self.file)
        except OSError:
            return   # a read-only checkout still lints; it just stays cold
