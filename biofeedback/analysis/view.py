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

_DECIMALS = {"lnrmssd": 2, "hr": 1, "hf": 2, "pns": 2, "resp": 1}
COLUMNS = ("trigger", "n", "mean change", "95 % interval", "P(best)", "verdict", "vs washout")


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


def _num(x: float, decimals: int, signed: bool = True) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"


def compare_view(c: Comparison) -> CompareView:
    """Table rows (strings) and forest data of a comparison, best trigger first."""
    d = _DECIMALS.get(c.metric.key, 2)
    rows = []
    for r in c.rows:
        ci = f"[{_num(r.low, d)}, {_num(r.high, d)}]" if math.isfinite(r.low) else "-"
        p_best = f"{r.p_best:.0%}" if math.isfinite(r.p_best) else "-"
        verdict = r.verdict
        if r.verdict == "responds":
            verdict = f"responds ({r.direction})"
        rows.append(
            (r.label, str(r.n), _num(r.mean, d), ci, p_best, verdict, _num(r.other_mean, d))
        )
    other = "washout" if c.reference == "baseline" else "baseline"
    title = (
        f"{c.metric.name} ({c.metric.unit}) vs {c.reference}, {c.n_used} of {c.n_sessions} "
        f"sessions; SWC ±{_num(c.swc, d + 1, signed=False)}"
    )
    return CompareView(
        title=title,
        unit=c.metric.unit,
        columns=(*COLUMNS[:-1], f"vs {other}"),
        rows=tuple(rows),
        forest=tuple(ForestPoint(r.label, r.mean, r.low, r.high, r.verdict) for r in c.rows),
        swc=c.swc,
        warnings=c.warnings,
    )


def format_table(view: CompareView) -> str:
    """Plain fixed-width text: title, header, rows, then warnings."""
    widths = [max(len(x) for x in col) for col in zip(view.columns, *view.rows, strict=True)]
    lines = [view.title]
    for cells in (view.columns, *view.rows):
        parts = [
            c.ljust(w) if i in (0, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    if not view.rows:
        lines.append("(no trigger blocks)")
    lines += [f"warning: {w}" for w in view.warnings]
    return "\n".join(lines)


def _f(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def comparison_to_dict(c: Comparison) -> dict[str, object]:
    """The JSON document of ``compare --json`` (NaN becomes null; units in the metric block)."""
    return {
        "metric": {"key": c.metric.key, "name": c.metric.name, "unit": c.metric.unit,
                   "method": c.metric.method, "relax_sign": c.metric.relax_sign},
        "reference": c.reference,
        "settings": c.settings.to_dict(),
        "n_sessions": c.n_sessions,
        "n_used": c.n_used,
        "baseline_sd": _f(c.baseline_sd),
        "swc": _f(c.swc),
        "triggers": [
            {"label": r.label, "n": r.n, "mean": _f(r.mean), "low": _f(r.low), "high": _f(r.high),
             "effect_size": _f(r.effect_size), "p_best": _f(r.p_best), "rank": r.rank,
             "verdict": r.verdict, "direction": r.direction,
             "other_reference": {"n": r.other_n, "mean": _f(r.other_mean),
                                 "low": _f(r.other_low), "high": _f(r.other_high)},
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
