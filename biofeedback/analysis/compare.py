"""Compare triggers across sessions: effects against a reference, verdicts, ranking, order, ratings.

:func:`compare` takes the :class:`~.blocks.SessionResponses` of the sessions and one metric,
builds the sessions × conditions table of block values (a session's repeated blocks of one
trigger averaged, so every session weighs the same) and estimates each trigger's effect with
:mod:`.effects`:

* against the **control** condition when the sessions hold one (a block of category
  ``control``, e.g. ``neutral-control`` in ``asmr-vs-control.toml``);
* otherwise against the **mean of the other triggers** of the same session;
* always also against the session's **baseline** (a secondary figure: it is confounded with
  time in session and carry-over, so it gives no verdict).

The verdict: "responds" when the Benjamini-Hochberg adjusted p-value across the triggers is
below 5 % and the effect is at least the smallest worthwhile change; "not enough data" with
fewer than ``min_sessions`` sessions or when the trigger's position never varied against its
reference. Works the same on recorded and imported sessions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np

from biofeedback.analysis.blocks import BlockResponse, SessionResponses
from biofeedback.analysis.config import CompareSettings
from biofeedback.analysis.effects import (
    NO_EFFECT,
    Effect,
    FloatArray,
    Reference,
    bh_adjust,
    contrasts,
    fit_effect,
    sessions_needed,
)
from biofeedback.analysis.metrics import Metric, metric
from biofeedback.analysis.order import PositionRow, by_position, order_warning
from biofeedback.analysis.selfreport import spearman_rho
from biofeedback.analysis.verdict import direction, verdict

ReferenceChoice = Literal["auto", "control", "others", "baseline"]
MODEL: Final = (
    "per-session contrasts (the session's level cancels), mean with a t interval on n-1 df; "
    "regressed on the position difference (n-2 df) from {adjust} sessions"
)
MULTIPLICITY: Final = "Benjamini-Hochberg false-discovery rate, 5 %, across the triggers"
_REFERENCE_TEXT: Final = {
    "control": "the control condition '{control}' of the same session",
    "others": "the mean of the other triggers of the same session",
    "baseline": "the session's baseline",
}


@dataclass(frozen=True, slots=True)
class TriggerRow:
    """One condition's effect (metric units; NaN when absent), best first."""

    label: str
    is_control: bool
    """The control condition itself (the reference; no effect, no verdict)."""
    effect: Effect
    """Against the comparison's reference (see :attr:`Comparison.reference`)."""
    p_adjusted: float
    """Benjamini-Hochberg adjusted p-value over the comparison's triggers (NaN: not tested)."""
    rank: int | None
    verdict: str
    direction: str
    vs_baseline: Effect
    """The same against the session's baseline: includes time-in-session and carry-over."""
    sessions_needed: int | None
    """Power estimate: sessions in all that would find an effect the size of the larger of the
    estimate and the SWC with 80 % probability, at the measured contrast SD (None: not
    estimable or beyond 200)."""
    positions: tuple[int, ...]
    n_rated: int
    relaxation: float | None
    tingles: float | None
    tingle_markers_per_block: float

    @property
    def n(self) -> int:
        return self.effect.n

    @property
    def mean(self) -> float:
        return self.effect.estimate

    @property
    def low(self) -> float:
        return self.effect.low

    @property
    def high(self) -> float:
        return self.effect.high


@dataclass(frozen=True, slots=True)
class PairDifference:
    """Effect of ``a`` minus that of ``b`` (per-session differences, t interval); descriptive:
    not part of the tested family."""

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
    reference_text: str
    """What every effect is measured against, in words."""
    control: str | None
    model: str
    multiplicity: str
    n_comparisons: int
    """Triggers tested together (the Benjamini-Hochberg family)."""
    settings: CompareSettings
    n_sessions: int
    n_used: int
    baseline_sd: float
    swc: float
    """Smallest worthwhile change: the larger of the metric's typical error and ``swc_factor``
    × the between-session SD of the baseline."""
    rows: tuple[TriggerRow, ...]
    pairs: tuple[PairDifference, ...]
    positions: tuple[PositionRow, ...]
    agreement: Agreement
    exclusions: tuple[Exclusion, ...]
    warnings: tuple[str, ...] = field(default=())


def block_table(
    sessions: Sequence[SessionResponses], labels: list[str], key: str
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Block values, mean positions (sessions × labels, NaN: none) and baseline values."""
    values = np.full((len(sessions), len(labels)), np.nan)
    positions = np.full_like(values, np.nan)
    col = {label: j for j, label in enumerate(labels)}
    for i, s in enumerate(sessions):
        got: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for b in s.blocks:
            v = b.value(key)
            if math.isfinite(v):
                got[b.label].append((v, b.position))
        for label, vs in got.items():
            values[i, col[label]] = sum(v for v, _ in vs) / len(vs)
            positions[i, col[label]] = sum(p for _, p in vs) / len(vs)
    base = np.array(
        [
            s.baseline.value(key) if s.baseline and s.baseline.reason is None else np.nan
            for s in sessions
        ]
    )
    return values, positions, base


def baseline_swc(
    baseline_values: FloatArray, factor: float, floor: float = 0.0
) -> tuple[float, float]:
    """Between-session SD (ddof=1) of the baseline values and the smallest worthwhile change,
    the larger of ``floor`` (the metric's typical error) and ``factor`` × SD.

    >>> baseline_swc(np.array([3.5, 3.7, 3.6]), 0.5)
    (0.1, 0.05)
    >>> baseline_swc(np.array([3.5, 3.7, 3.6]), 0.5, floor=0.11)
    (0.1, 0.11)
    """
    values = baseline_values[np.isfinite(baseline_values)]
    if values.size < 2:
        return (math.nan, floor if floor > 0 else math.nan)
    sd = float(np.std(values, ddof=1))
    return (round(sd, 12), round(max(floor, factor * sd), 12))


def _exclusions(sessions: Sequence[SessionResponses], key: str) -> list[Exclusion]:
    out: list[Exclusion] = []
    for s in sessions:
        if s.reason is not None:
            out.append(Exclusion(s.session_id, None, None, s.reason))
        for b in s.blocks:
            if math.isfinite(b.value(key)):
                continue
            why = b.reason if not b.complete else b.block.reason
            why = why or b.block.missing.get(key) or f"{key} unavailable"
            out.append(Exclusion(s.session_id, b.label, b.position, why))
    return out


def _ratings(blocks: list[BlockResponse]) -> tuple[int, float | None, float | None]:
    rel = [b.rating.relaxation for b in blocks if b.rating and b.rating.relaxation is not None]
    tin = [b.rating.tingles for b in blocks if b.rating and b.rating.tingles is not None]
    n = sum(1 for b in blocks if b.rating is not None)
    return (n, sum(rel) / len(rel) if rel else None, sum(tin) / len(tin) if tin else None)


def _agreement(blocks: list[BlockResponse], m: Metric, min_n: int) -> Agreement:
    def rho(name: str) -> tuple[int, float]:
        pairs = [
            (getattr(b.rating, name), m.relax_sign * b.response(m.key, "baseline"))
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


def _resolve(choice: ReferenceChoice, control: str | None, n_triggers: int) -> Reference:
    if choice == "auto":
        if control is not None:
            return "control"
        return "others" if n_triggers >= 2 else "baseline"
    if choice == "control" and control is None:
        return "others" if n_triggers >= 2 else "baseline"
    return choice


def _pair(values: FloatArray, a: int, b: int) -> tuple[int, float, float, float]:
    d = values[:, a] - values[:, b]
    e = fit_effect(d[np.isfinite(d)], np.zeros(int(np.isfinite(d).sum())), adjust_min_n=10**6)
    return (e.n, e.estimate, e.low, e.high)


def compare(
    sessions: Sequence[SessionResponses],
    metric_key: str = "lnrmssd",
    *,
    reference: ReferenceChoice = "auto",
    settings: CompareSettings | None = None,
) -> Comparison:
    """Each trigger's effect across ``sessions`` for one metric (see the module docstring)."""
    cfg = settings or CompareSettings()
    m = metric(metric_key)
    blocks = [b for s in sessions for b in s.blocks]
    labels = sorted({b.label for b in blocks})
    controls = sorted({b.label for b in blocks if b.is_control})
    control = controls[0] if controls else None
    triggers = [x for x in labels if x != control]
    ref = _resolve(reference, control, len(triggers))
    values, pos, base = block_table(sessions, labels, m.key)
    used = np.isfinite(values).any(axis=1) if labels else np.zeros(len(sessions), bool)
    sd, swc = baseline_swc(base[used], cfg.swc_factor, cfg.typical_error_of(m.key))
    c_col = labels.index(control) if control is not None else None

    def effect(j: int, against: Reference) -> Effect:
        if against == "others" and len(triggers) < 2:
            return NO_EFFECT
        d, dpos = contrasts(values, pos, base, j, against, c_col)
        return fit_effect(d, dpos, adjust_min_n=cfg.position_adjust_min_sessions)

    main = {x: effect(labels.index(x), ref) for x in triggers}
    side = {x: effect(labels.index(x), "baseline") for x in labels}
    tested = [x for x in triggers if main[x].n >= cfg.min_sessions and main[x].order_varied]
    adjusted = dict(zip(tested, bh_adjust([main[x].p_value for x in tested]), strict=True))
    ranked = sorted(
        (x for x in triggers if main[x].n >= cfg.min_sessions),
        key=lambda x: -m.relax_sign * main[x].estimate,
    )
    rank = {x: r for r, x in enumerate(ranked, start=1)}
    rows = []
    for x in labels:
        mine = [b for b in blocks if b.label == x]
        n_rated, rel, tin = _ratings(mine)
        e = main.get(x, NO_EFFECT)
        q = adjusted.get(x, math.nan)
        v = verdict(e, q, swc, cfg.min_sessions) if x != control else "control"
        needed = None
        if v not in {"responds", "control"} and e.order_varied:
            target = max(abs(e.estimate), swc) if math.isfinite(e.estimate) else swc
            needed = sessions_needed(e.sd, target, max(len(tested), 1))
        rows.append(
            TriggerRow(
                label=x,
                is_control=x == control,
                effect=e,
                p_adjusted=q,
                rank=rank.get(x),
                verdict=v,
                direction=direction(e.estimate, m.relax_sign),
                vs_baseline=side[x],
                sessions_needed=needed,
                positions=tuple(sorted(b.position for b in mine)),
                n_rated=n_rated,
                relaxation=rel,
                tingles=tin,
                tingle_markers_per_block=sum(b.tingle_count for b in mine) / len(mine),
            )
        )
    rows.sort(key=lambda r: (r.is_control, r.rank is None, r.rank or 0, r.label))
    pairs = tuple(
        PairDifference(a, b, *_pair(values, labels.index(a), labels.index(b)))
        for i, a in enumerate(ranked)
        for b in ranked[i + 1 :]
    )
    usable = [(b.label, b.position, b.response(m.key, "baseline")) for b in blocks]
    n_used = int(used.sum())
    warnings = _warnings(len(sessions), n_used, cfg, ref, rows, order_warning(
        {r.label: r.positions for r in rows}))  # fmt: skip
    return Comparison(
        metric=m,
        reference=ref,
        reference_text=_REFERENCE_TEXT[ref].format(control=control),
        control=control,
        model=MODEL.format(adjust=cfg.position_adjust_min_sessions),
        multiplicity=MULTIPLICITY,
        n_comparisons=len(tested),
        settings=cfg,
        n_sessions=len(sessions),
        n_used=n_used,
        baseline_sd=sd,
        swc=swc,
        rows=tuple(rows),
        pairs=pairs,
        positions=by_position(usable, {r.label: r.vs_baseline.estimate for r in rows}),
        agreement=_agreement(blocks, m, cfg.min_rho_n),
        exclusions=tuple(_exclusions(sessions, m.key)),
        warnings=warnings,
    )


def _warnings(
    n_sessions: int,
    n_used: int,
    cfg: CompareSettings,
    ref: Reference,
    rows: list[TriggerRow],
    order: str | None,
) -> tuple[str, ...]:
    out = []
    if n_used < cfg.min_sessions:
        out.append(
            f"only {n_used} of {n_sessions} sessions have a usable trigger block; "
            f"verdicts need {cfg.min_sessions}"
        )
    if order is not None:
        out.append(order)
    else:
        fixed = [
            r.label for r in rows if not r.is_control and r.n >= 2 and not r.effect.order_varied
        ]
        if fixed:
            out.append(
                f"position never varied for {', '.join(fixed)}: its effect cannot be told "
                "apart from the position's (not enough data)"
            )
    if ref == "baseline":
        out.append(
            "no second trigger or control: effects are against the baseline, so they include "
            "time in session and carry-over, not the trigger alone"
        )
    elif ref == "others":
        out.append(
            "no control condition: effects are relative to the other triggers (if all of them "
            "relax you, none stands out); a neutral control block answers 'does it relax me'"
        )
        up = [r.label for r in rows if r.verdict == "responds" and r.direction == "more relaxing"]
        down = [r.label for r in rows if r.verdict == "responds" and r.direction == "less relaxing"]
        if up and down:
            out.append(
                f"{', '.join(down)}: less relaxing than the others only; the others include "
                f"{', '.join(up)}, which relaxes you, so a trigger with no effect of its own "
                "reads lower beside it"
            )
    return tuple(out)
