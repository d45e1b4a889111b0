"""The spec cache: a loaded ``SpecSet`` kept in the cache directory, so a short run does not parse YAML.

``check FILE`` and every flake8 process with a PLG code load the whole control plane (repo.yaml, the
dependency rules, the schema, every module.yaml) to check one file; with PyYAML's import that was about a
third of their start-up. The cache keeps the loaded set (pickled, next to the tree index; read back by an
unpickler that resolves only the spec model's classes, so a planted file cannot run code) together with
what the load read: each file's content digest, each path it probed (is_file / is_dir / exists, with the
answer) and the module.yaml listing. It is reused only while
every one of them gives the same answer, so editing, adding or removing any spec file, a module.yaml or a
doc path a manifest names loads the specs again. A load that fails (SpecError) is never stored.
Must not import the engine, the rules or the CLI.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plumego_lint import __version__

try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL (about 3 ms of every short run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds it in
    from hashlib import blake2b

if TYPE_CHECKING:
    from plumego_lint.specs.model import SpecSet
    from plumego_lint.specs.yamlsource import Probe

FORMAT = 1
ListManifests = Callable[[Path], list[Path]]


def cache_file(directory: Path, root: Path, specs_dir: str) -> Path:
    from plumego_lint.snapshot import code_fingerprint

    payload = f"specs|{FORMAT}|{__version__}|{sys.version_info[:2]}|{root}|{specs_dir}|{code_fingerprint()}"
    return directory / f"specs-{blake2b(payload.encode(), digest_size=8).hexdigest()}.pickle"


def _holds(probes: Any) -> bool:
    from plumego_lint.specs.yamlsource import content_digest

    for path, kind, answer in probes:
        if kind == "read":
            try:
                now: str | bool | None = content_digest(Path(path).read_bytes())
            except OSError:
                now = None
        else:
            p = Path(path)
            now = p.is_file() if kind == "file" else p.is_dir() if kind == "dir" else p.exists()
        if now != answer:
            return False
    return True


class _SpecUnpickler(pickle.Unpickler):
    """Resolves only the spec model's classes, ``Location`` and paths: a pickle planted in a cloned repo's cache
    directory cannot name any other callable, so reading it can never run code (it is a miss instead)."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "pathlib" and name in ("PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath"):
            return super().find_class(module, name)
        if (module, name) == ("plumego_lint.specs.yamlsource", "Location") or module == "plumego_lint.specs.model":
            found = super().find_class(module, name)
            if isinstance(found, type) and found.__module__ == module:
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a spec set")


def _cached(file: Path, list_manifests: ListManifests) -> SpecSet | None:
    from plumego_lint.specs.model import SpecSet

    try:
        with file.open("rb") as handle:
            entry = _SpecUnpickler(handle).load()
    except Exception:      # missing, truncated, foreign, or written by another version: load the specs instead
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        return None
    specs, probes, listing = entry.get("specs"), entry.get("probes"), entry.get("listing")
    if not isinstance(specs, SpecSet) or not isinstance(probes, list) or not _holds(probes):
        return None
    if listing is not None and [str(p) for p in list_manifests(specs.package_dir)] != listing:
        return None
    return specs


def load_specs_cached(root: Path, specs_dir: str, directory: Path, list_manifests: ListManifests) -> SpecSet:
    """``load_specs(root, specs_dir, list_manifests=...)``, from the cache in ``directory`` while valid.

    ``list_manifests`` must give the current module.yaml files (the tree index's, validated by the stat of
    every directory): the cache compares its answer with the listing it stored."""
    from plumego_lint.specs.loader import load_specs
    from plumego_lint.specs.yamlsource import record_probes

    root = root.resolve()
    file = cache_file(directory, root, specs_dir.strip("/"))
    specs = _cached(file, list_manifests)
    if specs is not None:
        return specs
    listing: list[str] | None = None

    def recording(package_dir: Path) -> list[Path]:
        nonlocal listing
        found = list_manifests(package_dir)
        listing = [str(p) for p in found]
        return found

    probes: list[Probe] = []
    before = record_probes(probes)
    try:
        specs = load_specs(root, specs_dir, list_manifests=recording)
    finally:
        record_probes(before)
    try:
        data = pickle.dumps({"format": FORMAT, "specs": specs, "probes": probes, "listing": listing},
                            protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return specs
    from plumego_lint.cache import ensure_cache_dir

    if ensure_cache_dir(directory):
        tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, file)
        except OSError:
            tmp.unlink(missing_ok=True)
    return specs


__all__ = ["cache_file", "load_specs_cached"]
