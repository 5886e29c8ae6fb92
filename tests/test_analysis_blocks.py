"""Per-session block responses on hand-built beats: onset exclusion, references, exclusions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from biofeedback.analysis.blocks import session_responses
from biofeedback.analysis.config import CompareSettings
from biofeedback.hrv import time_domain as td
from biofeedback.hrv.analysis import prepare_nn

SEGMENTS = [
    {"label": "baseline", "kind": "baseline", "start_s": 0.0, "end_s": 180.0},
    {"label": "whispering", "kind": "trigger", "start_s": 180.0, "end_s": 360.0},
    {"label": "washout", "kind": "washout", "start_s": 360.0, "end_s": 420.0},
    {"label": "tapping", "kind": "trigger", "start_s": 420.0, "end_s": 600.0},
]


# RSA amplitude (ms) by time, with 10-s ramps so the artifact detector sees no step:
# whispering doubles it, but only after a 45-s onset in which it is small.
_KNOTS_S = [0, 180, 190, 225, 235, 360, 370, 420, 430, 700]
_AMPLITUDE_MS = [30, 30, 10, 10, 60, 60, 40, 40, 30, 30]


def amplitude_ms(t: float) -> float:
    return float(np.interp(t, _KNOTS_S, _AMPLITUDE_MS))


def beats(mean_rr_ms: float = 900.0, until_s: float = 700.0) -> tuple[np.ndarray, np.ndarray]:
    t, ts, rrs = 0.0, [], []
    while t < until_s:
        rr = mean_rr_ms + amplitude_ms(t) * math.sin(2 * math.pi * 0.25 * t)
        t += rr / 1000.0
        ts.append(t)
        rrs.append(rr)
    return np.array(ts), np.array(rrs)


def ln_rmssd_between(t: np.ndarray, rr: np.ndarray, a: float, b: float) -> float:
    keep = (t >= a) & (t < b)
    return td.ln_rmssd(rr[keep])


def test_hand_built_beats_need_no_correction() -> None:
    t, rr = beats()
    assert not prepare_nn(rr, t).labels.any()


def test_responses_against_baseline_and_washout_skip_the_onset() -> None:
    t, rr = beats()
    s = session_responses(t, rr, np.zeros(t.size), SEGMENTS, metrics=("lnrmssd", "hr"))
    assert s.reason is None
    whisper, tapping = s.blocks
    assert (whisper.label, whisper.position, tapping.position) == ("whispering", 1, 2)
    base = ln_rmssd_between(t, rr, 0.0, 180.0)
    block = ln_rmssd_between(t, rr, 225.0, 360.0)
    assert whisper.response("lnrmssd") == pytest.approx(block - base, abs=1e-9)
    assert whisper.response("lnrmssd") == pytest.approx(math.log(1.9), abs=0.1)
    # The first block follows the baseline: its rest reference is the baseline.
    assert whisper.response("lnrmssd", "washout") == whisper.response("lnrmssd")
    washout = ln_rmssd_between(t, rr, 360.0, 420.0)
    tap = ln_rmssd_between(t, rr, 465.0, 600.0)
    assert tapping.response("lnrmssd", "washout") == pytest.approx(tap - washout, abs=1e-9)
    assert abs(tapping.response("lnrmssd")) < 0.05
    assert abs(whisper.response("hr")) < 0.5


def test_onset_is_configurable() -> None:
    t, rr = beats()
    s = session_responses(
        t, rr, np.zeros(t.size), SEGMENTS, metrics=("lnrmssd",), settings=CompareSettings(onset_s=0)
    )
    with_onset = ln_rmssd_between(t, rr, 180.0, 360.0) - ln_rmssd_between(t, rr, 0.0, 180.0)
    assert s.blocks[0].response("lnrmssd") == pytest.approx(with_onset, abs=1e-9)


def test_blocks_with_too_little_clean_data_or_too_many_corrections_are_excluded() -> None:
    t, rr = beats()
    rr = rr.copy()
    # Missed beats (doubled RR) in 10 % of the tapping block's beats.
    in_tap = np.flatnonzero((t >= 470.0) & (t < 600.0))
    rr[in_tap[::10]] *= 2.0
    short = [*SEGMENTS[:3], {**SEGMENTS[3]}, {"label": "brushing", "kind": "trigger",
             "start_s": 600.0, "end_s": 690.0}]  # fmt: skip
    s = session_responses(t, rr, np.zeros(t.size), short, metrics=("lnrmssd",))
    tapping, brushing = s.blocks[1], s.blocks[2]
    assert tapping.reason is not None
    assert "corrected beats" in tapping.reason
    assert math.isnan(tapping.response("lnrmssd"))
    assert brushing.reason is not None
    assert "too little clean data" in brushing.reason
    assert s.blocks[0].reason is None


def test_a_gap_is_never_differenced_and_spectra_need_two_minutes() -> None:
    t, rr = beats()
    seg = (t > 300.0).astype(np.int64)  # a reconnection in the middle of whispering
    s = session_responses(t, rr, seg, SEGMENTS, metrics=("lnrmssd", "hf", "resp"))
    whisper = s.blocks[0]
    assert math.isfinite(whisper.response("lnrmssd"))
    assert math.isnan(whisper.block.value("hf"))
    assert "continuous" in whisper.block.missing["hf"]
    assert s.baseline is not None
    assert math.isfinite(s.baseline.value("hf"))
    assert s.baseline is not None
    assert s.baseline.value("resp") == pytest.approx(15.0, abs=1.0)


def test_sessions_without_segments_give_a_reason() -> None:
    t, rr = beats()
    s = session_responses(t, rr, np.zeros(t.size), [], metrics=("lnrmssd",))
    assert s.blocks == ()
    assert s.reason == "no trigger blocks recorded"
    no_base = session_responses(t, rr, np.zeros(t.size), SEGMENTS[1:], metrics=("lnrmssd",))
    assert no_base.blocks[0].reason == "no baseline recorded"


def test_ratings_and_tingles_belong_to_their_block() -> None:
    t, rr = beats()
    markers = [
        {"t_s": 200.0, "kind": "tingle", "label": "key", "value": None},
        {"t_s": 250.0, "kind": "tingle", "label": "key", "value": None},
        {"t_s": 361.0, "kind": "rating", "label": "whispering",
         "value": {"relaxation": 8, "tingles": 6}},
        {"t_s": 601.0, "kind": "rating", "label": "", "value": {"relaxation": 3}},
        {"t_s": 602.0, "kind": "rating", "label": "other", "value": {"relaxation": 9}},
    ]  # fmt: skip
    s = session_responses(t, rr, np.zeros(t.size), SEGMENTS, markers, metrics=("lnrmssd",))
    whisper, tapping = s.blocks
    assert whisper.tingle_count == 2
    assert tapping.tingle_count == 0
    assert whisper.rating is not None
    assert (whisper.rating.relaxation, whisper.rating.tingles) == (
        8.0,
        6.0,
    )
    assert tapping.rating is not None
    assert tapping.rating.relaxation == 3.0
    assert tapping.rating.tingles is None
