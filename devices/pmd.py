"""The Polar Measurement Data (PMD) wire format: control point and data frames (FACTS.md §4.4-4.5).

Pure functions: bytes in, frozen dataclasses out, and the reverse for the simulated strap.

Control point (``FB005C81``, read / write / indicate)::

    read     -> 0x0F | feature bitmask (bit i: measurement type i available) ...
    request  -> op:u8 | type:u8 | (setting:u8, count:u8, value * count)...
    response <- 0xF0 | op:u8 | type:u8 | error:u8 | more:u8 | (setting:u8, count:u8, value...)...

Setting values are uint16 little-endian, except the channel count (one byte).

Data (``FB005C82``, notify)::

    type:u8 | timestamp:u64 (ns since 2000-01-01, last sample) | frame type:u8 | samples

ECG frame type 0x00: int24 LE µV per sample. ACC frame type 0x01: int16 LE x, y, z in mg per sample.
Delta-compressed frames (frame type bit 7 set) are refused by type with a typed error: the H10's
firmware sends the plain frames, and the delta layout is not documented in FACTS.md.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from devices.errors import DeviceError

PMD_SERVICE_UUID: Final = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT_UUID: Final = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID: Final = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

PMD_EPOCH_UNIX_NS: Final = 946_684_800_000_000_000
"""2000-01-01T00:00:00Z in Unix nanoseconds: sensor timestamps count from there."""

FEATURES_HEADER: Final = 0x0F
RESPONSE_HEADER: Final = 0xF0
DATA_HEADER_BYTES: Final = 10
ECG_SAMPLE_BYTES: Final = 3
ACC_SAMPLE_BYTES: Final = 6
ECG_FRAME_TYPE: Final = 0x00
ACC_FRAME_TYPE: Final = 0x01
DELTA_FRAME_BIT: Final = 0x80

H10_ECG_RATE_HZ: Final = 130
H10_ECG_RESOLUTION_BITS: Final = 14
H10_ACC_RATES_HZ: Final = (25, 50, 100, 200)
H10_ACC_RANGES_G: Final = (2, 4, 8)
H10_ACC_RESOLUTION_BITS: Final = 16


class MeasurementType(enum.IntEnum):
    """PMD measurement types (byte 1 of a request, byte 0 of a data frame)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SDK_MODE = 9


class OpCode(enum.IntEnum):
    GET_SETTINGS = 0x01
    START = 0x02
    STOP = 0x03


class Setting(enum.IntEnum):
    """Setting ids in requests and responses; values are uint16 except ``CHANNELS`` (u8)."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    CHANNELS = 4


class PmdErrorCode(enum.IntEnum):
    """Error byte of a control-point response (polar-ble-sdk; FACTS.md §4.5)."""

    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6
    INVALID_RESOLUTION = 7
    INVALID_SAMPLE_RATE = 8
    INVALID_RANGE = 9
    INVALID_MTU = 10
    INVALID_NUMBER_OF_CHANNELS = 11
    INVALID_STATE = 12
    DEVICE_IN_CHARGER = 13


class PmdMalformedReason(enum.Enum):
    """Why PMD bytes could not be decoded."""

    EMPTY = "empty payload"
    TRUNCATED_HEADER = "shorter than the header"
    BAD_HEADER = "unexpected first byte"
    UNKNOWN_MEASUREMENT = "unknown measurement type"
    UNKNOWN_SETTING = "unknown setting id"
    TRUNCATED_SETTING = "setting truncated"
    UNSUPPORTED_FRAME_TYPE = "unsupported frame type"
    PARTIAL_SAMPLE = "length is not a whole number of samples"
    NO_SAMPLES = "no samples"


class PmdError(DeviceError):
    """Root of the PMD errors."""


class MalformedPmd(ValueError, PmdError):
    """PMD bytes that do not follow the layout; ``reason`` says how."""

    def __init__(self, reason: PmdMalformedReason, data: bytes, detail: str = "") -> None:
        self.reason = reason
        self.data = bytes(data)
        self.detail = detail
        extra = f", {detail}" if detail else ""
        super().__init__(
            f"malformed PMD bytes ({reason.value}{extra}): {self.data[:24].hex(' ') or '<empty>'}"
        )


class PmdControlError(PmdError):
    """The strap answered a control-point request with an error code."""

    def __init__(self, op: OpCode, measurement: MeasurementType | int, code: PmdErrorCode) -> None:
        self.op = op
        self.measurement = measurement
        self.code = code
        name = measurement.name if isinstance(measurement, MeasurementType) else str(measurement)
        super().__init__(
            f"PMD {op.name} {name} refused: {code.name.lower().replace('_', ' ')} ({int(code)})"
        )


Settings = Mapping[Setting, tuple[int, ...]]
"""Setting id -> its values (one value in a request, the allowed values in a GET response)."""


def _measurement(value: int, data: bytes) -> MeasurementType:
    try:
        return MeasurementType(value)
    except ValueError:
        raise MalformedPmd(PmdMalformedReason.UNKNOWN_MEASUREMENT, data, f"type {value}") from None


def _value_bytes(setting: Setting) -> int:
    return 1 if setting is Setting.CHANNELS else 2


def encode_settings(settings: Settings) -> bytes:
    """``(id, count, values...)`` for each setting, in the mapping's order."""
    out = bytearray()
    for setting, values in settings.items():
        out += bytes([setting, len(values)])
        width = _value_bytes(setting)
        for value in values:
            out += value.to_bytes(width, "little", signed=False)
    return bytes(out)


def parse_settings(data: bytes, offset: int, whole: bytes) -> dict[Setting, tuple[int, ...]]:
    """Settings from ``data[offset:]``; ``whole`` is quoted in errors."""
    settings: dict[Setting, tuple[int, ...]] = {}
    while offset < len(data):
        if offset + 2 > len(data):
            raise MalformedPmd(PmdMalformedReason.TRUNCATED_SETTING, whole)
        try:
            setting = Setting(data[offset])
        except ValueError:
            raise MalformedPmd(
                PmdMalformedReason.UNKNOWN_SETTING, whole, f"id {data[offset]}"
            ) from None
        count = data[offset + 1]
        width = _value_bytes(setting)
        offset += 2
        end = offset + count * width
        if end > len(data):
            raise MalformedPmd(PmdMalformedReason.TRUNCATED_SETTING, whole, setting.name)
        settings[setting] = tuple(
            int.from_bytes(data[i : i + width], "little") for i in range(offset, end, width)
        )
        offset = end
    return settings


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """A request written to the control point."""

    op: OpCode
    measurement: MeasurementType
    settings: Settings


def encode_request(request: ControlRequest) -> bytes:
    """The bytes to write; FACTS.md §4.4's START ECG comes out byte for byte.

    >>> encode_request(start_ecg_request()).hex(" ")
    '02 00 00 01 82 00 01 01 0e 00'
    """
    return bytes([request.op, request.measurement]) + encode_settings(request.settings)


def parse_request(data: bytes) -> ControlRequest:
    """Decode a control-point write (the simulated strap's side).

    An unknown op code raises :class:`PmdControlError` with ``INVALID_OP_CODE`` so the strap can
    answer with that code; layout faults raise :class:`MalformedPmd`.
    """
    data = bytes(data)
    if len(data) < 2:
        raise MalformedPmd(PmdMalformedReason.TRUNCATED_HEADER, data)
    measurement = _measurement(data[1], data)
    try:
        op = OpCode(data[0])
    except ValueError:
        raise PmdControlError(
            OpCode.GET_SETTINGS, measurement, PmdErrorCode.INVALID_OP_CODE
        ) from None
    return ControlRequest(op, measurement, parse_settings(data, 2, data))


def get_settings_request(measurement: MeasurementType) -> ControlRequest:
    return ControlRequest(OpCode.GET_SETTINGS, measurement, {})


def stop_request(measurement: MeasurementType) -> ControlRequest:
    return ControlRequest(OpCode.STOP, measurement, {})


def start_ecg_request() -> ControlRequest:
    """START ECG at 130 Hz, 14 bit: the only ECG setting an H10 has."""
    return ControlRequest(
        OpCode.START,
        MeasurementType.ECG,
        {
            Setting.SAMPLE_RATE: (H10_ECG_RATE_HZ,),
            Setting.RESOLUTION: (H10_ECG_RESOLUTION_BITS,),
        },
    )


def start_acc_request(rate_hz: int = 200, range_g: int = 8) -> ControlRequest:
    """START ACC, 16 bit; the H10 offers 25/50/100/200 Hz and ±2/4/8 g.

    >>> encode_request(start_acc_request()).hex(" ")
    '02 02 00 01 c8 00 01 01 10 00 02 01 08 00'
    """
    if rate_hz not in H10_ACC_RATES_HZ:
        raise ValueError(f"rate_hz must be one of {H10_ACC_RATES_HZ}, got {rate_hz}")
    if range_g not in H10_ACC_RANGES_G:
        raise ValueError(f"range_g must be one of {H10_ACC_RANGES_G}, got {range_g}")
    return ControlRequest(
        OpCode.START,
        MeasurementType.ACC,
        {
            Setting.SAMPLE_RATE: (rate_hz,),
            Setting.RESOLUTION: (H10_ACC_RESOLUTION_BITS,),
            Setting.RANGE: (range_g,),
        },
    )


@dataclass(frozen=True, slots=True)
class ControlResponse:
    """An indication from the control point answering a request."""

    op: OpCode
    measurement: MeasurementType | int
    error: PmdErrorCode
    more_frames: bool = False
    settings: Settings | None = None
    """The allowed values, after a successful GET."""

    def raise_for_error(self) -> None:
        """Raise :class:`PmdControlError` unless the request succeeded."""
        if self.error is not PmdErrorCode.SUCCESS:
            raise PmdControlError(self.op, self.measurement, self.error)


def encode_response(response: ControlResponse) -> bytes:
    """The strap's indication; :func:`parse_response` inverts it.

    >>> r = ControlResponse(OpCode.START, MeasurementType.ECG, PmdErrorCode.SUCCESS)
    >>> encode_response(r).hex(" ")
    'f0 02 00 00 00'
    """
    head = bytes(
        [RESPONSE_HEADER, response.op, response.measurement, response.error, response.more_frames]
    )
    return head + encode_settings(response.settings or {})


def parse_response(data: bytes) -> ControlResponse:
    """Decode a control-point indication. Settings follow only a successful GET.

    >>> parse_response(bytes.fromhex("f0 02 02 06 00")).error.name
    'ALREADY_IN_STATE'
    """
    data = bytes(data)
    if not data:
        raise MalformedPmd(PmdMalformedReason.EMPTY, data)
    if data[0] != RESPONSE_HEADER:
        raise MalformedPmd(PmdMalformedReason.BAD_HEADER, data, f"0x{data[0]:02x}")
    if len(data) < 4:
        raise MalformedPmd(PmdMalformedReason.TRUNCATED_HEADER, data)
    try:
        op = OpCode(data[1])
    except ValueError:
        raise MalformedPmd(PmdMalformedReason.BAD_HEADER, data, f"op 0x{data[1]:02x}") from None
    try:
        error = PmdErrorCode(data[3])
    except ValueError:
        raise MalformedPmd(PmdMalformedReason.BAD_HEADER, data, f"error {data[3]}") from None
    measurement: MeasurementType | int
    try:
        measurement = MeasurementType(data[2])
    except ValueError:
        measurement = data[2]
    more = len(data) > 4 and data[4] != 0
    settings = None
    if op is OpCode.GET_SETTINGS and error is PmdErrorCode.SUCCESS and len(data) > 5:
        settings = parse_settings(data, 5, data)
    return ControlResponse(op, measurement, error, more, settings)


def encode_features(available: frozenset[MeasurementType]) -> bytes:
    """The control point's read value: ``0x0F`` then the bitmask (the H10 sends 17 bytes).

    >>> encode_features(frozenset({MeasurementType.ECG, MeasurementType.ACC})).hex(" ")
    '0f 05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'
    """
    mask = sum(1 << m for m in available)
    return bytes([FEATURES_HEADER]) + mask.to_bytes(16, "little")


def parse_features(data: bytes) -> frozenset[MeasurementType]:
    """Measurement types the strap offers, from the control point's read value.

    Bits for types this codec does not know are ignored.

    >>> sorted(m.name for m in parse_features(bytes.fromhex("0f 05 00")))
    ['ACC', 'ECG']
    """
    data = bytes(data)
    if not data:
        raise MalformedPmd(PmdMalformedReason.EMPTY, data)
    if data[0] != FEATURES_HEADER:
        raise MalformedPmd(PmdMalformedReason.BAD_HEADER, data, f"0x{data[0]:02x}")
    if len(data) < 2:
        raise MalformedPmd(PmdMalformedReason.TRUNCATED_HEADER, data)
    mask = int.from_bytes(data[1:], "little")
    return frozenset(m for m in MeasurementType if mask >> m & 1)


@dataclass(frozen=True, slots=True)
class EcgFrame:
    """One ECG notification: samples in µV, the timestamp of the last one."""

    timestamp_ns: int
    """Sensor time of the last sample, ns since 2000-01-01T00:00:00Z."""
    samples_uv: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AccFrame:
    """One ACC notification: ``(x, y, z)`` in mg per sample, the timestamp of the last one."""

    timestamp_ns: int
    samples_mg: tuple[tuple[int, int, int], ...]


PmdFrame = EcgFrame | AccFrame


def sensor_ns_to_unix_ns(timestamp_ns: int) -> int:
    """Sensor time (ns since 2000-01-01) as Unix ns.

    >>> sensor_ns_to_unix_ns(0)
    946684800000000000
    """
    return timestamp_ns + PMD_EPOCH_UNIX_NS


def parse_frame(data: bytes) -> PmdFrame:
    """Decode a data notification (ECG type 0x00, ACC type 0x01).

    >>> parse_frame(bytes.fromhex("00 00e1f50500000000 00 ffffff 102700"))
    EcgFrame(timestamp_ns=100000000, samples_uv=(-1, 10000))
    """
    data = bytes(data)
    if not data:
        raise MalformedPmd(PmdMalformedReason.EMPTY, data)
    if len(data) < DATA_HEADER_BYTES:
        raise MalformedPmd(PmdMalformedReason.TRUNCATED_HEADER, data)
    measurement = _measurement(data[0], data)
    (timestamp_ns,) = struct.unpack_from("<Q", data, 1)
    frame_type = data[9]
    body = data[DATA_HEADER_BYTES:]
    if measurement is MeasurementType.ECG and frame_type == ECG_FRAME_TYPE:
        if len(body) % ECG_SAMPLE_BYTES:
            raise MalformedPmd(PmdMalformedReason.PARTIAL_SAMPLE, data)
        if not body:
            raise MalformedPmd(PmdMalformedReason.NO_SAMPLES, data)
        samples = tuple(
            int.from_bytes(body[i : i + 3], "little", signed=True) for i in range(0, len(body), 3)
        )
        return EcgFrame(timestamp_ns, samples)
    if measurement is MeasurementType.ACC and frame_type == ACC_FRAME_TYPE:
        if len(body) % ACC_SAMPLE_BYTES:
            raise MalformedPmd(PmdMalformedReason.PARTIAL_SAMPLE, data)
        if not body:
            raise MalformedPmd(PmdMalformedReason.NO_SAMPLES, data)
        flat = struct.unpack(f"<{len(body) // 2}h", body)
        xyz = tuple((flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3))
        return AccFrame(timestamp_ns, xyz)
    kind = "delta-compressed " if frame_type & DELTA_FRAME_BIT else ""
    raise MalformedPmd(
        PmdMalformedReason.UNSUPPORTED_FRAME_TYPE,
        data,
        f"{measurement.name} {kind}frame type 0x{frame_type:02x}",
    )


def encode_ecg_frame(frame: EcgFrame) -> bytes:
    """An ECG notification as an H10 sends it; :func:`parse_frame` inverts it."""
    head = bytes([MeasurementType.ECG]) + struct.pack("<Q", frame.timestamp_ns)
    body = b"".join(s.to_bytes(3, "little", signed=True) for s in frame.samples_uv)
    return head + bytes([ECG_FRAME_TYPE]) + body


def encode_acc_frame(frame: AccFrame) -> bytes:
    """An ACC notification (frame type 0x01) as an H10 sends it."""
    head = bytes([MeasurementType.ACC]) + struct.pack("<Q", frame.timestamp_ns)
    flat = [v for xyz in frame.samples_mg for v in xyz]
    return head + bytes([ACC_FRAME_TYPE]) + struct.pack(f"<{len(flat)}h", *flat)


def samples_per_frame(measurement: MeasurementType, mtu: int) -> int:
    """How many samples fit in one notification at ATT MTU ``mtu`` (3 bytes of ATT header).

    >>> samples_per_frame(MeasurementType.ECG, 232), samples_per_frame(MeasurementType.ACC, 232)
    (73, 36)
    """
    width = ECG_SAMPLE_BYTES if measurement is MeasurementType.ECG else ACC_SAMPLE_BYTES
    return (mtu - 3 - DATA_HEADER_BYTES) // width
