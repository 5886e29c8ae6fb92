"""TOML with line numbers for error messages (``tomllib`` parses but does not report lines).

Lines are found by scanning the text: a top-level key before the first table header, a key of
the n-th ``[[block]]`` inside that block's lines; the table header's line when the key is absent.
Only a regular file of at most :data:`MAX_PROTOCOL_BYTES` is read (a FIFO would hang the reader,
``/dev/zero`` would fill memory).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biofeedback.errors import InputError

MAX_PROTOCOL_BYTES = 4 * 1024 * 1024
_HEADER = re.compile(r"^\s*\[")
_BLOCK_HEADER = re.compile(r"^\s*\[\[\s*block\s*\]\]")


@dataclass(frozen=True, slots=True)
class TomlSource:
    path: Path
    text: str
    doc: dict[str, Any]

    @classmethod
    def read(cls, path: Path) -> TomlSource:
        try:
            text = _read_bounded(path).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the protocol: {exc}") from exc
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: invalid TOML: {exc}") from exc
        return cls(path, text, doc)

    def line_of(self, key: str, block: int | None = None) -> int | None:
        """1-based line of ``key`` (top level, or in the ``block``-th ``[[block]]``)."""
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        blocks_seen = -1
        header_line: int | None = None
        for number, line in enumerate(self.text.splitlines(), start=1):
            if _BLOCK_HEADER.match(line):
                blocks_seen += 1
                if block is not None and blocks_seen == block:
                    header_line = number
                elif block is not None and blocks_seen > block:
                    break
                if block is None and key == "block":
                    return number
            elif _HEADER.match(line) and block is None:
                break
            in_scope = blocks_seen == (-1 if block is None else block)
            if in_scope and pattern.match(line):
                return number
        return header_line

    def error(self, message: str, key: str, block: int | None = None) -> InputError:
        line = self.line_of(key, block)
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        return InputError(f"{where}: {message}")


def _read_bounded(path: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_PROTOCOL_BYTES`; InputError otherwise.

    Opened non-blocking so a FIFO cannot hang the open, then checked on the descriptor."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: cannot read the protocol: not a regular file")
        data = fh.read(MAX_PROTOCOL_BYTES + 1)
    if len(data) > MAX_PROTOCOL_BYTES:
        raise InputError(
            f"{path}: the protocol file is larger than {MAX_PROTOCOL_BYTES // (1024 * 1024)} MiB"
        )
    return data


def check_keys(
    src: TomlSource, table: Mapping[str, Any], known: Iterable[str], block: int | None = None
) -> None:
    allowed = tuple(known)
    for key in table:
        if key not in allowed:
            raise src.error(f"unknown key {key!r} (known: {', '.join(allowed)})", key, block)
