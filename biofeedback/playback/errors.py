"""Typed playback errors; each message is one line a user can act on."""

from __future__ import annotations

from biofeedback.errors import BiofeedbackError


class PlaybackError(BiofeedbackError):
    """Root of every error raised by :mod:`biofeedback.playback`."""


class PlayerMissingError(PlaybackError):
    """The player executable is not installed (not on ``PATH``)."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        super().__init__(
            f"{executable} not found on PATH: install mpv (Debian/Ubuntu: sudo apt install mpv; "
            "Fedora: sudo dnf install mpv; macOS: brew install mpv) or use --player manual"
        )


class PlayerStartError(PlaybackError):
    """The player process started but never opened its IPC socket."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"mpv did not start: {detail}")


class PlayerCrashedError(PlaybackError):
    """The player process died or closed its IPC socket; no command can reach it."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"mpv is gone: {detail}")


class PlayerTimeoutError(PlaybackError):
    """The player did not answer a command in time (it may be hung)."""

    def __init__(self, command: str, timeout_s: float) -> None:
        self.command = command
        self.timeout_s = timeout_s
        super().__init__(f"mpv did not answer {command!r} within {timeout_s:g} s")


class PlayerCommandError(PlaybackError):
    """The player refused a command (mpv's ``error`` field, e.g. seeking with nothing loaded)."""

    def __init__(self, command: str, error: str) -> None:
        self.command = command
        self.error = error
        super().__init__(f"mpv refused {command!r}: {error}")


class MediaRefusedError(PlaybackError):
    """The player refused a media value: not a local file path nor an http(s) URL."""

    def __init__(self, shown: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"refusing to play {shown}: {reason}")
