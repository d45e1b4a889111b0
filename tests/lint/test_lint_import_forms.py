"""Every import form (lint-anchors.md §1 a-l, dynamic and relative variants) gives the right fact and finding."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, check_json, expected_markers, found

from plumego_lint.facts import ModuleIndex, extract, resolve

ROOT = FIXTURES / "imports"


def facts_of(rel: str) -> list[tuple[str | None, int, bool, bool, bool]]:
    module = rel[:-3].replace("/", ".").removesuffix(".__init__")
    is_package = rel.endswith("__init__.py")
    index = ModuleIndex(p.relative_to(ROOT).as_posix()[:-3].replace("/", ".").removesuffix(".__init__")
                        for p in ROOT.rglob("*.py"))
    out = []
    for raw in extract((ROOT / rel).read_bytes()).imports:
        fact = resolve(raw, module, is_package, index)
        assert fact is not None
        out.append((fact.target, fact.line, fact.typing_only, fact.function_level, fact.dynamic))
    return out


def test_every_marked_line_is_reported_and_nothing_else() -> None:
    code, payload = check_json(ROOT)
    assert code == 1
    assert found(payload) == expected_markers(ROOT)


def test_module_level_and_relative_forms_resolve() -> None:
    assert ("app.ext.plugin", 2, False, False, False) in facts_of("app/stable/a_module_level.py")
    assert facts_of("app/stable/b_relative.py")[0][0] == "app.ext.plugin"
    assert facts_of("app/stable/b_relative.py")[1][0] == "app.stable.a_module_level"
    deep = facts_of("app/stable/deep/q_deep_relative.py")
    assert [d[0] for d in deep] == ["app.ext.plugin", "app.ext.plugin", "app.stable.a_module_level"]


def test_function_level_and_class_and_try() -> None:
    assert facts_of("app/stable/c_function.py") == [("app.ext.plugin", 2, False, True, False)]
    assert facts_of("app/stable/d_try.py") == [("app.ext.plugin", 2, False, False, False)]
    assert ("app.ext.plugin", 5, False, False, False) in facts_of("app/stable/p_class_and_conditional.py")


def test_type_checking_body_is_typing_only_and_else_is_runtime() -> None:
    assert ("app.ext.plugin", 4, True, False, False) in facts_of("app/stable/e_type_checking.py")
    tc_else = facts_of("app/stable/f_type_checking_else.py")
    assert ("app.ext.plugin", 4, True, False, False) in tc_else
    assert ("app.ext.other", 6, False, False, False) in tc_else


def test_dynamic_imports_literal_relative_aliased_and_nonliteral() -> None:
    assert facts_of("app/stable/g_import_module.py")[-1] == ("app.ext.plugin", 3, False, False, True)
    assert facts_of("app/stable/h_dunder_import.py") == [("app.ext.other", 1, False, False, True)]
    assert facts_of("app/stable/i_one_dot.py")[-1] == ("app.ext", 3, False, False, True)
    aliased = facts_of("app/stable/m_aliased_import_module.py")
    assert ("app.ext.plugin", 6, False, True, True) in aliased
    assert ("app.ext.other", 9, False, True, True) in aliased      # inside a lambda: runs when called
    rel = [f[0] for f in facts_of("app/stable/n_relative_dynamic.py") if f[4]]
    assert rel == ["app.ext.plugin", "app.ext", "app.stable.a_module_level"]
    nonliteral = [f for f in facts_of("app/stable/o_nonliteral.py") if f[4]]
    assert nonliteral == [(None, 4, False, False, True)]


def test_star_and_from_package_import() -> None:
    assert facts_of("app/stable/j_star.py") == [("app.ext.plugin", 1, False, False, False)]
    assert [f[0] for f in facts_of("app/stable/k_from_package.py")] == ["app.ext", "app.stable"]


def test_typing_only_can_be_ignored_globally(tmp_path: Path, fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root = fixture_copy("imports")
    (root / "pyproject.toml").write_text('[tool.plumego-lint]\ntyping_only = "ignore"\n', encoding="utf-8")
    _, payload = check_json(root)
    got = found(payload)
    assert ("app/stable/e_type_checking.py", 4, "PLG102") not in got
    assert ("app/stable/f_type_checking_else.py", 4, "PLG102") not in got
    assert ("app/stable/f_type_checking_else.py", 6, "PLG102") in got     # the else branch is runtime


def test_typing_only_can_be_ignored_per_rule(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root = fixture_copy("imports")
    (root / "pyproject.toml").write_text('[tool.plumego-lint]\nignore_typing_only = ["PLG102"]\n', encoding="utf-8")
    _, payload = check_json(root)
    got = found(payload)
    assert ("app/stable/e_type_checking.py", 4, "PLG102") not in got
    assert ("app/stable/a_module_level.py", 2, "PLG102") in got
