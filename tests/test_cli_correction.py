"""``--correction`` on the live and recomputing commands: stored, reused, refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biofeedback.cli.cmd_record import session_options
from biofeedback.cli.main import build_parser
from biofeedback.cli.options import correction_settings
from biofeedback.errors import InputError
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


@pytest.mark.parametrize(
    "argv",
    [
        (*RECORD, "--correction", "medium"),
        ("demo", "--headless", "--correction", "none"),
        ("show", "1", "--correction", "strong"),
        ("report", "1", "--correction", "very-low"),
    ],
)
def test_live_commands_refuse_threshold_levels_in_one_line(tmp_path: Path, argv: tuple) -> None:
    db = tmp_path / "s.db"
    _recorded(db)
    ran = run_cli(*argv, db=db)
    assert ran.returncode == 2
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "applies only automatic or robust" in lines[0]


def test_options_are_typed_outside_the_cli() -> None:
    parser = build_parser()
    args = parser.parse_args(["monitor", "--simulate", "--correction", "robust"])
    assert session_options(args).correction == "robust"
    args = parser.parse_args(["demo", "--artifact-method", "robust"])
    assert session_options(args).correction == "automatic"  # artifact_method still promotes it
    assert session_options(args).artifact_method == "robust"
    args = parser.parse_args(["monitor", "--simulate", "--correction", "low"])
    with pytest.raises(InputError):
        session_options(args)
    args = parser.parse_args(["compare", "--correction", "low"])
    settings = correction_settings(args)
    assert settings is not None
    assert settings.correction == "low"
    assert correction_settings(parser.parse_args(["compare"])) is None
