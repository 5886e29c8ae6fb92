"""The command line run in-process: ``biofeedback.cli.main.main`` with its output captured.

For tests of what a command prints and returns; a test of how the *process* behaves (signals,
a closed stdout, concurrent processes on one store, the entry point itself) runs
``python -m biofeedback`` instead. ``python -m biofeedback`` is ``sys.exit(main())``, so the exit
code is ``main``'s return value, or the code of a ``SystemExit`` it raised (argparse's errors and
``--help``). An exception that escapes ``main`` propagates into the test, where a real process
would have printed a traceback: the test fails either way.
"""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest


@dataclass(frozen=True)
class Ran:
    """What ``subprocess.run(..., capture_output=True, text=True)`` would have given."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, db: Path | None = None, stdin: str = "", env: dict[str, str] | None = None
) -> Ran:
    """``biofeedback ARGS`` in this process; ``db`` goes through ``BIOFEEDBACK_DB``."""
    from biofeedback.cli.main import main

    extra = dict(env or {})
    if db is not None:
        extra["BIOFEEDBACK_DB"] = str(db)
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, extra),
        mock.patch.object(sys, "stdin", io.StringIO(stdin)),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            code: object = main(list(args))
        except SystemExit as exc:
            code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit status 1
        err.write(f"{code}\n")
        code = 1
    return Ran(tuple(args), code, out.getvalue(), err.getvalue())


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` with pytest's capture: (exit status, stdout, stderr)."""
    from biofeedback.cli.main import main

    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def store_with_one_import(tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int) -> Path:
    """A store in ``tmp_path`` holding one imported 300-beat RR file (``seed.txt``)."""
    import numpy as np

    db = tmp_path / "s.db"
    rr = tmp_path / "seed.txt"
    rng = np.random.default_rng(seed)
    rr.write_text("".join(f"{800 + 40 * v:.1f}\n" for v in rng.standard_normal(300)))
    status, _, err = run_main(capsys, "import", "--db", str(db), str(rr))
    assert status == 0, err
    return db
