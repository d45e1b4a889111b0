"""Header policies (Go defaults, HSTS only over HTTPS) and the input guards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plumego.security import (
    HSTS,
    HeaderInjectionError,
    HeaderPolicy,
    InvalidPolicyError,
    PathTraversalError,
    check_header_value,
    default_policy,
    is_https,
    is_safe_redirect,
    safe_join,
    safe_redirect_target,
    security_headers,
    strict_csp,
    strict_policy,
    validate_email,
    validate_public_url,
    validate_url,
)


def test_default_policy_matches_go() -> None:
    assert security_headers(default_policy(), https=True) == [
        ("X-Frame-Options", "SAMEORIGIN"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]


def test_strict_policy_and_hsts_only_over_https() -> None:
    plain = dict(security_headers(strict_policy(), https=False))
    assert "Strict-Transport-Security" not in plain
    secure = dict(security_headers(strict_policy(), https=True))
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert secure["Cross-Origin-Opener-Policy"] == "same-origin"
    assert secure["Cross-Origin-Resource-Policy"] == "same-origin"
    assert secure["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert secure["X-Frame-Options"] == "DENY" and secure["Referrer-Policy"] == "no-referrer"
    assert secure["Content-Security-Policy"] == strict_csp()
    assert strict_csp() == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; font-src 'self'; "
        "connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'; upgrade-insecure-requests"
    )


@pytest.mark.parametrize(
    "policy",
    [
        HeaderPolicy(frame_options="ALLOW-FROM x"),
        HeaderPolicy(referrer_policy="never"),
        HeaderPolicy(cross_origin_embedder_policy="nope"),
        HeaderPolicy(content_security_policy="default-src 'self'\r\nSet-Cookie: a=b"),
        HeaderPolicy(additional={"Bad Name": "x"}),
        HeaderPolicy(hsts=HSTS(max_age=60, preload=True)),
    ],
)
def test_invalid_policies_refused(policy: HeaderPolicy) -> None:
    with pytest.raises(InvalidPolicyError):
        security_headers(policy, https=True)


def test_is_https() -> None:
    assert is_https("https")
    assert not is_https("http", [("x-forwarded-proto", "https")])  # untrusted by default
    assert is_https("http", [("X-Forwarded-Proto", "https, https")], trust_forwarded=True)
    assert not is_https("http", [("X-Forwarded-Proto", "https, http")], trust_forwarded=True)
    assert is_https("http", [("Forwarded", 'for=1.2.3.4;proto="https"')], trust_forwarded=True)


def test_header_injection_guard() -> None:
    assert check_header_value("ok\tvalue") == "ok\tvalue"
    for bad in ["a\r\nSet-Cookie: x", "a\nb", "a\x00b"]:
        with pytest.raises(HeaderInjectionError):
            check_header_value(bad)


def test_safe_join(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    assert safe_join(root, "sub", "file.txt") == (root / "sub" / "file.txt").resolve()
    os.symlink(tmp_path, root / "escape")
    for parts in [("..", "x"), ("sub/../../x",), ("/etc/passwd",), ("C:\\x",), ("a\x00",), ("escape", "x")]:
        with pytest.raises(PathTraversalError):
            safe_join(root, *parts)


@pytest.mark.parametrize(
    "url,ok",
    [
        ("/account", True),
        ("/a?next=//x", True),
        ("//evil.com", False),
        ("/\\evil.com", False),
        ("/\t/evil.com", False),
        ("https://evil.com", False),
        ("https://app.example.com/x", True),
        ("https://APP.example.com./x", True),
        ("https://app.example.com@evil.com", False),
        ("javascript:alert(1)", False),
        (" /x", False),
        ("", False),
    ],
)
def test_open_redirect_guard(url: str, ok: bool) -> None:
    assert is_safe_redirect(url, ["app.example.com"]) is ok
    assert safe_redirect_target(url, ["app.example.com"]) == (url if ok else "/")


def test_url_and_email_shapes() -> None:
    assert validate_url("https://example.com:8443/p")
    assert validate_url("http://[::1]:80/")
    assert not validate_url("https://example.com:+80/")
    assert not validate_url("https://example.com:99999/")
    assert not validate_url("https://u:p@example.com/")
    assert not validate_url("data:text/html,x")
    assert validate_public_url("https://example.com/")
    internals = ["http://127.0.0.1/", "http://10.0.0.1/", "http://169.254.169.254/", "http://[::ffff:10.0.0.1]/"]
    for internal in [*internals, "http://localhost/", "http://0.0.0.0/"]:
        assert not validate_public_url(internal), internal
    assert validate_email("a.b+c@mail.example.org")
    for bad in ["a@b", "a..b@example.com", "@example.com", "a@-x.com", "a" * 65 + "@example.com"]:
        assert not validate_email(bad), bad
