"""``biofeedback simulate``: a simulated recording with its ground truth, as fast as possible."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from biofeedback.errors import InputError
from biofeedback.live.simulation import record_simulation, recording_to_bundle
from biofeedback.live.sources import SourceOptions
from biofeedback.sessions.bundle import write_bundle


def run(args: argparse.Namespace) -> int:
    if args.duration is None:
        raise InputError("--duration S is required")
    out = Path(args.out)
    fmt = args.format or ("rr" if out.suffix.lower() in {".txt", ".rr"} else "json")
    if not out.parent.exists():
        raise InputError(f"--out: folder {out.parent} does not exist")
    opts = SourceOptions.from_args(args)
    rec = asyncio.run(record_simulation(opts))
    if fmt == "rr":
        lines = [f"# simulated: profile {opts.profile}, seed {opts.seed}; RR in ms"]
        lines += [repr(b.rr_ms) for b in rec.beats]
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        write_bundle(out, recording_to_bundle(rec, opts))
    print(
        f"wrote {out}: {len(rec.beats)} beats, {len(rec.packets)} packets, "
        f"{opts.duration_s:.0f} s simulated ({fmt})"
    )
    return 0
