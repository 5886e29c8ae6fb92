"""The irregular-rhythm stretches of a stored session, for ``show --json`` and the exports.

The live processor's own decisions (:class:`biofeedback.hrv.rhythm.OnlineRhythm`, which withheld
HRV on the dashboard) are not stored with the beats. So the stretches are recomputed here from
the stored intervals with the batch detector (:func:`biofeedback.hrv.rhythm.withheld_mask`, per
continuity segment), the decision ``analyze`` makes on the same beats, and the record says so.
The live decision used trailing segments only: it switched on about ``SEGMENT_BEATS / 2 +
4 · STEP_BEATS`` (128) intervals later than the batch one starts and off up to half a segment
(64 intervals) later than it ends (:class:`~biofeedback.hrv.rhythm.OnlineRhythm`).
"""

from __future__ import annotations

import itertools
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.rhythm import MESSAGE, METHOD, withheld_mask
from biofeedback.sessions.bundle import SessionBundle

SOURCE: Final = (
    "recomputed from the stored beats with the batch detector (hrv.rhythm.withheld_mask, per "
    "continuity segment); the live processor's decisions are not stored, and it withheld from "
    "about 128 intervals later and up to 64 intervals longer (trailing segments)"
)


def withheld_beats(bundle: SessionBundle) -> NDArray[np.bool_]:
    """One flag per stored beat: inside sustained irregular rhythm (batch detector)."""
    beats = bundle.beats
    rr = np.asarray(beats["rr_ms"], dtype=np.float64)
    if rr.size == 0:
        return np.zeros(0, dtype=bool)
    return withheld_mask(rr, np.asarray(beats["segment"], dtype=np.int64))


def rhythm_record(
    bundle: SessionBundle, withheld: NDArray[np.bool_] | None = None
) -> dict[str, Any]:
    """``{"method", "source", "rhythm_check_live", "withheld_beats", "withheld_share",
    "message", "spans": [{"start_s", "end_s", "beats"}]}``: each span from the start of its
    first withheld interval (its beat time minus its RR) to its last beat's time, in session
    seconds; ``message`` is :data:`~biofeedback.hrv.rhythm.MESSAGE` when any beat is withheld.
    """
    flags = withheld_beats(bundle) if withheld is None else withheld
    t = np.asarray(bundle.beats["t_s"], dtype=np.float64)
    rr = np.asarray(bundle.beats["rr_ms"], dtype=np.float64)
    seg = np.asarray(bundle.beats["segment"], dtype=np.int64)
    spans = []
    if flags.any():
        # A run ends where the flag drops or the continuity segment changes.
        edge = np.flatnonzero(np.diff(np.r_[0, flags.astype(np.int8), 0]))
        for a, b in zip(edge[::2], edge[1::2], strict=True):
            cuts = [a, *(a + 1 + np.flatnonzero(np.diff(seg[a:b])).tolist()), b]
            for lo, hi in itertools.pairwise(cuts):
                spans.append(
                    {
                        "start_s": round(float(t[lo] - rr[lo] / 1000.0), 6),
                        "end_s": round(float(t[hi - 1]), 6),
                        "beats": int(hi - lo),
                    }
                )
    n = int(flags.sum())
    return {
        "method": METHOD,
        "source": SOURCE,
        "rhythm_check_live": bool(bundle.settings.get("rhythm_check", True)),
        "withheld_beats": n,
        "withheld_share": n / flags.size if flags.size else 0.0,
        "message": MESSAGE if n else None,
        "spans": spans,
    }
