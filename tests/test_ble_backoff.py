from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.ble_backoff import BACKOFF_CAP_S, BACKOFF_MIN_S, Backoff, backoff_s


@given(
    attempt=st.integers(min_value=1, max_value=10_000),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    min_s=st.floats(min_value=1e-3, max_value=5.0),
    extra_s=st.floats(min_value=0.0, max_value=60.0),
)
def test_delay_always_within_bounds(attempt: int, seed: int, min_s: float, extra_s: float) -> None:
    cap_s = min_s + extra_s
    delay_s = backoff_s(attempt, random.Random(seed), min_s=min_s, cap_s=cap_s)
    assert delay_s >= 0
    assert min_s <= delay_s <= cap_s


@given(attempt=st.integers(min_value=1, max_value=10_000), seed=st.integers(0, 2**32 - 1))
def test_default_policy_within_its_documented_bounds(attempt: int, seed: int) -> None:
    assert BACKOFF_MIN_S <= Backoff().delay_s(attempt, random.Random(seed)) <= BACKOFF_CAP_S


def test_first_retry_is_quick_and_later_ones_spread_up_to_the_cap() -> None:
    rng = random.Random(3)
    first = [backoff_s(1, rng) for _ in range(200)]
    late = [backoff_s(12, rng) for _ in range(200)]
    assert max(first) == BACKOFF_MIN_S
    assert max(late) > 0.8 * BACKOFF_CAP_S
    assert len(set(late)) == len(late)  # jittered: no two clients retry in lock-step


def test_same_seed_same_delays() -> None:
    assert [backoff_s(a, random.Random(5)) for a in range(1, 8)] == [
        backoff_s(a, random.Random(5)) for a in range(1, 8)
    ]


@pytest.mark.parametrize(("attempt", "min_s", "cap_s"), [(0, 0.5, 12), (1, 0, 12), (1, 2, 1)])
def test_bad_parameters_are_named(attempt: int, min_s: float, cap_s: float) -> None:
    with pytest.raises(ValueError, match=r"attempt|min_s"):
        backoff_s(attempt, random.Random(0), min_s=min_s, cap_s=cap_s)
