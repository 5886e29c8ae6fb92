"""Where the compare screen's numbers come from: the recorded sessions in the store.

:func:`store_compare` is what ``biofeedback monitor`` gives :func:`~biofeedback.tui.app.make_app`.
The screen calls it in a worker thread, so it reads through its own connection (the
dashboard's store handle stays on the UI thread) and keeps each finished session's block
responses: switching the metric costs a comparison, not a second pass over every beat.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from biofeedback.analysis.blocks import SessionResponses
from biofeedback.analysis.compare import compare
from biofeedback.analysis.load import bundle_responses
from biofeedback.analysis.metrics import SPECTRAL
from biofeedback.analysis.view import CompareView, compare_view
from biofeedback.sessions.store import SessionStore

_TIME_DOMAIN = ("lnrmssd", "hr", "pns")


def metrics_for(metric_key: str) -> frozenset[str]:
    """The block metrics to measure for ``metric_key`` (as ``biofeedback compare`` does).

    Spectral metrics cost a spectrum per window, so they are computed only when asked for; the
    cheap ones always come along, so switching among them reuses the same measurement.

    >>> sorted(metrics_for("hr")), sorted(metrics_for("hf"))
    (['hr', 'lnrmssd', 'pns'], ['hf', 'hr', 'lnrmssd', 'pns', 'resp'])
    """
    if metric_key in SPECTRAL:
        return frozenset((*_TIME_DOMAIN, *SPECTRAL))
    return frozenset((*_TIME_DOMAIN, metric_key))


SessionKey = tuple[int, float | None, int]
"""``(id, started_wall_s, beat_count)``: a deleted-then-reused id is not mistaken for the old."""


def store_compare(store: SessionStore) -> Callable[[str], CompareView]:
    """``compute(metric_key)``: the trigger comparison of every finished session in ``store``.

    Sessions still ``recording`` (this one, or another process's) are left out: their last
    block is not over. Safe to call from any thread; calls are serialised.
    """
    path = store.path
    cache: dict[SessionKey, tuple[frozenset[str], SessionResponses]] = {}
    lock = threading.Lock()

    def compute(metric_key: str) -> CompareView:
        needed = metrics_for(metric_key)
        with lock, SessionStore(path, recover=False) as own:
            responses = []
            for s in own.list_sessions():
                if s.status == "recording":
                    continue
                key = (s.id, s.started_wall_s, s.beat_count)
                hit = cache.get(key)
                if hit is None or not needed <= hit[0]:
                    bundle = own.load_bundle(s.id)
                    hit = (needed, bundle_responses(bundle, metrics=needed))
                    cache[key] = hit
                responses.append(hit[1])
        return compare_view(compare(responses, metric_key))

    return compute
