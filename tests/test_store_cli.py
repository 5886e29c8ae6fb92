"""The session commands' handlers (``biofeedback.cli.cmd_sessions``), called with parsed args."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

import pytest

from biofeedback.cli import cmd_sessions
from biofeedback.errors import InputError
from biofeedback.sessions.store import SessionStore


def args(db: Path, **kw: object) -> Namespace:
    return Namespace(db=str(db), **kw)


def test_import_list_show_export_delete(
    tmp_path: Path, reference_dir: Path, capsys: pytest.CaptureFixture[str]
):
    db = tmp_path / "s.db"
    hrm = str(reference_dir / "rhenanbartels_hrv/noisy_rri.hrm")
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(b"\x00\x01\x02")
    status = cmd_sessions.run_import(args(db, files=[hrm, str(garbage), hrm], unit=None))
    out, err = capsys.readouterr()
    assert status == 2
    assert "imported as session 1 (3581 beats)" in out
    assert "binary data" in err
    assert "already imported as session 1" in err
    assert SessionStore(db).count() == 1

    assert cmd_sessions.run_sessions(args(db, json=True)) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["beat_count"], listed["source"]) == (1, 3581, "import:polar_hrm")

    assert cmd_sessions.run_show(args(db, id=1, json=False)) == 0
    assert "3581" in capsys.readouterr().out

    out_path = tmp_path / "rr.txt"
    assert cmd_sessions.run_export(args(db, id=1, format="rr", out=str(out_path))) == 0
    assert len(out_path.read_text().splitlines()) == 3581

    with pytest.raises(InputError, match="not confirmed"):
        cmd_sessions.run_delete(args(db, id=1, yes=False))
    assert cmd_sessions.run_delete(args(db, id=1, yes=True)) == 0
    assert SessionStore(db).count() == 0
