"""Processing settings that travel with every HRV result and every export.

Defaults follow the Task Force (1996) bands and the Kubios-style spectral pipeline (4 Hz cubic
spline, smoothness-priors detrending with λ = 500, Welch). Task Force of the ESC and NASPE, Heart
rate variability: standards of measurement, Eur Heart J 17:354-381,
doi:10.1093/oxfordjournals.eurheartj.a014868.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Final, Literal

from biofeedback.hrv.artifacts_shape import ARTIFACT_SOURCES, ArtifactSource
from biofeedback.hrv.correction_levels import CORRECTION_LEVELS, CorrectionLevel
from biofeedback.hrv.nonlinear import NonlinearSettings

SpectralMethod = Literal["welch", "lomb"]
DetrendMethod = Literal["smoothness_priors", "none"]
SpectralDetrend = Literal["smoothness_priors", "none", "mean"]
"""``mean``: only the mean is removed, all that Lomb-Scargle does (set whenever ``method`` is
``lomb``, whatever was asked, so the export says what was done)."""
ArtifactMethod = Literal["published", "robust"]
LiveCorrection = CorrectionLevel

TIME_WINDOW_MIN_S = 30.0
TIME_WINDOW_MAX_S = 300.0
SPECTRAL_WINDOW_MIN_S = 120.0
DFA_WINDOW_MIN_S = 60.0
LIVE_CORRECTIONS: Final = CORRECTION_LEVELS
"""The corrections the live processor applies beat by beat: all of them (automatic and robust
with a two-beat lookahead, the threshold levels with five: :mod:`.artifacts_threshold_online`,
whose module notes say how it differs from batch)."""


@dataclass(frozen=True, slots=True)
class HrvSettings:
    """Every choice that changes a number; ``to_dict()`` goes into each export.

    Band edges are half-open ``[low, high)`` in Hz so that the bands partition the spectrum.
    ``welch_segment_s`` is 120 s rather than Kubios' 256 s because live and windowed spectra use
    2-5 min windows: a 256-s segment would collapse to one high-variance periodogram there
    (FACTS §2.5), while 120 s still resolves 1/120 Hz ≈ 0.008 Hz, i.e. 0.5 breaths/min.
    """

    vlf_band_hz: tuple[float, float] = (0.0033, 0.04)
    lf_band_hz: tuple[float, float] = (0.04, 0.15)
    hf_band_hz: tuple[float, float] = (0.15, 0.40)
    method: SpectralMethod = "welch"
    resample_hz: float = 4.0
    detrend: SpectralDetrend = "smoothness_priors"
    """Detrending before the spectrum: Welch uses it; ``method="lomb"`` always records ``mean``
    (its blocks are only mean-removed; ``detrend_lambda`` then plays no part)."""
    detrend_lambda: float = 500.0
    welch_segment_s: float = 120.0
    welch_overlap: float = 0.5
    welch_window: str = "hann"
    lomb_max_hz: float = 0.5
    lomb_oversampling: float = 4.0
    artifact_method: ArtifactMethod = "published"
    """Lipponen & Tarvainen (2019) as published, or this project's extension for sustained
    ectopy (``robust``; README, "HRV methods", sustained ectopy)."""
    correction: CorrectionLevel = "automatic"
    """Artifact correction as Kubios names it: ``none``, a threshold level (``very-low`` 0.45 s
    ... ``very-strong`` 0.05 s at 60 beats/min, scaled with mean HR), ``automatic`` (Lipponen &
    Tarvainen) or ``robust``. ``correction="robust"`` sets ``artifact_method="robust"``, an
    ``artifact_method="robust"`` with ``automatic`` becomes ``robust``, and every other level sets
    ``artifact_method`` to ``published`` (it then plays no part)."""
    artifact_source: ArtifactSource = "rr"
    """What decides which intervals are ectopic: ``rr`` (RR timing alone, the rule above) or
    ``ecg_shape`` (an ECG's beat shapes first, the RR rule as the fallback where a shape is
    unknown and for missed, extra, long and short beats: :mod:`.artifacts_shape`). ``analyze``
    sets ``ecg_shape`` for an ECG file; the live processor says per snapshot which applied."""
    time_detrend: DetrendMethod = "none"
    """Detrending of the NN series before time-domain and Poincaré statistics, as Kubios does
    when its detrending is on: smoothness priors on the series resampled at ``resample_hz``
    (λ as for the spectrum), taken back at the beats, mean RR kept
    (:func:`biofeedback.hrv.detrend.detrend_at_beats`)."""
    time_detrend_lambda: float = 500.0
    rhythm_check: bool = True
    """Withhold HRV over sustained irregular rhythm (:mod:`biofeedback.hrv.rhythm`)."""
    window_s: float = 60.0
    """Time-domain and estimate window (30-300 s); 60 s is the validated minimum for lnRMSSD."""
    spectral_window_s: float = 120.0
    spectral_update_s: float = 1.0
    """Live spectra are recomputed at most once per this much beat time."""
    min_beats: int = 20
    min_coverage: float = 0.8
    """The window's summed NN must cover at least this share of its length (gaps invalidate)."""
    max_corrected_share: float = 0.05
    gap_restart_s: float = 5.0
    """A hole in beat time longer than this restarts the live windows."""
    respiration_band_hz: tuple[float, float] = (0.1, 0.5)
    respiration_min_prominence: float = 0.5
    """Minimum (prominence / height) of the RSA peak for a valid respiration rate."""
    slow_breathing_per_min: float = 9.0
    vagal_halfwidth_hz: float = 0.03
    stress_bin_ms: float = 50.0
    baseline_sample_s: float = 10.0
    min_baseline_windows: int = 5
    relaxation_sd_floor: float = 0.11
    """Floor for the baseline SD of lnRMSSD: Esco & Flatt's 60-s typical error (ln-ms)."""
    nonlinear: NonlinearSettings = field(default_factory=NonlinearSettings)
    """Sample/approximate entropy and DFA choices (m, r, scales) for records and windows."""
    dfa_window_s: float = 120.0
    """Live DFA α1 window (>= 60 s): 2 minutes, as used during exercise and relaxation
    (Rogers et al. 2021, doi:10.3389/fphys.2020.596567); recomputed with the spectrum."""
    dfa_min_beats: int = 64
    """Fewest NN beats for a DFA α1 value: four windows of the largest α1 scale (16 beats)."""

    def __post_init__(self) -> None:
        if self.correction not in CORRECTION_LEVELS:
            raise ValueError(
                f"correction must be one of {', '.join(CORRECTION_LEVELS)}, got {self.correction!r}"
            )
        if self.artifact_method not in ("published", "robust"):
            raise ValueError(
                f"artifact_method must be 'published' or 'robust', got {self.artifact_method!r}"
            )
        # ``correction`` is the primary choice; ``artifact_method`` (read by the live processor)
        # follows it, and an old ``artifact_method="robust"`` promotes "automatic" to "robust".
        if self.correction == "robust":
            object.__setattr__(self, "artifact_method", "robust")
        elif self.correction == "automatic" and self.artifact_method == "robust":
            object.__setattr__(self, "correction", "robust")
        elif self.correction != "automatic":
            object.__setattr__(self, "artifact_method", "published")
        if self.artifact_source not in ARTIFACT_SOURCES:
            raise ValueError(
                f"artifact_source must be one of {', '.join(ARTIFACT_SOURCES)}, "
                f"got {self.artifact_source!r}"
            )
        if self.time_detrend not in ("smoothness_priors", "none"):
            raise ValueError(
                f"time_detrend must be 'smoothness_priors' or 'none', got {self.time_detrend!r}"
            )
        if self.time_detrend_lambda <= 0:
            raise ValueError("time_detrend_lambda must be positive")
        if not TIME_WINDOW_MIN_S <= self.window_s <= TIME_WINDOW_MAX_S:
            raise ValueError(f"window_s must be in [30, 300] s, got {self.window_s}")
        if self.spectral_window_s < SPECTRAL_WINDOW_MIN_S:
            raise ValueError(f"spectral_window_s must be >= 120 s, got {self.spectral_window_s}")
        for name in ("vlf_band_hz", "lf_band_hz", "hf_band_hz", "respiration_band_hz"):
            low, high = getattr(self, name)
            if not 0.0 <= low < high:
                raise ValueError(f"{name} must satisfy 0 <= low < high, got {(low, high)}")
        if self.method not in ("welch", "lomb"):
            raise ValueError(f"method must be 'welch' or 'lomb', got {self.method!r}")
        if self.detrend not in ("smoothness_priors", "none", "mean"):
            raise ValueError(
                f"detrend must be 'smoothness_priors', 'none' or 'mean', got {self.detrend!r}"
            )
        if self.method == "lomb":
            object.__setattr__(self, "detrend", "mean")
        elif self.detrend == "mean":
            # Welch removes each segment's mean in any case: "mean" is its "none".
            object.__setattr__(self, "detrend", "none")
        if self.resample_hz < 2.0 * self.hf_band_hz[1]:
            raise ValueError(
                f"resample_hz must be >= twice the HF upper edge, got {self.resample_hz}"
            )
        if not 0.0 <= self.welch_overlap < 1.0:
            raise ValueError(f"welch_overlap must be in [0, 1), got {self.welch_overlap}")
        if self.welch_segment_s <= 0 or self.detrend_lambda <= 0:
            raise ValueError("welch_segment_s and detrend_lambda must be positive")
        if not 0.0 <= self.max_corrected_share <= 1.0:
            raise ValueError(
                f"max_corrected_share must be in [0, 1], got {self.max_corrected_share}"
            )
        if self.min_beats < 3:
            raise ValueError(f"min_beats must be >= 3, got {self.min_beats}")
        if not isinstance(self.nonlinear, NonlinearSettings):
            raise TypeError(f"nonlinear must be NonlinearSettings, got {type(self.nonlinear)}")
        if self.dfa_window_s < DFA_WINDOW_MIN_S:
            raise ValueError(f"dfa_window_s must be >= 60 s, got {self.dfa_window_s}")
        if self.dfa_min_beats <= self.nonlinear.alpha1_scales_beats[1]:
            raise ValueError(
                "dfa_min_beats must exceed the largest DFA α1 scale "
                f"({self.nonlinear.alpha1_scales_beats[1]}), got {self.dfa_min_beats}"
            )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping (tuples become lists, ``nonlinear`` a nested mapping).

        >>> HrvSettings().to_dict()["nonlinear"]["alpha1_scales_beats"]
        [4, 16]
        """
        return _lists(asdict(self))


def _lists(mapping: dict[str, object]) -> dict[str, object]:
    return {
        k: _lists(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v
        for k, v in mapping.items()
    }


def stored_settings(stored: Mapping[str, object], correction: str | None = None) -> HrvSettings:
    """The settings a session is recomputed with: ``correction`` if given, else the level stored
    with it (``correction``, or an older session's ``artifact_method``); defaults otherwise.

    >>> stored_settings({"artifact_method": "robust"}).correction
    'robust'
    >>> stored_settings({"correction": "robust"}, "medium").correction
    'medium'
    """
    level = correction or stored.get("correction")
    if level not in CORRECTION_LEVELS:
        level = "robust" if stored.get("artifact_method") == "robust" else "automatic"
    return HrvSettings(correction=level)  # type: ignore[arg-type]
