"""The block-so-far estimates of a recorded session, recomputed as the live processor made them.

The stored beats go through :class:`~biofeedback.hrv.processor.HrvProcessor` in time order with
the stored segment boundaries applied when the beats reach them, exactly as the live pipeline
does; so ``show ID --json`` prints the numbers the dashboard's session summary showed (and an
imported bundle with segments gets the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from biofeedback.hrv.artifacts_shape import ShapeSource
from biofeedback.hrv.block_estimate import BlockEstimate
from biofeedback.hrv.processor import BeatLike, HrvProcessor, Snapshot
from biofeedback.hrv.settings import HrvSettings

SegmentEvent = tuple[float, int, str, str]
"""``(at_s, starts, kind, label)``: a segment starts (``starts`` 1) or ends (0) at ``at_s``."""


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
    *,
    shapes: ShapeSource | None = None,
) -> tuple[BlockEstimate, ...]:
    """Final estimates of every segment after the baseline (``segments``: dicts with ``kind``,
    ``label``, ``start_s`` and ``end_s``; an open one ends with the beats). ``shapes``: the
    beat shapes the live run took from an ECG (:meth:`HrvProcessor.use_shapes`)."""
    processor = HrvProcessor(settings)
    processor.use_shapes(shapes)
    events: list[SegmentEvent] = []
    for seg in segments:
        start = seg.get("start_s")
        if not isinstance(start, int | float):
            continue
        events.append((float(start), 1, str(seg.get("kind", "")), str(seg.get("label", ""))))
        end = seg.get("end_s")
        if isinstance(end, int | float):
            events.append((float(end), 0, "", ""))
    events.sort()
    beats = (
        _Beat(float(t), float(rr), int(chain))
        for t, rr, chain in zip(t_s, rr_ms, segment, strict=True)
    )
    for _ in push_through(processor, beats, events):
        pass
    return processor.finish()


def push_through(
    processor: HrvProcessor, beats: Iterable[BeatLike], events: Sequence[SegmentEvent]
) -> Iterator[Snapshot | None]:
    """Push ``beats`` (in time order) into ``processor``, each after the segment ``events``
    (sorted) it has reached, as the live pipeline does; yield what each push returns. The events
    after the last beat are applied once the beats run out (consume the whole iterator)."""
    k = 0
    for beat in beats:
        while k < len(events) and events[k][0] <= beat.t_s:
            _apply(processor, events[k])
            k += 1
        yield processor.push(beat)
    for event in events[k:]:
        _apply(processor, event)


def _apply(processor: HrvProcessor, event: SegmentEvent) -> None:
    at, starts, kind, label = event
    if starts:
        processor.begin_segment(kind, label, at)
    else:
        processor.end_segment(at)
