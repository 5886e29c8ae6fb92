"""mpv's JSON IPC over a unix socket: requests matched by ``request_id``, events queued.

Protocol: one JSON object per line. A request is ``{"command": [...], "request_id": n}``; its
reply carries the same ``request_id`` and ``"error": "success"`` or a reason; events carry an
``"event"`` key (https://mpv.io/manual/stable/#json-ipc). Every message is stamped on arrival
with the injected monotonic clock, so a slow consumer never shifts a marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from biofeedback.playback.errors import (
    PlayerCommandError,
    PlayerCrashedError,
    PlayerStartError,
    PlayerTimeoutError,
)

Message: TypeAlias = dict[str, object]
# None marks the end of the stream: the socket closed, for whatever reason.
Stamped: TypeAlias = tuple[Message | None, float]

_LINE_LIMIT_BYTES = 4 * 1024 * 1024
_CONNECT_POLL_S = 0.02


class MpvIpc:
    """One connection to mpv's IPC server. Create it with :meth:`connect`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        clock: Callable[[], float],
        request_timeout_s: float,
    ) -> None:
        self.messages: asyncio.Queue[Stamped] = asyncio.Queue()
        self._reader = reader
        self._writer = writer
        self._clock = clock
        self._request_timeout_s = request_timeout_s
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self._closed = False
        self._read_task = asyncio.create_task(self._read_loop(), name="mpv-ipc-reader")

    @classmethod
    async def connect(
        cls,
        path: Path,
        *,
        alive: Callable[[], bool],
        clock: Callable[[], float],
        connect_timeout_s: float,
        request_timeout_s: float,
    ) -> MpvIpc:
        """Wait for mpv to open its socket at ``path``; give up after ``connect_timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + connect_timeout_s
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(
                    str(path), limit=_LINE_LIMIT_BYTES
                )
            except OSError as exc:
                if not alive():
                    raise PlayerStartError("it exited before opening its IPC socket") from exc
                if loop.time() >= deadline:
                    raise PlayerStartError(
                        f"no IPC socket after {connect_timeout_s:g} s ({exc.strerror})"
                    ) from exc
                await asyncio.sleep(_CONNECT_POLL_S)
            else:
                return cls(reader, writer, clock, request_timeout_s)

    async def command(self, *args: object, timeout_s: float | None = None) -> object:
        """Send one command and return its ``data``; typed errors on refusal, loss or timeout."""
        name = str(args[0]) if args else ""
        if self._closed:
            raise PlayerCrashedError("its IPC socket is closed")
        request_id = next(self._ids)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        line = json.dumps({"command": list(args), "request_id": request_id}) + "\n"
        timeout = self._request_timeout_s if timeout_s is None else timeout_s
        try:
            self._writer.write(line.encode())
            await asyncio.wait_for(self._drain_then(future), timeout)
            reply = future.result()
        except TimeoutError:
            raise PlayerTimeoutError(name, timeout) from None
        except ConnectionError as exc:
            raise PlayerCrashedError("its IPC socket is closed") from exc
        finally:
            self._pending.pop(request_id, None)
        error = reply.get("error")
        if error != "success":
            raise PlayerCommandError(name, str(error))
        return reply.get("data")

    async def _drain_then(self, future: asyncio.Future[Message]) -> None:
        await self._writer.drain()
        await future

    async def close(self) -> None:
        """Close the connection and wait for the reader to finish."""
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        await self._read_task

    async def wait_closed(self) -> None:
        """Return once the socket has closed (mpv quit or died)."""
        await asyncio.shield(self._read_task)

    async def _read_loop(self) -> None:
        try:
            while line := await self._reader.readline():
                self._dispatch(line, self._clock())
        except (ConnectionError, ValueError):
            # ValueError: a line over the limit; the stream cannot be resynchronised.
            pass
        finally:
            t_s = self._clock()
            self._closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(PlayerCrashedError("its IPC socket closed"))
            self.messages.put_nowait((None, t_s))

    def _dispatch(self, line: bytes, t_s: float) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return  # mpv writes whole lines; skip anything else rather than lose the stream
        if not isinstance(message, dict):
            return
        if "event" in message:
            self.messages.put_nowait((message, t_s))
            return
        request_id = message.get("request_id")
        future = self._pending.get(request_id) if isinstance(request_id, int) else None
        if future is not None and not future.done():
            future.set_result(message)
