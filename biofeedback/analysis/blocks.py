"""One session's trigger blocks and their responses against two references.

The session timeline is its ``segments`` (``kind`` ``baseline``, ``trigger``, ``washout``,
``control``...); trigger and control segments are blocks (a control is also any block of
category ``control``, as the protocols' ``neutral-control``).
For each trigger block the response is the block's value minus a reference value:

* vs **baseline**: the session's (first) baseline segment, whole;
* vs **washout**: the rest just before the block: the washout segment that ends where the
  block starts, or the baseline for a block that follows it directly.

The first ``onset_s`` of each trigger block are left out (the response is still building up:
the simulator's and the literature's onsets are 25-60 s). A block is excluded, with the reason,
when its analysed part has too little clean data or too many corrected beats, or when the
reference is unusable.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from biofeedback.analysis.block_values import WindowValues, window_values
from biofeedback.analysis.config import CompareSettings
from biofeedback.analysis.selfreport import Rating, block_ratings
from biofeedback.hrv.analysis import prepare_nn
from biofeedback.hrv.settings import HrvSettings

_ADJACENT_S = 5.0
"""A rest segment ending within this of a block's start is "just before" it."""


@dataclass(frozen=True, slots=True)
class BlockResponse:
    """One trigger block: its values, its responses (block − reference) and why not."""

    label: str
    category: str | None
    position: int
    """1-based order of the block among the session's trigger blocks."""
    start_s: float
    end_s: float
    block: WindowValues
    vs_baseline: dict[str, float]
    vs_washout: dict[str, float]
    reason: str | None
    """Why the block has no response against the baseline (``None``: it has one)."""
    washout_reason: str | None
    rating: Rating | None
    tingle_count: int
    complete: bool = True
    """False for a block cut short or whose media never played: not exposure."""

    @property
    def is_control(self) -> bool:
        """A neutral control condition (category ``control``), not a trigger."""
        return self.category == "control"

    def value(self, key: str) -> float:
        """The block's own value of ``key`` (NaN when cut short or unusable)."""
        return self.block.value(key) if self.complete else math.nan

    def response(self, key: str, reference: str = "baseline") -> float:
        table = self.vs_baseline if reference == "baseline" else self.vs_washout
        return table.get(key, math.nan)


@dataclass(frozen=True, slots=True)
class SessionResponses:
    """All trigger blocks of one session; ``reason`` says why a session gives none."""

    session_id: int | None
    started_wall_s: float | None
    baseline: WindowValues | None
    blocks: tuple[BlockResponse, ...]
    reason: str | None = None


def _diff(block: WindowValues, ref: WindowValues | None, keys: Collection[str]) -> dict[str, float]:
    if ref is None or ref.reason is not None or block.reason is not None:
        return {k: math.nan for k in keys}
    return {k: block.value(k) - ref.value(k) for k in keys}


def _rest_before(segments: Sequence[Mapping[str, Any]], i: int) -> Mapping[str, Any] | None:
    if i == 0:
        return None
    prev = segments[i - 1]
    if prev.get("kind") not in {"washout", "baseline"}:
        return None
    if abs(float(prev["end_s"]) - float(segments[i]["start_s"])) > _ADJACENT_S:
        return None
    return prev


def session_responses(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    continuity: ArrayLike,
    segments: Sequence[Mapping[str, Any]],
    markers: Sequence[Mapping[str, Any]] = (),
    *,
    metrics: Collection[str],
    settings: CompareSettings | None = None,
    hrv: HrvSettings | None = None,
    session_id: int | None = None,
    started_wall_s: float | None = None,
    shape: ArrayLike | None = None,
) -> SessionResponses:
    """Responses of every trigger block of one session (beat times in s, RR in ms); ``shape``:
    what a recorded ECG says about each interval (:func:`.session_blocks.recorded_shapes`), the
    RR timing rule the fallback (:mod:`biofeedback.hrv.artifacts_shape`)."""
    cfg = settings or CompareSettings()
    hrv_settings = hrv or HrvSettings()
    # A segment still open (its session is being recorded, or its recorder was killed before
    # the store repaired it) has no end yet: it is not a block to measure.
    ordered = sorted(
        (s for s in segments if s.get("end_s") is not None), key=lambda s: float(s["start_s"])
    )
    # Bundles from other programs may mark a neutral control as its own kind.
    triggers = [i for i, s in enumerate(ordered) if s.get("kind") in {"trigger", "control"}]
    rr = np.asarray(rr_ms, dtype=np.float64)
    if not triggers:
        return SessionResponses(session_id, started_wall_s, None, (), "no trigger blocks recorded")
    if rr.size < 3:
        return SessionResponses(session_id, started_wall_s, None, (), "no beats recorded")
    try:
        series = prepare_nn(rr, t_s, continuity, correction=hrv_settings.correction, shape=shape)
    except ValueError as exc:  # e.g. no interval within the physiological range
        return SessionResponses(session_id, started_wall_s, None, (), str(exc))

    def measure(start_s: float, end_s: float, min_clean_s: float) -> WindowValues:
        return window_values(
            series,
            float(start_s),
            float(end_s),
            metrics=metrics,
            min_clean_s=min_clean_s,
            max_corrected_share=cfg.max_corrected_share,
            hrv=hrv_settings,
        )

    base_seg = next((s for s in ordered if s.get("kind") == "baseline"), None)
    baseline = None
    if base_seg is not None:
        baseline = measure(base_seg["start_s"], base_seg["end_s"], cfg.min_clean_s)
    blocks: list[BlockResponse] = []
    for position, i in enumerate(triggers, start=1):
        seg = ordered[i]
        start_s, end_s = float(seg["start_s"]), float(seg["end_s"])
        block = measure(start_s + cfg.onset_s, end_s, cfg.min_clean_s)
        rest = _rest_before(ordered, i)
        washout = None
        if rest is not None and rest is base_seg:
            washout = baseline
        elif rest is not None:
            washout = measure(rest["start_s"], rest["end_s"], cfg.min_washout_s)
        # A block cut short (stopped, interrupted, media that never played) is not exposure.
        done = seg.get("complete")
        cut = (
            "block incomplete (cut short or not played)" if done is not None and not done else None
        )
        reason = cut or block.reason or _ref_reason(baseline, "baseline")
        washout_reason = cut or block.reason or _ref_reason(washout, "washout")
        blocks.append(
            BlockResponse(
                label=str(seg["label"]),
                category=seg.get("category")
                or ("control" if seg.get("kind") == "control" else None),
                position=position,
                start_s=start_s,
                end_s=end_s,
                block=block,
                vs_baseline=_diff(block, baseline, metrics),
                vs_washout=_diff(block, washout, metrics),
                reason=reason,
                washout_reason=washout_reason,
                rating=block_ratings(markers, ordered, i),
                tingle_count=sum(
                    1
                    for m in markers
                    if m.get("kind") == "tingle" and start_s <= float(m["t_s"]) < end_s
                ),
                complete=cut is None,
            )
        )
    return SessionResponses(session_id, started_wall_s, baseline, tuple(blocks))


def _ref_reason(ref: WindowValues | None, name: str) -> str | None:
    if ref is None:
        return "no baseline recorded" if name == "baseline" else "no rest just before the block"
    if ref.reason is not None:
        return f"{name}: {ref.reason}"
    return None
