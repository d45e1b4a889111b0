"""Thumbnails of uploaded images with Pillow (Go decodes jpeg, png and gif with its standard library).

Owns :func:`make_thumbnail`: decode under Pillow's decompression-bomb guard, fit into the box keeping the aspect
ratio, store a PNG next to the original. A file Pillow cannot read gets no thumbnail (the upload still succeeds).
Install with ``pip install 'plumego[thumbnails]'``; Pillow is imported when a thumbnail is asked for. Imports the
standard library, this package and, lazily, Pillow.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from ._types import Storage

__all__ = ["make_thumbnail"]

_MAX_SOURCE_BYTES = 64 * 1024 * 1024


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("thumbnails need Pillow: pip install 'plumego[thumbnails]'") from exc
    return Image


def _render(data: bytes, box: tuple[int, int]) -> tuple[int, int, bytes] | None:
    image_mod = _pillow()
    try:
        with image_mod.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.thumbnail(box)
            out = io.BytesIO()
            image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, format="PNG")
    except (OSError, ValueError, image_mod.DecompressionBombError):
        return None
    return int(width), int(height), out.getvalue()


async def make_thumbnail(storage: Storage, key: str, thumb_key: str,
                         box: tuple[int, int]) -> tuple[int, int, str] | None:
    """(original width, original height, thumbnail key), or None when the blob is not a readable image."""
    _pillow()
    info = await storage.stat(key)
    if info.size > _MAX_SOURCE_BYTES:
        return None
    data = b"".join([chunk async for chunk in storage.open(key)])
    rendered = await asyncio.to_thread(_render, data, box)
    if rendered is None:
        return None
    width, height, png = rendered
    await storage.put(thumb_key, png, content_type="image/png")
    return width, height, thumb_key
