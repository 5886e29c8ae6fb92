"""Run a whole session without a terminal UI: print segments, notices and the summary."""

from __future__ import annotations

import json
from contextlib import aclosing
from typing import Any, TextIO

from biofeedback.live.messages import MarkerRecorded, Notice, SegmentEnded, SegmentStarted
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
            if not as_json and (line := _line(event)) is not None:
                out.write(line + "\n")
                out.flush()
    summary: dict[str, Any] = pipeline.last_summary
    if as_json:
        out.write(json.dumps(summary) + "\n")
    else:
        out.write("\n".join(summary_lines(summary)) + "\n")
    return summary
