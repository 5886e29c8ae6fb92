"""Playback: mpv as a real process over JSON IPC, or manual key marks; typed events.

Both players emit :data:`PlayerEvent` values stamped on the recording's monotonic clock;
:func:`played_intervals` turns one block's events into the time its media actually played.
"""

from __future__ import annotations

from biofeedback.playback.errors import (
    PlaybackError,
    PlayerCommandError,
    PlayerCrashedError,
    PlayerMissingError,
    PlayerStartError,
    PlayerTimeoutError,
)
from biofeedback.playback.events import (
    Crashed,
    Ended,
    EndReason,
    Paused,
    PlayerEvent,
    Resumed,
    Seeked,
    Started,
    Tingle,
)
from biofeedback.playback.intervals import played_completely, played_duration_s, played_intervals
from biofeedback.playback.manual import ManualPlayer
from biofeedback.playback.mpv import MpvPlayer
from biofeedback.playback.player import Player

__all__ = [
    "Crashed",
    "EndReason",
    "Ended",
    "ManualPlayer",
    "MpvPlayer",
    "Paused",
    "PlaybackError",
    "Player",
    "PlayerCommandError",
    "PlayerCrashedError",
    "PlayerEvent",
    "PlayerMissingError",
    "PlayerStartError",
    "PlayerTimeoutError",
    "Resumed",
    "Seeked",
    "Started",
    "Tingle",
    "played_completely",
    "played_duration_s",
    "played_intervals",
]
