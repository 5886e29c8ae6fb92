"""The protocol runner: a pure state machine that walks a session plan on the session clock.

It never sleeps and never touches a player: the pipeline tells it the time
(:meth:`ProtocolRunner.advance_to`) and what the player did (:meth:`on_player`), and it answers
with pipeline events (segment started or ended, markers) and :class:`PlayerCommand` s to carry
out. Timed segments end exactly at their planned time, whatever the speed. A media segment
counts only the time its media actually played: pauses and seeks become markers, and a block
with a planned duration ends when that much has played, or when the media ends.

A media block whose media never played is stored incomplete: without a player (none chosen,
mpv missing, or crashed in an earlier block) it runs as a timed block (its planned duration,
or :data:`DEFAULT_MEDIA_BLOCK_S`) and ends incomplete with 0 s played; a load that fails ends
it at once, incomplete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from biofeedback.live.messages import (
    MarkerRecorded,
    Notice,
    PipelineEvent,
    RatingRequested,
    SegmentEnded,
    SegmentKind,
    SegmentStarted,
)
from biofeedback.playback.events import (
    Crashed,
    Ended,
    Paused,
    PlayerEvent,
    Resumed,
    Seeked,
    Started,
    Tingle,
)
from biofeedback.playback.intervals import played_duration_s
from biofeedback.sessions.protocol import PlannedSegment

DEFAULT_MEDIA_BLOCK_S = 300.0
"""Planned length of an "until the media ends" block when no player can tell its length."""


@dataclass(frozen=True, slots=True)
class PlayerCommand:
    """What the pipeline should ask the player to do: ``load`` ``media``, ``stop``, ``pause``."""

    action: str
    media: str | None = None


Output = PipelineEvent | PlayerCommand


def uses_player(segment: PlannedSegment) -> bool:
    return segment.kind == "trigger" and segment.media not in (None, "", "manual")


@dataclass(slots=True)
class ProtocolRunner:
    plan: Sequence[PlannedSegment]
    player_available: bool = True
    index: int = -1
    start_s: float = 0.0
    finished: bool = False
    _media_events: list[PlayerEvent] = field(default_factory=list)
    _media_started: bool = False
    _announced: bool = False

    @property
    def current(self) -> PlannedSegment | None:
        return self.plan[self.index] if 0 <= self.index < len(self.plan) else None

    def start(self, t_s: float) -> list[Output]:
        return self._enter(0, t_s)

    def _kind(self, segment: PlannedSegment) -> SegmentKind:
        return SegmentKind(segment.kind)

    def _media_mode(self) -> bool:
        seg = self.current
        return seg is not None and uses_player(seg) and self.player_available

    def _media_unplayable(self) -> bool:
        """The current block names media, but no player can play it."""
        seg = self.current
        return seg is not None and uses_player(seg) and not self.player_available

    def _enter(self, index: int, t_s: float) -> list[Output]:
        if index >= len(self.plan):
            self.index = len(self.plan)
            self.finished = True
            return []
        self.index = max(index, 0)
        self.start_s = t_s
        self._media_events = []
        self._media_started = False
        self._announced = False
        if self._media_mode():
            # A media block starts when its media starts playing, not when it is asked to load.
            return [PlayerCommand("load", self.plan[self.index].media)]
        out = self._announce(t_s)
        if self._media_unplayable():
            label = self.plan[self.index].label
            out.append(Notice(t_s, f"no player for '{label}': timed, stored incomplete"))
        return out

    def _announce(self, t_s: float) -> list[Output]:
        seg = self.plan[self.index]
        self._announced = True
        self.start_s = t_s
        return [
            SegmentStarted(
                t_s, self.index, seg.label, self._kind(seg), seg.duration_s, seg.media, seg.category
            )
        ]

    def _leave(self, t_s: float, *, complete: bool) -> list[Output]:
        seg = self.current
        if seg is None:
            return []
        played: float | None = None
        if self._media_mode():
            played = played_duration_s(self._media_events, until_s=t_s)
        elif self._media_unplayable():
            played = 0.0
        out: list[Output] = [] if self._announced else self._announce(t_s)
        out.append(SegmentEnded(t_s, self.index, seg.label, complete, played))
        if seg.self_report and seg.kind == "trigger":
            out.append(RatingRequested(t_s, seg.label))
        if self._media_mode() and self._media_started:
            out.insert(0, PlayerCommand("stop"))
        return out

    def advance_to(self, t_s: float) -> list[Output]:
        """Close every timed segment whose planned end is at or before ``t_s``."""
        out: list[Output] = []
        while not self.finished and (seg := self.current) is not None:
            if self._media_mode():
                if seg.duration_s is None or not self._media_started:
                    break
                played = played_duration_s(self._media_events, until_s=t_s)
                if played < seg.duration_s:
                    break
                end_s = t_s - (played - seg.duration_s)
            else:
                end_s = self.start_s + (seg.duration_s or DEFAULT_MEDIA_BLOCK_S)
                if end_s > t_s:
                    break
            out += self._leave(end_s, complete=not self._media_unplayable())
            out += self._enter(self.index + 1, end_s)
        return out

    def skip(self, t_s: float, delta: int) -> list[Output]:
        """Next (``+1``) or previous (``-1``) segment now; the one left is incomplete."""
        if self.finished and delta > 0:
            return []
        target = min(max(self.index + delta, 0), len(self.plan))
        return self._leave(t_s, complete=False) + self._enter(target, t_s)

    def on_player(self, event: PlayerEvent) -> list[Output]:
        out: list[Output] = []
        if isinstance(event, Tingle):
            return [MarkerRecorded(event.t_s, "tingle", "", event.position_s)]
        if not self._media_mode():
            return out
        self._media_events.append(event)
        seg = self.current
        label = seg.label if seg is not None else ""
        if isinstance(event, Started):
            self._media_started = True
            if not self._announced:
                out += self._announce(event.t_s)
            out.append(MarkerRecorded(event.t_s, "playback", "started", event.media))
        elif isinstance(event, Paused):
            out.append(MarkerRecorded(event.t_s, "playback", "paused", event.position_s))
        elif isinstance(event, Resumed):
            out.append(MarkerRecorded(event.t_s, "playback", "resumed", event.position_s))
        elif isinstance(event, Seeked):
            out.append(MarkerRecorded(event.t_s, "playback", "seeked", [event.from_s, event.to_s]))
        elif isinstance(event, Ended):
            out.append(MarkerRecorded(event.t_s, "playback", f"ended:{event.reason}", label))
            if event.reason == "stopped":
                return out
            complete = event.reason == "eof"
            if not complete:
                out.append(Notice(event.t_s, f"media failed in '{label}': {event.detail}"))
            out += self._leave(event.t_s, complete=complete)
            out += self._enter(self.index + 1, event.t_s)
        elif isinstance(event, Crashed):
            out.append(Notice(event.t_s, f"player crashed: {event.detail}; recording goes on"))
            out.append(MarkerRecorded(event.t_s, "playback", "crashed", event.detail))
            out += self._leave(event.t_s, complete=False)
            self.player_available = False
            out += self._enter(self.index + 1, event.t_s)
        return out
