"""Redaction of secret-looking keys, at the top level and inside nested values, in both renderers."""

from __future__ import annotations

import io
import json

import pytest

from plumego.log import REDACTED, SECRET_KEY_FRAGMENTS, LoggerConfig, is_secret_key, new_logger, redact_fields


@pytest.mark.parametrize(
    "key",
    ["password", "DB_PASSWORD", "passwd", "client_secret", "access_token", "Authorization", "X-Api-Key",
     "apikey", "Cookie", "Set-Cookie", "signature", "private_key", "credentials"],
)
def test_secret_keys_are_detected_case_insensitively(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["user", "path", "status", "request_id", "author", "key"])
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_secret_key(key)


def test_documented_fragment_list() -> None:
    assert {"password", "token", "secret", "authorization", "api_key", "cookie"} <= set(SECRET_KEY_FRAGMENTS)


def test_redaction_recurses_into_maps_and_lists_without_mutating_input() -> None:
    fields: dict[str, object] = {
        "user": "ann",
        "headers": {"Authorization": "Bearer abc", "accept": "json"},
        "items": [{"token": "t"}, "plain"],
    }
    out = redact_fields(fields)
    assert out == {
        "user": "ann",
        "headers": {"Authorization": REDACTED, "accept": "json"},
        "items": [{"token": REDACTED}, "plain"],
    }
    assert fields["headers"] == {"Authorization": "Bearer abc", "accept": "json"}


def test_loggers_never_write_secret_values() -> None:
    for fmt in ("json", "text"):
        buf = io.StringIO()
        logger = new_logger(LoggerConfig(format=fmt, output=buf, fields={"api_key": "k-123"}))
        logger.with_fields({"session_cookie": "c-456"}).info("login", {"password": "hunter2", "user": "ann"})
        text = buf.getvalue()
        for secret in ("k-123", "c-456", "hunter2"):
            assert secret not in text
        assert "ann" in text


def test_extra_secret_keys_extend_the_list() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf, extra_secret_keys=("SSN",)))
    logger.info("x", {"user_ssn": "123", "nested": {"ssn": "456"}})
    record = json.loads(buf.getvalue())
    assert record["user_ssn"] == REDACTED and record["nested"] == {"ssn": REDACTED}
