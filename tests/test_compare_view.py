"""The table rows and forest data the CLI and the dashboard's compare screen draw."""

from __future__ import annotations

import json
import math

import pytest

from biofeedback.analysis import compare, compare_view, comparison_to_dict
from biofeedback.analysis.simstudy import run_study
from biofeedback.analysis.view import format_table
from devices.simulator import load_profile


@pytest.fixture(scope="module")
def study():  # type: ignore[no-untyped-def]
    return run_study(load_profile("responder"), 5, 3)


def test_view_rows_and_forest(study) -> None:  # type: ignore[no-untyped-def]
    view = compare_view(study.comparison)
    assert view.columns[-1] == "vs washout"
    assert all(len(r) == len(view.columns) for r in view.rows)
    assert [p.label for p in view.forest] == [r[0] for r in view.rows]
    assert view.rows[0][0] == "personal-attention"
    assert view.rows[0][5] == "responds (relaxing)"
    assert view.rows[0][4].endswith("%")
    first = view.forest[0]
    assert first.low <= first.mean <= first.high
    assert view.swc >= 0.055  # at least the 0.11 ln ms floor, halved
    assert view.title.startswith("ΔlnRMSSD (ln ms) vs baseline, 5 of 5 sessions")
    text = format_table(view)
    assert text.splitlines()[1].startswith("trigger")
    assert len(text.splitlines()) == 2 + len(view.rows)


def test_json_is_strict_and_complete(study) -> None:  # type: ignore[no-untyped-def]
    doc = comparison_to_dict(study.comparison)
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    assert set(back) >= {"metric", "settings", "triggers", "pairs", "positions", "agreement",
                         "exclusions", "warnings", "swc", "baseline_sd"}  # fmt: skip
    assert back["settings"]["onset_s"] == 45.0
    assert back["settings"]["baseline_sd_floor"]["lnrmssd"] == 0.11
    assert back["triggers"][0]["rank"] == 1


def test_empty_comparison_renders() -> None:
    c = compare([], "hr")
    view = compare_view(c)
    assert view.rows == ()
    assert math.isnan(view.swc)
    assert "(no trigger blocks)" in format_table(view)
    assert comparison_to_dict(c)["swc"] is None
