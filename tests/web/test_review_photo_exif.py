"""The review form keeps the photo's pixels only: EXIF and GPS are gone from the stored file
(the photo is re-encoded, see ``journeykit.web.photo_images``)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.hardening.test_review_photo_cleaning import with_gps
from tests.web.conftest import Web
from tests.web.test_review_photos import submit


def test_the_form_stores_the_cleaned_photo(review_web: Web) -> None:
    review = submit(review_web, ("me.jpg", with_gps(), "image/jpeg"))
    assert review.photo_path is not None
    data = Path(review.photo_path).read_bytes()
    assert b"PhoneMaker" not in data
    assert not Image.open(io.BytesIO(data)).getexif()
