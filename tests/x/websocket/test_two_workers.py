"""Two real uvicorn worker processes behind one port, sharing a Redis or NATS backplane: clients land on both
workers; a message sent by a client on one worker, and an admin broadcast received by one worker, reach every
member of the room on both workers exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from plumego.x.websocket import ClientConn, ConnClosed, dial

from .worker_app import ADMIN_SECRET

REPO = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture(params=["redis", "nats"])
def backplane_url(request: pytest.FixtureRequest) -> str:
    pytest.importorskip(request.param)
    base: str = request.getfixturevalue(f"{request.param}_url")
    return f"{base}{'&' if '?' in base else '?'}namespace=t{uuid.uuid4().hex[:12]}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _receive_all(clients: list[ClientConn], timeout: float = 15) -> list[str | bytes]:
    async with asyncio.timeout(timeout):
        return list(await asyncio.gather(*(c.receive() for c in clients)))


async def test_broadcast_reaches_the_room_on_every_worker(backplane_url: str) -> None:
    port = _free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tests.x.websocket.worker_app:make_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--log-level", "warning"],
        cwd=REPO, stdout=log, stderr=log,
        env={**os.environ, "PYTHONPATH": str(REPO), "WS_TEST_BACKPLANE": backplane_url})
    base = f"http://127.0.0.1:{port}"
    clients: list[ClientConn] = []
    try:
        by_worker: dict[str, list[ClientConn]] = {}
        loop = asyncio.get_running_loop()
        end = loop.time() + 60
        while len(by_worker) < 2 or min(map(len, by_worker.values())) < 2:
            assert loop.time() < end, f"clients never reached both workers: {list(map(len, by_worker.values()))}"
            try:
                client = await dial(base + "/ws", room="shared")
            except OSError:
                await asyncio.sleep(0.2)                       # the workers are still starting
                continue
            clients.append(client)
            await client.send_text("whoami")
            by_worker.setdefault(str(await client.receive()), []).append(client)
        assert len(by_worker) == 2

        # every worker has started its backplane subscription before it accepted: a client message fans out
        sender = clients[0]
        await sender.send_text("from a client")
        assert await _receive_all(clients) == ["from a client"] * len(clients)

        async with httpx.AsyncClient(base_url=base) as http:
            r = await http.post("/_admin/broadcast?room=shared", content=b"from the admin",
                                headers={"Authorization": f"Bearer {ADMIN_SECRET}"})
            assert r.status_code == 204
        assert await _receive_all(clients) == ["from the admin"] * len(clients)
        with pytest.raises(TimeoutError):                      # exactly once: nothing else is waiting
            await _receive_all(clients[:1], timeout=0.3)

        # SIGTERM with every client still connected: each one is told (1012 from uvicorn, or the hub's 1001)
        proc.send_signal(signal.SIGTERM)
        for client in clients:
            with pytest.raises(ConnClosed) as closed:
                async with asyncio.timeout(30):
                    await client.receive()
            assert closed.value.code in (1001, 1012)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        for client in clients:
            try:
                await client.close()
            except Exception:
                pass
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
        assert "Traceback" not in output, output
