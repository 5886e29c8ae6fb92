"""``biofeedback record`` and ``biofeedback demo --headless``: a whole protocol, headless."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from biofeedback.live.headless_session import run_headless
from biofeedback.live.session_builder import SessionOptions, build_session
from biofeedback.live.sources import SourceOptions
from biofeedback.live.summary import summary_lines


def session_options(args: argparse.Namespace) -> SessionOptions:
    return SessionOptions(
        source=SourceOptions.from_args(args),
        protocol=getattr(args, "protocol", "default"),
        player=getattr(args, "player", "manual"),
        db=Path(args.db) if getattr(args, "db", None) else None,
        record=not getattr(args, "no_record", False),
        silent_player=getattr(args, "silent", False),
        artifact_method=getattr(args, "artifact_method", "published"),
    )


def run(args: argparse.Namespace) -> int:
    opts = session_options(args)
    pipeline = build_session(opts)
    try:
        summary = asyncio.run(
            run_headless(pipeline, sys.stdout, duration_s=opts.source.duration_s, as_json=args.json)
        )
    except KeyboardInterrupt:
        # The pipeline closed the session on the way out; show what was recorded, then exit 130.
        partial = getattr(pipeline, "last_summary", None)
        if partial:
            print("\n".join(summary_lines(partial)))
        raise
    return 0 if summary.get("status") == "complete" else 1
