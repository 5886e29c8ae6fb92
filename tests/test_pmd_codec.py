"""The PMD codec against the byte layouts of FACTS.md §4.4-4.5."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    PmdMalformedReason,
    Setting,
    encode_acc_frame,
    encode_ecg_frame,
    encode_features,
    encode_request,
    encode_response,
    get_settings_request,
    parse_features,
    parse_frame,
    parse_request,
    parse_response,
    sensor_ns_to_unix_ns,
    start_acc_request,
    start_ecg_request,
    stop_request,
)


def test_start_ecg_is_the_documented_request() -> None:
    # FACTS.md §4.4: START, ECG, rate count 1 = 130 Hz, resolution count 1 = 14 bit.
    assert encode_request(start_ecg_request()) == bytes.fromhex("02 00 00 01 82 00 01 01 0E 00")


def test_start_acc_is_the_documented_request() -> None:
    # FACTS.md §4.4: 200 Hz, 16 bit, ±8 g.
    expected = bytes.fromhex("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
    assert encode_request(start_acc_request(200, 8)) == expected


def test_get_and_stop_requests() -> None:
    assert encode_request(get_settings_request(MeasurementType.ACC)) == bytes.fromhex("01 02")
    assert encode_request(stop_request(MeasurementType.ECG)) == bytes.fromhex("03 00")


def test_request_round_trip_and_unknown_op_is_a_typed_error() -> None:
    request = parse_request(bytes.fromhex("02 02 00 01 32 00 01 01 10 00 02 01 04 00"))
    assert request == ControlRequest(
        OpCode.START,
        MeasurementType.ACC,
        {Setting.SAMPLE_RATE: (50,), Setting.RESOLUTION: (16,), Setting.RANGE: (4,)},
    )
    with pytest.raises(PmdControlError) as info:
        parse_request(bytes.fromhex("07 00"))
    assert info.value.code is PmdErrorCode.INVALID_OP_CODE


def test_acc_request_refuses_settings_the_h10_lacks() -> None:
    with pytest.raises(ValueError, match="rate_hz"):
        start_acc_request(130, 8)
    with pytest.raises(ValueError, match="range_g"):
        start_acc_request(200, 16)


def test_get_settings_response_lists_allowed_values() -> None:
    # An H10's answer to GET ACC: rates 25/50/100/200, 16 bit, ranges 2/4/8 g.
    data = bytes.fromhex(
        "f0 01 02 00 00 00 04 19 00 32 00 64 00 c8 00 01 01 10 00 02 03 02 00 04 00 08 00"
    )
    assert parse_response(data) == ControlResponse(
        OpCode.GET_SETTINGS,
        MeasurementType.ACC,
        PmdErrorCode.SUCCESS,
        False,
        {
            Setting.SAMPLE_RATE: (25, 50, 100, 200),
            Setting.RESOLUTION: (16,),
            Setting.RANGE: (2, 4, 8),
        },
    )
    assert encode_response(parse_response(data)) == data


def test_error_responses_raise_typed_errors_with_the_code() -> None:
    response = parse_response(bytes.fromhex("f0 02 00 06 00"))
    assert response.error is PmdErrorCode.ALREADY_IN_STATE
    with pytest.raises(PmdControlError) as info:
        response.raise_for_error()
    assert (info.value.op, info.value.measurement, info.value.code) == (
        OpCode.START,
        MeasurementType.ECG,
        PmdErrorCode.ALREADY_IN_STATE,
    )
    assert "already in state (6)" in str(info.value)
    parse_response(bytes.fromhex("f0 03 02 00 00")).raise_for_error()


@pytest.mark.parametrize(
    ("hex_bytes", "reason"),
    [
        ("", PmdMalformedReason.EMPTY),
        ("0f 05", PmdMalformedReason.BAD_HEADER),
        ("f0 02", PmdMalformedReason.TRUNCATED_HEADER),
        ("f0 09 00 00 00", PmdMalformedReason.BAD_HEADER),
        ("f0 01 02 00 00 00 04 19 00", PmdMalformedReason.TRUNCATED_SETTING),
        ("f0 01 02 00 00 03 01 19 00", PmdMalformedReason.UNKNOWN_SETTING),
    ],
)
def test_malformed_responses(hex_bytes: str, reason: PmdMalformedReason) -> None:
    with pytest.raises(MalformedPmd) as info:
        parse_response(bytes.fromhex(hex_bytes))
    assert info.value.reason is reason


def test_features_read() -> None:
    # bleakheart: 0x0F then the bitmask; H10 has ECG (bit 0) and ACC (bit 2).
    h10 = frozenset({MeasurementType.ECG, MeasurementType.ACC})
    assert (
        parse_features(bytes.fromhex("0f 05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")) == h10
    )
    assert parse_features(encode_features(h10)) == h10
    with pytest.raises(MalformedPmd):
        parse_features(bytes.fromhex("f0 05"))


def test_ecg_frame_three_byte_signed_microvolts() -> None:
    # timestamp 0x0102030405060708 ns, frame type 0, samples -1 µV, 1000 µV, -8388608 µV.
    data = bytes.fromhex("00 0807060504030201 00 ffffff e80300 000080")
    frame = parse_frame(data)
    assert frame == EcgFrame(0x0102030405060708, (-1, 1000, -8388608))
    assert encode_ecg_frame(frame) == data


def test_acc_frame_int16_milli_g() -> None:
    data = bytes.fromhex("02 0000000000000000 01 0100 feff e803 18fc 0000 ff7f")
    frame = parse_frame(data)
    assert frame == AccFrame(0, ((1, -2, 1000), (-1000, 0, 32767)))
    assert encode_acc_frame(frame) == data


@pytest.mark.parametrize(
    ("hex_bytes", "reason"),
    [
        ("", PmdMalformedReason.EMPTY),
        ("00 0000", PmdMalformedReason.TRUNCATED_HEADER),
        ("04 0000000000000000 00 000000", PmdMalformedReason.UNKNOWN_MEASUREMENT),
        ("00 0000000000000000 00 0000", PmdMalformedReason.PARTIAL_SAMPLE),
        ("00 0000000000000000 00", PmdMalformedReason.NO_SAMPLES),
        ("02 0000000000000000 01 010002000300 0100", PmdMalformedReason.PARTIAL_SAMPLE),
        ("02 0000000000000000 80 010002000300 0810", PmdMalformedReason.UNSUPPORTED_FRAME_TYPE),
        ("00 0000000000000000 01 000000", PmdMalformedReason.UNSUPPORTED_FRAME_TYPE),
    ],
)
def test_malformed_frames_are_typed(hex_bytes: str, reason: PmdMalformedReason) -> None:
    with pytest.raises(MalformedPmd) as info:
        parse_frame(bytes.fromhex(hex_bytes))
    assert info.value.reason is reason
    assert isinstance(info.value, ValueError)


def test_delta_frames_are_refused_by_name() -> None:
    with pytest.raises(MalformedPmd, match="delta-compressed frame type 0x80"):
        parse_frame(bytes.fromhex("02 0000000000000000 80 010002000300"))


def test_sensor_epoch_is_2000() -> None:
    # 2000-01-01T00:00:00Z = 946684800 s after the Unix epoch (FACTS.md §4.4).
    assert sensor_ns_to_unix_ns(1_000_000_000) == 946_684_801_000_000_000


@given(
    st.lists(st.integers(-(2**23), 2**23 - 1), min_size=1, max_size=73), st.integers(0, 2**64 - 1)
)
def test_ecg_round_trip(samples: list[int], timestamp_ns: int) -> None:
    frame = EcgFrame(timestamp_ns, tuple(samples))
    assert parse_frame(encode_ecg_frame(frame)) == frame


@given(
    st.lists(
        st.tuples(*(st.integers(-(2**15), 2**15 - 1) for _ in range(3))), min_size=1, max_size=36
    )
)
def test_acc_round_trip(samples: list[tuple[int, int, int]]) -> None:
    frame = AccFrame(123, tuple(samples))
    assert parse_frame(encode_acc_frame(frame)) == frame
