"""plumego.x.ai.filter (experimental): PII and secret filters on what goes to a model and what comes back.

PII: email, phone, US SSN, credit card (Luhn-checked, so order numbers pass), IPv4. Secrets: API keys
(``sk-...``), AWS access keys (AKIA), GitHub tokens (ghp_ ...), Slack tokens (xox.-), JWTs, PEM private keys and
``password=...`` assignments. Each match is redacted (``[REDACTED:email]``) or blocks the call
(``FilterBlocked``). ``FilteringProvider`` applies a chain to input messages and output text.
Imports the standard library and x/ai.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..provider import (CompletionRequest, CompletionResponse, ContentBlock, Message, ModelInfo, Provider,
                        ProviderError, StreamReader)

__all__ = ["Finding", "FilterBlocked", "FilterChain", "FilteringProvider", "Rule", "pii_rules", "secret_rules"]


class FilterBlocked(ProviderError):
    """A blocking rule matched; ``findings`` names the kinds (never the matched text)."""

    def __init__(self, stage: str, kinds: Sequence[str]) -> None:
        super().__init__(f"{stage} blocked by filter: {', '.join(sorted(set(kinds)))}", provider="filter")
        self.kinds = list(kinds)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    block: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int


def _luhn(digits: str) -> bool:
    nums = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(nums) <= 19:
        return False
    total = 0
    for i, n in enumerate(reversed(nums)):
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def pii_rules(*, block: bool = False) -> list[Rule]:
    return [Rule("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), block),
            Rule("credit_card", re.compile(r"\b(?:\d[ -]?){12,18}\d\b"), block),
            Rule("ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), block),
            Rule("phone", re.compile(r"(?<!\w)(?:\+?\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"), block),
            Rule("ip", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"), block)]


def secret_rules(*, block: bool = True) -> list[Rule]:
    pem = r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
    return [Rule("private_key", re.compile(pem), block),
            Rule("aws_access_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), block),
            Rule("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), block),
            Rule("slack_token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"), block),
            Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"), block),
            Rule("api_key", re.compile(r"\b(?:sk|pk|rk)-(?:[A-Za-z0-9_-]{2,}-)?[A-Za-z0-9_-]{20,}\b"), block),
            Rule("password", re.compile(r"(?i)\b(?:password|passwd|pwd)\s*[:=]\s*\S+"), block)]


class FilterChain:
    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)

    def scan(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for rule in self.rules:
            for m in rule.pattern.finditer(text):
                if rule.kind == "credit_card" and not _luhn(m.group()):
                    continue
                if any(f.start < m.end() and m.start() < f.end for f in found):
                    continue
                found.append(Finding(rule.kind, m.start(), m.end()))
        return sorted(found, key=lambda f: f.start)

    def apply(self, text: str, stage: str = "input") -> str:
        """Redact findings; raise FilterBlocked when a blocking rule matched."""
        findings = self.scan(text)
        blocking = {r.kind for r in self.rules if r.block}
        blocked = [f.kind for f in findings if f.kind in blocking]
        if blocked:
            raise FilterBlocked(stage, blocked)
        for f in reversed(findings):
            text = text[:f.start] + f"[REDACTED:{f.kind}]" + text[f.end:]
        return text


def _filter_message(chain: FilterChain, msg: Message) -> Message:
    if isinstance(msg.content, str):
        return replace(msg, content=chain.apply(msg.content))
    blocks = tuple(replace(b, text=chain.apply(b.text)) if b.text else b for b in msg.content)
    return replace(msg, content=blocks)


class FilteringProvider:
    """Applies ``input`` to the system prompt and messages, ``output`` to the completion's text. Streams are
    filtered on input only (a stream's output would need buffering to redact a match split across chunks)."""

    def __init__(self, provider: Provider, *, input: FilterChain | None = None, output: FilterChain | None = None
                 ) -> None:
        self.inner, self.input, self.output = provider, input, output
        self.name = provider.name

    def _request(self, req: CompletionRequest) -> CompletionRequest:
        if self.input is None:
            return req
        chain = self.input
        return replace(req, system=chain.apply(req.system) if req.system else "",
                       messages=[_filter_message(chain, m) for m in req.messages])

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        resp = await self.inner.complete(self._request(req))
        if self.output is None:
            return resp
        chain = self.output
        blocks = tuple(ContentBlock.of_text(chain.apply(b.text, "output")) if b.type == "text" else b
                       for b in resp.content)
        return replace(resp, content=blocks)

    async def stream(self, req: CompletionRequest) -> StreamReader:
        return await self.inner.stream(self._request(req))

    async def list_models(self) -> list[ModelInfo]:
        return await self.inner.list_models()

    async def get_model(self, model_id: str) -> ModelInfo:
        return await self.inner.get_model(model_id)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def aclose(self) -> None:
        await self.inner.aclose()
