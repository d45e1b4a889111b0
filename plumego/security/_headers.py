"""Security response-header policies as data, and the function that turns one into header lines.

Carries Go Plumego's DefaultPolicy and StrictPolicy (CSP, COOP/CORP/COEP, HSTS only over HTTPS) with the same
enum validation; the middleware that applies them lives in plumego.middleware. Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ._input import is_header_value as _is_header_value
from ._input import is_token as _is_token

__all__ = [
    "HSTS",
    "HeaderPolicy",
    "InvalidPolicyError",
    "default_policy",
    "strict_policy",
    "strict_csp",
    "build_csp",
    "security_headers",
    "is_https",
]

_FRAME = frozenset({"DENY", "SAMEORIGIN"})
_REFERRER = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
_COOP = frozenset({"unsafe-none", "same-origin-allow-popups", "same-origin", "noopener-allow-popups"})
_CORP = frozenset({"same-site", "same-origin", "cross-origin"})
_COEP = frozenset({"unsafe-none", "require-corp", "credentialless"})


class InvalidPolicyError(ValueError):
    """A policy value is outside its header's allowed values or would inject header syntax."""


@dataclass(frozen=True, slots=True)
class HSTS:
    """Strict-Transport-Security; emitted only on HTTPS responses (browsers ignore it over HTTP anyway)."""

    max_age: int = 31_536_000
    include_subdomains: bool = True
    preload: bool = False

    def render(self) -> str:
        value = f"max-age={self.max_age}"
        if self.include_subdomains:
            value += "; includeSubDomains"
        if self.preload:
            value += "; preload"
        return value


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """Which security headers to send. ``None`` / empty = header not sent. ``additional`` is sent verbatim."""

    frame_options: str | None = None
    content_type_options: bool = False
    referrer_policy: str | None = None
    permissions_policy: str | None = None
    content_security_policy: str | None = None
    cross_origin_opener_policy: str | None = None
    cross_origin_resource_policy: str | None = None
    cross_origin_embedder_policy: str | None = None
    hsts: HSTS | None = None
    additional: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise :class:`InvalidPolicyError` for any value outside its header's grammar."""

        def check(name: str, value: str | None, allowed: frozenset[str] | None = None) -> None:
            if value is None:
                return
            if not _is_header_value(value) or not value:
                raise InvalidPolicyError(f"{name}: empty value or control characters")
            if allowed is not None and value not in allowed:
                raise InvalidPolicyError(f"{name}: {value!r} is not one of {sorted(allowed)}")

        check("X-Frame-Options", self.frame_options, _FRAME)
        check("Referrer-Policy", self.referrer_policy, _REFERRER)
        check("Permissions-Policy", self.permissions_policy)
        check("Content-Security-Policy", self.content_security_policy)
        check("Cross-Origin-Opener-Policy", self.cross_origin_opener_policy, _COOP)
        check("Cross-Origin-Resource-Policy", self.cross_origin_resource_policy, _CORP)
        check("Cross-Origin-Embedder-Policy", self.cross_origin_embedder_policy, _COEP)
        if self.hsts is not None and self.hsts.max_age < 0:
            raise InvalidPolicyError("HSTS max_age must be >= 0")
        hsts = self.hsts
        if hsts is not None and hsts.preload and (hsts.max_age < 31_536_000 or not hsts.include_subdomains):
            raise InvalidPolicyError("HSTS preload needs max_age >= 1 year and includeSubDomains")
        for name, value in self.additional.items():
            if not _is_token(name):
                raise InvalidPolicyError(f"invalid header name {name!r}")
            check(name, value)


def strict_csp() -> str:
    """Go's ``StrictCSP()``, directive for directive and in the same order."""
    return build_csp(
        [
            ("default-src", ["'self'"]),
            ("script-src", ["'self'"]),
            ("style-src", ["'self'"]),
            ("img-src", ["'self'", "data:", "https:"]),
            ("font-src", ["'self'"]),
            ("connect-src", ["'self'"]),
            ("frame-src", ["'none'"]),
            ("object-src", ["'none'"]),
            ("base-uri", ["'self'"]),
            ("form-action", ["'self'"]),
            ("frame-ancestors", ["'none'"]),
            ("upgrade-insecure-requests", []),
        ]
    )


def build_csp(directives: Iterable[tuple[str, Sequence[str]]] | Mapping[str, Sequence[str]]) -> str:
    """Render CSP directives in order: ``name src src; name ...``. Rejects ``;``, ``,`` and controls in parts."""
    items = directives.items() if isinstance(directives, Mapping) else directives
    rendered: list[str] = []
    for name, sources in items:
        if not name or not all(c.isalnum() or c == "-" for c in name):
            raise InvalidPolicyError(f"invalid CSP directive name {name!r}")
        for source in sources:
            if not source or any(c in ";, " or ord(c) < 0x21 or ord(c) == 0x7F for c in source):
                raise InvalidPolicyError(f"invalid CSP source {source!r} in {name}")
        rendered.append(" ".join([name, *sources]))
    return "; ".join(rendered)


def default_policy() -> HeaderPolicy:
    """Go's DefaultPolicy: SAMEORIGIN framing, nosniff, strict-origin-when-cross-origin. Nothing else."""
    return HeaderPolicy(
        frame_options="SAMEORIGIN",
        content_type_options=True,
        referrer_policy="strict-origin-when-cross-origin",
    )


def strict_policy() -> HeaderPolicy:
    """Go's StrictPolicy: DENY, nosniff, no-referrer, a locked Permissions-Policy, COOP/CORP same-origin,
    COEP require-corp, :func:`strict_csp` and HSTS one year with subdomains and preload."""
    return HeaderPolicy(
        frame_options="DENY",
        content_type_options=True,
        referrer_policy="no-referrer",
        permissions_policy="geolocation=(), camera=(), microphone=()",
        content_security_policy=strict_csp(),
        cross_origin_opener_policy="same-origin",
        cross_origin_resource_policy="same-origin",
        cross_origin_embedder_policy="require-corp",
        hsts=HSTS(max_age=31_536_000, include_subdomains=True, preload=True),
    )


def security_headers(policy: HeaderPolicy, *, https: bool) -> list[tuple[str, str]]:
    """The header lines for one response; HSTS only when ``https``. Validates the policy first."""
    policy.validate()
    headers: list[tuple[str, str]] = []

    def add(name: str, value: str | None) -> None:
        if value:
            headers.append((name, value))

    add("X-Frame-Options", policy.frame_options)
    add("X-Content-Type-Options", "nosniff" if policy.content_type_options else None)
    add("Referrer-Policy", policy.referrer_policy)
    add("Permissions-Policy", policy.permissions_policy)
    add("Content-Security-Policy", policy.content_security_policy)
    add("Cross-Origin-Opener-Policy", policy.cross_origin_opener_policy)
    add("Cross-Origin-Resource-Policy", policy.cross_origin_resource_policy)
    add("Cross-Origin-Embedder-Policy", policy.cross_origin_embedder_policy)
    if https and policy.hsts is not None:
        add("Strict-Transport-Security", policy.hsts.render())
    for name, value in policy.additional.items():
        add(name, value)
    return headers


def is_https(scheme: str, headers: Iterable[tuple[str, str]] = (), *, trust_forwarded: bool = False) -> bool:
    """Whether a request arrived over HTTPS.

    ``scheme`` is the ASGI scope's. Forwarding headers are consulted only with ``trust_forwarded`` (behind a proxy
    you control); then, as in Go, every ``X-Forwarded-Proto`` entry and every ``Forwarded`` ``proto=`` must be
    ``https``.
    """
    if scheme.lower() in ("https", "wss"):
        return True
    if not trust_forwarded:
        return False
    protos: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname == "x-forwarded-proto":
            protos.extend(p.strip().lower() for p in value.split(","))
        elif lname == "forwarded":
            for element in value.split(","):
                for pair in element.split(";"):
                    key, _, val = pair.strip().partition("=")
                    if key.strip().lower() == "proto":
                        protos.append(val.strip().strip('"').lower())
    return bool(protos) and all(p == "https" for p in protos)
