"""The incremental run: after a change to the contents of a few Python files, re-check only what it can affect.

Owns reading a run record's ``state`` (written by ``engine.run_check`` after every full run), deciding
whether the change since then is one this path may handle, and producing the new findings and the new
record. It may when the tree's layout is the same (every directory that changed still lists the same
entries: an editor's save-by-rename is fine, an added, removed or renamed file is not) and every file
that changed is a discovered Python source; anything else (a spec, module.yaml, pyproject.toml, docs, a
non-source file, the installed plumego) makes the caller run everything. Then the module index, the
specs and every whole-tree result that reads only layout, specs and config are those of the last run:

- each changed file is parsed and checked by every family (its findings are keyed on its content);
- each file whose checks read a changed module (``RuleFamily.dependencies``: re-exports through an
  adapter) is checked again too;
- whole-project rules that read file contents (``RuleFamily.summarize``: PLG106, PLG407) are evaluated
  again from the stored per-file summaries plus the new ones;
- nothing else is read: no discovery walk, no facts cache, no other file.

Must not import the CLI or reporters; imports the rules lazily, like the engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from plumego_lint.findings import Finding
from plumego_lint.snapshot import RACY_NS, Snapshot

if TYPE_CHECKING:
    from plumego_lint.config import Config
    from plumego_lint.engine import Evaluation
    from plumego_lint.rules import Analysis, Project, RuleFamily

# above this many changed files the parallel full run (with the facts cache) is the faster route
MAX_CHANGED = 300

Source = tuple[str, str, str, bool, bool]     # (rel, content hash, module, is_package, is_test)


def state_of(project: Project, digests: Mapping[str, str], evaluation: Evaluation,
             noqa: Mapping[str, Mapping[int, tuple[str, ...]]]) -> dict[str, object]:
    """The plain (``marshal``-able) state of a full run, stored in the run record."""
    from plumego_lint.engine import _plain

    return {
        "sources": tuple((f.rel, digests.get(f.rel, ""), f.module, f.is_package, f.is_test) for f in project.files),
        "per_file": {rel: [_plain(f) for f in found] for rel, found in evaluation.per_file.items()},
        "project": [_plain(f) for f in evaluation.project],
        "summaries": {name: dict(table) for name, table in evaluation.summaries.items()},
        "reads": dict(evaluation.reads),
        "noqa": {rel: dict(value) for rel, value in noqa.items() if value},
        "manifests": project.manifest_listing,
    }


class Outcome:
    """The result of an incremental run: final findings, the new snapshot and state to store."""

    def __init__(self, project: Project, findings: list[Finding], suppressed: int, snapshot: Snapshot,
                 state: dict[str, object], rechecked: list[str]) -> None:
        self.project = project
        self.findings = findings
        self.suppressed = suppressed
        self.snapshot = snapshot
        self.state = state
        self.rechecked = rechecked


def _valid_state(state: object) -> dict[str, Any] | None:
    if not isinstance(state, dict):
        return None
    kinds = {"sources": tuple, "per_file": dict, "project": list, "summaries": dict, "reads": dict, "noqa": dict}
    if not all(isinstance(state.get(k), t) for k, t in kinds.items()):
        return None
    return state


def _layout_unchanged(snapshot: Snapshot, changed_dirs: Mapping[str, tuple[int, int, str]],
                      skip: set[str]) -> bool:
    """Every changed directory still lists exactly the entries the snapshot recorded below it."""
    if not changed_dirs:
        return True
    children: dict[str, set[str]] = {d: set() for d in changed_dirs}
    for table in (snapshot.dirs, snapshot.files):
        for path in table:
            parent = os.path.dirname(path)
            if parent in children and path != parent:
                children[parent].add(path)
    for directory, now in changed_dirs.items():
        if now[0] == -1:
            return False
        try:
            if Snapshot.listing(directory, skip) != children[directory]:
                return False
        except OSError:
            return False
    return True


def run(config: Config, record: Mapping[str, Any], select: list[str], ignore: list[str], skip: set[str],
        load_families: Callable[[Project], list[RuleFamily]],
        changes: tuple[dict[str, tuple[int, int, str]], dict[str, tuple[int, int, int, str]]] | None = None,
        ) -> Outcome | None:
    """Re-check what changed since ``record``; None when the change needs a full run (or nothing changed).

    ``changes``: ``Snapshot.changes()`` of the record's snapshot, when the caller has it already."""
    state = _valid_state(record.get("state"))
    if state is None:
        return None
    try:
        snapshot = Snapshot(dict(record["dirs"]), dict(record["files"]))
        changed_dirs, changed_files = changes if changes is not None else snapshot.changes()
        changed_files = dict(changed_files)
    except (TypeError, ValueError):
        return None
    if not (changed_dirs or changed_files) or len(changed_files) > MAX_CHANGED:
        return None
    root = str(config.root)
    prefix = len(root.rstrip(os.sep)) + 1
    try:
        sources: list[Source] = [tuple(s) for s in state["sources"]]
        index = {s[0]: i for i, s in enumerate(sources)}
    except TypeError:
        return None
    touched: list[str] = []
    for path, now in changed_files.items():
        rel = path[prefix:].replace(os.sep, "/") if path.startswith(root) else None
        if rel is None or rel not in index or now[0] == -1:
            return None      # not a discovered source (spec, config, docs, outside input) or gone: run everything
        touched.append(rel)
    if not _layout_unchanged(snapshot, changed_dirs, skip):
        return None

    from plumego_lint.engine import Evaluation, _from_plain, _parse_chunk, _project_for, check_files
    from plumego_lint.engine import check_summaries, enabled_families, noqa_filter
    from plumego_lint.facts import FileFacts, SourceFile, content_hash
    from plumego_lint.rules import Analysis
    from plumego_lint.rules.base import ResolvedImports

    changed: list[str] = []
    for rel in touched:
        try:
            with open(os.path.join(root, rel), "rb") as handle:
                digest = content_hash(handle.read())
        except OSError:
            digest = ""
        if not digest or digest != sources[index[rel]][1]:
            changed.append(rel)
    changed_modules = {sources[index[rel]][2] for rel in changed if sources[index[rel]][2]}
    reads: dict[str, tuple[str, ...]] = state["reads"]
    dependents = {rel for rel, modules in reads.items()
                  if rel in index and not changed_modules.isdisjoint(modules)}
    recheck = sorted(set(changed) | dependents, key=index.__getitem__)

    make = SourceFile.make
    files = [make(os.path.join(root, rel), rel, module, is_package, is_test)
             for rel, _, module, is_package, is_test in sources]
    manifests = state.get("manifests")
    if not (isinstance(manifests, dict) and all(isinstance(v, list) for v in manifests.values())):
        manifests = None        # a state written before they were kept (or without a tree index)
    project = _project_for(config, select, ignore, use_cache=True, files=files, manifests=manifests)
    families = enabled_families(project, load_families(project))

    evaluation = Evaluation()
    try:
        for rel, plain in state["per_file"].items():
            found = _from_plain(plain)
            if found is None:
                return None
            evaluation.per_file[rel] = found
        project_findings = _from_plain(state["project"])
        if project_findings is None:
            return None
        evaluation.project = project_findings
        evaluation.summaries = {name: dict(table) for name, table in state["summaries"].items()}
        evaluation.reads = dict(reads)
        noqa: dict[str, Mapping[int, tuple[str, ...]]] = dict(state["noqa"])
    except (TypeError, ValueError, AttributeError):
        return None

    facts: dict[str, FileFacts] = {}
    new_sources = list(sources)
    if recheck:
        takers = [(family, extractor) for family in families
                  if (extractor := family.tree_extractor(project)) is not None]
        extractors = tuple(extractor for _, extractor in takers)
        by_rel = project.by_rel
        work = [(rel, by_rel[rel].abspath, tuple(x.key(by_rel[rel]) for x in extractors)) for rel in recheck]
        tree_facts: list[dict[str, object]] = [{} for _ in extractors]
        for rel, digest, plain, extras in _parse_chunk(work, extractors):
            got = facts[rel] = FileFacts.from_plain(plain)
            for i, value in enumerate(extras):
                if value is not None:
                    tree_facts[i][rel] = extractors[i].decode(value)
            if got.noqa:
                noqa[rel] = got.noqa
            else:
                noqa.pop(rel, None)
            old = sources[index[rel]]
            new_sources[index[rel]] = (rel, digest, old[2], old[3], old[4])
        for (family, _), built in zip(takers, tree_facts):
            family.take_tree_facts(project, built)
        analysis = Analysis(facts=facts, imports=ResolvedImports(project, facts))
        check_files(project, analysis, families, [by_rel[rel] for rel in recheck], evaluation)
    check_summaries(project, families, evaluation)
    # Each changed file's new entry: its stat from before it was read; when that is recent enough for a later
    # same-size same-tick write to go unseen, also the digest of the very bytes that were checked (the ones
    # parsed now, or for a touched file with the same content, the recorded hash of that content).
    horizon = _now_ns() - RACY_NS
    for path, now in changed_files.items():
        rel = path[prefix:].replace(os.sep, "/")
        digest = new_sources[index[rel]][1]
        snapshot.files[path] = (now[0], now[1], now[2], digest if now[1] >= horizon else "")
    for path, dir_now in changed_dirs.items():
        snapshot.dirs[path] = dir_now
    snapshot.settle_dirs()

    final, suppressed = noqa_filter(noqa.get, evaluation.findings())
    new_state = {
        "sources": tuple(new_sources),
        "per_file": {rel: [_plain(f) for f in found] for rel, found in evaluation.per_file.items()},
        "project": state["project"],
        "summaries": evaluation.summaries,
        "reads": evaluation.reads,
        "noqa": {rel: dict(v) for rel, v in noqa.items() if v},
        "manifests": project.manifest_listing,
    }
    return Outcome(project, final, suppressed, snapshot, new_state, recheck)


def _plain(f: Finding) -> tuple[object, ...]:
    from plumego_lint.engine import _plain as plain

    return plain(f)


def _now_ns() -> int:
    import time

    return time.time_ns()


def rebuild_analysis(project: Project) -> Analysis:
    """Facts of every file (facts cache, else a parse), for callers that ask a cached result for them."""
    from plumego_lint.engine import analyze, collect_facts

    return analyze(project, collect_facts(project))
