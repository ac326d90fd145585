"""A fixed journey for the scale test and the sweep and engine benchmarks, so their numbers
do not move when the product journeys change. It is shaped like restock's follow-up: a due
enrollment wakes at ``pause``, passes two branches, sends one email (a real template) and
parks at ``rest``: five moves and one outbox row each."""

from __future__ import annotations

from journeykit.engine.book import JourneyBook

NAME = "bench_reminder"
WAKES_AT = "pause"
PARKS_AT = "rest"
MOVES_PER_ENROLLMENT = 5

SOURCE = f"""
name: {NAME}
trigger: {{event: inventory.changed}}
subject: sku
reentry: after_exit
category: marketing
quiet_hours: {{start: "21:00", end: "09:00", channels: [sms]}}
nodes:
  - {{id: {WAKES_AT}, type: wait, duration: 1d, next: in_stock}}
  - id: in_stock
    type: branch
    branches:
      - {{when: "variant.inventory > 0", next: by_email}}
    otherwise: sold_out
  - id: by_email
    type: branch
    branches:
      - {{when: "'email' in enrollment.data.channels", next: remind}}
    otherwise: sold_out
  - {{id: remind, type: send, channel: email, template: restock/still_available, next: {PARKS_AT}}}
  - {{id: {PARKS_AT}, type: wait, duration: 3d, next: done}}
  - {{id: sold_out, type: exit, reason: sold_out}}
  - {{id: done, type: exit}}
"""


def bench_book() -> JourneyBook:
    """A book holding only the bench journey (its templates are the project's)."""
    return JourneyBook.from_sources(SOURCE)
