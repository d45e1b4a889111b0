"""``python -m examples.with_ai``: load the configuration, wire the chat backend, serve until SIGTERM.

Besides the shared flags: ``--provider-url`` (or ``AI_PROVIDER_URL``) for an OpenAI-compatible server,
``--model`` (``AI_MODEL``); the API key comes from ``AI_API_KEY`` only, never a flag (flags show in ``ps``).
"""

from __future__ import annotations

import argparse
import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .adapters.chat import ChatSettings, GatewayChat
from .app import build_app

_flags = argparse.Namespace(provider_url=None, model=None)


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    provider_url = _flags.provider_url or cfg.extra.get("AI_PROVIDER_URL", "")
    if provider_url and not provider_url.startswith(("http://", "https://")):
        raise ValueError(f"--provider-url {provider_url!r} must be an http(s) URL")
    settings = ChatSettings(provider_url=provider_url, api_key=cfg.extra.get("AI_API_KEY", ""),
                            model=_flags.model or cfg.extra.get("AI_MODEL", ""), data_dir=cfg.data_dir,
                            backend=cfg.backend)
    return build_app(GatewayChat(settings), logger, host=cfg.host, port=cfg.port)


def main() -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--provider-url")
    parser.add_argument("--model")
    _, rest = parser.parse_known_args(sys.argv[1:], namespace=_flags)
    sys.argv[1:] = rest
    return serve_example("python -m examples.with_ai", "A chat API over plumego's AI gateway.", port=8084,
                         data_dir=".data/with_ai", build=build, extra=("AI_PROVIDER_URL", "AI_API_KEY", "AI_MODEL"))


if __name__ == "__main__":
    sys.exit(main())
