"""The report's figures as PNG bytes, drawn with matplotlib's Agg canvas (no display, no pyplot).

Only the ``report*`` modules import matplotlib (the optional ``report`` extra); figures are
built on :class:`matplotlib.figure.Figure` objects, so no global pyplot state is touched.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from biofeedback.analysis.view import ForestPoint
from biofeedback.hrv.frequency import Spectrum
from biofeedback.hrv.settings import HrvSettings
from biofeedback.text import terminal_safe

_KIND_COLOURS = {"settling": "#eeeeee", "baseline": "#d9d9d9", "washout": "#dbe9f6"}
_TRIGGER_COLOURS = ("#fde0c5", "#d5efcf", "#e5d8f0", "#f9d5e5", "#fff2b2", "#cfeeee")
_BAND_COLOURS = {"VLF": "#eeeeee", "LF": "#fde0c5", "HF": "#d5efcf"}


def plain(text: object) -> str:
    r"""``text`` for matplotlib as literal text. A ``$`` starts mathtext, and a label such as
    ``$\foo$`` would make the figure fail to draw: each is escaped (drawn as a dollar). Control
    characters, which no font has a glyph for, are shown as ``\xNN`` as on the terminal.

    >>> plain("cost $5, $x$\x1b")
    'cost \\$5, \\$x\\$\\x1b'
    """
    return terminal_safe(text).replace("$", r"\$")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _shade(ax: Axes, segments: Sequence[Mapping[str, Any]], *, labels: bool) -> None:
    colours: dict[str, str] = {}
    for seg in segments:
        kind, label = seg.get("kind", ""), str(seg.get("label", ""))
        if kind == "trigger":
            colour = colours.setdefault(label, _TRIGGER_COLOURS[len(colours) % 6])
        else:
            colour = _KIND_COLOURS.get(kind, "#f5f5f5")
        ax.axvspan(float(seg["start_s"]) / 60, float(seg["end_s"]) / 60, color=colour, lw=0)
        if labels and kind in {"trigger", "baseline"}:
            mid = (float(seg["start_s"]) + float(seg["end_s"])) / 120
            ax.text(mid, 0.98, plain(label), transform=ax.get_xaxis_transform(), ha="center",
                    va="top", fontsize=7, rotation=90)  # fmt: skip


def tachogram(
    t_s: np.ndarray,
    nn_ms: np.ndarray,
    segments: Sequence[Mapping[str, Any]],
    trend_t_s: np.ndarray,
    trend_z: np.ndarray,
) -> bytes:
    """NN intervals over time and the relaxation trend, session segments shaded."""
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for ax in (top, bottom):
        _shade(ax, segments, labels=ax is top)
    top.plot(t_s / 60, nn_ms, lw=0.6, color="#1f4e79")
    top.set_ylabel("NN interval (ms)")
    top.set_title("Tachogram (artifact-corrected)")
    bottom.axhline(0, color="black", lw=0.6)
    bottom.plot(trend_t_s / 60, trend_z, lw=1.2, color="#2e7d32")
    bottom.set_ylabel("relaxation (z vs baseline)")
    bottom.set_xlabel("time (min)")
    return _png(fig)


def poincare(nn_ms: np.ndarray, same_chain: np.ndarray, sd1_ms: float, sd2_ms: float) -> bytes:
    """Poincaré plot: each NN interval against the next one within a continuity chain."""
    fig = Figure(figsize=(4.8, 4.8), layout="constrained")
    ax = fig.subplots()
    x, y = nn_ms[:-1][same_chain], nn_ms[1:][same_chain]
    ax.scatter(x, y, s=4, alpha=0.4, color="#1f4e79", lw=0)
    lo, hi = float(np.min(nn_ms)), float(np.max(nn_ms))
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.6)
    ax.set_xlabel("NN$_n$ (ms)")
    ax.set_ylabel("NN$_{n+1}$ (ms)")
    ax.set_title(f"Poincaré plot: SD1 {sd1_ms:.1f} ms, SD2 {sd2_ms:.1f} ms")
    ax.set_aspect("equal")
    return _png(fig)


def spectra(curves: Sequence[tuple[str, Spectrum]], settings: HrvSettings) -> bytes:
    """Power spectral densities (ms²/Hz) with the VLF/LF/HF bands shaded."""
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    for name, band in (("VLF", settings.vlf_band_hz), ("LF", settings.lf_band_hz),
                       ("HF", settings.hf_band_hz)):  # fmt: skip
        ax.axvspan(*band, color=_BAND_COLOURS[name], lw=0)
        ax.text(sum(band) / 2, 0.98, name, transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize=8)  # fmt: skip
    for label, spec in curves:
        keep = spec.freq_hz <= 0.5
        ax.plot(spec.freq_hz[keep], spec.psd_ms2_hz[keep], lw=1.0, label=plain(label))
    ax.set_xlim(0, 0.5)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD (ms²/Hz)")
    ax.set_title(f"Spectrum ({settings.method}, {settings.resample_hz:g} Hz resampling)")
    if curves:
        ax.legend(fontsize=7)
    return _png(fig)


def forest(points: Sequence[ForestPoint], swc: float, xlabel: str, title: str) -> bytes:
    """Each trigger's mean response with its interval; zero and ± the SWC as guides."""
    fig = Figure(figsize=(7, 0.6 * max(len(points), 2) + 1.4), layout="constrained")
    ax = fig.subplots()
    if math.isfinite(swc):
        ax.axvspan(-swc, swc, color="#eeeeee", lw=0, label="± smallest worthwhile change")
    ax.axvline(0, color="black", lw=0.6)
    for i, p in enumerate(points):
        y = len(points) - 1 - i
        colour = "#2e7d32" if p.verdict == "responds" else "#555555"
        if math.isfinite(p.low):
            ax.plot([p.low, p.high], [y, y], color=colour, lw=2)
        if math.isfinite(p.mean):
            ax.plot([p.mean], [y], "o", color=colour)
    ax.set_yticks(range(len(points)), [plain(p.label) for p in reversed(points)])
    ax.set_ylim(-0.7, max(len(points), 1) - 0.3)
    ax.set_xlabel(plain(xlabel))
    ax.set_title(plain(title))
    if math.isfinite(swc):
        ax.legend(fontsize=7, loc="lower right")
    return _png(fig)
