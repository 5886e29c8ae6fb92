"""``biofeedback simulate``: a simulated recording with its ground truth, as fast as possible."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Final

from biofeedback.cli.options import source_options
from biofeedback.errors import InputError
from biofeedback.live.simulation import record_simulation, recording_to_bundle
from biofeedback.safe_io import write_private
from biofeedback.sessions.bundle import write_bundle

_NOTE_ABOVE_S: Final = 6 * 3600.0


SUFFIX_FORMATS: Final = {".json": "json", ".txt": "rr", ".rr": "rr"}
"""What ``simulate`` writes for each ``--out`` suffix: a session bundle or plain RR text."""


def output_format(out: Path, requested: str | None) -> str:
    """The format to write to ``out``: the one its suffix names, which ``--format`` must match.

    An unknown suffix (``x.csv``) is refused rather than filled with another format; a name
    without a suffix takes ``--format``.

    >>> output_format(Path("a.TXT"), None), output_format(Path("a"), "json")
    ('rr', 'json')
    """
    suffix = out.suffix.lower()
    known = ", ".join(SUFFIX_FORMATS)
    if not suffix:
        if requested is None:
            raise InputError(f"--out {out}: no suffix; use one of {known} or give --format")
        return requested
    by_suffix = SUFFIX_FORMATS.get(suffix)
    if by_suffix is None:
        raise InputError(
            f"--out {out}: simulate writes a .json bundle or .txt/.rr RR text, not {suffix!r}"
        )
    if requested is not None and requested != by_suffix:
        raise InputError(f"--out {out}: suffix {suffix!r} is {by_suffix}, not --format {requested}")
    return by_suffix


def run(args: argparse.Namespace) -> int:
    if args.duration is None:
        raise InputError("--duration S is required")
    out = Path(args.out)
    fmt = output_format(out, args.format)
    if not out.parent.exists():
        raise InputError(f"--out: folder {out.parent} does not exist")
    opts = source_options(args)
    if (opts.duration_s or 0.0) > _NOTE_ABOVE_S and sys.stderr.isatty():
        print(f"simulating {opts.duration_s:.0f} s...", file=sys.stderr)
    rec = asyncio.run(record_simulation(opts))
    if fmt == "rr":
        lines = [f"# simulated: profile {opts.profile}, seed {opts.seed}; RR in ms"]
        lines += [repr(b.rr_ms) for b in rec.beats]
        write_private(out, "\n".join(lines) + "\n")  # 0600, atomic, never via a symlink
    else:
        write_bundle(out, recording_to_bundle(rec, opts))
    print(
        f"wrote {out}: {len(rec.beats)} beats, {len(rec.packets)} packets, "
        f"{opts.duration_s:.0f} s simulated ({fmt})"
    )
    return 0
