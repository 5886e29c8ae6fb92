"""The end of a session: each block's change from the baseline, and what one session can say.

The numbers are the summary the pipeline hands over (the records ``record`` prints and
``show ID --json`` carries as ``blocks``); this screen lays them out as tables that fit the
terminal, leading with the answer (each block vs baseline) and its reading.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from biofeedback.hrv.block_text import block_cells
from biofeedback.live.summary import ONE_SESSION_CAN, ONE_SESSION_CANNOT
from biofeedback.tui.braille import clock_label
from biofeedback.tui.format import NO_VALUE, NOT_MEDICAL


def headline(summary: dict[str, Any]) -> str:
    """``"Session 7 complete: 812 beats over 11:30, mean HR 70.1 bpm (from RR)"`` and problems.

    >>> headline({"session_id": 7, "status": "complete", "beats": 812, "duration_s": 690.2,
    ...           "mean_hr_bpm": 70.12, "disconnects": 0, "malformed_packets": 0})
    'Session 7 complete: 812 beats over 11:30, mean HR 70.1 bpm (from RR)'
    """
    hr = summary.get("mean_hr_bpm")
    text = (
        f"Session {summary.get('session_id', '-')} {summary.get('status', 'finished')}: "
        f"{summary.get('beats', 0)} beats over {clock_label(summary.get('duration_s') or 0.0)}, "
        f"mean HR {NO_VALUE if hr is None else f'{hr:.1f}'} bpm (from RR)"
    )
    problems = [
        f"{summary[key]} {name}"
        for key, name in (("disconnects", "disconnect(s)"), ("malformed_packets", "bad packet(s)"))
        if summary.get(key)
    ]
    return text + (", " + ", ".join(problems) if problems else "")


def reading(block: dict[str, Any]) -> Text:
    """What the interval says: above 0, below 0, or not clear (0 inside it).

    >>> reading({"change": 0.2, "low": 0.1, "high": 0.3}).plain
    '↑ higher'
    >>> reading({"change": 0.05, "low": -0.1, "high": 0.2}).plain
    'no clear change'
    """
    low, high = block.get("low"), block.get("high")
    if low is None or high is None:
        return Text(NO_VALUE, style="dim")
    if low > 0:
        return Text("↑ higher", style="green")
    if high < 0:
        return Text("↓ lower", style="yellow")
    return Text("no clear change", style="dim")


def blocks_table(blocks: list[dict[str, Any]], *, compact: bool = False) -> Table:
    """Each block's change vs baseline: lnRMSSD [95 %], RMSSD %, HR, breathing, artifacts.

    ``compact`` (below 100 columns) leaves out the kind, the RMSSD % and the breathing interval
    so the rest fits 76.
    """
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    table.add_column("block", no_wrap=True, overflow="ellipsis", max_width=12 if compact else 20)
    if not compact:
        table.add_column("kind", no_wrap=True)
    table.add_column("ΔlnRMSSD [95 %]", no_wrap=True)
    table.add_column("reading", no_wrap=True)
    if not compact:
        table.add_column("RMSSD", justify="right", no_wrap=True)
    table.add_column("ΔHR" if compact else "ΔHR bpm", justify="right", no_wrap=True)
    table.add_column("br/min" if compact else "breaths /min", justify="right", no_wrap=True)
    table.add_column("corr.", justify="right", no_wrap=True)
    table.add_column("✦", justify="right", no_wrap=True)
    for block in blocks:
        ln, hr, breathing, share = block_cells(block, breathing_interval=not compact)
        change = block.get("change")
        pct = NO_VALUE if change is None else f"{100 * math.expm1(change):+.0f} %"
        cells: list[str | Text] = [block.get("label", "")]
        if not compact:
            cells.append(block.get("kind", ""))
        cells += [ln, reading(block)]
        if not compact:
            cells.append(pct)
        cells += [hr, breathing, share, str(block.get("tingles", 0))]
        table.add_row(*cells)
    return table


def segments_table(segments: list[dict[str, Any]]) -> Table:
    """Every segment: its length, mean HR and mean 60-s lnRMSSD, tingles."""
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    table.add_column("segment", no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_column("kind", no_wrap=True)
    table.add_column("length", justify="right", no_wrap=True)
    table.add_column("HR bpm", justify="right", no_wrap=True)
    table.add_column("lnRMSSD 60 s", justify="right", no_wrap=True)
    table.add_column("✦", justify="right", no_wrap=True)
    for seg in segments:
        end = seg.get("end_s")
        length = NO_VALUE if end is None else clock_label(end - seg["start_s"])
        if seg.get("complete") is False:
            length += " (cut)"
        hr, ln = seg.get("mean_hr_bpm"), seg.get("mean_ln_rmssd_60s")
        table.add_row(
            seg["label"],
            seg["kind"],
            length,
            NO_VALUE if hr is None else f"{hr:.1f}",
            NO_VALUE if ln is None else f"{ln:.2f}",
            str(seg.get("tingles", 0)),
        )
    return table


class SummaryScreen(ModalScreen[None]):
    """The session summary the headless ``record`` prints; ``c`` opens the comparison."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,u", "dismiss", "Close the summary"),
        Binding("c", "compare", "Compare triggers across sessions"),
    ]

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        s = self.summary
        blocks = s.get("blocks") or []
        with VerticalScroll(id="summary-box"):
            yield Static(headline(s), id="summary-headline")
            if blocks:
                yield Static(
                    "Each block vs this session's baseline (after its first 45 s; 95 % interval;"
                    " lnRMSSD in ln ms, higher = more vagal activity; ΔHR in bpm):",
                    classes="summary-heading",
                )
                compact = self.app.size.width < 100
                yield Static(blocks_table(blocks, compact=compact), id="summary-blocks")
                yield Static(f"{ONE_SESSION_CAN}\n{ONE_SESSION_CANNOT}", id="summary-can")
            else:
                yield Static("No block after a baseline: nothing to compare.", id="summary-can")
            yield Static("Segments (means of the 60-s windows):", classes="summary-heading")
            yield Static(segments_table(s.get("segments") or []), id="summary-segments")
            yield Static(
                f"✦ tingles · corr. = corrected beats · ? explains the numbers. {NOT_MEDICAL}",
                id="summary-keys",
            )

    def on_mount(self) -> None:
        box = self.query_one("#summary-box")
        box.border_title = "session summary"
        box.border_subtitle = "c compare sessions · esc close · ↑↓ scroll"

    async def action_compare(self) -> None:
        self.dismiss()
        await self.app.run_action("compare")
