"""A block record (:func:`biofeedback.hrv.block_estimate.block_record`) as table cells: the
change with its interval, HR, breathing and artifacts, as the session summary, headless
``record`` and the HTML report print them (one home for how a block reads)."""

from __future__ import annotations

from typing import Any, Final

AMBIGUOUS_CELL: Final = "? 6/min: Mayer"
"""A block's breathing when its only slow readings may be the 0.1-Hz Mayer wave (the help page
and the README say what it means)."""


def block_cells(
    block: dict[str, Any], *, breathing_interval: bool = True
) -> tuple[str, str, str, str]:
    """``(lnRMSSD change [interval], HR change, breathing [interval], artifacts)`` of one block
    record (the breathing interval when the record has one and ``breathing_interval``).

    >>> block_cells({"change": 0.21, "low": 0.1, "high": 0.32, "hr_change_bpm": -3.14,
    ...              "breathing_per_min": 12.4, "artifact_share": 0.004})
    ('+0.21 [+0.10, +0.32]', '-3.1', '12.4', '0.4 %')
    >>> block_cells({"change": None, "breathing_per_min": 12.4, "breathing_low_per_min": 11.2,
    ...              "breathing_high_per_min": 13.9})[2]
    '12.4 [11.2, 13.9]'
    >>> block_cells({"change": None, "breathing_per_min": None, "breathing_ambiguous": True})[2]
    '? 6/min: Mayer'
    """
    if block.get("change") is None:
        ln = f"— ({block.get('reason') or 'n/a'})"
    else:
        ln = f"{block['change']:+.2f} [{block['low']:+.2f}, {block['high']:+.2f}]"
    hr = block.get("hr_change_bpm")
    breathing = block.get("breathing_per_min")
    share = block.get("artifact_share")
    return (
        ln,
        "—" if hr is None else f"{hr:+.1f}",
        (AMBIGUOUS_CELL if block.get("breathing_ambiguous") else "—")
        if breathing is None
        else f"{breathing:.1f}" + (_interval(block) if breathing_interval else ""),
        "—" if share is None else f"{100 * share:.1f} %",
    )


def _interval(block: dict[str, Any]) -> str:
    low, high = block.get("breathing_low_per_min"), block.get("breathing_high_per_min")
    return "" if low is None or high is None else f" [{low:.1f}, {high:.1f}]"
