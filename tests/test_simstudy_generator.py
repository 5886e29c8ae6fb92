"""The block-level study generator against the beat-level simulated strap, and the nuisances.

The calibration runs use block-level values (``tests/simstudy_support.block_studies``); here
24 beat-level sessions of the same person (every nuisance on, trigger ``a`` at +0.35 ln ms)
are measured as recordings and compared with 3 200 block-level sessions: the mean and SD of the
within-session contrast "a minus the mean of the others" and of "other triggers minus the
baseline". Tolerance: the means within 3 standard errors of the beat-level mean (SE = SD/√24)
plus 0.03 ln ms, the SDs within a factor 1.5 (a 24-session SD is within ±35 % of the truth at
about 3 SE).
"""

from __future__ import annotations

import math

import numpy as np

from devices.simulator.profile import load_profile
from tests.simstudy_support import TRIGGERS, beat_session, block_studies, study_profile

PROFILE = study_profile("all", (0.35, 0.0, 0.0, 0.0))


def _beat_level() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    d, gap, err = [], [], []
    for i in range(24):
        order = [TRIGGERS[j] for j in rng.permutation(4)]
        resp, vagal = beat_session(PROFILE, order, seed=100 + i, session_index=i % 8)
        v = {b.label: b.block.value("lnrmssd") for b in resp.blocks}
        d.append(v["a"] - np.mean([v[x] for x in "bcd"]))
        assert resp.baseline is not None
        gap.append(np.mean([v[x] for x in "bcd"]) - resp.baseline.value("lnrmssd"))
        err += [v[x] - vagal[x] for x in TRIGGERS]
    return np.array(d), np.array(gap), np.array(err)


def test_block_level_matches_beat_level_sessions() -> None:
    d_beat, gap_beat, err = _beat_level()
    batch = block_studies(PROFILE, 400, 8, seed=3)
    d_block = (batch.values[..., 0] - batch.values[..., 1:].mean(axis=2)).ravel()
    gap_block = (batch.values[..., 1:].mean(axis=2) - batch.baseline).ravel()
    for beat, block in ((d_beat, d_block), (gap_beat, gap_block)):
        se = np.std(beat, ddof=1) / math.sqrt(beat.size)
        assert abs(np.mean(block) - np.mean(beat)) <= 3 * se + 0.03
        assert 1 / 1.5 <= np.std(block, ddof=1) / np.std(beat, ddof=1) <= 1.5
    # The generator's measurement error is the beat-level one (0.045 ln ms).
    assert 0.03 <= float(np.std(err)) <= 0.07


def test_shipped_profiles_carry_the_realistic_nuisances() -> None:
    for name in ("responder", "non-responder", "tingles"):
        p = load_profile(name)
        assert 0.1 <= p.person.session_sd_ln_rmssd <= 0.4  # FACTS §7: 0.1-0.4 ln ms
        assert p.person.carryover_share > 0
        assert p.person.drift_sd_ln_rmssd_per_h > 0
        assert p.person.slow_breathing_share > 0
        assert all(r.session_sd_ln_rmssd > 0 for _, r in p.triggers)
        assert all(r.habituation_per_session > 0 for _, r in p.triggers)


def test_carryover_lingers_and_habituation_shrinks_the_effect() -> None:
    strong = study_profile("carryover", (0.35, 0.0, 0.0, 0.0))
    after, before = [], []
    for i in range(6):
        # a is followed by b in every session: b's block carries some of a's response.
        _, v1 = beat_session(strong, ["a", "b", "c", "d"], seed=300 + i)
        _, v2 = beat_session(strong, ["b", "a", "c", "d"], seed=300 + i)
        after.append(v1["b"])
        before.append(v2["b"])
    assert np.mean(after) - np.mean(before) > 0.03
    habit = study_profile("habituation", (0.35, 0.0, 0.0, 0.0))
    batch = block_studies(habit, 50, 10, seed=1)
    assert batch.truth[0, 0] < 0.35
