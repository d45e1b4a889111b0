"""Baselines: adopt the linter on a tree with existing violations, then only let them shrink.

An entry is keyed on (rule, importer module, imported module / subject), never on line numbers, so it
survives edits that move code. Entries that match nothing any more come back as PLG903 warnings.
File format: JSON ``{"version": 1, "entries": [{"code", "importer", "subject", "path", "count"}]}``.
Must not import the engine, reporters or the CLI.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from plumego_lint.findings import Finding
from plumego_lint.spec_error import SpecError

VERSION = 1


@dataclass
class Baseline:
    path: str                                    # repo-relative (for PLG903 findings)
    counts: Counter[tuple[str, str, str]]
    paths: dict[tuple[str, str, str], str]

    @classmethod
    def load(cls, file: Path, root: Path) -> Baseline:
        try:
            display = file.resolve().relative_to(root).as_posix()
        except ValueError:
            display = file.as_posix()
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SpecError(display, 1, "baseline file not found") from None
        except (OSError, UnicodeError) as exc:
            raise SpecError(display, 1, f"cannot read baseline: {exc}") from None
        except json.JSONDecodeError as exc:
            raise SpecError(display, exc.lineno, f"invalid baseline JSON: {exc.msg}") from None
        if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(doc.get("entries"), list):
            raise SpecError(display, 1, f"baseline must be {{\"version\": {VERSION}, \"entries\": [...]}}")
        counts: Counter[tuple[str, str, str]] = Counter()
        paths: dict[tuple[str, str, str], str] = {}
        for entry in doc["entries"]:
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str)
                                                      for k in ("code", "importer", "subject")):
                raise SpecError(display, 1, "each baseline entry needs string code, importer and subject")
            key = (entry["code"], entry["importer"], entry["subject"])
            count = entry.get("count", 1)
            counts[key] += count if isinstance(count, int) and count > 0 else 1
            paths[key] = str(entry.get("path", ""))
        return cls(display, counts, paths)

    def filter(self, findings: list[Finding]) -> tuple[list[Finding], int, list[Finding]]:
        """(new findings, how many the baseline absorbed, PLG903 warnings for entries no longer needed)."""
        left = Counter(self.counts)
        kept: list[Finding] = []
        absorbed = 0
        for f in findings:
            if left[f.key] > 0:
                left[f.key] -= 1
                absorbed += 1
            else:
                kept.append(f)
        stale = [Finding("PLG903", "warning", self.path, 1, 1,
                         f"baseline entry {code} {importer} -> {subject} ({n} left over) no longer matches a finding; "
                         "remove it (re-run with --write-baseline)", None, importer=importer, subject=subject)
                 for (code, importer, subject), n in sorted(left.items()) if n > 0]
        return kept, absorbed, stale


def write_baseline(file: Path, findings: list[Finding]) -> int:
    counts: Counter[tuple[str, str, str]] = Counter()
    paths: dict[tuple[str, str, str], str] = {}
    for f in findings:
        if f.code == "PLG903":
            continue
        counts[f.key] += 1
        paths.setdefault(f.key, f.path)
    entries = [{"code": k[0], "importer": k[1], "subject": k[2], "path": paths[k], "count": n}
               for k, n in sorted(counts.items())]
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.tmp")
    tmp.write_text(json.dumps({"version": VERSION, "entries": entries}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(file)
    return len(entries)
