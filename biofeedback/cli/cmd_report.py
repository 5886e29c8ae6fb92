"""``biofeedback report ID | --compare [-o FILE.html]``: a self-contained HTML report."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from biofeedback.analysis.compare import compare
from biofeedback.analysis.load import load_responses, parse_ids, parse_since, select_sessions
from biofeedback.analysis.metrics import METRICS
from biofeedback.analysis.report import compare_report, session_report
from biofeedback.errors import InputError
from biofeedback.sessions.store import SessionStore


def _write(path: Path, text: str) -> None:
    """Write atomically, readable by the owner only (reports hold health data)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    session_id = getattr(args, "id", None)
    wants_compare = bool(getattr(args, "compare", False))
    if (session_id is None) == (not wants_compare):
        raise InputError("give a session ID or --compare (not both)")
    db = getattr(args, "db", None)
    with SessionStore(Path(db) if db else None) as store:
        if session_id is not None:
            html = session_report(store.load_bundle(int(session_id)))
            default = f"report-session-{session_id}.html"
        else:
            sessions = getattr(args, "sessions", None)
            since = getattr(args, "since", None)
            chosen = select_sessions(
                store,
                since_wall_s=parse_since(since) if since else None,
                ids=parse_ids(sessions) if sessions else None,
            )
            responses = load_responses(store, chosen, metrics=tuple(METRICS))
            html = compare_report(compare(responses, getattr(args, "metric", None) or "lnrmssd"))
            default = "report-compare.html"
    out = Path(getattr(args, "output", None) or default)
    try:
        _write(out, html)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    print(out)
    return 0
