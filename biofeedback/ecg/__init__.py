"""ECG and chest-motion maths (pure: numpy and scipy only): R-peaks, beat labels, scoring,
respiration, and the RR intervals with artifact labels that the HRV stage takes.

Arrays in with the unit in the name, frozen dataclasses out; no I/O, no asyncio, no plotting.
"""

from __future__ import annotations

from biofeedback.ecg.artifacts import EcgIntervals, ecg_intervals
from biofeedback.ecg.labels import (
    BeatClass,
    BeatLabels,
    OnlineBeatLabeller,
    detect_and_label,
    label_beats,
)
from biofeedback.ecg.rpeaks import OnlineRPeakDetector, RPeaks, detect_r_peaks
from biofeedback.ecg.scoring import BeatMatch, match_beats

__all__ = [
    "BeatClass",
    "BeatLabels",
    "BeatMatch",
    "EcgIntervals",
    "OnlineBeatLabeller",
    "OnlineRPeakDetector",
    "RPeaks",
    "detect_and_label",
    "detect_r_peaks",
    "ecg_intervals",
    "label_beats",
    "match_beats",
]
