"""What a player reports: typed, frozen events on the recording's monotonic clock.

Every ``t_s`` is read from the clock injected into the player (``time.monotonic`` by default),
the same clock that stamps the beats, so markers and beats share one timeline. Positions
(``position_s``, ``from_s``, ``to_s``) are seconds into the media.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

EndReason: TypeAlias = Literal["eof", "stopped", "error"]


@dataclass(frozen=True, slots=True)
class Started:
    """The media began to play (``media``: path, URL or the manual label)."""

    t_s: float
    media: str


@dataclass(frozen=True, slots=True)
class Paused:
    """Playback paused at ``position_s`` seconds into the media (None when unknown)."""

    t_s: float
    position_s: float | None


@dataclass(frozen=True, slots=True)
class Resumed:
    """Playback resumed from ``position_s`` seconds into the media (None when unknown)."""

    t_s: float
    position_s: float | None


@dataclass(frozen=True, slots=True)
class Seeked:
    """The position jumped from ``from_s`` to ``to_s`` seconds into the media."""

    t_s: float
    from_s: float | None
    to_s: float | None


@dataclass(frozen=True, slots=True)
class Ended:
    """The media stopped playing: at its end (``eof``), on request (``stopped``) or on ``error``.

    ``detail`` is a one-line reason for ``error`` (mpv's ``file_error``), empty otherwise.
    """

    t_s: float
    reason: EndReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Crashed:
    """The player went away (process died, IPC socket closed); ``detail`` is one line for users."""

    t_s: float
    detail: str


@dataclass(frozen=True, slots=True)
class Tingle:
    """The user pressed the tingle key, ``position_s`` seconds into the media (None if idle)."""

    t_s: float
    position_s: float | None


PlayerEvent: TypeAlias = Started | Paused | Resumed | Seeked | Ended | Crashed | Tingle
