"""The table rows and forest data the CLI and the dashboard's compare screen draw."""

from __future__ import annotations

import json
import math

import pytest

from biofeedback.analysis import compare, compare_view, comparison_to_dict
from biofeedback.analysis.view import format_table
from tests.simstudy_support import block_studies, compare_study, study_profile


@pytest.fixture(scope="module")
def comparison():  # type: ignore[no-untyped-def]
    batch = block_studies(study_profile("all", (0.5, 0.0, 0.0, 0.0)), 1, 8, seed=4)
    return compare_study(batch, 0)


def test_view_rows_and_forest(comparison) -> None:  # type: ignore[no-untyped-def]
    view = compare_view(comparison)
    assert view.columns[-2:] == ("vs baseline", "power estimate")
    assert all(len(r) == len(view.columns) for r in view.rows)
    assert [p.label for p in view.forest] == [r[0] for r in view.rows]
    assert view.rows[0][0] == "a"
    assert view.rows[0][5] == "responds (more relaxing)"
    first = view.forest[0]
    assert first.low <= first.mean <= first.high
    assert view.swc >= 0.11  # never below the typical error
    assert view.title.startswith("ΔlnRMSSD (ln ms) vs others, 8 of 8 sessions")
    assert "mean of the other triggers" in view.basis
    assert "4 triggers tested together (Benjamini-Hochberg" in view.basis
    text = format_table(view)
    assert text.splitlines()[2].startswith("trigger")
    assert any(line.startswith("warning: no control condition") for line in text.splitlines())


def test_json_is_strict_and_complete(comparison) -> None:  # type: ignore[no-untyped-def]
    doc = comparison_to_dict(comparison)
    back = json.loads(json.dumps(doc, allow_nan=False))
    assert set(back) == {"metric", "reference", "reference_text", "control", "model",
                         "multiplicity", "n_comparisons", "settings", "n_sessions", "n_used",
                         "baseline_sd", "swc", "triggers", "pairs", "positions", "agreement",
                         "exclusions", "warnings"}  # fmt: skip
    assert back["reference"] == "others"
    assert back["n_comparisons"] == 4
    assert back["settings"]["typical_error"]["lnrmssd"] == 0.11
    top = back["triggers"][0]
    assert top["rank"] == 1
    assert set(top["effect"]) == {"n", "estimate", "low", "high", "se", "df", "p_value", "sd",
                                  "position_adjusted", "order_varied"}  # fmt: skip
    assert top["effect"]["df"] == 7
    assert top["p_adjusted"] < 0.05


def test_empty_comparison_renders() -> None:
    c = compare([], "hr")
    view = compare_view(c)
    assert view.rows == ()
    assert "(no trigger blocks)" in format_table(view)
    assert comparison_to_dict(c)["n_comparisons"] == 0
    assert math.isfinite(view.swc)  # the typical error, even without baselines
