"""RR sessions from an independent physiology model, with a known true lnRMSSD at every beat.

The model is the RR process of ECGSYN, written here from its published description (McSharry,
Clifford, Tarassenko & Smith 2003, "A dynamical model for generating synthetic
electrocardiogram signals", IEEE Trans Biomed Eng 50(3):289-294, doi:10.1109/TBME.2003.808805,
section II), not from its code, plus the slow nuisances the paper leaves out:

- **Spectrum.** The tachogram has a bimodal power spectrum, the sum of two Gaussians: a
  Mayer-wave (LF) peak at ``f1`` = 0.1 Hz and a respiratory sinus arrhythmia (HF) peak at the
  breathing frequency ``f2``, each of SD ``c`` = 0.01 Hz (the paper's values), with power ratio
  LF/HF = ``lf_hf_ratio``.
- **Random phases.** The series is the inverse Fourier transform of amplitudes ``√S(f_k)`` on the
  frequency grid ``f_k = k / L`` (``L`` = 1024 s here) with phases drawn uniformly on
  [0, 2π); it is scaled to the wanted amplitude and offset by the mean RR (the paper scales it to
  a set mean and SD; here the amplitudes are set so that the baseline's *expected RMSSD* is the
  drawn one). The Fourier sum is evaluated directly at the beat times (the ideal band-limited
  interpolation of the paper's 1-Hz tachogram).
- **Beats.** As in ECGSYN, each interval is the tachogram's value where the beat starts:
  ``t[n+1] = t[n] + RR(t[n])`` (not an integral pulse frequency model, which is what the
  project's simulator uses).

What is not ECGSYN (the nuisances a session has): the HF part is a fresh realisation in every
segment with its own amplitude (and breathing frequency), cross-faded over ``ramp_s`` at the
segment's start with weights cos/sin (variance-preserving); a linear drift of the mean RR
(ms/min); an Ornstein-Uhlenbeck term of the mean RR (SD ``ou_sd_ms``, time constant
``ou_tau_s``, simulated exactly at the beat times); white beat noise (Gaussian, or Student t with
``noise_df`` degrees of freedom scaled to the same SD); the strap's 1/1024-s quantisation of RR.
No artifacts.

**Truth (analytic, not Monte Carlo).** For a sum of cosines ``x(t) = Σ A_k cos(2π f_k t + φ_k)``
with random phases, ``E[(x(t + T) − x(t))²] = Σ A_k² (1 − cos 2π f_k T)`` exactly. Each beat's
expected squared successive difference is therefore, with ``T`` its local mean RR (trend + OU,
in s) and ``D(T)`` that sum for a unit-variance component,

    E[d²] = a_LF² D_LF(T) + Σ_seg w_seg(t)² a_seg² D_seg(T) + 2 σ_OU² (1 − e^(−T/τ))
            + 2 σ_w² + 2 q²/12 + (slope · T)²

and the true lnRMSSD at that beat is ``½ ln E[d²]`` (the project simulator's estimand too: its
``vagal_tone`` is ln of the expected RMSSD). What this neglects is the random length of the step
``T`` (RR's SD around its local mean, second order); :func:`monte_carlo_check` measures it on
simulated sessions (the mean of ``d²`` over many sessions against the mean of ``E[d²]``): over
800 sessions the analytic level is 0.008-0.013 ln ms above the observed one in both baseline and
blocks, and the true Δ is off by +0.003 ± 0.005 ln ms (``bench/bench_estimate_independent.py``;
the test checks it at a small size). The block truth the bench compares with is, as in
``tests/block_estimate_support.py``, the mean of the per-beat truth over the block's analysed
batches minus that over the baseline's.

A block's nominal effect ``Δ`` sets its HF amplitude so that its ``E[d²]`` at the baseline's
mean RR is ``e^(2Δ)`` times the baseline's: the true change is ``Δ`` exactly when nothing else
moves (no drift, no OU, same breathing), and whatever the drift and the OU add otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.settings import HrvSettings
from tests.block_estimate_support import BASELINE_S, BLOCK_S, SETTLING_S, WASHOUT_S, BlockTrace
from tests.block_estimate_support import _measure as measure_blocks

F64 = NDArray[np.float64]

GRID_S: Final = 1024.0
"""Length of the random-phase realisation (s): frequency grid 1/1024 Hz."""
PEAK_SD_HZ: Final = 0.01
"""Width (SD) of both spectral peaks (McSharry et al. 2003: c1 = c2 = 0.01 Hz)."""
LF_HZ: Final = 0.1
Q_MS: Final = 1000.0 / 1024.0
"""The strap's RR resolution."""


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """One session's physiology. Segments: settling 60 s, baseline 180 s, then blocks of 180 s
    with washouts of 60 s between them; ``deltas`` is each block's nominal Δ lnRMSSD."""

    hr_bpm: float = 65.0
    breathing_per_min: float = 15.0
    block_breathing_per_min: float | None = None
    """Breathing in the blocks (``None``: as in the baseline); washouts breathe as the baseline."""
    lf_hf_ratio: float = 1.0
    ln_rmssd: float = 3.6
    """The baseline's true lnRMSSD (ln ms) at its starting mean RR."""
    deltas: tuple[float, ...] = (0.0, 0.0)
    drift_ms_per_min: float = 0.0
    ou_sd_ms: float = 0.0
    ou_tau_s: float = 60.0
    noise_sd_ms: float = 2.0
    noise_df: float | None = None
    """Student t beat noise with these degrees of freedom (``None``: Gaussian)."""
    ramp_s: float = 15.0
    peak_sd_hz: float = PEAK_SD_HZ
    """SD of both spectral peaks (the paper's 0.01 Hz; smaller: a more regular oscillation)."""


@dataclass(frozen=True, slots=True)
class Segments:
    bounds: tuple[tuple[float, float, str, str], ...]
    """``(start_s, end_s, kind, label)``, as ``tests/block_estimate_support`` lays them out."""

    @property
    def end_s(self) -> float:
        return self.bounds[-1][1]


def layout(n_blocks: int) -> Segments:
    bounds = [("settling", SETTLING_S), ("baseline", BASELINE_S)]
    for i in range(n_blocks):
        if i:
            bounds.append(("washout", WASHOUT_S))
        bounds.append(("x", BLOCK_S))
    out, t = [], 0.0
    for label, dur in bounds:
        kind = label if label in ("settling", "baseline", "washout") else "trigger"
        out.append((t, t + dur, kind, label))
        t += dur
    return Segments(tuple(out))


@dataclass(slots=True)
class _Component:
    """A unit-variance random-phase Gaussian-peak process: ``Σ A_k cos(2π f_k t + φ_k)``."""

    f_hz: F64
    amp: F64
    phase: F64
    omega: F64 = field(init=False)

    def __post_init__(self) -> None:
        self.omega = 2.0 * np.pi * self.f_hz

    def value(self, t_s: float) -> float:
        return float(np.dot(self.amp, np.cos(self.omega * t_s + self.phase)))

    def d2(self, period_s: F64) -> F64:
        """``E[(x(t + T) − x(t))²]`` for each ``T`` (s)."""
        out: F64 = (self.amp**2) @ (1.0 - np.cos(np.outer(self.omega, period_s)))
        return out


def component(
    center_hz: float,
    rng: np.random.Generator,
    sd_hz: float = PEAK_SD_HZ,
    grid_s: float = GRID_S,
) -> _Component:
    """One peak of the bimodal spectrum with random phases, scaled to unit variance; ``grid_s``:
    the realisation's length (its frequency grid ``k / grid_s``; it repeats after ``grid_s``)."""
    k = np.arange(1, int(0.6 * grid_s))
    f = k / grid_s
    s = np.exp(-0.5 * ((f - center_hz) / sd_hz) ** 2)
    keep = s > 1e-8
    f, s = f[keep], s[keep]
    amp = np.sqrt(s)
    amp *= math.sqrt(2.0 / float(np.sum(amp**2)))  # variance Σ A²/2 = 1
    return _Component(f, amp, rng.uniform(0.0, 2.0 * np.pi, f.size))


@dataclass(frozen=True, slots=True)
class IndependentTruth:
    """The fields of :class:`devices.simulator.truth.GroundTruth` that the block measurement of
    ``tests/block_estimate_support.py`` reads (every beat delivered, no artifacts)."""

    t_s: F64
    rr_true_ms: F64
    vagal_tone: F64
    """True lnRMSSD (ln ms) at each beat (module docstring)."""
    breathing_rate_hz: F64
    mean_rr_ms: F64
    expected_d2_ms2: F64

    @property
    def delivered(self) -> NDArray[np.bool_]:
        return np.ones(self.t_s.size, dtype=bool)

    @property
    def sent_t_s(self) -> F64:
        return self.t_s

    @property
    def rr_sent_ms(self) -> F64:
        return self.rr_true_ms


def generate(spec: SessionSpec, seed: int) -> tuple[IndependentTruth, Segments]:
    """One session's beats (time of each beat = end of its interval) and per-beat truth."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x1DE,)))
    segs = layout(len(spec.deltas))
    mean0_s = 60.0 / spec.hr_bpm
    slope_s_per_s = spec.drift_ms_per_min / 60.0 / 1000.0

    # Per-segment HF state: settling and baseline share one; washouts are the baseline's state.
    f_base = spec.breathing_per_min / 60.0
    f_block = (spec.block_breathing_per_min or spec.breathing_per_min) / 60.0
    lf = component(LF_HZ, rng, spec.peak_sd_hz)
    states: list[tuple[float, float, _Component, float]] = []  # start, amplitude, process, f
    lf_d2_0 = float(lf.d2(np.array([mean0_s]))[0])
    base_comp = component(f_base, rng, spec.peak_sd_hz)
    hf_d2_0 = float(base_comp.d2(np.array([mean0_s]))[0])
    fixed_d2 = (
        2 * spec.ou_sd_ms**2 * (1 - math.exp(-mean0_s / spec.ou_tau_s))
        + 2 * spec.noise_sd_ms**2
        + 2 * Q_MS**2 / 12
        + (slope_s_per_s * 1000.0 * mean0_s) ** 2
    )
    target = math.exp(2 * spec.ln_rmssd)
    a_hf2 = (target - fixed_d2) / (spec.lf_hf_ratio * lf_d2_0 + hf_d2_0)
    if a_hf2 <= 0:
        raise ValueError("noise alone exceeds the baseline's RMSSD")
    a_lf = math.sqrt(spec.lf_hf_ratio * a_hf2)
    a_base = math.sqrt(a_hf2)
    block_i = 0
    for start, _, kind, _ in segs.bounds:
        if kind == "settling":
            states.append((start, a_base, base_comp, f_base))
        elif kind == "baseline":
            continue  # the settling's state goes on
        elif kind == "washout":
            states.append((start, a_base, component(f_base, rng, spec.peak_sd_hz), f_base))
        else:
            delta = spec.deltas[block_i]
            block_i += 1
            comp = component(f_block, rng, spec.peak_sd_hz)
            d2_block = float(comp.d2(np.array([mean0_s]))[0])
            # E[d²] of the block at the baseline's mean RR = e^(2Δ) × the baseline's
            need = target * math.exp(2 * delta) - fixed_d2 - a_lf**2 * lf_d2_0
            if need <= 0:
                raise ValueError(f"effect {delta} leaves no HF power")
            states.append((start, math.sqrt(need / d2_block), comp, f_block))
    starts = np.array([s[0] for s in states])

    def weights(t: float) -> list[tuple[int, float]]:
        """Active states and their weights at time ``t`` (cos/sin cross-fade)."""
        i = int(np.searchsorted(starts, t, side="right")) - 1
        i = max(i, 0)
        into = t - starts[i]
        if i == 0 or into >= spec.ramp_s:
            return [(i, 1.0)]
        theta = 0.5 * np.pi * 0.5 * (1 - math.cos(math.pi * into / spec.ramp_s))
        return [(i - 1, math.cos(theta)), (i, math.sin(theta))]

    end = segs.end_s + 2.0
    t = 0.0
    ou = rng.normal(0.0, spec.ou_sd_ms) if spec.ou_sd_ms > 0 else 0.0
    times, rrs, means, ws = [], [], [], []
    noise_scale = (
        spec.noise_sd_ms
        if spec.noise_df is None
        else spec.noise_sd_ms / math.sqrt(spec.noise_df / (spec.noise_df - 2))
    )
    while t < end:
        mean_ms = 1000.0 * (mean0_s + slope_s_per_s * t) + ou
        w = weights(t)
        x = a_lf * lf.value(t) + sum(wt * states[j][1] * states[j][2].value(t) for j, wt in w)
        e = (
            rng.normal(0.0, noise_scale)
            if spec.noise_df is None
            else noise_scale * rng.standard_t(spec.noise_df)
        )
        rr = mean_ms + x + e
        rr = round(rr * 1.024) / 1.024  # the strap's 1/1024-s resolution
        t_next = t + rr / 1000.0
        times.append(t_next)
        rrs.append(rr)
        means.append(mean_ms)
        ws.append(w)
        if spec.ou_sd_ms > 0:
            rho = math.exp(-rr / 1000.0 / spec.ou_tau_s)
            ou = rho * ou + spec.ou_sd_ms * math.sqrt(1 - rho * rho) * rng.normal()
        t = t_next

    # Truth per beat: the expected d² (module docstring) at the local mean RR and cross-fade
    # weights of the start of the interval ending at this beat.
    mean_s = np.asarray(means) / 1000.0
    d2 = a_lf**2 * lf.d2(mean_s)
    comp_d2 = [s[1] ** 2 * s[2].d2(mean_s) for s in states]
    hf = np.zeros(mean_s.size)
    for n, w in enumerate(ws):
        hf[n] = sum(wt * wt * comp_d2[j][n] for j, wt in w)
    d2 = (
        d2
        + hf
        + 2 * spec.ou_sd_ms**2 * (1 - np.exp(-mean_s / spec.ou_tau_s))
        + 2 * spec.noise_sd_ms**2
        + 2 * Q_MS**2 / 12
        + (slope_s_per_s * 1000.0 * mean_s) ** 2
    )
    breathing = np.array([states[w[-1][0]][3] for w in ws])
    truth = IndependentTruth(
        t_s=np.asarray(times),
        rr_true_ms=np.asarray(rrs),
        vagal_tone=0.5 * np.log(d2),
        breathing_rate_hz=breathing,
        mean_rr_ms=np.asarray(means),
        expected_d2_ms2=d2,
    )
    return truth, segs


def run_session(
    spec: SessionSpec, seed: int, settings: HrvSettings | None = None
) -> list[BlockTrace]:
    """One session through the live processor, measured exactly as the project's own calibration
    measures simulator sessions (``tests/block_estimate_support._measure``)."""
    truth, segs = generate(spec, seed)
    return measure_blocks(truth, list(segs.bounds), settings)  # type: ignore[arg-type]


def monte_carlo_check(
    case: Case, n: int, seed0: int = 10_000, groups: int = 10
) -> dict[str, float]:
    """The analytic truth's error, by Monte Carlo over ``n`` sessions of ``case`` (each its own
    draw): ½ ln of the mean observed d² over the mean analytic E[d²], pooled over the beats of
    the baseline (``"baseline"``) and of the blocks (``"blocks"``), each segment's first 20 s
    left out, and their difference (``"delta"``: the error of the analytic true Δ lnRMSSD,
    ln ms); with ``"<key>_se"`` from ``groups`` groups of sessions."""
    per: list[dict[str, list[float]]] = []
    for g in range(groups):
        sums = {"baseline": [0.0, 0.0], "blocks": [0.0, 0.0]}
        for s in range(g, n, groups):
            seed = seed0 + s
            truth, segs = generate(case.spec(seed), seed)
            d2 = np.diff(truth.rr_true_ms) ** 2
            t = truth.t_s[1:]
            expected = truth.expected_d2_ms2[1:]
            for a, b, kind, _ in segs.bounds:
                key = {"baseline": "baseline", "trigger": "blocks"}.get(kind)
                if key is None:
                    continue
                inside = (t >= a + 20.0) & (t < b)
                sums[key][0] += float(np.sum(d2[inside]))
                sums[key][1] += float(np.sum(expected[inside]))
        per.append(sums)
    out: dict[str, float] = {}
    for key in ("baseline", "blocks"):
        obs = sum(p[key][0] for p in per)
        exp = sum(p[key][1] for p in per)
        out[key] = 0.5 * math.log(obs / exp)
        out[f"{key}_se"] = float(
            np.std([0.5 * math.log(p[key][0] / p[key][1]) for p in per], ddof=1) / math.sqrt(groups)
        )
    out["delta"] = out["blocks"] - out["baseline"]
    deltas = [
        0.5 * math.log(p["blocks"][0] / p["blocks"][1] * p["baseline"][1] / p["baseline"][0])
        for p in per
    ]
    out["delta_se"] = float(np.std(deltas, ddof=1) / math.sqrt(groups))
    return out


@dataclass(frozen=True, slots=True)
class Case:
    """A family of sessions: each session draws its nuisances from these ranges."""

    name: str
    delta: float
    hr_bpm: tuple[float, float] = (55.0, 80.0)
    breathing_per_min: tuple[float, float] = (9.0, 18.0)
    block_breathing_shift_per_min: float = 0.0
    lf_hf_ratio: tuple[float, float] = (0.5, 2.0)
    """Drawn log-uniformly."""
    ln_rmssd: tuple[float, float] = (3.0, 4.3)
    drift_ms_per_min: float = 3.0
    """Linear drift of the mean RR drawn uniformly in ±this (ms/min)."""
    ou_sd_ms: tuple[float, float] = (5.0, 20.0)
    noise_sd_ms: tuple[float, float] = (1.0, 4.0)
    noise_df: float | None = None
    peak_sd_hz: float = PEAK_SD_HZ

    def spec(self, seed: int, n_blocks: int = 2) -> SessionSpec:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xCA5E,)))
        lo, hi = self.lf_hf_ratio
        breathing = float(rng.uniform(*self.breathing_per_min))
        shift = self.block_breathing_shift_per_min * float(rng.choice([-1.0, 1.0]))
        return SessionSpec(
            hr_bpm=float(rng.uniform(*self.hr_bpm)),
            breathing_per_min=breathing,
            block_breathing_per_min=breathing + shift if shift else None,
            lf_hf_ratio=float(math.exp(rng.uniform(math.log(lo), math.log(hi)))),
            ln_rmssd=float(rng.uniform(*self.ln_rmssd)),
            deltas=(self.delta,) * n_blocks,
            drift_ms_per_min=float(rng.uniform(-1.0, 1.0)) * self.drift_ms_per_min,
            ou_sd_ms=float(rng.uniform(*self.ou_sd_ms)),
            noise_sd_ms=float(rng.uniform(*self.noise_sd_ms)),
            noise_df=self.noise_df,
            peak_sd_hz=self.peak_sd_hz,
        )


TYPICAL: Final = Case("typical", 0.0)
CASES: Final = (
    Case("stationary null", 0.0, drift_ms_per_min=0.0, ou_sd_ms=(0.0, 0.0)),
    TYPICAL,
    replace(TYPICAL, name="typical", delta=0.1),
    replace(TYPICAL, name="typical", delta=0.2),
    replace(TYPICAL, name="typical", delta=0.3),
    replace(TYPICAL, name="typical", delta=-0.2),
    Case("low HR 55-60", 0.0, hr_bpm=(55.0, 60.0)),
    Case("high HR 75-80", 0.2, hr_bpm=(75.0, 80.0)),
    Case(
        "breathing 9-10/min, LF-heavy", 0.0, breathing_per_min=(9.0, 10.0), lf_hf_ratio=(2.0, 5.0)
    ),
    Case(
        "breathing 9-10/min, LF-heavy", 0.2, breathing_per_min=(9.0, 10.0), lf_hf_ratio=(2.0, 5.0)
    ),
    Case(
        "breathing 16-18/min, HF-heavy", 0.0, breathing_per_min=(16.0, 18.0), lf_hf_ratio=(0.3, 0.7)
    ),
    Case("strong drift 6 ms/min, OU 30 ms", 0.0, drift_ms_per_min=6.0, ou_sd_ms=(20.0, 30.0)),
    Case("strong drift 6 ms/min, OU 30 ms", 0.2, drift_ms_per_min=6.0, ou_sd_ms=(20.0, 30.0)),
    Case("heavy-tailed noise t3, 4-8 ms", 0.0, noise_sd_ms=(4.0, 8.0), noise_df=3.0),
    Case(
        "breathing shifts ±3/min in blocks",
        0.0,
        breathing_per_min=(10.0, 15.0),
        block_breathing_shift_per_min=3.0,
    ),
    Case("narrow peaks 0.005 Hz", 0.0, peak_sd_hz=0.005),
    Case("narrow peaks 0.005 Hz", 0.2, peak_sd_hz=0.005),
    Case("wide peaks 0.02 Hz", 0.0, peak_sd_hz=0.02),
)
"""The bench's cases: nominal Δ (ln ms) and the nuisance ranges each session draws from."""
