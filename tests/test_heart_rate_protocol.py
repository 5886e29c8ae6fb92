"""The 0x2A37 parser and encoder against real payloads, properties and garbage."""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import MalformedMeasurement, MalformedReason
from devices.heart_rate import (
    BodySensorLocation,
    HeartRateMeasurement,
    SensorContact,
    encode_measurement,
    max_rr_per_packet,
    parse_battery_level,
    parse_body_sensor_location,
    parse_measurement,
)

D, N, U = SensorContact.DETECTED, SensorContact.NOT_DETECTED, SensorContact.NOT_SUPPORTED

# Every payload of ../shared/reference/hrm_packets.md (sections A and B) with its documented values:
# (hex, heart rate, contact, energy kJ, RR raw).
REAL_PAYLOADS = [
    # A1 Mio Fuse start-up, then RR
    ("00 00", 0, U, None, ()),
    ("10 56 ca 02", 86, U, None, (714,)),
    ("10 53 e4 02", 83, U, None, (740,)),
    ("10 50 00 03 00 03", 80, U, None, (768, 768)),
    ("10 4e 14 03", 78, U, None, (788,)),
    ("10 4c 28 03", 76, U, None, (808,)),
    ("10 4a 3e 03", 74, U, None, (830,)),
    ("10 49 4a 03 4a 03", 73, U, None, (842, 842)),
    ("10 49 4a 03", 73, U, None, (842,)),
    # A2 Polar H7
    ("06 3c", 60, D, None, ()),
    ("16 3c 11 04", 60, D, None, (1041,)),
    ("16 3c f5 03", 60, D, None, (1013,)),
    # A3 unbranded chest strap
    ("16 34 e4 04", 52, D, None, (1252,)),
    ("16 34 a5 04", 52, D, None, (1189,)),
    ("16 33 ea 04", 51, D, None, (1258,)),
    ("16 33 de 04", 51, D, None, (1246,)),
    # A4 Polar H7 on iOS
    ("16 44 7d 03", 68, D, None, (893,)),
    ("16 4d 16 03", 77, D, None, (790,)),
    ("16 4e 1b 03 12 03", 78, D, None, (795, 786)),
    ("16 4f 02 03", 79, D, None, (770,)),
    ("16 4e 0f 03", 78, D, None, (783,)),
    # A5 Polar H10 on Android (HR is uint8: 0x3b = 59, never signed)
    ("10 3b 53 04", 59, U, None, (1107,)),
    # B1 SmartGattLib
    ("16 48 54 01 ec 02", 72, D, None, (340, 748)),
    # B2 Polar SDK edge cases
    ("00 ff", 255, U, None, ()),
    ("00 7f", 127, U, None, ()),
    ("01 80 80", 32896, U, None, ()),
    ("01 7f 7f", 32639, U, None, ()),
    ("06 00", 0, D, None, ()),
    ("04 00", 0, N, None, ()),
    ("02 00", 0, U, None, ()),
    ("09 00 00 ff ff", 0, U, 65535, ()),
    ("08 00 7f 80", 0, U, 32895, ()),
    ("10 00 ff ff", 0, U, None, (65535,)),
    ("11 00 00 ff ff 7f 80", 0, U, None, (65535, 32895)),
    ("11 00 00 00 00", 0, U, None, (0,)),
    # FACTS.md §4.2 extras
    ("10 43 72 03 8a 03", 67, U, None, (882, 906)),
    ("02 3c", 60, U, None, ()),
    ("01 01 01", 257, U, None, ()),
    ("10 3c 00 04 00 02", 60, U, None, (1024, 512)),
]


@pytest.mark.parametrize(("hexstr", "hr", "contact", "energy", "rr_raw"), REAL_PAYLOADS)
def test_real_payloads_decode_to_documented_values(
    hexstr: str, hr: int, contact: SensorContact, energy: int | None, rr_raw: tuple[int, ...]
) -> None:
    m = parse_measurement(bytes.fromhex(hexstr))
    assert (m.heart_rate_bpm, m.contact, m.energy_expended_kj, m.rr_raw) == (
        hr,
        contact,
        energy,
        rr_raw,
    )
    assert m.rr_ms == tuple(r * 1000 / 1024 for r in rr_raw)


def test_rr_ms_is_exact_not_rounded() -> None:
    m = parse_measurement(bytes.fromhex("16 48 54 01 ec 02"))
    assert m.rr_ms == (332.03125, 730.46875)
    assert parse_measurement(bytes.fromhex("10 00 ff ff")).rr_ms == (63999.0234375,)


@pytest.mark.parametrize(
    ("hexstr", "first_rr_raw"),
    [("10 3e b1 03 de", 945), ("10 39 23 04 35", 1059), ("10 3d cf 03 ef", 975)],
)
def test_unpaired_trailing_byte_raises_and_salvages_complete_rrs(
    hexstr: str, first_rr_raw: int
) -> None:
    with pytest.raises(MalformedMeasurement) as info:
        parse_measurement(bytes.fromhex(hexstr))
    assert info.value.reason is MalformedReason.UNPAIRED_RR_BYTE
    assert info.value.salvaged is not None
    assert info.value.salvaged.rr_raw == (first_rr_raw,)
    assert "unpaired" in str(info.value)


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("", MalformedReason.EMPTY),
        ("16", MalformedReason.TRUNCATED_HEART_RATE),
        ("01 3c", MalformedReason.TRUNCATED_HEART_RATE),
        ("08 3c 01", MalformedReason.TRUNCATED_ENERGY),
        ("06 3c 00", MalformedReason.WRONG_LENGTH),
    ],
)
def test_malformed_payloads_say_what_is_wrong(hexstr: str, reason: MalformedReason) -> None:
    with pytest.raises(MalformedMeasurement) as info:
        parse_measurement(bytes.fromhex(hexstr))
    assert info.value.reason is reason
    assert isinstance(info.value, ValueError)
    assert reason.value in str(info.value)


def test_polar_h10_csv_regroups_into_notifications_and_decodes(reference_dir: Path) -> None:
    """Rows 7.7 ms apart are one notification; re-encoding them must decode to the same RRs."""
    path = reference_dir / "detectpvc_polarh10/polar_h10_rr_extracted.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    times_ns = [int(float(r["time"])) for r in rows]
    rr_ms = [float(r["rr"]) for r in rows]
    groups: list[list[float]] = [[rr_ms[0]]]
    for prev, cur, rr in zip(times_ns, times_ns[1:], rr_ms[1:], strict=False):
        if cur - prev < 50_000_000:  # 50 ms: same notification
            groups[-1].append(rr)
        else:
            groups.append([rr])
    sizes = [len(g) for g in groups]
    assert len(rr_ms) == 798
    # An H10 sends 1-2 RR per notification, 3 when short ectopic beats crowd a second.
    assert set(sizes) <= {1, 2, 3}
    assert sizes.count(3) < 0.02 * len(sizes)
    assert 550 <= len(groups) <= 650  # about one notification a second over 10 minutes
    decoded: list[float] = []
    for group in groups:
        raw = tuple(round(v * 1024 / 1000) for v in group)
        m = parse_measurement(encode_measurement(HeartRateMeasurement(60, D, None, raw)))
        assert m.rr_raw == raw
        decoded.extend(m.rr_ms)
    assert len(decoded) == len(rr_ms)
    assert all(abs(a - b) <= 1000 / 1024 / 2 + 1e-9 for a, b in zip(decoded, rr_ms, strict=True))


@st.composite
def measurements(draw: st.DrawFn) -> HeartRateMeasurement:
    hr_uint16 = draw(st.booleans())
    energy = draw(st.one_of(st.none(), st.integers(0, 0xFFFF)))
    capacity = max_rr_per_packet(hr_uint16=hr_uint16, energy=energy is not None)
    n_rr = draw(st.integers(0, min(9, capacity)))
    return HeartRateMeasurement(
        heart_rate_bpm=draw(st.integers(0, 0xFFFF if hr_uint16 else 0xFF)),
        contact=draw(st.sampled_from(list(SensorContact))),
        energy_expended_kj=energy,
        rr_raw=tuple(draw(st.lists(st.integers(0, 0xFFFF), min_size=n_rr, max_size=n_rr))),
        hr_uint16=hr_uint16,
    )


@given(measurements())
def test_encode_then_parse_round_trips(m: HeartRateMeasurement) -> None:
    data = encode_measurement(m)
    assert len(data) <= 20
    assert parse_measurement(data) == m


@settings(max_examples=2000)
@given(st.binary(max_size=24))
def test_random_bytes_raise_nothing_but_malformed(data: bytes) -> None:
    with contextlib.suppress(MalformedMeasurement):
        parse_measurement(data)


def test_100k_random_byte_strings_raise_nothing_but_malformed() -> None:
    import random

    rng = random.Random(20261126)
    ok = bad = 0
    for _ in range(100_000):
        data = rng.randbytes(rng.randrange(0, 25))
        try:
            parse_measurement(data)
            ok += 1
        except MalformedMeasurement:
            bad += 1
    assert ok > 0
    assert bad > 0


def test_rr_capacity_per_flags() -> None:
    assert max_rr_per_packet(hr_uint16=False, energy=False) == 9
    assert max_rr_per_packet(hr_uint16=False, energy=True) == 8
    assert max_rr_per_packet(hr_uint16=True, energy=False) == 8
    assert max_rr_per_packet(hr_uint16=True, energy=True) == 7


def test_body_sensor_location_and_battery() -> None:
    assert parse_body_sensor_location(b"\x01") is BodySensorLocation.CHEST
    assert parse_body_sensor_location(b"\x09") == 9
    assert parse_battery_level(b"\x57") == 87
    for bad in (b"", b"\x01\x02", b"\x65"):
        with pytest.raises(MalformedMeasurement):
            parse_battery_level(bad)
