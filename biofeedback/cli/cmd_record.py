"""``biofeedback record`` and ``biofeedback demo --headless``: a whole protocol, headless.

How the process ends is how the session ends: the protocol's end stores it ``complete`` (exit
0), ``--duration`` before the protocol's end ``stopped`` (exit 0); a closed stdout (``record
... | head -1``) stores it ``stopped`` (exit 1, no traceback); Ctrl-C stores it
``interrupted`` (exit 130), and so do SIGTERM and SIGHUP (exit 128 + the signal's number), every
segment closed. SIGKILL cannot be caught: the store's next open repairs that session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from biofeedback.cli.options import live_correction, source_options
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.summary import summary_lines
from biofeedback.text import terminal_safe, terminal_stream

if TYPE_CHECKING:  # the pipeline itself is imported when a session runs (``demo`` paints first)
    from biofeedback.live.pipeline import LivePipeline

HANDLED_SIGNALS: Final = (signal.SIGTERM, signal.SIGHUP)
EXIT_STOPPED: Final = 1


def session_options(args: argparse.Namespace) -> SessionOptions:
    return SessionOptions(
        source=source_options(args),
        protocol=getattr(args, "protocol", "default"),
        player=getattr(args, "player", "manual"),
        db=Path(args.db) if getattr(args, "db", None) else None,
        record=not getattr(args, "no_record", False),
        silent_player=getattr(args, "silent", False),
        artifact_method=getattr(args, "artifact_method", "published"),
        correction=live_correction(args) or "automatic",  # type: ignore[arg-type]
    )


class Signalled(Exception):
    """The run was ended by ``signum`` (SIGTERM or SIGHUP); the session is closed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


async def run_until_signalled(
    pipeline: LivePipeline, *, duration_s: float | None, as_json: bool
) -> dict[str, Any]:
    """:func:`run_headless`, with SIGTERM and SIGHUP ending it like Ctrl-C does: the main task
    is cancelled, so the pipeline closes the session as ``interrupted``; raises
    :class:`Signalled`."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def on_signal(signum: int) -> None:
        if not received:
            received.append(signum)
            task.cancel()

    installed = []
    for signum in HANDLED_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    try:
        # Labels come from protocol files and device names from the radio: no raw escapes.
        out = terminal_stream(sys.stdout)
        from biofeedback.live.headless_session import run_headless

        return await run_headless(pipeline, out, duration_s=duration_s, as_json=as_json)
    except asyncio.CancelledError:
        if received:
            raise Signalled(received[0]) from None
        raise
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _print_partial(pipeline: LivePipeline) -> None:
    partial = getattr(pipeline, "last_summary", None)
    if partial:
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            print(terminal_safe("\n".join(summary_lines(partial)), keep_newlines=True), flush=True)


def _silence_stdout() -> None:
    """stdout's reader is gone: point fd 1 at /dev/null so the exit flush raises nothing."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def run(args: argparse.Namespace) -> int:
    opts = session_options(args)
    pipeline = build_session(opts)
    try:
        summary = asyncio.run(
            run_until_signalled(pipeline, duration_s=opts.source.duration_s, as_json=args.json)
        )
    except KeyboardInterrupt:
        # The pipeline closed the session on the way out; show what was recorded, then exit 130.
        _print_partial(pipeline)
        raise
    except Signalled as exc:
        _print_partial(pipeline)
        print(f"biofeedback {args.command}: interrupted ({exc})", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:
        _silence_stdout()
        sid = pipeline.last_summary.get("session_id")
        print(
            f"biofeedback {args.command}: output closed; session {sid if sid else '-'} "
            f"{pipeline.last_summary.get('status', 'stopped')}",
            file=sys.stderr,
        )
        return EXIT_STOPPED
    status = summary.get("status")
    # ``--duration`` shorter than the protocol stops the session where the user asked: stored as
    # ``stopped`` (not complete), but the run did what it was told.
    asked_to_stop = status == "stopped" and opts.source.duration_s is not None
    return 0 if status == "complete" or asked_to_stop else EXIT_STOPPED
