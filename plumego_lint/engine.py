"""The pipeline: config -> specs -> files -> facts (cached, parallel) -> rules -> suppressions -> result.

Owns orchestration only: building the ``Project``, getting every file's facts once (cache hits, else a
parse in this process or in a process pool over chunks), running every rule family, then applying
``# noqa``, --select/--ignore and the baseline. Must not format output or parse arguments.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plumego_lint.baseline import Baseline
from plumego_lint.cache import FactsCache, cache_key
from plumego_lint.config import Config, find_root, load_config
from plumego_lint.discovery import discover
from plumego_lint.facts import FileFacts, ImportFact, ModuleIndex, content_hash, extract, noqa_suppresses, \
    read_and_extract
from plumego_lint.rules import Analysis, Finding, Project, RuleFamily, default_families
from plumego_lint.specs import load_specs

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


@dataclass
class CheckResult:
    project: Project
    analysis: Analysis
    findings: list[Finding]
    suppressed: int = 0
    baselined: int = 0

    @property
    def files(self) -> int:
        return len(self.project.files)


def build_project(start: Path, config_file: Path | None = None, select: Sequence[str] = (),
                  ignore: Sequence[str] = ()) -> Project:
    """Discover config, load specs (SpecError: PLG902) and list files."""
    root = config_file.resolve().parent if config_file else find_root(start)
    config = load_config(root, config_file)
    specs = load_specs(config.root, config.specs) if config.specs else None
    files = discover(config)
    modules = ModuleIndex(f.module for f in files if f.module)
    enabled = code_filter([*config.select, *select], [*config.ignore, *ignore])
    return Project(root=config.root, config=config, specs=specs, files=files, modules=modules, enabled=enabled)


def _parse_chunk(paths: list[tuple[str, str]]) -> list[tuple[str, str, tuple[object, ...]]]:
    out = []
    for rel, path in paths:
        digest, facts = read_and_extract(Path(path))
        out.append((rel, digest, facts.to_plain()))
    return out


def collect_facts(project: Project, *, jobs: int | None = None, use_cache: bool = True) -> dict[str, FileFacts]:
    """Facts of every discovered file: from the cache when the content is known, else parsed (in parallel)."""
    config = project.config
    cache = FactsCache(project.root / config.cache_dir, cache_key(config.fingerprint())) if use_cache else None
    if cache is not None:
        cache.load()
    facts: dict[str, FileFacts] = {}
    misses: list[tuple[str, str]] = []
    stats: dict[str, os.stat_result] = {}
    for file in project.files:
        try:
            st = os.stat(file.abspath)
        except OSError:
            st = None
        if cache is not None and st is not None:
            stats[file.rel] = st
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
                    facts[file.rel] = FileFacts.from_plain(entry)
                    cache.remember(file.rel, st, digest, None)
                    continue
        misses.append((file.rel, file.abspath))
    workers = jobs if jobs is not None else (config.jobs or os.cpu_count() or 1)
    parsed: list[tuple[str, str, tuple[object, ...]]] = []
    if workers > 1 and len(misses) >= PARALLEL_MIN_FILES:
        from concurrent.futures import ProcessPoolExecutor   # imported lazily: it costs a warm run ~40 ms

        chunks = [misses[i:i + CHUNK] for i in range(0, len(misses), CHUNK)]
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
            for part in pool.map(_parse_chunk, chunks):
                parsed.extend(part)
    else:
        parsed = _parse_chunk(misses)
    for rel, digest, plain in parsed:
        got = facts[rel] = FileFacts.from_plain(plain)
        if cache is not None and digest:
            unreadable = got.error is not None and got.error.kind == "unreadable"
            cache.remember(rel, stats.get(rel), digest, None if unreadable else plain)
    if cache is not None:
        cache.save({f.rel for f in project.files})
    return facts


def analyze(project: Project, facts: dict[str, FileFacts]) -> Analysis:
    imports: dict[str, list[ImportFact]] = {}
    for file in project.files:
        f = facts.get(file.rel)
        if f is not None:
            imports[file.rel] = project.imports_of(file, f)
    return Analysis(facts=facts, imports=imports)


def evaluate(project: Project, analysis: Analysis, families: list[RuleFamily] | None = None) -> list[Finding]:
    """Every finding of every family, noqa applied, sorted; select/ignore applied."""
    families = families if families is not None else default_families()
    out: list[Finding] = []
    for file in project.files:
        facts = analysis.facts.get(file.rel)
        if facts is None:
            continue
        found: list[Finding] = []
        for family in families:
            found.extend(family.check_file(project, file, facts, analysis.imports.get(file.rel, [])))
        out.extend(found)
    for family in families:
        out.extend(family.check_project(project, analysis))
    return sorted((f for f in out if project.enabled(f.code)), key=Finding.sort_key)


def apply_noqa(project: Project, analysis: Analysis, findings: list[Finding]) -> tuple[list[Finding], int]:
    kept: list[Finding] = []
    suppressed = 0
    for f in findings:
        facts = analysis.facts.get(f.path)
        if facts is not None and facts.noqa:
            first, last = f.noqa_lines if f.noqa_lines != (0, 0) else (f.line, f.line)
            if noqa_suppresses(facts.noqa, f.code, {f.line, *range(first, last + 1)}):
                suppressed += 1
                continue
        kept.append(f)
    return kept, suppressed


def run_check(start: Path, options: CheckOptions) -> CheckResult:
    project = build_project(start, options.config_file, options.select, options.ignore)
    facts = collect_facts(project, jobs=options.jobs, use_cache=options.use_cache)
    analysis = analyze(project, facts)
    findings, suppressed = apply_noqa(project, analysis, evaluate(project, analysis))
    if options.paths:
        wanted = []
        for p in options.paths:
            try:
                wanted.append(p.resolve().relative_to(project.root).as_posix())
            except ValueError:
                continue
        findings = [f for f in findings if any(w in {"", "."} or f.path == w or f.path.startswith(w.rstrip("/") + "/")
                                               for w in wanted)]
    baselined = 0
    baseline_file = options.baseline or (project.root / project.config.baseline if project.config.baseline else None)
    if baseline_file is not None:
        baseline = Baseline.load(baseline_file, project.root)
        findings, baselined, stale = baseline.filter(findings)
        findings = sorted(findings + stale, key=Finding.sort_key)
    return CheckResult(project=project, analysis=analysis, findings=findings, suppressed=suppressed,
                       baselined=baselined)


def facts_for_source(data: bytes) -> FileFacts:
    """Facts of in-memory source (editor buffers, the flake8 plugin)."""
    return extract(data)
