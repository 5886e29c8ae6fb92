"""``biofeedback monitor`` (and ``demo``): the live dashboard over the live pipeline."""

from __future__ import annotations

import argparse

from biofeedback.cli.cmd_record import session_options
from biofeedback.live.session_builder import build_session


def run(args: argparse.Namespace) -> int:
    from biofeedback.sessions.store import SessionStore
    from biofeedback.tui.app import make_app

    opts = session_options(args)
    pipeline = build_session(opts)
    sessions = SessionStore(opts.db)
    scan = None
    if opts.source.simulate is None:
        from biofeedback.live.scanning import scan_straps

        scan = scan_straps
    app = make_app(pipeline, sessions=sessions, scan=scan, title="biofeedback")
    app.run()
    summary = getattr(pipeline, "last_summary", None)
    if summary:
        from biofeedback.live.summary import summary_lines

        print("\n".join(summary_lines(summary)))
    return 0
