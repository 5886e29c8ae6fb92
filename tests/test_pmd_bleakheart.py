"""An independent PMD client (bleakheart, written against real H10s) reads the fake H10's stream."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak import BleakClient

from devices.fake_bluez import PmdWaveforms, running
from devices.simulator import SimConfig, SimPacket, SimulatedStrap
from devices.simulator.acc import AccConfig, simulate_acc
from devices.simulator.ecg import simulate_ecg
from tests.ble_fixtures import HANG_GUARD_S

bleakheart = pytest.importorskip("bleakheart", reason="bleakheart not installed (test extra)")

DURATION_S = 20.0


def waveforms(duration_s: float, seed: int = 3) -> tuple[list[SimPacket], PmdWaveforms]:
    strap = SimulatedStrap(SimConfig(duration_s=duration_s, seed=seed))
    packets = [e for e in strap.events() if isinstance(e, SimPacket)]
    ecg = simulate_ecg(strap.truth, duration_s)
    acc = simulate_acc(strap.truth, duration_s, AccConfig(fs_hz=200), ecg.motion_s)
    return packets, PmdWaveforms(ecg, acc)


async def test_bleakheart_reads_the_fake_pmd_stream_sample_for_sample() -> None:
    packets, wave = waveforms(DURATION_S)
    ecg_q: asyncio.Queue[tuple[str, int, list[int]]] = asyncio.Queue()
    acc_q: asyncio.Queue[tuple[str, int, list[tuple[int, int, int]]]] = asyncio.Queue()
    async with (
        running(packets, speed=4.0, pmd=wave) as fake,
        asyncio.timeout(HANG_GUARD_S),
        BleakClient(fake.address, timeout=5.0) as client,
    ):
        pmd = bleakheart.PolarMeasurementData(client, ecg_queue=ecg_q, acc_queue=acc_q)
        assert await pmd.available_measurements() == ["ECG", "ACC"]
        settings = await pmd.available_settings("ACC")
        assert settings["SAMPLE_RATE"] == [25, 50, 100, 200]
        assert (await pmd.start_streaming("ECG"))[0] == 0
        # bleakheart asks for ±2 g by default: the fake clips to that range as an H10 does.
        assert (await pmd.start_streaming("ACC", RANGE=8))[0] == 0
        again = await pmd.start_streaming("ECG")
        assert again[:2] == (6, "ALREADY IN STATE")
        ecg_frames = [await ecg_q.get() for _ in range(8)]
        acc_frames = [await acc_q.get() for _ in range(20)]
        assert (await pmd.stop_streaming("ECG"))[0] == 0
        assert (await pmd.stop_streaming("ACC"))[0] == 0
    sent_ecg = [f for f in fake.pmd.sent if f.measurement == 0][:8]
    got = np.concatenate([np.asarray(f[2]) for f in ecg_frames])
    first = sent_ecg[0].first_index
    assert np.array_equal(got, wave.ecg.samples_uv[first : first + len(got)])
    sent_acc = [f for f in fake.pmd.sent if f.measurement == 2][:20]
    got_acc = np.concatenate([np.asarray(f[2]) for f in acc_frames])
    first = sent_acc[0].first_index
    assert np.array_equal(got_acc, wave.acc.samples_mg[first : first + len(got_acc)])
    # bleakheart shifts every timestamp by one host offset: the steps stay sensor time.
    steps = np.diff([f[1] for f in ecg_frames])
    assert np.allclose(steps, 73 * 1e9 / 130, atol=2)
