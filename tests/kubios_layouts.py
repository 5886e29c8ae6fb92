"""Kubios report texts written for these tests, in the layouts Kubios versions write.

Not Kubios output: the rows, section titles and names reproduce the layouts documented in
``biofeedback/sessions/formats_kubios.py`` (3.x text report, 3.4+/4.x CSV report, several
samples, European locale), around an RR series the test gives; Kubios's results in them are
placeholders unless the test says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

TIME_3X = ("Mean RR  (ms)", "STD RR (ms)", "Mean HR (beats/min)", "RMSSD (ms)", "pNNxx (%)")
TIME_4X = ("Mean RR  (ms)", "SDNN (ms)", "Mean HR (beats/min)", "RMSSD (ms)", "pNNxx (%)")


@dataclass
class Layout:
    """One report: its settings lines, samples and the RR table(s)."""

    rr_s: Sequence[np.ndarray]  # one series per RR column
    settings: dict[str, str] = field(default_factory=dict)
    samples: Sequence[tuple[str, str]] = (("Sample 1", "00:00:00-00:05:00"),)
    per_sample: dict[str, Sequence[str]] = field(default_factory=dict)  # e.g. a correction row
    sample_lines: Sequence[str] = ("Sample Analysis Type: Single sample",)
    results: Sequence[dict[str, float]] = ({},)
    names: tuple[str, ...] = TIME_3X
    sep: str = ","
    decimal_comma: bool = False
    first_lines: tuple[str, ...] = ("HRV ANALYSIS RESULTS - 02-Dec-2026 10:00:00",)
    version: str = "Kubios HRV Standard\n3.1.0.1"
    rr_title: str = "RR INTERVAL DATA and SPECTRUM ESTIMATES"
    rr_unit: str = "(s)"
    with_rr: bool = True

    def num(self, value: float, digits: int = 4) -> str:
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.decimal_comma else text

    def row(self, *cells: str) -> str:
        return self.sep.join(cells)

    def text(self) -> str:
        n = len(self.samples)
        out = [*self.first_lines, *self.version.splitlines(), "", "Parameters"]
        out += [f" {k}: {v}" for k, v in self.settings.items()]
        out += ["", "RR Interval Samples Selected for Analysis"]
        out.append(self.row("", *(name for name, _ in self.samples), ""))
        out.append(self.row("  Sample limits (hh:mm:ss):", *(lim for _, lim in self.samples), ""))
        out += [f"  {line}" for line in self.sample_lines]
        out += [self.row(f"  {k}:", *v, "") for k, v in self.per_sample.items()]
        out += ["", "", "RESULTS FOR A SINGLE SAMPLE" if n == 1 else "RESULTS FOR SINGLE SAMPLES"]
        out += ["", self.row("Time-Domain Results", "")]
        for name in self.names:
            cells = [c for r in self.results for c in (self.num(r.get(name, 1.0)), "")]
            out.append(self.row(f"  {name}:", *cells, ""))
        out += ["", self.row("Frequency-Domain Results", *(["FFT spectrum", "AR spectrum"] * n))]
        fft = [self.row(self.num(r.get("LF (ms^2)", 1.0)), self.num(2.0)) for r in self.results]
        out.append(self.row("  LF (ms^2):", *fft, ""))
        out += ["", self.row("Nonlinear Results", "")]
        for name in ("SD1 (ms)", "Sample entropy (SampEn)", "alpha 1"):
            cells = [c for r in self.results for c in (self.num(r.get(name, 1.0)), "")]
            out.append(self.row(f"  {name}:", *cells, ""))
        out += ["", ""]
        if self.with_rr:
            out += self._rr_table()
        return "\r\n".join(out) + "\r\n"

    def _rr_table(self) -> list[str]:
        scale = 1000.0 if self.rr_unit == "(ms)" else 1.0
        blocks = len(self.rr_s)
        titles = [f"SAMPLE {k + 1}" if blocks > 1 else "SAMPLE 1" for k in range(blocks)]
        out = [self.rr_title + self.sep]
        out.append(self.row("", *(c for t in titles for c in (t, "", "", "")), ""))
        out.append(self.row("", *(["RR Data", "", "FFT spectrum", ""] * blocks), ""))
        out.append(self.row("", *(["Time", "RR interval", "Frequency", "PSD"] * blocks), ""))
        out.append(self.row("", *([self.rr_unit, self.rr_unit, "(Hz)", "(ms^2/Hz)"] * blocks), ""))
        longest = max(len(rr) for rr in self.rr_s)
        offsets = np.cumsum([0.0, *(float(np.sum(rr)) for rr in self.rr_s)])
        times = [off + np.cumsum(rr) for off, rr in zip(offsets, self.rr_s, strict=False)]
        for i in range(longest):
            cells = [""]
            for rr, t in zip(self.rr_s, times, strict=True):
                if i < len(rr):
                    cells += [self.num(t[i] * scale, 3), self.num(rr[i] * scale, 3)]
                else:
                    cells += ["", ""]
                cells += [self.num(i / 300, 3), self.num(10.0)] if i < 40 else ["", ""]
            out.append(self.row(*cells, ""))
        return out


def report_3x(rr_s: np.ndarray, settings: dict[str, str], correction: str = "none") -> str:
    """A Kubios HRV Standard 3.1-like report of one sample with the given settings and the
    correction line (``Artifact correction: none``) under its sample."""
    base = {
        "Number of samples": "1",
        "Detrending method": "none",
        "Threshold for NNxx/pNNxx": "50 ms",
        "Interpolation rate": "4 Hz",
        "Window width": "300 s",
        "Window overlap": "50 %",
        "DFA, short-term fluctuations": "4-12 beats",
        "DFA, long-term fluctuations": "13-64 beats",
    }
    base |= settings
    lines = ("Sample Analysis Type: Single sample", correction)
    return Layout([rr_s], settings=base, sample_lines=lines).text()
