"""mpv as a real child process, controlled and observed over its JSON IPC socket.

No shell is involved: the process is started from an argv list. The IPC socket lives in a
private directory (``tempfile.mkdtemp``, mode 0700) removed on :meth:`MpvPlayer.close`. A
socketpair passed as ``--input-ipc-client=fd://N`` is a lifeline: mpv quits when it closes,
so a player never outlives a recorder that was killed.

mpv is kept a player (:data:`SAFETY_OPTIONS`): no user or system configuration, scripts or
auto profiles; no key bindings, console or on-screen controller; playlists may not pull in
special protocols; FFmpeg may open only the protocols local files and http(s) URLs need. Only
values :func:`~biofeedback.playback.media.check_playable` accepts reach ``loadfile``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final

from biofeedback.playback.errors import (
    MediaRefusedError,
    PlaybackError,
    PlayerCrashedError,
    PlayerMissingError,
    PlayerStartError,
)
from biofeedback.playback.events import Crashed, Ended, PlayerEvent, Tingle
from biofeedback.playback.ipc import MpvIpc
from biofeedback.playback.media import check_playable
from biofeedback.playback.mpv_events import OBSERVED_PROPERTIES, MpvEventTranslator
from biofeedback.playback.player import Clock, EventCallback, EventChannel

# Options that would make playback time lie: a user mpv.conf with keep-open never reports an
# end of file, a loop repeats, a resume position skips the start. Gapless audio reports the
# end of a file while its last ~0.5 s still sits in the output buffer; without it mpv drains
# the output first, so Ended is stamped when the sound stops.
_FORCED_OPTIONS: Final = (
    "--keep-open=no",
    "--loop-file=no",
    "--resume-playback=no",
    "--gapless-audio=no",
)
# What keeps mpv a player, whatever a protocol file names (mpv's manual: OPTIONS, PROTOCOLS).
# They come after any extra arguments, so no caller can override them. Every name is checked
# against the installed mpv by a test (an unknown option makes mpv exit).
_FFMPEG_PROTOCOLS: Final = "file,http,https,tcp,tls,crypto,httpproxy"
SAFETY_OPTIONS: Final = (
    # No mpv.conf, input.conf, script-opts, watch-later or scripts from the user's or the
    # system's configuration directories (a shared machine's, or one a download wrote to).
    "--no-config",
    "--load-scripts=no",
    "--load-auto-profiles=no",
    # Built-in scripts that add key bindings or an interactive console (which runs commands).
    "--load-stats-overlay=no",
    "--load-osd-console=no",
    "--osc=no",
    # No keys: in a video window "s" writes a screenshot, "Q" a watch-later file, "q" quits.
    "--input-default-bindings=no",
    "--input-builtin-bindings=no",
    "--input-terminal=no",
    "--input-vo-keyboard=no",
    "--input-media-keys=no",
    # Video-site URLs (https) are resolved by yt-dlp through mpv's ytdl hook, which refuses
    # stream URLs in unsafe protocols; it never sees anything but http(s).
    "--ytdl=yes",
    # Entries of a playlist may be local files or network links, not special protocols.
    "--load-unsafe-playlists=no",
    # Open only the file named: no subtitle, audio or cover files found beside it.
    "--autoload-files=no",
    "--save-position-on-quit=no",
    # The protocols FFmpeg itself may open (nested in a container or an HLS playlist, or a
    # URL mpv hands to FFmpeg): files and http(s), nothing that writes, listens or runs.
    f"--demuxer-lavf-o-append=protocol_whitelist={_FFMPEG_PROTOCOLS}",
    f"--stream-lavf-o-append=protocol_whitelist={_FFMPEG_PROTOCOLS}",
)
_SILENT_OPTIONS: Final = ("--ao=null", "--vo=null")
_QUIT_GRACE_S: Final = 2.0
_EXIT_WAIT_S: Final = 1.0


class MpvPlayer:
    """Drive one mpv process: load, pause, resume, seek, stop, and report typed events.

    ``silent=True`` plays to null audio and video outputs (tests, machines without sound).
    Events arrive through ``on_event`` and/or one ``async for event in player.events()``;
    the iterator ends after :meth:`close` or a :class:`Crashed` event, never raising.
    """

    def __init__(
        self,
        *,
        executable: str = "mpv",
        silent: bool = False,
        extra_args: Sequence[str] = (),
        clock: Clock = time.monotonic,
        on_event: EventCallback | None = None,
        connect_timeout_s: float = 5.0,
        request_timeout_s: float = 5.0,
    ) -> None:
        self._executable = executable
        self._silent = silent
        self._extra_args = tuple(extra_args)
        self._connect_timeout_s = connect_timeout_s
        self._request_timeout_s = request_timeout_s
        self._channel = EventChannel(clock, on_event)
        self._translator = MpvEventTranslator()
        self._process: asyncio.subprocess.Process | None = None
        self._ipc: MpvIpc | None = None
        self._lifeline: socket.socket | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._closing = False
        self.ipc_dir: Path | None = None
        self.argv: tuple[str, ...] = ()

    @property
    def pid(self) -> int | None:
        """The mpv process id once started."""
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        """Start mpv idle and connect; :class:`PlayerMissingError` if it is not installed."""
        if self._process is not None:
            raise PlayerStartError("start() was already called")
        path = shutil.which(self._executable)
        if path is None:
            raise PlayerMissingError(self._executable)
        self.ipc_dir = Path(tempfile.mkdtemp(prefix="biofeedback-mpv-"))
        ours, theirs = socket.socketpair()
        self._lifeline = ours
        self.argv = (
            path,
            "--idle=yes",
            f"--input-ipc-server={self.ipc_dir / 'ipc.sock'}",
            f"--input-ipc-client=fd://{theirs.fileno()}",
            "--no-terminal",
            *_FORCED_OPTIONS,
            *(_SILENT_OPTIONS if self._silent else ()),
            *self._extra_args,
            *SAFETY_OPTIONS,
        )
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
            self._ipc = await MpvIpc.connect(
                self.ipc_dir / "ipc.sock",
                alive=lambda: self._process is not None and self._process.returncode is None,
                clock=self._channel.clock,
                connect_timeout_s=self._connect_timeout_s,
                request_timeout_s=self._request_timeout_s,
            )
            for observer_id, name in enumerate(OBSERVED_PROPERTIES, start=1):
                await self._ipc.command("observe_property", observer_id, name)
        except OSError as exc:
            await self.close()
            raise PlayerStartError(f"{path}: {exc.strerror or exc}") from exc
        except PlaybackError:
            await self.close()
            raise
        finally:
            theirs.close()
        self._dispatch_task = asyncio.create_task(self._dispatch(), name="mpv-events")

    async def load(self, media: str) -> None:
        """Play an absolute file path or an http(s) URL now, replacing whatever plays.

        Anything else raises :class:`MediaRefusedError` and never reaches mpv. When the file
        cannot be loaded (refused, or mpv refuses or does not answer ``loadfile``) an
        ``Ended(reason="error")`` is emitted too, so the block waiting for it ends.
        """
        ipc = self._require_ipc()
        try:
            check_playable(media)
        except MediaRefusedError as exc:
            self._channel.emit(Ended(self._channel.clock(), "error", str(exc)))
            raise
        if self._translator.paused:
            await ipc.command("set_property", "pause", False)
        self._translator.expect(media)
        try:
            await ipc.command("loadfile", media, "replace")
        except PlayerCrashedError:
            raise  # a Crashed event follows from the dispatcher
        except PlaybackError as exc:
            self._channel.emit(Ended(self._channel.clock(), "error", str(exc)))
            raise

    async def pause(self) -> None:
        await self._require_ipc().command("set_property", "pause", True)

    async def resume(self) -> None:
        await self._require_ipc().command("set_property", "pause", False)

    async def seek(self, to_s: float) -> None:
        """Jump to ``to_s`` seconds into the media (a :class:`Seeked` event follows)."""
        await self._require_ipc().command("seek", to_s, "absolute")

    async def stop(self) -> None:
        """Stop the media (an ``Ended(reason="stopped")`` follows); mpv stays idle."""
        await self._require_ipc().command("stop")

    async def get_property(self, name: str) -> object:
        """Ask mpv for one property (e.g. ``"playback-time"``) and return its JSON value."""
        return await self._require_ipc().command("get_property", name)

    def position_s(self) -> float | None:
        """Seconds into the playing media now, or None when nothing plays."""
        return self._translator.position_at(self._channel.clock())

    def duration_s(self) -> float | None:
        """The media's duration as mpv reports it, or None (nothing loaded, live stream)."""
        return self._translator.duration_s

    def mark_tingle(self) -> Tingle:
        """Record the user's tingle key press at the current media position."""
        t_s = self._channel.clock()
        event = Tingle(t_s, self._translator.position_at(t_s))
        self._channel.emit(event)
        return event

    def events(self) -> AsyncIterator[PlayerEvent]:
        return self._channel.events()

    async def close(self) -> None:
        """Quit mpv (terminate, then kill, if it does not answer), remove the socket directory."""
        self._closing = True
        if self._ipc is not None:
            with contextlib.suppress(PlaybackError):
                await self._ipc.command("quit", timeout_s=_QUIT_GRACE_S)
        await self._reap(_QUIT_GRACE_S)
        if self._ipc is not None:
            await self._ipc.close()
        if self._dispatch_task is not None:
            await self._dispatch_task
        if self._lifeline is not None:
            self._lifeline.close()
        if self.ipc_dir is not None:
            shutil.rmtree(self.ipc_dir, ignore_errors=True)
        self._channel.finish()

    async def __aenter__(self) -> MpvPlayer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _require_ipc(self) -> MpvIpc:
        if self._ipc is None:
            raise PlayerStartError("start() was not called")
        return self._ipc

    async def _reap(self, grace_s: float) -> int | None:
        process = self._process
        if process is None:
            return None
        for send in (None, process.terminate, process.kill):
            if send is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):  # exited, not yet reaped
                    send()
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(process.wait(), grace_s)
        return process.returncode

    async def _dispatch(self) -> None:
        assert self._ipc is not None
        while True:
            message, t_s = await self._ipc.messages.get()
            if message is None:
                break
            for event in self._translator.feed(message, t_s):
                self._channel.emit(event)
        if not self._closing:
            status = await self._reap(_EXIT_WAIT_S)
            self._channel.emit(Crashed(t_s, _crash_detail(status)))
            self._channel.finish()


def _crash_detail(status: int | None) -> str:
    if status is None:
        return "mpv closed its IPC socket"
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"mpv was killed by {signal.Signals(-status).name}"
    return f"mpv exited unexpectedly with status {status}"
