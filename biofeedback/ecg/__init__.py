"""ECG and chest-motion maths (pure: numpy and scipy only): R-peaks, scoring, respiration.

Arrays in with the unit in the name, frozen dataclasses out; no I/O, no asyncio, no plotting.
"""

from __future__ import annotations

from biofeedback.ecg.rpeaks import OnlineRPeakDetector, RPeaks, detect_r_peaks
from biofeedback.ecg.scoring import BeatMatch, match_beats

__all__ = ["BeatMatch", "OnlineRPeakDetector", "RPeaks", "detect_r_peaks", "match_beats"]
