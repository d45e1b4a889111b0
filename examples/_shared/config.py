"""Configuration of an example app: ``--host``, ``--port``, ``--data-dir``, ``--backend`` and app-specific
settings, from defaults < ``.env`` < environment (``APP_HOST``, ``APP_PORT``, ``APP_DATA_DIR``, ``APP_BACKEND``,
...) < flags, as the reference app and Go Plumego's reference apps do. Imports only the standard library.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ConfigError", "ExampleConfig", "load_config"]


class ConfigError(ValueError):
    """A setting that cannot be used; the app exits 2 with the message."""


@dataclass(frozen=True)
class ExampleConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".data")
    backend: str = ""                                  # "" = the embedded default
    extra: Mapping[str, str] = field(default_factory=dict)


def _env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if sep and key.strip():
            values[key.strip()] = value
    return values


def _port(value: str, setting: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > 65535:
        raise ConfigError(f"{setting}={value!r} must be a port number 0-65535")
    return int(value)


def load_config(prog: str, description: str, *, port: int, data_dir: str, extra: Sequence[str] = (),
                argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
                backend_aliases: Sequence[str] = ()) -> ExampleConfig:
    """``extra`` names app-specific environment settings (e.g. ``GITHUB_WEBHOOK_SECRET``), read from .env and the
    environment into ``ExampleConfig.extra``. ``backend_aliases`` are other flags for ``--backend`` (an app's own
    word for it, e.g. ``--backplane``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", help=f"port to bind (default {port}; 0 picks a free port)")
    parser.add_argument("--data-dir", help=f"where embedded databases live (default {data_dir})")
    parser.add_argument("--backend", *backend_aliases, dest="backend",
                        help="a server URL to scale out with (default: embedded)")
    parser.add_argument("--env-file", help="dotenv file read before the environment (default .env)")
    args = parser.parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    env_path = Path(args.env_file or env.get("APP_ENV_FILE") or ".env")
    if env_path.is_file():
        merged = {**_env_file(env_path), **env}
    elif args.env_file:
        raise ConfigError(f"env file {env_path} does not exist")
    else:
        merged = env
    host = args.host or merged.get("APP_HOST") or "127.0.0.1"
    port_value = _port(args.port, "--port") if args.port is not None else (
        _port(merged["APP_PORT"], "APP_PORT") if "APP_PORT" in merged else port)
    return ExampleConfig(host=host, port=port_value, data_dir=Path(args.data_dir or merged.get("APP_DATA_DIR")
                                                                   or data_dir),
                         backend=args.backend or merged.get("APP_BACKEND", ""),
                         extra={k: merged[k] for k in extra if k in merged})
