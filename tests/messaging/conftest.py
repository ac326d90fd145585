"""The outbox rig of tests/delivery, for the consent tests."""

from tests.delivery.conftest import outbox

__all__ = ["outbox"]
