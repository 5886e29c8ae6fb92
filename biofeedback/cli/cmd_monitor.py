"""``biofeedback monitor`` (and ``demo``): the live dashboard over the live pipeline."""

from __future__ import annotations

import argparse
from dataclasses import replace

from biofeedback.cli.cmd_record import session_options
from biofeedback.live.session_builder import SessionOptions, prepare_session


def run(args: argparse.Namespace) -> int:
    from biofeedback.live.deferred import DeferredPipeline
    from biofeedback.live.session_trend import StoredSessions
    from biofeedback.live.summary import summary_lines
    from biofeedback.sessions.store import SessionStore
    from biofeedback.text import terminal_safe
    from biofeedback.tui.app import make_app
    from biofeedback.tui.compare_data import store_compare

    opts = session_options(args)
    store = SessionStore(opts.db)
    sessions = StoredSessions(store)
    compare = store_compare(store)  # once, so its cache survives reopening on another strap
    while True:
        # Input checked and store opened here (errors are one line, before any screen); the
        # source and the HRV maths are built behind the first frame.
        pipeline = DeferredPipeline(prepare_session(opts).build)
        scan = None
        if opts.source.simulate is None:
            from biofeedback.live.scanning import scan_straps

            scan = scan_straps
        app = make_app(pipeline, sessions=sessions, scan=scan, compare=compare, title="biofeedback")
        chosen = app.run()
        # One summary per session recorded (the record key can make several), else the run's.
        for summary in pipeline.summaries or [pipeline.last_summary]:
            if summary:
                print(terminal_safe("\n".join(summary_lines(summary)), keep_newlines=True))
        if app.return_code:
            return app.return_code  # a signal ended it: 128 + its number
        if chosen is None:
            return 0
        # The device picker chose a strap: reopen the dashboard on it.
        opts = _on_device(opts, chosen[1])


def _on_device(opts: SessionOptions, address: str) -> SessionOptions:
    return replace(opts, source=replace(opts.source, device=address, simulate=None))
