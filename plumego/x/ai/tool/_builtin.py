"""Built-in tools. Harmless by default: ``echo``, ``calculator`` (arithmetic over a parsed expression tree, never
``eval``) and ``timestamp``. ``file_tools(root, ...)`` and ``shell_tool(root, timeout, ...)`` exist only when
called with a root directory: paths are resolved inside the root (``..`` and symlinks out of it are refused),
reads and writes are size-capped, and shell commands run without a shell, in the root, killed at the timeout.

Imports the standard library.
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import math
import operator
import os
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._registry import Tool

__all__ = ["builtin_tools", "calculator_tool", "echo_tool", "file_tools", "shell_tool", "timestamp_tool"]

_OPS: dict[type, Any] = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                         ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
                         ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}
_FUNCS: dict[str, Any] = {"sqrt": math.sqrt, "abs": abs, "round": round, "min": min, "max": max, "log": math.log,
                          "sin": math.sin, "cos": math.cos, "tan": math.tan}
_CONSTS = {"pi": math.pi, "e": math.e}


def evaluate(expression: str) -> float | int:
    if len(expression) > 500:
        raise ValueError("expression too long")

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 1000:
                raise ValueError("exponent too large")
            return _OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Name) and node.id in _CONSTS:
            return _CONSTS[node.id]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS
                and not node.keywords):
            return _FUNCS[node.func.id](*(ev(a) for a in node.args))
        raise ValueError(f"unsupported syntax: {ast.dump(node)[:60]}")

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {exc.msg}") from None
    result = ev(tree)
    if isinstance(result, float) and not math.isfinite(result):
        raise ValueError("the result is not finite")
    return result  # type: ignore[no-any-return]


def echo_tool() -> Tool:
    async def run(args: dict[str, Any]) -> Any:
        return args["text"]
    return Tool("echo", "Return the given text unchanged.",
                {"type": "object", "properties": {"text": {"type": "string", "maxLength": 10000}},
                 "required": ["text"], "additionalProperties": False}, run, timeout=1.0)


def calculator_tool() -> Tool:
    async def run(args: dict[str, Any]) -> Any:
        return {"expression": args["expression"], "result": evaluate(args["expression"])}
    return Tool("calculator", "Evaluate an arithmetic expression (+ - * / // % **, sqrt, abs, round, min, max, "
                "log, sin, cos, tan, pi, e).",
                {"type": "object", "properties": {"expression": {"type": "string", "minLength": 1, "maxLength": 500}},
                 "required": ["expression"], "additionalProperties": False}, run, timeout=1.0)


def timestamp_tool() -> Tool:
    async def run(args: dict[str, Any]) -> Any:
        now = dt.datetime.now(dt.timezone.utc)
        fmt = args.get("format", "iso")
        return {"iso": now.isoformat(), "unix": int(now.timestamp()), "date": now.date().isoformat()}[fmt]
    return Tool("timestamp", "The current UTC time (iso, unix or date).",
                {"type": "object", "properties": {"format": {"enum": ["iso", "unix", "date"]}},
                 "additionalProperties": False}, run, timeout=1.0)


def builtin_tools() -> list[Tool]:
    """The harmless built-ins only."""
    return [echo_tool(), calculator_tool(), timestamp_tool()]


def _inside(root: Path, relative: str) -> Path:
    if "\x00" in relative:
        raise ValueError("a path cannot contain NUL")
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise PermissionError(f"{relative!r} is outside the tool's root directory")
    return target


def file_tools(root: str | Path, *, timeout: float = 5.0, max_bytes: int = 1 << 20,
               writable: bool = False) -> list[Tool]:
    """``read_file`` (and ``write_file`` when ``writable``) confined to ``root``. Opt-in only."""
    base = Path(root).resolve(strict=True)
    if not base.is_dir():
        raise ValueError(f"{root} is not a directory")
    path_schema = {"type": "string", "minLength": 1, "maxLength": 1024}

    async def read(args: dict[str, Any]) -> Any:
        target = _inside(base, args["path"])
        if target.stat().st_size > max_bytes:
            raise ValueError(f"file larger than {max_bytes} bytes")
        return await asyncio.to_thread(target.read_text, "utf-8", "replace")

    async def write(args: dict[str, Any]) -> Any:
        data = args["content"].encode("utf-8")
        if len(data) > max_bytes:
            raise ValueError(f"content larger than {max_bytes} bytes")
        target = _inside(base, args["path"])

        def go() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, target)          # all or nothing: never a half-written file
        await asyncio.to_thread(go)
        return {"path": args["path"], "bytes": len(data)}

    tools = [Tool("read_file", f"Read a UTF-8 text file under the tool root (at most {max_bytes} bytes).",
                  {"type": "object", "properties": {"path": path_schema}, "required": ["path"],
                   "additionalProperties": False}, read, timeout=timeout)]
    if writable:
        tools.append(Tool("write_file", "Write a UTF-8 text file under the tool root (atomically).",
                          {"type": "object", "properties": {"path": path_schema, "content": {"type": "string"}},
                           "required": ["path", "content"], "additionalProperties": False}, write, timeout=timeout))
    return tools


def shell_tool(root: str | Path, timeout: float, *, allowed_commands: Iterable[str] | None = None,
               max_output: int = 64 * 1024) -> Tool:
    """``bash``-like tool: runs one command (split with shlex, no shell) in ``root``; killed at ``timeout``.
    ``allowed_commands`` restricts the executable names. Opt-in only."""
    base = Path(root).resolve(strict=True)
    allowed = frozenset(allowed_commands) if allowed_commands is not None else None
    if timeout <= 0:
        raise ValueError("a shell tool needs a positive timeout")

    async def run(args: dict[str, Any]) -> Any:
        argv = shlex.split(args["command"])
        if not argv:
            raise ValueError("empty command")
        if allowed is not None and os.path.basename(argv[0]) not in allowed:
            raise PermissionError(f"command {argv[0]!r} is not allowed")
        proc = await asyncio.create_subprocess_exec(*argv, cwd=base, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                    start_new_session=True)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except BaseException:
            proc.kill()
            await proc.wait()
            raise
        return {"exit_code": proc.returncode, "stdout": out[:max_output].decode("utf-8", "replace"),
                "stderr": err[:max_output].decode("utf-8", "replace")}

    # the registry's own timeout is a little longer so the process timeout above fires first and kills it
    return Tool("bash", f"Run one command (no shell features) in the tool root; killed after {timeout}s.",
                {"type": "object", "properties": {"command": {"type": "string", "minLength": 1, "maxLength": 4096}},
                 "required": ["command"], "additionalProperties": False}, run, timeout=timeout)
