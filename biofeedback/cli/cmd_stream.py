"""``biofeedback stream``: live beats and heart rate, headless."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from biofeedback.cli.options import source_options
from biofeedback.live.headless import StreamSummary, run_stream
from biofeedback.live.sources import open_source
from biofeedback.text import terminal_safe, terminal_stream


def run(args: argparse.Namespace) -> int:
    opts = source_options(args)
    source = open_source(opts)
    summary = StreamSummary()
    try:
        asyncio.run(
            run_stream(
                source,
                terminal_stream(sys.stdout),  # device names come from the radio: no escapes
                duration_s=opts.duration_s,
                as_json=args.json,
                summary=summary,
            )
        )
    finally:  # also after a Ctrl-C: what arrived is worth a line
        if args.json:
            print(json.dumps({"event": "Summary", **summary.to_json()}))
        else:
            print(terminal_safe(summary.line()))
    return 0
