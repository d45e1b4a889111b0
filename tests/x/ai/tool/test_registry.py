"""The tool registry: policies, schema validation, timeouts, retries, metrics, provider tool calls, built-ins."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from plumego.x.ai.provider import ToolUse
from plumego.x.ai.tool import (AllowListPolicy, Registry, RetryableToolError, Tool, builtin_tools, evaluate,
                               file_tools, shell_tool)


def _registry(**kw: Any) -> Registry:
    registry = Registry(**kw)
    for tool in builtin_tools():
        registry.register(tool)
    return registry


async def test_builtins_are_only_the_harmless_ones() -> None:
    registry = _registry()
    assert sorted(t.name for t in registry.list()) == ["calculator", "echo", "timestamp"]
    assert (await registry.execute("echo", {"text": "hi"})).output == "hi"
    assert (await registry.execute("calculator", '{"expression": "2 ** 10 + sqrt(16)"}')).output["result"] == 1028
    assert isinstance((await registry.execute("timestamp", {"format": "unix"})).output, int)
    tools = registry.to_provider_tools()
    assert tools[1].name == "calculator" and tools[1].input_schema["required"] == ["expression"]


@pytest.mark.parametrize("expression", ["__import__('os')", "(1).__class__", "9 ** 9 ** 9", "1/0", "x", "", "a b"])
async def test_the_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    result = await _registry().execute("calculator", {"expression": expression})
    assert result.is_error and result.error_kind in ("failed", "invalid_input")


async def test_bad_arguments_are_typed_results_not_exceptions() -> None:
    registry = _registry()
    missing = await registry.execute("echo", {})
    assert missing.error_kind == "invalid_input" and "'text' is a required property" in missing.error
    extra = await registry.execute("echo", {"text": "a", "other": 1})
    assert extra.error_kind == "invalid_input"
    assert (await registry.execute("echo", "{not json")).error_kind == "invalid_input"
    assert (await registry.execute("echo", "[1]")).error_kind == "invalid_input"
    assert (await registry.execute("nope", {})).error_kind == "not_found"
    block = await registry.execute_tool_use(ToolUse("call_1", "echo", {"text": 5}))
    assert block.type == "tool_result" and block.is_error and block.tool_use_id == "call_1"
    assert "5 is not of type 'string'" in block.text
    stats = registry.stats()["echo"]
    assert stats.calls == 5 and stats.errors == 5 and stats.errors_by_kind == {"invalid_input": 5}


async def test_allow_list_policy_filters_listing_and_execution() -> None:
    registry = _registry(policy=AllowListPolicy(["echo", "calculator"], per_role={"guest": ["echo"]}))
    assert [t.name for t in registry.list_for_context({"role": "guest"})] == ["echo"]
    assert [t.name for t in registry.list_for_context({})] == ["echo", "calculator"]
    assert (await registry.execute("timestamp", {})).error_kind == "not_allowed"
    assert (await registry.execute("calculator", {"expression": "1"}, {"role": "guest"})).error_kind == "not_allowed"


async def test_timeouts_retries_and_metrics() -> None:
    attempts = {"n": 0}

    async def flaky(args: dict[str, Any]) -> Any:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise RetryableToolError("try again")
        return "ok"

    async def slow(args: dict[str, Any]) -> Any:
        await asyncio.sleep(10)

    registry = Registry()
    registry.register(Tool("flaky", "", {"type": "object"}, flaky, max_retries=2))
    registry.register(Tool("slow", "", {"type": "object"}, slow, timeout=0.05))
    result = await registry.execute("flaky", {})
    assert result.output == "ok" and result.metrics.retry_count == 2 and registry.stats()["flaky"].retries == 2
    timed_out = await registry.execute("slow", {})
    assert timed_out.error_kind == "timeout" and registry.stats()["slow"].errors == 1
    blocks = await registry.execute_all([ToolUse("a", "flaky", {}), ToolUse("b", "slow", {})])
    assert [b.tool_use_id for b in blocks] == ["a", "b"] and blocks[1].is_error


def test_registration_checks_names_and_schemas() -> None:
    async def run(args: dict[str, Any]) -> Any:
        return None
    registry = Registry()
    with pytest.raises(ValueError):
        registry.register(Tool("bad name!", "", {"type": "object"}, run))
    with pytest.raises(Exception, match="is not valid"):
        registry.register(Tool("t", "", {"type": "objekt"}, run))
    registry.register(Tool("t", "", {"type": "object"}, run))
    with pytest.raises(ValueError):
        registry.register(Tool("t", "", {"type": "object"}, run))
    assert evaluate("min(3, 2) * pi") == pytest.approx(6.283185307)


async def test_file_tools_stay_inside_their_root(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "secret.txt").write_text("nope")
    (tmp_path / "root" / "link").symlink_to(tmp_path / "secret.txt")
    registry = Registry()
    for tool in file_tools(tmp_path / "root", writable=True, max_bytes=100):
        registry.register(tool)
    assert (await registry.execute("write_file", {"path": "a/b.txt", "content": "hello"})).output["bytes"] == 5
    assert (await registry.execute("read_file", {"path": "a/b.txt"})).output == "hello"
    for path in ("../secret.txt", "/etc/passwd", "link"):
        result = await registry.execute("read_file", {"path": path})
        assert result.error_kind == "failed" and "outside" in result.error
    too_big = await registry.execute("write_file", {"path": "big.txt", "content": "x" * 101})
    assert too_big.is_error and not (tmp_path / "root" / "big.txt").exists()
    assert [t.name for t in file_tools(tmp_path / "root")] == ["read_file"]


async def test_shell_tool_is_opt_in_with_a_timeout(tmp_path: Path) -> None:
    registry = Registry()
    registry.register(shell_tool(tmp_path, 0.5, allowed_commands=[Path(sys.executable).name, "pwd"]))
    ok = await registry.execute("bash", {"command": "pwd"})
    assert ok.output["exit_code"] == 0 and ok.output["stdout"].strip() == str(tmp_path.resolve())
    assert (await registry.execute("bash", {"command": "rm -rf /"})).error_kind == "failed"
    hung = await registry.execute("bash", {"command": f"{sys.executable} -c 'import time; time.sleep(30)'"})
    assert hung.error_kind in ("failed", "timeout")
    assert "bash" not in [t.name for t in builtin_tools()]
