"""Multi-session N-of-1 studies from an independent RR model, to calibrate ``biofeedback compare``.

``bench/bench_compare.py`` calibrates the comparison on block-level values drawn from the
project's own model (``tests/simstudy_support.py``). This module builds whole studies, beat by
beat, from the ECGSYN-type RR process of ``bench/independent_rr.py`` (McSharry, Clifford,
Tarassenko & Smith 2003, IEEE Trans Biomed Eng 50:289: bimodal Gaussian spectrum, LF peak at
0.1 Hz and HF peak at the breathing rate, each of SD 0.01 Hz, random phases, each beat stepped
by the tachogram's value where it starts, white beat noise, an Ornstein-Uhlenbeck term of the
mean RR, 1/1024-s quantisation), with the study's nuisances written here, not taken from the
project's simulator.

**A session** has the default protocol's timing (``seeds/protocols/default.toml``): settling
60 s, baseline 180 s, four trigger blocks ``a``-``d`` of 180 s in a new random order per
session, 60-s washouts between them. Its true lnRMSSD at the baseline's mean RR ``T0`` is

    v(t) = L_i + β_i · t + u(t) + Σ_m r_m(t)

* ``L_i``: the person's resting level plus a day-to-day shift, SD 0.25 ln ms (the within-person
  day-to-day SD of resting lnRMSSD: Flatt & Esco 2015, J Strength Cond Res 29:2311, and Plews et
  al. 2012, Eur J Appl Physiol 112:3729, report CVs of 3-10 % of lnRMSSD ≈ 3.5, i.e. 0.1-0.35);
* ``β_i``: a linear drift within the session, N(0, SD per hour) (an assumption);
* ``u``: slow vagal fluctuation, an OU process of SD 0.05 ln ms and time constant 120 s (an
  assumption: it makes neighbouring windows' errors correlated, which segment-wise RSA
  realisations alone do not);
* ``r_m``: trigger ``m``'s response: in its block it builds as ``A_m (1 − e^(−t/τ_on))``
  (τ_on 30 s: the onsets of 25-60 s that ``biofeedback/analysis/blocks.py`` cites), after the
  block it decays as ``e^(−t/τ_off)``: τ_off 15 s is no carry-over (0.1 % is left when the next
  block's analysed part starts), larger τ_off is carry-over into the washout and the next
  blocks. ``A_m`` varies from session to session, ``A = Ā·(1 − h)^i·λ + ε`` with a lognormal
  ``λ`` (mean 1, CV 25 %), ``ε`` ~ N(0, 0.10²) ln ms, and habituation ``h`` per session index
  ``i`` (figures not measured for ASMR: assumptions, chosen independently of the project's
  profiles).

The RR series: ``RR(t) = 1000·T0 + drift·t + OU(t) + s(t)·(√r·LF(t) + Σ w_k(t)·HF_k(t)) + e``,
the unit-variance LF realisation spanning the session (a 2048-s frequency grid: no repetition
within 19 minutes), a fresh HF realisation per segment (the session's breathing rate plus a
per-segment jitter) cross-faded over 15 s with weights cos/sin as in ``independent_rr``, and the
gain ``s(t)`` set so that the analytic ``E[d²]`` at ``T0`` (``independent_rr``'s formula) is
``e^(2 v(t))``: vagal tone scales the whole oscillation, LF and HF, while the beat noise, the
quantisation and the mean-RR terms do not scale. Heart rate is not coupled to vagal tone here
(a change of mean RR would move lnRMSSD through ``D(T)`` besides the gain; left out on purpose,
so that the truth below is exact). Each series is evaluated on a 1/32-s grid by inverse FFT of
its random-phase spectrum and interpolated linearly at the beat times (the content is below
0.6 Hz: the interpolation error is under 0.03 ms, against the 0.98-ms quantisation).

**Truth** of trigger ``j`` in a study of ``n`` sessions (as ``tests/simstudy_support.py``
defines it for the project's model): its expected *own* effect on the analysed part of its block
(from 45 s to its end), without what earlier blocks left behind, over the session-to-session
variability, habituated as in each session and averaged over the study's sessions:
``θ_j = Ā_j · own · mean_i (1 − h)^i`` with ``own = 1 − τ_on/135 s·(e^(−45/τ_on) − e^(−180/τ_on))``
(0.951). A study's nominal effect ``E_j`` is that truth without habituation (``Ā_j = E_j / own``).
``compare`` estimates effects against the mean of the session's other triggers (no control
block in the default protocol), so the truth it is scored against is ``θ_j − mean(θ_others)``.

**Measurement**: each session's beats go through
:func:`biofeedback.analysis.blocks.session_responses` with the segments a recording stores and
the HRV settings a stored session is recomputed with (:func:`stored_settings` of its settings),
which is what ``biofeedback compare`` does with a stored session (``load_responses`` →
``bundle_responses``; an HR strap, so no ECG shapes): ``tests/test_compare_independent_model.py``
checks that one imported session gives the same responses through the store. Then
:func:`biofeedback.analysis.compare.compare` pools them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from independent_rr import LF_HZ, PEAK_SD_HZ, Q_MS, _Component, component
from numpy.typing import NDArray
from scipy.signal import lfilter

from biofeedback.analysis.blocks import SessionResponses, session_responses
from biofeedback.analysis.compare import Comparison, compare
from biofeedback.analysis.config import CompareSettings
from biofeedback.hrv.settings import stored_settings

F64 = NDArray[np.float64]

TRIGGERS: Final = ("a", "b", "c", "d")
SETTLING_S: Final = 60.0
BASELINE_S: Final = 180.0
BLOCK_S: Final = 180.0
WASHOUT_S: Final = 60.0
ONSET_S: Final = CompareSettings().onset_s
"""The analysed part of a block starts here (the comparison's own onset exclusion)."""
FS_HZ: Final = 32.0
"""Rate of the grid the series are evaluated on."""
LF_GRID_S: Final = 2048.0
HF_GRID_S: Final = 1024.0
RAMP_S: Final = 15.0
EFFECT_LN_MS: Final = 0.35
"""The power rows' trigger effect (the nominal block-level effect, as bench_compare.py's)."""


@dataclass(frozen=True, slots=True)
class Person:
    """One study's person (drawn once per study)."""

    hr_bpm: float
    breathing_per_min: float
    lf_hf_ratio: float
    ln_rmssd: float
    noise_sd_ms: float
    ou_sd_ms: float
    ou_tau_s: float = 60.0


def draw_person(rng: np.random.Generator) -> Person:
    """HR 55-80 bpm, breathing 9-18/min, LF/HF 0.5-2 (log-uniform), beat noise 1-3 ms, OU of
    the mean RR 5-20 ms (``independent_rr``'s typical ranges), resting lnRMSSD 3.0-4.0 (RMSSD
    20-55 ms: most of the short-term resting range of healthy adults, mean 42 ms, Nunan,
    Sandercock & Brodie 2010, PACE 33:1407; narrower than ``independent_rr``'s 3.0-4.3 so that a
    high day on top of a high person rarely swings the RR beyond physiology)."""
    return Person(
        hr_bpm=float(rng.uniform(55.0, 80.0)),
        breathing_per_min=float(rng.uniform(9.0, 18.0)),
        lf_hf_ratio=float(math.exp(rng.uniform(math.log(0.5), math.log(2.0)))),
        ln_rmssd=float(rng.uniform(3.0, 4.0)),
        noise_sd_ms=float(rng.uniform(1.0, 3.0)),
        ou_sd_ms=float(rng.uniform(5.0, 20.0)),
    )


@dataclass(frozen=True, slots=True)
class Cell:
    """A study design's nuisances (module docstring); defaults: the always-present ones."""

    name: str
    day_sd_ln_rmssd: float = 0.25
    hr_day_sd_bpm: float = 3.0
    breathing_day_sd_per_min: float = 1.0
    breathing_segment_sd_per_min: float = 0.5
    effect_session_sd_ln_rmssd: float = 0.10
    effect_session_cv: float = 0.25
    vagal_noise_sd_ln_rmssd: float = 0.05
    vagal_noise_tau_s: float = 120.0
    onset_tau_s: float = 30.0
    offset_tau_s: float = 15.0
    """Decay of a response after its block: 15 s is none left by the next block; more is
    carry-over."""
    drift_sd_ln_rmssd_per_h: float = 0.0
    rr_drift_ms_per_min: float = 0.0
    """Linear drift of the mean RR, uniform in ±this."""
    habituation_per_session: float = 0.0

    @property
    def own_share(self) -> float:
        """Mean of ``1 − e^(−t/τ_on)`` over the analysed part ``[45 s, 180 s)`` of a block."""
        tau, a, b = self.onset_tau_s, ONSET_S, BLOCK_S
        return 1.0 - tau / (b - a) * (math.exp(-a / tau) - math.exp(-b / tau))

    def carried_share(self) -> float:
        """Share of a settled response still present, on average, over the analysed part of
        the next block (with the onset's build-up within its own block ignored)."""
        tau = self.offset_tau_s
        a, b = WASHOUT_S + ONSET_S, WASHOUT_S + BLOCK_S
        return tau / (b - a) * (math.exp(-a / tau) - math.exp(-b / tau))


CELLS: Final = (
    Cell("quiet"),
    Cell(
        "all",
        drift_sd_ln_rmssd_per_h=0.3,
        rr_drift_ms_per_min=3.0,
        offset_tau_s=60.0,
        habituation_per_session=0.04,
    ),
    Cell("strong carry-over", offset_tau_s=180.0),
    Cell("habituation", habituation_per_session=0.06),
)
"""``quiet``: day-to-day level shift, vagal OU, the effects' session-to-session variability,
mean-RR OU, beat noise. ``all``: plus a linear drift of vagal tone (SD 0.3 ln ms/h) and of the
mean RR (±3 ms/min), carry-over decaying over 60 s (7 % of a response left, on average, in the
next block's analysed part) and habituation 4 %/session. ``strong carry-over``: quiet plus
decay over 180 s (39 % left in the next block, 12 % in the one after). ``habituation``: quiet
plus 6 %/session."""


@dataclass(frozen=True, slots=True)
class Layout:
    bounds: tuple[tuple[float, float, str, str], ...]
    """``(start_s, end_s, kind, label)`` of every segment."""

    @property
    def end_s(self) -> float:
        return self.bounds[-1][1]

    def segments(self) -> list[dict[str, object]]:
        """As a recording stores them."""
        return [
            {"kind": kind, "label": label, "start_s": a, "end_s": b, "complete": True}
            for a, b, kind, label in self.bounds
        ]


def layout(order: Sequence[int]) -> Layout:
    """The default protocol's timeline with the triggers in ``order`` (indices into TRIGGERS)."""
    spans: list[tuple[str, str, float]] = [
        ("settling", "settling", SETTLING_S),
        ("baseline", "baseline", BASELINE_S),
    ]
    for i, j in enumerate(order):
        if i:
            spans.append(("washout", "washout", WASHOUT_S))
        spans.append(("trigger", TRIGGERS[j], BLOCK_S))
    out, t = [], 0.0
    for kind, label, dur in spans:
        out.append((t, t + dur, kind, label))
        t += dur
    return Layout(tuple(out))


def _on_grid(comp: _Component, grid_s: float, t_index: NDArray[np.int64]) -> F64:
    """``Σ A_k cos(2π f_k t + φ_k)`` at ``t = t_index / FS_HZ``, by an inverse FFT (exact on the
    grid; the realisation repeats after ``grid_s``)."""
    n = round(grid_s * FS_HZ)
    spec = np.zeros(n // 2 + 1, dtype=np.complex128)
    k = np.rint(comp.f_hz * grid_s).astype(np.int64)
    spec[k] = 0.5 * n * comp.amp * np.exp(1j * comp.phase)
    x: F64 = np.fft.irfft(spec, n)
    out: F64 = x[t_index % n]
    return out


def _ou(n: int, sd: float, tau_s: float, rng: np.random.Generator) -> F64:
    """A stationary OU path of SD ``sd`` sampled every 1/FS_HZ s (exact AR(1))."""
    if sd <= 0.0:
        return np.zeros(n)
    rho = math.exp(-1.0 / FS_HZ / tau_s)
    z = rng.standard_normal(n) * sd * math.sqrt(1.0 - rho * rho)
    z[0] = rng.standard_normal() * sd
    out: F64 = lfilter([1.0], [1.0, -rho], z)
    return out


@dataclass(frozen=True, slots=True)
class Session:
    """One simulated session: its beats, timeline, and what the generator put in."""

    t_s: F64
    rr_ms: F64
    layout: Layout
    order: tuple[int, ...]
    amplitude: F64
    """``A_m`` per trigger (settled response, ln ms)."""
    clipped_s: float
    """Seconds where the target lnRMSSD was below the noise floor (the gain clipped)."""
    true_ln_rmssd: F64 | None = None
    """Analytic ½ ln E[d²] at each beat (only with ``with_truth``)."""


class UnphysiologicalError(ValueError):
    """The drawn tachogram falls below half its mean RR (an RMSSD far beyond the HR's range)."""


def simulate_session(
    cell: Cell,
    person: Person,
    effects: Sequence[float],
    order: Sequence[int],
    index: int,
    rng: np.random.Generator,
    *,
    with_truth: bool = False,
) -> Session:
    """Session ``index`` (0-based, for habituation) of a study: beats and timeline."""
    lay = layout(order)
    k = len(TRIGGERS)
    # The day's draws.
    level = person.ln_rmssd + cell.day_sd_ln_rmssd * rng.standard_normal()
    hr = float(np.clip(person.hr_bpm + cell.hr_day_sd_bpm * rng.standard_normal(), 45.0, 100.0))
    breathing = float(
        np.clip(
            person.breathing_per_min + cell.breathing_day_sd_per_min * rng.standard_normal(),
            8.0,
            20.0,
        )
    )
    cv2 = math.log1p(cell.effect_session_cv**2)
    lam = np.exp(math.sqrt(cv2) * rng.standard_normal(k) - 0.5 * cv2)
    mean_amp = np.asarray(effects, dtype=np.float64) / cell.own_share
    amp = mean_amp * (1.0 - cell.habituation_per_session) ** index * lam
    amp = amp + cell.effect_session_sd_ln_rmssd * rng.standard_normal(k)
    slope = cell.drift_sd_ln_rmssd_per_h / 3600.0 * rng.standard_normal()
    rr_slope = cell.rr_drift_ms_per_min / 60.0 * float(rng.uniform(-1.0, 1.0))  # ms/s
    t0_s = 60.0 / hr

    # The grid and the true lnRMSSD at T0.
    n_grid = int((lay.end_s + 5.0) * FS_HZ)
    idx = np.arange(n_grid, dtype=np.int64)
    tg = idx / FS_HZ
    v = level + slope * tg + _ou(n_grid, cell.vagal_noise_sd_ln_rmssd, cell.vagal_noise_tau_s, rng)
    for a, b, kind, label in lay.bounds:
        if kind != "trigger":
            continue
        j = TRIGGERS.index(label)
        path = np.zeros(n_grid)
        inside = (tg >= a) & (tg < b)
        path[inside] = 1.0 - np.exp(-(tg[inside] - a) / cell.onset_tau_s)
        at_end = 1.0 - math.exp(-(b - a) / cell.onset_tau_s)
        after = tg >= b
        path[after] = at_end * np.exp(-(tg[after] - b) / cell.offset_tau_s)
        v = v + amp[j] * path

    # The oscillations: one LF realisation, a fresh HF one per segment (settling and baseline
    # share one), cross-faded at each segment's start.
    lf = component(LF_HZ, rng, PEAK_SD_HZ, grid_s=LF_GRID_S)
    lf_x = _on_grid(lf, LF_GRID_S, idx)
    starts: list[float] = []
    hf_x: list[F64] = []
    hf_comp: list[_Component] = []
    for a, _, kind, _ in lay.bounds:
        if kind == "baseline":
            continue
        f = np.clip(breathing + cell.breathing_segment_sd_per_min * rng.standard_normal(), 8, 20)
        comp = component(float(f) / 60.0, rng, PEAK_SD_HZ)
        starts.append(a)
        hf_comp.append(comp)
        hf_x.append(_on_grid(comp, HF_GRID_S, idx))
    state = np.clip(np.searchsorted(np.asarray(starts), tg, side="right") - 1, 0, None)
    into = tg - np.asarray(starts)[state]
    ramp = (state > 0) & (into < RAMP_S)
    theta = 0.25 * np.pi * (1.0 - np.cos(np.pi * np.minimum(into, RAMP_S) / RAMP_S))
    w_new = np.where(ramp, np.sin(theta), 1.0)
    w_old = np.where(ramp, np.cos(theta), 0.0)
    prev = np.maximum(state - 1, 0)
    hf_all = np.vstack(hf_x)
    cols = np.arange(n_grid)
    hf = w_new * hf_all[state, cols] + w_old * hf_all[prev, cols]
    t0 = np.array([t0_s])
    d_lf = float(lf.d2(t0)[0])
    d_hf = np.array([float(c.d2(t0)[0]) for c in hf_comp])
    osc0 = person.lf_hf_ratio * d_lf + w_new**2 * d_hf[state] + w_old**2 * d_hf[prev]
    fixed0 = (
        2 * person.ou_sd_ms**2 * (1 - math.exp(-t0_s / person.ou_tau_s))
        + 2 * person.noise_sd_ms**2
        + 2 * Q_MS**2 / 12
        + (rr_slope * t0_s) ** 2
    )
    target = np.exp(2.0 * v)
    gain2 = (target - fixed0) / osc0
    floor = 0.05 * target / osc0
    clipped = gain2 < floor
    gain = np.sqrt(np.maximum(gain2, floor))
    mean_ms = 1000.0 * t0_s + rr_slope * tg + _ou(n_grid, person.ou_sd_ms, person.ou_tau_s, rng)
    rr_grid = mean_ms + gain * (math.sqrt(person.lf_hf_ratio) * lf_x + hf)
    if float(rr_grid.min()) < 500.0 * t0_s:
        raise UnphysiologicalError(f"tachogram down to {rr_grid.min():.0f} ms (mean {t0_s:.3f} s)")

    # Beats: each interval is the tachogram where it starts, plus beat noise, quantised.
    n_max = int(lay.end_s / (0.25 * t0_s)) + 10
    noise = rng.standard_normal(n_max) * person.noise_sd_ms
    grid = rr_grid.tolist()
    times: list[float] = []
    rrs: list[float] = []
    starts_t: list[float] = []
    t, n = 0.0, 0
    end = lay.end_s + 2.0
    while t < end:
        x = t * FS_HZ
        i = int(x)
        frac = x - i
        rr = grid[i] + frac * (grid[i + 1] - grid[i]) + float(noise[n])
        rr = round(rr * 1.024) / 1.024
        starts_t.append(t)
        t += rr / 1000.0
        times.append(t)
        rrs.append(rr)
        n += 1
    truth = None
    if with_truth:
        ts = np.asarray(starts_t)
        g = np.clip((ts * FS_HZ).astype(np.int64), 0, n_grid - 1)
        period = np.interp(ts, tg, mean_ms) / 1000.0
        d2 = gain[g] ** 2 * (
            person.lf_hf_ratio * lf.d2(period)
            + sum(
                (np.where(state[g] == s, w_new[g], 0.0) + np.where(prev[g] == s, w_old[g], 0.0))
                ** 2
                * c.d2(period)
                for s, c in enumerate(hf_comp)
            )
        )
        d2 = (
            d2
            + 2 * person.ou_sd_ms**2 * (1 - np.exp(-period / person.ou_tau_s))
            + 2 * person.noise_sd_ms**2
            + 2 * Q_MS**2 / 12
            + (rr_slope * period) ** 2
        )
        truth = 0.5 * np.log(d2)
    return Session(
        t_s=np.asarray(times),
        rr_ms=np.asarray(rrs),
        layout=lay,
        order=tuple(int(o) for o in order),
        amplitude=amp,
        clipped_s=float(np.count_nonzero(clipped)) / FS_HZ,
        true_ln_rmssd=truth,
    )


def measure(session: Session, session_id: int) -> SessionResponses:
    """The session's block responses as ``compare`` reads a stored HR-strap session."""
    n = session.t_s.size
    return session_responses(
        session.t_s,
        session.rr_ms,
        np.zeros(n, dtype=np.int64),
        session.layout.segments(),
        metrics=("lnrmssd",),
        settings=CompareSettings(),
        hrv=stored_settings({}),
        session_id=session_id,
        started_wall_s=1.7e9 + 86_400.0 * session_id,
    )


@dataclass(frozen=True, slots=True)
class Study:
    """One N-of-1 study: ``sessions`` measured, in the order recorded."""

    cell: Cell
    effects: tuple[float, ...]
    person: Person
    sessions: tuple[SessionResponses, ...]
    orders: tuple[tuple[int, ...], ...]
    clipped_s: float
    redrawn: int = 0
    """Sessions drawn again because their tachogram was unphysiological (the day's draws
    repeated from the study's generator; reported by the bench)."""

    def truth(self, n: int) -> F64:
        """Each trigger's expected own effect on its block over the first ``n`` sessions."""
        hab = (1.0 - self.cell.habituation_per_session) ** np.arange(n)
        out: F64 = np.asarray(self.effects) * float(hab.mean())
        return out

    def true_contrast(self, n: int) -> F64:
        """Each trigger's truth against the mean of the other triggers (``compare``'s
        reference without a control block)."""
        th = self.truth(n)
        k = th.size
        out: F64 = th - (th.sum() - th) / (k - 1)
        return out

    def compare(self, n: int) -> Comparison:
        return compare(self.sessions[:n], "lnrmssd")


def simulate_study(cell: Cell, effects: Sequence[float], n_sessions: int, seed: int) -> Study:
    """A study of ``n_sessions`` (its first ``m`` sessions are a study of ``m``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x57D1,)))
    person = draw_person(rng)
    sessions, orders, clipped, redrawn = [], [], 0.0, 0
    for i in range(n_sessions):
        order = tuple(int(o) for o in rng.permutation(len(TRIGGERS)))
        while True:
            try:
                s = simulate_session(cell, person, effects, order, i, rng)
                break
            except UnphysiologicalError:
                redrawn += 1
        sessions.append(measure(s, i + 1))
        orders.append(order)
        clipped += s.clipped_s
    return Study(cell, tuple(effects), person, tuple(sessions), tuple(orders), clipped, redrawn)


@dataclass(slots=True)
class Tally:
    """Counts over studies of one cell, effect and n."""

    studies: int = 0
    tested: int = 0
    covered: int = 0
    per_study_coverage: list[float] = field(default_factory=list)
    any_null: int = 0
    """Studies calling at least one null trigger "responds" (in studies with an effect trigger
    too: there a null's true contrast against the others is not 0)."""
    any_null_arousing: int = 0
    """Of those, studies where a null trigger was called "responds" in the arousing direction."""
    first_null: int = 0
    power: int = 0
    rank_first: int = 0
    errors: list[float] = field(default_factory=list)
    """Estimate − true contrast of trigger ``a``."""
    half_widths: list[float] = field(default_factory=list)
    not_tested: int = 0
    blocks: int = 0
    excluded: int = 0
    """Trigger blocks of the studies' sessions, and those ``compare`` excluded (with a reason:
    e.g. over 5 % of the beats corrected)."""

    def add(self, study: Study, n: int) -> None:
        c = study.compare(n)
        rows = {r.label: r for r in c.rows}
        self.blocks += sum(len(s.blocks) for s in study.sessions[:n])
        self.excluded += sum(1 for e in c.exclusions if e.label is not None)
        truth = study.true_contrast(n)
        hits = tested = 0
        for j, label in enumerate(TRIGGERS):
            r = rows.get(label)
            if r is None or not math.isfinite(r.low):
                self.not_tested += 1
                continue
            tested += 1
            hits += bool(r.low <= truth[j] <= r.high)
        self.studies += 1
        self.tested += tested
        self.covered += hits
        self.per_study_coverage.append(hits / tested if tested else math.nan)
        nulls = [TRIGGERS[j] for j, e in enumerate(study.effects) if e == 0.0]
        calls = [label in rows and rows[label].verdict == "responds" for label in nulls]
        self.any_null += any(calls)
        self.any_null_arousing += any(
            call and rows[label].effect.estimate < 0
            for call, label in zip(calls, nulls, strict=True)
        )
        self.first_null += bool(calls and calls[0])
        a = rows.get("a")
        if a is not None:
            self.power += a.verdict == "responds" and a.effect.estimate > 0
            self.rank_first += a.rank == 1
            if math.isfinite(a.effect.estimate):
                self.errors.append(a.effect.estimate - float(truth[0]))
            if math.isfinite(a.high):
                self.half_widths.append(0.5 * (a.high - a.low))

    def summary(self) -> dict[str, float]:
        s = max(self.studies, 1)

        def se(p: float, n: int) -> float:
            return math.sqrt(p * (1.0 - p) / n) if n else math.nan

        cov = self.covered / self.tested if self.tested else math.nan
        per = np.asarray(self.per_study_coverage, dtype=np.float64)
        per = per[np.isfinite(per)]
        err = np.asarray(self.errors, dtype=np.float64)
        return {
            "studies": float(self.studies),
            "intervals": float(self.tested),
            "not_tested": float(self.not_tested),
            "excluded_block_share": self.excluded / self.blocks if self.blocks else math.nan,
            "coverage": cov,
            "coverage_binomial_se": se(cov, self.tested),
            "coverage_study_se": float(per.std(ddof=1) / math.sqrt(per.size))
            if per.size > 1
            else math.nan,
            "any_null_responds": self.any_null / s,
            "any_null_se": se(self.any_null / s, self.studies),
            "any_null_arousing": self.any_null_arousing / s,
            "first_null_responds": self.first_null / s,
            "first_null_se": se(self.first_null / s, self.studies),
            "power": self.power / s,
            "power_se": se(self.power / s, self.studies),
            "rank_first": self.rank_first / s,
            "mean_error_a": float(err.mean()) if err.size else math.nan,
            "mean_error_a_se": float(err.std(ddof=1) / math.sqrt(err.size))
            if err.size > 1
            else math.nan,
            "sd_error_a": float(err.std(ddof=1)) if err.size > 1 else math.nan,
            "median_half_width_a": float(np.median(self.half_widths))
            if self.half_widths
            else math.nan,
        }
