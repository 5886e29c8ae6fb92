"""``biofeedback monitor`` (and ``demo``): the live dashboard over the live pipeline."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from dataclasses import replace
from functools import partial

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
        deadlines: list[threading.Timer] = []
        app = make_app(
            pipeline,
            sessions=sessions,
            scan=scan,
            compare=compare,
            title="biofeedback",
            on_signal_exit=partial(_exit_within, deadlines),
        )
        chosen = app.run()
        for deadline in deadlines:
            deadline.cancel()
        # One summary per session recorded (the record key can make several), else the run's;
        # not after a hang-up: there is no terminal to print it on (the store has it).
        if app.return_code != 128 + signal.SIGHUP:
            for summary in pipeline.summaries or [pipeline.last_summary]:
                if summary:
                    print(terminal_safe("\n".join(summary_lines(summary)), keep_newlines=True))
        if app.return_code:
            return app.return_code  # a signal ended it: 128 + its number
        if chosen is None:
            return 0
        # The device picker chose a strap: reopen the dashboard on it.
        opts = _on_device(opts, chosen[1])


SIGNAL_EXIT_S = 2.0
"""After a signal the session is already stored; the process ends within this, whatever Textual's
shutdown does. (When the terminal is closed, SIGHUP, Textual's restore of the terminal can block
forever writing to the dead pty through its bounded output queue: seen in tmux.)"""


def _exit_within(timers: list[threading.Timer], code: int) -> None:
    """Start the deadline (cancelled if the dashboard closes in time)."""
    timer = threading.Timer(SIGNAL_EXIT_S, os._exit, args=(code,))
    timer.daemon = True
    timer.start()
    timers.append(timer)


def _on_device(opts: SessionOptions, address: str) -> SessionOptions:
    return replace(opts, source=replace(opts.source, device=address, simulate=None))
