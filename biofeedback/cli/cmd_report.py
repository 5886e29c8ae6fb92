"""``biofeedback report ID | --compare [-o FILE.html]``: a self-contained HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from biofeedback.analysis.compare import compare
from biofeedback.analysis.load import load_responses, parse_ids, parse_since, select_sessions
from biofeedback.analysis.metrics import METRICS
from biofeedback.analysis.report import compare_report, session_report
from biofeedback.cli.options import correction_settings, live_correction
from biofeedback.errors import InputError
from biofeedback.hrv.settings import stored_settings
from biofeedback.safe_io import write_private
from biofeedback.sessions.store import SessionStore
from biofeedback.text import terminal_safe


def run(args: argparse.Namespace) -> int:
    session_id = getattr(args, "id", None)
    wants_compare = bool(getattr(args, "compare", False))
    if (session_id is None) == (not wants_compare):
        raise InputError("give a session ID or --compare (not both)")
    db = getattr(args, "db", None)
    with SessionStore(Path(db) if db else None, create=False) as store:
        if session_id is not None:
            bundle = store.load_bundle(int(session_id))
            html = session_report(
                bundle,
                hrv=stored_settings(bundle.settings, live_correction(args, "a session report")),
            )
            default = f"report-session-{session_id}.html"
        else:
            sessions = getattr(args, "sessions", None)
            since = getattr(args, "since", None)
            chosen = select_sessions(
                store,
                since_wall_s=parse_since(since) if since else None,
                ids=parse_ids(sessions) if sessions else None,
            )
            hrv = correction_settings(args)
            responses = load_responses(store, chosen, metrics=tuple(METRICS), hrv=hrv)
            html = compare_report(
                compare(responses, getattr(args, "metric", None) or "lnrmssd"), hrv=hrv
            )
            default = "report-compare.html"
    out = Path(getattr(args, "output", None) or default)
    write_private(out, html)  # atomic, 0600 (reports hold health data), never via a symlink
    print(terminal_safe(out))
    return 0
