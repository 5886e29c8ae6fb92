"""A live-recorded session's irregular-rhythm stretches in ``show --json`` and the exports.

The live processor's withheld flags are not stored, so both recompute the stretches from the
stored beats with the batch detector and say so (``rhythm.source``).
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import json
from pathlib import Path

import numpy as np

from biofeedback.hrv.rhythm import MESSAGE
from biofeedback.live.headless_session import run_headless
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from tests.cli_support import run_cli

N_SINUS, N_AF = 200, 400


@functools.cache
def _rr() -> tuple[float, ...]:
    rng = np.random.default_rng(4)
    sinus = 900 + 30 * np.sin(np.arange(N_SINUS) / 2.5) + rng.normal(0, 8, N_SINUS)
    af = 850 * rng.uniform(0.65, 1.35, N_AF)
    after = 880 + rng.normal(0, 10, N_SINUS)
    return tuple(np.round(np.r_[sinus, af, after], 1).tolist())


def _recorded(tmp_path: Path) -> Path:
    """The beats replayed through the live pipeline (recorder, processor) into a store."""
    rr_file = tmp_path / "af.txt"
    rr_file.write_text("".join(f"{v}\n" for v in _rr()))
    db = tmp_path / "s.db"
    opts = SessionOptions(
        source=SourceOptions(replay=str(rr_file)),
        protocol=None,
        player="none",
        db=db,
        record=True,
        fast=True,
    )
    asyncio.run(run_headless(build_session(opts), io.StringIO(), duration_s=None, as_json=True))
    return db


def test_show_and_exports_carry_the_irregular_rhythm_spans(tmp_path: Path) -> None:
    db = _recorded(tmp_path)
    shown = run_cli("show", "1", "--json", db=db)
    assert shown.returncode == 0, shown.stderr
    rhythm = json.loads(shown.stdout)["rhythm"]
    assert "batch detector" in rhythm["source"]
    assert "not stored" in rhythm["source"]
    assert rhythm["message"] == MESSAGE
    assert len(rhythm["spans"]) == 1
    span = rhythm["spans"][0]
    t = np.cumsum(_rr()) / 1000.0
    af_start_s, af_end_s = t[N_SINUS - 1], t[N_SINUS + N_AF - 1]
    # The batch detector's edges fall within a quarter segment (32 intervals) of the truth.
    assert abs(span["start_s"] - af_start_s) < 32 * 1.2
    assert abs(span["end_s"] - af_end_s) < 32 * 1.2
    assert abs(span["beats"] - N_AF) <= 32
    assert rhythm["withheld_beats"] == span["beats"]

    bundle = json.loads(run_cli("export", "1", "--format", "json", db=db).stdout)
    assert bundle["rhythm"] == rhythm
    beats = list(
        csv.DictReader(io.StringIO(run_cli("export", "1", "--format", "beats", db=db).stdout))
    )
    withheld = [int(row["withheld"]) for row in beats]
    assert sum(withheld) == span["beats"]
    assert sum(withheld[: N_SINUS - 32]) == 0
    assert sum(withheld[N_SINUS + N_AF + 32 :]) == 0

    text = run_cli("show", "1", db=db).stdout
    assert f"HRV withheld over {span['beats']} beats in 1 stretch" in text


def test_a_regular_session_has_no_spans(tmp_path: Path) -> None:
    from biofeedback.sessions.bundle import SessionBundle
    from biofeedback.sessions.rhythm_record import rhythm_record

    rr = 850.0 + np.random.default_rng(1).normal(0, 15, 400)
    bundle = SessionBundle(
        session={},
        device={},
        settings={},
        segments=[],
        markers=[],
        packets={"t_s": [], "wall_s": [], "hex": []},
        beats={
            "t_s": (np.cumsum(rr) / 1000).tolist(),
            "rr_ms": rr.tolist(),
            "rr_raw": [None] * rr.size,
            "segment": [0] * rr.size,
            "flags": [0] * rr.size,
        },
    )
    record = rhythm_record(bundle)
    assert record["spans"] == []
    assert record["withheld_beats"] == 0
    assert record["message"] is None
