"""x/fileapi end to end through the ASGI interface: uploads, downloads with Range/ETag, list, delete, URLs, the
tenant from the scope only, and bad input (truncated, oversized, traversal, a dead S3 endpoint)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from plumego.contract import ASGIApp, Receive, Scope, Send
from plumego.core import App, TestClient
from plumego.x.data.file import FileCatalog, LocalStorage, S3Config, S3Storage, SQLiteMetadataStore, Storage
from plumego.x.fileapi import FileHandler, register_routes, with_tenant_id, with_user_id

BOUNDARY = "----plumegotestboundary"
KEY = b"k" * 32


def tenant_from_test_header(app: ASGIApp) -> ASGIApp:
    """Stands in for x/tenant's resolve middleware: it decides the tenant and puts it in the scope."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-test-tenant":
                    with_tenant_id(scope, value.decode())
                if name == b"x-test-user":
                    with_user_id(scope, value.decode())
        await app(scope, receive, send)
    return middleware


def multipart(filename: str, data: bytes, *, content_type: str = "application/octet-stream",
              extra: dict[str, str] | None = None, close: bool = True) -> bytes:
    out = b""
    for name, value in (extra or {}).items():
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


MP = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def build(storage: Storage, tmp_path: Path, **options: Any) -> tuple[App, FileCatalog]:
    catalog = FileCatalog(storage, SQLiteMetadataStore(tmp_path / "meta.db"))
    app = App()
    app.use(tenant_from_test_header)
    register_routes(app, FileHandler(catalog, **options))
    return app, catalog


@pytest.fixture(params=["local", "s3"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    if request.param == "local":
        storage: Storage = LocalStorage(tmp_path / "blobs")
    else:
        endpoint, bucket = request.getfixturevalue("s3_bucket")
        storage = S3Storage(S3Config(bucket=bucket, endpoint=endpoint, access_key="test", secret_key="test"))
    app, _ = build(storage, tmp_path, max_size=1 << 20, link_key=KEY)
    yield TestClient(app, headers={"x-test-tenant": "acme", "x-test-user": "ada"})


def upload(client: TestClient, name: str, data: bytes, **kw: Any) -> dict[str, Any]:
    response = client.post("/files", content=multipart(name, data, **kw), headers=MP)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_upload_info_download(client: TestClient) -> None:
    data = os.urandom(300_000)
    body = upload(client, "../../etc/passwd.bin", data, extra={"tenant_id": "globex"})
    assert body["tenant_id"] == "acme"                   # the body's tenant_id is ignored: the scope decides
    assert body["name"] == "passwd.bin" and body["size"] == len(data) and body["uploaded_by"] == "ada"
    assert body["hash"] == hashlib.sha256(data).hexdigest()
    info = client.get(f"/files/{body['id']}")
    assert info.status_code == 200 and info.json()["id"] == body["id"]
    got = client.get(f"/files/{body['id']}/download")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["etag"] == f'"{body["hash"]}"' and got.headers["accept-ranges"] == "bytes"
    assert got.headers["content-disposition"] == 'attachment; filename="passwd.bin"'
    assert got.headers["cache-control"] == "public, max-age=31536000"
    head = client.request("HEAD", f"/files/{body['id']}/download")
    assert head.status_code == 200 and head.content == b""


def test_ranges_and_conditionals(client: TestClient) -> None:
    data = bytes(range(256)) * 40
    fid = upload(client, "r.bin", data)["id"]
    url = f"/files/{fid}/download"
    part = client.get(url, headers={"range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}" and part.headers["content-length"] == "100"
    assert client.get(url, headers={"range": "bytes=-10"}).content == data[-10:]
    assert client.get(url, headers={"range": "bytes=10200-"}).content == data[10200:]
    bad = client.get(url, headers={"range": "bytes=999999-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(data)}"
    assert client.get(url, headers={"range": "bytes=0-1,5-6"}).status_code == 200     # several ranges: all of it
    etag = part.headers["etag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.get(url, headers={"range": "bytes=0-9", "if-range": '"old"'}).status_code == 200
    assert client.get(url, headers={"range": "bytes=0-9", "if-range": etag}).status_code == 206


def test_tenant_comes_from_the_scope_only(client: TestClient) -> None:
    fid = upload(client, "a.txt", b"secret of acme")["id"]
    other = {"x-test-tenant": "globex"}
    for method, path in (("GET", f"/files/{fid}"), ("GET", f"/files/{fid}/download"), ("GET", f"/files/{fid}/url"),
                         ("DELETE", f"/files/{fid}")):
        assert client.request(method, path, headers=other).status_code == 404
    assert client.get("/files", headers=other).json()["total"] == 0
    missing = client.get("/files", headers={"x-test-tenant": ""})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "tenant_required"
    invalid = client.get("/files", headers={"x-test-tenant": "../acme"})
    assert invalid.status_code == 400 and invalid.json()["error"]["code"] == "tenant_invalid_id"
    assert client.get(f"/files/{fid}?tenant_id=globex").json()["tenant_id"] == "acme"


def test_list_filters_paging_and_soft_delete(client: TestClient) -> None:
    ids = [upload(client, f"f{i}.{'png' if i % 2 else 'txt'}", f"content {i}".encode(),
                  content_type="image/png" if i % 2 else "text/plain")["id"] for i in range(5)]
    page = client.get("/files?page=1&page_size=2&order_by=name").json()
    assert (page["total"], page["page"], page["page_size"], page["total_page"]) == (5, 1, 2, 3)
    assert [i["name"] for i in page["items"]] == ["f0.txt", "f1.png"]
    assert [i["name"] for i in client.get("/files?mime_type=image/png&order_by=-name").json()["items"]] == [
        "f3.png", "f1.png"]
    assert client.get("/files?uploaded_by=ada").json()["total"] == 5
    assert client.get("/files?uploaded_by=bob").json()["total"] == 0
    assert client.get("/files?start_time=2000-01-01T00:00:00Z&end_time=1").json()["total"] == 0
    for bad in ("page=0", "page_size=101", "page=x", "order_by=password", "start_time=yesterday", "page=%EF%BC%91"):
        response = client.get(f"/files?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["type"] == "validation_failure"
    assert client.delete(f"/files/{ids[0]}").status_code == 204
    assert client.delete(f"/files/{ids[0]}").status_code == 404
    assert client.get(f"/files/{ids[0]}").status_code == 404
    assert client.get("/files").json()["total"] == 4


def test_expiring_urls(client: TestClient) -> None:
    fid = upload(client, "doc.txt", b"shared text", content_type="text/plain")["id"]
    got = client.get(f"/files/{fid}/url?expiry=60")
    assert got.status_code == 200 and got.json()["expires_in"] == 60
    url = got.json()["url"]
    if "/files/links/" in url:                                   # local disk: a link this API signs and serves
        path = url.split("testserver", 1)[1]
        assert client.get(path, headers={"x-test-tenant": ""}).content == b"shared text"   # no tenant needed
        tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        assert client.get(tampered).status_code == 403
    else:                                                        # S3: a presigned URL any client can fetch
        with urlopen(url, timeout=10) as response:
            assert response.read() == b"shared text"
    assert client.get(f"/files/{fid}/url").json()["expires_in"] == 900
    assert client.get(f"/files/{fid}/url?expiry=0").status_code == 400
    assert client.get(f"/files/{fid}/url?expiry=999999999").status_code == 400


def test_local_links_need_a_key_and_expire(tmp_path: Path) -> None:
    app, catalog = build(LocalStorage(tmp_path / "b"), tmp_path)
    plain = TestClient(app, headers={"x-test-tenant": "acme"})
    fid = upload(plain, "a.txt", b"x")["id"]
    response = plain.get(f"/files/{fid}/url")
    assert response.status_code == 501 and response.json()["error"]["code"] == "NOT_IMPLEMENTED"
    now = [1000.0]
    handler = FileHandler(catalog, link_key=KEY, clock=lambda: now[0])
    app2 = App()
    app2.use(tenant_from_test_header)
    register_routes(app2, handler)
    client = TestClient(app2, headers={"x-test-tenant": "acme"})
    path = client.get(f"/files/{fid}/url?expiry=10").json()["url"].split("testserver", 1)[1]
    assert client.get(path).status_code == 200
    now[0] += 11
    expired = client.get(path)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "LINK_EXPIRED"


def test_bad_uploads_store_nothing(client: TestClient) -> None:
    assert client.post("/files", content=b"plain", headers={"content-type": "text/plain"}).status_code == 400
    no_file = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--{BOUNDARY}--\r\n"
    response = client.post("/files", content=no_file.encode(), headers=MP)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_MULTIPART"
    truncated = multipart("t.bin", os.urandom(200_000), close=False)[:-50]
    response = client.post("/files", content=truncated, headers=MP)
    assert response.status_code == 400 and "truncated" in response.json()["error"]["message"]
    unclosed = multipart("t.bin", b"complete part but no closing boundary", close=False)
    assert client.post("/files", content=unclosed, headers=MP).status_code == 400
    big = client.post("/files", content=multipart("big.bin", b"x" * ((1 << 20) + 1)), headers=MP)
    assert big.status_code == 413 and big.json()["error"]["type"] == "payload_too_large"
    assert client.get("/files").json()["total"] == 0


def test_oversized_upload_refused_while_streaming(tmp_path: Path) -> None:
    """The body never ends; the handler answers 413 after about max_size bytes instead of reading it all."""
    app, catalog = build(LocalStorage(tmp_path / "b"), tmp_path, max_size=256 * 1024)
    head = multipart("endless.bin", b"", close=False)[:-2]
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": head if pulled == 1 else b"z" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/files", "raw_path": b"/files", "root_path": "", "query_string": b"", "server": ("t", 80),
             "client": ("127.0.0.1", 1), "headers": [(b"content-type", MP["content-type"].encode()),
                                                     (b"x-test-tenant", b"acme")]}
    import asyncio

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert pulled <= 256 * 1024 // 65536 + 3
    assert json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["error"]["type"] == "payload_too_large"
    assert list((tmp_path / "b").rglob("*.bin")) == []


def test_backend_errors_are_not_shown(tmp_path: Path) -> None:
    with socket.socket() as probe:              # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = S3Storage(S3Config(bucket="secret-bucket-name", endpoint=f"http://127.0.0.1:{port}", access_key="a",
                              secret_key="b"))
    app, _ = build(dead, tmp_path)
    client = TestClient(app, headers={"x-test-tenant": "acme"})
    response = client.post("/files", content=multipart("a.txt", b"hello"), headers=MP)
    assert response.status_code == 503
    assert "127.0.0.1" not in response.text and "secret-bucket-name" not in response.text
    assert response.json()["error"]["message"] == "file storage is unavailable, try again later"
