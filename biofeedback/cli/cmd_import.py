"""``biofeedback import FILE|DIR|GLOB...``: every readable recording imported, each atomically.

Folders are walked as ``analyze --out`` walks them (:func:`~biofeedback.cli.cmd_table.gather`:
sorted, hidden files and ``README.md``/``MANIFEST.md`` skipped); a quoted glob (``'rr/*.txt'``)
is expanded here when no file has that name. Files are read in parallel (a process pool, one
process per core, from 8 files on) and stored one at a time in this process, each in its own
transaction (SQLite has one writer): a file is either wholly stored or not at all.

Output: one line per file on stdout (``NAME: imported as session N (B beats)``); one line per
refused file on stderr, naming the file and the reason (``biofeedback import: NAME: ...``), a
copy already stored said as such (``duplicate: ...``); then a summary line on stderr when more
than one file was named. The exit status is 2 when any file was not imported, refused or
duplicate (a duplicate is refused, as for one file), 0 otherwise.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from biofeedback.errors import InputError
from biofeedback.sessions.bundle import SessionBundle
from biofeedback.sessions.store import DuplicateImportError, SessionStore
from biofeedback.text import terminal_safe

POOL_FROM: int = 8
"""Fewer files than this are read in this process (a pool costs ~0.2 s to start)."""
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Outcome:
    imported: int = 0
    duplicates: int = 0
    refused: int = 0

    @property
    def total(self) -> int:
        return self.imported + self.duplicates + self.refused


def expand(names: Iterable[str]) -> list[tuple[str, str | None]]:
    """Each name as files: a folder's files, a glob's matches, a file itself.

    Returns ``(name, None)`` for a file to read and ``(name, reason)`` for a name that gives
    none (a glob matching nothing, an empty folder): reported, never silently dropped.
    """
    from biofeedback.cli.cmd_table import gather

    out: list[tuple[str, str | None]] = []
    for name in names:
        path = Path(name)
        if not os.path.lexists(path) and _GLOB_CHARS & set(name):
            matches = sorted(glob.glob(name, recursive=True))
            if not matches:
                out.append((name, "no file matches this pattern"))
                continue
            files = gather(matches)
        elif path.is_dir():
            files = gather([name])
            if not files:
                out.append((name, "no files in this folder"))
                continue
        else:
            files = [path]
        out.extend((str(f), None) for f in files)
    return out


def read_one(task: tuple[str, str | None, bool | None]) -> SessionBundle | str:
    """The bundle of one file, or the one-line reason it cannot be read (in a worker).

    An ECG file is stored as the beats its R-peaks make (``source`` ``import:polar_ecg`` or
    ``import:wfdb``, ``import.derived_from`` ``ECG``); the samples themselves are not stored.
    """
    from biofeedback.sessions.formats import Waveform, read_for_import, recording_to_bundle

    name, unit, offset = task
    try:
        path = Path(name)
        read = read_for_import(path, unit=unit, first_is_offset=offset)
        if not isinstance(read, Waveform):
            return read
        from biofeedback.cli.ecg_files import beats_of

        return recording_to_bundle(beats_of(path, read), path.name)
    except InputError as exc:
        return str(exc)


def _read_all(
    tasks: list[tuple[str, str | None, bool | None]], jobs: int
) -> Iterator[SessionBundle | str]:
    if jobs <= 1 or len(tasks) < POOL_FROM:
        yield from map(read_one, tasks)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
        yield from pool.map(read_one, tasks, chunksize=2)


def import_all(args: argparse.Namespace, store: SessionStore) -> Outcome:
    """Import every file ``args.files`` names into ``store``; print a line per file."""
    unit = getattr(args, "unit", None)
    offset = getattr(args, "first_is_offset", None)
    jobs = int(getattr(args, "jobs", None) or os.cpu_count() or 1)
    named = _not_the_store(expand(args.files), store.path)
    imported = duplicates = refused = 0
    for name, reason in named:
        if reason is not None:
            _refuse(f"{name}: {reason}")
            refused += 1
    tasks = [(name, unit, offset) for name, reason in named if reason is None]
    for (name, _, _), read in zip(tasks, _read_all(tasks, jobs), strict=True):
        if isinstance(read, str):
            _refuse(read)
            refused += 1
            continue
        try:
            sid = store.import_bundle(read, origin=name)
        except DuplicateImportError as exc:
            _refuse(f"duplicate: {exc}")
            duplicates += 1
            continue
        except InputError as exc:
            _refuse(str(exc))
            refused += 1
            continue
        beats = store.summary(sid).beat_count
        print(f"{terminal_safe(name)}: imported as session {sid} ({beats} beats)", flush=True)
        imported += 1
    outcome = Outcome(imported, duplicates, refused)
    if outcome.total > 1 or len(named) != 1:
        print(f"import: {summary(outcome)}", file=sys.stderr)
    return outcome


STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _not_the_store(
    named: list[tuple[str, str | None]], store_path: Path
) -> list[tuple[str, str | None]]:
    """Refuse the store's own files (a folder that holds the store, or the store named) before
    anything opens them: reading and closing a descriptor of the live database file would drop
    this process's SQLite locks on it. Compared by device and inode, so links count too."""
    own: set[tuple[int, int]] = set()
    for suffix in STORE_SUFFIXES:
        try:
            st = os.stat(f"{store_path}{suffix}")
        except OSError:
            continue
        own.add((st.st_dev, st.st_ino))
    out: list[tuple[str, str | None]] = []
    for name, reason in named:
        if reason is None:
            try:
                found = os.stat(name)
            except OSError:
                found = None
            if found is not None and (found.st_dev, found.st_ino) in own:
                reason = "the session store itself (or its journal): not a recording"
        out.append((name, reason))
    return out


def summary(outcome: Outcome) -> str:
    """``12 files: 9 imported, 2 duplicates (already stored), 1 refused``."""
    parts = [f"{outcome.imported} imported"]
    if outcome.duplicates:
        s = "" if outcome.duplicates == 1 else "s"
        parts.append(f"{outcome.duplicates} duplicate{s} (already stored, not imported again)")
    if outcome.refused:
        parts.append(f"{outcome.refused} refused")
    s = "" if outcome.total == 1 else "s"
    return f"{outcome.total} file{s}: " + ", ".join(parts)


def _refuse(message: str) -> None:
    print(f"biofeedback import: {terminal_safe(message)}", file=sys.stderr, flush=True)
