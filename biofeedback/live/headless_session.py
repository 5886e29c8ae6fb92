"""Run a whole session without a terminal UI: print segments, notices and the summary."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import aclosing
from typing import Any, TextIO

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


async def _ask_rating(pipeline: LivePipeline, event: RatingRequested, out: TextIO) -> None:
    """Ask on the terminal (the protocol goes on meanwhile); without one, say it was skipped."""
    if not sys.stdin.isatty():
        out.write(f"{event.t_s:9.1f} s  self-report for {event.label} skipped (no terminal)\n")
        return
    answers: list[int] = []
    for question in ("relaxation", "tingles"):
        text = await asyncio.to_thread(input, f"{event.label}: {question} 0-10 (Enter to skip)? ")
        try:
            value = int(text)
        except ValueError:
            return
        if not 0 <= value <= 10:
            return
        answers.append(value)
    await pipeline.record_rating(event.label, answers[0], answers[1])


async def run_headless(
    pipeline: LivePipeline, out: TextIO, *, duration_s: float | None, as_json: bool
) -> dict[str, Any]:
    async with aclosing(pipeline.events()) as events:
        start: float | None = None
        async for event in events:
            t_s = getattr(event, "t_s", None)
            if isinstance(t_s, float):
                start = t_s if start is None else start
                if duration_s is not None and t_s - start >= duration_s:
                    break
            if isinstance(event, RatingRequested):
                await _ask_rating(pipeline, event, out)
            if not as_json and (line := _line(event)) is not None:
                out.write(line + "\n")
                out.flush()
    summary: dict[str, Any] = pipeline.last_summary
    if as_json:
        out.write(json.dumps(summary) + "\n")
    else:
        out.write("\n".join(summary_lines(summary)) + "\n")
    return summary
