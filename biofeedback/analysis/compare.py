"""Compare triggers across sessions: the table, the pairwise differences, order and self-report.

:func:`compare` pools :class:`~.blocks.SessionResponses` for one metric. A session's blocks of
the same trigger (protocols with repetitions) are averaged first, so every session weighs the
same. Verdicts, the ranking and the probability of being best use the chosen reference
(default: the baseline); the response against the washout before each block is reported beside
it. Works the same on simulated and imported sessions: a session without trigger segments gives
no blocks and is listed as excluded.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from biofeedback.analysis.blocks import BlockResponse, SessionResponses
from biofeedback.analysis.config import CompareSettings
from biofeedback.analysis.metrics import Metric, metric
from biofeedback.analysis.order import PositionRow, by_position, order_warning
from biofeedback.analysis.selfreport import spearman_rho
from biofeedback.analysis.stats import FloatArray, baseline_swc, pair_difference, summarise
from biofeedback.analysis.verdict import direction

Reference = Literal["baseline", "washout"]


@dataclass(frozen=True, slots=True)
class TriggerRow:
    """One trigger's pooled response (metric units; NaN when absent), best first."""

    label: str
    n: int
    mean: float
    low: float
    high: float
    effect_size: float
    """Mean response / between-session SD of the baseline value."""
    p_best: float
    rank: int | None
    verdict: str
    direction: str
    other_n: int
    other_mean: float
    other_low: float
    other_high: float
    """The same against the other reference (washout when the primary is the baseline)."""
    positions: tuple[int, ...]
    n_rated: int
    relaxation: float | None
    tingles: float | None
    tingle_markers_per_block: float


@dataclass(frozen=True, slots=True)
class PairDifference:
    """Mean response of ``a`` minus that of ``b`` with its 95 % interval."""

    a: str
    b: str
    n: int
    mean: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Exclusion:
    session_id: int | None
    label: str | None
    position: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Agreement:
    """Spearman's rho of ratings vs the relaxing-direction response (NaN when n < min)."""

    n: int
    rho_relaxation: float
    rho_tingles: float


@dataclass(frozen=True, slots=True)
class Comparison:
    metric: Metric
    reference: Reference
    settings: CompareSettings
    n_sessions: int
    n_used: int
    baseline_sd: float
    swc: float
    rows: tuple[TriggerRow, ...]
    pairs: tuple[PairDifference, ...]
    positions: tuple[PositionRow, ...]
    agreement: Agreement
    exclusions: tuple[Exclusion, ...]
    warnings: tuple[str, ...] = field(default=())


def _table(
    sessions: Sequence[SessionResponses], labels: list[str], key: str, reference: str
) -> FloatArray:
    table = np.full((len(sessions), len(labels)), np.nan)
    col = {label: j for j, label in enumerate(labels)}
    for i, s in enumerate(sessions):
        values: dict[str, list[float]] = defaultdict(list)
        for b in s.blocks:
            v = b.response(key, reference)
            if math.isfinite(v):
                values[b.label].append(v)
        for label, vs in values.items():
            table[i, col[label]] = sum(vs) / len(vs)
    return table


def _exclusions(sessions: Sequence[SessionResponses], key: str, ref: str) -> list[Exclusion]:
    out: list[Exclusion] = []
    for s in sessions:
        if s.reason is not None:
            out.append(Exclusion(s.session_id, None, None, s.reason))
        for b in s.blocks:
            why = b.reason if ref == "baseline" else b.washout_reason
            if why is None and not math.isfinite(b.response(key, ref)):
                why = b.block.missing.get(key) or f"{key} unavailable for the reference"
            if why is not None:
                out.append(Exclusion(s.session_id, b.label, b.position, why))
    return out


def _ratings(blocks: list[BlockResponse]) -> tuple[int, float | None, float | None]:
    rel = [b.rating.relaxation for b in blocks if b.rating and b.rating.relaxation is not None]
    tin = [b.rating.tingles for b in blocks if b.rating and b.rating.tingles is not None]
    n = sum(1 for b in blocks if b.rating is not None)
    return (n, sum(rel) / len(rel) if rel else None, sum(tin) / len(tin) if tin else None)


def _agreement(blocks: list[BlockResponse], m: Metric, ref: str, min_n: int) -> Agreement:
    def rho(name: str) -> tuple[int, float]:
        pairs = [
            (getattr(b.rating, name), m.relax_sign * b.response(m.key, ref))
            for b in blocks
            if b.rating is not None and getattr(b.rating, name) is not None
        ]
        pairs = [p for p in pairs if math.isfinite(p[1])]
        if len(pairs) < min_n:
            return (len(pairs), math.nan)
        return (len(pairs), spearman_rho([p[0] for p in pairs], [p[1] for p in pairs]))

    n_rel, rho_rel = rho("relaxation")
    n_tin, rho_tin = rho("tingles")
    return Agreement(max(n_rel, n_tin), rho_rel, rho_tin)


def compare(
    sessions: Sequence[SessionResponses],
    metric_key: str = "lnrmssd",
    *,
    reference: Reference = "baseline",
    settings: CompareSettings | None = None,
) -> Comparison:
    """Pool the trigger responses of ``sessions`` for one metric (see the module docstring)."""
    cfg = settings or CompareSettings()
    m = metric(metric_key)
    other: Reference = "washout" if reference == "baseline" else "baseline"
    labels = sorted({b.label for s in sessions for b in s.blocks})
    table = _table(sessions, labels, m.key, reference)
    used = np.isfinite(table).any(axis=1) if labels else np.zeros(len(sessions), bool)
    base = np.array([s.baseline.value(m.key) if s.baseline else np.nan for s in sessions])
    sd, swc = baseline_swc(base[used], cfg.swc_factor, cfg.sd_floor(m.key))
    main = summarise(table, swc, m.relax_sign, cfg)
    side = summarise(_table(sessions, labels, m.key, other), swc, m.relax_sign, cfg)
    blocks = [b for s in sessions for b in s.blocks]
    ranked = sorted(
        (j for j in range(len(labels)) if main.n[j] >= cfg.min_sessions),
        key=lambda j: -m.relax_sign * main.mean[j],
    )
    rank = {j: r for r, j in enumerate(ranked, start=1)}
    rows = []
    for j, label in enumerate(labels):
        mine = [b for b in blocks if b.label == label]
        n_rated, rel, tin = _ratings(mine)
        rows.append(
            TriggerRow(
                label=label,
                n=main.n[j],
                mean=main.mean[j],
                low=main.low[j],
                high=main.high[j],
                effect_size=main.mean[j] / sd if sd > 0 else math.nan,
                p_best=main.p_best[j],
                rank=rank.get(j),
                verdict=main.verdict[j],
                direction=direction(main.mean[j], m.relax_sign),
                other_n=side.n[j],
                other_mean=side.mean[j],
                other_low=side.low[j],
                other_high=side.high[j],
                positions=tuple(sorted(b.position for b in mine)),
                n_rated=n_rated,
                relaxation=rel,
                tingles=tin,
                tingle_markers_per_block=sum(b.tingle_count for b in mine) / len(mine),
            )
        )
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.label))
    pairs = tuple(
        PairDifference(labels[a], labels[b], *pair_difference(table, main.boot, a, b))
        for i, a in enumerate(ranked)
        for b in ranked[i + 1 :]
    )
    usable = [(b.label, b.position, b.response(m.key, reference)) for b in blocks]
    positions = {r.label: r.positions for r in rows}
    warnings = _warnings(len(sessions), int(used.sum()), swc, cfg, order_warning(positions))
    return Comparison(
        metric=m,
        reference=reference,
        settings=cfg,
        n_sessions=len(sessions),
        n_used=int(used.sum()),
        baseline_sd=sd,
        swc=swc,
        rows=tuple(rows),
        pairs=pairs,
        positions=by_position(usable, {r.label: r.mean for r in rows}),
        agreement=_agreement(blocks, m, reference, cfg.min_rho_n),
        exclusions=tuple(_exclusions(sessions, m.key, reference)),
        warnings=warnings,
    )


def _warnings(
    n_sessions: int, n_used: int, swc: float, cfg: CompareSettings, order: str | None
) -> tuple[str, ...]:
    out = []
    if n_used < cfg.min_sessions:
        out.append(
            f"only {n_used} of {n_sessions} sessions have a usable trigger block; "
            f"verdicts need {cfg.min_sessions}"
        )
    elif not math.isfinite(swc):
        out.append("no smallest worthwhile change: fewer than 2 usable baselines")
    if order is not None:
        out.append(order)
    return tuple(out)
