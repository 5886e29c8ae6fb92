"""What the player agrees to open: an absolute local path, or an http(s) URL.

Protocols are checked when they are loaded (:func:`biofeedback.sessions.protocol.resolve_media`
turns every allowed value into one of these two forms); this second check, in front of mpv's
``loadfile``, keeps a value that bypassed the loader (another caller, a bug) from reaching
mpv's other input protocols (``av://lavfi:``, ``fd://``, ``edl://``, ``memory://``, stdin ``-``,
...), several of which write files or open sockets.
"""

from __future__ import annotations

import re
from typing import Final

from biofeedback.playback.errors import MediaRefusedError

_URL: Final = re.compile(r"^https?://[^/?#\s]+(?:[/?#]\S*)?$", re.IGNORECASE)
_SHOWN_CHARS: Final = 120


def check_playable(media: str) -> str:
    """``media`` unchanged if mpv may open it; :class:`MediaRefusedError` otherwise.

    >>> check_playable("https://example.org/a.mp3")
    'https://example.org/a.mp3'
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in media):
        raise MediaRefusedError(_shown(media), "control characters")
    if media.startswith("/"):
        # mpv reads a value that starts with "/" as a path, never as a protocol (a missing
        # file then ends with mpv's own error, like one deleted after the protocol was read).
        return media
    if _URL.match(media):
        return media
    raise MediaRefusedError(_shown(media), "only absolute local file paths and http(s) URLs")


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 4] + "...'"
