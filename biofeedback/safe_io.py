"""The one way this program writes a file (reports, exports, bundles; the store has its own).

Each file is written to a fresh temporary file in the target's directory, created with
``O_CREAT | O_EXCL | O_NOFOLLOW`` and mode 0600 under a random name (so nobody can plant a
symlink or a file there first), flushed to disk, then renamed onto the target with
:func:`os.replace`. A rename replaces a directory entry and never follows a symlink, and a
reader sees either the old file or the whole new one. A target that already is a symlink, or
anything but a regular file, is refused: writing "through" it is exactly what a symlink planted
in a shared directory asks for. Files hold health data, so they are readable by the owner only.

Reading a file someone sent (:func:`read_limited`) is bounded the same way: regular files only
(a FIFO would hang the reader, ``/dev/zero`` never ends), the size checked before reading.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from biofeedback.errors import InputError

FILE_MODE: Final = 0o600
_FLAGS: Final = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_ATTEMPTS: Final = 100


def check_target(path: Path) -> None:
    """Refuse a target that is a symlink or exists as anything but a regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from exc
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"{path}: is a symbolic link; not writing through it")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: exists and is not a regular file; not writing to it")


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    for _ in range(_ATTEMPTS):
        tmp = directory / f".{name}.{secrets.token_hex(8)}.tmp"
        try:
            return os.open(tmp, _FLAGS, FILE_MODE), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


@contextlib.contextmanager
def private_file(path: Path | str) -> Iterator[IO[bytes]]:
    """A binary file object that becomes ``path`` (mode 0600) when the block ends normally.

    An exception in the block leaves ``path`` as it was and removes the temporary file. An
    :class:`OSError` (no such directory, no permission, disk full) is an
    :class:`~biofeedback.errors.InputError` naming the file.
    """
    path = Path(path)
    check_target(path)
    tmp: Path | None = None
    try:
        fd, tmp = _create_temp(path.parent, path.name)
        os.fchmod(fd, FILE_MODE)  # the umask may only have narrowed it; make it exact
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        check_target(path)  # refuse a symlink planted while we wrote rather than replace it
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_private(path: Path | str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` safely, mode 0600 (see the module notes)."""
    with private_file(path) as fh:
        fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))


@contextlib.contextmanager
def open_regular(path: Path | str, max_bytes: int) -> Iterator[tuple[IO[bytes], int]]:
    """The regular file ``path`` open for reading with its size, refusing anything else first.

    A FIFO would block the reader forever and ``/dev/zero`` never ends: the file is opened
    non-blocking, checked with :func:`os.fstat` (the same file that will be read, so there is
    no window for a swap), and its size checked against ``max_bytes`` before a byte is read.
    Every refusal is a one-line :class:`~biofeedback.errors.InputError`.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: not a regular file ({_kind(st.st_mode)}); not reading it")
        if st.st_size > max_bytes:
            raise InputError(
                f"{path}: {st.st_size / 2**20:.1f} MiB is over the {max_bytes / 2**20:.1f} MiB "
                "limit for an input file"
            )
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            yield fh, st.st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    finally:
        if fd >= 0:
            os.close(fd)


def file_size(path: Path | str) -> int | None:
    """The size of ``path`` if it is a regular file (following links), else ``None``."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_limited(path: Path | str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path`` (at most ``max_bytes``), refusing anything else
    before reading (:func:`open_regular`)."""
    with open_regular(path, max_bytes) as (fh, _):
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while we read
        raise InputError(f"{path}: over the {max_bytes / 2**20:.0f} MiB limit for an input file")
    return data


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"
