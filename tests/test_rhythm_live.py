"""Irregular rhythm live: the processor withholds vagal estimates over it, as batch does."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from biofeedback.hrv.processor import HrvProcessor, Snapshot
from biofeedback.hrv.rhythm import MESSAGE, OnlineRhythm, withheld_mask
from biofeedback.hrv.settings import HrvSettings
from devices.events import Beat


def _sinus(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 850.0 + 40.0 * np.sin(np.arange(n) / 2.0) + 8.0 * rng.standard_normal(n)


def _push_all(processor: HrvProcessor, rr: np.ndarray) -> list[Snapshot | None]:
    t = np.cumsum(rr) / 1000.0
    snaps = []
    for i, (t_s, rr_ms) in enumerate(zip(t.tolist(), rr.tolist(), strict=True)):
        beat = Beat(t_s=t_s, rr_ms=rr_ms, rr_raw=0, segment=0, index=i)
        snaps.append(processor.push(beat))
    return snaps


def _some(snaps: list[Snapshot | None]) -> list[Snapshot]:
    return [s for s in snaps if s is not None]


def test_live_withholds_vagal_estimates_inside_irregular_rhythm_only() -> None:
    af = np.random.default_rng(2).uniform(450.0, 1050.0, 600)
    rr = np.r_[_sinus(600, 1), af, _sinus(600, 3)]
    snaps = _push_all(HrvProcessor(), rr)
    inside = _some(snaps[900:1200])
    assert inside
    for snap in inside:
        assert snap.rmssd_ms.value is None
        assert snap.rmssd_ms.reason == MESSAGE
        assert snap.ln_rmssd.value is None
        assert snap.hf_ms2.value is None
        assert MESSAGE in snap.flags
        assert snap.hr_bpm.value is not None  # heart rate is still shown
    assert all(s.rmssd_ms.value is not None for s in _some(snaps[300:600] + snaps[1500:]))
    off = _push_all(HrvProcessor(HrvSettings(rhythm_check=False)), rr)
    assert all(s.rmssd_ms.value is not None for s in _some(off[1000:1200]))


def test_a_chain_break_restarts_the_live_decision() -> None:
    live = OnlineRhythm()
    rng = np.random.default_rng(3)
    assert [live.push(v) for v in rng.uniform(450.0, 1050.0, 400)][-1]
    live.reset()
    assert not live.irregular
    # a new chain needs a full segment and CONFIRM_SEGMENTS verdicts again (191 intervals)
    assert not any(live.push(v) for v in rng.uniform(450.0, 1050.0, 190))


@pytest.mark.parametrize("record", ["201", "203", "208"])
def test_live_agrees_with_batch_on_labelled_records(reference_dir: Path, record: str) -> None:
    path = reference_dir / "physionet" / "labelled" / f"mitdb_{record}.csv"
    with path.open(newline="") as fh:
        rr = np.array([float(r["rr_ms"]) for r in csv.DictReader(fh)])
    batch = withheld_mask(rr)
    live_rhythm = OnlineRhythm()
    live = np.array([live_rhythm.push(v) for v in rr.tolist()])
    # Live judges trailing segments only, so it starts late and stops late (class notes).
    # Measured: live flags 56 % / 94 % / 50 % of what batch withholds on 201 / 203 / 208, and
    # 3.9 % / 0 % / 1.3 % of the intervals that batch keeps.
    assert (live & batch).sum() >= 0.45 * batch.sum()
    assert (live & ~batch).mean() <= 0.05


def _block_of(settings: HrvSettings, rr: np.ndarray, baseline_n: int) -> tuple[int, float | None]:
    """(beats, lnRMSSD change) of the trigger block that follows ``baseline_n`` baseline beats."""
    processor = HrvProcessor(settings)
    t = np.cumsum(rr) / 1000.0
    processor.begin_segment("baseline", "baseline", 0.0)
    for i, (t_s, rr_ms) in enumerate(zip(t.tolist(), rr.tolist(), strict=True)):
        if i == baseline_n:
            processor.end_segment(t[i - 1])
            processor.begin_segment("trigger", "whispering", t[i - 1])
        processor.push(Beat(t_s=t_s, rr_ms=rr_ms, rr_raw=0, segment=0, index=i))
    processor.end_segment(float(t[-1]))
    block = processor.finish()[-1]
    assert block.label == "whispering"
    return block.n_beats, block.ln_rmssd.change


def test_the_block_change_leaves_out_what_the_live_rhythm_check_withholds() -> None:
    af = np.random.default_rng(5).uniform(450.0, 1050.0, 600)
    rr = np.r_[_sinus(400, 4), _sinus(200, 6), af, _sinus(200, 7)]
    beats_on, change_on = _block_of(HrvSettings(), rr, 400)
    beats_off, change_off = _block_of(HrvSettings(rhythm_check=False), rr, 400)
    # Without the check the AF-like stretch is "HRV": lnRMSSD up by more than 1 ln ms.
    assert change_off is not None
    assert change_off > 1.0
    # With it, what the live decision withheld (all but its first ~130 intervals) is left out.
    assert beats_off - beats_on >= 400
    assert change_on is not None
    assert abs(change_on) < abs(change_off) / 2
