"""Record simulated sessions into a real store, as fast as possible (shared by several tests)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from biofeedback.live.headless_session import run_headless
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions


def record_simulated(
    db: Path,
    *,
    seed: int,
    protocol: str = "default",
    profile: str = "responder",
    duration_s: float | None = None,
) -> dict[str, Any]:
    """Run ``protocol`` on the simulated strap into ``db``; returns the session summary."""
    opts = SessionOptions(
        source=SourceOptions(simulate="sim", profile=profile, seed=seed, duration_s=duration_s),
        protocol=protocol,
        player="none",
        db=db,
        record=True,
        fast=True,
    )
    pipeline = build_session(opts)
    return asyncio.run(run_headless(pipeline, io.StringIO(), duration_s=duration_s, as_json=True))
