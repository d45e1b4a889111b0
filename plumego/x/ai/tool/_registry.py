"""Tools the model may call: a registry with an allow-list policy, JSON-Schema validation of the arguments
(jsonschema, Draft 2020-12; the schema itself is checked at registration), a per-call timeout, retries of failures
the tool marks retryable, per-tool metrics, and execution of provider tool calls into ``tool_result`` blocks.

A failed call is a ``Result`` with ``is_error`` and an ``error_kind`` (not_found, not_allowed, invalid_input,
timeout, failed) — what the model needs to correct itself — never an exception escaping into the chat loop.
Imports the standard library and x/ai; jsonschema lazily (``pip install 'plumego[ai]'``).
"""

from __future__ import annotations

import asyncio
import builtins
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..provider import ContentBlock, Tool as ProviderTool, ToolUse

__all__ = ["AllowAllPolicy", "AllowListPolicy", "Metrics", "Policy", "Registry", "Result", "RetryableToolError",
           "Tool", "ToolStats"]

Execute = Callable[[dict[str, Any]], Awaitable[Any]]


class RetryableToolError(Exception):
    """Raise from a tool to have the registry try again (up to the tool's ``max_retries``)."""


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    input_schema: Mapping[str, Any]
    execute: Execute
    timeout: float = 30.0
    max_retries: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Metrics:
    duration: float
    retry_count: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class Result:
    output: Any = None
    error: str = ""
    error_kind: str = ""
    metrics: Metrics = Metrics(0.0, 0, 0.0)

    @property
    def is_error(self) -> bool:
        return bool(self.error_kind)

    def text(self) -> str:
        if self.is_error:
            return f"error ({self.error_kind}): {self.error}"
        return self.output if isinstance(self.output, str) else json.dumps(self.output, default=str)

    def to_block(self, tool_use_id: str) -> ContentBlock:
        return ContentBlock.of_tool_result(tool_use_id, self.text(), is_error=self.is_error)


@dataclass(slots=True)
class ToolStats:
    calls: int = 0
    errors: int = 0
    retries: int = 0
    total_seconds: float = 0.0
    errors_by_kind: dict[str, int] = field(default_factory=dict)


class Policy(Protocol):
    def allowed(self, tool: str, context: Mapping[str, Any]) -> bool: ...


class AllowAllPolicy:
    def allowed(self, tool: str, context: Mapping[str, Any]) -> bool:
        return True


class AllowListPolicy:
    """Only the listed tools; ``per_role`` narrows further by ``context["role"]``."""

    def __init__(self, names: Iterable[str], per_role: Mapping[str, Iterable[str]] | None = None) -> None:
        self.names = frozenset(names)
        self.per_role = {k: frozenset(v) for k, v in (per_role or {}).items()}

    def allowed(self, tool: str, context: Mapping[str, Any]) -> bool:
        if tool not in self.names:
            return False
        role = context.get("role")
        return role not in self.per_role or tool in self.per_role[str(role)]


def _validator(schema: Mapping[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError as exc:   # pragma: no cover - part of dev
        raise ImportError("tool input validation needs jsonschema: pip install 'plumego[ai]'") from exc
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


class Registry:
    def __init__(self, policy: Policy | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy: Policy = policy or AllowAllPolicy()
        self._tools: dict[str, Tool] = {}
        self._validators: dict[str, Any] = {}
        self._stats: dict[str, ToolStats] = {}
        self._clock = clock

    def register(self, tool: Tool) -> None:
        if not tool.name or not tool.name.replace("_", "").replace("-", "").isalnum() or len(tool.name) > 64:
            raise ValueError(f"tool name {tool.name!r} must be 1-64 letters, digits, '_' or '-'")
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is already registered")
        if tool.timeout <= 0 or tool.max_retries < 0:
            raise ValueError("a tool needs a positive timeout and non-negative max_retries")
        self._validators[tool.name] = _validator(tool.input_schema)     # a bad schema fails here, not at call time
        self._tools[tool.name] = tool
        self._stats[tool.name] = ToolStats()

    def get(self, name: str) -> Tool:
        return self._tools[name]

    def list(self) -> builtins.list[Tool]:
        return list(self._tools.values())

    def list_for_context(self, context: Mapping[str, Any] | None = None) -> builtins.list[Tool]:
        ctx = context or {}
        return [t for t in self._tools.values() if self.policy.allowed(t.name, ctx)]

    def to_provider_tools(self, context: Mapping[str, Any] | None = None) -> builtins.list[ProviderTool]:
        return [ProviderTool(t.name, t.description, t.input_schema) for t in self.list_for_context(context)]

    def stats(self) -> dict[str, ToolStats]:
        return {k: ToolStats(v.calls, v.errors, v.retries, v.total_seconds, dict(v.errors_by_kind))
                for k, v in self._stats.items()}

    def _fail(self, name: str, kind: str, message: str, started: float, retries: int) -> Result:
        stats = self._stats.get(name)
        if stats is not None:
            stats.errors += 1
            stats.errors_by_kind[kind] = stats.errors_by_kind.get(kind, 0) + 1
        return Result(error=message, error_kind=kind,
                      metrics=Metrics(self._clock() - started, retries, time.time()))

    async def execute(self, name: str, arguments: Mapping[str, Any] | str,
                      context: Mapping[str, Any] | None = None) -> Result:
        started = self._clock()
        tool = self._tools.get(name)
        if tool is None:
            return self._fail(name, "not_found", f"no tool named {name!r}", started, 0)
        stats = self._stats[name]
        stats.calls += 1
        try:
            if not self.policy.allowed(name, context or {}):
                return self._fail(name, "not_allowed", f"tool {name!r} is not allowed here", started, 0)
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments) if arguments.strip() else {}
                except ValueError as exc:
                    return self._fail(name, "invalid_input", f"arguments are not JSON: {exc}", started, 0)
            if not isinstance(arguments, Mapping):
                return self._fail(name, "invalid_input", "arguments must be a JSON object", started, 0)
            args = dict(arguments)
            problems = sorted(self._validators[name].iter_errors(args), key=lambda e: list(e.path))
            if problems:
                detail = "; ".join(f"{'/'.join(map(str, p.path)) or '(root)'}: {p.message}" for p in problems[:5])
                return self._fail(name, "invalid_input", detail, started, 0)
            retries = 0
            while True:
                try:
                    output = await asyncio.wait_for(tool.execute(args), tool.timeout)
                except TimeoutError:
                    return self._fail(name, "timeout", f"tool {name!r} took longer than {tool.timeout}s",
                                      started, retries)
                except RetryableToolError as exc:
                    if retries < tool.max_retries:
                        retries += 1
                        stats.retries += 1
                        continue
                    return self._fail(name, "failed", str(exc), started, retries)
                except Exception as exc:  # noqa: BLE001 - a tool's failure is a result the model reads
                    return self._fail(name, "failed", f"{type(exc).__name__}: {exc}", started, retries)
                return Result(output=output, metrics=Metrics(self._clock() - started, retries, time.time()))
        finally:
            stats.total_seconds += self._clock() - started

    async def execute_tool_use(self, use: ToolUse, context: Mapping[str, Any] | None = None) -> ContentBlock:
        """Run a provider tool call; the ``tool_result`` block to send back to the model."""
        return (await self.execute(use.name, use.input, context)).to_block(use.id)

    async def execute_all(self, uses: Sequence[ToolUse], context: Mapping[str, Any] | None = None
                          ) -> builtins.list[ContentBlock]:
        """Run a turn's tool calls concurrently; results in the calls' order."""
        return list(await asyncio.gather(*(self.execute_tool_use(u, context) for u in uses)))
