"""A Polar H10's raw ECG and acceleration over Bluetooth LE (bleak), as timed sample events.

:class:`PmdClient` speaks the PMD control point on a connected :class:`BleakClient` (features,
GET settings, START, STOP; an error code becomes :class:`~devices.pmd.PmdControlError`) and
decodes the data notifications. :class:`BlePmdSource` owns a connection: it finds the strap,
reads the features, starts ECG and/or ACC, and yields :class:`~devices.pmd_stream.EcgSamples`
and :class:`~devices.pmd_stream.AccSamples` on the session clock (sensor time mapped with drift
tracked, :mod:`devices.pmd_stream`). After a dropped link it reconnects (the first attempt at
once, then the bounded backoff), starts the streams again, and marks the gap with
:class:`~devices.pmd_stream.PmdGap`. A strap without the PMD service yields
:class:`PmdUnavailable` once and ends: its RRs still come from the Heart Rate Service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakError

from devices.ble_backoff import Backoff
from devices.ble_scan import find_strap, translated_errors
from devices.errors import SourceError
from devices.events import (
    Connected,
    DeviceInfo,
    Disconnected,
    DisconnectReason,
    Reconnecting,
    SourceEvent,
)
from devices.pmd import (
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    ControlRequest,
    ControlResponse,
    MalformedPmd,
    MeasurementType,
    PmdControlError,
    PmdFrame,
    Settings,
    encode_request,
    get_settings_request,
    parse_features,
    parse_frame,
    parse_response,
    start_acc_request,
    start_ecg_request,
    stop_request,
)
from devices.pmd_stream import AccSamples, EcgSamples, PmdGap, PmdTimeline

logger = logging.getLogger(__name__)

RESPONSE_TIMEOUT_S: Final = 10.0
DEFAULT_BACKOFF: Final = Backoff()
_CLEANUP_TIMEOUT_S: Final = 3.0


@dataclass(frozen=True, slots=True)
class PmdUnavailable:
    """The strap has no PMD service (or not the wanted measurement): no ECG/ACC from it."""

    t_s: float
    detail: str


@dataclass(frozen=True, slots=True)
class PmdStarted:
    """Streams started after a (re)connection, with the settings the strap allows."""

    t_s: float
    measurements: frozenset[MeasurementType]
    allowed: dict[MeasurementType, Settings]


@dataclass(frozen=True, slots=True)
class PmdMalformed:
    """A data notification that could not be decoded; counted and skipped."""

    t_s: float
    raw: bytes
    error: str


PmdEvent = (
    Connected
    | Disconnected
    | Reconnecting
    | PmdUnavailable
    | PmdStarted
    | PmdMalformed
    | EcgSamples
    | AccSamples
    | PmdGap
)


class PmdClient:
    """The PMD protocol on a connected client; data frames go to ``on_frame``."""

    def __init__(
        self,
        client: BleakClient,
        on_frame: Callable[[PmdFrame | MalformedPmd, bytes], None],
    ) -> None:
        self._client = client
        self._on_frame = on_frame
        self._lock = asyncio.Lock()
        self._waiting: asyncio.Future[ControlResponse] | None = None
        self._subscribed = False

    @staticmethod
    def has_pmd(client: BleakClient) -> bool:
        return client.services.get_service(PMD_SERVICE_UUID) is not None

    async def features(self) -> frozenset[MeasurementType]:
        """What the strap can measure (the control point's read value)."""
        return parse_features(bytes(await self._client.read_gatt_char(PMD_CONTROL_POINT_UUID)))

    async def subscribe(self) -> None:
        if not self._subscribed:
            await self._client.start_notify(PMD_CONTROL_POINT_UUID, self._on_control)
            await self._client.start_notify(PMD_DATA_UUID, self._on_data)
            self._subscribed = True

    async def request(self, request: ControlRequest) -> ControlResponse:
        """Write a request and wait for its indication; raises on an error code."""
        await self.subscribe()
        async with self._lock:
            self._waiting = asyncio.get_running_loop().create_future()
            try:
                await self._client.write_gatt_char(
                    PMD_CONTROL_POINT_UUID, encode_request(request), response=True
                )
                async with asyncio.timeout(RESPONSE_TIMEOUT_S):
                    response = await self._waiting
            finally:
                self._waiting = None
        response.raise_for_error()
        return response

    async def get_settings(self, measurement: MeasurementType) -> Settings:
        return (await self.request(get_settings_request(measurement))).settings or {}

    async def start(self, request: ControlRequest) -> None:
        await self.request(request)

    async def stop(self, measurement: MeasurementType) -> None:
        await self.request(stop_request(measurement))

    def _on_control(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            response = parse_response(bytes(data))
        except MalformedPmd as exc:
            logger.debug("ignoring a malformed control-point indication: %s", exc)
            return
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(response)

    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        raw = bytes(data)
        try:
            self._on_frame(parse_frame(raw), raw)
        except MalformedPmd as exc:
            self._on_frame(exc, raw)


@dataclass(frozen=True, slots=True)
class _Arrival:
    t_s: float
    item: PmdFrame | MalformedPmd
    raw: bytes


@dataclass(frozen=True, slots=True)
class _LinkLost:
    t_s: float


class BlePmdSource:
    """ECG (130 Hz) and/or ACC (``acc_rate_hz``, ±``acc_range_g``) from a strap with PMD."""

    def __init__(
        self,
        address_or_name: str,
        *,
        ecg: bool = True,
        acc: bool = True,
        acc_rate_hz: int = 200,
        acc_range_g: int = 8,
        stall_timeout_s: float = 5.0,
        connect_timeout_s: float = 20.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.query = address_or_name
        self._requests: list[ControlRequest] = []
        if ecg:
            self._requests.append(start_ecg_request())
        if acc:
            self._requests.append(start_acc_request(acc_rate_hz, acc_range_g))
        if not self._requests:
            raise ValueError("ask for ecg, acc or both")
        self._stall_timeout_s = stall_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._backoff = backoff
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep
        self.timelines = {
            MeasurementType.ECG: PmdTimeline(MeasurementType.ECG, 130.0),
            MeasurementType.ACC: PmdTimeline(MeasurementType.ACC, float(acc_rate_hz)),
        }
        self.malformed_count = 0

    async def events(self) -> AsyncGenerator[PmdEvent, None]:
        """Connection events, started streams, timed samples and gaps, until the consumer stops."""
        attempt = 0
        connected_once = False
        while True:
            queue: asyncio.Queue[_Arrival | _LinkLost] = asyncio.Queue()
            try:
                client, started = await self._open(queue)
            except _NoPmd as exc:
                yield PmdUnavailable(self._clock(), str(exc))
                return
            except SourceError:
                attempt += 1
                if not connected_once:
                    raise
                delay_s = self._backoff.delay_s(attempt, self._rng)
                yield Reconnecting(self._clock(), attempt, delay_s)
                await self._sleep(delay_s)
                continue
            if connected_once:
                for kind in started.measurements:
                    yield self.timelines[kind].restart(started.t_s, "reconnected")
            connected_once = True
            attempt = 0
            yield Connected(started.t_s, DeviceInfo(self.query, client.address, "ble"))
            yield started
            try:
                while True:
                    try:
                        async with asyncio.timeout(self._stall_timeout_s):
                            item = await queue.get()
                    except TimeoutError:
                        detail = f"no PMD frame for {self._stall_timeout_s:g} s"
                        yield Disconnected(self._clock(), DisconnectReason.STALLED, detail)
                        break
                    if isinstance(item, _LinkLost):
                        yield Disconnected(item.t_s, DisconnectReason.LINK_LOST, "link lost")
                        break
                    for event in self._decode(item):
                        yield event
            finally:
                await self._close(client)

    def _decode(self, arrival: _Arrival) -> list[PmdEvent]:
        item = arrival.item
        if isinstance(item, MalformedPmd):
            self.malformed_count += 1
            return [PmdMalformed(arrival.t_s, arrival.raw, str(item))]
        kind = MeasurementType(arrival.raw[0])
        return list(self.timelines[kind].feed(item, arrival.t_s))

    async def _open(
        self, queue: asyncio.Queue[_Arrival | _LinkLost]
    ) -> tuple[BleakClient, PmdStarted]:
        device, _rssi = await find_strap(self.query, self._connect_timeout_s)

        def on_disconnect(_client: BleakClient) -> None:
            queue.put_nowait(_LinkLost(self._clock()))

        def on_frame(item: PmdFrame | MalformedPmd, raw: bytes) -> None:
            queue.put_nowait(_Arrival(self._clock(), item, raw))

        client = BleakClient(device, on_disconnect, timeout=self._connect_timeout_s)
        try:
            with translated_errors(device.address):
                await client.connect()
                if not PmdClient.has_pmd(client):
                    raise _NoPmd("the strap has no PMD service (raw ECG/ACC): RRs only")
                pmd = PmdClient(client, on_frame)
                features = await pmd.features()
                allowed: dict[MeasurementType, Settings] = {}
                kinds: set[MeasurementType] = set()
                for request in self._requests:
                    if request.measurement not in features:
                        continue
                    allowed[request.measurement] = await pmd.get_settings(request.measurement)
                    await pmd.start(request)
                    kinds.add(request.measurement)
                if not kinds:
                    raise _NoPmd(f"the strap offers {sorted(m.name for m in features)} only")
        except BaseException:
            await self._close(client)
            raise
        return client, PmdStarted(self._clock(), frozenset(kinds), allowed)

    async def _close(self, client: BleakClient) -> None:
        with contextlib.suppress(BleakError, TimeoutError, EOFError, OSError, AssertionError):
            async with asyncio.timeout(_CLEANUP_TIMEOUT_S):
                await client.disconnect()


class _NoPmd(SourceError):
    pass


class BleH10Source:
    """A strap's heart-rate events and, when it has the PMD service, its ECG and ACC, over one
    connection (a :class:`~devices.ble.BleStrapSource` with PMD started on every connection).

    :meth:`events` is the heart-rate source, unchanged; :meth:`waveforms` yields the PMD samples
    (:class:`~devices.pmd_stream.EcgSamples`, :class:`~devices.pmd_stream.AccSamples`) and a
    :class:`~devices.pmd_stream.PmdGap` after each reconnection. A strap without PMD (or one
    that refuses the streams) yields no waveform: its RRs flow as from any strap.
    """

    def __init__(
        self,
        address_or_name: str,
        *,
        acc_rate_hz: int = 200,
        acc_range_g: int = 8,
        clock: Callable[[], float] = time.monotonic,
        **strap_options: object,
    ) -> None:
        from devices.ble import BleStrapSource

        self._clock = clock
        self._requests = [start_ecg_request(), start_acc_request(acc_rate_hz, acc_range_g)]
        self.timelines = {
            MeasurementType.ECG: PmdTimeline(MeasurementType.ECG, 130.0),
            MeasurementType.ACC: PmdTimeline(MeasurementType.ACC, float(acc_rate_hz)),
        }
        self._queue: asyncio.Queue[_Arrival | PmdGap] = asyncio.Queue()
        self._started_once = False
        self._starting: asyncio.Task[None] | None = None
        self.started: PmdStarted | None = None
        """The streams started on the newest connection (``None``: no PMD so far)."""
        self.problem: str | None = None
        """Why PMD did not start on the newest connection, if it did not."""
        self.malformed_count = 0
        self.strap = BleStrapSource(
            address_or_name,
            clock=clock,
            extra_services=(PMD_SERVICE_UUID,),
            on_connected=self._start_pmd,
            **strap_options,  # type: ignore[arg-type]
        )

    @property
    def device(self) -> DeviceInfo:
        return self.strap.device

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        try:
            async with contextlib.aclosing(self.strap.events()) as events:
                async for event in events:
                    yield event
        finally:
            if self._starting is not None:
                self._starting.cancel()

    async def _start_pmd(self, client: BleakClient) -> None:
        """On each connection: start the streams in the background, so the heart-rate events
        never wait for the control point (a request may take up to its 10-s timeout)."""
        self.started = None
        if self._starting is not None:
            self._starting.cancel()
        if not PmdClient.has_pmd(client):
            self.problem = "the strap has no PMD service (raw ECG/ACC): RRs only"
            return
        self._starting = asyncio.create_task(self._start_streams(client), name="PMD start")

    async def _start_streams(self, client: BleakClient) -> None:
        def on_frame(item: PmdFrame | MalformedPmd, raw: bytes) -> None:
            self._queue.put_nowait(_Arrival(self._clock(), item, raw))

        pmd = PmdClient(client, on_frame)
        kinds: set[MeasurementType] = set()
        allowed: dict[MeasurementType, Settings] = {}
        try:
            features = await pmd.features()
            for request in self._requests:
                if request.measurement in features:
                    allowed[request.measurement] = await pmd.get_settings(request.measurement)
                    await pmd.start(request)
                    kinds.add(request.measurement)
        except (PmdControlError, MalformedPmd, BleakError, TimeoutError) as exc:
            # The heart-rate service goes on: a strap that will not stream is an RR strap.
            self.problem = f"PMD did not start: {exc}"
            logger.info("%s", self.problem)
            if not kinds:
                return
        if self._started_once:
            for kind in kinds:
                self._queue.put_nowait(self.timelines[kind].restart(self._clock(), "reconnected"))
        self._started_once = True
        self.started = PmdStarted(self._clock(), frozenset(kinds), allowed)

    async def waveforms(self) -> AsyncGenerator[EcgSamples | AccSamples | PmdGap, None]:
        """PMD samples as they arrive, on the session clock, until the consumer stops."""
        while True:
            item = await self._queue.get()
            if isinstance(item, PmdGap):
                yield item
                continue
            frame = item.item
            if isinstance(frame, MalformedPmd):
                self.malformed_count += 1
                continue
            kind = MeasurementType(item.raw[0])
            timeline = self.timelines.get(kind)
            if timeline is None:
                continue
            for event in timeline.feed(frame, item.t_s):
                yield event
