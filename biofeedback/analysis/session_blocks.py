"""A stored session's blocks vs its baseline, recomputed as the live summary made them.

The one home of ``show ID --json``'s ``blocks`` and of the report's block figure: the stored
beats go through the live processor (:func:`biofeedback.hrv.block_replay.replay_blocks`) with the
session's stored correction (or the one asked for). A session recorded with a strap that
streamed ECG (a Polar H10) is replayed with the stored ECG's beat shapes as well
(:mod:`biofeedback.ecg.replay`), as its live run took them: shapes first, RR timing where no
ECG beat matched (:mod:`biofeedback.hrv.artifacts_shape`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from biofeedback.hrv.correction_levels import CORRECTION_LEVELS

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

    from biofeedback.ecg.online import LiveBeat
    from biofeedback.hrv.artifacts_shape import IntervalShape
    from biofeedback.sessions.bundle import SessionBundle

METRIC_ALIASES = {"lnrmssd": "ln_rmssd", "hr": "hr_bpm"}


@dataclass(frozen=True, slots=True)
class SessionBlocks:
    """Each block's record (:func:`biofeedback.hrv.block_estimate.block_record`) and how they
    were computed (``replayed_with``, the JSON's ``blocks_replayed_with``)."""

    blocks: list[dict[str, object]]
    replayed_with: dict[str, object]


def session_blocks(
    bundle: SessionBundle,
    metric: str = "ln_rmssd",
    correction: str | None = None,
    shapes: RecordedShapesOf | None = None,
) -> SessionBlocks:
    """The blocks of ``bundle`` for ``metric`` (``ln_rmssd``, ``hr_bpm``, ...; ``lnrmssd`` and
    ``hr`` are accepted), with its stored correction level or ``correction``; ``shapes``: its
    :func:`recorded_shapes` when the caller has them already (the report)."""
    from biofeedback.hrv.block_estimate import block_record
    from biofeedback.hrv.block_replay import replay_blocks
    from biofeedback.hrv.settings import stored_settings

    if correction is not None and correction not in CORRECTION_LEVELS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTION_LEVELS)}")
    metric = METRIC_ALIASES.get(metric, metric)
    settings = stored_settings(bundle.settings, correction)
    beats = bundle.beats
    recorded = shapes or recorded_shapes(bundle)
    estimates = replay_blocks(
        beats["t_s"],
        beats["rr_ms"],
        beats["segment"],
        bundle.segments,
        settings,
        shapes=None if recorded.shape is None else _ByBeat(beats["t_s"], recorded.shape),
    )
    replayed: dict[str, object] = {
        "correction": settings.correction,
        "artifact_source": "ecg_shape" if recorded.matched else "rr",
        "from": "stored RR beats and the stored ECG's beat shapes"
        if recorded.shape is not None
        else "stored RR beats",
        "ecg_intervals_matched": recorded.matched,
        "live_artifact_source": bundle.settings.get("artifact_source", "rr"),
    }
    if recorded.unused is not None:
        replayed["ecg_unused"] = recorded.unused
    if "ecg_intervals_matched" in bundle.settings:
        replayed["live_ecg_intervals_matched"] = bundle.settings["ecg_intervals_matched"]
    return SessionBlocks([block_record(e, metric) for e in estimates], replayed)


class _ByBeat:
    """A shape source over :func:`recorded_shapes`' array: the processor asks once per beat, in
    beat order, as :class:`~biofeedback.ecg.replay.RecordedShapes` was asked in making it, so
    the answers are the ones it gave."""

    def __init__(self, t_s: Sequence[float], shape: NDArray[np.int8]) -> None:
        self._at = {float(t): int(v) for t, v in zip(t_s, shape.tolist(), strict=True)}

    def interval_shape(self, t_end_s: float, rr_ms: float, segment: int) -> IntervalShape:
        from biofeedback.hrv.artifacts_shape import IntervalShape

        return IntervalShape(self._at.get(float(t_end_s), IntervalShape.UNKNOWN))


@dataclass(frozen=True, slots=True)
class RecordedShapesOf:
    """What a session's stored ECG says about each stored interval (``shape``: one
    :class:`~biofeedback.hrv.artifacts_shape.IntervalShape` per beat, ``None`` without ECG),
    and why it says nothing (``unused``: a damaged chunk)."""

    shape: NDArray[np.int8] | None
    matched: int
    unused: str | None = None


def recorded_shapes(bundle: SessionBundle) -> RecordedShapesOf:
    """The stored intervals' shapes from the stored ECG, matched as live (in beat order), for
    the batch analyses of a stored session (``compare``'s block values)."""
    ecg, damaged = _stored_ecg(bundle)
    if not ecg:
        return RecordedShapesOf(None, 0, damaged)
    import numpy as np

    from biofeedback.ecg.replay import RecordedShapes

    source = RecordedShapes(ecg)
    b = bundle.beats
    shape = np.fromiter(
        (
            source.interval_shape(float(t), float(rr), int(seg))
            for t, rr, seg in zip(b["t_s"], b["rr_ms"], b["segment"], strict=True)
        ),
        dtype=np.int8,
        count=len(b["t_s"]),
    )
    return RecordedShapesOf(shape, source.matched)


def _stored_ecg(bundle: SessionBundle) -> tuple[list[LiveBeat], str | None]:
    """The stored ECG's beats, or none and why (a damaged chunk: the beats are intact, and are
    replayed by RR timing alone)."""
    from biofeedback.sessions.store_waves import WaveformDamagedError

    try:
        return _ecg_beats(bundle), None
    except WaveformDamagedError as exc:
        return [], str(exc)


def _ecg_beats(bundle: SessionBundle) -> list[LiveBeat]:
    """The stored ECG's beats (every continuity segment, in time order); none without ECG."""
    records = [r for r in bundle.waveforms if r.get("stream") == "ecg"]
    if not records:
        return []
    import numpy as np

    from biofeedback.ecg.replay import recorded_beats
    from biofeedback.sessions.store_waves import chunk_of_record

    where = f"session {bundle.session.get('id', '?')}: "
    # One PMD continuity segment is one signal (its chunks each carry their own fitted rate).
    pieces: dict[int, tuple[list[Any], list[Any], list[float]]] = {}
    for record in sorted(records, key=lambda r: float(r["t0_s"])):
        chunk = chunk_of_record(record)
        times, values, rates = pieces.setdefault(chunk.segment, ([], [], []))
        times.append(chunk.times())
        values.append(chunk.samples(where)[:, 0])
        rates.append(chunk.fs_hz)
    out: list[LiveBeat] = []
    for segment, (times, values, rates) in pieces.items():
        fs_hz = float(np.median(rates))
        out += recorded_beats(np.concatenate(times), np.concatenate(values), segment, fs_hz)
    out.sort(key=lambda b: b.t_s)
    return out
