"""``analyze DIR --out T``: the table honours the one-file settings (``--correction``,
``--detrend``) and records them once, in ``T.settings.json``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_support import run_cli

FITS = Path(__file__).parent / "data" / "formats" / "dtcooper__python-fitparse"


def test_correction_and_detrend_reach_the_table_and_its_settings(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    args = ("analyze", str(FITS), "--out", str(out), "--jobs", "1")
    ran = run_cli(*args, "--correction", "none", "--detrend", "smoothness-priors:300")
    assert ran.returncode == 0, ran.stderr
    settings = json.loads((tmp_path / "t.csv.settings.json").read_text())["settings"]
    assert settings["correction"] == "none"
    assert (settings["time_detrend"], settings["time_detrend_lambda"]) == (
        "smoothness_priors",
        300.0,
    )
    rows = out.read_text().splitlines()
    header = rows[0].split(",")
    corrected = [r.split(",")[header.index("n_corrected")] for r in rows[1:]]
    assert corrected == ["0", "0"]
