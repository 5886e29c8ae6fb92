"""Media files for the tests that run the real mpv."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE_HZ = 8000


def write_sine(path: Path, duration_s: float, rate: int = RATE_HZ) -> Path:
    """A mono 16-bit 440 Hz sine, ``duration_s`` long, as a WAV file at ``path``."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(duration_s * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path
