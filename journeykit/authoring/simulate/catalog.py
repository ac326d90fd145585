"""The demo catalog (``journeykit/demo/catalog.yaml``) as product events, plus any
products a scenario adds."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from journeykit.authoring.simulate.scenario import Scenario

CATALOG = Path(__file__).resolve().parents[2] / "demo" / "catalog.yaml"


@lru_cache(maxsize=1)
def demo_products() -> tuple[dict[str, Any], ...]:
    if not CATALOG.exists():
        return ()
    raw = YAML(typ="safe", pure=True).load(CATALOG.read_text(encoding="utf-8"))
    products = raw.get("products", raw) if isinstance(raw, dict) else raw
    return tuple(products or ())


def catalog_events(scenario: Scenario) -> list[dict[str, Any]]:
    products = [*demo_products(), *scenario.catalog]
    return [{"type": "product.upserted", "product": product} for product in products]
