"""examples/with_files as a user runs it: upload, ranged download, list, soft delete and an expiring link on the
local disk; the same on S3 (moto's server); two instances sharing S3 and PostgreSQL; bad settings; plumego-lint
in service mode passing on it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_files"
BOUNDARY = "exampleboundary7"


def serve(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return serve_example("examples.with_files", *args, env=env)


def http(url: str, *, data: bytes | None = None, method: str = "GET",
         headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def upload(base: str, tenant: str, name: str, data: bytes) -> tuple[int, Any]:
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    status, _, raw = http(base + "/files", data=body, method="POST",
                          headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                                   "X-Tenant-ID": tenant, "X-User-ID": "ada"})
    import json

    return status, json.loads(raw)


def exercise(base: str) -> None:
    data = os.urandom(200_000)
    status, record = upload(base, "acme", "report.bin", data)
    assert status == 201 and record["hash"] == hashlib.sha256(data).hexdigest() and record["uploaded_by"] == "ada"
    fid = record["id"]
    status, headers, body = http(f"{base}/files/{fid}/download", headers={"X-Tenant-ID": "acme",
                                                                          "Range": "bytes=1000-1999"})
    assert status == 206 and body == data[1000:2000] and headers["Content-Range"] == "bytes 1000-1999/200000"
    assert http(f"{base}/files/{fid}", headers={"X-Tenant-ID": "globex"})[0] == 404
    assert call(base + "/files")[0] == 401                                    # no tenant
    status, listing = call(base + "/files?page_size=10", headers={"X-Tenant-ID": "acme"})
    assert status == 200 and listing["total"] == 1 and listing["items"][0]["id"] == fid
    status, link = call(f"{base}/files/{fid}/url?expiry=60", headers={"X-Tenant-ID": "acme"})
    assert status == 200 and link["expires_in"] == 60
    status, _, body = http(link["url"])                                        # no tenant header: the link is enough
    assert status == 200 and body == data
    assert http(f"{base}/files/{fid}", method="DELETE", headers={"X-Tenant-ID": "acme"})[0] == 204
    assert http(f"{base}/files/{fid}", headers={"X-Tenant-ID": "acme"})[0] == 404


def test_local_disk(tmp_path: Path) -> None:
    with serve("--data-dir", str(tmp_path)) as base:
        assert call(base + "/healthz") == (200, {"status": "ok"})
        exercise(base)
        status, body = upload(base, "acme", "../../escape.txt", b"x")
        assert status == 201 and body["name"] == "escape.txt"
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["blobs"]
    assert all(p.is_relative_to(tmp_path / "blobs") for p in tmp_path.rglob("*.txt"))


def test_s3_backend(s3_bucket: tuple[str, str], tmp_path: Path) -> None:
    endpoint, bucket = s3_bucket
    with serve("--data-dir", str(tmp_path), "--backend", f"s3://test:test@{bucket}?endpoint={endpoint}") as base:
        exercise(base)


@pytest.mark.services
def test_two_instances_share_s3_and_postgres(s3_bucket: tuple[str, str], pg_schema: tuple[str, str],
                                             tmp_path: Path) -> None:
    endpoint, bucket = s3_bucket
    base_url, schema = pg_schema
    env = {"FILES_METADATA_URL": f"{base_url}{'&' if '?' in base_url else '?'}schema={schema}"}
    backend = f"s3://test:test@{bucket}?endpoint={endpoint}"
    with serve("--data-dir", str(tmp_path / "a"), "--backend", backend, env=env) as a, \
            serve("--data-dir", str(tmp_path / "b"), "--backend", backend, env=env) as b:
        status, record = upload(a, "acme", "shared.txt", b"written by a")
        assert status == 201
        status, _, body = http(f"{b}/files/{record['id']}/download", headers={"X-Tenant-ID": "acme"})
        assert status == 200 and body == b"written by a"
        assert upload(b, "acme", "again.txt", b"written by a")[1]["id"] == record["id"]   # dedupe across instances


def test_bad_settings_exit_2(tmp_path: Path) -> None:
    for args, env in ((["--backend", "ftp://x"], {}), ([], {"FILES_MAX_SIZE": "lots"}),
                      ([], {"FILES_METADATA_URL": "mysql://x"})):
        proc = subprocess.run([sys.executable, "-m", "examples.with_files", "--data-dir", str(tmp_path), *args],
                              cwd=REPO, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(REPO), **env})
        assert proc.returncode == 2 and proc.stderr.startswith("error: "), (args, env, proc.stderr)


def test_plumego_lint_service_mode(tmp_path: Path) -> None:
    lint = [sys.executable, "-m", "plumego_lint", "check"]
    proc = subprocess.run(lint, cwd=EXAMPLE, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    copy = tmp_path / "with_files"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".plumego-lint-cache"))
    app = copy / "app.py"
    planted = "from .adapters.files import FileService\nfrom plumego.x.fileapi import FileHandler"
    app.write_text(app.read_text().replace("from .adapters.files import FileService", planted))
    bad = subprocess.run(lint, cwd=copy, capture_output=True, text=True)
    assert bad.returncode == 1 and "PLG301" in bad.stdout, bad.stdout
