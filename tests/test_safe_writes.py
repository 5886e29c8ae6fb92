"""Every file the program writes goes through :mod:`biofeedback.safe_io` (issue 12, items 7, 9).

A symlink planted at a path the program writes (the target, or the fixed ``.<name>.tmp`` the
report used to write through) is never followed: the write is refused with one line and the
symlink's target is untouched. Exports, reports and bundles are 0600 whatever the umask.
"""

from __future__ import annotations

import ast
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from biofeedback.errors import InputError
from biofeedback.safe_io import private_file, read_limited, write_private
from biofeedback.sessions.bundle import read_bundle, write_bundle
from biofeedback.sessions.formats import read_as_bundle
from tests.cli_support import run_main, store_with_one_import

REPO = Path(__file__).resolve().parents[1]
VICTIM_TEXT = "export PATH=/usr/bin  # the victim's file\n"


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """A umask that would make plain writes 0644 (and group-writable ones 0664)."""
    old = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(old)


run = run_main


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return store_with_one_import(tmp_path, capsys, seed=3)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "home" / ".bashrc"
    path.parent.mkdir()
    path.write_text(VICTIM_TEXT)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_untouched(victim: Path, link: Path) -> None:
    assert victim.read_text() == VICTIM_TEXT
    assert link.is_symlink()
    assert os.readlink(link) == str(victim)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("fmt", ["json", "csv", "rr", "kubios"])
def test_exports_are_0600(
    fmt: str, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / f"export.{fmt}"
    status, _, err = run(
        capsys, "export", "1", "--db", str(store), "--format", fmt, "--out", str(out)
    )
    assert status == 0, err
    assert mode(out) == 0o600
    assert out.stat().st_size > 0
    assert leftovers(tmp_path) == []


def test_an_export_replaces_a_0644_file_with_a_0600_one(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "old.csv"
    out.write_text("old\n")
    out.chmod(0o644)
    assert (
        run(capsys, "export", "1", "--db", str(store), "--format", "csv", "--out", str(out))[0] == 0
    )
    assert mode(out) == 0o600
    assert out.read_text().startswith("t_s,rr_ms")


@pytest.mark.parametrize("fmt", ["json", "rr"])
def test_an_export_onto_a_symlink_is_refused(
    fmt: str, store: Path, tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
):
    link = tmp_path / "shared" / "export.txt"
    link.parent.mkdir()
    link.symlink_to(victim)
    status, _, err = run(
        capsys, "export", "1", "--db", str(store), "--format", fmt, "--out", str(link)
    )
    assert status == 2
    assert err.count("\n") == 1
    assert "symbolic link" in err
    assert_untouched(victim, link)
    assert leftovers(link.parent) == []


def test_a_dangling_symlink_is_refused_too(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    link = tmp_path / "export.txt"
    target = tmp_path / "would-be-created"
    link.symlink_to(target)
    status, _, err = run(
        capsys, "export", "1", "--db", str(store), "--out", str(link), "--format", "rr"
    )
    assert status == 2
    assert "symbolic link" in err
    assert not target.exists()


def test_exporting_onto_a_device_or_directory_is_refused(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    status, _, err = run(
        capsys, "export", "1", "--db", str(store), "--out", str(tmp_path), "--format", "rr"
    )
    assert status == 2
    assert "not a regular file" in err
    if Path("/dev/null").exists():
        status, _, err = run(
            capsys, "export", "1", "--db", str(store), "--out", "/dev/null", "--format", "rr"
        )
        assert status == 2
        assert "not a regular file" in err
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_export_into_a_missing_folder_is_one_line(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "nope" / "x.csv"
    status, _, err = run(
        capsys, "export", "1", "--db", str(store), "--out", str(out), "--format", "csv"
    )
    assert status == 2
    assert err.count("\n") == 1
    assert "cannot write" in err


def test_export_to_stdout_still_works(store: Path, capsys: pytest.CaptureFixture[str]):
    status, out, _ = run(capsys, "export", "1", "--db", str(store), "--format", "rr")
    assert status == 0
    assert len(out.splitlines()) == 300


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.recording_support import record_simulated

    db = tmp_path_factory.mktemp("reports") / "store.db"
    record_simulated(db, seed=31, protocol="quick")
    return db


def test_report_is_0600_and_never_writes_through_a_symlink(
    recorded: Path, tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
):
    pytest.importorskip("matplotlib")
    shared = tmp_path / "shared"
    shared.mkdir()
    out = shared / "report.html"
    # The fixed temporary name the report once wrote through, and the target itself.
    old_tmp = shared / ".report.html.tmp"
    old_tmp.symlink_to(victim)
    status, printed, err = run(capsys, "report", "1", "--db", str(recorded), "-o", str(out))
    assert status == 0, err
    assert printed.strip() == str(out)
    assert mode(out) == 0o600
    assert "<html" in out.read_text()
    assert_untouched(victim, old_tmp)
    assert leftovers(shared) == [".report.html.tmp"]  # only the planted link

    out.unlink()
    out.symlink_to(victim)
    status, _, err = run(capsys, "report", "1", "--db", str(recorded), "-o", str(out))
    assert status == 2
    assert err.count("\n") == 1
    assert "symbolic link" in err
    assert_untouched(victim, out)


def test_a_simulated_bundle_or_rr_file_is_0600_and_refuses_a_symlink(
    tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
):
    for name in ("sim.json", "sim.txt"):
        out = tmp_path / name
        status, _, err = run(capsys, "simulate", "--duration", "30", "--out", str(out))
        assert status == 0, err
        assert mode(out) == 0o600
        link = tmp_path / f"link-{name}"
        link.symlink_to(victim)
        status, _, err = run(capsys, "simulate", "--duration", "30", "--out", str(link))
        assert status == 2
        assert "symbolic link" in err
        assert_untouched(victim, link)
    assert read_as_bundle(tmp_path / "sim.json").beats["rr_ms"]


def test_write_bundle_round_trips_and_is_0600(tmp_path: Path):
    src = tmp_path / "rr.txt"
    src.write_text("800\n810\n790\n805\n")
    bundle = read_as_bundle(src)
    out = tmp_path / "b.json"
    write_bundle(out, bundle)
    assert mode(out) == 0o600
    assert read_bundle(out).beats == bundle.beats


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path: Path):
    out = tmp_path / "keep.txt"
    out.write_text("original")

    def fail() -> None:
        with private_file(out) as fh:
            fh.write(b"half a file")
            raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        fail()
    assert out.read_text() == "original"
    assert leftovers(tmp_path) == []


def test_mode_is_exactly_0600_even_under_a_strict_umask(tmp_path: Path):
    old = os.umask(0o777)
    try:
        write_private(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.txt") == 0o600
    assert (tmp_path / "a.txt").read_text() == "x"


def test_a_symlink_planted_between_check_and_rename_is_replaced_not_followed(
    tmp_path: Path, victim: Path
):
    """Were a link planted after the first check, rename would replace the link itself."""
    out = tmp_path / "out.txt"

    def plant_while_writing() -> None:
        with private_file(out) as fh:
            fh.write(b"data")
            out.symlink_to(victim)  # planted while we write: refused at the second check

    with pytest.raises(InputError, match="symbolic link"):
        plant_while_writing()
    assert_untouched(victim, out)
    assert leftovers(tmp_path) == []


def test_read_limited_reads_regular_files_only(tmp_path: Path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"12345")
    assert read_limited(path, 5) == b"12345"
    with pytest.raises(InputError, match="limit"):
        read_limited(path, 4)
    with pytest.raises(InputError, match="cannot read"):
        read_limited(tmp_path / "missing", 10)


def _writes(tree: ast.AST) -> list[str]:
    """Calls that write a file other than through safe_io: write_text, write_bytes, and
    open / os.open / os.fdopen / Path.open with a writing mode or flag."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in {"write_text", "write_bytes", "mkstemp", "NamedTemporaryFile", "savefig"}:
            if name == "savefig" and any(  # a savefig into a BytesIO writes no file
                isinstance(a, ast.Name) and a.id == "buf" for a in node.args
            ):
                continue
            found.append(f"{name} at line {node.lineno}")
        elif name in {"open", "fdopen"}:
            if node.args and ast.unparse(node.args[0]) == "os.devnull":
                continue  # silencing a closed stdout writes no file
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            texts += [k.value.value for k in node.keywords
                      if k.arg == "mode" and isinstance(k.value, ast.Constant)]  # fmt: skip
            flags = ast.unparse(node)
            if any(isinstance(t, str) and set(t) & set("wax+") for t in texts) or (
                "O_WRONLY" in flags or "O_RDWR" in flags or "O_CREAT" in flags
            ):
                found.append(f"{name} at line {node.lineno}")
    return found


def test_no_module_writes_a_file_except_through_safe_io():
    """One home for writing files. The store's SQLite file (created 0600 before SQLite opens
    it) is the one exception; devices/ never imports biofeedback and writes only into its own
    private temporary directory (the fake BlueZ config)."""
    allowed = {"biofeedback/safe_io.py", "biofeedback/sessions/store_schema.py"}
    offenders = {}
    for path in sorted((REPO / "biofeedback").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in allowed:
            continue
        found = _writes(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[rel] = found
    assert offenders == {}
