"""The exception root of the application layer.

:class:`InputError` means the user gave something unusable (exit status 2); any other
:class:`BiofeedbackError` is a runtime failure (exit status 1). Messages are one line.
"""


class BiofeedbackError(Exception):
    """Root of every error raised by :mod:`biofeedback`."""


class InputError(BiofeedbackError, ValueError):
    """Bad usage or bad input: a file, an option, a protocol. Exit status 2."""
