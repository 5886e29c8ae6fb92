"""The dashboard's state: a pure accumulator of pipeline events (no Textual, no HRV maths).

The worker applies every event here before posting a (coalescible) message, so a message that
gets replaced in the queue loses nothing. Widgets read the model when a redraw is due; the three
version counters say which part changed since the last redraw.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.chains import chain_starts
from biofeedback.hrv.rhythm import MESSAGE as IRREGULAR_FLAG
from biofeedback.live.messages import (
    BreathingEstimated,
    EcgProcessed,
    MarkerRecorded,
    Notice,
    PipelineEvent,
    RecordingChanged,
    SegmentEnded,
    SegmentKind,
    SegmentStarted,
    SessionFinished,
    SnapshotComputed,
)
from biofeedback.tui.trend_metric import TrendMetric
from devices.events import (
    BatteryRead,
    Beat,
    Connected,
    Disconnected,
    DisconnectReason,
    MalformedPacket,
    MeasurementReceived,
    Reconnecting,
    SignalStrength,
)
from devices.heart_rate import SensorContact

if TYPE_CHECKING:
    from biofeedback.ecg.labels import BeatClass
    from biofeedback.hrv.processor import Snapshot

BEAT_HISTORY_S = 600.0
"""Beats older than this (source clock) are dropped; the tachogram shows the last 2-5 min."""


ECG_HISTORY_S = 6.0
"""ECG samples and beats kept for the strip (it shows the last 5 s)."""

MANUAL_INDEX = -1
"""Segment index of a trigger marked by hand (``mark_trigger_start``/``mark_trigger_stop``)."""


def broken_at_chains(
    t_s: NDArray[np.float64], values: NDArray[np.float64], segment: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``t_s`` and ``values`` with a NaN value before each chain but the first, so a drawn line
    breaks where continuity does (the NaN point sits at the next chain's first time).

    >>> t, v = broken_at_chains(np.r_[0.0, 1.0, 5.0], np.r_[1.0, 2.0, 3.0], np.r_[0, 0, 1])
    >>> t.tolist(), v.tolist()
    ([0.0, 1.0, 5.0, 5.0], [1.0, 2.0, nan, 3.0])
    """
    breaks = chain_starts(segment)[1:]
    return np.insert(t_s, breaks, t_s[breaks]), np.insert(values, breaks, np.nan)


class LinkState(enum.Enum):
    WAITING = "waiting for the strap"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTING = "reconnecting"


@dataclass(slots=True)
class SegmentRecord:
    """A protocol segment as seen so far; ``end_s`` is ``None`` while it runs."""

    index: int
    label: str
    kind: SegmentKind
    start_s: float
    planned_s: float | None
    media: str | None = None
    end_s: float | None = None


@dataclass(slots=True)
class DeviceStatus:
    state: LinkState = LinkState.WAITING
    name: str = ""
    attempt: int = 0
    detail: str = ""
    reason: DisconnectReason | None = None
    battery_percent: int | None = None
    rssi_dbm: int | None = None
    contact: SensorContact | None = None
    hr_byte_bpm: int | None = None
    malformed_packets: int = 0


@dataclass(slots=True)
class EcgTrace:
    """The last :data:`ECG_HISTORY_S` of ECG samples and detected beats, and the label counts."""

    t_s: deque[float] = field(default_factory=deque)
    uv: deque[float] = field(default_factory=deque)
    segment: deque[int] = field(default_factory=deque)
    beat_t_s: deque[float] = field(default_factory=deque)
    beat_label: deque[BeatClass] = field(default_factory=deque)
    label_counts: dict[BeatClass, int] = field(default_factory=dict)
    beats_total: int = 0

    def add(self, event: EcgProcessed) -> None:
        self.t_s.extend(event.samples_t_s.tolist())
        self.uv.extend(event.samples_uv.tolist())
        self.segment.extend([event.segment] * len(event.samples_t_s))
        for beat in event.beats:
            self.beat_t_s.append(beat.t_s)
            self.beat_label.append(beat.label)
        self.label_counts = dict(event.label_counts)
        self.beats_total = sum(self.label_counts.values())
        if not self.t_s:
            return
        horizon = self.t_s[-1] - ECG_HISTORY_S
        while self.t_s and self.t_s[0] < horizon:
            self.t_s.popleft()
            self.uv.popleft()
            self.segment.popleft()
        while self.beat_t_s and self.beat_t_s[0] < horizon:
            self.beat_t_s.popleft()
            self.beat_label.popleft()

    def strip(
        self, window_s: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Sample times and µV of the last ``window_s`` (NaN where the PMD segment changes)
        and the times of the beats among them."""
        if not self.t_s:
            return np.empty(0), np.empty(0), np.empty(0)
        t = np.fromiter(self.t_s, np.float64, len(self.t_s))
        uv = np.fromiter(self.uv, np.float64, len(self.uv))
        seg = np.fromiter(self.segment, np.int64, len(self.segment))
        keep = t >= t[-1] - window_s
        t, uv = broken_at_chains(t[keep], uv[keep], seg[keep])
        beats = np.fromiter(self.beat_t_s, np.float64, len(self.beat_t_s))
        return t, uv, beats[beats >= t[0]] if t.size else beats


@dataclass(slots=True)
class DashboardModel:
    """Everything the monitor shows, accumulated from :data:`PipelineEvent` values."""

    beat_t_s: deque[float] = field(default_factory=deque)
    beat_rr_ms: deque[float] = field(default_factory=deque)
    beat_segment: deque[int] = field(default_factory=deque)
    beats_total: int = 0
    implausible_beats: int = 0
    snapshot: Snapshot | None = None
    trend_t_s: list[float] = field(default_factory=list)
    trend: dict[TrendMetric, list[float]] = field(
        default_factory=lambda: {m: [] for m in TrendMetric}
    )
    segments: list[SegmentRecord] = field(default_factory=list)
    tingles_t_s: list[float] = field(default_factory=list)
    device: DeviceStatus = field(default_factory=DeviceStatus)
    recording: bool = False
    session_id: int | None = None
    finished_session_id: int | None = None
    """The session whose :class:`SessionFinished` arrived last (its summary can be shown)."""
    stream_ended: bool = False
    """The pipeline's event stream ended: nothing more will arrive."""
    last_beat_received_s: float | None = None
    """When the newest beat arrived by the receiver's clock (``time.monotonic``), if given."""
    paused: bool = False
    now_s: float | None = None
    metric: TrendMetric = TrendMetric.RELAXATION
    beats_version: int = 0
    trend_version: int = 0
    status_version: int = 0
    ecg: EcgTrace | None = None
    """The strap's ECG and what the pipeline found in it; ``None`` without PMD (no strip)."""
    breathing: BreathingEstimated | None = None
    """The newest chest (ACC) and ECG-derived breathing rates, beside the snapshot's RSA one."""
    ecg_version: int = 0
    withheld_spans: list[list[float]] = field(default_factory=list)
    """``[start, last]`` times (source clock) of each run of snapshots that withheld HRV over
    sustained irregular rhythm (the processor's flag ``hrv.rhythm.MESSAGE``), newest last: from
    where the episode began (the first snapshot's ``irregular_since_s``, confirmed after the
    fact) to the last such snapshot; runs that ended more than :data:`BEAT_HISTORY_S` ago are
    dropped."""
    withheld_beats: int = 0
    """Snapshots (one per labelled beat) that withheld HRV over irregular rhythm, in total."""
    _withheld_open: bool = False

    def apply(self, event: PipelineEvent, received_s: float | None = None) -> None:
        """Fold one event into the state (unknown kinds only advance the clock).

        ``received_s`` is when it arrived by a local clock; for a beat it dates the silence
        the strap panel reports when beats stop (see :meth:`silent_s`).
        """
        # SessionFinished closes the stream; the time it carries is no new data to show.
        t_s = None if isinstance(event, SessionFinished) else getattr(event, "t_s", None)
        if isinstance(t_s, float | int) and (self.now_s is None or t_s > self.now_s):
            self.now_s = float(t_s)
        if isinstance(event, Beat):
            if received_s is not None:
                self.last_beat_received_s = received_s
            self._add_beat(event)
        elif isinstance(event, SnapshotComputed):
            self._add_snapshot(event.snapshot)
        elif isinstance(event, SegmentStarted | SegmentEnded | MarkerRecorded):
            self._apply_protocol(event)
        elif isinstance(event, EcgProcessed):
            if self.ecg is None:
                self.ecg = EcgTrace()
                self.status_version += 1
            self.ecg.add(event)
            if event.beats:
                self.status_version += 1
            self.ecg_version += 1
        elif isinstance(event, BreathingEstimated):
            self.breathing = event
            self.status_version += 1
        else:
            self._apply_status(event)

    def _add_beat(self, beat: Beat) -> None:
        self.beat_t_s.append(beat.t_s)
        self.beat_rr_ms.append(beat.rr_ms)
        self.beat_segment.append(beat.segment)
        self.beats_total += 1
        self.implausible_beats += int(beat.implausible)
        horizon = beat.t_s - BEAT_HISTORY_S
        while self.beat_t_s and self.beat_t_s[0] < horizon:
            self.beat_t_s.popleft()
            self.beat_rr_ms.popleft()
            self.beat_segment.popleft()
        self.beats_version += 1

    def _add_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._track_withheld(snapshot)
        self.trend_t_s.append(snapshot.t_s)
        for metric, values in self.trend.items():
            value = metric.of(snapshot).value
            values.append(math.nan if value is None else value)
        self.trend_version += 1
        self.status_version += 1

    def _track_withheld(self, snapshot: Snapshot) -> None:
        if IRREGULAR_FLAG not in snapshot.flags:
            self._withheld_open = False
            return
        self.withheld_beats += 1
        if self._withheld_open:
            self.withheld_spans[-1][1] = snapshot.t_s
        else:
            # From where the episode began: the live check confirms it up to 192 intervals late.
            since = snapshot.irregular_since_s
            start = snapshot.t_s if since is None else min(since, snapshot.t_s)
            self.withheld_spans.append([start, snapshot.t_s])
            self._withheld_open = True
        horizon = snapshot.t_s - BEAT_HISTORY_S
        while self.withheld_spans and self.withheld_spans[0][1] < horizon:
            del self.withheld_spans[0]
        self.beats_version += 1  # the tachogram marks the span

    def _apply_protocol(self, event: SegmentStarted | SegmentEnded | MarkerRecorded) -> None:
        if isinstance(event, SegmentStarted):
            self._close_open_segment(event.t_s)
            self.segments.append(
                SegmentRecord(
                    event.index, event.label, event.kind, event.t_s, event.planned_s, event.media
                )
            )
            self.paused = False
        elif isinstance(event, SegmentEnded):
            for segment in reversed(self.segments):
                if segment.index == event.index and segment.end_s is None:
                    segment.end_s = event.t_s
                    break
        elif event.kind == "tingle":
            self.tingles_t_s.append(event.t_s)
        elif event.kind == "playback":
            if event.label in ("paused", "resumed"):
                self.paused = event.label == "paused"
            else:
                self._apply_media(event)
        self.trend_version += 1
        self.status_version += 1

    def _apply_media(self, event: MarkerRecorded) -> None:
        # Media started and ended outside any protocol segment (manual marks with no protocol)
        # shade the trend as a trigger; inside a protocol the segment events already do.
        running = self.current_segment
        if event.label == "started" and running is None:
            self.segments.append(
                SegmentRecord(MANUAL_INDEX, "trigger", SegmentKind.TRIGGER, event.t_s, None)
            )
        elif (
            event.label.startswith("ended")
            and running is not None
            and running.index == MANUAL_INDEX
        ):
            running.end_s = event.t_s

    def _close_open_segment(self, t_s: float) -> None:
        if self.segments and self.segments[-1].end_s is None:
            self.segments[-1].end_s = t_s

    def _apply_status(self, event: PipelineEvent) -> None:
        device = self.device
        if isinstance(event, Connected):
            device.state, device.name, device.attempt, device.detail = (
                LinkState.CONNECTED,
                event.device.name,
                0,
                "",
            )
            device.reason = None
        elif isinstance(event, Disconnected):
            device.state, device.detail = LinkState.DISCONNECTED, event.reason.value
            device.reason = event.reason
        elif isinstance(event, Reconnecting):
            device.state, device.attempt = LinkState.RECONNECTING, event.attempt
        elif isinstance(event, BatteryRead):
            device.battery_percent = event.percent
        elif isinstance(event, SignalStrength):
            device.rssi_dbm = event.rssi_dbm
        elif isinstance(event, MeasurementReceived):
            device.contact = event.measurement.contact
            device.hr_byte_bpm = event.measurement.heart_rate_bpm
        elif isinstance(event, MalformedPacket):
            device.malformed_packets += 1
        elif isinstance(event, RecordingChanged):
            self.recording, self.session_id = event.recording, event.session_id
        elif isinstance(event, SessionFinished):
            self.recording = False
            self.finished_session_id = event.session_id
        elif isinstance(event, Notice):
            return
        self.status_version += 1

    def end_stream(self) -> None:
        """The event stream ended (the source stopped or the pipeline finished)."""
        self.stream_ended = True
        self.status_version += 1

    def silent_s(self, now_received_s: float) -> float | None:
        """Seconds since the newest beat arrived, by the clock of ``received_s``; ``None``
        before the first beat or when arrivals are not dated."""
        if self.last_beat_received_s is None:
            return None
        return max(0.0, now_received_s - self.last_beat_received_s)

    @property
    def current_segment(self) -> SegmentRecord | None:
        """The running segment, if any."""
        if self.segments and self.segments[-1].end_s is None:
            return self.segments[-1]
        return None

    def remaining_s(self) -> float | None:
        """Seconds left in the running segment by the source clock, if it has a planned length."""
        segment = self.current_segment
        if segment is None or segment.planned_s is None or self.now_s is None:
            return None
        return max(0.0, segment.planned_s - (self.now_s - segment.start_s))

    def recent_beats(self, window_s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Beat times and RR (ms) of the last ``window_s``, NaN-separated at continuity breaks."""
        if not self.beat_t_s:
            return np.empty(0), np.empty(0)
        t = np.fromiter(self.beat_t_s, np.float64, len(self.beat_t_s))
        rr = np.fromiter(self.beat_rr_ms, np.float64, len(self.beat_rr_ms))
        seg = np.fromiter(self.beat_segment, np.int64, len(self.beat_segment))
        keep = t >= t[-1] - window_s
        return broken_at_chains(t[keep], rr[keep], seg[keep])

    def trend_series(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Times and values of the selected trend metric over the whole session."""
        return np.asarray(self.trend_t_s, np.float64), np.asarray(self.trend[self.metric])

    def switch_metric(self) -> TrendMetric:
        """Cycle the trend chart's metric and return the new one."""
        self.metric = self.metric.following()
        self.trend_version += 1
        self.status_version += 1
        return self.metric
