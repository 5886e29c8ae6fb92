"""Pure text for the dashboard's panels: every number with its unit and its window.

No Textual here; each function is unit-tested on plain values.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Final

from biofeedback.hrv.artifacts_threshold import THRESHOLD_LEVELS_S
from biofeedback.hrv.rhythm import MESSAGE as IRREGULAR_FLAG
from biofeedback.tui.braille import clock_label
from biofeedback.tui.model import DashboardModel, DeviceStatus, LinkState
from devices.events import DisconnectReason
from devices.heart_rate import SensorContact

if TYPE_CHECKING:
    from biofeedback.ecg.online import BreathEstimate
    from biofeedback.hrv.estimates import Value
    from biofeedback.hrv.processor import Snapshot

NOT_MEDICAL: Final = "Not a medical device: for self-experiment and research, never for diagnosis."
NO_VALUE: Final = "—"
NO_BEATS_AFTER_S: Final = 5.0
"""A connected strap that sent no beat for this long (wall clock) is reported as silent."""

_SHORT_REASONS: Final = (
    (re.compile(r"need (\d+) s of continuous beats, have (\d+) s"), r"\2 of \1 s of beats so far"),
    (re.compile(r"window not covered: (\d+)(?:\.\d+)? s of (\d+) s"), r"\1 of \2 s covered"),
    (
        re.compile(r"ambiguous: the ([\d.]+)/min peak .* HF peak at ([\d.]+)/min"),
        r"ambiguous, \1 or \2/min",
    ),
)


def short_reason(reason: str) -> str:
    """The processor's reason for a missing value, short enough for an 80-column panel.

    >>> short_reason("need 120 s of continuous beats, have 47 s")
    '47 of 120 s of beats so far'
    >>> short_reason("ambiguous: the 6.0/min peak may be the 0.1-Hz Mayer wave, "
    ...              "not breathing; HF peak at 15.0/min")
    'ambiguous, 6.0 or 15.0/min'
    >>> short_reason("too few beats: 10 < 20")
    'too few beats: 10 < 20'
    """
    for pattern, replacement in _SHORT_REASONS:
        if pattern.search(reason):
            return pattern.sub(replacement, reason)
    return reason


def format_value(
    label: str, value: Value, unit: str, digits: int = 2, *, signed: bool = False
) -> str:
    """``"lnRMSSD 3.91 ±0.22 ln(ms), 60 s"``, or the reason there is no value.

    >>> from biofeedback.hrv.estimates import Value
    >>> format_value("lnRMSSD", Value(3.912, 0.22, None, 60.0, 61, 0.0), "ln(ms)")
    'lnRMSSD 3.91 ±0.22 ln(ms), 60 s'
    >>> format_value("RMSSD", Value.absent("too few beats: 10 < 20", 60.0, 10, 0.0), "ms")
    'RMSSD — ms, 60 s: too few beats: 10 < 20'
    """
    window = f"{value.window_s:.0f} s"
    if value.value is None or not math.isfinite(value.value):
        return (
            f"{label} {NO_VALUE} {unit}, {window}: {short_reason(value.reason or 'not available')}"
        )
    number = f"{value.value:+.{digits}f}" if signed else f"{value.value:.{digits}f}"
    spread = "" if value.uncertainty is None else f" ±{value.uncertainty:.{digits}f}"
    return f"{label} {number}{spread} {unit}, {window}"


def format_clock(seconds: float) -> str:
    """Minutes and seconds, rounded up so a countdown reaches 0:00 only at the end.

    >>> format_clock(272.2), format_clock(0.0), format_clock(3725.0)
    ('4:33', '0:00', '62:05')
    """
    whole = math.ceil(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


_STOPPED: Final = {
    DisconnectReason.USER: "○ stream stopped",
    DisconnectReason.STALLED: "○ disconnected: stalled",
}


def device_lines(
    device: DeviceStatus, *, silent_s: float | None = None, stream_ended: bool = False
) -> list[str]:
    """The link state (with the reconnect attempt), battery and signal strength.

    A connected strap that sent no beat for :data:`NO_BEATS_AFTER_S` (``silent_s``) says so,
    and so does a stream that ended: "connected" would claim beats that no longer come.

    >>> device_lines(DeviceStatus(state=LinkState.RECONNECTING, attempt=3, name="H10"))
    ['◌ reconnecting (attempt 3)', 'H10', 'battery — %  RSSI — dBm']
    >>> device_lines(DeviceStatus(state=LinkState.CONNECTED), silent_s=12.3)[0]
    '◌ no beats for 12 s'
    """
    state = device.state
    if stream_ended:
        first = "■ stream ended"
    elif state is LinkState.CONNECTED:
        silent = silent_s is not None and silent_s >= NO_BEATS_AFTER_S
        first = f"◌ {_silence(silent_s)}" if silent and silent_s is not None else "● connected"
    elif state is LinkState.RECONNECTING:
        first = f"◌ reconnecting (attempt {device.attempt})"
    elif state is LinkState.DISCONNECTED:
        plain = f"○ disconnected: {device.detail}" if device.detail else "○ disconnected"
        first = plain if device.reason is None else _STOPPED.get(device.reason, plain)
    else:
        first = "… " + state.value
    battery = NO_VALUE if device.battery_percent is None else str(device.battery_percent)
    rssi = NO_VALUE if device.rssi_dbm is None else str(device.rssi_dbm)
    return [first, device.name or "no strap yet", f"battery {battery} %  RSSI {rssi} dBm"]


def _silence(silent_s: float) -> str:
    """``"no beats for 12 s"``, minutes and seconds from a minute on."""
    return "no beats for " + (f"{silent_s:.0f} s" if silent_s < 60 else format_clock(silent_s))


def heart_rate_caption(model: DashboardModel) -> str:
    """What the big number is, the last RR and how many beats arrived.

    >>> heart_rate_caption(DashboardModel())
    'bpm, from the strap\\nno beats yet'
    """
    if not model.beat_rr_ms:
        return "bpm, from the strap\nno beats yet"
    return f"bpm, from the strap\nRR {model.beat_rr_ms[-1]:.0f} ms · {model.beats_total} beats"


def segment_lines(model: DashboardModel) -> list[str]:
    """Recording state, the running segment, its countdown and what is playing; after a
    session, that it finished and where its summary is."""
    if model.recording:
        rec = "● REC" + (f" session {model.session_id}" if model.session_id is not None else "")
    else:
        rec = "○ not recording"
    segment = model.current_segment
    if segment is None:
        if model.finished_session_id is not None:
            return [rec, f"session {model.finished_session_id} finished", "u summary · c compare"]
        if model.stream_ended:
            return [rec, "the stream ended", ""]
        return [rec, "no protocol segment", ""]
    remaining = model.remaining_s()
    left = "until the media ends" if remaining is None else f"{format_clock(remaining)} left"
    media = f"playing {segment.media}" if segment.media else "no media"
    if model.paused:
        media = "paused: " + (segment.media or "playback")
    return [rec, f"▶ {segment.label} ({segment.kind.value})", f"{left} · {media}"]


def _elapsed_of(model: DashboardModel) -> str:
    """``"1:20 of 3:00"`` for the running segment (``"1:20"`` without a planned length)."""
    segment = model.current_segment
    if segment is None or model.now_s is None:
        return ""
    done = clock_label(model.now_s - segment.start_s)
    return done if segment.planned_s is None else f"{done} of {format_clock(segment.planned_s)}"


def block_line(model: DashboardModel) -> list[str]:
    """The lead: the running block's change from the baseline so far with its 95 % interval
    (lnRMSSD with RMSSD in %, then HR), or what it is waiting for (settling, the baseline's
    progress, the onset), each as two lines of at most 52 characters (the panel at 80 columns).

    >>> block_line(DashboardModel())
    ['Block so far: no baseline recorded', '']
    """
    snap = model.snapshot
    block = None if snap is None else snap.block
    segment = model.current_segment
    kind = None if segment is None else segment.kind.value
    if kind == "settling":
        return [f"Settling {_elapsed_of(model)}: not analysed", "  lets heart rate settle first"]
    if kind == "baseline":
        return [f"Baseline {_elapsed_of(model)} recorded", "  later blocks are compared with it"]
    if block is None or block.kind == "baseline":
        base = None if snap is None else snap.baseline_batches
        if isinstance(base, str):
            reason = base
        else:
            reason = "no baseline recorded" if base is None else "waiting for a block"
        return [f"Block so far: {reason}", ""]
    ln, hr = block.ln_rmssd, block.hr_bpm
    if ln.change is None or ln.low is None or ln.high is None:
        reason = ln.reason or "not available"
        if reason.startswith("waiting for the first batch") and model.now_s is not None:
            left = block.analysed_from_s + block.settings.batch_s - model.now_s
            return [
                f"Block so far: first value in {format_clock(max(left, 0.0))}",
                f"  (its first {block.settings.onset_s:.0f} s are left out)",
            ]
        return [f"Block so far: {reason}", ""]
    lead = (
        f"Block so far: lnRMSSD {ln.change:+.2f} [{ln.low:+.2f}, {ln.high:+.2f}], "
        f"{format_clock(block.analysed_s)}"
    )
    pct = f"RMSSD {100 * math.expm1(ln.change):+.0f} %"
    if hr.change is None or hr.low is None or hr.high is None:
        second = f"  {pct} · HR: {hr.reason or 'not available'}"
    else:
        second = f"  {pct} · HR {hr.change:+.1f} [{hr.low:+.1f}, {hr.high:+.1f}] bpm · 95 %"
    return [lead, second]


def _now_ln_rmssd(snap: Snapshot) -> str:
    ln, rmssd = snap.ln_rmssd, snap.rmssd_ms
    window = f"{ln.window_s:.0f} s"
    if ln.value is None or not math.isfinite(ln.value):
        return f"now {window}: lnRMSSD —: {short_reason(ln.reason or 'not available')}"
    spread = "" if ln.uncertainty is None else f" ±{ln.uncertainty:.2f}"
    ms = "" if rmssd.value is None else f", RMSSD {rmssd.value:.0f} ms"
    return f"now {window}: lnRMSSD {ln.value:.2f}{spread} ln ms{ms}"


def _now_hr(snap: Snapshot) -> str:
    hr = snap.hr_bpm
    if hr.value is None or not math.isfinite(hr.value):
        return f"now {hr.window_s:.0f} s: HR —: {short_reason(hr.reason or 'not available')}"
    return f"now {hr.window_s:.0f} s: HR {hr.value:.1f} bpm"


def estimate_lines(model: DashboardModel) -> list[str]:
    """The block-so-far change (the lead), then the newest 60-s values, PNS and respiration."""
    snap = model.snapshot
    if snap is None:
        return ["waiting for the first HRV window…"]
    if irregular(snap):
        # The block so far is lnRMSSD too: over irregular rhythm it would measure the rhythm.
        return [IRREGULAR_BLOCK, "", *IRREGULAR_LINES, _now_hr(snap)]
    return [
        *block_line(model),
        _now_ln_rmssd(snap),
        _now_hr(snap),
        format_value("PNS index", snap.pns_index, "SD (approx.)", signed=True),
        breathing_line(model),
    ]


def _rate(estimate: BreathEstimate | None) -> str:
    if estimate is None:
        return NO_VALUE
    return f"{estimate.rate_per_min:.1f} ±{estimate.se_per_min:.1f}"


def breathing_line(model: DashboardModel) -> str:
    """The RSA breathing rate; with an H10's chest data, the chest (ACC) rate beside it.

    >>> from biofeedback.live.messages import BreathingEstimated
    >>> from biofeedback.ecg.online import BreathEstimate
    >>> m = DashboardModel()
    >>> m.breathing = BreathingEstimated(60.0, BreathEstimate(60.0, 6.04, 0.12, 60.0, "acc"), None)
    >>> breathing_line(m)
    'Breathing: RSA —, chest 6.0 ±0.1 /min, 60 s'
    """
    snap = model.snapshot
    if model.breathing is None and model.ecg is None:
        if snap is None:
            return "Breathing: waiting for the first window…"
        return format_value("Breathing", snap.respiration_rate_per_min, "/min", 1)
    rsa = NO_VALUE
    if snap is not None:
        value = snap.respiration_rate_per_min.value
        if value is not None and math.isfinite(value):
            rsa = f"{value:.1f}"
    chest = model.breathing.chest if model.breathing is not None else None
    window = f", {chest.window_s:.0f} s" if chest is not None else " (after 30 s of ACC)"
    return f"Breathing: RSA {rsa}, chest {_rate(chest)} /min{window}"


_LABEL_SHORT: Final = ((0, "N"), (1, "S"), (2, "V"), (3, "?"))
"""``BeatClass`` values (an IntEnum) and their AAMI letters, without importing the ECG maths."""


def ecg_lines(model: DashboardModel) -> list[str]:
    """The ECG's beat labels by shape (counts since the start: normal, supraventricular,
    ventricular, not judged yet) and the breathing rate derived from the R amplitudes.

    >>> from biofeedback.ecg.labels import BeatClass
    >>> from biofeedback.tui.model import EcgTrace
    >>> counts = {BeatClass.NORMAL: 118, BeatClass.VENTRICULAR: 2}
    >>> m = DashboardModel(ecg=EcgTrace(label_counts=counts))
    >>> ecg_lines(m)
    ['ECG beats: N 118, S 0, V 2, ? 0']
    """
    if model.ecg is None:
        return []
    counts = {int(label): n for label, n in model.ecg.label_counts.items()}
    labels = ", ".join(f"{short} {counts.get(c, 0)}" for c, short in _LABEL_SHORT)
    lines = [f"ECG {'shapes in use' if getattr(model.snapshot, 'artifact_source', '') == 'ecg_shape' else 'beats'}: {labels}"]  # fmt: skip  # noqa: E501
    edr = model.breathing.edr if model.breathing is not None else None
    if edr is not None:
        lines.append(f"ECG breathing {_rate(edr)} /min")
    return lines


_CONTACT: Final = {
    SensorContact.DETECTED: "skin contact ok",
    SensorContact.NOT_DETECTED: "NO SKIN CONTACT",
    SensorContact.NOT_SUPPORTED: "contact not reported",
}


def quality_lines(model: DashboardModel) -> list[str]:
    """Contact, artifact share, beats in window and the processor's honest flags."""
    device = model.device
    contact = "contact unknown" if device.contact is None else _CONTACT[device.contact]
    lines = [contact]
    snap = model.snapshot
    if snap is not None:
        window = snap.ln_rmssd
        lines += [
            share_line(model),
            f"{window.n_beats} beats in {window.window_s:.0f} s",
        ]
        lines.append(correction_line(snap))
        lines += [flag_line(flag) for flag in snap.flags]
    lines += ecg_lines(model)
    if device.malformed_packets or model.implausible_beats:
        lines.append(
            f"malformed packets {device.malformed_packets}, "
            f"implausible RR {model.implausible_beats}"
        )
    return lines


_CORRECTION_NAMES: Final = {
    "automatic": "automatic (Lipponen–Tarvainen)",
    "robust": "robust (L–T + ectopy runs)",
    "none": "none (RR as measured)",
}


def correction_line(snap: Snapshot) -> str:
    """Which artifact correction the processor applies (``settings.correction``), always shown.

    >>> from types import SimpleNamespace as NS
    >>> correction_line(NS(settings=NS(correction="automatic")))
    'correction: automatic (Lipponen–Tarvainen)'
    >>> correction_line(NS(settings=NS(correction="medium")))
    'correction: medium (> 250 ms at 60/min)'

    The level comes first: a narrow panel cuts the detail, never the level.
    """
    level = str(snap.settings.correction)
    if level in THRESHOLD_LEVELS_S:
        return f"correction: {level} (> {1000 * THRESHOLD_LEVELS_S[level]:.0f} ms at 60/min)"
    return f"correction: {_CORRECTION_NAMES.get(level, level)}"


def irregular(snap: Snapshot | None) -> bool:
    """The snapshot withholds HRV over sustained irregular rhythm (its flag, set by the
    processor, ``hrv.rhythm.MESSAGE``)."""
    return snap is not None and IRREGULAR_FLAG in snap.flags


IRREGULAR_LINES: Final = (
    "⚠ rhythm too irregular for HRV: values withheld",
    "  it is outside what HRV analysis assumes; this is",
    "  not a diagnosis. If it recurs, ask a doctor.",
)
"""The estimates panel over irregular rhythm (each at most 52 characters)."""
IRREGULAR_BLOCK: Final = "Block so far: withheld (irregular rhythm)"


_SHORT_FLAGS: Final = (
    (
        re.compile(r"ambiguous: the ([\d.]+)/min peak .* HF peak at ([\d.]+)/min"),
        r"RSA breathing ambiguous: \1 or \2/min",
    ),
    (
        re.compile(r"irregular rhythm suspected \(being checked\).*"),
        "irregular rhythm suspected: being checked",
    ),
    (
        re.compile(r"HF underestimates vagal activity \(breathing < (\d+)/min\)"),
        r"breathing < \1/min: HF underestimates vagal",
    ),
)
"""Flags in at most 44 characters, the quality panel's width (``?`` explains each in full)."""


def flag_line(flag: str) -> str:
    """A processor flag for the quality panel, in short (the irregular-rhythm one, whose wording
    the estimates panel shows in full; the respiration ones, which the help page explains).

    >>> flag_line(IRREGULAR_FLAG), flag_line("too many corrected beats")
    ('⚠ irregular rhythm: HRV withheld', '⚠ too many corrected beats')
    >>> flag_line("ambiguous: the 6.1/min peak may be the 0.1-Hz Mayer wave, not breathing; "
    ...           "HF peak at 17.9/min")
    '⚠ RSA breathing ambiguous: 6.1 or 17.9/min'
    >>> flag_line("irregular rhythm suspected (being checked): these values may measure ...")
    '⚠ irregular rhythm suspected: being checked'
    >>> flag_line("HF underestimates vagal activity (breathing < 9/min)")
    '⚠ breathing < 9/min: HF underestimates vagal'
    """
    if flag == IRREGULAR_FLAG:
        return "⚠ irregular rhythm: HRV withheld"
    for pattern, replacement in _SHORT_FLAGS:
        if pattern.search(flag):
            return f"⚠ {pattern.sub(replacement, flag)}"
    return f"⚠ {flag}"


def share_line(model: DashboardModel) -> str:
    """The corrected share of the window; over irregular rhythm the withheld beats instead
    (they are not artifacts, so no share of "corrected" beats is claimed for them)."""
    snap = model.snapshot
    if snap is None:
        return ""
    if irregular(snap):
        return f"withheld {model.withheld_beats} beats, not artifacts"
    return f"corrected beats {100 * snap.ln_rmssd.artifact_share:.1f} %"
