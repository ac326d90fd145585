"""Small real images for upload tests (review photos are decoded and re-encoded)."""

from __future__ import annotations

import io

from PIL import Image


def image_bytes(fmt: str, size: tuple[int, int] = (8, 6), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, format=fmt, **save)
    return out.getvalue()
