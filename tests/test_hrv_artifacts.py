"""Lipponen & Tarvainen (2019) artifact detection/correction, batch and online.

Truth for real ectopy: PhysioNet LTDB record 14046 (beat annotations); an RR interval that ends
or starts on a V or F beat is an ectopic artifact.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biofeedback.hrv.artifacts import (
    RR_GATE_MAX_MS,
    RR_GATE_MIN_MS,
    ArtifactResult,
    BeatLabel,
    LabelledBeat,
    OnlineArtifactDetector,
    correct_artifacts,
    detect_artifacts,
)

LTDB = Path(__file__).resolve().parent / "data" / "physionet" / "ltdb_14046_labelled.csv"


def run_online(rr: np.ndarray, **kwargs: int | bool) -> list[LabelledBeat]:
    det = OnlineArtifactDetector(**kwargs)
    out = [beat for value in rr.tolist() for beat in det.push(value)]
    return out + det.flush()


def online_labels(beats: list[LabelledBeat]) -> np.ndarray:
    return np.array([b.label for b in beats], dtype=np.int8)


def online_nn(beats: list[LabelledBeat]) -> np.ndarray:
    return np.array([v for b in beats for v in b.nn_ms])


def rmssd(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.diff(x) ** 2)))


def sens_spec(flagged: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return float(flagged[truth].mean()), float((~flagged[~truth]).mean())


# --- real ectopy: LTDB 14046 -------------------------------------------------------------------


@pytest.fixture(scope="module")
def ltdb() -> dict[str, np.ndarray]:
    with LTDB.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rr = np.array([float(r["rr_ms"]) for r in rows])
    ectopic = {"V", "F"}
    truth = np.array([r["beat_symbol"] in ectopic or r["prev_symbol"] in ectopic for r in rows])
    return {
        "rr": rr,
        "truth": truth,
        "detect": detect_artifacts(rr),
        "correct": correct_artifacts(rr).labels,
        "online": online_labels(run_online(rr)),
        "robust": detect_artifacts(rr, robust=True),
    }


def test_ltdb_reference_is_what_we_think(ltdb: dict[str, np.ndarray]) -> None:
    assert ltdb["rr"].size == 115_277
    assert int(ltdb["truth"].sum()) == 18_554


# Measured on this record (per RR interval; 18 554 ectopic intervals, 96 723 normal):
#   detect_artifacts (one pass):     sensitivity 46.6 %, specificity 99.33 %
#   correct_artifacts (iterative):   sensitivity 55.0 %, specificity 99.04 %
#   OnlineArtifactDetector:          sensitivity 53.0 %, specificity 99.01 %
# For comparison, NeuroKit2 0.2.13 `signal_fixpeaks._find_artifacts(np.r_[0, np.cumsum(rr)],
# sampling_rate=1000)` flags 33.7 % / 98.05 % (it takes the QD of |dRR|; so does systole; with
# that variant our one pass agrees with it on 99.96 % of intervals). The goal (96 %, 99.5 %) is
# not met: most of this record's ectopy comes as bigeminy and couplets, where the 91-beat QD is
# itself set by the ectopic rhythm. Where ectopy is sparse the method works as published (below).
#   robust (batch = online, below):  sensitivity 85.4 %, specificity 99.69 % (84.1 % / 99.49 %
#   before the dRR threshold floor, rule 6 and the long/short cases of rules 4 and 5; 82.9 % /
#   99.47 % before rule 5, the compensatory pause after a premature beat, and the Th2 cap)
# The robust mode is this project's extension (README, "HRV methods"). No RR-only
# detector can reach the 96 % goal here: 549 of the 9 862 V/F beats (5.6 %) sit within 9 % of
# the surrounding sinus intervals on both sides (late-coupled and fusion beats), and 9 % is
# where normal intervals start to exceed 0.5 % (bench/bench_artifact_accuracy.py prints the
# bound: 94.3 % sensitivity at 99.43 % specificity for an oracle that knows the normal beats).
@pytest.mark.parametrize(
    ("key", "min_sensitivity", "min_specificity"),
    [
        ("detect", 0.46, 0.993),
        ("correct", 0.54, 0.990),
        ("online", 0.52, 0.989),
        ("robust", 0.85, 0.996),
    ],
)
def test_ltdb_sensitivity_specificity(
    ltdb: dict[str, np.ndarray], key: str, min_sensitivity: float, min_specificity: float
) -> None:
    sensitivity, specificity = sens_spec(ltdb[key] != BeatLabel.NORMAL, ltdb["truth"])
    assert sensitivity >= min_sensitivity
    assert specificity >= min_specificity


@pytest.mark.parametrize("key", ["detect", "correct", "online", "robust"])
def test_ltdb_sparse_ectopics_are_found(ltdb: dict[str, np.ndarray], key: str) -> None:
    # Ectopic intervals with < 5 % ectopic intervals among the 91 around them (712 of them):
    # measured 95.2 % (detect), 95.6 % (correct), 94.5 % (online).
    density = np.convolve(ltdb["truth"].astype(float), np.ones(91) / 91, mode="same")
    sparse = ltdb["truth"] & (density < 0.05)
    assert sparse.sum() == 712
    assert (ltdb[key][sparse] != BeatLabel.NORMAL).mean() >= 0.94


def test_ltdb_online_agrees_with_batch(ltdb: dict[str, np.ndarray]) -> None:
    # Measured 97.0 % overall (goal 99 %): in bursts of ectopy the trailing windows react later
    # than centred ones. Where ectopic intervals are < 10 % of the 91 around: 99.8 %.
    same = ltdb["online"] == ltdb["detect"]
    assert same.mean() >= 0.965
    density = np.convolve(ltdb["truth"].astype(float), np.ones(91) / 91, mode="same")
    assert same[density < 0.10].mean() >= 0.99


def test_ltdb_robust_finds_dense_ectopy_the_published_rule_misses(
    ltdb: dict[str, np.ndarray],
) -> None:
    # (Batch robust *is* the online detector run over the record, so the two are one sequence by
    # construction.) Where >= 30 % of the 91 intervals around are ectopic (11 041 ectopic
    # intervals) it finds 81.1 % (78.5 % before the floor and rules 4-6 of 2026-12), the
    # published one pass 19.4 %.
    density = np.convolve(ltdb["truth"].astype(float), np.ones(91) / 91, mode="same")
    dense = ltdb["truth"] & (density >= 0.3)
    assert (ltdb["robust"][dense] != 0).mean() >= 0.8
    assert (ltdb["detect"][dense] != 0).mean() <= 0.25


# --- sustained ectopy and rhythm changes (robust mode) -----------------------------------------


def with_bigeminy(clean: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Every other beat in [start, stop) premature by 30 % with a full compensatory pause."""
    rr = clean.copy()
    truth = np.zeros(rr.size, dtype=bool)
    for i in range(start, stop, 2):
        early = 0.3 * rr[i]
        rr[i] -= early
        rr[i + 1] += early
        truth[i : i + 2] = True
    return rr, truth


def trigeminy(
    seed: int, mean_ms: float, sd_ms: float, n: int, stop: int, *, early: float, pause: float
) -> tuple[np.ndarray, np.ndarray]:
    """Normal intervals with every third one premature (``early`` x the one before) and the next
    a pause (``pause`` x it), from interval 30 to before ``stop``; returns the series and the
    premature indices."""
    rng = np.random.default_rng(seed)
    rr = mean_ms + sd_ms * rng.standard_normal(n)
    premature = np.arange(30, stop, 3)
    rr[premature] = early * rr[premature - 1]
    rr[premature + 1] = pause * rr[premature - 1]
    return rr, premature


def test_robust_trigeminy_is_flagged_and_splits_no_normal_interval() -> None:
    # N, premature (85 %), compensatory (120 %) over and over: the |mRR| window fills with the
    # ectopic intervals the detector has not flagged yet, and an uncapped Th2 above half the
    # median made "|RR/2 - med| < Th2" call 51-54 normal intervals missed beats and split them.
    for seed in (7, 8):
        rr, premature = trigeminy(seed, 1050.0, 10.0, 300, 298, early=0.85, pause=1.2)
        labels = detect_artifacts(rr, robust=True)
        assert not (labels == BeatLabel.MISSED).any()
        assert (labels[premature] != BeatLabel.NORMAL).mean() >= 0.95
        assert (labels[premature + 1] != BeatLabel.NORMAL).mean() >= 0.95
        assert (labels[premature - 1] == BeatLabel.NORMAL).mean() >= 0.85


def test_sustained_bigeminy_defeats_the_published_rule_not_the_robust_one() -> None:
    rr, truth = with_bigeminy(simulate_clean(3, n=1200), 400, 800)
    published = detect_artifacts(rr) != BeatLabel.NORMAL
    robust = detect_artifacts(rr, robust=True) != BeatLabel.NORMAL
    # 200 premature beats in a row: the 91-beat QD is set by the bigeminy itself
    assert published[truth].mean() < 0.1
    assert robust[truth].mean() >= 0.99
    assert (~robust[~truth]).mean() >= 0.998
    # the run's RR are interpolated (no sinus beat is left in it to measure), so RMSSD is no
    # longer inflated by the ectopy; time is kept
    clean = simulate_clean(3, n=1200)
    assert rmssd(correct_artifacts(rr).nn_ms) > 3 * rmssd(clean)
    nn = correct_artifacts(rr, robust=True).nn_ms
    assert rmssd(nn) <= rmssd(clean)
    assert nn.sum() == pytest.approx(clean.sum(), rel=0.01)  # measured +0.7 %


def breathing(parts: list[tuple[int, float, float, float]], seed: int = 0) -> np.ndarray:
    """RR (ms) in parts of (beats, mean ms, RSA amplitude ms, breathing Hz), 8 ms noise."""
    rng = np.random.default_rng(seed)
    out: list[float] = []
    t_s = 0.0
    for n, mean, amplitude, hz in parts:
        for _ in range(n):
            value = mean + amplitude * math.sin(2 * math.pi * hz * t_s) + rng.normal(0.0, 8.0)
            out.append(value)
            t_s += value / 1000.0
    return np.array(out)


@pytest.mark.parametrize(
    ("parts", "max_flagged"),
    [
        # quiet breathing, then slow deep breathing (6/min) with a ±250 ms RSA: measured 6 (24
        # before the dRR threshold floor and rule 6)
        ([(300, 1000.0, 10.0, 0.25), (600, 1000.0, 250.0, 0.1)], 15),
        ([(300, 1000.0, 10.0, 0.25), (600, 1000.0, 150.0, 0.1)], 5),  # measured 0 (11)
        ([(300, 1000.0, 30.0, 0.25), (600, 700.0, 20.0, 0.25)], 2),  # heart rate step, 0 (3)
        ([(300, 700.0, 20.0, 0.25), (600, 1100.0, 40.0, 0.2)], 2),  # 0 (3)
    ],
)
def test_robust_thresholds_follow_a_real_change_of_rhythm(
    parts: list[tuple[int, float, float, float]], max_flagged: int
) -> None:
    # The robust windows skip ectopic beats; they must still learn a genuinely new rhythm
    # instead of flagging it for ever. Published: 0-1 flagged on the same series.
    rr = breathing(parts)
    flagged = detect_artifacts(rr, robust=True) != BeatLabel.NORMAL
    assert flagged.sum() <= max_flagged
    assert not flagged[-300:].any()


def quiet(seed: int, n: int = 300) -> np.ndarray:
    """A quiet rhythm: 1000 ms with 4 ms of noise (dRR quartiles a few ms apart)."""
    return 1000.0 + 4.0 * np.random.default_rng(seed).standard_normal(n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_robust_step_in_heart_rate_is_not_an_artifact(seed: int) -> None:
    # Rule 6: 1100 ms, then 850 ms for good (an arousal). Before it the first three intervals at
    # the new rate were labelled short by the median criterion (the 11-beat median lags).
    rng = np.random.default_rng(seed)
    rr = np.r_[1100.0 + 8.0 * rng.standard_normal(200), 850.0 + 8.0 * rng.standard_normal(200)]
    assert not detect_artifacts(rr, robust=True)[190:215].any()
    assert not detect_artifacts(rr, correction="robust")[190:215].any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_robust_drr_threshold_has_a_floor_on_a_quiet_rhythm(seed: int) -> None:
    # A single interval 9.5 % short on a quiet rhythm was flagged (dRR threshold ~40 ms); with
    # the floor (12 % of the median) it is not. A premature beat 15 % early with its
    # compensatory pause still is, both intervals.
    rr = quiet(seed)
    rr[150] = 905.0
    assert not detect_artifacts(rr, robust=True).any()
    rr[150], rr[151] = 850.0, 1150.0
    assert np.flatnonzero(detect_artifacts(rr, robust=True)).tolist() == [150, 151]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_robust_full_compensatory_pause_after_a_short_beat(seed: int) -> None:
    # Rule 5 after a beat labelled short: 870 + 1100 ms span 1.97 median cycles (a ventricular
    # premature beat, full pause) and the pause is flagged with it; 700 + 1050 ms (0.875 of two
    # cycles, an atrial premature beat resetting the sinus node) and 850 + 1000 ms (the next
    # interval is of median length) leave the next interval alone.
    for short, after, both in (
        (870.0, 1100.0, True),
        (700.0, 1050.0, False),
        (850.0, 1000.0, False),
    ):
        rr = quiet(seed)
        rr[150], rr[151] = short, after
        labels = detect_artifacts(rr, robust=True)
        assert labels[150] == BeatLabel.SHORT
        assert (labels[151] != BeatLabel.NORMAL) == both
        assert not np.delete(labels, [150, 151]).any()


def test_robust_deep_breathing_is_not_taken_for_premature_beats(reference_dir: Path) -> None:
    # pyHRV's artifact-free 5-min SampleNNISeriesShort (RSA of about ±150 ms): the long
    # intervals at the breaths' peaks pass the 20 % dRR cap and are labelled long (15 of 337
    # intervals; the published rule: 1). Rule 4 takes the beat before a long one only if it is
    # shorter than the one before it too (a premature beat comes early): the rising side of a
    # breath is not, and without that condition 20 were flagged.
    rr = np.load(reference_dir / "pyhrv" / "SampleNNISeriesShort.npy").astype(np.float64)
    labels = detect_artifacts(rr, robust=True)
    assert (labels != BeatLabel.NORMAL).sum() <= 15
    assert set(labels.tolist()) <= {BeatLabel.NORMAL, BeatLabel.LONG}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_robust_trigeminy_with_an_incomplete_pause(seed: int) -> None:
    # Every third interval 80 % of the one before, the next 110 %: the pause is often labelled
    # long, not ectopic, and rule 4 then takes the premature interval before it as well.
    # Measured premature / pause found 99-100 % / 98-100 % (85-88 % / 69-76 % before the floor
    # and the long/short cases of rules 4 and 5); no normal interval flagged.
    rr, premature = trigeminy(seed, 800.0, 15.0, 400, 396, early=0.8, pause=1.1)
    labels = detect_artifacts(rr, robust=True)
    assert (labels[premature] != BeatLabel.NORMAL).mean() >= 0.98
    assert (labels[premature + 1] != BeatLabel.NORMAL).mean() >= 0.97
    assert (labels[premature - 1] == BeatLabel.NORMAL).all()


# --- simulated recordings ----------------------------------------------------------------------


def simulate_clean(seed: int, n: int = 3000) -> np.ndarray:
    """RR in ms: 1000 ms mean, RSA at a random 0.18-0.30 Hz (40 ms), a slow wave, white noise."""
    rng = np.random.default_rng(seed)
    breathing_hz = rng.uniform(0.18, 0.30)
    phase = rng.uniform(0.0, 2 * np.pi)
    noise = rng.normal(0.0, 12.0, n)
    rr = np.empty(n)
    t_s = 0.0
    for i in range(n):
        rr[i] = (
            1000.0
            + 40.0 * math.sin(2 * math.pi * breathing_hz * t_s + phase)
            + 15.0 * math.sin(2 * math.pi * 0.02 * t_s)
            + noise[i]
        )
        t_s += rr[i] / 1000.0
    return rr


def inject(clean: np.ndarray, seed: int, share: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Missed (two intervals merged), extra (one split) and ectopic (premature + compensatory)
    events, each at ``share / 3`` of the beats. Returns the series and an event id per interval
    (0 where untouched)."""
    rng = np.random.default_rng(seed)
    out: list[float] = []
    event: list[int] = []
    i = 0
    while i < clean.size:
        u = rng.random()
        n_event = max(event, default=0) + 1
        if u < share / 3 and i + 1 < clean.size:
            out.append(clean[i] + clean[i + 1])
            event.append(n_event)
            i += 2
        elif share / 3 <= u < 2 * share / 3:
            f = rng.uniform(0.3, 0.7)
            out += [clean[i] * f, clean[i] * (1 - f)]
            event += [n_event, n_event]
            i += 1
        elif 2 * share / 3 <= u < share and i + 1 < clean.size:
            f = rng.uniform(0.6, 0.8)
            out += [clean[i] * f, clean[i + 1] + clean[i] * (1 - f)]
            event += [n_event, n_event]
            i += 2
        else:
            out.append(clean[i])
            event.append(0)
            i += 1
    return np.array(out), np.array(event)


SEEDS = range(6)


@pytest.mark.parametrize("robust", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_simulated_rmssd_after_correction_within_5_percent(seed: int, robust: bool) -> None:
    clean = simulate_clean(seed)
    dirty, _ = inject(clean, seed + 100)
    assert rmssd(dirty) > 2 * rmssd(clean)
    batch = correct_artifacts(dirty, robust=robust)
    online = online_nn(run_online(dirty, robust=robust))
    assert rmssd(batch.nn_ms) == pytest.approx(rmssd(clean), rel=0.05)
    assert rmssd(online) == pytest.approx(rmssd(clean), rel=0.05)
    assert batch.nn_ms.sum() == pytest.approx(clean.sum(), rel=0.01)


@pytest.mark.parametrize("robust", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_simulated_injected_events_are_found(seed: int, robust: bool) -> None:
    dirty, event = inject(simulate_clean(seed), seed + 100)
    flagged = correct_artifacts(dirty, robust=robust).labels != BeatLabel.NORMAL
    found = np.unique(event[flagged & (event > 0)])
    assert found.size == event.max()  # every event has at least one of its intervals flagged
    assert (~flagged[event == 0]).mean() >= 0.998  # measured 99.9-100 %


@pytest.mark.parametrize("seed", SEEDS)
def test_simulated_online_agrees_with_batch(seed: int) -> None:
    dirty, _ = inject(simulate_clean(seed), seed + 100)
    assert (online_labels(run_online(dirty)) == detect_artifacts(dirty)).mean() >= 0.99


def test_missed_and_extra_are_labelled_and_repaired() -> None:
    clean = simulate_clean(7, n=400)
    dirty = np.concatenate(
        [clean[:200], [clean[200] + clean[201]], clean[202:300], [400.0, 600.0], clean[300:]]
    )
    labels = detect_artifacts(dirty)
    assert labels[200] == BeatLabel.MISSED
    assert labels[299] == BeatLabel.EXTRA
    result = correct_artifacts(dirty)
    assert result.nn_ms.size == clean.size + 1  # the split halves, the merged pair
    online = run_online(dirty)
    assert online[200].label == BeatLabel.MISSED
    assert online[200].nn_ms == pytest.approx(((clean[200] + clean[201]) / 2,) * 2)
    assert online[299].label == BeatLabel.EXTRA
    assert online[299].nn_ms == ()
    # the second half is itself short, so it is interpolated rather than merged
    assert online[300].label == BeatLabel.SHORT
    assert online[300].nn_ms == (pytest.approx(1000.0, rel=0.05),)


# --- edge cases ---------------------------------------------------------------------------------


def test_empty_input() -> None:
    assert detect_artifacts([]).size == 0
    result = correct_artifacts([])
    assert result == ArtifactResult(result.labels, result.nn_ms, 0)
    assert result.nn_ms.size == 0
    assert result.share_corrected == 0.0
    assert OnlineArtifactDetector().flush() == []


@pytest.mark.parametrize("robust", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 50])
def test_fewer_beats_than_the_windows(n: int, robust: bool) -> None:
    rr = simulate_clean(3, n=n)
    labels = detect_artifacts(rr, robust=robust)
    result = correct_artifacts(rr, robust=robust)
    beats = run_online(rr, robust=robust)
    assert labels.size == result.labels.size == n
    assert [b.index for b in beats] == list(range(n))
    assert online_nn(beats).size == result.nn_ms.size == n
    if n <= 10:  # short clean series: nothing to flag (longer ones may hold a false positive)
        assert not labels.any()
        assert result.nn_ms.tolist() == online_nn(beats).tolist() == rr.tolist()


@pytest.mark.parametrize("robust", [False, True])
def test_all_identical_rr(robust: bool) -> None:
    rr = np.full(300, 857.0)
    assert not detect_artifacts(rr, robust=robust).any()
    assert correct_artifacts(rr, robust=robust).nn_ms.tolist() == rr.tolist()
    assert online_nn(run_online(rr, robust=robust)).tolist() == rr.tolist()


@pytest.mark.parametrize("robust", [False, True])
def test_out_of_range_values_from_polar_sdk_issue_312(robust: bool) -> None:
    # polar-ble-sdk #312 reports RR values 0, 28 and 1878949389 from a strap.
    rr = np.array([0.0, 800, 810, 28, 790, 805, 1878949389, 800, 795, 810, 800, 2600])
    labels = detect_artifacts(rr, robust=robust)
    bad = [0, 3, 6, 11]
    assert labels[bad].tolist() == [BeatLabel.OUT_OF_RANGE] * 4
    result = correct_artifacts(rr, robust=robust)
    assert result.labels[bad].tolist() == [BeatLabel.OUT_OF_RANGE] * 4
    assert result.nn_ms.size == rr.size - 1  # the leading 0 has no left neighbour: dropped
    assert ((result.nn_ms >= RR_GATE_MIN_MS) & (result.nn_ms <= RR_GATE_MAX_MS)).all()
    assert result.nn_ms[2] == pytest.approx(800.0)  # 28 -> halfway between 810 and 790
    beats = run_online(rr, robust=robust)
    assert [beats[i].label for i in bad] == [BeatLabel.OUT_OF_RANGE] * 4
    assert beats[0].nn_ms == ()
    assert beats[3].nn_ms == (pytest.approx(800.0),)
    assert all(RR_GATE_MIN_MS <= v <= RR_GATE_MAX_MS for v in online_nn(beats))


@pytest.mark.parametrize("robust", [False, True])
def test_only_out_of_range_values(robust: bool) -> None:
    result = correct_artifacts([0, 28, 1878949389], robust=robust)
    assert result.labels.tolist() == [BeatLabel.OUT_OF_RANGE] * 3
    assert result.nn_ms.size == 0
    assert result.share_corrected == 1.0


def test_nan_is_rejected_naming_the_parameter() -> None:
    with pytest.raises(ValueError, match="rr_ms"):
        detect_artifacts([800, float("nan"), 810])
    with pytest.raises(ValueError, match="rr_ms"):
        correct_artifacts([800, float("nan"), 810])
    with pytest.raises(ValueError, match="rr_ms"):
        OnlineArtifactDetector().push(float("nan"))
    with pytest.raises(ValueError, match="rr_ms"):
        detect_artifacts([[800, 810]])


@pytest.mark.parametrize("robust", [False, True])
def test_input_is_not_mutated(robust: bool) -> None:
    rr = inject(simulate_clean(2, n=500), 9, share=0.06)[0]
    before = rr.copy()
    correct_artifacts(rr, robust=robust)
    detect_artifacts(rr, robust=robust)
    assert np.array_equal(rr, before)


@pytest.mark.parametrize("robust", [False, True])
def test_reset_forgets_history(robust: bool) -> None:
    rr = inject(simulate_clean(4, n=400), 4, share=0.06)[0]
    det = OnlineArtifactDetector(robust=robust)
    for value in rr[:200].tolist():
        det.push(value)
    det.reset()
    beats = [b for value in rr[200:].tolist() for b in det.push(value)] + det.flush()
    assert [b.index for b in beats] == list(range(rr.size - 200))
    expected = run_online(rr[200:], robust=robust)
    assert online_labels(beats).tolist() == online_labels(expected).tolist()


@pytest.mark.parametrize(("robust", "lag"), [(False, 2), (True, 3)])
def test_online_emits_each_beat_once_with_its_lag(robust: bool, lag: int) -> None:
    det = OnlineArtifactDetector(robust=robust)
    emitted = [len(det.push(v)) for v in simulate_clean(5, n=20).tolist()]
    assert emitted == [0] * lag + [1] * (20 - lag)
    assert len(det.flush()) == lag


def test_online_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="lookahead"):
        OnlineArtifactDetector(lookahead=1)


rr_values = st.one_of(
    st.floats(600.0, 1200.0),
    st.floats(0.0, 3000.0),
    st.sampled_from([0.0, 28.0, 1878949389.0, float("inf"), -5.0]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(rr_values, max_size=150), st.booleans())
def test_any_input_gives_consistent_output(rr: list[float], robust: bool) -> None:
    result = correct_artifacts(rr, robust=robust)
    labels = detect_artifacts(rr, robust=robust)
    beats = run_online(np.array(rr), robust=robust)
    assert result.labels.size == labels.size == len(beats) == len(rr)
    assert [b.index for b in beats] == list(range(len(rr)))
    assert set(result.labels.tolist()) <= set(BeatLabel)
    gated = ~((np.array(rr) >= RR_GATE_MIN_MS) & (np.array(rr) <= RR_GATE_MAX_MS))
    assert (labels[gated] == BeatLabel.OUT_OF_RANGE).all()
    assert (result.labels[gated] == BeatLabel.OUT_OF_RANGE).all()
    nn = np.concatenate([result.nn_ms, online_nn(beats)])
    assert np.isfinite(nn).all()
    assert ((nn > 0) & (nn <= 2 * RR_GATE_MAX_MS)).all()
