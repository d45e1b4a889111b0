"""examples/with_frontend as a user runs it: the JSON API next to the SPA (API routes first), the index no-cache,
hashed assets immutable and precompressed, the SPA fallback, missing assets 404, custom prefixes from the
environment, SIGTERM exits 0, and plumego-lint in service mode passing on it."""

from __future__ import annotations

import gzip
import subprocess
import sys
import urllib.error
import urllib.request

from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_frontend"
ASSET = "/assets/app.4f9c2e1a.js"


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_spa_and_api_in_one_process() -> None:
    with serve_example("examples.with_frontend") as url:
        status, body = call(url + "/api/items")
        assert status == 200 and [i["name"] for i in body["data"]["items"]] == ["gopher", "python"]
        assert call(url + "/api/items/9")[0] == 404
        status, headers, page = get(url + "/", Accept="text/html")
        assert status == 200 and b"<div id=\"app\">" in page and headers["cache-control"] == "no-cache"
        status, headers, page2 = get(url + "/items/2", Accept="text/html,application/xhtml+xml")
        assert (status, page2) == (200, page)                                # SPA fallback
        status, headers, js = get(url + ASSET, **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert gzip.decompress(js) == (EXAMPLE / "static" / ASSET.lstrip("/")).read_bytes()
        assert get(url + ASSET, **{"If-None-Match": headers["etag"], "Accept-Encoding": "gzip"})[0] == 304
        assert get(url + "/assets/missing.js", Accept="text/html")[0] == 404   # a missing asset: never the index
        status, _, body = get(url + "/%2e%2e/%2e%2e/etc/passwd", Accept="application/json")
        assert status == 404 and b"root:" not in body


def test_prefixes_from_the_environment() -> None:
    with serve_example("examples.with_frontend", env={"API_PREFIX": "/v1", "UI_PREFIX": "/app"}) as url:
        assert call(url + "/v1/status") == (200, {"status": "ok"})
        assert get(url + "/app/settings", Accept="text/html")[0] == 200
        assert get(url + "/app" + ASSET)[0] == 200
        assert get(url + "/settings", Accept="text/html")[0] == 404


def test_plumego_lint_service_mode() -> None:
    ok = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
