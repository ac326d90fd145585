"""The vendored provider specs are valid OpenAPI documents (the sandbox loads them without
checking them again at every start)."""

from __future__ import annotations

import json

import pytest
from openapi_core import OpenAPI

from journeykit.sandbox.validation import SPEC_DIR, SPEC_FILES


@pytest.mark.parametrize("provider", sorted(SPEC_FILES))
def test_the_vendored_spec_is_valid_openapi(provider: str) -> None:
    with (SPEC_DIR / SPEC_FILES[provider]).open(encoding="utf-8") as f:
        OpenAPI.from_dict(json.load(f))  # raises if the document is not valid OpenAPI
