import math

import pytest

from clipdemo.teach.stats import share, wilson


def _wilson_by_hand(k, n, z=1.959963984540054):
    # Wilson (1927); the textbook closed form, as a reference for the library call
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("k,n", [(6, 8), (0, 8), (8, 8), (45, 48), (24, 48), (1, 3)])
def test_wilson_matches_the_closed_form(k, n):
    assert wilson(k, n) == pytest.approx(_wilson_by_hand(k, n), abs=1e-9)


def test_six_of_eight_coin_flips_is_indistinguishable_from_guessing():
    s = share(6, 8, 0.5)
    assert s.value == 0.75 and s.low < 0.5 < s.high
    assert s.verdict == "guessing"


def test_a_clear_result_is_above_and_a_clear_failure_below():
    assert share(40, 48, 0.5).verdict == "above"
    assert share(2, 48, 0.5).verdict == "below"
