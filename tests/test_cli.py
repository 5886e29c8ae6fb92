"""The command line as a user meets it: exit codes, one-line errors, no tracebacks.

Run in-process (``tests.cli_support.run_cli``); ``--help`` also through ``python -m biofeedback``,
the entry point itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_support import Ran, run_cli

run = run_cli


def one_line_error(proc: Ran | subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("where", ["in-process", "process"])
def test_help_lists_every_command(where: str) -> None:
    if where == "process":
        proc: Ran | subprocess.CompletedProcess[str] = subprocess.run(
            [sys.executable, "-m", "biofeedback", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    else:
        proc = run("--help")
    assert proc.returncode == 0
    for command in ("stream", "scan", "simulate", "analyze", "record", "monitor", "demo",
                    "sessions", "import", "export", "compare", "report"):  # fmt: skip
        assert command in proc.stdout
    assert "Not a medical device" in " ".join(proc.stdout.split())


def test_stream_simulated_prints_beats_and_a_summary() -> None:
    proc = run("stream", "--simulate", "--speed", "1000", "--duration", "30")
    assert proc.returncode == 0, proc.stderr
    assert " RR " in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("summary: ")


@pytest.mark.parametrize(
    "args",
    [
        ("stream", "--simulate", "--segments", "baseline:abc"),
        ("stream", "--simulate", "--profile", "nobody"),
        ("stream", "--simulate", "--artifacts", "ectopic=-1"),
        ("stream",),
        ("analyze", "/nonexistent/file.txt"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    one_line_error(proc)


def test_analyze_rejects_garbage_and_reads_a_real_file(tmp_path: Path, reference_dir: Path) -> None:
    garbage = tmp_path / "g.txt"
    garbage.write_bytes(bytes(range(256)) * 4)
    proc = run("analyze", str(garbage))
    assert proc.returncode == 2
    one_line_error(proc)
    proc = run("analyze", "--json", str(reference_dir / "pyhrv/SampleNNISeriesShort.npy"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["time"]["rmssd_ms"] > 0
    assert doc["settings"]["resample_hz"] == 4.0


def test_analyze_artifact_method_changes_the_result_and_is_reported(
    tmp_path: Path, reference_dir: Path
) -> None:
    # 2 000 intervals of LTDB 14046 from beat 9 000: a long stretch of bigeminy and trigeminy
    ltdb = (reference_dir / "physionet/ltdb_14046_labelled.csv").read_text().splitlines()
    rr = tmp_path / "ltdb_part.txt"
    rr.write_text("\n".join(line.split(",")[1] for line in ltdb[9001:11001]) + "\n")
    docs = {}
    for method in ("published", "robust"):
        proc = run("analyze", "--json", "--artifact-method", method, str(rr))
        assert proc.returncode == 0, proc.stderr
        docs[method] = json.loads(proc.stdout)
        assert docs[method]["settings"]["artifact_method"] == method
    # measured: 61 vs 988 corrected (1 436 intervals touch a V beat); RMSSD 244 vs 64.5 ms
    assert docs["robust"]["n_corrected"] > 3 * docs["published"]["n_corrected"]
    assert docs["robust"]["time"]["rmssd_ms"] < docs["published"]["time"]["rmssd_ms"] / 2
    proc = run("analyze", "--artifact-method", "strict", str(rr))
    assert proc.returncode == 2


def test_simulate_import_export_round_trip_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    bundle = tmp_path / "sim.json"
    assert run("simulate", "--duration", "120", "--out", str(bundle)).returncode == 0
    assert run("import", str(bundle), db=db).returncode == 0
    again = run("import", str(bundle), db=db)
    assert again.returncode == 2
    assert "already" in again.stderr
    listed = json.loads(run("sessions", "--json", db=db).stdout)
    assert len(listed) == 1
    exported = run("export", str(listed[0]["id"]), "--format", "json", db=db)
    assert json.loads(exported.stdout)["beats"] == json.loads(bundle.read_text())["beats"]
    refused = run("delete", str(listed[0]["id"]), db=db, stdin="")
    assert refused.returncode != 0
    assert run("delete", str(listed[0]["id"]), "--yes", db=db).returncode == 0


def test_scan_without_a_bluetooth_service_is_a_one_line_failure() -> None:
    proc = run("scan", "--timeout", "1")
    # No BlueZ on this machine: exit 1 with what to do. (With a real adapter it would list straps.)
    if proc.returncode == 0:
        pytest.skip("a Bluetooth service is running here")
    assert proc.returncode == 1
    one_line_error(proc)
