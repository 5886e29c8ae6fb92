"""``biofeedback report``: one session, or the trigger comparison, as a self-contained HTML page.

Figures need matplotlib, an optional dependency (the ``report`` extra). It is imported only
when a report is drawn; without it :class:`ReportUnavailable` says how to install it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Final

import numpy as np

from biofeedback.analysis import report_html as h
from biofeedback.analysis.blocks import SessionResponses
from biofeedback.analysis.compare import Comparison
from biofeedback.analysis.config import CompareSettings
from biofeedback.analysis.load import bundle_responses
from biofeedback.analysis.metrics import METRICS
from biofeedback.analysis.session_blocks import RecordedShapesOf, recorded_shapes, session_blocks
from biofeedback.analysis.view import compare_view
from biofeedback.errors import BiofeedbackError
from biofeedback.hrv import time_domain as td
from biofeedback.hrv.analysis import prepare_nn
from biofeedback.hrv.block_text import block_cells
from biofeedback.hrv.chains import same_chain
from biofeedback.hrv.frequency import Spectrum, frequency_domain
from biofeedback.hrv.settings import HrvSettings
from biofeedback.hrv.windows import sliding_windows
from biofeedback.sessions.bundle import SessionBundle

INSTALL_HINT: Final = (
    "matplotlib is not installed: install the report extra (pip install -e '.[report]')"
)
TREND_WINDOW_S: Final = 60.0
TREND_STEP_S: Final = 10.0

METHODS: Final = (
    "Beats are artifact-corrected per continuity chain (Lipponen & Tarvainen 2019, "
    "doi:10.1080/03091902.2019.1640306); no successive difference crosses a gap.",
    "A trigger block's value is measured after its first onset_s seconds; blocks with too "
    "little clean data or more than max_corrected_share corrected beats are excluded, with the "
    "reason.",
    "Across sessions each trigger's effect is the mean of per-session contrasts (the block's "
    "value minus the session's control block, or the mean of the session's other triggers; the "
    "session's own level cancels) with a t interval on n-1 degrees of freedom (from "
    "position_adjust_min_sessions sessions regressed on the position difference, n-2 df); the "
    "effect against the baseline is shown beside it (it includes time in session and "
    "carry-over). Verdict: 'responds' only when the Benjamini-Hochberg adjusted p-value across "
    "the triggers is below 5 % (Benjamini & Hochberg 1995) and the effect is at least the "
    "smallest worthwhile change, never below the measurement's typical error (Esco & Flatt "
    "2014) nor 0.5 × the between-session SD of the baseline (Plews et al. 2013, "
    "doi:10.1007/s40279-013-0071-8). The power estimate (sessions in all for 80 % power at the "
    "measured spread) is an estimate, not a promise. Calibration on the simulator: README.",
    "The relaxation trend is lnRMSSD over 60-s windows every 10 s as a z-score against the "
    "baseline's windows (SD floored at 0.11 ln ms, Esco & Flatt's 60-s typical error). The PNS "
    "index is a Kubios-style approximation whose population norms are not published.",
)


class ReportUnavailable(BiofeedbackError):
    """The optional plotting library is missing (exit status 1)."""


def _figures() -> ModuleType:
    try:
        from biofeedback.analysis import report_figures
    except ImportError:
        raise ReportUnavailable(INSTALL_HINT) from None
    return report_figures


def _trend(t: np.ndarray, rr: np.ndarray, seg: np.ndarray, base: tuple[float, float] | None,
           hrv: HrvSettings) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    table = sliding_windows(t, rr, seg, TREND_WINDOW_S, TREND_STEP_S, hrv, spectral=False)
    ln, end = table.ln_rmssd, table.t_end_s
    ok = np.isfinite(ln)
    ref = ok & (table.t_start_s >= base[0]) & (end <= base[1]) if base else ok
    if ref.sum() < 2:
        return end, np.full(end.size, np.nan)
    sd = max(float(np.std(ln[ref], ddof=1)), hrv.relaxation_sd_floor)
    return end, (ln - float(np.mean(ln[ref]))) / sd


def _spectrum_curves(series_t: np.ndarray, nn: np.ndarray, seg: np.ndarray,
                     windows: Sequence[tuple[str, float, float]],
                     hrv: HrvSettings) -> list[tuple[str, Spectrum]]:  # fmt: skip
    curves = []
    for label, a, b in windows:
        keep = (series_t >= a) & (series_t < b)
        if keep.sum() < 4 or np.ptp(series_t[keep]) < hrv.spectral_window_s:
            continue
        try:
            freq = frequency_domain(nn[keep], t_s=series_t[keep], segment=seg[keep], settings=hrv)
        except ValueError:
            continue
        curves.append((label, freq.spectrum))
    return curves


def session_report(
    bundle: SessionBundle,
    *,
    settings: CompareSettings | None = None,
    hrv: HrvSettings | None = None,
) -> str:
    """The HTML report of one session."""
    fig = _figures()
    cfg, hrv = settings or CompareSettings(), hrv or HrvSettings()
    b = bundle.beats
    if len(b["rr_ms"]) < 3:
        raise BiofeedbackError("the session has too few beats for a report")
    t, rr, seg = (np.asarray(b[k], dtype=np.float64) for k in ("t_s", "rr_ms", "segment"))
    seg = seg.astype(np.int64)
    series = prepare_nn(rr, t, seg, artifact_method=hrv.artifact_method)
    shapes = recorded_shapes(bundle)  # the stored ECG searched once for both sections
    responses = bundle_responses(
        bundle, metrics=tuple(METRICS), settings=cfg, hrv=hrv, shapes=shapes
    )
    # A segment still open (its session being recorded) has no extent to shade yet.
    segments = sorted((s for s in bundle.segments if s.get("end_s") is not None),
                      key=lambda s: float(s["start_s"]))  # fmt: skip
    base = next(((float(s["start_s"]), float(s["end_s"])) for s in segments
                 if s.get("kind") == "baseline"), None)  # fmt: skip
    trend_t, trend_z = _trend(t, rr, seg, base, hrv)
    same = same_chain(series.segment)
    windows = [("baseline", *base)] if base else [("whole record", -math.inf, math.inf)]
    windows += [(r.label, r.start_s + cfg.onset_s, r.end_s) for r in responses.blocks]
    curves = _spectrum_curves(series.t_s, series.nn_ms, series.segment, windows, hrv)
    s = bundle.session
    started = s.get("started_wall_s")
    try:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(started)) if started else "unknown"
    except (OverflowError, OSError, ValueError, TypeError):  # stored before imports were bounded
        when = "unknown"
    title = f"Session {s.get('id', '?')}: {when}"
    facts = [
        ("source", s.get("source")), ("device", bundle.device.get("name")),
        ("profile", s.get("profile")), ("beats", int(rr.size)),
        ("duration (min)", float(np.ptp(t)) / 60 if t.size else 0.0),
        ("corrected beats", f"{series.n_corrected / rr.size:.1%}"),
    ]  # fmt: skip
    sections = [
        "<h2>Session</h2>" + h.table(("", ""), [(k, v) for k, v in facts if v is not None]),
        "<h2>Tachogram and relaxation trend</h2>"
        + h.figure(
            fig.tachogram(series.t_s, series.nn_ms, segments, trend_t, trend_z),
            "NN intervals and lnRMSSD (60-s windows) as a z-score against the baseline; "
            "segments shaded.",
            "tachogram",
        ),
        "<h2>Each block vs this session's baseline</h2>"
        + _estimate_section(bundle, hrv, fig, shapes),
        "<h2>Trigger responses in this session (the comparison's inputs)</h2>"
        + _block_section(responses, cfg),
        "<h2>Poincaré plot</h2>"
        + h.figure(
            fig.poincare(
                series.nn_ms,
                same,
                td.sd1_ms(series.nn_ms, series.segment),
                td.sd2_ms(series.nn_ms, series.segment),
            ),
            "Each NN interval against the next (within continuity chains).",
            "poincare",
        ),
        "<h2>Spectrum</h2>"
        + h.figure(
            fig.spectra(curves, hrv), "Baseline and each trigger block after its onset.", "spectrum"
        ),
        _methods(cfg, hrv),
    ]
    return h.page(title, sections)


def _estimate_section(
    bundle: SessionBundle, hrv: HrvSettings, fig: ModuleType, shapes: RecordedShapesOf
) -> str:
    """The dashboard's session summary and ``show --json``'s ``blocks``: the same numbers."""
    from biofeedback.analysis.view import ForestPoint

    blocks = session_blocks(bundle, "ln_rmssd", hrv.correction, shapes).blocks
    if not blocks:
        return h.paragraphs(["No block after a baseline was recorded."])
    points, rows = [], []
    for b in blocks:
        change, low, high = (_real(b[k]) for k in ("change", "low", "high"))
        points.append(ForestPoint(f"{b['label']} ({b['kind']})", change, low, high, "-"))
        interval = f"[{low:+.2f}, {high:+.2f}]" if math.isfinite(low) else ""
        shown = f"{change:+.2f} {interval}" if math.isfinite(change) else ""
        share = f"{_real(b['artifact_share']):.1%}"
        breathing = block_cells(b)[2]
        rows.append((b["label"], b["kind"], shown, breathing, b["n_beats"], share,
                     b.get("reason") or ""))  # fmt: skip
    png = fig.forest(points, math.nan, "ΔlnRMSSD vs baseline (ln ms)", "This session's blocks")
    header = ("block", "kind", "ΔlnRMSSD [95 %] (ln ms)", "breaths/min [95 %]", "beats",
              "corrected", "no value because")  # fmt: skip
    return h.table(header, rows) + h.figure(
        png, "Each block after its onset exclusion against the baseline segment's windows: "
        "means of 15-s batches, their errors AR(1) with the lag-1 correlation estimated from "
        "the session, Satterthwaite degrees of freedom, the baseline's own uncertainty "
        "included (README, 'The dashboard'); breathing from the RSA peak of the 120-s windows "
        "inside the block ('? 6/min: Mayer': its only slow readings may be the 0.1-Hz blood-"
        "pressure wave); the same numbers as the dashboard's session summary and show --json.",
        "block estimates")  # fmt: skip


def _real(value: object) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _block_section(r: SessionResponses, cfg: CompareSettings) -> str:
    if not r.blocks:
        return h.paragraphs([f"No trigger blocks: {r.reason}."])
    header = ("position", "trigger", *(f"{m.name} ({m.unit})" for m in METRICS.values()),
              "ΔlnRMSSD vs washout", "excluded because")  # fmt: skip
    rows = [
        (b.position, b.label, *(b.response(k) for k in METRICS), b.response("lnrmssd", "washout"),
         b.reason or "")
        for b in r.blocks
    ]  # fmt: skip
    return h.paragraphs([
        f"Each trigger block after its first {cfg.onset_s:g} s, as `biofeedback compare` takes it "
        "across sessions (values against the baseline and the washout before it)."
    ]) + h.table(header, rows)  # fmt: skip


def _methods(cfg: CompareSettings, hrv: HrvSettings) -> str:
    return (
        "<h2>Methods and settings</h2>"
        + h.paragraphs(METHODS)
        + h.settings_table("Comparison settings", cfg.to_dict())
        + h.settings_table("HRV settings", hrv.to_dict())
    )


def compare_report(comparison: Comparison, *, hrv: HrvSettings | None = None) -> str:
    """The HTML report of a trigger comparison across sessions."""
    fig = _figures()
    c, view = comparison, compare_view(comparison)
    png = fig.forest(view.forest, view.swc, f"{c.metric.name} ({c.metric.unit})",
                     f"Effects vs {c.reference}")  # fmt: skip
    sections = [
        "<h2>Triggers</h2>" + h.paragraphs([view.title, view.basis])
        + h.table(view.columns, view.rows)
        + h.paragraphs([f"warning: {w}" for w in view.warnings], "warn")
        + h.figure(png, "Each trigger's effect with its 95 % t interval; the grey band is ± the "
                   "smallest worthwhile change.", "forest plot"),
        "<h2>Pairwise differences</h2>"
        + h.paragraphs(["Per-session differences with t intervals; descriptive, not tested."])
        + h.table(("a", "b", "n", "mean a − b", "low", "high"),
                  [(p.a, p.b, p.n, p.mean, p.low, p.high) for p in c.pairs]),
        "<h2>Order effects</h2>"
        + h.table(("position", "blocks", "mean response", "position effect"),
                  [(p.position, p.n, p.mean, p.residual) for p in c.positions]),
        "<h2>Self-report</h2>"
        + h.table(("trigger", "rated blocks", "relaxation (0-10)", "tingles (0-10)",
                   "tingle keys per block"),
                  [(r.label, r.n_rated, r.relaxation, r.tingles, r.tingle_markers_per_block)
                   for r in c.rows])
        + h.paragraphs([f"Agreement with the response (Spearman rho, n = {c.agreement.n}): "
                        f"relaxation {h.number(c.agreement.rho_relaxation, 2)}, "
                        f"tingles {h.number(c.agreement.rho_tingles, 2)}."]),
        "<h2>Excluded</h2>"
        + h.table(("session", "trigger", "position", "reason"),
                  [(e.session_id, e.label, e.position, e.reason) for e in c.exclusions]),
        _methods(c.settings, hrv or HrvSettings()),
    ]  # fmt: skip
    return h.page("Which triggers change my physiology?", sections)
