"""A/B verdicts on simulated arms with known conversion rates: the better arm is named at the
stated confidence once there is enough data, "not enough data" below it, equal arms are
not told apart, and a test sized by the verdict finds a real difference about as often as
its power says."""

from __future__ import annotations

import numpy as np

from journeykit.reports.verdicts import verdict


def arms(rng: np.random.Generator, n: int, a: float, b: float) -> list[tuple[str, int, int]]:
    return [("A", n, int(rng.binomial(n, a))), ("B", n, int(rng.binomial(n, b)))]


def test_picks_the_better_arm_with_enough_data() -> None:
    result = verdict(
        "s", arms(np.random.default_rng(7), 3000, 0.10, 0.14), confidence=0.95, power=0.8
    )
    assert result.winner == "B" and result.can_stop
    assert result.text == "B converts better, 95% confidence: the test can stop"
    b = result.arms[1]
    assert b.low < b.rate < b.high and result.p_value is not None and result.p_value < 0.05


def test_not_enough_data_says_how_many_more() -> None:
    result = verdict(
        "s", arms(np.random.default_rng(7), 80, 0.10, 0.14), confidence=0.95, power=0.8
    )
    assert result.winner is None and not result.can_stop
    assert result.more_per_arm is not None and result.more_per_arm > 0
    assert result.text == f"not enough data yet: ~{result.more_per_arm} more customers per arm"
    assert result.needed_per_arm == 80 + result.more_per_arm


def test_stricter_confidence_needs_more() -> None:
    data = [("A", 1000, 100), ("B", 1000, 128)]
    loose = verdict("s", data, confidence=0.90, power=0.8)
    strict = verdict("s", data, confidence=0.99, power=0.8)
    assert loose.winner == "B" and strict.winner is None  # p is between 0.01 and 0.10
    assert strict.text.startswith("not enough data yet")


def test_equal_arms_are_not_told_apart_and_the_test_can_stop() -> None:
    result = verdict("s", [("A", 6000, 600), ("B", 6000, 606)], confidence=0.95, power=0.8)
    assert result.winner is None and result.can_stop
    assert "no arm converts better at 95% confidence" in result.text


def test_false_positives_stay_near_alpha_and_power_is_kept() -> None:
    rng = np.random.default_rng(2026)
    null = [verdict("s", arms(rng, 400, 0.1, 0.1), confidence=0.95, power=0.8) for _ in range(300)]
    false_positive = sum(v.winner is not None for v in null) / len(null)
    assert false_positive <= 0.08  # Fisher's exact test is at or under 5 %
    needed = verdict("s", [("A", 10, 1), ("B", 10, 1)], confidence=0.95, power=0.8)
    assert needed.winner is None
    sized = verdict("s", [("A", 100, 10), ("B", 100, 15)], confidence=0.95, power=0.8)
    n = sized.needed_per_arm
    assert n is not None
    found = [verdict("s", arms(rng, n, 0.10, 0.15), confidence=0.95, power=0.8) for _ in range(300)]
    power = sum(v.winner == "B" for v in found) / len(found)
    assert 0.65 <= power <= 0.92  # 80 % by design; Fisher's test is a little conservative


def test_missing_arm_or_no_conversions() -> None:
    assert verdict("s", [("A", 5, 1)], confidence=0.95, power=0.8).text == (
        "not enough data yet: no customers in a second arm"
    )
    assert verdict("s", [("A", 5, 1), ("B", 0, 0)], confidence=0.95, power=0.8).text == (
        "not enough data yet: no customers in B"
    )
    assert verdict("s", [("A", 9, 0), ("B", 9, 0)], confidence=0.95, power=0.8).text == (
        "not enough data yet: no conversions in any arm"
    )


def test_three_arms_need_the_best_to_beat_both() -> None:
    close = verdict(
        "s", [("A", 3000, 300), ("B", 3000, 420), ("C", 3000, 410)], confidence=0.95, power=0.8
    )
    assert close.winner is None  # B beats A but not C
    clear = verdict(
        "s", [("A", 3000, 300), ("B", 3000, 420), ("C", 3000, 310)], confidence=0.95, power=0.8
    )
    assert clear.winner == "B"
