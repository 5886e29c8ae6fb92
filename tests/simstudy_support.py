"""Simulated N-of-1 studies with known truth: the harness behind the calibration tests and bench.

Two generators of the same person:

* **Beat level** (:func:`beat_session`): the simulated strap (``devices.simulator``) with its
  realistic nuisances, measured by :func:`~biofeedback.analysis.blocks.session_responses` as a
  recording would be. Faithful, about 0.1 s a session.
* **Block level** (:func:`block_studies`): the lnRMSSD value of every baseline and block of
  many studies at once (numpy, no beats), from the same model: the session's level (day-to-day
  SD), settling and a linear trend over the session, the trigger responses with their fast and
  slow (carry-over) parts, computed by the same two-time-constant recursion as the physiology
  and averaged over each block's analysed window, habituation, the session-to-session
  variability of each trigger's effect, slow breathing in a segment, slow vagal noise
  (averaged over the window; correlation between windows ignored) and the window's measurement
  error (``MEASUREMENT_SD``, fitted to beat-level sessions). ``test_simstudy_generator`` checks
  it against beat-level sessions. The calibration runs use it because 500 studies × 6 n ×
  6 nuisance cells of beat-level sessions would take hours.

The truth of a trigger in a study is its expected *own* effect on the analysed part of its block
(its response without what earlier blocks left behind, averaged over the session-to-session
variability, habituated as in each session and averaged over the study's sessions): what a user
asks about, "does this trigger relax me", not what it happened to do on these days.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from biofeedback.analysis.block_values import WindowValues
from biofeedback.analysis.blocks import BlockResponse, SessionResponses, session_responses
from biofeedback.analysis.compare import Comparison, ReferenceChoice, compare
from biofeedback.analysis.config import CompareSettings
from devices.simulator import ArtifactRates, Profile, Segment, SimConfig, SimulatedStrap
from devices.simulator.profile import Person, TriggerResponse, load_profile

TRIGGERS: Final = ("a", "b", "c", "d")
ARTIFACTS: Final = ArtifactRates(ectopic=0.002, missed=0.001, extra=0.001)
MEASUREMENT_SD: Final = 0.045
"""SD (ln ms) of a 135-s window's lnRMSSD around the mean true vagal tone, fitted to beat-level
sessions (``test_simstudy_generator``)."""
ONSET_TAU_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class Design:
    """Block lengths (s) of one simulated session (the default protocol's)."""

    baseline_s: float = 180.0
    block_s: float = 180.0
    washout_s: float = 60.0
    onset_s: float = 45.0


CELLS: Final = ("quiet", "drift", "carryover", "habituation", "breathing", "all")
"""Nuisance cells: ``quiet`` keeps the always-present ones (day-level shift, vagal noise,
trigger variability, measurement error); each other cell adds one, ``all`` adds every one."""


def person(cell: str) -> Person:
    """The realistic person of the shipped profiles with the nuisances of ``cell``."""
    real = load_profile("responder").person
    on = {
        "drift": ("settle_ln_rmssd", "drift_sd_ln_rmssd_per_h"),
        "carryover": ("carryover_share",),
        "breathing": ("slow_breathing_share",),
    }
    keep = {k for v in on.values() for k in v} if cell == "all" else set(on.get(cell, ()))
    off = {k: 0.0 for v in on.values() for k in v if k not in keep}
    return replace(real, **off)


def study_profile(cell: str, effects: Sequence[float]) -> Profile:
    """Triggers ``a``-``d`` with block-level effects ``effects`` (ln ms) under ``cell``."""
    p = person(cell)
    habituation = 0.03 if cell in {"habituation", "all"} else 0.0
    own = own_share(p, Design())
    triggers = tuple(
        (name, TriggerResponse(delta_ln_rmssd=e / own, onset_s=ONSET_TAU_S, session_cv=0.2,
                               session_sd_ln_rmssd=0.08, habituation_per_session=habituation))
        for name, e in zip(TRIGGERS, effects, strict=True)
    )  # fmt: skip
    return Profile(f"study-{cell}", "", p, triggers)


def _timeline(n_blocks: int, d: Design) -> list[tuple[str, float, float]]:
    """``(kind, start_s, end_s)`` of every segment: baseline, then blocks with washouts."""
    spans = [("baseline", 0.0, d.baseline_s)]
    t = d.baseline_s
    for i in range(n_blocks):
        if i:
            spans.append(("washout", t, t + d.washout_s))
            t += d.washout_s
        spans.append(("block", t, t + d.block_s))
        t += d.block_s
    return spans


def response_matrix(p: Person, d: Design, n_blocks: int) -> np.ndarray:
    """``A[k, m]``: mean response over block ``k``'s analysed window per unit target of block
    ``m`` (the physiology's fast + slow recursion on a 1-s grid)."""
    spans = _timeline(n_blocks, d)
    t = np.arange(0.0, spans[-1][2], 1.0) + 0.5
    blocks = [s for s in spans if s[0] == "block"]
    a = np.zeros((n_blocks, n_blocks))
    for m in range(n_blocks):
        fast = slow = 0.0
        path = np.zeros(t.size)
        for kind, start, end in spans:
            mine = kind == "block" and (start, end) == blocks[m][1:]
            share = p.carryover_share
            tf = (1 - share) if mine else 0.0
            ts = share if mine else 0.0
            tau_f = ONSET_TAU_S if kind == "block" else p.recovery_s
            inside = (t >= start) & (t < end)
            el = t[inside] - start
            path[inside] = (tf + (fast - tf) * np.exp(-el / tau_f)) + (
                ts + (slow - ts) * np.exp(-el / p.carryover_s)
            )
            fast = tf + (fast - tf) * math.exp(-(end - start) / tau_f)
            slow = ts + (slow - ts) * math.exp(-(end - start) / p.carryover_s)
        for k, (_, start, end) in enumerate(blocks):
            a[k, m] = path[(t >= start + d.onset_s) & (t < end)].mean()
    return a


def own_share(p: Person, d: Design) -> float:
    """Share of a settled response that a block shows on its own analysed window."""
    return float(response_matrix(p, d, 1)[0, 0])


def _window_means(p: Person, spans: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean time (s) and mean settling term over each window."""
    mid = np.array([(a + b) / 2 for a, b in spans])
    settle = np.array(
        [p.settle_s * (math.exp(-a / p.settle_s) - math.exp(-b / p.settle_s)) / (b - a)
         for a, b in spans]
    )  # fmt: skip
    return mid, -p.settle_ln_rmssd * settle


def _ou_window_sd(sd: float, tau_s: float, w_s: float) -> float:
    if sd <= 0:
        return 0.0
    x = w_s / tau_s
    return sd * math.sqrt(2.0 / x * (1.0 - (1.0 - math.exp(-x)) / x))


@dataclass(frozen=True, slots=True)
class BlockStudies:
    """Block-level lnRMSSD of ``S`` studies × ``n`` sessions × ``k`` triggers."""

    values: np.ndarray
    positions: np.ndarray
    """1-based positions of each trigger's block, same shape."""
    baseline: np.ndarray
    """S × n."""
    truth: np.ndarray
    """S × k: each trigger's expected own effect on its block (over the session-to-session
    variability), averaged over the study's sessions (habituation)."""


def block_studies(
    profile: Profile, n_studies: int, n_sessions: int, seed: int, design: Design = Design()
) -> BlockStudies:
    """Many studies at once (a new random order per session), vectorised."""
    rng = np.random.default_rng(seed)
    p = profile.person
    k = len(profile.triggers)
    S, n = n_studies, n_sessions
    a = response_matrix(p, design, k)
    spans = _timeline(k, design)
    windows = [(spans[0][1], spans[0][2])] + [
        (s[1] + design.onset_s, s[2]) for s in spans if s[0] == "block"
    ]
    mid, settle = _window_means(p, windows)
    ou_sd = [_ou_window_sd(p.vagal_noise_sd_ln_rmssd, p.vagal_noise_time_s, b - a_)
             for a_, b in windows]  # fmt: skip
    order = np.argsort(rng.random((S, n, k)), axis=2)  # order[..., pos] = trigger
    delta = np.array([r.delta_ln_rmssd for _, r in profile.triggers])
    cv = np.array([r.session_cv for _, r in profile.triggers])
    sd_add = np.array([r.session_sd_ln_rmssd for _, r in profile.triggers])
    hab = np.array([r.habituation_per_session for _, r in profile.triggers])
    index = np.arange(n)[None, :, None]
    scale = np.maximum(0.0, 1.0 + cv * rng.standard_normal((S, n, k))) * (1 - hab) ** index
    target = scale * delta + sd_add * rng.standard_normal((S, n, k))  # by trigger
    target_pos = np.take_along_axis(target, order, axis=2)  # by position
    resp_pos = target_pos @ a.T  # (S, n, positions)
    level = p.ln_rmssd + p.session_sd_ln_rmssd * rng.standard_normal((S, n, 1))
    slope = p.drift_sd_ln_rmssd_per_h / 3600.0 * rng.standard_normal((S, n, 1))
    slow = rng.random((S, n, k + 1)) < p.slow_breathing_share
    noise = np.array(ou_sd) * rng.standard_normal((S, n, k + 1))
    meas = MEASUREMENT_SD * rng.standard_normal((S, n, k + 1))
    common = level + slope * mid + settle + slow * p.slow_breathing_ln_rmssd + noise + meas
    values_pos = common[..., 1:] + resp_pos
    values = np.empty_like(values_pos)
    positions = np.empty_like(values_pos)
    np.put_along_axis(values, order, values_pos, axis=2)
    np.put_along_axis(positions, order, np.broadcast_to(np.arange(1.0, k + 1), order.shape), axis=2)
    # The expected own effect (over the session-to-session variability), habituated.
    truth = a[0, 0] * delta[None, :] * ((1 - hab)[None, None, :] ** index).mean(axis=1)
    truth = np.broadcast_to(truth, (S, k)).copy()
    return BlockStudies(values, positions, common[..., 0], truth)


def _window(value: float) -> WindowValues:
    return WindowValues(0.0, 1.0, 100, 135.0, 0.0, {"lnrmssd": value})


def as_responses(
    values: np.ndarray, positions: np.ndarray, baseline: np.ndarray, labels: Sequence[str]
) -> list[SessionResponses]:
    """One study's sessions (n × k values) as the session responses ``compare`` reads."""
    out = []
    for i in range(values.shape[0]):
        base = _window(float(baseline[i]))
        blocks = tuple(
            BlockResponse(label=labels[j], category="control" if labels[j] == "control" else None,
                          position=int(positions[i, j]), start_s=0.0, end_s=1.0,
                          block=_window(float(values[i, j])),
                          vs_baseline={"lnrmssd": float(values[i, j] - baseline[i])},
                          vs_washout={}, reason=None, washout_reason=None, rating=None,
                          tingle_count=0)
            for j in sorted(range(values.shape[1]), key=lambda j: positions[i, j])
        )  # fmt: skip
        out.append(SessionResponses(i + 1, None, base, blocks))
    return out


def compare_study(
    studies: BlockStudies,
    s: int,
    labels: Sequence[str] = TRIGGERS,
    *,
    reference: ReferenceChoice = "auto",
    settings: CompareSettings | None = None,
) -> Comparison:
    """``compare`` on study ``s`` of a block-level batch."""
    sessions = as_responses(studies.values[s], studies.positions[s], studies.baseline[s], labels)
    return compare(sessions, "lnrmssd", reference=reference, settings=settings)


def true_contrast(truth: np.ndarray, j: int, reference: str, control: int | None = None) -> float:
    """The true effect of trigger ``j`` against ``reference`` in one study."""
    if reference == "control" and control is not None:
        return float(truth[j] - truth[control])
    others = [i for i in range(truth.size) if i not in (j, control)]
    return float(truth[j] - truth[others].mean())


@dataclass(frozen=True, slots=True)
class Calibration:
    """How one cell's studies scored against the truth."""

    n_studies: int
    coverage: float
    """Share of (study, trigger) intervals covering the true effect."""
    any_null_responds: float
    single_null_responds: float
    """The first null trigger alone called "responds"."""
    power: float
    """Share of studies calling the effect trigger "responds" (NaN: no effect trigger)."""
    rank_first: float


def calibrate(
    cell: str,
    n_sessions: int,
    n_studies: int,
    seed: int,
    *,
    effect: float = 0.0,
    settings: CompareSettings | None = None,
) -> Calibration:
    """``n_studies`` block-level studies of ``cell``: trigger ``a`` at ``effect``, the rest 0."""
    effects = (effect, 0.0, 0.0, 0.0)
    batch = block_studies(study_profile(cell, effects), n_studies, n_sessions, seed)
    covered = tested = any_null = single = power = first = 0
    nulls = [j for j, e in enumerate(effects) if e == 0.0]
    for s in range(n_studies):
        c = compare_study(batch, s, settings=settings)
        rows = {r.label: r for r in c.rows}
        for j, label in enumerate(TRIGGERS):
            r = rows[label]
            if math.isfinite(r.low):
                tested += 1
                covered += r.low <= true_contrast(batch.truth[s], j, c.reference) <= r.high
        calls = [rows[TRIGGERS[j]].verdict == "responds" for j in nulls]
        any_null += any(calls)
        single += calls[0]
        if effect:
            power += rows["a"].verdict == "responds"
            first += rows["a"].rank == 1
    nan = math.nan
    return Calibration(
        n_studies=n_studies,
        coverage=covered / tested if tested else nan,
        any_null_responds=any_null / n_studies,
        single_null_responds=single / n_studies,
        power=power / n_studies if effect else nan,
        rank_first=first / n_studies if effect else nan,
    )


def beat_session(
    profile: Profile,
    order: Sequence[str],
    seed: int,
    session_index: int = 0,
    design: Design = Design(),
) -> tuple[SessionResponses, dict[str, float]]:
    """One beat-level session, measured as recorded, and each block's mean true vagal tone."""
    segs = [Segment("baseline", design.baseline_s)]
    for i, label in enumerate(order):
        segs += [Segment("washout", design.washout_s)] if i else []
        segs.append(Segment(label, design.block_s))
    strap = SimulatedStrap(
        SimConfig(seed=seed, profile=profile, segments=tuple(segs), session_index=session_index,
                  artifacts=ARTIFACTS)
    )  # fmt: skip
    for _ in strap.events():
        pass
    truth = strap.truth
    segments, t = [], 0.0
    for s in segs:
        kind = s.label if s.label in {"baseline", "washout"} else "trigger"
        segments.append({"label": s.label, "kind": kind, "start_s": t, "end_s": t + s.duration_s})
        t += s.duration_s
    ok = truth.delivered
    responses = session_responses(
        truth.sent_t_s[ok], truth.rr_sent_ms[ok], np.zeros(int(ok.sum()), np.int64), segments,
        metrics=("lnrmssd",), settings=CompareSettings(onset_s=design.onset_s),
    )  # fmt: skip
    vagal: dict[str, float] = {}
    for seg in segments:
        start = seg["start_s"] + (design.onset_s if seg["kind"] == "trigger" else 0.0)
        inside = (truth.t_s >= start) & (truth.t_s < seg["end_s"])
        if seg["kind"] != "washout":
            vagal[str(seg["label"])] = float(np.mean(truth.vagal_tone[inside]))
    return responses, vagal


def mixedlm_coverage(cell: str, n_sessions: int, n_studies: int, seed: int) -> tuple[float, float]:
    """Coverage and any-null "responds" (unadjusted p < 5 % for any of three null contrasts
    against trigger ``a``... here all four null) of statsmodels' MixedLM: random intercept per
    session, fixed effects for trigger (sum-to-mean contrasts), position and the previous
    block's trigger (carry-over); Wald intervals. The comparison behind the README's choice."""
    import warnings

    import pandas as pd
    import statsmodels.formula.api as smf
    from scipy.stats import norm

    # MixedLM's Wald inference is on the normal scale (its conf_int and p-values use z, not t)
    z = float(norm.ppf(0.975))

    batch = block_studies(study_profile(cell, (0.0, 0.0, 0.0, 0.0)), n_studies, n_sessions, seed)
    covered = tested = any_hit = 0
    for s in range(n_studies):
        rows = []
        for i in range(n_sessions):
            order = np.argsort(batch.positions[s, i])
            for p_, j in enumerate(order):
                prev = TRIGGERS[order[p_ - 1]] if p_ else "none"
                rows.append({"y": batch.values[s, i, j], "trig": TRIGGERS[j], "pos": p_ + 1.0,
                             "prev": prev, "session": i})  # fmt: skip
        df = pd.DataFrame(rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = smf.mixedlm("y ~ C(trig, Sum) + pos + C(prev)", df, groups="session").fit()
            except (ValueError, np.linalg.LinAlgError):
                continue
        names = [c for c in fit.params.index if c.startswith("C(trig")]
        cov = fit.cov_params().loc[names, names].to_numpy()
        beta = fit.params[names].to_numpy()
        hit = False
        # Sum coding: effect of level j vs the grand mean; vs the mean of the others = 4/3 × it.
        lmat = np.vstack([np.eye(3), -np.ones((1, 3))]) * 4.0 / 3.0
        for j in range(4):
            est = float(lmat[j] @ beta)
            se = math.sqrt(max(float(lmat[j] @ cov @ lmat[j]), 0.0))
            tested += 1
            covered += abs(est - true_contrast(batch.truth[s], j, "others")) <= z * se
            hit |= abs(est) > z * se
        any_hit += hit
    return covered / max(tested, 1), any_hit / n_studies
