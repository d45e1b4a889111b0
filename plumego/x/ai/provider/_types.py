"""The provider request/response model and its typed errors: messages made of text, image, tool_use and
tool_result blocks, tools and tool choice, stop reasons, usage, stream chunks and model descriptions.

Owns plain data only (frozen dataclasses); the wire formats live in the clients. Imports the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["AuthenticationError", "CompletionRequest", "CompletionResponse", "ContentBlock", "InvalidRequestError",
           "Message", "ModelInfo", "NotFoundError", "ProviderError", "ProviderTimeout", "ProviderUnavailable",
           "RateLimitError", "Role", "StopReason", "StreamChunk", "StreamError", "Tool", "ToolChoice", "ToolUse",
           "Usage"]


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class StopReason(StrEnum):
    END_TURN = "end_turn"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"
    TOOL_USE = "tool_use"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ToolUse:
    """A tool call the model asked for: ``input`` is the decoded JSON arguments."""

    id: str
    name: str
    input: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ContentBlock:
    """One block of a message. ``type`` is text | image | tool_use | tool_result.

    image: ``media_type`` plus ``data`` (base64) or ``url``. tool_use: ``tool_use``. tool_result: ``tool_use_id``,
    ``text`` (the output) and ``is_error``."""

    type: str
    text: str = ""
    media_type: str = ""
    data: str = ""
    url: str = ""
    tool_use: ToolUse | None = None
    tool_use_id: str = ""
    is_error: bool = False

    @staticmethod
    def of_text(text: str) -> ContentBlock:
        return ContentBlock("text", text=text)

    @staticmethod
    def of_image(*, media_type: str = "", data: str = "", url: str = "") -> ContentBlock:
        if not data and not url:
            raise ValueError("an image block needs data (base64) or a url")
        return ContentBlock("image", media_type=media_type, data=data, url=url)

    @staticmethod
    def of_tool_use(use: ToolUse) -> ContentBlock:
        return ContentBlock("tool_use", tool_use=use)

    @staticmethod
    def of_tool_result(tool_use_id: str, output: str, *, is_error: bool = False) -> ContentBlock:
        return ContentBlock("tool_result", text=output, tool_use_id=tool_use_id, is_error=is_error)


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message: ``content`` is a string or a sequence of blocks."""

    role: Role | str
    content: str | Sequence[ContentBlock]
    name: str = ""
    tool_call_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.content, str) and not isinstance(self.content, tuple):
            object.__setattr__(self, "content", tuple(self.content))
        if not isinstance(self.role, Role) and self.role in Role._value2member_map_:
            object.__setattr__(self, "role", Role(self.role))

    def blocks(self) -> list[ContentBlock]:
        if isinstance(self.content, str):
            return [ContentBlock.of_text(self.content)] if self.content else []
        return list(self.content)

    def text(self) -> str:
        """The concatenated text (and tool-result output) of the message."""
        if isinstance(self.content, str):
            return self.content
        return "".join(b.text for b in self.content if b.type in ("text", "tool_result"))

    def tool_uses(self) -> list[ToolUse]:
        return [b.tool_use for b in self.blocks() if b.type == "tool_use" and b.tool_use is not None]


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool offered to the model: ``input_schema`` is a JSON Schema object."""

    name: str
    description: str
    input_schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """auto | none | any | tool (with ``name``)."""

    type: str = "auto"
    name: str = ""

    def __post_init__(self) -> None:
        if self.type not in ("auto", "none", "any", "tool"):
            raise ValueError(f"tool choice must be auto, none, any or tool, not {self.type!r}")
        if self.type == "tool" and not self.name:
            raise ValueError("tool choice 'tool' needs the tool's name")


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    model: str
    messages: Sequence[Message]
    system: str = ""
    tools: Sequence[Tool] = ()
    tool_choice: ToolChoice | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: Sequence[str] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CompletionResponse:
    id: str
    model: str
    content: Sequence[ContentBlock]
    stop_reason: StopReason
    usage: Usage = Usage()

    def text(self) -> str:
        return "".join(b.text for b in self.content if b.type == "text")

    def tool_uses(self) -> list[ToolUse]:
        return [b.tool_use for b in self.content if b.type == "tool_use" and b.tool_use is not None]

    def message(self) -> Message:
        """The response as an assistant message, ready to append to the conversation."""
        return Message(Role.ASSISTANT, tuple(self.content))


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One streamed event. ``type``: text (``text`` holds the delta), tool_use (a whole, assembled tool call in
    ``tool_use``), usage, stop (``stop_reason``)."""

    type: str
    text: str = ""
    tool_use: ToolUse | None = None
    usage: Usage | None = None
    stop_reason: StopReason | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    provider: str
    owned_by: str = ""
    display_name: str = ""
    created: int = 0


class ProviderError(Exception):
    """A provider call failed. ``status`` is the HTTP status (0 when none), ``retryable`` whether trying again
    (possibly elsewhere) may help, ``provider`` the provider's name."""

    retryable = False

    def __init__(self, message: str, *, provider: str = "", status: int = 0, error_type: str = "",
                 retryable: bool | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.error_type = error_type
        if retryable is not None:
            self.retryable = retryable


class AuthenticationError(ProviderError):
    """401/403: the key is missing, wrong or not allowed."""


class InvalidRequestError(ProviderError):
    """400/413/422: the request itself is wrong; retrying it cannot help."""


class NotFoundError(ProviderError):
    """404: unknown model or endpoint."""


class RateLimitError(ProviderError):
    """429: ``retry_after`` is the server's ``Retry-After`` in seconds (None when absent)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """5xx, 529 (overloaded) or a connection that failed."""

    retryable = True


class ProviderTimeout(ProviderError):
    """No answer (or no next stream event) within the timeout."""

    retryable = True


class StreamError(ProviderError):
    """The stream broke: truncated, an undecodable chunk, or an error event sent mid-stream."""
