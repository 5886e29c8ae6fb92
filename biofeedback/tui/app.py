"""The dashboard application and its factory, used by the CLI and the tests.

One exclusive worker consumes ``pipeline.events()``: it folds each event into the pure
:class:`DashboardModel` and posts a small message. Redraws are throttled to at most
:data:`MAX_REDRAWS_PER_S` and happen only when the model changed: the first change after a
quiet spell is drawn as soon as the messages already queued are handled (low latency), a
burst at most every 250 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from typing import Any, ClassVar, Final

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches

from biofeedback.errors import BiofeedbackError
from biofeedback.live.messages import (
    EcgProcessed,
    Notice,
    PipelineEvent,
    RatingRequested,
    SessionFinished,
    SnapshotComputed,
)
from biofeedback.tui.messages import (
    AlertRaised,
    BeatReceived,
    EcgReceived,
    RatingAsked,
    SnapshotUpdated,
    StatusChanged,
)
from biofeedback.tui.model import DashboardModel
from biofeedback.tui.protocols import (
    CompareFn,
    HoldsRatings,
    PipelineLike,
    ScanFn,
    SessionsSource,
    StrapFound,
)
from biofeedback.tui.screens.compare import CompareScreen
from biofeedback.tui.screens.confirm import ConfirmScreen
from biofeedback.tui.screens.devices import DevicePickerScreen
from biofeedback.tui.screens.help import HelpScreen, help_rows
from biofeedback.tui.screens.monitor import MonitorScreen
from biofeedback.tui.screens.rating import Ratings, RatingScreen
from biofeedback.tui.screens.sessions import SessionsScreen
from biofeedback.tui.screens.summary import SummaryScreen
from devices.events import Beat

MAX_REDRAWS_PER_S: Final = 4
_SIGNALS: Final = (signal.SIGTERM, signal.SIGHUP)
_YIELD_EVERY: Final = 64
"""Give the UI a turn after this many events of a burst (a fast replay never starves it)."""


def message_for(
    event: PipelineEvent,
) -> BeatReceived | SnapshotUpdated | StatusChanged | EcgReceived:
    """The coalescing message that tells the app an event reached the model."""
    if isinstance(event, Beat):
        return BeatReceived(event)
    if isinstance(event, EcgProcessed):
        return EcgReceived()
    if isinstance(event, SnapshotComputed):
        return SnapshotUpdated(event.snapshot.t_s)
    return StatusChanged()


def alert_for(event: PipelineEvent) -> AlertRaised | None:
    """A notification for events a person must hear about at once, else ``None``.

    A lost strap is announced by the pipeline's own :class:`Notice` (one per outage, with what
    it does about it); the device panel shows the disconnect and each reconnect attempt.
    """
    if isinstance(event, Notice):
        return AlertRaised(event.message, event.severity)
    if isinstance(event, SessionFinished):
        return AlertRaised(f"Session {event.session_id} finished", "information")
    return None


class BiofeedbackApp(App[StrapFound | None]):
    """The live dashboard; returns the strap chosen in the device picker, if any."""

    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help: list every key"),
        Binding("q", "quit", "Quit (asks while recording)"),
    ]

    def __init__(
        self,
        pipeline: PipelineLike,
        *,
        sessions: SessionsSource | None = None,
        scan: ScanFn | None = None,
        compare: CompareFn | None = None,
        title: str = "biofeedback",
        on_signal_exit: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.pipeline = pipeline
        self.on_signal_exit = on_signal_exit
        """Called with the exit status once a signal's session is stored, before the app exits
        (the CLI bounds the shutdown with it: a hung-up terminal can block Textual's)."""
        self.sessions = sessions
        self.scan = scan
        self.compare = compare
        self.title = title
        self.model = DashboardModel()
        self.monitor = MonitorScreen(pipeline, self.model)
        self._last_draw_s = -1.0
        self._redraw_pending = False
        self._signals: list[int] = []
        self.last_summary: dict[str, Any] | None = None
        """The newest finished session's summary (``u`` shows it again)."""

    def on_mount(self) -> None:
        if isinstance(self.pipeline, HoldsRatings):
            self.pipeline.hold_ratings()
        self._install_signal_handlers()
        self.push_screen(self.monitor)
        # After the first frame: a pipeline may build itself on first use (live.deferred).
        self.call_after_refresh(self.consume_pipeline)

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP end the session as ``interrupted`` and the app with 128 + n."""
        loop = asyncio.get_running_loop()
        for signum in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._on_signal, signum)
                self._signals.append(signum)

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)
        self._signals.clear()

    def _on_signal(self, signum: int) -> None:
        async def end() -> None:
            with contextlib.suppress(Exception):
                await self.pipeline.stop_recording("interrupted")
            if self.on_signal_exit is not None:
                self.on_signal_exit(128 + signum)
            self.exit(None, return_code=128 + signum)

        self.run_worker(end(), group="signal", exclusive=True)

    @work(exclusive=True, group="pipeline")
    async def consume_pipeline(self) -> None:
        """Fold every pipeline event into the model and post a message about it."""
        burst = 0
        try:
            async for event in self.pipeline.events():
                self.model.apply(event, time.monotonic())
                self.post_message(message_for(event))
                alert = alert_for(event)
                if alert is not None:
                    self.post_message(alert)
                if isinstance(event, RatingRequested):
                    self.post_message(RatingAsked(event.label))
                if isinstance(event, SessionFinished) and event.summary.get("beats"):
                    self.last_summary = event.summary
                    self.push_screen(SummaryScreen(event.summary))
                burst += 1
                if burst >= _YIELD_EVERY:
                    burst = 0
                    await asyncio.sleep(0)
        except Exception as exc:  # the dashboard outlives a broken pipeline and says why
            self.post_message(AlertRaised(f"The live pipeline stopped: {exc}", "error"))
        else:
            self.post_message(AlertRaised("The live stream ended.", "information"))
        self.model.end_stream()
        self.post_message(StatusChanged())

    def on_beat_received(self, _: BeatReceived) -> None:
        self.request_redraw()

    def on_ecg_received(self, _: EcgReceived) -> None:
        self.monitor.redraw_ecg()
        if self.model.status_version != self.monitor.drawn_status:
            self.request_redraw()  # new beats changed the label counts

    def on_snapshot_updated(self, _: SnapshotUpdated) -> None:
        self.request_redraw()

    def on_status_changed(self, _: StatusChanged) -> None:
        self.request_redraw()

    def on_alert_raised(self, message: AlertRaised) -> None:
        severity = message.severity if message.severity in ("warning", "error") else "information"
        self.notify(message.text, severity=severity)  # type: ignore[arg-type]
        self.request_redraw()

    def on_rating_asked(self, message: RatingAsked) -> None:
        label = message.label

        async def answered(ratings: Ratings | None) -> None:
            try:
                if ratings is not None:
                    await self.pipeline.record_rating(label, *ratings)
                elif isinstance(self.pipeline, HoldsRatings):
                    await self.pipeline.skip_rating(label)
            except (BiofeedbackError, ValueError) as exc:
                self.notify(str(exc), title="rating not saved", severity="error")

        self.push_screen(RatingScreen(label), answered)

    @property
    def redraw_pending(self) -> bool:
        """Whether a redraw is scheduled (tests wait for it instead of sleeping)."""
        return self._redraw_pending

    def request_redraw(self) -> None:
        """Schedule one redraw: after the queued messages if the last one is old enough, else
        when it is. A notification's burst (measurement, beats, snapshot) is drawn once."""
        if self._redraw_pending:
            return
        self._redraw_pending = True
        wait_s = self._last_draw_s + 1.0 / MAX_REDRAWS_PER_S - time.monotonic()
        if wait_s <= 0:
            self.call_later(self._redraw)
        else:
            self.set_timer(wait_s, self._redraw)

    def _redraw(self) -> None:
        self._redraw_pending = False
        if not self._can_draw():
            return  # the dashboard is closing: its widgets are going away
        self._last_draw_s = time.monotonic()
        try:
            self.monitor.redraw()
        except NoMatches:
            # A redraw scheduled just before the app began to close can meet a screen whose
            # widgets are already removed (seen once in CI); anything else is a real error.
            if self._can_draw():
                raise

    def _can_draw(self) -> bool:
        return self.is_running and self.monitor.is_attached and self.monitor.is_mounted

    def action_help(self) -> None:
        bindings = [*MonitorScreen.BINDINGS, *self.BINDINGS]
        self.push_screen(HelpScreen(help_rows(bindings)))

    async def action_quit(self) -> None:
        if not self.model.recording:
            self.exit()
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.pipeline.stop_recording()
                self.exit()

        self.push_screen(ConfirmScreen("Recording in progress. Stop recording and quit?"), answered)

    def action_summary(self) -> None:
        if self.last_summary is None:
            self.notify("No session has finished yet.", severity="warning")
            return
        self.push_screen(SummaryScreen(self.last_summary))

    def action_sessions(self) -> None:
        if self.sessions is None:
            self.notify("No session store was given to the dashboard.", severity="warning")
            return
        self.push_screen(SessionsScreen(self.sessions))

    def action_compare(self) -> None:
        if self.compare is None:
            self.notify("No session store was given to the dashboard.", severity="warning")
            return
        self.push_screen(CompareScreen(self.compare))

    def action_devices(self) -> None:
        if self.scan is None:
            self.notify("Scanning is not available with this source.", severity="warning")
            return
        if self.model.recording:
            self.notify("Stop recording before choosing another strap.", severity="warning")
            return

        def chosen(strap: StrapFound | None) -> None:
            if strap is not None:
                self.exit(strap)

        self.push_screen(DevicePickerScreen(self.scan), chosen)


def make_app(
    pipeline: PipelineLike,
    *,
    sessions: SessionsSource | None = None,
    scan: ScanFn | None = None,
    compare: CompareFn | None = None,
    title: str = "biofeedback",
    on_signal_exit: Callable[[int], None] | None = None,
) -> BiofeedbackApp:
    """The dashboard over ``pipeline``; ``sessions`` enables the browser, ``scan`` the picker,
    ``compare`` the compare screen (``store_compare(store)`` in the CLI)."""
    return BiofeedbackApp(
        pipeline,
        sessions=sessions,
        scan=scan,
        compare=compare,
        title=title,
        on_signal_exit=on_signal_exit,
    )
