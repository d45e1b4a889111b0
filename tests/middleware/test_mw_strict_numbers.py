"""Numbers in headers the middleware reads: RFC 9110 q-values and ASCII-digit Content-Length only."""

from __future__ import annotations

import pytest

from plumego.middleware import accepts_gzip, body_limit

from mw_harness import call, http_scope, text_app


@pytest.mark.parametrize("value", ["gzip;q=1_0", "gzip;q=1e3", "gzip;q=inf", "gzip;q= ١", "gzip;q=2", "gzip;q=0.5x"])
def test_malformed_qvalues_do_not_accept_gzip(value: str) -> None:
    assert accepts_gzip(value) is False  # float() read 1_0 as 10 and 1e3 as 1000


@pytest.mark.parametrize("value", ["gzip", "gzip;q=1", "gzip;q=0.001", "gzip;q=1.000", "*;q=0.5"])
def test_valid_qvalues_accept_gzip(value: str) -> None:
    assert accepts_gzip(value) is True


@pytest.mark.parametrize("declared", [b"1_000", "١٠٠٠".encode(), b"+1000"])
async def test_content_length_with_non_ascii_digits_is_not_believed(declared: bytes) -> None:
    """int() read these as 1000 and answered 413 from a header the server itself never accepts."""
    app = body_limit(10)(text_app())
    result = await call(app, http_scope("POST", headers=[(b"content-length", declared)]), [b"ok"])
    assert result.status == 200
