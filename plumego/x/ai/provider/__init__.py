"""plumego.x.ai.provider (beta): the Provider protocol (complete, stream, list models, get model, count tokens),
the request/response model, clients for the OpenAI Chat Completions and Anthropic Messages wire formats on httpx,
an offline ``ScriptedProvider``, and a ``Manager`` with default, fallback, load-balanced, cost-optimized and
task-based routers.

Better than Go Plumego here: model lists come from each server's ``/models`` (Go hard-codes them), retries honour
``Retry-After``, streams are closed when the reading task is cancelled, and tool-call deltas are assembled into
whole tool calls for both wire formats. Requires httpx for the HTTP clients: ``pip install 'plumego[ai]'``.
Imports the standard library and x/ai; never core, router, middleware, security or store.
"""

from ._anthropic import AnthropicProvider
from ._http import HTTPOptions, SSEEvent, StreamReader, parse_retry_after, parse_sse
from ._manager import (CostOptimizedRouter, DefaultRouter, FallbackRouter, LoadBalancedRouter, Manager, Router,
                       TaskBasedRouter, classify_task)
from ._openai import OpenAIProvider
from ._protocol import Provider, ScriptedProvider
from ._types import (AuthenticationError, CompletionRequest, CompletionResponse, ContentBlock, InvalidRequestError,
                     Message, ModelInfo, NotFoundError, ProviderError, ProviderTimeout, ProviderUnavailable,
                     RateLimitError, Role, StopReason, StreamChunk, StreamError, Tool, ToolChoice, ToolUse, Usage)

__all__ = ["AnthropicProvider", "AuthenticationError", "CompletionRequest", "CompletionResponse", "ContentBlock",
           "CostOptimizedRouter", "DefaultRouter", "FallbackRouter", "HTTPOptions", "InvalidRequestError",
           "LoadBalancedRouter", "Manager", "Message", "ModelInfo", "NotFoundError", "OpenAIProvider", "Provider",
           "ProviderError", "ProviderTimeout", "ProviderUnavailable", "RateLimitError", "Role", "Router", "SSEEvent",
           "ScriptedProvider", "StopReason", "StreamChunk", "StreamError", "StreamReader", "TaskBasedRouter", "Tool",
           "ToolChoice", "ToolUse", "Usage", "classify_task", "parse_retry_after", "parse_sse"]
