"""A hint for ectopic alternation left in the NN series (bigeminy-like rhythm).

The published correction (Lipponen & Tarvainen 2019) judges each interval against its
neighbours; when every other beat is premature for most of a record (ventricular bigeminy), the
short-long pattern *is* the neighbourhood and nothing is corrected: the Polar H10 bigeminy record in
tests/data/detectpvc_polarh10 gives "corrected 0.0 %" and an RMSSD of 442 ms. Sinus rhythm does not
alternate like this: a triple of successive NN intervals is *alternating* when both of its
successive differences exceed ``MIN_STEP`` (20 %) of their pair's mean and have opposite signs.
When more than ``MIN_SHARE`` (25 %) of the triples within continuity chains alternate,
:func:`hint` names the mode that handles sustained ectopy. Measured shares after the default
correction: the bigeminy record 61 % (35 % after ``very-low``, 0 after ``medium``); rest_rri,
real_rri, 08012805, exercise_rri and noisy_rri (rhenanbartels_hrv), rr_healthy_000 and NSR2DB
nsr001 0.0-0.1 %; LTDB 14046 (frequent ventricular ectopy) 1.8 %.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.chains import chain_bounds

MIN_STEP = 0.20
MIN_SHARE = 0.25


def alternating_share(nn_ms: NDArray[np.float64], segment: NDArray[np.int64]) -> float:
    """Share of NN triples (within chains) alternating short/long by more than ``MIN_STEP``.

    >>> nn = np.array([600.0, 1000.0] * 10)
    >>> alternating_share(nn, np.zeros(nn.size, np.int64))
    1.0
    """
    hits = total = 0
    for a, b in chain_bounds(segment):
        x = nn_ms[a:b]
        if x.size < 3:
            continue
        d = np.diff(x)
        big = np.abs(d) > MIN_STEP * (x[1:] + x[:-1]) / 2.0
        alternate = big[:-1] & big[1:] & (np.sign(d[:-1]) != np.sign(d[1:]))
        hits += int(np.count_nonzero(alternate))
        total += alternate.size
    return hits / total if total else 0.0


def hint(nn_ms: NDArray[np.float64], segment: NDArray[np.int64], correction: str) -> str | None:
    """One line naming ``--correction robust`` when the NN series still alternates, else None."""
    if correction == "robust":
        return None
    share = alternating_share(nn_ms, segment)
    if share <= MIN_SHARE:
        return None
    return (
        f"RR alternates short/long by more than {100 * MIN_STEP:.0f} % in {100 * share:.0f} % "
        "of the record "
        f"(as in bigeminy) and correction '{correction}' left it in, so RMSSD and HF measure the "
        "ectopy: try --correction robust"
    )
