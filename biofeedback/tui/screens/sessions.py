"""The sessions browser: a table of recorded sessions, and one session opened read-only."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from biofeedback.errors import BiofeedbackError
from biofeedback.live.messages import SegmentKind
from biofeedback.tui.chart import ChartData, nice_range, segment_spans
from biofeedback.tui.format import NO_VALUE, NOT_MEDICAL, format_clock
from biofeedback.tui.model import broken_at_chains
from biofeedback.tui.protocols import SessionsSource, SessionSummaryLike
from biofeedback.tui.widgets import BrailleChart, Panel

if TYPE_CHECKING:
    from biofeedback.sessions.bundle import SessionBundle


class TrendLike(Protocol):
    """A session's recomputed trend (``biofeedback.live.session_trend.SessionTrend``)."""

    @property
    def t_s(self) -> Sequence[float]: ...
    @property
    def relaxation(self) -> Sequence[float | None]: ...


COLUMNS = ("id", "started (UTC)", "duration", "source", "beats", "protocol", "status")


def summary_row(s: SessionSummaryLike) -> tuple[str, ...]:
    """One table row; times in UTC so that a row reads the same on every machine."""
    start = (
        NO_VALUE
        if s.started_wall_s is None
        else dt.datetime.fromtimestamp(s.started_wall_s, dt.UTC).strftime("%Y-%m-%d %H:%M")
    )
    duration = NO_VALUE if s.duration_s is None else format_clock(s.duration_s)
    return (
        str(s.id),
        start,
        duration,
        s.source or NO_VALUE,
        str(s.beat_count),
        s.protocol or NO_VALUE,
        s.status,
    )


class SessionsScreen(Screen[None]):
    """A table of sessions; enter opens one read-only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self, source: SessionsSource) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield Static("Recorded sessions: enter opens one (read-only), esc goes back.", id="title")
        yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static(NOT_MEDICAL, id="disclaimer")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.action_reload()

    def action_reload(self) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        table.clear()
        try:
            sessions = self.source.list_sessions()
        except BiofeedbackError as exc:
            self.notify(str(exc), title="cannot list sessions", severity="error")
            return
        for summary in sessions:
            table.add_row(*summary_row(summary), key=str(summary.id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        try:
            bundle = self.source.load_bundle(int(event.row_key.value))
        except BiofeedbackError as exc:
            self.notify(str(exc), title="cannot open the session", severity="error")
            return
        trend = getattr(self.source, "trend", None)
        self.app.push_screen(SessionViewScreen(bundle, trend=trend))


def _segments(
    records: Sequence[dict[str, Any]],
) -> list[tuple[float, float | None, str, SegmentKind]]:
    kinds = {k.value: k for k in SegmentKind}
    return [
        (
            float(r["start_s"]),
            None if r.get("end_s") is None else float(r["end_s"]),
            str(r.get("label", "")),
            kinds.get(str(r.get("kind")), SegmentKind.TRIGGER),
        )
        for r in records
        if "start_s" in r
    ]


def rr_chart(bundle: SessionBundle) -> ChartData:
    """The whole session's RR series with its segments shaded and its tingles marked."""
    t = np.asarray(bundle.beats["t_s"], np.float64)
    rr = np.asarray(bundle.beats["rr_ms"], np.float64)
    seg = np.asarray(bundle.beats["segment"], np.int64)
    t, rr = broken_at_chains(t, rr, seg)
    segments = _segments(bundle.segments)
    end = float(t[-1]) if t.size else 1.0
    start = min([s[0] for s in segments] + t[:1].tolist() + [end - 1.0])
    tingles = tuple(float(m["t_s"]) for m in bundle.markers if m.get("kind") == "tingle")
    return ChartData(
        t, rr, nice_range(rr, 100.0, 50.0), (start, end), segment_spans(segments, end), tingles
    )


def session_lines(bundle: SessionBundle) -> list[str]:
    """What the session was: id, device, status, beat and marker counts."""
    s, d = bundle.session, bundle.device
    return [
        f"session {s.get('id', NO_VALUE)} · {s.get('status', NO_VALUE)} · "
        f"source {s.get('source', NO_VALUE)} · device {d.get('name', NO_VALUE)}",
        f"{len(bundle.beats['t_s'])} beats · {len(bundle.segments)} segments · "
        f"{len(bundle.markers)} markers · program {bundle.program_version}",
    ]


def trend_chart(bundle: SessionBundle, trend: TrendLike) -> ChartData:
    """The relaxation score over the session (recomputed by the live processor), segments shaded."""
    t = np.asarray(trend.t_s, np.float64)
    z = np.asarray([math.nan if v is None else v for v in trend.relaxation], np.float64)
    base = rr_chart(bundle)
    return ChartData(
        t, z, nice_range(z, 2.0, 1.0, centre=0.0), base.x_range, base.spans, base.marks, "cyan", 1
    )


class SessionViewScreen(Screen[None]):
    """One recorded session, read-only: its RR series and relaxation trend, and its markers."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(
        self, bundle: SessionBundle, *, trend: Callable[[SessionBundle], TrendLike] | None = None
    ) -> None:
        super().__init__()
        self.bundle = bundle
        self._trend = trend

    def compose(self) -> ComposeResult:
        yield Panel(id="session-info")
        yield BrailleChart("no beats in this session", id="session-rr")
        if self._trend is not None:
            yield BrailleChart("computing…", id="session-trend")
        yield Static(NOT_MEDICAL, id="disclaimer")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#session-info", Panel).show_lines(session_lines(self.bundle))
        chart = self.query_one("#session-rr", BrailleChart)
        chart.border_title = "RR (ms), whole session · ✦ tingle"
        if self.bundle.beats["t_s"]:
            chart.data = rr_chart(self.bundle)
            if self._trend is not None:
                self.query_one(
                    "#session-trend", BrailleChart
                ).border_title = (
                    "relaxation vs baseline (SD), 60-s lnRMSSD, recomputed by the live processor"
                )
                self.run_worker(self._compute_trend, thread=True, exclusive=True)

    def _compute_trend(self) -> None:
        assert self._trend is not None
        data = trend_chart(self.bundle, self._trend(self.bundle))
        self.app.call_from_thread(self._show_trend, data)

    def _show_trend(self, data: ChartData) -> None:
        self.query_one("#session-trend", BrailleChart).data = data
