"""After a dropped link the first reconnect attempt is immediate; then the bounded backoff.

The source's clock and sleep are injected: time moves only when the source sleeps, so the
tests measure exactly how long it waited, without waiting.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from devices.ble import BleStrapSource
from devices.ble_backoff import BACKOFF_CAP_S, BACKOFF_MIN_S, Backoff
from devices.events import (
    Connected,
    Disconnected,
    DisconnectReason,
    MeasurementReceived,
    Reconnecting,
    SourceEvent,
)
from devices.fake_bluez import FakeBluez, running
from tests.ble_fixtures import collect, simulated


class FakeTime:
    """A clock that only the source's sleeps move forward."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now_s

    async def sleep(self, delay_s: float) -> None:
        self.sleeps.append(delay_s)
        self.now_s += delay_s
        await asyncio.sleep(0)


def _source(fake: FakeBluez, time_: FakeTime) -> BleStrapSource:
    return BleStrapSource(
        fake.address,
        stall_timeout_s=5.0,
        backoff=Backoff(),  # the real bounds: nothing sleeps for real here
        connect_timeout_s=2.0,
        clock=time_.clock,
        rng=random.Random(3),
        sleep=time_.sleep,
    )


def _link(events: list[SourceEvent]) -> list[type]:
    return [type(e) for e in events if isinstance(e, Connected | Disconnected | Reconnecting)]


def _measured(events: list[SourceEvent]) -> int:
    return sum(isinstance(e, MeasurementReceived) for e in events)


async def test_a_dropped_link_is_reconnected_at_once_without_waiting() -> None:
    time_ = FakeTime()
    async with running(simulated(3600)[0], speed=20) as fake:

        def drop_once(events: list[SourceEvent]) -> bool:
            if _measured(events) == 3 and isinstance(events[-1], MeasurementReceived):
                fake.strap.drop()  # the link goes; the strap is there again at once
            return sum(isinstance(e, Connected) for e in events) == 2 and _measured(events) >= 5

        events = await collect(_source(fake, time_), drop_once)
        assert fake.strap.connects == 2

    assert _link(events) == [Connected, Disconnected, Connected]
    lost = next(e for e in events if isinstance(e, Disconnected))
    back = [e for e in events if isinstance(e, Connected)][1]
    assert lost.reason is DisconnectReason.LINK_LOST
    assert time_.sleeps == []
    assert back.t_s == lost.t_s  # no time passed on the source's clock


async def test_when_the_immediate_attempt_fails_the_bounded_backoff_paces_the_rest() -> None:
    time_ = FakeTime()
    async with running(simulated(3600)[0], speed=20) as fake:

        def power_cycle(events: list[SourceEvent]) -> bool:
            retries = [e for e in events if isinstance(e, Reconnecting)]
            if _measured(events) == 2 and not retries and fake.strap.connects == 1:
                fake.set_powered(False)
                fake.strap.drop()
            if len(retries) == 3:
                fake.set_powered(True)
            return sum(isinstance(e, Connected) for e in events) == 2

        events = await collect(_source(fake, time_), power_cycle)

    assert _link(events) == [Connected, Disconnected, *[Reconnecting] * 3, Connected]
    lost = next(e for e in events if isinstance(e, Disconnected))
    retries = [e for e in events if isinstance(e, Reconnecting)]
    # The immediate attempt came first (at the drop, nothing slept), then attempts 1, 2, 3.
    assert retries[0].t_s == lost.t_s
    assert [r.attempt for r in retries] == [1, 2, 3]
    assert time_.sleeps == [r.delay_s for r in retries]
    assert all(BACKOFF_MIN_S <= d <= BACKOFF_CAP_S for d in time_.sleeps)
    back = events[-1]
    assert isinstance(back, Connected)
    assert back.t_s - lost.t_s == pytest.approx(sum(time_.sleeps))


async def test_a_stall_still_waits_the_backoff_first() -> None:
    time_ = FakeTime()
    async with running(simulated(3600)[0], speed=20) as fake:
        source = BleStrapSource(
            fake.address,
            stall_timeout_s=0.3,
            connect_timeout_s=2.0,
            clock=time_.clock,
            rng=random.Random(3),
            sleep=time_.sleep,
        )

        def stall_then_resume(events: list[SourceEvent]) -> bool:
            if _measured(events) == 3 and isinstance(events[-1], MeasurementReceived):
                fake.stall()
            if isinstance(events[-1], Reconnecting):
                fake.resume()
            return _measured(events) >= 5

        events = await collect(source, stall_then_resume)

    assert _link(events) == [Connected, Disconnected, Reconnecting, Connected]
    stalled = next(e for e in events if isinstance(e, Disconnected))
    assert stalled.reason is DisconnectReason.STALLED
    assert len(time_.sleeps) == 1
    assert BACKOFF_MIN_S <= time_.sleeps[0] <= BACKOFF_CAP_S
