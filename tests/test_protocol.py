"""Protocols: shipped files, plans and orders, and validation errors that name the line."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from biofeedback.errors import InputError
from biofeedback.sessions.protocol import PROTOCOLS_DIR, load_protocol, williams_square

VALID = """\
name = "t"
settling_s = 10
baseline_s = 20
washout_s = 5
order = "fixed"

[[block]]
label = "tapping"
media = "manual"
duration_s = 30

[[block]]
label = "my clip"
category = "control"
media = "https://example.org/clip"
duration_s = "until-media-ends"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted(PROTOCOLS_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_protocols_load(path: Path):
    protocol = load_protocol(path)
    assert protocol.plan(0, seed=1).segments


def test_default_protocol_plan():
    protocol = load_protocol("default")
    plan = protocol.plan(session_index=0, seed=42)
    kinds = [s.kind for s in plan.segments]
    assert kinds == ["settling", "baseline"] + ["trigger", "washout"] * 3 + ["trigger"]
    durations = [s.duration_s for s in plan.segments]
    assert durations == [60.0, 180.0] + [180.0, 60.0] * 3 + [180.0]
    triggers = [s for s in plan.segments if s.kind == "trigger"]
    assert sorted(s.label for s in triggers) == [
        "crinkling",
        "personal-attention",
        "tapping",
        "whispering",
    ]
    assert all(s.media == "manual" for s in triggers)
    assert {s.category for s in triggers} == {"mouth sounds", "simulations", "repetitive sounds"}
    assert plan.to_json()["method"] == "randomised"
    assert plan.to_json()["seed"] == 42


def test_randomised_order_is_reproducible_from_its_seed():
    protocol = load_protocol("default")
    orders = {protocol.plan(0, seed=s).order for s in range(20)}
    assert protocol.plan(0, seed=3).order == protocol.plan(5, seed=3).order
    assert len(orders) > 5
    drawn = protocol.plan(0)
    assert drawn.seed is not None
    assert protocol.plan(0, seed=drawn.seed).order == drawn.order


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_williams_square_is_a_balanced_latin_square(n: int):
    rows = williams_square(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n)
    for row in rows:
        assert sorted(row) == list(range(n))
    for position in range(n):
        counts = [sum(row[position] == c for row in rows) for c in range(n)]
        assert len(set(counts)) == 1
    follows = [pair for row in rows for pair in itertools.pairwise(row)]
    assert len(set(follows)) == n * (n - 1)
    assert len(follows) == len(set(follows)) * (1 if n % 2 == 0 else 2)


def test_counterbalanced_sessions_walk_the_square(tmp_path: Path):
    protocol = load_protocol(write(tmp_path, VALID.replace('"fixed"', '"counterbalanced"')))
    assert [protocol.plan(k).order for k in range(3)] == [(0, 1), (1, 0), (0, 1)]


def test_repetitions_and_until_media_ends(tmp_path: Path):
    protocol = load_protocol(write(tmp_path, VALID + "\n"), triggers_path=_triggers())
    assert protocol.blocks[1].duration_s is None
    assert protocol.blocks[1].category == "control"
    repeated = load_protocol(write(tmp_path, VALID.replace('order = "fixed"', "repetitions = 2")))
    plan = repeated.plan()
    assert plan.order == (0, 1, 0, 1)
    assert [s.kind for s in plan.segments].count("washout") == 3


def test_a_relative_media_file_is_resolved(tmp_path: Path):
    (tmp_path / "clip.wav").write_bytes(b"RIFF")
    text = VALID.replace('"https://example.org/clip"', '"clip.wav"')
    protocol = load_protocol(write(tmp_path, text))
    assert protocol.blocks[1].media == str((tmp_path / "clip.wav").resolve())


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('order = "fixed"', 'order = "fixed"\nrepeat = 2', r":6: unknown key 'repeat'"),
        ('media = "manual"', 'media = "manual"\nvolume = 3', r":10: unknown key 'volume'"),
        ('"https://example.org/clip"', '"missing.wav"', r":15: media file not found"),
        ("duration_s = 30", "duration_s = -30", r":10: duration_s = -30 is impossible"),
        ("duration_s = 30", "duration_s = 0", r":10: duration_s = 0 is impossible"),
        ("duration_s = 30", 'duration_s = "long"', r":10: duration_s must be a number"),
        ("washout_s = 5", "washout_s = 1e9", r":4: washout_s = 1000000000.0 is impossible"),
        ('category = "control"', 'category = "food"', r":14: unknown category 'food'"),
        ('category = "control"\n', "", r":13: block 'my clip' is not in the trigger catalogue"),
        ('"https://example.org/clip"', '"manual"', r":16: duration_s 'until-media-ends' needs"),
        ('order = "fixed"', 'order = "shuffled"', r":5: order must be one of"),
        ("settling_s = 10", "settling_s = true", r":2: settling_s must be a number"),
        ('name = "t"', 'name = "t"\nseed = 1.5', r":2: seed must be an integer"),
        ("[[block]]", "[block]", r"invalid TOML|each block must be a table"),
        ('label = "tapping"', 'label = "tapping', r"invalid TOML.*line 8"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, old: str, new: str, message: str):
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(InputError, match=message) as info:
        load_protocol(path)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_a_protocol_without_blocks_is_refused(tmp_path: Path):
    with pytest.raises(InputError, match="at least one"):
        load_protocol(write(tmp_path, 'name = "empty"\n'))


def test_a_missing_protocol_file_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="cannot read"):
        load_protocol(tmp_path / "nope.toml")


def _triggers() -> Path:
    return PROTOCOLS_DIR.parent / "triggers.toml"
