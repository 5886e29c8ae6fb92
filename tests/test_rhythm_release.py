"""After sustained irregular rhythm the live windows restart: no value mixes it in."""

from __future__ import annotations

import numpy as np

from biofeedback.hrv.processor import HrvProcessor, Snapshot
from biofeedback.hrv.rhythm import MESSAGE
from devices.events import Beat

N_SINUS, N_AF, N_AFTER = 150, 320, 260


def _snapshots() -> list[tuple[int, Snapshot]]:
    rng = np.random.default_rng(11)
    sinus = 900.0 + 40.0 * np.sin(np.arange(N_SINUS) / 2.5) + rng.normal(0, 8, N_SINUS)
    af = 900.0 * rng.uniform(0.65, 1.35, N_AF)
    after = 850.0 + np.random.default_rng(5).normal(0, 10, N_AFTER)
    processor, t_s, out = HrvProcessor(), 0.0, []
    for i, rr in enumerate(np.r_[sinus, af, after].tolist()):
        t_s += rr / 1000.0
        snap = processor.push(Beat(t_s, rr, round(rr * 1.024), 0, i))
        if snap is not None:
            out.append((i, snap))
    return out


def test_values_return_only_from_beats_after_the_irregular_stretch() -> None:
    snaps = _snapshots()
    withheld = [i for i, s in snaps if MESSAGE in s.flags]
    released = withheld[-1] + 1
    assert N_SINUS < withheld[0] < released < N_SINUS + N_AF + 64
    after = [(i, s) for i, s in snaps if i >= released]
    first = next(i for i, s in after if s.ln_rmssd.value is not None)
    # 80 % of a 60-s window of the new rhythm (48 s, ~56 beats) before any lnRMSSD again ...
    assert first - released > 50
    # ... and then the sinus rhythm's own value (RMSSD ~14 ms), not the AF stretch's (~170).
    last = snaps[-1][1]
    assert last.rmssd_ms.value is not None
    assert last.rmssd_ms.value < 30.0
    assert all(s.rmssd_ms.value is None or s.rmssd_ms.value < 40.0 for _, s in after)
