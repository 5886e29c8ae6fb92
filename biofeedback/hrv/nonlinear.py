"""Nonlinear HRV indices in one call: sample entropy, approximate entropy, DFA α1 and α2.

The maths lives in :mod:`biofeedback.hrv.entropy` (Richman & Moorman 2000,
doi:10.1152/ajpheart.2000.278.6.H2039; Pincus 1991, doi:10.1073/pnas.88.6.2297) and
:mod:`biofeedback.hrv.dfa` (Peng et al. 1995, doi:10.1063/1.166141). A whole day of beats takes
about a second and a few tens of MB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from biofeedback.hrv.dfa import ALPHA1_SCALES_BEATS, ALPHA2_SCALES_BEATS, dfa_alpha
from biofeedback.hrv.entropy import sample_and_approximate_entropy, tolerance_ms


@dataclass(frozen=True, slots=True)
class NonlinearSettings:
    """How the nonlinear indices are computed.

    ``r = r_factor × SD(RR)``, SD with ``r_ddof`` (1: sample SD, as NeuroKit2's
    ``tolerance="sd"``; 0: population SD, as some other tools). DFA scales are inclusive
    ranges in beats; ``dfa_overlap=True`` uses NeuroKit2's half-overlapping windows.
    """

    m: int = 2
    r_factor: float = 0.2
    r_ddof: int = 1
    alpha1_scales_beats: tuple[int, int] = ALPHA1_SCALES_BEATS
    alpha2_scales_beats: tuple[int, int] = ALPHA2_SCALES_BEATS
    dfa_overlap: bool = False

    def __post_init__(self) -> None:
        if self.m < 1:
            raise ValueError(f"m must be >= 1, got {self.m}")
        if not (math.isfinite(self.r_factor) and self.r_factor > 0):
            raise ValueError(f"r_factor must be finite and > 0, got {self.r_factor}")
        if self.r_ddof not in (0, 1):
            raise ValueError(f"r_ddof must be 0 or 1, got {self.r_ddof}")
        for name in ("alpha1_scales_beats", "alpha2_scales_beats"):
            lo, hi = getattr(self, name)
            if not 2 <= lo < hi:
                raise ValueError(f"{name} must satisfy 2 <= min < max, got {(lo, hi)}")


@dataclass(frozen=True, slots=True)
class NonlinearResult:
    """Nonlinear indices of one RR series; ``nan`` where the series is too short.

    ``sampen`` is ``inf`` when no template of length m + 1 matches (too short or too regular).
    """

    n_beats: int
    m: int
    r_ms: float
    sampen: float
    apen: float
    dfa_alpha1: float
    dfa_alpha2: float

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready keys: ``n_beats``, ``entropy_m``, ``entropy_r_ms``, ``sampen``, ``apen``,
        ``dfa_alpha1``, ``dfa_alpha2``; a value that is not finite becomes ``None``.

        >>> res = NonlinearResult(3, 2, 5.0, math.inf, 0.1, math.nan, math.nan)
        >>> res.to_dict()["sampen"] is None
        True
        """
        values: dict[str, float | int] = {
            "n_beats": self.n_beats,
            "entropy_m": self.m,
            "entropy_r_ms": self.r_ms,
            "sampen": self.sampen,
            "apen": self.apen,
            "dfa_alpha1": self.dfa_alpha1,
            "dfa_alpha2": self.dfa_alpha2,
        }
        return {k: v if math.isfinite(v) else None for k, v in values.items()}


def nonlinear_metrics(
    rr_ms: ArrayLike, settings: NonlinearSettings | None = None
) -> NonlinearResult:
    """Sample and approximate entropy and DFA α1/α2 of an NN series in ms.

    Entropies need ``m + 2`` beats, each DFA exponent more beats than its largest scale.

    >>> rr = 800 + 40 * np.sin(np.arange(300) / 2.0)
    >>> res = nonlinear_metrics(rr)
    >>> (res.n_beats, round(res.sampen, 3), round(res.dfa_alpha1, 2))
    (300, 0.234, 1.5)
    """
    s = NonlinearSettings() if settings is None else settings
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {rr.shape}")
    n = rr.size
    nan = math.nan
    r_ms = tolerance_ms(rr, s.r_factor, s.r_ddof) if n > s.r_ddof else nan
    sampen, apen = sample_and_approximate_entropy(rr, s.m, r_ms) if n >= s.m + 2 else (nan, nan)
    alpha1 = (
        dfa_alpha(rr, s.alpha1_scales_beats, s.dfa_overlap) if n > s.alpha1_scales_beats[1] else nan
    )
    alpha2 = (
        dfa_alpha(rr, s.alpha2_scales_beats, s.dfa_overlap) if n > s.alpha2_scales_beats[1] else nan
    )
    return NonlinearResult(n, s.m, r_ms, sampen, apen, alpha1, alpha2)
