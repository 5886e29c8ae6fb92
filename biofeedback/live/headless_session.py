"""Run a whole session without a terminal UI: print segments, notices and the summary."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any, Literal, TextIO

from biofeedback.live.messages import (
    MarkerRecorded,
    Notice,
    RatingRequested,
    SegmentEnded,
    SegmentStarted,
)
from biofeedback.live.pipeline import LivePipeline
from biofeedback.live.summary import summary_lines
from devices.events import Connected, Disconnected, Reconnecting


def _line(event: object) -> str | None:
    if isinstance(event, SegmentStarted):
        planned = f"{event.planned_s:.0f} s" if event.planned_s else "until the media ends"
        what = f", media {event.media}" if event.media else ""
        return f"{event.t_s:9.1f} s  segment {event.index + 1}: {event.label} ({planned}{what})"
    if isinstance(event, SegmentEnded) and not event.complete:
        return f"{event.t_s:9.1f} s  segment {event.label} ended early (incomplete)"
    if isinstance(event, Notice):
        return f"{event.t_s:9.1f} s  note: {event.message}"
    if isinstance(event, MarkerRecorded) and event.kind in {"tingle", "playback"}:
        return f"{event.t_s:9.1f} s  marker {event.kind} {event.label}"
    if isinstance(event, Connected | Disconnected | Reconnecting):
        return f"{event.t_s:9.1f} s  {type(event).__name__.lower()}"
    return None


RATING_MAX = 10

AskFn = Callable[[str], Awaitable[str | None]]
"""Ask a question on the terminal: the line typed, or ``None`` at end of input."""


async def terminal_ask(prompt: str) -> str | None:
    """``input(prompt)`` in a daemon thread, so a Ctrl-C or a signal never waits for Enter."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def settle(value: str | None) -> None:
        if not answer.done():
            answer.set_result(value)

    def read() -> None:
        try:
            value: str | None = input(prompt)
        except (EOFError, OSError, ValueError):
            value = None
        with contextlib.suppress(RuntimeError):  # the loop closed while we waited
            loop.call_soon_threadsafe(settle, value)

    threading.Thread(target=read, name="rating-input", daemon=True).start()
    return await answer


def parse_rating(text: str) -> int | None:
    """A whole number 0-10 typed by a person, else ``None`` (the dashboard's rule)."""
    text = text.strip()
    if not text.isdecimal():
        return None
    value = int(text)
    return value if 0 <= value <= RATING_MAX else None


async def _ask_rating(
    pipeline: LivePipeline, event: RatingRequested, out: TextIO, ask: AskFn | None
) -> None:
    """Ask on the terminal (the protocol goes on meanwhile); without one, say it was skipped.

    A refused answer ("11", "abc") is asked again; an empty one (Enter) or the end of input
    skips the self-report, which is then not stored."""
    if ask is None:
        out.write(f"{event.t_s:9.1f} s  self-report for {event.label} skipped (no terminal)\n")
        await pipeline.skip_rating(event.label)
        return
    answers: list[int] = []
    for question in ("relaxation", "tingles"):
        while True:
            text = await ask(f"{event.label}: {question} 0-{RATING_MAX} (Enter to skip)? ")
            if text is None or not text.strip():
                out.write(f"{event.t_s:9.1f} s  self-report for {event.label} skipped\n")
                await pipeline.skip_rating(event.label)
                return
            value = parse_rating(text)
            if value is not None:
                answers.append(value)
                break
            out.write(f'  "{text.strip()}" is not a whole number from 0 to {RATING_MAX}\n')
            out.flush()
    await pipeline.record_rating(event.label, answers[0], answers[1])


def default_ask() -> AskFn | None:
    """Ask on the terminal when stdin is one; else ratings are skipped."""
    return terminal_ask if sys.stdin.isatty() else None


async def run_headless(
    pipeline: LivePipeline,
    out: TextIO,
    *,
    duration_s: float | None,
    as_json: bool,
    ask: AskFn | Literal["terminal"] | None = "terminal",
) -> dict[str, Any]:
    """Print the session as it runs, then its summary; returns the summary.

    ``ask`` answers the self-report questions (default: the terminal, if stdin is one). A
    closed ``out`` (``record ... | head -1``) ends the session as ``stopped`` and raises
    :class:`BrokenPipeError` after it is closed; any other failure ends it ``interrupted``."""
    asker = default_ask() if ask == "terminal" else ask
    async with aclosing(pipeline.events()) as events:
        start: float | None = None
        try:
            async for event in events:
                t_s = getattr(event, "t_s", None)
                if isinstance(t_s, float):
                    start = t_s if start is None else start
                    if duration_s is not None and t_s - start >= duration_s:
                        break
                if isinstance(event, RatingRequested):
                    await _ask_rating(pipeline, event, out, asker)
                if not as_json and (line := _line(event)) is not None:
                    out.write(line + "\n")
                    out.flush()
        except BrokenPipeError:
            pipeline.end_as("stopped")  # the reader went away: the user ended it early
            raise
        except BaseException:  # a failure, a cancellation (Ctrl-C, a signal)
            pipeline.end_as("interrupted")
            raise
    summary: dict[str, Any] = pipeline.last_summary
    if as_json:
        out.write(json.dumps(summary) + "\n")
    else:
        out.write("\n".join(summary_lines(summary)) + "\n")
    out.flush()
    return summary
