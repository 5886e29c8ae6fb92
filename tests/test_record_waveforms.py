"""A recording on a strap that streams ECG and ACC keeps them (issue 18, item 4).

The simulated H10 through the real record command, in-process, as fast as possible: the store
holds its ECG (130 Hz) and chest acceleration beside the beats, over the whole recording, and
``export --format ecg|acc`` gives them back in time order.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli_support import run_cli

RECORD = ("record", "--simulate", "--strap", "h10", "--protocol", "quick", "--player", "none")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("waves") / "s.db"
    ran = run_cli(*RECORD, "--speed", "1e6", "--seed", "4", "--json", "--db", str(db))
    assert ran.returncode == 0, ran.stderr
    return db


def _columns(text: str) -> dict[str, np.ndarray]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}


def test_the_ecg_of_the_whole_recording_is_stored(recorded: Path) -> None:
    shown = run_cli("show", "1", "--json", "--db", str(recorded))
    assert shown.returncode == 0, shown.stderr
    beats_s = json.loads(shown.stdout)["duration_s"]
    ran = run_cli("export", "1", "--format", "ecg", "--db", str(recorded))
    assert ran.returncode == 0, ran.stderr
    ecg = _columns(ran.stdout)
    t = ecg["t_s"]
    assert np.all(np.diff(t) > 0)
    assert np.median(np.diff(t)) == pytest.approx(1 / 130, rel=0.01)
    assert t[-1] - t[0] == pytest.approx(beats_s, abs=5.0)  # the recording, end to end
    assert np.ptp(ecg["ecg_uv"]) > 500  # R waves of a real-sized ECG, not zeros


def test_the_stored_settings_say_ecg_shapes_decided_the_artifacts(recorded: Path) -> None:
    shown = json.loads(run_cli("show", "1", "--json", "--db", str(recorded)).stdout)
    settings = shown["settings"]
    assert settings["artifact_source"] == "ecg_shape"
    assert 0 < settings["ecg_intervals_matched"] <= shown["beat_count"]
    assert settings["correction"] == "automatic"  # the rest as recorded
    # show's blocks replay the stored beats with the stored ECG's beat shapes, and say so
    replayed = shown["blocks_replayed_with"]
    assert replayed["correction"] == "automatic"
    assert replayed["artifact_source"] == "ecg_shape"
    assert replayed["from"] == "stored RR beats and the stored ECG's beat shapes"
    assert replayed["live_artifact_source"] == "ecg_shape"
    assert replayed["live_ecg_intervals_matched"] == settings["ecg_intervals_matched"]
    # as fast as possible the live ECG stage falls behind the beats; the replay has the ECG
    assert replayed["ecg_intervals_matched"] >= settings["ecg_intervals_matched"]


def test_the_chest_acceleration_is_stored_beside_it(recorded: Path) -> None:
    ran = run_cli("export", "1", "--format", "acc", "--db", str(recorded))
    assert ran.returncode == 0, ran.stderr
    acc = _columns(ran.stdout)
    assert set(acc) == {"t_s", "x_mg", "y_mg", "z_mg"}
    assert np.all(np.diff(acc["t_s"]) > 0)
    gravity = np.sqrt(acc["x_mg"] ** 2 + acc["y_mg"] ** 2 + acc["z_mg"] ** 2)
    assert np.median(gravity) == pytest.approx(1000, rel=0.1)  # 1 g, in mg


def test_a_strap_without_ecg_stores_none(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ran = run_cli(*RECORD[:3], "hr", *RECORD[4:], "--speed", "1e6", "--db", str(db))
    assert ran.returncode == 0, ran.stderr
    done = run_cli("export", "1", "--format", "ecg", "--db", str(db))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    settings = json.loads(run_cli("show", "1", "--json", "--db", str(db)).stdout)["settings"]
    assert settings["artifact_source"] == "rr"
    assert "ecg_intervals_matched" not in settings
