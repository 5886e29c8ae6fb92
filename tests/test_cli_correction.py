"""``--correction`` on the live and recomputing commands: stored and reused (every level live)."""

from __future__ import annotations

import json
from pathlib import Path

from biofeedback.cli.cmd_record import session_options
from biofeedback.cli.main import build_parser
from biofeedback.cli.options import correction_settings
from tests.cli_support import run_cli

RECORD = ("record", "--simulate", "--speed", "1e6", "--protocol", "quick", "--player", "none")


def _recorded(db: Path, *extra: str) -> None:
    ran = run_cli(*RECORD, "--json", *extra, db=db)
    assert ran.returncode == 0, ran.stderr


def test_record_stores_the_correction_and_show_reuses_it(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    _recorded(db, "--correction", "robust")
    _recorded(db)
    shown = [json.loads(run_cli("show", str(i), "--json", db=db).stdout) for i in (1, 2)]
    assert [s["settings"]["correction"] for s in shown] == ["robust", "automatic"]
    assert [s["settings"]["artifact_method"] for s in shown] == ["robust", "published"]
    assert shown[0]["blocks"]
    ran = run_cli("show", "2", "--json", "--correction", "robust", db=db)
    assert ran.returncode == 0, ran.stderr
    ran = run_cli("compare", "--json", db=db)
    assert ran.returncode == 0, ran.stderr
    ran = run_cli("compare", "--json", "--correction", "medium", db=db)
    assert ran.returncode == 0, ran.stderr


def test_live_commands_apply_threshold_levels_and_none(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    _recorded(db, "--correction", "medium")
    _recorded(db, "--correction", "none")
    shown = [json.loads(run_cli("show", str(i), "--json", db=db).stdout) for i in (1, 2)]
    assert [s["settings"]["correction"] for s in shown] == ["medium", "none"]
    assert shown[0]["blocks"]
    ran = run_cli("show", "1", "--json", "--correction", "strong", db=db)
    assert ran.returncode == 0, ran.stderr


def test_options_are_typed_outside_the_cli() -> None:
    parser = build_parser()
    args = parser.parse_args(["monitor", "--simulate", "--correction", "robust"])
    assert session_options(args).correction == "robust"
    args = parser.parse_args(["demo", "--artifact-method", "robust"])
    assert session_options(args).correction == "automatic"  # artifact_method still promotes it
    assert session_options(args).artifact_method == "robust"
    args = parser.parse_args(["monitor", "--simulate", "--correction", "low"])
    assert session_options(args).correction == "low"
    args = parser.parse_args(["compare", "--correction", "low"])
    settings = correction_settings(args)
    assert settings is not None
    assert settings.correction == "low"
    assert correction_settings(parser.parse_args(["compare"])) is None
