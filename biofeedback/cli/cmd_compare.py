"""``biofeedback compare``: which triggers change my physiology, across recorded sessions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from biofeedback.analysis.compare import ReferenceChoice, compare
from biofeedback.analysis.load import load_responses, parse_ids, parse_since, select_sessions
from biofeedback.analysis.metrics import SPECTRAL
from biofeedback.analysis.view import compare_view, comparison_to_dict, format_table
from biofeedback.cli.options import correction_settings
from biofeedback.sessions.store import SessionStore
from biofeedback.text import terminal_safe

NOT_MEDICAL = "Not a medical device: for self-experiment and research, never for diagnosis."


def run(args: argparse.Namespace) -> int:
    ids = parse_ids(args.sessions) if getattr(args, "sessions", None) else None
    since = parse_since(args.since) if getattr(args, "since", None) else None
    key = getattr(args, "metric", "lnrmssd")
    # Spectral metrics cost a spectrum per window; compute them only when asked for.
    metrics = ("lnrmssd", "hr", "pns", *sorted(SPECTRAL)) if key in SPECTRAL else (key,)
    db = getattr(args, "db", None)
    with SessionStore(Path(db) if db else None, create=False) as store:
        chosen = select_sessions(store, since_wall_s=since, ids=ids)
        sessions = load_responses(store, chosen, metrics=metrics, hrv=correction_settings(args))
    choices: dict[str, ReferenceChoice] = {"control": "control", "others": "others",
                                           "baseline": "baseline"}  # fmt: skip
    reference = choices.get(getattr(args, "reference", "auto"), "auto")
    result = compare(sessions, key, reference=reference)
    if getattr(args, "json", False):
        print(json.dumps(comparison_to_dict(result)))
        return 0
    print(terminal_safe(format_table(compare_view(result)), keep_newlines=True))
    print(NOT_MEDICAL)
    return 0
