"""Kill points: drawn below the run's total progress, fired in order once the progress
reaches each and the worker is up, never more than drawn."""

from __future__ import annotations

import random

from journeykit_rigs.chaos.process import KillPoints


def test_points_lie_below_the_total_and_fire_in_order() -> None:
    fired: list[int] = []
    kills = KillPoints.draw(6, 300, lambda: fired.append(len(fired)), random.Random(1))
    assert len(kills.points) == 6 and kills.points == sorted(kills.points)
    assert all(0 <= p < 300 for p in kills.points)
    assert kills.points[0] > 0 and not kills.poll(True, kills.points[0] - 1)
    for progress in range(300):
        while kills.poll(True, progress):
            pass
    assert kills.fired == 6 and fired == list(range(6))
    assert not kills.poll(True, 10_000)  # no seventh


def test_a_worker_still_starting_is_not_killed() -> None:
    kills = KillPoints(lambda: None, [0, 0])
    assert not kills.poll(False, 5)
    assert kills.poll(True, 5) and kills.poll(True, 5) and not kills.poll(True, 5)


def test_points_spread_over_the_run() -> None:
    points = KillPoints.draw(1000, 30_000, lambda: None, random.Random(2)).points
    quarters = [sum(q * 7500 <= p < (q + 1) * 7500 for p in points) for q in range(4)]
    assert all(200 < n < 300 for n in quarters)
