"""Everything generated from specs: ``.importlinter`` contracts and module-facts blocks in Markdown.

Owns rendering (pure functions of the SpecSet and module.yaml contents) and drift detection
(``expected_files`` vs disk) used by ``plumego-lint sync [--check]`` and rule PLG501.
Must not import rules, the engine, reporters or the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from plumego_lint.specs import SpecSet, match_pattern, rel_to_dotted
from plumego_lint.specs.yamlsource import SpecError, load_yaml

BEGIN = "<!-- plumego-lint:begin module-facts {path} -->"
END = "<!-- plumego-lint:end module-facts {path} -->"
# Markers count only at the start of a line (so prose can quote them in backticks).
_BLOCK = re.compile(r"^<!-- plumego-lint:begin module-facts (?P<path>[^ ]*) -->\n(?P<body>.*?)"
                    r"^<!-- plumego-lint:end module-facts (?P=path) -->", re.DOTALL | re.MULTILINE)
_OPEN = re.compile(r"^<!-- plumego-lint:begin module-facts (?P<path>[^ ]*) -->", re.MULTILINE)
IMPORTLINTER = ".importlinter"
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".plumego-lint-cache", "build", "dist"})


@dataclass(frozen=True)
class Drift:
    """A generated file (or block) that differs from what the specs say; ``line`` is where it starts."""

    path: str
    line: int
    message: str
    subject: str


# --------------------------------------------------------------------------------------- .importlinter

def _overlaps(a: str, b: str) -> bool:
    return match_pattern(a, b) or match_pattern(b, a)


def _expand_deny(specs: SpecSet, pattern: str, source: str) -> list[str]:
    """Modules (rel paths) a deny pattern forbids, without the source's own subtree (import-linter rejects
    overlapping source and forbidden modules; the linter exempts a module's own path the same way)."""
    if pattern.endswith("/*"):
        return [pattern]
    base = pattern.removesuffix("/**") if pattern != "**" else ""
    if base and not _overlaps(base, source):
        return [base]
    known = sorted({*specs.repo.layer_paths("stable"), *specs.repo.layer_paths("extension"),
                    *(r.path for r in specs.rules.modules.values()), *specs.manifests})
    picked = [k for k in known if k and match_pattern(pattern, k) and not _overlaps(k, source)]
    return [k for k in picked if not any(o != k and match_pattern(o, k) for o in picked)]


def render_importlinter(specs: SpecSet) -> str:
    pkg = specs.package
    rules_file = specs.spec_file("dependency-rules.yaml")
    out = [f"# Generated from {rules_file} and {specs.spec_file('repo.yaml')} by `plumego-lint sync`;",
           "# do not edit by hand. `plumego-lint sync --check` (and PLG501) fail when it drifts.",
           "[importlinter]", f"root_package = {pkg}", ""]
    stable = [p for p in specs.repo.layer_paths("stable") if (specs.package_dir / p).exists()]
    ext_roots = sorted({p.split("/")[0] for p in specs.repo.layer_paths("extension")})
    if stable and ext_roots and specs.rules.flag("stable_must_not_depend_on_extension"):
        out += ["[importlinter:contract:stable-roots-never-import-extensions]",
                "name = Stable roots never import x/* (directly or indirectly)",
                "type = forbidden", "source_modules ="]
        out += [f"    {rel_to_dotted(pkg, p)}" for p in stable]
        out += ["forbidden_modules ="] + [f"    {rel_to_dotted(pkg, r)}" for r in ext_roots] + [""]
    for name, rule in sorted(specs.rules.modules.items(), key=lambda kv: kv[1].path):
        if not rule.deny or not (specs.package_dir / rule.path).exists():
            continue
        forbidden: list[str] = []
        for entry in rule.deny:
            for rel in _expand_deny(specs, entry.pattern, rule.path):
                dotted = rel_to_dotted(pkg, rel.removesuffix("/*")) + (".*" if rel.endswith("/*") else "")
                exists = rel.endswith("/*") or (specs.package_dir / rel).exists() or \
                    (specs.package_dir / f"{rel}.py").exists()
                if exists and dotted not in forbidden:
                    forbidden.append(dotted)
        if not forbidden:
            continue
        slug = rule.path.replace("/", "-") or "root"
        out += [f"[importlinter:contract:deny-{slug}]",
                f"name = {rel_to_dotted(pkg, rule.path)} imports nothing on its deny list ({rules_file} module {name})",
                "type = forbidden", "source_modules =", f"    {rel_to_dotted(pkg, rule.path)}", "forbidden_modules ="]
        out += [f"    {f}" for f in forbidden]
        out += ["allow_indirect_imports = True", ""]
    return "\n".join(out).rstrip("\n") + "\n"


# ------------------------------------------------------------------------------------- module facts

def _manifest_doc(specs: SpecSet, directory: str) -> dict[str, Any]:
    manifest = specs.manifests[directory]
    doc = load_yaml(specs.root / manifest.file, manifest.file)
    return dict(doc) if isinstance(doc, dict) else {}


def _items(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def render_block(specs: SpecSet, path: str) -> str:
    """The module-facts block for module directory ``path`` (markers included)."""
    head = _manifest_doc(specs, path)
    members = [path] + sorted(d for d in specs.manifests if d != path and (not path or d.startswith(path + "/")))
    lines = [BEGIN.format(path=path), "<!-- generated from module.yaml by `plumego-lint sync`; do not edit by hand -->",
             "", "| module | tier | owner | summary |", "|---|---|---|---|"]
    for d in members:
        m = specs.manifests[d]
        lines.append(f"| `{rel_to_dotted(specs.package, d)}` | {m.status} | {m.owner} | {m.summary} |")
    lines += ["", "Responsibilities:", ""] + [f"- {r}" for r in _items(head.get("responsibilities"))]
    lines += ["", "Non-goals:", ""] + [f"- {r}" for r in _items(head.get("non_goals"))]
    allowed = _items(head.get("allowed_imports"))
    forbidden = _items(head.get("forbidden_imports"))
    lines += ["", "May import: " + (", ".join(f"`{a}`" for a in allowed) or "nothing listed") + ".",
              "Must not import: " + (", ".join(f"`{a}`" for a in forbidden) or "nothing listed") + ".", "",
              END.format(path=path)]
    return "\n".join(lines)


def _markdown_files(root: Path) -> Iterator[Path]:
    readme = root / "README.md"
    if readme.is_file():
        yield readme
    docs = root / "docs"
    if docs.is_dir():
        stack = [docs]
        while stack:
            d = stack.pop()
            try:
                entries = sorted(d.iterdir())
            except OSError:
                continue
            for e in entries:
                if e.is_dir() and not e.is_symlink() and e.name not in _SKIP_DIRS and not e.name.startswith("."):
                    stack.append(e)
                elif e.suffix == ".md" and e.is_file():
                    yield e


def sync_markdown(specs: SpecSet, text: str, display: str) -> tuple[str, list[Drift]]:
    """``text`` with every module-facts block regenerated, and the blocks that were out of date."""
    drifts: list[Drift] = []
    for m in _OPEN.finditer(text):
        if _BLOCK.match(text, m.start()) is None:
            drifts.append(Drift(display, text.count("\n", 0, m.start()) + 1,
                                f"module-facts block {m.group('path')!r} has no matching end marker", m.group("path")))

    def replace(m: re.Match[str]) -> str:
        path = m.group("path")
        line = text.count("\n", 0, m.start()) + 1
        if path not in specs.manifests:
            drifts.append(Drift(display, line, f"module-facts block names {path!r}, which has no module.yaml", path))
            return m.group(0)
        try:
            fresh = render_block(specs, path)
        except SpecError:
            return m.group(0)
        if fresh != m.group(0):
            drifts.append(Drift(display, line, f"module-facts block {path!r} is out of date with "
                                f"{specs.manifests[path].file}; run `plumego-lint sync`", path))
        return fresh

    return _BLOCK.sub(replace, text), drifts


def expected_files(specs: SpecSet, importlinter: str | None = IMPORTLINTER) -> tuple[dict[str, str], list[Drift]]:
    """Every generated file's expected content (repo-relative path -> text) and every drift from disk."""
    root = specs.root
    expected: dict[str, str] = {}
    drifts: list[Drift] = []
    if importlinter:
        fresh = render_importlinter(specs)
        expected[importlinter] = fresh
        current = _read(root / importlinter)
        if current is None:
            drifts.append(Drift(importlinter, 1, f"{importlinter} is missing; run `plumego-lint sync`", importlinter))
        elif current != fresh:
            drifts.append(Drift(importlinter, _first_diff_line(current, fresh),
                                f"{importlinter} is out of date with {specs.spec_file('dependency-rules.yaml')}; run "
                                "`plumego-lint sync`", importlinter))
    for file in _markdown_files(root):
        text = _read(file)
        if text is None or "plumego-lint:begin module-facts" not in text:
            continue
        display = file.relative_to(root).as_posix()
        fresh, found = sync_markdown(specs, text, display)
        drifts.extend(found)
        if fresh != text:
            expected[display] = fresh
    return expected, drifts


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        return None


def _first_diff_line(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return i
    return min(len(a.splitlines()), len(b.splitlines())) + 1


def write_files(root: Path, files: dict[str, str]) -> list[str]:
    """Write the files whose content differs; returns the paths written."""
    written: list[str] = []
    for rel, text in sorted(files.items()):
        target = root / rel
        if _read(target) == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.plumego-lint.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        written.append(rel)
    return written


# ------------------------------------------------------------------------------------ rule reference

class RuleText(Protocol):
    """What the reference shows of a rule (``plumego_lint.rules.Rule``; not imported: generate is below rules)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def explain(self) -> str: ...
    @property
    def spec_key(self) -> str: ...


RULES_DOC = "docs/rules.md"


def render_rules_reference(rules: Iterable[RuleText]) -> str:
    """The Markdown rule reference (docs/rules.md): one anchored section per code, from the rule registry,
    so the page cannot drift from ``plumego-lint explain`` (a test compares them)."""
    rules = list(rules)
    lines = ["# plumego-lint rule reference", "",
             "<!-- generated by `plumego-lint explain --markdown > docs/rules.md`; do not edit by hand -->", "",
             "Every code `plumego-lint` can report, with what it enforces and where the rule comes from. "
             "Silence one line with `# noqa: PLGnnn`; adopt on an existing codebase with `--write-baseline`. "
             "`plumego-lint explain PLGnnn` prints the same text; `plumego-lint explain --import A B` says why one "
             "import edge is allowed or denied.", "",
             "| code | name | severity | summary |", "|---|---|---|---|"]
    lines += [f"| [{r.code}](#{r.code.lower()}) | {r.name} | {r.severity} | {r.summary} |" for r in rules]
    for r in rules:
        lines += ["", f"## {r.code}", "", f"**{r.name}** ({r.severity}): {r.summary}.", "", r.explain, "",
                  f"Spec key: {r.spec_key}"]
    return "\n".join(lines) + "\n"
