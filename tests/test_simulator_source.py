"""The simulator's configuration, profiles, and its asynchronous source."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.errors import ProfileError
from devices.events import (
    BatteryRead,
    Connected,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    MeasurementReceived,
)
from devices.simulator import (
    ArtifactRates,
    Segment,
    SimConfig,
    SimulatedSource,
    SimulatedStrap,
    load_profile,
    parse_segments,
)
from devices.simulator.source import SIM_EPOCH_S


def test_parse_segments_reads_labels_and_seconds() -> None:
    assert parse_segments("baseline:300, personal-attention:120.5,washout:60") == (
        Segment("baseline", 300.0),
        Segment("personal-attention", 120.5),
        Segment("washout", 60.0),
    )


@pytest.mark.parametrize(
    ("spec", "bad"),
    [
        ("baseline:300,whispering", "'whispering'"),
        ("baseline:abc", "'baseline:abc'"),
        ("baseline:300,:60", "':60'"),
        ("baseline:-5", "'baseline:-5'"),
        ("baseline:inf", "'baseline:inf'"),
        ("baseline:300,,washout:1", "''"),
    ],
)
def test_parse_segments_names_the_bad_item(spec: str, bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        parse_segments(spec)


@pytest.mark.parametrize("name", ["responder", "non-responder", "tingles"])
def test_shipped_profiles_load(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.description


def test_responder_profile_orders_the_triggers_as_promised() -> None:
    profile = load_profile("responder")
    hr = {
        label: response.delta_hr_bpm
        for label in ("whispering", "personal-attention", "tapping", "crinkling")
        if (response := profile.response(label)) is not None
    }
    assert hr["whispering"] < hr["tapping"] < 0
    assert hr["personal-attention"] < hr["tapping"]
    assert hr["crinkling"] == 0
    assert profile.response("washout") is None
    assert load_profile("tingles").response("whispering").tingles_per_min > 0  # type: ignore[union-attr]


def test_profile_loads_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "me.toml"
    path.write_text("[person]\nresting_hr_bpm = 58\n[triggers.rain]\ndelta_hr_bpm = -2\n")
    profile = load_profile(str(path))
    assert profile.name == "me"
    assert profile.person.resting_hr_bpm == 58.0
    assert profile.response("rain") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[person]\nresting_hr = 60\n", "unknown key 'resting_hr'"),
        ("[person]\nresting_hr_bpm = 900\n", "resting_hr_bpm"),
        ("[person]\nresting_hr_bpm = 'fast'\n", "expected a number"),
        ("[triggers.x]\nonset_s = 0\n", "onset_s"),
        ("[triggers.x]\nsession_cv = -1\n", "session_cv"),
        ("person = 3\n", "expected a table"),
        ("colour = 'red'\n", "unknown top-level key"),
        ("[person\n", "not valid TOML"),
    ],
)
def test_bad_profiles_raise_a_one_line_profile_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message) as info:
        load_profile(str(path))
    assert "\n" not in str(info.value)


def test_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="responder"):
        load_profile("nobody")


def test_config_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="ectopic"):
        ArtifactRates(ectopic=1.5)
    with pytest.raises(ValueError, match="latency_max_s"):
        SimConfig(latency_max_s=-1)
    with pytest.raises(ValueError, match="duration_s"):
        SimConfig(duration_s=0)


def test_duration_defaults_to_the_timeline() -> None:
    assert SimConfig(segments=parse_segments("baseline:10,washout:5")).end_s == 15.0
    assert SimConfig(segments=parse_segments("baseline:10"), duration_s=4.0).end_s == 4.0


CONFIG = SimConfig(
    seed=4,
    duration_s=40.0,
    artifacts=ArtifactRates(malformed=0.2, disconnects_per_h=300.0),
)


async def collect(source: SimulatedSource) -> list[object]:
    return [event async for event in source.events()]


async def test_source_yields_typed_events_in_order() -> None:
    events = await collect(SimulatedSource(SimulatedStrap(CONFIG), speed=None, clock_offset_s=100))
    assert isinstance(events[0], Connected)
    assert events[0].device.kind == "simulated"
    assert events[0].device.address == "SIM:00:00:00:00:01"
    assert isinstance(events[1], BatteryRead)
    measurements = [e for e in events if isinstance(e, MeasurementReceived)]
    assert len(measurements) > 10
    assert all(100 <= e.t_s < 140 for e in measurements)
    assert all(e.wall_s == SIM_EPOCH_S + e.t_s - 100 for e in measurements)
    assert any(isinstance(e, MalformedPacket) for e in events)
    *downs, end = [e for e in events if isinstance(e, Disconnected)]
    assert downs
    assert all(e.reason is DisconnectReason.LINK_LOST for e in downs)
    # The stream ends with the session's planned end, not its last notification.
    assert events[-1] is end
    assert (end.reason, end.t_s) == (DisconnectReason.USER, 140.0)
    after_down = events[events.index(downs[0]) + 1]
    assert isinstance(after_down, Connected)


async def test_source_output_is_identical_at_any_speed() -> None:
    config = SimConfig(seed=4, duration_s=6.0, artifacts=ArtifactRates(malformed=0.3))
    fast = await collect(SimulatedSource(SimulatedStrap(config), speed=None))
    paced = await collect(SimulatedSource(SimulatedStrap(config), speed=200.0))
    assert paced == fast


def test_source_rejects_a_non_positive_speed() -> None:
    with pytest.raises(ValueError, match="speed"):
        SimulatedSource(SimulatedStrap(CONFIG), speed=0)
