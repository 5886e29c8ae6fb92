"""Command-line flags to the live layer's options: the only place that reads the namespace."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from biofeedback.live.sources import SourceOptions


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
    )
