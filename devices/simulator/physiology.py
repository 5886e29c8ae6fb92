"""The beat generator: integral pulse frequency modulation driven by an autonomic state.

The instantaneous beat rate (beats/s) on a fixed 8 Hz grid is

    f(t) = HR(t)/60 · (1 + [A_rsa(t)·sin φ_b(t) + A_m·sin(2π f_m t + φ_m)] / T(t) + noise)

and a beat fires each time ∫f dt crosses an integer (IPFM; Bayly 1968, IEEE Trans Biomed Eng
15:257; Mateo & Laguna 2000, IEEE Trans Biomed Eng 47(8):985-996). ``HR`` follows the session
baseline, the trigger responses (first-order onset), an Ornstein-Uhlenbeck VLF term, a slow
drift, and tingle bursts. ``A_rsa`` is solved so that the expected RMSSD equals exp(vagal tone):
RSA grows with vagal tone and with slower breathing, as it does in people (Hirsch & Bishop 1981,
doi:10.1152/ajpheart.1981.241.4.H620).
Everything is generated in fixed chunks from seeded streams, so the beats do not depend on how
the caller consumes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from devices.simulator.config import SimConfig
from devices.simulator.profile import TriggerResponse
from devices.simulator.recursion import one_pole

FS_HZ: Final = 8.0
CHUNK_S: Final = 600.0
TICKS_PER_S: Final = 1024
_CHUNK_N: Final = int(CHUNK_S * FS_HZ)
_DT_S: Final = 1.0 / FS_HZ
_BREATH_NOISE_TIME_S: Final = 30.0

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def stream_rng(seed: int, stream: int, block: int) -> np.random.Generator:
    """An independent random stream per (purpose, block): chunking never shifts the draws."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, block)))


STREAM_SESSION: Final = 0
STREAM_PHYSIOLOGY: Final = 1
STREAM_BEAT_ARTIFACTS: Final = 2
STREAM_EPISODES: Final = 3
STREAM_PACKETS: Final = 4
STREAM_NUISANCE: Final = 11
"""Day-level nuisances (drift, slow breathing, trigger variability) and the vagal-tone noise:
a stream of their own, so a profile without them draws exactly what it drew before."""


@dataclass(frozen=True, slots=True)
class BeatChunk:
    """True beats of one chunk, quantised to the strap's 1/1024 s clock."""

    ticks: I64
    vagal_tone: F64
    breathing_rate_hz: F64
    hr_bpm: F64
    segment_index: NDArray[np.int16]
    tingle_t_s: F64
    tingle_hr_bpm: F64


def _ar1(sigma: float, time_s: float, eps: F64, prev: float) -> F64:
    a = math.exp(-_DT_S / time_s)
    return one_pole(sigma * math.sqrt(1.0 - a * a), a, eps, prev)


def _sinc_gain(freq_hz: F64 | float, period_s: F64) -> F64:
    """Amplitude kept by IPFM averaging a rate oscillation over one beat."""
    x = np.pi * np.asarray(freq_hz) * period_s
    return np.asarray(np.sin(x) / x, dtype=np.float64)


class Physiology:
    """Generates true beats chunk after chunk; call :meth:`chunk` with 0, 1, 2, ..."""

    def __init__(self, config: SimConfig) -> None:
        self._config = config
        person = config.profile.person
        self._person = person
        rng = stream_rng(config.seed, STREAM_SESSION, 0)
        self.hr_rest_bpm = person.resting_hr_bpm + rng.normal(0.0, person.session_sd_hr_bpm)
        self.ln_rmssd_rest = person.ln_rmssd + rng.normal(0.0, person.session_sd_ln_rmssd)
        self.breathing_rest_hz = float(
            np.clip(
                person.breathing_rate_hz + rng.normal(0.0, person.session_sd_breathing_hz),
                0.06,
                0.6,
            )
        )
        self._mayer_hz = person.mayer_freq_hz * (1.0 + rng.uniform(-0.05, 0.05))
        self._mayer_phase = rng.uniform(0.0, 2 * np.pi)
        self._scales = {
            name: max(0.0, 1.0 + r.session_cv * rng.normal()) for name, r in config.profile.triggers
        }
        self._ou = np.array(
            [
                rng.normal(0.0, person.vlf_sd_bpm),
                rng.normal(0.0, person.drift_sd_bpm),
                rng.normal(0.0, person.breathing_cv),
            ]
        )
        self._breath_phase = rng.uniform(0.0, 2 * np.pi)
        self._beat_phase = rng.uniform(0.0, 1.0)
        self._tingles: list[tuple[float, float, TriggerResponse]] = []
        nrng = stream_rng(config.seed, STREAM_NUISANCE, 0)
        self._drift_per_s = nrng.normal(0.0, person.drift_sd_ln_rmssd_per_h) / 3600.0
        self._vagal_noise = nrng.normal(0.0, person.vagal_noise_sd_ln_rmssd)
        self._offsets = {
            name: nrng.normal(0.0, r.session_sd_ln_rmssd) for name, r in config.profile.triggers
        }
        habituation = {
            name: (1.0 - r.habituation_per_session) ** config.session_index
            for name, r in config.profile.triggers
        }
        self._scales = {name: v * habituation[name] for name, v in self._scales.items()}
        self._slow_breathing = nrng.random(len(config.segments)) < person.slow_breathing_share
        self._plan_segments()

    def _plan_segments(self) -> None:
        """Start value, target and time constant of the response states in every segment.

        The response has a fast part (onset ``onset_s``, recovery ``recovery_s``) and a slow
        part, ``carryover_share`` of it, that builds and decays with ``carryover_s``: what a
        block leaves behind in the washout and the next block.
        """
        p = self._person
        share = p.carryover_share
        starts, targets, taus, x0s, responses = [], [], [], [], []
        state = np.zeros(6)
        t = 0.0
        for seg in self._config.segments:
            response = self._config.profile.response(seg.label)
            if response is None:
                target, tau = np.zeros(6), np.array([p.recovery_s] * 3 + [p.carryover_s] * 3)
            else:
                full = self._scales[seg.label] * np.array(
                    [response.delta_hr_bpm, response.delta_ln_rmssd, response.delta_breathing_hz]
                )
                full[1] += self._offsets[seg.label]
                target = np.concatenate([(1.0 - share) * full, share * full])
                tau = np.array([response.onset_s] * 3 + [p.carryover_s] * 3)
            starts.append(t)
            targets.append(target)
            taus.append(tau)
            x0s.append(state)
            responses.append(response)
            state = target + (state - target) * np.exp(-seg.duration_s / tau)
            t += seg.duration_s
        starts.append(t)
        targets.append(np.zeros(6))
        taus.append(np.array([p.recovery_s] * 3 + [p.carryover_s] * 3))
        x0s.append(state)
        responses.append(None)
        self._seg_start = np.array(starts)
        self._seg_target = np.array(targets)
        self._seg_tau = np.array(taus)
        self._seg_x0 = np.array(x0s)
        self._seg_response = responses
        self._seg_slow_breathing = np.r_[self._slow_breathing, False]
        self._n_segments = len(self._config.segments)

    def segment_at(self, t_s: F64) -> NDArray[np.intp]:
        """Index of the segment holding each time; ``len(segments)`` past the timeline."""
        return np.maximum(np.searchsorted(self._seg_start, t_s, side="right") - 1, 0)

    def _label_index(self, t_s: F64) -> NDArray[np.int16]:
        seg = self.segment_at(t_s)
        return np.where(seg < self._n_segments, seg, -1).astype(np.int16)

    def _response(self, t_s: F64, seg: NDArray[np.intp]) -> F64:
        elapsed = (t_s - self._seg_start[seg])[:, None]
        decay = np.exp(-elapsed / self._seg_tau[seg])
        target = self._seg_target[seg]
        both = target + (self._seg_x0[seg] - target) * decay
        out: F64 = both[:, :3] + both[:, 3:]
        return out

    def _new_tingles(self, t0: float, t1: float, rng: np.random.Generator) -> None:
        for i, response in enumerate(self._seg_response):
            if response is None or response.tingles_per_min <= 0 or i >= self._n_segments:
                continue
            lo = max(t0, self._seg_start[i])
            hi = min(t1, self._seg_start[i + 1])
            if hi <= lo:
                continue
            n = rng.poisson(response.tingles_per_min / 60.0 * (hi - lo))
            for t in np.sort(rng.uniform(lo, hi, n)):
                size = response.tingle_hr_bpm * rng.uniform(0.6, 1.4)
                self._tingles.append((float(t), float(size), response))

    def _tingle_bpm(self, t_s: F64) -> F64:
        out = np.zeros_like(t_s)
        for t_k, size, r in self._tingles:
            lag = t_s - t_k
            on = lag > 0
            if not on.any():
                continue
            t_peak = math.log(r.tingle_decay_s / r.tingle_rise_s) / (
                1 / r.tingle_rise_s - 1 / r.tingle_decay_s
            )
            norm = math.exp(-t_peak / r.tingle_decay_s) - math.exp(-t_peak / r.tingle_rise_s)
            lg = lag[on]
            out[on] += (
                size * (np.exp(-lg / r.tingle_decay_s) - np.exp(-lg / r.tingle_rise_s)) / norm
            )
        return out

    def _vagal_nuisance(self, t_s: F64, k: int) -> F64:
        """Settling, the session's linear trend and slow noise of vagal tone (ln ms)."""
        p = self._person
        out: F64 = self._drift_per_s * t_s - p.settle_ln_rmssd * np.exp(-t_s / p.settle_s)
        if p.vagal_noise_sd_ln_rmssd > 0:
            eps = stream_rng(self._config.seed, STREAM_NUISANCE, k + 1).standard_normal(t_s.size)
            noise = _ar1(p.vagal_noise_sd_ln_rmssd, p.vagal_noise_time_s, eps, self._vagal_noise)
            self._vagal_noise = float(noise[-1])
            out = out + noise
        return out

    def chunk(self, k: int) -> BeatChunk:
        """The true beats whose IPFM crossing falls in chunk ``k`` (``[k, k+1) · CHUNK_S``)."""
        p = self._person
        rng = stream_rng(self._config.seed, STREAM_PHYSIOLOGY, k)
        t0 = k * CHUNK_S
        t: F64 = t0 + _DT_S * np.arange(1, _CHUNK_N + 1, dtype=np.float64)
        eps = rng.standard_normal((4, _CHUNK_N))
        vlf = _ar1(p.vlf_sd_bpm, p.vlf_time_s, eps[0], self._ou[0])
        drift = _ar1(p.drift_sd_bpm, p.drift_time_s, eps[1], self._ou[1])
        bnoise = _ar1(p.breathing_cv, _BREATH_NOISE_TIME_S, eps[2], self._ou[2])
        self._ou = np.array([vlf[-1], drift[-1], bnoise[-1]])
        self._tingles = [x for x in self._tingles if x[0] > t0 - 20 * x[2].tingle_decay_s]
        n_old = len(self._tingles)
        self._new_tingles(t0, t0 + CHUNK_S, rng)
        new_tingles = self._tingles[n_old:]
        seg = self.segment_at(t)
        resp = self._response(t, seg)
        hr = np.maximum(self.hr_rest_bpm + resp[:, 0] + vlf + drift + self._tingle_bpm(t), 30.0)
        slow = self._seg_slow_breathing[seg]
        vagal = (
            self.ln_rmssd_rest
            + resp[:, 1]
            + self._vagal_nuisance(t, k)
            + np.where(slow, p.slow_breathing_ln_rmssd, 0.0)
        )
        rest_hz = np.where(slow, p.slow_breathing_hz, self.breathing_rest_hz + resp[:, 2])
        breath = np.clip(rest_hz * (1.0 + bnoise), 0.05, 0.8)
        period_s = 60.0 / hr
        period_ms = 1000.0 * period_s
        # Solve the RSA amplitude so that the expected RMSSD (RSA, Mayer and noise parts added in
        # quadrature; a sampled sinusoid of amplitude A has successive differences of RMS
        # sqrt(2)·A·sin(pi·f·T)) equals exp(vagal tone).
        mayer_gain = _sinc_gain(self._mayer_hz, period_s)
        mayer_ms = p.mayer_amplitude_ms / mayer_gain
        mayer_d = math.sqrt(2) * p.mayer_amplitude_ms * np.sin(np.pi * self._mayer_hz * period_s)
        rmssd = np.exp(vagal)
        rsa_d2 = np.maximum(rmssd**2 - mayer_d**2 - 2 * p.beat_noise_ms**2, (0.2 * rmssd) ** 2)
        rsa_ms = np.sqrt(rsa_d2) / (math.sqrt(2) * np.sin(np.pi * breath * period_s))
        rsa_ms = np.minimum(rsa_ms / _sinc_gain(breath, period_s), 0.3 * period_ms)
        breath_phase = self._breath_phase + 2 * np.pi * np.cumsum(breath) * _DT_S
        self._breath_phase = float(breath_phase[-1] % (2 * np.pi))
        mayer = mayer_ms * np.sin(2 * np.pi * self._mayer_hz * t + self._mayer_phase)
        noise = (p.beat_noise_ms / period_ms) * np.sqrt(period_s * FS_HZ) * eps[3]
        rate = (hr / 60.0) * np.maximum(
            1.0 + (rsa_ms * np.sin(breath_phase) + mayer) / period_ms + noise, 0.2
        )
        integral = np.empty(_CHUNK_N + 1)
        integral[0] = self._beat_phase
        np.cumsum(rate * _DT_S, out=integral[1:])
        integral[1:] += self._beat_phase
        n_beats = math.floor(integral[-1])
        crossings = np.arange(1, n_beats + 1, dtype=np.float64)
        j = np.searchsorted(integral, crossings, side="left")
        t_grid = t0 + _DT_S * np.arange(_CHUNK_N + 1)
        frac = (crossings - integral[j - 1]) / (integral[j] - integral[j - 1])
        t_beat: F64 = t_grid[j - 1] + frac * _DT_S
        self._beat_phase = float(integral[-1] - n_beats)
        ticks = np.rint(t_beat * TICKS_PER_S).astype(np.int64)
        return BeatChunk(
            ticks=ticks,
            vagal_tone=np.interp(t_beat, t, vagal),
            breathing_rate_hz=np.interp(t_beat, t, breath),
            hr_bpm=np.interp(t_beat, t, hr),
            segment_index=self._label_index(t_beat),
            tingle_t_s=np.array([x[0] for x in new_tingles]),
            tingle_hr_bpm=np.array([x[1] for x in new_tingles]),
        )
