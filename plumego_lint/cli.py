"""Command-line interface: ``plumego-lint <command>``; a thin adapter over the engine.

Owns argument parsing, exit codes (0 clean, 1 violations, 2 usage or config error) and output
streams. Must hold no rule logic: every command calls into the specs/engine packages.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from plumego_lint import __version__
from plumego_lint.spec_error import SpecError

# not typing.TYPE_CHECKING: importing typing costs the replayed run ~8 ms (mypy reads it the same)
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from plumego_lint.config import Config
    from plumego_lint.findings import Finding

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2


def _cmd_tiers(args: argparse.Namespace) -> int:
    import json

    from plumego_lint.specs import TierIndex

    index = TierIndex.installed()
    rows = [entry for entry in index if not args.prefix or entry.module.startswith(args.prefix)]
    if args.format == "json":
        payload = [{"module": e.module, "tier": e.tier, "source": str(e.source)} for e in rows]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        width = max((len(e.module) for e in rows), default=0)
        for e in rows:
            sys.stdout.write(f"{e.module:<{width}}  {e.tier:<12}  {e.source}\n")
    return EXIT_OK


def _codes(values: list[str] | None) -> list[str]:
    return [c for v in values or [] for c in v.replace(",", " ").split() if c]


def _relative_to_cwd(findings: list[Finding], root: Path) -> list[Finding]:
    """Text on standard output names files as the shell sees them from here (``../app/x.py`` from a subfolder);
    every other format, and text written to a file, keeps the repo-relative paths it documents."""
    import dataclasses
    import os
    from pathlib import Path

    cwd = Path.cwd().resolve()
    if cwd == root:
        return findings
    return [dataclasses.replace(f, path=os.path.relpath(root / f.path, cwd).replace(os.sep, "/")) for f in findings]


def _source_lines(root: Path, findings: list[Finding]) -> tuple[str | None, ...]:
    """The line each finding points at (``--show-source``); None for a folder (PLG201 on a package) or a gone file."""
    files: dict[str, list[str] | None] = {}
    out: list[str | None] = []
    for f in findings:
        if f.path not in files:
            try:
                files[f.path] = (root / f.path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                files[f.path] = None
        lines = files[f.path]
        out.append(lines[f.line - 1] if lines is not None and 0 < f.line <= len(lines) else None)
    return tuple(out)


def _cmd_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plumego_lint import terminal
    from plumego_lint.codes import unknown_codes
    from plumego_lint.engine import CheckOptions, run_check
    from plumego_lint.reporters import make_report, render

    paths = [Path(p) for p in args.paths]
    start = paths[0] if paths else Path.cwd()
    missing = [p for p in paths if not p.exists()]
    if missing:
        sys.stderr.write(f"plumego-lint: path not found: {missing[0]}\n")
        return EXIT_USAGE
    select, ignore = _codes(args.select), _codes(args.ignore)
    unknown = unknown_codes([*select, *ignore])
    if unknown:     # it would select nothing, and a run that checks nothing reads as clean
        sys.stderr.write(f"plumego-lint: unknown rule code {unknown[0]!r} in --select/--ignore "
                         "(codes and prefixes such as PLG1 or PLG301: see `plumego-lint explain`)\n")
        return EXIT_USAGE
    if (args.statistics or args.show_source) and args.format != "text":
        sys.stderr.write("plumego-lint: --statistics and --show-source apply to --format text\n")
        return EXIT_USAGE
    progress = terminal.progress_for()
    options = CheckOptions(paths=paths, config_file=Path(args.config) if args.config else None,
                           select=select, ignore=ignore, jobs=args.jobs, use_cache=not args.no_cache,
                           baseline=Path(args.baseline) if args.baseline and not args.write_baseline else None,
                           outputs=[Path(args.output)] if args.output else [], progress=progress)
    try:
        result = run_check(start, options)
    finally:
        if progress is not None:
            progress.close()
    outside = [p for p in paths if not p.resolve().is_relative_to(result.root)]
    if outside:     # it would report nothing for them, which reads as "clean"
        sys.stderr.write(f"plumego-lint: {outside[0]} is outside the project root {result.root}\n")
        return EXIT_USAGE
    from plumego_lint.config import load_config

    config = load_config(result.root, options.config_file)
    notes = ""      # for standard error (and for replaying this run)
    if "stable_paths" in config.key_lines and not config.stable_paths and config.specs is None:
        notes += (f"plumego-lint: warning: {config.location('stable_paths')}: stable_paths = [] guards nothing "
                  "(PLG301 is off everywhere); remove the key to make every first-party package stable, or ignore "
                  "PLG301 if that is the intent\n")
    checked = _checked_files(config, result.files, paths)
    if checked == 0:
        where = ", ".join(args.paths) if paths else f"the source roots of {result.root}"
        if not any(_holds_python(p) for p in paths):    # saying nothing would read as "clean"
            sys.stderr.write(f"{notes}plumego-lint: no Python files to check in {where}\n")
            return EXIT_USAGE
        # Python files the configuration leaves out (exclude, source_roots): as flake8 does with excluded
        # files it is given, an empty report and exit 0, so that pre-commit on such a commit passes.
        notes += f"plumego-lint: nothing to check: the configuration excludes {where} (exclude / source_roots)\n"
    sys.stderr.write(notes)
    if args.write_baseline:
        from plumego_lint.baseline import write_baseline

        n = write_baseline(Path(args.write_baseline), result.findings)
        sys.stderr.write(f"plumego-lint: wrote {n} baseline entries to {args.write_baseline}\n")
        return EXIT_OK
    findings = result.findings
    sources = _source_lines(result.root, findings) if args.show_source else ()
    to_terminal = args.format == "text" and not args.output
    if to_terminal:
        findings = _relative_to_cwd(findings, result.root)
    report = make_report(str(result.root), checked, findings, statistics=args.statistics, source_lines=sources)
    text = render(args.format, report)
    # the coloured text and the clean-run line, for a terminal (and for replaying this run on one)
    coloured = render("text", make_report(str(result.root), checked, findings, statistics=args.statistics,
                                          source_lines=sources, colour=True)) if to_terminal else None
    summary = terminal.clean_summary(checked, False) if to_terminal and not findings else None
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    else:
        terminal.write_report(sys.stdout, text, coloured, summary)
    code = EXIT_OK if args.exit_zero or not report.count("error") else EXIT_VIOLATIONS
    argv = getattr(args, "argv", None)
    if argv is not None and result.run_stamp is not None:
        from plumego_lint import replay

        replay.record(argv, str(result.root), result.run_stamp[0], result.run_stamp[1], text,
                      str(Path(args.output).resolve()) if args.output else None, code, coloured, summary,
                      notes or None)
    return code


def _holds_python(path: Path) -> bool:
    if path.is_file():
        return path.suffix == ".py"
    return any(path.rglob("*.py"))


def _checked_files(config: Config, files: int, paths: list[Path]) -> int:
    """How many files this run checked: the project's, or those at or below the named paths."""
    if not paths:
        return files
    from plumego_lint.discovery import files_under

    return len(files_under(config, paths))


def _explain_edge(args: argparse.Namespace) -> int:
    """Why one import is allowed or denied: the spec boundary rules (a repo with specs) and, in a service repo,
    the service rules, each with its trace; exit 1 when any error-severity rule denies it."""
    from pathlib import Path

    from plumego_lint.config import find_root, load_config
    from plumego_lint.rules import RULES, BoundaryModel
    from plumego_lint.service import is_plumego_repo

    importer, target = args.edge
    config_file = Path(args.config) if args.config else None
    root = config_file.resolve().parent if config_file else find_root(Path(args.root) if args.root else Path.cwd())
    config = load_config(root, config_file)
    trace: list[str] = []
    denials: list[tuple[str, str, str | None]] = []     # (code, message, source)
    notes: list[tuple[str, str, str | None]] = []       # information findings (PLG304): never deny
    if config.specs is not None:
        from plumego_lint.engine import build_project

        project = build_project(root, config_file)
        assert project.specs is not None
        model = BoundaryModel(project.specs, project.modules.top_level)
        is_package = importer in project.by_module and project.by_module[importer].is_package
        for v in model.violations(importer, is_package, target, trace=trace, function_level=args.function_level,
                                  typing_only=args.typing_only):
            (notes if RULES[v.code].severity == "info" else denials).append(
                (v.code, v.message, str(v.source) if v.source else None))
    if not is_plumego_repo(config.root):
        from plumego_lint.rules.service import config_source
        from plumego_lint.service import ServiceContext, service_config
        from plumego_lint.service.edge import explain_edge

        ctx = ServiceContext.create(service_config(config))
        verdict = explain_edge(ctx, importer, target, typing_only=args.typing_only,
                               function_level=args.function_level,
                               where=lambda key: config.location(key if key in config.key_lines else "__table__"))
        trace += verdict.trace
        for f in verdict.findings:
            (notes if f.severity == "info" else denials).append(
                (f.code, f.message, f.source or config_source(config, f.code)))
    elif config.specs is None:
        sys.stderr.write("plumego-lint: no specs found (specs/repo.yaml); nothing decides import edges\n")
        return EXIT_USAGE
    sys.stdout.write(f"{importer} -> {target}\n")
    for line in trace:
        sys.stdout.write(f"  - {line}\n")
    for code, message, source in notes:
        sys.stdout.write(f"  note {code}: {message}{f' [{source}]' if source else ''}\n")
    if denials:
        code, message, source = denials[0]
        sys.stdout.write(f"verdict: DENIED by {code} ({RULES[code].name}): {message}"
                         f"{f' [{source}]' if source else ''}\n")
        for code, message, source in denials[1:]:
            sys.stdout.write(f"  also {code}: {message}{f' [{source}]' if source else ''}\n")
        return EXIT_VIOLATIONS
    sys.stdout.write("verdict: ALLOWED\n")
    return EXIT_OK


def _source_here(code: str, args: argparse.Namespace) -> str | None:
    """The source a finding of ``code`` cites in the repo ``explain`` runs in (None when it depends on the finding,
    or outside any repo): PLG201 cites the list of names it comes from, service hygiene codes their config key."""
    from pathlib import Path

    from plumego_lint.config import find_root, load_config
    from plumego_lint.service import is_plumego_repo

    config_file = Path(args.config) if args.config else None
    root = config_file.resolve().parent if config_file else find_root(Path(args.root) if args.root else Path.cwd())
    config = load_config(root, config_file)
    if config.specs is not None:
        if code != "PLG201":
            return None
        from plumego_lint.specs import load_specs

        return str(load_specs(config.root, config.specs).repo.discouraged_location)
    if is_plumego_repo(config.root) or code not in ("PLG201", "PLG601", "PLG602", "PLG603"):
        return None
    from plumego_lint.rules.service import config_source

    return config_source(config, code)


def _cmd_explain(args: argparse.Namespace) -> int:
    import textwrap

    from plumego_lint.rules import RULES

    if args.edge:
        return _explain_edge(args)
    if not args.code and args.markdown:
        from plumego_lint.generate import render_rules_reference

        sys.stdout.write(render_rules_reference(RULES.values()))
        return EXIT_OK
    if not args.code:
        width = max(len(r.name) for r in RULES.values())
        for each in RULES.values():
            sys.stdout.write(f"{each.code}  {each.name:<{width}}  {each.severity:<7}  {each.summary}\n")
        return EXIT_OK
    code = args.code.upper()
    rule = RULES.get(code)
    if rule is None:
        sys.stderr.write(f"plumego-lint: unknown rule code {args.code!r} (see `plumego-lint explain`)\n")
        return EXIT_USAGE
    body = "\n".join(textwrap.wrap(rule.explain, 100))
    try:
        here = _source_here(code, args)
    except SpecError:       # a broken config must not stop `explain` from saying what a rule means
        here = None
    sys.stdout.write(f"{rule.code} {rule.name} ({rule.severity})\n{rule.summary}\n\n{body}\n\n"
                     f"Spec key: {rule.spec_key}\n"
                     + (f"In this repo, findings cite: {here}\n" if here else "")
                     + f"Silence one line with `# noqa: {rule.code}`.\n")
    return EXIT_OK


def _cmd_sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plumego_lint.engine import build_project
    from plumego_lint.generate import expected_files, write_files
    from plumego_lint.rules.docs_sync import importlinter_path

    project = build_project(Path(args.root) if args.root else Path.cwd(), Path(args.config) if args.config else None)
    if project.specs is None:
        sys.stderr.write("plumego-lint: no specs found (specs/repo.yaml); nothing to sync\n")
        return EXIT_USAGE
    expected, drifts = expected_files(project.specs, importlinter_path(project))
    if args.check:
        for d in drifts:
            sys.stdout.write(f"{d.path}:{d.line}:1: PLG501 {d.message}\n")
        return EXIT_VIOLATIONS if drifts else EXIT_OK
    written = write_files(project.root, expected)
    for rel in written:
        sys.stdout.write(f"wrote {rel}\n")
    unfixable = [d for d in drifts if "no module.yaml" in d.message or "no matching end" in d.message]
    for d in unfixable:
        sys.stderr.write(f"{d.path}:{d.line}:1: PLG501 {d.message}\n")
    return EXIT_VIOLATIONS if unfixable else EXIT_OK


def _cmd_fix(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plumego_lint.config import find_root
    from plumego_lint.service import ServiceContext, load_service_config
    from plumego_lint.engine import code_filter
    from plumego_lint.service.fix import apply, plan

    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        sys.stderr.write(f"plumego-lint: path not found: {missing[0]}\n")
        return EXIT_USAGE
    from plumego_lint.codes import unknown_codes

    unknown = unknown_codes([*_codes(args.select), *_codes(args.ignore)])
    if unknown:
        sys.stderr.write(f"plumego-lint fix: unknown rule code {unknown[0]!r} in --select/--ignore\n")
        return EXIT_USAGE
    ctx = ServiceContext.create(load_service_config(find_root(Path(args.root) if args.root else Path.cwd())))
    outside = [p for p in paths if not p.resolve().is_relative_to(ctx.config.root.resolve())]
    if outside:     # nothing would be fixed there, which would read as "nothing to fix"
        sys.stderr.write(f"plumego-lint: {outside[0]} is outside the project root {ctx.config.root}\n")
        return EXIT_USAGE
    result = plan(ctx, paths, code_filter(_codes(args.select), _codes(args.ignore)))
    for reason in result.skipped:
        sys.stderr.write(f"plumego-lint fix: not fixed automatically: {reason}\n")
    if args.diff:
        sys.stdout.write("".join(edit.diff(ctx.config.root) for edit in result.edits))
        return EXIT_VIOLATIONS if result.edits else EXIT_OK
    apply(result.edits)
    for edit in result.edits:
        verb = "created" if not edit.before else "rewrote"
        sys.stderr.write(f"plumego-lint fix: {verb} {edit.path.relative_to(ctx.config.root).as_posix()}\n")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    import json

    from plumego_lint.engine import CheckOptions, run_check
    from plumego_lint.service import ServiceContext, load_service_config
    from plumego_lint.service.report import (ArchModel, ReportFinding, ReportInputError, build_model, diff_models,
                                             model_at_revision, render_dot, render_json, render_markdown,
                                             tty_progress)

    def build(root: Path, progress: bool) -> ArchModel:
        result = run_check(root, CheckOptions(use_cache=not args.no_cache))
        findings = [ReportFinding(f.code, f.severity, f.path, f.line, f.message) for f in result.findings]
        ctx = ServiceContext.create(load_service_config(result.project.root))
        return build_model(ctx, findings, tty_progress() if progress else None)

    from plumego_lint.config import find_root
    root = find_root(Path(args.root) if args.root else Path.cwd())
    model = build(root, True)
    delta = None
    try:
        if args.base:
            delta = diff_models(model_at_revision(root, args.base, lambda r: build(r, False)), model, args.base)
        elif args.baseline:
            try:
                data = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ReportInputError(f"cannot read {args.baseline}: {exc}") from exc
            delta = diff_models(ArchModel.from_json(data), model, args.baseline)
    except ReportInputError as exc:
        sys.stderr.write(f"plumego-lint report: {exc}\n")
        return EXIT_USAGE
    text = (render_markdown(model, delta) if args.format == "markdown"
            else render_json(model, delta) if args.format == "json" else render_dot(model))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plumego_lint.service.init_config import inspect_repo, write_section

    root = Path(args.root or ".").resolve()
    if not root.is_dir():       # never create a folder (a typo would give a config for nothing)
        sys.stderr.write(f"plumego-lint init: {args.root or '.'} is not a directory\n")
        return EXIT_USAGE
    proposal = inspect_repo(root)
    for line in proposal.summary():
        sys.stderr.write(f"plumego-lint init: {line}\n")
    if args.print:
        sys.stdout.write(proposal.toml())
        return EXIT_OK
    try:
        written = write_section(root, proposal)
    except FileExistsError as exc:
        sys.stderr.write(f"plumego-lint init: {exc}\n")
        return EXIT_USAGE
    sys.stderr.write(f"plumego-lint init: wrote [tool.plumego-lint] to {written}\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    import argparse

    from plumego_lint.reporters import FORMATS

    parser = argparse.ArgumentParser(prog="plumego-lint", description="Boundary and architecture linter for Plumego.")
    parser.add_argument("--version", action="version", version=f"plumego-lint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check the project (or only report on PATHs)")
    check.add_argument("paths", nargs="*", metavar="PATH")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--select", action="append", metavar="CODES", help="only these codes/prefixes (comma list)")
    check.add_argument("--ignore", action="append", metavar="CODES", help="skip these codes/prefixes (comma list)")
    check.add_argument("--baseline", metavar="FILE", help="ignore findings recorded in this baseline")
    check.add_argument("--write-baseline", metavar="FILE", help="record every current finding and exit 0")
    check.add_argument("--jobs", type=int, default=None, metavar="N", help="parser processes (default: all cores)")
    check.add_argument("--no-cache", action="store_true", help="do not read or write .plumego-lint-cache/")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are errors")
    check.add_argument("--statistics", action="store_true",
                       help="after the findings, one line per code: count, code, first message (text format)")
    check.add_argument("--show-source", action="store_true",
                       help="show the source line of each finding, with a caret under the column (text format)")
    check.add_argument("--config", metavar="FILE", help="config file (default: pyproject.toml [tool.plumego-lint])")
    check.set_defaults(handler=_cmd_check)

    explain = sub.add_parser("explain", help="what a rule means, or why an import edge is allowed or denied")
    explain.add_argument("code", nargs="?", help="a rule code such as PLG101 (no code: list every rule)")
    explain.add_argument("--import", dest="edge", nargs=2, metavar=("IMPORTER", "TARGET"),
                         help="dotted importer module and imported module")
    explain.add_argument("--markdown", action="store_true",
                         help="with no code: print every rule as the Markdown reference (docs/rules.md)")
    explain.add_argument("--function-level", action="store_true", help="treat the import as inside a function")
    explain.add_argument("--typing-only", action="store_true", help="treat the import as under TYPE_CHECKING")
    explain.add_argument("--root", help="project root (default: discovered from the current directory)")
    explain.add_argument("--config", metavar="FILE")
    explain.set_defaults(handler=_cmd_explain)

    sync = sub.add_parser("sync", help="regenerate .importlinter and module-facts blocks from specs")
    sync.add_argument("--check", action="store_true", help="write nothing; exit 1 when anything drifted")
    sync.add_argument("--root", help="project root (default: discovered from the current directory)")
    sync.add_argument("--config", metavar="FILE")
    sync.set_defaults(handler=_cmd_sync)

    fix = sub.add_parser("fix", help="codemods: deprecated symbols to their replacement (PLG305), direct "
                                     "experimental imports behind adapter Protocols (PLG301)")
    fix.add_argument("paths", nargs="*", metavar="PATH")
    fix.add_argument("--diff", action="store_true", help="print the change as a unified diff; write nothing")
    fix.add_argument("--root", help="project root (default: discovered from the current directory)")
    fix.add_argument("--select", action="append", metavar="CODES", help="only these codemods (PLG305, PLG301)")
    fix.add_argument("--ignore", action="append", metavar="CODES", help="skip these codemods")
    fix.set_defaults(handler=_cmd_fix)

    report = sub.add_parser("report", help="CI architecture report: module graph, plumego tiers, findings, delta")
    report.add_argument("--format", choices=("markdown", "json", "dot"), default="markdown")
    report.add_argument("--output", metavar="FILE")
    report.add_argument("--base", metavar="REV", help="compare with this git revision (checked out in a worktree)")
    report.add_argument("--baseline", metavar="FILE", help="compare with an earlier `report --format json`")
    report.add_argument("--no-cache", action="store_true")
    report.add_argument("--root", help="project root (default: discovered from the current directory)")
    report.set_defaults(handler=_cmd_report)

    init = sub.add_parser("init", help="inspect a service repo and write [tool.plumego-lint] to its pyproject.toml")
    init.add_argument("--root", help="the service repo (default: the current directory)")
    init.add_argument("--print", action="store_true", help="print the section instead of writing it")
    init.set_defaults(handler=_cmd_init)

    tiers = sub.add_parser("tiers",
                           help="list every plumego module with its maturity tier (from installed package data)")
    tiers.add_argument("--format", choices=("text", "json"), default="text")
    tiers.add_argument("--prefix", default="", help="only modules whose dotted name starts with this")
    tiers.set_defaults(handler=_cmd_tiers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from plumego_lint import replay

    arguments = list(sys.argv[1:] if argv is None else argv)
    replayed = replay.replay(arguments)       # an identical check over an unchanged tree: re-emit its report
    if replayed is not None:
        return replayed
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
        args.argv = arguments
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.handler(args)
    except SpecError as exc:
        sys.stderr.write(f"{exc.path}:{exc.line}:1: PLG902 {exc.message}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
