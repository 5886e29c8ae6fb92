"""Command-line flags to the live layer's options: the only place that reads the namespace."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from biofeedback.errors import InputError
from biofeedback.hrv.correction_levels import CORRECTION_LEVELS

if TYPE_CHECKING:
    from biofeedback.hrv.settings import HrvSettings
    from biofeedback.live.sources import SourceOptions

CORRECTION_CHOICES = CORRECTION_LEVELS
"""``--correction``: the levels of ``hrv.correction_levels`` (a module without numpy, so parsing
stays quick). Every level also runs live (``hrv.settings.LIVE_CORRECTIONS``)."""
LIVE_CORRECTIONS = CORRECTION_CHOICES


def source_options(args: argparse.Namespace) -> SourceOptions:
    """The source the flags name (``--simulate``, ``--device``, ``--replay`` and their knobs)."""
    from biofeedback.live.sources import SourceOptions

    return SourceOptions(
        simulate=getattr(args, "simulate", None),
        device=getattr(args, "device", None),
        replay=getattr(args, "replay", None),
        profile=getattr(args, "profile", "responder"),
        seed=getattr(args, "seed", 0),
        speed=getattr(args, "speed", 1.0),
        segments=getattr(args, "segments", "baseline:300"),
        duration_s=getattr(args, "duration", None),
        artifacts=getattr(args, "artifacts", ""),
        latency_s=getattr(args, "latency", 0.0),
        strap=getattr(args, "strap", "hr"),
    )


def live_correction(args: argparse.Namespace, what: str = "live processing") -> str | None:
    """``--correction`` where the live processor computes (``None``: not given); a level the
    live processor does not apply would be refused in one line (today it applies every one)."""
    level: str | None = getattr(args, "correction", None)
    if level is not None and level not in LIVE_CORRECTIONS:
        raise InputError(f"--correction {level}: {what} applies only {', '.join(LIVE_CORRECTIONS)}")
    return level


def correction_settings(args: argparse.Namespace) -> HrvSettings | None:
    """HRV settings for ``--correction`` when given; ``None``: each session's stored one."""
    level = getattr(args, "correction", None)
    if level is None:
        return None
    from biofeedback.hrv.settings import HrvSettings

    return HrvSettings(correction=level)
