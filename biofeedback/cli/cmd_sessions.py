"""``biofeedback sessions | show | export | import | delete``: the session store from the shell.

Every handler takes the parsed arguments and returns an exit status; errors are raised as
:class:`~biofeedback.errors.InputError` (exit 2) for ``main`` to print on one line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from biofeedback.cli.options import live_correction
from biofeedback.errors import InputError
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.export import export_session, export_to_file
from biofeedback.sessions.store import SessionStore, SessionSummary
from biofeedback.sessions.store_schema import ENV_DB, default_db_path
from biofeedback.text import terminal_safe


def _store(args: argparse.Namespace, *, create: bool = False) -> SessionStore:
    """The store named by ``--db``; only ``import`` creates one (a mistyped path for a
    command that reads is an error, not a new empty store)."""
    db = getattr(args, "db", None)
    return SessionStore(Path(db) if db else None, create=create)


def _when(wall_s: float | None) -> str:
    if wall_s is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(wall_s))
    except (OverflowError, OSError, ValueError):  # a store written before imports were bounded
        return "?"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def _line(s: SessionSummary) -> str:
    return terminal_safe(
        f"{s.id:>5}  {_when(s.started_wall_s):<16}  {_duration(s.duration_s):>8}  "
        f"{s.beat_count:>7}  {s.status:<11}  {s.source or '-':<18}  {s.protocol or '-'}"
    )


def run_sessions(args: argparse.Namespace) -> int:
    if (
        not getattr(args, "db", None)
        and not os.environ.get(ENV_DB)
        and not default_db_path().exists()
    ):
        summaries: list[SessionSummary] = []  # nothing recorded yet on this machine
    else:
        with _store(args) as store:
            summaries = store.list_sessions()
    if getattr(args, "json", False):
        print(json.dumps([s.to_json() for s in summaries]))
        return 0
    print(
        f"{'id':>5}  {'start':<16}  {'duration':>8}  {'beats':>7}  {'status':<11}  "
        f"{'source':<18}  protocol"
    )
    for summary in summaries:
        print(_line(summary))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from biofeedback.analysis.session_blocks import session_blocks

    correction = live_correction(args, "show (the live processor replayed)")
    with _store(args) as store:
        summary = store.summary(args.id)
        bundle = store.load_bundle(args.id)
    blocks = session_blocks(bundle, getattr(args, "metric", None) or "ln_rmssd", correction)
    doc = {
        **summary.to_json(),
        "session": bundle.session,
        "device": bundle.device,
        "settings": bundle.settings,
        "packets": len(bundle.packets["t_s"]),
        "segments": bundle.segments,
        "markers": dict(Counter(m["kind"] for m in bundle.markers)),
        "flagged_beats": sum(1 for f in bundle.beats["flags"] if f),
        "rhythm": _rhythm(bundle),
        "blocks": blocks.blocks,
        "blocks_replayed_with": blocks.replayed_with,
    }
    if getattr(args, "json", False):
        print(json.dumps(doc))
        return 0
    print(_line(summary))
    device = f"{bundle.device.get('name') or '-'} ({bundle.device.get('kind', '-')})"
    print(f"device: {terminal_safe(device)}")
    print(
        f"packets: {doc['packets']}, flagged beats: {doc['flagged_beats']}, "
        f"markers: {terminal_safe(doc['markers'] or 0)}"
    )
    rhythm = doc["rhythm"]
    if isinstance(rhythm, dict) and rhythm["withheld_beats"]:
        print(
            f"irregular rhythm: HRV withheld over {rhythm['withheld_beats']} beats in "
            f"{len(rhythm['spans'])} stretch(es) (batch detector on the stored beats)"
        )
    for seg in bundle.segments:
        end = seg.get("end_s")
        span = f"{seg['start_s']:.1f}-{end:.1f} s" if isinstance(end, float) else "open"
        print(terminal_safe(f"  {seg.get('kind', ''):<9} {seg['label']:<22} {span}"))
    if bundle.session.get("notes"):
        print(f"notes: {terminal_safe(bundle.session['notes'])}")
    return 0


def _rhythm(bundle: SessionBundle) -> dict[str, object]:
    """The irregular-rhythm stretches (batch detector over the stored beats, as it says)."""
    from biofeedback.sessions.rhythm_record import rhythm_record

    return rhythm_record(bundle)


def run_export(args: argparse.Namespace) -> int:
    out = getattr(args, "out", None)
    if out is not None and str(out) != "-":
        with _store(args) as store:  # 0600, atomic, never through a symlink
            export_to_file(store, args.id, args.format, Path(out))
        return 0
    with _store(args) as store:
        text = export_session(store, args.id, args.format)
    sys.stdout.write(text)
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import every file (folders and globs expanded), atomically each; any file not
    imported (refused, or a duplicate) makes the exit status 2 (:mod:`.cmd_import`)."""
    from biofeedback.cli.cmd_import import import_all

    with _store(args, create=True) as store:
        outcome = import_all(args, store)
    return 2 if outcome.refused or outcome.duplicates else 0


def run_delete(args: argparse.Namespace) -> int:
    with _store(args) as store:
        summary = store.summary(args.id)
        if not getattr(args, "yes", False):
            if not sys.stdin.isatty():
                raise InputError(f"delete session {args.id}: not confirmed (use --yes)")
            answer = input(f"delete session {args.id} ({summary.beat_count} beats)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("not deleted")
                return 0
        store.delete(args.id)
    print(f"deleted session {args.id}")
    return 0
