"""Comparing ASMR triggers by physiological response across sessions, and session reports.

Pure statistics on top of :mod:`biofeedback.hrv` and the session store:

* :func:`~.blocks.session_responses` measures each trigger block of one session against the
  session's baseline and the rest just before it (:mod:`.blocks`, :mod:`.block_values`);
* :func:`~.compare.compare` estimates each trigger's effect from within-session contrasts
  (against the control block, or the mean of the other triggers), with t intervals on n - 1
  degrees of freedom, Benjamini-Hochberg across triggers, verdicts, a power estimate, order
  effects and self-report (:mod:`.effects`, :mod:`.verdict`, :mod:`.order`, :mod:`.selfreport`);
* :func:`~.view.compare_view` turns a comparison into table rows and forest-plot data for the
  CLI and the dashboard;
* :mod:`.report` writes self-contained HTML (matplotlib, optional, imported only there).

The simulation studies that measure the method's calibration live in ``tests/simstudy_support.py``
and ``bench/bench_compare.py``, not in this package.
"""

from __future__ import annotations

from biofeedback.analysis.blocks import BlockResponse, SessionResponses, session_responses
from biofeedback.analysis.compare import Comparison, TriggerRow, compare
from biofeedback.analysis.config import CompareSettings
from biofeedback.analysis.view import CompareView, ForestPoint, compare_view, comparison_to_dict

__all__ = [
    "BlockResponse",
    "CompareSettings",
    "CompareView",
    "Comparison",
    "ForestPoint",
    "SessionResponses",
    "TriggerRow",
    "compare",
    "compare_view",
    "comparison_to_dict",
    "session_responses",
]
