"""Ground-truth studies on the simulated strap: does :func:`~.compare.compare` find the truth?

A *study* is ``n_sessions`` simulated sessions of one profile: a baseline, then the triggers in
a random order (a new order per session), each followed by a washout. Beats are the strap's
decoded beats (with light detector artifacts, corrected as for real data); the true response of
a block is the mean simulated vagal tone (ln RMSSD) over the block's analysed part minus that
over the baseline. :func:`recovery_rates` runs many studies and reports how often the method
gets the truth right (the acceptance numbers of the README's "Comparing triggers").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from biofeedback.analysis.blocks import SessionResponses, session_responses
from biofeedback.analysis.compare import Comparison, compare
from biofeedback.analysis.config import CompareSettings
from devices.simulator import ArtifactRates, Profile, Segment, SimConfig, SimulatedStrap

TRIGGERS: Final = ("personal-attention", "brushing", "tapping", "crinkling")
"""True ΔlnRMSSD in the responder profile: 0.40, 0.20, 0.10 and 0 (the null trigger)."""
NULL_TRIGGER: Final = "crinkling"
ARTIFACTS: Final = ArtifactRates(ectopic=0.002, missed=0.001, extra=0.001)


@dataclass(frozen=True, slots=True)
class Design:
    """Block lengths (s) of one simulated session."""

    baseline_s: float = 180.0
    block_s: float = 180.0
    washout_s: float = 60.0


def simulate_session(
    profile: Profile,
    order: Sequence[str],
    seed: int,
    *,
    design: Design = Design(),
    settings: CompareSettings | None = None,
    metrics: Sequence[str] = ("lnrmssd",),
) -> tuple[SessionResponses, dict[str, float]]:
    """One session's responses and each trigger's true ΔlnRMSSD (vs the baseline)."""
    cfg = settings or CompareSettings()
    segs = [Segment("baseline", design.baseline_s)]
    for i, label in enumerate(order):
        segs += [Segment("washout", design.washout_s)] if i else []
        segs.append(Segment(label, design.block_s))
    strap = SimulatedStrap(SimConfig(seed=seed, profile=profile, segments=tuple(segs)))
    for _ in strap.events():
        pass
    truth = strap.truth
    spans: list[tuple[str, str, float, float]] = []
    t = 0.0
    for s in segs:
        kind = s.label if s.label in {"baseline", "washout"} else "trigger"
        spans.append((s.label, kind, t, t + s.duration_s))
        t += s.duration_s
    segments = [{"label": a, "kind": k, "start_s": b, "end_s": e} for a, k, b, e in spans]
    ok = truth.delivered
    t_s, rr_ms = truth.sent_t_s[ok], truth.rr_sent_ms[ok]
    responses = session_responses(
        t_s, rr_ms, np.zeros(t_s.size, np.int64), segments, metrics=metrics, settings=cfg
    )
    _, _, base_start, base_end = spans[0]
    in_base = (truth.t_s >= base_start) & (truth.t_s < base_end)
    vagal_base = float(np.mean(truth.vagal_tone[in_base]))
    true_delta: dict[str, float] = {}
    for label, kind, start_s, end_s in spans[1:]:
        if kind == "trigger":
            inside = (truth.t_s >= start_s + cfg.onset_s) & (truth.t_s < end_s)
            true_delta[label] = float(np.mean(truth.vagal_tone[inside])) - vagal_base
    return responses, true_delta


@dataclass(frozen=True, slots=True)
class StudyResult:
    comparison: Comparison
    true_delta: dict[str, float]
    """Mean over the study's sessions of each trigger's true ΔlnRMSSD."""


def run_study(
    profile: Profile,
    n_sessions: int,
    seed: int,
    *,
    triggers: Sequence[str] = TRIGGERS,
    design: Design = Design(),
    settings: CompareSettings | None = None,
) -> StudyResult:
    """Simulate one study (a new random order per session) and compare its triggers."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    sessions, truths = [], []
    for i in range(n_sessions):
        order = [triggers[j] for j in rng.permutation(len(triggers))]
        sim_seed = int(np.random.SeedSequence(seed, spawn_key=(7, i)).generate_state(1)[0])
        responses, truth = simulate_session(
            profile, order, sim_seed, design=design, settings=settings
        )
        sessions.append(responses)
        truths.append(truth)
    true_delta = {k: float(np.mean([t[k] for t in truths])) for k in triggers}
    return StudyResult(compare(sessions, "lnrmssd", settings=settings), true_delta)


@dataclass(frozen=True, slots=True)
class RecoveryRates:
    """How often the comparison recovered the truth over ``n_studies`` studies per profile."""

    n_studies: int
    n_clear_best: int
    """Responder studies whose best trigger's true Δ beats the next one's by >= the margin."""
    best_first: float
    """Share of those in which the truly best trigger ranked first."""
    null_responds: float
    """Share of responder studies calling the null trigger "responds"."""
    nonresponder_silent: float
    """Share of non-responder studies with no "responds" verdict at all."""
    mean_abs_error: float
    """Mean |estimated − true| ΔlnRMSSD (ln ms) over responder studies and triggers."""


def recovery_rates(
    responder: Profile,
    non_responder: Profile,
    n_studies: int,
    *,
    n_sessions: int = 5,
    seed: int = 0,
    margin: float = 0.15,
    settings: CompareSettings | None = None,
) -> RecoveryRates:
    """Run ``n_studies`` studies of each profile and score them against the truth."""
    clear = first = null_hits = silent = 0
    errors: list[float] = []
    for k in range(n_studies):
        study = run_study(responder, n_sessions, seed + k, settings=settings)
        errors += [abs(r.mean - study.true_delta[r.label]) for r in study.comparison.rows]
        truth = sorted(study.true_delta.items(), key=lambda kv: -kv[1])
        if truth[0][1] - truth[1][1] >= margin:
            clear += 1
            first += study.comparison.rows[0].label == truth[0][0]
        null = next(r for r in study.comparison.rows if r.label == NULL_TRIGGER)
        null_hits += null.verdict == "responds"
        other = run_study(non_responder, n_sessions, 1_000_003 + seed + k, settings=settings)
        silent += all(r.verdict != "responds" for r in other.comparison.rows)
    return RecoveryRates(
        n_studies=n_studies,
        n_clear_best=clear,
        best_first=first / clear if clear else float("nan"),
        null_responds=null_hits / n_studies,
        nonresponder_silent=silent / n_studies,
        mean_abs_error=float(np.mean(errors)),
    )
