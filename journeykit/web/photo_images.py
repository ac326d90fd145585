"""Review photos are decoded and re-encoded with Pillow before they are stored: what is kept
is pixels only (no EXIF, GPS, ICC or text chunks, no trailing bytes such as an SVG behind a PNG
header), at most ``max_side`` pixels on the longer side. Anything Pillow cannot decode as a
JPEG, PNG or WebP is refused, and so is an image claiming more than ``max_pixels`` pixels (a
decompression bomb) before its pixels are decoded."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's format name -> the extension the photo is stored with.
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoRejected(ValueError):
    """Not a photo we keep; ``reason`` is ``type`` (not a JPEG/PNG/WebP) or ``pixels``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    ext: str
    width: int
    height: int


def clean_photo(data: bytes, *, max_side: int, max_pixels: int) -> CleanPhoto:
    """The photo in ``data`` decoded, turned upright (EXIF orientation), shrunk to fit
    ``max_side`` and encoded again in its own format without any metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as opened:
                fmt = str(opened.format)
                width, height = opened.size
                if width * height > max_pixels:
                    raise PhotoRejected("pixels", f"{width}x{height} pixels is too many")
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("pixels", str(exc)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PhotoRejected("type", f"not a JPEG, PNG or WebP image: {exc}") from exc
    image.thumbnail((max_side, max_side))
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 88} if fmt in ("JPEG", "WEBP") else {"optimize": True}
    image.save(out, format=fmt, **options)  # no exif=, icc_profile=, pnginfo=: none written
    return CleanPhoto(out.getvalue(), FORMATS[fmt], image.width, image.height)
