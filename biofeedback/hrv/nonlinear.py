"""Nonlinear HRV indices in one call: sample entropy, approximate entropy, DFA α1 and α2.

The maths lives in :mod:`biofeedback.hrv.entropy` (Richman & Moorman 2000,
doi:10.1152/ajpheart.2000.278.6.H2039; Pincus 1991, doi:10.1073/pnas.88.6.2297) and
:mod:`biofeedback.hrv.dfa` (Peng et al. 1995, doi:10.1063/1.166141). A whole day of beats takes
about a second and a few tens of MB.

Records with continuity gaps (:func:`nonlinear_metrics_chains`) are combined exactly rather than
reduced to their longest chain: an entropy template or a DFA window never spans a gap, but every
template is compared with every other one of the record, and DFA's ``F(n)`` pools the windows of
all chains. With a single chain both are the plain definitions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.chains import chain_bounds
from biofeedback.hrv.dfa import (
    ALPHA1_SCALES_BEATS,
    ALPHA2_SCALES_BEATS,
    dfa_alpha,
    dfa_fluctuations_ms,
    scaling_exponent,
)
from biofeedback.hrv.entropy import (
    sample_and_approximate_entropy,
    template_match_counts,
    tolerance_ms,
)
from biofeedback.hrv.floors import is_constant

FloatArray = NDArray[np.float64]


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
    A constant series (all RR equal) has ``r_ms`` 0 and no entropy or DFA exponent (``nan``):
    with a tolerance of 0 every template matches and the "entropy" would be an artefact.
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
    entropy = n >= s.m + 2 and not is_constant(rr)
    sampen, apen = sample_and_approximate_entropy(rr, s.m, r_ms) if entropy else (nan, nan)
    alpha1 = (
        dfa_alpha(rr, s.alpha1_scales_beats, s.dfa_overlap) if n > s.alpha1_scales_beats[1] else nan
    )
    alpha2 = (
        dfa_alpha(rr, s.alpha2_scales_beats, s.dfa_overlap) if n > s.alpha2_scales_beats[1] else nan
    )
    return NonlinearResult(n, s.m, r_ms, sampen, apen, alpha1, alpha2)


def _chains(rr_ms: ArrayLike, segment: ArrayLike | None) -> tuple[FloatArray, list[FloatArray]]:
    rr = np.asarray(rr_ms, dtype=np.float64)
    seg = np.zeros(rr.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    if rr.ndim != 1 or rr.shape != seg.shape:
        raise ValueError("rr_ms and segment must be one-dimensional and of equal length")
    if not np.all(np.isfinite(rr)):
        raise ValueError("rr_ms must be finite")
    return rr, [rr[a:b] for a, b in chain_bounds(seg)]


def _valid_counts(pieces: list[FloatArray], length: int, r_ms: float) -> NDArray[np.int64]:
    """Match counts of the templates lying inside one piece, compared across all pieces.

    The pieces are joined by a separator farther than ``r_ms`` from every value: a template
    holding it can match no template without it, so the others' counts are exactly those of
    the gap-respecting definition.
    """
    pieces = [p for p in pieces if p.size]
    if not pieces:
        return np.zeros(0, np.int64)
    sep = max(float(p.max()) for p in pieces) + 2.0 * r_ms + 1.0
    joined = np.concatenate([np.r_[p, sep] for p in pieces])[:-1]
    if joined.size < length:
        return np.zeros(0, np.int64)
    inside = ~sliding_window_view(joined == sep, length).any(axis=1)
    return template_match_counts(joined, length, r_ms)[inside]


def _entropies(chains: list[FloatArray], m: int, r_ms: float) -> tuple[float, float]:
    # SampEn compares the first n - m templates of length m of each chain (those that have an
    # (m + 1)-th point), i.e. the m-templates of the chain without its last beat.
    counts_b = _valid_counts([c[:-1] for c in chains], m, r_ms)
    counts_m = _valid_counts(chains, m, r_ms)
    counts_a = _valid_counts(chains, m + 1, r_ms)
    if counts_a.size == 0:
        return math.nan, math.nan
    pairs_b = int(counts_b.sum()) - counts_b.size
    pairs_a = int(counts_a.sum()) - counts_a.size
    if pairs_b == 0:
        sampen = math.nan
    elif pairs_a == 0:
        sampen = math.inf
    else:
        sampen = math.log(pairs_b) - math.log(pairs_a)
    phi_m = float(np.mean(np.log(counts_m / counts_m.size)))
    phi_m1 = float(np.mean(np.log(counts_a / counts_a.size)))
    return sampen, phi_m - phi_m1


def _windows(n_beats: int, scale: int, overlap: bool) -> int:
    return len(range(0, n_beats - scale, scale // 2)) if overlap else n_beats // scale


def _pooled_alpha(chains: list[FloatArray], scales: tuple[int, int], overlap: bool) -> float:
    """DFA exponent with ``F(n)²`` the mean squared residual over the windows of all chains
    longer than the largest scale (each chain's windows start at its first beat)."""
    usable = [c for c in chains if c.size > scales[1]]
    if len(usable) <= 1:
        return dfa_alpha(usable[0], scales, overlap) if usable else math.nan
    sizes = np.arange(scales[0], scales[1] + 1)
    weights = np.array([[_windows(c.size, int(n), overlap) for n in sizes] for c in usable])
    squares = np.array([dfa_fluctuations_ms(c, scales, overlap) ** 2 for c in usable])
    fluct = np.sqrt((weights * squares).sum(axis=0) / weights.sum(axis=0))
    if np.any(fluct <= 0):
        return math.nan
    return float(scaling_exponent(np.log(fluct), scales))


def nonlinear_metrics_chains(
    rr_ms: ArrayLike, segment: ArrayLike | None = None, settings: NonlinearSettings | None = None
) -> NonlinearResult:
    """:func:`nonlinear_metrics` of an NN series (ms) cut into continuity chains.

    ``segment`` holds one id per beat; a change of id is a gap. ``r`` is ``r_factor`` times the
    SD of all beats. Entropy templates never span a gap and are matched across chains; DFA pools
    the windows of every chain longer than the largest scale. One chain gives exactly
    :func:`nonlinear_metrics`.

    >>> rr = 800 + 40 * np.sin(np.arange(300) / 2.0)
    >>> nonlinear_metrics_chains(rr) == nonlinear_metrics(rr)
    True
    """
    s = NonlinearSettings() if settings is None else settings
    rr, chains = _chains(rr_ms, segment)
    n = rr.size
    nan = math.nan
    r_ms = tolerance_ms(rr, s.r_factor, s.r_ddof) if n > s.r_ddof else nan
    entropy = n >= s.m + 2 and not is_constant(rr)
    sampen, apen = _entropies(chains, s.m, r_ms) if entropy else (nan, nan)
    alpha1 = _pooled_alpha(chains, s.alpha1_scales_beats, s.dfa_overlap)
    alpha2 = _pooled_alpha(chains, s.alpha2_scales_beats, s.dfa_overlap)
    return NonlinearResult(n, s.m, r_ms, sampen, apen, alpha1, alpha2)
