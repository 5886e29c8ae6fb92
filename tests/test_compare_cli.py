"""End to end: record short simulated sessions into a temporary store, then ``compare`` them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from biofeedback.analysis.load import parse_ids, parse_since, select_sessions
from biofeedback.cli import cmd_compare
from biofeedback.errors import InputError
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.store import SessionStore
from tests.recording_support import record_simulated


def record(db: Path, seed: int) -> None:
    record_simulated(db, seed=seed)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("compare") / "store.db"
    for seed in (11, 12, 13):
        record(db, seed)
    # An imported real recording: beats only, no protocol segments.
    rr = [850.0 + 40.0 * ((i % 4) - 1.5) for i in range(400)]
    t, acc = [], 0.0
    for x in rr:
        acc += x / 1000.0
        t.append(acc)
    bundle = SessionBundle(
        session={"source": "import", "status": "complete", "started_wall_s": 1.0e9},
        device={"name": "H10"},
        beats={"t_s": t, "rr_ms": rr, "rr_raw": [None] * 400, "segment": [0] * 400,
               "flags": [0] * 400},
    )  # fmt: skip
    with SessionStore(db) as store:
        store.import_bundle(bundle, "test")
    return db


def args(db: Path, **kw: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "metric": "lnrmssd", "since": None, "sessions": None, "json": True, "db": str(db),
    }  # fmt: skip
    return argparse.Namespace(**{**base, **kw})


def test_compare_json_on_recorded_sessions(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cmd_compare.run(args(store_path)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_sessions"] == 4
    assert doc["n_used"] == 3
    rows = {r["label"]: r for r in doc["triggers"]}
    assert set(rows) == {"whispering", "personal-attention", "tapping", "crinkling"}
    assert all(r["effect"]["n"] == 3 for r in rows.values())
    # No control block in the default protocol: effects against the mean of the other
    # triggers, four of them tested together.
    assert doc["reference"] == "others"
    assert doc["n_comparisons"] == 4
    assert doc["multiplicity"].startswith("Benjamini-Hochberg")
    assert all(r["effect"]["df"] == 2 for r in rows.values())
    assert {r["verdict"] for r in rows.values()} <= {"responds", "no clear response"}
    assert doc["metric"]["unit"] == "ln ms"
    assert doc["swc"] > 0
    assert any(e["reason"] == "no trigger blocks recorded" for e in doc["exclusions"])
    assert len(doc["pairs"]) == 6


def test_compare_table_and_heart_rate(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_compare.run(args(store_path, json=False, metric="hr", sessions="1-3")) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("ΔHR (bpm) vs others, 3 of 3 sessions")
    assert "mean of the other triggers" in out.splitlines()[1]
    assert "adj. p" in out
    assert "vs baseline" in out
    assert "Not a medical device" in out
    assert "personal-attention" in out


def test_only_imported_sessions_give_not_enough_data(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cmd_compare.run(args(store_path, sessions="4")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["triggers"] == []
    assert doc["n_used"] == 0
    assert doc["warnings"][0].startswith("only 0 of 1 sessions")


def test_selection_and_bad_input(store_path: Path) -> None:
    assert parse_ids("1, 3-4") == [1, 3, 4]
    with pytest.raises(InputError, match="--sessions"):
        parse_ids("2-x")
    with pytest.raises(InputError, match="--since"):
        parse_since("yesterday")
    with SessionStore(store_path) as store:
        with pytest.raises(InputError, match="no session 9"):
            select_sessions(store, ids=[1, 9])
        assert select_sessions(store, since_wall_s=1.5e9) == [1, 2, 3]
