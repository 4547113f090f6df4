"""How sure a lesson's count is: a share right out of n, its 95% Wilson interval, and whether that interval
leaves guessing behind (the one owner of this judgement; every lesson's numbers go through it)."""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Share:
    """k right out of n, with its Wilson interval at CONFIDENCE, judged against `chance`."""

    right: int
    n: int
    low: float
    high: float
    chance: float

    @property
    def value(self) -> float:
        return self.right / self.n if self.n else float("nan")

    @property
    def verdict(self) -> str:
        """"above" / "below" guessing only when the whole interval is; otherwise "guessing" (indistinguishable)."""
        if self.low > self.chance:
            return "above"
        if self.high < self.chance:
            return "below"
        return "guessing"


def wilson(right: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval for right/n (scipy's binomtest; Wilson 1927, no continuity correction)."""
    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(right), int(n)).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return float(ci.low), float(ci.high)


def share(right: int, n: int, chance: float) -> Share:
    return Share(int(right), int(n), *wilson(right, n), float(chance))
