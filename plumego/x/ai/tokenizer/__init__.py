"""plumego.x.ai.tokenizer (experimental): token counting for budgets and estimates.

``counter_for(model)`` returns a tiktoken-backed counter when tiktoken is installed and its encoding can be loaded
(tiktoken fetches encodings over the network the first time, so on an offline machine this falls back), and the
heuristic counter otherwise: about 4 characters per token for GPT-style models and 3.5 for Claude, as Go Plumego
estimates. Counts are estimates for budgeting; a provider's reported ``Usage`` is the truth for billing.
Imports the standard library; tiktoken lazily and optionally.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

__all__ = ["HeuristicCounter", "StreamCounter", "TiktokenCounter", "TokenCounter", "counter_for"]

_PER_MESSAGE_OVERHEAD = 4      # role and separators, as OpenAI documents for chat formats


@runtime_checkable
class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int: ...


class HeuristicCounter:
    """Characters / ``chars_per_token``, rounded up; words count at least one token each so short texts of
    many words are not under-counted."""

    def __init__(self, chars_per_token: float = 4.0, name: str = "heuristic") -> None:
        if chars_per_token <= 0:
            raise ValueError("chars_per_token must be positive")
        self.chars_per_token = chars_per_token
        self.name = name

    def count(self, text: str) -> int:
        if not text:
            return 0
        return max(math.ceil(len(text) / self.chars_per_token), len(text.split()))


class TiktokenCounter:
    """tiktoken's BPE for the model's encoding (cl100k_base / o200k_base)."""

    def __init__(self, encoding: Any, name: str) -> None:
        self._encoding = encoding
        self.name = name

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=())) if text else 0


def _tiktoken(model: str) -> TokenCounter | None:
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        try:
            encoding = tiktoken.encoding_for_model(model)
        except KeyError:
            encoding = tiktoken.get_encoding("cl100k_base")
    except Exception:      # the encoding file could not be fetched or read (offline): use the heuristic
        return None
    return TiktokenCounter(encoding, f"tiktoken:{encoding.name}")


def counter_for(model: str = "", *, prefer_tiktoken: bool = True) -> TokenCounter:
    lowered = model.lower()
    if "claude" in lowered:
        return HeuristicCounter(3.5, "heuristic:claude")
    if prefer_tiktoken:
        counter = _tiktoken(model or "gpt-4o")
        if counter is not None:
            return counter
    return HeuristicCounter(4.0, "heuristic:gpt")


def count_messages(counter: TokenCounter, texts: Iterable[str]) -> int:
    """Tokens of a conversation: each message's text plus a small per-message overhead."""
    return sum(counter.count(t) + _PER_MESSAGE_OVERHEAD for t in texts)


class StreamCounter:
    """Counts the output tokens of a stream as deltas arrive (for tokens/s and budgets mid-stream)."""

    def __init__(self, counter: TokenCounter) -> None:
        self._counter = counter
        self._text: list[str] = []
        self.chunks = 0

    def add(self, delta: str) -> None:
        self._text.append(delta)
        self.chunks += 1

    @property
    def tokens(self) -> int:
        return self._counter.count("".join(self._text))


__all__ += ["count_messages"]
