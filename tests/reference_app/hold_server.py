"""Test-only launcher: the reference app wrapped so a request carrying ``X-Test-Hold: <file>`` holds its
response until that file exists. Prints ``held <path>`` when it starts holding. Not part of the app."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from plumego.contract import ASGIApp, Message, Receive, Scope, Send

from reference_app.__main__ import main


def hold(app: ASGIApp) -> ASGIApp:
    async def held(scope: Scope, receive: Receive, send: Send) -> None:
        release = dict(scope.get("headers", ())).get(b"x-test-hold") if scope["type"] == "http" else None
        if release is None:
            await app(scope, receive, send)
            return
        marker = Path(release.decode())

        async def delayed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                print(f"held {scope['path']}", flush=True)
                while not marker.exists():
                    await asyncio.sleep(0.02)
            await send(message)

        await app(scope, receive, delayed_send)

    return held


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], wrap=hold))
