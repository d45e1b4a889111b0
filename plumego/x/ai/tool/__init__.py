"""plumego.x.ai.tool (beta): a tool registry with allow-list policies, JSON-Schema validation of arguments,
timeouts, retries and metrics, executing provider tool calls into ``tool_result`` blocks; harmless built-ins
(echo, calculator, timestamp) and opt-in file and shell tools confined to a root directory with a timeout.

Better than Go Plumego here: Go registers read_file/write_file/bash among its built-ins; here they exist only when
created with a root directory, and the calculator never evaluates code. Imports the standard library and x/ai;
jsonschema lazily (``pip install 'plumego[ai]'``).
"""

from ._builtin import (builtin_tools, calculator_tool, echo_tool, evaluate, file_tools, shell_tool,
                       timestamp_tool)
from ._registry import (AllowAllPolicy, AllowListPolicy, Metrics, Policy, Registry, Result, RetryableToolError,
                        Tool, ToolStats)

__all__ = ["AllowAllPolicy", "AllowListPolicy", "Metrics", "Policy", "Registry", "Result", "RetryableToolError",
           "Tool", "ToolStats", "builtin_tools", "calculator_tool", "echo_tool", "evaluate", "file_tools",
           "shell_tool", "timestamp_tool"]
