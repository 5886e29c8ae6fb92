"""Waveform files: bad Polar Sensor Logger input refused in one line; WFDB records, their lead."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from biofeedback.sessions import formats_ecg
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions.formats import detect_format
from tests.cli_support import run_cli
from tests.formats_ecg_support import ACC_HEADER, ECG_HEADER, Simulated, simulate, write_ecg

FS = 130


@pytest.fixture(scope="module")
def sim() -> Simulated:
    return simulate(30.0, seed=7)


@pytest.fixture(scope="module")
def ecg_lines(sim: Simulated, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = write_ecg(tmp_path_factory.mktemp("ecg") / "ok_ECG.txt", sim.ecg_uv)
    return path.read_text().splitlines()


def _swap_times(lines: list[str]) -> list[str]:
    out = list(lines)
    a, b = out[100].split(";"), out[101].split(";")
    a[1], b[1] = b[1], a[1]
    out[100], out[101] = ";".join(a), ";".join(b)
    return out


BAD = {
    "truncated": (lambda ls: [*ls[:-1], ls[-1][:30]], "line 3901: 2 fields, expected 4"),
    "wrong header": (
        lambda ls: [ls[0].replace("ecg [uV]", "ecg [mV]"), *ls[1:]],
        "unexpected Polar Sensor Logger header",
    ),
    "non-numeric": (
        lambda ls: [*ls[:50], ls[50].rsplit(";", 1)[0] + ";12a", *ls[51:]],
        "line 51: field 4 is not a number: '12a'",
    ),
    "time not in ns": (
        lambda ls: [*ls[:7], ls[7].replace(";838432586", ";8.38432586", 1), *ls[8:]],
        "line 8: field 2 is not an integer (ns): '8.38432586",
    ),
    "too few samples": (lambda ls: ls[: 2 * FS + 1], "too few samples: 260 (2.0 s)"),
    "header only": (lambda ls: ls[:1], "too few samples (0)"),
    "time goes back": (_swap_times, "sample 101: the timestamp does not increase"),
    "flat signal": (
        lambda ls: [ls[0], *(ln.rsplit(";", 1)[0] + ";0" for ln in ls[1:])],
        "no heartbeats found in 30 s of ECG",
    ),
    "not finite": (
        lambda ls: [*ls[:9], ls[9].rsplit(";", 1)[0] + ";nan", *ls[10:]],
        "sample 9: not a finite number",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("command", ["analyze", "import"])
def test_bad_ecg_files_fail_with_one_line_and_exit_2(
    case: str, command: str, ecg_lines: list[str], tmp_path: Path
) -> None:
    edit, message = BAD[case]
    path = tmp_path / "bad_ECG.txt"
    path.write_text("\n".join(edit(ecg_lines)) + "\n")
    ran = run_cli(command, str(path), db=tmp_path / "s.db")
    assert ran.returncode == 2
    assert "Traceback" not in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert message in ran.stderr


def test_acc_rows_with_a_missing_axis_or_text_are_refused(tmp_path: Path) -> None:
    stamp = "2026-07-26T21:56:26.765"
    rows = [ACC_HEADER] + [f"{stamp};{k * 40_000_000};1;2;-1000" for k in range(600)]
    rows[300] = rows[300].rsplit(";", 1)[0]
    path = tmp_path / "x_ACC.txt"
    path.write_text("\n".join(rows) + "\n")
    ran = run_cli("analyze", str(path))
    assert ran.returncode == 2
    assert "line 301: 4 fields, expected 5" in ran.stderr


def test_the_line_limit_holds_for_ecg_files(
    ecg_lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lim, "MAX_LINES", 1000)
    path = tmp_path / "long_ECG.txt"
    path.write_text("\n".join(ecg_lines) + "\n")
    ran = run_cli("analyze", str(path))
    assert ran.returncode == 2
    assert "over the limit of 1000" in ran.stderr


def test_formats_are_detected_from_the_header_not_the_name(tmp_path: Path) -> None:
    ecg = tmp_path / "a.csv"
    ecg.write_text(ECG_HEADER + "\n")
    acc = tmp_path / "b.txt"
    acc.write_text(ACC_HEADER.replace(";X", ";timestamp [ms];X") + "\n")
    assert (detect_format(ecg), detect_format(acc)) == ("polar_ecg", "polar_acc")


def _wrsamp(directory: Path, name: str, fs: int, names: list[str], signal: np.ndarray) -> Path:
    wfdb = formats_ecg.import_wfdb()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wfdb.wrsamp(
            name,
            fs=fs,
            units=["mV"] * len(names),
            sig_name=names,
            p_signal=signal,
            fmt=["16"] * len(names),
            write_dir=str(directory),
        )
    return directory / f"{name}.hea"


@pytest.mark.parametrize(
    ("names", "lead"), [(["V5", "MLII"], "MLII"), (["RESP", "ECG"], "ECG"), (["a", "b"], "a")]
)
def test_wfdb_record_lead_mlii_else_the_first_ecg_named_one(
    names: list[str], lead: str, sim: Simulated, tmp_path: Path
) -> None:
    ecg_mv = sim.ecg_uv / 1000.0
    other = np.random.default_rng(0).normal(0, 0.05, ecg_mv.size)
    chosen = names.index(lead)
    signal = np.stack([ecg_mv, other] if chosen == 0 else [other, ecg_mv], axis=1)
    hea = _wrsamp(tmp_path, "rec", FS, names, signal)
    out = tmp_path / "beats.csv"
    ran = run_cli("analyze", str(hea), "--json", "--beats-out", str(out))
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert (doc["format"], doc["ecg"]["lead"]) == ("wfdb", lead)
    t = np.loadtxt(out, delimiter=",", skiprows=1, usecols=0)
    assert t.size == sim.r_peak_t_s.size
    assert np.max(np.abs(t - sim.r_peak_t_s)) < 1 / FS


def test_broken_wfdb_records_fail_with_one_line(sim: Simulated, tmp_path: Path) -> None:
    garbage = tmp_path / "junk.hea"
    garbage.write_text("this is not a header\n")
    hea = _wrsamp(tmp_path, "nodat", FS, ["MLII"], (sim.ecg_uv / 1000.0)[:, None])
    (tmp_path / "nodat.dat").unlink()
    for path in (garbage, hea):
        ran = run_cli("analyze", str(path))
        assert ran.returncode == 2, ran.stdout
        assert "Traceback" not in ran.stderr
        assert len(ran.stderr.strip().splitlines()) == 1
        assert str(path) in ran.stderr


def test_wfdb_sample_limit(sim: Simulated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hea = _wrsamp(tmp_path, "big", FS, ["MLII"], (sim.ecg_uv / 1000.0)[:, None])
    monkeypatch.setattr(formats_ecg, "MAX_SAMPLES", 1000)
    ran = run_cli("analyze", str(hea))
    assert ran.returncode == 2
    assert "samples is over the limit of 1000" in ran.stderr


@pytest.mark.shared("physionet/mitdb_ecg", why="PhysioNet ODC-By, 2 MB a record: not copied")
def test_mitdb_101_first_minute_r_peaks_match_the_cardiologists_beats(
    shared_reference_dir: Path, tmp_path: Path
) -> None:
    """A minute of a real MIT-BIH record (lead MLII at its own 360 Hz), scored as EC57 does."""
    wfdb = formats_ecg.import_wfdb()

    from biofeedback.ecg import match_beats

    source = str(shared_reference_dir / "physionet" / "mitdb_ecg" / "101")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = wfdb.rdrecord(source, sampto=360 * 60)
        ann = wfdb.rdann(source, "atr", sampto=360 * 60)
    hea = _wrsamp(tmp_path, "m101", 360, list(rec.sig_name), rec.p_signal)
    out = tmp_path / "beats.csv"
    ran = run_cli("analyze", str(hea), "--beats-out", str(out), "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["ecg"]["lead"] == "MLII"
    found = np.loadtxt(out, delimiter=",", skiprows=1, usecols=0)
    beats = np.isin(ann.symbol, list("NLRBAaJSVrFejnE/fQ"))
    truth = np.asarray(ann.sample)[beats] / 360.0
    m = match_beats(truth, found)
    assert m.sensitivity >= 0.99
    assert m.positive_predictivity >= 0.99
    assert np.nanmedian(np.abs(m.error_s)) < 0.01


def test_utf16_and_crlf_files_give_the_same_beats(ecg_lines: list[str], tmp_path: Path) -> None:
    plain = tmp_path / "plain_ECG.txt"
    plain.write_text("\n".join(ecg_lines) + "\n")
    windows = tmp_path / "windows_ECG.txt"
    windows.write_bytes(("\r\n".join(ecg_lines) + "\r\n").encode("utf-16"))
    got = [json.loads(run_cli("analyze", str(p), "--json").stdout)["ecg"] for p in (plain, windows)]
    assert got[0]["r_peaks"] == got[1]["r_peaks"] > 30
    assert got[0]["beat_shapes"] == got[1]["beat_shapes"]


def test_a_folder_import_reads_a_wfdb_record_once_through_its_header(
    sim: Simulated, tmp_path: Path
) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    _wrsamp(folder, "r1", FS, ["MLII"], (sim.ecg_uv / 1000.0)[:, None])
    (folder / "r1.atr").write_bytes(b"\x00\x00")  # an annotation file beside it
    ran = run_cli("import", str(folder), db=tmp_path / "s.db")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.count("imported as session") == 1
    assert "r1.hea: imported as session 1" in ran.stdout
    show = json.loads(run_cli("show", "1", "--json", db=tmp_path / "s.db").stdout)
    assert show["source"] == "import:wfdb"
    assert show["session"]["import"]["lead"] == "MLII"
