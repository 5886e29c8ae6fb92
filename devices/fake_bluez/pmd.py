"""The fake strap's Polar PMD service: control point and data, streaming simulated ECG and ACC.

Behaves as FACTS.md §4.4-4.5 describe an H10: the control point reads ``0x0F`` and the feature
bitmask (ECG, ACC); GET answers the allowed settings; START checks them (wrong ones get the
documented error codes); frames carry the sensor time of their last sample, ECG 73 samples and
ACC 36 per notification (an MTU of 232). The streams stop when the data characteristic's
subscription ends (a disconnect), so a client must START again after reconnecting, as with a real
strap. The sensor clock starts at ``sensor_t0_ns`` and runs ``drift_ppm`` fast.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from devices.fake_bluez.objects import Characteristic
from devices.pmd import (
    AccFrame,
    ControlRequest,
    ControlResponse,
    EcgFrame,
    MalformedPmd,
    MeasurementType,
    OpCode,
    PmdControlError,
    PmdErrorCode,
    Setting,
    encode_acc_frame,
    encode_ecg_frame,
    encode_features,
    encode_response,
    parse_request,
)
from devices.simulator.acc import SimulatedAcc
from devices.simulator.ecg import SimulatedEcg

ECG_SAMPLES_PER_FRAME: Final = 73
ACC_SAMPLES_PER_FRAME: Final = 36
SENSOR_T0_NS: Final = (1_735_689_600 - 946_684_800) * 1_000_000_000
"""2025-01-01T00:00:00Z on the sensor clock (ns since 2000-01-01)."""

_ALLOWED: Final[dict[MeasurementType, dict[Setting, tuple[int, ...]]]] = {
    MeasurementType.ECG: {Setting.SAMPLE_RATE: (130,), Setting.RESOLUTION: (14,)},
    MeasurementType.ACC: {
        Setting.SAMPLE_RATE: (25, 50, 100, 200),
        Setting.RESOLUTION: (16,),
        Setting.RANGE: (2, 4, 8),
    },
}
_SETTING_ERROR: Final = {
    Setting.SAMPLE_RATE: PmdErrorCode.INVALID_SAMPLE_RATE,
    Setting.RESOLUTION: PmdErrorCode.INVALID_RESOLUTION,
    Setting.RANGE: PmdErrorCode.INVALID_RANGE,
    Setting.CHANNELS: PmdErrorCode.INVALID_NUMBER_OF_CHANNELS,
}


@dataclass(frozen=True, slots=True)
class PmdWaveforms:
    """What the fake H10 measures: sample ``k`` of each is at ``k / fs`` simulated seconds."""

    ecg: SimulatedEcg
    acc: SimulatedAcc
    drift_ppm: float = 0.0
    sensor_t0_ns: int = SENSOR_T0_NS

    def timestamp_ns(self, index: int, fs_hz: float) -> int:
        """Sensor time of sample ``index`` of a stream at ``fs_hz``."""
        return self.sensor_t0_ns + round(index * 1e9 / fs_hz * (1.0 + self.drift_ppm * 1e-6))


@dataclass(frozen=True, slots=True)
class SentFrame:
    """A PMD data notification sent: stream, first sample index, the bytes."""

    measurement: MeasurementType
    first_index: int
    data: bytes


class PmdPeripheral:
    """The two PMD characteristics' behaviour; ``sim_time_s`` says what time it is."""

    def __init__(
        self,
        waveforms: PmdWaveforms,
        speed: float,
        sim_time_s: Callable[[], float],
    ) -> None:
        self.waveforms = waveforms
        self._speed = speed
        self._sim_time_s = sim_time_s
        self.control: Characteristic | None = None
        self.data: Characteristic | None = None
        self._streams: dict[MeasurementType, asyncio.Task[None]] = {}
        self.sent: list[SentFrame] = []
        self.requests: list[bytes] = []
        self.refuse: PmdErrorCode | None = None
        """Answer every START with this error (fault injection)."""

    @property
    def features(self) -> bytes:
        return encode_features(frozenset(_ALLOWED))

    @property
    def streaming(self) -> frozenset[MeasurementType]:
        return frozenset(self._streams)

    def on_write(self, value: bytes) -> None:
        """A control-point write: answer by indication once the write has been acknowledged."""
        self.requests.append(bytes(value))
        response = self._answer(bytes(value))
        asyncio.get_running_loop().call_soon(self._indicate, encode_response(response))

    def _indicate(self, data: bytes) -> None:
        if self.control is not None:
            self.control.notify(data)
            # A read of the control point still returns the features, not the last indication.
            self.control.value = self.features

    def on_data_subscribed(self, subscribed: bool) -> None:
        if not subscribed:
            self.stop_all()

    def stop_all(self) -> None:
        for task in self._streams.values():
            task.cancel()
        self._streams.clear()

    def _answer(self, value: bytes) -> ControlResponse:
        try:
            request = parse_request(value)
        except PmdControlError as exc:
            return ControlResponse(exc.op, exc.measurement, exc.code)
        except MalformedPmd:
            known = value and value[0] in {int(o) for o in OpCode}
            op = OpCode(value[0]) if known else OpCode.GET_SETTINGS
            kind = value[1] if len(value) > 1 else 0
            return ControlResponse(op, kind, PmdErrorCode.INVALID_MEASUREMENT_TYPE)
        allowed = _ALLOWED.get(request.measurement)
        if allowed is None:
            return ControlResponse(request.op, request.measurement, PmdErrorCode.NOT_SUPPORTED)
        if request.op is OpCode.GET_SETTINGS:
            return ControlResponse(
                request.op, request.measurement, PmdErrorCode.SUCCESS, settings=allowed
            )
        if request.op is OpCode.STOP:
            task = self._streams.pop(request.measurement, None)
            if task is None:
                return ControlResponse(
                    request.op, request.measurement, PmdErrorCode.ALREADY_IN_STATE
                )
            task.cancel()
            return ControlResponse(request.op, request.measurement, PmdErrorCode.SUCCESS)
        return self._start(request, allowed)

    def _start(
        self, request: ControlRequest, allowed: dict[Setting, tuple[int, ...]]
    ) -> ControlResponse:
        def fail(code: PmdErrorCode) -> ControlResponse:
            return ControlResponse(request.op, request.measurement, code)

        if self.refuse is not None:
            return fail(self.refuse)
        if request.measurement in self._streams:
            return fail(PmdErrorCode.ALREADY_IN_STATE)
        if self.data is None or not self.data.notifying:
            return fail(PmdErrorCode.INVALID_STATE)
        for setting, values in request.settings.items():
            if len(values) != 1 or setting not in allowed or values[0] not in allowed[setting]:
                return fail(_SETTING_ERROR[setting])
        for setting in (Setting.SAMPLE_RATE, Setting.RESOLUTION):
            if setting not in request.settings:
                return fail(PmdErrorCode.INVALID_PARAMETER)
        rate = request.settings[Setting.SAMPLE_RATE][0]
        range_g = request.settings.get(Setting.RANGE, (8,))[0]
        self._streams[request.measurement] = asyncio.create_task(
            self._stream(request.measurement, rate, range_g)
        )
        return fail(PmdErrorCode.SUCCESS)

    def _frames(self, measurement: MeasurementType, rate: int) -> tuple[int, int]:
        """Samples per frame and the decimation step of the stored waveform."""
        if measurement is MeasurementType.ECG:
            return ECG_SAMPLES_PER_FRAME, 1
        return ACC_SAMPLES_PER_FRAME, self.waveforms.acc.fs_hz // rate

    async def _stream(self, measurement: MeasurementType, rate: int, range_g: int) -> None:
        per_frame, step = self._frames(measurement, rate)
        if measurement is MeasurementType.ECG:
            source: np.ndarray = self.waveforms.ecg.samples_uv
        else:
            limit = 1000 * range_g
            source = np.clip(self.waveforms.acc.samples_mg[::step], -limit, limit - 1)
        n_total = len(source)
        k = int(np.ceil(self._sim_time_s() * rate))
        loop = asyncio.get_running_loop()
        while k + per_frame <= n_total:
            last = k + per_frame - 1
            due_s = last / rate
            await asyncio.sleep(max(0.0, (due_s - self._sim_time_s()) / self._speed))
            ts = self.waveforms.timestamp_ns(last, rate)
            chunk = source[k : k + per_frame]
            if measurement is MeasurementType.ECG:
                data = encode_ecg_frame(EcgFrame(ts, tuple(int(v) for v in chunk)))
            else:
                xyz = tuple((int(a), int(b), int(c)) for a, b, c in chunk)
                data = encode_acc_frame(AccFrame(ts, xyz))
            if self.data is None or not self.data.notify(data):
                return
            self.sent.append(SentFrame(measurement, k, data))
            k += per_frame
            await asyncio.sleep(0)
        with contextlib.suppress(KeyError):
            if self._streams.get(measurement) is asyncio.current_task(loop):
                del self._streams[measurement]
