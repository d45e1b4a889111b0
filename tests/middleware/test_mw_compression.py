"""compression middleware: q-value negotiation, skip rules, single-message and streaming gzip."""

from __future__ import annotations

import gzip
import zlib

import pytest
from mw_harness import call, http_scope, text_app

from plumego.contract import Receive, Scope, Send
from plumego.middleware import accepts_gzip, compressible_content_type, compression

BIG = b"plumego " * 200
GZ = [(b"accept-encoding", b"gzip, deflate")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *;q=1", False),
        ("*", True),
        ("*;q=0", False),
        ("br, deflate", False),
        ("identity", False),
        ("GZIP ; Q=1", True),
        ("x-gzip", True),
        ("gzip;q=abc", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("text/html; charset=utf-8", True),
        ("", False),
        ("text/event-stream", False),
        ("application/octet-stream", False),
        ("image/png", False),
        ("video/mp4", False),
        ("audio/ogg", False),
        ("application/zip", False),
        ("application/gzip", False),
        ("application/pdf", False),
    ],
)
def test_content_type_rule(content_type: str, expected: bool) -> None:
    assert compressible_content_type(content_type) is expected


async def test_single_message_body_is_gzipped_with_headers() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(BIG)).encode()),
                    (b"etag", b'"abc"'),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": BIG})

    res = await call(compression()(app), http_scope(headers=GZ))
    assert res.header("content-encoding") == "gzip"
    assert res.headers("vary") == ["Origin, Accept-Encoding"]
    assert res.header("etag") == 'W/"abc"'
    assert int(res.header("content-length") or 0) == len(res.body) < len(BIG)
    assert gzip.decompress(res.body) == BIG


@pytest.mark.parametrize(
    ("headers", "app_kwargs", "method"),
    [
        ([(b"accept-encoding", b"br")], {}, "GET"),
        ([], {}, "GET"),
        (GZ, {"body": b"tiny"}, "GET"),
        (GZ, {"status": 404}, "GET"),
        (GZ, {"content_type": b"image/png"}, "GET"),
        (GZ, {}, "HEAD"),
        ([*GZ, (b"accept", b"text/event-stream")], {}, "GET"),
        ([*GZ, (b"upgrade", b"websocket")], {}, "GET"),
    ],
)
async def test_skip_rules(headers: list[tuple[bytes, bytes]], app_kwargs: dict[str, object], method: str) -> None:
    kwargs: dict[str, object] = {"body": BIG, **app_kwargs}
    res = await call(compression()(text_app(**kwargs)), http_scope(method, headers=headers))  # type: ignore[arg-type]
    assert res.header("content-encoding") is None
    assert res.body == kwargs["body"]


async def test_already_encoded_and_missing_content_type_are_skipped() -> None:
    for start_headers in ([(b"content-type", b"text/plain"), (b"content-encoding", b"br")], []):

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": start_headers})
            await send({"type": "http.response.body", "body": BIG})

        res = await call(compression()(app), http_scope(headers=GZ))
        assert res.body == BIG
        assert res.headers("content-encoding") == ([] if not start_headers else ["br"])


async def test_small_body_without_length_is_judged_by_its_size() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"small"})

    res = await call(compression(min_size=100)(app), http_scope(headers=GZ))
    assert res.header("content-encoding") is None and res.body == b"small"
    res = await call(compression(min_size=0)(app), http_scope(headers=GZ))
    assert gzip.decompress(res.body) == b"small"


async def test_streaming_chunks_are_flushed_as_they_arrive() -> None:
    chunks = [b"event one\n" * 20, b"event two\n" * 20, b"", b"last\n"]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})

    res = await call(compression()(app), http_scope(headers=GZ))
    assert res.header("content-encoding") == "gzip" and res.header("content-length") is None
    # Each non-empty streamed chunk must be decodable on its own prefix: a client sees it without waiting.
    decoder = zlib.decompressobj(31)
    first = decoder.decompress(res.body_messages[0]["body"])
    assert first == chunks[0]
    assert gzip.decompress(res.body) == b"".join(chunks)
    assert res.body_messages[-1]["more_body"] is False


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        compression(level=10)
    with pytest.raises(ValueError):
        compression(min_size=-1)
