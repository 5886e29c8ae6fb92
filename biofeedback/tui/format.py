"""Pure text for the dashboard's panels: every number with its unit and its window.

No Textual here; each function is unit-tested on plain values.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from biofeedback.tui.model import DashboardModel, DeviceStatus, LinkState
from devices.heart_rate import SensorContact

if TYPE_CHECKING:
    from biofeedback.hrv.estimates import Value

NOT_MEDICAL: Final = "Not a medical device: for self-experiment and research, never for diagnosis."
NO_VALUE: Final = "—"


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
        return f"{label} {NO_VALUE} {unit}, {window}: {value.reason or 'not available'}"
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


def device_lines(device: DeviceStatus) -> list[str]:
    """The link state (with the reconnect attempt), battery and signal strength.

    >>> device_lines(DeviceStatus(state=LinkState.RECONNECTING, attempt=3, name="H10"))
    ['◌ reconnecting (attempt 3)', 'H10', 'battery — %  RSSI — dBm']
    """
    state = device.state
    if state is LinkState.CONNECTED:
        first = "● connected"
    elif state is LinkState.RECONNECTING:
        first = f"◌ reconnecting (attempt {device.attempt})"
    elif state is LinkState.DISCONNECTED:
        first = f"○ disconnected: {device.detail}" if device.detail else "○ disconnected"
    else:
        first = "… " + state.value
    battery = NO_VALUE if device.battery_percent is None else str(device.battery_percent)
    rssi = NO_VALUE if device.rssi_dbm is None else str(device.rssi_dbm)
    return [first, device.name or "no strap yet", f"battery {battery} %  RSSI {rssi} dBm"]


def heart_rate_caption(model: DashboardModel) -> str:
    """What the big number is, the last RR and how many beats arrived.

    >>> heart_rate_caption(DashboardModel())
    'bpm, from the strap\\nno beats yet'
    """
    if not model.beat_rr_ms:
        return "bpm, from the strap\nno beats yet"
    return f"bpm, from the strap\nRR {model.beat_rr_ms[-1]:.0f} ms · {model.beats_total} beats"


def segment_lines(model: DashboardModel) -> list[str]:
    """Recording state, the running segment with its countdown, and what is playing."""
    if model.recording:
        rec = "● REC" + (f" session {model.session_id}" if model.session_id is not None else "")
    else:
        rec = "○ not recording"
    segment = model.current_segment
    if segment is None:
        return [rec, "no protocol segment", ""]
    remaining = model.remaining_s()
    left = "until the media ends" if remaining is None else f"{format_clock(remaining)} left"
    media = f"playing {segment.media}" if segment.media else "no media"
    if model.paused:
        media = "paused: " + (segment.media or "playback")
    return [rec, f"▶ {left} · {segment.label} ({segment.kind.value})", media]


def block_line(model: DashboardModel) -> list[str]:
    """The lead: the running block's change from the baseline so far with its 95 % interval
    (lnRMSSD, then HR), or what it is waiting for (the baseline's progress, the onset).

    >>> block_line(DashboardModel())
    ['Block vs baseline: no baseline recorded', '']
    """
    snap = model.snapshot
    block = None if snap is None else snap.block
    segment = model.current_segment
    if segment is not None and segment.kind.value == "baseline" and model.now_s is not None:
        planned = "" if segment.planned_s is None else f" of {format_clock(segment.planned_s)}"
        done = format_clock(max(0.0, model.now_s - segment.start_s))
        return [f"Block vs baseline: baseline {done}{planned} being recorded", ""]
    if block is None or block.kind == "baseline":
        base = None if snap is None else snap.baseline_batches
        if isinstance(base, str):
            reason = base
        else:
            reason = "no baseline recorded" if base is None else "waiting for a block"
        return [f"Block vs baseline: {reason}", ""]
    ln, hr = block.ln_rmssd, block.hr_bpm
    if ln.change is None or ln.low is None or ln.high is None:
        reason = ln.reason or "not available"
        if reason.startswith("waiting for the first batch") and model.now_s is not None:
            left = block.analysed_from_s + block.settings.batch_s - model.now_s
            reason = f"first value in {format_clock(max(left, 0.0))} (after the onset)"
        return [f"Block vs baseline: {reason}", ""]
    pct = f"RMSSD {100 * math.expm1(ln.change):+.0f} %"
    lead = (
        f"Block so far: lnRMSSD {ln.change:+.2f} [{ln.low:+.2f}, {ln.high:+.2f}] "
        f"({pct}), {format_clock(block.analysed_s)}"
    )
    if hr.change is None or hr.low is None or hr.high is None:
        second = f"  HR: {hr.reason or 'not available'}"
    else:
        second = f"  HR {hr.change:+.1f} [{hr.low:+.1f}, {hr.high:+.1f}] bpm · vs baseline, 95 %"
    return [lead, second]


def estimate_lines(model: DashboardModel) -> list[str]:
    """The block-so-far change (the lead), then the newest 60-s values, PNS and respiration."""
    snap = model.snapshot
    if snap is None:
        return ["waiting for the first HRV window…"]
    return [
        *block_line(model),
        format_value("now: lnRMSSD", snap.ln_rmssd, "ln(ms)"),
        format_value("PNS index", snap.pns_index, "SD vs population (approx.)", signed=True),
        format_value("HR", snap.hr_bpm, "bpm mean", 1),
        format_value("Breathing", snap.respiration_rate_per_min, "/min (RSA)", 1),
    ]


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
        lines.append(
            f"corrected beats {window.artifact_share:.1%}, "
            f"{window.n_beats} beats in {window.window_s:.0f} s"
        )
        if snap.settings.artifact_method != "published":
            lines.append(f"artifact detection: {snap.settings.artifact_method} (ectopy runs)")
        lines += [f"⚠ {flag}" for flag in snap.flags]
    if device.malformed_packets or model.implausible_beats:
        lines.append(
            f"malformed packets {device.malformed_packets}, "
            f"implausible RR {model.implausible_beats}"
        )
    return lines
