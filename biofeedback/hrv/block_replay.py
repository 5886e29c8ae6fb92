"""The block-so-far estimates of a recorded session, recomputed as the live processor made them.

The stored beats go through :class:`~biofeedback.hrv.processor.HrvProcessor` in time order with
the stored segment boundaries applied when the beats reach them, exactly as the live pipeline
does; so ``show ID --json`` prints the numbers the dashboard's session summary showed (and an
imported bundle with segments gets the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from biofeedback.hrv.block_estimate import BlockEstimate
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.hrv.settings import HrvSettings


@dataclass(frozen=True, slots=True)
class _Beat:
    t_s: float
    rr_ms: float
    segment: int


def replay_blocks(
    t_s: Iterable[float],
    rr_ms: Iterable[float],
    segment: Iterable[int],
    segments: Sequence[Mapping[str, Any]],
    settings: HrvSettings | None = None,
) -> tuple[BlockEstimate, ...]:
    """Final estimates of every segment after the baseline (``segments``: dicts with ``kind``,
    ``label``, ``start_s`` and ``end_s``; an open one ends with the beats)."""
    processor = HrvProcessor(settings)
    events: list[tuple[float, int, str, str]] = []
    for seg in segments:
        start = seg.get("start_s")
        if not isinstance(start, int | float):
            continue
        events.append((float(start), 1, str(seg.get("kind", "")), str(seg.get("label", ""))))
        end = seg.get("end_s")
        if isinstance(end, int | float):
            events.append((float(end), 0, "", ""))
    events.sort()
    k = 0
    for t, rr, chain in zip(t_s, rr_ms, segment, strict=True):
        while k < len(events) and events[k][0] <= t:
            at, starts, kind, label = events[k]
            if starts:
                processor.begin_segment(kind, label, at)
            else:
                processor.end_segment(at)
            k += 1
        processor.push(_Beat(float(t), float(rr), int(chain)))
    for at, starts, kind, label in events[k:]:
        if starts:
            processor.begin_segment(kind, label, at)
        else:
            processor.end_segment(at)
    return processor.finish()
