"""What a comparison looks like: table rows and forest-plot data for the CLI and the dashboard.

:func:`compare_view` is pure and cheap: the dashboard's compare screen calls it with a
:class:`~.compare.Comparison` and draws ``rows`` as a table and ``forest`` as a forest plot
(each trigger's mean with its interval, zero and ± the smallest worthwhile change as guides).
:func:`comparison_to_dict` is the ``compare --json`` document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from biofeedback.analysis.compare import Comparison
from biofeedback.analysis.effects import Effect

_DECIMALS = {"lnrmssd": 2, "hr": 1, "hf": 2, "pns": 2, "resp": 1}
COLUMNS = (
    "trigger", "n", "effect", "95 % interval", "adj. p", "verdict", "vs baseline", "power estimate",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ForestPoint:
    """One line of the forest plot (metric units; NaN when absent)."""

    label: str
    mean: float
    low: float
    high: float
    verdict: str


@dataclass(frozen=True, slots=True)
class CompareView:
    title: str
    unit: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    forest: tuple[ForestPoint, ...]
    swc: float
    """Draw guides at ±swc around zero (NaN: unknown)."""
    warnings: tuple[str, ...]
    basis: str = ""
    """One line: what the effects are measured against, from how many sessions and tests."""


def _num(x: float, decimals: int, signed: bool = True) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"


def power_text(needed: int | None, n: int) -> str:
    """The power estimate as the user reads it.

    >>> power_text(9, 4), power_text(None, 4), power_text(3, 5)
    ('about 5 more sessions', '-', 'enough sessions')
    """
    if needed is None:
        return "-"
    more = needed - n
    if more <= 0:
        return "enough sessions"
    return f"about {more} more session{'s' if more > 1 else ''}"


def basis_line(c: Comparison) -> str:
    """What the effects are against, from how many sessions, with how many tests."""
    return (
        f"effect = block value minus {c.reference_text}; {c.n_used} of {c.n_sessions} "
        f"sessions; {c.n_comparisons} triggers tested together ({c.multiplicity})"
    )


def compare_view(c: Comparison) -> CompareView:
    """Table rows (strings) and forest data of a comparison, best trigger first."""
    d = _DECIMALS.get(c.metric.key, 2)
    rows = []
    for r in c.rows:
        ci = f"[{_num(r.low, d)}, {_num(r.high, d)}]" if math.isfinite(r.low) else "-"
        q = f"{r.p_adjusted:.3f}" if math.isfinite(r.p_adjusted) else "-"
        verdict = r.verdict
        if r.verdict == "responds":
            verdict = f"responds ({r.direction})"
        if r.is_control:
            rows.append((r.label, str(r.vs_baseline.n), "reference", "-", "-", "control",
                         _num(r.vs_baseline.estimate, d), "-"))  # fmt: skip
            continue
        rows.append(
            (r.label, str(r.n), _num(r.mean, d), ci, q, verdict,
             _num(r.vs_baseline.estimate, d), power_text(r.sessions_needed, r.n))
        )  # fmt: skip
    title = (
        f"{c.metric.name} ({c.metric.unit}) vs {c.reference}, {c.n_used} of {c.n_sessions} "
        f"sessions; SWC ±{_num(c.swc, d + 1, signed=False)}"
    )
    return CompareView(
        title=title,
        unit=c.metric.unit,
        columns=COLUMNS,
        rows=tuple(rows),
        forest=tuple(
            ForestPoint(r.label, r.mean, r.low, r.high, r.verdict)
            for r in c.rows
            if not r.is_control
        ),
        swc=c.swc,
        warnings=c.warnings,
        basis=basis_line(c),
    )


def format_table(view: CompareView) -> str:
    """Plain fixed-width text: title, header, rows, then warnings."""
    widths = [max(len(x) for x in col) for col in zip(view.columns, *view.rows, strict=True)]
    lines = [view.title, view.basis] if view.basis else [view.title]
    for cells in (view.columns, *view.rows):
        parts = [
            c.ljust(w) if i in (0, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    if not view.rows:
        lines.append("(no trigger blocks)")
    lines.append(
        "power estimate: sessions in all that would find an effect of the larger of the "
        "estimate and the SWC with 80 % probability, at the spread you measured"
    )
    lines += [f"warning: {w}" for w in view.warnings]
    return "\n".join(lines)


def _f(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _effect(e: Effect) -> dict[str, object]:
    return {"n": e.n, "estimate": _f(e.estimate), "low": _f(e.low), "high": _f(e.high),
            "se": _f(e.se), "df": e.df, "p_value": _f(e.p_value), "sd": _f(e.sd),
            "position_adjusted": e.position_adjusted, "order_varied": e.order_varied}  # fmt: skip


def comparison_to_dict(c: Comparison) -> dict[str, object]:
    """The JSON document of ``compare --json`` (NaN becomes null; keys in the README)."""
    return {
        "metric": {"key": c.metric.key, "name": c.metric.name, "unit": c.metric.unit,
                   "method": c.metric.method, "relax_sign": c.metric.relax_sign},
        "reference": c.reference,
        "reference_text": c.reference_text,
        "control": c.control,
        "model": c.model,
        "multiplicity": c.multiplicity,
        "n_comparisons": c.n_comparisons,
        "settings": c.settings.to_dict(),
        "n_sessions": c.n_sessions,
        "n_used": c.n_used,
        "baseline_sd": _f(c.baseline_sd),
        "swc": _f(c.swc),
        "triggers": [
            {"label": r.label, "is_control": r.is_control, "effect": _effect(r.effect),
             "p_adjusted": _f(r.p_adjusted), "rank": r.rank, "verdict": r.verdict,
             "direction": r.direction, "vs_baseline": _effect(r.vs_baseline),
             "sessions_needed": r.sessions_needed,
             "positions": list(r.positions), "n_rated": r.n_rated,
             "relaxation": _f(r.relaxation), "tingles": _f(r.tingles),
             "tingle_markers_per_block": _f(r.tingle_markers_per_block)}
            for r in c.rows
        ],
        "pairs": [
            {"a": p.a, "b": p.b, "n": p.n, "mean": _f(p.mean), "low": _f(p.low),
             "high": _f(p.high)}
            for p in c.pairs
        ],
        "positions": [
            {"position": p.position, "n": p.n, "mean": _f(p.mean), "residual": _f(p.residual)}
            for p in c.positions
        ],
        "agreement": {"n": c.agreement.n, "rho_relaxation": _f(c.agreement.rho_relaxation),
                      "rho_tingles": _f(c.agreement.rho_tingles)},
        "exclusions": [
            {"session_id": e.session_id, "label": e.label, "position": e.position,
             "reason": e.reason}
            for e in c.exclusions
        ],
        "warnings": list(c.warnings),
    }  # fmt: skip
