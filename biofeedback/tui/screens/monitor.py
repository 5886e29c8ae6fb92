"""The live monitor: heart rate, tachogram, parasympathetic trend, segment, quality, device."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import ClassVar, Final

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Footer, Static

from biofeedback.errors import BiofeedbackError
from biofeedback.tui.chart import ChartData, nice_range, segment_spans, withheld_spans
from biofeedback.tui.format import (
    NOT_MEDICAL,
    device_lines,
    estimate_lines,
    heart_rate_caption,
    quality_lines,
    segment_lines,
)
from biofeedback.tui.model import DashboardModel
from biofeedback.tui.protocols import PipelineLike
from biofeedback.tui.trend_metric import TrendMetric
from biofeedback.tui.widgets import BrailleChart, Panel

MIN_SIZE: Final = (80, 24)
"""Below this the panels cannot show their numbers: the screen says so instead."""

TACHOGRAM_WINDOW_S = 180.0
"""The tachogram shows the last 3 minutes (the brief asks for 2-5)."""

ECG_STRIP_S = 5.0
"""The ECG strip (shown only when the strap streams ECG) shows the last 5 seconds."""

_TREND_SCALE = {
    TrendMetric.RELAXATION: (4.0, 1.0, 0.0),
    TrendMetric.LN_RMSSD: (1.0, 0.5, None),
    TrendMetric.PNS_INDEX: (2.0, 0.5, 0.0),
}
"""Per metric: minimum y span, y step and the centre of a symmetric axis (z-scores)."""


class MonitorScreen(Screen[None]):
    """Everything live on one screen; redrawn by :meth:`redraw` when the model changed."""

    # Textual declares this ``ClassVar[...] | None``, which mypy will not let a ClassVar override.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012
    """Below 32 rows the panels lose their borders (see ``app.tcss``)."""
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    """Below 100 columns the estimates panel takes the room its lines need."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "toggle_recording", "Record on/off"),
        Binding("n", "next_segment", "Next segment"),
        Binding("b", "previous_segment", "Previous segment"),
        Binding("space", "toggle_pause", "Pause/resume playback"),
        Binding("s", "trigger_start", "Mark trigger start (manual)"),
        Binding("e", "trigger_stop", "Mark trigger stop (manual)"),
        Binding("t", "tingle", "Mark a tingle"),
        Binding("m", "switch_metric", "Switch trend metric"),
        Binding("u", "app.summary", "Summary of the finished session"),
        Binding("o", "app.sessions", "Sessions browser"),
        Binding("c", "app.compare", "Compare triggers"),
        Binding("d", "app.devices", "Choose a strap"),
    ]

    def __init__(self, pipeline: PipelineLike, model: DashboardModel) -> None:
        super().__init__()
        self.pipeline = pipeline
        self.model = model
        self._drawn = (-1, -1, -1)
        self._ecg_drawn = -1
        self.clock: Callable[[], float] = time.monotonic
        """The clock of the model's ``received_s`` (tests may replace it)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            with Vertical(id="hr-box"):
                yield Digits("--", id="hr")
                yield Static(heart_rate_caption(self.model), id="hr-caption")
            yield Panel(id="segment")
            yield Panel(id="device")
        yield BrailleChart("ECG: waiting for samples…", id="ecg")
        yield BrailleChart("RR tachogram: waiting for beats…", id="tachogram")
        yield BrailleChart("trend: waiting for the first HRV window…", id="trend")
        with Horizontal(id="bottom"):
            yield Panel(id="estimates")
            yield Panel(id="quality")
        yield Static(f"{NOT_MEDICAL}  Press ? for help.", id="disclaimer")
        yield Footer()
        yield Static("", id="too-small")

    def on_mount(self) -> None:
        self.query_one(
            "#tachogram"
        ).border_title = f"RR tachogram (ms), last {TACHOGRAM_WINDOW_S:.0f} s"
        self.query_one("#segment").border_title = "protocol"
        self.query_one("#device").border_title = "strap"
        self.query_one("#estimates").border_title = "parasympathetic estimates · ? explains"
        self.query_one("#quality").border_title = "signal quality"
        self._fit(self.app.size.width, self.app.size.height)
        self.redraw()
        self.set_interval(1.0, self._draw_device)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Below :data:`MIN_SIZE` show only what size is needed, instead of losing panels."""
        need_w, need_h = MIN_SIZE
        small = width < need_w or height < need_h
        self.set_class(small, "-too-small")
        if small:
            self.query_one("#too-small", Static).update(
                f"terminal too small (need {need_w}×{need_h}, have {width}×{height})\n"
                "Enlarge the window; recording goes on. q quits."
            )

    def redraw(self) -> None:
        """Push the parts of the model that changed since the last call into the widgets."""
        m = self.model
        beats, trend, status = m.beats_version, m.trend_version, m.status_version
        if beats != self._drawn[0]:
            self._draw_beats()
        if trend != self._drawn[1]:
            self._draw_trend()
        if status != self._drawn[2] or beats != self._drawn[0]:
            self._draw_status()
        self._drawn = (beats, trend, status)
        self.redraw_ecg()

    @property
    def drawn_status(self) -> int:
        """The model's status version the panels show."""
        return self._drawn[2]

    def redraw_ecg(self) -> None:
        """The ECG strip, if the model's ECG changed since it was drawn."""
        if self.model.ecg_version != self._ecg_drawn:
            self._draw_ecg()
            self._ecg_drawn = self.model.ecg_version

    def _draw_ecg(self) -> None:
        """The last :data:`ECG_STRIP_S` of ECG with a ▼ over each detected beat."""
        trace = self.model.ecg
        if trace is None:
            return
        chart = self.query_one("#ecg", BrailleChart)
        self.set_class(True, "-ecg")
        t, uv, beats = trace.strip(ECG_STRIP_S)
        if not t.size:
            return
        end = float(t[-1])
        counts = {int(k): n for k, n in trace.label_counts.items()}
        chart.border_title = (
            f"ECG (µV), last {ECG_STRIP_S:.0f} s · ▼ beats found · V {counts.get(2, 0)} so far"
        )
        chart.data = ChartData(
            t,
            uv,
            nice_range(uv, 1000.0, 500.0),
            (end - ECG_STRIP_S, end),
            marks=tuple(beats.tolist()),
            colour="red",
            mark_char="▼",
        )

    def _draw_beats(self) -> None:
        m = self.model
        hr = m.device.hr_byte_bpm
        if hr is None and m.snapshot is not None and m.snapshot.hr_bpm.value is not None:
            hr = round(m.snapshot.hr_bpm.value)
        self.query_one("#hr", Digits).update("--" if hr is None else str(hr))
        self.query_one("#hr-caption", Static).update(heart_rate_caption(m))
        t, rr = m.recent_beats(TACHOGRAM_WINDOW_S)
        if t.size:
            end = float(t[-1])
            self.query_one("#tachogram", BrailleChart).data = ChartData(
                t,
                rr,
                nice_range(rr, 100.0, 50.0),
                (end - TACHOGRAM_WINDOW_S, end),
                withheld_spans(m),
                time_axis=True,
            )

    def _draw_trend(self) -> None:
        m = self.model
        chart = self.query_one("#trend", BrailleChart)
        chart.border_title = f"{m.metric.title} ({m.metric.unit}), whole session · m switches"
        t, y = m.trend_series()
        starts = [s.start_s for s in m.segments]
        if not t.size and not starts:
            return
        now = m.now_s if m.now_s is not None else float(t[-1])
        first = min([*starts, *t[:1].tolist()])
        spans = segment_spans([(s.start_s, s.end_s, s.label, s.kind) for s in m.segments], now)
        min_span, step, centre = _TREND_SCALE[m.metric]
        chart.data = ChartData(
            t,
            y,
            nice_range(y, min_span, step, centre),
            (first, max(now, first + 1.0)),
            spans,
            tuple(m.tingles_t_s),
            colour="cyan",
            y_digits=1,
            time_axis=True,
        )

    def _draw_status(self) -> None:
        m = self.model
        self.query_one("#segment", Panel).show_lines(segment_lines(m))
        self._draw_device()
        self.query_one("#estimates", Panel).show_lines(estimate_lines(m))
        self.query_one("#quality", Panel).show_lines(quality_lines(m))

    def _draw_device(self) -> None:
        """The strap panel; also once a second, so silence after the last beat shows."""
        m = self.model
        lines = device_lines(
            m.device, silent_s=m.silent_s(self.clock()), stream_ended=m.stream_ended
        )
        self.query_one("#device", Panel).show_lines(lines)

    async def _control(self, call: Callable[[], Awaitable[None]]) -> None:
        try:
            await call()
        except BiofeedbackError as exc:
            self.notify(str(exc), title="not done", severity="error")

    async def action_toggle_recording(self) -> None:
        p = self.pipeline
        await self._control(p.stop_recording if self.model.recording else p.start_recording)

    async def action_next_segment(self) -> None:
        await self._control(self.pipeline.next_segment)

    async def action_previous_segment(self) -> None:
        await self._control(self.pipeline.previous_segment)

    async def action_toggle_pause(self) -> None:
        await self._control(self.pipeline.toggle_pause)

    async def action_trigger_start(self) -> None:
        await self._control(self.pipeline.mark_trigger_start)

    async def action_trigger_stop(self) -> None:
        await self._control(self.pipeline.mark_trigger_stop)

    async def action_tingle(self) -> None:
        await self._control(self.pipeline.mark_tingle)

    def action_switch_metric(self) -> None:
        metric = self.model.switch_metric()
        self.redraw()
        self.notify(f"trend shows {metric.title}", timeout=2)
