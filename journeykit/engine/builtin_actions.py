"""Actions and audiences every journey can use. Registered on import."""

from __future__ import annotations
