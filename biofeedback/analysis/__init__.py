"""Comparing ASMR triggers by physiological response across sessions, and session reports.

Pure statistics on top of :mod:`biofeedback.hrv` and the session store:

* :func:`~.blocks.session_responses` measures each trigger block of one session against the
  session's baseline and the rest just before it (:mod:`.blocks`, :mod:`.block_values`);
* :func:`~.compare.compare` pools sessions per trigger: mean, bootstrap interval, probability of
  being best, verdict, pairwise differences, order effects, self-report (:mod:`.stats`,
  :mod:`.bootstrap`, :mod:`.verdict`, :mod:`.order`, :mod:`.selfreport`);
* :func:`~.view.compare_view` turns a comparison into table rows and forest-plot data for the
  CLI and the dashboard;
* :mod:`.report` writes self-contained HTML (matplotlib, optional, imported only there);
* :mod:`.simstudy` checks the whole method against the simulator's ground truth.
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
