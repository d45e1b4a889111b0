"""``python -m examples.with_files``: load the configuration, wire storage and metadata, serve until SIGTERM.

``--backend`` is where blobs go: empty (``<data-dir>/blobs``), a directory, or ``s3://[key:secret@]bucket?
endpoint=http://host:9000``. ``FILES_METADATA_URL`` is where records go (default ``sqlite:///<data-dir>/files.db``;
``postgresql://...`` to share them between machines). ``FILES_MAX_SIZE`` (bytes, default 100 MiB) and
``FILES_LINK_KEY`` (signs local download links; default a key kept in the data directory).
"""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ConfigError, ExampleConfig, serve_example

from .adapters.files import PlumegoFiles, check_storage_url
from .app import build_app

EXTRA = ("FILES_METADATA_URL", "FILES_MAX_SIZE", "FILES_LINK_KEY")


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    try:
        storage = check_storage_url(cfg.backend) or (cfg.data_dir / "blobs").as_posix()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    metadata = cfg.extra.get("FILES_METADATA_URL") or f"sqlite:///{(cfg.data_dir / 'files.db').as_posix()}"
    if not metadata.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError("FILES_METADATA_URL must be sqlite:///... or postgresql://...")
    raw_size = cfg.extra.get("FILES_MAX_SIZE", str(100 * 1024 * 1024))
    if not (raw_size.isascii() and raw_size.isdigit()) or int(raw_size) <= 0:
        raise ConfigError("FILES_MAX_SIZE must be a positive number of bytes")
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    files = PlumegoFiles(storage, metadata, cfg.data_dir, max_size=int(raw_size),
                         link_key=cfg.extra.get("FILES_LINK_KEY", ""))
    return build_app(files, logger, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_files", "A multi-tenant file service.", port=8087,
                         data_dir=".data/with_files", build=build, extra=EXTRA)


if __name__ == "__main__":
    sys.exit(main())
