"""Text from files, straps and protocols made safe to print on a terminal.

Labels (trigger and protocol names, notes, device names) come from files other people wrote
and from radio advertisements. Printed raw, an ESC or a C1 control in one is a terminal escape
sequence: it can retitle the window, move the cursor, rewrite what was printed before, or on
some terminals answer back into the input. :func:`terminal_safe` shows every such character as
a visible escape (``\\x1b``) instead; every CLI printer passes labels through it. (HTML has its
own escaping in :mod:`biofeedback.analysis.report_html`; JSON output escapes controls itself.)
"""

from __future__ import annotations

import re
from typing import Final, TextIO, cast

# C0 controls except TAB (and LF when lines are kept), DEL, the C1 range, and the Unicode
# line/paragraph separators and bidirectional overrides that reorder what the reader sees.
_UNSAFE: Final = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_LF: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` as a string with control characters shown as ``\\xNN`` escapes.

    ``keep_newlines`` leaves LF alone (for multi-line output such as a table); CR is always
    escaped, since it lets a label overwrite the start of its line.

    >>> terminal_safe("whisper\\x1b]0;owned\\x07ing\\tok")
    'whisper\\\\x1b]0;owned\\\\x07ing\\tok'
    >>> terminal_safe("a\\nb"), terminal_safe("a\\nb", keep_newlines=True)
    ('a\\\\x0ab', 'a\\nb')
    """
    pattern = _UNSAFE_KEEP_LF if keep_newlines else _UNSAFE
    return pattern.sub(_visible, str(text))


class TerminalWriter:
    """A text stream that passes everything written through :func:`terminal_safe` (LF kept).

    For printers that write to a stream they were given (the headless recorder): wrap the
    terminal's stream once instead of sanitising each label at its source.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(terminal_safe(text, keep_newlines=True))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


def terminal_stream(stream: TextIO) -> TextIO:
    """``stream`` wrapped in a :class:`TerminalWriter`, typed as the stream it stands for."""
    return cast(TextIO, TerminalWriter(stream))
