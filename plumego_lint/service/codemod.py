"""libcst pieces shared by the ``fix`` codemods (``fix``, ``fix_deprecated``).

Owns the return type of an import-rewriting ``leave_Import*`` and the rule that a statement line a codemod
grew (an import it added beside the one it rewrote) is split into one statement per line. Must not import
the CLI, rules or the service checks.
"""

from __future__ import annotations

import libcst as cst

SmallResult = cst.BaseSmallStatement | cst.FlattenSentinel[cst.BaseSmallStatement] | cst.RemovalSentinel


def split_grown_line(original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine,
                     ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
    """``updated`` as is, or, when the rewrite added statements to it, one line per statement (no ``;``)."""
    if len(updated.body) <= len(original.body) or len(updated.body) < 2:
        return updated
    lines = [cst.SimpleStatementLine(body=[small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
             for small in updated.body]
    lines[0] = lines[0].with_changes(leading_lines=updated.leading_lines)
    lines[-1] = lines[-1].with_changes(trailing_whitespace=updated.trailing_whitespace)
    return cst.FlattenSentinel(lines)
