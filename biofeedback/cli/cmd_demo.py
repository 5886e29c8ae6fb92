"""``biofeedback demo``: the simulated strap, the responder profile, the default protocol."""

from __future__ import annotations

import argparse

from biofeedback.cli import cmd_record


def run(args: argparse.Namespace) -> int:
    args.protocol = "default"
    args.player = "manual"
    if args.headless:
        return cmd_record.run(args)
    from biofeedback.cli.cmd_monitor import run as run_monitor

    return run_monitor(args)
