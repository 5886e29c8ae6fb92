"""``biofeedback demo``: the simulated strap, the responder profile, the default protocol.

The in-process simulated strap is a Polar H10 (its raw ECG and chest acceleration stream beside
the RRs, so the dashboard shows the ECG strip and chest breathing); ``--simulate=ble`` is the
generic strap served through the fake BlueZ."""

from __future__ import annotations

import argparse

from biofeedback.cli import cmd_record


def run(args: argparse.Namespace) -> int:
    args.protocol = "default"
    args.player = "manual"
    if getattr(args, "strap", None) is None:
        args.strap = "h10"
    if args.headless:
        return cmd_record.run(args)
    from biofeedback.cli.cmd_monitor import run as run_monitor

    return run_monitor(args)
