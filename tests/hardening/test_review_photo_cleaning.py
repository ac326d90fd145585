"""Review photos are decoded and re-encoded (issue 16): EXIF (GPS) is gone, a PNG header in
front of an SVG is refused, a decompression bomb is refused before its pixels are decoded,
large photos are shrunk, and the form says which problem it was."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from journeykit.web.photo_images import PhotoRejected, clean_photo
from tests.web.images import image_bytes

LIMITS = {"max_side": 2048, "max_pixels": 40_000_000}
GPS_IFD = 0x8825


def with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1  # Orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)})
    return image_bytes("JPEG", (40, 30), exif=exif.tobytes())


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_exif_and_gps_are_stripped() -> None:
    original = with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    clean = clean_photo(original, **LIMITS)
    assert clean.ext == "jpg"
    reopened = Image.open(io.BytesIO(clean.data))
    assert not reopened.getexif(), "EXIF survived"
    assert b"PhoneMaker" not in clean.data
    assert reopened.size == (40, 30)


def test_png_header_followed_by_svg_is_refused() -> None:
    fake = b"\x89PNG\r\n\x1a\n" + b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    with pytest.raises(PhotoRejected) as caught:
        clean_photo(fake, **LIMITS)
    assert caught.value.reason == "type"


def test_svg_appended_to_a_real_png_is_dropped() -> None:
    tail = b"<svg onload='alert(1)'/>"
    clean = clean_photo(image_bytes("PNG") + tail, **LIMITS)
    assert tail not in clean.data and clean.ext == "png"


@pytest.mark.parametrize(
    "data", [b"GIF89a" + b"0" * 40, b"%PDF-1.4", b"", b"\xff\xd8\xff" + b"0" * 9]
)
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises(PhotoRejected) as caught:
        clean_photo(data, **LIMITS)
    assert caught.value.reason == "type"


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(PhotoRejected) as caught:
        clean_photo(_png_claiming(60_000, 60_000), **LIMITS)
    assert caught.value.reason == "pixels"


def test_large_photos_are_shrunk_to_the_cap() -> None:
    clean = clean_photo(image_bytes("PNG", (3000, 200)), max_side=1000, max_pixels=10**8)
    assert (clean.width, clean.height) == (1000, 67)
