"""The bleak PMD client against the fake H10: samples, clock mapping, drift, reconnect, no PMD."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from contextlib import aclosing

import numpy as np
import pytest

from devices.ble_pmd import BlePmdSource, PmdClient, PmdStarted, PmdUnavailable
from devices.events import Connected, Disconnected
from devices.fake_bluez import PmdWaveforms, running
from devices.pmd import MeasurementType, PmdControlError, PmdErrorCode, start_ecg_request
from devices.pmd_stream import AccSamples, EcgSamples, PmdGap
from devices.simulator import SimConfig, SimPacket, SimulatedStrap
from devices.simulator.acc import AccConfig, simulate_acc
from devices.simulator.ecg import simulate_ecg
from tests.ble_fixtures import FAST_BACKOFF, HANG_GUARD_S

SPEED = 10.0


def make(duration_s: float, drift_ppm: float = 0.0) -> tuple[list[SimPacket], PmdWaveforms]:
    strap = SimulatedStrap(SimConfig(duration_s=duration_s, seed=5))
    packets = [e for e in strap.events() if isinstance(e, SimPacket)]
    ecg = simulate_ecg(strap.truth, duration_s)
    acc = simulate_acc(strap.truth, duration_s, AccConfig(fs_hz=200), ecg.motion_s)
    return packets, PmdWaveforms(ecg, acc, drift_ppm=drift_ppm)


def scaled_clock() -> Callable[[], float]:
    origin = time.monotonic()
    return lambda: (time.monotonic() - origin) * SPEED


def source(address: str, **kw: object) -> BlePmdSource:
    options: dict[str, object] = {
        "stall_timeout_s": 2.0,
        "connect_timeout_s": 2.0,
        "backoff": FAST_BACKOFF,
        "rng": random.Random(1),
        "clock": scaled_clock(),
    }
    options.update(kw)
    return BlePmdSource(address, **options)  # type: ignore[arg-type]


@pytest.mark.slow  # 75 s of ECG and ACC over a real dbus-daemon at 10x, timed on a scaled clock
@pytest.mark.xdist_group("realtime-dbus")  # one at a time: each paces a fake strap on a real bus
async def test_ecg_and_acc_arrive_whole_and_timed() -> None:
    packets, wave = make(90.0, drift_ppm=1000.0)
    events: list[object] = []
    async with running(packets, speed=SPEED, pmd=wave) as fake, asyncio.timeout(HANG_GUARD_S):
        src = source(fake.address)
        async with aclosing(src.events()) as stream:
            async for event in stream:
                events.append(event)
                ecg_n = sum(len(e.t_s) for e in events if isinstance(e, EcgSamples))
                if ecg_n >= 130 * 75:
                    break
        sent = list(fake.pmd.sent)
    started = next(e for e in events if isinstance(e, PmdStarted))
    assert started.measurements == {MeasurementType.ECG, MeasurementType.ACC}
    assert started.allowed[MeasurementType.ACC][1] == (16,)
    ecg = [e for e in events if isinstance(e, EcgSamples)]
    first = next(f for f in sent if f.measurement == MeasurementType.ECG).first_index
    got = np.concatenate([e.samples_uv for e in ecg])
    assert np.array_equal(got, wave.ecg.samples_uv[first : first + len(got)])
    acc = [e for e in events if isinstance(e, AccSamples)]
    first_acc = next(f for f in sent if f.measurement == MeasurementType.ACC).first_index
    got_acc = np.concatenate([e.samples_mg for e in acc])
    assert np.array_equal(got_acc, wave.acc.samples_mg[first_acc : first_acc + len(got_acc)])
    # Sample times: within a frame 1/130 s apart on the sensor clock; on the session clock
    # the drift (the sensor runs 1000 ppm fast) is tracked.
    t = np.concatenate([e.t_s for e in ecg])
    assert np.all(np.diff(t) > 0)
    drift = src.timelines[MeasurementType.ECG].clock.drift_ppm
    assert drift == pytest.approx(-1000.0, abs=300.0)
    assert src.timelines[MeasurementType.ECG].measured_rate_hz == pytest.approx(
        130 / 1.001, abs=0.05
    )
    # The last samples' session times match the simulated time of those samples.
    k = first + np.arange(len(t))
    late = slice(-130 * 10, None)
    err_s = t[late] - k[late] / 130.0
    assert np.ptp(err_s) < 0.05


async def test_reconnect_restarts_the_streams_with_the_gap_marked() -> None:
    packets, wave = make(120.0)
    events: list[object] = []
    async with running(packets, speed=SPEED, pmd=wave) as fake, asyncio.timeout(HANG_GUARD_S):
        src = source(fake.address, acc=False)
        dropped = False
        async with aclosing(src.events()) as stream:
            async for event in stream:
                events.append(event)
                n = sum(isinstance(e, EcgSamples) for e in events)
                if n == 10 and not dropped:
                    dropped = True
                    fake.strap.link_up = False
                    fake.strap.drop()
                    asyncio.get_running_loop().call_later(0.2, setattr, fake.strap, "link_up", True)
                if isinstance(event, EcgSamples) and event.segment == 1 and n > 15:
                    break
    kinds = [type(e).__name__ for e in events if not isinstance(e, EcgSamples)]
    assert kinds[:2] == ["Connected", "PmdStarted"]
    assert "Disconnected" in kinds
    gap = next(e for e in events if isinstance(e, PmdGap))
    assert (gap.measurement, gap.segment, gap.reason) == (MeasurementType.ECG, 1, "reconnected")
    assert sum(isinstance(e, Connected) for e in events) == 2
    before = [e for e in events if isinstance(e, EcgSamples) and e.segment == 0]
    after = [e for e in events if isinstance(e, EcgSamples) and e.segment == 1]
    assert gap.t_s == pytest.approx(before[-1].t_s[-1])
    assert after[0].t_s[0] > gap.t_s
    assert any(isinstance(e, Disconnected) for e in events)


async def test_a_strap_without_pmd_has_none() -> None:
    packets, _ = make(10.0)
    async with running(packets, speed=SPEED) as fake, asyncio.timeout(HANG_GUARD_S):
        events = [e async for e in source(fake.address).events()]
    assert len(events) == 1
    assert isinstance(events[0], PmdUnavailable)


async def test_control_point_errors_are_typed() -> None:
    from bleak import BleakClient

    packets, wave = make(10.0)
    async with (
        running(packets, speed=SPEED, pmd=wave) as fake,
        asyncio.timeout(HANG_GUARD_S),
        BleakClient(fake.address, timeout=5.0) as client,
    ):
        pmd = PmdClient(client, lambda item, raw: None)
        assert await pmd.features() == {MeasurementType.ECG, MeasurementType.ACC}
        with pytest.raises(PmdControlError) as info:
            await pmd.get_settings(MeasurementType.PPG)
        assert info.value.code is PmdErrorCode.NOT_SUPPORTED
        await pmd.start(start_ecg_request())
        with pytest.raises(PmdControlError) as info:
            await pmd.start(start_ecg_request())
        assert info.value.code is PmdErrorCode.ALREADY_IN_STATE
        await pmd.stop(MeasurementType.ECG)
        fake.pmd.refuse = PmdErrorCode.DEVICE_IN_CHARGER
        with pytest.raises(PmdControlError, match="device in charger"):
            await pmd.start(start_ecg_request())
