"""The live values recomputed at most once per second of beat time: spectrum and DFA α1.

Both read the current continuity chain only (the processor empties its ring at a gap).

- Spectrum: a cubic spline of the last ``spectral_window_s`` onto the ``resample_hz`` grid, Welch
  PSD, band powers, respiration (about 0.2-0.3 ms).
- DFA α1 (Peng et al. 1995, doi:10.1063/1.166141) over the NN beats of the last
  ``dfa_window_s`` (2 min), with the scales of ``settings.nonlinear``; the 2-minute window is
  that of DFA α1 tracking during exercise (Rogers et al. 2021,
  doi:10.3389/fphys.2020.596567). ``dfa_alpha`` loops over scales (about 0.25 ms on 2 minutes),
  so :class:`BlockDfa` gets every block sum of every scale from two matrix-vector products
  (about 0.05 ms), the same numbers up to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.dfa import detrended_rss, scaling_exponent
from biofeedback.hrv.estimates import Value, window_reason
from biofeedback.hrv.floors import NO_HF_POWER, is_constant
from biofeedback.hrv.frequency import cubic_spline_at, result_from_spectrum, welch_columns
from biofeedback.hrv.processor_windows import BeatRing
from biofeedback.hrv.respiration import AMBIGUOUS_PREFIX, respiration_from_spectrum
from biofeedback.hrv.settings import HrvSettings

FloatArray = NDArray[np.float64]


class BlockDfa:
    """DFA exponent of short series (``dfa_alpha`` conventions: blocks from the first beat).

    Rows of ``ones`` and ``ramp`` (a centred ramp) select each block of each scale, sorted by
    the block's end so a series of ``n`` beats uses a prefix of rows. With ``y`` the profile,
    a block's residual sum of squares is ``Σy² − (Σy)²/n − (Σty)²/Σt²``; the profile is
    centred on its mean first, which keeps the cancellation to a few digits.
    """

    def __init__(self, scales_beats: tuple[int, int], overlap: bool, capacity: int = 256) -> None:
        self.scales_beats = scales_beats
        self.overlap = overlap
        self._build(capacity)

    def _build(self, capacity: int) -> None:
        blocks = [
            (start + n, n, start)
            for n in range(self.scales_beats[0], self.scales_beats[1] + 1)
            for start in range(0, capacity - n + 1, n // 2 if self.overlap else n)
        ]
        blocks.sort()
        self.capacity = capacity
        self._end = np.array([b[0] for b in blocks])
        self._size = np.array([float(b[1]) for b in blocks])
        self._scale_index = np.array([b[1] - self.scales_beats[0] for b in blocks])
        self._ones = np.zeros((len(blocks), capacity))
        self._ramp = np.zeros((len(blocks), capacity))
        self._norm = np.empty(len(blocks))
        for row, (end, n, start) in enumerate(blocks):
            t = np.arange(n) - (n - 1) / 2
            self._ones[row, start:end] = 1.0
            self._ramp[row, start:end] = t
            self._norm[row] = t @ t
        self._n_scales = self.scales_beats[1] - self.scales_beats[0] + 1

    def alpha(self, rr_ms: FloatArray) -> float:
        """DFA exponent of ``rr_ms`` (ms); ``nan`` if too short or some ``F(n)`` is 0."""
        n_beats = rr_ms.size
        if n_beats <= self.scales_beats[1]:
            return float("nan")
        if n_beats > self.capacity:
            self._build(2 * n_beats)
        profile = np.cumsum(rr_ms - rr_ms.mean())
        y = profile - profile.mean()
        # overlapping blocks stop one beat short of the end, as in dfa_alpha
        rows = int(np.searchsorted(self._end, n_beats - self.overlap, side="right"))
        ones, ramp = self._ones[:rows, :n_beats], self._ramp[:rows, :n_beats]
        sums, trends, squares = ones @ y, ramp @ y, ones @ (y * y)
        n = self._size[:rows]
        rss = detrended_rss(sums, trends, squares, n, self._norm[:rows])
        index = self._scale_index[:rows]
        total = np.bincount(index, np.maximum(rss, 0.0), minlength=self._n_scales)
        count = np.bincount(index, n, minlength=self._n_scales)
        if np.any(total <= 0):
            return float("nan")
        return float(scaling_exponent(0.5 * np.log(total / count), self.scales_beats))


@dataclass(frozen=True, slots=True)
class SpectralValues:
    """Spectral values of one recomputation, carried until the next."""

    hf_ms2: Value
    lf_ms2: Value
    lf_hf: Value
    vagal_power_ms2: Value
    respiration_rate_per_min: Value
    respiration_valid: bool
    flags: tuple[str, ...]

    @classmethod
    def absent(
        cls, reason: str, settings: HrvSettings, n: int = 0, share: float = 0.0
    ) -> SpectralValues:
        value = Value.absent(reason, settings.spectral_window_s, n, share)
        return cls(value, value, value, value, value, False, ())


def spectral_values(
    ring: BeatRing, now_s: float, share: float, settings: HrvSettings
) -> SpectralValues:
    """Spectral values of the ring's last ``spectral_window_s`` ending at ``now_s``."""
    s = settings
    window_s = s.spectral_window_s
    start_s = now_s - window_s
    t = ring.t_s[ring.start : ring.stop]
    nn = ring.nn_ms[ring.start : ring.stop]
    n = int(t.size - np.searchsorted(t, start_s, side="right"))
    if t.size < 4 or t[0] > start_s:
        have_s = now_s - t[0] if t.size else 0.0
        short = f"need {window_s:.0f} s of continuous beats, have {have_s:.0f} s"
        return SpectralValues.absent(short, s, n, share)
    reason = window_reason(n, window_s, window_s, share, s)
    if reason is not None:
        return SpectralValues.absent(reason, s, n, share)
    grid = start_s + np.arange(int(window_s * s.resample_hz)) / s.resample_hz
    spectrum = welch_columns(cubic_spline_at(t, nn, grid), s)
    freq = result_from_spectrum(spectrum, window_s, s)
    resp = respiration_from_spectrum(spectrum, s)

    def value(v: float) -> Value:
        return Value(v, None, None, window_s, n, share)

    ambiguous = [f for f in resp.flags if f.startswith(AMBIGUOUS_PREFIX)]
    rate = (
        value(resp.rate_per_min)
        if resp.valid
        else Value.absent(
            ambiguous[0] if ambiguous else "no clear respiratory peak", window_s, n, share
        )
    )
    return SpectralValues(
        value(freq.hf_ms2),
        value(freq.lf_ms2),
        value(freq.lf_hf)
        if freq.lf_hf == freq.lf_hf
        else Value.absent(NO_HF_POWER, window_s, n, share),
        value(resp.vagal_power_ms2) if resp.valid else rate,
        rate,
        resp.valid,
        resp.flags,
    )


def dfa_alpha1_value(
    ring: BeatRing, now_s: float, share: float, settings: HrvSettings, dfa: BlockDfa
) -> Value:
    """DFA α1 of the ring's NN beats in ``(now_s - dfa_window_s, now_s]``, or why not."""
    window_s = settings.dfa_window_s
    t = ring.t_s[ring.start : ring.stop]
    first = int(np.searchsorted(t, now_s - window_s, side="right"))
    nn = ring.nn_ms[ring.start + first : ring.stop]
    n = int(nn.size)
    if n < settings.dfa_min_beats:
        return Value.absent(f"too few beats: {n} < {settings.dfa_min_beats}", window_s, n, share)
    reason = window_reason(n, float(nn.sum()) / 1000.0, window_s, share, settings)
    if reason is not None:
        return Value.absent(reason, window_s, n, share)
    alpha = dfa.alpha(nn) if not is_constant(nn) else float("nan")
    if alpha != alpha:
        return Value.absent("constant RR: no fluctuation", window_s, n, share)
    return Value(alpha, None, None, window_s, n, share)
