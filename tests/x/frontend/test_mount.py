"""x/frontend against a real directory tree: Go's SPA fallback rules, precompressed variants with Vary and 406,
cache-control for index and assets, ETag/If-None-Match/If-Modified-Since, single ranges (and 416), symlink escapes
and traversal, protected headers, error pages, registration next to API routes."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from plumego.core import App, TestClient
from plumego.x.frontend import Mount, register_from_dir

INDEX = b"<!doctype html><title>spa</title>"
JS = b"console.log('app');" * 50
BIG = bytes(range(256)) * 4096 * 2          # 2 MiB: streamed, not read in one go


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "index.html").write_bytes(INDEX)
    (root / "404.html").write_bytes(b"<h1>missing</h1>")
    (root / "assets" / "app.3f2a.js").write_bytes(JS)
    (root / "assets" / "app.3f2a.js.gz").write_bytes(gzip.compress(JS))
    (root / "assets" / "app.3f2a.js.br").write_bytes(b"BROTLI-BYTES")
    (root / "assets" / "style.css").write_bytes(b"body{}")
    (root / "assets" / "style.css.gz").write_bytes(gzip.compress(b"body{}"))
    (root / "assets" / "big.bin").write_bytes(BIG)
    (root / "assets" / "mod.wasm").write_bytes(b"\0asm")
    (root / "docs" / "index.html").write_bytes(b"docs index")
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    (root / "leak.txt").symlink_to(outside)
    (root / "leakdir").symlink_to(tmp_path)
    (root / "assets" / "inner-link.js").symlink_to(root / "assets" / "app.3f2a.js")
    return root


def app_for(dist: Path, **options: object) -> TestClient:
    app = App()

    async def health(request: object) -> dict[str, str]:
        return {"status": "ok"}

    app.get("/api/health", health)
    register_from_dir(app, dist, cache_control="public, max-age=31536000, immutable", precompressed=True,
                      not_found_page="404.html", **options)  # type: ignore[arg-type]
    return TestClient(app)


def test_spa_fallback_follows_go_rules(dist: Path) -> None:
    c = app_for(dist)
    assert c.get("/api/health").json() == {"status": "ok"}               # the API route beats the catch-all
    for path, accept in (("/", ""), ("/dashboard", "text/html"), ("/users/42", "*/*"), ("/a/b", ""),
                         ("/deep/route", "application/xhtml+xml,text/*;q=0.5")):
        r = c.get(path, headers={"Accept": accept} if accept else None)
        assert (r.status_code, r.content) == (200, INDEX), path
        assert r.headers["cache-control"] == "no-cache"
    r = c.get("/dashboard", headers={"Accept": "application/json"})    # an API client: no HTML fallback
    assert r.status_code == 404
    r = c.get("/assets/missing.js", headers={"Accept": "text/html"})    # a missing asset: 404, never the index
    assert (r.status_code, r.content) == (404, b"<h1>missing</h1>")
    assert c.get("/docs/").content == b"docs index" and c.get("/docs").content == b"docs index"
    assert c.post("/").status_code == 405 and c.post("/").headers["allow"] == "GET, HEAD"


def test_no_fallback_and_prefix_mounts(dist: Path) -> None:
    app = App()
    Mount(dist, prefix="/ui", fallback=False).register(app)
    c = TestClient(app)
    assert c.get("/ui").content == INDEX and c.get("/ui/").content == INDEX
    assert c.get("/ui/assets/style.css").content == b"body{}"
    assert c.get("/ui/dashboard").status_code == 404
    assert c.get("/assets/style.css").status_code == 404
    assert c.get("/ui/nope").json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_precompressed_variants_vary_and_406(dist: Path) -> None:
    c = app_for(dist)
    r = c.get("/assets/app.3f2a.js", headers={"Accept-Encoding": "gzip, br"})
    assert (r.headers["content-encoding"], r.content) == ("br", b"BROTLI-BYTES")
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    r = c.get("/assets/app.3f2a.js", headers={"Accept-Encoding": "gzip;q=1, br;q=0.5"})
    assert r.headers["content-encoding"] == "gzip" and gzip.decompress(r.content) == JS
    r = c.get("/assets/app.3f2a.js", headers={"Accept-Encoding": "br;q=abc, gzip"})   # invalid q voids br
    assert r.headers["content-encoding"] == "gzip"
    r = c.get("/assets/app.3f2a.js")                                    # no header: identity
    assert "content-encoding" not in r.headers and r.content == JS and r.headers["vary"] == "Accept-Encoding"
    r = c.get("/assets/style.css", headers={"Accept-Encoding": "br, identity;q=0"})   # only .gz exists
    assert r.status_code == 406 and r.headers["vary"] == "Accept-Encoding"
    assert r.json()["error"]["code"] == "NOT_ACCEPTABLE"
    r = c.get("/assets/mod.wasm", headers={"Accept-Encoding": "*;q=0"})  # no variants and identity refused
    assert r.status_code == 406
    r = c.get("/assets/mod.wasm", headers={"Accept-Encoding": "gzip"})  # identity is implicitly fine
    assert r.content == b"\0asm" and r.headers["content-type"] == "application/wasm" and "vary" not in r.headers


def test_etag_last_modified_and_ranges(dist: Path) -> None:
    c = app_for(dist)
    first = c.get("/assets/style.css")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert c.get("/assets/style.css", headers={"If-None-Match": etag}).status_code == 304
    assert c.get("/assets/style.css", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert c.get("/assets/style.css", headers={"If-Modified-Since": modified}).status_code == 304
    gz = c.get("/assets/style.css", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["etag"] != etag                                   # each representation its own validator
    r = c.get("/assets/big.bin", headers={"Range": "bytes=100-199"})
    assert (r.status_code, r.content, r.headers["content-range"]) == (206, BIG[100:200],
                                                                      f"bytes 100-199/{len(BIG)}")
    r = c.get("/assets/big.bin", headers={"Range": "bytes=-10"})
    assert r.content == BIG[-10:] and r.headers["content-length"] == "10"
    r = c.get("/assets/big.bin", headers={"Range": f"bytes={len(BIG)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(BIG)}"
    r = c.get("/assets/big.bin", headers={"Range": "bytes=0-1,5-6"})   # multipart: the whole file
    assert r.status_code == 200 and r.content == BIG
    r = c.get("/assets/big.bin", headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status_code == 200 and len(r.content) == len(BIG)
    r = c.head("/assets/big.bin")
    assert r.content == b"" and r.headers["content-length"] == str(len(BIG))


def test_traversal_and_symlink_escapes_are_404(dist: Path) -> None:
    c = app_for(dist, fallback=False)
    for path in ("/leak.txt", "/leakdir/secret.txt", "/../secret.txt", "/assets/..%2f..%2fsecret.txt",
                 "/%2e%2e/secret.txt", "/assets/%00.js", "/assets\\..\\..\\secret.txt"):
        r = c.get(path)
        assert r.status_code in (404, 400), path
        assert b"top secret" not in r.content
    assert c.get("/assets/inner-link.js").content == JS                 # a link that stays inside is fine


def test_construction_checks(dist: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="owned by the mount"):
        Mount(dist, headers={"Cache-Control": "no-store"})
    for name in ("Content-Type", "Vary", "ETag", "Content-Security-Policy-ish"):
        if name.lower().startswith("content-") or name in ("Vary", "ETag"):
            with pytest.raises(ValueError):
                Mount(dist, headers={name: "x"})
    with pytest.raises(ValueError, match="control character"):
        Mount(dist, headers={"X-Frame-Options": "DENY\r\nSet-Cookie: a=b"})
    with pytest.raises(ValueError, match="index"):
        Mount(tmp_path / "dist" / "assets")
    with pytest.raises(ValueError, match="not a directory"):
        Mount(tmp_path / "nope")
    with pytest.raises(ValueError, match="one extension"):
        Mount(dist, mime_types={"tar.gz": "application/gzip"})
    m = Mount(dist, headers={"X-Frame-Options": "DENY"}, mime_types={".bin": "application/x-test"},
              precompressed=True)
    assert m.root == os.path.realpath(dist)
    app = App()
    m.register(app)
    r = TestClient(app).get("/assets/big.bin", headers={"Range": "bytes=0-0"})
    assert r.headers["x-frame-options"] == "DENY" and r.headers["content-type"] == "application/x-test"
    assert sorted(m.variants) == sorted(str(Path(m.root) / "assets" / n) for n in ("app.3f2a.js", "style.css"))
