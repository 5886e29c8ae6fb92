"""A long-lived ``biofeedback`` process that runs one command per request, for concurrency tests.

Readers and writers that hammer one store must be separate *processes* (SQLite locks are taken
per connection and per process), but starting a new interpreter per command spends most of its
time importing numpy and scipy, not touching the store. This process starts once and runs each
command it is sent in-process (``tests.cli_support.run_cli``: the same ``main`` a real
``biofeedback`` runs, with its own connection to the store per command), answering with the exit
code and output, one JSON line per request, until its stdin closes.

Run as ``python -m tests.cli_worker``; driven by ``CliWorker``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from tests.cli_support import Ran

REPO = Path(__file__).resolve().parents[1]


class CliWorker:
    """One child process running ``biofeedback`` commands sent to it, one at a time."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def __call__(self, *args: str) -> Ran:
        """``biofeedback ARGS`` in the child; a child that died is a test failure, loudly."""
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        with self._lock:
            self._proc.stdin.write(json.dumps(list(args)) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise AssertionError(f"the cli worker died: {self._proc.stderr.read()}")  # type: ignore[union-attr]
        answer = json.loads(line)
        return Ran(tuple(args), answer["returncode"], answer["stdout"], answer["stderr"])

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> CliWorker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def serve() -> None:
    from tests.cli_support import run_cli

    for line in sys.stdin:
        done = run_cli(*json.loads(line))
        answer = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
