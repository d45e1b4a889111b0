"""The pipeline: config -> specs -> files -> facts (cached, parallel) -> rules -> suppressions -> result.

Owns orchestration only: building the ``Project``, getting every file's facts once (cache hits, else a
parse in this process or in a process pool over chunks; families that read more of a file than its
facts build it from that same tree, see ``TreeExtractor``), running every rule family, then applying
``# noqa``, --select/--ignore and the baseline. When nothing that any rule reads has changed since the
last run (``cache.RunCache``), ``run_check`` returns that run's findings without loading specs, facts or
rules; those modules are therefore imported lazily. Must not format output or parse arguments.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from plumego_lint.cache import FileSignature, FindingsMemo, RunCache, Snapshot, ensure_cache_dir, memo_key, run_key
from plumego_lint.config import Config, find_root, load_config
from plumego_lint.findings import Finding

if TYPE_CHECKING:
    from plumego_lint.facts import FileFacts, SourceFile
    from plumego_lint.rules import Analysis, Project, RuleFamily, TreeExtractor

PARALLEL_MIN_FILES = 300
CHUNK = 150


def code_filter(select: Sequence[str], ignore: Sequence[str]) -> Callable[[str], bool]:
    """flake8-style prefixes: ``PLG1`` selects every PLG1xx; ignore wins over select for equal length."""
    sel = tuple(s.strip().upper() for s in select if s.strip())
    ign = tuple(s.strip().upper() for s in ignore if s.strip())

    def enabled(code: str) -> bool:
        s = max((len(p) for p in sel if code.startswith(p)), default=-1) if sel else 0
        i = max((len(p) for p in ign if code.startswith(p)), default=-1)
        return s >= 0 and s > i
    return enabled


@dataclass
class CheckOptions:
    paths: list[Path] = field(default_factory=list)
    config_file: Path | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    jobs: int | None = None
    use_cache: bool = True
    baseline: Path | None = None
    outputs: list[Path] = field(default_factory=list)   # files this run writes (reports): not inputs
    progress: Callable[[int, int], None] | None = None   # (files parsed, files to parse), in this process


class CheckResult:
    """The findings of a run. ``project`` and ``analysis`` are rebuilt on first access after a cached run."""

    def __init__(self, project: Project | None = None, analysis: Analysis | None = None,
                 findings: list[Finding] | None = None, suppressed: int = 0, baselined: int = 0, *,
                 root: Path | None = None, file_count: int | None = None,
                 rebuild: Callable[[], tuple[Project, Analysis]] | None = None,
                 rechecked: list[str] | None = None) -> None:
        if project is None and (rebuild is None or root is None or file_count is None):
            raise ValueError("CheckResult needs a project, or root, file_count and rebuild")
        self._project = project
        self._analysis = analysis
        self._rebuild = rebuild
        self.findings: list[Finding] = findings if findings is not None else []
        self.suppressed = suppressed
        self.baselined = baselined
        self.root: Path = root if root is not None else project.root if project is not None else Path()
        self._file_count = file_count
        # the files an incremental run checked again (None: not an incremental run; see ``incremental``)
        self.rechecked = rechecked
        # (run-cache file, its stat) when these findings are stored in / came from that file (CLI replay)
        self.run_stamp: tuple[str, tuple[int, int, int]] | None = None

    @property
    def cached(self) -> bool:
        """True when the findings came from the run cache (nothing changed since the last run)."""
        return self._project is None and self.rechecked is None

    def _load(self) -> None:
        if self._project is None or self._analysis is None:
            if self._rebuild is None:
                raise ValueError("CheckResult has no analysis")
            self._project, self._analysis = self._rebuild()

    @property
    def project(self) -> Project:
        if self._project is None:
            self._load()
        assert self._project is not None
        return self._project

    @property
    def analysis(self) -> Analysis:
        if self._analysis is None:
            self._load()
        assert self._analysis is not None
        return self._analysis

    @property
    def files(self) -> int:
        if self._file_count is not None:
            return self._file_count
        return len(self.project.files)


def build_project(start: Path, config_file: Path | None = None, select: Sequence[str] = (),
                  ignore: Sequence[str] = (), *, use_cache: bool = False) -> Project:
    """Discover config, load specs (SpecError: PLG902) and list files (with ``use_cache``, through the
    tree index: no walk while no directory changed)."""
    root = config_file.resolve().parent if config_file else find_root(start)
    return _project_for(load_config(root, config_file), select, ignore, use_cache=use_cache)


def _project_for(config: Config, select: Sequence[str], ignore: Sequence[str], *, use_cache: bool = False,
                 files: list[SourceFile] | None = None, manifests: Mapping[str, list[str]] | None = None) -> Project:
    """The project model. ``use_cache``: sources and module.yaml files from the tree index (``treeindex``)
    while no directory changed; ``files``: the sources, already known (the incremental run's record);
    ``manifests``: the module.yaml files, already known too (``Project.manifest_listing`` of that run)."""
    project, load_specs_now = _project_deferred(config, select, ignore, use_cache=use_cache, files=files,
                                                manifests=manifests)
    load_specs_now()
    return project


def _project_deferred(config: Config, select: Sequence[str], ignore: Sequence[str], *, use_cache: bool = False,
                      files: list[SourceFile] | None = None, manifests: Mapping[str, list[str]] | None = None,
                      ) -> tuple[Project, Callable[[], None]]:
    """The project model without its specs, and what loads them into it (SpecError: PLG902): a cold run
    loads the specs while the parse workers run (``collect_facts(while_parsing=...)``)."""
    from plumego_lint.facts import ModuleIndex
    from plumego_lint.rules import Project

    if files is not None and manifests is not None:
        # everything the tree index would give is known: neither load (a stat per directory) nor store it
        use_cache = False
    index = None
    if use_cache:
        from plumego_lint.treeindex import TreeIndex

        index = TreeIndex(config)
        index.load()
    if files is None:
        if index is not None:
            files = index.discover(config)
        else:
            from plumego_lint.discovery import discover

            files = discover(config)
    modules = ModuleIndex(f.module for f in files if f.module)
    enabled = code_filter([*config.select, *select], [*config.ignore, *ignore])
    project = Project(root=config.root, config=config, specs=None, files=files, modules=modules, enabled=enabled)

    listing: dict[str, list[str]] = {}

    def list_manifests(package_dir: Path) -> list[Path]:
        if manifests is not None and str(package_dir) in manifests:
            found = [Path(p) for p in manifests[str(package_dir)]]
        elif index is not None:
            found = index.list_manifests(package_dir)
        else:
            from plumego_lint.specs.loader import iter_manifest_files

            found = list(iter_manifest_files(package_dir))
        listing[str(package_dir)] = [str(p) for p in found]
        return found

    def load_specs_now() -> None:
        from plumego_lint.specs import SpecError, load_specs

        known = index is not None or manifests is not None
        if not config.specs:
            specs = None
        elif known:
            # the module.yaml listing is known and validated: the loaded specs come from the spec cache while
            # no file they were read from changed (no PyYAML, no validation; ``speccache``)
            from plumego_lint.speccache import load_specs_cached

            specs = load_specs_cached(config.root, config.specs, config.root / config.cache_dir, list_manifests)
        else:
            specs = load_specs(config.root, config.specs)
        project.manifest_listing = listing if known else None
        if index is not None:
            index.store()
        if specs is not None and not any(f.module == specs.package or f.module.startswith(specs.package + ".")
                                         for f in project.files):
            # a typo here would turn every import rule into a silent pass
            raise SpecError(specs.spec_file("repo.yaml"), (specs.repo.module_location or specs.repo.location).line,
                            f"repo.module {specs.package!r} names no package or module under the source roots "
                            f"({', '.join(config.source_roots)}) of {config.root}")
        project.specs = specs
    return project, load_specs_now


# (rel path, absolute path, each tree extractor's key for the file: None when it wants nothing)
Work = tuple[str, str, tuple[str | None, ...]]
# (rel path, content hash, plain FileFacts, each tree extractor's plain facts: None when not built)
Parsed = tuple[str, str, tuple[object, ...], tuple[tuple[object, ...] | None, ...]]

_WORKER_EXTRACTORS: tuple[TreeExtractor, ...] = ()


def _init_worker(extractors: tuple[TreeExtractor, ...]) -> None:
    """Once per parse worker: the tree extractors (and whatever they memoise) live for the whole pool."""
    global _WORKER_EXTRACTORS
    _WORKER_EXTRACTORS = extractors


def _parse_chunk(items: list[Work], extractors: tuple[TreeExtractor, ...] | None = None) -> list[Parsed]:
    """Read and parse each file once; its FileFacts and every tree extractor's facts come from that tree."""
    import gc

    from plumego_lint.facts import read_and_parse

    extractors = _WORKER_EXTRACTORS if extractors is None else extractors
    # Syntax trees hold no reference cycles and die with each file: the cyclic collector only burns
    # time walking them (about 10% of a cold run), so it is paused while parsing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        out: list[Parsed] = []
        for rel, path, keys in items:
            digest, data, facts, tree = read_and_parse(Path(path))
            extras: tuple[tuple[object, ...] | None, ...] = ()
            if tree is not None and extractors:
                extras = tuple(None if key is None else extractor.extract(key, tree, data)
                               for extractor, key in zip(extractors, keys))
            out.append((rel, digest, facts.to_plain(), extras))
        return out
    finally:
        if was_enabled:
            gc.enable()


def collect_facts(project: Project, *, jobs: int | None = None, use_cache: bool = True,
                  families: Sequence[RuleFamily] = (), digests: dict[str, str] | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  while_parsing: Callable[[], None] | None = None) -> dict[str, FileFacts]:
    """Facts of every discovered file: from the cache when the content is known, else parsed (in parallel).

    ``while_parsing`` (e.g. loading the specs) and every family's ``prepare`` run once the parse workers
    have their work, so that start-up work overlaps with the parse instead of preceding it.

    Each active family's ``tree_extractor`` runs on the same parse (so no file is parsed twice) or comes
    from the cache; its facts reach the family through ``take_tree_facts`` before this returns.
    ``digests``, when given, receives each file's content hash (for the findings memo)."""
    from plumego_lint.cache import FactsCache, cache_key
    from plumego_lint.facts import FileFacts, content_hash

    active = enabled_families(project, families)
    takers = [(family, extractor) for family in active
              if (extractor := family.tree_extractor(project)) is not None]
    extractors = tuple(extractor for _, extractor in takers)
    no_keys: tuple[str | None, ...] = (None,) * len(extractors)
    keys = {f.rel: tuple(x.key(f) for x in extractors) for f in project.files} if extractors else {}
    tree_facts: list[dict[str, object]] = [{} for _ in extractors]

    config = project.config
    cache = FactsCache(project.root / config.cache_dir, cache_key(config.fingerprint())) if use_cache else None
    if cache is not None:
        cache.load()
        if extractors:
            cache.used_extras = set()   # every live file's extras are read or rebuilt below: drop the rest

    def cached_extras(digest: str, rel: str, wanted: tuple[str | None, ...]) -> bool:
        """Take a file's tree-extractor facts from the cache; False (take nothing) if any is missing or stale."""
        assert cache is not None
        found: list[tuple[int, object]] = []
        for i, (extractor, key) in enumerate(zip(extractors, wanted)):
            if key is None:
                continue
            plain = cache.extra(digest, f"{extractor.name}|{key}")
            if plain is None or not extractor.still_valid(plain):
                return False
            try:
                found.append((i, extractor.decode(plain)))
            except (TypeError, ValueError):
                return False
        for i, value in found:
            tree_facts[i][rel] = value
        return True

    facts: dict[str, FileFacts] = {}
    misses: list[Work] = []
    stats: dict[str, os.stat_result] = {}
    for file in project.files:
        wanted = keys.get(file.rel, no_keys)
        try:
            st = os.stat(file.abspath)
        except OSError:
            st = None
        if cache is not None and st is not None:
            stats[file.rel] = st
            if not cache.entries:        # nothing cached: the parser hashes the bytes it reads anyway
                misses.append((file.rel, file.abspath, wanted))
                continue
            digest = cache.hash_for_stat(file.rel, st)
            if digest is None:
                try:
                    with open(file.abspath, "rb") as handle:
                        digest = content_hash(handle.read())
                except OSError:
                    digest = None
            if digest is not None:
                entry = cache.entries.get(digest)
                if entry is not None:
                    try:
                        got = FileFacts.from_plain(entry)
                    except (AssertionError, TypeError, ValueError):
                        cache.forget(digest)      # a damaged entry: parse the file again
                    else:
                        # an unparsable file has no tree to extract from (and no service checks)
                        if got.error is not None or cached_extras(digest, file.rel, wanted):
                            facts[file.rel] = got
                            cache.remember(file.rel, st, digest, None)
                            if digests is not None:
                                digests[file.rel] = digest
                            continue
        misses.append((file.rel, file.abspath, wanted))
    workers = jobs if jobs is not None else (config.jobs or os.cpu_count() or 1)

    parsed_count = 0

    def take(parsed: list[Parsed]) -> None:
        nonlocal parsed_count
        parsed_count += len(parsed)
        if progress is not None:
            progress(parsed_count, len(misses))
        for rel, digest, plain, extras in parsed:
            got = facts[rel] = FileFacts.from_plain(plain)
            if digests is not None and digest:
                digests[rel] = digest
            for i, value in enumerate(extras):
                if value is not None:
                    tree_facts[i][rel] = extractors[i].decode(value)
                    if cache is not None and digest:
                        cache.remember_extra(digest, f"{extractors[i].name}|{keys[rel][i]}", value)
            if cache is not None and digest:
                unreadable = got.error is not None and got.error.kind == "unreadable"
                cache.remember(rel, stats.get(rel), digest, None if unreadable else plain)

    if workers > 1 and len(misses) >= PARALLEL_MIN_FILES:
        from concurrent.futures import ProcessPoolExecutor, as_completed   # lazily: costs a warm run ~40 ms

        chunks = [misses[i:i + CHUNK] for i in range(0, len(misses), CHUNK)]
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), initializer=_init_worker,
                                 initargs=(extractors,)) as pool:
            futures = [pool.submit(_parse_chunk, chunk) for chunk in chunks]
            try:
                if while_parsing is not None:
                    while_parsing()
                for family in active:       # specs, models and tiers load while the workers parse
                    family.prepare(project)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)    # e.g. a spec error: exit without the parse
                raise
            # decode each chunk as it arrives, while the workers parse the next ones
            for future in as_completed(futures):
                take(future.result())
    else:
        if while_parsing is not None:
            while_parsing()
        take(_parse_chunk(misses, extractors))
        for family in active:
            family.prepare(project)
    if cache is not None:
        cache.save({f.rel for f in project.files})
    for (family, _), built in zip(takers, tree_facts):
        family.take_tree_facts(project, built)
    return {f.rel: facts[f.rel] for f in project.files if f.rel in facts}    # in file order, however parsed


def analyze(project: Project, facts: dict[str, FileFacts]) -> Analysis:
    """Facts plus resolved imports; each file's imports are resolved when a rule first asks for them."""
    from plumego_lint.rules.base import Analysis, ResolvedImports

    return Analysis(facts=facts, imports=ResolvedImports(project, facts))


def enabled_families(project: Project, families: Sequence[RuleFamily]) -> list[RuleFamily]:
    """The families with at least one enabled code (--select/--ignore): the others' findings would all be
    dropped, so they are neither run nor asked for their inputs (the service family's cost a parse of the
    installed plumego's manifests)."""
    return [f for f in families if not f.rules or any(project.enabled(r.code) for r in f.rules)]


@dataclass
class MemoState:
    """The findings memo of one run: what the last run recorded, and what this run records."""

    previous: dict[str, tuple[FileSignature, list[tuple[object, ...]]]]
    current: dict[str, tuple[FileSignature, list[tuple[object, ...]]]] = field(default_factory=dict)


def memo_scope(project: Project) -> str:
    """What every file-local finding depends on besides the file itself: the module index (resolution,
    top-level names) and the bytes of every spec file and module.yaml. The run key covers the rest."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    h.update("\n".join(sorted(f.module for f in project.files if f.module)).encode())
    specs = project.specs
    if specs is not None:
        spec_dir = specs.root / specs.specs_dir
        spec_files = sorted(spec_dir.rglob("*") if specs.specs_dir else spec_dir.glob("*.yaml"))
        for path in [*spec_files, *sorted(specs.root / m.file for m in specs.manifests.values())]:
            h.update(f"\0{os.path.relpath(path, specs.root)}\0".encode())   # relative: CI checkouts move
            try:
                h.update(path.read_bytes() if path.is_file() else b"\0dir")
            except OSError:
                h.update(b"\0unreadable")
    return h.hexdigest()


@dataclass
class Evaluation:
    """A run's findings in the parts an incremental run recomputes separately (all before ``# noqa``).

    ``per_file``: each file's ``check_file`` findings (every family); ``project``: ``check_project``
    findings (tree layout, specs, config); ``summaries``: each family's ``summarize`` value by file, and
    ``derived`` what ``check_summaries`` made of them; ``reads``: the other modules each file's checks
    read (``RuleFamily.dependencies``). Only enabled codes are kept."""

    per_file: dict[str, list[Finding]] = field(default_factory=dict)
    project: list[Finding] = field(default_factory=list)
    summaries: dict[str, dict[str, tuple[object, ...]]] = field(default_factory=dict)
    derived: list[Finding] = field(default_factory=list)
    reads: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def findings(self) -> list[Finding]:
        out = [f for found in self.per_file.values() for f in found]
        return sorted([*out, *self.project, *self.derived], key=Finding.sort_key)


def check_files(project: Project, analysis: Analysis, families: list[RuleFamily], files: Sequence[SourceFile],
                into: Evaluation, *, memo: MemoState | None = None, digests: dict[str, str] | None = None) -> None:
    """Per-file findings, summaries and reads of ``files`` (those with facts) into ``into``."""
    from plumego_lint.rules.base import RuleFamily as Base

    summarizing = [f for f in families if type(f).summarize is not Base.summarize]
    local = [f for f in families if f.file_local]
    others = [f for f in families if not f.file_local]
    enabled = project.enabled
    for file in files:
        facts = analysis.facts.get(file.rel)
        if facts is None:
            continue
        signature: FileSignature | None = None
        if memo is not None and digests is not None and file.rel in digests:
            signature = (digests[file.rel], file.module, file.is_package, file.is_test)
        previous = memo.previous.get(file.rel) if memo is not None and signature is not None else None
        reused = _from_plain(previous[1]) if previous is not None and previous[0] == signature else None
        if reused is not None:
            found = reused
        else:
            found = []
            for family in local:
                found.extend(family.check_file(project, file, facts, analysis.imports.get(file.rel, [])))
        if memo is not None and signature is not None:
            memo.current[file.rel] = (signature, [_plain(f) for f in found])
        reads: set[str] = set()
        for family in others:
            found.extend(family.check_file(project, file, facts, analysis.imports.get(file.rel, [])))
            reads.update(family.dependencies(project, file))
        kept = [f for f in found if enabled(f.code)]
        if kept:
            into.per_file[file.rel] = kept
        else:
            into.per_file.pop(file.rel, None)
        if reads:
            into.reads[file.rel] = tuple(sorted(reads))
        else:
            into.reads.pop(file.rel, None)
        for family in summarizing:
            summary = family.summarize(project, file, facts, analysis.imports.get(file.rel, []))
            table = into.summaries.setdefault(family.name, {})
            if summary is not None:
                table[file.rel] = summary
            else:
                table.pop(file.rel, None)


def check_summaries(project: Project, families: list[RuleFamily], into: Evaluation) -> None:
    into.derived = [f for family in families
                    for f in family.check_summaries(project, into.summaries.get(family.name, {}))
                    if project.enabled(f.code)]


def evaluate_parts(project: Project, analysis: Analysis, families: list[RuleFamily] | None = None, *,
                   memo: MemoState | None = None, digests: dict[str, str] | None = None) -> Evaluation:
    """Every family on every file and on the whole project, kept in parts (see ``Evaluation``).

    With ``memo`` and ``digests``, a file whose signature matches the last run's reuses the findings
    of the file-local families (``RuleFamily.file_local``) instead of resolving and checking again."""
    from plumego_lint.rules import default_families

    families = enabled_families(project, families if families is not None else default_families())
    out = Evaluation()
    check_files(project, analysis, families, project.files, out, memo=memo, digests=digests)
    out.project = [f for family in families for f in family.check_project(project, analysis)
                   if project.enabled(f.code)]
    check_summaries(project, families, out)
    return out


def evaluate(project: Project, analysis: Analysis, families: list[RuleFamily] | None = None, *,
             memo: MemoState | None = None, digests: dict[str, str] | None = None) -> list[Finding]:
    """Every finding of every family, sorted; select/ignore applied (noqa is ``apply_noqa``'s)."""
    return evaluate_parts(project, analysis, families, memo=memo, digests=digests).findings()


def apply_noqa(project: Project, analysis: Analysis, findings: list[Finding]) -> tuple[list[Finding], int]:
    def noqa_of(rel: str) -> Mapping[int, tuple[str, ...]] | None:
        facts = analysis.facts.get(rel)
        return facts.noqa if facts is not None else None
    return noqa_filter(noqa_of, findings)


def noqa_filter(noqa_of: Callable[[str], Mapping[int, tuple[str, ...]] | None],
                findings: list[Finding]) -> tuple[list[Finding], int]:
    """Drop findings a ``# noqa`` comment of their file silences; also returns how many were dropped."""
    from plumego_lint.facts import noqa_suppresses

    kept: list[Finding] = []
    suppressed = 0
    for f in findings:
        noqa = noqa_of(f.path)
        if noqa:
            first, last = f.noqa_lines if f.noqa_lines != (0, 0) else (f.line, f.line)
            if noqa_suppresses(noqa, f.code, {f.line, *range(first, last + 1)}):
                suppressed += 1
                continue
        kept.append(f)
    return kept, suppressed


def _plain(f: Finding) -> tuple[object, ...]:
    return (f.code, f.severity, f.path, f.line, f.column, f.message, f.source, f.importer, f.subject,
            f.noqa_lines)


def _from_plain(items: list[tuple[object, ...]]) -> list[Finding] | None:
    try:
        return [Finding(*item) for item in items]    # type: ignore[arg-type]
    except TypeError:
        return None


def _snapshot_roots(config: Config, project: Project | None, families: list[RuleFamily]) -> list[str]:
    roots = [str(config.root)]
    if config.specs and not (config.root / config.specs).resolve().is_relative_to(config.root):
        roots.append(str((config.root / config.specs).resolve()))
    if project is not None:
        for family in families:
            roots.extend(str(p) for p in family.input_paths(project))
    return roots


def _named_sources(config: Config, paths: Sequence[Path]) -> list[str] | None:
    """The repo-relative paths when every PATH given is an existing ``.py`` file under the root, else None."""
    rels: list[str] = []
    for p in paths:
        if p.suffix != ".py" or not p.is_file():
            return None
        try:
            rels.append(p.resolve().relative_to(config.root).as_posix())
        except ValueError:
            return None
    return rels


def check_named(config: Config, options: CheckOptions, rels: Sequence[str]) -> CheckResult:
    """``check FILE.py...`` (pre-commit, editors): the findings of those files and nothing else.

    Costs the module index (discovery), the specs and the named files: no other file is read or parsed,
    no cache is loaded or written. A family whose findings read other files' contents does that lazily
    (the service family's re-export checks parse the adapter they look at). Whole-project rules that only
    ever report on spec, manifest or docs files (``RuleFamily.project_findings_in_sources`` False) are
    skipped: no finding of theirs could name one of these files. The result equals a whole-tree run
    filtered to the named files (tests/lint/test_lint_incremental.py)."""
    from plumego_lint.facts import FileFacts
    from plumego_lint.rules import default_families

    project = _project_for(config, options.select, options.ignore, use_cache=options.use_cache)
    families = enabled_families(project, default_families())
    wanted = set(rels)
    files = [f for f in project.files if f.rel in wanted]
    takers = [(family, extractor) for family in families
              if (extractor := family.tree_extractor(project)) is not None]
    extractors = tuple(extractor for _, extractor in takers)
    tree_facts: list[dict[str, object]] = [{} for _ in extractors]
    facts: dict[str, FileFacts] = {}
    work = [(f.rel, f.abspath, tuple(x.key(f) for x in extractors)) for f in files]
    for rel, _, plain, extras in _parse_chunk(work, extractors):
        facts[rel] = FileFacts.from_plain(plain)
        for i, value in enumerate(extras):
            if value is not None:
                tree_facts[i][rel] = extractors[i].decode(value)
    for (family, _), built in zip(takers, tree_facts):
        family.take_tree_facts(project, built)
    analysis = analyze(project, facts)
    evaluation = Evaluation()
    check_files(project, analysis, families, files, evaluation)
    evaluation.project = [f for family in families if family.project_findings_in_sources
                          for f in family.check_project(project, analysis) if project.enabled(f.code)]
    named = [f for f in evaluation.findings() if f.path in wanted]
    findings, suppressed = apply_noqa(project, analysis, named)
    return CheckResult(project, analysis, findings, suppressed)


def _store_full(run_cache: RunCache, config: Config, project: Project, families: list[RuleFamily],
                findings: list[Finding], suppressed: int, skip: set[str], state: dict[str, object] | None) -> None:
    snapshot = Snapshot.take(_snapshot_roots(config, project, families), skip)
    snapshot.settle()
    run_cache.store(snapshot, [_plain(f) for f in findings], suppressed, len(project.files), state)


def run_check(start: Path, options: CheckOptions) -> CheckResult:
    root = options.config_file.resolve().parent if options.config_file else find_root(start)
    config = load_config(root, options.config_file)
    cache_dir = config.root / config.cache_dir
    named = _named_sources(config, options.paths) if options.paths else None
    if named is not None:
        result = check_named(config, options, named)
        return _with_baseline(config, options, result)
    run_cache: RunCache | None = None
    record = None
    stamp = None
    hit: list[Finding] | None = None
    changes = None
    skip = {str(cache_dir), *(str(p.resolve()) for p in options.outputs)}
    if options.use_cache:
        run_cache = RunCache(cache_dir, run_key(config.fingerprint(), config.root, options.select, options.ignore))
        stamp = run_cache.stamp()
        verified = (0, 0)
        handed = _replay_handoff(str(run_cache.file), stamp)
        if handed is not None:      # the CLI's replay read this very record and found a change
            record = run_cache.validate(handed[0])
            verified = handed[1]
        else:
            record = run_cache.read()
        if record is not None:
            try:     # one pass over the snapshot: what changed (nothing: a hit), for the incremental run too
                changes = Snapshot(record["dirs"], record["files"]).changes(verified)
            except (TypeError, ValueError):
                record = None
            if changes is not None and not changes[0] and not changes[1]:
                hit = _from_plain(record["findings"]) if record is not None else None

    def rebuild() -> tuple[Project, Analysis]:
        project = _project_for(config, options.select, options.ignore)
        return project, analyze(project, collect_facts(project, jobs=options.jobs, use_cache=options.use_cache))

    if record is not None and hit is not None:
        result = CheckResult(findings=hit, suppressed=record["suppressed"], root=config.root,
                             file_count=record["files_checked"], rebuild=rebuild)
    else:
        from plumego_lint import incremental
        from plumego_lint.rules import default_families

        outcome = None
        if run_cache is not None and record is not None:
            state = run_cache.read_state(record)
            if state is not None:
                outcome = incremental.run(config, {**record, "state": state}, options.select, options.ignore, skip,
                                          lambda project: default_families(), changes)
        if run_cache is not None and outcome is not None:
            run_cache.store(outcome.snapshot, [_plain(f) for f in outcome.findings], outcome.suppressed,
                            len(outcome.project.files), outcome.state)
            stamp = run_cache.stamp()
            result = CheckResult(findings=outcome.findings, suppressed=outcome.suppressed, root=config.root,
                                 file_count=len(outcome.project.files), rebuild=rebuild,
                                 rechecked=outcome.rechecked)
        else:
            if run_cache is not None:
                ensure_cache_dir(cache_dir)       # before the snapshot: creating it changes the root's ctime
            project, load_specs_now = _project_deferred(config, options.select, options.ignore,
                                                        use_cache=options.use_cache)
            digests: dict[str, str] = {}
            families = enabled_families(project, default_families())
            facts = collect_facts(project, jobs=options.jobs, use_cache=options.use_cache, families=families,
                                  digests=digests, while_parsing=load_specs_now,
                                  progress=options.progress)
            analysis = analyze(project, facts)
            memo_file = (FindingsMemo(cache_dir, memo_key(config.fingerprint(), options.select, options.ignore))
                         if run_cache else None)
            scope = memo_scope(project) if memo_file is not None else ""
            memo = MemoState(memo_file.load(scope)) if memo_file is not None else None
            evaluation = evaluate_parts(project, analysis, families, memo=memo, digests=digests)
            findings, suppressed = apply_noqa(project, analysis, evaluation.findings())
            if memo_file is not None and memo is not None and memo.current != memo.previous:
                memo_file.store(scope, memo.current)
            if run_cache is not None:
                noqa = {rel: f.noqa for rel, f in facts.items() if f.noqa}
                state = incremental.state_of(project, digests, evaluation, noqa)
                _store_full(run_cache, config, project, families, findings, suppressed, skip, state)
                stamp = run_cache.stamp()
            result = CheckResult(project, analysis, findings, suppressed)
    baseline_file = options.baseline or (config.root / config.baseline if config.baseline else None)
    if (run_cache is not None and stamp is not None and (hit is None or stamp == run_cache.stamp())
            and baseline_file is None and config.cache_dir == ".plumego-lint-cache"):
        result.run_stamp = (str(run_cache.file), stamp)     # the CLI may record the report for replay
    if options.paths:
        wanted = []
        for p in options.paths:
            try:
                wanted.append(p.resolve().relative_to(config.root).as_posix())
            except ValueError:
                continue
        result.findings = [f for f in result.findings
                           if any(w in {"", "."} or f.path == w or f.path.startswith(w.rstrip("/") + "/")
                                  for w in wanted)]
    return _with_baseline(config, options, result)


def _replay_handoff(run_file: str, stamp: tuple[int, int, int] | None,
                    ) -> tuple[dict[str, object], tuple[int, int]] | None:
    """What the CLI's replay, run just before in this process, read of the run record (``replay.take_handoff``)."""
    import sys

    replay = sys.modules.get("plumego_lint.replay")     # only when the CLI imported it: never import it here
    if replay is None or stamp is None:
        return None
    handed: tuple[dict[str, object], tuple[int, int]] | None = replay.take_handoff(run_file, stamp)
    return handed


def _with_baseline(config: Config, options: CheckOptions, result: CheckResult) -> CheckResult:
    """What every path of ``check`` (the whole tree, an incremental run, ``check FILE``) applies last:
    per-file-ignores, then the baseline."""
    if config.per_file_ignores:
        result.findings = [f for f in result.findings if not config.ignored_for(f.path, f.code)]
    baseline_file = options.baseline or (config.root / config.baseline if config.baseline else None)
    if baseline_file is not None:
        from plumego_lint.baseline import Baseline

        baseline = Baseline.load(baseline_file, config.root)
        kept, result.baselined, stale = baseline.filter(result.findings)
        result.findings = sorted(kept + stale, key=Finding.sort_key)
    return result


def facts_for_source(data: bytes) -> FileFacts:
    """Facts of in-memory source (editor buffers, the flake8 plugin)."""
    from plumego_lint.facts import extract

    return extract(data)
