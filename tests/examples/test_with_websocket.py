"""examples/with_websocket as a user runs it: WS_SECRET required at startup (exit 2), ping -> pong, rooms,
the 1 MiB limit (1009), a JWT checked when sent, the admin broadcast, two instances sharing rooms through
``--backplane redis://``, SIGTERM exits 0, and plumego-lint in service mode passing on it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
from example_server import REPO, call
from example_server import serve as serve_example

from plumego.security import SigningKey, encode_jwt
from plumego.x.websocket import ConnClosed, DialError, dial

EXAMPLE = REPO / "examples" / "with_websocket"
SECRET = "w" * 32
ADMIN = "admin-broadcast-secret-1234"
ENV = {"WS_SECRET": SECRET, "WS_BROADCAST_SECRET": ADMIN}


def serve(*args: str):  # type: ignore[no-untyped-def]
    return serve_example("examples.with_websocket", *args, env=ENV)


def ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws"


def test_ws_secret_is_required() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    for secret in (None, "short"):
        run_env = {**env, "PYTHONPATH": str(REPO), **({"WS_SECRET": secret} if secret else {})}
        proc = subprocess.run([sys.executable, "-m", "examples.with_websocket", "--port", "0"], cwd=REPO,
                              capture_output=True, text=True, env=run_env, timeout=60)
        assert proc.returncode == 2 and "WS_SECRET" in proc.stderr


def test_echo_rooms_limits_and_broadcast() -> None:
    with serve() as url:
        assert call(url + "/healthz") == (200, {"status": "ok"})

        async def scenario() -> None:
            async with await dial(ws(url), room="lobby") as a, await dial(ws(url), room="lobby") as b, \
                    await dial(ws(url), room="other") as c:
                await a.send_json({"type": "ping"})
                assert await a.receive_json() == {"type": "pong"}
                await a.send_text("hello lobby")
                assert await a.receive() == "hello lobby" and await b.receive() == "hello lobby"
                req = urllib.request.Request(url + "/_admin/broadcast?room=other", data=b"admin says",
                                             headers={"Authorization": f"Bearer {ADMIN}"}, method="POST")
                assert await asyncio.to_thread(lambda: urllib.request.urlopen(req, timeout=10).status) == 204
                assert await c.receive() == "admin says"
                await b.send_text("x" * ((1 << 20) + 1))
                with pytest.raises(ConnClosed) as closed:
                    await b.receive()
                assert closed.value.code == 1009
            good = encode_jwt({"sub": "ada", "exp": time.time() + 60}, SigningKey(kid="k", alg="HS256",
                                                                               secret=SECRET.encode()))
            async with await dial(ws(url), token=good):
                pass
            with pytest.raises(DialError) as refused:
                await dial(ws(url), token="forged.token.value")
            assert (refused.value.status, refused.value.code) == (401, "WS_INVALID_TOKEN")

        asyncio.run(scenario())
        status, ready = call(url + "/readyz")
        assert status == 200 and ready["backplane"] == "none"


@pytest.mark.services
def test_two_instances_share_rooms_through_redis(redis_url: str) -> None:
    backplane = f"{redis_url}{'&' if '?' in redis_url else '?'}namespace=t{uuid.uuid4().hex[:10]}"
    with serve("--backplane", backplane) as a, serve("--backplane", backplane) as b:
        assert call(a + "/readyz")[1]["backplane_connected"] is True

        async def scenario() -> None:
            async with await dial(ws(a), room="shared") as on_a, await dial(ws(b), room="shared") as on_b:
                await on_a.send_text("across instances")
                assert await on_b.receive() == "across instances"
                assert await on_a.receive() == "across instances"

        asyncio.run(scenario())


def test_plumego_lint_service_mode() -> None:
    ok = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
