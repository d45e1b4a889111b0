"""``python -m examples.with_rest``: load the configuration, wire the users store and adapters, serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .adapters.docs import OpenAPIDocs
from .adapters.validation import TypedBodies
from .app import build_app
from .users import UsersRepository


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    if cfg.backend:
        url = cfg.backend
    else:
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{(cfg.data_dir / 'users.db').resolve()}"
    if not url.startswith(("sqlite://", "postgresql://", "postgres://")):
        raise ValueError(f"--backend must be a postgresql:// URL, got {url.split('://', 1)[0]!r}")
    return build_app(UsersRepository(url), TypedBodies(), OpenAPIDocs("with_rest", "1.0.0"), logger,
                     host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_rest", "Users on x/rest and validated items.", port=8084,
                         data_dir=".data/with_rest", build=build)


if __name__ == "__main__":
    sys.exit(main())
