"""The tree index: a project's Python sources and module.yaml files, reused while no directory changed.

Discovery (every directory under the source roots) and the module.yaml walk (every directory under the
package) list the whole tree: about 2,000 directories on the 8,851-file benchmark corpus. Their results
only change when an entry is added, removed or renamed in a directory they listed, which moves that
directory's ctime. ``tree-<key>.marshal`` in the cache directory keeps both results with the stat of
every listed directory (taken before listing it, plus a digest of the names it listed when it had changed
within ``RACY_NS``), so the next run, ``check FILE.py`` or the flake8 plugin gets them for one stat per
directory. Key: tool version and source, Python, root and config fingerprint. Written like every cache
file (temp file + rename); an unreadable or malformed file is ignored and rewritten.
Must not import rules, specs loading, reporters or the CLI.
"""

from __future__ import annotations

import marshal
import sys
from pathlib import Path

from plumego_lint import __version__
from plumego_lint.config import Config
from plumego_lint.facts import SourceFile
from plumego_lint.listing import Listed, Listings, unchanged
from plumego_lint.snapshot import code_fingerprint

try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL (about 3 ms of every short run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds it in
    from hashlib import blake2b

FORMAT = 1


def tree_key(config: Config) -> str:
    payload = f"tree|{FORMAT}|{__version__}|{sys.version_info[:2]}|{config.root}|{config.fingerprint()}|" \
              f"{code_fingerprint()}"
    return blake2b(payload.encode(), digest_size=8).hexdigest()


class TreeIndex:
    """Load (validated by the directories' stat), extend and store the tree's sources and manifests."""

    def __init__(self, config: Config) -> None:
        self.directory = config.root / config.cache_dir
        self.file = self.directory / f"tree-{tree_key(config)}.marshal"
        self.dirs: Listed = {}
        self.sources: list[SourceFile] | None = None
        self.manifests: dict[str, list[str]] = {}     # package dir -> its module.yaml files
        self._plain_sources: tuple[tuple[str, str, str, bool, bool], ...] | None = None
        self.dirty = False
        self.listings: Listings = {}     # entries discovery listed in this process, for the module.yaml walk

    def load(self) -> bool:
        """True when a stored index was read and none of its directories changed since."""
        try:
            loaded = marshal.loads(self.file.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            from plumego_lint.cache import ensure_cache_dir

            ensure_cache_dir(self.directory)    # before any walk: creating it changes the root's listing
            return False
        try:
            if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
                return False
            dirs, sources, manifests = loaded["dirs"], loaded["sources"], loaded["manifests"]
            if not (isinstance(dirs, dict) and isinstance(manifests, dict)
                    and (sources is None or isinstance(sources, tuple))):
                return False
            if not unchanged(dirs):
                return False
        except (KeyError, TypeError, ValueError):
            return False
        self._plain_sources = sources      # made SourceFile objects by ``discover``, only when asked for
        self.dirs, self.manifests = dirs, manifests
        return True

    def list_manifests(self, package_dir: Path) -> list[Path]:
        """The module.yaml files below ``package_dir``: from the index, else walked (and kept)."""
        from plumego_lint.specs.loader import iter_manifest_files

        known = self.manifests.get(str(package_dir))
        if known is not None:
            return [Path(p) for p in known]
        found = list(iter_manifest_files(package_dir, self.dirs, self.listings))
        self.manifests[str(package_dir)] = [str(p) for p in found]
        self.dirty = True
        return found

    def discover(self, config: Config) -> list[SourceFile]:
        from plumego_lint.discovery import discover

        if self.sources is None and self._plain_sources is not None:
            try:
                self.sources = [SourceFile.make(*s) for s in self._plain_sources]
            except TypeError:
                self.sources = None
        if self.sources is None:
            self.sources = discover(config, self.dirs, self.listings)
            self.dirty = True
        return self.sources

    def store(self) -> None:
        if not self.dirty:
            return
        from plumego_lint.cache import _atomic_write

        sources = self._plain_sources if self.sources is None else tuple(
            (f.abspath, f.rel, f.module, f.is_package, f.is_test) for f in self.sources)
        _atomic_write(self.directory, self.file, {"format": FORMAT, "dirs": self.dirs, "sources": sources,
                                                  "manifests": self.manifests})
        self.dirty = False
